"""Copying evidence out of the vault, checked against its digest on the way."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from affidavit.errors import InputError, IntegrityError
from affidavit.evidence.output import check_output_path, open_partial
from affidavit.ledger.base import Ledger

__all__ = ["copy_out"]


def copy_out(ledger: Ledger, digest: str, out: Path) -> int:
    """Write blob ``digest`` to ``out``; nothing is left at ``out`` if the bytes do not match,
    and ``out`` may not be one of the ledger's own files (see ``evidence.output``)."""
    check_output_path(ledger, out)
    tmp: Path | None = None
    hasher = hashlib.sha256()
    size = 0
    try:
        with ledger.blobs.open(digest) as src:
            tmp, fd = open_partial(out)
            with os.fdopen(fd, "wb") as dst:
                while chunk := src.read(1 << 20):
                    hasher.update(chunk)
                    size += len(chunk)
                    dst.write(chunk)
        if hasher.hexdigest() != digest:
            raise IntegrityError(f"evidence {digest} in the vault does not match its digest")
        os.replace(tmp, out)
    except OSError as exc:
        raise InputError(f"-o {out}: {(exc.strerror or str(exc)).lower()}") from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return size
