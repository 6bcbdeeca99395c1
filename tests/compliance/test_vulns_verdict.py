"""The judge of ``vulns`` (compliance/judge.py ``scan_verdict``), and that the words it learned
for it (a plural of "vulnerability", "fixable", "with --ignore-unfixed") left the ``sarif`` and
``snyk`` verdicts exactly as they were: compared with the function as it read before, over many
policies and counts."""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from typing import Any

import pytest

from affidavit.compliance.judge import judge, scan_policy, scan_verdict
from affidavit.errors import InputError
from affidavit.models.severities import FAIL_ON, RANK, SEVERITIES


def _before(kind: str, predicate: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """``scan_verdict``'s reasons as written before ``vulns`` (validation left out: the inputs
    below are all well formed)."""
    rules, counts = predicate["policy"], predicate["actionable"]
    fail_on, max_findings = rules["fail_on"], rules.get("max_findings")
    noun = {"sarif": "finding", "snyk": "issue"}[kind]
    new = "new " if rules.get("new_only") else ""

    def breakdown(severities: tuple[str, ...]) -> str:
        return ", ".join(f"{counts[s]} {s}" for s in severities if counts.get(s))

    reasons: list[str] = []
    if fail_on != "none":
        floor = 0 if fail_on == "any" else RANK[fail_on]
        hit = tuple(s for s in SEVERITIES if RANK[s] >= floor)
        total = sum(counts.get(s, 0) for s in hit)
        if total:
            where = "of any severity" if fail_on == "any" else f"at or above {fail_on}"
            plural = "" if total == 1 else "s"
            reasons.append(f"{total} {new}{noun}{plural} {where} ({breakdown(hit)}), "
                           f"--fail-on {fail_on}")
    if max_findings is not None:
        total = sum(counts.get(s, 0) for s in SEVERITIES)
        if total > max_findings:
            plural = "" if total == 1 else "s"
            reasons.append(f"{total} {new}{noun}{plural} ({breakdown(SEVERITIES)}), "
                           f"more than --max-findings {max_findings}")
    return not reasons, reasons


def _cases(seed: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        counts = {s: rng.choice([0, 0, 1, 2, 7]) for s in SEVERITIES}
        policy = scan_policy(rng.choice(FAIL_ON), rng.choice([None, 0, 1, 3]),
                             rng.random() < 0.5)
        out.append({"policy": policy, "actionable": counts})
    return out


@pytest.mark.parametrize("kind", ["sarif", "snyk"])
def test_sarif_and_snyk_verdicts_are_as_before(kind: str) -> None:
    for predicate in _cases(17, 3000):
        assert scan_verdict(kind, predicate) == _before(kind, predicate), predicate
        # a vulns-only policy key is not read for them, whatever it holds
        odd = {**predicate, "policy": {**predicate["policy"], "ignore_unfixed": "maybe"}}
        assert scan_verdict(kind, odd) == _before(kind, predicate)


def _vulns(counts: Mapping[str, int], fail_on: str = "high", max_findings: int | None = None,
           ignore_unfixed: object = False) -> dict[str, Any]:
    return {"policy": {**scan_policy(fail_on, max_findings, False),
                       "ignore_unfixed": ignore_unfixed},
            "actionable": {s: counts.get(s, 0) for s in SEVERITIES}}


def test_vulns_reasons() -> None:
    assert scan_verdict("vulns", _vulns({})) == (True, [])
    assert scan_verdict("vulns", _vulns({"critical": 1})) == (
        False, ["1 vulnerability at or above high (1 critical), --fail-on high"])
    assert scan_verdict("vulns", _vulns({"critical": 1, "high": 2, "none": 4}, max_findings=5)
                        ) == (False, [
        "3 vulnerabilities at or above high (1 critical, 2 high), --fail-on high",
        "7 vulnerabilities (1 critical, 2 high, 4 none), more than --max-findings 5"])
    assert scan_verdict("vulns", _vulns({"high": 2}, ignore_unfixed=True)) == (
        False, ["2 fixable vulnerabilities at or above high (2 high), --fail-on high with "
                "--ignore-unfixed"])
    assert scan_verdict("vulns", _vulns({"none": 1}, "any", 0, True))[1] == [
        "1 fixable vulnerability of any severity (1 none), --fail-on any with --ignore-unfixed",
        "1 fixable vulnerability (1 none), more than --max-findings 0 with --ignore-unfixed"]


def test_vulns_counts_are_the_verdict_whatever_the_flag() -> None:
    """``ignore_unfixed`` changes words, never the outcome: the counts already left the
    unfixed findings out."""
    for fail_on, limit, counts in itertools.product(
            FAIL_ON, (None, 0, 2), ({}, {"low": 1}, {"critical": 3, "none": 1})):
        plain = scan_verdict("vulns", _vulns(counts, fail_on, limit, False))
        ignoring = scan_verdict("vulns", _vulns(counts, fail_on, limit, True))
        assert plain[0] == ignoring[0] and len(plain[1]) == len(ignoring[1])


@pytest.mark.parametrize("value", [None, "true", 1, [True]])
def test_a_vulns_policy_must_say_ignore_unfixed(value: object) -> None:
    predicate = _vulns({"high": 1}, ignore_unfixed=value)
    with pytest.raises(InputError, match=r"attestation 'scan' \(vulns\): cannot judge its "
                                         r"predicate: policy.ignore_unfixed is not true or false"):
        judge("vulns", "scan", predicate)
    without = {**predicate, "policy": scan_policy("high", None, False)}
    with pytest.raises(InputError, match="policy.ignore_unfixed"):
        judge("vulns", "scan", without)


def test_judge_reads_vulns_as_a_scan() -> None:
    assert judge("vulns", "scan", _vulns({"medium": 3})) == (True, [])
    assert judge("vulns", "scan", _vulns({"medium": 3}, "medium"))[0] is False
