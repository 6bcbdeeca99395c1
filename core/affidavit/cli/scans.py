"""``attest junit|sarif|snyk``: map flags onto ``affidavit.api.scans``."""

from __future__ import annotations

import argparse

from affidavit.cli import options as opt
from affidavit.cli.write import attest_flags, claim, open_for_write, show

__all__ = ["attest_junit", "attest_sarif", "attest_snyk"]

_FAIL_ON = ("critical", "high", "medium", "low", "any", "none")
_RETRIES = ("fold", "count")


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(f"{value} is negative")
    return number


def _thresholds(p: argparse.ArgumentParser) -> None:
    opt.add(p, "--fail-on", choices=_FAIL_ON,
            help="lowest severity that makes the scan not compliant (default high)")
    opt.add(p, "--max-findings", type=_count, metavar="N",
            help="not compliant with more than N findings of any severity")


def attest_junit(p: argparse.ArgumentParser) -> None:
    """``attest junit (--results-dir DIR | --results FILE_OR_GLOB...)``."""
    attest_flags(p)
    opt.add(p, "--results-dir", metavar="DIR", help="every *.xml file below DIR")
    opt.add(p, "--results", nargs="+", metavar="FILE_OR_GLOB", help="result files or globs")
    opt.add(p, "--max-failures", type=_count, metavar="N",
            help="failed tests allowed (default 0)")
    opt.add(p, "--max-errors", type=_count, metavar="N", help="errored tests allowed (default 0)")
    opt.add(p, "--max-flaky", type=_count, metavar="N",
            help="flaky tests allowed: failed on one run, passed on another (default: no limit)")
    opt.add(p, "--retries", choices=_RETRIES,
            help="fold: a test written several times is one test, flaky when a retry passed; "
                 "count: every <testcase> is a test (default fold)")
    opt.add_attach(p, "the raw reports")
    p.set_defaults(handler=_attest_junit)


def _scan(p: argparse.ArgumentParser, formats: str) -> None:
    attest_flags(p)
    opt.add(p, "--scan-results", nargs="+", required=True, metavar="FILE", help=formats)
    _thresholds(p)


def attest_sarif(p: argparse.ArgumentParser) -> None:
    """``attest sarif --scan-results FILE...``."""
    _scan(p, "SARIF 1.0, 2.0 or 2.1.0 files from any scanner")
    opt.add(p, "--new-only", action="store_const", const=True,
            help="only results new against the baseline (baselineState) can fail")
    opt.add_attach(p, "the raw reports")
    p.set_defaults(handler=_attest_sarif)


def attest_snyk(p: argparse.ArgumentParser) -> None:
    """``attest snyk --scan-results FILE...``."""
    _scan(p, "Snyk JSON (open source, container, IaC) or Snyk Code SARIF")
    opt.add_attach(p, "the raw reports")
    p.set_defaults(handler=_attest_snyk)


def _attest_junit(args: argparse.Namespace) -> int:
    from affidavit.api import scans
    from affidavit.errors import UsageError

    if not args.results_dir and not args.results:
        raise UsageError("attest junit needs --results-dir DIR or --results FILE_OR_GLOB "
                         "(there is no default: the whole repository is never scanned)")
    return show(args, scans.attest_junit(
        open_for_write(args), claim(args), results_dir=args.results_dir,
        results=args.results or (), max_failures=args.max_failures or 0,
        max_errors=args.max_errors or 0, max_flaky=args.max_flaky,
        retries=args.retries or "fold", attach=args.attach is not False))


def _attest_sarif(args: argparse.Namespace) -> int:
    from affidavit.api import scans

    return show(args, scans.attest_sarif(
        open_for_write(args), claim(args), scan_results=args.scan_results,
        fail_on=args.fail_on or "high", max_findings=args.max_findings,
        new_only=bool(args.new_only), attach=args.attach is not False))


def _attest_snyk(args: argparse.Namespace) -> int:
    from affidavit.api import scans

    return show(args, scans.attest_snyk(
        open_for_write(args), claim(args), scan_results=args.scan_results,
        fail_on=args.fail_on or "high", max_findings=args.max_findings,
        attach=args.attach is not False))
