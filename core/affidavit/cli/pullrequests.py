"""``attest pullrequest PROVIDER`` and ``assert pullrequest PROVIDER``: map flags onto
``affidavit.api.pullrequests``."""

from __future__ import annotations

import argparse
import sys

from affidavit.cli import options as opt
from affidavit.cli.write import attest_flags, claim, open_for_write, show

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["attest_pullrequest", "assert_pullrequest"]

_PROVIDERS = ("github", "gitlab", "bitbucket", "azure")


def _whole(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(f"{value} is negative")
    return number


def _seconds(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 3600:
        raise ValueError(f"{value} is not between 0 and 3600")
    return number


def _lookup_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("provider", choices=_PROVIDERS, metavar="PROVIDER",
                   help="where the repository is hosted: github, gitlab, bitbucket or azure")
    opt.add(p, "--pr", type=_whole, metavar="NUMBER",
            help="the pull (merge) request to record (default in a pull-request build: the one "
                 "being built; else those containing --commit)")
    opt.add(p, "--repository", metavar="REPO",
            help="github owner/repo, gitlab group/project, bitbucket workspace/repo (Data "
                 "Center: PROJECT/repo), azure ORG/PROJECT/REPO or PROJECT/REPO with a "
                 "collection --base-url (default in the provider's CI: this build's)")
    opt.add(p, "--base-url", metavar="URL",
            help="API root for GitHub Enterprise Server (https://HOST/api/v3), self-managed "
                 "GitLab (https://HOST/api/v4), Bitbucket Data Center (https://HOST), Azure "
                 "DevOps Server (the collection URL); also AFFIDAVIT_<PROVIDER>_BASE_URL")
    opt.add(p, "--token", metavar="TOKEN",
            help="API token (default AFFIDAVIT_<PROVIDER>_TOKEN, then GITHUB_TOKEN, "
                 "CI_JOB_TOKEN or SYSTEM_ACCESSTOKEN in their CI)")
    opt.add(p, "--username", metavar="NAME",
            help="with --token, HTTP basic auth (Bitbucket app passwords, Data Center "
                 "passwords); also AFFIDAVIT_<PROVIDER>_USERNAME")
    opt.add(p, "--require-approvals", type=_whole, metavar="N",
            help="also not compliant unless the merged (or latest) pull request has N "
                 "approvals of its final head from people other than its authors")
    opt.add(p, "--allow-stale-approvals", action="store_const", const=True,
            help="with --require-approvals: an approval of an older head counts too")
    opt.add(p, "--max-wait", type=_seconds, metavar="SECONDS",
            help="when no pull request contains the commit yet (just merged), ask again for up "
                 "to this long (default 30)")


def _lookup(args: argparse.Namespace, commit: str | None) -> Any:
    from affidavit.api.pullrequests import Lookup

    return Lookup(args.provider, repository=args.repository, number=args.pr, commit=commit,
                  base_url=args.base_url, token=args.token, username=args.username,
                  max_wait=30.0 if args.max_wait is None else args.max_wait)


def attest_pullrequest(p: argparse.ArgumentParser) -> None:
    """``attest pullrequest PROVIDER``."""
    _lookup_flags(p)
    attest_flags(p)
    p.set_defaults(handler=_attest)


def assert_pullrequest(p: argparse.ArgumentParser) -> None:
    """``assert pullrequest PROVIDER``."""
    _lookup_flags(p)
    opt.add(p, "--commit", help="full git commit SHA (default in CI: the build's commit)")
    opt.add_output(p, ("table", "json", "markdown"))
    opt.add_summary_file(p)
    opt.add_outputs_file(p)
    p.set_defaults(handler=_assert, ci_defaults=True)


def _attest(args: argparse.Namespace) -> int:
    from affidavit.api import pullrequests

    return show(args, pullrequests.attest_pullrequest(
        open_for_write(args), claim(args), _lookup(args, None),
        require_approvals=args.require_approvals,
        allow_stale_approvals=bool(args.allow_stale_approvals)))


def _assert(args: argparse.Namespace) -> int:
    from affidavit.api import pullrequests
    from affidavit.cli.gate import report

    opt.check_output_files(args)
    found = pullrequests.assert_pullrequest(
        _lookup(args, args.commit), require_approvals=args.require_approvals,
        allow_stale_approvals=bool(args.allow_stale_approvals))
    subject = f"pull request of {args.provider} {found['predicate']['repository']}"
    result = {"compliant": found["compliant"],
              "status": "COMPLIANT" if found["compliant"] else "NON_COMPLIANT",
              "subject": subject, "reasons": found["reasons"], "notes": found["notes"],
              "pull_requests": found["predicate"]["pull_requests"]}
    if args.output in (None, "table"):
        sys.stdout.writelines(f"{note}\n" for note in found["notes"])
    return report(args.output, result, args.summary_file, args.outputs_file)
