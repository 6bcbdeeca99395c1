"""Full audit of a ledger, in one read snapshot (concurrent writers never make it fail falsely).

1. Every stored checkpoint's signature checks with the ledger's key (or the pinned one), it is
   of the ledger's origin and stored under its own size, and the newest covers the whole log.
2. Replay the log: recompute every leaf and, at every checkpoint's size (and the size of the
   checkpoint this client remembers), the tree root and the key map root rebuilt from the
   entries; each must equal the signed ones. Every attestation's ``compliant`` must be what the
   one judge derives from its predicate.
3. Compare every index row with the keys the entries produce (one merge pass, in entry order),
   and every stored key-map leaf and node with the rebuilt map.
4. The stored tree agrees: its root at the latest size equals the recomputed one.
5. Every evidence blob an entry names is in the vault (``deep``: and hashes to its name).
6. The latest checkpoint extends the one this client remembers for this origin and key (also
   checked against the replayed root at that size), and is remembered.
"""

from __future__ import annotations

import hashlib
import os
import sys
from typing import Any

from affidavit import canonical
from affidavit.errors import AffidavitError, IntegrityError
from affidavit.ledger import index, keymap, note, rfc6962
from affidavit.ledger.base import Ledger
from affidavit.ledger.checkpoint import Checkpoint
from affidavit.ledger.compact import CompactRange
from affidavit.verify.proven import verifier_for
from affidavit.verify.seen import Seen

__all__ = ["verify_ledger"]


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty() and total > 10000 and done % 10000 == 0:
        sys.stderr.write(f"\rverifying {done}/{total} entries")
        sys.stderr.flush()


def _checkpoints(ledger: Ledger, verifier: note.Verifier, origin: str) -> dict[int, Checkpoint]:
    where = f"ledger {ledger.url}"
    stored: dict[int, Checkpoint] = {}
    for size, signed in ledger.checkpoints():
        try:
            checkpoint = Checkpoint.parse(note.open_note(signed, [verifier]))
            keymap.decode_root(checkpoint.extensions)
        except IntegrityError as exc:
            raise IntegrityError(f"{where}: checkpoint stored for size {size}: {exc.message}",
                                 remedy=exc.remedy) from None
        if checkpoint.size != size or checkpoint.origin != origin:
            raise IntegrityError(f"{where}: the checkpoint stored for size {size} is for size "
                                 f"{checkpoint.size} of origin {checkpoint.origin!r}")
        stored[size] = checkpoint
    return stored


def _index_mismatch(where: str, position: int, stored: set[str], derived: set[str]) -> None:
    if stored != derived:
        extra = sorted(stored - derived)
        lost = sorted(derived - stored)
        what = (f"files entry {position} under {extra[0]!r}, which the entry does not carry"
                if extra else f"lacks entry {position} under {lost[0]!r}")
        raise IntegrityError(f"{where}: the index {what}", remedy="run `affidavit ledger reindex`")


def _judged(where: str, position: int, entry: Any, types: dict[int, Any]) -> None:
    """The entry's recorded verdict, if it is an attestation, is the one judge's (custom types
    judged by the version entries replayed so far)."""
    from affidavit.compliance.judge import check_recorded
    from affidavit.errors import AffidavitError

    if entry.get("kind") == "attestation_type":
        types[position] = entry
    if entry.get("kind") != "attestation":
        return
    try:
        check_recorded(entry["record"], types.get, "the log before it")
    except AffidavitError as exc:
        raise IntegrityError(f"{where}: entry {position} {exc.message}") from None


def _replay(ledger: Ledger, size: int, stored: dict[int, Checkpoint],
            wanted: set[int], remembered: Checkpoint | None, remote: bool,
            bundled: dict[int, Any] | None = None,
            ) -> tuple[dict[int, bytes], keymap.MemoryMap, list[str], CompactRange]:
    """Steps 2 and 3 for the index; returns the tree root at each size in ``wanted``, the
    rebuilt map, every evidence digest named and the tree's compact range at ``size``.
    ``remote``: the index is a server's, which others may append to while it is read (rows
    of entries from ``size`` on are past the audit, not filed beyond the log)."""
    where = f"ledger {ledger.url}"
    signed_maps = {n: keymap.decode_root(c.extensions) for n, c in stored.items()}
    if remembered is not None and remembered.size <= size:
        signed_maps.setdefault(remembered.size, keymap.decode_root(remembered.extensions))
    types: dict[int, Any] = {}
    if size > 64:
        rfc6962.use_openssl()
    rng = CompactRange()
    memory = keymap.MemoryMap()
    roots: dict[int, bytes] = {0: rng.root()} if 0 in wanted else {}
    digests: list[str] = []
    rows = iter(ledger.index_rows())
    pending = next(rows, None)
    for position, data in ledger.read(0, size):
        rng.append(rfc6962.leaf_hash(data))
        try:
            entry = canonical.loads(data)
            derived = set(index.keys(entry))
            refs = entry.get("record", {}).get("evidence", []) if isinstance(entry, dict) else []
            digests += [str(ref["sha256"]) for ref in refs]
            _judged(where, position, entry, types)
            if bundled is not None and "sigstore" in entry.get("record", {}):
                bundled[position] = entry  # its bundle is verified again, after the replay
        except (ValueError, KeyError, TypeError, AttributeError):
            raise IntegrityError(f"{where}: entry {position} is not a valid record") from None
        if pending is not None and pending[1] < position:
            raise IntegrityError(f"{where}: the index files entry {pending[1]} under "
                                 f"{pending[0]!r}, which is not in the log",
                                 remedy="run `affidavit ledger reindex`")
        filed: set[str] = set()
        while pending is not None and pending[1] == position:
            filed.add(pending[0])
            pending = next(rows, None)
        _index_mismatch(where, position, filed, derived)
        for key in derived:
            memory.add(key, position)
        done = position + 1
        if done in wanted:
            roots[done] = rng.root()
        if done in signed_maps and memory.root() != signed_maps[done]:
            raise IntegrityError(f"{where}: the key map rebuilt from the log differs from the "
                                 f"one signed at size {done}")
        _progress(done, size)
    if pending is not None and not (remote and pending[1] >= size):
        raise IntegrityError(f"{where}: the index files entry {pending[1]} under "
                             f"{pending[0]!r}, which is not in the log",
                             remedy="run `affidavit ledger reindex`")
    if 0 in signed_maps and signed_maps[0] != keymap.EMPTY:
        raise IntegrityError(f"{where}: the checkpoint of the empty log has a non-empty map")
    return roots, memory, digests, rng


def _compare_map(ledger: Ledger, memory: keymap.MemoryMap) -> None:
    """Step 3 for the key map: the stored leaves and nodes, read a page at a time, against the
    rebuilt ones in the same order (one merge pass; the first difference names its key)."""
    where = f"ledger {ledger.url}"
    rebuilt = sorted((keymap.key_hash(k), k, c, last) for k, (c, last) in memory.items().items())
    stored = ledger.map_leaves()
    for mine in rebuilt:
        theirs = next(stored, None)
        if theirs != mine:
            wrong = mine[1] if theirs is None or theirs[0] >= mine[0] else theirs[1]
            raise IntegrityError(f"{where}: the stored key map disagrees with the log at key "
                                 f"{wrong!r}", remedy="run `affidavit ledger reindex`")
    extra = next(stored, None)
    if extra is not None:
        raise IntegrityError(f"{where}: the stored key map disagrees with the log at key "
                             f"{extra[1]!r}", remedy="run `affidavit ledger reindex`")
    nodes = ledger.map_nodes()
    for mine_node in sorted(memory.nodes()):
        if next(nodes, None) != mine_node:
            break
    else:
        if next(nodes, None) is None:
            return
    raise IntegrityError(f"{where}: the stored key map nodes disagree with the log",
                         remedy="run `affidavit ledger reindex`")


_MOVES = 5
"""Times a server's stored key map is compared again when its log moved on while it was
listed, before the audit gives up on comparing it (exit 2: not read completely)."""


def _compare_map_moving(ledger: Ledger, verifier: note.Verifier, origin: str, size: int,
                        rng: CompactRange, memory: keymap.MemoryMap) -> None:
    """Step 3 for a server's key map, which its other clients change while it is listed a
    page at a time: brought up to the latest signed checkpoint first (the entries since
    ``size`` replayed onto ``rng`` and ``memory`` must hash to its roots), then compared, and
    the comparison stands only when the log is still at that checkpoint afterwards."""
    where = f"ledger {ledger.url}"
    for _ in range(_MOVES):
        with ledger.snapshot():
            latest, signed = ledger.size(), ledger.checkpoint() or ""
        if latest != size:
            head = Checkpoint.parse(note.open_note(signed, [verifier]))
            if head.size != latest or latest < size or head.origin != origin:
                raise IntegrityError(f"{where}: its state at size {latest} does not extend "
                                     f"the log audited at size {size}")
            for position, data in ledger.read(size, latest):
                rng.append(rfc6962.leaf_hash(data))
                try:
                    keys = index.keys(canonical.loads(data))
                except (ValueError, KeyError, TypeError, AttributeError):
                    raise IntegrityError(f"{where}: entry {position} is not a valid "
                                         "record") from None
                for key in keys:
                    memory.add(key, position)
            size = latest
            if rng.root() != head.root or memory.root() != keymap.decode_root(head.extensions):
                raise IntegrityError(f"{where}: the entries appended since the audit began do "
                                     f"not hash to the checkpoint at size {latest}")
        try:
            _compare_map(ledger, memory)
            differs = None
        except IntegrityError as exc:
            differs = exc
        with ledger.snapshot():
            if ledger.size() == size:
                if differs is not None:
                    raise differs
                return
    raise AffidavitError(f"{where}: the log moved on while its stored key map was listed, "
                         f"{_MOVES} times: the map was not compared",
                         remedy="run it again, or where the log is written less often")


def _bundles(ledger: Ledger, bundled: dict[int, Any]) -> Any:
    """Every Sigstore bundle the log's attestations record, verified again from the vault
    where sigstore is installed (``verify.sigstore_bundles.reverify``); None when there are
    none (nothing is imported then)."""
    if not bundled:
        return None
    from affidavit.verify.sigstore_bundles import BUNDLE_LIMIT, reverify

    def member(position: int, digest: str) -> tuple[str, bytes]:
        with ledger.blobs.open(digest) as fh:
            return f"evidence {digest[:16]} of entry {position}", fh.read(BUNDLE_LIMIT + 1)

    try:
        return reverify(bundled, member)
    except IntegrityError as exc:
        raise IntegrityError(f"ledger {ledger.url}: {exc.message}") from None


def _blobs(ledger: Ledger, digests: list[str], deep: bool) -> int:
    checked = 0
    for digest in dict.fromkeys(digests):
        if not ledger.blobs.has(digest):
            raise IntegrityError(f"ledger {ledger.url}: evidence {digest} named in the log is "
                                 "not in the vault")
        if deep:
            hasher = hashlib.sha256()
            with ledger.blobs.open(digest) as fh:
                while chunk := fh.read(1 << 20):
                    hasher.update(chunk)
            if hasher.hexdigest() != digest:
                raise IntegrityError(f"ledger {ledger.url}: evidence {digest} in the vault does "
                                     "not match its digest")
        checked += 1
    return checked


def verify_ledger(ledger: Ledger, *, public_key: str | None = None,
                  deep: bool = False) -> dict[str, Any]:
    """Run the audit; raise ``IntegrityError`` (exit 3) on the first failure."""
    where = f"ledger {ledger.url}"
    remote = getattr(ledger, "remote", False)
    if remote and public_key is None:
        public_key = os.environ.get("AFFIDAVIT_PUBLIC_KEY") or None
    verifier = verifier_for(ledger, public_key)
    origin = ledger.origin()
    if remote:
        from affidavit.verify.pins import check_pin

        check_pin(ledger.url, origin, verifier.key)
    seen = Seen(origin, verifier)
    remembered = seen.load()  # before the snapshot: never newer than what it will show
    with ledger.snapshot():
        stored = _checkpoints(ledger, verifier, origin)
        size = ledger.size()
        if not stored or max(stored) != size:
            latest = max(stored, default=None)
            if latest is not None and latest > size:
                raise IntegrityError(f"{where}: checkpoint for size {latest} but only {size} "
                                     "entries (the log was truncated)")
            raise IntegrityError(f"{where}: no signed checkpoint for size {size}")
        wanted = set(stored) | ({remembered[0].size} if remembered else set())
        bundled: dict[int, Any] = {}
        roots, memory, digests, rng = _replay(ledger, size, stored, wanted,
                                              remembered[0] if remembered else None, remote,
                                              bundled)
        for checkpoint_size, checkpoint in sorted(stored.items()):
            if roots[checkpoint_size] != checkpoint.root:
                raise IntegrityError(
                    f"{where}: entries do not hash to the checkpoint at size "
                    f"{checkpoint_size} (history was rewritten)")
        latest_root = roots[size]
        if size and ledger.root(size) != latest_root:
            raise IntegrityError(f"{where}: stored tree nodes disagree with the entries")
        if not remote:
            _compare_map(ledger, memory)
        blobs = _blobs(ledger, digests, deep)
        bundles = _bundles(ledger, bundled)
        head = stored[size]
        before = None
        if remembered is not None:
            before = remembered[0]
            if before.size <= size and roots.get(before.size) != before.root:
                raise IntegrityError(
                    f"{where}: the first {before.size} entries changed since this client "
                    "last saw them (history was rewritten)", remedy=f"compare with {seen.path}")
            seen.check(head, ledger.consistency_proof, remembered)
        head_note = ledger.checkpoint() or ""
    keys = len(memory)
    map_root = memory.root()
    if remote:
        _compare_map_moving(ledger, verifier, origin, size, rng, memory)
    seen.remember(head, head_note)
    if sys.stderr.isatty() and size > 10000:
        sys.stderr.write("\n")
    previous = f", consistent with size {before.size} seen before" if before else ""
    return {
        "verified": True,
        "size": size,
        "checkpoints": len(stored),
        "root": latest_root.hex(),
        "map_root": map_root.hex(),
        "keys": keys,
        "evidence": blobs,
        "deep": deep,
        "sigstore": None if bundles is None else bundles.to_json(),
        "seen_before": None if before is None else before.size,
        "summary": f"verified ledger {ledger.url}: {size} entries, {len(stored)} signed "
                   f"checkpoints, {keys} keys, {blobs} evidence files"
                   f"{' rehashed' if deep else ''}{previous}"
                   f"{'' if bundles is None else bundles.text()}",
    }
