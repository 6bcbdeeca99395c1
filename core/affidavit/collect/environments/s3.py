"""``snapshot s3``: a bucket, or a folder of it, as one artifact (a static site, a bundle).

Its fingerprint is the one ``affidavit fingerprint DIR --artifact-type dir`` gives the same
files written to a directory (Kosli's ``DirSha256``), so the directory a build attested
matches what the bucket serves. It is computed the only way that guarantees it: the selected
objects are downloaded into a temporary directory, keys becoming relative paths, and that
directory is fingerprinted by the same code (a ``.kosli_ignore`` object at the top is
therefore obeyed as it would be on disk). ETags cannot stand in: they are MD5s, or not even
that for multipart uploads.

A key that cannot be a path inside that directory (``../x``, ``/x``, ``a//b``) is refused
rather than skipped, since skipping would fingerprint less than the bucket serves. Every
object is read with the ETag it was listed with, so an object replaced mid-read fails the
snapshot instead of mixing two states. Downloads stream through a small buffer on a few
threads, and the total is capped (:data:`MAX_BYTES`), so memory stays bounded and a wrong
bucket does not fill the disk.
"""

from __future__ import annotations

import os

from affidavit.collect.environments.aws import translated
from affidavit.errors import InputError, NotFoundError, ProviderError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

__all__ = ["MAX_BYTES", "MAX_OBJECTS", "PAGE_SIZE", "running"]

MAX_BYTES = 4 << 30
"""Most bytes one snapshot downloads (4 GiB)."""

MAX_OBJECTS = 1_000_000
"""Most objects one snapshot downloads: each is a file on disk and an entry in the walk."""

PAGE_SIZE = 1000
"""Keys per ``ListObjectsV2`` page: the most S3 returns."""

_WORKERS = 8
_CHUNK = 1 << 20


def running(client: Any, *, bucket: str, prefix: str | None = None,
            include: str | None = None, exclude: str | None = None) -> list[dict[str, Any]]:
    """``bucket``, or its folder ``prefix``, as one running artifact; ``include`` or
    ``exclude`` (regular expressions searched in each full key) select its objects."""
    if not bucket or "/" in bucket:
        raise UsageError(f"snapshot s3: --bucket {bucket!r} is not a bucket name")
    if include is not None and exclude is not None:
        raise UsageError("snapshot s3: give --include or --exclude, not both")
    folder = _folder(prefix)
    selected = _selector(include, exclude)
    where = f"s3://{bucket}/{folder}"
    import tempfile

    from affidavit.collect.fingerprint.artifact import fingerprint

    with tempfile.TemporaryDirectory(prefix="affidavit-s3-") as tmp:
        found = _download(client, bucket, folder, selected, tmp, where)
        if folder and not found:
            raise NotFoundError(f"{where}: no objects under this prefix")
        digest = fingerprint(tmp, "dir")
    name = f"{bucket}/{folder.rstrip('/')}" if folder else bucket
    return [{"name": name, "fingerprint": digest}]


def _folder(prefix: str | None) -> str:
    """``prefix`` as a folder (``a/b/``), or "" for the whole bucket: a bare string prefix
    would also take in ``a/b-old/``, and keys would become paths relative to half a name."""
    if prefix is None:
        return ""
    folder = prefix.strip("/")
    if not folder:
        return ""
    if any(part in ("", ".", "..") for part in folder.split("/")):
        raise UsageError(f"snapshot s3: --prefix {prefix!r} has an empty, '.' or '..' segment")
    return folder + "/"


def _selector(include: str | None, exclude: str | None) -> Callable[[str], bool]:
    import re

    pattern = include if include is not None else exclude
    if pattern is None:
        return _everything
    flag = "--include" if include is not None else "--exclude"
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"snapshot s3: {flag} {pattern!r} is not a regular expression: "
                         f"{exc}") from None
    if include is not None:
        return lambda key: compiled.search(key) is not None
    return lambda key: compiled.search(key) is None


def _everything(key: str) -> bool:
    return True


def _download(client: Any, bucket: str, folder: str, selected: Callable[[str], bool],
              root: str, where: str) -> bool:
    """Write the selected objects under ``root``; whether the folder has any object."""
    from concurrent.futures import ThreadPoolExecutor

    found, total, count = False, 0, 0
    pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="affidavit-s3")
    try:
        with translated(where):
            for page in _pages(client, bucket, folder):
                jobs = []
                for obj in page:
                    found = True
                    key, size = str(obj["Key"]), int(obj.get("Size") or 0)
                    if not selected(key):
                        continue
                    parts = _relative(key, folder, where)
                    if parts is None:
                        continue
                    total, count = total + size, count + 1
                    _check_budget(total, count, where)
                    jobs.append(pool.submit(_fetch, client, bucket, obj, parts, root, where))
                for job in jobs:  # one page in flight: memory bounded by the page
                    job.result()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return found


def _pages(client: Any, bucket: str, folder: str) -> Iterable[list[dict[str, Any]]]:
    paginator = client.get_paginator("list_objects_v2")
    kwargs: dict[str, Any] = {"Bucket": bucket, "PaginationConfig": {"PageSize": PAGE_SIZE}}
    if folder:
        kwargs["Prefix"] = folder
    for page in paginator.paginate(**kwargs):
        yield list(page.get("Contents") or ())


def _relative(key: str, folder: str, where: str) -> list[str] | None:
    """The path segments ``key`` is written to under the directory, a trailing "" for a
    folder marker (``site/img/``); None for the folder's own marker."""
    rest = key[len(folder):]
    if not rest:
        return None
    marker = rest.endswith("/")
    parts = (rest[:-1] if marker else rest).split("/")
    if any(part in ("", ".", "..") or "\0" in part for part in parts):
        raise InputError(f"{where}: key {key!r} is not a path inside the bucket's directory "
                         "(an absolute path, or an empty, '.' or '..' segment)",
                         remedy="rename the object, or leave it out with --exclude")
    return [*parts, ""] if marker else parts


def _check_budget(total: int, count: int, where: str) -> None:
    if total > MAX_BYTES:
        raise InputError(f"{where}: the selected objects hold more than {MAX_BYTES} bytes, "
                         "the most a snapshot downloads",
                         remedy="select fewer with --prefix, --include or --exclude")
    if count > MAX_OBJECTS:
        raise InputError(f"{where}: more than {MAX_OBJECTS} objects selected, the most a "
                         "snapshot downloads",
                         remedy="select fewer with --prefix, --include or --exclude")


def _fetch(client: Any, bucket: str, obj: dict[str, Any], parts: list[str], root: str,
           where: str) -> None:
    """Stream one object to its path (a folder marker becomes an empty directory)."""
    key, size = str(obj["Key"]), int(obj.get("Size") or 0)
    path = os.path.join(root, *parts)
    try:
        if parts[-1] == "":
            if size:
                raise InputError(f"{where}: key {key!r} ends in '/' but holds {size} bytes; "
                                 "a directory cannot", remedy="leave it out with --exclude")
            os.makedirs(path, exist_ok=True)
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                     | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        raise InputError(f"{where}: key {key!r} cannot be written as a file: "
                         f"{(exc.strerror or str(exc)).lower()} (an object and a folder of the "
                         "same name, or a name too long)") from None
    try:
        _stream(client, bucket, obj, fd, where)
    finally:
        os.close(fd)


def _stream(client: Any, bucket: str, obj: dict[str, Any], fd: int, where: str) -> None:
    key, size = str(obj["Key"]), int(obj.get("Size") or 0)
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if obj.get("ETag"):
        kwargs["IfMatch"] = obj["ETag"]
    from botocore.exceptions import ClientError

    try:
        body = client.get_object(**kwargs)["Body"]
    except ClientError as exc:
        code = (exc.response.get("Error") or {}).get("Code")
        if code in ("PreconditionFailed", "NoSuchKey"):
            raise ProviderError(f"{where}: object {key!r} changed while the snapshot read the "
                                "bucket", remedy="try again") from None
        raise
    written = 0
    try:
        while chunk := body.read(_CHUNK):
            written += len(chunk)
            if written > size:
                break
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view):]
    except OSError as exc:
        raise InputError(f"{where}: key {key!r}: {(exc.strerror or str(exc)).lower()}") from None
    finally:
        body.close()
    if written != size:
        raise ProviderError(f"{where}: object {key!r} was listed with {size} bytes but "
                            f"{written} arrived", remedy="try again")
