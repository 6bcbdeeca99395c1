"""Benchmark: SARIF collector (parse + summarize) against sarif-tools' loader and level counts.

Generates (once) a SARIF 2.1.0 log of 100,000 results -- 10,000 with ``--quick`` -- under
``$AFFIDAVIT_BENCH_DIR`` or the system temp dir: 300 rules with ``defaultConfiguration``
levels, a third with ``security-severity``; results naming their rule by ``ruleId`` and
``ruleIndex``, half without a level of their own, one to three locations, partial
fingerprints, 5% suppressed, a baseline state on every tenth. Then times, best of 3 each:

- ours: ``sarif.parse_file`` + ``sarif.summarize`` (streaming; counts per level and severity);
- anchor: ``sarif.loader.load_sarif_file`` + ``SarifFile.get_report()`` and
  ``get_issue_count_for_severity`` for every level (sarif-tools' per-level counts);

and measures our peak RSS in a fresh interpreter that only parses and summarizes the file.
Prints one line:

    sarif-100k: ours 0.8s, anchor 1.2s, 1.50x faster than sarif-tools (peak RSS 40 MB for ...)

A second line is why the collector reads JSON with its own streaming cursor
(``collect/scans/jsonstream.py``: the C scanner behind ``json`` decodes one result at a time)
instead of ``ijson``: a log needs the results *and* the run each belongs to, its tool and rules,
in one pass with bounded memory. ijson's C backend builds objects in C only for one prefix
(``ijson.items``: the results, but not which run they are in, nor anything else; reported as
the lower bound); several prefixes in one pass (ICRAR/ijson#109) take its event stream through
Python, building each result with ``ijson.ObjectBuilder``: that is the anchor, timed reading the
results and each run's tool name only, less than ours does. The hand-written reader stays while
ijson costs more than 25% (a ratio below 0.8):

    sarif-100k-vs-ijson: ours 0.80s, anchor 3.2s, ratio 0.25 (...)

Run: ``PYTHONPATH=core python3 bench/sarif.py [--quick]``.
Targets: at least as fast; peak RSS <= 2x the file size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This file is named like sarif-tools' package ``sarif``: keep its folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
try:
    from affidavit.collect.scans import sarif as collector
except ImportError:  # run from a checkout without PYTHONPATH
    sys.path.insert(0, str(HERE.parent / "core"))
    from affidavit.collect.scans import sarif as collector

FULL, QUICK = 100_000, 10_000
RULES = 300
SEED = 20240517
RUNS = 3
LEVELS = ["error", "warning", "note"]
# VmHWM, not ru_maxrss: Linux carries the parent's RSS at fork into the child's ru_maxrss.
RSS_PROBE = """
import resource, sys
from affidavit.collect.scans import sarif
sarif.summarize([sarif.parse_file(sys.argv[1])])
try:
    with open("/proc/self/status") as status:
        print(next(l.split()[1] for l in status if l.startswith("VmHWM:")))
except OSError:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _rule(i: int, rng: random.Random) -> dict[str, object]:
    rule: dict[str, object] = {
        "id": f"R{i:04d}", "name": f"Rule{i}",
        "shortDescription": {"text": f"Rule number {i} found something questionable."},
        "defaultConfiguration": {"level": rng.choice(LEVELS)},
        "helpUri": f"https://example.com/rules/R{i:04d}"}
    if i % 3 == 0:
        rule["properties"] = {"security-severity": f"{rng.uniform(0.5, 10.0):.1f}",
                              "tags": ["security"]}
    return rule


def _result(i: int, rng: random.Random) -> dict[str, object]:
    index = rng.randrange(RULES)
    result: dict[str, object] = {
        "ruleId": f"R{index:04d}", "ruleIndex": index,
        "message": {"text": f"Something questionable in function f{i} at this place."},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": f"src/pkg{i % 97}/module{i % 13}.py",
                                 "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 1 + i % 400, "startColumn": 5, "endLine": 2 + i % 400,
                       "endColumn": 40}}} for _ in range(1 + i % 3)],
        "partialFingerprints": {"primaryLocationLineHash": f"{rng.getrandbits(64):016x}:1"}}
    if i % 2:
        result["level"] = rng.choice(LEVELS)
    if i % 20 == 0:
        result["suppressions"] = [{"kind": "inSource", "status": "accepted"}]
    if i % 10 == 0:
        result["baselineState"] = rng.choice(["new", "unchanged", "updated"])
    return result


def build_log(base: Path, results: int) -> Path:
    """Write the log once; a marker records the parameters of a complete file."""
    path = base / "scan.sarif"
    marker = base / "COMPLETE"
    spec = f"results={results} rules={RULES} seed={SEED}\n"
    if marker.exists() and marker.read_text() == spec and path.exists():
        return path
    marker.unlink(missing_ok=True)
    rng = random.Random(SEED)
    rules = [_rule(i, rng) for i in range(RULES)]
    with path.open("w", encoding="utf-8") as out:
        head = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0"}
        out.write(json.dumps(head, indent=2)[:-2])
        tool = {"driver": {"name": "BenchScanner", "version": "1.2.3", "rules": rules}}
        out.write(',\n  "runs": [\n    {\n      "tool": ' + json.dumps(tool, indent=2))
        out.write(',\n      "results": [\n')
        for i in range(results):
            out.write(("        " if i == 0 else ",\n        ")
                      + json.dumps(_result(i, rng)))
        out.write("\n      ]\n    }\n  ]\n}\n")
    marker.write_text(spec)
    return path


def ours(path: Path) -> dict[str, object]:
    return collector.summarize([collector.parse_file(path)])


def anchor(path: Path) -> dict[str, int]:
    from sarif.loader import load_sarif_file

    report = load_sarif_file(str(path)).get_report()
    return {level: report.get_issue_count_for_severity(level)
            for level in ("error", "warning", "note", "none")}


def ijson_single_pass(path: Path) -> list[list[object]]:
    """Each run's tool name and result count, every result built, in one pass of ijson."""
    import ijson

    runs: list[list[object]] = []
    builder: ijson.ObjectBuilder | None = None
    depth = 0
    with path.open("rb") as f:
        for prefix, event, value in ijson.parse(f, use_float=True):
            if builder is not None:
                builder.event(event, value)
                if event in ("start_map", "start_array"):
                    depth += 1
                elif event in ("end_map", "end_array"):
                    depth -= 1
                    if depth == 0:
                        runs[-1][1] += 1  # type: ignore[operator]  # builder.value is a result
                        builder = None
            elif prefix == "runs.item.results.item" and event == "start_map":
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                depth = 1
            elif prefix == "runs.item" and event == "start_map":
                runs.append([None, 0])
            elif prefix == "runs.item.tool.driver.name":
                runs[-1][0] = value
    return runs


def ijson_results_only(path: Path) -> int:
    """How many results, each built by ijson's C backend; no run structure (a lower bound)."""
    import ijson

    with path.open("rb") as f:
        return sum(1 for _ in ijson.items(f, "runs.item.results.item", use_float=True))


def best(fn: object, path: Path) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn(path)  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def peak_rss_mb(path: Path) -> float:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent / "core"),
                                                      env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-c", RSS_PROBE, str(path)], check=True,
                         capture_output=True, text=True, env=env).stdout
    return int(out.split()[-1]) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 results (CI smoke)")
    args = parser.parse_args(argv)
    results = QUICK if args.quick else FULL
    root = os.environ.get("AFFIDAVIT_BENCH_DIR") or tempfile.gettempdir()
    base = Path(root) / f"affidavit-bench-sarif-{results}"
    base.mkdir(parents=True, exist_ok=True)
    path = build_log(base, results)
    rss = peak_rss_mb(path)  # first, while this process is still small
    mine, theirs = ours(path), anchor(path)  # warm-up; and the two must agree
    summary = mine["summary"]
    if summary["by_level"] != theirs:  # type: ignore[index]
        raise SystemExit(f"level counts differ: ours {summary['by_level']}, "  # type: ignore[index]
                         f"anchor {theirs}")
    t_ours, t_anchor = best(ours, path), best(anchor, path)
    size = path.stat().st_size / (1 << 20)
    label = f"sarif-{results // 1000}k"
    sys.path.append(str(HERE))  # after site-packages: ``sarif`` stays sarif-tools' package
    from _common import report

    report(label, t_ours, t_anchor, than="sarif-tools",
           note=f"peak RSS {rss:.0f} MB for a {size:.0f} MB file; target: at least as fast")
    if ijson_single_pass(path) != [["BenchScanner", results]]:
        raise SystemExit("the ijson reader did not find every result of the run")
    t_ijson, t_items = best(ijson_single_pass, path), best(ijson_results_only, path)
    report(f"{label}-vs-ijson", t_ours, t_ijson,
           than="an ijson single pass (events through Python)",
           note=f"ijson.items of the results alone, no run structure: {t_items:.3f}s; "
                "hand-written reader kept while at least 1.25x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
