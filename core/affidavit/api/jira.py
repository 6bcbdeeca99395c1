"""Jira evidence: the issues a commit names, looked up in Jira, judged, recorded.

Keys are looked for in the commit the attestation is about: its message (read from the
checkout, as the record's ``commit`` is) and its branch, which is the CI's (the source branch
of a pull request build) when the CI builds that very commit, else the branch the checkout's
``HEAD`` is on when that is the commit. Keys given with ``--issue`` are looked up too.
``--redact-commit-info message|branch`` keeps the message and the branch name out of the record
as everywhere else; the keys in them are still found and recorded.
"""

from __future__ import annotations

import os
import time

from affidavit.api.record import Claim, attest, check_claim

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    from affidavit.api.record import CheckedClaim, Recorded
    from affidavit.ledger.base import Ledger

__all__ = ["JiraLookup", "find_issues", "attest_jira"]

_REDACTED = "REDACTED"


class JiraLookup:
    """Where and how to look, checked before anything is asked of Jira or the ledger."""

    __slots__ = ("base_url", "api_version", "credentials", "pattern", "pattern_text",
                 "projects", "issues", "env", "sleep")

    def __init__(self, base_url: str, *, api_version: str | None = None,
                 username: str | None = None, api_token: str | None = None,
                 pat: str | None = None, issue_pattern: str | None = None,
                 projects: Sequence[str] | None = None, issues: Sequence[str] | None = None,
                 env: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        from affidavit.collect import jira
        from affidavit.web import checked_url

        self.base_url = checked_url(base_url, "--jira-base-url",
                                    token_hint="give credentials in --jira-api-token or "
                                               "--jira-pat")
        self.api_version = jira.api_version(self.base_url, api_version)
        self.credentials = jira.Credentials(username=username, api_token=api_token, pat=pat)
        self.pattern_text = jira.DEFAULT_PATTERN if issue_pattern is None else issue_pattern
        self.pattern = jira.key_pattern(self.pattern_text)
        self.projects = jira.check_projects(projects)
        given: list[str] = []
        for key in issues or ():
            checked = jira.check_key(key, "--issue")
            if checked not in given:
                given.append(checked)
        self.issues = given
        self.env = os.environ if env is None else env
        self.sleep = sleep


def _commit_text(commit: Mapping[str, Any] | None, field: str,
                 redact: Sequence[str]) -> tuple[str | None, bool]:
    """The commit's ``field`` (``message`` or ``branch``) to search, and whether the record
    withholds it: a redacted value is read again, unredacted, from the checkout's cache."""
    if commit is None:
        return None, field in redact
    value = commit.get(field)
    if value == _REDACTED:
        from affidavit.api.commits import commit_record

        value = (commit_record(str(commit["sha"])) or {}).get(field)
        return (value if isinstance(value, str) else None), True
    return (value if isinstance(value, str) else None), field in redact


def _branch(lookup: JiraLookup, commit: Mapping[str, Any] | None,
            redact: Sequence[str]) -> tuple[str | None, bool]:
    """The branch to search: the CI's when it builds this commit, else the checkout's."""
    from affidavit.api.context import detect_ci

    ci = detect_ci(lookup.env) or {}
    sha = None if commit is None else str(commit.get("sha") or "")
    built = str(ci.get("commit") or "").lower()
    branch, withheld = _commit_text(commit, "branch", redact)
    if ci.get("branch") and built and (sha is None or sha.startswith(built)):
        return str(ci["branch"]), withheld
    return branch, withheld


def find_issues(lookup: JiraLookup, commit: Mapping[str, Any] | None,
                redact: Sequence[str] = ()) -> dict[str, Any]:
    """The predicate's facts (everything but its policy): the keys ``commit`` names (its
    record, as ``commit_record`` gives it) and those given, each as Jira answered for it."""
    from affidavit.collect import jira

    message, _ = _commit_text(commit, "message", redact)
    branch, withhold_branch = _branch(lookup, commit, redact)
    places: dict[str, list[str]] = {}
    for where, keys in (("given", lookup.issues),
                        ("message", jira.find_keys(message or "", lookup.pattern,
                                                   lookup.projects)),
                        ("branch", jira.find_keys(branch or "", lookup.pattern,
                                                  lookup.projects))):
        for key in keys:
            places.setdefault(key, []).append(where)
    issues: list[dict[str, Any]] = []
    if places:
        api = jira.connect(lookup.base_url, lookup.credentials, sleep=lookup.sleep)
        try:
            issues = jira.look_up(api, lookup.api_version, list(places), lookup.credentials)
        finally:
            api.close()
    for issue in issues:
        issue["found_in"] = places[issue["key"]]
    recorded_branch = _REDACTED if branch is not None and withhold_branch else branch
    return {"base_url": lookup.base_url, "api_version": lookup.api_version,
            "auth": lookup.credentials.kind, "pattern": lookup.pattern_text,
            "projects": None if lookup.projects is None else list(lookup.projects),
            "commit": None if commit is None else commit.get("sha"),
            "searched": {"message": message is not None, "branch": recorded_branch,
                         "given": list(lookup.issues)},
            "issues": [{k: issue[k] for k in _ORDER} for issue in issues]}


_ORDER = ("key", "found_in", "found", "jira_key", "id", "url", "summary", "status",
          "issue_type", "jira_message")


def _notes(predicate: Mapping[str, Any]) -> list[str]:
    issues = predicate["issues"]
    if not issues:
        return []
    said = []
    for issue in issues:
        if not issue["found"]:
            said.append(f"{issue['key']} not found")
            continue
        status = (issue["status"] or {}).get("name")
        moved = (f" (now {issue['jira_key']})" if issue["jira_key"] != issue["key"] else "")
        said.append(f"{issue['key']}{moved} {status or 'without a status'}")
    notes = [f"Jira {predicate['base_url']} (REST API {predicate['api_version']}): "
             + ", ".join(said)]
    if predicate["auth"] == "anonymous" and any(not i["found"] for i in issues):
        notes.append("no Jira credentials were given: an issue Jira shows only to signed-in "
                     "users is reported not found")
    return notes


def attest_jira(ledger: Ledger, claim: Claim | CheckedClaim, lookup: JiraLookup, *,
                require_status: Sequence[str] | None = None) -> Recorded:
    """Record the Jira issues the claim's commit names (and those ``lookup.issues`` gives),
    judged by ``compliance.jira``: at least one exists, in a ``require_status`` status when
    given."""
    from affidavit.api.commits import split_fields
    from affidavit.compliance.jira import jira_policy
    from affidavit.models.predicates import JIRA

    policy = jira_policy(require_status)
    redact = split_fields(claim.redact) if isinstance(claim, Claim) else ()
    claim = check_claim(claim)
    predicate = find_issues(lookup, claim.commit, redact)
    predicate["policy"] = policy
    recorded = attest(ledger, claim, type="jira", predicate=predicate, predicate_type=JIRA)
    recorded.notes = _notes(predicate)
    return recorded
