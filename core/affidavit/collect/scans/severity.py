"""Severities as the scan collectors count them: CVSS bands, SARIF levels, scanners' words.

Shared by the SARIF and Snyk collectors so that one severity means the same thing for every
scanner. Which severities fail a scan is not decided here: the predicate records the counts
(``actionable``: the findings that may fail it -- not suppressed, not outside the baseline when
``new_only``, and saying they are a problem), and :mod:`affidavit.compliance.judge` applies the
recorded ``--fail-on`` / ``--max-findings`` policy to them.
"""

from __future__ import annotations

from affidavit.models.severities import LEVELS, RANK, SEVERITIES

__all__ = ["SEVERITIES", "LEVELS", "RANK", "zero", "from_cvss", "from_level", "from_name"]

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
