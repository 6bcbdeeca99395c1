"""The predicate of a JUnit attestation (``attest junit``), as ``affidavit schema junit`` shows it.

:func:`affidavit.collect.junit.summarize` builds it as plain dicts (the write path does not
import pydantic); these models validate it wherever it is read back, and publish its schema.
The counting rules are in :mod:`affidavit.collect.junit` and, for retried tests,
:mod:`affidavit.collect.junit.fold`. ``junit/v1`` records (written before retries were folded)
are still found in ledgers: :class:`JUnitPredicateV1` is their shape.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, model_validator

from affidavit.models.predicates import JUNIT, JUNIT_V1
from affidavit.models.records import Model, Sha256

__all__ = [
    "JUNIT",
    "JUNIT_V1",
    "JUnitSummary",
    "JUnitSummaryV1",
    "JUnitPolicy",
    "JUnitPolicyV1",
    "JUnitPredicateV1",
    "JUnitDeclared",
    "JUnitSuite",
    "JUnitFailedCase",
    "JUnitFile",
    "JUnitPredicate",
]



class JUnitSummary(Model):
    """One outcome per test, its runs folded (or one per element, ``retries: count``); the five
    outcomes add up to ``tests``, and ``runs`` counts every run (a rerun child included)."""

    tests: NonNegativeInt
    passed: NonNegativeInt
    flaky: NonNegativeInt
    failed: NonNegativeInt
    errors: NonNegativeInt
    skipped: NonNegativeInt
    runs: NonNegativeInt
    duration_s: NonNegativeFloat

    @model_validator(mode="after")
    def _adds_up(self) -> JUnitSummary:
        if self.passed + self.flaky + self.failed + self.errors + self.skipped != self.tests:
            raise ValueError("passed + flaky + failed + errors + skipped must equal tests")
        if self.runs < self.tests:
            raise ValueError("every test has a run: runs cannot be fewer than tests")
        return self


class JUnitSummaryV1(Model):
    """``junit/v1``: counted from ``<testcase>`` elements, one outcome each; ``flaky`` is part
    of ``passed``."""

    tests: NonNegativeInt
    passed: NonNegativeInt
    failures: NonNegativeInt
    errors: NonNegativeInt
    skipped: NonNegativeInt
    flaky: NonNegativeInt
    duration_s: NonNegativeFloat

    @model_validator(mode="after")
    def _adds_up(self) -> JUnitSummaryV1:
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
    """The policy the verdict was judged by: ``--max-failures``, ``--max-errors``,
    ``--max-flaky`` (null: no limit) and ``--retries`` (how the counts were made)."""

    max_failures: NonNegativeInt
    max_errors: NonNegativeInt
    max_flaky: NonNegativeInt | None
    retries: Literal["fold", "count"]


class JUnitPolicyV1(Model):
    """``junit/v1``: the limits the verdict was judged by (``--max-failures``, ``--max-errors``)."""

    max_failures: NonNegativeInt
    max_errors: NonNegativeInt


class _Cases(Model):
    """What both versions hold besides their summary and policy."""

    declared: JUnitDeclared
    suites: list[JUnitSuite]
    failed_cases: list[JUnitFailedCase]
    failed_cases_total: NonNegativeInt
    failed_cases_cap: NonNegativeInt
    files: list[JUnitFile] = Field(min_length=1)

    def _check_cases(self, failed: int, errors: int) -> None:
        shown = len(self.failed_cases)
        if shown > self.failed_cases_cap or shown > self.failed_cases_total:
            raise ValueError("failed_cases holds more cases than failed_cases_cap or _total")
        if self.failed_cases_total != failed + errors:
            raise ValueError("failed_cases_total must equal the summary's failed + errors")


class JUnitPredicate(_Cases):
    """The predicate of :data:`JUNIT` (``junit/v2``)."""

    summary: JUnitSummary
    policy: JUnitPolicy

    @model_validator(mode="after")
    def _within_cap(self) -> JUnitPredicate:
        self._check_cases(self.summary.failed, self.summary.errors)
        return self


class JUnitPredicateV1(_Cases):
    """The predicate of :data:`JUNIT_V1`, as records written before folding hold it."""

    summary: JUnitSummaryV1
    policy: JUnitPolicyV1 | None = None

    @model_validator(mode="after")
    def _within_cap(self) -> JUnitPredicateV1:
        self._check_cases(self.summary.failures, self.summary.errors)
        return self
