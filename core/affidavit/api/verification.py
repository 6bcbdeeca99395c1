"""Offline verification of a whole ledger or of one evidence package."""

from __future__ import annotations

from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from affidavit.api.inputs import PathArg
    from affidavit.ledger.base import Ledger

__all__ = ["verify_ledger", "verify_package"]


def verify_ledger(ledger: Ledger, *, public_key: str | None = None,
                  deep: bool = False) -> dict[str, Any]:
    """Replay the whole log against its signed history; raise IntegrityError on any break."""
    from affidavit.verify.ledger import verify_ledger as audit

    return audit(ledger, public_key=public_key, deep=deep)


def verify_package(path: PathArg, public_key: str,
                   trusted_keys: PathArg | None = None,
                   witnesses: Sequence[str] = ()) -> dict[str, Any]:
    """Check a package zip with only the ledger's verifier key; return its recomputed
    verdicts, or raise IntegrityError naming the first thing that does not hold. With
    ``trusted_keys`` (a file of Ed25519 public keys, ``models.dsse.public_keys_in``), every
    signed attestation must be signed by one of them; with ``witnesses`` (cosigner vkeys,
    ``<name>+<id>+<key>``) the package's checkpoint must be cosigned by each."""
    import os
    from pathlib import Path

    from affidavit.verify.package import verify_package as check

    trusted = None
    if trusted_keys is not None:
        from affidavit.models.dsse import public_keys_in
        from affidavit.regular import read_regular

        where = f"--trusted-keys {os.fspath(trusted_keys)}"
        try:
            text = read_regular(trusted_keys, where, 1 << 20).decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{where}: not UTF-8 text") from None
        trusted = public_keys_in(text, where)
    return check(Path(path), public_key, trusted, witnesses)
