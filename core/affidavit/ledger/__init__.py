"""The verifiable log: RFC 6962 tree, proofs, signed checkpoints, and the stores behind
``affidavit.ledger.base.Ledger``.

``Appended`` lives here rather than in ``base`` so that a backend can return it without importing
``typing`` for the protocol classes (3 ms on every CLI call).
"""

from __future__ import annotations

__all__ = ["Appended"]


class Appended:
    """What an append acknowledged: entries ``[first, size)`` and the checkpoint signing them."""

    __slots__ = ("first", "size", "checkpoint")

    def __init__(self, *, first: int, size: int, checkpoint: str) -> None:
        self.first = first
        self.size = size
        self.checkpoint = checkpoint

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Appended) and (self.first, self.size, self.checkpoint) == (
            other.first, other.size, other.checkpoint)

    def __hash__(self) -> int:
        return hash((self.first, self.size, self.checkpoint))

    def __repr__(self) -> str:
        return f"Appended(first={self.first}, size={self.size}, checkpoint=...)"
