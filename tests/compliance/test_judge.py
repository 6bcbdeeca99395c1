"""Hand-written cases for the one judge (compliance/judge.py): an attestation's verdict from its
type and predicate alone.

Every reader trusts a record's ``compliant`` flag only because it agrees with this function, so
each type's rule is pinned here with its exact reasons, and so is every predicate it must refuse
(an ``InputError``: no verdict, never a fall back to the stored flag). Expected values are
written out literally, never computed by the code under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from affidavit.compliance.judge import judge
from affidavit.errors import InputError

Record = dict[str, Any]


def junit(failures: int = 0, errors: int = 0, policy: Record | None = None) -> Record:
    """A JUnit predicate's summary, with the ``policy`` it was judged by when given."""
    predicate: Record = {"summary": {"tests": 10, "failures": failures, "errors": errors,
                                     "skipped": 0}}
    if policy is not None:
        predicate["policy"] = policy
    return predicate


def scan(fail_on: str = "high", max_findings: int | None = None, new_only: bool = False,
         **actionable: int) -> Record:
    """What the judge reads of a SARIF or Snyk predicate (of any version): the recorded policy
    and the actionable counts per severity."""
    return {
        "policy": {"fail_on": fail_on, "max_findings": max_findings, "new_only": new_only},
        "actionable": actionable,
    }


COVERAGE = {"rules": ["coverage >= 80", "passed"]}
"""A custom type version: coverage of at least 80 and a passing run."""


VERDICTS = [
    # generic and decision: the claim's own word
    pytest.param("generic", {"compliant": True}, None, True, [], id="generic-compliant"),
    pytest.param("generic", {"compliant": False}, None, False,
                 ["attestation 'check' is reported not compliant"], id="generic-not-compliant"),
    pytest.param("decision", {"compliant": True, "control": "freeze"}, None, True, [],
                 id="decision-compliant"),
    pytest.param("decision", {"compliant": False, "control": "change-freeze",
                              "reason": "frozen until Monday"}, None, False,
                 ["control 'change-freeze' decided not compliant: frozen until Monday"],
                 id="decision-not-compliant"),
    # approval: a denial is not compliant; a request makes no claim, so it is always compliant
    pytest.param("approval", {"approver": "bob", "approved": True}, None, True, [],
                 id="approval-approved"),
    pytest.param("approval", {"approver": "bob", "approved": False}, None, False,
                 ["bob denied 'check'"], id="approval-denied"),
    pytest.param("approval-request", {"approvers": ["alice"]}, None, True, [],
                 id="approval-request"),
    # junit: failures and errors within the recorded limits, 0 and 0 when none is recorded
    pytest.param("junit", junit(), None, True, [], id="junit-default-policy-clean"),
    pytest.param("junit", junit(failures=1), None, False,
                 ["1 test case failed, more than --max-failures 0"],
                 id="junit-default-policy-one-failure"),
    pytest.param("junit", junit(errors=2), None, False,
                 ["2 test cases had an error, more than --max-errors 0"],
                 id="junit-default-policy-errors"),
    pytest.param("junit", {**junit(failures=3, errors=1), "policy": None}, None, False,
                 ["3 test cases failed, more than --max-failures 0",
                  "1 test case had an error, more than --max-errors 0"],
                 id="junit-null-policy-is-default"),
    pytest.param("junit", junit(3, 1, {"max_failures": 3, "max_errors": 1}), None, True, [],
                 id="junit-at-the-limits"),
    pytest.param("junit", junit(4, 2, {"max_failures": 3, "max_errors": 1}), None, False,
                 ["4 test cases failed, more than --max-failures 3",
                  "2 test cases had an error, more than --max-errors 1"],
                 id="junit-over-the-limits"),
    pytest.param("junit", junit(5, 0, {"max_failures": 10, "max_errors": 0}), None, True, [],
                 id="junit-failures-allowed"),
    # sarif / snyk: fail_on over the severities at or above it, max_findings over all of them
    pytest.param("sarif", scan(), None, True, [], id="sarif-nothing-found"),
    pytest.param("sarif", scan(high=0, medium=0), None, True, [], id="sarif-zero-counts"),
    pytest.param("sarif", scan(medium=4, low=2), None, True, [], id="sarif-below-fail-on"),
    pytest.param("sarif", scan(high=1, low=3), None, False,
                 ["1 finding at or above high (1 high), --fail-on high"],
                 id="sarif-fail-on-high-one"),
    pytest.param("sarif", scan("medium", critical=1, medium=2, low=1), None, False,
                 ["3 findings at or above medium (1 critical, 2 medium), --fail-on medium"],
                 id="sarif-fail-on-medium-counts-above"),
    pytest.param("sarif", scan("critical", high=7), None, True, [],
                 id="sarif-fail-on-critical-ignores-high"),
    pytest.param("sarif", scan("low", low=1, none=4), None, False,
                 ["1 finding at or above low (1 low), --fail-on low"],
                 id="sarif-fail-on-low-ignores-none"),
    pytest.param("sarif", scan("any", low=2, none=1), None, False,
                 ["3 findings of any severity (2 low, 1 none), --fail-on any"],
                 id="sarif-fail-on-any"),
    pytest.param("sarif", scan("none", critical=5), None, True, [], id="sarif-fail-on-none"),
    pytest.param("sarif", scan("none", 4, high=1, low=3), None, True, [],
                 id="sarif-max-findings-reached"),
    pytest.param("sarif", scan("none", 3, high=1, low=3), None, False,
                 ["4 findings (1 high, 3 low), more than --max-findings 3"],
                 id="sarif-max-findings-exceeded"),
    pytest.param("sarif", scan("none", 0, low=1), None, False,
                 ["1 finding (1 low), more than --max-findings 0"],
                 id="sarif-max-findings-zero"),
    pytest.param("sarif", scan("high", 1, critical=1, high=1, low=1), None, False,
                 ["2 findings at or above high (1 critical, 1 high), --fail-on high",
                  "3 findings (1 critical, 1 high, 1 low), more than --max-findings 1"],
                 id="sarif-both-thresholds"),
    pytest.param("sarif", scan("high", 0, True, high=1), None, False,
                 ["1 new finding at or above high (1 high), --fail-on high",
                  "1 new finding (1 high), more than --max-findings 0"],
                 id="sarif-new-only-wording"),
    pytest.param("snyk", scan("high", high=2), None, False,
                 ["2 issues at or above high (2 high), --fail-on high"],
                 id="snyk-says-issues"),
    pytest.param("snyk", scan("medium", 1, True, critical=1, medium=1), None,
                 False,
                 ["2 new issues at or above medium (1 critical, 1 medium), --fail-on medium",
                  "2 new issues (1 critical, 1 medium), more than --max-findings 1"],
                 id="snyk-new-issues-both-thresholds"),
    pytest.param("snyk", {**scan("high", high=1), "runs": []}, None, False,
                 ["1 issue at or above high (1 high), --fail-on high"],
                 id="snyk-says-issue-whatever-its-keys"),
    pytest.param("snyk", scan("high", low=9), None, True, [],
                 id="snyk-below-fail-on"),
    # custom:<name>: every rule of the type version holds on predicate["data"]
    pytest.param("custom:coverage", {"data": {"coverage": 91.5, "passed": True}}, COVERAGE,
                 True, [], id="custom-all-rules-hold"),
    pytest.param("custom:coverage", {"data": {"coverage": 70, "passed": True}}, COVERAGE,
                 False,
                 ["rule 'coverage >= 80' does not hold: coverage >= 80: 70 is less than 80"],
                 id="custom-one-rule-fails"),
    pytest.param("custom:coverage", {"data": {"coverage": 70, "passed": False}}, COVERAGE,
                 False,
                 ["rule 'coverage >= 80' does not hold: coverage >= 80: 70 is less than 80",
                  "rule 'passed' does not hold: passed is false"],
                 id="custom-every-failing-rule-reported"),
    pytest.param("custom:coverage", {"data": {}}, COVERAGE, False,
                 ["rule 'coverage >= 80' does not hold: field coverage is missing",
                  "rule 'passed' does not hold: field passed is missing"],
                 id="custom-missing-fields-are-reasons"),
    pytest.param("custom:coverage", {"data": {"coverage": 1}}, {"rules": []}, True, [],
                 id="custom-no-rules"),
    pytest.param("custom:coverage", {"data": {"coverage": 1}, "type_entry": 7},
                 {"rules": ["coverage == 1"], "name": "coverage", "schema": {}}, True, [],
                 id="custom-type-version-record"),
]


@pytest.mark.parametrize(("kind", "predicate", "type_version", "compliant", "reasons"),
                         VERDICTS)
def test_verdict(kind: str, predicate: Record, type_version: Record | None, compliant: bool,
                 reasons: list[str]) -> None:
    assert judge(kind, "check", predicate, type_version) == (compliant, reasons)


def _cannot_judge(kind: str, why: str) -> str:
    """The message of a refused predicate of attestation 'check'."""
    return f"attestation 'check' ({kind}): cannot judge its predicate: {why}"


REFUSALS = [
    # no verdict to give for the type
    pytest.param("made-up", {"compliant": True}, None,
                 "attestation 'check' has type 'made-up', which this version of affidavit "
                 "cannot judge", id="unknown-type"),
    pytest.param("custom", {"data": {}}, COVERAGE,
                 "attestation 'check' has type 'custom', which this version of affidavit "
                 "cannot judge", id="custom-without-a-name"),
    pytest.param("custom:coverage", {"data": {"coverage": 90}}, None,
                 _cannot_judge("custom:coverage", "the version of its type is not at hand"),
                 id="custom-without-type-version"),
    # not an object at all
    pytest.param("generic", ["compliant"], None,
                 "attestation 'check': its predicate is not an object", id="predicate-a-list"),
    pytest.param("junit", None, None,
                 "attestation 'check': its predicate is not an object", id="predicate-null"),
    # generic, decision, approval: the flag must be a real boolean
    pytest.param("generic", {}, None, _cannot_judge("generic", "compliant is not true or false"),
                 id="generic-flag-missing"),
    pytest.param("generic", {"compliant": "yes"}, None,
                 _cannot_judge("generic", "compliant is not true or false"),
                 id="generic-flag-a-string"),
    pytest.param("decision", {"compliant": 1}, None,
                 _cannot_judge("decision", "compliant is not true or false"),
                 id="decision-flag-a-number"),
    pytest.param("approval", {"approved": True}, None,
                 _cannot_judge("approval", "approver is not a name"), id="approval-nobody"),
    pytest.param("approval", {"approver": "", "approved": True}, None,
                 _cannot_judge("approval", "approver is not a name"),
                 id="approval-empty-approver"),
    pytest.param("approval-request", {}, None,
                 _cannot_judge("approval-request", "approvers is not a list of names"),
                 id="approval-request-nobody"),
    pytest.param("approval-request", {"approvers": ["alice", 7]}, None,
                 _cannot_judge("approval-request", "approvers is not a list of names"),
                 id="approval-request-not-names"),
    pytest.param("approval", {"approver": "bob"}, None,
                 _cannot_judge("approval", "approved is not true or false"),
                 id="approval-flag-missing"),
    # junit
    pytest.param("junit", {"policy": {"max_failures": 0, "max_errors": 0}}, None,
                 _cannot_judge("junit", "policy or summary is not an object"),
                 id="junit-summary-missing"),
    pytest.param("junit", {"summary": [0, 0]}, None,
                 _cannot_judge("junit", "policy or summary is not an object"),
                 id="junit-summary-a-list"),
    pytest.param("junit", {**junit(), "policy": "strict"}, None,
                 _cannot_judge("junit", "policy or summary is not an object"),
                 id="junit-policy-a-string"),
    pytest.param("junit", junit(failures=-1), None,
                 _cannot_judge("junit", "summary.failures is not a whole number >= 0"),
                 id="junit-negative-failures"),
    pytest.param("junit", {"summary": {"failures": 0}}, None,
                 _cannot_judge("junit", "summary.errors is not a whole number >= 0"),
                 id="junit-errors-missing"),
    pytest.param("junit", {"summary": {"failures": True, "errors": 0}}, None,
                 _cannot_judge("junit", "summary.failures is not a whole number >= 0"),
                 id="junit-failures-a-boolean"),
    pytest.param("junit", {"summary": {"failures": 0, "errors": 1.0}}, None,
                 _cannot_judge("junit", "summary.errors is not a whole number >= 0"),
                 id="junit-errors-a-float"),
    pytest.param("junit", junit(policy={"max_failures": -1, "max_errors": 0}), None,
                 _cannot_judge("junit", "policy.max_failures is not a whole number >= 0"),
                 id="junit-negative-limit"),
    pytest.param("junit", junit(policy={"max_failures": 2}), None,
                 _cannot_judge("junit", "policy.max_errors is not a whole number >= 0"),
                 id="junit-limit-missing"),
    # sarif / snyk
    pytest.param("sarif", {"actionable": {}}, None,
                 _cannot_judge("sarif", "policy or actionable is not an object"),
                 id="sarif-policy-missing"),
    pytest.param("snyk", {"policy": {"fail_on": "high"}, "actionable": [1]}, None,
                 _cannot_judge("snyk", "policy or actionable is not an object"),
                 id="snyk-actionable-a-list"),
    pytest.param("sarif", scan("severe"), None,
                 _cannot_judge("sarif", "policy.fail_on 'severe' is not one of critical, high, "
                                        "medium, low, any, none"),
                 id="sarif-fail-on-not-in-list"),
    pytest.param("sarif", {"policy": {}, "actionable": {}}, None,
                 _cannot_judge("sarif", "policy.fail_on None is not one of critical, high, "
                                        "medium, low, any, none"),
                 id="sarif-fail-on-missing"),
    pytest.param("sarif", scan("HIGH"), None,
                 _cannot_judge("sarif", "policy.fail_on 'HIGH' is not one of critical, high, "
                                        "medium, low, any, none"),
                 id="sarif-fail-on-wrong-case"),
    pytest.param("sarif", scan("high", -1), None,
                 _cannot_judge("sarif", "policy.max_findings is not a whole number >= 0"),
                 id="sarif-negative-max-findings"),
    pytest.param("snyk", {**scan("high"), "policy": {"fail_on": "high", "max_findings": True}},
                 None, _cannot_judge("snyk", "policy.max_findings is not a whole number >= 0"),
                 id="snyk-max-findings-a-boolean"),
    pytest.param("sarif", scan(blocker=1), None,
                 _cannot_judge("sarif", "actionable has an unknown severity 'blocker'"),
                 id="sarif-unknown-severity"),
    pytest.param("sarif", scan(high=-2), None,
                 _cannot_judge("sarif", "actionable.high is not a whole number >= 0"),
                 id="sarif-negative-count"),
    pytest.param("snyk", {**scan(projects=True), "actionable": {"low": "3"}}, None,
                 _cannot_judge("snyk", "actionable.low is not a whole number >= 0"),
                 id="snyk-count-a-string"),
    # custom
    pytest.param("custom:coverage", {"coverage": 90}, COVERAGE,
                 _cannot_judge("custom:coverage", "data is missing"), id="custom-data-missing"),
    pytest.param("custom:coverage", {"data": {}}, {"rules": "coverage >= 80"},
                 _cannot_judge("custom:coverage",
                               "the type version's rules are not a list of texts"),
                 id="custom-rules-a-string"),
    pytest.param("custom:coverage", {"data": {}}, {"rules": ["passed", 1]},
                 _cannot_judge("custom:coverage",
                               "the type version's rules are not a list of texts"),
                 id="custom-rule-not-a-text"),
]


@pytest.mark.parametrize(("kind", "predicate", "type_version", "message"), REFUSALS)
def test_refusal(kind: str, predicate: Any, type_version: Record | None, message: str) -> None:
    with pytest.raises(InputError) as caught:
        judge(kind, "check", predicate, type_version)
    assert caught.value.message == message


def test_unknown_type_says_to_upgrade() -> None:
    """A type this version cannot judge may be one a newer version can: say so."""
    with pytest.raises(InputError) as caught:
        judge("made-up", "check", {"compliant": True})
    assert caught.value.remedy == "upgrade affidavit"


def test_the_stored_flag_is_not_read() -> None:
    """A predicate's verdict comes from its content: a ``compliant`` key beside a JUnit summary
    does not change it (the judge must never fall back to a stored flag)."""
    assert judge("junit", "check", {**junit(failures=1), "compliant": True}) == (
        False, ["1 test case failed, more than --max-failures 0"])
