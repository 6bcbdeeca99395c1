"""Copying evidence out of the vault, checked against its digest on the way."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from affidavit.errors import InputError, IntegrityError
from affidavit.evidence.output import check_output_path, open_partial
from affidavit.evidence.sealing import HashingReader
from affidavit.ledger.base import Ledger

__all__ = ["copy_out", "open_out"]


def copy_out(ledger: Ledger, digest: str, out: Path) -> int:
    """Write blob ``digest`` to ``out``; nothing is left at ``out`` if the bytes do not match,
    and ``out`` may not be one of the ledger's own files (see ``evidence.output``)."""
    def copy(src: HashingReader, dst: Any) -> int:
        size = 0
        while chunk := src.read(1 << 20):
            size += len(chunk)
            dst.write(chunk)
        return size

    size: int = _written(ledger, digest, out, copy)
    return size


def open_out(ledger: Ledger, digest: str, sealed: dict[str, Any], identities: list[Any],
             out: Path) -> dict[str, Any]:
    """Write the plaintext of sealed blob ``digest`` to ``out``: the ciphertext is checked
    against its digest while it is decrypted, and the plaintext against the commitment
    ``sealed`` records (``evidence.sealing``); nothing is left at ``out`` when any of it fails.
    The plaintext's digest and size."""
    from affidavit.evidence.sealing import open_sealed

    opened: dict[str, Any] = _written(
        ledger, digest, out,
        lambda src, dst: open_sealed(sealed, src, identities, dst, f"evidence {digest}"))
    return opened


def _written(ledger: Ledger, digest: str, out: Path,
             write: Callable[[HashingReader, Any], Any]) -> Any:
    """What ``write(source, destination)`` returns, having written ``out`` from blob
    ``digest`` (the blob hashed as it is read, to its end, and checked against its digest
    before ``out`` appears); nothing is left at ``out`` on any error, and ``out`` may not be
    one of the ledger's own files (``evidence.output``)."""
    check_output_path(ledger, out)
    tmp: Path | None = None
    try:
        with ledger.blobs.open(digest) as src:
            checked = HashingReader(src)
            tmp, fd = open_partial(out)
            with os.fdopen(fd, "wb") as dst:
                result = write(checked, dst)
            checked.drain()
        if checked.digest.hexdigest() != digest:
            raise IntegrityError(f"evidence {digest} in the vault does not match its digest")
        os.replace(tmp, out)
    except OSError as exc:
        raise InputError(f"-o {out}: {(exc.strerror or str(exc)).lower()}") from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return result
