"""Benchmark: the coverage collector on a 100 MB lcov tracefile, against lcov-cobertura.

The anchor is ``lcov_cobertura.LcovCobertura(text).parse()``: of the lcov readers on PyPI,
lcov-cobertura is the one used most (the only one among PyPI's 15,000 most downloaded
packages; ``lcovparse``, ``lcov`` and ``lcovparser`` are not), and its ``parse()`` computes
what ours does -- line and branch counts per directory "package" and in total -- without the
XML it can go on to write. It takes the file's text whole, as its command line reads it.

Builds (once) under ``$AFFIDAVIT_BENCH_DIR`` or the system temp dir a tracefile of about
100 MB -- 10 MB with ``--quick`` -- in geninfo's format with deterministic content: source
files of 300-500 instrumented lines (``DA``, 70% covered) in 500 directories, a branch
(``BRDA``) every 8 lines, a few functions (``FN``/``FNDA``), and each record's ``LF``/``LH``/
``BRF``/``BRH``. Then 3 process pairs (2 with ``--quick``), a fresh process each as the CLI
runs, each timing its own work after its imports:

- ours: ``parse_file`` + ``summarize`` (a record matched whole and counted with
  ``bytes.count``/``findall``; one pass, 1 MiB at a time);
- the anchor: read the file, ``LcovCobertura(text).parse()``;

and prints the best time of each and, as a second line, the peak RSS of each (``VmHWM``: the
process's high-water mark), after checking both counted the same lines and branches:

    coverage-lcov-100MB: ours 7.75s, anchor 24.04s, 3.10x faster than lcov-cobertura (...)
    coverage-lcov-100MB-memory: ours 27MB, anchor 2786MB, 103.4x less than lcov-cobertura (...)

(measured here, 2 cores; under other load the same run gave 13.95 s against 58.85 s, 4.22x.)
Where our time goes (10 MB, profiled): the whole-record match about a third, the ``findall``
counts (duplicate line numbers, uncovered lines, branches) most of the rest.

Run: ``PYTHONPATH=core python3 bench/coverage.py [--quick]``. Targets: at least 2x faster,
and peak memory bounded (not growing with the file: under 64 MB on a 100 MB file).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import in_child, report, skipped, work_dir  # noqa: E402

FULL = 100 << 20
QUICK = 10 << 20
DIRS = 500
SEED = 20261203

CHILD = r"""
import sys
which, target = sys.argv[1:3]
if which == "ours":
    from affidavit.collect.coverage import parse_file, summarize

    def work():
        s = summarize([parse_file(target)])["summary"]
        return [s["lines"]["covered"], s["lines"]["total"], s["branches"]["covered"],
                s["branches"]["total"]]
else:
    from lcov_cobertura import LcovCobertura

    def work():
        with open(target, encoding="utf-8") as f:
            text = f.read()
        s = LcovCobertura(text).parse(timestamp=0)["summary"]
        return [s["lines-covered"], s["lines-total"], s["branches-covered"],
                s["branches-total"]]

"""


def _record(rng: random.Random, index: int) -> str:
    directory = f"/home/runner/work/app/app/src/module{index % DIRS:03d}"
    lines = rng.randint(300, 500)
    out = [f"SF:{directory}/file{index:06d}.c\n"]
    hits = [rng.randint(1, 400) if rng.random() < 0.7 else 0 for _ in range(lines)]
    for f in range(0, lines, 60):
        out.append(f"FN:{f + 1},function_{index}_{f}\n")
    for f in range(0, lines, 60):
        out.append(f"FNDA:{hits[f]},function_{index}_{f}\n")
    functions = len(range(0, lines, 60))
    out.append(f"FNF:{functions}\nFNH:{sum(1 for f in range(0, lines, 60) if hits[f])}\n")
    branches = covered_branches = 0
    for line in range(8, lines + 1, 8):
        for branch in (0, 1):
            taken = "-" if not hits[line - 1] else str(rng.choice((0, 1, 3, 17)))
            out.append(f"BRDA:{line},0,{branch},{taken}\n")
            branches += 1
            covered_branches += taken not in ("-", "0")
    out.append(f"BRF:{branches}\nBRH:{covered_branches}\n")
    out += [f"DA:{n},{h}\n" for n, h in enumerate(hits, 1)]
    out.append(f"LF:{lines}\nLH:{sum(1 for h in hits if h)}\nend_of_record\n")
    return "".join(out)


def build(base: Path, size: int) -> Path:
    """``base/lcov.info`` of about ``size`` bytes, made once per parameters."""
    path, marker = base / "lcov.info", base / "COMPLETE"
    spec = f"size={size} dirs={DIRS} seed={SEED}\n"
    if marker.exists() and marker.read_text() == spec:
        return path
    marker.unlink(missing_ok=True)
    rng = random.Random(SEED)
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write("TN:\n")
        index = 0
        while written < size:
            text = _record(rng, index)
            out.write(text)
            written += len(text)
            index += 1
    marker.write_text(spec)
    return path


def run(which: str, target: Path) -> dict[str, Any]:
    """One fresh process doing one contender's work; its report."""
    return in_child(CHILD, which, str(target))  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 10 MB file (CI smoke)")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    name = f"coverage-lcov-{size >> 20}mb"
    try:
        import lcov_cobertura  # noqa: F401
    except ImportError:
        skipped(name, "lcov-cobertura is not installed (pip install -e '.[dev]')")
        return 0
    base = work_dir(f"coverage-{size >> 20}")
    path = build(base, size)
    mine, theirs = [], []
    for _ in range(2 if args.quick else 3):  # in turn, so that a busy moment hits both
        mine.append(run("ours", path))
        theirs.append(run("anchor", path))
    counted = {tuple(r["counted"]) for r in mine + theirs}
    if len(counted) != 1:
        raise SystemExit(f"the counts differ: {sorted(counted)}")
    lines = next(iter(counted))
    megabytes = path.stat().st_size / 1e6
    report(name, min(r["seconds"] for r in mine), min(r["seconds"] for r in theirs),
           than="lcov-cobertura",
           note=f"{megabytes:.0f} MB, {lines[1]:,} lines, {lines[3]:,} branches; "
                "target: at least 2x faster")
    ours_mb = max(r["peak_kb"] for r in mine) / 1024
    anchor_mb = max(r["peak_kb"] for r in theirs) / 1024
    factor = (f"{anchor_mb / ours_mb:.2f}x less than" if ours_mb <= anchor_mb
              else f"{ours_mb / anchor_mb:.2f}x more than")
    print(f"{name}-peak-rss: ours {ours_mb:.0f}MB, anchor {anchor_mb:.0f}MB, "
          f"{factor} lcov-cobertura (peak RSS; target: bounded, under 64 MB whatever the "
          "file's size)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
