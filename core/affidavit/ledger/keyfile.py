"""A ledger's signing key file: read, and written once, atomically, mode 0600 (the SQLite
ledger's beside its database, the PostgreSQL ledger's where its operator says)."""

from __future__ import annotations

import os

from affidavit.errors import AffidavitError, IntegrityError, LedgerUnavailable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["read_key", "write_key"]


def read_key(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except OSError as exc:
        raise LedgerUnavailable(f"cannot read the ledger key {path}: "
                                f"{(exc.strerror or str(exc)).lower()}",
                                remedy="nothing was recorded") from None


def write_key(path: str, key: str | bytes, *, mode: int = 0o600,
              exists: Callable[[], AffidavitError] | None = None,
              failed: Callable[[str], AffidavitError] | None = None,
              make_folder: bool = True) -> None:
    """Write a new key file (text gets a final newline; bytes are written as they are), mode
    0600 unless ``mode`` says otherwise, atomically and never over an existing one: two
    creators racing on one path must not end up signing with different keys, and a key that
    evidence was sealed for must not be replaced by a second ``generate``. ``exists`` makes
    the error for a file that is there already, ``failed`` the one for a file that cannot be
    written (given the reason); by default both are the ledger's own key's. ``make_folder``:
    create the folder when it is missing (a ledger's key beside its new database), rather
    than refuse (a key a user names)."""
    folder, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(folder, f".{name}.{os.getpid()}")
    data = key if isinstance(key, bytes) else (key + "\n").encode()
    try:
        if make_folder:
            os.makedirs(folder, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                if exists is not None:
                    raise exists() from None
                raise IntegrityError(f"ledger key {path} appeared while this ledger was being "
                                     "created", remedy="nothing was recorded; try again") from None
        finally:
            os.unlink(tmp)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        if failed is not None:
            raise failed(reason) from None
        raise LedgerUnavailable(f"cannot write the ledger key {path}: {reason}",
                                remedy="nothing was recorded") from None
