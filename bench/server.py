"""(g) 16 concurrent clients appending attestations over HTTP to 2 ``affidavit server``
processes on one ledger, against bare INSERTs of the same rows from 16 clients.

Each client is a thread with its own remote ledger handle playing pipeline runs: a
``record.begin_trail``, then nine ``record.attest`` into that trail -- what ``affidavit begin
trail`` and ``attest generic`` do after their start-up: prove the head and what the write
depends on, append, prove the returned checkpoint extends the head and includes the entry.
The clients share this machine's 2 cores with both servers, as a small team server would
with its CI.

Lines (costs: lower is better):

- ``server-16-clients``: wall milliseconds per attestation over the run (the note gives
  attestations/s), against the same entry rows INSERTed bare into SQLite by 16 threads, one
  durable transaction each (WAL, synchronous=FULL): the ratio is what the proofs, the
  signatures and HTTP cost on top of storing the row.
- ``server-16-clients-p50`` / ``-p99``: latency of one attestation as a client sees it,
  against the issue's goal of p99 < 100 ms.

Storage is the embedded SQLite ledger (PostgreSQL storage is not in yet). Run:
``PYTHONPATH=core python3 bench/server.py [--quick]``.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import report

CLIENTS = 16
PER_TRAIL = 10
"""Appends per pipeline run: its trail, then nine attestations into it."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(db: Path, cache: Path) -> tuple[subprocess.Popen[bytes], str]:
    import requests

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_")}
    env["AFFIDAVIT_CACHE_DIR"] = str(cache)
    cli = Path(sys.executable).parent / "affidavit"
    process = subprocess.Popen([str(cli), "server", "--ledger", str(db), "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _ours(urls: list[str], seconds: float) -> tuple[list[float], float, list[bytes]]:
    from affidavit import canonical
    from affidavit.api import record
    from affidavit.ledger.http import HttpLedger

    latencies: list[float] = []
    entries: list[bytes] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(n: int) -> None:
        ledger = HttpLedger(urls[n % len(urls)])
        i = 0
        while time.perf_counter() < deadline:
            trail = f"c{n}-{i // PER_TRAIL}"
            started = time.perf_counter()
            if i % PER_TRAIL == 0:  # a pipeline run: its trail, then its attestations
                done = record.begin_trail(ledger, flow="bench", name=trail)
            else:
                done = record.attest(ledger, record.Claim(flow="bench", trail=trail,
                                                          name=f"check-{i % PER_TRAIL}"),
                                     type="generic", predicate={"compliant": True})
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)
                entries.append(canonical.dumps(done.entry))
            i += 1
        ledger.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, entries


def _bare(entries: list[bytes], folder: Path) -> float:
    """The same rows, INSERTed by 16 threads, one durable transaction each."""
    path = folder / "bare.db"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE entries (idx INTEGER PRIMARY KEY, data BLOB, leaf BLOB)")
    setup.close()
    import hashlib

    chunks = [entries[n::CLIENTS] for n in range(CLIENTS)]

    def client(rows: list[bytes]) -> None:
        db = sqlite3.connect(path, timeout=60, isolation_level=None)
        db.execute("PRAGMA synchronous=FULL")
        for data in rows:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO entries (data, leaf) VALUES (?, ?)",
                       (data, hashlib.sha256(b"\0" + data).digest()))
            db.execute("COMMIT")
        db.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(rows,)) for rows in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def main() -> int:
    quick = "--quick" in sys.argv
    seconds = 2.0 if quick else 10.0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["AFFIDAVIT_CACHE_DIR"] = str(folder / "client-cache")
        from affidavit.api import record
        from affidavit.ledger.sqlite import SQLiteLedger

        db = folder / "l.db"
        handle = SQLiteLedger(str(db))
        record.create_flow(handle, name="bench")
        record.begin_trail(handle, flow="bench", name="t")
        handle.close()
        servers = [_start(db, folder / f"server{n}") for n in range(2)]
        try:
            latencies, wall, entries = _ours([url for _, url in servers], seconds)
        finally:
            for process, _ in servers:
                process.terminate()
                process.wait()
        bare = _bare(entries, folder)
    count = len(latencies)
    rate = count / wall
    report("server-16-clients", wall / count * 1000, bare / count * 1000, "ms",
           than="bare SQLite INSERTs of the same rows from 16 threads",
           note=f"{rate:.0f} attestations/s over {count} from 16 clients to 2 servers; "
                "goal 1000/s")
    report("server-16-clients-p50", _percentile(latencies, 0.5) * 1000, 100.0, "ms",
           than="the 100 ms goal for p99", note="median latency of one attestation")
    report("server-16-clients-p99", _percentile(latencies, 0.99) * 1000, 100.0, "ms",
           than="the 100 ms goal", note="p99 latency of one attestation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
