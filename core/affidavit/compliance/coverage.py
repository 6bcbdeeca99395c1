"""The coverage verdict, and the minimums it applies (``--min-lines``, ``--min-branches``).

Compliant iff, for each minimum set, the reports' covered share of lines (of branches) is at
least that percentage. The comparison is of counts, exactly: ``covered / total >= P / 100`` as
fractions (``P`` read as the decimal it was written as), so 80% of 1,000 lines is 800 lines and
never misses by a rounding. With a minimum set and nothing to measure against it -- 0 lines, or
0 branches (a report made without branch coverage: coverage.py without ``--branch``, lcov
without ``--branch-coverage``) -- the attestation is not compliant, with a reason: a minimum that
cannot be checked is not met. With no minimum, the attestation records the figures and is
compliant.

The collector only counts (:mod:`affidavit.collect.coverage`); the policy recorded beside its
counts is the one this module applies, to the predicate alone (:func:`coverage_verdict`, called
by :func:`affidavit.compliance.judge.judge` for every reader and verifier).
"""

from __future__ import annotations

import math

from affidavit.compliance.judge import Malformed
from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = ["coverage_policy", "coverage_verdict"]

_KINDS = (("lines", "min_lines", "--min-lines", "line"),
          ("branches", "min_branches", "--min-branches", "branch"))


def _minimum(value: object, flag: str) -> int | float | None:
    """A user's minimum: a percentage 0-100 (a whole one recorded as a whole number)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{flag}: {value!r} is not a percentage")
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise UsageError(f"{flag}: {value!r} is not a percentage from 0 to 100")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def coverage_policy(min_lines: float | None, min_branches: float | None) -> dict[str, Any]:
    """The ``policy`` a coverage predicate records, after checking the minimums."""
    return {"min_lines": _minimum(min_lines, "--min-lines"),
            "min_branches": _minimum(min_branches, "--min-branches")}


def _count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Malformed(f"{field} is not a whole number >= 0")
    return value


def _exact(value: int | float) -> tuple[int, int]:
    """The percentage as the decimal it reads as, numerator and denominator (80.1 is 801/10,
    not the nearest double). Whole numbers, not ``fractions``: importing it (and ``decimal``)
    would cost ``attest coverage``'s start-up 2 ms."""
    if not isinstance(value, float):
        return value, 1
    mantissa, _, exponent = repr(value).lower().partition("e")  # 80.1, 1e-05, 1.5e-07
    whole, _, decimals = mantissa.partition(".")
    numerator, denominator = int(whole + decimals), 10 ** len(decimals)
    shift = int(exponent or 0)
    if shift < 0:
        return numerator, denominator * 10 ** -shift
    return numerator * 10 ** shift, denominator


def _many(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}{'es' if noun.endswith('h') else 's'}"


def coverage_verdict(predicate: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """Compliant iff the summary's lines and branches meet the recorded ``policy``'s
    minimums; one reason per minimum not met."""
    policy = predicate.get("policy")
    summary = predicate.get("summary")
    if not isinstance(policy, dict) or not isinstance(summary, dict):
        raise Malformed("policy or summary is not an object")
    reasons: list[str] = []
    for kind, key, flag, noun in _KINDS:
        if key not in policy:
            raise Malformed(f"policy.{key} is missing")
        minimum = policy[key]
        if minimum is not None and (isinstance(minimum, bool)
                                    or not isinstance(minimum, int | float)
                                    or not math.isfinite(minimum) or not 0 <= minimum <= 100):
            raise Malformed(f"policy.{key} is not a percentage from 0 to 100")
        figures = summary.get(kind)
        if not isinstance(figures, dict):
            raise Malformed(f"summary.{kind} is not an object")
        covered = _count(figures.get("covered"), f"summary.{kind}.covered")
        total = _count(figures.get("total"), f"summary.{kind}.total")
        if covered > total:
            raise Malformed(f"summary.{kind}.covered is more than its total")
        if minimum is None:
            continue
        if total == 0:
            what = ("no branch data (0 branches: measured without branch coverage?)"
                    if kind == "branches" else "no line data (0 lines)")
            reasons.append(f"the reports have {what}, so {flag} {minimum:g} cannot be met")
            continue
        numerator, denominator = _exact(minimum)
        if covered * 100 * denominator < numerator * total:  # covered/total < minimum/100
            shown = covered * 10000 // total / 100  # cut, never rounded up to the minimum
            reasons.append(f"{noun} coverage {shown:.2f}% ({covered:,} of "
                           f"{_many(total, noun)}) is below {flag} {minimum:g}")
    return not reasons, reasons
