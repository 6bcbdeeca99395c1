"""Inclusion and consistency proofs for RFC 9162 Merkle trees: which nodes to read, how to check.

Nodes are named by ``(level, index)``: the perfect subtree of ``2**level`` leaves covering
``[index * 2**level, (index + 1) * 2**level)``. A store keeps only such perfect subtrees, and only
once they are complete, so they never change after they are written.

A proof hash is usually one stored node, except for at most one *ephemeral* node on the right
border of the tree: a subtree ``[begin, size)`` that is not (yet) perfect. Its hash is folded from
the perfect subtrees that make it up. :func:`inclusion_nodes` and :func:`consistency_nodes`
therefore return :class:`Nodes`: the ids to fetch, in one query, and :meth:`Nodes.rehash`, which
turns the fetched hashes into the proof. Both the number of ids and the proof length are
``O(log size)``.

Proof verification follows RFC 9162 §2.1.3.2 and §2.1.4.2, with the same preconditions as the
reference implementation (transparency-dev/merkle): a consistency proof is only defined for
``0 < size1 <= size2``.
"""

from __future__ import annotations

from affidavit.errors import InputError, IntegrityError, RootMismatch
from affidavit.ledger.rfc6962 import EMPTY_ROOT, HASH_SIZE, node_hash

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "NodeID",
    "Nodes",
    "inclusion_nodes",
    "InclusionBatch",
    "consistency_nodes",
    "root_nodes",
    "root_from",
    "root_from_inclusion_proof",
    "verify_inclusion",
    "verify_consistency",
]


NodeID = tuple[int, int]
"""``(level, index)``: the perfect subtree of leaves ``[index << level, (index + 1) << level)``.

A plain tuple, so it is hashable, sortable and usable as SQL parameters as is.
"""


class Nodes:
    """The stored nodes a proof is made of, and how to turn their hashes into the proof.

    ``ids[begin:end]`` (``[begin, end)``; empty when ``begin == end``) are the perfect subtrees,
    left to right, that together make up the one ephemeral node of the proof; every other id is
    one proof hash by itself. Fetch the hashes of ``ids`` in any way (one ``IN (...)`` query) and
    pass them, in the order of ``ids``, to :meth:`rehash`.
    """

    __slots__ = ("ids", "begin", "end")

    def __init__(self, ids: tuple[NodeID, ...], begin: int = 0, end: int = 0) -> None:
        self.ids = ids
        self.begin = begin
        self.end = end

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Nodes) and (self.ids, self.begin, self.end) == (
            other.ids, other.begin, other.end)

    def __hash__(self) -> int:
        return hash((self.ids, self.begin, self.end))

    def __repr__(self) -> str:
        return f"Nodes(ids={self.ids!r}, begin={self.begin!r}, end={self.end!r})"

    def rehash(self, hashes: Sequence[bytes],
               folds: dict[tuple[NodeID, ...], bytes] | None = None) -> list[bytes]:
        """Return the proof, given ``hashes[i]`` = the hash of ``ids[i]`` for every ``i``.

        ``folds``, shared by the proofs of one batch, keeps each ephemeral sibling once it is
        folded: the proofs of every entry left of the tree's right border share one (half the
        log's, at least), and folding it again for each costs a dozen hashes a proof.

        Raises :class:`IntegrityError` when the number of hashes differs from ``len(ids)`` (a
        store that lost nodes).
        """
        if len(hashes) != len(self.ids):
            raise IntegrityError(
                f"got {len(hashes)} node hashes for a proof made of {len(self.ids)} nodes",
                remedy="the ledger store is missing nodes; run `affidavit verify ledger`",
            )
        proof = list(hashes)
        if self.end - self.begin > 1:
            border = self.ids[self.begin : self.end]
            folded = None if folds is None else folds.get(border)
            if folded is None:
                folded = proof[self.end - 1]
                for left in reversed(proof[self.begin : self.end - 1]):
                    folded = node_hash(left, folded)
                if folds is not None:
                    folds[border] = folded
            proof[self.begin : self.end] = [folded]
        return proof


def _decompose(begin: int, size: int) -> list[NodeID]:
    """The perfect subtrees, left to right, exactly covering ``[begin, begin + size)``.

    Precondition: ``begin`` is a multiple of the largest power of two not above ``size`` (true for
    ``begin == 0`` and for the right sibling of any node), so the subtrees follow the bits of
    ``size`` from the highest down.
    """
    nodes: list[NodeID] = []
    pos = begin
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            nodes.append((level, pos >> level))
            pos += 1 << level
    return nodes


def _path(leaf: int, size: int, level: int) -> tuple[list[NodeID], int, int]:
    """Siblings of the nodes on the way from ``(level, leaf >> level)`` to the root of ``size``.

    Returns the ids, bottom to top, and the ``[begin, end)`` range of the ids that make up the
    ephemeral sibling. Precondition: ``0 <= leaf < size`` and the starting node is complete.
    """
    # Below `inner` the path to `leaf` and the path to the last leaf part ways; at level
    # `inner - 1` the sibling is the right border of the tree, possibly not perfect.
    inner = (leaf ^ (size - 1)).bit_length()
    ids = [(lvl, (leaf >> lvl) ^ 1) for lvl in range(level, inner - 1)]
    begin = end = len(ids)
    if inner > level:
        lvl = inner - 1
        start = ((leaf >> lvl) + 1) << lvl
        ids.extend(_decompose(start, size - start))
        end = len(ids)
    # Above `inner` the path is the right border: only left siblings exist.
    ids.extend(
        (lvl, (leaf >> lvl) - 1)
        for lvl in range(max(inner, level), leaf.bit_length())
        if leaf >> lvl & 1
    )
    return ids, begin, end


def inclusion_nodes(index: int, size: int) -> Nodes:
    """The nodes of the inclusion proof of leaf ``index`` in the tree of ``size`` leaves.

    Precondition: ``0 <= index < size``, else :class:`InputError`.
    """
    if not 0 <= index < size:
        raise InputError(f"cannot prove inclusion of leaf {index} in a tree of size {size}")
    ids, begin, end = _path(index, size, 0)
    return Nodes(tuple(ids), begin, end)


class InclusionBatch:
    """:func:`inclusion_nodes` of many leaves of one tree, planned together.

    Below the level where a leaf's path meets the path of the tree's last leaf (``inner``),
    its siblings are its own; from there up -- the ephemeral node on the right border and
    the left siblings above it -- they depend only on that level, which a read of a hundred
    leaves of a million-entry log shares among all but a few. So each such top is planned
    and folded once, and a leaf costs only its own siblings: a server answering a read of a
    trail's hundred entries planned and rehashed each path on its own for a third of its CPU
    (bench/server_reads.py). The proofs are exactly those of :func:`inclusion_nodes` and
    :meth:`Nodes.rehash` (``tests/ledger/test_proof.py``).

    ``ids`` are the nodes to fetch, each once; :meth:`rehash` takes their hashes by id.
    """

    __slots__ = ("size", "ids", "_lows", "_tops")

    def __init__(self, positions: Sequence[int], size: int) -> None:
        self.size = size
        last = size - 1
        tops: dict[int, Nodes] = {}
        lows: dict[int, tuple[int, list[NodeID]]] = {}
        wanted: set[NodeID] = set()
        for index in positions:
            if index in lows:
                continue
            if not 0 <= index < size:
                raise InputError(f"cannot prove inclusion of leaf {index} in a tree of size "
                                 f"{size}")
            inner = (index ^ last).bit_length()
            low = [(level, (index >> level) ^ 1) for level in range(inner - 1)]
            lows[index] = (inner, low)
            wanted.update(low)
            if inner not in tops:
                top, begin, end = _path(index, size, max(inner - 1, 0))
                tops[inner] = Nodes(tuple(top), begin, end)
                wanted.update(top)
        self.ids = sorted(wanted)
        self._lows, self._tops = lows, tops

    def rehash(self, hashes: dict[NodeID, bytes]) -> dict[int, list[bytes]]:
        """The proof of each leaf, given the hash of every id in :attr:`ids` (a missing one
        is an :class:`IntegrityError`: a store that lost nodes)."""
        try:
            tops = {inner: plan.rehash([hashes[node] for node in plan.ids])
                    for inner, plan in self._tops.items()}
            return {index: [hashes[node] for node in low] + tops[inner]
                    for index, (inner, low) in self._lows.items()}
        except KeyError as exc:
            raise IntegrityError(f"no hash for node {exc.args[0]} of an inclusion proof",
                                 remedy="the ledger store is missing nodes; run "
                                        "`affidavit verify ledger`") from None


def consistency_nodes(size1: int, size2: int) -> Nodes:
    """The nodes of the consistency proof from the tree of ``size1`` leaves to that of ``size2``.

    Precondition: ``0 < size1 <= size2``, else :class:`InputError` (RFC 9162 §2.1.4 defines no
    proof from the empty tree). The proof for ``size1 == size2`` is empty.
    """
    if not 0 < size1 <= size2:
        raise InputError(f"no consistency proof from size {size1} to size {size2}")
    if size1 == size2:
        return Nodes(())
    # The largest perfect subtree ending at size1 is in both trees; the proof is that node
    # (unless it is the whole of tree 1, whose root the verifier has) and its inclusion path.
    level = (size1 & -size1).bit_length() - 1
    first = [(level, (size1 >> level) - 1)] if size1 != 1 << level else []
    ids, begin, end = _path(size1 - 1, size2, level)
    return Nodes(tuple(first + ids), begin + len(first), end + len(first))


def root_nodes(size: int) -> list[NodeID]:
    """The perfect subtrees, left to right, along the binary decomposition of ``[0, size)``."""
    if size < 0:
        raise InputError(f"tree size {size} is negative")
    return _decompose(0, size)


def root_from(hashes: Sequence[bytes]) -> bytes:
    """The tree root from the hashes of :func:`root_nodes`, folded right to left.

    The root of the empty tree (no hashes) is :data:`EMPTY_ROOT`.
    """
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def _check_hashes(what: str, hashes: Sequence[bytes]) -> None:
    for i, h in enumerate(hashes):
        if len(h) != HASH_SIZE:
            raise IntegrityError(f"{what} hash {i} has {len(h)} bytes, not {HASH_SIZE}")


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    """Hash ``seed`` up through siblings; bit ``i`` of ``index`` says which side ``proof[i]`` is."""
    for i, sibling in enumerate(proof):
        seed = node_hash(seed, sibling) if index >> i & 1 == 0 else node_hash(sibling, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    """Like :func:`_chain_inner`, skipping right siblings (absent from the smaller tree)."""
    for i, sibling in enumerate(proof):
        if index >> i & 1:
            seed = node_hash(sibling, seed)
    return seed


def _chain_border(seed: bytes, proof: Sequence[bytes]) -> bytes:
    """Hash ``seed`` up the right border, where every sibling is on the left."""
    for sibling in proof:
        seed = node_hash(sibling, seed)
    return seed


def _match(what: str, computed: bytes, expected: bytes) -> None:
    if computed != expected:
        raise RootMismatch(
            f"{what}: computed root {computed.hex()[:16]}… differs from {expected.hex()[:16]}…",
            remedy="the entry, the proof or the checkpoint has been altered",
        )


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root implied by ``proof`` for leaf ``index`` (hash ``leaf_hash``) in a tree of ``size``.

    Raises :class:`IntegrityError` for a malformed proof: ``index`` not in ``[0, size)``, a hash
    that is not 32 bytes, or the wrong number of proof hashes.
    """
    inner = _inclusion_shape(leaf_hash, index, size, proof)
    return _chain_border(_chain_inner(leaf_hash, proof[:inner], index), proof[inner:])


def _inclusion_shape(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> int:
    """Refuse a malformed inclusion proof (see :func:`root_from_inclusion_proof`); the number
    of its siblings below the right border."""
    if not 0 <= index < size:
        raise IntegrityError(f"leaf index {index} is outside a tree of size {size}")
    _check_hashes("leaf", [leaf_hash])
    _check_hashes("inclusion proof", proof)
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    if len(proof) != inner + border:
        raise IntegrityError(
            f"inclusion proof for leaf {index} in a tree of size {size} has {len(proof)} "
            f"hashes, expected {inner + border}"
        )
    return inner


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes,
    proven: dict[NodeID, tuple[bytes, Sequence[bytes]]] | None = None,
) -> None:
    """Check that leaf ``index`` of the tree of ``size`` leaves and ``root`` has ``leaf_hash``.

    ``proven``, shared by the checks of many leaves against one ``size`` and ``root``, holds
    the subtrees below the right border that earlier checks proved, by ``(level, index)``,
    each with the proof that proved it: a path that reaches one with the same hash, and whose
    siblings from there up are that proof's (every leaf under one subtree shares them), is
    proven without hashing them again; the subtrees a path proves are added. Many leaves of
    one read share all but the lowest levels of their paths, so most stop a few hashes up
    instead of at the root -- and every hash of every proof is still checked, so a proof
    kept to hand on (an evidence package carries them) is one that verifies on its own.

    Raises :class:`RootMismatch` when the proof leads to another root (or to another hash of a
    subtree already proven) and :class:`IntegrityError` when it is malformed (see
    :func:`root_from_inclusion_proof`).
    """
    what = f"inclusion of leaf {index} in tree size {size}"
    if proven is None:
        _match(what, root_from_inclusion_proof(leaf_hash, index, size, proof), root)
        return
    inner = _inclusion_shape(leaf_hash, index, size, proof)
    node, passed = leaf_hash, []
    for level in range(inner):
        place = (level, index >> level)
        known = proven.get(place)
        if known is not None:
            _match(what, node, known[0])
            if list(proof[level:]) != list(known[1][level:]):
                raise RootMismatch(f"{what}: its path above level {level} differs from the "
                                   "one its subtree was proven by",
                                   remedy="the entry, the proof or the checkpoint has been "
                                          "altered")
            break
        passed.append((place, node))
        sibling = proof[level]
        node = node_hash(node, sibling) if index >> level & 1 == 0 else node_hash(sibling, node)
    else:
        _match(what, _chain_border(node, proof[inner:]), root)
    for place, digest in passed:
        proven[place] = (digest, proof)


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size1`` leaves and ``root1`` is a prefix of that of ``size2``.

    Preconditions, else :class:`IntegrityError`: ``0 < size1 <= size2`` and a proof of the right
    length (empty when the sizes are equal). Like RFC 9162 §2.1.4 and the reference library, this
    rejects every proof from the empty tree, even ``0 -> 0``: such a proof shows nothing, and a
    caller that has only seen an empty tree has nothing to check. Raises :class:`RootMismatch`
    when either root computed from the proof differs from the one given.
    """
    if not 0 <= size1 <= size2:
        raise IntegrityError(f"no consistency proof from size {size1} to size {size2}")
    if size1 == 0:
        raise IntegrityError("a consistency proof from the empty tree is not defined (RFC 9162)")
    if size1 == size2:
        if proof:
            raise IntegrityError(f"consistency proof between equal sizes {size1} is not empty")
        _match(f"consistency of equal sizes {size1}", root1, root2)
        return
    _check_hashes("consistency proof", proof)
    level = (size1 & -size1).bit_length() - 1
    index = (size1 - 1) >> level
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length() - level
    border = (index >> inner).bit_count()
    # When tree 1 is one perfect subtree, its root is the starting node and not in the proof.
    start = 0 if size1 == 1 << level else 1
    if len(proof) != start + inner + border:
        raise IntegrityError(
            f"consistency proof from size {size1} to {size2} has {len(proof)} hashes, "
            f"expected {start + inner + border}"
        )
    seed = root1 if start == 0 else proof[0]
    path = proof[start:]
    hash1 = _chain_border(_chain_inner_right(seed, path[:inner], index), path[inner:])
    _match(f"consistency from size {size1} (old root)", hash1, root1)
    hash2 = _chain_border(_chain_inner(seed, path[:inner], index), path[inner:])
    _match(f"consistency from size {size1} to {size2} (new root)", hash2, root2)
