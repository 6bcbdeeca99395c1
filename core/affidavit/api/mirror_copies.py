"""The two kinds of copy ``affidavit mirror`` writes (see :mod:`affidavit.api.mirror`): a
ledger (a second SQLite file, a server, PostgreSQL), which signs its own checkpoints over the
same entries, and a static tiled log in a bucket, whose checkpoint is the source's own.

Both answer the same few questions for the mirror: how many entries the copy holds (checked
against the copy's own signed head), what those entries hash to when read back whole, and how
to add a page of entries with the evidence they name; and after the copy, what its stored tree
says at the new size, read independently of what was written.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

from affidavit.errors import AffidavitError, IntegrityError, NotFoundError
from affidavit.ledger import keymap, note, proof, rfc6962, tiles
from affidavit.ledger.checkpoint import Checkpoint
from affidavit.ledger.compact import CompactRange

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from affidavit.ledger.base import BlobStore, Incoming, Ledger
    from affidavit.ledger.s3_tiles import S3Tiles

__all__ = ["LedgerCopy", "TileCopy", "stage_evidence"]

_CHUNK = 1 << 20


def stage_evidence(source: Ledger, digest: str, batch: Incoming, folder: str) -> None:
    """Copy the source's evidence file ``digest`` into ``batch`` through a file in ``folder``,
    hashed on the way (a file is never held in memory): bytes that do not hash to their name,
    or a file the source lacks, are the source's integrity failure, and nothing is staged."""
    where = f"source {source.url}"
    path = os.path.join(folder, digest)
    hasher = hashlib.sha256()
    try:
        fh = source.blobs.open(digest)
    except NotFoundError:
        raise IntegrityError(f"{where}: evidence {digest} named in its log is not in its "
                             "vault", remedy="nothing more was copied") from None
    with fh, open(path, "wb") as out:
        while chunk := fh.read(_CHUNK):
            hasher.update(chunk)
            out.write(chunk)
    if hasher.hexdigest() != digest:
        raise IntegrityError(f"{where}: evidence {digest} does not match its digest",
                             remedy="nothing more was copied")
    staged, _ = batch.add(path)  # the file stays until the batch is sent: a server's is read then
    if staged != digest:
        raise IntegrityError(f"{where}: evidence {digest} changed while it was copied")


def _refs(entries: Iterable[dict[str, Any]]) -> list[str]:
    digests: dict[str, None] = {}
    for entry in entries:
        record = entry.get("record") if isinstance(entry, dict) else None
        refs = record.get("evidence") if isinstance(record, dict) else None
        for ref in refs if isinstance(refs, list) else []:
            if isinstance(ref, dict) and isinstance(ref.get("sha256"), str):
                digests[ref["sha256"]] = None
    return list(digests)


class LedgerCopy:
    """A copy that is itself a ledger. Appending the source's entries in order gives the same
    leaves, so the same tree and key-map roots at every size, while the copy signs them with
    its own key under its own origin: its checkpoints are its own word, and the source's
    signed checkpoint at each size the mirror reaches is kept in its vault beside them."""

    def __init__(self, ledger: Ledger, identity: str) -> None:
        self.ledger = ledger
        self.identity = identity
        self.url = ledger.url
        self.where = f"copy {ledger.url}"
        self.verifier: note.Verifier | None = None
        self.origin = ""
        self.head: Checkpoint | None = None
        self.signed = ""
        self.kept: str | None = None  # digest of the source checkpoint kept last

    def start(self) -> int:
        """Check the copy's own signed head (its key pinned on first use when it is a server,
        and its history against what this client remembers of it); its size."""
        from affidavit.verify.proven import Proven

        self.ledger.init()
        self.ledger.check_writable()
        with Proven(self.ledger) as view:
            assert view.checkpoint is not None and view.verifier is not None
            self.head, self.signed, self.verifier = view.checkpoint, view.note or "", view.verifier
            self.origin = view.checkpoint.origin
            return view.size

    def map_root(self) -> bytes | None:
        """The key-map root the copy signed at its size."""
        assert self.head is not None
        return keymap.decode_root(self.head.extensions)

    def replay(self, size: int, wanted: set[int]) -> tuple[dict[int, bytes], CompactRange]:
        """Read the copy's ``size`` entries back (each checked against its stored leaf by the
        backend); the tree roots at the sizes ``wanted``, and the compact range at ``size``."""
        rng = CompactRange()
        roots = {0: rng.root()} if 0 in wanted else {}
        try:
            for position, data in self.ledger.read(0, size):
                rng.append(rfc6962.leaf_hash(data))
                if position + 1 in wanted:
                    roots[position + 1] = rng.root()
        except AffidavitError as exc:
            raise IntegrityError(f"{self.where} at size {size}: {exc.message}") from None
        assert self.head is not None
        if rng.root() != self.head.root:
            raise IntegrityError(f"{self.where}: its entries do not hash to its own "
                                 f"checkpoint at size {size} (the copy was edited)")
        return roots, rng

    def write(self, source: Ledger, first: int, entries: Sequence[bytes],
              decoded: Sequence[dict[str, Any]], before: bytes, after: bytes,
              signed: str | None) -> int:
        """Append one page with the evidence it names (and, on the last page, ``signed``: the
        source's checkpoint note, kept as a file of the copy's vault, so the copy holds what
        the source signed at that size) in one atomic append; check that the copy signed the
        very tree the source did at the new size. Returns the evidence files copied."""
        blobs: BlobStore = self.ledger.blobs
        batch = blobs.incoming()
        copied = 0
        try:
            with tempfile.TemporaryDirectory(prefix="affidavit-mirror-") as folder:
                for digest in _refs(decoded):
                    if not blobs.has(digest):
                        stage_evidence(source, digest, batch, folder)
                        copied += 1
                if signed is not None:
                    path = os.path.join(folder, "checkpoint")
                    with open(path, "w", encoding="utf-8", newline="") as out:
                        out.write(signed)
                    self.kept = batch.add(path)[0]
                appended = self.ledger.append(list(entries), list(decoded),
                                              after=(first, before), evidence=batch)
        finally:
            batch.close()
        size = first + len(entries)
        if (appended.first, appended.size) != (first, size):
            raise IntegrityError(f"{self.where}: entries [{first}, {size}) went to "
                                 f"[{appended.first}, {appended.size}): another writer "
                                 "appends to the copy", remedy="a mirror's copy must be its "
                                 "own ledger; nothing more was copied")
        assert self.verifier is not None
        try:
            head = Checkpoint.parse(note.open_note(appended.checkpoint, [self.verifier]))
        except IntegrityError as exc:
            raise IntegrityError(f"{self.where} at size {size}: {exc.message}") from None
        if head.size != size or head.root != after or head.origin != self.origin:
            raise IntegrityError(f"{self.where} signed another tree at size {size} than the "
                                 "source's", remedy="nothing more was copied")
        self.head, self.signed = head, appended.checkpoint
        return copied

    def finish(self, since: tuple[int, bytes], size: int, root: bytes, map_root: bytes,
               signed: str) -> None:
        """The copy at ``size`` as its store answers now: its signed head is the source's tree
        and key map, its stored tree the same root, and its consistency proof from ``since``
        (the size and root the mirror verified before) holds; its head is remembered like any
        other client's. (``signed``, the source's note, went into the vault with the last
        page.)"""
        from affidavit.verify.seen import Seen

        assert self.head is not None and self.verifier is not None
        with self.ledger.snapshot():
            if self.ledger.size() != size:
                raise IntegrityError(f"{self.where} is at size {self.ledger.size()}, not the "
                                     f"{size} the mirror copied: another writer appends to it")
            stored = self.ledger.root(size) if size else rfc6962.EMPTY_ROOT
            if stored != root or self.head.root != root:
                raise IntegrityError(f"{self.where}: a different tree at size {size} than the "
                                     "source's")
            if keymap.decode_root(self.head.extensions) != map_root:
                raise IntegrityError(f"{self.where}: a different key map at size {size} than "
                                     "the source's")
            old, old_root = since
            if 0 < old < size:
                try:
                    proof.verify_consistency(old, size, self.ledger.consistency_proof(old, size),
                                             old_root, root)
                except IntegrityError as exc:
                    raise IntegrityError(f"{self.where}: size {size} does not extend size "
                                         f"{old} ({exc.message})") from None
        Seen(self.origin, self.verifier).remember(self.head, self.signed)

    def close(self) -> None:
        """Release the copy's connections."""
        self.ledger.close()


class TileCopy:
    """A static tiled log: its ``checkpoint`` is the source's signed note itself, so anyone
    with the source's key checks the copy with any tlog-tiles client, and the tiles and
    bundles are the source's tree. The mirror reads the whole copy back on every run and
    compares every stored tile with the tiles rebuilt from the stored entries."""

    def __init__(self, store: S3Tiles, verifier: note.Verifier, origin: str) -> None:
        self.store = store
        self.identity = store.url
        self.url = store.url
        self.where = f"copy {store.url}"
        self.verifier = verifier
        self.origin = origin
        self.head: Checkpoint | None = None
        self.builder = tiles.TileBuilder()
        self.pending: list[bytes] = []  # the entries of the partial bundle at the copy's size
        self.kept: str | None = None

    def start(self) -> int:
        """The size of the copy's published checkpoint, which must be the source's note."""
        data = self.store.get(tiles.CHECKPOINT)
        if data is None:
            if not self.store.empty():
                raise IntegrityError(f"{self.where} holds objects but no checkpoint: not a "
                                     "mirror of this ledger", remedy="give an empty prefix")
            return 0
        try:
            head = Checkpoint.parse(note.open_note(data, [self.verifier]))
        except IntegrityError as exc:
            raise IntegrityError(f"{self.where}: its checkpoint is not the source's "
                                 f"({exc.message})") from None
        if head.origin != self.origin:
            raise IntegrityError(f"{self.where} holds log {head.origin!r}, not the source's "
                                 f"{self.origin!r}")
        self.head = head
        return head.size

    def map_root(self) -> bytes | None:
        """A tiled log keeps no key map of its own: the source's checkpoint carries it."""
        return None

    def _tile(self, level: int, index: int, width: int) -> bytes:
        path = tiles.tile_path(level, index, width)
        data = self.store.get(path)
        if data is None:
            raise IntegrityError(f"{self.where}: {path} is missing")
        return data

    def replay(self, size: int, wanted: set[int]) -> tuple[dict[int, bytes], CompactRange]:
        """Read every bundle back, rebuild every tile from its entries and compare it with
        the stored one; the roots at ``wanted`` and the compact range at ``size``."""
        rng = CompactRange()
        roots = {0: rng.root()} if 0 in wanted else {}
        builder = tiles.TileBuilder()
        for index in range((size + tiles.WIDTH - 1) // tiles.WIDTH):
            width = min(tiles.WIDTH, size - index * tiles.WIDTH)
            path = tiles.entries_path(index, width)
            data = self.store.get(path)
            if data is None:
                raise IntegrityError(f"{self.where}: {path} is missing")
            entries = tiles.parse_bundle(data, width, f"{self.where}: {path}")
            for entry in entries:
                leaf = rfc6962.leaf_hash(entry)
                rng.append(leaf)
                for level, n, tile in builder.append(leaf):
                    self._same(level, n, tiles.WIDTH, tile, size)
                if rng.end in wanted:
                    roots[rng.end] = rng.root()
            self.pending = entries if width < tiles.WIDTH else []
        for level, n, width, tile in builder.partial():
            self._same(level, n, width, tile, size)
        if self.head is not None and rng.root() != self.head.root:
            raise IntegrityError(f"{self.where}: its entries do not hash to its checkpoint at "
                                 f"size {size} (the copy was edited)")
        self.builder = builder
        return roots, rng

    def _same(self, level: int, index: int, width: int, tile: bytes, size: int) -> None:
        if self._tile(level, index, width) != tile:
            raise IntegrityError(f"{self.where}: {tiles.tile_path(level, index, width)} is not "
                                 f"the tile its entries make (the copy was edited, size {size})")

    def write(self, source: Ledger, first: int, entries: Sequence[bytes],
              decoded: Sequence[dict[str, Any]], before: bytes, after: bytes,
              signed: str | None) -> int:
        """Write one page (entries up to the next bundle boundary): its evidence first, then
        its bundle and the tiles it completes; on the last page, the partial tiles of the new
        size. The checkpoint is published by :meth:`finish`, so a run that stops half way
        leaves the copy at its old checkpoint (the tiles past it are the same next time)."""
        bundle_first = first - len(self.pending)
        bundle = self.pending + list(entries)
        data = tiles.encode_bundle(bundle, bundle_first)
        copied = self._evidence(source, decoded)
        done = []
        for entry in entries:
            done += self.builder.append(rfc6962.leaf_hash(entry))
        if self.builder.root() != after:
            raise IntegrityError(f"{self.where}: the tiles built at size {self.builder.size} "
                                 "differ from the source's tree")
        index = bundle_first // tiles.WIDTH
        self.store.put(tiles.entries_path(index, len(bundle)), data)
        self.pending = bundle if len(bundle) < tiles.WIDTH else []
        for level, n, tile in done:
            self.store.put(tiles.tile_path(level, n), tile)
        if signed is not None:  # the last page: the partial tiles its checkpoint needs
            for level, n, width, tile in self.builder.partial():
                self.store.put(tiles.tile_path(level, n, width), tile)
        return copied

    def _evidence(self, source: Ledger, decoded: Sequence[dict[str, Any]]) -> int:
        """The evidence files of a page, copied before the bundle naming them is written."""
        blobs = self.store.blobs
        wanted = [digest for digest in _refs(decoded) if not blobs.has(digest)]
        if not wanted:
            return 0
        batch = blobs.incoming()
        try:
            with tempfile.TemporaryDirectory(prefix="affidavit-mirror-") as folder:
                for digest in wanted:
                    stage_evidence(source, digest, batch, folder)
            batch.place()
        finally:
            batch.close()
        return len(wanted)

    def finish(self, since: tuple[int, bytes], size: int, root: bytes, map_root: bytes,
               signed: str) -> None:
        """Read the stored tiles back: the root they give at ``size`` and their consistency
        proof from ``since`` (the size and root the mirror verified before) must be the
        source's tree; only then is the source's checkpoint ``signed`` published as the
        copy's. (The key map is the source's: its root is in that checkpoint.)"""
        old, old_root = since
        if size:
            try:
                if tiles.root(size, self._tile) != root:
                    raise IntegrityError(f"the tiles give another root at size {size}")
                if 0 < old < size:
                    proof.verify_consistency(old, size,
                                             tiles.consistency_proof(old, size, self._tile),
                                             old_root, root)
            except IntegrityError as exc:
                raise IntegrityError(f"{self.where}: {exc.message}") from None
        data = signed.encode("utf-8")
        if self.store.get(tiles.CHECKPOINT) != data:
            self.store.put(tiles.CHECKPOINT, data)
            self.kept = signed

    def close(self) -> None:
        """Nothing to release: each request stands alone."""
