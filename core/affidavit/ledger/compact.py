"""Compact Merkle ranges: the O(log n) state needed to append leaves and compute the root.

A compact range for leaves ``[0, end)`` holds the hashes of the perfect subtrees along the binary
decomposition of ``end`` (one per set bit, largest first), the same nodes as
:func:`affidavit.ledger.proof.root_nodes`. Appending a leaf completes zero or more perfect
subtrees; the ``visit`` callback is told about each of them and about the leaf itself, so a store
writes exactly the nodes that became complete: amortised two node writes per append, and never a
node that changes later.

Modelled on transparency-dev/merkle's ``compact`` package, restricted to ranges starting at 0,
which is all an append-only log needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from affidavit.errors import IntegrityError
from affidavit.ledger.proof import root_from
from affidavit.ledger.rfc6962 import HASH_SIZE, node_hash

__all__ = ["CompactRange", "VisitFn"]

VisitFn = Callable[[int, int, bytes], None]
"""Called as ``visit(level, index, hash)`` for every node that an append completes."""


class CompactRange:
    """The compact range ``[0, end)`` of an append-only Merkle tree."""

    __slots__ = ("_end", "_hashes")

    def __init__(self) -> None:
        """An empty range: ``[0, 0)``."""
        self._end = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_hashes(cls, end: int, hashes: Sequence[bytes]) -> CompactRange:
        """Resume a range ``[0, end)`` from stored hashes.

        ``hashes`` are the hashes of ``root_nodes(end)``, left to right: one per set bit of
        ``end``. Raises :class:`IntegrityError` if their number or length does not fit.
        """
        if end < 0:
            raise IntegrityError(f"compact range end {end} is negative")
        if len(hashes) != end.bit_count():
            raise IntegrityError(
                f"compact range [0, {end}) needs {end.bit_count()} hashes, got {len(hashes)}"
            )
        for h in hashes:
            if len(h) != HASH_SIZE:
                raise IntegrityError(f"compact range hash has {len(h)} bytes, not {HASH_SIZE}")
        rng = cls()
        rng._end = end
        rng._hashes = list(hashes)
        return rng

    @property
    def end(self) -> int:
        """Number of leaves in the range: it covers ``[0, end)``."""
        return self._end

    @property
    def hashes(self) -> list[bytes]:
        """A copy of the hashes of the perfect subtrees along the decomposition of ``end``."""
        return list(self._hashes)

    def append(self, leaf_hash: bytes, visit: VisitFn | None = None) -> None:
        """Add leaf ``end`` with hash ``leaf_hash``, extending the range to ``[0, end + 1)``.

        Calls ``visit(0, end, leaf_hash)`` for the leaf, then ``visit(level, index, hash)``, bottom
        up, for each perfect subtree the leaf completes. Precondition: ``leaf_hash`` is 32 bytes
        (it is the output of :func:`affidavit.ledger.rfc6962.leaf_hash`).
        """
        if len(leaf_hash) != HASH_SIZE:
            raise IntegrityError(f"leaf hash has {len(leaf_hash)} bytes, not {HASH_SIZE}")
        index = self._end
        if visit is not None:
            visit(0, index, leaf_hash)
        merged = leaf_hash
        level = 0
        # Each trailing one bit of `index` is a left sibling of the same size waiting to merge.
        while index >> level & 1:
            merged = node_hash(self._hashes.pop(), merged)
            level += 1
            if visit is not None:
                visit(level, index >> level, merged)
        self._hashes.append(merged)
        self._end = index + 1

    def extend(self, leaf_hashes: Sequence[bytes], visit: VisitFn | None = None) -> None:
        """:meth:`append` each of ``leaf_hashes`` in order; the same visits, in a tighter loop
        for the bulk appends a server or a migration makes."""
        hashes = self._hashes
        index = self._end
        for leaf_hash in leaf_hashes:
            if len(leaf_hash) != HASH_SIZE:
                raise IntegrityError(f"leaf hash has {len(leaf_hash)} bytes, not {HASH_SIZE}")
            if visit is not None:
                visit(0, index, leaf_hash)
            merged = leaf_hash
            level = 0
            while index >> level & 1:
                merged = node_hash(hashes.pop(), merged)
                level += 1
                if visit is not None:
                    visit(level, index >> level, merged)
            hashes.append(merged)
            index += 1
            self._end = index

    def root(self) -> bytes:
        """The Merkle tree hash of leaves ``[0, end)``; ``EMPTY_ROOT`` when ``end == 0``."""
        return root_from(self._hashes)

    def __repr__(self) -> str:
        return f"CompactRange(end={self._end})"
