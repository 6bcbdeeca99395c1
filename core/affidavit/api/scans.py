"""Test results and security scans as attestations: run the collector, judge, record.

The raw reports are attached as evidence by default, so an auditor holding the evidence package
can re-run the (open) collector on the very bytes that were judged.
"""

from __future__ import annotations

import os

from affidavit.api.record import CheckedClaim, Claim, Recorded, attest, check_claim
from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Sequence

    from affidavit.api.inputs import PathArg
    from affidavit.ledger.base import Ledger

__all__ = ["attest_junit", "attest_sarif", "attest_snyk", "attest_vulns"]


def _named(paths: Sequence[str], base: str | None) -> list[tuple[str, PathArg]]:
    """Evidence names: the path below ``--results-dir`` when given, else the file name."""
    out: list[tuple[str, PathArg]] = []
    for path in paths:
        name = os.path.relpath(path, base) if base else os.path.basename(path)
        out.append((name.replace(os.sep, "/"), path))
    return out


def attest_junit(
    ledger: Ledger,
    claim: Claim | CheckedClaim,
    *,
    results_dir: str | None = None,
    results: Sequence[str] = (),
    max_failures: int = 0,
    max_errors: int = 0,
    max_flaky: int | None = None,
    retries: str = "fold",
    attach: bool = True,
) -> Recorded:
    """Record JUnit XML results: counts, failing tests, and the verdict against the limits.

    ``retries="fold"`` makes a test written several times (a retry, an attempt, a rerun child)
    one test, flaky when one run failed and another passed; ``"count"`` counts every
    ``<testcase>`` element as a test. ``max_flaky`` None is no limit on flaky tests."""
    from affidavit.collect import junit
    from affidavit.compliance.judge import junit_policy
    from affidavit.models.predicates import JUNIT

    policy = junit_policy(max_failures, max_errors, max_flaky, retries)
    claim = check_claim(claim)
    paths = junit.find_result_names(results_dir, results)
    predicate = junit.summarize(junit.parse_files(paths, retries=retries), retries=retries)
    predicate["policy"] = policy
    recorded = attest(ledger, claim, type="junit", predicate=predicate, predicate_type=JUNIT,
                      raw_files=_named(paths, results_dir) if attach else None)
    recorded.files_read = [os.fspath(path) for path in paths]
    return recorded


def _attest_scan(ledger: Ledger, claim: Claim | CheckedClaim, *, type: str,
                 scan_results: Sequence[str], fail_on: str, max_findings: int | None,
                 new_only: bool,
                 attach: bool) -> Recorded:
    """Scans share a shape: collector -> predicate with its policy -> the judge's verdict."""
    from affidavit.collect.scans import sarif, snyk
    from affidavit.compliance.judge import scan_policy
    from affidavit.models.predicates import PREDICATE_TYPES
    from affidavit.paths import path_text

    claim = check_claim(claim)
    collector = sarif if type == "sarif" else snyk
    policy = scan_policy(fail_on, max_findings, new_only)
    paths = [path_text(p) for p in scan_results]  # as pathlib spells them, without its 4 ms
    predicate = collector.summarize([collector.parse_file(path) for path in paths],
                                    new_only=new_only)
    predicate["policy"] = policy
    recorded = attest(ledger, claim, type=type, predicate=predicate,
                      predicate_type=PREDICATE_TYPES[type],
                      raw_files=_named(paths, None) if attach else None)
    recorded.files_read = [os.fspath(path) for path in paths]
    return recorded


def attest_sarif(
    ledger: Ledger,
    claim: Claim | CheckedClaim,
    *,
    scan_results: Sequence[str],
    fail_on: str = "high",
    max_findings: int | None = None,
    new_only: bool = False,
    attach: bool = True,
) -> Recorded:
    """Record SARIF scan results from any producer, judged by severity threshold."""
    return _attest_scan(ledger, claim, type="sarif", scan_results=scan_results,
                        fail_on=fail_on, max_findings=max_findings, new_only=new_only,
                        attach=attach)


def attest_snyk(
    ledger: Ledger,
    claim: Claim | CheckedClaim,
    *,
    scan_results: Sequence[str],
    fail_on: str = "high",
    max_findings: int | None = None,
    attach: bool = True,
) -> Recorded:
    """Record Snyk results (JSON from open source, container or IaC scans, or Snyk Code SARIF)."""
    return _attest_scan(ledger, claim, type="snyk", scan_results=scan_results,
                        fail_on=fail_on, max_findings=max_findings, new_only=False,
                        attach=attach)


def attest_vulns(
    ledger: Ledger,
    claim: Claim | CheckedClaim,
    *,
    scan_results: Sequence[str],
    format: str | None = None,
    fail_on: str = "high",
    max_findings: int | None = None,
    ignore_unfixed: bool = False,
    attach: bool = True,
) -> Recorded:
    """Record Trivy or Grype vulnerability reports (their own JSON; ``format`` ``trivy`` or
    ``grype``, None to tell from each file), judged by severity threshold; with
    ``ignore_unfixed`` a vulnerability without a known fix cannot fail the verdict."""
    from affidavit.collect.scans import vulns
    from affidavit.compliance.judge import scan_policy
    from affidavit.models.predicates import VULNS
    from affidavit.paths import path_text

    if format is not None and format not in vulns.FORMATS:
        raise UsageError(f"--format: {format!r} is not one of {', '.join(vulns.FORMATS)}")
    if not scan_results:
        raise UsageError("--scan-results: no report given (a verdict on no report would be "
                         "empty)")
    claim = check_claim(claim)
    policy = {**scan_policy(fail_on, max_findings, False), "ignore_unfixed": bool(ignore_unfixed)}
    paths = [path_text(p) for p in scan_results]
    predicate = vulns.summarize([vulns.parse_file(path, format=format) for path in paths],
                                ignore_unfixed=bool(ignore_unfixed))
    predicate["policy"] = policy
    recorded = attest(ledger, claim, type="vulns", predicate=predicate, predicate_type=VULNS,
                      raw_files=_named(paths, None) if attach else None)
    recorded.files_read = [os.fspath(path) for path in paths]
    return recorded
