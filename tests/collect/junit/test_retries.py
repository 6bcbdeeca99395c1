"""Retried, repeated and flaky tests, read in each producing tool's own output shape.

Every fixture under ``fixtures/retries/`` follows one tool's documented way of writing a rerun
(``SOURCES.md`` there names the tool, its version and the page the shape comes from). The
expected numbers are counted by hand from the fixtures under the counting contract of
``retries=``, never taken from running the collector:

- ``fold`` (the default): cases with the same identity -- (innermost ``<testsuite>`` name,
  ``classname``, ``name``, ``file``) -- in any of the files of one call are one test whose
  elements are its runs; a ``status`` of disabled/skipped/ignored/pending/notrun/"not run"
  makes a run skipped whatever its children; a test is flaky if one run passed and another
  failed or errored, and flaky tests are not in ``passed``.
- ``count`` (the old counting): every ``<testcase>`` element is a test, ``status`` counts only
  when there is no result child, an element with only ``flaky*`` children is flaky.

In both modes every ``<testcase>`` is a run and every ``flakyFailure``/``flakyError``/
``rerunFailure``/``rerunError`` child one more run. ``duration_s`` is left out on purpose: the
contract does not say how the time of folded or rerun runs adds up.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from affidavit.collect import junit

RETRIES = Path(__file__).parent / "fixtures" / "retries"

KEYS = ("tests", "passed", "failed", "errors", "skipped", "flaky", "runs")

BAZEL_FLAKY = RETRIES / "bazel-testlogs" / "app" / "flaky_test"
BAZEL_LINT = RETRIES / "bazel-testlogs" / "tools" / "lint_test"
SHARD_1 = RETRIES / "sharded" / "jest-shard-1.xml"
SHARD_2 = RETRIES / "sharded" / "jest-shard-2.xml"


def bazel_target(target: Path) -> tuple[Path, ...]:
    """A Bazel target's result files in sorted order (``test.xml`` before ``test_attempts/``)."""
    return (target / "test.xml", target / "test_attempts" / "attempt_1.xml",
            target / "test_attempts" / "attempt_2.xml")


def counts(tests: int, passed: int, failed: int, errors: int, skipped: int, flaky: int,
           runs: int) -> dict[str, int]:
    """One expected summary, positionally in the order of :data:`KEYS`."""
    return dict(zip(KEYS, (tests, passed, failed, errors, skipped, flaky, runs), strict=True))


# fixture path(s) relative to RETRIES -> (expected in mode fold, expected in mode count)
CASES: dict[str, tuple[tuple[Path, ...], dict[str, int], dict[str, int]]] = {
    # 7 elements; testLogin failed then passed, testSignup failed 3 iterations, testTerms skipped
    "xcbeautify-retry-on-failure": (
        (RETRIES / "xcode" / "xcbeautify-retry-on-failure.xml",),
        counts(4, 1, 1, 0, 1, 1, 7), counts(7, 2, 4, 0, 1, 0, 7)),
    # -test-iterations 3: testHit passes 3 times, testEviction passes, fails, passes
    "xcbeautify-test-iterations": (
        (RETRIES / "xcode" / "xcbeautify-test-iterations.xml",),
        counts(2, 1, 0, 0, 0, 1, 6), counts(6, 5, 1, 0, 0, 0, 6)),
    # -run-tests-until-failure: testRace passes 4 times then fails; testStable passes 5 times
    "xcbeautify-until-failure": (
        (RETRIES / "xcode" / "xcbeautify-until-failure.xml",),
        counts(2, 1, 0, 0, 0, 1, 10), counts(10, 9, 1, 0, 0, 0, 10)),
    # go test -count=3: cache/TestCache P F P, TestParse P P P, TestRace F F F, TestSkipOnCI
    # skipped x3; api/TestCache P P P is another test (other suite and classname)
    "go-junit-report-count": (
        (RETRIES / "go" / "go-junit-report-count.xml",),
        counts(5, 2, 1, 0, 1, 1, 15), counts(15, 8, 4, 0, 3, 0, 15)),
    # gotestsum --rerun-fails=2: TestFlaky, TestSub/slow_case and TestSub fail then pass,
    # TestBroken fails 3 times, TestOK passes, TestSkipped skipped
    "gotestsum-rerun-fails": (
        (RETRIES / "go" / "gotestsum-rerun-fails.xml",),
        counts(6, 1, 1, 0, 1, 3, 11), counts(11, 4, 6, 0, 1, 0, 11)),
    # jest-junit writes only the final attempt: a retried-then-passed test looks passed
    "jest-junit-retry-times": (
        (RETRIES / "jest" / "jest-junit-retry-times.xml",),
        counts(5, 3, 1, 0, 1, 0, 5), counts(5, 3, 1, 0, 1, 0, 5)),
    # --flaky_test_attempts=3, java_test: testConnect F P P, testParse P P P, testTimeout F F P
    "bazel-flaky-java-test": (
        bazel_target(BAZEL_FLAKY),
        counts(3, 1, 0, 0, 0, 2, 9), counts(9, 6, 3, 0, 0, 0, 9)),
    # sh_test, generate-xml.sh shape: the one case errors in all 3 attempts (status="run")
    "bazel-failed-sh-test": (
        bazel_target(BAZEL_LINT),
        counts(1, 0, 0, 1, 0, 0, 3), counts(3, 0, 0, 3, 0, 0, 3)),
    # rerunFailingTestsCount=2: flakyFailure; flakyFailure+flakyError; failure+2 rerunFailure;
    # error+2 rerunError; one plain pass; one skipped
    "surefire-rerun": (
        (RETRIES / "maven" / "surefire" / "TEST-com.example.OrderServiceTest.xml",),
        counts(6, 1, 1, 1, 1, 2, 13), counts(6, 1, 1, 1, 1, 2, 13)),
    # rerunFailingTestsCount=3: 2 flakyError then pass; a pass; failure + 3 rerunFailure
    "failsafe-rerun": (
        (RETRIES / "maven" / "failsafe" / "TEST-com.example.it.CheckoutIT.xml",),
        counts(3, 1, 1, 0, 0, 1, 8), counts(3, 1, 1, 0, 0, 1, 8)),
    # test-retry maxRetries=2: removesItem F then P, syncsWarehouse F F F, addsItem P, importsCsv
    # skipped; the retries come after the whole class ran
    "gradle-test-retry": (
        (RETRIES / "gradle" / "TEST-com.example.InventoryTest.xml",),
        counts(4, 1, 1, 0, 1, 1, 7), counts(7, 2, 4, 0, 1, 0, 7)),
    # released pytest-rerunfailures: only the final outcome of each test is written
    "pytest-rerunfailures-final-only": (
        (RETRIES / "pytest" / "rerunfailures-final-only.xml",),
        counts(5, 2, 1, 1, 1, 0, 5), counts(5, 2, 1, 1, 1, 0, 5)),
    # older shape: an empty <testcase> per rerun attempt before the final one; the contract
    # reads test_always_fails (empty, empty, failure) as flaky -- the shape cannot say better
    "pytest-rerunfailures-attempt-records": (
        (RETRIES / "pytest" / "rerunfailures-attempt-records.xml",),
        counts(3, 2, 0, 0, 0, 1, 6), counts(6, 5, 1, 0, 0, 0, 6)),
    # unreleased shape: flakyFailure/flakyError in the final testcase, plus <failure> if the
    # last attempt failed too
    "pytest-rerunfailures-flaky-elements": (
        (RETRIES / "pytest" / "rerunfailures-flaky-elements.xml",),
        counts(4, 1, 1, 0, 0, 2, 9), counts(4, 1, 1, 0, 0, 2, 9)),
    # DISABLED_ tests are status="notrun" result="suppressed"; SkippedAfterFailure holds a
    # <failure> and a <skipped> with status="run" and is a failure in both modes
    "googletest-disabled": (
        (RETRIES / "googletest" / "test_detail.xml",),
        counts(5, 1, 1, 0, 3, 0, 5), counts(5, 1, 1, 0, 3, 0, 5)),
    # status="disabled" + <failure> and status="Not Run" + <error>: skipped when folded, a
    # failure and an error when counted the old way
    "disabled-status-with-result": (
        (RETRIES / "tst" / "disabled-status-with-result.xml",),
        counts(6, 1, 1, 1, 3, 0, 6), counts(6, 1, 2, 2, 1, 0, 6)),
    "jest-shard-1": ((SHARD_1,), counts(3, 2, 1, 0, 0, 0, 3), counts(3, 2, 1, 0, 0, 0, 3)),
    "jest-shard-2": ((SHARD_2,), counts(3, 2, 0, 0, 1, 0, 3), counts(3, 2, 0, 0, 1, 0, 3)),
    # "Cart applies a coupon" failed on shard 1 and passed when rerun on shard 2
    "jest-shards-together": (
        (SHARD_1, SHARD_2),
        counts(5, 3, 0, 0, 1, 1, 6), counts(6, 4, 1, 0, 1, 0, 6)),
}


def predicate(paths: tuple[Path, ...] | list[Path], mode: str) -> dict[str, Any]:
    """The predicate of one collector call over ``paths``, in the given order and mode."""
    files = junit.parse_files(list(paths), retries=mode)
    return junit.summarize(files, retries=mode)


def summary_of(pred: dict[str, Any]) -> dict[str, int]:
    """The counted keys of the summary; a missing key fails loudly instead of as a KeyError."""
    summary = pred["summary"]
    missing = [key for key in KEYS if key not in summary]
    assert not missing, f"summary lacks {missing}: {sorted(summary)}"
    return {key: summary[key] for key in KEYS}


@pytest.mark.parametrize("name", sorted(CASES))
def test_expected_table_adds_up(name: str) -> None:
    """The hand-counted table itself obeys tests = passed + flaky + failed + errors + skipped."""
    for expected in CASES[name][1:]:
        parts = ("passed", "flaky", "failed", "errors", "skipped")
        assert expected["tests"] == sum(expected[key] for key in parts)
        assert expected["runs"] >= expected["tests"]


@pytest.mark.parametrize("mode", ["fold", "count"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_summary(name: str, mode: str) -> None:
    """Each tool's rerun shape gives the hand-counted summary in both modes."""
    paths, fold, count = CASES[name]
    pred = predicate(paths, mode)
    assert summary_of(pred) == (fold if mode == "fold" else count)
    summary = pred["summary"]
    assert pred["failed_cases_total"] == summary["failed"] + summary["errors"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_fold_is_the_default(name: str) -> None:
    """Without ``retries=`` the collector folds, so the default reading is the fold row."""
    paths, fold, _ = CASES[name]
    files = junit.parse_files(list(paths))
    assert summary_of(junit.summarize(files)) == fold


def test_failed_cases_one_entry_per_failed_test() -> None:
    """Surefire: only the two tests that failed every run are listed, flaky ones are not.

    They come in the order of their first failing run, each once although it ran three times,
    with the message of that first (primary) result.
    """
    pred = predicate([RETRIES / "maven" / "surefire" / "TEST-com.example.OrderServiceTest.xml"],
                     "fold")
    suite = "com.example.OrderServiceTest"
    shown = [{key: case[key] for key in ("suite", "classname", "name", "kind", "message")}
             for case in pred["failed_cases"]]
    assert shown == [
        {"suite": suite, "classname": suite, "name": "cancelsOrder", "kind": "failure",
         "message": "order 17 still OPEN after cancel (run 1)"},
        {"suite": suite, "classname": suite, "name": "refundsOrder", "kind": "error",
         "message": "refund ledger locked (run 1)"},
    ]
    assert pred["failed_cases_total"] == 2


def test_failed_cases_fold_repeated_elements() -> None:
    """gotestsum writes TestBroken three times; folded it is one failed case, counted six."""
    path = RETRIES / "go" / "gotestsum-rerun-fails.xml"
    folded = predicate([path], "fold")
    assert [(c["name"], c["kind"], c["message"]) for c in folded["failed_cases"]] == [
        ("TestBroken", "failure", "Failed")]
    counted = predicate([path], "count")
    assert [c["name"] for c in counted["failed_cases"]] == [
        "TestFlaky", "TestBroken", "TestSub/slow_case", "TestSub", "TestBroken", "TestBroken"]


def test_disabled_status_hides_result_children_only_when_folding() -> None:
    """A disabled/"Not Run" case with a result child is skipped folded, failed counted."""
    path = RETRIES / "tst" / "disabled-status-with-result.xml"
    assert [(c["name"], c["kind"]) for c in predicate([path], "fold")["failed_cases"]] == [
        ("negative_arguments", "failure"), ("throws_unknown_exception", "error")]
    assert [(c["name"], c["kind"]) for c in predicate([path], "count")["failed_cases"]] == [
        ("negative_arguments", "failure"), ("throws_unknown_exception", "error"),
        ("disabled_with_failure", "failure"), ("not_run_with_error", "error")]


@pytest.mark.parametrize("mode", ["fold", "count"])
@pytest.mark.parametrize("target", [BAZEL_FLAKY, BAZEL_LINT], ids=["flaky_test", "lint_test"])
def test_bazel_attempts_in_any_order(target: Path, mode: str) -> None:
    """Bazel's sorted listing puts the last attempt (test.xml) first; the answer must not move."""
    files = bazel_target(target)
    first = predicate(files, mode)
    for order in itertools.permutations(files):
        pred = predicate(order, mode)
        assert summary_of(pred) == summary_of(first)
        assert pred["failed_cases_total"] == first["failed_cases_total"]
        assert {(c["name"], c["kind"]) for c in pred["failed_cases"]} == {
            (c["name"], c["kind"]) for c in first["failed_cases"]}


def test_bazel_flaky_target_lists_no_failed_case() -> None:
    """Every failed attempt of the java_test was passed by a later one: nothing to list."""
    pred = predicate(bazel_target(BAZEL_FLAKY), "fold")
    assert pred["failed_cases"] == []
    assert pred["failed_cases_total"] == 0


def test_shards_fold_across_files_in_either_order() -> None:
    """A test failed on one shard and passed on another is one flaky test, not a failure.

    The per-file predicates cannot see that, so folding must happen over the whole call: the
    sum of the two single-file summaries still holds the failure.
    """
    forward = predicate([SHARD_1, SHARD_2], "fold")
    backward = predicate([SHARD_2, SHARD_1], "fold")
    assert summary_of(forward) == summary_of(backward) == CASES["jest-shards-together"][1]
    assert forward["failed_cases"] == backward["failed_cases"] == []
    one, two = (summary_of(predicate([path], "fold")) for path in (SHARD_1, SHARD_2))
    assert one["failed"] + two["failed"] == 1
    assert one["tests"] + two["tests"] == 6


def _write(path: Path, cases: str) -> Path:
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                    f'<testsuite name="s">{cases}</testsuite>\n', encoding="utf-8")
    return path


def test_nameless_cases_never_fold(tmp_path: Path) -> None:
    """Cases with neither name nor classname share no identity, so they are never one test."""
    path = _write(tmp_path / "nameless.xml",
                  '<testcase><failure message="boom"/></testcase><testcase/>')
    assert summary_of(predicate([path], "fold")) == counts(2, 1, 1, 0, 0, 0, 2)


def test_file_attribute_is_part_of_identity(tmp_path: Path) -> None:
    """Same suite, classname and name in two source files are two tests, not one flaky one."""
    path = _write(tmp_path / "files.xml",
                  '<testcase classname="c" name="t" file="a.py"><failure message="x"/></testcase>'
                  '<testcase classname="c" name="t" file="b.py"/>')
    assert summary_of(predicate([path], "fold")) == counts(2, 1, 1, 0, 0, 0, 2)
