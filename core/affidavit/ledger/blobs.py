"""Evidence vault on a local file system: ``<root>/<2 hex>/<62 hex>``, written atomically."""

from __future__ import annotations

import os

from affidavit.errors import IntegrityError, NotFoundError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = ["FileBlobStore", "hash_file"]

_CHUNK = 1 << 20


def hash_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """SHA-256 hex digest and size of a file, read in 1 MiB chunks."""
    import hashlib

    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _incoming(root: str) -> tuple[int, str]:
    """A new, private temporary file in ``root``, as ``tempfile.mkstemp`` makes one.

    Not ``tempfile`` itself: it imports ``shutil``, ``random`` and the compression modules
    (about 4 ms), which every ``attest`` that keeps a report as evidence would pay.
    """
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = os.path.join(root, f".incoming-{os.urandom(8).hex()}")
        try:
            return os.open(path, flags, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {root}")


class FileBlobStore:
    """Content-addressed blobs in a directory; a blob is renamed into place only once complete."""

    def __init__(self, root: str) -> None:
        self.root = root

    def _path(self, digest: str) -> str:
        return os.path.join(self.root, digest[:2], digest[2:])

    def has(self, digest: str) -> bool:
        """Whether the blob is present (as a regular file, not a link to one)."""
        import stat

        try:
            return stat.S_ISREG(os.lstat(self._path(digest)).st_mode)
        except OSError:
            return False

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        """Copy ``path`` into the vault while hashing it; the digest names the stored file."""
        import hashlib

        os.makedirs(self.root, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = _incoming(self.root)
        try:
            with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            hexdigest = digest.hexdigest()
            final = self._path(hexdigest)
            os.makedirs(os.path.dirname(final), exist_ok=True)
            os.replace(tmp, final)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return hexdigest, size

    def open(self, digest: str) -> BinaryIO:
        """Open a blob for reading. Only a regular file is a blob: a link (to ``/dev/zero``,
        say) or a FIFO planted in the vault is refused instead of read forever."""
        import stat

        path = self._path(digest)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            raise NotFoundError(f"evidence {digest} is not in the vault at {self.root}") from None
        except OSError as exc:
            raise IntegrityError(f"evidence {digest} in the vault at {self.root} cannot be "
                                 f"opened as a file ({(exc.strerror or str(exc)).lower()})"
                                 ) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise IntegrityError(f"evidence {digest} in the vault at {self.root} is not a "
                                 "regular file")
        return os.fdopen(fd, "rb")

    def read_verified(self, digest: str) -> bytes:
        """The blob's bytes, refused when they no longer hash to their name."""
        import hashlib

        with self.open(digest) as fh:
            data = fh.read()
        if hashlib.sha256(data).hexdigest() != digest:
            raise IntegrityError(f"evidence {digest} in {self.root} does not match its digest")
        return data
