"""The key map (``ledger.keymap``) kept in the embedded ledger's SQLite file.

Two tables: ``map_leaves`` holds every key with its ``(count, last)``, ordered by key hash;
``map_nodes`` holds the hash of every subtree that holds two or more keys, named by
``(depth, prefix)`` (see ``keymap.prefix_bytes``). A subtree missing from ``map_nodes`` holds
at most one key, which one is a range query on ``map_leaves`` away. Nothing else is stored:
about two node rows per key, and an update rewrites only the paths of the keys it changed.

Every function here runs inside the caller's transaction, and trusts nothing it reads: a store
whose rows contradict each other is an :class:`IntegrityError`, and whatever it proves is
checked by the reader against the signed map root anyway.
"""

from __future__ import annotations

from affidavit.errors import IntegrityError
from affidavit.ledger.keymap import (
    EMPTY,
    KEY_BITS,
    MapProof,
    key_hash,
    leaf_hash,
    node_hash,
    prefix_bytes,
)

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator, Mapping

    from affidavit.ledger.keymap import MemoryMap

__all__ = ["SCHEMA", "SQLiteMap"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS map_leaves (
    khash BLOB PRIMARY KEY, key TEXT NOT NULL, count INTEGER NOT NULL, last INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS map_nodes (
    depth INTEGER NOT NULL, prefix BLOB NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (depth, prefix)) WITHOUT ROWID;
"""

_TOP = 1 << KEY_BITS
_CHUNK = 400  # (depth, prefix) pairs per query: 800 bound parameters


def _bounds(depth: int, prefix: int) -> tuple[bytes, bytes | None]:
    """The key-hash range ``[lo, hi)`` of the subtree ``(depth, prefix)``; ``hi`` None at the
    right edge."""
    shift = KEY_BITS - depth
    lo = (prefix << shift).to_bytes(32, "big")
    upper = (prefix + 1) << shift
    return lo, None if upper >= _TOP else upper.to_bytes(32, "big")


class SQLiteMap:
    """The map in one SQLite connection; ``where`` names the database in error messages."""

    def __init__(self, db: sqlite3.Connection, where: str) -> None:
        self.db = db
        self.where = where

    # -- reading single subtrees -------------------------------------------------------------

    def _leaves_in(self, depth: int, prefix: int) -> list[tuple[bytes, int, int]]:
        """At most two leaves of the subtree: enough to tell none, one, or more."""
        lo, hi = _bounds(depth, prefix)
        if hi is None:
            rows = self.db.execute(
                "SELECT khash, count, last FROM map_leaves WHERE khash >= ? ORDER BY khash "
                "LIMIT 2", (lo,))
        else:
            rows = self.db.execute(
                "SELECT khash, count, last FROM map_leaves WHERE khash >= ? AND khash < ? "
                "ORDER BY khash LIMIT 2", (lo, hi))
        return [(bytes(k), int(c), int(last)) for k, c, last in rows]

    def _small(self, depth: int, prefix: int) -> bytes:
        """The hash of a subtree that has no node row: it must hold at most one key."""
        found = self._leaves_in(depth, prefix)
        if len(found) > 1:
            raise IntegrityError(f"ledger {self.where}: the key map lacks the node at depth "
                                 f"{depth} over two or more keys",
                                 remedy="run `affidavit ledger reindex`")
        return leaf_hash(*found[0]) if found else EMPTY

    def _nodes(self, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Stored node hashes of the subtrees ``wanted`` (``(depth, prefix)``), those present."""
        found: dict[tuple[int, int], bytes] = {}
        names = {(d, prefix_bytes(p << (KEY_BITS - d), d)): (d, p) for d, p in wanted}
        pairs = list(names)
        for start in range(0, len(pairs), _CHUNK):
            chunk = pairs[start:start + _CHUNK]
            where = " OR ".join(["(depth = ? AND prefix = ?)"] * len(chunk))
            params = [part for pair in chunk for part in pair]
            for depth, prefix, digest in self.db.execute(
                    f"SELECT depth, prefix, hash FROM map_nodes WHERE {where}", params):
                found[names[(depth, bytes(prefix))]] = bytes(digest)
        return found

    def _hashes(self, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The current hash of each subtree in ``wanted``, stored node or not."""
        found = self._nodes(wanted)
        for d, p in wanted:
            if (d, p) not in found:
                found[(d, p)] = self._small(d, p)
        return found

    def root(self) -> bytes:
        """The current map root."""
        return self._hashes([(0, 0)])[(0, 0)]

    # -- proofs ------------------------------------------------------------------------------

    def prove(self, key: str) -> MapProof:
        """The inclusion or absence proof of ``key`` against :meth:`root`."""
        k = int.from_bytes(key_hash(key), "big")
        # The path's stored nodes say how deep the key's subtree goes: below the deepest one
        # (two or more keys) sits a subtree of at most one key, the key's leaf or not.
        depth = 0
        while True:
            span = [(d, k >> (KEY_BITS - d)) for d in range(depth, min(depth + 64, KEY_BITS))]
            stored = self._nodes(span)
            while (depth, k >> (KEY_BITS - depth)) in stored:
                depth += 1
            if depth < span[-1][0] + 1 or depth >= KEY_BITS:
                break
        siblings_wanted = [(d, (k >> (KEY_BITS - d)) ^ 1) for d in range(1, depth + 1)]
        hashes = self._hashes(siblings_wanted)
        siblings = [hashes[pair] for pair in reversed(siblings_wanted)]
        found = self._leaves_in(depth, k >> (KEY_BITS - depth))
        if len(found) > 1:
            raise IntegrityError(f"ledger {self.where}: the key map lacks a node on the path "
                                 f"of {key!r}", remedy="run `affidavit ledger reindex`")
        if not found:
            return MapProof(key, 0, None, siblings)
        other_k, count, last = found[0]
        if int.from_bytes(other_k, "big") == k:
            return MapProof(key, count, last, siblings)
        return MapProof(key, 0, None, siblings, (other_k, count, last))

    # -- writing -----------------------------------------------------------------------------

    def add(self, filed: Mapping[str, tuple[int, int]]) -> bytes:
        """File more entries: ``filed[key] = (how many new entries, largest new index)``.
        Updates leaves and the nodes on their paths; returns the new root."""
        if not filed:
            return self.root()
        hashes = {key: key_hash(key) for key in filed}
        current: dict[bytes, tuple[int, int]] = {}
        keys = list(hashes.values())
        for start in range(0, len(keys), _CHUNK * 2):
            chunk = keys[start:start + _CHUNK * 2]
            marks = ",".join("?" * len(chunk))
            for khash, count, last in self.db.execute(
                    f"SELECT khash, count, last FROM map_leaves WHERE khash IN ({marks})", chunk):
                current[bytes(khash)] = (int(count), int(last))
        rows = []
        for key, (added, last) in filed.items():
            k = hashes[key]
            count, previous = current.get(k, (0, -1))
            rows.append((k, key, count + added, max(previous, last)))
        self.db.executemany(
            "INSERT INTO map_leaves (khash, key, count, last) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (khash) DO UPDATE SET count = excluded.count, last = excluded.last",
            rows)
        leaves = {int.from_bytes(k, "big"): leaf_hash(k, count, last) for k, _, count, last in rows}
        return self._rehash(leaves)

    def _rehash(self, changed: dict[int, bytes]) -> bytes:
        """Recompute every subtree on the paths of the ``changed`` keys (key -> new leaf hash),
        a level at a time, top down to find the shape, bottom up to hash; write the nodes."""
        levels: list[list[tuple[int, list[int]]]] = []  # per depth: (prefix, changed keys below)
        shape: dict[tuple[int, int], str] = {}  # "node" (two or more keys) or the one key
        frontier: list[tuple[int, list[int]]] = [(0, sorted(changed))]
        depth = 0
        while frontier:
            levels.append(frontier)
            stored = self._nodes([(depth, p) for p, _ in frontier])
            following: list[tuple[int, list[int]]] = []
            for prefix, below in frontier:
                many = (depth, prefix) in stored or len(below) > 1
                if not many:
                    others = [int.from_bytes(k, "big") for k, _, _ in
                              self._leaves_in(depth, prefix)]
                    many = any(other != below[0] for other in others)
                if not many:
                    shape[(depth, prefix)] = "leaf"
                    continue
                if depth >= KEY_BITS:
                    raise IntegrityError(f"ledger {self.where}: two key map keys collide")
                shape[(depth, prefix)] = "node"
                bit_at = KEY_BITS - 1 - depth
                zeros = [k for k in below if not (k >> bit_at) & 1]
                ones = below[len(zeros):]
                for side, group in ((0, zeros), (1, ones)):
                    if group:
                        following.append(((prefix << 1) | side, group))
            frontier = following
            depth += 1
        computed: dict[tuple[int, int], bytes] = {}
        writes: list[tuple[int, bytes, bytes]] = []
        for depth in range(len(levels) - 1, -1, -1):
            siblings = []
            for prefix, _below in levels[depth]:
                if shape[(depth, prefix)] == "node":
                    for side in (0, 1):
                        child = (depth + 1, (prefix << 1) | side)
                        if child not in computed:
                            siblings.append(child)
            known = self._hashes(siblings) if siblings else {}
            for prefix, below in levels[depth]:
                if shape[(depth, prefix)] == "leaf":
                    computed[(depth, prefix)] = changed[below[0]]
                    continue
                left = (depth + 1, prefix << 1)
                right = (depth + 1, (prefix << 1) | 1)
                digest = node_hash(computed.get(left) or known[left],
                                   computed.get(right) or known[right])
                computed[(depth, prefix)] = digest
                writes.append((depth, prefix_bytes(prefix << (KEY_BITS - depth), depth), digest))
        self.db.executemany(
            "INSERT INTO map_nodes (depth, prefix, hash) VALUES (?, ?, ?) "
            "ON CONFLICT (depth, prefix) DO UPDATE SET hash = excluded.hash", writes)
        return computed[(0, 0)]

    # -- whole-map maintenance ---------------------------------------------------------------

    def replace(self, memory: MemoryMap) -> bytes:
        """Drop the stored map and store ``memory`` (rebuilt from the log) instead."""
        from affidavit.ledger.keymap import key_hash as hash_of

        self.db.execute("DELETE FROM map_leaves")
        self.db.execute("DELETE FROM map_nodes")
        rows = sorted((hash_of(key), key, count, last)
                      for key, (count, last) in memory.items().items())
        self.db.executemany("INSERT INTO map_leaves (khash, key, count, last) VALUES "
                            "(?, ?, ?, ?)", rows)
        self.db.executemany("INSERT INTO map_nodes (depth, prefix, hash) VALUES (?, ?, ?)",
                            sorted(memory.nodes()))
        return memory.root()

    def leaves(self) -> Iterator[tuple[bytes, str, int, int]]:
        """Every stored leaf ``(key hash, key, count, last)``, in key-hash order."""
        for khash, key, count, last in self.db.execute(
                "SELECT khash, key, count, last FROM map_leaves ORDER BY khash"):
            yield bytes(khash), str(key), int(count), int(last)

    def nodes(self) -> Iterator[tuple[int, bytes, bytes]]:
        """Every stored node ``(depth, prefix, hash)``, in order."""
        for depth, prefix, digest in self.db.execute(
                "SELECT depth, prefix, hash FROM map_nodes ORDER BY depth, prefix"):
            yield int(depth), bytes(prefix), bytes(digest)
