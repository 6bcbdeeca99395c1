"""SonarQube / SonarCloud evidence: the quality gate of this commit's analysis, judged and
recorded.

Where the analysis is found, in this order:

1. ``report_task`` (``--report-task FILE``): the Compute Engine task the scanner names there;
2. ``project_key`` (``--project-key``) with the claim's commit: the project's analysis of it;
3. neither: the report-task.txt the scanner left in this directory (``.scannerwork/``,
   ``target/sonar/``, ``build/sonar/``), if one is there.

The server is ``sonar_url``, else the report's ``serverUrl``, else ``AFFIDAVIT_SONAR_URL`` or
the scanner's own ``SONAR_HOST_URL``, else SonarCloud when an ``organization`` is given. The
token is ``token``, else ``AFFIDAVIT_SONAR_TOKEN``, else the scanner's ``SONAR_TOKEN``; it is
sent to that server only and never recorded or printed.
"""

from __future__ import annotations

import os

from affidavit.api.record import CheckedClaim, Claim, Recorded, attest, check_claim
from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from affidavit.ledger.base import Ledger

__all__ = ["SonarLookup", "find_quality_gate", "attest_sonar"]

DEFAULT_MAX_WAIT = 300.0
"""Seconds to wait for a pending analysis: SonarQube's own ``sonar.qualitygate.timeout``."""


class SonarLookup:
    """Where and how to look: what the caller gave, completed from the environment."""

    __slots__ = ("report_task", "project_key", "sonar_url", "organization", "token", "branch",
                 "pull_request", "max_wait")

    def __init__(self, *, report_task: str | None = None, project_key: str | None = None,
                 sonar_url: str | None = None, organization: str | None = None,
                 token: str | None = None, branch: str | None = None,
                 pull_request: str | None = None, max_wait: float = DEFAULT_MAX_WAIT,
                 env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        if max_wait < 0:
            raise UsageError(f"--max-wait {max_wait:g} is negative")
        if branch and pull_request:
            raise UsageError("--branch and --pull-request name two analyses: give one")
        self.report_task = report_task
        self.project_key = project_key
        self.sonar_url = (sonar_url or env.get("AFFIDAVIT_SONAR_URL")
                          or env.get("SONAR_HOST_URL") or None)
        self.organization = organization
        self.token = token or env.get("AFFIDAVIT_SONAR_TOKEN") or env.get("SONAR_TOKEN") or None
        self.branch = branch
        self.pull_request = pull_request
        self.max_wait = max_wait


def _report_file(lookup: SonarLookup) -> str | None:
    """The report-task.txt to read: the one given, else (without --project-key) the one the
    scanner left here."""
    from affidavit.collect.sonar.report_task import DEFAULT_PATHS

    if lookup.report_task is not None:
        return lookup.report_task
    if lookup.project_key is not None:
        return None
    for path in DEFAULT_PATHS:
        if os.path.isfile(path):
            return path
    raise UsageError("attest sonar needs --report-task FILE (the scanner's report-task.txt) "
                     "or --project-key KEY with the commit",
                     remedy=f"no {', '.join(DEFAULT_PATHS)} here")


def find_quality_gate(lookup: SonarLookup, commit: str | None) -> dict[str, Any]:
    """The predicate: the quality gate of the analysis the lookup leads to (of ``commit``
    when it goes by the project key), and how it was found."""
    from affidavit.api.inputs import read_input
    from affidavit.collect import sonar
    from affidavit.collect.sonar import report_task, webapi

    path = _report_file(lookup)
    report: dict[str, Any] = {}
    if path is not None:
        report = report_task.parse(read_input(path, "--report-task", report_task.MAX_SIZE),
                                   f"--report-task {path}")
        if lookup.project_key and lookup.project_key != report["project_key"]:
            raise UsageError(f"--project-key {lookup.project_key!r} is not the project of "
                             f"{path} ({report['project_key']!r})")
    organization = lookup.organization or report.get("organization")
    server = (lookup.sonar_url or report.get("server_url")
              or (webapi.SONARCLOUD if organization else None))
    if server is None:
        raise UsageError("attest sonar needs --sonar-url (SonarQube's address) or "
                         "--organization (SonarCloud)")
    api = webapi.connect(server, lookup.token)
    try:
        if path is not None:
            return sonar.by_task(api, report["ce_task_id"], project_key=report["project_key"],
                                 organization=organization,
                                 branch=lookup.branch or report.get("branch"),
                                 pull_request=lookup.pull_request or report.get("pull_request"),
                                 commit=commit, dashboard=report.get("dashboard_url"),
                                 max_wait=lookup.max_wait)
        if not commit:
            raise UsageError("attest sonar --project-key needs --commit (outside CI there is "
                             "no default)")
        assert lookup.project_key is not None
        return sonar.by_revision(api, lookup.project_key, commit, organization=organization,
                                 branch=lookup.branch, pull_request=lookup.pull_request,
                                 max_wait=lookup.max_wait)
    finally:
        api.close()


def _notes(predicate: Mapping[str, Any]) -> list[str]:
    found = predicate["lookup"]
    analysis = predicate.get("analysis")
    gate = predicate.get("quality_gate")
    waited = (f" after {found['waited_seconds']:g} s and {found['polls']} lookups"
              if found["polls"] > 1 else "")
    if gate is None or analysis is None:
        what = (f"analysis task {found['task_id']}: {found['task_status']}"
                if found["by"] == "task" else "no analysis of the commit")
        return [f"sonar {predicate['project_key']}: {what}{waited}"]
    revision = (f" of revision {analysis['revision'][:12]}" if analysis.get("revision")
                else " (no revision recorded)")
    return [f"sonar {predicate['project_key']}: quality gate {gate['status']} for analysis "
            f"{analysis['id']}{revision}{waited}",
            f"dashboard: {predicate['dashboard_url']}"]


def attest_sonar(ledger: Ledger, claim: Claim | CheckedClaim, lookup: SonarLookup) -> Recorded:
    """Record the quality gate of the analysis of the claim's commit, judged by
    :func:`affidavit.compliance.sonar.sonar_verdict` (compliant iff it is OK)."""
    from affidavit.models.predicates import SONAR

    claim = check_claim(claim)
    commit = None if claim.commit is None else str(claim.commit["sha"])
    predicate = find_quality_gate(lookup, commit)
    recorded = attest(ledger, claim, type="sonar", predicate=predicate, predicate_type=SONAR)
    recorded.notes = _notes(predicate)
    return recorded
