"""Pydantic models of the scan predicates: ``sarif`` and ``snyk`` (collect/scans/sarif.py, snyk.py).

Both carry the ``policy`` they were judged by and ``actionable`` -- the counts per severity
that may fail the verdict -- so ``affidavit.compliance.judge.scan_verdict`` recomputes the verdict
from a validated predicate alone.
"""

from __future__ import annotations

from typing import Annotated, Literal

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
    "FileRef",
    "SarifSummary",
    "SarifRun",
    "SarifLocation",
    "SarifFinding",
    "SarifPredicate",
    "SnykFileRef",
    "SnykProject",
    "SnykTotals",
    "SnykFinding",
    "SnykPredicate",
]


Severity = Literal["critical", "high", "medium", "low", "none"]
Level = Literal["error", "warning", "note", "none"]
Count = Annotated[int, Field(ge=0)]


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


class FileRef(Model):
    """A scanned file as the user named it, and the SHA-256 of its bytes."""

    path: str
    sha256: Sha256


class SarifSummary(Model):
    """Every result of every run, suppressed or not."""

    results: Count
    suppressed: Count
    by_level: LevelCounts
    by_severity: SeverityCounts


class SarifRun(Model):
    """One run: its tool and the same counts as the summary."""

    file: str
    tool: str | None
    version: str | None
    results: Count
    suppressed: Count
    by_level: LevelCounts
    by_severity: SeverityCounts


class SarifLocation(Model):
    """Where a result points (``end_line`` defaults to ``start_line``, as in SARIF)."""

    uri: str | None
    start_line: int | None
    end_line: int | None


class SarifFinding(Model):
    """One result, as far as a reviewer needs it."""

    tool: str | None
    rule_id: str | None
    level: Level
    severity: Severity
    kind: str
    message: str
    locations: list[SarifLocation]
    location_count: Count
    partial_fingerprints: dict[str, str]
    suppressed: bool
    baseline_state: Literal["new", "unchanged", "updated", "absent"] | None
    actionable: bool


class SarifPredicate(Model):
    """Predicate of ``attest sarif`` (:data:`SARIF`)."""

    summary: SarifSummary
    actionable: SeverityCounts
    runs: list[SarifRun]
    findings: list[SarifFinding]
    findings_total: Count
    findings_cap: Count
    policy: Policy
    files: list[FileRef]


class SnykFileRef(FileRef):
    """A scanned file and whether it was Snyk JSON or Snyk's SARIF."""

    format: Literal["snyk-json", "sarif"]


class SnykProject(Model):
    """One Snyk project (a target file, an image, an image's application, or a SARIF run)."""

    file: str
    name: str
    type: Literal["open-source", "container", "container-app", "iac", "code", "sarif"]
    package_manager: str | None
    target_file: str | None
    path: str | None
    path_entries: Count
    unique_issues: Count
    suppressed: Count
    by_severity: SeverityCounts


class SnykTotals(Model):
    """All projects together; ``by_severity`` counts unique issues."""

    projects: Count
    path_entries: Count
    unique_issues: Count
    suppressed: Count
    by_severity: SeverityCounts


class SnykFinding(Model):
    """One unique issue."""

    project: str
    target_file: str | None
    id: str
    title: str
    severity: Severity
    package: str | None
    version: str | None
    paths: int = Field(ge=1)
    location: str | None
    suppressed: bool
    actionable: bool


class SnykPredicate(Model):
    """Predicate of ``attest snyk`` (:data:`SNYK`)."""

    projects: list[SnykProject]
    totals: SnykTotals
    actionable: SeverityCounts
    findings: list[SnykFinding]
    findings_total: Count
    findings_cap: Count
    policy: Policy
    files: list[SnykFileRef]
