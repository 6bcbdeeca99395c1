"""(d) Inclusion proof from the SQLite store at tree size 1M (target < 2 ms per proof).

The anchor is the target itself, so the ratio reads as a fraction of the budget.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time

from _common import report

from affidavit import canonical
from affidavit.ledger import proof, rfc6962
from affidavit.ledger.sqlite import SQLiteLedger
from affidavit.models import build


def main() -> None:
    quick = "--quick" in sys.argv
    size = 20_000 if quick else 1_000_000
    batch = 20_000
    with tempfile.TemporaryDirectory() as tmp:
        ledger = SQLiteLedger(f"{tmp}/ledger.db")
        template = build.entry("flow", build.flow(name="bench"), time="2026-01-01T00:00:00Z")
        blob = canonical.dumps(template)
        for start in range(0, size, batch):
            ledger.append([blob] * min(batch, size - start))
        root = ledger.root(size)
        rng = random.Random(7)
        picks = [rng.randrange(size) for _ in range(1000)]
        leaf = rfc6962.leaf_hash(blob)
        begin = time.perf_counter()
        proofs = [ledger.inclusion_proof(i, size) for i in picks]
        elapsed = (time.perf_counter() - begin) / len(picks)
        for i, hashes in zip(picks[:50], proofs[:50], strict=True):
            proof.verify_inclusion(leaf, i, size, hashes, root)
        ledger.close()
    label = f"inclusion-proof-{size // 1000}k" if size < 1_000_000 else "inclusion-proof-1M"
    report(label, elapsed * 1000, 2.0, "ms", than="the 2 ms target")


if __name__ == "__main__":
    main()
