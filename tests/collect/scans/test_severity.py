"""Tests of affidavit.collect.scans.severity: the CVSS bands, the level mapping, the policy
checks and the verdict, which must be computable from a predicate's ``policy`` and ``actionable``
alone."""

from __future__ import annotations

from typing import Any

import pytest

from affidavit.collect.scans import severity as sev
from affidavit.compliance.judge import scan_verdict
from affidavit.errors import InputError, UsageError


def counts(**given: int) -> dict[str, int]:
    out = sev.zero()
    out.update(given)
    return out


def predicate(fail_on: str = "high", max_findings: int | None = None, new_only: bool = False,
              snyk: bool = False, **given: int) -> dict[str, Any]:
    pred: dict[str, Any] = {"policy": sev.policy(fail_on, max_findings, new_only),
                            "actionable": counts(**given)}
    if snyk:
        pred["projects"] = []
    return pred


@pytest.mark.parametrize(("score", "expected"), [
    (10.0, "critical"), (9.0, "critical"), ("9.0", "critical"), (8.99, "high"), (7.0, "high"),
    ("7", "high"), (6.9, "medium"), (4.0, "medium"), (3.9, "low"), (0.1, "low"),
    (0, "none"), ("0.0", "none"), (-1, "none"), (11, "critical"),
])
def test_cvss_bands(score: object, expected: str) -> None:
    assert sev.from_cvss(score) == expected


@pytest.mark.parametrize("score", [None, "", "high", "nan", "inf", True, [9.0], {"v": 9}])
def test_cvss_that_is_not_a_number_gives_none_so_the_level_decides(score: object) -> None:
    assert sev.from_cvss(score) is None


def test_level_mapping() -> None:
    assert [sev.from_level(level) for level in sev.LEVELS] == ["high", "medium", "low", "none"]


@pytest.mark.parametrize(("word", "expected"), [
    ("Critical", "critical"), ("HIGH", "high"), ("moderate", "medium"), ("info", "low"),
    (" low ", "low"), ("none", "none"), ("severe", None), (3, None),
])
def test_severity_words(word: object, expected: str | None) -> None:
    assert sev.from_name(word) == expected


@pytest.mark.parametrize("fail_on", ["Critical", "error", "", "all"])
def test_unknown_fail_on_is_a_usage_error(fail_on: str) -> None:
    with pytest.raises(UsageError, match="--fail-on"):
        sev.policy(fail_on, None, False)


@pytest.mark.parametrize("limit", [-1, True, 1.5, "3"])
def test_bad_max_findings_is_a_usage_error(limit: Any) -> None:
    with pytest.raises(UsageError, match="--max-findings"):
        sev.policy("high", limit, False)


def test_policy_records_what_was_asked() -> None:
    assert sev.policy("any", 3, True) == {"fail_on": "any", "max_findings": 3, "new_only": True}


# One finding of each severity on its own, against every --fail-on value.
FAILS = {
    "critical": {"critical"},
    "high": {"critical", "high"},
    "medium": {"critical", "high", "medium"},
    "low": {"critical", "high", "medium", "low"},
    "any": {"critical", "high", "medium", "low", "none"},
    "none": set(),
}


@pytest.mark.parametrize("fail_on", sev.FAIL_ON)
@pytest.mark.parametrize("found", sev.SEVERITIES)
def test_every_fail_on_against_every_severity(fail_on: str, found: str) -> None:
    ok, reasons = scan_verdict(predicate(fail_on, **{found: 1}))
    assert ok is (found not in FAILS[fail_on])
    assert len(reasons) == (0 if ok else 1)


@pytest.mark.parametrize("fail_on", sev.FAIL_ON)
def test_nothing_actionable_is_compliant(fail_on: str) -> None:
    assert scan_verdict(predicate(fail_on, max_findings=0)) == (True, [])


def test_reason_names_count_breakdown_and_threshold() -> None:
    ok, reasons = scan_verdict(predicate("high", critical=1, high=2, medium=5))
    assert not ok
    assert reasons == ["3 findings at or above high (1 critical, 2 high), --fail-on high"]


def test_any_counts_severity_none() -> None:
    ok, reasons = scan_verdict(predicate("any", none=1))
    assert not ok
    assert reasons == ["1 finding of any severity (1 none), --fail-on any"]


def test_max_findings_counts_every_severity_independently_of_fail_on() -> None:
    assert scan_verdict(predicate("none", max_findings=3, low=2, none=1))[0]
    ok, reasons = scan_verdict(predicate("none", max_findings=2, low=2, none=1))
    assert not ok
    assert reasons == ["3 findings (2 low, 1 none), more than --max-findings 2"]


def test_both_rules_give_one_line_each() -> None:
    ok, reasons = scan_verdict(predicate("critical", max_findings=0, critical=1))
    assert not ok
    assert len(reasons) == 2
    assert all("\n" not in line for line in reasons)


def test_new_only_and_snyk_wording() -> None:
    _, reasons = scan_verdict(predicate("high", new_only=True, high=1))
    assert reasons == ["1 new finding at or above high (1 high), --fail-on high"]
    _, reasons = scan_verdict(predicate("medium", snyk=True, medium=2))
    assert reasons == ["2 issues at or above medium (2 medium), --fail-on medium"]


def test_verdict_refuses_a_tampered_policy() -> None:
    pred = predicate()
    pred["policy"] = {**pred["policy"], "fail_on": "severe"}
    with pytest.raises(InputError):
        scan_verdict(pred)
