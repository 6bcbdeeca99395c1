"""Pydantic model of the pull-request predicate (``pull-request/v1``), recorded by
``attest pullrequest PROVIDER`` and built by collect/pullrequests/shape.py.

Every field is required and may be null: a provider that does not say a value records null,
never leaves the key out, so readers need no provider cases. Unknown fields are kept, not
refused: a later minor version may add fields, and a reader of this version must still read
(and the judge still judge) what it knows.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from affidavit.models.records import Model

__all__ = ["Person", "Ref", "Review", "Signature", "PullRequestCommit", "PullRequest",
           "PullRequestPolicy", "Lookup", "PullRequestPredicate"]


class _Open(Model):
    """Frozen and strict like every model, but tolerant of fields added later."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True, strict=True)


class Person(_Open):
    """An account: login (username or unique name), display name, account type."""

    login: str | None
    name: str | None
    type: str | None


class Ref(_Open):
    """A branch and the commit it pointed at."""

    ref: str | None
    sha: str | None


class Review(_Open):
    """One review as given: who, what, when, and the head it reviewed."""

    reviewer: Person | None
    state: Literal["approved", "approved_with_suggestions", "changes_requested", "dismissed",
                   "commented"]
    submitted_at: str | None
    commit: str | None


class Signature(_Open):
    """The provider's word on a commit's signature."""

    verified: bool | None
    state: str | None


class PullRequestCommit(_Open):
    """One commit of a pull request."""

    sha: str
    author_name: str | None
    author_email: str | None
    author_login: str | None
    authored_at: str | None
    message: str | None
    signature: Signature


class PullRequest(_Open):
    """One pull (merge) request with every review and every commit."""

    provider: Literal["github", "gitlab", "bitbucket", "azure"]
    url: str | None
    number: int = Field(ge=0)
    title: str | None
    state: Literal["open", "draft", "merged", "closed"]
    author: Person | None
    created_at: str | None
    merged_at: str | None
    head: Ref
    base: Ref
    merge_commit: str | None
    reviews: list[Review]
    commits: list[PullRequestCommit]


class PullRequestPolicy(_Open):
    """What the verdict was judged by (``--require-approvals``, ``--allow-stale-approvals``)."""

    require_approvals: int | None = Field(ge=1)
    allow_stale_approvals: bool


class Lookup(_Open):
    """How the pull requests were found: by number, or by commit after ``polls`` asks over
    ``waited_seconds``."""

    by: Literal["number", "commit"]
    polls: int = Field(ge=1)
    waited_seconds: float = Field(ge=0)


class PullRequestPredicate(_Open):
    """The predicate of a ``pull_request`` attestation."""

    provider: Literal["github", "gitlab", "bitbucket", "azure"]
    base_url: str
    repository: str
    commit: str | None
    lookup: Lookup
    pull_requests: list[PullRequest]
    policy: PullRequestPolicy
