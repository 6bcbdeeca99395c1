"""Azure DevOps (Services and Server) pull requests, through the Git REST API.

Where: the base URL is ``https://dev.azure.com`` with ``--repository ORG/PROJECT/REPO`` (the
organization is the first path segment of every call); against an organization URL
(``https://dev.azure.com/ORG``, ``https://ORG.visualstudio.com``, what Azure Pipelines'
``SYSTEM_COLLECTIONURI`` names) or an Azure DevOps Server collection URL
(``https://tfs.example.com/DefaultCollection``) it is ``PROJECT/REPO``. The number of segments
decides, nothing else: three are appended to the base URL as organization, project and
repository, two as project and repository (what :mod:`~affidavit.collect.pullrequests.ci` builds
from ``SYSTEM_TEAMPROJECT`` and ``BUILD_REPOSITORY_NAME``). Each segment is percent-encoded on
its own, so a project named "Fabrikam Fiber" is ``Fabrikam%20Fiber``. Two segments against the
bare ``https://dev.azure.com`` would take the project for an organization, so that is a usage
error rather than a 404 about the wrong thing.

Auth (https://learn.microsoft.com/en-us/azure/devops/organizations/accounts/use-personal-access-
tokens-to-authenticate): a personal access token alone is HTTP Basic with an empty username
(``:PAT``), as Azure DevOps documents it; the username ``SYSTEM_ACCESSTOKEN`` marks an Azure
Pipelines job token (``$(System.AccessToken)``, https://learn.microsoft.com/en-us/azure/devops/
pipelines/build/variables#systemaccesstoken), an OAuth token sent as ``Authorization: Bearer``;
any other username goes with the token into Basic (Azure DevOps Server accepts a PAT with any
username, and some proxies in front of it want a real one).

Every call carries ``api-version``: ``7.1`` on Azure DevOps Services (``dev.azure.com``,
``*.visualstudio.com``), ``7.0`` on any other host, an Azure DevOps Server. Server 2022 accepts
7.0 and 7.1-preview but not the released 7.1, and answers a version it does not know with a 400
``VssVersionOutOfRangeException`` (shown with its words, exit 2); 7.0 rather than the preview
because every endpoint below has the same shape in it and a preview may change
(https://learn.microsoft.com/en-us/rest/api/azure/devops/?view=azure-devops-rest-7.1#api-and-
tfs-version-mapping). Older servers (2020 and before: 6.0 or less) are not supported. The
version rides on the session's default query, so the shared pagers in
:mod:`~affidavit.collect.pullrequests.http` send it too. (Azure's routes ignore case; the
reference spells ``pullrequests`` both ways.)

A bad token is not always a 401: a PAT that Azure DevOps cannot match gets 203 with its
sign-in page (HTML with a success status), and a 401 from Server is often an HTML page too.
Both are refused as the token's fault (exit 3) with one line, never read as JSON or as an empty
answer; a JSON 401 keeps Azure's own words (``TF400813: …``).

Endpoints (https://learn.microsoft.com/en-us/rest/api/azure/devops/git/), and why these:

- ``POST …/_apis/git/repositories/{repo}/pullrequestquery`` (Pull Request Query - Get) with one
  ``lastMergeCommit`` query (the pull request whose merge, or squash, commit this is: a build of
  the target branch right after a merge, or of a pull request's own merge ref) and one
  ``commit`` query (the pull requests that merged this commit). It reads the repository's own
  pull requests, so a completion a second ago is there; each result maps the commit to a list
  of pull requests. An active pull request that merely contains the commit is found by neither,
  so the poller asks again until it completes; a pull-request build knows its number from the
  CI instead. An unknown repository or project is a 404 (``TF401019``, ``TF200016``): exit 2.
- ``GET …/pullrequests/{id}`` (Pull Requests - Get Pull Request): ``active`` is open, or draft
  when ``isDraft``; ``completed`` is merged (at ``closedDate``); ``abandoned`` is closed. The
  merge commit is ``lastMergeCommit`` (for a pull request not yet completed, the trial merge
  Azure keeps on its merge ref). The reviewers, each with their vote now: 10 approved,
  5 approved with suggestions, 0 no vote, -5 waiting for the author and -10 rejected (both
  recorded as changes requested); ``isRequired`` and ``hasDeclined`` change nothing recorded.
- ``GET …/pullrequests/{id}/iterations`` (Pull Request Iterations - List): one per push, with
  ``sourceRefCommit`` (the head it pushed) and ``createdDate``. The head of the last iteration
  is the pull request's head (``lastMergeSourceCommit`` lags behind a push until Azure's trial
  merge has run, so it is only the fallback), and the head current when a vote was cast is
  the commit that vote reviewed.
- ``GET …/pullrequests/{id}/threads`` (Pull Request Threads - List): Azure has no list of
  reviews, but every vote leaves a system thread whose properties say
  ``CodeReviewThreadType: VoteUpdate`` and ``CodeReviewVoteResult``, and name the voter
  (``CodeReviewVotedByIdentity``, a key of the thread's ``identities``; Team Foundation Server's
  older ``CodeReviewVotedByTfId``/``CodeReviewVotedByDisplayName``; else the comment's author).
  Each is one review at the thread's ``publishedDate``; a vote reset to 0 after a standing vote
  is a dismissal. Comments and the other system threads (pushes, reviewers added, merge
  attempts) are not reviews. Where a reviewer's vote now disagrees with their last recorded
  one (a branch policy that resets votes on a push leaves no vote thread), the vote now is
  added after the dated reviews, with no time and no commit: a dismissal of a vote reset to 0,
  or the vote itself. A team's vote (``isContainer``) only rolls up its members' and is not one.
- ``GET …/pullrequests/{id}/commits`` (Pull Request Commits - Get Pull Request Commits), paged
  with ``$top`` and the ``x-ms-continuationtoken`` header sent back as ``continuationToken``;
  listed newest first as ``git log`` does, recorded oldest first. Azure names no account for a
  commit author (``author_login`` None) and says nothing of signatures; ``comment`` may be cut
  short (``commentTruncated``) and is recorded as given.

An account is its ``uniqueName`` (the sign-in address, or ``DOMAIN\\user`` on Server) and
``displayName``; ``Group`` for a team or group (``isContainer``), ``Bot`` for a service identity
(a descriptor starting ``svc.`` or ``s2s.``: the build service, service principals), ``User``
otherwise. An identity that is missing, empty or the all-zero ID is a deleted or unknown
account: None, never an error. 429 with ``Retry-After`` (the ``TF400733`` throttling of
https://learn.microsoft.com/en-us/azure/devops/integrate/concepts/rate-limits) and 5xx are
waited out by :class:`~affidavit.collect.pullrequests.http.Api`.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

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

__all__ = ["DEFAULT_BASE_URL", "ACCESS_TOKEN_USERNAME", "API_VERSION", "SERVER_API_VERSION",
           "connect", "for_commit", "get"]

DEFAULT_BASE_URL = "https://dev.azure.com"
ACCESS_TOKEN_USERNAME = "SYSTEM_ACCESSTOKEN"
"""The username that makes the token an Azure Pipelines job token (sent as a bearer token)."""
API_VERSION = "7.1"
"""The REST API version sent to Azure DevOps Services."""
SERVER_API_VERSION = "7.0"
"""The REST API version sent to Azure DevOps Server (2022 and later know it)."""
CLOUD_HOSTS = ("dev.azure.com",)
"""Hosts of Azure DevOps Services (with every ``*.visualstudio.com``)."""
PER_PAGE = 100
_STATES = {"active": "open", "completed": "merged", "abandoned": "closed"}
_VOTES: dict[int, str | None] = {10: "approved", 5: "approved_with_suggestions", 0: None,
                                 -5: "changes_requested", -10: "changes_requested"}
_STANDING = frozenset(("approved", "approved_with_suggestions", "changes_requested"))
_NOT_FOUND = {"GitRepositoryNotFoundException": "TF401019",
              "ProjectDoesNotExistWithNameException": "TF200016",
              "ProjectDoesNotExistException": "TF200016"}
_NO_PULL_REQUEST = ("GitPullRequestNotFoundException", "TF401180")
_NO_ONE = "00000000-0000-0000-0000-000000000000"
_LATER = datetime.max.replace(tzinfo=UTC)


def connect(base_url: str | None, token: str | None, username: str | None) -> Api:
    """The API at ``base_url`` (https://dev.azure.com by default); without a token, public
    projects only. See the module docstring for the token forms ``username`` selects."""
    headers = {}
    if token and username == ACCESS_TOKEN_USERNAME:
        headers["Authorization"] = f"Bearer {token}"
    elif token:
        pair = f"{username or ''}:{token}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    api = Api("azure", base_url or DEFAULT_BASE_URL, headers)
    api.session.params = {"api-version": _api_version(api.base_url)}
    api.session.hooks["response"].append(_refuse_sign_in_page)
    return api


def for_commit(api: Api, repository: str, sha: str) -> list[int]:
    """IDs of the pull requests whose merge commit is ``sha`` or that merged it; ``[]`` when
    Azure knows none (yet)."""
    repo = _paths(api, repository)[0]
    commit = sha.strip().lower()
    path = f"{repo}/pullrequestquery"
    query = {"queries": [{"type": "lastMergeCommit", "items": [commit]},
                         {"type": "commit", "items": [commit]}]}
    body = _answer(api, "POST", path, repository, json_body=query).body
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        raise ProviderError(f"azure: {path} did not answer the results of its queries")
    numbers: list[int] = []
    for result in results:
        if not isinstance(result, dict):
            raise ProviderError(f"azure: {path} answered a result that is not an object")
        for pulls in result.values():
            if not isinstance(pulls, list):
                raise ProviderError(f"azure: {path} answered a result that is not a list of "
                                    "pull requests")
            for pull in pulls:
                number = pull.get("pullRequestId") if isinstance(pull, dict) else None
                if not isinstance(number, int) or isinstance(number, bool):
                    raise ProviderError(f"azure: {path} answered a pull request without a "
                                        "pullRequestId")
                if number not in numbers:
                    numbers.append(number)
    return numbers


def get(api: Api, repository: str, number: int) -> Record:
    """Pull request ``number`` with every review and every commit."""
    repo, web = _paths(api, repository)
    number = int(number)
    path = f"{repo}/pullrequests/{number}"
    pull = _answer(api, "GET", path, repository, number=number).body
    if not isinstance(pull, dict):
        raise ProviderError(f"azure: {path} did not answer a pull request")
    iterations = _objects(api, f"{path}/iterations")
    threads = _objects(api, f"{path}/threads")
    commits = _objects(api, f"{path}/commits", {"$top": PER_PAGE})
    state = _STATES.get(str(pull.get("status")))
    if state is None:
        raise ProviderError(f"azure: pull request {number} has the status "
                            f"{pull.get('status')!r}, which affidavit does not know")
    if state == "open" and pull.get("isDraft") is True:
        state = "draft"
    reviewers = pull.get("reviewers")
    last = _last_iteration(iterations)
    where = pull.get("repository")
    page = where.get("webUrl") if isinstance(where, dict) else None
    return shape.pull_request(
        provider="azure", number=_int(pull.get("pullRequestId"), number),
        url=(f"{page.rstrip('/')}/pullrequest/{number}" if isinstance(page, str) and page
             else f"{api.base_url}{web}/pullrequest/{number}"),
        title=_text(pull.get("title")), state=state, author=_person(pull.get("createdBy")),
        created_at=_text(pull.get("creationDate")),
        merged_at=_text(pull.get("closedDate")) if state == "merged" else None,
        head=shape.ref(name=_branch(pull.get("sourceRefName")),
                       sha=(_commit_id(last.get("sourceRefCommit"))
                            or _commit_id(pull.get("lastMergeSourceCommit")))),
        base=shape.ref(name=_branch(pull.get("targetRefName")),
                       sha=(_commit_id(pull.get("lastMergeTargetCommit"))
                            or _commit_id(last.get("targetRefCommit")))),
        merge_commit=_commit_id(pull.get("lastMergeCommit")),
        reviews=_reviews(threads, _heads(iterations),
                         reviewers if isinstance(reviewers, list) else [], number),
        commits=[_commit(item, path) for item in reversed(commits)])


# -- where, and how to ask --------------------------------------------------------------------

def _api_version(base_url: str) -> str:
    host = (urlsplit(base_url).hostname or "").lower()
    cloud = host in CLOUD_HOSTS or host.endswith(".visualstudio.com")
    return API_VERSION if cloud else SERVER_API_VERSION


def _paths(api: Api, repository: str) -> tuple[str, str]:
    """The repository's API path (``/ORG/PROJECT/_apis/git/repositories/REPO``, or without the
    organization) and its web path (``…/_git/REPO``) below the base URL."""
    parts = repository.strip().strip("/").split("/")
    if len(parts) not in (2, 3) or any(not part.strip() for part in parts):
        raise UsageError(f"--repository {repository!r} is not ORG/PROJECT/REPO (with "
                         f"{DEFAULT_BASE_URL}) or PROJECT/REPO (with an organization or Azure "
                         "DevOps Server collection --base-url)")
    where = urlsplit(api.base_url)
    if (len(parts) == 2 and (where.hostname or "").lower() in CLOUD_HOSTS
            and where.path in ("", "/")):
        raise UsageError(f"--repository {repository!r} names no organization, which "
                         f"{api.base_url} needs", remedy="give ORG/PROJECT/REPO, or --base-url "
                                                         "https://dev.azure.com/ORG")
    *owner, name = (quote(part, safe="") for part in parts)
    prefix = "".join(f"/{part}" for part in owner)
    return f"{prefix}/_apis/git/repositories/{name}", f"{prefix}/_git/{name}"


def _refuse_sign_in_page(response: Any, *args: Any, **kwargs: Any) -> None:
    """A session hook: Azure's answer to a token it cannot match is its sign-in page, as 203
    (a success status) or as an HTML 401, which is neither JSON nor the provider's words."""
    status = response.status_code
    html = "html" in str(response.headers.get("Content-Type") or "").lower()
    if status == 203 or (status == 401 and html):
        where = str(response.url).split("?", 1)[0]
        response.close()
        raise ProviderError(
            f"azure: the token was refused for {where} (HTTP {status}: Azure DevOps answered "
            "with its sign-in page)",
            remedy="check that the token is valid, not expired, for this organization or "
                   "collection, and has the Code (Read) scope (--token or AFFIDAVIT_AZURE_TOKEN)")


def _answer(api: Api, method: str, path: str, repository: str, *, json_body: Any = None,
            number: int | None = None) -> Answer:
    """One call whose 404 says which of the repository, its project or the pull request Azure
    does not know."""
    answer = api.request(method, path, json_body=json_body, statuses=(404,))
    assert answer is not None  # only ``missing=True`` answers None
    if answer.status != 404:
        return answer
    body = answer.body if isinstance(answer.body, dict) else {}
    kind, said = str(body.get("typeKey") or ""), provider_words(answer.body)
    code = str(body.get("message") or "").partition(":")[0]
    if number is not None and (kind in _NO_PULL_REQUEST or code in _NO_PULL_REQUEST):
        raise NotFoundError(f"azure: {repository} has no pull request {number}{said}",
                            remedy="check --pr")
    if kind in _NOT_FOUND or code in _NOT_FOUND.values():
        raise NotFoundError(f"azure: unknown repository {repository!r}{said}",
                            remedy="check --repository (ORG/PROJECT/REPO, or PROJECT/REPO with "
                                   "an organization or collection --base-url) and that the "
                                   "token can see it")
    raise NotFoundError(f"azure: {path} was not found (HTTP 404){said}",
                        remedy="check --base-url (https://dev.azure.com, an organization URL or "
                               "an Azure DevOps Server collection URL) and --repository")


def _objects(api: Api, path: str, params: Mapping[str, Any] | None = None) -> list[Record]:
    """Every item of a list of a pull request Azure has just shown, each an object."""
    items = list(api.azure_pages(path, params))
    if not all(isinstance(item, dict) for item in items):
        raise ProviderError(f"azure: {path} listed something that is not an object")
    return items


# -- reading what Azure said ------------------------------------------------------------------

def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _branch(name: Any) -> str | None:
    text = _text(name)
    return text.removeprefix("refs/heads/") if text else None


def _commit_id(ref: Any) -> str | None:
    return _text(ref.get("commitId")) if isinstance(ref, dict) else None


def _last_iteration(iterations: list[Record]) -> Record:
    """The latest push: the highest iteration ID (they count up from 1), {} when none."""
    numbered = [item for item in iterations if isinstance(item.get("id"), int)]
    return max(numbered, key=lambda item: int(item["id"])) if numbered else {}


def _heads(iterations: list[Record]) -> Heads:
    return sorted(((moment, _commit_id(item.get("sourceRefCommit")))
                   for item in iterations
                   if (moment := shape.moment(item.get("createdDate"))) is not None),
                  key=lambda pair: pair[0])


def _head_at(heads: Heads, when: Any) -> str | None:
    """The head pushed last strictly before ``when``; None before the first push or when a time
    cannot be read (which the judge never takes for the final head)."""
    moment, head = shape.moment(when), None
    if moment is None:
        return None
    for pushed, sha in heads:
        if pushed >= moment:  # a push at the moment of a review counts as after it
            break
        head = sha
    return head


def _person(identity: Any) -> Record | None:
    if not isinstance(identity, dict) or identity.get("id") == _NO_ONE:
        return None
    login, name = _text(identity.get("uniqueName")), _text(identity.get("displayName"))
    if login is None and name is None:
        return None
    if identity.get("isContainer") is True:
        kind = "Group"
    elif str(identity.get("descriptor") or "").startswith(("svc.", "s2s.")):
        kind = "Bot"
    else:
        kind = "User"
    return shape.person(login=login, name=name, type=kind)


def _key(identity: Any) -> str | None:
    """What names one account across threads and reviewers (its ID, else its unique name);
    None for a deleted one."""
    if _person(identity) is None:
        return None
    ident = _text(identity.get("id"))
    if ident:
        return "id:" + ident.lower().replace("-", "").strip("{}")
    return "name:" + str(identity.get("uniqueName") or identity.get("displayName")).lower()


def _property(thread: Record, name: str) -> Any:
    """A thread property's value (Azure wraps each as ``{"$type": …, "$value": …}``)."""
    properties = thread.get("properties")
    value = properties.get(name) if isinstance(properties, dict) else None
    return value.get("$value") if isinstance(value, dict) else value


def _vote(value: Any, what: str) -> str | None:
    """The review state of a vote (None for 0, no vote); a vote Azure does not document is
    refused rather than guessed."""
    try:
        vote = int(value)
    except (TypeError, ValueError):
        vote = None
    if vote is None or isinstance(value, bool) or vote not in _VOTES:
        raise ProviderError(f"azure: {what} has the vote {value!r}, which affidavit does not "
                            "know")
    return _VOTES[vote]


def _voter(thread: Record, reviewers: Mapping[str, Record]) -> Record | None:
    """The account a vote thread is about (see the module docstring); None when deleted."""
    identities = thread.get("identities")
    identities = identities if isinstance(identities, dict) else {}
    ref = _property(thread, "CodeReviewVotedByIdentity")
    if ref is not None:
        found = identities.get(str(ref))
        return found if isinstance(found, dict) else None
    tf_id = _text(_property(thread, "CodeReviewVotedByTfId"))
    if tf_id:
        stand_in = {"id": tf_id, "displayName": _property(thread, "CodeReviewVotedByDisplayName")}
        key = _key(stand_in)
        return reviewers.get(key, stand_in) if key else stand_in
    comments = thread.get("comments")
    first = comments[0] if isinstance(comments, list) and comments else None
    author = first.get("author") if isinstance(first, dict) else None
    if isinstance(author, dict) and author.get("isContainer") is not True:
        return author
    return None


def _reviews(threads: list[Record], heads: Heads, reviewers: list[Any],
             number: int) -> list[Record]:
    """The votes of the vote threads, oldest first, then each reviewer's vote now where it is
    not their last recorded one (see the module docstring)."""
    people = {key: item for item in reviewers if (key := _key(item)) is not None}
    reviews: list[Record] = []
    last: dict[str, str] = {}
    for thread in sorted(threads, key=lambda t: (shape.moment(t.get("publishedDate")) or _LATER,
                                                 _int(t.get("id"), 0))):
        if (thread.get("isDeleted") is True
                or _property(thread, "CodeReviewThreadType") != "VoteUpdate"):
            continue
        state = _vote(_property(thread, "CodeReviewVoteResult"),
                      f"vote thread {thread.get('id')} of pull request {number}")
        voter = _voter(thread, people)
        key = _key(voter)
        if state is None:
            if key is None or last.get(key) not in _STANDING:
                continue  # a reset of no standing vote withdraws nothing
            state = "dismissed"
        when = _text(thread.get("publishedDate"))
        reviews.append(shape.review(reviewer=_person(voter), state=state, submitted_at=when,
                                    commit=_head_at(heads, when)))
        if key is not None:
            last[key] = state
    for key, item in people.items():
        if item.get("isContainer") is True:
            continue
        now = _vote(item.get("vote") or 0, f"reviewer {item.get('uniqueName')!r} of pull "
                                         f"request {number}")
        said = last.get(key)
        if now is None and said in _STANDING:
            now = "dismissed"
        elif now is None or now == said:
            continue
        reviews.append(shape.review(reviewer=_person(item), state=now, submitted_at=None,
                                    commit=None))
    return reviews


def _commit(item: Record, path: str) -> Record:
    sha = _text(item.get("commitId"))
    if sha is None:
        raise ProviderError(f"azure: {path}/commits listed a commit without a commitId")
    author = item.get("author")
    author = author if isinstance(author, dict) else {}
    return shape.commit(
        sha=sha, author_name=_text(author.get("name")), author_email=_text(author.get("email")),
        author_login=None, authored_at=_text(author.get("date")),
        message=_text(item.get("comment")), verified=None, signature_state=None)
