"""(i) Environments (issue 14): a snapshot of 10,000 running artifacts joined to their
provenance, and ``metrics`` over 100,000 snapshots, each against a plain SQL query over the
same rows (goal: at most 3x).

The ledger is built through the library (``models.build`` entries appended to the embedded
SQLite ledger in batches), in a temporary folder:

- **join**: 100 flows, each with one trail reporting 100 artifacts (10,000 fingerprints, a
  commit each) and one attestation per artifact, and a flow template asking it; one server
  environment whose one snapshot lists all 10,000. Ours: ``environments.get_snapshot`` (what
  ``affidavit get snapshot prod`` runs: the snapshot proven by the key map, every artifact's
  reports and its trail's entries proven complete, each trail judged). Anchor: one SQL query
  joining a table of the 10,000 running fingerprints to a table of reports (flow, trail,
  commit) and one of trail statuses, in a separate SQLite file holding just those rows.
- **metrics**: one environment with 100,000 snapshots of 5 artifact names, one of which
  changes fingerprint in each (``--quick``: 2,000; the join's ``--quick``: 1,000 artifacts).
  Ours: ``metrics.environment_metrics`` over the whole history (the snapshots proven
  complete, every deployment detected and judged on arrival). Anchor: one SQL query finding
  the same deployments (a name running a fingerprint its previous snapshot did not: ``LAG``
  over a table of (snapshot, name, fingerprint) rows) and counting them per day.

Both run warm (best of 3, after one run), in this process. Lines (costs: lower is better):
``environments-snapshot-join-10k`` and ``environments-metrics-100k``.

Run: ``PYTHONPATH=core python3 bench/environments.py [--quick]``.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import best, report

T0 = 1_780_000_000
BATCH = 5000


def _stamp(second: float) -> str:
    whole = int(second)
    micros = int((second - whole) * 1e6)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(T0 + whole)) + f".{micros:06d}Z"


def _fp(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _Writer:
    """Appends entries in batches, each with a time one second after the one before."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self.data: list[bytes] = []
        self.decoded: list[dict[str, Any]] = []
        self.second = 0

    def add(self, kind: str, record: dict[str, Any]) -> None:
        from affidavit import canonical
        from affidavit.models import build

        self.second += 1
        entry = build.entry(kind, record, time=_stamp(self.second))
        self.data.append(canonical.dumps(entry))
        self.decoded.append(entry)
        if len(self.data) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.data:
            self.ledger.append(self.data, self.decoded)
            self.data, self.decoded = [], []


def _ledger(folder: Path) -> Any:
    from affidavit.ledger.sqlite import SQLiteLedger

    ledger = SQLiteLedger(f"sqlite:///{folder / 'ledger.db'}")
    ledger.init()
    return ledger


def join_case(folder: Path, flows: int, per_trail: int) -> tuple[float, float, int]:
    from affidavit.api import environments
    from affidavit.models import build

    ledger = _ledger(folder)
    writer = _Writer(ledger)
    template = {"version": 1, "trail": {"artifacts": [
        {"name": "svc", "attestations": [{"name": "unit", "type": "generic"}]}]}}
    running = []
    rows = []
    for f in range(flows):
        flow, trail = f"flow-{f:03d}", "t1"
        writer.add("flow", build.flow(name=flow, template=template))
        writer.add("trail", build.trail(flow=flow, name=trail))
        for a in range(per_trail):
            digest, sha = _fp(f"{f}-{a}"), _fp(f"commit-{f}-{a}")[:40]
            writer.add("artifact", build.artifact(flow=flow, trail=trail, name="svc",
                                                  fingerprint=digest, artifact_type="docker",
                                                  commit={"sha": sha}))
            ok = (f + a) % 50 != 0
            writer.add("attestation", build.attestation(
                flow=flow, trail=trail, name="unit", type="generic", compliant=ok,
                predicate={"compliant": ok}, fingerprint=digest))
            running.append(build.running_artifact(name=f"svc-{f}-{a}", fingerprint=digest))
            rows.append((digest, flow, trail, sha))
    writer.add("environment", build.environment(name="prod", type="server"))
    writer.add("snapshot", build.snapshot(environment="prod", source="json", artifacts=running))
    writer.flush()

    def ours() -> None:
        found = environments.get_snapshot(ledger, "prod")
        assert len(found["artifacts"]) == flows * per_trail

    # the anchor: the same rows, a plain query
    plain = sqlite3.connect(str(folder / "plain.db"))
    plain.executescript("CREATE TABLE running(fingerprint TEXT PRIMARY KEY);"
                        "CREATE TABLE reports(fingerprint TEXT, flow TEXT, trail TEXT, "
                        "commit_sha TEXT); CREATE INDEX r ON reports(fingerprint);"
                        "CREATE TABLE trails(flow TEXT, trail TEXT, status TEXT, "
                        "PRIMARY KEY(flow, trail));")
    plain.executemany("INSERT INTO running VALUES (?)", [(r[0],) for r in rows])
    plain.executemany("INSERT INTO reports VALUES (?, ?, ?, ?)", rows)
    plain.executemany("INSERT INTO trails VALUES (?, ?, 'NON_COMPLIANT')",
                      sorted({(r[1], r[2]) for r in rows}))
    plain.commit()

    def anchor() -> None:
        got = plain.execute(
            "SELECT n.fingerprint, r.flow, r.trail, r.commit_sha, t.status FROM running n "
            "LEFT JOIN reports r ON r.fingerprint = n.fingerprint "
            "LEFT JOIN trails t ON t.flow = r.flow AND t.trail = r.trail").fetchall()
        assert len(got) == flows * per_trail

    ours()
    anchor()
    return best(ours, 3), best(anchor, 3), flows * per_trail


def metrics_case(folder: Path, snapshots: int) -> tuple[float, float, int]:
    from affidavit.api.metrics import environment_metrics
    from affidavit.models import build

    ledger = _ledger(folder)
    writer = _Writer(ledger)
    writer.add("environment", build.environment(name="prod", type="server"))
    names = ["api", "web", "worker", "cron", "edge"]
    versions = dict.fromkeys(names, 0)
    rows = []
    for n in range(snapshots):
        changed = names[n % len(names)]
        versions[changed] += 1
        artifacts = [build.running_artifact(name=name, fingerprint=_fp(f"{name}-{versions[name]}"))
                     for name in names]
        writer.add("snapshot", build.snapshot(environment="prod", source="json",
                                              artifacts=artifacts))
        rows += [(n, T0 + writer.second, a["name"], a["fingerprint"]) for a in artifacts]
    writer.flush()
    until = T0 + writer.second + 1

    def ours() -> None:
        found = environment_metrics(ledger, "prod", since="2000-01-01", now=until)
        assert found["deployments"] >= snapshots

    plain = sqlite3.connect(str(folder / "plain.db"))
    plain.executescript("CREATE TABLE shots(n INTEGER, t REAL, name TEXT, fingerprint TEXT);"
                        "CREATE INDEX s ON shots(name, n);")
    plain.executemany("INSERT INTO shots VALUES (?, ?, ?, ?)", rows)
    plain.commit()

    def anchor() -> None:
        got = plain.execute(
            "SELECT date(t, 'unixepoch') AS day, count(*) FROM ("
            " SELECT t, fingerprint, LAG(fingerprint) OVER (PARTITION BY name ORDER BY n) AS "
            " before FROM shots) WHERE before IS NULL OR before != fingerprint "
            "GROUP BY day").fetchall()
        assert sum(count for _, count in got) >= snapshots

    ours()
    anchor()
    return best(ours, 3), best(anchor, 3), snapshots


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="affidavit-bench-env-") as tmp:
        join_dir, metrics_dir = Path(tmp, "join"), Path(tmp, "metrics")
        join_dir.mkdir()
        metrics_dir.mkdir()
        flows, per_trail = (10, 100) if quick else (100, 100)
        ours, anchor, n = join_case(join_dir, flows, per_trail)
        report(f"environments-snapshot-join-{n // 1000}k", ours * 1000, anchor * 1000, "ms",
               than="a plain SQL join of the same rows", note="goal: at most 3x slower")
        ours, anchor, n = metrics_case(metrics_dir, 2_000 if quick else 100_000)
        report(f"environments-metrics-{n // 1000}k", ours * 1000, anchor * 1000, "ms",
               than="a plain SQL query finding the same deployments",
               note="goal: at most 3x slower")
    return 0


if __name__ == "__main__":
    sys.exit(main())
