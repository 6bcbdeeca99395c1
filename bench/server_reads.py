"""(h) ``get trail`` and ``search`` against one ``affidavit server`` over a ledger of 1M
attestations (issue 12: p99 < 10 ms on the server side).

The ledger is built through the library, not HTTP: the entries ``affidavit attest`` would write
(``models.build``), appended to the embedded SQLite ledger a few thousand per transaction.
Its shape: 100 flows x 100 trails x 100 attestations (``--quick``: 20 flows x 10 trails x 100,
20k attestations). Each trail is one build: the trail entry, one artifact (a fingerprint and a
commit) and 100 generic attestations naming that commit, every other one bound to the
artifact's fingerprint. Builds overlap: 50 trails of different flows are interleaved, so one
trail's entries are spread over some 5,000 log positions, as pipelines running at once leave
them. The built ledger is kept under ``$AFFIDAVIT_BENCH_CACHE`` (default
``~/.cache/affidavit-bench``), keyed by its size and this generator's version, so reruns do not
rebuild it (the 1M ledger takes some 0.9 GB there), and read through once before the server
starts (``_read_through``).

One server process serves it on 127.0.0.1; one client (this process) runs the library face of
the CLI commands -- ``query.trail_state`` (``affidavit get trail T --flow F``) and
``query.search`` (``affidavit search SHA``) -- with a remote ledger handle, one operation at a
time, on random trails, commits and fingerprints. Every request of one operation carries the
same ``x-request-id``; the server logs one JSON line per request with its ``ms`` (the
``_Logged`` layer of ``server/app.py``: from the request reaching the app to the response
leaving it), and an
operation's *server-side* time is the sum over its requests.

Lines (costs: lower is better):

- ``server-reads-get-trail-p50`` / ``-p99``, ``server-reads-search-commit-p50`` / ``-p99``,
  ``server-reads-search-fingerprint-p50`` / ``-p99``: server-side milliseconds of one
  operation, against the issue's budget of 10 ms (``faster than the 10 ms budget`` meets it).
- ``server-reads-<op>-vs-bare``: the same p50 against a bare SQLite read of the same rows in
  this process (the index rows of the key(s), then the entry rows): what the proofs, the JSON
  and HTTP cost on top of reading the rows.
- ``server-reads-<op>-client-p50``: wall time of one operation as the client sees it
  (requests, proofs checked, entries judged and folded), against that operation's server-side
  p50: the ratio is what the client and the connection add.
- ``server-reads-endpoint-<path>-p99``: one request's server ms at p99 for each endpoint the
  operations used, against the 10 ms budget (the note gives its p50 and how many requests per
  operation): which request dominates.

The notes give the build time and the ledger's size on disk. The same lines prefixed
``server-reads-pg-`` are for the same ledger in PostgreSQL: a throwaway cluster started the way
the tests start one (``tests/pg_cluster.py``: local, ``fsync=off``), the ledger built afresh
each run through ``PostgresLedger.append`` (not cached), ``VACUUM ANALYZE``d and its tables
loaded into a buffer cache they fit in (:data:`SHARED_BUFFERS`, ``_prewarm``), and the bare
anchor a psycopg reader of the same rows; they say ``skipped`` when PostgreSQL or its Python
support is missing, and ``--no-postgres`` leaves them out. Run:
``python3 bench/server_reads.py [--quick] [--no-postgres]``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import report, skipped

#: Bump when the generated ledger changes, so a cached one of the old shape is not reused.
GENERATOR = 1
PER_TRAIL = 100  # attestations per trail
CONCURRENT = 50  # trails whose entries are interleaved in the log
BATCH = 5000  # entries per append (one transaction, one checkpoint)
BUDGET_MS = 10.0
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def shape(n: int) -> tuple[int, int]:
    """(flows, trails per flow) for ``n`` attestations, 100 per trail."""
    trails = n // PER_TRAIL
    flows = max(1, min(100, trails // 10))
    if flows * (trails // flows) * PER_TRAIL != n:
        raise SystemExit(f"{n} attestations do not split into flows x trails x {PER_TRAIL}")
    return flows, trails // flows


def flow_name(f: int) -> str:
    return f"service-{f:03d}"


def trail_of(t: int, flows: int) -> tuple[str, str]:
    """Trail number ``t`` (0-based over the ledger): its flow and name; consecutive trails
    belong to different flows."""
    return flow_name(t % flows), f"build-{t // flows:05d}"


def commit_of(t: int) -> str:
    return hashlib.sha1(f"commit-{t}".encode()).hexdigest()


def fingerprint_of(t: int) -> str:
    return hashlib.sha256(f"artifact-{t}".encode()).hexdigest()


def _stamp(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(T0 + second)) + ".000000Z"


def _trail_stream(t: int, flows: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """The entries of one build: the trail, its artifact, its attestations (kind, record)."""
    from affidavit.models import build

    flow, trail = trail_of(t, flows)
    sha, digest = commit_of(t), fingerprint_of(t)
    commit = {"sha": sha}
    yield "trail", build.trail(flow=flow, name=trail)
    yield "artifact", build.artifact(flow=flow, trail=trail, name="app", fingerprint=digest,
                                     artifact_type="docker", commit=commit)
    for a in range(PER_TRAIL):
        ok = (t + a) % 97 != 0  # a few failures, so verdicts vary
        yield "attestation", build.attestation(
            flow=flow, trail=trail, name=f"check-{a:02d}", type="generic", compliant=ok,
            predicate={"compliant": ok}, fingerprint=digest if a % 2 == 0 else None,
            commit=commit)


def entries(n: int) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """Every entry of the ledger in log order, canonical bytes with the decoded entry."""
    from affidavit import canonical
    from affidavit.models import build

    flows, per_flow = shape(n)
    second = 0

    def wrap(kind: str, record: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
        nonlocal second
        second += 1
        entry = build.entry(kind, record, time=_stamp(second))
        return canonical.dumps(entry), entry

    for f in range(flows):
        yield wrap("flow", build.flow(name=flow_name(f), description=f"flow {f}"))
    trails = flows * per_flow
    for start in range(0, trails, CONCURRENT):
        streams = [_trail_stream(t, flows) for t in range(start, min(start + CONCURRENT, trails))]
        while streams:
            alive = []
            for stream in streams:
                item = next(stream, None)
                if item is not None:
                    yield wrap(*item)
                    alive.append(stream)
            streams = alive


def fill(ledger: Any, n: int) -> int:
    """Append the ledger of ``n`` attestations to ``ledger``, :data:`BATCH` entries per
    append; the number of entries."""
    data: list[bytes] = []
    decoded: list[dict[str, Any]] = []
    count = 0
    for blob, entry in entries(n):
        data.append(blob)
        decoded.append(entry)
        if len(data) == BATCH:
            ledger.append(data, decoded)
            count += len(data)
            data, decoded = [], []
    if data:
        ledger.append(data, decoded)
        count += len(data)
    return count


def _cache_root() -> Path:
    return Path(os.environ.get("AFFIDAVIT_BENCH_CACHE")
                or Path.home() / ".cache" / "affidavit-bench")


def _du(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def built(n: int) -> tuple[Path, dict[str, Any]]:
    """The ledger of ``n`` attestations (built once, then cached) and its build facts."""
    from affidavit.ledger.sqlite import FORMAT, SQLiteLedger

    folder = _cache_root() / f"server-reads-g{GENERATOR}-f{FORMAT}-n{n}"
    meta_path = folder / "meta.json"
    if meta_path.is_file():
        return folder / "ledger.db", json.loads(meta_path.read_text())
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        ledger = SQLiteLedger(str(work / "ledger.db"))
        ledger.init()
        started = time.perf_counter()
        count = fill(ledger, n)
        seconds = time.perf_counter() - started
        ledger.close()
        meta = {"attestations": n, "entries": count, "build_s": round(seconds, 2),
                "bytes": _du(work)}
        (work / "meta.json").write_text(json.dumps(meta))
        try:
            work.rename(folder)
        except OSError:  # another run finished first: use its copy
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder / "ledger.db", json.loads(meta_path.read_text())


def _read_through(path: Path) -> None:
    """Read the cached ledger file once, so that it is in the page cache as a serving
    server's database is: this machine's VM gives an idle file's cache back within minutes,
    and a run that began on a cold file measured the disk (p99 16 ms; 8 ms right after)."""
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(ledger: str, cache: Path, log: Any, extra: dict[str, str]
           ) -> tuple[subprocess.Popen[bytes], str]:
    import requests

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_")}
    env["AFFIDAVIT_CACHE_DIR"] = str(cache)
    env.update(extra)
    cli = Path(sys.executable).parent / "affidavit"
    process = subprocess.Popen([str(cli), "server", "--ledger", ledger, "--host", "127.0.0.1",
                                "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.05)
    process.terminate()
    raise SystemExit("server did not start")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _operations(n: int, samples: int, seed: int = 12) -> list[tuple[str, tuple[str, ...]]]:
    """``samples`` of each operation, shuffled together: (name, arguments)."""
    flows, per_flow = shape(n)
    rng = random.Random(seed)
    trails = flows * per_flow
    ops: list[tuple[str, tuple[str, ...]]] = []
    for _ in range(samples):
        ops.append(("get-trail", trail_of(rng.randrange(trails), flows)))
        ops.append(("search-commit", (commit_of(rng.randrange(trails)),)))
        ops.append(("search-fingerprint", (fingerprint_of(rng.randrange(trails)),)))
    rng.shuffle(ops)
    return ops


def _run(ledger: Any, name: str, args: tuple[str, ...]) -> None:
    from affidavit.api import query

    if name == "get-trail":
        state = query.trail_state(ledger, args[0], args[1])
        assert len(state["attestations"]) == PER_TRAIL, state["name"]
    else:
        found = query.search(ledger, args[0])
        assert len(found) == (PER_TRAIL + 1 if name == "search-commit" else PER_TRAIL // 2 + 1)


def client(url: str, ops: list[tuple[str, tuple[str, ...]]], warmup: int
           ) -> dict[str, dict[str, float]]:
    """Run ``ops`` one at a time; the client wall ms of each, by request id."""
    from affidavit.ledger.http import HttpLedger

    ledger = HttpLedger(url)
    walls: dict[str, dict[str, float]] = defaultdict(dict)
    try:
        for n, (name, args) in enumerate(ops[:warmup]):
            ledger.session.headers["x-request-id"] = f"warmup-{n}"
            _run(ledger, name, args)
        for n, (name, args) in enumerate(ops):
            request_id = f"{name}.{n}"
            ledger.session.headers["x-request-id"] = request_id
            started = time.perf_counter()
            _run(ledger, name, args)
            walls[name][request_id] = (time.perf_counter() - started) * 1000
    finally:
        ledger.close()
    return walls


def server_log(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and "ms" in record and "request_id" in record:
                out.append(record)
    return out


def bare(connect: Any, ops: list[tuple[str, tuple[str, ...]]], mark: str = "?"
         ) -> dict[str, list[float]]:
    """The rows each operation reads, by a bare reader of the database (``connect()``, a
    DB-API connection with ``mark`` placeholders): index rows, then entries."""
    con = connect()
    times: dict[str, list[float]] = defaultdict(list)

    def rows(keys: list[str]) -> int:
        positions = sorted({p for key in keys for (p,) in con.execute(
            f"SELECT entry FROM idx WHERE key = {mark}", (key,)).fetchall()})
        marks = ",".join([mark] * len(positions))
        return len(con.execute(f"SELECT idx, data, leaf FROM entries WHERE idx IN ({marks})",
                               positions).fetchall())

    for name, args in ops:
        started = time.perf_counter()
        if name == "get-trail":
            flow, trail = args
            got = rows([f"flowdef:{flow}", f"trail:{flow}/{trail}"])
        else:
            keys = [k for ns in ("artifact:", "commit:") for (k,) in con.execute(
                f"SELECT DISTINCT key FROM idx WHERE key >= {mark} AND key < {mark}",
                (ns + args[0], ns + args[0] + "\U0010ffff")).fetchall()]
            got = rows(keys)
        times[name].append((time.perf_counter() - started) * 1000)
        assert got > PER_TRAIL // 2, (name, args, got)
    con.close()
    return times


def measure(prefix: str, ledger_url: str, meta: dict[str, Any], ops: list[Any],
            bare_run: Any, env: dict[str, str], bare_than: str) -> None:
    """Serve ``ledger_url`` from one server process, run ``ops`` against it, then
    ``bare_run()`` (the bare reads, after the server warmed the same pages), print the lines."""
    label = f"{meta['attestations'] // 1000}k" if meta["attestations"] < 1_000_000 else (
        f"{meta['attestations'] // 1_000_000}M")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["AFFIDAVIT_CACHE_DIR"] = str(folder / "client-cache")
        log_path = folder / "server.log"
        with open(log_path, "wb") as log:
            process, url = _start(ledger_url, folder / "server-cache", log, env)
            try:
                walls = client(url, ops, warmup=30)
            finally:
                process.terminate()
                process.wait()
        records = server_log(log_path)
    bare_ms = bare_run()

    by_op: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    per_endpoint: dict[str, list[float]] = defaultdict(list)
    endpoint_ops: dict[str, set[str]] = defaultdict(set)
    for record in records:
        request_id = str(record["request_id"])
        name, dot, _ = request_id.partition(".")
        if not dot or name not in walls:
            continue
        by_op[name][request_id] += float(record["ms"])
        endpoint = str(record["path"]).removeprefix("/api/v1/").removeprefix("ledger/")
        per_endpoint[endpoint].append(float(record["ms"]))
        endpoint_ops[endpoint].add(request_id)

    size = f"{meta['bytes'] / 1e6:.0f} MB on disk" if "bytes" in meta else ""
    common = (f"{label} attestations, {meta['entries']} entries, built in {meta['build_s']}s"
              + (f", {size}" if size else "")
              + (f", {meta['prewarmed']}" if "prewarmed" in meta else ""))
    for name in ("get-trail", "search-commit", "search-fingerprint"):
        totals = list(by_op[name].values())
        if len(totals) != len(walls[name]):
            raise SystemExit(f"{name}: {len(walls[name])} operations, {len(totals)} in the log")
        p50, p99 = percentile(totals, 0.5), percentile(totals, 0.99)
        report(f"{prefix}-{name}-p50", p50, BUDGET_MS, "ms", than="the 10 ms budget",
               note=f"server-side total per operation over {len(totals)}; {common}")
        report(f"{prefix}-{name}-p99", p99, BUDGET_MS, "ms", than="the 10 ms budget",
               note="server-side total per operation, the issue's goal")
        report(f"{prefix}-{name}-vs-bare", p50, statistics.median(bare_ms[name]), "ms",
               than=bare_than, note=f"p50; bare p99 {percentile(bare_ms[name], 0.99):.3g}ms")
        client_ms = list(walls[name].values())
        report(f"{prefix}-{name}-client-p50", statistics.median(client_ms), p50, "ms",
               than="its server-side p50",
               note=f"client wall time per operation; p99 {percentile(client_ms, 0.99):.4g}ms")
    operations = sum(len(w) for w in walls.values())
    for endpoint, values in sorted(per_endpoint.items(),
                                   key=lambda item: -percentile(item[1], 0.99)):
        per_op = len(values) / max(1, len(endpoint_ops[endpoint]))
        report(f"{prefix}-endpoint-{endpoint}-p99", percentile(values, 0.99), BUDGET_MS, "ms",
               than="the 10 ms budget",
               note=f"one request; p50 {percentile(values, 0.5):.3g}ms; {len(values)} requests "
                    f"in {len(endpoint_ops[endpoint])} of {operations} operations "
                    f"({per_op:.3g} per operation using it)")


SHARED_BUFFERS = "2GB"
"""The PostgreSQL reads' buffer cache: the 1M ledger's tables and indexes that a read touches
(1.3 GB of its 1.8 GB) fit in it, as they would on a server sized for its ledger (a quarter
of this machine's 24 GB would be 6 GB).
PostgreSQL's 128 MB default holds an eighth of the entries, so each read of a trail copied
its hundred scattered heap pages in from the OS cache: a third of the keyed query."""


def _prewarm(con: Any) -> str:
    """Load the tables a read touches into the buffer cache (``pg_prewarm``, shipped with
    PostgreSQL), as a server that has been serving them holds them, and as the SQLite side is
    read through once; what was loaded, for the note."""
    try:
        con.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        pages = 0
        for relation in ("entries", "entries_pkey", "idx", "idx_pkey", "map_nodes",
                         "map_nodes_pkey", "map_leaves", "map_leaves_pkey"):
            found = con.execute("SELECT pg_prewarm(to_regclass(%s))", (relation,)).fetchone()
            pages += int(found[0]) if found and found[0] is not None else 0
    except Exception as exc:  # noqa: BLE001 - a cluster without the extension runs cold
        return f"not prewarmed ({str(exc).splitlines()[0]})"
    return f"{pages * 8 // 1024} MB prewarmed into shared_buffers={SHARED_BUFFERS}"


def postgres(n: int, ops: list[Any]) -> None:
    """The same ledger in PostgreSQL (a throwaway cluster, as the tests start one; built
    afresh each run, not cached), served and measured the same way."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    try:
        import psycopg
        from tests.pg_cluster import cluster
    except ImportError as exc:
        skipped("server-reads-pg", f"PostgreSQL support is not installed ({exc})")
        return
    from affidavit.ledger.postgres import PostgresLedger

    running = cluster(options=f"-c shared_buffers={SHARED_BUFFERS}")
    try:
        try:
            pg = next(running)
            url = pg.new_database()
        except Exception as exc:  # noqa: BLE001 - whatever stops a cluster from starting
            skipped("server-reads-pg", f"no PostgreSQL cluster here ({exc})")
            return
        with tempfile.TemporaryDirectory() as tmp:
            env = {"AFFIDAVIT_SIGNING_KEY_FILE": os.path.join(tmp, "signing.key")}
            os.environ.update(env)
            try:
                ledger = PostgresLedger(url)
                ledger.init()
                started = time.perf_counter()
                count = fill(ledger, n)
                meta = {"attestations": n, "entries": count,
                        "build_s": round(time.perf_counter() - started, 2)}
                ledger.close()
                with psycopg.connect(url, autocommit=True) as con:
                    con.execute("VACUUM ANALYZE")  # what autovacuum would do after a bulk load
                    found = con.execute("SELECT pg_database_size(current_database())").fetchone()
                    meta["bytes"] = int(found[0]) if found else 0
                    meta["prewarmed"] = _prewarm(con)
                measure("server-reads-pg", url, meta, ops,
                        lambda: bare(lambda: psycopg.connect(url, autocommit=True), ops, "%s"), env,
                        "a bare psycopg read of the same rows")
            finally:
                for key in env:
                    os.environ.pop(key, None)
    finally:
        next(running, None)


def main() -> int:
    quick = "--quick" in sys.argv
    n = 20_000 if quick else 1_000_000
    samples = 150 if quick else 500
    for key in ("AFFIDAVIT_PUBLIC_KEY", "AFFIDAVIT_API_TOKEN", "AFFIDAVIT_SIGNING_KEY_FILE"):
        os.environ.pop(key, None)
    db, meta = built(n)
    _read_through(db)
    ops = _operations(n, samples)
    measure("server-reads", str(db), meta, ops,
            lambda: bare(lambda: sqlite3.connect(f"file:{db}?mode=ro", uri=True), ops), {},
            "a bare SQLite read of the same rows")
    if "--no-postgres" not in sys.argv:
        postgres(n, ops)
    return 0


if __name__ == "__main__":
    sys.exit(main())
