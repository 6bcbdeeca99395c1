"""(c) Appends with the Merkle tree, index, key map and signed checkpoints maintained, vs bare
SQLite.

Two anchors, each inserting rows one transaction per batch with the same durability settings
(WAL, synchronous=FULL), fresh files each round, best of three (fsync timing drifts on a VM):

- ``append-100k``: the same rows the ledger stored (entries with their leaf hashes, index rows,
  tree nodes, checkpoints, and the key map's final leaves and nodes spread over the batches),
  read back from our run and inserted bare, so the ratio is the cost of hashing, maintaining
  the tree and the map, and signing. The anchor writes each map row once where we rewrite the
  paths a batch touches, so it is the stricter reading. Target: ≥ 0.3.
- ``append-100k-entries``: the entry rows alone, a stricter anchor that also charges us for the
  index, tree and map storage.

Each line compares the wall time of the whole append against the anchor's: the target of
≥ 0.3 of the bare throughput is at most 3.3x slower.
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


def _ours(folder: str, batches: list[tuple[list[bytes], list[dict[str, object]]]],
          total: int) -> float:
    ledger = SQLiteLedger(f"{folder}/ours.db")
    ledger.append([canonical.dumps(build.entry("flow", build.flow(name="bench")))])
    start = time.perf_counter()
    for chunk, parsed in batches:
        ledger.append(chunk, parsed)
    elapsed = time.perf_counter() - start
    assert ledger.size() == total + 1
    ledger.close()
    return elapsed


def _anchor(folder: str, batches: list[tuple[list[bytes], list[dict[str, object]]]]) -> float:
    db = sqlite3.connect(f"{folder}/anchor.db", isolation_level=None)
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
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def _stored_rows(folder: str, batch: int) -> list[list[tuple[str, list[tuple[object, ...]]]]]:
    """Per batch, the rows our run wrote to each table (the flow entry at 0 left out)."""
    db = sqlite3.connect(f"{folder}/ours.db")
    size = db.execute("SELECT max(idx) + 1 FROM entries").fetchone()[0]
    batches = len(range(1, size, batch))
    leaves = db.execute("SELECT * FROM map_leaves").fetchall()
    nodes = db.execute("SELECT * FROM map_nodes").fetchall()
    out: list[list[tuple[str, list[tuple[object, ...]]]]] = []
    for number, first in enumerate(range(1, size, batch)):
        last = first + batch
        out.append([
            ("entries", db.execute("SELECT idx, leaf, data FROM entries WHERE idx >= ? AND "
                                   "idx < ?", (first, last)).fetchall()),
            ("idx", db.execute("SELECT key, entry FROM idx WHERE entry >= ? AND entry < ? "
                               "ORDER BY key", (first, last)).fetchall()),
            ("nodes", db.execute("SELECT level, idx, hash FROM nodes WHERE ((idx + 1) << level)"
                                 " - 1 >= ? AND ((idx + 1) << level) - 1 < ?",
                                 (first, last)).fetchall()),
            ("checkpoints", db.execute("SELECT size, note FROM checkpoints WHERE size = ?",
                                       (last,)).fetchall()),
            ("map_leaves", leaves[number::batches]),
            ("map_nodes", nodes[number::batches]),
        ])
    db.close()
    return out


def _same_rows(folder: str, batches: list[list[tuple[str, list[tuple[object, ...]]]]]) -> float:
    db = sqlite3.connect(f"{folder}/same.db", isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE entries (idx INTEGER PRIMARY KEY, leaf BLOB, data BLOB)")
    db.execute("CREATE TABLE idx (key TEXT, entry INTEGER, PRIMARY KEY (key, entry)) "
               "WITHOUT ROWID")
    db.execute("CREATE TABLE nodes (level INTEGER, idx INTEGER, hash BLOB, "
               "PRIMARY KEY (level, idx)) WITHOUT ROWID")
    db.execute("CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, note TEXT)")
    db.execute("CREATE TABLE map_leaves (khash BLOB PRIMARY KEY, key TEXT, count INTEGER, "
               "last INTEGER) WITHOUT ROWID")
    db.execute("CREATE TABLE map_nodes (depth INTEGER, prefix BLOB, hash BLOB, "
               "PRIMARY KEY (depth, prefix)) WITHOUT ROWID")
    start = time.perf_counter()
    for tables in batches:
        db.execute("BEGIN IMMEDIATE")
        for table, rows in tables:
            if rows:
                marks = ",".join("?" * len(rows[0]))
                db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def main() -> None:
    quick = "--quick" in sys.argv
    total, batch = (10_000, 1_000) if quick else (100_000, 1_000)
    decoded = entries(total)
    data = [canonical.dumps(entry) for entry in decoded]
    batches = [(data[i:i + batch], decoded[i:i + batch]) for i in range(0, total, batch)]
    ours, same, entries_only = [], [], []
    for _ in range(1 if quick else 3):  # alternate, fresh files each time: fsync cost drifts
        with tempfile.TemporaryDirectory() as tmp:
            ours.append(_ours(tmp, batches, total))
            same.append(_same_rows(tmp, _stored_rows(tmp, batch)))
            entries_only.append(_anchor(tmp, batches))
    label = f"append-{total // 1000}k"
    report(label, min(ours), min(same), than="the same rows inserted bare",
           note=f"{total} entries in batches of {batch}, best of {len(ours)}; "
                "target: at most 3.3x slower")
    report(f"{label}-entries", min(ours), min(entries_only),
           than="the entry rows alone inserted bare")


if __name__ == "__main__":
    main()
