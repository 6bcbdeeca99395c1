"""Copying evidence out of the vault, checked against its digest on the way."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from affidavit.errors import InputError, IntegrityError
from affidavit.ledger.base import Ledger

__all__ = ["copy_out"]


def copy_out(ledger: Ledger, digest: str, out: Path) -> int:
    """Write blob ``digest`` to ``out``; nothing is left at ``out`` if the bytes do not match."""
    if out.is_dir():
        raise InputError(f"-o {out}: is a directory")
    tmp = out.with_name(f".{out.name}.partial")
    hasher = hashlib.sha256()
    size = 0
    try:
        with ledger.blobs.open(digest) as src, open(tmp, "wb") as dst:
            while chunk := src.read(1 << 20):
                hasher.update(chunk)
                size += len(chunk)
                dst.write(chunk)
        if hasher.hexdigest() != digest:
            raise IntegrityError(f"evidence {digest} in the vault does not match its digest")
        os.replace(tmp, out)
    except OSError as exc:
        raise InputError(f"-o {out}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return size
