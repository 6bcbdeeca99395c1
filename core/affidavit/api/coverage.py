"""Code coverage as an attestation: run the collector, judge against the minimums, record.

The reports are attached as evidence by default, so an auditor holding the evidence package
can re-run the (open) collector on the very bytes that were judged.
"""

from __future__ import annotations

import os

from affidavit.api.record import CheckedClaim, Claim, Recorded, attest, check_claim

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Sequence

    from affidavit.ledger.base import Ledger

__all__ = ["attest_coverage"]


def attest_coverage(
    ledger: Ledger,
    claim: Claim | CheckedClaim,
    *,
    reports: Sequence[str],
    min_lines: float | None = None,
    min_branches: float | None = None,
    attach: bool = True,
) -> Recorded:
    """Record coverage reports (Cobertura XML, JaCoCo XML or lcov, found from their content;
    several are merged by package): line and branch counts, overall and per package, and the
    verdict against ``min_lines`` / ``min_branches`` (percent; None: no minimum)."""
    from affidavit.collect import coverage
    from affidavit.compliance.coverage import coverage_policy
    from affidavit.errors import UsageError
    from affidavit.models.predicates import COVERAGE
    from affidavit.paths import path_text

    policy = coverage_policy(min_lines, min_branches)
    claim = check_claim(claim)
    if not reports:
        raise UsageError("no coverage report given", remedy="pass --report FILE...")
    if any(not report for report in reports):
        raise UsageError("--report: empty value")
    paths = list(dict.fromkeys(path_text(report) for report in reports))
    predicate = coverage.summarize(coverage.parse_files(paths))
    predicate["policy"] = policy
    raw = [(os.path.basename(path), path) for path in paths] if attach else None
    recorded = attest(ledger, claim, type="coverage", predicate=predicate,
                      predicate_type=COVERAGE, raw_files=raw)
    recorded.files_read = list(paths)
    return recorded
