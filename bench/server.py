"""(g) 16 concurrent clients appending attestations over HTTP to 2 ``affidavit server``
processes on one ledger, against bare INSERTs of the same rows from 16 clients.

Each client is a process of its own (as CI jobs are) playing pipeline runs: a
``record.begin_trail``, then nine ``record.attest`` into that trail -- what ``affidavit begin
trail`` and ``attest generic`` do after their start-up: one request that appends after the head
the server reads, then prove that head and what the write depends on, and that the returned
checkpoint extends the head and includes the entry.
The clients share this machine's 2 cores with both servers, as a small team server would
with its CI.

Each storage is run in turn: the embedded SQLite ledger (both servers on one file), then
PostgreSQL (a throwaway cluster *with* fsync, as production runs it; both servers on one
database, with one signing key and evidence folder). Each server integrates the appends that
wait while one commits in one batch (``server/sequencer.py``).

Lines per storage (costs: lower is better):

- ``server-<storage>-16-clients``: wall milliseconds per append over the run (the note gives
  appends/s), against the same entry rows INSERTed bare by 16 clients, one durable
  transaction each (SQLite: WAL, synchronous=FULL; PostgreSQL: synchronous_commit on): the
  ratio is what HTTP, the proofs both sides check and the signatures cost on top of storing
  the row -- or, below 1, what batching gains over one commit per row.
- ``server-<storage>-16-clients-p50`` / ``-p99``: latency of one append as a client sees it,
  against the issue's goal of p99 < 100 ms.
- ``server-<storage>-16-clients-vs-noop``: wall milliseconds per append against those per
  request of the same 16 client processes POSTing with ``requests`` to 2 uvicorn processes
  whose FastAPI endpoint does nothing but parse the body: the floor of this stack on this
  machine. A write takes one request (``docs/server.md``, One request per write), so the
  note's floor in requests/s bounds appends/s whatever the server does.

Run: ``PYTHONPATH=core python3 bench/server.py [--quick]`` (PostgreSQL from Debian's package,
as ``make test`` installs it).
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from _common import report

CLIENTS = 16
PER_TRAIL = 10
"""Appends per pipeline run: its trail, then nine attestations into it."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(ledger: str, cache: Path, env_extra: dict[str, str],
           extra: tuple[str, ...]) -> tuple[subprocess.Popen[bytes], str]:
    import requests

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_")}
    env.update(env_extra)
    env["AFFIDAVIT_CACHE_DIR"] = str(cache)
    cli = Path(sys.executable).parent / "affidavit"
    process = subprocess.Popen([str(cli), "server", "--ledger", ledger, "--port", str(port),
                                *extra], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


NOOP_APP = """
from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/api/v1/ledger/append")
async def append(request: Request) -> dict[str, int]:
    return {"keys": len(await request.json())}
"""


def _noop_client(url: str, start: float, seconds: float) -> int:
    import requests

    session = requests.Session()
    body = {"record": {"flow": "bench", "trail": "t", "name": "check", "compliant": True,
                       "statement": {"predicate": {"compliant": True}}}, "expect": {}}
    time.sleep(max(0.0, start - time.time()))
    deadline, done = time.perf_counter() + seconds, 0
    while time.perf_counter() < deadline:
        session.post(url, json=body).json()
        done += 1
    return done


def _noop(folder: Path, seconds: float) -> float:
    """Wall milliseconds per request of 16 client processes against 2 uvicorn processes
    serving a FastAPI endpoint that does nothing (the HTTP stack's own cost, on these cores)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import requests

    (folder / "noop_app.py").write_text(NOOP_APP)
    servers, urls = [], []
    for _ in range(2):
        port = _free_port()
        servers.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "noop_app:app", "--port", str(port),
             "--log-level", "warning", "--no-access-log"], cwd=folder,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}/api/v1/ledger/append")
    try:
        for url in urls:
            for _ in range(600):
                try:
                    requests.post(url, json={}, timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.05)
        start = time.time() + 2.0
        with ProcessPoolExecutor(CLIENTS,
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            runs = [pool.submit(_noop_client, urls[n % 2], start, seconds)
                    for n in range(CLIENTS)]
            total = sum(run.result() for run in runs)
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    return seconds / total * 1000


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _client(n: int, url: str, start: float, seconds: float,
            cache: str) -> tuple[list[float], list[bytes]]:
    """One CI job: a process of its own with its own memory of checkpoints, running
    pipelines (a trail, then its attestations) from ``start`` for ``seconds``."""
    os.environ["AFFIDAVIT_CACHE_DIR"] = cache
    from affidavit import canonical
    from affidavit.api import record
    from affidavit.ledger.http import HttpLedger

    ledger = HttpLedger(url)
    latencies: list[float] = []
    entries: list[bytes] = []
    time.sleep(max(0.0, start - time.time()))
    deadline = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < deadline:
        trail = f"c{n}-{i // PER_TRAIL}"
        began = time.perf_counter()
        if i % PER_TRAIL == 0:
            done = record.begin_trail(ledger, flow="bench", name=trail)
        else:
            done = record.attest(ledger, record.Claim(flow="bench", trail=trail,
                                                      name=f"check-{i % PER_TRAIL}"),
                                 type="generic", predicate={"compliant": True})
        latencies.append(time.perf_counter() - began)
        entries.append(canonical.dumps(done.entry))
        i += 1
    ledger.close()
    return latencies, entries


def _ours(urls: list[str], seconds: float,
          folder: Path) -> tuple[list[float], float, list[bytes]]:
    """16 client processes (CI jobs are processes: threads of one would share its GIL and
    measure that instead), started together once all have imported the library."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    start = time.time() + 3.0
    with ProcessPoolExecutor(CLIENTS, mp_context=multiprocessing.get_context("fork")) as pool:
        runs = [pool.submit(_client, n, urls[n % len(urls)], start, seconds,
                            str(folder / f"client-{n}")) for n in range(CLIENTS)]
        results = [run.result() for run in runs]
    latencies = [took for done, _ in results for took in done]
    entries = [entry for _, made in results for entry in made]
    return latencies, seconds, entries


def _bare_sqlite(entries: list[bytes], folder: Path) -> float:
    """The same rows, INSERTed by 16 threads, one durable transaction each."""
    path = folder / "bare.db"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE entries (idx INTEGER PRIMARY KEY, data BLOB, leaf BLOB)")
    setup.close()

    def client(rows: list[bytes]) -> None:
        db = sqlite3.connect(path, timeout=60, isolation_level=None)
        db.execute("PRAGMA synchronous=FULL")
        for data in rows:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO entries (data, leaf) VALUES (?, ?)",
                       (data, hashlib.sha256(b"\0" + data).digest()))
            db.execute("COMMIT")
        db.close()

    return _threads(client, entries)


def _bare_postgres(entries: list[bytes], url: str) -> float:
    """The same rows, INSERTed by 16 connections, one durable transaction each."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as setup:
        setup.execute("CREATE TABLE bare (idx bigserial PRIMARY KEY, data bytea, leaf bytea)")

    def client(rows: list[bytes]) -> None:
        with psycopg.connect(url, autocommit=True) as db:
            for data in rows:
                with db.transaction():
                    db.execute("INSERT INTO bare (data, leaf) VALUES (%s, %s)",
                               (data, hashlib.sha256(b"\0" + data).digest()))

    return _threads(client, entries)


def _threads(client: Callable[[list[bytes]], None], entries: list[bytes]) -> float:
    chunks = [entries[n::CLIENTS] for n in range(CLIENTS)]
    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(rows,)) for rows in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def _run(storage: str, folder: Path, seconds: float, noop_ms: float) -> None:
    from affidavit.api import record
    from affidavit.ledger.registry import open_ledger

    env: dict[str, str] = {}
    extra: tuple[str, ...] = ()
    clusters = None
    if storage == "sqlite":
        ledger = str(folder / "l.db")
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.pg_cluster import cluster

        clusters = cluster(durable=True)
        running = next(clusters)
        ledger = running.new_database()
        env = {"AFFIDAVIT_SIGNING_KEY_FILE": str(folder / "signing.key")}
        extra = ("--evidence", f"file://{folder / 'evidence'}")
    try:
        os.environ.update(env)
        handle = open_ledger(ledger, create=True)
        record.create_flow(handle, name="bench")
        handle.close()
        for name in env:
            del os.environ[name]
        servers = [_start(ledger, folder / f"{storage}-server{n}", env, extra)
                   for n in range(2)]
        try:
            # each storage's clients remember their own servers' keys: a port the sqlite
            # round used may serve the postgresql round's other ledger
            latencies, wall, entries = _ours([url for _, url in servers], seconds,
                                             folder / f"{storage}-clients")
        finally:
            for process, _ in servers:
                process.terminate()
                process.wait()
        if storage == "sqlite":
            bare, than = _bare_sqlite(entries, folder), "bare SQLite INSERTs"
        else:
            bare, than = _bare_postgres(entries, running.new_database()), \
                "bare PostgreSQL INSERTs"
    finally:
        if clusters is not None:
            clusters.close()
    count = len(latencies)
    rate = count / wall
    name = f"server-{storage}-16-clients"
    report(name, wall / count * 1000, bare / count * 1000, "ms",
           than=f"{than} of the same rows from 16 clients",
           note=f"{rate:.0f} appends/s over {count} from 16 clients to 2 servers; goal 1000/s")
    report(f"{name}-p50", _percentile(latencies, 0.5) * 1000, 100.0, "ms",
           than="the 100 ms goal for p99", note="median latency of one append")
    report(f"{name}-p99", _percentile(latencies, 0.99) * 1000, 100.0, "ms",
           than="the 100 ms goal", note="p99 latency of one append")
    report(f"{name}-vs-noop", wall / count * 1000, noop_ms, "ms",
           than="a request to a FastAPI endpoint that does nothing, from the same 16 clients",
           note=f"that floor is {1000 / noop_ms:.0f} requests/s here; an append takes 1")


def main() -> int:
    quick = "--quick" in sys.argv
    seconds = 2.0 if quick else 10.0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["AFFIDAVIT_CACHE_DIR"] = str(folder / "client-cache")
        noop_ms = _noop(folder, seconds)
        for storage in ("sqlite", "postgresql"):
            _run(storage, folder, seconds, noop_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
