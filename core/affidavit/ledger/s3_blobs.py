"""Evidence vault in an S3 bucket (AWS, MinIO, anything speaking the S3 API): ``s3://bucket/prefix``
keeps each blob under ``<prefix>/sha256/<2 hex>/<64 hex>``, stored only together with the
entry that names it (:class:`Incoming`), and never overwritten once there.

boto3 is imported only when a store is first used: the CLI's cold start never pays for it, and
an installation without the ``s3`` extra fails only when an ``s3://`` URL is given.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any, BinaryIO, TypeVar

from affidavit.errors import (
    InputError,
    IntegrityError,
    LedgerUnavailable,
    NotFoundError,
    UsageError,
)
from affidavit.ledger.blobs import _open_evidence, read_verified

__all__ = ["S3BlobStore", "Incoming", "parse_s3_url"]

_T = TypeVar("_T")

#: S3's smallest part (except the last): parts this size keep an upload's memory small.
_PART = 8 << 20
#: Parts held in memory at once while uploading (s3transfer reads ahead this many).
_PARTS_IN_MEMORY = 2
#: The largest part one UploadPartCopy can write.
_MAX_COPY = 5 << 30
_NOT_THERE = {"404", "NoSuchKey", "NotFound"}
_TAKEN = {"412", "PreconditionFailed", "409", "ConditionalRequestConflict"}


def parse_s3_url(url: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/prefix``; the prefix without its slashes (maybe
    empty). Anything S3 would read differently from what the user wrote is refused here."""
    import re
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "s3" or parts.query or parts.fragment or "?" in url or "#" in url:
        raise UsageError(f"evidence URL {url!r}: expected s3://bucket/prefix, without a query "
                         "or fragment")
    bucket = parts.netloc
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise UsageError(f"evidence URL {url!r}: {bucket!r} is not an S3 bucket name",
                         remedy="3 to 63 lower-case letters, digits, dots and hyphens")
    prefix = parts.path.strip("/")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise UsageError(f"evidence URL {url!r}: the prefix {prefix!r} has an empty, '.' or "
                         "'..' segment")
    return bucket, prefix


def _botocore_errors() -> tuple[type[BaseException], ...]:
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError, Boto3Error)


def _code(exc: BaseException) -> str:
    """The S3 error code of a failed call, or its HTTP status when the body had none (a HEAD
    answers 404 with no body); empty for an error that never got an answer."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    code = response.get("Error", {}).get("Code")
    if code:
        return str(code)
    return str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def _reason(exc: BaseException) -> str:
    """One line for the user: S3's own message when it answered, else botocore's."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        code, message = error.get("Code"), error.get("Message")
        if code or message:
            return " ".join(f"{code or ''} {message or ''}".split())
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status:
            return f"HTTP {status}"
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


class _HashingReader(io.RawIOBase):
    """The evidence file as s3transfer reads it, hashed on the way: what is hashed is exactly
    what is uploaded, read once. Not seekable on purpose: s3transfer then reads the stream in
    order, one part at a time, and retries a part from its own copy instead of seeking back
    here (which would hash bytes twice)."""

    def __init__(self, fd: int, path: str | os.PathLike[str]) -> None:
        import hashlib

        super().__init__()
        self._fd = fd
        self._path = path
        self.hash = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            count = os.readv(self._fd, [view])  # straight into s3transfer's buffer: no copy
        except OSError as exc:
            raise InputError(f"evidence file {os.fspath(self._path)}: "
                             f"{(exc.strerror or str(exc)).lower()}") from None
        self.hash.update(view[:count])
        self.size += count
        return count


class _Body(io.RawIOBase):
    """A stored blob as it streams from S3: a broken connection mid-read is the store's
    failure (``LedgerUnavailable``), not a botocore traceback."""

    def __init__(self, store: S3BlobStore, key: str, body: Any) -> None:
        super().__init__()
        self._store = store
        self._key = key
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._body.read(len(view))
        except _botocore_errors() as exc:
            raise self._store._failed(self._key, exc) from None
        view[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class _Blob(io.BufferedReader):
    """A blob opened for reading, with its size known before the first byte (there is no
    descriptor to ``fstat``): the package writer picks zip64 by it."""

    def __init__(self, raw: _Body, size: int) -> None:
        super().__init__(raw, 1 << 20)
        self.size = size


class Incoming:
    """Evidence files on their way into the bucket together with one append.

    The order is the file vault's (:class:`affidavit.ledger.blobs.Incoming`), for the same
    reasons: :meth:`add` uploads a file under a staging key no reader looks at, hashing it as it
    goes (the digest, hence the final key, is known only at the end); the ledger calls
    :meth:`place` inside its write transaction just before the commit, which copies each staged
    object to its final key; :meth:`undo`, when the commit fails, deletes the finals this batch
    created; :meth:`close` deletes the staging objects, whatever happened.

    Unlike a rename, an S3 write can replace what another writer stored, so a final key is
    never written over: the copy is conditional (``If-None-Match: *``), and a blob already
    there is taken as stored once its size matches (its bytes are named by their hash; a blob
    whose size disagrees is refused, not replaced). So undo deletes only objects this batch
    wrote itself; and because the ledger places inside its write transaction, a writer that
    found the blob there (and so did not write it) commits only after the writer that created
    it has committed or undone.

    A crash before :meth:`close` leaves objects under ``<prefix>/incoming/``, which no reader
    looks at; a bucket lifecycle rule on that prefix expires them.
    """

    def __init__(self, store: S3BlobStore) -> None:
        self.store = store
        self._staged: dict[str, tuple[str, int]] = {}  # digest -> (staging key, size)
        self._leftovers: list[str] = []  # staging keys of duplicates, deleted on close
        self._placed: list[str] = []  # final keys this batch created

    def add(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        """Stream ``path`` to a staging key while hashing it; its digest and size.

        An unreadable file is the caller's input (``InputError``); a bucket that cannot be
        written is the store's (``LedgerUnavailable``)."""
        import uuid

        store = self.store
        staging = store._key("incoming", uuid.uuid4().hex)
        src = _open_evidence(path)
        try:
            reader = _HashingReader(src, path)
            stream = io.BufferedReader(reader, 1 << 20)  # whole parts: S3 refuses short ones
            store._call(staging, lambda: store._client().upload_fileobj(
                stream, store.bucket, staging, Config=store._transfer_config()))
        except BaseException:
            store._delete_quietly(staging)
            raise
        finally:
            os.close(src)
        digest = reader.hash.hexdigest()
        if digest in self._staged:  # the same bytes twice: one copy is placed
            self._leftovers.append(staging)
        else:
            self._staged[digest] = (staging, reader.size)
        return digest, reader.size

    def place(self) -> None:
        """Copy every staged object to its final key, unless a blob of that size is there."""
        store = self.store
        for digest, (staging, size) in list(self._staged.items()):
            final = store._path(digest)
            if store._stored_size(final) is None and store._copy_new(staging, final, size):
                self._placed.append(final)
            else:
                store._check_size(digest, final, size)
            del self._staged[digest]
            self._leftovers.append(staging)

    def undo(self) -> None:
        """The append failed: delete the finals :meth:`place` created (best effort: one left
        behind is named by no entry, as after a crash, and harmless)."""
        for final in reversed(self._placed):
            self.store._delete_quietly(final)
        self._placed.clear()

    def close(self) -> None:
        """Delete the staging objects (best effort, as in :meth:`undo`): placed blobs stay,
        their entry is committed."""
        for staging, _ in self._staged.values():
            self.store._delete_quietly(staging)
        for staging in self._leftovers:
            self.store._delete_quietly(staging)
        self._staged.clear()
        self._leftovers.clear()


class S3BlobStore:
    """Content-addressed blobs in ``s3://bucket/prefix``, through boto3.

    The endpoint is ``AFFIDAVIT_S3_ENDPOINT`` when set, else boto3's own (``AWS_ENDPOINT_URL``,
    the profile), so MinIO or a test server serve as well as AWS; credentials and region come
    from boto3's standard chain. Every S3 failure is ``LedgerUnavailable``, one line naming the
    bucket and key."""

    def __init__(self, url: str, *, client: Any = None) -> None:
        self.url = url
        self.bucket, self.prefix = parse_s3_url(url)
        self._s3 = client
        self._bucket_checked = False

    def _key(self, *parts: str) -> str:
        return "/".join((self.prefix, *parts) if self.prefix else parts)

    def _path(self, digest: str) -> str:
        return self._key("sha256", digest[:2], digest)

    def _client(self) -> Any:
        """The boto3 client, made on first use; the bucket is checked once then, so that a
        missing bucket is reported as such, not as every blob being absent (a HEAD on a key of
        a missing bucket answers a bare 404)."""
        if self._s3 is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError:
                raise LedgerUnavailable(
                    f"evidence store {self.url}: boto3 is not installed",
                    remedy="pip install 'affidavit[s3]'") from None
            endpoint = os.environ.get("AFFIDAVIT_S3_ENDPOINT") or None
            custom = endpoint or os.environ.get("AWS_ENDPOINT_URL") or \
                os.environ.get("AWS_ENDPOINT_URL_S3")
            config = Config(
                connect_timeout=10, read_timeout=60,
                retries={"mode": "standard", "max_attempts": 3},
                s3={"addressing_style": "path"} if custom else {},
                # Readers check every blob against its SHA-256 name themselves; botocore's own
                # check of a multipart object copied whole trips over stores (moto, some
                # MinIO versions) that answer with the parts' combined checksum.
                response_checksum_validation="when_required",
            )
            try:
                self._s3 = boto3.session.Session().client(
                    "s3", endpoint_url=endpoint, config=config)
            except _botocore_errors() as exc:
                raise self._failed("", exc) from None
            except ValueError as exc:  # a malformed endpoint URL
                raise LedgerUnavailable(f"evidence store {self.url}: {exc}") from None
        if not self._bucket_checked:
            client = self._s3
            try:
                client.head_bucket(Bucket=self.bucket)
            except _botocore_errors() as exc:
                if _code(exc) in _NOT_THERE | {"NoSuchBucket"}:
                    raise LedgerUnavailable(
                        f"evidence store {self.url}: bucket {self.bucket} does not exist",
                        remedy="create it, or give the right --evidence URL") from None
                raise self._failed("", exc) from None
            self._bucket_checked = True
        return self._s3

    def _transfer_config(self) -> Any:
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=_PART, multipart_chunksize=_PART,
                                max_concurrency=_PARTS_IN_MEMORY)
        config.max_in_memory_upload_chunks = _PARTS_IN_MEMORY  # s3transfer's, not in boto3's
        return config

    def _failed(self, key: str, exc: BaseException, *, write: bool = False
                ) -> LedgerUnavailable:
        where = f"s3://{self.bucket}/{key}" if key else self.url
        return LedgerUnavailable(f"evidence store {where}: {_reason(exc)}",
                                 remedy="nothing was recorded" if write else None)

    def _call(self, key: str, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except _botocore_errors() as exc:
            raise self._failed(key, exc, write=True) from None

    def _stored_size(self, key: str) -> int | None:
        """The size of the object at ``key``, None when there is none."""
        client = self._client()
        try:
            head = client.head_object(Bucket=self.bucket, Key=key)
        except _botocore_errors() as exc:
            if _code(exc) in _NOT_THERE:
                return None
            raise self._failed(key, exc) from None
        return int(head["ContentLength"])

    def _copy_new(self, staging: str, final: str, size: int) -> bool:
        """Copy ``staging`` to ``final`` unless an object is there; whether this call wrote it.

        The copy is a multipart upload of server-side part copies, completed with
        ``If-None-Match: *``: so a blob another writer stored between the HEAD and here is
        kept, not replaced, and at any size (a plain CopyObject stops at 5 GiB, and not every
        S3 honours a condition on it). The bytes never pass through this process."""
        client = self._client()
        try:
            if size == 0:
                client.put_object(Bucket=self.bucket, Key=final, Body=b"", IfNoneMatch="*")
                return True
            upload = client.create_multipart_upload(Bucket=self.bucket, Key=final)["UploadId"]
        except _botocore_errors() as exc:
            if _code(exc) in _TAKEN:
                return False
            raise self._failed(final, exc, write=True) from None
        source = {"Bucket": self.bucket, "Key": staging}
        try:
            parts = []
            for number, start in enumerate(range(0, size, _MAX_COPY), 1):
                end = min(start + _MAX_COPY, size) - 1
                answer = client.upload_part_copy(
                    Bucket=self.bucket, Key=final, UploadId=upload, PartNumber=number,
                    CopySource=source, CopySourceRange=f"bytes={start}-{end}")
                parts.append({"PartNumber": number, "ETag": answer["CopyPartResult"]["ETag"]})
            client.complete_multipart_upload(
                Bucket=self.bucket, Key=final, UploadId=upload,
                MultipartUpload={"Parts": parts}, IfNoneMatch="*")
        except BaseException as exc:
            import contextlib

            with contextlib.suppress(Exception):
                client.abort_multipart_upload(Bucket=self.bucket, Key=final, UploadId=upload)
            if isinstance(exc, _botocore_errors()):
                if _code(exc) in _TAKEN:
                    return False
                raise self._failed(final, exc, write=True) from None
            raise
        return True

    def _check_size(self, digest: str, final: str, size: int) -> None:
        """A blob found at ``final`` is taken as stored only if its size is the file's."""
        found = self._stored_size(final)
        if found is None:
            raise LedgerUnavailable(f"evidence store s3://{self.bucket}/{final}: the object "
                                    "went away while it was being stored",
                                    remedy="nothing was recorded; try again")
        if found != size:
            raise IntegrityError(
                f"evidence store s3://{self.bucket}/{final} holds {found} bytes under the "
                f"digest of a {size}-byte file; refusing to write over it",
                remedy="run `affidavit verify ledger --deep` and restore the blob")

    def _delete_quietly(self, key: str) -> None:
        import contextlib

        with contextlib.suppress(Exception):  # best effort: the caller is already failing
            self._client().delete_object(Bucket=self.bucket, Key=key)

    def incoming(self) -> Incoming:
        """A batch of evidence files to store with the next append (:class:`Incoming`)."""
        return Incoming(self)

    def has(self, digest: str) -> bool:
        """Whether the blob is present."""
        return self._stored_size(self._path(digest)) is not None

    def open(self, digest: str) -> BinaryIO:
        """A streaming read of a blob: nothing is held in memory beyond the reader's buffer."""
        key = self._path(digest)
        client = self._client()
        try:
            answer = client.get_object(Bucket=self.bucket, Key=key)
        except _botocore_errors() as exc:
            if _code(exc) in _NOT_THERE:
                raise NotFoundError(f"evidence {digest} is not in the vault at {self.url}"
                                    ) from None
            raise self._failed(key, exc) from None
        return _Blob(_Body(self, key, answer["Body"]), int(answer["ContentLength"]))

    def read_verified(self, digest: str) -> bytes:
        """The blob's bytes, refused when they no longer hash to their name."""
        return read_verified(self, digest, self.url)
