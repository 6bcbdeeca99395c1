"""The predicate of a coverage attestation (``attest coverage``), as ``affidavit schema
coverage`` shows it.

:func:`affidavit.collect.coverage.summarize` builds it as plain dicts (the write path does
not import pydantic); these models validate it wherever it is read back, and publish its
schema. How each format is counted is in :mod:`affidavit.collect.coverage`; the verdict in
:mod:`affidavit.compliance.coverage`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, model_validator

from affidavit.models.predicates import COVERAGE
from affidavit.models.records import Model, Sha256

__all__ = [
    "COVERAGE",
    "CoverageFigures",
    "CoverageSummary",
    "CoveragePackage",
    "CoverageDeclared",
    "CoverageMismatch",
    "CoverageReport",
    "CoveragePolicy",
    "CoveragePredicate",
]


class CoverageFigures(Model):
    """``covered`` of ``total`` (lines or branches), and the percentage made from them (two
    decimals; null when ``total`` is 0). The verdict reads the counts, never the percentage."""

    covered: NonNegativeInt
    total: NonNegativeInt
    percent: float | None = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _within(self) -> CoverageFigures:
        if self.covered > self.total:
            raise ValueError("covered cannot exceed total")
        if (self.percent is None) != (self.total == 0):
            raise ValueError("percent is null exactly when total is 0")
        return self


class CoverageSummary(Model):
    """Every report's lines and branches, summed."""

    lines: CoverageFigures
    branches: CoverageFigures


class CoveragePackage(Model):
    """One package (Cobertura's and JaCoCo's ``<package>``; for lcov the directory of the
    source files), its counts summed over every report holding it."""

    name: str
    lines: CoverageFigures
    branches: CoverageFigures


class CoverageDeclared(Model):
    """What a report says of itself, recorded and never used: Cobertura's root attributes
    (``lines-covered``, ``lines-valid``, ``branches-covered``, ``branches-valid``,
    ``line-rate``, ``branch-rate``), JaCoCo's report-level ``LINE``/``BRANCH`` counters, lcov's
    ``LH``/``LF``/``BRH``/``BRF`` summed over the records (null when a record leaves one out).
    Null where the report does not say."""

    lines_covered: NonNegativeInt | None
    lines_total: NonNegativeInt | None
    branches_covered: NonNegativeInt | None
    branches_total: NonNegativeInt | None
    line_rate: float | None = Field(ge=0, le=1)
    branch_rate: float | None = Field(ge=0, le=1)


class CoverageMismatch(Model):
    """A declared figure that is not the counted one: at ``scope`` (a Cobertura package, an
    lcov source file; null: the whole report), ``field`` as :class:`CoverageDeclared` names
    it."""

    scope: str | None
    field: Literal["lines_covered", "lines_total", "branches_covered", "branches_total",
                   "line_rate", "branch_rate"]
    declared: float | int
    counted: float | int


class CoverageReport(Model):
    """One report file: its format, what was counted in it and what it declares."""

    path: str = Field(min_length=1)
    sha256: Sha256
    format: Literal["cobertura", "jacoco", "lcov"]
    #: ``package``: the report's own packages; ``directory``: lcov's, derived from each
    #: source file's directory.
    packages_from: Literal["package", "directory"]
    lines: CoverageFigures
    branches: CoverageFigures
    declared: CoverageDeclared
    mismatches: list[CoverageMismatch]
    mismatches_total: NonNegativeInt
    notes: list[str]

    @model_validator(mode="after")
    def _capped(self) -> CoverageReport:
        if len(self.mismatches) > self.mismatches_total:
            raise ValueError("mismatches lists more than mismatches_total")
        return self


class CoveragePolicy(Model):
    """The minimums the verdict was judged by (``--min-lines``, ``--min-branches``, percent);
    null: no minimum."""

    min_lines: float | int | None = Field(ge=0, le=100)
    min_branches: float | int | None = Field(ge=0, le=100)


class CoveragePredicate(Model):
    """The predicate of :data:`COVERAGE` (``coverage/v1``)."""

    summary: CoverageSummary
    packages: list[CoveragePackage]
    packages_total: NonNegativeInt
    packages_cap: NonNegativeInt
    reports: list[CoverageReport] = Field(min_length=1)
    policy: CoveragePolicy

    @model_validator(mode="after")
    def _packages_fit(self) -> CoveragePredicate:
        shown = len(self.packages)
        if shown > self.packages_cap or shown > self.packages_total:
            raise ValueError("packages lists more than packages_cap or packages_total")
        return self
