"""Opening a ledger by URL, and the commands that act on the ledger as a whole."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from affidavit.ledger.base import Ledger

__all__ = ["open_ledger", "init_ledger", "public_key", "reindex"]


def open_ledger(url: str | None, *, create: bool = False) -> Ledger:
    """The ledger at ``url`` (default: ``.affidavit/ledger.db`` at the git repo root, or
    ``AFFIDAVIT_LEDGER``); ``create`` makes a missing local ledger, which only writes do."""
    from affidavit.ledger.registry import open_ledger as by_url

    ledger: Ledger = by_url(url, create=create)
    return ledger


def init_ledger(url: str | None, *, reuse_key: bool = False) -> tuple[Ledger, str]:
    """Create the ledger with a fresh origin; return it and the origin."""
    ledger = open_ledger(url, create=True)
    return ledger, ledger.init(reuse_key=reuse_key)


def public_key(ledger: Ledger) -> str:
    """The verifier key the ledger's checkpoints are signed with (C2SP note form)."""
    return ledger.verifier_key()


def reindex(ledger: Ledger) -> int:
    """Rebuild the indexes from the log (the signed map root must come out the same)."""
    return ledger.reindex()
