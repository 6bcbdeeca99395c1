"""Tests of the scan policy in affidavit.compliance.judge: ``--fail-on`` / ``--max-findings``
checked as usage errors, and the verdict, which must be computable from a predicate's ``policy``
and ``actionable`` alone."""

from __future__ import annotations

from typing import Any

import pytest

from affidavit.compliance.judge import junit_policy, scan_policy, scan_verdict
from affidavit.errors import InputError, UsageError
from affidavit.models.severities import FAIL_ON, SEVERITIES


def counts(**given: int) -> dict[str, int]:
    out = dict.fromkeys(SEVERITIES, 0)
    out.update(given)
    return out


def predicate(fail_on: str = "high", max_findings: int | None = None, new_only: bool = False,
              **given: int) -> dict[str, Any]:
    """What the verdict reads of a scan predicate: its policy and actionable counts."""
    return {"policy": scan_policy(fail_on, max_findings, new_only),
            "actionable": counts(**given)}


@pytest.mark.parametrize("fail_on", ["Critical", "error", "", "all"])
def test_unknown_fail_on_is_a_usage_error(fail_on: str) -> None:
    with pytest.raises(UsageError, match="--fail-on"):
        scan_policy(fail_on, None, False)


@pytest.mark.parametrize("limit", [-1, True, 1.5, "3"])
def test_bad_max_findings_is_a_usage_error(limit: Any) -> None:
    with pytest.raises(UsageError, match="--max-findings"):
        scan_policy("high", limit, False)


def test_policy_records_what_was_asked() -> None:
    assert scan_policy("any", 3, True) == {"fail_on": "any", "max_findings": 3, "new_only": True}


@pytest.mark.parametrize(("failures", "errors", "flag"), [
    (-1, 0, "--max-failures"), (0, -2, "--max-errors"), (True, 0, "--max-failures"),
    (0, 1.5, "--max-errors")])
def test_bad_junit_limits_are_usage_errors(failures: Any, errors: Any, flag: str) -> None:
    with pytest.raises(UsageError, match=f"^{flag}: "):
        junit_policy(failures, errors)


def test_junit_policy_records_the_limits() -> None:
    assert junit_policy(3, 0) == {"max_failures": 3, "max_errors": 0, "max_flaky": None,
                                  "retries": "fold"}
    assert junit_policy(0, 1, 2, "count") == {"max_failures": 0, "max_errors": 1,
                                              "max_flaky": 2, "retries": "count"}


@pytest.mark.parametrize(("max_flaky", "retries", "flag"), [
    (-1, "fold", "--max-flaky"), (True, "fold", "--max-flaky"), (None, "sometimes", "--retries"),
    (None, "", "--retries")])
def test_bad_flaky_limit_or_retries_are_usage_errors(max_flaky: Any, retries: str,
                                                     flag: str) -> None:
    with pytest.raises(UsageError, match=f"^{flag}: "):
        junit_policy(0, 0, max_flaky, retries)


# One finding of each severity on its own, against every --fail-on value.
FAILS = {
    "critical": {"critical"},
    "high": {"critical", "high"},
    "medium": {"critical", "high", "medium"},
    "low": {"critical", "high", "medium", "low"},
    "any": {"critical", "high", "medium", "low", "none"},
    "none": set(),
}


@pytest.mark.parametrize("fail_on", FAIL_ON)
@pytest.mark.parametrize("found", SEVERITIES)
def test_every_fail_on_against_every_severity(fail_on: str, found: str) -> None:
    ok, reasons = scan_verdict("sarif", predicate(fail_on, **{found: 1}))
    assert ok is (found not in FAILS[fail_on])
    assert len(reasons) == (0 if ok else 1)


@pytest.mark.parametrize("fail_on", FAIL_ON)
def test_nothing_actionable_is_compliant(fail_on: str) -> None:
    assert scan_verdict("sarif", predicate(fail_on, max_findings=0)) == (True, [])


def test_reason_names_count_breakdown_and_threshold() -> None:
    ok, reasons = scan_verdict("sarif", predicate("high", critical=1, high=2, medium=5))
    assert not ok
    assert reasons == ["3 findings at or above high (1 critical, 2 high), --fail-on high"]


def test_any_counts_severity_none() -> None:
    ok, reasons = scan_verdict("sarif", predicate("any", none=1))
    assert not ok
    assert reasons == ["1 finding of any severity (1 none), --fail-on any"]


def test_max_findings_counts_every_severity_independently_of_fail_on() -> None:
    assert scan_verdict("sarif", predicate("none", max_findings=3, low=2, none=1))[0]
    ok, reasons = scan_verdict("sarif", predicate("none", max_findings=2, low=2, none=1))
    assert not ok
    assert reasons == ["3 findings (2 low, 1 none), more than --max-findings 2"]


def test_both_rules_give_one_line_each() -> None:
    ok, reasons = scan_verdict("sarif", predicate("critical", max_findings=0, critical=1))
    assert not ok
    assert len(reasons) == 2
    assert all("\n" not in line for line in reasons)


def test_new_only_and_snyk_wording() -> None:
    """The word for a counted thing comes from the type: a Snyk finding is a unique issue."""
    _, reasons = scan_verdict("sarif", predicate("high", new_only=True, high=1))
    assert reasons == ["1 new finding at or above high (1 high), --fail-on high"]
    _, reasons = scan_verdict("snyk", predicate("medium", medium=2))
    assert reasons == ["2 issues at or above medium (2 medium), --fail-on medium"]


def test_verdict_refuses_a_tampered_policy() -> None:
    pred = predicate()
    pred["policy"] = {**pred["policy"], "fail_on": "severe"}
    with pytest.raises(InputError):
        scan_verdict("sarif", pred)
