"""``attest coverage``: map flags onto ``affidavit.api.coverage``."""

from __future__ import annotations

import argparse

from affidavit.cli import options as opt
from affidavit.cli.write import attest_flags, claim, open_for_write, show

__all__ = ["attest_coverage"]


def _percent(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage from 0 to 100, not {value!r}"
                                         ) from None
    if not 0 <= number <= 100:  # also refuses nan; inf is past 100
        raise argparse.ArgumentTypeError(f"expected a percentage from 0 to 100, not {value!r}")
    return number


def attest_coverage(p: argparse.ArgumentParser) -> None:
    """``attest coverage --report FILE... [--min-lines P] [--min-branches P]``."""
    attest_flags(p)
    opt.add(p, "--report", nargs="+", required=True, metavar="FILE",
            help="coverage reports: Cobertura XML, JaCoCo XML or lcov tracefiles (found from "
                 "the content; several merge by package)")
    opt.add(p, "--min-lines", type=_percent, metavar="P",
            help="not compliant with less than P%% of lines covered (default: no minimum)")
    opt.add(p, "--min-branches", type=_percent, metavar="P",
            help="not compliant with less than P%% of branches covered, or with no branch "
                 "data (default: no minimum)")
    opt.add_attach(p, "the reports")
    p.set_defaults(handler=_attest_coverage)


def _attest_coverage(args: argparse.Namespace) -> int:
    from affidavit.api import coverage

    return show(args, coverage.attest_coverage(
        open_for_write(args), claim(args), reports=args.report, min_lines=args.min_lines,
        min_branches=args.min_branches, attach=args.attach is not False))
