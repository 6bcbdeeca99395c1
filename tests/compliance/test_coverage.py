"""The coverage verdict and its minimums: exact on counts, and a minimum that cannot be checked
is not met."""

from __future__ import annotations

import random
from typing import Any

import pytest

from affidavit.compliance.coverage import coverage_policy, coverage_verdict
from affidavit.compliance.judge import judge
from affidavit.errors import InputError, UsageError


def _predicate(lines: tuple[int, int], branches: tuple[int, int], min_lines: Any = None,
               min_branches: Any = None) -> dict[str, Any]:
    return {"summary": {"lines": {"covered": lines[0], "total": lines[1]},
                        "branches": {"covered": branches[0], "total": branches[1]}},
            "policy": {"min_lines": min_lines, "min_branches": min_branches}}


def test_policy_checks_and_shapes_the_minimums() -> None:
    assert coverage_policy(80.0, None) == {"min_lines": 80, "min_branches": None}
    assert coverage_policy(None, 62.5) == {"min_lines": None, "min_branches": 62.5}
    assert isinstance(coverage_policy(80.0, None)["min_lines"], int)  # one canonical spelling
    for bad in (-1, 100.5, float("nan"), float("inf"), True, "80"):
        with pytest.raises(UsageError, match="--min-branches"):
            coverage_policy(None, bad)


def test_no_minimum_is_compliant_whatever_the_figures() -> None:
    assert coverage_verdict(_predicate((0, 0), (0, 0))) == (True, [])
    assert coverage_verdict(_predicate((1, 100), (0, 7))) == (True, [])


def test_minimums_compare_counts_exactly() -> None:
    # 80.1% of 1,000 lines is 801 lines: met, though 80.1 * 10 is 801.0000000000001 in floats
    assert coverage_verdict(_predicate((801, 1000), (0, 0), min_lines=80.1)) == (True, [])
    ok, reasons = coverage_verdict(_predicate((800, 1000), (0, 0), min_lines=80.1))
    assert not ok
    assert reasons == ["line coverage 80.00% (800 of 1,000 lines) is below --min-lines 80.1"]
    # 2 of 3 is 66.666…%: below 66.67, and shown cut (66.66), never rounded up to the minimum
    ok, reasons = coverage_verdict(_predicate((2, 3), (0, 0), min_lines=66.67))
    assert reasons == ["line coverage 66.66% (2 of 3 lines) is below --min-lines 66.67"]
    assert coverage_verdict(_predicate((2, 3), (0, 0), min_lines=66.66))[0]
    assert coverage_verdict(_predicate((0, 5), (0, 0), min_lines=0))[0]
    assert coverage_verdict(_predicate((5, 5), (4, 4), 100, 100))[0]


def test_no_branch_data_with_a_branch_minimum_is_not_compliant() -> None:
    ok, reasons = coverage_verdict(_predicate((9, 10), (0, 0), min_lines=80, min_branches=50))
    assert not ok
    assert reasons == ["the reports have no branch data (0 branches: measured without branch "
                       "coverage?), so --min-branches 50 cannot be met"]
    ok, reasons = coverage_verdict(_predicate((0, 0), (0, 0), min_lines=0))
    assert reasons == ["the reports have no line data (0 lines), so --min-lines 0 cannot be met"]


def test_both_minimums_missed_give_two_reasons() -> None:
    ok, reasons = coverage_verdict(_predicate((1, 2), (1, 4), 75, 50))
    assert not ok
    assert reasons == ["line coverage 50.00% (1 of 2 lines) is below --min-lines 75",
                       "branch coverage 25.00% (1 of 4 branches) is below --min-branches 50"]


@pytest.mark.parametrize(("change", "needle"), [
    (lambda p: p.pop("policy"), "policy or summary"),
    (lambda p: p["policy"].pop("min_lines"), "policy.min_lines is missing"),
    (lambda p: p["policy"].update(min_lines=101), "policy.min_lines is not a percentage"),
    (lambda p: p["policy"].update(min_lines=True), "policy.min_lines is not a percentage"),
    (lambda p: p["summary"]["lines"].update(covered=-1), "summary.lines.covered"),
    (lambda p: p["summary"]["branches"].update(covered=5), "more than its total"),
    (lambda p: p["summary"].pop("branches"), "summary.branches is not an object"),
])
def test_a_predicate_it_cannot_read_is_an_input_error(change: Any, needle: str) -> None:
    predicate = _predicate((1, 2), (1, 4), 50, None)
    change(predicate)
    with pytest.raises(InputError, match="cannot judge its predicate") as caught:
        judge("coverage", "cov", predicate)
    assert needle in caught.value.message


def test_the_judge_asks_this_module() -> None:
    assert judge("coverage", "cov", _predicate((1, 2), (0, 0), 60)) == (
        False, ["line coverage 50.00% (1 of 2 lines) is below --min-lines 60"])


def test_minimums_are_read_as_the_decimals_they_were_written_as() -> None:
    """The verdict's whole-number comparison reads a minimum exactly as ``Fraction(repr(P))``
    would (so 80.1 is 801/10), e notation included."""
    from fractions import Fraction

    from affidavit.compliance.coverage import _exact

    rng = random.Random(17)
    values: list[int | float] = [0, 80, 0.0, 80.1, 99.99, 100.0, 1e-05, 1.5e-07, 62.5]
    values += [rng.uniform(0, 100) for _ in range(500)]
    values += [round(rng.uniform(0, 100), 3) for _ in range(500)]
    for value in values:
        numerator, denominator = _exact(value)
        assert Fraction(numerator, denominator) == Fraction(repr(value)), value
