"""``affidavit mirror``: an off-site copy of a ledger that proves the system of record was not
tampered with (DESIGN §3, "double-entry bookkeeping").

What a copy is. A ledger's leaves are its entries, so appending the same entries in the same
order to another ledger gives the same tree root and the same key-map root at every size; the
copy signs them with its own key, under its own origin, and keeps the source's signed checkpoint
in its vault, so it also holds what the source itself signed. A bucket copy is a static C2SP
tlog-tiles log whose ``checkpoint`` *is* the source's note. A copy holds the source's entries
and nothing else: a target whose entries are not the source's first ones is refused (exit 3).

What a run proves, before anything is written (one line, exit 3, naming the side and the size
on the first failure, and nothing more copied):

1. the source's latest checkpoint verifies with its key (``--public-key``, or the one its
   server showed first, as every client pins), and extends what this client saw before;
2. it extends the checkpoint at which this mirror last verified this copy (remembered per
   source origin and key and copy, in the client cache): a consistency proof from there;
3. the copy is read back whole: its entries must hash to its own head, to the root remembered
   at the size verified last (the copy was not edited since), and be the source's first ones
   (a consistency proof from the copy's size to the source's); a copy behind the size
   verified last was rolled back;

then it copies the entries from the copy's size on, a page at a time, each page proven part
of the source's signed tree before it is written (a consistency proof from the page's end),
the evidence files it names rehashed on the way; and finally reads the copy back: the same
root (and key map) at the new size, and a consistency proof from the size verified last.
"""

from __future__ import annotations

import json
import os
from typing import Any

from affidavit import canonical
from affidavit.errors import InputError, IntegrityError, UsageError
from affidavit.ledger import keymap, note, proof, rfc6962
from affidavit.ledger.checkpoint import Checkpoint
from affidavit.ledger.registry import cache_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from affidavit.api.mirror_copies import LedgerCopy, TileCopy
    from affidavit.ledger.base import Ledger

    Copy = LedgerCopy | TileCopy

__all__ = ["MirrorMemory", "mirror"]

PAGE = 100
"""Entries per append to a ledger copy: what a server takes in one request."""

_PAGE_BYTES = 8 << 20
"""Entry bytes per page at most, so a page of large entries stays small in memory."""

_FORMAT = "affidavit-mirror/v1"


class MirrorMemory:
    """The source checkpoint at which this client last verified one copy, keyed by the source's
    origin and key and the copy's location: the next run must extend it, on both sides. The
    file holds the signed note, checked again on every load; one that does not verify is an
    integrity failure naming the file, never silently replaced."""

    def __init__(self, origin: str, verifier: note.Verifier, copy: str) -> None:
        from affidavit.digest import sha256

        self.origin, self.verifier, self.copy = origin, verifier, copy
        name = sha256(f"{origin}\n{verifier.key}\n{copy}".encode()).hexdigest()[:32]
        self.path = os.path.join(cache_dir(), "mirrors", f"{name}.json")

    def _corrupt(self, why: str) -> IntegrityError:
        return IntegrityError(f"mirror memory {self.path} is corrupt: {why}",
                              remedy="inspect it; delete it only if you trust both sides")

    def load(self) -> Checkpoint | None:
        """The checkpoint verified last, or None on this mirror's first run."""
        try:
            with open(self.path, encoding="utf-8") as fh:
                doc = json.load(fh)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise self._corrupt(str(exc)) from None
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT or (
                doc.get("origin"), doc.get("verifier_key"), doc.get("copy")) != (
                self.origin, self.verifier.key, self.copy) or not isinstance(
                doc.get("checkpoint"), str):
            raise self._corrupt("it names another mirror or format")
        try:
            checkpoint = Checkpoint.parse(note.open_note(doc["checkpoint"], [self.verifier]))
        except IntegrityError as exc:
            raise self._corrupt(exc.message) from None
        if checkpoint.origin != self.origin:
            raise self._corrupt("its checkpoint is of another origin")
        return checkpoint

    @property
    def _owner_path(self) -> str:
        from affidavit.digest import sha256

        name = sha256(self.copy.encode()).hexdigest()[:32]
        return os.path.join(cache_dir(), "mirrors", f"copy-{name}.json")

    def check_owner(self, where: str) -> None:
        """Refuse a source other than the one this copy was mirrored from before: a ledger
        replaced by a fresh one (a new origin, perhaps under the same key) has a memory of
        its own, so only the copy's side remembers what it mirrored."""
        try:
            with open(self._owner_path, encoding="utf-8") as fh:
                doc = json.load(fh)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"mirror memory {self._owner_path} is corrupt: {exc}") from None
        if not isinstance(doc, dict) or (doc.get("origin"), doc.get("verifier_key")) == (
                self.origin, self.verifier.key):
            return
        same_key = doc.get("verifier_key") == self.verifier.key
        raise IntegrityError(
            f"{where} is now log {self.origin!r}, but this client mirrored log "
            f"{doc.get('origin')!r} {'signed by the same key' if same_key else 'of another key'}"
            f" to {self.copy}: the source was replaced and its history rewritten",
            remedy=f"if the new ledger is meant to have a new copy, mirror it elsewhere; the "
                   f"old source is named in {self._owner_path}")

    def remember(self, signed: str) -> None:
        """Keep ``signed`` (the source's note) as the checkpoint verified last, and which
        source this copy mirrors."""
        owner = {"format": _FORMAT, "origin": self.origin, "verifier_key": self.verifier.key,
                 "copy": self.copy}
        self._write(self.path, {**owner, "checkpoint": signed})
        self._write(self._owner_path, owner)

    @staticmethod
    def _write(path: str, doc: dict[str, Any]) -> None:
        from affidavit.atomic import temp_beside

        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp, handle = temp_beside(path)
            with os.fdopen(handle, "w", encoding="utf-8") as fh:
                json.dump(doc, fh)
            os.replace(tmp, path)
        except OSError as exc:
            raise InputError(f"cannot remember the mirror's checkpoint in {path}: "
                             f"{(exc.strerror or str(exc)).lower()}",
                             remedy="set AFFIDAVIT_CACHE_DIR to a writable folder") from None


def _location(url: str) -> str:
    """One spelling per place, so ``l.db`` and ``sqlite:////abs/l.db`` are one copy (and the
    mirror's memory of it) and a source is never mirrored onto itself."""
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
        return "sqlite:" + os.path.realpath(path[1:] if path.startswith("/") else path)
    if "://" not in url:
        return "sqlite:" + os.path.realpath(url)
    return url.rstrip("/")


def _open_copy(url: str, verifier: note.Verifier, origin: str) -> Copy:
    """The copy ``--to`` names: ``s3://bucket/prefix`` is a tiled log, anything else a ledger
    (created when it is a new SQLite file)."""
    from affidavit.api.mirror_copies import LedgerCopy, TileCopy

    if url.lower().startswith("s3:"):
        from affidavit.ledger.s3_tiles import S3Tiles

        return TileCopy(S3Tiles(url), verifier, origin)
    from affidavit.api.ledgers import open_ledger

    return LedgerCopy(open_ledger(url, create=True), _location(url))


def _pages(source: Ledger, start: int, end: int, limit: int) -> Iterator[list[bytes]]:
    """The source's entries ``[start, end)`` in pages of at most ``limit`` entries (and about
    ``_PAGE_BYTES``), never crossing a multiple of ``limit``: a bucket copy's pages are then
    its bundles. Only one page is held at a time."""
    page: list[bytes] = []
    held = 0
    for position, data in source.read(start, end):
        page.append(data)
        held += len(data)
        if (position + 1) % limit == 0 or held >= _PAGE_BYTES:
            yield page
            page, held = [], 0
    if page:
        yield page


def _decoded(page: list[bytes], first: int, where: str) -> list[dict[str, Any]]:
    out = []
    for n, data in enumerate(page):
        try:
            entry = canonical.loads(data)
        except (ValueError, InputError):
            raise IntegrityError(f"{where}: entry {first + n} is not JSON") from None
        if not isinstance(entry, dict):
            raise IntegrityError(f"{where}: entry {first + n} is not a JSON object")
        out.append(entry)
    return out


class _Run:
    """One mirror run of ``source`` (proven at ``head``) onto ``copy``."""

    def __init__(self, source: Ledger, head: Checkpoint, signed: str, verifier: note.Verifier,
                 copy: Copy) -> None:
        self.source, self.head, self.signed, self.copy = source, head, signed, copy
        self.where = f"source {source.url}"
        self.memory = MirrorMemory(head.origin, verifier, copy.identity)
        self.verifier = verifier

    def _extends(self, size: int, root: bytes, side: str) -> None:
        """The tree of ``size`` leaves and ``root`` is a prefix of the source's signed one."""
        head = self.head
        if size == 0:
            return
        if size == head.size:
            if root != head.root:
                raise IntegrityError(f"{side}: a different tree at size {size} than the source "
                                     "signed")
            return
        try:
            proof.verify_consistency(size, head.size,
                                     self.source.consistency_proof(size, head.size),
                                     root, head.root)
        except IntegrityError:
            raise IntegrityError(f"{side}: the tree at size {size} is not a prefix of the "
                                 f"source's at size {head.size}") from None

    def _source_map(self, size: int) -> bytes | None:
        """The key-map root the source signed at ``size``, when it signed one there."""
        for stored, signed in self.source.checkpoints(size):
            if stored != size:
                return None
            try:
                return keymap.decode_root(Checkpoint.parse(
                    note.open_note(signed, [self.verifier])).extensions)
            except IntegrityError as exc:
                raise IntegrityError(f"{self.where}: its checkpoint at size {size}: "
                                     f"{exc.message}") from None
        return None

    def run(self) -> dict[str, Any]:
        head, copy = self.head, self.copy
        self.memory.check_owner(self.where)
        last = self.memory.load()
        seen = last.size if last is not None else 0
        # 2. the source extends what this mirror verified last
        if last is not None:
            if last.size > head.size:
                raise IntegrityError(f"{self.where} is at size {head.size}, but this mirror "
                                     f"verified size {last.size}: history was rolled back",
                                     remedy=f"the checkpoint it verified is in "
                                            f"{self.memory.path}")
            try:
                self._extends(last.size, last.root, self.where)
            except IntegrityError:
                raise IntegrityError(f"{self.where}: size {head.size} does not extend the size "
                                     f"{last.size} this mirror verified: history was rewritten",
                                     remedy=f"the checkpoint it verified is in "
                                            f"{self.memory.path}") from None
        # 3. the copy, read back whole
        held = copy.start()
        if held > head.size:
            raise IntegrityError(f"{copy.where} holds {held} entries, more than the source's "
                                 f"{head.size}: entries the source never signed")
        if held < seen:
            raise IntegrityError(f"{copy.where} is at size {held}, but this mirror verified it "
                                 f"at size {seen}: it was rolled back or replaced",
                                 remedy=f"the checkpoint it verified is in {self.memory.path}")
        roots, rng = copy.replay(held, {seen, held})
        if last is not None and seen and roots[seen] != last.root:
            raise IntegrityError(f"{copy.where}: a different tree at size {seen} than this "
                                 "mirror verified (the copy was edited)")
        try:
            self._extends(held, roots[held], copy.where)
        except IntegrityError:
            if seen:
                raise
            raise IntegrityError(f"{copy.where} already holds {held} entries that are not the "
                                 f"source's first {held}",
                                 remedy="a mirror copies into a new target, or onto its own "
                                        "earlier copy") from None
        copy_map = copy.map_root()
        source_map = self._source_map(held) if copy_map is not None and held else None
        if source_map is not None and copy_map != source_map:
            raise IntegrityError(f"{copy.where}: a different key map at size {held} than the "
                                 "source signed")
        # copy, a page at a time, each proven part of the source's tree before it is written
        from affidavit.api.mirror_copies import TileCopy
        from affidavit.ledger import tiles

        limit = tiles.WIDTH if isinstance(copy, TileCopy) else PAGE
        evidence = 0
        first = held
        for page in _pages(self.source, held, head.size, limit):
            before = rng.root()
            for data in page:
                rng.append(rfc6962.leaf_hash(data))
            end = rng.end
            try:
                self._extends(end, rng.root(), self.where)
            except IntegrityError:
                raise IntegrityError(f"{self.where}: its entries up to size {end} do not hash "
                                     f"to its checkpoint at size {head.size}",
                                     remedy="nothing more was copied") from None
            decoded = _decoded(page, first, self.where)
            evidence += copy.write(self.source, first, page, decoded, before, rng.root(),
                                   self.signed if end == head.size else None)
            first = end
        # the copy as it is stored now
        copy.finish((seen, last.root if last is not None else rfc6962.EMPTY_ROOT), head.size,
                    head.root, keymap.decode_root(head.extensions), self.signed)
        self.memory.remember(self.signed)
        return self._result(held, seen, evidence)

    def _result(self, held: int, seen: int, evidence: int) -> dict[str, Any]:
        head, copy = self.head, self.copy
        copied = head.size - held
        before = f", consistent with size {seen} verified before" if seen else ""
        result: dict[str, Any] = {
            "source": self.source.url, "copy": copy.url, "origin": head.origin,
            "size": head.size, "root": head.root.hex(),
            "map_root": keymap.decode_root(head.extensions).hex(), "copied": copied,
            "evidence": evidence, "verified_before": seen or None,
            "summary": f"mirrored {self.source.url} to {copy.url}: {copied} new entries and "
                       f"{evidence} evidence files copied; the copy has the source's tree at "
                       f"size {head.size}{before}"}
        from affidavit.api.mirror_copies import LedgerCopy

        if isinstance(copy, LedgerCopy):
            result["copy_origin"] = copy.origin
            result["copy_checkpoint"] = copy.signed
            result["source_checkpoint_evidence"] = copy.kept
        else:
            result["checkpoint"] = f"{copy.url}/checkpoint"
        return result


def mirror(source_url: str, copy_url: str, *, public_key: str | None = None) -> dict[str, Any]:
    """Copy the ledger at ``source_url`` to ``copy_url`` (a ledger URL or ``s3://bucket/prefix``
    for a tiled log) and prove the copy consistent: see the module docstring. Returns what was
    copied and verified; any divergence is an :class:`IntegrityError`."""
    from affidavit.api.ledgers import open_ledger
    from affidavit.verify.proven import Proven

    for flag, url in (("--from", source_url), ("--to", copy_url)):
        if not url or not url.strip():
            raise UsageError(f"{flag} is empty")
    if _location(source_url) == _location(copy_url):
        raise UsageError(f"--to {copy_url} is the source itself", remedy="give another place")
    source = open_ledger(source_url)
    copy: Copy | None = None
    try:
        with Proven(source, public_key=public_key) as view:
            assert view.checkpoint is not None and view.verifier is not None
            copy = _open_copy(copy_url, view.verifier, view.checkpoint.origin)
            return _Run(source, view.checkpoint, view.note or "", view.verifier, copy).run()
    finally:
        if copy is not None:
            copy.close()
        source.close()
