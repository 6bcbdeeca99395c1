"""Full audit of a ledger, and detection of rewritten history across runs.

1. Recompute every leaf hash and the root at every stored checkpoint size from the entries
   alone, and check each checkpoint's signature with the ledger's key.
2. Check the stored tree agrees: its root at the latest size equals the recomputed one.
3. Compare with the last checkpoint this client saw for this ledger (kept under the user cache
   dir): same key, not larger than now, and the history up to it unchanged — both by the
   recomputed root at that size and by a consistency proof from the store.
4. Remember the latest checkpoint for next time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from affidavit.errors import IntegrityError
from affidavit.ledger import note, proof, rfc6962
from affidavit.ledger.base import Ledger
from affidavit.ledger.checkpoint import Checkpoint
from affidavit.ledger.compact import CompactRange
from affidavit.ledger.registry import cache_dir

__all__ = ["verify_ledger", "seen_path"]


def seen_path(ledger: Ledger) -> Path:
    """Where the last verified checkpoint of this ledger location is remembered."""
    url = ledger.url
    location = str(Path(url).resolve()) if "://" not in url else url
    name = hashlib.sha256(location.encode()).hexdigest()[:32]
    return Path(cache_dir()) / "seen" / f"{name}.json"


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty() and total > 10000 and done % 10000 == 0:
        sys.stderr.write(f"\rverifying {done}/{total} entries")
        sys.stderr.flush()


def verify_ledger(ledger: Ledger) -> dict[str, Any]:
    """Run the audit; raise ``IntegrityError`` (exit 3) on the first failure."""
    key = ledger.verifier_key()
    verifier = note.Verifier.from_key(key)
    stored: dict[int, Checkpoint] = {}
    for signed in ledger.checkpoints():
        checkpoint = Checkpoint.parse(note.open_note(signed, [verifier]))
        stored[checkpoint.size] = checkpoint
    seen_file = seen_path(ledger)
    seen: dict[str, Any] | None = None
    try:
        seen = json.loads(seen_file.read_text())
    except (OSError, ValueError):
        seen = None
    if seen is not None and seen.get("verifier_key") != key:
        raise IntegrityError(
            f"ledger {ledger.url}: its signing key changed since this client last saw it "
            f"({seen.get('verifier_key')} -> {key})")

    size = ledger.size()
    if size > 64:
        rfc6962.use_openssl()
    rng = CompactRange.from_hashes(0, [])
    roots: dict[int, bytes] = {}
    wanted = set(stored) | ({int(seen["size"])} if seen else set())
    if 0 in wanted:
        roots[0] = rng.root()
    for position, data in ledger.read(0, size):
        rng.append(rfc6962.leaf_hash(data), None)
        if position + 1 in wanted:
            roots[position + 1] = rng.root()
        _progress(position + 1, size)
    for checkpoint_size, checkpoint in sorted(stored.items()):
        if checkpoint_size > size:
            raise IntegrityError(
                f"ledger {ledger.url}: checkpoint for size {checkpoint_size} but only {size} "
                "entries (the log was truncated)")
        if roots[checkpoint_size] != checkpoint.root:
            raise IntegrityError(
                f"ledger {ledger.url}: entries do not hash to the checkpoint at size "
                f"{checkpoint_size} (history was rewritten)")
    latest_root = rng.root()
    if size and ledger.root(size) != latest_root:
        raise IntegrityError(f"ledger {ledger.url}: stored tree nodes disagree with the entries")
    if size and size not in stored:
        raise IntegrityError(f"ledger {ledger.url}: no signed checkpoint for size {size}")

    if seen is not None:
        seen_size = int(seen["size"])
        seen_root = bytes.fromhex(seen["root"])
        if seen_size > size:
            raise IntegrityError(
                f"ledger {ledger.url} has {size} entries but this client saw {seen_size} "
                "(history was truncated)")
        if roots.get(seen_size) != seen_root:
            raise IntegrityError(
                f"ledger {ledger.url}: the first {seen_size} entries changed since this client "
                "last verified them (history was rewritten)")
        if 0 < seen_size < size:
            hashes = ledger.consistency_proof(seen_size, size)
            proof.verify_consistency(seen_size, size, hashes, seen_root, latest_root)

    seen_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = seen_file.with_name(f".{seen_file.name}.{os.getpid()}")
    tmp.write_text(json.dumps({"url": ledger.url, "verifier_key": key, "size": size,
                               "root": latest_root.hex()}))
    os.replace(tmp, seen_file)
    if sys.stderr.isatty() and size > 10000:
        sys.stderr.write("\n")
    previous = f", consistent with size {seen['size']} seen before" if seen else ""
    return {
        "verified": True,
        "size": size,
        "checkpoints": len(stored),
        "root": latest_root.hex(),
        "seen_before": None if seen is None else int(seen["size"]),
        "summary": f"verified ledger {ledger.url}: {size} entries, {len(stored)} signed "
                   f"checkpoints{previous}",
    }
