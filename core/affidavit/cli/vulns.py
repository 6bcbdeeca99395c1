"""``attest vulns``: map flags onto ``affidavit.api.scans.attest_vulns``."""

from __future__ import annotations

import argparse

from affidavit.cli import options as opt
from affidavit.cli.scans import _scan
from affidavit.cli.write import claim, open_for_write, show

__all__ = ["attest_vulns"]

_FORMATS = ("trivy", "grype")


def attest_vulns(p: argparse.ArgumentParser) -> None:
    """``attest vulns --scan-results FILE... [--format trivy|grype] [--ignore-unfixed]``."""
    _scan(p, "Trivy JSON (trivy --format json) or Grype JSON (grype -o json) reports")
    opt.add(p, "--format", choices=_FORMATS,
            help="which scanner wrote the reports (default: told from each file; a file of the "
                 "other scanner is refused)")
    opt.add(p, "--ignore-unfixed", action="store_const", const=True,
            help="vulnerabilities with no fixed version known cannot fail the verdict "
                 "(still recorded)")
    opt.add_attach(p, "the raw reports")
    p.set_defaults(handler=_attest_vulns)


def _attest_vulns(args: argparse.Namespace) -> int:
    from affidavit.api import scans

    return show(args, scans.attest_vulns(
        open_for_write(args), claim(args), scan_results=args.scan_results,
        format=args.format, fail_on=args.fail_on or "high", max_findings=args.max_findings,
        ignore_unfixed=bool(args.ignore_unfixed), attach=args.attach is not False))
