"""A static tiled log (:mod:`affidavit.ledger.tiles`) in an S3 bucket, ``s3://bucket/prefix``:
the objects ``<prefix>/checkpoint``, ``<prefix>/tile/...`` and the evidence files the entries
name under ``<prefix>/evidence/sha256/<2 hex>/<64 hex>`` (an :class:`S3BlobStore`), so the
bucket can be served as is by any static host and read by any tlog-tiles client.

Objects are written with the media types and caching the spec asks for: tiles and bundles
never change once written (a partial one lives under its width), the checkpoint does. boto3
is imported on first use, as for the evidence store; every S3 failure is one line naming the
bucket and key (:class:`LedgerUnavailable`, exit 3).
"""

from __future__ import annotations

import os
from typing import Any

from affidavit.errors import LedgerUnavailable, UsageError
from affidavit.ledger.s3_blobs import S3BlobStore, parse_s3_url
from affidavit.ledger.tiles import CHECKPOINT

__all__ = ["S3Tiles"]

_IMMUTABLE = "public, max-age=31536000, immutable"
_MUTABLE = "no-cache"
_NOT_THERE = {"404", "NoSuchKey", "NotFound"}


def _errors() -> tuple[type[BaseException], ...]:
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError, Boto3Error)


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code") or
               response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def _reason(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        text = " ".join(f"{error.get('Code') or ''} {error.get('Message') or ''}".split())
        if text:
            return text
    return " ".join(str(exc).split()) or type(exc).__name__


class S3Tiles:
    """The tiled log at ``s3://bucket/prefix``; endpoint and credentials as for the evidence
    store (``AFFIDAVIT_S3_ENDPOINT``, else boto3's chain)."""

    def __init__(self, url: str) -> None:
        try:
            self.bucket, self.prefix = parse_s3_url(url)
        except UsageError as exc:
            raise UsageError(exc.message.replace("evidence URL", "mirror URL", 1),
                             remedy=exc.remedy) from None
        self.url = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        self._s3: Any = None
        self._blobs: S3BlobStore | None = None

    def key(self, path: str) -> str:
        """The object key of a log path (``checkpoint``, ``tile/0/000``)."""
        return f"{self.prefix}/{path}" if self.prefix else path

    def _client(self) -> Any:
        """The boto3 client, made and the bucket checked on first use: a missing bucket is
        reported as such rather than as an empty log."""
        if self._s3 is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError:
                raise LedgerUnavailable(f"mirror {self.url}: boto3 is not installed",
                                        remedy="pip install 'affidavit[s3]'") from None
            endpoint = os.environ.get("AFFIDAVIT_S3_ENDPOINT") or None
            custom = endpoint or os.environ.get("AWS_ENDPOINT_URL") or \
                os.environ.get("AWS_ENDPOINT_URL_S3")
            config = Config(connect_timeout=10, read_timeout=60,
                            retries={"mode": "standard", "max_attempts": 3},
                            s3={"addressing_style": "path"} if custom else {},
                            response_checksum_validation="when_required")
            try:
                client = boto3.session.Session().client("s3", endpoint_url=endpoint,
                                                        config=config)
                client.head_bucket(Bucket=self.bucket)
            except ValueError as exc:  # a malformed endpoint URL
                raise LedgerUnavailable(f"mirror {self.url}: {exc}") from None
            except _errors() as exc:
                if _code(exc) in _NOT_THERE | {"NoSuchBucket"}:
                    raise LedgerUnavailable(f"mirror {self.url}: bucket {self.bucket} does "
                                            "not exist", remedy="create it first") from None
                raise LedgerUnavailable(f"mirror {self.url}: {_reason(exc)}") from None
            self._s3 = client
        return self._s3

    @property
    def blobs(self) -> S3BlobStore:
        """The evidence files, beside the tiles, through the same client."""
        if self._blobs is None:
            self._blobs = S3BlobStore(f"s3://{self.bucket}/{self.key('evidence')}",
                                      client=self._client())
        return self._blobs

    def get(self, path: str) -> bytes | None:
        """The object at log path ``path``, None when there is none."""
        key = self.key(path)
        client = self._client()
        try:
            answer = client.get_object(Bucket=self.bucket, Key=key)
            data: bytes = answer["Body"].read()
        except _errors() as exc:
            if _code(exc) in _NOT_THERE:
                return None
            raise LedgerUnavailable(f"mirror s3://{self.bucket}/{key}: {_reason(exc)}") from None
        except OSError as exc:  # the connection lost mid-body
            raise LedgerUnavailable(f"mirror s3://{self.bucket}/{key}: {exc}") from None
        return data

    def put(self, path: str, data: bytes) -> None:
        """Write log path ``path``: the checkpoint as mutable text, anything else immutable."""
        key = self.key(path)
        text = path == CHECKPOINT
        try:
            self._client().put_object(
                Bucket=self.bucket, Key=key, Body=data,
                ContentType="text/plain; charset=utf-8" if text else "application/octet-stream",
                CacheControl=_MUTABLE if text else _IMMUTABLE)
        except _errors() as exc:
            raise LedgerUnavailable(f"mirror s3://{self.bucket}/{key}: {_reason(exc)}",
                                    remedy="the published checkpoint was not moved") from None

    def empty(self) -> bool:
        """Whether nothing at all is stored under the prefix (a new mirror's bucket)."""
        prefix = f"{self.prefix}/" if self.prefix else ""
        try:
            answer = self._client().list_objects_v2(Bucket=self.bucket, Prefix=prefix,
                                                    MaxKeys=1)
        except _errors() as exc:
            raise LedgerUnavailable(f"mirror {self.url}: {_reason(exc)}") from None
        return not answer.get("KeyCount") and not answer.get("Contents")
