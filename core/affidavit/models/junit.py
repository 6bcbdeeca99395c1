"""The predicate of a JUnit attestation (``attest junit``), as ``affidavit schema junit`` shows it.

:func:`affidavit.collect.junit.summarize` builds it as plain dicts (the write path does not
import pydantic); these models validate it wherever it is read back, and publish its schema.
The counting rules are in :mod:`affidavit.collect.junit`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, model_validator

from affidavit.models.predicates import JUNIT
from affidavit.models.records import Model, Sha256

__all__ = [
    "JUNIT",
    "JUnitSummary",
    "JUnitDeclared",
    "JUnitSuite",
    "JUnitFailedCase",
    "JUnitFile",
    "JUnitPredicate",
]



class JUnitSummary(Model):
    """Counted from ``<testcase>`` elements, one outcome each; ``flaky`` is part of ``passed``."""

    tests: NonNegativeInt
    passed: NonNegativeInt
    failures: NonNegativeInt
    errors: NonNegativeInt
    skipped: NonNegativeInt
    flaky: NonNegativeInt
    duration_s: NonNegativeFloat

    @model_validator(mode="after")
    def _adds_up(self) -> JUnitSummary:
        if self.passed + self.failures + self.errors + self.skipped != self.tests:
            raise ValueError("passed + failures + errors + skipped must equal tests")
        if self.flaky > self.passed:
            raise ValueError("flaky cases are passed cases: flaky cannot exceed passed")
        return self


class JUnitDeclared(Model):
    """What the top-level suites' attributes claim; null where none of them says."""

    tests: NonNegativeInt | None
    failures: NonNegativeInt | None
    errors: NonNegativeInt | None
    skipped: NonNegativeInt | None


class JUnitSuite(Model):
    """A suite holding test cases, with the counts of its own (direct) cases."""

    name: str | None
    file: str
    tests: NonNegativeInt
    failures: NonNegativeInt
    errors: NonNegativeInt
    skipped: NonNegativeInt
    duration_s: NonNegativeFloat


class JUnitFailedCase(Model):
    """A failed or errored case; ``message`` is the first result's message, possibly cut."""

    suite: str | None
    classname: str | None
    name: str | None
    kind: Literal["failure", "error"]
    message: str | None


class JUnitFile(Model):
    """A results file that was counted, by the path it was found at and its content digest."""

    path: str = Field(min_length=1)
    sha256: Sha256


class JUnitPolicy(Model):
    """The limits the verdict was judged by (``--max-failures``, ``--max-errors``)."""

    max_failures: NonNegativeInt
    max_errors: NonNegativeInt


class JUnitPredicate(Model):
    """The predicate of :data:`JUNIT`."""

    summary: JUnitSummary
    declared: JUnitDeclared
    suites: list[JUnitSuite]
    failed_cases: list[JUnitFailedCase]
    failed_cases_total: NonNegativeInt
    failed_cases_cap: NonNegativeInt
    files: list[JUnitFile] = Field(min_length=1)
    policy: JUnitPolicy | None = None

    @model_validator(mode="after")
    def _within_cap(self) -> JUnitPredicate:
        shown = len(self.failed_cases)
        if shown > self.failed_cases_cap or shown > self.failed_cases_total:
            raise ValueError("failed_cases holds more cases than failed_cases_cap or _total")
        if self.failed_cases_total != self.summary.failures + self.summary.errors:
            raise ValueError("failed_cases_total must equal summary failures + errors")
        return self
