"""The key map (``ledger.keymap``) kept in the embedded ledger's SQLite file, and, through the
same SQL, in the PostgreSQL ledger's database (``ledger.postgres``).

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

import bisect

from affidavit.errors import IntegrityError
from affidavit.ledger.keymap import (
    EMPTY,
    KEY_BITS,
    MapProof,
    key_hash,
    leaf_hash,
    node_hash,
)

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from typing import Any, Protocol

    from affidavit.ledger.keymap import MemoryMap

    Pair = tuple[int, int]
    AskNodes = Callable[[list[Pair]], dict[Pair, bytes]]
    AskRanges = Callable[[list[Pair], int | None], dict[Pair, list[tuple[bytes, int, int]]]]

    class Statements(Protocol):
        """What the map needs of a connection: ``?`` placeholders, rows as tuples (a
        ``sqlite3.Connection``, or the PostgreSQL ledger's adapter)."""

        def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

        def executemany(self, sql: str, parameters: Any, /) -> Any: ...

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
_FEW = 32  # keys of a batch proof asked every level at once (see prove_many)
_WIDE = 256  # keys of a batch proof from which their paths are walked together (_prove_wide)
_DENSE = 2000  # keys of a batch proof from which the map is counted, to be read whole ...
_DENSE_SHARE = 8  # ... when it holds at most this many keys per key asked ...
_WHOLE = 100_000  # ... and no more than this many (what reading it whole holds in memory)
_NODES_PER_KEY = 8  # ... over at most this many node rows a key (about two in a real map)
_CHUNK = 400  # (depth, prefix) pairs per query: 800 bound parameters
_PREFETCH = 16  # depths of the changed keys' paths read per query by an update (about
                # log2 of the keys: 16 covers 65,000 keys in one query, 4 billion in two)


def _leaf_row(row: Any, where: str) -> tuple[bytes, int, int]:
    """A ``(key hash, count, last)`` leaf row of the types the map stores."""
    khash, count, last = row[-3:]
    if type(khash) is not bytes or len(khash) != 32 or type(count) is not int or (
            type(last) is not int):
        raise IntegrityError(f"ledger {where}: a key map leaf is stored with the wrong types",
                             remedy="run `affidavit ledger reindex`")
    return khash, count, last


def _hash_value(digest: Any, where: str) -> bytes:
    if type(digest) is not bytes or len(digest) != 32:
        raise IntegrityError(f"ledger {where}: a key map node is stored with the wrong type",
                             remedy="run `affidavit ledger reindex`")
    return digest


def _name(depth: int, prefix: int) -> bytes:
    """``keymap.prefix_bytes`` of the subtree ``(depth, prefix)``, from its prefix directly."""
    size = (depth + 7) >> 3
    return (prefix << (size * 8 - depth)).to_bytes(size, "big")


def _bounds(depth: int, prefix: int) -> tuple[bytes, bytes | None]:
    """The key-hash range ``[lo, hi)`` of the subtree ``(depth, prefix)``; ``hi`` None at the
    right edge."""
    shift = KEY_BITS - depth
    lo = (prefix << shift).to_bytes(32, "big")
    upper = (prefix + 1) << shift
    return lo, None if upper >= _TOP else upper.to_bytes(32, "big")


def _ended(key: str, k: int, leaves: list[tuple[bytes, int, int]],
           siblings: list[bytes]) -> MapProof:
    """The proof of ``key`` (hash ``k``) whose path ends in a subtree holding ``leaves`` (one
    at most): the key's own leaf, another key's, or none."""
    if not leaves:
        return MapProof(key, 0, None, siblings)
    other_k, count, last = leaves[0]
    if int.from_bytes(other_k, "big") == k:
        return MapProof(key, count, last, siblings)
    return MapProof(key, 0, None, siblings, (other_k, count, last))


class SQLiteMap:
    """The map in one SQLite connection; ``where`` names the database in error messages."""

    def __init__(self, db: Statements, where: str) -> None:
        self.db = db
        self.where = where
        self.reach = 64
        """Levels of each path a proof's first query asks: the depth the last proof's keys
        ended at, and a few more (see :meth:`prove_many`)."""

    # -- reading subtrees ---------------------------------------------------------------------

    def _ranges(self, wanted: list[tuple[int, int]], limit: int | None = None) -> dict[
            tuple[int, int], list[tuple[bytes, int, int]]]:
        """The leaves of each subtree in ``wanted`` (subtrees expected to hold few keys), the
        first ``limit`` of each when given, read with one query per few hundred subtrees: a
        UNION ALL of range scans, each through the key-hash index (an OR of ranges would make
        SQLite scan the table)."""
        found: dict[tuple[int, int], list[tuple[bytes, int, int]]] = {w: [] for w in wanted}
        names = sorted(set(wanted))
        for start in range(0, len(names), _CHUNK // 2):
            chunk = names[start:start + _CHUNK // 2]
            selects, params = [], []
            for number, (depth, prefix) in enumerate(chunk):
                lo, hi = _bounds(depth, prefix)
                scan = (f"SELECT {number} AS n, khash, count, last FROM map_leaves WHERE "
                        + ("khash >= ?" if hi is None else "khash >= ? AND khash < ?"))
                selects.append(scan if limit is None else
                               f"SELECT * FROM ({scan} ORDER BY khash LIMIT {int(limit)}) "
                               f"AS s{number}")
                params += [lo] if hi is None else [lo, hi]
            for row in self.db.execute(" UNION ALL ".join(selects), params):
                found[chunk[row[0]]].append(_leaf_row(row, self.where))
        return found

    def _smalls(self, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The hashes of subtrees that have no node row: each must hold at most one key."""
        return {name: self._small_hash(name, leaves)
                for name, leaves in self._ranges(wanted).items()}

    def _small_hash(self, name: tuple[int, int], leaves: list[tuple[bytes, int, int]]) -> bytes:
        """The hash of the subtree ``name`` that has no node row, from its ``leaves``: at most
        one, or the store lacks the node over them."""
        if len(leaves) > 1:
            raise IntegrityError(f"ledger {self.where}: the key map lacks the node at depth "
                                 f"{name[0]} over two or more keys",
                                 remedy="run `affidavit ledger reindex`")
        return leaf_hash(*leaves[0]) if leaves else EMPTY

    def _nodes(self, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Stored node hashes of the subtrees ``wanted`` (``(depth, prefix)``), those present."""
        found: dict[tuple[int, int], bytes] = {}
        names = {(d, _name(d, p)): (d, p) for d, p in wanted}
        for depth, prefix, digest in self._node_rows(list(names)):
            found[names[(depth, bytes(prefix))]] = _hash_value(digest, self.where)
        return found

    def _node_rows(self, pairs: list[tuple[int, bytes]]) -> Iterator[tuple[Any, Any, Any]]:
        """The stored ``(depth, prefix, hash)`` rows of the ``(depth, prefix)`` ``pairs``: an
        OR of pairs, a few hundred per query (SQLite plans it as one index probe each)."""
        for start in range(0, len(pairs), _CHUNK):
            chunk = pairs[start:start + _CHUNK]
            where = " OR ".join(["(depth = ? AND prefix = ?)"] * len(chunk))
            params = [part for pair in chunk for part in pair]
            yield from self.db.execute(
                f"SELECT depth, prefix, hash FROM map_nodes WHERE {where}", params)

    def _hashes(self, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The current hash of each subtree in ``wanted``, stored node or not."""
        found = self._nodes(wanted)
        missing = [w for w in wanted if w not in found]
        if missing:
            found.update(self._smalls(missing))
        return found

    def root(self) -> bytes:
        """The current map root."""
        return self._hashes([(0, 0)])[(0, 0)]

    # -- proofs ------------------------------------------------------------------------------

    def prove(self, key: str) -> MapProof:
        """The inclusion or absence proof of ``key`` against :meth:`root`."""
        return self.prove_many([key])[key]

    def _descend(self, hashed: dict[str, int], depth: dict[str, int], todo: list[str],
                 reach: int, seen: dict[tuple[int, int], bytes | None]) -> None:
        """Move each of ``todo``'s ``depth`` down its path past every stored node, asking
        ``reach`` levels of each key per query (again for the keys still going deeper).
        The siblings of those levels are asked in the same query: ``seen`` gets every pair
        asked, with its stored hash or None (no node: a subtree of at most one key)."""
        while todo:
            spans = {key: [(d, hashed[key] >> (KEY_BITS - d))
                           for d in range(depth[key], min(depth[key] + reach, KEY_BITS))]
                     for key in todo}
            asked = {pair for span in spans.values() for d, k in span  # the root has none
                     for pair in ([(d, k), (d, k ^ 1)] if d else [(d, k)]) if pair not in seen}
            stored = self._nodes(list(asked))
            seen.update((pair, stored.get(pair)) for pair in asked)
            deeper = []
            for key in todo:
                k = hashed[key]
                while seen.get((depth[key], k >> (KEY_BITS - depth[key]))) is not None:
                    depth[key] += 1
                if depth[key] >= spans[key][-1][0] + 1 and depth[key] < KEY_BITS:
                    deeper.append(key)
            todo = deeper

    def prove_many(self, keys: Sequence[str]) -> dict[str, MapProof]:
        """:meth:`prove` of each of ``keys``, their paths read together: two queries for a
        few keys (their paths' nodes with their siblings, then the small subtrees beside and
        below them), not a few for each."""
        hashed = {key: int.from_bytes(key_hash(key), "big") for key in dict.fromkeys(keys)}
        if len(hashed) >= _WIDE:
            return self._prove_wide(hashed)
        # A path's stored nodes say how deep its key's subtree goes: below the deepest one
        # (two or more keys) sits a subtree of at most one key, the key's leaf or not. Paths
        # in a map of random key hashes all end within a few levels of one another, so the
        # depth the last proof's keys ended at says how many levels to ask of these: asking
        # all 64 of a few keys in a map of 30,000 asked twice what a server's read needs, and
        # the node probes were a quarter of its time (bench/server_reads.py, PostgreSQL). A
        # path that goes deeper is asked again from where it stopped. A batch of many keys
        # asks its first key alone, and the others by how deep that one went.
        depth = dict.fromkeys(hashed, 0)
        order = list(hashed)
        seen: dict[tuple[int, int], bytes | None] = {}
        if len(order) <= _FEW:
            self._descend(hashed, depth, order, self.reach, seen)
        else:
            self._descend(hashed, depth, order[:1], self.reach, seen)
            self._descend(hashed, depth, order[1:], max(8, depth[order[0]] + 4), seen)
        if depth:
            self.reach = min(64, max(depth.values()) + 6)
        wanted = {key: [(d, (k >> (KEY_BITS - d)) ^ 1) for d in range(1, depth[key] + 1)]
                  for key, k in hashed.items()}
        siblings_wanted = {pair for pairs in wanted.values() for pair in pairs}
        unseen = [pair for pair in siblings_wanted if pair not in seen]
        if unseen:  # not asked with the paths (a key that went deeper than its rounds)
            stored = self._nodes(unseen)
            seen.update((pair, stored.get(pair)) for pair in unseen)
        hashes: dict[tuple[int, int], bytes] = {}
        smalls = []
        for pair in siblings_wanted:
            stored_hash = seen[pair]
            if stored_hash is None:
                smalls.append(pair)
            else:
                hashes[pair] = stored_hash
        ends = [(depth[key], k >> (KEY_BITS - depth[key])) for key, k in hashed.items()]
        # the small siblings and each path's end in one query: none, one, or more keys each
        found = self._ranges(list(dict.fromkeys(ends + smalls)), limit=2)
        for pair in smalls:
            hashes[pair] = self._small_hash(pair, found[pair])
        out = {}
        for key, k in hashed.items():
            siblings = [hashes[pair] for pair in reversed(wanted[key])]
            leaves = found[(depth[key], k >> (KEY_BITS - depth[key]))]
            if len(leaves) > 1:
                raise IntegrityError(f"ledger {self.where}: the key map lacks a node on the "
                                     f"path of {key!r}", remedy="run `affidavit ledger reindex`")
            out[key] = _ended(key, k, leaves, siblings)
        return out

    def _prove_wide(self, hashed: dict[str, int]) -> dict[str, MapProof]:
        """:meth:`prove_many` of many keys, their paths walked together a level at a time.

        Asked key by key, a batch costs each key every level of its path twice over (its
        node and its sibling), though thousands of keys share their top levels: the proofs
        of 10,000 fingerprints of a snapshot named 400,000 pairs to ask 60,000
        (bench/environments.py). Walked together, each subtree on some key's path is split
        once, its keys bisected in a sorted list, and the next level's pairs asked in one
        round; the proofs are then read off one walk down the same subtrees, each key's
        siblings the stack of the walk's other sides. A batch that asks for a large share of
        a map of moderate size reads it whole in two scans instead (:meth:`_whole`): most of
        its subtrees would be asked anyway, a few hundred pairs a query."""
        ordered = sorted((k, key) for key, k in hashed.items())
        ks = [k for k, _ in ordered]
        ask_nodes: AskNodes = self._nodes
        ask_ranges: AskRanges = self._ranges
        if len(ks) >= _DENSE:
            counts = next(iter(self.db.execute(
                "SELECT (SELECT count(*) FROM map_leaves), (SELECT count(*) FROM map_nodes)")),
                (None, None))
            leaf_rows, node_rows = counts
            # nodes too: a store padded with node rows is not read into memory whole
            if type(leaf_rows) is int and type(node_rows) is int and leaf_rows <= min(
                    _WHOLE, _DENSE_SHARE * len(ks)) and node_rows <= _NODES_PER_KEY * leaf_rows:
                ask_nodes, ask_ranges = self._whole()
        # level by level: the subtrees (prefix, lo, hi) on the keys' paths with a stored node
        # (two or more keys below), their children asked together
        stored: dict[tuple[int, int], bytes | None] = {}
        ends: dict[tuple[int, int], tuple[int, int]] = {}  # path ends (no node) -> key range
        root = ask_nodes([(0, 0)]).get((0, 0))
        stored[(0, 0)] = root
        level = [(0, 0, len(ks))] if root is not None else []
        if root is None:
            ends[(0, 0)] = (0, len(ks))
        depth = 0
        while level:
            if depth >= KEY_BITS:
                raise IntegrityError(f"ledger {self.where}: the key map holds a node at depth "
                                     f"{depth} over two or more keys", remedy="run `affidavit "
                                     "ledger reindex`")
            shift = KEY_BITS - depth - 1
            children = []
            for prefix, lo, hi in level:
                split = bisect.bisect_left(ks, (2 * prefix + 1) << shift, lo, hi)
                children.append((2 * prefix, lo, split))
                children.append((2 * prefix + 1, split, hi))
            depth += 1
            found = ask_nodes([(depth, prefix) for prefix, _, _ in children])
            level = []
            for prefix, lo, hi in children:
                digest = found.get((depth, prefix))
                stored[(depth, prefix)] = digest
                if lo < hi:
                    if digest is None:
                        ends[(depth, prefix)] = (lo, hi)
                    else:
                        level.append((prefix, lo, hi))
        self.reach = min(64, max(d for d, _ in ends) + 6)
        # the subtrees without a node, asked as siblings or ending paths: one key at most each
        smalls = [pair for pair, digest in stored.items() if digest is None]
        leaves = ask_ranges(smalls, 2)
        for pair in smalls:
            stored[pair] = self._small_hash(pair, leaves[pair])
        out: dict[str, MapProof] = {}
        stack: list[bytes] = []

        def walk(depth: int, prefix: int, lo: int, hi: int) -> None:
            if (depth, prefix) in ends:
                siblings = stack[::-1]
                end = leaves[(depth, prefix)]
                for k, key in ordered[lo:hi]:
                    out[key] = _ended(key, k, end, siblings)
                return
            split = bisect.bisect_left(ks, (2 * prefix + 1) << (KEY_BITS - depth - 1), lo, hi)
            for child, other, a, b in ((2 * prefix, 2 * prefix + 1, lo, split),
                                       (2 * prefix + 1, 2 * prefix, split, hi)):
                if a < b:
                    stack.append(stored[(depth + 1, other)])  # type: ignore[arg-type]
                    walk(depth + 1, child, a, b)
                    stack.pop()

        walk(0, 0, 0, len(ks))
        return out

    def _whole(self) -> tuple[AskNodes, AskRanges]:
        """:meth:`_nodes` and :meth:`_ranges` answered from the whole map, read in one scan of
        each table: every row is checked as those check the rows they read."""
        nodes: dict[tuple[int, int], bytes] = {}
        for depth, name, digest in self.db.execute("SELECT depth, prefix, hash FROM map_nodes"):
            prefix = (int.from_bytes(name, "big") >> ((-depth) % 8)
                      if type(depth) is int and 0 <= depth < KEY_BITS
                      and isinstance(name, bytes | memoryview)
                      and len(name) == (depth + 7) >> 3 else -1)
            if prefix < 0 or _name(depth, prefix) != name:  # a name no node is stored under
                raise IntegrityError(f"ledger {self.where}: a key map node is stored under a "
                                     "wrong name", remedy="run `affidavit ledger reindex`")
            nodes[(depth, prefix)] = _hash_value(digest, self.where)
        rows = [_leaf_row(row, self.where) for row in self.db.execute(
            "SELECT khash, count, last FROM map_leaves ORDER BY khash")]
        keys = [int.from_bytes(row[0], "big") for row in rows]

        def ask_nodes(wanted: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
            return {pair: nodes[pair] for pair in wanted if pair in nodes}

        def ask_ranges(wanted: list[tuple[int, int]], limit: int | None
                       ) -> dict[tuple[int, int], list[tuple[bytes, int, int]]]:
            found = {}
            for depth, prefix in wanted:
                shift = KEY_BITS - depth
                lo = bisect.bisect_left(keys, prefix << shift)
                hi = bisect.bisect_left(keys, (prefix + 1) << shift, lo)
                found[(depth, prefix)] = rows[lo:hi if limit is None else min(hi, lo + limit)]
            return found

        return ask_nodes, ask_ranges

    # -- writing -----------------------------------------------------------------------------

    def add(self, filed: Mapping[str, tuple[int, int]], expect: bytes) -> bytes:
        """File more entries: ``filed[key] = (how many new entries, largest new index)``.
        Updates leaves and the nodes on their paths; returns the new root.

        ``expect`` is the signed map root the store must hold now: the old root is recomputed
        from exactly the rows the update builds on (the changed keys' old leaves and the
        untouched subtrees beside their paths) and must equal it, so a store whose rows were
        altered below affidavit is refused instead of having its alterations signed.
        """
        if not filed:
            if self.root() != expect:
                raise _not_signed(self.where)
            return expect
        hashes = {key: key_hash(key) for key in filed}
        current: dict[bytes, tuple[int, int]] = {}
        keys = list(hashes.values())
        for start in range(0, len(keys), _CHUNK * 2):
            chunk = keys[start:start + _CHUNK * 2]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                    f"SELECT khash, count, last FROM map_leaves WHERE khash IN ({marks})", chunk):
                khash, count, last = _leaf_row(row, self.where)
                current[khash] = (count, last)
        rows = []
        for key, (added, last) in filed.items():
            k = hashes[key]
            count, previous = current.get(k, (0, -1))
            rows.append((k, key, count + added, max(previous, last)))
        self._put_leaves(rows)
        leaves = {int.from_bytes(k, "big"): leaf_hash(k, count, last) for k, _, count, last in rows}
        before = {int.from_bytes(k, "big"): leaf_hash(k, *old) for k, old in current.items()}
        new_root, old_root = self._rehash(leaves, before)
        if old_root != expect:
            raise _not_signed(self.where)
        return new_root

    def _rehash(self, changed: dict[int, bytes],
                before: dict[int, bytes]) -> tuple[bytes, bytes]:
        """Recompute every subtree on the paths of the ``changed`` keys (key -> new leaf hash)
        and write the nodes that hold two or more keys; return the new root, and the old one
        recomputed along the same paths from ``before`` (the old leaf hash of each changed key
        that existed).

        Top down, :data:`_PREFETCH` levels per query, the walk follows stored nodes (two or
        more keys before this change) until each changed key reaches a subtree without one:
        that subtree held at most one key before, so its leaves now are that key and the
        changed ones below it, all read in one query, and everything below is computed in
        memory. Bottom up, each stored node on the way is rehashed from its children, the
        untouched ones (every level's) read at once.
        """
        path: list[list[tuple[int, list[int]]]] = []  # per depth: stored nodes to rehash
        frontier: list[tuple[int, int, list[int]]] = []  # (depth, prefix, changed below)
        level: list[tuple[int, list[int]]] = [(0, sorted(changed))]
        depth = 0
        stored: set[tuple[int, int]] = set()
        asked = 0  # depths below this are known: their stored nodes are in ``stored``
        while level:
            if depth >= asked:  # the next _PREFETCH depths of every path, in one query
                asked = min(depth + _PREFETCH, KEY_BITS + 1)
                stored |= set(self._nodes(list({
                    (d, k >> (KEY_BITS - d)) for _, below in level for k in below
                    for d in range(depth, asked)})))
            here: list[tuple[int, list[int]]] = []
            following: list[tuple[int, list[int]]] = []
            for prefix, below in level:
                if (depth, prefix) not in stored:
                    frontier.append((depth, prefix, below))
                    continue
                if depth >= KEY_BITS:
                    raise IntegrityError(f"ledger {self.where}: two key map keys collide")
                here.append((prefix, below))
                middle = ((prefix << 1) | 1) << (KEY_BITS - 1 - depth)
                cut = bisect.bisect_left(below, middle)
                for side, group in ((0, below[:cut]), (1, below[cut:])):
                    if group:
                        following.append(((prefix << 1) | side, group))
            path.append(here)
            level = following
            depth += 1
        computed: dict[tuple[int, int], bytes] = {}
        old: dict[tuple[int, int], bytes] = {}
        writes: list[tuple[int, bytes, bytes]] = []
        leaves = self._ranges([(d, p) for d, p, _ in frontier])
        for d, p, below in frontier:
            untouched = {int.from_bytes(k, "big"): leaf_hash(k, c, last)
                         for k, c, last in leaves[(d, p)]}
            for k in below:
                untouched.pop(k, None)
            if len(untouched) > 1:
                raise IntegrityError(f"ledger {self.where}: the key map lacks the node at depth "
                                     f"{d} over two or more keys",
                                     remedy="run `affidavit ledger reindex`")
            items = {**untouched, **{k: changed[k] for k in below}}
            earlier = {**untouched, **{k: before[k] for k in below if k in before}}
            computed[(d, p)] = _subtree(sorted(items.items()), d, p, writes)
            old[(d, p)] = _subtree(sorted(earlier.items()), d, p, None)
        on_path = {(d, p) for d, p, _ in frontier} | {
            (d, p) for d, here in enumerate(path) for p, _ in here}
        beside = [child for d, here in enumerate(path) for p, _ in here
                  for child in ((d + 1, p << 1), (d + 1, (p << 1) | 1)) if child not in on_path]
        known = self._hashes(beside) if beside else {}  # every level's at once
        for depth in range(len(path) - 1, -1, -1):
            for prefix, _ in path[depth]:
                left, right = (depth + 1, prefix << 1), (depth + 1, (prefix << 1) | 1)
                digest = node_hash(computed.get(left) or known[left],
                                   computed.get(right) or known[right])
                computed[(depth, prefix)] = digest
                old[(depth, prefix)] = node_hash(old.get(left) or known[left],
                                                 old.get(right) or known[right])
                writes.append((depth, _name(depth, prefix), digest))
        self._put_nodes(writes)
        return computed[(0, 0)], old[(0, 0)]

    def _put_leaves(self, rows: list[tuple[bytes, str, int, int]]) -> None:
        """Store leaf rows ``(key hash, key, count, last)``, each key hash at most once."""
        self.db.executemany(
            "INSERT INTO map_leaves (khash, key, count, last) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (khash) DO UPDATE SET key = excluded.key, count = excluded.count, "
            "last = excluded.last", rows)

    def _put_nodes(self, rows: list[tuple[int, bytes, bytes]]) -> None:
        """Store node rows ``(depth, prefix, hash)``, each ``(depth, prefix)`` at most once."""
        self.db.executemany(
            "INSERT INTO map_nodes (depth, prefix, hash) VALUES (?, ?, ?) "
            "ON CONFLICT (depth, prefix) DO UPDATE SET hash = excluded.hash", rows)

    # -- whole-map maintenance ---------------------------------------------------------------

    def replace(self, memory: MemoryMap) -> bytes:
        """Drop the stored map and store ``memory`` (rebuilt from the log) instead."""
        self.db.execute("DELETE FROM map_leaves")
        self.db.execute("DELETE FROM map_nodes")
        rows = sorted((key_hash(key), key, count, last)
                      for key, (count, last) in memory.items().items())
        self.db.executemany("INSERT INTO map_leaves (khash, key, count, last) VALUES "
                            "(?, ?, ?, ?)", rows)
        self.db.executemany("INSERT INTO map_nodes (depth, prefix, hash) VALUES (?, ?, ?)",
                            sorted(memory.nodes()))
        return memory.root()

    def leaves(self, after: bytes, limit: int) -> Iterator[tuple[bytes, str, int, int]]:
        """The first ``limit`` stored leaves ``(key hash, key, count, last)`` whose key hash
        follows ``after``, in key-hash order."""
        for row in self.db.execute("SELECT khash, key, count, last FROM map_leaves WHERE "
                                   "khash > ? ORDER BY khash LIMIT ?", (after, limit)):
            khash, count, last = _leaf_row((row[0], row[2], row[3]), self.where)
            if type(row[1]) is not str:
                raise IntegrityError(f"ledger {self.where}: a key map leaf's key is not text")
            yield khash, row[1], count, last

    def nodes(self, after: tuple[int, bytes], limit: int) -> Iterator[tuple[int, bytes, bytes]]:
        """The first ``limit`` stored nodes ``(depth, prefix, hash)`` that follow ``after``
        ``(depth, prefix)``, in that order."""
        for depth, prefix, digest in self.db.execute(
                "SELECT depth, prefix, hash FROM map_nodes WHERE (depth, prefix) > (?, ?) "
                "ORDER BY depth, prefix LIMIT ?", (*after, limit)):
            if type(depth) is not int or type(prefix) is not bytes:
                raise IntegrityError(f"ledger {self.where}: a key map node is stored with the "
                                     "wrong types", remedy="run `affidavit ledger reindex`")
            yield depth, prefix, _hash_value(digest, self.where)


def _not_signed(where: str) -> IntegrityError:
    return IntegrityError(f"ledger {where}: the stored key map is not the one its latest "
                          "checkpoint signs; refusing to build on it",
                          remedy="run `affidavit verify ledger`")


def _subtree(items: list[tuple[int, bytes]], depth: int, prefix: int,
             writes: list[tuple[int, bytes, bytes]] | None) -> bytes:
    """The hash of the subtree ``(depth, prefix)`` holding exactly ``items`` (key, leaf hash),
    sorted; every sub-subtree of two or more keys is added to ``writes`` unless it is None."""
    if not items:
        return EMPTY
    if len(items) == 1:
        return items[0][1]
    if depth >= KEY_BITS:
        raise IntegrityError("two key map keys collide")
    middle = ((prefix << 1) | 1) << (KEY_BITS - 1 - depth)
    cut = bisect.bisect_left(items, (middle, b""))
    digest = node_hash(_subtree(items[:cut], depth + 1, prefix << 1, writes),
                       _subtree(items[cut:], depth + 1, (prefix << 1) | 1, writes))
    if writes is not None:
        writes.append((depth, _name(depth, prefix), digest))
    return digest
