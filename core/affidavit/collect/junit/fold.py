"""Retried tests, folded: the runs of one test, wherever they were written, give one outcome.

Test runners retry in different ways -- Xcode repetitions, ``go test -count``, gotestsum
``--rerun-fails``, jest retries and Gradle's test-retry plugin write the test again as another
``<testcase>``; Bazel writes each attempt to its own file; Surefire puts the earlier runs inside
the case as ``<flakyFailure>``/``<rerunFailure>`` children. Counted element by element, a test
that failed once and then passed is a failure, and a pipeline that retries to get past flaky
tests is failed by the very retry that passed. Folded, it is one **flaky** test.

Rules (``--retries fold``, the default):

- A test's identity is its suite (the innermost ``<testsuite>``'s name), ``classname``,
  ``name`` and ``file`` (when present). Cases with one identity anywhere in the files of one
  attestation are one test -- across files too, because Bazel writes attempts and sharded
  runners write workers to separate files. A case with neither name nor classname cannot be
  told apart from another and is always a test of its own.
- Every ``<testcase>`` element is a run, and so is every Surefire rerun/flaky child.
- A test is **flaky** when one of its runs passed and another failed or errored, **passed**
  when runs passed and none failed; otherwise it **errored** if any run errored, else
  **failed** if any run failed, else it is **skipped**. Order does not matter: a file order
  (Bazel's ``test.xml`` sorts before ``test_attempts/``) must not change a verdict.
- A case whose ``status`` says it did not run (``disabled``, ``skipped``, ``ignored``,
  ``pending``, ``notrun``, ``not run``) is a skipped run even when it holds a ``<failure>``.

``tests = passed + flaky + failed + errors + skipped``; ``runs`` counts every run.
``--retries count`` keeps each element a test of its own, as before folding existed.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = ["fold"]


def fold(files: Sequence[dict[str, Any]],
         failed_cases_cap: int) -> tuple[dict[str, int], list[dict[str, Any]], int]:
    """The folded counts of the per-file results ``files`` (parsed with ``retries="fold"``),
    the first ``failed_cases_cap`` failed tests in the order their first failed run was
    written, and how many failed tests there are."""
    for f in files:
        if "_passed" not in f:
            raise ValueError(f"{f['path']} was not parsed with retries='fold'")
    # a plain passing run keeps only its name, in a set per (suite, classname, file): the
    # common case, kept cheap while parsing; every other run's outcome is in bits
    passed: dict[tuple[Any, ...], set[str]] = {}
    copied: set[tuple[Any, ...]] = set()  # a file's own set is only read, until merged into
    for f in files:
        for group, names in f["_passed"].items():
            mine = passed.get(group)
            if mine is None:
                passed[group] = names
            else:
                if group not in copied:
                    mine = passed[group] = set(mine)
                    copied.add(group)
                mine |= names
    runs: dict[tuple[Any, ...], int] = {}
    for f in files:
        if runs:
            for key, bits in f["_runs"].items():
                runs[key] = runs.get(key, 0) | bits
        else:
            runs = dict(f["_runs"])

    def also_passed(key: tuple[Any, ...]) -> bool:
        names = passed.get((key[0], key[1], key[3])) if len(key) == 4 else None
        return names is not None and key[2] in names

    counts = dict.fromkeys(("passed", "flaky", "failed", "errors", "skipped"), 0)
    outcomes = [_outcome(bits) for bits in range(16)]
    overlap = 0
    for key, bits in runs.items():
        if also_passed(key):
            bits |= 1
            overlap += 1
        counts[outcomes[bits]] += 1
    passing = sum(map(len, passed.values()))
    counts["passed"] += passing - overlap
    shown: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for f in files:
        for key, record in f["_failing"].items():
            if runs[key] & 1 or also_passed(key):
                continue  # another run passed: flaky, not failed
            earlier = seen.get(key)
            if earlier is None:
                earlier = seen[key] = {**record, "messages": dict(record["messages"])}
            else:
                for kind, message in record["messages"].items():
                    earlier["messages"].setdefault(kind, message)
    for record in seen.values():
        if len(shown) >= failed_cases_cap:
            break
        kind = "error" if "error" in record["messages"] else "failure"
        shown.append({"suite": record["suite"], "classname": record["classname"],
                      "name": record["name"], "kind": kind,
                      "message": record["messages"][kind]})
    return {"tests": passing + len(runs) - overlap, **counts}, shown, len(seen)


def _outcome(bits: int) -> str:
    """The outcome of a test whose runs' outcomes are ``bits`` (passed 1, failed 2, errored 4,
    skipped 8)."""
    if bits & 1:
        return "flaky" if bits & 6 else "passed"
    if bits & 4:
        return "errors"
    return "failed" if bits & 2 else "skipped"
