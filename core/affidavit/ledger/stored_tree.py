"""Appends and proofs over stored tree nodes, written once for every backend that stores them.

A backend that stores the tree's leaves and nodes the same way (the SQLite and PostgreSQL
ones: a node every ``STRIDE`` levels, folded up by ``_fetch``) appends, proves roots,
inclusion and consistency with the same code; its own are the few statements that open,
fill and commit a transaction, and reading nodes.

An append integrates a *batch* of pending appends in one transaction with one signed
checkpoint: that is how a server takes the appends of many writers at once (one durable
commit, one signature, one key map update for all of them, DESIGN §4), and a single append is
a batch of one. Each writer's ``after`` is checked on its own, so one writer whose head was
rolled back is refused without failing the others.
"""

from __future__ import annotations

from affidavit import canonical
from affidavit.errors import AffidavitError, IntegrityError
from affidavit.ledger import Appended, KeyedRead, Pending, index, proof, rfc6962
from affidavit.ledger import checkpoint as ckpt
from affidavit.ledger.compact import CompactRange
from affidavit.ledger.paging import paged

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Sequence
    from typing import Any

    from affidavit.ledger.keymap import MapProof

__all__ = ["StoredTree", "STRIDE", "REPLAY_WINDOW"]

#: Levels whose perfect-subtree hashes are stored: multiples of STRIDE (level 0 in ``entries``).
STRIDE = 4
#: The lowest level whose subtrees the cache keeps (``cache_subtrees``): a subtree of 16 entries
#: or more is on the paths of every proof of an entry under it; the ones below are mostly one
#: proof's own, and keeping them would only churn the cache of a large log.
CACHED_LEVEL = 4
#: How far past its ``after`` a retried append is looked for (entries); beyond, it is new.
REPLAY_WINDOW = 1000
_INDEX_CHUNK = 10_000  # index rows written at a time by a reindex
_MAP_PAGE = 1000  # key map rows read per query by an audit
_WARM_BLOCKS = 4096  # blocks read at a time when the block cache is filled at start
#: Where each level below STRIDE starts in a block (:func:`_block`), in hashes.
_BLOCK_OFFSETS = [sum(1 << (STRIDE - k) for k in range(level)) for level in range(STRIDE)]




def _block(leaves: list[bytes]) -> bytes:
    """A block's ``2**STRIDE`` leaf hashes with every node above them below its root, level
    by level from the leaves up, as one string of hashes."""
    out, row = list(leaves), leaves
    while len(row) > 2:
        row = [rfc6962.node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
        out.extend(row)
    return b"".join(out)


class StoredTree:
    """Mixin: ``append``/``append_batch``, ``root``, ``inclusion_proof(s)``,
    ``consistency_proof`` over a backend's ``_fetch`` and transaction hooks."""

    where: str
    blobs: Any

    def _init(self) -> Any:
        raise NotImplementedError

    def _writer(self) -> Any:
        raise NotImplementedError

    def _size(self) -> int:
        raise NotImplementedError

    _maps: tuple[Any, Any] | None = None

    @property
    def _map(self) -> Any:
        """The key map on the current connection (``_db``): one object while the connection
        lasts, so what it learns of the map's depth (``SQLiteMap.reach``) carries to the next
        read."""
        db = self._db
        if self._maps is None or self._maps[0] is not db:
            self._maps = (db, self._new_map(db))
        return self._maps[1]

    @property
    def _db(self) -> Any:
        raise NotImplementedError

    def _new_map(self, db: Any) -> Any:
        """The key map (``ledger.sqlite_map``) on connection ``db``."""
        raise NotImplementedError

    def read(self, start: int, end: int) -> Any:
        raise NotImplementedError

    def _latest_checkpoint(self) -> tuple[int, str] | None:
        """``(size, note)`` of the stored checkpoint of the largest size."""
        raise NotImplementedError

    def _begin_append(self) -> None:
        """Begin the transaction an append writes in, holding the ledger's write lock."""
        raise NotImplementedError

    def _store(self, first: int, leaves: list[bytes], entries: list[bytes],
               nodes: list[tuple[int, int, bytes]]) -> None:
        """Write the entries (with their leaf hashes) from position ``first``, and the tree
        nodes they complete."""
        raise NotImplementedError

    def _store_checkpoint(self, size: int, signed: str) -> None:
        raise NotImplementedError

    def _commit_append(self) -> None:
        raise NotImplementedError

    def _store_index(self, rows: list[tuple[str, int]]) -> None:
        raise NotImplementedError

    def _clear_index(self) -> None:
        raise NotImplementedError

    def _ensure_indexes(self) -> None:
        """Add the storage's indexes a ledger made by an older version lacks (reindex)."""

    def snapshot(self) -> Any:
        raise NotImplementedError

    def lookup(self, key: str) -> list[int]:
        raise NotImplementedError

    def keys(self, prefix: str) -> list[str]:
        raise NotImplementedError

    def entries_at(self, positions: Sequence[int]) -> dict[int, bytes]:
        raise NotImplementedError

    def _abort_append(self) -> None:
        raise NotImplementedError

    def _recovered(self, exc: BaseException, size: int, signed: str) -> bool:
        """After a COMMIT that failed with ``exc``: whether it committed all the same."""
        return False

    # -- writing ------------------------------------------------------------------------------

    def append(
        self, entries: Sequence[bytes], decoded: Sequence[dict[str, Any]] | None = None,
        *, after: tuple[int, bytes] | None = None, evidence: Any = None,
    ) -> Appended:
        """Append ``entries`` in one transaction: tree nodes, index rows, key map, and a
        checkpoint for the new size signed over both roots.

        ``decoded``, when given, MUST be ``[canonical.loads(e) for e in entries]``: callers that
        built the entries have them at hand and spare the parse. ``after``, the ``(size,
        root)`` of the head the caller proved, must be extended by the log found inside the
        transaction: a log rolled back (or rewritten) since is refused before anything is
        signed, so an honest writer never signs a fork.

        ``evidence`` (from ``self.blobs.incoming()``) is placed in the vault after every row
        is written, just before the commit, while this writer holds the write lock, and
        removed again when the commit fails: see :class:`affidavit.ledger.blobs.Incoming` for
        why that order, and not after the commit.
        """
        (done,) = self.append_batch([Pending(list(entries), None if decoded is None
                                             else list(decoded), after=after,
                                             evidence=evidence)])
        if isinstance(done, AffidavitError):
            try:  # raised afresh, and let go of: no cycle through the batch's frame keeps
                raise done.with_traceback(None)  # this handle (and its files) alive
            finally:
                del done
        return done

    def append_batch(self, pending: Sequence[Pending]) -> list[Appended | AffidavitError]:
        """Integrate several appends in one transaction, in order, under one new checkpoint:
        per append, where its entries went, or the :class:`IntegrityError` refusing it alone
        (its log no longer extends its ``after``). Anything else failing fails them all, and
        nothing is written."""
        for part in pending:
            if part.evidence is not None and getattr(part.evidence, "store", None) is not (
                    self.blobs):
                raise ValueError("evidence must be a batch of this ledger's own vault")
            if part.decoded is None:
                part.decoded = [canonical.loads(data) for data in part.entries]
            if len(part.decoded) != len(part.entries):
                raise ValueError("decoded must hold one item per entry")
        meta = self._init()
        signer = self._writer()
        self._begin_append()
        placing: list[Any] = []
        committing = False
        new_size, signed = 0, ""
        try:
            size = self._size()
            head, signed = self._signed_head(size, signer.verifier)
            new_size = size
            rng = CompactRange.from_hashes(size, self._fetch(proof.root_nodes(size)))
            if rng.root() != head.root:
                raise IntegrityError(
                    f"ledger {self.where}: the stored tree does not hash to the root its latest "
                    "checkpoint signs; refusing to build on it",
                    remedy="run `affidavit verify ledger`")
            firsts: list[int | AffidavitError] = []
            taken: list[bytes] = []
            replays = _Replays(self, pending, size)
            decoded: list[dict[str, Any]] = []
            refused: dict[tuple[int, bytes], IntegrityError | None] = {}  # per head proved
            for part in pending:
                if part.after is not None:
                    if part.after not in refused:  # writers of one head: one proof
                        try:
                            self._check_extends(part.after, head)
                            refused[part.after] = None
                        except IntegrityError as exc:
                            refused[part.after] = exc.with_traceback(None)
                    error = refused[part.after]
                    if error is not None:
                        firsts.append(error)
                        continue
                    if part.once:
                        went = replays.find(part)
                        if went is not None:
                            firsts.append(went)
                            continue
                firsts.append(size + len(taken))
                taken.extend(part.entries)
                replays.taken(part.entries)
                decoded.extend(part.decoded or ())
                if part.evidence is not None:
                    placing.append(part.evidence)
            if taken:
                new_size, signed = self._integrate(meta, signer, head, rng, taken, decoded)
                for batch in placing:
                    batch.place()
                committing = True
                self._commit_append()
            else:  # every append was a retry already in, or refused: nothing to sign
                self._abort_append()
        except BaseException as exc:
            if not (committing and self._recovered(exc, new_size, signed)):
                for batch in placing:
                    batch.undo()
                self._abort_append()
                raise
        return [went if isinstance(went, AffidavitError) else
                Appended(first=went, size=new_size, checkpoint=signed) for went in firsts]

    def _integrate(self, meta: dict[str, str], signer: Any, head: ckpt.Checkpoint,
                   rng: CompactRange, entries: list[bytes], decoded: list[dict[str, Any]],
                   ) -> tuple[int, str]:
        """Write ``entries`` after ``head`` inside the open transaction: rows, stored nodes,
        index rows, key map, and the checkpoint signing both roots; its size and note."""
        from affidavit.ledger import keymap

        size = head.size
        leaves = rfc6962.leaf_hashes(entries)
        nodes: list[tuple[int, int, bytes]] = []

        def visit(level: int, idx: int, digest: bytes) -> None:
            if level and not level % STRIDE:
                nodes.append((level, idx, digest))

        rng.extend(leaves, visit)
        keys_of = index.keys
        rows = [(key, position) for position, entry in enumerate(decoded, size)
                for key in keys_of(entry)]
        filed: dict[str, tuple[int, int]] = {}
        for key, position in rows:  # positions ascend: the last one seen is the latest
            count, _ = filed.get(key, (0, 0))
            filed[key] = (count + 1, position)
        rows.sort()  # B-tree inserts in key order touch each page once
        self._store(size, leaves, entries, nodes)
        self._store_index(rows)
        map_root = self._map.add(filed, keymap.decode_root(head.extensions))
        new_size = size + len(entries)
        text = ckpt.Checkpoint(meta["origin"], new_size, rng.root(),
                               (keymap.encode_root(map_root),)).to_text()
        signed = str(signer.sign(text))
        self._store_checkpoint(new_size, signed)
        return new_size, signed

    def _check_extends(self, after: tuple[int, bytes], head: ckpt.Checkpoint) -> None:
        """Inside the write transaction: the log must still extend the head the writer proved
        (no rollback, no rewrite since), checked with a consistency proof from the store."""
        size, root = after
        if head.size < size:
            raise IntegrityError(
                f"ledger {self.where} went back from size {size} to {head.size} while this "
                "write was being prepared: history was rolled back; nothing was signed",
                remedy="run `affidavit verify ledger`")
        if size == head.size:
            same = root == head.root
        elif size == 0:
            same = True
        else:
            try:
                proof.verify_consistency(size, head.size, self._consistency(size, head.size),
                                         root, head.root)
                same = True
            except IntegrityError:
                same = False
        if not same:
            raise IntegrityError(
                f"ledger {self.where} no longer extends the size {size} this write proved: "
                "history was rewritten; nothing was signed", remedy="run `affidavit verify ledger`")

    def _signed_head(self, size: int, verifier: Any) -> tuple[ckpt.Checkpoint, str]:
        """The latest checkpoint and its note, which must be signed by this ledger's key, of
        its origin, and cover exactly its ``size`` entries: appending onto anything else would
        sign over a truncated, padded or altered history."""
        from affidavit.ledger import note

        latest = self._latest_checkpoint()
        if latest is None:
            raise IntegrityError(f"ledger {self.where} has no signed checkpoint",
                                 remedy="run `affidavit verify ledger`")
        stored, text = latest
        try:
            head = ckpt.Checkpoint.parse(note.open_note(text, [verifier]))
        except IntegrityError as exc:
            raise IntegrityError(f"ledger {self.where}: its latest checkpoint: {exc.message}",
                                 remedy="run `affidavit verify ledger`") from None
        if head.size != size or stored != size or head.origin != self._init()["origin"]:
            raise IntegrityError(
                f"ledger {self.where} holds {size} entries but its latest checkpoint is for "
                f"{head.size}",
                remedy="the log was truncated or extended outside affidavit; run "
                       "`affidavit verify ledger`")
        return head, text

    # -- reads and maintenance -----------------------------------------------------------------

    def read_many(self, keys: Sequence[str], size: int, *, entries: bool = True,
                  held: Collection[int] = ()) -> KeyedRead:
        """:meth:`lookup`, :meth:`map_proof`, :meth:`entries_at` and :meth:`inclusion_proofs`
        of ``keys`` (the last two only with ``entries``, and not of the positions ``held``),
        inside one snapshot."""
        unique = list(dict.fromkeys(keys))
        with self.snapshot():
            if entries:
                positions, data = self._keyed_entries(unique, size, held)
            else:
                positions, data = self._lookup_many(unique), {}
            proofs = self._map.prove_many(list(positions))
            return KeyedRead(size=size, positions=positions, proofs=proofs, entries=data,
                             inclusion=self.inclusion_proofs(sorted(data), size))

    def keys_many(self, prefixes: Sequence[str]) -> dict[str, list[str]]:
        """:meth:`keys` of each of ``prefixes``, inside one snapshot."""
        with self.snapshot():
            return {prefix: self.keys(prefix) for prefix in dict.fromkeys(prefixes)}

    def _keyed_entries(self, keys: list[str], size: int, held: Collection[int] = ()
                       ) -> tuple[dict[str, list[int]], dict[int, bytes]]:
        """:meth:`_lookup_many` of ``keys`` and :meth:`entries_at` of their positions below
        ``size`` but those ``held``; a backend whose every query is a round trip joins them."""
        positions = self._lookup_many(keys)
        return positions, self.entries_at(sorted(
            {p for found in positions.values() for p in found
             if 0 <= p < size and p not in held}))

    def _lookup_many(self, keys: list[str]) -> dict[str, list[int]]:
        """:meth:`lookup` of each of ``keys``; a backend whose every query is a round trip
        asks for all of them in one."""
        return {key: self.lookup(key) for key in keys}

    def map_proof(self, key: str) -> MapProof:
        """The key map's proof for ``key`` (present or absent) against the latest map root."""
        self._init()
        result: MapProof = self._map.prove(key)
        return result

    def map_leaves(self, after: bytes | None = None) -> Iterator[tuple[bytes, str, int, int]]:
        """Every stored map leaf after ``after``, a page per query (an audit of a large map
        holds no more than a page of it at a time)."""
        self._init()
        return paged(lambda last: list(self._map.leaves(last, _MAP_PAGE)),
                     b"" if after is None else after, _MAP_PAGE, lambda row: row[0])

    def map_nodes(self, after: tuple[int, bytes] | None = None
                  ) -> Iterator[tuple[int, bytes, bytes]]:
        """Every stored map node after ``after``, a page per query."""
        self._init()
        return paged(lambda last: list(self._map.nodes(last, _MAP_PAGE)),
                     (-1, b"") if after is None else after, _MAP_PAGE, lambda row: row[:2])

    def verifier_key(self) -> str:
        """Signed-note verifier key for this ledger's checkpoints."""
        return str(self._init()["verifier_key"])

    def origin(self) -> str:
        """The checkpoint origin line."""
        return str(self._init()["origin"])

    def reindex(self) -> int:
        """Rebuild the index and the key map from the log under the write lock, checking every
        leaf on the way; refused (and rolled back) unless the log still hashes to the latest
        signed tree root and the rebuilt map to its signed map root."""
        from affidavit.ledger import keymap, note

        self._init()
        self._begin_append()
        try:
            size = self._size()
            head, _ = self._signed_head(size, note.Verifier.from_key(self.verifier_key()))
            self._ensure_indexes()
            self._clear_index()
            memory = keymap.MemoryMap()
            rng = CompactRange()
            rows: list[tuple[str, int]] = []
            count = 0
            for position, data in self.read(0, size):
                rng.append(rfc6962.leaf_hash(data))
                for key in index.keys(canonical.loads(data)):
                    rows.append((key, position))
                    memory.add(key, position)
                if len(rows) >= _INDEX_CHUNK:
                    self._store_index(rows)
                    rows = []
                count += 1
            self._store_index(rows)
            if rng.root() != head.root:
                raise IntegrityError(f"ledger {self.where}: the entries do not hash to the "
                                     "signed tree root", remedy="run `affidavit verify ledger`")
            if self._map.replace(memory) != keymap.decode_root(head.extensions):
                raise IntegrityError(
                    f"ledger {self.where}: the key map rebuilt from the log differs from the "
                    "signed map root", remedy="run `affidavit verify ledger`")
            self._commit_append()
        except BaseException:
            self._abort_append()
            raise
        return count

    # -- proofs -------------------------------------------------------------------------------

    def _check_size(self, size: int) -> None:
        raise NotImplementedError

    def _fetch(self, ids: Sequence[tuple[int, int]]) -> list[bytes]:
        raise NotImplementedError

    def cache_subtrees(self, limit: int = 500_000, blocks: int = 1 << 17) -> None:
        """Keep the hashes of perfect subtrees of :data:`CACHED_LEVEL` and up this handle
        proves with, up to ``limit`` of them (about 120 bytes each, 60 MB at most; 1M entries
        have some 127,000 such subtrees): a complete subtree of an append-only log never
        changes, and they are on every proof's path, so a long-lived reader (the server)
        stops reading and rehashing them for each request. The stored levels are read in at
        once, from the top down as far as half the limit allows, with the levels between
        them folded from them, so that the first requests after a start are as fast as the
        rest; what is met later is kept as it is met, and let go of, all of it but those
        first levels, when the limit is reached.

        Below them, up to ``blocks`` whole blocks (the ``2**STRIDE`` leaves under a stored
        node and every node between, :func:`_block`; 1.1 kB each, so the default holds the
        bottom of a 2M-entry log in some 140 MB): every proof's lowest ``STRIDE`` siblings
        are in its leaf's block, and they are what a proof of a large log otherwise reads
        from storage and rehashes each time, one block per proof. They are read in and
        hashed at start like the subtrees, when they fill at most half of ``blocks`` (about
        a second for 1M entries; hashing each block at its first proof instead left the
        first thousand reads of a fresh server 1.5x slower).

        Never for a writer, nor for a handle that must notice storage altered below it
        between calls: a cached hash is what the storage said when first read, and the CLI's
        proofs (checked against the signed roots) are what catch a store that changed since."""
        self._init()
        size = self._size()
        warm: dict[tuple[int, int], bytes] = {}
        for level in range(STRIDE * (size.bit_length() // STRIDE), 0, -STRIDE):
            if len(warm) + 2 * (size >> level) > limit // 2:
                break
            row = dict(self._stored_level(level))
            warm.update(((level, idx), digest) for idx, digest in row.items())
            for up in range(level + 1, level + STRIDE):  # the levels between, folded
                pairs = sorted(i >> 1 for i in row if i & 1 and i - 1 in row)
                row = {i: rfc6962.node_hash(row[2 * i], row[2 * i + 1]) for i in pairs}
                warm.update(((up, idx), digest) for idx, digest in row.items())
        self._subtrees = warm
        self._subtree_warm = len(warm)
        self._subtree_limit = limit
        self._blocks = {}
        self._block_limit = blocks
        whole = size >> STRIDE
        if whole <= blocks // 2:
            for first in range(0, whole, _WARM_BLOCKS):
                last = min(first + _WARM_BLOCKS, whole)
                self._keep_blocks(range(first, last), self._leaf_range(first << STRIDE,
                                                                       last << STRIDE))
        self._block_warm = len(self._blocks)

    _subtrees: dict[tuple[int, int], bytes] | None = None
    _subtree_warm = 0
    _subtree_limit = 0
    _blocks: dict[int, bytes] | None = None
    _block_warm = 0
    _block_limit = 0

    def _stored_level(self, level: int) -> Any:
        """``(idx, hash)`` of every stored node of ``level`` (a multiple of STRIDE)."""
        raise NotImplementedError

    def _leaf_range(self, start: int, end: int) -> list[bytes]:
        """The stored leaf hashes of entries ``[start, end)``, in order (all of them there:
        a gap is an :class:`IntegrityError`)."""
        raise NotImplementedError

    def _keep_blocks(self, numbers: range, leaves: list[bytes]) -> None:
        cache = self._blocks
        assert cache is not None
        if len(cache) + len(numbers) > self._block_limit:
            import itertools  # start over from the blocks read in at first, as for subtrees

            cache = self._blocks = dict(itertools.islice(cache.items(), self._block_warm))
        if len(cache) + len(numbers) <= self._block_limit:
            width = 1 << STRIDE
            for n, block in zip(numbers, range(0, len(leaves), width), strict=True):
                row = leaves[block:block + width]
                if any(len(leaf) != 32 for leaf in row):
                    raise IntegrityError(f"ledger {self.where}: a leaf hash of entries "
                                         f"{n << STRIDE}-{((n + 1) << STRIDE) - 1} is not "
                                         "32 bytes")
                cache[n] = _block(row)

    def _low_nodes(self, ids: list[tuple[int, int]], size: int) -> dict[tuple[int, int], bytes]:
        """The nodes among ``ids`` below :data:`STRIDE` in whole blocks of the tree of
        ``size``, from the block cache (blocks not in it read first, one range each)."""
        cache = self._blocks
        if cache is None:
            return {}
        whole = size >> STRIDE
        low = [(level, idx, idx >> (STRIDE - level)) for level, idx in ids if level < STRIDE]
        low = [item for item in low if item[2] < whole]
        # not ``set - cache.keys()``: that walks every key of the cache (a 1M-entry
        # ledger's 62,500 blocks) to ask after a hundred
        for n in sorted({number for _, _, number in low if number not in cache}):
            self._keep_blocks(range(n, n + 1),
                              self._leaf_range(n << STRIDE, (n + 1) << STRIDE))
        cache = self._blocks
        assert cache is not None
        out = {}
        for level, idx, number in low:
            block = cache.get(number)
            if block is None:  # the cache started over: read again with the rest
                continue
            at = (_BLOCK_OFFSETS[level] + (idx & ((1 << (STRIDE - level)) - 1))) * 32
            out[(level, idx)] = block[at:at + 32]
        return out

    def _proof_nodes(self, ids: Sequence[tuple[int, int]], size: int = 0) -> list[bytes]:
        """``_fetch(ids)`` through the subtree and block caches, when they are on (blocks only
        for whole ones in the tree of ``size``)."""
        cache = self._subtrees
        if cache is None:
            return self._fetch(ids)
        missing = list(dict.fromkeys(i for i in ids if i not in cache))
        if not missing:
            return [cache[i] for i in ids]
        found = self._low_nodes(missing, size)
        for level, idx in missing:  # a node over cached ones is folded from them, not read
            up = level % STRIDE
            if level > up:
                below = [cache.get((level - up, j)) for j in range(idx << up, (idx + 1) << up)]
                if None not in below:
                    found[(level, idx)] = rfc6962.fold(below)  # type: ignore[arg-type]
        if found:
            missing = [i for i in missing if i not in found]
        found.update(zip(missing, self._fetch(missing), strict=True))
        answer = [found[i] if i in found else cache[i] for i in ids]
        # below CACHED_LEVEL, only the nodes of the last, partial block: few, and on the
        # right border every proof at this size takes (a whole block's are in the blocks)
        whole = size >> STRIDE
        kept = {i: h for i, h in found.items()
                if i[0] >= CACHED_LEVEL or (i[0] < STRIDE and i[1] >> (STRIDE - i[0]) >= whole)}
        if len(cache) + len(kept) > self._subtree_limit:
            # start over from the levels read in at first (a dict keeps its order): cheaper
            # than tracking recency on every hit
            import itertools

            cache = self._subtrees = dict(itertools.islice(cache.items(), self._subtree_warm))
        if len(cache) + len(kept) <= self._subtree_limit:
            cache.update(kept)
        return answer

    def _consistency(self, size1: int, size2: int) -> list[bytes]:
        nodes = proof.consistency_nodes(size1, size2)
        return nodes.rehash(self._proof_nodes(nodes.ids, size2))

    def root(self, size: int) -> bytes:
        """Merkle root of the first ``size`` entries."""
        self._init()
        self._check_size(size)
        return proof.root_from(self._proof_nodes(proof.root_nodes(size), size))

    def inclusion_proof(self, index_: int, size: int) -> list[bytes]:
        """Audit path of entry ``index_`` in the tree of ``size``."""
        return self.inclusion_proofs([index_], size)[index_]

    def inclusion_proofs(self, positions: Sequence[int], size: int) -> dict[int, list[bytes]]:
        """Audit paths of several entries in the tree of ``size``, read in one pass."""
        self._init()
        self._check_size(size)
        batch = proof.InclusionBatch(positions, size)
        return batch.rehash(dict(zip(batch.ids, self._proof_nodes(batch.ids, size),
                                     strict=True)))

    def append_proofs(self, start: int, positions: Sequence[int], size: int,
                      ) -> tuple[list[bytes], dict[int, list[bytes]]]:
        """What an append is answered with: :meth:`consistency_proof` from ``start`` (empty
        unless ``0 < start < size``) and :meth:`inclusion_proofs` of ``positions``, in the tree
        of ``size``, their nodes read together (the new border nodes are in no cache yet: one
        read, not two). ``size`` is one this ledger's append just committed, so it is not asked
        of the database again; a size it does not hold fails on the nodes it lacks."""
        self._init()
        nodes = proof.consistency_nodes(start, size) if 0 < start < size else None
        batch = proof.InclusionBatch(positions, size)
        ids = list(dict.fromkeys([*(nodes.ids if nodes is not None else ()), *batch.ids]))
        hashes = dict(zip(ids, self._proof_nodes(ids, size), strict=True))
        consistency = [] if nodes is None else nodes.rehash([hashes[i] for i in nodes.ids])
        return consistency, batch.rehash(hashes)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """Proof that the tree of ``size1`` is a prefix of the tree of ``size2``."""
        self._init()
        self._check_size(size2)
        return self._consistency(size1, size2)


def _replay_start(part: Pending) -> int:
    """Where a ``once`` append's entries may already be after: the head its writer proved, or
    the size it knew of when the server chose that head for it (``Pending.since``)."""
    assert part.after is not None
    return part.after[0] if part.since is None else min(part.since, part.after[0])


class _Replays:
    """Where a retried append's entries already are: in the log after the ``since`` its
    writer gave (up to :data:`REPLAY_WINDOW` back), or earlier in this batch.

    Compared by leaf hash (the same bytes, the same entry), read once per batch over the
    widest window its appends need from the leaf index, not the entries: every one-request
    write may be a retry, so each was searched for -- under the lock every server process
    waits for, one read of some twenty whole entries an append (bench/server.py)."""

    __slots__ = ("start", "leaves")

    def __init__(self, tree: StoredTree, pending: Sequence[Pending], size: int) -> None:
        starts = [min(_replay_start(part), size) for part in pending
                  if part.once and part.after is not None]
        starts = [start for start in starts if size - start <= REPLAY_WINDOW]
        self.start = min(starts, default=size)
        self.leaves = tree._leaf_range(self.start, size) if self.start < size else []

    def taken(self, entries: list[bytes]) -> None:
        """``entries`` go into this batch: a later append of the same batch may be their
        retry."""
        self.leaves.extend(rfc6962.leaf_hash(data) for data in entries)

    def find(self, part: Pending) -> int | None:
        """Where ``part``'s entries are, in a row, after where its writer may have sent them
        before (or earlier in this batch, when that is further back than the window); None
        when they are new."""
        start = max(_replay_start(part), self.start)
        wanted = [rfc6962.leaf_hash(data) for data in part.entries]
        seen = self.leaves[start - self.start:]
        count = len(wanted)
        for offset in range(len(seen) - count + 1):
            if seen[offset:offset + count] == wanted:
                return start + offset
        return None
