"""Bitbucket Cloud and Bitbucket Data Center (and Server) pull requests, through their REST APIs.

Two APIs answer to one provider name; the base URL says which. One ending in ``/2.0`` is
Bitbucket Cloud: ``https://api.bitbucket.org/2.0``, the default, which ``https://bitbucket.org``
and ``https://api.bitbucket.org`` are taken for. Any other is the root of a Data Center instance
(``https://HOST`` or ``https://HOST/CONTEXT``), whose REST API is below it at ``/rest/api/1.0``
(appended; a base URL that already ends in ``/rest/api/1.0`` or ``/rest/api/latest`` is taken
for that root).
``--repository`` is ``workspace/repo_slug`` on Cloud and ``PROJECT/repo_slug`` on Data Center
(``~user/repo_slug`` for a personal repository). A token alone goes in ``Authorization:
Bearer``: Cloud repository, project and workspace access tokens
(https://support.atlassian.com/bitbucket-cloud/docs/using-access-tokens/), Data Center HTTP access
tokens (https://confluence.atlassian.com/bitbucketserver/http-access-tokens-939515499.html). With
``--username`` it is HTTP basic auth: Cloud app passwords and API tokens (username, or the
Atlassian account's e-mail for an API token), Data Center username and password.

Bitbucket keeps no list of reviews on either side. What it does keep, and what each review is
read from: an activity log with dated approvals, requests for changes and updates (each update
naming the head it left), and each participant's current word. A review is an approval or a
request for changes at its time, with the head the pull request had just before it: a push at
the very same moment counts as after it, so the older head, never a false approval of the new
one. Where the participant's current word differs from the last one the log has for that
account, the current word follows the dated reviews: an approval the log lacks, a request for
changes it lacks, or ``dismissed`` for one that no longer stands (withdrawn, or reset by a
push, which leaves nothing in the log). Comments are not reviews and are left out.

Bitbucket Cloud (https://developer.atlassian.com/cloud/bitbucket/rest/):

- ``GET /repositories/{workspace}/{repo_slug}/commit/{sha}/pullrequests`` lists the pull requests
  a commit is part of, from Bitbucket's own commit links (https://developer.atlassian.com/cloud/
  bitbucket/rest/api-group-pullrequests/#api-repositories-workspace-repo-slug-commit-commit-
  pullrequests-get). While Bitbucket is still indexing the repository's pull requests it answers
  202: None, asked again by the poller. A 404 is "the repository does not exist, or pull request
  commit links have not yet been indexed": one ``GET /repositories/{workspace}/{repo_slug}``
  (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/#api-
  repositories-workspace-repo-slug-get) tells an unknown repository (exit 2) from links not
  indexed yet (None). Bitbucket indexes them once the workspace has the Pull Request Commit
  Links app, which it installs when anyone clicks "Go to pull request" on a commit's page; until
  then every lookup is "still indexing" and, after ``--max-wait``, no pull request; ``--pr``
  reads one directly.
- ``GET …/pullrequests/{id}`` is the pull request (…#api-repositories-workspace-repo-slug-
  pullrequests-pull-request-id-get): ``OPEN`` is open, or draft when ``draft``; ``MERGED``
  merged; ``DECLINED`` and ``SUPERSEDED`` closed. ``participants`` carry each account's current
  word (``approved``, ``state`` ``approved``/``changes_requested``) and, for an approver,
  ``participated_on``, the time of the approval: an approval only the participants show is
  dated by it and given the head at that time.
- ``GET …/pullrequests/{id}/commits`` (…#api-repositories-workspace-repo-slug-pullrequests-pull-
  request-id-commits-get) lists the commits newest first; they are recorded oldest first, the
  author's name and e-mail from ``author.raw`` (``Name <e-mail>``), their account from
  ``author.user``. Cloud says nothing of signatures: ``verified`` and its state are None.
- ``GET …/pullrequests/{id}/activity`` (…#api-repositories-workspace-repo-slug-pullrequests-pull-
  request-id-activity-get) is the log, newest first: ``approval`` and ``changes_request``
  (``date``, ``user``), ``update`` (a snapshot at each push, edit and state change, with
  ``source.commit.hash`` and ``date``), ``comment``. The first ``update`` in state ``MERGED``
  is the merge time: the pull request itself has none.

Cloud abbreviates the hashes of a pull request's source, destination and merge commit, and of
its updates, to 12 characters. They are resolved to full SHAs, so that the judge compares like
with like: against the pull request's own commits first, else with one ``GET /repositories/
{workspace}/{repo_slug}/commit/{hash}`` per distinct hash (https://developer.atlassian.com/cloud/
bitbucket/rest/api-group-commits/#api-repositories-workspace-repo-slug-commit-commit-get); a
hash Bitbucket no longer knows (a head force-pushed away) is recorded as given. ``merge_commit``
is therefore the merge commit's full SHA.

Cloud accounts: ``login`` is the ``account_id``, the only name Cloud gives that is unique and
stable (usernames left its API in 2019, https://developer.atlassian.com/cloud/bitbucket/bitbucket-
api-changes-gdpr/; a ``nickname`` is neither); ``name`` the ``display_name``; the type ``user``
is ``User``, ``app_user`` (an access token's or an app's account) ``Bot``, ``team``
``Organization``. A deleted account is ``null`` or a "Former user" without an ``account_id``:
None. Lists are followed through ``next`` (https://developer.atlassian.com/cloud/bitbucket/rest/
intro/#pagination), 50 a page.

Bitbucket Data Center, REST API 1.0 (https://developer.atlassian.com/server/bitbucket/rest/):

- ``GET /rest/api/1.0/projects/{PROJECT}/repos/{slug}/commits/{sha}/pull-requests`` lists the
  pull requests that contain a commit ("Get pull requests containing commit", API group
  Repository), from the repository itself. An unknown commit and an unknown repository are
  both 404: one ``GET /rest/api/1.0/projects/{PROJECT}/repos/{slug}`` tells them apart.
- ``GET …/pull-requests/{id}`` ("Get pull request", API group Pull Requests): ``OPEN`` is open,
  or draft when ``draft`` (Data Center 8.18 and later); ``MERGED`` merged; ``DECLINED`` closed.
  ``fromRef``/``toRef`` name the branches and their full ``latestCommit``; ``reviewers`` and
  ``participants`` carry each account's current ``status`` (``APPROVED``, ``NEEDS_WORK``,
  ``UNAPPROVED``). The merge commit is ``properties.mergeCommit.id`` (as the merge event's payload
  shows it, https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html; None
  where an older version gives none); the merge time the ``MERGED`` activity's ``createdDate``,
  else ``closedDate``.
- ``GET …/pull-requests/{id}/commits`` ("Get pull request commits") lists the commits newest
  first; recorded oldest first. A commit's ``author`` is the Bitbucket account the commit is
  linked to (``name`` the username, ``displayName``, ``emailAddress``) or, when none, the git
  author's ``name`` and ``emailAddress``. No signatures either.
- ``GET …/pull-requests/{id}/activities`` ("Get activity"), newest first: ``APPROVED``;
  ``REVIEWED``, a reviewer's "needs work" (a request for changes); ``UNAPPROVED``, an approval or
  a "needs work" withdrawn (dismissed); ``RESCOPED``, a push, with the head before
  (``previousFromHash``) and after (``fromHash``); ``OPENED``, ``MERGED``, ``COMMENTED`` and the
  rest are not reviews. A pull request never rescoped has had one head, its current one.

Data Center accounts: ``login`` is the username (``name``), ``name`` the ``displayName``, the type
``NORMAL`` is ``User`` and ``SERVICE`` ``Bot``; an account that is ``null`` or names no username
is None. Times are epoch milliseconds, recorded as ISO 8601 UTC. Lists are paged through
``isLastPage``/``nextPageStart`` (https://developer.atlassian.com/server/bitbucket/rest/v906/
intro/#paging-params), 100 a page.

Errors are ``{"type": "error", "error": {"message": …}}`` on Cloud and ``{"errors": [{"message":
…}]}`` on Data Center; :func:`~affidavit.collect.pullrequests.http.provider_words` shows either.
Rate limits (Cloud's 429, https://support.atlassian.com/bitbucket-cloud/docs/api-request-limits/)
are waited out by :class:`~affidavit.collect.pullrequests.http.Api`.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from affidavit.collect.pullrequests import shape
from affidavit.collect.pullrequests.http import Api
from affidavit.errors import NotFoundError, ProviderError, UsageError
from affidavit.web import checked_url

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

    Record = dict[str, Any]
    Heads = list[tuple[Any, str | None]]  # (moment, head from then on), oldest first
    Current = list[tuple[Any, Any, str | None]]  # (account key, account, current word)

__all__ = ["DEFAULT_BASE_URL", "connect", "for_commit", "get"]

DEFAULT_BASE_URL = "https://api.bitbucket.org/2.0"
PAGELEN = 50
"""Cloud items a page (as the pager asks; Cloud's pull request lists give no more)."""
LIMIT = 100
"""Data Center items a page."""
_CLOUD_ROOT = "/2.0"
_CLOUD_HOSTS = ("api.bitbucket.org", "bitbucket.org", "www.bitbucket.org")
_SERVER_ROOT = "/rest/api/1.0"
_SERVER_ROOTS = ("/rest/api/1.0", "/rest/api/latest")
_CLOUD_STATES = {"OPEN": "open", "MERGED": "merged", "DECLINED": "closed",
                 "SUPERSEDED": "closed"}
_SERVER_STATES = {"OPEN": "open", "MERGED": "merged", "DECLINED": "closed"}
_CLOUD_TYPES = {"user": "User", "app_user": "Bot", "team": "Organization"}
_SERVER_TYPES = {"NORMAL": "User", "SERVICE": "Bot"}
_CLOUD_WORDS = (("approval", "approved"), ("changes_request", "changes_requested"))
_SERVER_WORDS = {"APPROVED": "approved", "REVIEWED": "changes_requested",
                 "UNAPPROVED": "dismissed"}
_SERVER_STATUS = {"APPROVED": "approved", "NEEDS_WORK": "changes_requested"}
_STANDING = ("approved", "changes_requested")
_FULL_SHA = 40
_RAW_AUTHOR = re.compile(r"^(.*?)\s*<([^<>]*)>\s*$")


def connect(base_url: str | None, token: str | None, username: str | None) -> Api:
    """The API at ``base_url``: Bitbucket Cloud by default, else a Data Center root (see the
    module docstring); without a token, public repositories only."""
    root = checked_url((base_url or DEFAULT_BASE_URL).strip(), "--base-url",
                       token_hint="give the token in --token or AFFIDAVIT_BITBUCKET_TOKEN")
    if urlsplit(root).hostname in _CLOUD_HOSTS and not root.endswith(_CLOUD_ROOT):
        root = DEFAULT_BASE_URL  # bitbucket.org's API is api.bitbucket.org/2.0
    if not root.endswith(_CLOUD_ROOT):
        for suffix in _SERVER_ROOTS:
            root = root.removesuffix(suffix)
        root += _SERVER_ROOT
    headers = {}
    if token and username:
        pair = base64.b64encode(f"{username}:{token}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {pair}"
    elif token:
        headers["Authorization"] = f"Bearer {token}"
    return Api("bitbucket", root, headers)


def for_commit(api: Api, repository: str, sha: str) -> list[int] | None:
    """IDs of the pull requests containing ``sha``; ``[]`` when there are none (yet), None
    while Bitbucket Cloud is still indexing its commit links."""
    if _cloud(api):
        return _cloud_for_commit(api, repository, sha)
    return _server_for_commit(api, repository, sha)


def get(api: Api, repository: str, number: int) -> Record:
    """Pull request ``number`` with every review and every commit."""
    if _cloud(api):
        return _cloud_get(api, repository, number)
    return _server_get(api, repository, number)


# -- Bitbucket Cloud -------------------------------------------------------------------------

def _cloud_for_commit(api: Api, repository: str, sha: str) -> list[int] | None:
    repo = _cloud_repo(repository)
    path = f"{repo}/commit/{_sha(sha)}/pullrequests"
    first = api.request("GET", path, params={"pagelen": PAGELEN}, missing=True)
    if first is None:
        _cloud_check(api, repo, repository)
        return None  # the repository is there: its commit links are not indexed (yet)
    if first.status == 202:
        return None
    body = _object(first.body, path)
    pulls = _list(body.get("values"), path)
    following = body.get("next")
    if isinstance(following, str) and following:
        pulls.extend(_cloud_pages(api, following))
    return [_number(pull, "id", path) for pull in _objects(pulls, path)]


def _cloud_get(api: Api, repository: str, number: int) -> Record:
    repo = _cloud_repo(repository)
    path = f"{repo}/pullrequests/{int(number)}"
    found = api.get(path, missing=True)
    if found is None:
        _cloud_check(api, repo, repository)
        raise NotFoundError(f"bitbucket: {repository} has no pull request #{number}",
                            remedy="check --pr")
    pull = _object(found, path)
    commits = _objects(api.bitbucket_pages(f"{path}/commits"), f"{path}/commits")
    activity = _objects(api.bitbucket_pages(f"{path}/activity"), f"{path}/activity")
    full = _resolver(api, repo, (item.get("hash") for item in commits))
    state = _CLOUD_STATES.get(str(pull.get("state")))
    if state is None:
        raise ProviderError(f"bitbucket: pull request #{number} has the state "
                            f"{pull.get('state')!r}, which affidavit does not know")
    if state == "open" and pull.get("draft") is True:
        state = "draft"
    heads, dated, merged_at = _cloud_log(activity, full, number)
    reviews = _cloud_reviews(pull, heads, dated, path)
    source, destination = _dict(pull.get("source")), _dict(pull.get("destination"))
    return shape.pull_request(
        provider="bitbucket", url=_dict(_dict(pull.get("links")).get("html")).get("href"),
        number=_number(pull, "id", path), title=pull.get("title"), state=state,
        author=_cloud_person(pull.get("author")), created_at=pull.get("created_on"),
        merged_at=merged_at if state == "merged" else None,
        head=shape.ref(name=_dict(source.get("branch")).get("name"), sha=full(_hash(source))),
        base=shape.ref(name=_dict(destination.get("branch")).get("name"),
                       sha=full(_hash(destination))),
        merge_commit=full(_dict(pull.get("merge_commit")).get("hash")), reviews=reviews,
        commits=[_cloud_commit(item, path) for item in reversed(commits)])


def _cloud_log(activity: list[Record], full: Callable[[Any], str | None], number: int
               ) -> tuple[Heads, list[tuple[datetime, Record, str]], Any]:
    """From the activity log: the heads, each from its update on; the approvals and requests
    for changes with their words; the merge time. Each in time order."""
    updates: list[tuple[datetime, Record]] = []
    dated: list[tuple[datetime, Record, str]] = []
    for item in reversed(activity):  # oldest first, so that equal times keep their order
        update = item.get("update")
        if isinstance(update, dict):
            updates.append((_moment(update.get("date"), number, "an update"), update))
        for kind, word in _CLOUD_WORDS:
            entry = item.get(kind)
            if isinstance(entry, dict):
                dated.append((_moment(entry.get("date"), number, f"a {kind}"), entry, word))
    updates.sort(key=lambda pair: pair[0])
    dated.sort(key=lambda triple: triple[0])
    heads: Heads = [(moment, full(_hash(update.get("source")))) for moment, update in updates]
    merged_at = next((update.get("date") for _, update in updates
                      if update.get("state") == "MERGED"), None)
    return heads, dated, merged_at


def _cloud_reviews(pull: Record, heads: Heads, dated: list[tuple[datetime, Record, str]],
                   where: str) -> list[Record]:
    """The dated reviews, then each participant's current word where it differs."""
    reviews: list[Record] = []
    last: dict[Any, str] = {}
    for moment, entry, word in dated:
        reviews.append(shape.review(reviewer=_cloud_person(entry.get("user")), state=word,
                                    submitted_at=entry.get("date"),
                                    commit=_head_before(heads, moment)))
        if (key := _cloud_key(entry.get("user"))) is not None:
            last[key] = word
    current: Current = []
    approved_on: dict[Any, Any] = {}
    for participant in _objects(_list(pull.get("participants") or [], where), where):
        user, said = participant.get("user"), participant.get("state")
        standing = ("approved" if participant.get("approved") is True or said == "approved"
                    else "changes_requested" if said == "changes_requested" else None)
        current.append((_cloud_key(user), user, standing))
        approved_on[_cloud_key(user)] = participant.get("participated_on")

    def now(user: Any, word: str) -> Record:
        """A participant's current word; an approval at its ``participated_on``."""
        when = approved_on.get(_cloud_key(user)) if word == "approved" else None
        moment = _parse(when)
        return shape.review(reviewer=_cloud_person(user), state=word,
                            submitted_at=when if moment is not None else None,
                            commit=_head_before(heads, moment) if moment is not None else None)

    return reviews + _current_words(last, current, now)


def _cloud_repo(repository: str) -> str:
    workspace, slug = _pair(repository, "workspace/repo_slug")
    return f"/repositories/{quote(workspace, safe='')}/{quote(slug, safe='')}"


def _cloud_check(api: Api, repo: str, repository: str) -> None:
    if api.get(repo, missing=True) is None:
        raise NotFoundError(f"bitbucket: unknown repository {repository!r}",
                            remedy="check --repository (workspace/repo_slug), --base-url, and "
                                   "that the token can see the repository")


def _cloud_pages(api: Api, following: str) -> Iterator[Any]:
    """The pages from ``following`` (a ``next`` link) on, its query given as parameters so that
    the pager's own ``pagelen`` does not repeat it."""
    parts = urlsplit(following)
    link = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return api.bitbucket_pages(link, dict(parse_qsl(parts.query)))


def _resolver(api: Api, repo: str, known: Iterable[Any]) -> Callable[[Any], str | None]:
    """Full SHAs for Cloud's abbreviated hashes (see the module docstring)."""
    shas = [sha for sha in known if isinstance(sha, str) and sha]
    asked: dict[str, str] = {}

    def full(value: Any) -> str | None:
        if not isinstance(value, str) or not value:
            return None
        if len(value) >= _FULL_SHA:
            return value
        matches = {sha for sha in shas if sha.startswith(value)}
        if len(matches) == 1:
            return matches.pop()
        if value not in asked:
            found = api.get(f"{repo}/commit/{quote(value, safe='')}", missing=True)
            sha = found.get("hash") if isinstance(found, dict) else None
            asked[value] = sha if isinstance(sha, str) and sha.startswith(value) else value
        return asked[value]

    return full


def _hash(side: Any) -> Any:
    """The commit hash of a pull request's ``source`` or ``destination``."""
    return _dict(_dict(side).get("commit")).get("hash")


def _cloud_key(user: Any) -> str | None:
    """An account's ``account_id``; None for a deleted account, which has none."""
    account = user.get("account_id") if isinstance(user, dict) else None
    return account if isinstance(account, str) and account else None


def _cloud_person(user: Any) -> Record | None:
    account = _cloud_key(user)
    if account is None:
        return None
    kind = user.get("type")
    return shape.person(login=account, name=user.get("display_name"),
                        type=_CLOUD_TYPES.get(kind, kind) if isinstance(kind, str) else None)


def _cloud_commit(item: Record, where: str) -> Record:
    sha = item.get("hash")
    if not isinstance(sha, str) or not sha:
        raise ProviderError(f"bitbucket: {where}/commits listed a commit without a hash")
    author = _dict(item.get("author"))
    raw = author.get("raw")
    name: str | None = raw if isinstance(raw, str) and raw else None
    email: str | None = None
    if isinstance(raw, str) and (match := _RAW_AUTHOR.match(raw.strip())):
        name, email = match.group(1) or None, match.group(2) or None
    account = _cloud_person(author.get("user"))
    return shape.commit(
        sha=sha, author_name=name, author_email=email,
        author_login=account["login"] if account else None, authored_at=item.get("date"),
        message=item.get("message"), verified=None, signature_state=None)


# -- Bitbucket Data Center -------------------------------------------------------------------

def _server_for_commit(api: Api, repository: str, sha: str) -> list[int]:
    repo = _server_repo(repository)
    path = f"{repo}/commits/{_sha(sha)}/pull-requests"
    first = api.request("GET", path, params={"limit": LIMIT}, missing=True)
    if first is None:
        _server_check(api, repo, repository)
        return []  # a commit Bitbucket does not know (yet)
    body = _object(first.body, path)
    pulls = _list(body.get("values"), path)
    if body.get("isLastPage") is False:
        start = body.get("nextPageStart")
        if not isinstance(start, int) or isinstance(start, bool):
            raise ProviderError(f"bitbucket: {path}: a page that is not the last names no "
                                "nextPageStart")
        pulls.extend(api.server_pages(path, {"start": start}))
    return [_number(pull, "id", path) for pull in _objects(pulls, path)]


def _server_get(api: Api, repository: str, number: int) -> Record:
    repo = _server_repo(repository)
    path = f"{repo}/pull-requests/{int(number)}"
    found = api.get(path, missing=True)
    if found is None:
        _server_check(api, repo, repository)
        raise NotFoundError(f"bitbucket: {repository} has no pull request #{number}",
                            remedy="check --pr")
    pull = _object(found, path)
    commits = _objects(api.server_pages(f"{path}/commits"), f"{path}/commits")
    activities = _objects(api.server_pages(f"{path}/activities"), f"{path}/activities")
    state = _SERVER_STATES.get(str(pull.get("state")))
    if state is None:
        raise ProviderError(f"bitbucket: pull request #{number} has the state "
                            f"{pull.get('state')!r}, which affidavit does not know")
    if state == "open" and pull.get("draft") is True:
        state = "draft"
    from_ref, to_ref = _dict(pull.get("fromRef")), _dict(pull.get("toRef"))
    timed = sorted(((_millis(item.get("createdDate"), number, item.get("action")),
                     item.get("id") if isinstance(item.get("id"), int) else 0, item)
                    for item in activities
                    if item.get("action") in (*_SERVER_WORDS, "RESCOPED", "MERGED")),
                   key=lambda triple: triple[:2])
    merged = next((item for _, _, item in timed if item.get("action") == "MERGED"), None)
    reviews = _server_reviews(pull, [(at, item) for at, _, item in timed], path)
    merge_commit = _dict(_dict(pull.get("properties")).get("mergeCommit")).get("id")
    merged_at = _iso((merged or {}).get("createdDate")) or _iso(pull.get("closedDate"))
    links = _dict(pull.get("links")).get("self")
    url = _dict(links[0]).get("href") if isinstance(links, list) and links else None
    return shape.pull_request(
        provider="bitbucket", url=url, number=_number(pull, "id", path),
        title=pull.get("title"), state=state, author=_server_person(
            _dict(pull.get("author")).get("user")), created_at=_iso(pull.get("createdDate")),
        merged_at=merged_at if state == "merged" else None,
        head=shape.ref(name=from_ref.get("displayId"), sha=_text(from_ref.get("latestCommit"))),
        base=shape.ref(name=to_ref.get("displayId"), sha=_text(to_ref.get("latestCommit"))),
        merge_commit=_text(merge_commit) if state == "merged" else None, reviews=reviews,
        commits=[_server_commit(item, path) for item in reversed(commits)])


def _server_reviews(pull: Record, timed: list[tuple[int, Record]], where: str
                    ) -> list[Record]:
    """The dated reviews, each with the head it saw, then each reviewer's and participant's
    current status where it differs. ``timed``: the activities that matter, in time order."""
    rescopes = [(at, item) for at, item in timed if item.get("action") == "RESCOPED"]
    heads: Heads = [(at, _text(item.get("fromHash"))) for at, item in rescopes]
    if rescopes:
        heads.insert(0, (-1, _text(rescopes[0][1].get("previousFromHash"))))
    else:  # never rescoped: its head now is the one it always had
        heads.append((-1, _text(_dict(pull.get("fromRef")).get("latestCommit"))))
    reviews: list[Record] = []
    last: dict[Any, str] = {}
    for at, item in timed:
        word = _SERVER_WORDS.get(str(item.get("action")))
        if word is None:
            continue
        reviews.append(shape.review(reviewer=_server_person(item.get("user")), state=word,
                                    submitted_at=_iso(at), commit=_head_before(heads, at)))
        if (key := _server_key(item.get("user"))) is not None:
            last[key] = word
    current: Current = []
    for field in ("reviewers", "participants"):
        for participant in _objects(_list(pull.get(field) or [], where), where):
            user = participant.get("user")
            current.append((_server_key(user), user,
                            _SERVER_STATUS.get(str(participant.get("status")))))
    return reviews + _current_words(last, current, lambda user, word: shape.review(
        reviewer=_server_person(user), state=word, submitted_at=None, commit=None))


def _server_repo(repository: str) -> str:
    project, slug = _pair(repository, "PROJECT/repo_slug")
    return f"/projects/{quote(project, safe='')}/repos/{quote(slug, safe='')}"


def _server_check(api: Api, repo: str, repository: str) -> None:
    if api.get(repo, missing=True) is None:
        raise NotFoundError(f"bitbucket: unknown repository {repository!r}",
                            remedy="check --repository (PROJECT/repo_slug), --base-url (the "
                                   "Data Center root), and that the token can see the "
                                   "repository")


def _server_key(user: Any) -> Any:
    if _server_person(user) is None:
        return None
    return ("id", user["id"]) if isinstance(user.get("id"), int) else user.get("name")


def _server_person(user: Any) -> Record | None:
    login = user.get("name") if isinstance(user, dict) else None
    if not isinstance(login, str) or not login:
        return None
    kind = user.get("type")
    return shape.person(login=login, name=user.get("displayName"),
                        type=_SERVER_TYPES.get(kind, kind) if isinstance(kind, str) else None)


def _server_commit(item: Record, where: str) -> Record:
    sha = item.get("id")
    if not isinstance(sha, str) or not sha:
        raise ProviderError(f"bitbucket: {where}/commits listed a commit without an id")
    author = _dict(item.get("author"))
    linked = _server_person(author) if ("slug" in author or "id" in author) else None
    return shape.commit(
        sha=sha, author_name=(linked or {}).get("name") or author.get("name"),
        author_email=author.get("emailAddress"),
        author_login=linked["login"] if linked else None,
        authored_at=_iso(item.get("authorTimestamp")), message=item.get("message"),
        verified=None, signature_state=None)


# -- both ------------------------------------------------------------------------------------

def _cloud(api: Api) -> bool:
    return api.base_url.endswith(_CLOUD_ROOT)


def _pair(repository: str, form: str) -> tuple[str, str]:
    parts = repository.strip().strip("/").split("/")
    if len(parts) != 2 or not all(part.strip() for part in parts):
        raise UsageError(f"--repository {repository!r} is not {form}")
    return parts[0], parts[1].removesuffix(".git")


def _sha(sha: str) -> str:
    if not sha.strip():
        raise UsageError("--commit is empty")
    return quote(sha.strip(), safe="")


def _current_words(last: dict[Any, str], current: Current,
                   undated: Callable[[Any, str], Record]) -> list[Record]:
    """The current word of each account where the log does not end on it (see the module
    docstring): an approval or a request for changes it lacks, or ``dismissed``."""
    out: list[Record] = []
    seen: set[Any] = set()
    for key, user, word in current:
        if key is None or key in seen:
            continue
        seen.add(key)
        said = last.get(key)
        if word is not None and said != word:
            out.append(undated(user, word))
        elif word is None and said in _STANDING:
            out.append(undated(user, "dismissed"))
    return out


def _head_before(heads: Heads, moment: Any) -> str | None:
    """The head the pull request had just before ``moment``: that of the last change strictly
    earlier; None before the first."""
    head = None
    for changed, sha in heads:
        if changed >= moment:
            break
        head = sha
    return head


def _parse(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment and not moment.tzinfo else moment


def _moment(value: Any, number: int, what: str) -> datetime:
    """A Cloud time; a review or update without one cannot be placed: exit 3."""
    moment = _parse(value)
    if moment is None:
        raise ProviderError(f"bitbucket: {what} in the activity of pull request #{number} has "
                            f"no time affidavit can read ({value!r})")
    return moment


def _millis(value: Any, number: int, action: Any) -> int:
    """A Data Center time (epoch milliseconds); an activity without one: exit 3."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProviderError(f"bitbucket: the {action} activity of pull request #{number} has "
                            f"no time affidavit can read ({value!r})")
    return value


def _iso(millis: Any) -> str | None:
    if isinstance(millis, bool) or not isinstance(millis, int):
        return None
    try:
        moment = datetime.fromtimestamp(millis / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> Record:
    return value if isinstance(value, dict) else {}


def _object(body: Any, where: str) -> Record:
    if not isinstance(body, dict):
        raise ProviderError(f"bitbucket: {where} did not answer an object")
    return body


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProviderError(f"bitbucket: {where} did not answer the list it should have")
    return list(value)


def _objects(items: Iterable[Any], where: str) -> list[Record]:
    out = list(items)
    if not all(isinstance(item, dict) for item in out):
        raise ProviderError(f"bitbucket: {where} listed something that is not an object")
    return out


def _number(item: Record, field: str, where: str) -> int:
    value = item.get(field)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ProviderError(f"bitbucket: {where} gave a pull request without a numeric {field!r}")
