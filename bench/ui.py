"""(u) The web UI's two heaviest pages, rendered on the server: ``GET /flows/big`` of a flow
with 10,000 trails (page 1 of 200: 50 trails, each with its verdict) and
``GET /flows/big/trails/fat`` of a trail with 1,000 attestations, against a budget of 100 ms
each.

The ledger is built through the library (``models.build`` entries appended to the embedded
SQLite ledger a thousand per transaction, as ``tests/ui/test_ui.py::_big_flow`` does), once,
and kept under ``$AFFIDAVIT_BENCH_DIR`` (``bench/_common.py``); each run works on a copy of
it. Its shape: flow ``big`` with a template (a trail-level ``review``, artifact ``app`` with a
JUnit ``unit``); trail ``fat`` begun first; 9,999 trails ``t00000`` ... ``t09998``; then 500
trails changed again (begun again with a description), the last 60 of them also reported an
artifact, a JUnit report and a signed review, so that page 1 is made of trails changed out
of log order with real verdicts; then ``fat``'s artifact and 1,000 attestations: 250 JUnit
reports bound to the artifact (every tenth failing, with its failed cases), 250 signed
reviews and 500 generic checks with annotations.

One ``create_app`` under uvicorn in a thread of this process (``tests/server/threaded.py``),
its cyclic collector set as ``affidavit server`` sets it (``server/asgi.py``), serves it on
127.0.0.1; the server side of a request is the ``ms`` of the app's own log record
(``server/app.py``'s ``_Logged``: from the request reaching the app to the response leaving
it: the proven reads, the verdicts and the HTML). The first request of each page is not
counted (the ledger's caches read in, the page's judge verdicts found: ``verify/proven.py``'s
``_JUDGED``).

Lines (costs: lower is better):

- ``ui-flow-page-p50`` / ``-p99``: page 1 of the 10k-trail flow, read again and again at one
  checkpoint (the process remembers the flow's trails it proved, ``api/browse.py``), against
  the 100 ms budget;
- ``ui-flow-page-after-append``: the same page after one more trail change was appended
  before each request (the memory extended by the entries filed since), p50;
- ``ui-flow-page-cold``: the same page with that memory emptied first (every entry of
  ``trails:big`` read and proven again, as the first page of a flow after a restart), p50;
- ``ui-trail-page-p50`` / ``-p99``: the trail of 1,000 attestations;
- ``ui-trail-page-first``: the same with the judge's verdicts forgotten first (every
  attestation judged again, as at its first page after a restart), p50;
- ``ui-flows-p50``: ``GET /``, the list of flows (each flow's count and latest trail);
- ``ui-<page>-vs-bare``: each p50 against a bare SQLite read of the same rows in this
  process (the index rows of the keys the page reads, then their entries): what the proofs,
  the verdicts and the HTML cost on top of reading the rows.

Run: ``python3 bench/ui.py [--quick]`` (``--quick``: the same ledger, fewer requests).
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _common import report, work_dir

#: Bump when the generated ledger changes, so a kept one of the old shape is not reused.
GENERATOR = 1
TRAILS = 10_000  # ``fat`` and ``t00000`` ... ``t09998``
ATTESTATIONS = 1_000
CHANGED = 500  # trails begun again after all were begun (page 1 is made of these)
REPORTED = 60  # of those, the last ones that also get an artifact, a test report, a review
BATCH = 1000
BUDGET_MS = 100.0
FLOW, FAT = "big", "fat"
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
TEMPLATE = {"version": 1, "trail": {
    "attestations": [{"name": "review", "type": "generic"}],
    "artifacts": [{"name": "app", "attestations": [{"name": "unit", "type": "junit"}]}]}}
PASSING = b'<testsuite name="s" tests="2"><testcase classname="c" name="a"/>' \
          b'<testcase classname="c" name="b"/></testsuite>'
FAILING = b'<testsuite name="s" tests="2" failures="1"><testcase classname="c" name="a">' \
          b'<failure message="expected 1, got 2">boom</failure></testcase>' \
          b'<testcase classname="c" name="b"/></testsuite>'


def _stamp(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(T0 + second)) + ".000000Z"


class _History:
    """The entries of the ledger, in log order (kind, record), made as the CLI makes them."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from affidavit.models import dsse

        self.key = dsse.SigningKey(Ed25519PrivateKey.generate())
        self.junit = {ok: self._junit(ok) for ok in (True, False)}

    @staticmethod
    def _junit(ok: bool) -> dict[str, Any]:
        from affidavit.collect import junit
        from affidavit.compliance.judge import junit_policy

        data = PASSING if ok else FAILING
        parsed = junit.parse_stream(io.BytesIO(data), "results.xml")
        predicate = junit.summarize([parsed])
        predicate["policy"] = junit_policy(0, 0)
        return predicate

    def _report(self, trail: str, fingerprint: str, n: int, ok: bool) -> Iterator[Any]:
        """A JUnit report bound to the artifact and a signed review of the trail."""
        from affidavit.compliance.judge import judge
        from affidavit.models import build, dsse

        predicate = self.junit[ok]
        compliant, _ = judge("junit", "unit", predicate)
        data = PASSING if ok else FAILING
        evidence = [{"name": "results.xml", "sha256": hashlib.sha256(data).hexdigest(),
                     "size": len(data)}]
        yield "attestation", build.attestation(
            flow=FLOW, trail=trail, name="unit", type="junit", compliant=compliant,
            predicate=predicate, fingerprint=fingerprint, evidence=evidence,
            commit={"sha": hashlib.sha1(f"{trail}-{n}".encode()).hexdigest()})
        review = build.attestation(flow=FLOW, trail=trail, name="review", type="generic",
                                   compliant=True, predicate={"compliant": True},
                                   annotations={"reviewer": f"user{n % 7}"})
        yield "attestation", build.signed(review, *dsse.envelope(review, self.key))

    def entries(self) -> Iterator[tuple[str, dict[str, Any]]]:
        from affidavit.models import build

        yield "flow", build.flow(name=FLOW, description="many trails", template=TEMPLATE)
        yield "trail", build.trail(flow=FLOW, name=FAT, description="a release of 1,000 checks")
        for t in range(TRAILS - 1):
            yield "trail", build.trail(flow=FLOW, name=f"t{t:05d}")
        for n in range(CHANGED):
            name = f"t{n * 7919 % (TRAILS - 1):05d}"
            yield "trail", build.trail(flow=FLOW, name=name, description=f"rebuilt #{n}")
            if n >= CHANGED - REPORTED:
                fingerprint = hashlib.sha256(f"app-{name}".encode()).hexdigest()
                yield "artifact", build.artifact(flow=FLOW, trail=name, name="app",
                                                 fingerprint=fingerprint,
                                                 artifact_type="docker")
                yield from self._report(name, fingerprint, n, ok=n % 5 != 0)
        fingerprint = hashlib.sha256(b"app-fat").hexdigest()
        yield "artifact", build.artifact(flow=FLOW, trail=FAT, name="app",
                                         fingerprint=fingerprint, artifact_type="docker")
        for a in range(ATTESTATIONS // 4):
            yield from self._report(FAT, fingerprint, a, ok=a % 10 != 0)
        for a in range(ATTESTATIONS // 2):
            yield "attestation", build.attestation(
                flow=FLOW, trail=FAT, name=f"check-{a:03d}", type="generic",
                compliant=a % 50 != 7, predicate={"compliant": a % 50 != 7},
                annotations={"job": f"https://ci.example/jobs/{a}"})


def built() -> tuple[Path, dict[str, Any]]:
    """The kept ledger's folder (built on first use) and its build facts."""
    from affidavit import canonical
    from affidavit.ledger.sqlite import FORMAT, SQLiteLedger
    from affidavit.models import build

    folder = work_dir("ui") / f"g{GENERATOR}-f{FORMAT}"
    meta_path = folder / "meta.json"
    if meta_path.is_file():
        return folder, json.loads(meta_path.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="build.", dir=folder.parent))
    try:
        started = time.perf_counter()
        ledger = SQLiteLedger(f"sqlite:///{work / 'l.db'}", create=True)
        ledger.init()
        data: list[bytes] = []
        decoded: list[dict[str, Any]] = []
        count = 0
        for second, (kind, record) in enumerate(_History().entries()):
            entry = build.entry(kind, record, time=_stamp(second))
            data.append(canonical.dumps(entry))
            decoded.append(entry)
            if len(data) == BATCH:
                ledger.append(data, decoded)
                count, data, decoded = count + len(data), [], []
        if data:
            ledger.append(data, decoded)
            count += len(data)
        ledger.close()
        meta = {"entries": count, "build_s": round(time.perf_counter() - started, 2)}
        (work / "meta.json").write_text(json.dumps(meta))
        work.rename(folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder, json.loads(meta_path.read_text())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _settle() -> None:
    gc.collect()
    gc.freeze()


class Served:
    """The app over the ledger at ``url`` under uvicorn in a thread; :meth:`get` answers a
    page and the server-side ms its request took (the app's own log record)."""

    def __init__(self, url: str) -> None:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        import requests
        from tests.server.threaded import ThreadedApp

        from affidavit.server.app import create_app

        self.records: dict[str, float] = {}
        self.session = requests.Session()
        # the collector set as ``affidavit server`` sets it (server/asgi.py::make): what lives
        # as long as the process frozen out of its walks, the older generations walked less
        self.served = ThreadedApp(create_app(url, log=self._log, opened=_settle))
        _settle()
        young, _, _ = gc.get_threshold()
        gc.set_threshold(young, 100, 100)
        self.n = 0

    def _log(self, record: dict[str, Any]) -> None:
        self.records[str(record.get("request_id"))] = float(record["ms"])

    def __enter__(self) -> Served:
        self.served.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()
        self.served.__exit__(*exc)

    def get(self, path: str) -> tuple[str, float]:
        self.n += 1
        request_id = f"r{self.n}"
        answer = self.session.get(self.served.url + path, headers={"x-request-id": request_id},
                                  timeout=60)
        if answer.status_code != 200:
            raise SystemExit(f"GET {path}: {answer.status_code}\n{answer.text[:2000]}")
        for _ in range(1000):  # the log record is written after the last byte is sent
            if request_id in self.records:
                return answer.text, self.records.pop(request_id)
            time.sleep(0.001)
        raise SystemExit(f"GET {path}: no log record")


def bare_rows(db: Path, keys: Callable[[sqlite3.Connection], list[str]]) -> float:
    """Milliseconds of a bare read of the index rows of ``keys(con)`` and their entries."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        started = time.perf_counter()
        wanted = keys(con)
        positions = sorted({p for key in wanted for (p,) in con.execute(
            "SELECT entry FROM idx WHERE key = ?", (key,))})
        rows = 0
        for first in range(0, len(positions), 900):
            some = positions[first:first + 900]
            rows += len(con.execute(
                f"SELECT idx, data, leaf FROM entries WHERE idx IN ({','.join('?' * len(some))})",
                some).fetchall())
        took = (time.perf_counter() - started) * 1000
        assert rows == len(positions), (rows, len(positions))
        return took
    finally:
        con.close()


def main() -> int:
    quick = "--quick" in sys.argv
    samples = 10 if quick else 40
    for key in ("AFFIDAVIT_PUBLIC_KEY", "AFFIDAVIT_API_TOKEN", "AFFIDAVIT_SIGNING_KEY_FILE"):
        os.environ.pop(key, None)
    folder, meta = built()
    with tempfile.TemporaryDirectory() as tmp:
        here = Path(tmp) / "ledger"
        shutil.copytree(folder, here)
        os.environ["AFFIDAVIT_CACHE_DIR"] = str(Path(tmp) / "cache")
        db = here / "l.db"
        url = f"sqlite:///{db}"
        common = f"{meta['entries']} entries, built in {meta['build_s']}s"
        with Served(url) as served:
            measure(served, db, samples, common)
    return 0


def measure(served: Served, db: Path, samples: int, common: str) -> None:
    from affidavit import canonical
    from affidavit.api import browse
    from affidavit.ledger.sqlite import SQLiteLedger
    from affidavit.models import build
    from affidavit.verify import proven

    flow_path, trail_path = f"/flows/{FLOW}", f"/flows/{FLOW}/trails/{FAT}"
    for path in (flow_path, trail_path, "/"):  # the caches read in
        served.get(path)
    page, _ = served.get(flow_path)
    names = re.findall(rf'href="/flows/{FLOW}/trails/([^"/]+)">', page)
    assert len(names) == browse.PAGE and "page 1 of 200" in page, (len(names), page[:500])

    def times(path: str, before: Callable[[], None] | None = None) -> list[float]:
        out = []
        for _ in range(samples):
            if before is not None:
                before()
            out.append(served.get(path)[1])
        return out

    flow_ms = times(flow_path)
    trail_ms = times(trail_path)
    flows_ms = times("/")
    cold_ms = times(flow_path, browse._MEMO.clear)
    first_ms = times(trail_path, proven._JUDGED.clear)
    writer = SQLiteLedger(f"sqlite:///{db}")
    changed: list[str] = []

    def change() -> None:  # one more trail change: it comes first on the page
        changed.append(f"t{len(changed) * 13 % (TRAILS - 1):05d}")
        entry = build.entry("trail", build.trail(flow=FLOW, name=changed[-1],
                                                 description=f"again #{len(changed)}"))
        writer.append([canonical.dumps(entry)], [entry])

    try:
        after_ms = times(flow_path, change)
    finally:
        writer.close()
    page, _ = served.get(flow_path)
    first = re.findall(rf'href="/flows/{FLOW}/trails/([^"/]+)">', page)[:len(changed)]
    assert first == changed[::-1] and "page 1 of 200" in page, (first, changed)

    def page_keys(con: sqlite3.Connection) -> list[str]:
        # what a page reads once it remembers the flow's trails, but the positions of
        # trails:big (bare_page reads those): the flow's own entries, the page's trails'
        return [f"flowdef:{FLOW}", *(f"trail:{FLOW}/{name}" for name in names)]

    def bare_page() -> float:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        started = time.perf_counter()
        positions = [p for (p,) in con.execute("SELECT entry FROM idx WHERE key = ?",
                                               (f"trails:{FLOW}",))]
        took = (time.perf_counter() - started) * 1000
        assert len(positions) > TRAILS, len(positions)
        con.close()
        return took + bare_rows(db, page_keys)

    def bare_cold() -> float:
        return bare_rows(db, lambda con: [f"trails:{FLOW}", *page_keys(con)])

    bare = {
        "flow": statistics.median(bare_page() for _ in range(samples)),
        "cold": statistics.median(bare_cold() for _ in range(samples)),
        "trail": statistics.median(bare_rows(db, lambda con: [
            f"flowdef:{FLOW}", f"trail:{FLOW}/{FAT}"]) for _ in range(samples)),
        "flows": statistics.median(bare_rows(db, lambda con: [
            "kind:flow", f"flowdef:{FLOW}", f"trail:{FLOW}/{names[0]}"])
            for _ in range(samples)),
    }
    budget = "the 100 ms budget"
    for name, values, note in (
            ("flow-page", flow_ms, f"GET {flow_path}: 10,000 trails, page 1 of 200, 50 trails; "
                                   f"{len(flow_ms)} requests at one checkpoint; {common}"),
            ("trail-page", trail_ms, f"GET {trail_path}: 1,000 attestations"),
            ("flows", flows_ms, "GET /: one flow of 10,000 trails")):
        report(f"ui-{name}-p50", statistics.median(values), BUDGET_MS, "ms", than=budget,
               note=note)
        report(f"ui-{name}-p99", percentile(values, 0.99), BUDGET_MS, "ms", than=budget,
               note="server-side, from the app's log record")
    report("ui-flow-page-after-append", statistics.median(after_ms), BUDGET_MS, "ms",
           than=budget, note="p50; one trail change appended before each request; "
                             f"p99 {percentile(after_ms, 0.99):.4g}ms")
    report("ui-flow-page-cold", statistics.median(cold_ms), BUDGET_MS, "ms", than=budget,
           note="p50; the remembered trails of the flow forgotten before each request: "
                f"all of trails:{FLOW} read and proven again; p99 "
                f"{percentile(cold_ms, 0.99):.4g}ms")
    report("ui-trail-page-first", statistics.median(first_ms), BUDGET_MS, "ms", than=budget,
           note="p50; the judge's verdicts forgotten before each request: every attestation "
                f"judged again, 250 signatures verified; p99 {percentile(first_ms, 0.99):.4g}ms")
    bare_than = "a bare SQLite read of the same rows"
    report("ui-flow-page-vs-bare", statistics.median(flow_ms), bare["flow"], "ms",
           than=bare_than, note="the positions of trails:big and the page's trails' entries")
    report("ui-flow-page-cold-vs-bare", statistics.median(cold_ms), bare["cold"], "ms",
           than=bare_than, note="every entry of trails:big and the page's trails' entries")
    report("ui-trail-page-vs-bare", statistics.median(trail_ms), bare["trail"], "ms",
           than=bare_than, note="the trail's and the flow's own entries")
    report("ui-flows-vs-bare", statistics.median(flows_ms), bare["flows"], "ms",
           than=bare_than, note="the flows, the flow's own entries, its latest trail's")


if __name__ == "__main__":
    sys.exit(main())
