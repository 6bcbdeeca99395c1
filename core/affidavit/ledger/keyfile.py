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


def write_key(path: str, key: str, *,
              exists: Callable[[], AffidavitError] | None = None) -> None:
    """Write a new key file, mode 0600, atomically and never over an existing one: two
    creators racing on one path must not end up signing with different keys. ``exists``
    makes the error for a file that appeared meanwhile (the backend says what it means)."""
    folder, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(folder, f".{name}.{os.getpid()}")
    try:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(key + "\n")
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
        raise LedgerUnavailable(f"cannot write the ledger key {path}: "
                                f"{(exc.strerror or str(exc)).lower()}",
                                remedy="nothing was recorded") from None
