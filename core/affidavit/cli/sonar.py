"""``attest sonar``: map flags onto ``affidavit.api.sonar``."""

from __future__ import annotations

import argparse

from affidavit.cli import options as opt
from affidavit.cli.write import attest_flags, claim, open_for_write, show

__all__ = ["attest_sonar"]


def _seconds(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 3600:
        raise ValueError(f"{value} is not between 0 and 3600")
    return number


def attest_sonar(p: argparse.ArgumentParser) -> None:
    """``attest sonar [--report-task FILE | --project-key KEY]``."""
    attest_flags(p)
    opt.add(p, "--report-task", metavar="FILE",
            help="the scanner's report-task.txt: its Compute Engine task leads to the analysis "
                 "(default without --project-key: .scannerwork/, target/sonar/ or build/sonar/"
                 "report-task.txt when there)")
    opt.add(p, "--project-key", metavar="KEY",
            help="without a report-task.txt: the project whose analysis of --commit to read")
    opt.add(p, "--sonar-url", metavar="URL",
            help="the server (default: the report's serverUrl, SONAR_HOST_URL, or "
                 "https://sonarcloud.io with --organization)")
    opt.add(p, "--organization", metavar="ORG", help="SonarCloud organization")
    opt.add(p, "--sonar-token", metavar="TOKEN",
            help="token that may browse the project, sent as a bearer token (default also "
                 "SONAR_TOKEN); never recorded")
    opt.add(p, "--branch", metavar="NAME",
            help="with --project-key: the branch analysed (default: the main branch)")
    opt.add(p, "--pull-request", metavar="KEY",
            help="with --project-key: the pull request analysed")
    opt.add(p, "--max-wait", type=_seconds, metavar="SECONDS",
            help="while the analysis is still queued or being processed, ask again for up to "
                 "this long (default 300); then it is recorded as not compliant")
    p.set_defaults(handler=_attest)


def _attest(args: argparse.Namespace) -> int:
    from affidavit.api import sonar

    lookup = sonar.SonarLookup(
        report_task=args.report_task, project_key=args.project_key, sonar_url=args.sonar_url,
        organization=args.organization, token=args.sonar_token, branch=args.branch,
        pull_request=args.pull_request,
        max_wait=sonar.DEFAULT_MAX_WAIT if args.max_wait is None else args.max_wait)
    return show(args, sonar.attest_sonar(open_for_write(args), claim(args), lookup))
