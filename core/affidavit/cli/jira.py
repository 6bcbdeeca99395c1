"""``attest jira``: map flags onto ``affidavit.api.jira``."""

from __future__ import annotations

import argparse

from affidavit.cli import options as opt
from affidavit.cli.write import attest_flags, claim, open_for_write, show

__all__ = ["attest_jira"]


def attest_jira(p: argparse.ArgumentParser) -> None:
    """``attest jira --jira-base-url URL``."""
    attest_flags(p)
    opt.add(p, "--jira-base-url", required=True, metavar="URL",
            help="Jira's root: https://SITE.atlassian.net, or a Data Center's with its context "
                 "path (https://HOST/jira)")
    opt.add(p, "--jira-api", choices=("2", "3"),
            help="REST API version (default 3 on *.atlassian.net, *.jira.com and "
                 "api.atlassian.com, 2 elsewhere: Data Center and Server)")
    opt.add(p, "--jira-username", metavar="NAME",
            help="with --jira-api-token, HTTP basic auth: on Cloud the account's e-mail")
    opt.add(p, "--jira-api-token", metavar="TOKEN",
            help="a Cloud API token (or a Data Center password), with --jira-username")
    opt.add(p, "--jira-pat", metavar="TOKEN",
            help="a Data Center / Server personal access token, sent as a bearer token")
    opt.add(p, "--issue-pattern", metavar="REGEX",
            help="what an issue key looks like in the commit message and branch (default "
                 "[A-Z][A-Z0-9_]+-[0-9]+); a match never follows a letter or digit")
    opt.add(p, "--jira-project", nargs="+", metavar="KEY",
            help="only keys of these projects count among those found in the message and "
                 "branch")
    opt.add(p, "--issue", nargs="+", metavar="KEY",
            help="issue keys to look up besides those the commit names")
    opt.add(p, "--require-status", nargs="+", metavar="STATUS",
            help="also not compliant unless an issue found is in one of these statuses "
                 "(names, ignoring case)")
    p.set_defaults(handler=_attest)


def _attest(args: argparse.Namespace) -> int:
    from affidavit.api.jira import JiraLookup, attest_jira

    lookup = JiraLookup(args.jira_base_url, api_version=args.jira_api,
                        username=args.jira_username, api_token=args.jira_api_token,
                        pat=args.jira_pat, issue_pattern=args.issue_pattern,
                        projects=args.jira_project, issues=args.issue)
    return show(args, attest_jira(open_for_write(args), claim(args), lookup,
                                  require_status=args.require_status))
