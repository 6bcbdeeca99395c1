"""The ``sonar`` verdict: only a gate that says OK passes; WARN, NONE, no gate and an analysis
of another commit fail closed, each failing condition a reason; through the one judge."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from affidavit.compliance.judge import judge
from affidavit.compliance.sonar import condition_text, sonar_verdict
from affidavit.errors import InputError

COMMIT = "2b66fd261ee5c6cfc8de7fa466bab600bcfe4f69"


def predicate(status: str | None = "OK", conditions: list[dict[str, Any]] | None = None,
              **changes: Any) -> dict[str, Any]:
    made: dict[str, Any] = {
        "server_url": "https://sonar.example.com", "organization": None,
        "project_key": "widgets", "branch": None, "pull_request": None, "commit": COMMIT,
        "lookup": {"by": "revision", "task_id": None, "task_status": None, "task_error": None,
                   "polls": 1, "waited_seconds": 0.0, "max_wait_seconds": 300.0},
        "analysis": {"id": "A1", "revision": COMMIT, "date": None},
        "quality_gate": None if status is None else {
            "status": status, "ignored_conditions": False, "conditions": conditions or []},
        "dashboard_url": "https://sonar.example.com/dashboard?id=widgets"}
    made.update(changes)
    return made


def cond(metric: str, comparator: str, threshold: str | None, actual: str | None,
         status: str = "ERROR", warning: str | None = None) -> dict[str, Any]:
    return {"metric_key": metric, "comparator": comparator, "error_threshold": threshold,
            "warning_threshold": warning, "actual_value": actual, "status": status}


def test_ok_passes() -> None:
    assert sonar_verdict(predicate("OK", [cond("new_coverage", "LT", "80", "91.3", "OK")])) == (
        True, [])
    assert judge("sonar", "quality", predicate("OK")) == (True, [])


def test_error_names_each_failing_condition_only() -> None:
    found = predicate("ERROR", [cond("new_coverage", "LT", "80", "61.2"),
                                cond("new_duplicated_lines_density", "GT", "3", "1.2", "OK"),
                                cond("new_violations", "GT", "0", "14")])
    assert judge("sonar", "quality", found) == (False, [
        "the quality gate of project widgets is ERROR: 2 failing conditions",
        "new_coverage 61.2 < 80", "new_violations 14 > 0"])


@pytest.mark.parametrize(("condition", "text"), [
    (cond("new_coverage", "LT", "85", "82.50562381034781"), "new_coverage 82.51 < 85"),
    (cond("new_sqale_debt_ratio", "GT", "5.0", "6.0"), "new_sqale_debt_ratio 6 > 5"),
    (cond("alert_status", "EQ", "3", "3"), "alert_status 3 = 3"),
    (cond("open_issues", "GT", None, "17"), "open_issues 17"),
    (cond("new_bugs", "GT", "0", None), "new_bugs ? > 0"),
    (cond("coverage", "LT", "50", "64.8", "WARN", warning="70"), "coverage 64.8 < 70 (warning)"),
])
def test_condition_texts(condition: dict[str, Any], text: str) -> None:
    assert condition_text(condition) == text


def test_warn_of_an_old_server_fails_closed() -> None:
    found = predicate("WARN", [cond("coverage", "LT", "50", "64.8", "WARN", warning="70")])
    assert sonar_verdict(found) == (False, [
        "the quality gate of project widgets is WARN (only OK passes): 1 failing condition",
        "coverage 64.8 < 70 (warning)"])


def test_no_gate_on_the_project_fails_closed() -> None:
    assert sonar_verdict(predicate("NONE")) == (False, [
        "project widgets has no quality gate (status NONE): nothing was checked"])


def test_an_unknown_status_fails_closed() -> None:
    assert sonar_verdict(predicate("NO_VALUE"))[0] is False


def test_an_analysis_of_another_commit_fails_even_when_ok() -> None:
    other = "89e6c98d92887913cadf06b2adb97f26cde4849b"
    assert sonar_verdict(predicate("OK", commit=other)) == (False, [
        f"analysis A1 is of revision {COMMIT[:12]}, not of commit {other[:12]}"])
    assert sonar_verdict(predicate("OK", commit=COMMIT.upper()))[0] is True
    unknown = predicate("OK", analysis={"id": "A1", "revision": None, "date": None})
    assert sonar_verdict(unknown) == (True, [])  # no SCM data: the gate alone decides


def test_cancelled_task_and_no_analysis() -> None:
    cancelled = predicate(None, analysis=None, lookup={
        "by": "task", "task_id": "T1", "task_status": "CANCELED", "task_error": None,
        "polls": 1, "waited_seconds": 0.0, "max_wait_seconds": 300.0})
    assert sonar_verdict(cancelled) == (False, ["the analysis task T1 ended CANCELED: no "
                                                "quality gate"])
    missing = predicate(None, analysis=None, pull_request="7")
    missing["lookup"]["waited_seconds"] = 300.0
    assert sonar_verdict(missing) == (False, [
        f"no analysis of commit {COMMIT[:12]} in project widgets pull request 7 after 300 s "
        "(--max-wait)"])


@pytest.mark.parametrize("change", [
    {"lookup": None}, {"quality_gate": "OK"}, {"quality_gate": {"conditions": []}},
    {"quality_gate": {"status": "OK", "conditions": ["x"]}}, {"analysis": "A1"}])
def test_a_predicate_it_cannot_read_has_no_verdict(change: dict[str, Any]) -> None:
    broken = copy.deepcopy(predicate("OK"))
    broken.update(change)
    with pytest.raises(InputError):
        judge("sonar", "quality", broken)
