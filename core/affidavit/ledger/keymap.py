"""The key map of DESIGN §3.1: a sparse Merkle map from every index key to ``(count, last)``.

Inclusion proofs show that an entry is in the log; only the map shows that nothing filed under a
key is missing. Bytes, exactly as DESIGN §3.1 specifies them (all hashes SHA-256, ``u64`` eight
bytes big-endian):

- ``k = SHA-256(UTF-8(K))``; bit 0 of ``k`` is the most significant bit of ``k[0]``;
- leaf ``SHA-256(0x02 || k || u64(count) || u64(last))``, internal node
  ``SHA-256(0x03 || left || right)``, ``EMPTY`` is 32 zero bytes;
- a subtree holding no key is ``EMPTY``, one key is that key's leaf hash wherever it sits, two or
  more is ``internal(left half, right half)`` split at the next bit;
- a proof at depth ``d`` is the ``d`` siblings from the root to the leaf, deepest first.

This module is the pure part: hashing, proof checks, and :class:`MemoryMap`, the map rebuilt
from a replayed log (``verify ledger``, ``ledger reindex``) that tests also use as the naive
reference. The SQLite store keeps its nodes in ``ledger.sqlite_map``.
"""

from __future__ import annotations

import base64
import binascii

from affidavit.digest import sha256
from affidavit.errors import IntegrityError, RootMismatch

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

__all__ = [
    "EMPTY",
    "KEY_BITS",
    "MapProof",
    "MemoryMap",
    "key_hash",
    "leaf_hash",
    "node_hash",
    "bit",
    "prefix_bytes",
    "root_from_proof",
    "verify_proof",
    "encode_root",
    "decode_root",
]

EMPTY = bytes(32)
"""The hash of a subtree that holds no key, and the root of the empty map."""

KEY_BITS = 256
"""Depth of the trie: the bits of a SHA-256 key hash."""

_LEAF = b"\x02"
_NODE = b"\x03"
_MAX_COUNT = 2**64 - 1


def key_hash(key: str) -> bytes:
    """``k = SHA-256(UTF-8(key))``: where ``key`` sits in the trie."""
    return sha256(key.encode("utf-8")).digest()


def leaf_hash(k: bytes, count: int, last: int) -> bytes:
    """``SHA-256(0x02 || k || u64(count) || u64(last))``."""
    if not (0 < count <= _MAX_COUNT and 0 <= last <= _MAX_COUNT):
        raise IntegrityError(f"key map leaf ({count}, {last}) is out of range")
    return sha256(_LEAF + k + count.to_bytes(8, "big") + last.to_bytes(8, "big")).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x03 || left || right)``."""
    return sha256(_NODE + left + right).digest()


def bit(k: bytes, i: int) -> int:
    """Bit ``i`` of ``k``, bit 0 being the most significant bit of ``k[0]``."""
    return (k[i >> 3] >> (7 - (i & 7))) & 1


def prefix_bytes(k: int, depth: int) -> bytes:
    """The first ``depth`` bits of the 256-bit integer ``k``, as ``ceil(depth / 8)`` bytes with
    the unused low bits zero: the name of the subtree at ``depth`` on ``k``'s path."""
    if depth == 0:
        return b""
    size = (depth + 7) >> 3
    return ((k >> (KEY_BITS - depth)) << (size * 8 - depth)).to_bytes(size, "big")


def encode_root(root: bytes) -> str:
    """The checkpoint extension line carrying the map root: ``map <standard base64>``."""
    return "map " + base64.b64encode(root).decode("ascii")


def decode_root(extensions: Sequence[str]) -> bytes:
    """The map root from a checkpoint's extension lines, which must be exactly one ``map`` line
    in canonical base64 of 32 bytes; anything else is an :class:`IntegrityError`."""
    if len(extensions) != 1 or not extensions[0].startswith("map "):
        raise IntegrityError("checkpoint does not carry exactly one `map` extension line")
    text = extensions[0][4:]
    try:
        root = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        root = b""
    if len(root) != 32 or base64.b64encode(root).decode("ascii") != text:
        raise IntegrityError(f"checkpoint map root {text!r} is not base64 of 32 bytes")
    return root


class MapProof:
    """What the map says about ``key`` at one root: ``count`` entries filed under it (0 when the
    key is absent), the largest index ``last`` among them (None when absent), the ``siblings``
    from the deepest up, and, for an absent key whose walk ends at another key's leaf, that
    leaf as ``other = (key hash, count, last)``."""

    __slots__ = ("key", "count", "last", "siblings", "other")

    def __init__(self, key: str, count: int, last: int | None, siblings: Sequence[bytes],
                 other: tuple[bytes, int, int] | None = None) -> None:
        self.key = key
        self.count = count
        self.last = last
        self.siblings = list(siblings)
        self.other = other

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MapProof) and (
            self.key, self.count, self.last, self.siblings, self.other) == (
            other.key, other.count, other.last, other.siblings, other.other)

    def __hash__(self) -> int:
        return hash((self.key, self.count, self.last))

    def __repr__(self) -> str:
        return (f"MapProof(key={self.key!r}, count={self.count}, last={self.last}, "
                f"depth={len(self.siblings)})")

    def to_json(self) -> dict[str, object]:
        """The item shape of ``proofs/map.json`` (DESIGN §3.1), for a key that is present."""
        return {"key": self.key, "count": self.count, "last": self.last,
                "siblings": [base64.b64encode(s).decode("ascii") for s in self.siblings]}


def root_from_proof(k: bytes, start: bytes, siblings: Sequence[bytes]) -> bytes:
    """Fold ``start`` (the hash at depth ``len(siblings)`` on ``k``'s path) up to the root."""
    if len(siblings) > KEY_BITS:
        raise IntegrityError(f"key map proof has {len(siblings)} siblings, more than "
                             f"{KEY_BITS}")
    # bit i of k for i = depth-1 down to 0, as the low bit of k's top depth bits shifted on:
    # the walk a reader makes for every key it relies on, so no call per level
    bits = int.from_bytes(k, "big") >> (KEY_BITS - len(siblings))
    h = start
    for sibling in siblings:
        if len(sibling) != 32:
            raise IntegrityError(f"key map proof sibling has {len(sibling)} bytes, not 32")
        h = sha256(_NODE + sibling + h if bits & 1 else _NODE + h + sibling).digest()
        bits >>= 1
    return h


def _fold_known(k: bytes, start: bytes, siblings: Sequence[bytes],
                known: dict[tuple[int, int], bytes]) -> bool:
    """Whether ``start`` folds up ``k``'s path to a node of ``known`` (subtree hashes, by
    ``(depth, prefix)``, that earlier proofs folded to the root, the root included) with that
    node's hash, every sibling above it being the known one too; ``known`` learns this
    proof's path and siblings when it does.

    Sound for the same reason a whole fold is: a known hash is the one hash of its subtree
    the root commits to, so meeting it is meeting the root, and the siblings above it are
    compared, not trusted, so a proof that reads well here is whole for whoever copies it."""
    depth = len(siblings)
    if depth > KEY_BITS:
        raise IntegrityError(f"key map proof has {depth} siblings, more than {KEY_BITS}")
    d, kk, h = depth, int.from_bytes(k, "big") >> (KEY_BITS - depth), start
    learned: list[tuple[tuple[int, int], bytes]] = []
    for i, sibling in enumerate(siblings):
        seen = known.get((d, kk))
        if seen is not None:
            if seen != h:
                return False
            for above in siblings[i:]:
                if known.get((d, kk ^ 1)) != above:
                    return False
                d, kk = d - 1, kk >> 1
            known.update(learned)
            return True
        if len(sibling) != 32:
            raise IntegrityError(f"key map proof sibling has {len(sibling)} bytes, not 32")
        learned += (((d, kk), h), ((d, kk ^ 1), sibling))
        h = sha256(_NODE + sibling + h if kk & 1 else _NODE + h + sibling).digest()
        d, kk = d - 1, kk >> 1
    if known.get((0, 0)) != h:
        return False
    known.update(learned)
    return True


def verify_proof(root: bytes, proof: MapProof,
                 known: dict[tuple[int, int], bytes] | None = None) -> None:
    """Check ``proof`` against ``root``: the key's leaf (present) or the walk ending at
    ``EMPTY`` or at another key sharing the path (absent) must fold to ``root``.

    ``known`` (starting as ``{(0, 0): root}``) lets proofs of one root share their work: each
    folds only up to a subtree an earlier one proved (the proofs of a snapshot's 10,000
    fingerprints share their top dozen levels).

    Raises :class:`RootMismatch` when it leads elsewhere, :class:`IntegrityError` when the
    proof is malformed.
    """
    k = key_hash(proof.key)
    depth = len(proof.siblings)
    if depth > KEY_BITS:
        raise IntegrityError(f"key map proof has {depth} siblings, more than {KEY_BITS}")
    if proof.count:
        if proof.last is None or proof.other is not None:
            raise IntegrityError(f"key map proof for {proof.key!r} is malformed")
        start = leaf_hash(k, proof.count, proof.last)
    elif proof.other is None:
        start = EMPTY
    else:
        other_k, count, last = proof.other
        if len(other_k) != 32 or other_k == k or (
                int.from_bytes(k, "big") ^ int.from_bytes(other_k, "big")) >> (KEY_BITS - depth):
            raise IntegrityError(f"key map absence proof for {proof.key!r} names a leaf off "
                                 "the key's path")
        start = leaf_hash(other_k, count, last)
    if known is not None and known.get((0, 0)) != root:
        raise ValueError("the known subtrees are of another root")
    if not (root_from_proof(k, start, proof.siblings) == root if known is None else
            _fold_known(k, start, proof.siblings, known)):
        state = f"count {proof.count}" if proof.count else "absence"
        raise RootMismatch(
            f"key map proof of {proof.key!r} ({state}) does not lead to the signed map root",
            remedy="the index or the key map was altered; run `affidavit verify ledger`")


# -- the map in memory ---------------------------------------------------------------------------


class _Leaf:
    __slots__ = ("k", "count", "last", "hash")

    def __init__(self, k: int, count: int, last: int) -> None:
        self.k = k
        self.count = count
        self.last = last
        self.hash: bytes | None = None


class _Branch:
    """Two or more keys that agree on their first ``split`` bits and differ at bit ``split``."""

    __slots__ = ("split", "rep", "children", "hash")

    def __init__(self, split: int, rep: int, children: list[_Leaf | _Branch]) -> None:
        self.split = split
        self.rep = rep  # any key below: its first `split` bits are the branch's prefix
        self.children = children
        self.hash: bytes | None = None  # internal(child 0, child 1) at depth `split`


def _key_of(node: _Leaf | _Branch) -> int:
    return node.k if isinstance(node, _Leaf) else node.rep


def _first_difference(a: int, b: int) -> int:
    return KEY_BITS - (a ^ b).bit_length()


def _bytes(k: int) -> bytes:
    return k.to_bytes(32, "big")


class MemoryMap:
    """The map held in memory as a compressed (Patricia) trie: inserting or updating a key
    touches its path only, and :meth:`root` rehashes just the paths changed since last time,
    so a replay can compare the root at every checkpoint of a long log."""

    def __init__(self) -> None:
        self._root: _Leaf | _Branch | None = None
        self._items: dict[str, tuple[int, int]] = {}

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> tuple[int, int] | None:
        """``(count, last)`` of ``key``, or None."""
        return self._items.get(key)

    def items(self) -> dict[str, tuple[int, int]]:
        """A copy of every key's ``(count, last)``."""
        return dict(self._items)

    def add(self, key: str, position: int) -> None:
        """File entry ``position`` under ``key``: one more entry, and the last one."""
        count, _ = self._items.get(key, (0, 0))
        self.set(key, count + 1, position)

    def set(self, key: str, count: int, last: int) -> None:
        """Set ``key`` to ``(count, last)``, inserting it if new."""
        self._items[key] = (count, last)
        k = int.from_bytes(key_hash(key), "big")
        leaf = _Leaf(k, count, last)
        if self._root is None:
            self._root = leaf
            return
        parent: _Branch | None = None
        side = 0
        node = self._root
        while True:
            diff = _first_difference(k, _key_of(node))
            if isinstance(node, _Branch) and diff >= node.split:
                node.hash = None
                parent, side = node, (k >> (KEY_BITS - 1 - node.split)) & 1
                node = node.children[side]
                continue
            if isinstance(node, _Leaf) and node.k == k:
                replacement: _Leaf | _Branch = leaf
            else:
                mine = (k >> (KEY_BITS - 1 - diff)) & 1
                pair: list[_Leaf | _Branch] = [node, leaf] if mine else [leaf, node]
                replacement = _Branch(diff, k, pair)
            if parent is None:
                self._root = replacement
            else:
                parent.children[side] = replacement
            return

    def _hash(self, node: _Leaf | _Branch, depth: int) -> bytes:
        """The hash of the subtree at ``depth`` on ``node``'s path, ``node`` being all it holds."""
        if isinstance(node, _Leaf):
            if node.hash is None:
                node.hash = leaf_hash(_bytes(node.k), node.count, node.last)
            return node.hash
        if node.hash is None:
            node.hash = node_hash(self._hash(node.children[0], node.split + 1),
                                  self._hash(node.children[1], node.split + 1))
        h = node.hash
        rep = _bytes(node.rep)
        for i in range(node.split - 1, depth - 1, -1):  # the bits all its keys share
            h = node_hash(h, EMPTY) if bit(rep, i) == 0 else node_hash(EMPTY, h)
        return h

    def root(self) -> bytes:
        """The map root (``EMPTY`` for the empty map)."""
        return EMPTY if self._root is None else self._hash(self._root, 0)

    def prove(self, key: str) -> MapProof:
        """The inclusion or absence proof of ``key`` against :meth:`root`."""
        k = int.from_bytes(key_hash(key), "big")
        kb = _bytes(k)
        siblings: list[bytes] = []
        node = self._root
        depth = 0
        while isinstance(node, _Branch):
            diff = _first_difference(k, node.rep)
            if diff < node.split:
                # The key leaves the branch's shared prefix at bit `diff`: its side is EMPTY,
                # the branch is the sibling there.
                siblings += [EMPTY] * (diff - depth)
                siblings.append(self._hash(node, diff + 1))
                return MapProof(key, 0, None, _deepest_first(siblings))
            siblings += [EMPTY] * (node.split - depth)
            side = bit(kb, node.split)
            siblings.append(self._hash(node.children[1 - side], node.split + 1))
            depth = node.split + 1
            node = node.children[side]
        proof_siblings = _deepest_first(siblings)
        if node is None:
            return MapProof(key, 0, None, [])
        if node.k == k:
            return MapProof(key, node.count, node.last, proof_siblings)
        return MapProof(key, 0, None, proof_siblings, (_bytes(node.k), node.count, node.last))

    def nodes(self) -> Iterator[tuple[int, bytes, bytes]]:
        """``(depth, prefix_bytes, hash)`` of every subtree holding two or more keys: exactly the
        rows a store keeps, so ``verify ledger`` can compare them one for one."""
        stack: list[tuple[_Leaf | _Branch, int]] = [] if self._root is None else [(self._root, 0)]
        while stack:
            node, depth = stack.pop()
            if isinstance(node, _Leaf):
                continue
            h = self._hash(node, node.split)
            rep = _bytes(node.rep)
            chain = [(node.split, h)]
            for i in range(node.split - 1, depth - 1, -1):
                h = node_hash(h, EMPTY) if bit(rep, i) == 0 else node_hash(EMPTY, h)
                chain.append((i, h))
            for d, digest in chain:
                yield d, prefix_bytes(node.rep, d), digest
            stack.extend((child, node.split + 1) for child in node.children)


def _deepest_first(siblings: list[bytes]) -> list[bytes]:
    return siblings[::-1]


def build(items: Iterable[tuple[str, int, int]]) -> MemoryMap:
    """A map of ``(key, count, last)`` items."""
    memory = MemoryMap()
    for key, count, last in items:
        memory.set(key, count, last)
    return memory
