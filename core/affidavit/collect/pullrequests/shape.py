"""The one shape every provider's pull request is recorded in (predicate ``pull-request/v1``;
model ``affidavit.models.pullrequests``; docs/predicates.md).

Providers differ in what they call things (a GitLab merge request's ``iid``, Azure's vote 5,
Bitbucket's ``participants``); each provider module maps its JSON onto these builders, which
take every field by keyword and write every key, so a value a provider does not give is
``null``, never absent, and a reader (the judge, a dashboard, ``jq``) needs no provider cases.
"""

from __future__ import annotations

from datetime import UTC, datetime

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Record = dict[str, Any]

__all__ = ["STATES", "REVIEW_STATES", "person", "ref", "review", "commit", "pull_request",
           "moment"]

STATES = ("open", "draft", "merged", "closed")
"""A pull request's state: ``draft`` is open but marked not ready."""

REVIEW_STATES = ("approved", "approved_with_suggestions", "changes_requested", "dismissed",
                 "commented")
"""A review's state. ``approved_with_suggestions`` is Azure DevOps' vote 5 (it approves);
``dismissed`` is an approval or a request for changes that no longer stands."""


def person(*, login: str | None, name: str | None, type: str | None) -> Record:
    """An account: ``login`` (username, or the provider's unique name), ``name`` (display
    name), ``type`` (``User``, ``Bot``, ``Organization``… as the provider says). A deleted
    account is None where a person is expected, not a person of nulls."""
    return {"login": login, "name": name, "type": type}


def ref(*, name: str | None, sha: str | None) -> Record:
    """A branch (``name`` without ``refs/heads/``) and the commit it pointed at."""
    return {"ref": name, "sha": sha}


def review(*, reviewer: Record | None, state: str, submitted_at: str | None,
           commit: str | None) -> Record:
    """One review, as it stood when given: ``commit`` is the head it reviewed (None when the
    provider does not say, which no rule takes for the final head)."""
    if state not in REVIEW_STATES:
        raise ValueError(f"review state {state!r} is not one of {', '.join(REVIEW_STATES)}")
    return {"reviewer": reviewer, "state": state, "submitted_at": submitted_at,
            "commit": commit}


def commit(*, sha: str, author_name: str | None, author_email: str | None,
           author_login: str | None, authored_at: str | None, message: str | None,
           verified: bool | None, signature_state: str | None) -> Record:
    """One commit of the pull request; ``verified``/``signature_state`` are the provider's
    word on its signature (None where it says nothing)."""
    return {"sha": sha, "author_name": author_name, "author_email": author_email,
            "author_login": author_login, "authored_at": authored_at, "message": message,
            "signature": {"verified": verified, "state": signature_state}}


def pull_request(*, provider: str, url: str | None, number: int, title: str | None,
                 state: str, author: Record | None, created_at: str | None,
                 merged_at: str | None, head: Record, base: Record, merge_commit: str | None,
                 reviews: list[Record], commits: list[Record]) -> Record:
    """One pull (merge) request with every review and every commit, in the provider's
    chronological order (reviews oldest first: the judge takes each reviewer's last word)."""
    if state not in STATES:
        raise ValueError(f"pull request state {state!r} is not one of {', '.join(STATES)}")
    return {"provider": provider, "url": url, "number": number, "title": title,
            "state": state, "author": author, "created_at": created_at,
            "merged_at": merged_at, "head": head, "base": base, "merge_commit": merge_commit,
            "reviews": reviews, "commits": commits}


def moment(value: Any) -> datetime | None:
    """A provider's ISO 8601 time (no zone meaning UTC), or None when it is not one: which
    push a review saw is decided by comparing these."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
