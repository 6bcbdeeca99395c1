"""GitHub (github.com and GitHub Enterprise Server) pull requests, through the REST API.

The base URL is ``https://api.github.com``; Enterprise Server serves the same API under
``https://HOST/api/v3``. ``--repository`` is ``owner/repo``. The token goes in
``Authorization: Bearer``, which every GitHub token kind accepts (classic and fine-grained
personal access tokens, an Actions ``GITHUB_TOKEN``, a GitHub App's installation token), with
the media type and API version GitHub asks clients to send
(https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api,
https://docs.github.com/en/rest/about-the-rest-api/api-versions).

Endpoints, and why these:

- ``GET /repos/{o}/{r}/commits/{sha}/pulls`` finds the pull requests of a commit
  (https://docs.github.com/en/rest/commits/commits#list-pull-requests-associated-with-a-commit).
  It reads the repository itself, so a pull request merged a second ago is there; the search
  API (``/search/issues?q=SHA``) reads an index that lags behind by minutes and is never used.
  It lists the merged pull request that brought the commit into the default branch, or, for a
  commit not (yet) there, the open and merged ones that contain it. An unknown commit is 422
  "No commit found for SHA" (sometimes 404): one ``GET /repos/{o}/{r}``
  (https://docs.github.com/en/rest/repos/repos#get-a-repository) tells an unknown repository
  (exit 2) from a commit not pushed yet (``[]``, asked again by the poller).
- ``GET /repos/{o}/{r}/pulls/{n}`` is the pull request
  (https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request): ``merged_at`` makes it
  merged, ``draft`` an open one a draft; ``commits`` is how many commits it has.
- ``GET …/pulls/{n}/reviews`` (https://docs.github.com/en/rest/pulls/reviews#list-reviews-for-a-
  pull-request) lists every submitted review in chronological order, each with the
  ``commit_id`` it reviewed, so an approval of an older head stays visible as one. A dismissed
  approval keeps its place with the state ``DISMISSED``; ``PENDING`` is a draft review its
  author has not submitted (only they can see it) and is left out.
- ``GET …/pulls/{n}/commits`` (https://docs.github.com/en/rest/pulls/pulls#list-commits-on-a-
  pull-request) stops at 250 commits. When the pull request says it has more, the whole list
  comes from ``GET /repos/{o}/{r}/compare/{base}...{head}`` paged with ``page``
  (https://docs.github.com/en/rest/commits/commits#compare-two-commits: without paging it too
  stops at 250), and a list that still does not add up is refused (exit 3), never recorded.
  ``verification`` is GitHub's word on the signature (``reason`` is the state).
- ``GET /users/{login}`` (https://docs.github.com/en/rest/users/users#get-a-user) gives display
  names, which pull requests and reviews do not carry: one call per distinct account (the
  author and each reviewer) per pull request; a 404 leaves the name None.

Every list is paged with ``per_page=100`` (the maximum) and its ``Link: rel="next"`` followed
(https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api).
A deleted account is ``null`` or GitHub's placeholder ``ghost`` user
(https://docs.github.com/en/account-and-profile/setting-up-and-managing-your-personal-account-
on-github/managing-your-personal-account/deleting-your-personal-account): recorded as None.
A spent rate limit (403 or 429 with ``x-ratelimit-remaining: 0``, or ``Retry-After``) is
waited out by :class:`~affidavit.collect.pullrequests.http.Api`
(https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).
"""

from __future__ import annotations

from urllib.parse import quote

from affidavit.collect.pullrequests import shape
from affidavit.collect.pullrequests.http import MAX_PAGES, Api, next_link
from affidavit.errors import NotFoundError, ProviderError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Record = dict[str, Any]

__all__ = ["DEFAULT_BASE_URL", "connect", "for_commit", "get"]

DEFAULT_BASE_URL = "https://api.github.com"
PER_PAGE = 100
_LIST = {"per_page": PER_PAGE}
_REVIEW_STATES = {"APPROVED": "approved", "CHANGES_REQUESTED": "changes_requested",
                  "COMMENTED": "commented", "DISMISSED": "dismissed"}
_GHOST = "ghost"  # the account GitHub shows in place of a deleted one


def connect(base_url: str | None, token: str | None, username: str | None) -> Api:
    """The API at ``base_url`` (github.com by default); without a token, public repositories
    only. ``username`` is not used: a GitHub token names its account."""
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return Api("github", base_url or DEFAULT_BASE_URL, headers)


def for_commit(api: Api, repository: str, sha: str) -> list[int]:
    """Numbers of the pull requests containing ``sha``; ``[]`` when GitHub does not know the
    commit (yet) or no pull request has it."""
    repo = _repo(repository)
    path = f"{repo}/commits/{quote(sha, safe='')}/pulls"
    first = api.request("GET", path, params=_LIST, missing=True, statuses=(422,))
    if first is None or first.status == 422:
        if api.get(repo, missing=True) is None:
            raise NotFoundError(f"github: unknown repository {repository!r}",
                                remedy="check --repository (owner/repo), --base-url, and that "
                                       "the token can see the repository")
        return []
    if not isinstance(first.body, list):
        raise ProviderError(f"github: {path} did not answer a list")
    pulls = list(first.body)
    following = next_link(first.headers.get("Link", ""))
    if following is not None:
        pulls.extend(api.link_pages(following))
    return [pull["number"] for pull in pulls]


def get(api: Api, repository: str, number: int) -> Record:
    """Pull request ``number`` with every review and every commit."""
    repo = _repo(repository)
    pull = api.get(f"{repo}/pulls/{number}", missing=True)
    if pull is None:
        if api.get(repo, missing=True) is None:
            raise NotFoundError(f"github: unknown repository {repository!r}",
                                remedy="check --repository (owner/repo) and --base-url")
        raise NotFoundError(f"github: {repository} has no pull request #{number}",
                            remedy="check --pr")
    names: dict[str, str | None] = {}
    reviews = [_review(api, item, names)
               for item in api.link_pages(f"{repo}/pulls/{number}/reviews", _LIST)
               if item.get("state") != "PENDING"]
    head, base = pull.get("head") or {}, pull.get("base") or {}
    if pull.get("merged_at") or pull.get("merged") is True:
        state = "merged"
    elif pull.get("state") == "open":
        state = "draft" if pull.get("draft") else "open"
    else:
        state = "closed"
    return shape.pull_request(
        provider="github", url=pull.get("html_url"), number=pull.get("number", number),
        title=pull.get("title"), state=state, author=_person(api, pull.get("user"), names),
        created_at=pull.get("created_at"), merged_at=pull.get("merged_at"),
        head=shape.ref(name=head.get("ref"), sha=head.get("sha")),
        base=shape.ref(name=base.get("ref"), sha=base.get("sha")),
        merge_commit=pull.get("merge_commit_sha"), reviews=reviews,
        commits=[_commit(item) for item in _commits(api, repo, pull)])


def _repo(repository: str) -> str:
    owner, _, name = repository.strip().partition("/")
    if not owner or not name or "/" in name:
        raise UsageError(f"--repository {repository!r} is not owner/repo")
    return f"/repos/{quote(owner, safe='')}/{quote(name.removesuffix('.git'), safe='')}"


def _commits(api: Api, repo: str, pull: Record) -> list[Any]:
    """Every commit of ``pull``: the pull request's own list, or, past the 250 it stops at,
    the comparison of its base and head, paged until it has them all."""
    number, total = pull.get("number"), pull.get("commits")
    items = list(api.link_pages(f"{repo}/pulls/{number}/commits", _LIST))
    if not isinstance(total, int) or len(items) >= total:
        return items
    base, head = (pull.get("base") or {}).get("sha"), (pull.get("head") or {}).get("sha")
    path = f"{repo}/compare/{quote(str(base), safe='')}...{quote(str(head), safe='')}"
    got, items, listed = len(items), [], None
    for page in range(1, MAX_PAGES + 1):
        body = api.get(path, {**_LIST, "page": page})
        batch = body.get("commits") if isinstance(body, dict) else None
        if not isinstance(batch, list):
            raise ProviderError(f"github: {path} did not answer a comparison with commits")
        if page == 1:
            listed = body.get("total_commits")
        items.extend(batch)
        if listed != total or len(batch) < PER_PAGE or len(items) >= total:
            break
    if listed != total or len(items) != total:
        raise ProviderError(
            f"github: pull request #{number} has {total} commits; its own list gives {got} "
            f"and the comparison of its base and head {len(items)} of {listed}: refusing to "
            "record an incomplete list", remedy="rerun the job once the branch is settled")
    return items


def _review(api: Api, item: Record, names: dict[str, str | None]) -> Record:
    state = _REVIEW_STATES.get(item.get("state") or "")
    if state is None:
        raise ProviderError(f"github: review {item.get('id')} has the state "
                            f"{item.get('state')!r}, which affidavit does not know")
    return shape.review(reviewer=_person(api, item.get("user"), names), state=state,
                        submitted_at=item.get("submitted_at"), commit=item.get("commit_id"))


def _person(api: Api, user: Any, names: dict[str, str | None]) -> Record | None:
    """An account with its display name (one ``/users`` call per login), None when deleted."""
    login = user.get("login") if isinstance(user, dict) else None
    if not login or login == _GHOST:
        return None
    if login not in names:
        profile = api.get(f"/users/{quote(login, safe='')}", missing=True)
        names[login] = profile.get("name") if isinstance(profile, dict) else None
    return shape.person(login=login, name=names[login], type=user.get("type"))


def _commit(item: Record) -> Record:
    detail = item.get("commit") or {}
    author = detail.get("author") or {}
    account = item.get("author") or {}
    login = account.get("login") if isinstance(account, dict) else None
    verification = detail.get("verification") or {}
    verified = verification.get("verified")
    return shape.commit(
        sha=item["sha"], author_name=author.get("name"), author_email=author.get("email"),
        author_login=None if login == _GHOST else login, authored_at=author.get("date"),
        message=detail.get("message"), verified=verified if isinstance(verified, bool) else None,
        signature_state=verification.get("reason"))
