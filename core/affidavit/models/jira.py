"""Pydantic model of the Jira predicate (``jira/v1``), recorded by ``attest jira`` and built by
``api/jira.py`` from what ``collect/jira.py`` read.

Every field is required and may be null: what Jira does not say (a moved issue's old key, a
status without a category) is null, never left out. Unknown fields are kept, not refused, as
for the pull-request predicate: a later minor version may add some.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from affidavit.models.records import Model

__all__ = ["JiraStatus", "JiraIssue", "JiraSearched", "JiraPolicy", "JiraPredicate"]

_KEY = r"^[A-Z][A-Z0-9_]*-[0-9]+$"


class _Open(Model):
    """Frozen and strict like every model, but tolerant of fields added later."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True, strict=True)


class JiraStatus(_Open):
    """An issue's status: its name (``In Review``) and its category's key (``new``,
    ``indeterminate``, ``done``)."""

    name: str | None
    category: str | None


class JiraIssue(_Open):
    """One key and what Jira said of it: found, or not (its 404, with Jira's words)."""

    key: str = Field(pattern=_KEY)
    found_in: list[Literal["given", "message", "branch"]] = Field(min_length=1)
    found: bool
    #: The key Jira answered with: another one when the issue was moved.
    jira_key: str | None
    id: str | None
    url: str | None
    summary: str | None
    status: JiraStatus | None
    issue_type: str | None
    #: Jira's words when it found no such issue (or one the caller may not see).
    jira_message: str | None


class JiraSearched(_Open):
    """Where keys were looked for: the commit message (when it was read), the branch (its name,
    ``REDACTED`` when redacted, null when none is known) and the keys given with ``--issue``."""

    message: bool
    branch: str | None
    given: list[str]


class JiraPolicy(_Open):
    """What the verdict was judged by: ``--require-status`` (names, compared ignoring case)."""

    require_status: list[str] | None = Field(min_length=1)


class JiraPredicate(_Open):
    """The predicate of a ``jira`` attestation."""

    base_url: str
    api_version: Literal["2", "3"]
    auth: Literal["basic", "bearer", "anonymous"]
    pattern: str
    projects: list[str] | None
    commit: str | None
    searched: JiraSearched
    issues: list[JiraIssue]
    policy: JiraPolicy
