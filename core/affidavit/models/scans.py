"""Pydantic models of the one scan predicate, recorded by ``attest sarif`` and ``attest snyk``
(built by collect/scans/predicate.py; documented in docs/predicates.md).

One model, parametrised only by what is truly the type's own: the ``extra`` of a source and of a
finding (``None`` for ``sarif``, Snyk's project and package facts for ``snyk``). Everything else
-- ``summary``, ``sources``, ``findings``, ``actionable``, ``policy``, ``files`` -- has the same
fields for both, so one reader (the markdown summary, a dashboard, ``jq``) reads either. Both
carry the ``policy`` they were judged by and ``actionable``, so
``affidavit.compliance.judge.scan_verdict`` recomputes the verdict from a validated predicate
alone (it reads only those two, which the v1 predicates had too).
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import Field

from affidavit.models.predicates import SARIF, SNYK
from affidavit.models.records import Model, Sha256

__all__ = [
    "SARIF",
    "SNYK",
    "Severity",
    "Level",
    "SeverityCounts",
    "LevelCounts",
    "Policy",
    "ScanFile",
    "ScanSummary",
    "ScanSource",
    "Location",
    "ScanFinding",
    "ScanPredicate",
    "SnykSourceExtra",
    "SnykFindingExtra",
    "SarifSource",
    "SarifFinding",
    "SnykSource",
    "SnykFinding",
    "SarifPredicate",
    "SnykPredicate",
]


Severity = Literal["critical", "high", "medium", "low", "none"]
Level = Literal["error", "warning", "note", "none"]
Count = Annotated[int, Field(ge=0)]
SourceExtra = TypeVar("SourceExtra")
FindingExtra = TypeVar("FindingExtra")
SourceT = TypeVar("SourceT", bound="ScanSource[Any]")
FindingT = TypeVar("FindingT", bound="ScanFinding[Any]")


class SeverityCounts(Model):
    """A count per severity."""

    critical: Count
    high: Count
    medium: Count
    low: Count
    none: Count


class LevelCounts(Model):
    """A count per SARIF level."""

    error: Count
    warning: Count
    note: Count
    none: Count


class Policy(Model):
    """What the verdict was judged by (``--fail-on``, ``--max-findings``, ``--new-only``)."""

    fail_on: Literal["critical", "high", "medium", "low", "any", "none"]
    max_findings: int | None = Field(ge=0)
    new_only: bool


class ScanFile(Model):
    """A scanned file as the user named it, the SHA-256 of its bytes, and how it was read."""

    path: str
    sha256: Sha256
    format: Literal["sarif", "snyk-json"]


class ScanSummary(Model):
    """Every finding of every source, suppressed or not. ``by_level`` is the ``sarif`` type's
    own breakdown (null for ``snyk``, whose JSON has no levels); ``paths`` the ``snyk`` type's
    (every vulnerable path Snyk lists, of which ``total`` counts the distinct issues; null for
    ``sarif``)."""

    total: Count
    suppressed: Count
    by_severity: SeverityCounts
    by_level: LevelCounts | None
    paths: Count | None


class ScanSource(ScanSummary, Generic[SourceExtra]):
    """What produced findings: a SARIF run, or a Snyk project. The same counts as the summary,
    for this source alone."""

    file: str
    name: str
    tool: str | None
    version: str | None
    extra: SourceExtra


class Location(Model):
    """Where a finding points (``end_line`` defaults to ``start_line``, as in SARIF)."""

    uri: str | None
    start_line: int | None
    end_line: int | None


class ScanFinding(Model, Generic[FindingExtra]):
    """One SARIF result or one unique Snyk issue, as far as a reviewer needs it."""

    source: Count
    tool: str | None
    rule_id: str | None
    severity: Severity
    level: Level | None
    kind: str
    message: str
    location: str | None
    locations: list[Location]
    location_count: Count
    fingerprints: dict[str, str]
    suppressed: bool
    baseline_state: Literal["new", "unchanged", "updated", "absent"] | None
    actionable: bool
    extra: FindingExtra


class ScanPredicate(Model, Generic[SourceT, FindingT]):
    """The scan predicate: counts, what produced them, a sample of findings, the policy."""

    summary: ScanSummary
    actionable: SeverityCounts
    sources: list[SourceT]
    findings: list[FindingT]
    findings_total: Count
    findings_cap: Count
    policy: Policy
    files: list[ScanFile]


class SnykSourceExtra(Model):
    """What Snyk says of a project (a target file, an image, an image's application, or a
    SARIF run, whose product is guessed from its tool name)."""

    type: Literal["open-source", "container", "container-app", "iac", "code", "sarif"]
    package_manager: str | None
    target_file: str | None
    path: str | None


class SnykFindingExtra(Model):
    """What Snyk says of an issue: the vulnerable package and how many paths lead to it."""

    package: str | None
    version: str | None
    paths: int = Field(ge=1)


class SarifSource(ScanSource[None]):
    """A SARIF run (``name``: its ``automationDetails.id``, else its tool, else ``run N``)."""


class SarifFinding(ScanFinding[None]):
    """A SARIF result."""


class SnykSource(ScanSource[SnykSourceExtra]):
    """A Snyk project, or a run of Snyk's SARIF."""


class SnykFinding(ScanFinding[SnykFindingExtra]):
    """A unique Snyk issue (entries sharing an id are one issue, at their highest severity)."""


class SarifPredicate(ScanPredicate[SarifSource, SarifFinding]):
    """Predicate of ``attest sarif`` (:data:`SARIF`)."""


class SnykPredicate(ScanPredicate[SnykSource, SnykFinding]):
    """Predicate of ``attest snyk`` (:data:`SNYK`)."""
