"""GitLab (gitlab.com and self-managed) merge requests, through the REST API v4.

The base URL is ``https://gitlab.com/api/v4``; a self-managed instance serves the same API
under ``https://HOST/api/v4`` (a base URL without ``/api/v4`` gets it appended; GitLab CI's
``CI_API_V4_URL`` already ends so). ``--repository`` is the project's path
(``group/subgroup/project``), sent as one URL-encoded path segment, or its numeric ID
(https://docs.gitlab.com/api/rest/#namespaced-paths). Personal, project and group access tokens
go in ``PRIVATE-TOKEN``; a CI job token (username ``CI_JOB_TOKEN``) in ``JOB-TOKEN``
(https://docs.gitlab.com/api/rest/authentication/).

A CI job token reaches only the endpoints GitLab lists for it
(https://docs.gitlab.com/ci/jobs/ci_job_token/#job-token-access): for merge requests these are
``…/repository/commits/:sha/merge_requests``, ``…/merge_requests/:iid`` and its ``notes``, and
``…/repository/branches``; not ``GET /projects/:id``, nor a merge request's ``commits``,
``approvals``, ``versions`` or ``reviewers``. Elsewhere GitLab treats the call as anonymous, so
with a job token the project is checked through the branches list, and a merge request of a
private project cannot be recorded in full: that is exit 3 naming the token to use instead,
never a merge request without its commits or approvals.

Endpoints, and why these:

- ``GET /projects/:id/repository/commits/:sha/merge_requests`` lists the merge requests that
  contain a commit (https://docs.gitlab.com/api/commits/#list-merge-requests-associated-with-a-
  commit). It reads the project's own merge requests, so a merge a second ago is there. An
  unknown commit is a 404, and so is an unknown project: one ``GET /projects/:id``
  (https://docs.gitlab.com/api/projects/#get-a-single-project) tells them apart.
- ``GET /projects/:id/merge_requests/:iid`` is the merge request
  (https://docs.gitlab.com/api/merge_requests/#get-single-mr): ``opened`` is open, or draft
  when ``draft``; ``locked`` (a merge under way) is recorded closed. The head is the source
  branch at ``sha``, the base the target branch at ``diff_refs.base_sha``, the merge commit
  ``merge_commit_sha`` or, for a fast-forward squash, ``squash_commit_sha``.
- ``GET …/merge_requests/:iid/commits`` (https://docs.gitlab.com/api/merge_requests/#get-single-
  merge-request-commits) lists the commits newest first; they are recorded oldest first. GitLab
  names no account for a commit (``author_login`` None), and its signature is one
  ``…/commits/:sha/signature`` call per commit: not made, so ``verified`` and the signature
  state are None.

GitLab has no list of reviews; each is read from what GitLab does record:

- system notes, ``GET …/merge_requests/:iid/notes?sort=asc&order_by=created_at``
  (https://docs.gitlab.com/api/notes/#list-all-merge-request-notes): "approved this merge
  request" is an approval, "unapproved this merge request" a dismissed one, and "requested
  changes" (the note a reviewer's request for changes leaves since GitLab 17.0,
  https://gitlab.com/gitlab-org/gitlab/-/merge_requests/151047) a request for changes, each at
  the note's time; comments are not reviews and are left out;
- ``GET …/merge_requests/:iid/versions`` (https://docs.gitlab.com/api/merge_requests/#get-merge-
  request-diff-versions), one per push with its ``head_commit_sha`` and time, says which head
  was current when each note was made: the commit that review saw;
- ``GET …/merge_requests/:iid/approvals`` (https://docs.gitlab.com/api/merge_request_approvals/,
  merge request-level approvals) ``approved_by`` is who approves now, and ``GET …/merge_requests
  /:iid/reviewers`` (https://docs.gitlab.com/api/merge_requests/#get-single-merge-request-
  reviewers) each reviewer's state, ``requested_changes`` included (a request for changes also
  withdraws that reviewer's approval, https://gitlab.com/gitlab-org/gitlab/-/merge_requests/
  134766). Where these disagree with the notes
  (notes older than the request-changes note, approvals reset by a push, which leave no
  "unapproved" note) GitLab's current word is added after the dated reviews, with no time and
  no commit: an approval it lists, a dismissal of one it no longer lists, a request for changes
  a reviewer still stands by. A 404 from ``approvals`` (an instance without it) skips that.

Every list is paged with ``per_page=100`` and followed through ``x-next-page`` to the last page
(https://docs.gitlab.com/api/rest/#pagination). GitLab shows a deleted account as its "Ghost
User" (username ``ghost``, https://docs.gitlab.com/user/profile/account/delete_account/
#associated-records): recorded as None. GitLab gives no account type: ``Bot`` for an account
that says ``bot: true`` or has a project or group access token's bot username
(``project_<id>_bot…``, ``group_<id>_bot…``,
https://docs.gitlab.com/user/project/settings/project_access_tokens/#bot-users-for-projects),
``User`` otherwise.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

from affidavit.collect.pullrequests import shape
from affidavit.collect.pullrequests.http import Api, provider_words
from affidavit.errors import NotFoundError, ProviderError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from affidavit.collect.pullrequests.http import Answer

    Record = dict[str, Any]
    Heads = list[tuple[datetime, str | None]]

__all__ = ["DEFAULT_BASE_URL", "JOB_TOKEN_USERNAME", "connect", "for_commit", "get"]

DEFAULT_BASE_URL = "https://gitlab.com/api/v4"
JOB_TOKEN_USERNAME = "CI_JOB_TOKEN"
"""The username that makes the token a CI job token (sent as ``JOB-TOKEN``)."""
PER_PAGE = 100
_API_ROOT = "/api/v4"
_STATES = {"opened": "open", "merged": "merged", "closed": "closed", "locked": "closed"}
_NOTES = (("approved this merge request", "approved"),
          ("unapproved this merge request", "dismissed"),
          ("requested changes", "changes_requested"))
_BOT = re.compile(r"^(?:project|group)_\d+_bot")
_GHOST = re.compile(r"^ghost\d*$")  # "ghost", or "ghost1"… where an account took the name


def connect(base_url: str | None, token: str | None, username: str | None) -> Api:
    """The API at ``base_url`` (gitlab.com by default, ``/api/v4`` appended when missing);
    without a token, public projects only. ``username`` ``CI_JOB_TOKEN`` makes the token a CI
    job token; any other username is not used (a GitLab token names its account)."""
    root = (base_url or DEFAULT_BASE_URL).rstrip("/")
    if not root.endswith(_API_ROOT):
        root += _API_ROOT
    headers = {}
    if token:
        headers["JOB-TOKEN" if username == JOB_TOKEN_USERNAME else "PRIVATE-TOKEN"] = token
    return Api("gitlab", root, headers)


def for_commit(api: Api, repository: str, sha: str) -> list[int]:
    """IIDs of the merge requests containing ``sha``; ``[]`` when GitLab does not know the
    commit (yet) or no merge request has it."""
    project = _project(repository)
    found = _list(api, f"{project}/repository/commits/{quote(sha.strip(), safe='')}"
                       "/merge_requests")
    if found is None:
        _check_project(api, project, repository)
        return []
    return [int(item["iid"]) for item in found]


def get(api: Api, repository: str, number: int) -> Record:
    """Merge request ``number`` (its IID) with every review and every commit."""
    project = _project(repository)
    path = f"{project}/merge_requests/{int(number)}"
    mr = api.get(path, missing=True)
    if not isinstance(mr, dict):
        _check_project(api, project, repository)
        raise NotFoundError(f"gitlab: {repository} has no merge request !{number}",
                            remedy="check --pr")
    commits = _each(api, f"{path}/commits", denied=True)
    heads = sorted(((moment, version.get("head_commit_sha"))
                    for version in _each(api, f"{path}/versions", denied=True)
                    if (moment := shape.moment(version.get("created_at"))) is not None),
                   key=lambda pair: pair[0])
    notes = _each(api, f"{path}/notes", {"sort": "asc", "order_by": "created_at"})
    approvals = _first(api, f"{path}/approvals", {}, denied=True)
    body = approvals.body if approvals is not None else None
    approved_by = body.get("approved_by") if isinstance(body, dict) else None
    reviewers = _each(api, f"{path}/reviewers", denied=True)
    state = _STATES.get(mr.get("state") or "")
    if state is None:
        raise ProviderError(f"gitlab: merge request !{number} has the state "
                            f"{mr.get('state')!r}, which affidavit does not know")
    if state == "open" and (mr.get("draft") or mr.get("work_in_progress")):
        state = "draft"
    return shape.pull_request(
        provider="gitlab", url=mr.get("web_url"), number=int(mr.get("iid") or number),
        title=mr.get("title"), state=state, author=_person(mr.get("author")),
        created_at=mr.get("created_at"), merged_at=mr.get("merged_at"),
        head=shape.ref(name=mr.get("source_branch"), sha=mr.get("sha")),
        base=shape.ref(name=mr.get("target_branch"),
                       sha=(mr.get("diff_refs") or {}).get("base_sha")),
        merge_commit=mr.get("merge_commit_sha") or mr.get("squash_commit_sha"),
        reviews=_reviews(notes, heads, approved_by, reviewers),
        commits=[_commit(item) for item in reversed(commits)])


def _project(repository: str) -> str:
    """``/projects/:id`` for a numeric ID or a ``group/…/project`` path (one segment)."""
    text = repository.strip().strip("/").removesuffix(".git")
    if not text.isdigit() and ("/" not in text or "" in text.split("/")):
        raise UsageError(f"--repository {repository!r} is not a GitLab project path "
                         "(group/project) or ID")
    return f"/projects/{quote(text, safe='')}"


def _job_token(api: Api) -> bool:
    return "JOB-TOKEN" in api.session.headers


def _check_project(api: Api, project: str, repository: str) -> None:
    """A :class:`NotFoundError` when GitLab does not know the project (or the token cannot
    see it). A job token cannot read ``/projects/:id``, but can list its branches."""
    if _job_token(api):
        found = api.get(f"{project}/repository/branches", {"per_page": 1}, missing=True)
    else:
        found = api.get(project, missing=True)
    if found is None:
        raise NotFoundError(f"gitlab: unknown repository {repository!r}",
                            remedy="check --repository (group/project or ID), --base-url, and "
                                   "that the token can see the project")


def _first(api: Api, path: str, params: Mapping[str, Any], *, denied: bool) -> Answer | None:
    """One GET, None for a 404. ``denied``: the endpoint is not one a CI job token may read,
    so with a job token a refusal (401, 403, or the 404 of an anonymous call) says so."""
    job = denied and _job_token(api)
    answer = api.request("GET", path, params=params, missing=True,
                         statuses=(401, 403) if job else ())
    if job and (answer is None or answer.status in (401, 403)):
        status = ("HTTP 404" if answer is None
                  else f"HTTP {answer.status}{provider_words(answer.body)}")
        raise ProviderError(
            f"gitlab: {path} is not open to a CI job token ({status})",
            remedy="GitLab lets a CI job token read a merge request and its notes, not its "
                   "commits, approvals, versions or reviewers; give a project or personal "
                   "access token with the read_api scope in AFFIDAVIT_GITLAB_TOKEN")
    return answer


def _list(api: Api, path: str, params: Mapping[str, Any] | None = None, *,
          denied: bool = False) -> list[Any] | None:
    """Every item of a GitLab list, following ``x-next-page``; None when it is a 404."""
    answer = _first(api, path, {"per_page": PER_PAGE, **(params or {})}, denied=denied)
    if answer is None:
        return None
    if not isinstance(answer.body, list):
        raise ProviderError(f"gitlab: {path} did not answer a list")
    items = list(answer.body)
    following = (answer.headers.get("x-next-page") or "").strip()
    if following:
        items.extend(api.gitlab_pages(path, {**(params or {}), "page": following}))
    return items


def _each(api: Api, path: str, params: Mapping[str, Any] | None = None, *,
          denied: bool = False) -> list[Any]:
    """Every item of a list that belongs to a merge request GitLab has just shown."""
    items = _list(api, path, params, denied=denied)
    if items is None:
        raise NotFoundError(f"gitlab: {path} was not found (HTTP 404)")
    return items


def _reviews(notes: list[Any], heads: Heads, approved_by: Any,
             reviewers: list[Any]) -> list[Record]:
    """Reviews from the system notes, oldest first, then GitLab's current word where the
    notes do not end on it (see the module docstring)."""
    reviews: list[Record] = []
    last: dict[Any, tuple[str, Any]] = {}  # each account's last dated word, and the account
    for note in notes:
        text = " ".join(str(note.get("body") or "").split()).lower()
        state = next((s for prefix, s in _NOTES if text.startswith(prefix)), None)
        if note.get("system") is not True or state is None:
            continue
        when = note.get("created_at")
        reviews.append(shape.review(reviewer=_person(note.get("author")), state=state,
                                    submitted_at=when, commit=_head_at(heads, when)))
        key = _key(note.get("author"))
        if key is not None:
            last[key] = (state, note.get("author"))

    def undated(user: Any, state: str) -> None:
        reviews.append(shape.review(reviewer=_person(user), state=state, submitted_at=None,
                                    commit=None))

    if isinstance(approved_by, list):  # else GitLab did not say who approves now
        approving = [entry.get("user") for entry in approved_by if isinstance(entry, dict)]
        for user in approving:
            if _key(user) is not None and last.get(_key(user), ("",))[0] != "approved":
                undated(user, "approved")
        now = {_key(user) for user in approving}
        for key, (state, user) in last.items():
            if state == "approved" and key not in now:
                undated(user, "dismissed")
    for item in reviewers:
        user = item.get("user") if isinstance(item, dict) else None
        if (_key(user) is not None and item.get("state") == "requested_changes"
                and last.get(_key(user), ("",))[0] != "changes_requested"):
            undated(user, "changes_requested")
    return reviews


def _head_at(heads: Heads, when: Any) -> str | None:
    """The head of the latest version pushed strictly before ``when``, None before the first or
    when a time cannot be read."""
    moment, head = shape.moment(when), None
    if moment is None:
        return None
    for pushed, sha in heads:
        if pushed >= moment:  # a push at the moment of a review counts as after it
            break
        head = sha
    return head


def _key(user: Any) -> Any:
    """What identifies an account across notes, approvals and reviewers; None if deleted."""
    if _person(user) is None:
        return None
    return ("id", user["id"]) if isinstance(user.get("id"), int) else user.get("username")


def _person(user: Any) -> Record | None:
    login = user.get("username") if isinstance(user, dict) else None
    if not login or login == "ghost" or (_GHOST.match(login)
                                         and user.get("name") == "Ghost User"):
        return None
    bot = user.get("bot") is True or _BOT.match(login) is not None
    return shape.person(login=login, name=user.get("name"), type="Bot" if bot else "User")


def _commit(item: Record) -> Record:
    return shape.commit(
        sha=item["id"], author_name=item.get("author_name"),
        author_email=item.get("author_email"), author_login=None,
        authored_at=item.get("authored_date"), message=item.get("message"), verified=None,
        signature_state=None)
