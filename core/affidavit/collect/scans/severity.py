"""Severities and the ``--fail-on`` / ``--max-findings`` policy a scan predicate records.

Shared by the SARIF and Snyk collectors so that one threshold means the same thing for every
scanner, and so that the judge (``compliance.judge``) can decide from the predicate alone: a
scan predicate carries the ``policy`` it was judged by and ``actionable``, the counts per
severity of the findings that may fail it (not suppressed, not outside the baseline when
``new_only``, and saying they are a problem). Nothing else is read.

Policy, as documented for users:

- ``--fail-on critical|high|medium|low``: non-compliant when any actionable finding has that
  severity or a higher one (default ``high``).
- ``--fail-on any``: non-compliant when there is any actionable finding at all, *including*
  severity ``none`` (e.g. a SARIF result of level ``none`` that still says it is a problem, or a
  ``security-severity`` of 0). Results that say they are not a problem (SARIF kind ``pass``,
  ``notApplicable``, ``informational``; v1 levels ``pass`` / ``notApplicable``) are never
  actionable, so ``any`` does not fail a clean BinSkim log full of passes.
- ``--fail-on none``: severity never fails the verdict.
- ``--max-findings N``: independently of ``--fail-on``, non-compliant when there are more than
  ``N`` actionable findings of any severity (``none`` included). Unset: no limit.
"""

from __future__ import annotations

from affidavit.errors import UsageError
from affidavit.models.severities import DEFAULT_FAIL_ON, FAIL_ON, LEVELS, RANK, SEVERITIES

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "SEVERITIES",
    "LEVELS",
    "FAIL_ON",
    "DEFAULT_FAIL_ON",
    "RANK",
    "zero",
    "from_cvss",
    "from_level",
    "from_name",
    "check_policy",
    "policy",
]

_FROM_LEVEL = {"error": "high", "warning": "medium", "note": "low", "none": "none"}
_NAMES = {"critical": "critical", "high": "high", "medium": "medium", "moderate": "medium",
          "low": "low", "info": "low", "informational": "low", "none": "none"}


def zero() -> dict[str, int]:
    """A fresh count per severity, in the order predicates show them."""
    return dict.fromkeys(SEVERITIES, 0)


def from_cvss(value: object) -> str | None:
    """``security-severity`` (a CVSS score, number or numeric string) as a severity.

    ``None`` when the value is missing or not a finite number, so the caller falls back to
    the level; GitHub's bands: critical >= 9.0, high >= 7.0, medium >= 4.0, low > 0, else none.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        score = float(value)
    except ValueError:
        return None
    if score != score or score in (float("inf"), float("-inf")):
        return None
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0 else "none"


def from_level(level: str) -> str:
    """A SARIF level (already normalised to :data:`LEVELS`) as a severity."""
    return _FROM_LEVEL[level]


def from_name(value: object) -> str | None:
    """A severity word as scanners write it (``High``, ``moderate``, ``info``), or ``None``."""
    if not isinstance(value, str):
        return None
    return _NAMES.get(value.strip().lower())


def check_policy(fail_on: str, max_findings: int | None) -> None:
    """Refuse a threshold or limit the verdict could not apply (a usage error, exit 2)."""
    if fail_on not in FAIL_ON:
        raise UsageError(f"--fail-on: {fail_on!r} is not one of {', '.join(FAIL_ON)}")
    if max_findings is not None and (
        isinstance(max_findings, bool) or not isinstance(max_findings, int) or max_findings < 0
    ):
        raise UsageError(f"--max-findings: {max_findings!r} is not a whole number >= 0")


def policy(fail_on: str, max_findings: int | None, new_only: bool) -> dict[str, Any]:
    """The ``policy`` a predicate records, after checking it."""
    check_policy(fail_on, max_findings)
    return {"fail_on": fail_on, "max_findings": max_findings, "new_only": bool(new_only)}
