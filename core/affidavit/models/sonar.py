"""Pydantic model of the SonarQube / SonarCloud quality-gate predicate (``sonar/v1``), recorded
by ``attest sonar`` and built by collect/sonar.

Every field is required and may be null where the server does not say a value (or, for
``analysis`` and ``quality_gate``, where there was no analysis to read: a task that failed, or
none before ``--max-wait`` ran out). Unknown fields are kept, not refused: a later minor version
may add some, and a reader of this one must still read what it knows.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from affidavit.models.records import Model

__all__ = ["SonarLookup", "SonarAnalysis", "SonarCondition", "SonarQualityGate",
           "SonarPredicate"]


class _Open(Model):
    """Frozen and strict like every model, but tolerant of fields added later."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True, strict=True)


class SonarLookup(_Open):
    """How the analysis was found: through the scanner's Compute Engine task (``task``) or by
    the commit among the project's analyses (``revision``), after ``polls`` asks over
    ``waited_seconds`` of at most ``max_wait_seconds``."""

    by: Literal["task", "revision"]
    task_id: str | None
    #: PENDING, IN_PROGRESS, SUCCESS, FAILED or CANCELED, as the server last said.
    task_status: str | None
    task_error: str | None
    polls: int = Field(ge=1)
    waited_seconds: float = Field(ge=0)
    max_wait_seconds: float = Field(ge=0)


class SonarAnalysis(_Open):
    """One analysis: its key, the commit it analysed (null when the scan had no SCM data),
    when."""

    id: str
    revision: str | None
    date: str | None


class SonarCondition(_Open):
    """One condition of the gate as the server evaluated it (values as the server wrote them:
    numbers, ratings 1-5, as text)."""

    metric_key: str
    #: LT (fails when the value is below the threshold) or GT; EQ, NE on old servers.
    comparator: str | None
    error_threshold: str | None
    #: SonarQube before 7.6 only.
    warning_threshold: str | None
    actual_value: str | None
    #: OK, WARN, ERROR, or NO_VALUE.
    status: str


class SonarQualityGate(_Open):
    """The gate's status (OK, WARN, ERROR, NONE) and every condition."""

    status: str
    ignored_conditions: bool | None
    conditions: list[SonarCondition]


class SonarPredicate(_Open):
    """The predicate of a ``sonar`` attestation."""

    server_url: str
    organization: str | None
    project_key: str
    branch: str | None
    pull_request: str | None
    #: The commit asked about (the claim's), null when none was given (a report-task.txt).
    commit: str | None
    lookup: SonarLookup
    analysis: SonarAnalysis | None
    quality_gate: SonarQualityGate | None
    dashboard_url: str | None
