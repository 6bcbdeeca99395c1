"""Reads proven by the log: what an index says is checked against the latest signed checkpoint.

Every read that can gate a deploy goes through :class:`Proven`. Opening one, inside one read
snapshot of the ledger:

1. the latest checkpoint's signature checks with the ledger's key (or the pinned one), its
   origin is the ledger's, and it covers exactly the entries the log holds;
2. it extends the checkpoint this client remembers for that origin and key (a consistency
   proof), and becomes the remembered one (``verify.seen``);

then, for every key a read relies on, :meth:`Proven.under` checks the index's answer against
the key map's proof under the checkpoint's map root (how many entries, the last one) and every
entry it returns against the log (its leaf, its inclusion under the checkpoint's tree root,
that it carries the key); every attestation's stored ``compliant`` flag must be what the one
judge (``compliance.judge``) derives from its predicate. Any mismatch is an
:class:`IntegrityError` (exit 3) naming the key or entry: never an answer.
"""

from __future__ import annotations

from affidavit import canonical
from affidavit.errors import AffidavitError, InputError, IntegrityError
from affidavit.ledger import index, keymap, note, proof, rfc6962
from affidavit.ledger.checkpoint import Checkpoint

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any

    from affidavit.ledger import Appended
    from affidavit.ledger.base import Ledger
    from affidavit.ledger.keymap import MapProof
    from affidavit.verify.seen import Seen

    Record = dict[str, Any]

__all__ = ["Proven", "Picked", "proven", "verifier_for", "seen_memory", "admit"]

_SHARED_PROOFS = 64
"""Keys of one read from which their map proofs are checked sharing their common subtrees."""

_JUDGED: dict[bytes, None] = {}
"""Leaf hashes of the attestations this process's judge found as recorded, but those of custom
types (whose verdict reads another entry of the log): the verdict of the others is a function
of the entry's bytes alone, which the leaf hash names, so an entry read again -- the same trail
on the next page, in any view of any ledger -- is not judged again (its signature, a third of
a page of a thousand attestations, is not verified again). What the view proves of the entry
(its inclusion, its shape, its keys) it proves each time."""

_JUDGED_MAX = 200_000
"""Leaf hashes :data:`_JUDGED` holds (some 20 MB) before it forgets them all and starts over."""

#: Fields each kind of entry must carry for the readers to use it.
_SHAPES = {
    "flow": ("name",),
    "trail": ("flow", "name"),
    "artifact": ("flow", "trail", "name", "fingerprint"),
    "attestation": ("flow", "trail", "name", "type", "compliant", "target", "statement"),
    "attestation_type": ("name",),
    "environment": ("name", "type"),
    "snapshot": ("environment", "source", "artifacts"),
    "allowance": ("environment", "fingerprint", "reason"),
    "expectation": ("environment", "fingerprint"),
    "policy": ("name", "language", "digest", "text"),
    "policy_attachment": ("environment", "policy", "attached"),
    "webhook": ("name", "events"),  # and one of environment, flow; of url, url_env (_hook_ok)
}


def verifier_for(ledger: Ledger, public_key: str | None) -> note.Verifier:
    """The key checkpoints must verify with: the pinned one, which must be the ledger's, or
    the one the ledger records."""
    recorded = ledger.verifier_key()
    if public_key is not None:
        try:
            pinned = note.Verifier.from_key(public_key)
        except InputError as exc:
            raise InputError(f"--public-key: {exc.message}") from None
        if pinned.key != recorded.strip():
            raise IntegrityError(
                f"ledger {ledger.url} is signed by {recorded}, not the pinned key {pinned.key}",
                remedy="the ledger or its key was replaced")
        return pinned
    try:
        return note.Verifier.from_key(recorded)
    except InputError as exc:
        raise IntegrityError(f"ledger {ledger.url}: its recorded verifier key is unusable "
                             f"({exc.message})") from None


def _identity(ledger: Ledger, public_key: str | None,
              ) -> tuple[str | None, note.Verifier, Seen]:
    """The key to verify ``ledger``'s checkpoints with (a remote one's pinned by the
    environment, when not given) and this client's memory of it; a server's first identity
    must stay."""
    from affidavit.verify.seen import Seen

    remote = getattr(ledger, "remote", False)
    if remote and public_key is None:
        import os

        public_key = os.environ.get("AFFIDAVIT_PUBLIC_KEY") or None
    verifier = verifier_for(ledger, public_key)
    origin = ledger.origin()
    if remote:  # a server picks what it presents: its first identity must stay
        from affidavit.verify.pins import check_pin

        check_pin(ledger.url, origin, verifier.key)
    return public_key, verifier, Seen(origin, verifier)


def seen_memory(ledger: Ledger) -> tuple[Checkpoint, str] | None:
    """The checkpoint (and its note) this client remembers of ``ledger`` (None on first use),
    once the memory is known to keep what an append will return: for a writer whose one
    request appends and reads its head at once, this is what it saw -- the size it sends, and
    what the head it gets back must extend (``Proven(memory=...)``) -- and the check that comes
    before anything is written."""
    _, _, seen = _identity(ledger, None)
    seen.check_writable()
    return seen.load()


class Picked:
    """What a reader picked from each entry filed under one key, proven whole at one signed
    checkpoint: ``values[i]`` is ``pick(entry)`` of the entry at ``positions[i]`` (log order),
    in the tree of ``size`` entries and ``root`` of the log of ``origin`` signed by the key
    ``verifier``.

    Only :meth:`Proven.picked` makes one, and a later view takes it back to extend: what it
    proved is then not proven again, only the entries filed since are read (``carried``: how
    many of ``values`` came from the one it extended; 0 when every entry was read). It is
    this process's memory of a proof, believed as a view's own cache of the entries it proved
    is, not evidence to hand on; it holds no entries, only their positions and the values."""

    __slots__ = ("key", "origin", "verifier", "size", "root", "positions", "values", "carried")

    def __init__(self, key: str, origin: str, verifier: str, size: int, root: bytes,
                 positions: tuple[int, ...], values: tuple[Any, ...], carried: int) -> None:
        self.key, self.origin, self.verifier = key, origin, verifier
        self.size, self.root = size, root
        self.positions, self.values, self.carried = positions, values, carried


class Proven:
    """One ledger at its latest signed checkpoint; use as ``with Proven(ledger) as view:``.

    ``ahead`` names the keys the view will read first (``ahead_entries=False``: only how many
    entries each files, :meth:`filed`), ``ahead_prefixes`` the prefixes it will list first
    (:meth:`keys_many`): a remote ledger reads them with its head, in the request that opens
    the view (they are proven like any other read).
    ``remember=False`` is for the head of a write: the checkpoint the append returns is
    proven to extend it (:meth:`after_append`) and remembered instead, so the chain from what
    was remembered before is checked all the same, with one write of the memory, not two."""

    def __init__(self, ledger: Ledger, *, public_key: str | None = None,
                 ahead: Sequence[str] = (), ahead_entries: bool = True,
                 ahead_prefixes: Sequence[str] = (), remember: bool = True,
                 memory: tuple[tuple[Checkpoint, str] | None] | None = None) -> None:
        self.ledger = ledger
        # (what was remembered,) before a request that answered with this view's head: the
        # head is checked against that, not against the memory as it is now, which another
        # process of this machine may have moved past that head in the meantime
        self.memory = memory
        self.public_key = public_key
        self.ahead = ahead  # keys the snapshot may read with the head (a remote ledger's hint)
        self.ahead_entries = ahead_entries  # ... with their entries, or only how many
        self.ahead_prefixes = ahead_prefixes  # prefixes whose keys it will list first
        self.remember = remember
        self.checkpoint: Checkpoint | None = None
        self.note: str | None = None
        self.map_root = keymap.EMPTY
        self.size = 0
        self.seen_before: Checkpoint | None = None
        self.verifier: note.Verifier | None = None
        self._snapshot: Any = None
        self._entries: dict[int, Record] = {}
        self._included: dict[int, list[bytes]] = {}  # the inclusion proof each entry passed
        self._subtrees: dict[Any, Any] = {}  # proven under the checkpoint's root (proof.py)
        self._under: dict[str, list[tuple[int, Record]]] = {}
        self._proofs: dict[str, MapProof] = {}
        #: the index keys of each entry in ``_entries``
        self._keys: dict[int, frozenset[str]] = {}
        #: subtrees of the map root its checked proofs folded through (keymap.verify_proof)
        self._map_known: dict[tuple[int, int], bytes] = {}

    @property
    def where(self) -> str:
        """The ledger, as error messages name it."""
        return f"ledger {self.ledger.url}"

    def __enter__(self) -> Proven:
        ledger = self.ledger
        self.public_key, verifier, seen = _identity(ledger, self.public_key)
        self.verifier, origin = verifier, seen.origin
        # before the snapshot: never newer than what it will show
        remembered = seen.load() if self.memory is None else self.memory[0]
        # a remote ledger reads the head, the keys a write depends on and the proof that the
        # head extends what was seen last in one request
        read_ahead = getattr(ledger, "read_ahead", None)
        since = remembered[0].size if remembered is not None else None
        if read_ahead is not None and (self.ahead or since or self.ahead_prefixes):
            read_ahead(self.ahead, entries=self.ahead_entries, since=since,
                       prefixes=self.ahead_prefixes)
        self._snapshot = ledger.snapshot()
        self._snapshot.__enter__()
        try:
            signed = ledger.checkpoint()
            if signed is None:
                raise IntegrityError(f"{self.where} has no signed checkpoint")
            try:
                checkpoint = Checkpoint.parse(note.open_note(signed, [verifier]))
                self.map_root = keymap.decode_root(checkpoint.extensions)
            except IntegrityError as exc:
                raise IntegrityError(f"{self.where}: latest checkpoint: {exc.message}",
                                     remedy=exc.remedy) from None
            if checkpoint.origin != origin:
                raise IntegrityError(f"{self.where}: its latest checkpoint is of origin "
                                     f"{checkpoint.origin!r}, the ledger's is {origin!r}")
            size = ledger.size()
            if size != checkpoint.size:
                raise IntegrityError(
                    f"{self.where} holds {size} entries but its latest signed checkpoint is "
                    f"for {checkpoint.size}",
                    remedy="the log was truncated or extended outside affidavit")
            self.checkpoint, self.note, self.size = checkpoint, signed, size
            self.seen_before = seen.check(checkpoint, ledger.consistency_proof, remembered)
            if self.remember:
                seen.remember(checkpoint, signed)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._snapshot is not None:
            snapshot, self._snapshot = self._snapshot, None
            snapshot.__exit__(None, None, None)

    # -- keys ------------------------------------------------------------------------------

    def proof(self, key: str) -> MapProof:
        """The key map's proof for ``key``, checked against the signed map root."""
        found = self._proofs.get(key)
        if found is None:
            found = self._check_proof(key, self.ledger.map_proof(key))
        return found

    def _check_proof(self, key: str, found: MapProof, *, many: bool = False) -> MapProof:
        """``found`` checked against the signed map root; ``many``: one of a batch large
        enough that its proofs share the work of their common subtrees (learning them costs
        a proof or two of a gating read more than it saves)."""
        if key not in self._proofs:
            if found.key != key:
                raise IntegrityError(f"{self.where}: asked for the key map proof of {key!r}, "
                                     f"got one for {found.key!r}")
            try:
                known = self._map_known if many else None
                if known is not None and known.get((0, 0)) != self.map_root:
                    known.clear()  # a first batch, or a newer root
                    known[(0, 0)] = self.map_root
                keymap.verify_proof(self.map_root, found, known)
            except IntegrityError as exc:
                raise IntegrityError(f"{self.where}: {exc.message}", remedy=exc.remedy) from None
            if found.count and not 0 <= (found.last or 0) < self.size:
                raise IntegrityError(f"{self.where}: the key map says the last entry under "
                                     f"{key!r} is {found.last}, beyond size {self.size}")
            self._proofs[key] = found
        return found

    def under(self, key: str) -> list[tuple[int, Record]]:
        """Every entry filed under ``key``, proven complete: ``(index, entry)`` in log order."""
        return self.under_all([key])[key]

    def filed(self, keys: Sequence[str]) -> dict[str, int]:
        """How many entries are filed under each of ``keys``, proven by the signed key map
        and no entry read: what a write checks to know its flow or trail exists, at a cost
        that does not grow with the trail (the index's rows must agree with the map, as for
        :meth:`under`)."""
        todo = [key for key in dict.fromkeys(keys) if key not in self._proofs]
        if todo:
            _, listed = self._keyed(todo, entries=False)
            for key, positions in listed.items():
                self._agrees(key, positions)
        return {key: self._proofs[key].count for key in keys}

    def _keyed(self, keys: list[str], *, entries: bool) -> tuple[Any, dict[str, list[int]]]:
        """``Ledger.read_many`` of ``keys`` at this view's size (moving the view on when a
        remote ledger answered at a newer one), each key's map proof checked and its index
        positions within the log: the read, and the positions by key."""
        assert self.checkpoint is not None, "use Proven as a context manager"
        read = self.ledger.read_many(keys, self.size, entries=entries,
                                     held=self._entries.keys() if entries else ())
        if read.size != self.size and read.checkpoint is not None and read.size > self.size:
            self._advance(read.checkpoint, read.size)
        if read.size != self.size:
            raise IntegrityError(f"{self.where}: asked for a read at size {self.size}, got one "
                                 f"at size {read.size}")
        listed: dict[str, list[int]] = {}
        many = len(keys) >= _SHARED_PROOFS
        for key in keys:
            positions = read.positions.get(key)
            if positions is None or key not in read.proofs:
                raise IntegrityError(f"{self.where}: asked for the entries under {key!r}, got "
                                     "no answer for it")
            if any(not 0 <= p < self.size for p in positions) or (
                    positions != sorted(set(positions))):
                raise IntegrityError(f"{self.where}: the index files entries under {key!r} "
                                     "that are not in the log",
                                     remedy="run `affidavit ledger reindex`")
            listed[key] = positions
            self._check_proof(key, read.proofs[key], many=many)
        return read, listed

    def _agrees(self, key: str, positions: list[int]) -> None:
        """The index's positions under ``key`` are as many as the signed map counts, the last
        being the map's last."""
        filed = self.proof(key)
        if len(positions) != filed.count or (positions and positions[-1] != filed.last):
            raise IntegrityError(
                f"{self.where}: the index lists {len(positions)} entries under {key!r}, the "
                f"signed key map {filed.count}"
                + (f" (the last being entry {filed.last})" if filed.count else ""),
                remedy="run `affidavit ledger reindex`; it refuses if the log itself changed")

    def under_all(self, keys: Sequence[str]) -> dict[str, list[tuple[int, Record]]]:
        """:meth:`under` of several keys, their entries proven in one pass (and, through
        ``Ledger.read_many``, read in one round trip)."""
        todo = [key for key in dict.fromkeys(keys) if key not in self._under]
        if not todo:
            return {key: self._under[key] for key in keys}
        read, listed = self._keyed(todo, entries=True)
        new = sorted({p for found in listed.values() for p in found if p not in self._entries})
        if new:
            self._accept(new, read.entries, read.inclusion)
        keys_of = self._keys
        for key, positions in listed.items():
            found = [(p, self._entries[p]) for p in positions]
            for position, _ in found:
                if key not in keys_of[position]:
                    raise IntegrityError(
                        f"{self.where}: the index files entry {position} under {key!r} but the "
                        "entry says otherwise", remedy="run `affidavit ledger reindex`")
            self._agrees(key, positions)
            self._under[key] = found
        return {key: self._under[key] for key in keys}

    def picked(self, key: str, pick: Callable[[Record], Any], before: Picked | None = None,
               chunk: int = 1000) -> Picked:
        """``pick(entry)`` of every entry filed under ``key``, in log order, proven whole as
        :meth:`under` proves it, without keeping the entries (a chunk of them at a time):
        what a page needs of a key with thousands of entries. With ``before``, what an
        earlier view of this ledger answered for the same key and ``pick``, only the entries
        filed since its size are read.

        What it proves: the index's positions under ``key`` are as many as the signed key map
        counts, the last being the map's last (a row dropped or added is an
        :class:`IntegrityError`); every entry not carried from ``before`` is read, proven
        included under the checkpoint, shaped, judged and checked to be filed under ``key``
        (a row that points at another key's entry is an :class:`IntegrityError`); and the
        positions below ``before``'s size are exactly the ones it proved then, in a log this
        view's checkpoint extends (a consistency proof from ``before``'s size and root), so a
        row moved, dropped or swapped below it is an :class:`IntegrityError` too, and nothing
        is carried over from a history this one does not extend. Count, last and each row
        read leave an index that lies no room: a lie that kept the count would need a row
        that is not the key's, in the rows read or below ``before``'s size, and both are
        checked. What it does not prove: that ``before`` is what this method answered (it is
        this process's memory, believed like the view's cache, and must come from the same
        ``pick``). A ``before`` of another key, another log (origin or key) or a size above
        this view's is passed over: every entry is read."""
        assert self.checkpoint is not None and self.verifier is not None, (
            "use Proven as a context manager")
        _, listed = self._keyed([key], entries=False)  # may move the view on (remote)
        positions = listed[key]
        self._agrees(key, positions)
        carried = self._carried(key, before, positions)
        fresh = positions[carried:]
        values = list(before.values) if before is not None and carried else []
        keys_of, entries = self._keys, self._entries
        for first in range(0, len(fresh), chunk):
            some = fresh[first:first + chunk]
            loaded = [p for p in some if p not in entries]
            if loaded:
                self._load(loaded)
            for p in some:
                if key not in keys_of[p]:
                    raise IntegrityError(
                        f"{self.where}: the index files entry {p} under {key!r} but the "
                        "entry says otherwise", remedy="run `affidavit ledger reindex`")
                values.append(pick(entries[p]))
            if len(fresh) > chunk:  # a long read keeps no entries: memory stays bounded
                for p in loaded:
                    del entries[p], keys_of[p]
                    self._included.pop(p, None)
        if before is not None and carried == len(positions):
            if before.size == self.size:
                return before
            return Picked(key, before.origin, before.verifier, self.size, self.checkpoint.root,
                          before.positions, before.values, carried)
        return Picked(key, self.checkpoint.origin, self.verifier.key, self.size,
                      self.checkpoint.root, tuple(positions), tuple(values), carried)

    def _carried(self, key: str, before: Picked | None, positions: list[int]) -> int:
        """How many of the index's ``positions`` under ``key`` ``before`` proved (0 when it
        is not of this key and log, or of a later size than this view's); an
        :class:`IntegrityError` when this view's log does not extend the one it was proved
        in, or the index's rows below its size are not the ones it proved."""
        assert self.checkpoint is not None and self.verifier is not None
        if before is None or before.key != key or before.origin != self.checkpoint.origin or (
                before.verifier != self.verifier.key) or not 0 < before.size <= self.size:
            return 0
        try:
            if before.size == self.size:
                if before.root != self.checkpoint.root:
                    raise IntegrityError(f"two roots for size {self.size}")
            else:
                proof.verify_consistency(
                    before.size, self.size, self.ledger.consistency_proof(before.size, self.size),
                    before.root, self.checkpoint.root)
        except IntegrityError as exc:
            raise IntegrityError(
                f"{self.where}: its checkpoint for size {self.size} does not extend the one "
                f"for size {before.size} that {key!r} was read at ({exc.message})",
                remedy="the log was rewritten; run `affidavit verify ledger`") from None
        held = len(before.positions)
        if tuple(positions[:held]) != before.positions or (
                len(positions) > held and positions[held] < before.size):
            raise IntegrityError(
                f"{self.where}: the index files other entries under {key!r} below size "
                f"{before.size} than the log did at that size",
                remedy="run `affidavit ledger reindex`")
        return held

    def _advance(self, signed: str, size: int) -> None:
        """Move this view to a newer checkpoint a remote ledger answered at (other writers
        appended since this view opened): signed by the ledger's key, of its origin, for
        ``size``, and consistent with the view's own. What was proven before stays proven
        (under a prefix of the new tree); what is read from now on is proven under the new one."""
        from affidavit.verify.seen import Seen

        assert self.checkpoint is not None and self.verifier is not None
        try:
            new = Checkpoint.parse(note.open_note(signed, [self.verifier]))
            map_root = keymap.decode_root(new.extensions)
        except IntegrityError as exc:
            raise IntegrityError(f"{self.where}: newer checkpoint: {exc.message}") from None
        if new.origin != self.checkpoint.origin or new.size != size:
            raise IntegrityError(f"{self.where}: answered at size {size} under a checkpoint "
                                 f"for size {new.size} of origin {new.origin!r}")
        self._check_extends(new, "its newer checkpoint does not extend the one this read "
                                 "began at")
        self.checkpoint, self.note, self.size, self.map_root = new, signed, new.size, map_root
        self._included.clear()
        self._subtrees.clear()
        self._proofs.clear()
        self._under.clear()
        Seen(new.origin, self.verifier).remember(new, signed)

    def _check_extends(self, new: Checkpoint, failure: str,
                       given: list[bytes] | None = None) -> None:
        """``new`` extends this view's checkpoint (by the consistency proof ``given`` with it,
        else one asked of the ledger), else an :class:`IntegrityError` saying ``failure``."""
        assert self.checkpoint is not None
        if not self.checkpoint.size:
            return
        try:
            proof.verify_consistency(
                self.checkpoint.size, new.size,
                self.ledger.consistency_proof(self.checkpoint.size, new.size)
                if given is None else given,
                self.checkpoint.root, new.root)
        except IntegrityError as exc:
            raise IntegrityError(f"{self.where}: {failure} ({exc.message})") from None

    def keys(self, prefix: str) -> list[str]:
        """Index keys starting with ``prefix``. A listing, not a proof: the map cannot show a
        key set is whole, so each key must still be read with :meth:`under`."""
        return self._listed(prefix, self.ledger.keys(prefix))

    def keys_many(self, prefixes: Sequence[str]) -> dict[str, list[str]]:
        """:meth:`keys` of several prefixes at once (one round trip to a remote ledger)."""
        return {prefix: self._listed(prefix, found)
                for prefix, found in self.ledger.keys_many(prefixes).items()}

    def _listed(self, prefix: str, found: Iterable[str]) -> list[str]:
        """``found``, each of which must start with ``prefix``: a key listed under a prefix it
        does not match would be shown as a hit of that prefix (reading a key proves the key,
        not what it was listed under)."""
        keys = list(found)
        if any(not key.startswith(prefix) for key in keys):
            raise IntegrityError(f"{self.where}: lists keys under {prefix!r} that do not "
                                 "start with it")
        return keys

    # -- entries ---------------------------------------------------------------------------

    def entry(self, position: int) -> Record:
        """Entry ``position``, proven included under the checkpoint."""
        return self.entries([position])[0][1]

    def entries(self, positions: Iterable[int]) -> list[tuple[int, Record]]:
        """``(index, entry)`` for each of ``positions``, each proven included and judged."""
        wanted = list(positions)
        todo = sorted({p for p in wanted if p not in self._entries})
        if todo:
            self._load(todo)
        return [(p, self._entries[p]) for p in wanted]

    def scan(self, start: int, end: int, chunk: int = 1000) -> Iterable[tuple[int, Record]]:
        """Entries ``[start, end)`` in log order, each proven and judged like :meth:`entries`,
        a chunk at a time and not kept: memory stays bounded however long the range."""
        for first in range(max(start, 0), min(end, self.size), chunk):
            positions = list(range(first, min(first + chunk, end, self.size)))
            kept = {p: self._entries[p] for p in positions if p in self._entries}
            self._load([p for p in positions if p not in kept])
            for p in positions:
                yield p, kept.get(p) or self._entries[p]
            for p in positions:
                if p not in kept:
                    del self._entries[p]
                    del self._keys[p]
                    self._included.pop(p, None)

    def _load(self, positions: Sequence[int]) -> None:
        assert self.checkpoint is not None, "use Proven as a context manager"
        for p in positions:
            if not 0 <= p < self.size:
                raise IntegrityError(f"{self.where}: entry {p} is not below the checkpoint "
                                     f"size {self.size}")
        self._accept(positions, self.ledger.entries_at(positions),
                     self.ledger.inclusion_proofs(positions, self.size))

    def _accept(self, positions: Sequence[int], data: Mapping[int, bytes],
                proofs: Mapping[int, list[bytes]]) -> None:
        """Keep entries ``positions`` of ``data``, each proven by its inclusion proof against the
        signed root, shaped and judged; a position the answer left out is a failed proof."""
        assert self.checkpoint is not None, "use Proven as a context manager"
        leaves: dict[int, bytes] = {}
        for p in positions:
            if p not in data:
                raise IntegrityError(f"{self.where}: entry {p} was asked for and not returned")
            leaf = leaves[p] = rfc6962.leaf_hash(data[p])
            try:
                proof.verify_inclusion(leaf, p, self.size, proofs[p],
                                       self.checkpoint.root, self._subtrees)
            except (IntegrityError, KeyError) as exc:
                why = exc.message if isinstance(exc, IntegrityError) else "no proof"
                raise IntegrityError(f"{self.where}: entry {p} is not included in the signed "
                                     f"tree ({why})",
                                     remedy="run `affidavit verify ledger`") from None
            self._included[p] = proofs[p]
            try:
                entry = canonical.loads(data[p])
            except ValueError:
                raise IntegrityError(f"{self.where}: entry {p} is not JSON") from None
            self._entries[p], keys = _shaped_keys(entry, p, self.where)
            self._keys[p] = frozenset(keys)
        judged = _JUDGED
        for p in positions:
            entry = self._entries[p]
            if entry["kind"] == "attestation" and leaves[p] not in judged:
                self._judge(p, entry["record"])
                if not str(entry["record"]["type"]).startswith("custom:"):
                    if len(judged) >= _JUDGED_MAX:
                        judged.clear()
                    judged[leaves[p]] = None

    def _judge(self, position: int, record: Record) -> None:
        from affidavit.compliance.judge import check_recorded

        try:
            check_recorded(record, self._entry_at, "the log")
        except AffidavitError as exc:
            raise IntegrityError(
                f"{self.where}: entry {position} {exc.message}",
                remedy="the record was written around affidavit's judge; it is not believed"
            ) from None

    def _entry_at(self, position: int) -> Record | None:
        return self.entry(position) if 0 <= position < self.size else None

    def type_version(self, position: int, record: Record) -> Record | None:
        """The custom type version the attestation at ``position`` was judged by (None for
        other types), proven like any entry."""
        from affidavit.compliance.judge import type_version_of

        try:
            found = type_version_of(record, self._entry_at, "the log")
        except AffidavitError as exc:
            raise IntegrityError(f"{self.where}: entry {position} {exc.message}") from None
        return None if found is None else dict(found)

    # -- what packages carry ---------------------------------------------------------------

    def inclusion(self, positions: Sequence[int]) -> dict[int, list[bytes]]:
        """The inclusion proofs under the checkpoint that the entries at ``positions`` passed
        when they were read (reading them first if they were not)."""
        self.entries(positions)
        again = [p for p in positions if p not in self._included]  # proven before an advance
        if again:
            self._accept(again, self.ledger.entries_at(again),
                         self.ledger.inclusion_proofs(again, self.size))
        return {p: self._included[p] for p in positions}

    def check_writable(self) -> None:
        """Everything a write needs before it stores anything: the ledger's key (and the
        ledger's own checks), and a seen memory that can keep the checkpoint it will sign."""
        from affidavit.verify.seen import Seen

        assert self.checkpoint is not None and self.verifier is not None, (
            "use Proven as a context manager")
        self.ledger.check_writable()
        Seen(self.checkpoint.origin, self.verifier).check_writable()

    def after_append(self, appended: Appended,
                     entries: Sequence[bytes] | None = None) -> Checkpoint:
        """Check the checkpoint an append returned (outside this view's snapshot): signed by
        the ledger's key, of its origin, larger than and consistent with this view's, and
        remember it. With ``entries`` (a remote ledger's append, whose writer is not this
        process), each must also be proven included where the append says it went."""
        from affidavit.verify.seen import Seen

        assert self.checkpoint is not None and self.verifier is not None, (
            "use Proven as a context manager")
        verifier = self.verifier
        new = Checkpoint.parse(note.open_note(appended.checkpoint, [verifier]))
        if new.origin != self.checkpoint.origin or new.size != appended.size or (
                new.size <= self.checkpoint.size):
            raise IntegrityError(f"{self.where}: the append returned checkpoint size {new.size}"
                                 f" after size {self.checkpoint.size}")
        self._check_extends(new, "the append's checkpoint does not extend the one before it",
                            appended.consistency)
        if entries is not None:
            places = list(range(appended.first, appended.first + len(entries)))
            if places and places[-1] >= new.size:
                raise IntegrityError(f"{self.where}: the append says its entries went to "
                                     f"{appended.first}, beyond the size {new.size} it signed")
            paths = appended.inclusion if appended.inclusion is not None else (
                self.ledger.inclusion_proofs(places, new.size))
            for place, data in zip(places, entries, strict=True):
                try:
                    proof.verify_inclusion(rfc6962.leaf_hash(data), place, new.size,
                                           paths[place], new.root)
                except (IntegrityError, KeyError):
                    raise IntegrityError(f"{self.where}: the entry just appended is not "
                                         f"included at {place} in the checkpoint the append "
                                         "returned") from None
        Seen(self.checkpoint.origin, verifier).remember(new, appended.checkpoint)
        return new


def admit(ledger: Ledger, entries: Sequence[Any]) -> list[Record]:
    """The checks every reader applies to an entry (its shape; an attestation's flag is the
    one judge's verdict), applied to ``entries`` before they are appended to ``ledger``: what
    a server runs on every entry it is sent, so that it stores what it verified, never what it
    was told. An :class:`InputError` names the problem.

    A proven view of the log is opened only for an entry whose verdict reads the log (a custom
    type's version): the others are judged on their own, and a server takes hundreds a second."""
    import contextlib

    with contextlib.ExitStack() as stack:
        view: Proven | None = None

        def entry_at(position: int) -> Record | None:
            nonlocal view
            if view is None:
                view = stack.enter_context(Proven(ledger))
            return view._entry_at(position)

        out = []
        for i, entry in enumerate(entries):
            try:
                out.append(_admitted(entry, i, entry_at))
            except (InputError, IntegrityError):  # judged again to name where it would have
                # gone: a server asks its database for the log's size only for what it refuses
                out.append(_admitted(entry, ledger.size() + i, entry_at))
        return out


def _admitted(entry: Any, position: int, entry_at: Any) -> Record:
    shaped_ok = False
    try:
        shaped = _shaped(entry, position, "the entry")
        shaped_ok = True
        if shaped["kind"] == "attestation":
            from affidavit.compliance.judge import check_recorded

            check_recorded(shaped["record"], entry_at, "the log")
    except AffidavitError as exc:
        # a bad signature is no honest writer's mistake: refused as an integrity failure
        kind = IntegrityError if isinstance(exc, IntegrityError) and shaped_ok else InputError
        raise kind(f"entry {position} is refused: {exc.message}") from None
    return shaped


def _hook_ok(record: dict[str, Any]) -> bool:
    """A webhook names one environment or one flow (its keys are that one's), its events, and
    where they go: a URL, or the variable a sender reads it from (``url_env``)."""
    targets = [record.get(field) for field in ("environment", "flow") if field in record]
    where = [record.get(field) for field in ("url", "url_env") if field in record]
    return len(targets) == 1 and isinstance(targets[0], str) and len(where) == 1 and (
        isinstance(where[0], str)) and isinstance(record["events"], list) and all(
        isinstance(e, str) for e in record["events"])


_HEX64 = frozenset("0123456789abcdef")


def _hex64(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX64


def _evidence_ok(evidence: Any) -> bool:
    """An attestation's evidence references, and a sealed one's ``sealed``: what the readers
    (packages, ``evidence get --identity``) use of them, as the models define them, so that a
    record a server takes is one every reader and ``verify package`` can read."""
    if not isinstance(evidence, list):
        return False
    for ref in evidence:
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str) or not ref[
                "name"] or not _hex64(ref.get("sha256")) or not isinstance(
                ref.get("size"), int) or isinstance(ref["size"], bool) or ref["size"] < 0:
            return False
        if set(ref) - {"name", "sha256", "size", "sealed"}:
            return False
        sealed = ref.get("sealed")
        if "sealed" in ref and not (
                isinstance(sealed, dict) and set(sealed) == {"format", "recipients",
                                                             "commitment", "opening"}
                and sealed["format"] == "age" and _hex64(sealed["commitment"])
                and isinstance(sealed["opening"], str) and isinstance(sealed["recipients"], list)
                and sealed["recipients"] and all(isinstance(r, str) for r in
                                                 sealed["recipients"])):
            return False
    return True


def _target_ok(target: Any) -> bool:
    """An attestation's target: the trail, or an artifact by fingerprint or by name and commit."""
    if not isinstance(target, dict) or target.get("kind") not in ("trail", "artifact"):
        return False
    if target["kind"] == "trail":
        return True
    return isinstance(target.get("fingerprint"), str) or (
        isinstance(target.get("artifact"), str) and isinstance(target.get("commit"), str))


def _signing_ok(spec: dict[str, Any]) -> bool:
    """A template's or slot's ``require_signed`` and ``signers`` (key ids)."""
    signers = spec.get("signers", [])
    return isinstance(spec.get("require_signed", False), bool) and isinstance(
        signers, list) and all(isinstance(k, str) for k in signers)


def _slots_ok(slots: Any) -> bool:
    return isinstance(slots, list) and all(
        isinstance(slot, dict) and isinstance(slot.get("name"), str)
        and isinstance(slot.get("type"), str)
        and isinstance(slot.get("min_approvers", 1), int)
        and isinstance(slot.get("distinct_from_author", False), bool) and _signing_ok(slot)
        for slot in slots)


def _template_ok(template: Any) -> bool:
    """The shape the verdict reads (the write path validated the full model; a record that
    does not have it was not written through affidavit)."""
    if not isinstance(template, dict) or not isinstance(template.get("trail", {}), dict):
        return False
    trail = template.get("trail", {})
    artifacts = trail.get("artifacts", [])
    return _slots_ok(trail.get("attestations", [])) and _signing_ok(trail) and isinstance(
        artifacts, list) and all(
        isinstance(a, dict) and isinstance(a.get("name"), str)
        and _slots_ok(a.get("attestations", [])) for a in artifacts)


def _tags_ok(tags: Any) -> bool:
    """A flow's tags: text keys, each set to text or removed (null)."""
    return isinstance(tags, dict) and all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in tags.items())


def _running_ok(artifacts: Any) -> bool:
    """A snapshot's artifacts: what the readers (diff, provenance, search) use of each."""
    return isinstance(artifacts, list) and all(
        isinstance(a, dict) and isinstance(a.get("name"), str)
        and isinstance(a.get("fingerprint", ""), str) for a in artifacts)


def _shaped(entry: Any, position: int, where: str) -> Record:
    """``entry`` when it has what readers use of its kind, else an :class:`IntegrityError`."""
    return _shaped_keys(entry, position, where)[0]


def _shaped_keys(entry: Any, position: int, where: str) -> tuple[Record, list[str]]:
    """:func:`_shaped`, with the index keys the entry is filed under (what a read checks the
    index's rows against, worked out once an entry)."""
    record = entry.get("record") if isinstance(entry, dict) else None
    kind = entry.get("kind") if isinstance(entry, dict) else None
    fields = _SHAPES.get(kind) if isinstance(kind, str) else None
    if not isinstance(record, dict) or not isinstance(entry.get("time"), str) or (
            fields is not None and any(f not in record for f in fields)):
        raise IntegrityError(f"{where}: entry {position} is not a valid record")
    if kind == "attestation" and (not isinstance(record["compliant"], bool)
                                  or not isinstance(record["statement"], dict)
                                  or not _target_ok(record["target"])
                                  or not _evidence_ok(record.get("evidence", []))):
        raise IntegrityError(f"{where}: entry {position} is not a valid attestation")
    if kind == "snapshot" and not _running_ok(record["artifacts"]):
        raise IntegrityError(f"{where}: entry {position} is not a valid snapshot")
    if kind == "webhook" and not _hook_ok(record):
        raise IntegrityError(f"{where}: entry {position} is not a valid webhook")
    if kind in ("flow", "trail") and "template" in record and not _template_ok(
            record["template"]):
        raise IntegrityError(f"{where}: entry {position} carries a template of the wrong shape")
    if kind == "flow" and "tags" in record and not _tags_ok(record["tags"]):
        raise IntegrityError(f"{where}: entry {position} carries tags of the wrong shape")
    try:
        keys = index.keys(entry)
    except (KeyError, TypeError, AttributeError):
        raise IntegrityError(f"{where}: entry {position} is not a valid record") from None
    return dict(entry), keys


class _Reuse:
    """A view already open, lent to a nested read without closing it."""

    __slots__ = ("view",)

    def __init__(self, view: Proven) -> None:
        self.view = view

    def __enter__(self) -> Proven:
        return self.view

    def __exit__(self, *exc: object) -> None:
        return None


def proven(source: Ledger | Proven, ahead: Sequence[str] = (),
           ahead_prefixes: Sequence[str] = ()) -> Proven | _Reuse:
    """``with proven(x) as view:``: a new proven view of ledger ``x``, or ``x`` itself when it
    is one already (so library functions compose within one snapshot); ``ahead`` and
    ``ahead_prefixes``: the keys a new view will read and the prefixes it will list first
    (see :class:`Proven`)."""
    return _Reuse(source) if isinstance(source, Proven) else Proven(
        source, ahead=ahead, ahead_prefixes=ahead_prefixes)
