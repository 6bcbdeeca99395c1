"""The per-file tally of the JUnit collector: suite frames, and the per-file dict they make.

:class:`~affidavit.collect.junit.counter.CaseCounter` fills a :class:`FileTally` while expat
reads. A frame is a plain list, fast to update once per case: ``[tests, failures, errors,
skipped, flaky, seconds, name, has child suites, is a <testsuite>, top-level suite's record]``.
"""

from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["FileTally", "declared_of", "new_frame"]

# frame indexes; an outcome is the index it counts under (0 = passed)
T, F, E, S, K, SECONDS, NAME, CHILDREN, REAL, TOP = range(10)
_INF = math.inf
_DECLARED = ("tests", "failures", "errors", "skipped")


def new_frame(name: str | None, real: bool) -> list[Any]:
    """A frame for a ``<testsuite>`` (``real``) or for cases written outside any suite."""
    return [0, 0, 0, 0, 0, 0.0, name, False, real, None]


class FileTally:
    """Frames, top-level suites' claims and failed cases of one file (or part of one)."""

    def __init__(self, failed_cases_cap: int, details: bool, fold: bool = False) -> None:
        self.cap = failed_cases_cap
        self.details = details
        # folding (affidavit.collect.junit.fold): the names of tests with a plain passing run,
        # by (suite, classname, file) -- a name is all a passing run keeps, which is what makes
        # folding cheap; the bits of every other run's outcome, by identity (suite, classname,
        # name, file); the first failed run of each test: suite, classname, name, first
        # message per kind
        self.passed: dict[tuple[Any, ...], set[str]] | None = {} if fold else None
        self.runs: dict[tuple[Any, ...], int] = {}
        self.failing: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.unnamed_key = object()  # unnamed cases' keys: never equal to another file's
        self.reruns = [0]  # Surefire's rerun and flaky children: runs beyond the elements
        self.frames: list[list[Any]] = [new_frame(None, False)]
        self.tops: list[dict[str, Any]] = []
        self.failed: list[dict[str, Any]] = []
        self.failed_total = 0
        self.unnamed = [0]
        self.failed_but_skipped = 0
        self.skipped_by_status: dict[str, int] = {}

    def result(self, path: str, sha256: str) -> dict[str, Any]:
        """The per-file dict described in :func:`affidavit.collect.junit.parse_stream`."""
        frames = self.frames
        totals = [0, 0, 0, 0, 0]
        for frame in frames:
            for i in range(5):
                totals[i] += frame[i]
        suites = [
            {"name": f[NAME], "file": path, "tests": f[T], "failures": f[F], "errors": f[E],
             "skipped": f[S], "duration_s": round(f[SECONDS], 6)}
            for f in frames if f[T] or (f[REAL] and not f[CHILDREN])
        ]
        result = {
            "path": path,
            "sha256": sha256,
            "summary": {**_counts(totals),
                        "duration_s": round(math.fsum(f[SECONDS] for f in frames), 6)},
            "declared": _sum_declared(self.tops),
            "suites": suites,
            "failed_cases": self.failed,
            "failed_cases_total": self.failed_total,
            "repaired": False,
            "runs": totals[T] + self.reruns[0],
        }
        if self.passed is not None:
            result["_passed"] = self.passed
            result["_runs"] = self.runs
            result["_failing"] = self.failing
        if self.details:
            for frame in frames:
                if frame[TOP] is not None:
                    counts = frame[TOP]["counts"]
                    for i in range(5):
                        counts[i] += frame[i]
            result["top_suites"] = [_top(top) for top in self.tops]
            result["unnamed"] = self.unnamed[T]
            result["failed_but_skipped"] = self.failed_but_skipped
            result["skipped_by_status"] = self.skipped_by_status
        return result


def declared_of(attrs: dict[str, str]) -> dict[str, Any]:
    """A top-level suite's own claims, and room for what is counted under it."""
    get = attrs.get
    skipped = _count(get("skipped"))
    return {
        "name": get("name"),
        "tests": _count(get("tests")), "failures": _count(get("failures")),
        "errors": _count(get("errors")),
        "skipped": skipped if skipped is not None else _count(get("skips")),
        "disabled": _count(get("disabled")),
        "results": [0, 0, 0],
        "counts": [0, 0, 0, 0, 0],
    }


def _count(value: str | None) -> int | None:
    """A declared count; a missing, negative or non-numeric one is None (never an error)."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if 0 <= number < _INF and number.is_integer() else None


def _sum_declared(tops: list[dict[str, Any]]) -> dict[str, int | None]:
    declared: dict[str, int | None] = dict.fromkeys(_DECLARED)
    for top in tops:
        for key in ("tests", "failures", "errors"):
            if top[key] is not None:
                declared[key] = (declared[key] or 0) + top[key]
        if top["skipped"] is not None or top["disabled"] is not None:
            skipped = (top["skipped"] or 0) + (top["disabled"] or 0)
            declared["skipped"] = (declared["skipped"] or 0) + skipped
    return declared


def _top(top: dict[str, Any]) -> dict[str, Any]:
    results = top["results"]
    return {
        "name": top["name"],
        "declared": {k: top[k] for k in (*_DECLARED, "disabled")},
        "counted": _counts(top["counts"]),
        "results": {"failure": results[0], "error": results[1], "skipped": results[2]},
    }


def _counts(c: list[int]) -> dict[str, int]:
    return {"tests": c[T], "passed": c[T] - c[F] - c[E] - c[S], "failures": c[F],
            "errors": c[E], "skipped": c[S], "flaky": c[K]}
