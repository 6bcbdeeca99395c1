"""A fake GitHub or GitLab REST API on 127.0.0.1 for the wrapper tests: the pull (merge) request
that brought the commit under test in, with its reviews and commits.

The example pipelines run ``attest pullrequest`` for the commit they build; a test starts one of
these servers once it knows that commit (the merge commit of the pull request served here) and
points the pipeline at it with ``AFFIDAVIT_GITHUB_BASE_URL`` / ``AFFIDAVIT_GITLAB_BASE_URL``.
Only the endpoints the provider modules (``core/affidavit/collect/pullrequests/{github,gitlab}
.py``) ask are answered, each at its documented path, with a body shaped like the example
response of the provider's API reference (trimmed to the fields that matter; values invented):

GitHub (REST API version 2022-11-28):

- ``GET /repos/{owner}/{repo}/commits/{sha}/pulls``: https://docs.github.com/en/rest/commits/
  commits#list-pull-requests-associated-with-a-commit ("pull request simple" items);
- ``GET /repos/{owner}/{repo}/pulls/{n}``: https://docs.github.com/en/rest/pulls/pulls#get-a-pull-
  request;
- ``GET …/pulls/{n}/reviews``: https://docs.github.com/en/rest/pulls/reviews#list-reviews-for-a-
  pull-request;
- ``GET …/pulls/{n}/commits``: https://docs.github.com/en/rest/pulls/pulls#list-commits-on-a-pull-
  request (with the ``verification`` object);
- ``GET /users/{login}``: https://docs.github.com/en/rest/users/users#get-a-user;
- errors: ``{"message", "documentation_url", "status"}``, https://docs.github.com/en/rest/using-
  the-rest-api/troubleshooting-the-rest-api ("Bad credentials" for a wrong token).

GitLab (REST API v4, under ``/api/v4``; the project is its URL-encoded path, one segment,
https://docs.gitlab.com/api/rest/#namespaced-paths):

- ``GET /projects/:id/repository/commits/:sha/merge_requests``: https://docs.gitlab.com/api/
  commits/#list-merge-requests-associated-with-a-commit;
- ``GET /projects/:id/merge_requests/:iid``: https://docs.gitlab.com/api/merge_requests/#get-
  single-mr;
- ``…/commits`` (newest first): https://docs.gitlab.com/api/merge_requests/#get-single-merge-
  request-commits;
- ``…/versions``: https://docs.gitlab.com/api/merge_requests/#get-merge-request-diff-versions;
- ``…/notes`` (system notes "approved this merge request"): https://docs.gitlab.com/api/notes/
  #list-all-merge-request-notes;
- ``…/approvals``: https://docs.gitlab.com/api/merge_request_approvals/ (merge request-level);
- ``…/reviewers``: https://docs.gitlab.com/api/merge_requests/#get-single-merge-request-
  reviewers;
- lists carry GitLab's pagination headers (``x-next-page`` empty on the last page,
  https://docs.gitlab.com/api/rest/#pagination); a wrong token is ``401 {"message":
  "401 Unauthorized"}``.

The token is checked on every request (GitHub ``Authorization: Bearer``, GitLab
``PRIVATE-TOKEN``, https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api,
https://docs.gitlab.com/api/rest/authentication/): a pipeline that sends no token or another one
gets the provider's 401, so a passing test proves the wrapper handed the token over. Paths are
matched as sent (``RAW_URI``), so GitLab's ``acme%2Fshop`` must arrive encoded. Every request is
kept in ``requests`` for the tests to look at (header names in lower case).

The story served, in both providers (the expected values in the tests are written from it):
Ada Lovelace (``ada``) opened the change and wrote both its commits (``FIRST``, then ``HEAD``);
Linus (``linus``) commented on the first push (on GitLab a plain note, which is no review);
Grace Hopper (``grace``) approved the first push and, with ``approved_head=True``, approved the
final head ``HEAD`` again; the change was merged into ``main`` as the commit the pipeline builds.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

REPOSITORY = "acme/shop"
NUMBER = {"github": 42, "gitlab": 7}
TITLE = "Show the shop's version"
BASE = "0b5e1c2d3a4f5061728394a5b6c7d8e9f0a1b2c3"
FIRST = "1f2e3d4c5b6a79880a1b2c3d4e5f60718293a4b5"
HEAD = "4a5b6c7d8e9f00112233445566778899aabbccdd"
CREATED = "2024-05-02T08:00:00Z"
FIRST_PUSH = "2024-05-02T08:00:00Z"
COMMENTED = "2024-05-02T09:00:00Z"
FIRST_APPROVAL = "2024-05-02T10:00:00Z"
SECOND_PUSH = "2024-05-02T11:00:00Z"
HEAD_APPROVAL = "2024-05-02T11:30:00Z"
MERGED = "2024-05-02T12:00:00Z"

PEOPLE = {"ada": ("Ada Lovelace", 1001), "grace": ("Grace Hopper", 1002),
          "linus": ("Linus Torvalds", 1003)}


class FakeProvider:
    """``kind`` (``github`` or ``gitlab``) answering for ``repository``: the pull request
    ``NUMBER[kind]`` merged as ``merge_commit``, readable with ``token`` only."""

    def __init__(self, kind: str, merge_commit: str, token: str, *,
                 approved_head: bool = True, repository: str = REPOSITORY) -> None:
        assert kind in ("github", "gitlab"), kind
        self.kind = kind
        self.repository = repository
        self.merge_commit = merge_commit
        self.token = token
        self.approved_head = approved_head
        self.requests: list[dict[str, Any]] = []
        self.server = HTTPServer(host="127.0.0.1", port=0)

    def serve(self, merge_commit: str) -> None:
        """Serve the pull request as merged into ``merge_commit`` (a pipeline's commit, known
        only once its repository is made)."""
        self.merge_commit = merge_commit

    @property
    def routes(self) -> dict[str, Any]:
        """Path -> (the query it must come with, the JSON body)."""
        return self._github() if self.kind == "github" else self._gitlab()

    # --- running ------------------------------------------------------------------------------

    def __enter__(self) -> FakeProvider:
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._answer)
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.clear()
        self.server.stop()

    @property
    def base_url(self) -> str:
        """What ``AFFIDAVIT_<PROVIDER>_BASE_URL`` is set to: the API root."""
        root = self.server.url_for("/").rstrip("/")
        return root if self.kind == "github" else root + "/api/v4"

    @property
    def paths(self) -> list[str]:
        """The paths asked, in order, with their query strings."""
        return [r["path"] + (f"?{r['query']}" if r["query"] else "") for r in self.requests]

    def _answer(self, request: Request) -> Response:
        raw = str(request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or
                  request.path)
        path, _, query = raw.partition("?")
        headers = {k.lower(): v for k, v in request.headers.items()
                   if k.lower() in ("authorization", "private-token", "job-token", "accept",
                                    "x-github-api-version")}
        self.requests.append({"method": request.method, "path": path, "query": query,
                              "headers": headers})
        if not self._authorized(request):
            body = ({"message": "Bad credentials",
                     "documentation_url": "https://docs.github.com/rest", "status": "401"}
                    if self.kind == "github" else {"message": "401 Unauthorized"})
            return _json(body, 401)
        found = self.routes.get(path) if request.method == "GET" else None
        if found is None:
            body = ({"message": "Not Found", "documentation_url":
                     "https://docs.github.com/rest", "status": "404"}
                    if self.kind == "github" else {"message": "404 Not found"})
            return _json(body, 404)
        expected, body = found
        asked = dict(parse_qsl(query))
        if asked != expected:  # what the provider module documents it sends
            return _json({"message": f"unexpected query {asked!r}, wanted {expected!r}"}, 400)
        headers = {}
        if self.kind == "gitlab" and isinstance(body, list):
            headers = {"x-page": "1", "x-per-page": "100", "x-next-page": "",
                       "x-prev-page": "", "x-total": str(len(body)), "x-total-pages": "1"}
        return _json(body, 200, headers)

    def _authorized(self, request: Request) -> bool:
        if self.kind == "github":
            return request.headers.get("Authorization") == f"Bearer {self.token}"
        return request.headers.get("PRIVATE-TOKEN") == self.token

    # --- GitHub -------------------------------------------------------------------------------

    def _github(self) -> dict[str, Any]:
        repo = f"/repos/{self.repository}"
        number = NUMBER["github"]
        page = {"per_page": "100"}
        pull = _github_pull(self.repository, number, self.merge_commit)
        reviews = [
            _github_review(self.repository, 9001, "linus", "COMMENTED", FIRST, COMMENTED),
            _github_review(self.repository, 9002, "grace", "APPROVED", FIRST, FIRST_APPROVAL),
        ]
        if self.approved_head:
            reviews.append(_github_review(self.repository, 9003, "grace", "APPROVED", HEAD,
                                          HEAD_APPROVAL))
        routes: dict[str, Any] = {
            f"{repo}/commits/{self.merge_commit}/pulls": (page, [pull]),
            f"{repo}/pulls/{number}": ({}, pull),
            f"{repo}/pulls/{number}/reviews": (page, reviews),
            f"{repo}/pulls/{number}/commits": (page, [
                _github_commit(self.repository, FIRST, BASE, "Show the version", FIRST_PUSH),
                _github_commit(self.repository, HEAD, FIRST,
                               "Show the version in the footer too", SECOND_PUSH)]),
        }
        for login, (name, uid) in PEOPLE.items():
            routes[f"/users/{login}"] = ({}, {
                "login": login, "id": uid, "type": "User", "site_admin": False, "name": name,
                "html_url": f"https://github.com/{login}", "company": None,
                "created_at": "2011-01-25T18:44:36Z"})
        return routes

    # --- GitLab -------------------------------------------------------------------------------

    def _gitlab(self) -> dict[str, Any]:
        project = "/api/v4/projects/" + self.repository.replace("/", "%2F")
        iid = NUMBER["gitlab"]
        page = {"per_page": "100"}
        mr = _gitlab_mr(self.repository, iid, self.merge_commit)
        path = f"{project}/merge_requests/{iid}"
        notes = [
            _gitlab_note(501, "linus", "Looks fine, one nit in the footer.", COMMENTED,
                         system=False),
            _gitlab_note(502, "grace", "approved this merge request", FIRST_APPROVAL),
        ]
        if self.approved_head:  # the push of HEAD reset her approval (no note), she gave it again
            notes.append(_gitlab_note(503, "grace", "approved this merge request",
                                      HEAD_APPROVAL))
        approved_by = [{"user": _gitlab_user("grace")}]  # who approves now, either way
        return {
            f"{project}/repository/commits/{self.merge_commit}/merge_requests": (
                page, [{key: mr[key] for key in (
                    "id", "iid", "project_id", "title", "state", "created_at", "merged_at",
                    "target_branch", "source_branch", "author", "sha", "merge_commit_sha",
                    "squash_commit_sha", "draft", "web_url")}]),
            path: ({}, mr),
            f"{path}/commits": (page, [  # newest first, as GitLab lists them
                _gitlab_commit(self.repository, HEAD, FIRST,
                               "Show the version in the footer too", SECOND_PUSH),
                _gitlab_commit(self.repository, FIRST, BASE, "Show the version", FIRST_PUSH)]),
            f"{path}/versions": (page, [
                _gitlab_version(2, HEAD, SECOND_PUSH), _gitlab_version(1, FIRST, FIRST_PUSH)]),
            f"{path}/notes": ({**page, "sort": "asc", "order_by": "created_at"}, notes),
            f"{path}/approvals": ({}, {
                "id": 55, "iid": iid, "project_id": 4211, "title": TITLE, "state": "merged",
                "merge_status": "can_be_merged", "approved": True,
                "approvals_required": 1, "approvals_left": 0,
                "approved_by": approved_by}),
            f"{path}/reviewers": (page, [
                {"user": _gitlab_user("grace"), "state": "reviewed",
                 "created_at": CREATED}]),
        }


def _json(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    content_type="application/json; charset=utf-8")


def _github_user(login: str) -> dict[str, Any]:
    return {"login": login, "id": PEOPLE[login][1], "type": "User", "site_admin": False,
            "url": f"https://api.github.com/users/{login}",
            "html_url": f"https://github.com/{login}"}


def _github_pull(repository: str, number: int, merge_commit: str) -> dict[str, Any]:
    repo = {"id": 1296269, "name": repository.split("/")[-1], "full_name": repository,
            "private": True}
    return {
        "url": f"https://api.github.com/repos/{repository}/pulls/{number}",
        "id": 1798120042, "html_url": f"https://github.com/{repository}/pull/{number}",
        "number": number, "state": "closed", "locked": False, "title": TITLE,
        "user": _github_user("ada"), "body": "Fixes #41.", "created_at": CREATED,
        "updated_at": MERGED, "closed_at": MERGED, "merged_at": MERGED,
        "merge_commit_sha": merge_commit, "draft": False, "merged": True,
        "head": {"label": "acme:feature/version", "ref": "feature/version", "sha": HEAD,
                 "user": _github_user("ada"), "repo": repo},
        "base": {"label": "acme:main", "ref": "main", "sha": BASE, "repo": repo},
        "author_association": "MEMBER", "commits": 2, "additions": 3, "deletions": 0,
        "changed_files": 1,
    }


def _github_review(repository: str, review_id: int, login: str, state: str, commit: str,
                   when: str) -> dict[str, Any]:
    return {"id": review_id, "node_id": f"PRR_{review_id}", "user": _github_user(login),
            "body": "", "state": state,
            "html_url": f"https://github.com/{repository}/pull/42#pullrequestreview-{review_id}",
            "submitted_at": when, "commit_id": commit, "author_association": "MEMBER"}


def _github_commit(repository: str, sha: str, parent: str, message: str,
                   when: str) -> dict[str, Any]:
    who = {"name": "Ada Lovelace", "email": "ada@example.com", "date": when}
    return {
        "url": f"https://api.github.com/repos/{repository}/commits/{sha}", "sha": sha,
        "commit": {"author": who, "committer": who, "message": message,
                   "tree": {"sha": "9c" * 20}, "comment_count": 0,
                   "verification": {"verified": False, "reason": "unsigned", "signature": None,
                                    "payload": None}},
        "author": _github_user("ada"), "committer": _github_user("ada"),
        "parents": [{"sha": parent}],
    }


def _gitlab_user(login: str) -> dict[str, Any]:
    name, uid = PEOPLE[login]
    return {"id": uid, "username": login, "name": name, "state": "active", "locked": False,
            "avatar_url": None, "web_url": f"https://gitlab.example.com/{login}"}


def _gitlab_mr(repository: str, iid: int, merge_commit: str) -> dict[str, Any]:
    return {
        "id": 55, "iid": iid, "project_id": 4211, "title": TITLE, "description": "Closes #41",
        "state": "merged", "created_at": CREATED, "updated_at": MERGED, "merged_at": MERGED,
        "merged_by": _gitlab_user("grace"), "merge_user": _gitlab_user("grace"),
        "closed_at": None, "target_branch": "main", "source_branch": "feature/version",
        "author": _gitlab_user("ada"), "assignees": [], "reviewers": [_gitlab_user("grace")],
        "draft": False, "work_in_progress": False, "merge_when_pipeline_succeeds": False,
        "detailed_merge_status": "mergeable", "sha": HEAD, "merge_commit_sha": merge_commit,
        "squash_commit_sha": None, "squash": False,
        "web_url": f"https://gitlab.example.com/{repository}/-/merge_requests/{iid}",
        "diff_refs": {"base_sha": BASE, "head_sha": HEAD, "start_sha": BASE},
    }


def _gitlab_commit(repository: str, sha: str, parent: str, message: str,
                   when: str) -> dict[str, Any]:
    return {"id": sha, "short_id": sha[:8], "title": message, "message": message,
            "author_name": "Ada Lovelace", "author_email": "ada@example.com",
            "authored_date": when, "committer_name": "Ada Lovelace",
            "committer_email": "ada@example.com", "committed_date": when,
            "created_at": when, "parent_ids": [parent],
            "web_url": f"https://gitlab.example.com/{repository}/-/commit/{sha}"}


def _gitlab_version(version_id: int, head: str, when: str) -> dict[str, Any]:
    return {"id": version_id, "head_commit_sha": head, "base_commit_sha": BASE,
            "start_commit_sha": BASE, "created_at": when, "merge_request_id": 55,
            "state": "collected", "real_size": "1", "patch_id_sha": "d" * 40}


def _gitlab_note(note_id: int, login: str, body: str, when: str, *,
                 system: bool = True) -> dict[str, Any]:
    return {"id": note_id, "type": None, "body": body, "attachment": None,
            "author": _gitlab_user(login), "created_at": when, "updated_at": when,
            "system": system, "noteable_id": 55, "noteable_type": "MergeRequest",
            "project_id": 4211, "resolvable": False, "confidential": False,
            "internal": False, "noteable_iid": NUMBER["gitlab"]}


# --- what the CLI must record of the above --------------------------------------------------------
# Written by hand from the story in the module docstring, in the recorded shape
# (core/affidavit/collect/pullrequests/shape.py, docs/predicates.md), not computed from the
# routes: a test comparing a record with these checks the provider module and the wrapper.

ADA = {"login": "ada", "name": "Ada Lovelace", "type": "User"}
GRACE = {"login": "grace", "name": "Grace Hopper", "type": "User"}
LINUS = {"login": "linus", "name": "Linus Torvalds", "type": "User"}


def recorded_github_pull(merge_commit: str, *, approved_head: bool = True,
                         repository: str = REPOSITORY) -> dict[str, Any]:
    """Pull request #42: every review (Linus's comment, Grace's approvals, each with the head
    it reviewed), both commits with their account and GitHub's word on the signature."""
    reviews = [
        {"reviewer": LINUS, "state": "commented", "submitted_at": "2024-05-02T09:00:00Z",
         "commit": "1f2e3d4c5b6a79880a1b2c3d4e5f60718293a4b5"},
        {"reviewer": GRACE, "state": "approved", "submitted_at": "2024-05-02T10:00:00Z",
         "commit": "1f2e3d4c5b6a79880a1b2c3d4e5f60718293a4b5"},
    ]
    if approved_head:
        reviews.append({"reviewer": GRACE, "state": "approved",
                        "submitted_at": "2024-05-02T11:30:00Z",
                        "commit": "4a5b6c7d8e9f00112233445566778899aabbccdd"})
    return {
        "provider": "github", "url": f"https://github.com/{repository}/pull/42", "number": 42,
        "title": "Show the shop's version", "state": "merged", "author": ADA,
        "created_at": "2024-05-02T08:00:00Z", "merged_at": "2024-05-02T12:00:00Z",
        "head": {"ref": "feature/version", "sha": "4a5b6c7d8e9f00112233445566778899aabbccdd"},
        "base": {"ref": "main", "sha": "0b5e1c2d3a4f5061728394a5b6c7d8e9f0a1b2c3"},
        "merge_commit": merge_commit, "reviews": reviews,
        "commits": [
            {"sha": "1f2e3d4c5b6a79880a1b2c3d4e5f60718293a4b5", "author_name": "Ada Lovelace",
             "author_email": "ada@example.com", "author_login": "ada",
             "authored_at": "2024-05-02T08:00:00Z", "message": "Show the version",
             "signature": {"verified": False, "state": "unsigned"}},
            {"sha": "4a5b6c7d8e9f00112233445566778899aabbccdd", "author_name": "Ada Lovelace",
             "author_email": "ada@example.com", "author_login": "ada",
             "authored_at": "2024-05-02T11:00:00Z",
             "message": "Show the version in the footer too",
             "signature": {"verified": False, "state": "unsigned"}},
        ],
    }


def recorded_gitlab_merge_request(repository: str, merge_commit: str) -> dict[str, Any]:
    """Merge request !7 (with ``approved_head=True``): Grace's approval of the first push
    (its note falls after version 1, before version 2) and of the final head; Linus's comment
    is a plain note, no review. GitLab names no account for a commit and is not asked about
    signatures: nulls. Commits oldest first (GitLab lists them newest first)."""
    return {
        "provider": "gitlab",
        "url": f"https://gitlab.example.com/{repository}/-/merge_requests/7",
        "number": 7, "title": "Show the shop's version", "state": "merged", "author": ADA,
        "created_at": "2024-05-02T08:00:00Z", "merged_at": "2024-05-02T12:00:00Z",
        "head": {"ref": "feature/version", "sha": "4a5b6c7d8e9f00112233445566778899aabbccdd"},
        "base": {"ref": "main", "sha": "0b5e1c2d3a4f5061728394a5b6c7d8e9f0a1b2c3"},
        "merge_commit": merge_commit,
        "reviews": [
            {"reviewer": GRACE, "state": "approved", "submitted_at": "2024-05-02T10:00:00Z",
             "commit": "1f2e3d4c5b6a79880a1b2c3d4e5f60718293a4b5"},
            {"reviewer": GRACE, "state": "approved", "submitted_at": "2024-05-02T11:30:00Z",
             "commit": "4a5b6c7d8e9f00112233445566778899aabbccdd"},
        ],
        "commits": [
            {"sha": "1f2e3d4c5b6a79880a1b2c3d4e5f60718293a4b5", "author_name": "Ada Lovelace",
             "author_email": "ada@example.com", "author_login": None,
             "authored_at": "2024-05-02T08:00:00Z", "message": "Show the version",
             "signature": {"verified": None, "state": None}},
            {"sha": "4a5b6c7d8e9f00112233445566778899aabbccdd", "author_name": "Ada Lovelace",
             "author_email": "ada@example.com", "author_login": None,
             "authored_at": "2024-05-02T11:00:00Z",
             "message": "Show the version in the footer too",
             "signature": {"verified": None, "state": None}},
        ],
    }
