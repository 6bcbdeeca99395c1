"""Offline verification of a whole ledger or of one evidence package."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.api.inputs import PathArg
    from affidavit.ledger.base import Ledger

__all__ = ["verify_ledger", "verify_package"]


def verify_ledger(ledger: Ledger, *, public_key: str | None = None,
                  deep: bool = False) -> dict[str, Any]:
    """Replay the whole log against its signed history; raise IntegrityError on any break."""
    from affidavit.verify.ledger import verify_ledger as audit

    return audit(ledger, public_key=public_key, deep=deep)


def verify_package(path: PathArg, public_key: str) -> dict[str, Any]:
    """Check a package zip with only the ledger's verifier key; return its recomputed
    verdicts, or raise IntegrityError naming the first thing that does not hold."""
    from pathlib import Path

    from affidavit.verify.package import verify_package as check

    return check(Path(path), public_key)
