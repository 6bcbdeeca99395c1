"""The verifiable log: RFC 6962 tree, proofs, signed checkpoints, and the stores behind
``affidavit.ledger.base.Ledger``.

``Appended``, ``KeyedRead``, ``Pending`` and ``Unmet`` live here rather than in ``base`` so that
a backend can return them without importing ``typing`` for the protocol classes (3 ms on every
CLI call); they are plain classes for the same reason (``dataclasses`` costs more to import
than they run).
"""

from __future__ import annotations

from affidavit.errors import NotFoundError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from affidavit.ledger.keymap import MapProof

__all__ = ["Appended", "KeyedRead", "Pending", "Unmet"]


class Appended:
    """What an append acknowledged: its entries from ``first`` on, in the log of ``size``
    entries the ``checkpoint`` signs. A remote ledger also sends the proofs its writer checks
    the answer with (the consistency proof from the head the writer proved, and each entry's
    inclusion proof), sparing two round trips; the writer asks for them when they are absent."""

    __slots__ = ("first", "size", "checkpoint", "consistency", "inclusion")

    def __init__(self, *, first: int, size: int, checkpoint: str,
                 consistency: list[bytes] | None = None,
                 inclusion: dict[int, list[bytes]] | None = None) -> None:
        self.first = first
        self.size = size
        self.checkpoint = checkpoint
        self.consistency = consistency
        self.inclusion = inclusion

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Appended) and (self.first, self.size, self.checkpoint) == (
            other.first, other.size, other.checkpoint)

    def __hash__(self) -> int:
        return hash((self.first, self.size, self.checkpoint))

    def __repr__(self) -> str:
        return f"Appended(first={self.first}, size={self.size}, checkpoint=...)"


class Pending:
    """One writer's append, waiting to be integrated with others in one transaction
    (:meth:`affidavit.ledger.stored_tree.StoredTree.append_batch`): its entries (``decoded``,
    when given, MUST be ``[canonical.loads(e) for e in entries]``), the ``(size, root)`` head its
    writer proved, the evidence batch from the ledger's own vault, and ``once``: answer with
    where these very entries went when the log after ``after`` holds them already (a retried
    request), instead of appending them twice -- or after ``since`` when given: the size the
    writer knew of before its request, when the server chose ``after`` for it (a retry would
    be given a later one)."""

    __slots__ = ("entries", "decoded", "after", "evidence", "once", "since")

    def __init__(self, entries: list[bytes], decoded: list[dict[str, Any]] | None = None, *,
                 after: tuple[int, bytes] | None = None, evidence: Any = None,
                 once: bool = False, since: int | None = None) -> None:
        self.entries = entries
        self.decoded = decoded
        self.after = after
        self.evidence = evidence
        self.once = once
        self.since = since


class Unmet(NotFoundError):
    """A server refused an append because a key it requires files nothing at the head it
    read (``HttpLedger.append_requiring``); that head is the ledger's next snapshot, for the
    writer to prove the refusal on, and word it as its own read would."""


class KeyedRead:
    """Everything a reader needs about some keys, from one read of one state of the ledger:
    per key its indexed entries and key map proof, and each of those entries with its
    inclusion proof in the tree of ``size``. A remote backend answers it in one round trip, and
    when other writers moved the log on since the reader's checkpoint, it answers at the newer
    size with the ``checkpoint`` that signs it (the reader proves that one extends its own)."""

    __slots__ = ("size", "positions", "proofs", "entries", "inclusion", "checkpoint")

    def __init__(self, *, size: int, positions: dict[str, list[int]],
                 proofs: dict[str, MapProof], entries: dict[int, bytes],
                 inclusion: dict[int, list[bytes]], checkpoint: str | None = None) -> None:
        self.checkpoint = checkpoint
        self.size = size
        self.positions = positions
        self.proofs = proofs
        self.entries = entries
        self.inclusion = inclusion
