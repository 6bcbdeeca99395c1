"""Helpers shared by the benchmarks: timing and the one-line report format.

Every benchmark prints lines of one shape, so that a reader never has to remember whether a
ratio is ours/anchor or anchor/ours, nor whether higher is better::

    name: ours 48.1ms, anchor 10.2ms, 4.7x slower than python -c pass (target: at most 5x slower)

or, when the comparison could not be made (a contender missing), ``name: skipped: <why>``.
All figures are costs (times), so lower is better, and the factor is always ≥ 1 with the
word that says which way it goes.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def verdict(ours: float, anchor: float, than: str) -> str:
    """``2.1x faster than THAN`` or ``1.3x slower than THAN``, for costs (lower is better)."""
    if ours <= 0 or anchor <= 0:
        return f"not comparable with {than} (a time of 0)"
    if ours > anchor:
        return f"{ours / anchor:.2f}x slower than {than}"
    return f"{anchor / ours:.2f}x faster than {than}"


def report(name: str, ours: float, anchor: float, unit: str = "s", *, than: str,
           note: str = "") -> None:
    """Print ``name: ours X, anchor Y, F.FFx faster|slower than THAN (note)``.

    ``ours`` and ``anchor`` are costs in ``unit`` (lower is better); ``than`` names the anchor
    as a reader would (``python -c pass``, ``junitparser``, ``the 2 ms target``).
    """
    suffix = f" ({note})" if note else ""
    print(f"{name}: ours {ours:.4g}{unit}, anchor {anchor:.4g}{unit}, "
          f"{verdict(ours, anchor, than)}{suffix}", flush=True)


def skipped(name: str, why: str) -> None:
    """Print ``name: skipped: WHY``, for a comparison that could not run here."""
    print(f"{name}: skipped: {' '.join(why.split())}", flush=True)


def best(fn: Callable[[], object], repeat: int) -> float:
    """Fastest of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def median_run(cmd: Sequence[str], repeat: int, env: dict[str, str] | None = None,
               cwd: str | None = None) -> float:
    """Median wall time of a command, in seconds; fails loudly if the command fails."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env, cwd=cwd)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without settings that would distort timings (no bytecode cache)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def work_dir(name: str) -> Path:
    """Where a benchmark keeps the inputs it builds once: ``$AFFIDAVIT_BENCH_DIR`` (or the
    system temp dir) ``/affidavit-bench-<name>``, so a second run skips the building."""
    root = os.environ.get("AFFIDAVIT_BENCH_DIR") or tempfile.gettempdir()
    base = Path(root) / f"affidavit-bench-{name}"
    base.mkdir(parents=True, exist_ok=True)
    return base


#: Appended to a child's code, which defines ``work()``: times one call and prints
#: ``{seconds, counted, peak_kb}`` (``counted``: what ``work`` returned, for the parent to check
#: both contenders counted alike; the peak RSS is ``VmHWM``, since ``ru_maxrss`` of an exec'd
#: child starts at its parent's high-water mark).
MEASURE = r"""
import json as _json, resource as _resource, time as _time
_start = _time.perf_counter()
_counted = work()
_seconds = _time.perf_counter() - _start
_peak = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss
try:
    with open("/proc/self/status") as _status:
        _peak = next(int(line.split()[1]) for line in _status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
print(_json.dumps({"seconds": _seconds, "counted": _counted, "peak_kb": _peak}))
"""


def in_child(code: str, *args: str) -> Any:
    """What a fresh interpreter running ``code`` (which defines ``work()``) with ``args``
    measures (:data:`MEASURE`): one contender's work in a process of its own, so its imports,
    caches and peak memory are its own."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent / "core"))
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code + MEASURE, *args],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{Path(sys.argv[0]).name}: {args[0] if args else 'child'} failed:\n"
                         f"{done.stderr}")
    return json.loads(done.stdout)
