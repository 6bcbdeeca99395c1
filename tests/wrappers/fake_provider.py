"""A fake GitHub, GitLab, Bitbucket or Azure DevOps REST API on 127.0.0.1 for the wrapper tests:
the pull (merge) request that brought the commit under test in, with its reviews and commits.

The example pipelines run ``attest pullrequest`` for the commit they build; a test starts one of
these servers once it knows that commit (the merge commit of the pull request served here) and
points the pipeline at it with ``AFFIDAVIT_<PROVIDER>_BASE_URL`` or the wrapper's ``base-url``
input (:attr:`FakeProvider.base_url`). Only the endpoints the provider modules
(``core/affidavit/collect/pullrequests/{github,gitlab,bitbucket,azure}.py``) ask are answered,
each at its documented path, with a body shaped like the example response of the provider's API
reference (trimmed to the fields that matter; values invented):

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

Bitbucket Cloud (REST API 2.0, under ``/2.0``, https://developer.atlassian.com/cloud/bitbucket/
rest/; the repository ``workspace/repo_slug``; each list one page ``{"pagelen", "values"}``
without ``next``, asked with ``pagelen=50``, https://developer.atlassian.com/cloud/bitbucket/
rest/intro/#pagination):

- ``GET /repositories/{workspace}/{repo_slug}/commit/{sha}/pullrequests``: https://developer.
  atlassian.com/cloud/bitbucket/rest/api-group-pullrequests/#api-repositories-workspace-repo-
  slug-commit-commit-pullrequests-get;
- ``GET …/pullrequests/{id}``: …#api-repositories-workspace-repo-slug-pullrequests-pull-request-
  id-get (``state`` ``MERGED``, 12-character ``source``/``destination``/``merge_commit``
  hashes, ``participants`` with each one's current word and ``participated_on``);
- ``GET …/pullrequests/{id}/commits`` (newest first): …#api-repositories-workspace-repo-slug-
  pullrequests-pull-request-id-commits-get (``author.raw`` and ``author.user``);
- ``GET …/pullrequests/{id}/activity`` (newest first: ``update``, ``approval``, ``comment``):
  …#api-repositories-workspace-repo-slug-pullrequests-pull-request-id-activity-get;
- ``GET /repositories/{workspace}/{repo_slug}/commit/{hash}`` for the abbreviated hashes of the
  base and the merge commit: https://developer.atlassian.com/cloud/bitbucket/rest/api-group-
  commits/#api-repositories-workspace-repo-slug-commit-commit-get;
- errors: ``{"type": "error", "error": {"message"}}`` (the reference's ``error`` schema).

Bitbucket Data Center (REST API 1.0 below the context path ``/bitbucket``, as a self-hosted
instance is often served: the base URL is ``http://127.0.0.1:PORT/bitbucket``, the CLI appends
``/rest/api/1.0``; the repository ``PROJECT/repo_slug``; API groups of https://developer.
atlassian.com/server/bitbucket/rest/v906/; each list one page ``{"size", "limit", "isLastPage":
true, "values", "start"}``, asked with ``limit=100``, https://developer.atlassian.com/server/
bitbucket/rest/v906/intro/#paging-params; times epoch milliseconds):

- ``GET /rest/api/1.0/projects/{PROJECT}/repos/{slug}/commits/{sha}/pull-requests`` ("Get pull
  requests containing commit", API group Repository);
- ``GET …/pull-requests/{id}`` ("Get pull request", API group Pull Requests: ``fromRef``/
  ``toRef`` with ``latestCommit``, ``reviewers``/``participants`` with ``status``, the merge
  commit in ``properties.mergeCommit`` as the merged event's payload shows it,
  https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html);
- ``GET …/pull-requests/{id}/commits`` ("Get pull request commits", newest first);
- ``GET …/pull-requests/{id}/activities`` ("Get activity", newest first: ``OPENED``,
  ``COMMENTED``, ``APPROVED``, ``RESCOPED`` with ``previousFromHash``/``fromHash``, ``MERGED``);
- errors: ``{"errors": [{"context", "message", "exceptionName"}]}`` (the reference's
  introduction).

Azure DevOps (Git REST API, https://learn.microsoft.com/en-us/rest/api/azure/devops/git/; every
call with ``api-version``). Services: the base URL is the server's root and the repository
``ORG/PROJECT/REPO``; Server (``self_hosted=True``): the base URL is the collection
``/tfs/DefaultCollection`` and the repository ``PROJECT/REPO``. ``azure.py`` sends 7.1 only to
``dev.azure.com`` and ``*.visualstudio.com``, 7.0 to any other host, 127.0.0.1 included, so
7.0 is what both forms expect by default (``api_version`` says otherwise, for a test that makes
the local host a cloud host in-process):

- ``POST …/_apis/git/repositories/{repo}/pullrequestquery`` with the ``lastMergeCommit`` and
  ``commit`` queries for the commit (the body must be exactly that): https://learn.microsoft.
  com/en-us/rest/api/azure/devops/git/pull-request-query/get;
- ``GET …/pullrequests/{id}``: …/git/pull-requests/get-pull-request (``status`` ``completed``,
  ``lastMergeCommit``, ``reviewers`` with their ``vote``, ``repository.webUrl``);
- ``GET …/pullrequests/{id}/iterations`` (one per push, ``sourceRefCommit``, ``createdDate``):
  …/git/pull-request-iterations/list;
- ``GET …/pullrequests/{id}/threads`` (``VoteUpdate`` system threads naming the voter through
  ``CodeReviewVotedByIdentity`` and ``identities``, a ``RefUpdate`` thread, a text comment):
  …/git/pull-request-threads/list;
- ``GET …/pullrequests/{id}/commits`` with ``$top=100`` (newest first, no
  ``x-ms-continuationtoken``: one page): …/git/pull-request-commits/get-pull-request-commits;
- errors: ``{"$id", "innerException", "message", "typeName", "typeKey", "errorCode",
  "eventId"}``, a wrong token ``401`` with ``TF400813``.

The token is checked on every request (GitHub and Bitbucket ``Authorization: Bearer``, GitLab
``PRIVATE-TOKEN``, Azure DevOps ``Authorization: Basic`` of ``:PAT``, an empty username;
https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api,
https://docs.gitlab.com/api/rest/authentication/, https://support.atlassian.com/bitbucket-cloud/
docs/using-access-tokens/, https://confluence.atlassian.com/bitbucketserver/http-access-tokens-
939515499.html, https://learn.microsoft.com/en-us/azure/devops/organizations/accounts/use-
personal-access-tokens-to-authenticate): a pipeline that sends no token or another one gets the
provider's 401, so a passing test proves the wrapper handed the token over. Paths are matched as
sent (``RAW_URI``), so GitLab's ``acme%2Fshop`` must arrive encoded. Every request is kept in
``requests`` for the tests to look at (header names in lower case; a POST's JSON as ``json``).

The story served, by every provider (the expected values in the tests are written from it):
Ada Lovelace (``ada``) opened the change and wrote both its commits (``FIRST``, then ``HEAD``);
Linus (``linus``) commented on the first push (a comment, which is no review, except on GitHub,
where it is a "commented" review); Grace Hopper (``grace``) approved the first push and, with
``approved_head=True``, approved the final head ``HEAD`` again (the push having reset her
approval, which leaves nothing in GitLab's notes, Bitbucket's activity or Azure's threads);
the change was merged into ``main`` as the commit the pipeline builds.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

KINDS = ("github", "gitlab", "bitbucket", "azure")
REPOSITORY = "acme/shop"
REPOSITORIES = {("github", False): REPOSITORY, ("gitlab", False): REPOSITORY,
                ("bitbucket", False): "acme/shop", ("bitbucket", True): "ACME/shop",
                ("azure", False): "acme/Shop/shop", ("azure", True): "Shop/shop"}
"""The repository each provider (and its self-hosted form) serves unless told otherwise, spelled
as ``--repository`` takes it."""
NUMBER = {"github": 42, "gitlab": 7, "bitbucket": 12, "azure": 31}
CONTEXT = "/bitbucket"
"""The Bitbucket Data Center context path the fake serves its REST API below."""
COLLECTION = "/tfs/DefaultCollection"
"""The Azure DevOps Server collection the fake serves its projects below."""
AZURE_API_VERSION = "7.0"
"""What azure.py sends to a host that is not Azure DevOps Services (127.0.0.1 is not)."""
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
BITBUCKET_ACCOUNTS = {  # Cloud: (account_id, uuid)
    "ada": ("712020:5a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b1001",
            "{0a1d5e2b-3c4d-4e5f-8a6b-7c8d9e0f1001}"),
    "grace": ("712020:5a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b1002",
              "{0a1d5e2b-3c4d-4e5f-8a6b-7c8d9e0f1002}"),
    "linus": ("712020:5a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b1003",
              "{0a1d5e2b-3c4d-4e5f-8a6b-7c8d9e0f1003}"),
}
AZURE_IDS = {"ada": "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1001",
             "grace": "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1002",
             "linus": "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1003"}
_AZURE_TFS = {"displayName": "Microsoft.VisualStudio.Services.TFS",
              "id": "00000002-0000-8888-8000-000000000000",
              "uniqueName": "00000002-0000-8888-8000-000000000000@2c895908-04e0-4952-89fd-"
                            "54b0046d6288",
              "descriptor": "s2s.MDAwMDAwMDItMDAwMC04ODg4LTgwMDAtMDAwMDAwMDAwMDAwQDJjODk1OTA4"}


class Route(NamedTuple):
    """One endpoint: the query it must come with, the JSON it answers, its method and, for a
    POST, the JSON body it must be sent."""

    query: dict[str, str]
    body: Any
    method: str = "GET"
    sent: Any = None


class FakeProvider:
    """``kind`` (``github``, ``gitlab``, ``bitbucket`` or ``azure``; with ``self_hosted``,
    Bitbucket Data Center or Azure DevOps Server) answering for ``repository`` (default
    :data:`REPOSITORIES`): the pull request ``NUMBER[kind]`` merged as ``merge_commit``,
    readable with ``token`` only."""

    def __init__(self, kind: str, merge_commit: str, token: str, *,
                 approved_head: bool = True, repository: str | None = None,
                 self_hosted: bool = False, api_version: str = AZURE_API_VERSION) -> None:
        assert kind in KINDS, kind
        assert not self_hosted or kind in ("bitbucket", "azure"), kind
        self.kind = kind
        self.self_hosted = self_hosted
        self.repository = repository or REPOSITORIES[kind, self_hosted]
        self.merge_commit = merge_commit
        self.token = token
        self.approved_head = approved_head
        self.api_version = api_version
        self.requests: list[dict[str, Any]] = []
        self.server = HTTPServer(host="127.0.0.1", port=0)

    def serve(self, merge_commit: str) -> None:
        """Serve the pull request as merged into ``merge_commit`` (a pipeline's commit, known
        only once its repository is made)."""
        self.merge_commit = merge_commit

    @property
    def routes(self) -> dict[str, Route]:
        """Path (as sent) -> its :class:`Route`."""
        if self.kind == "github":
            return {path: Route(*found) for path, found in self._github().items()}
        if self.kind == "gitlab":
            return {path: Route(*found) for path, found in self._gitlab().items()}
        if self.kind == "bitbucket":
            return self._data_center() if self.self_hosted else self._bitbucket_cloud()
        return self._azure()

    # --- running ------------------------------------------------------------------------------

    def __enter__(self) -> FakeProvider:
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._answer)
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.clear()
        self.server.stop()

    @property
    def root(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self.server.url_for("/").rstrip("/")

    @property
    def base_url(self) -> str:
        """What ``--base-url`` (``AFFIDAVIT_<PROVIDER>_BASE_URL``, a wrapper's ``base-url``) is
        set to: the API root (GitHub, GitLab's ``/api/v4``, Bitbucket Cloud's ``/2.0``), the
        Data Center root (its context path), the server's root for Azure DevOps Services (the
        organization is the repository's first segment) or the Server collection."""
        return self.root + {"github": "", "gitlab": "/api/v4",
                            "bitbucket": CONTEXT if self.self_hosted else "/2.0",
                            "azure": COLLECTION if self.self_hosted else ""}[self.kind]

    @property
    def api_url(self) -> str:
        """The API root the CLI makes of :attr:`base_url` (the predicate's ``base_url``): Data
        Center's REST API is below its root at ``/rest/api/1.0``."""
        if self.kind == "bitbucket" and self.self_hosted:
            return self.base_url + "/rest/api/1.0"
        return self.base_url

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
        sent = request.get_json(silent=True) if request.method == "POST" else None
        self.requests.append({"method": request.method, "path": path, "query": query,
                              "headers": headers, "json": sent})
        if not self._authorized(request):
            return _json(self._error(401), 401)
        found = self.routes.get(path)
        if found is None or found.method != request.method:
            return _json(self._error(404), 404)
        asked = dict(parse_qsl(query))
        if asked != found.query:  # what the provider module documents it sends
            return _json({"message": f"unexpected query {asked!r}, wanted {found.query!r}"}, 400)
        if found.method == "POST" and sent != found.sent:
            return _json({"message": f"unexpected body {sent!r}, wanted {found.sent!r}"}, 400)
        headers = {}
        if self.kind == "gitlab" and isinstance(found.body, list):
            headers = {"x-page": "1", "x-per-page": "100", "x-next-page": "",
                       "x-prev-page": "", "x-total": str(len(found.body)), "x-total-pages": "1"}
        return _json(found.body, 200, headers)

    def _authorized(self, request: Request) -> bool:
        if self.kind == "gitlab":
            return request.headers.get("PRIVATE-TOKEN") == self.token
        if self.kind == "azure":
            pair = base64.b64encode(f":{self.token}".encode()).decode("ascii")
            return request.headers.get("Authorization") == f"Basic {pair}"
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    def _error(self, status: int) -> Any:
        """The provider's error body for a refused token (401) or an unknown path (404)."""
        if self.kind == "github":
            return {"message": "Bad credentials" if status == 401 else "Not Found",
                    "documentation_url": "https://docs.github.com/rest", "status": str(status)}
        if self.kind == "gitlab":
            return {"message": "401 Unauthorized" if status == 401 else "404 Not found"}
        if self.kind == "bitbucket" and not self.self_hosted:
            return {"type": "error", "error": {"message": (
                "Token is invalid, expired, or not supported for this endpoint."
                if status == 401 else "Resource not found")}}
        if self.kind == "bitbucket":
            return {"errors": [{"context": None, "message": (
                "Authentication failed. Please check your credentials and try again."
                if status == 401 else "The requested resource does not exist."),
                "exceptionName": (
                    "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"
                    if status == 401 else "com.atlassian.bitbucket.NoSuchEntityException")}]}
        if status == 401:
            return {"$id": "1", "innerException": None,
                    "message": "TF400813: The user '' is not authorized to access this "
                               "resource.",
                    "typeName": "Microsoft.TeamFoundation.Framework.Server."
                                "UnauthorizedRequestException, Microsoft.TeamFoundation."
                                "Framework.Server",
                    "typeKey": "UnauthorizedRequestException", "errorCode": 0, "eventId": 3000}
        return {"$id": "1", "innerException": None, "message": "Page not found.",
                "typeName": "Microsoft.TeamFoundation.Framework.Server.NotFoundException, "
                            "Microsoft.TeamFoundation.Framework.Server",
                "typeKey": "NotFoundException", "errorCode": 0, "eventId": 3000}

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

    # --- Bitbucket Cloud ----------------------------------------------------------------------

    def _bitbucket_cloud(self) -> dict[str, Route]:
        workspace, slug = self.repository.split("/")
        repo = f"/2.0/repositories/{quote(workspace, safe='')}/{quote(slug, safe='')}"
        number = NUMBER["bitbucket"]
        page = {"pagelen": "50"}
        path = f"{repo}/pullrequests/{number}"
        merge = self.merge_commit
        pull = _cloud_pull(self.repository, number, merge, self.approved_head)
        summary = {key: value for key, value in pull.items()
                   if key not in ("reviewers", "participants")}
        activity = [  # newest first, as Bitbucket lists it
            _cloud_update(self.repository, number, "MERGED", HEAD, MERGED),
            *([_cloud_approval(number, "grace", HEAD_APPROVAL)]
              if self.approved_head else []),
            _cloud_update(self.repository, number, "OPEN", HEAD, SECOND_PUSH),
            _cloud_approval(number, "grace", FIRST_APPROVAL),
            _cloud_comment(number, 501, "linus",
                           "Looks fine, one nit in the footer.", COMMENTED),
            _cloud_update(self.repository, number, "OPEN", FIRST, CREATED),
        ]
        return {
            f"{repo}/commit/{merge}/pullrequests": Route(page, {
                "pagelen": 50, "values": [summary], "page": 1, "size": 1}),
            path: Route({}, pull),
            f"{path}/commits": Route(page, {"pagelen": 50, "values": [
                _cloud_commit(self.repository, HEAD, [FIRST], "ada",
                              "Show the version in the footer too", SECOND_PUSH),
                _cloud_commit(self.repository, FIRST, [BASE], "ada", "Show the version",
                              FIRST_PUSH)]}),
            f"{path}/activity": Route(page, {"pagelen": 50, "values": activity}),
            # the abbreviated hashes no commit of the pull request resolves
            f"{repo}/commit/{BASE[:12]}": Route({}, _cloud_commit(
                self.repository, BASE, ["9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"], "grace",
                "Release 1.0", "2024-05-01T16:00:00Z")),
            f"{repo}/commit/{merge[:12]}": Route({}, _cloud_commit(
                self.repository, merge, [BASE, HEAD], "grace",
                f"Merged in feature/version (pull request #{number})", MERGED)),
        }

    # --- Bitbucket Data Center ------------------------------------------------------------------

    def _data_center(self) -> dict[str, Route]:
        project, slug = self.repository.split("/")
        repo = (f"{CONTEXT}/rest/api/1.0/projects/{quote(project, safe='')}/repos/"
                f"{quote(slug, safe='')}")
        number = NUMBER["bitbucket"]
        page = {"limit": "100"}
        path = f"{repo}/pull-requests/{number}"
        pull = _server_pull(self.repository, number, self.merge_commit, self.approved_head)
        activities = [  # newest first
            _server_activity(1106, "grace", "MERGED", MERGED),
            *([_server_activity(1105, "grace", "APPROVED", HEAD_APPROVAL)]
              if self.approved_head else []),
            _server_activity(1104, "ada", "RESCOPED", SECOND_PUSH, {
                "fromHash": HEAD, "previousFromHash": FIRST, "toHash": BASE,
                "previousToHash": BASE,
                "added": {"commits": [_server_commit(HEAD, FIRST,
                                                     "Show the version in the footer too",
                                                     SECOND_PUSH)], "total": 1},
                "removed": {"commits": [], "total": 0}}),
            _server_activity(1103, "grace", "APPROVED", FIRST_APPROVAL),
            _server_activity(1102, "linus", "COMMENTED", COMMENTED, {
                "commentAction": "ADDED", "comment": {
                    "properties": {"repositoryId": 2211}, "id": 601, "version": 0,
                    "text": "Looks fine, one nit in the footer.",
                    "author": _server_user("linus"), "createdDate": _millis(COMMENTED),
                    "updatedDate": _millis(COMMENTED), "comments": [], "tasks": [],
                    "severity": "NORMAL", "state": "OPEN"}}),
            _server_activity(1101, "ada", "OPENED", CREATED),
        ]
        return {
            f"{repo}/commits/{self.merge_commit}/pull-requests": Route(
                page, _server_page([pull])),
            path: Route({}, pull),
            f"{path}/commits": Route(page, _server_page([
                _server_commit(HEAD, FIRST, "Show the version in the footer too", SECOND_PUSH),
                _server_commit(FIRST, BASE, "Show the version", FIRST_PUSH)])),
            f"{path}/activities": Route(page, _server_page(activities)),
        }

    # --- Azure DevOps ---------------------------------------------------------------------------

    def _azure(self) -> dict[str, Route]:
        *owner, name = self.repository.split("/")
        prefix = (COLLECTION if self.self_hosted else "") + "".join(
            f"/{quote(part, safe='')}" for part in owner)
        repo = f"{prefix}/_apis/git/repositories/{quote(name, safe='')}"
        number = NUMBER["azure"]
        version = {"api-version": self.api_version}
        path = f"{repo}/pullrequests/{number}"
        server = self.self_hosted
        pull = _azure_pull(self.repository, number, self.merge_commit, server)
        commit = self.merge_commit.lower()
        threads = [
            _azure_comment(7001, "linus", "Looks fine, one nit in the footer.", COMMENTED,
                           server),
            _azure_vote(7002, "grace", 10, FIRST_APPROVAL, server),
            _azure_push(7003, HEAD, SECOND_PUSH, server),
        ]
        if self.approved_head:  # the push reset her vote (no thread), she voted again
            threads.append(_azure_vote(7004, "grace", 10, HEAD_APPROVAL, server))
        queries = [{"type": "lastMergeCommit", "items": [commit]},
                   {"type": "commit", "items": [commit]}]
        summary = {key: value for key, value in pull.items()
                   if key not in ("reviewers", "description", "closedBy")}
        return {
            f"{repo}/pullrequestquery": Route(version, {
                "queries": [{"items": q["items"], "type": q["type"]} for q in queries],
                "results": [{commit: [summary]}, {commit: []}]},
                method="POST", sent={"queries": queries}),
            path: Route(version, pull),
            f"{path}/iterations": Route(version, {"value": [
                _azure_iteration(1, "Show the version", FIRST, FIRST_PUSH, "create", server),
                _azure_iteration(2, "Show the version in the footer too", HEAD, SECOND_PUSH,
                                 "push", server)], "count": 2}),
            f"{path}/threads": Route(version, {"value": threads, "count": len(threads)}),
            f"{path}/commits": Route({**version, "$top": "100"}, {"value": [
                _azure_commit(HEAD, "Show the version in the footer too", SECOND_PUSH),
                _azure_commit(FIRST, "Show the version", FIRST_PUSH)], "count": 2}),
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


# --- Bitbucket and Azure DevOps bodies ------------------------------------------------------------

def _cloud_time(when: str) -> str:
    """A Bitbucket Cloud time (ISO 8601 with an offset, as its examples give them)."""
    return when.replace("Z", "+00:00")


def _cloud_account(login: str) -> dict[str, Any]:
    account_id, uuid = BITBUCKET_ACCOUNTS[login]
    return {"display_name": PEOPLE[login][0],
            "links": {"self": {"href": f"https://api.bitbucket.org/2.0/users/{quote(uuid)}"},
                      "html": {"href": f"https://bitbucket.org/{quote(uuid)}/"}},
            "type": "user", "uuid": uuid, "account_id": account_id, "nickname": login}


def _cloud_side(repository: str, branch: str, sha: str) -> dict[str, Any]:
    """A pull request's ``source`` or ``destination``: Cloud abbreviates the hash."""
    return {"branch": {"name": branch}, "commit": {"type": "commit", "hash": sha[:12]},
            "repository": {"type": "repository", "full_name": repository,
                           "name": repository.split("/")[-1],
                           "uuid": "{7c1e9a4d-3b2f-4e8a-9d6c-5f0b1a2e3d4c}"}}


def _cloud_pull(repository: str, number: int, merge_commit: str,
                approved_head: bool) -> dict[str, Any]:
    api = f"https://api.bitbucket.org/2.0/repositories/{repository}/pullrequests/{number}"
    return {
        "type": "pullrequest", "id": number, "title": TITLE, "description": "Fixes #41.",
        "state": "MERGED", "draft": False,
        "merge_commit": {"type": "commit", "hash": merge_commit[:12]},
        "comment_count": 1, "task_count": 0, "close_source_branch": True,
        "closed_by": _cloud_account("grace"), "reason": "",
        "created_on": _cloud_time(CREATED), "updated_on": _cloud_time(MERGED),
        "destination": _cloud_side(repository, "main", BASE),
        "source": _cloud_side(repository, "feature/version", HEAD),
        "author": _cloud_account("ada"), "reviewers": [_cloud_account("grace")],
        "participants": [
            {"type": "participant", "user": _cloud_account("linus"), "role": "PARTICIPANT",
             "approved": False, "state": None, "participated_on": _cloud_time(COMMENTED)},
            {"type": "participant", "user": _cloud_account("grace"), "role": "REVIEWER",
             "approved": True, "state": "approved", "participated_on": _cloud_time(
                 HEAD_APPROVAL if approved_head else FIRST_APPROVAL)},
        ],
        "links": {"self": {"href": api},
                  "html": {"href": f"https://bitbucket.org/{repository}/pull-requests/"
                                   f"{number}"},
                  "commits": {"href": f"{api}/commits"},
                  "activity": {"href": f"{api}/activity"}},
    }


def _cloud_about(number: int) -> dict[str, Any]:
    return {"type": "pullrequest", "id": number, "title": TITLE}


def _cloud_update(repository: str, number: int, state: str, head: str,
                  when: str) -> dict[str, Any]:
    """An ``update``: the snapshot Bitbucket logs at each push and state change."""
    return {"update": {
        "state": state, "draft": False, "title": TITLE, "description": "Fixes #41.",
        "reason": "", "author": _cloud_account("ada"), "date": _cloud_time(when),
        "destination": _cloud_side(repository, "main", BASE),
        "source": _cloud_side(repository, "feature/version", head),
        "reviewers": [_cloud_account("grace")], "changes": {}},
        "pull_request": _cloud_about(number)}


def _cloud_approval(number: int, login: str, when: str) -> dict[str, Any]:
    return {"approval": {"date": _cloud_time(when), "user": _cloud_account(login),
                         "pullrequest": _cloud_about(number)},
            "pull_request": _cloud_about(number)}


def _cloud_comment(number: int, comment_id: int, login: str, text: str,
                   when: str) -> dict[str, Any]:
    return {"comment": {
        "id": comment_id, "created_on": _cloud_time(when), "updated_on": _cloud_time(when),
        "content": {"type": "rendered", "raw": text, "markup": "markdown",
                    "html": f"<p>{text}</p>"},
        "user": _cloud_account(login), "deleted": False, "type": "pullrequest_comment",
        "pullrequest": _cloud_about(number)},
        "pull_request": _cloud_about(number)}


def _cloud_commit(repository: str, sha: str, parents: list[str], login: str, message: str,
                  when: str) -> dict[str, Any]:
    name = PEOPLE[login][0]
    return {"type": "commit", "hash": sha, "date": _cloud_time(when),
            "author": {"type": "author", "raw": f"{name} <{login}@example.com>",
                       "user": _cloud_account(login)},
            "message": message,
            "parents": [{"type": "commit", "hash": parent} for parent in parents],
            "links": {"html": {"href": f"https://bitbucket.org/{repository}/commits/{sha}"}}}


def _millis(when: str) -> int:
    """A Bitbucket Data Center time: epoch milliseconds."""
    return int(datetime.fromisoformat(when).timestamp() * 1000)


def _server_user(login: str) -> dict[str, Any]:
    name, uid = PEOPLE[login]
    return {"name": login, "emailAddress": f"{login}@example.com", "active": True,
            "displayName": name, "id": uid, "slug": login, "type": "NORMAL",
            "links": {"self": [{"href": f"https://bitbucket.example.com{CONTEXT}/users/"
                                        f"{login}"}]}}


def _server_page(values: list[Any]) -> dict[str, Any]:
    return {"size": len(values), "limit": 100, "isLastPage": True, "values": values,
            "start": 0}


def _server_ref(repository: str, branch: str, sha: str) -> dict[str, Any]:
    project, slug = repository.split("/")
    return {"id": f"refs/heads/{branch}", "displayId": branch, "latestCommit": sha,
            "type": "BRANCH", "repository": {
                "slug": slug, "id": 2211, "name": slug, "scmId": "git", "state": "AVAILABLE",
                "statusMessage": "Available", "forkable": True,
                "project": {"key": project, "id": 31, "name": project.title(),
                            "public": False, "type": "NORMAL"},
                "public": False, "archived": False}}


def _server_pull(repository: str, number: int, merge_commit: str,
                 approved_head: bool) -> dict[str, Any]:
    project, slug = repository.split("/")
    return {
        "id": number, "version": 4, "title": TITLE, "description": "Fixes #41.",
        "state": "MERGED", "open": False, "closed": True, "draft": False,
        "createdDate": _millis(CREATED), "updatedDate": _millis(MERGED),
        "closedDate": _millis(MERGED),
        "fromRef": _server_ref(repository, "feature/version", HEAD),
        "toRef": _server_ref(repository, "main", BASE), "locked": False,
        "author": {"user": _server_user("ada"), "role": "AUTHOR", "approved": False,
                   "status": "UNAPPROVED"},
        "reviewers": [{"user": _server_user("grace"), "role": "REVIEWER", "approved": True,
                       "status": "APPROVED",
                       "lastReviewedCommit": HEAD if approved_head else FIRST}],
        "participants": [{"user": _server_user("linus"), "role": "PARTICIPANT",
                          "approved": False, "status": "UNAPPROVED"}],
        "properties": {"mergeResult": {"outcome": "CLEAN", "current": True},
                       "mergeCommit": {"displayId": merge_commit[:11], "id": merge_commit},
                       "resolvedTaskCount": 0, "commentCount": 1, "openTaskCount": 0},
        "links": {"self": [{"href": f"https://bitbucket.example.com{CONTEXT}/projects/"
                                    f"{project}/repos/{slug}/pull-requests/{number}"}]},
    }


def _server_activity(activity_id: int, login: str, action: str, when: str,
                     more: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": activity_id, "createdDate": _millis(when), "user": _server_user(login),
            "action": action, **(more or {})}


def _server_commit(sha: str, parent: str, message: str, when: str) -> dict[str, Any]:
    """A commit whose author's e-mail is linked to Ada's account (so the account's fields)."""
    return {"id": sha, "displayId": sha[:11], "author": _server_user("ada"),
            "authorTimestamp": _millis(when), "committer": _server_user("ada"),
            "committerTimestamp": _millis(when), "message": message,
            "parents": [{"id": parent, "displayId": parent[:11]}]}


def _azure_identity(login: str, server: bool) -> dict[str, Any]:
    """An ``IdentityRef``: the sign-in address on Services, ``DOMAIN\\user`` on Server."""
    name = PEOPLE[login][0]
    ident = AZURE_IDS[login]
    encoded = base64.b64encode(ident.encode()).decode("ascii")[:40]
    return {"displayName": name, "id": ident,
            "uniqueName": f"ACME\\{login}" if server else f"{login}@example.com",
            "descriptor": ("win." if server else "aad.") + encoded}


def _azure_web(repository: str, server: bool) -> str:
    *owner, name = repository.split("/")
    host = f"https://tfs.example.com{COLLECTION}" if server else "https://dev.azure.com"
    return host + "".join(f"/{quote(part)}" for part in owner) + f"/_git/{quote(name)}"


def _azure_ref(sha: str) -> dict[str, Any]:
    return {"commitId": sha}


def _azure_pull(repository: str, number: int, merge_commit: str,
                server: bool) -> dict[str, Any]:
    *owner, name = repository.split("/")
    web = _azure_web(repository, server)
    return {
        "repository": {"id": "3d5e7f90-1a2b-4c3d-8e4f-5a6b7c8d9e0f", "name": name,
                       "project": {"id": "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
                                   "name": owner[-1], "state": "wellFormed",
                                   "visibility": "private"},
                       "webUrl": web, "isDisabled": False},
        "pullRequestId": number, "codeReviewId": number, "status": "completed",
        "createdBy": _azure_identity("ada", server), "creationDate": CREATED,
        "closedDate": MERGED, "closedBy": _azure_identity("grace", server),
        "title": TITLE, "description": "Fixes #41.",
        "sourceRefName": "refs/heads/feature/version", "targetRefName": "refs/heads/main",
        "mergeStatus": "succeeded", "isDraft": False,
        "mergeId": "5e7a31c1-7a2b-4c3d-9e8f-0a1b2c3d4e5f",
        "lastMergeSourceCommit": _azure_ref(HEAD), "lastMergeTargetCommit": _azure_ref(BASE),
        "lastMergeCommit": _azure_ref(merge_commit),
        "reviewers": [{**_azure_identity("grace", server), "vote": 10, "hasDeclined": False,
                       "isRequired": True, "isFlagged": False}],
        "supportsIterations": True,
    }


def _azure_iteration(iteration: int, description: str, head: str, when: str, reason: str,
                     server: bool) -> dict[str, Any]:
    return {"id": iteration, "description": description,
            "author": _azure_identity("ada", server), "createdDate": when,
            "updatedDate": when, "sourceRefCommit": _azure_ref(head),
            "targetRefCommit": _azure_ref(BASE), "commonRefCommit": _azure_ref(BASE),
            "hasMoreCommits": False, "reason": reason}


def _azure_thread(thread_id: int, author: dict[str, Any], content: str, when: str,
                  kind: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"pullRequestThreadContext": None, "id": thread_id, "publishedDate": when,
            "lastUpdatedDate": when,
            "comments": [{"id": 1, "parentCommentId": 0, "author": author,
                          "content": content, "publishedDate": when, "lastUpdatedDate": when,
                          "lastContentUpdatedDate": when, "commentType": kind,
                          "usersLiked": []}],
            "threadContext": None,
            "properties": {key: {"$type": "System.Int32" if isinstance(value, int)
                                 else "System.String", "$value": value}
                           for key, value in properties.items()},
            "isDeleted": False}


def _azure_comment(thread_id: int, login: str, text: str, when: str,
                   server: bool) -> dict[str, Any]:
    return {**_azure_thread(thread_id, _azure_identity(login, server), text, when, "text",
                            {"Microsoft.TeamFoundation.Discussion.SupportsMarkdown": 1}),
            "status": "active"}


def _azure_vote(thread_id: int, login: str, vote: int, when: str,
                server: bool) -> dict[str, Any]:
    """The system thread a vote leaves: the voter is a key of its ``identities``."""
    voter = _azure_identity(login, server)
    return {**_azure_thread(thread_id, voter, f"{voter['displayName']} voted {vote}", when,
                            "system", {"CodeReviewThreadType": "VoteUpdate",
                                       "CodeReviewVoteResult": str(vote),
                                       "CodeReviewVotedByInitiatorIdentity": "1",
                                       "CodeReviewVotedByIdentity": "1"}),
            "identities": {"1": voter}}


def _azure_push(thread_id: int, head: str, when: str, server: bool) -> dict[str, Any]:
    """The system thread a push leaves (no review)."""
    return {**_azure_thread(thread_id, _AZURE_TFS, "{0} updated the pull request", when,
                            "system", {"CodeReviewThreadType": "RefUpdate",
                                       "CodeReviewRefName": "refs/heads/feature/version",
                                       "CodeReviewRefNewCommits": head,
                                       "CodeReviewRefNewCommitsCount": 1,
                                       "CodeReviewRefNewHeadCommit": head,
                                       "CodeReviewRefUpdatedByIdentity": "1"}),
            "identities": {"1": _azure_identity("ada", server)}}


def _azure_commit(sha: str, message: str, when: str) -> dict[str, Any]:
    who = {"name": "Ada Lovelace", "email": "ada@example.com", "date": when}
    return {"commitId": sha, "author": who, "committer": who, "comment": message}


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


#: Bitbucket Cloud names an account by its ``account_id``.
ADA_BITBUCKET = {"login": "712020:5a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b1001", "name": "Ada Lovelace",
                 "type": "User"}
GRACE_BITBUCKET = {"login": "712020:5a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b1002",
                   "name": "Grace Hopper", "type": "User"}


def recorded_bitbucket_pull(merge_commit: str, *, approved_head: bool = True,
                            self_hosted: bool = False) -> dict[str, Any]:
    """Pull request #12 of acme/shop on Bitbucket Cloud, or of ACME/shop on Data Center
    (``self_hosted``): Grace's approval of the first push (before the push of ``HEAD``) and,
    with ``approved_head``, of the final head; Linus's comment is no review. Cloud's accounts
    are their ``account_id``, its times as Cloud gives them, its abbreviated hashes resolved to
    full SHAs; Data Center's accounts are usernames, its epoch milliseconds ISO 8601 UTC.
    Neither says anything of signatures: nulls. Commits oldest first (both list newest first)."""
    if self_hosted:
        ada, grace = ADA, GRACE
        url = "https://bitbucket.example.com/bitbucket/projects/ACME/repos/shop/pull-requests/12"
        times = {"created": "2024-05-02T08:00:00.000Z", "first": "2024-05-02T10:00:00.000Z",
                 "head": "2024-05-02T11:30:00.000Z", "merged": "2024-05-02T12:00:00.000Z",
                 "push1": "2024-05-02T08:00:00.000Z", "push2": "2024-05-02T11:00:00.000Z"}
        author_login = "ada"
    else:
        ada, grace = ADA_BITBUCKET, GRACE_BITBUCKET
        url = "https://bitbucket.org/acme/shop/pull-requests/12"
        times = {"created": "2024-05-02T08:00:00+00:00", "first": "2024-05-02T10:00:00+00:00",
                 "head": "2024-05-02T11:30:00+00:00", "merged": "2024-05-02T12:00:00+00:00",
                 "push1": "2024-05-02T08:00:00+00:00", "push2": "2024-05-02T11:00:00+00:00"}
        author_login = "712020:5a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b1001"
    reviews = [{"reviewer": grace, "state": "approved", "submitted_at": times["first"],
                "commit": "1f2e3d4c5b6a79880a1b2c3d4e5f60718293a4b5"}]
    if approved_head:
        reviews.append({"reviewer": grace, "state": "approved", "submitted_at": times["head"],
                        "commit": "4a5b6c7d8e9f00112233445566778899aabbccdd"})
    return {
        "provider": "bitbucket", "url": url, "number": 12, "title": "Show the shop's version",
        "state": "merged", "author": ada, "created_at": times["created"],
        "merged_at": times["merged"],
        "head": {"ref": "feature/version", "sha": "4a5b6c7d8e9f00112233445566778899aabbccdd"},
        "base": {"ref": "main", "sha": "0b5e1c2d3a4f5061728394a5b6c7d8e9f0a1b2c3"},
        "merge_commit": merge_commit, "reviews": reviews,
        "commits": [
            {"sha": "1f2e3d4c5b6a79880a1b2c3d4e5f60718293a4b5", "author_name": "Ada Lovelace",
             "author_email": "ada@example.com", "author_login": author_login,
             "authored_at": times["push1"], "message": "Show the version",
             "signature": {"verified": None, "state": None}},
            {"sha": "4a5b6c7d8e9f00112233445566778899aabbccdd", "author_name": "Ada Lovelace",
             "author_email": "ada@example.com", "author_login": author_login,
             "authored_at": times["push2"], "message": "Show the version in the footer too",
             "signature": {"verified": None, "state": None}},
        ],
    }


def recorded_azure_pull(merge_commit: str, *, approved_head: bool = True,
                        self_hosted: bool = False) -> dict[str, Any]:
    """Pull request 31 of acme/Shop/shop on Azure DevOps Services, or of Shop/shop in the
    collection DefaultCollection of an Azure DevOps Server (``self_hosted``): Grace's vote 10 on
    the first push (iteration 1) and, with ``approved_head``, on the final head (iteration 2);
    Linus's comment and the push's system thread are no reviews. Accounts are their
    ``uniqueName`` (the sign-in address, ``ACME\\user`` on Server); Azure names no account
    for a commit and says nothing of signatures: nulls. Commits oldest first."""
    if self_hosted:
        url = "https://tfs.example.com/tfs/DefaultCollection/Shop/_git/shop/pullrequest/31"
        ada = {"login": "ACME\\ada", "name": "Ada Lovelace", "type": "User"}
        grace = {"login": "ACME\\grace", "name": "Grace Hopper", "type": "User"}
    else:
        url = "https://dev.azure.com/acme/Shop/_git/shop/pullrequest/31"
        ada = {"login": "ada@example.com", "name": "Ada Lovelace", "type": "User"}
        grace = {"login": "grace@example.com", "name": "Grace Hopper", "type": "User"}
    reviews = [{"reviewer": grace, "state": "approved", "submitted_at": "2024-05-02T10:00:00Z",
                "commit": "1f2e3d4c5b6a79880a1b2c3d4e5f60718293a4b5"}]
    if approved_head:
        reviews.append({"reviewer": grace, "state": "approved",
                        "submitted_at": "2024-05-02T11:30:00Z",
                        "commit": "4a5b6c7d8e9f00112233445566778899aabbccdd"})
    return {
        "provider": "azure", "url": url, "number": 31, "title": "Show the shop's version",
        "state": "merged", "author": ada, "created_at": "2024-05-02T08:00:00Z",
        "merged_at": "2024-05-02T12:00:00Z",
        "head": {"ref": "feature/version", "sha": "4a5b6c7d8e9f00112233445566778899aabbccdd"},
        "base": {"ref": "main", "sha": "0b5e1c2d3a4f5061728394a5b6c7d8e9f0a1b2c3"},
        "merge_commit": merge_commit, "reviews": reviews,
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
