"""The proofs a backend answers from its stored tree nodes, written once for every backend.

A backend that stores the tree's leaves and nodes the same way (the SQLite and PostgreSQL
ones: a node every ``STRIDE`` levels, folded up by ``_fetch``) proves roots, inclusion and
consistency with the same few lines; only reading the nodes and knowing the log's size are
its own.
"""

from __future__ import annotations

from affidavit.ledger import proof

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = ["StoredTree"]


class StoredTree:
    """Mixin: ``root``, ``inclusion_proof(s)``, ``consistency_proof`` over ``_fetch``."""

    def _init(self) -> Any:
        raise NotImplementedError

    def _check_size(self, size: int) -> None:
        raise NotImplementedError

    def _fetch(self, ids: Sequence[tuple[int, int]]) -> list[bytes]:
        raise NotImplementedError

    def _consistency(self, size1: int, size2: int) -> list[bytes]:
        nodes = proof.consistency_nodes(size1, size2)
        return nodes.rehash(self._fetch(nodes.ids))

    def root(self, size: int) -> bytes:
        """Merkle root of the first ``size`` entries."""
        self._init()
        self._check_size(size)
        return proof.root_from(self._fetch(proof.root_nodes(size)))

    def inclusion_proof(self, index_: int, size: int) -> list[bytes]:
        """Audit path of entry ``index_`` in the tree of ``size``."""
        return self.inclusion_proofs([index_], size)[index_]

    def inclusion_proofs(self, positions: Sequence[int], size: int) -> dict[int, list[bytes]]:
        """Audit paths of several entries in the tree of ``size``, read in one pass."""
        self._init()
        self._check_size(size)
        plans = {i: proof.inclusion_nodes(i, size) for i in set(positions)}
        ids = sorted({node for plan in plans.values() for node in plan.ids})
        hashes = dict(zip(ids, self._fetch(ids), strict=True))
        return {i: plan.rehash([hashes[node] for node in plan.ids]) for i, plan in plans.items()}

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """Proof that the tree of ``size1`` is a prefix of the tree of ``size2``."""
        self._init()
        self._check_size(size2)
        return self._consistency(size1, size2)
