"""(c) Appends with the Merkle tree, index and signed checkpoints maintained, vs bare SQLite.

The anchor inserts the same entry rows into a table of the same shape, one transaction per
batch, with the same durability settings (WAL, synchronous=FULL). Ratio is throughput,
ours/anchor. Target: ≥ 0.5.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time

from _common import report

from affidavit import canonical
from affidavit.ledger.sqlite import SQLiteLedger
from affidavit.models import build


def entries(count: int) -> list[dict[str, object]]:
    out = []
    for i in range(count):
        record = build.attestation(
            flow="bench", trail=f"trail-{i // 20}", name=f"check-{i % 20}", type="generic",
            compliant=i % 7 != 0, predicate={"compliant": i % 7 != 0},
            origin_url=f"https://ci.example.com/build/{i}",
        )
        out.append(build.entry("attestation", record))
    return out


def main() -> None:
    quick = "--quick" in sys.argv
    total, batch = (10_000, 1_000) if quick else (100_000, 1_000)
    decoded = entries(total)
    data = [canonical.dumps(entry) for entry in decoded]
    batches = [(data[i:i + batch], decoded[i:i + batch]) for i in range(0, total, batch)]
    with tempfile.TemporaryDirectory() as tmp:
        ledger = SQLiteLedger(f"{tmp}/ours.db")
        ledger.append([canonical.dumps(build.entry("flow", build.flow(name="bench")))])
        start = time.perf_counter()
        for chunk, parsed in batches:
            ledger.append(chunk, parsed)
        ours = time.perf_counter() - start
        assert ledger.size() == total + 1
        ledger.close()

        db = sqlite3.connect(f"{tmp}/anchor.db", isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("CREATE TABLE entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)")
        start = time.perf_counter()
        position = 0
        for chunk, _ in batches:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO entries VALUES (?, ?)",
                           [(position + i, row) for i, row in enumerate(chunk)])
            position += len(chunk)
            db.execute("COMMIT")
        anchor = time.perf_counter() - start
        db.close()
    report(f"append-{total // 1000}k", ours, anchor, ratio=anchor / ours,
           note=f"throughput ours/anchor, batches of {batch}, target ≥ 0.5")


if __name__ == "__main__":
    main()
