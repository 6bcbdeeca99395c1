"""Helpers shared by the benchmarks: timing and the one-line report format."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence


def report(name: str, ours: float, anchor: float, unit: str = "s", *,
           ratio: float | None = None, note: str = "") -> None:
    """Print ``name: ours X, anchor Y, ratio R`` (ratio = ours/anchor unless given)."""
    value = ours / anchor if ratio is None else ratio
    suffix = f" ({note})" if note else ""
    print(f"{name}: ours {ours:.4g}{unit}, anchor {anchor:.4g}{unit}, ratio {value:.2f}{suffix}",
          flush=True)


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
