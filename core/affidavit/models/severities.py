"""The severity vocabulary scan predicates are written and judged in: plain constants, shared by
the collectors that count findings and by the judge that applies ``--fail-on``."""

from __future__ import annotations

__all__ = ["SEVERITIES", "LEVELS", "FAIL_ON", "DEFAULT_FAIL_ON", "RANK"]

#: Most severe first.
SEVERITIES = ("critical", "high", "medium", "low", "none")
#: SARIF levels, most severe first.
LEVELS = ("error", "warning", "note", "none")
#: What ``--fail-on`` accepts.
FAIL_ON = ("critical", "high", "medium", "low", "any", "none")
DEFAULT_FAIL_ON = "high"
#: Severity -> rank, higher is more severe.
RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "none": 0}
