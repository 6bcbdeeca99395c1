"""The README's promises: `make demo`'s script runs end to end, and the benchmarks still run.

No timing is asserted here (speed is reported by bench/run, not tested); only that each
benchmark prints its one line in the agreed shape.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# every command a pipeline runs on each change, each timed cold by bench/coldstart.py
COLDSTART_COMMANDS = ["attest-generic", "attest-junit", "attest-sarif", "attest-snyk",
                      "attest-vulns", "attest-sbom", "attest-coverage", "attest-artifact",
                      "attest-custom", "attest-approval", "begin-trail", "get-trail",
                      "assert-trail", "assert-artifact", "fingerprint"]


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env.pop("AFFIDAVIT_LEDGER", None)
    result = subprocess.run([sys.executable, str(ROOT / "examples/demo/demo.py")], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(r"^Status:\s+COMPLIANT$", result.stdout, re.MULTILINE)
    assert re.search(r"^verified evidence\.zip: 5 entries and 2 evidence files", result.stdout,
                     re.MULTILINE)
    # part 2: two jobs through a team server, the package verified with the server stopped
    assert re.search(r"^verified team\.zip: 4 entries and 1 evidence files", result.stdout,
                     re.MULTILINE)
    assert "Demo complete: both parts verified." in result.stdout


def test_bench_run_quick_prints_one_line_per_benchmark(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    result = subprocess.run([sys.executable, str(ROOT / "bench/run"), "--quick"], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    names = [line.split(":", 1)[0] for line in lines]
    # the read bench adds a line per endpoint its operations used: named, not listed
    endpoints = [n for n in names if re.fullmatch(r"server-reads(-pg)?-endpoint-[a-z-]+-p99", n)]
    assert {"server-reads-endpoint-read-many-p99", "server-reads-pg-endpoint-read-many-p99"} <= \
        set(endpoints)
    names = [n for n in names if n not in endpoints]
    coldstart = [f"coldstart-{command}{versus}" for command in COLDSTART_COMMANDS
                 for versus in ("", "-vs-kosli")]
    assert names == [*coldstart, "coldstart-crypto-imports", "fingerprint-dir", "append-10k",
                     "append-10k-entries",
                     "inclusion-proof-20k", "map-proof-20k", "assert-trail-20k",
                     "assert-trail-20k-extra", "junit-10k-1file", "junit-10k-1file-vs-defusedxml",
                     "junit-10k-1file-fold-cost", "junit-10k-1000files",
                     "junit-10k-1000files-vs-defusedxml", "junit-10k-1000files-fold-cost",
                     "sarif-10k",
                     "sarif-10k-vs-ijson",
                     *[f"server-{storage}-16-clients{line}" for storage in ("sqlite", "postgresql")
                       for line in ("", "-p50", "-p99", "-vs-noop")],
                     *[f"server-reads{pg}-{op}-{line}" for pg in ("", "-pg")
                       for op in ("get-trail", "search-commit", "search-fingerprint")
                       for line in ("p50", "p99", "vs-bare", "client-p50")],
                     "ui-flow-page-p50", "ui-flow-page-p99", "ui-trail-page-p50",
                     "ui-trail-page-p99", "ui-flows-p50", "ui-flows-p99",
                     "ui-flow-page-after-append", "ui-flow-page-cold", "ui-trail-page-first",
                     "ui-flow-page-vs-bare", "ui-flow-page-cold-vs-bare", "ui-trail-page-vs-bare",
                     "ui-flows-vs-bare",
                     "environments-snapshot-join-1k", "environments-metrics-2k",
                     "coverage-lcov-10mb", "coverage-lcov-10mb-peak-rss", "sbom-2mb",
                     "sbom-2mb-peak-rss"]
    # which way is better is spelled out, never a bare ratio (time, or peak memory)
    shape = re.compile(r"^[a-z0-9-]+: ours [0-9.e+-]+(ms|s|MB), anchor [0-9.e+-]+(ms|s|MB), "
                       r"[0-9]+\.[0-9]{2}x (faster|slower|less|more) than [^(]+( \(.*\))?$")
    for line in lines:
        name = line.split(":", 1)[0]
        if name.endswith("-vs-kosli") and ": skipped: " in line:
            continue  # no Kosli CLI here (--quick never downloads it)
        assert shape.match(line), line
