"""Benchmark: directory fingerprint against ``find | sort | xargs sha256sum``.

Builds (once) a tree of 10,000 files / 200 MB in nested directories with deterministic content
-- 1,000 files / 20 MB with ``--quick`` -- under ``$AFFIDAVIT_BENCH_DIR`` or the system temp
dir, warms the page cache, then times ``fingerprint_dir`` in-process (best of 3) and the anchor
``find DIR -type f | sort | xargs sha256sum > /dev/null`` (best of 3), and prints one line:

    fingerprint-dir: ours 0.123s, anchor 0.456s, 3.71x faster than find | sort | xargs sha256sum

Run: ``PYTHONPATH=core python3 bench/fingerprint.py [--quick]``. Target: at least 2x faster.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    from affidavit.collect.fingerprint import fingerprint_dir
except ImportError:  # run from a checkout without PYTHONPATH
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
    from affidavit.collect.fingerprint import fingerprint_dir

FULL = (10_000, 200_000_000)
QUICK = (1_000, 20_000_000)
SEED = 20240501
RUNS = 3


def _sizes(files: int, total: int, rng: random.Random) -> list[int]:
    """Log-normal sizes (many small files, a few large ones) summing exactly to ``total``."""
    raw = [rng.lognormvariate(0.0, 1.2) for _ in range(files)]
    scale = total / sum(raw)
    sizes = [max(1, int(r * scale)) for r in raw]
    sizes[-1] += total - sum(sizes)
    if sizes[-1] < 1:  # pragma: no cover - cannot happen with these parameters
        raise RuntimeError("size distribution does not fit the total")
    return sizes


def build_tree(base: Path, files: int, total: int) -> Path:
    """Create ``base/tree`` once; a marker beside it records the parameters of a complete tree."""
    tree = base / "tree"
    marker = base / "COMPLETE"
    spec = f"files={files} bytes={total} seed={SEED}\n"
    if marker.exists() and marker.read_text() == spec:
        return tree
    if tree.exists():
        subprocess.run(["rm", "-rf", "--", str(tree)], check=True)
    marker.unlink(missing_ok=True)
    rng = random.Random(SEED)
    sizes = _sizes(files, total, rng)
    per_leaf = 100
    for i, size in enumerate(sizes):
        leaf, index = divmod(i, per_leaf)
        top, mid = divmod(leaf, 10)
        directory = tree / f"pkg{top:02d}" / f"mod{mid:d}"
        if index == 0:
            directory.mkdir(parents=True, exist_ok=True)
        (directory / f"file{index:03d}.bin").write_bytes(rng.randbytes(size))
    marker.write_text(spec)
    return tree


def warm(tree: Path) -> None:
    """Read every file once so both contenders run with a hot cache."""
    for dirpath, _dirs, names in os.walk(tree):
        for name in names:
            with open(os.path.join(dirpath, name), "rb") as f:
                while f.read(1 << 20):
                    pass


def time_ours(tree: Path) -> float:
    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter()
        fingerprint_dir(tree)
        best = min(best, time.perf_counter() - start)
    return best


def time_anchor(tree: Path) -> float:
    command = f"find {shlex.quote(str(tree))} -type f | sort | xargs sha256sum > /dev/null"
    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(["bash", "-c", command], check=True)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 files / 20 MB (CI smoke)")
    args = parser.parse_args(argv)
    files, total = QUICK if args.quick else FULL
    root = os.environ.get("AFFIDAVIT_BENCH_DIR") or tempfile.gettempdir()
    base = Path(root) / f"affidavit-bench-fingerprint-{files}"
    base.mkdir(parents=True, exist_ok=True)
    tree = build_tree(base, files, total)
    warm(tree)
    fingerprint_dir(tree)  # warm-up: imports, thread start-up, dentry cache
    ours = time_ours(tree)
    anchor = time_anchor(tree)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import report

    report("fingerprint-dir", ours, anchor, than="find | sort | xargs sha256sum",
           note="target: at least 2x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
