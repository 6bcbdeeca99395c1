"""The evidence store named by a URL (the server's ``--evidence``): ``file:///abs/dir`` or
``s3://bucket/prefix``.

Only the chosen store's module is imported, so a ``file://`` store never loads boto3.
"""

from __future__ import annotations

from affidavit.errors import UsageError
from affidavit.ledger.base import BlobStore

__all__ = ["open_blobs"]

_FORMS = "file:///absolute/dir or s3://bucket/prefix"


def open_blobs(url: str) -> BlobStore:
    """The store for ``url``; any other form is the user's error, naming the accepted ones."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "file":
        from affidavit.ledger.blobs import FileBlobStore

        return FileBlobStore(_file_dir(url))
    if scheme == "s3":
        from affidavit.ledger.s3_blobs import S3BlobStore

        return S3BlobStore(url)
    raise UsageError(f"evidence URL {url!r} is not one this version stores evidence in",
                     remedy=f"give {_FORMS}")


def _file_dir(url: str) -> str:
    """The directory of ``file:///abs/dir``: absolute, on this machine, taken literally (the
    percent-escapes decoded), so that the vault is where the user meant and not relative to
    whatever directory the server happened to start in."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise UsageError(f"evidence URL {url!r}: query strings and fragments are not supported",
                         remedy=f"give {_FORMS}")
    if parts.netloc not in ("", "localhost") or not url[len("file:"):].startswith("//"):
        raise UsageError(f"evidence URL {url!r}: a file URL names a directory on this machine",
                         remedy="give file:///absolute/dir (three slashes)")
    path = unquote(parts.path)
    if not path.startswith("/") or path.strip("/") == "" or "\0" in path:
        raise UsageError(f"evidence URL {url!r} names no absolute directory",
                         remedy="give file:///absolute/dir (three slashes)")
    return path.rstrip("/")
