"""Jira issues named by a commit: keys found in text, each looked up through Jira's REST API.

Keys. A key is a project key, a hyphen and a number (``ABC-123``); :data:`DEFAULT_PATTERN` is
that shape, and ``--issue-pattern`` may give another regular expression. A match must not
follow a letter or a digit (``XABC-1`` holds no key ``ABC-1``), is upper-cased (Jira's keys are
upper case; it finds ``abc-1`` as ``ABC-1`` too) and must then have Jira's key shape, whatever
the pattern: anything else is a usage error naming the pattern, never a lookup of a path. Keys
are kept in the order first found, each once, with every place it was found in.

Lookups (one ``GET`` per key, through :class:`~affidavit.collect.pullrequests.http.Api`, which
retries 429, 5xx, timeouts and lost connections with backoff honouring ``Retry-After``):

- Cloud, REST API 3: ``/rest/api/3/issue/{key}?fields=summary,status,issuetype``, with HTTP
  basic auth of the account's e-mail and an API token;
- Data Center / Server, REST API 2: ``/rest/api/2/issue/{key}`` (same query), with a personal
  access token as ``Authorization: Bearer`` (or basic auth of a username and password).

:func:`api_version` picks 3 for Atlassian's Cloud hosts (``*.atlassian.net``, ``*.jira.com``,
``api.atlassian.com``) and 2 for any other host, unless the caller says which. The two answer
the same JSON for these fields: ``key``, ``id``, ``fields.summary``, ``fields.status.name``,
``fields.status.statusCategory.key`` (``new``, ``indeterminate``, ``done``) and
``fields.issuetype.name``. A moved issue answers under its new key, recorded as ``jira_key``.

Answers:

- 404 with Jira's error body (``errorMessages``) is "not found", recorded for that key, not an
  error. Jira answers the same 404 for an issue the caller may not see, and Cloud takes a
  wrong API token for an anonymous caller, so the first 404 of a run with credentials is
  followed by one ``GET /rest/api/N/myself``: a 401 there is the credentials' fault (exit 3),
  not a missing issue. A 404 without Jira's error body means the base URL is not Jira's
  (exit 2, naming ``--jira-base-url``).
- 401 and 403 are the credentials' fault: a :class:`~affidavit.errors.ProviderError` (exit 3)
  naming the flags to fix. Nothing is recorded.

Credentials go in a header built here and nowhere else: never in a URL, a record or a message.
"""

from __future__ import annotations

import re
import time

from affidavit.errors import ProviderError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

    from affidavit.collect.pullrequests.http import Answer, Api

__all__ = ["DEFAULT_PATTERN", "API_VERSIONS", "MAX_ISSUES", "Credentials", "key_pattern",
           "find_keys", "check_key", "check_projects", "api_version", "connect", "look_up"]

DEFAULT_PATTERN = r"[A-Z][A-Z0-9_]+-[0-9]+"
"""Jira's key shape: a project key (a letter, then letters, digits or ``_``), ``-``, a number."""
API_VERSIONS = ("2", "3")
MAX_ISSUES = 100
"""Keys one attestation looks up: a message naming more is a changelog, not a reference."""
FIELDS = "summary,status,issuetype"

_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[0-9]+$")
_PROJECT = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SECRET = re.compile(r"^[\x21-\x7e]+$")
_CLOUD_HOSTS = (".atlassian.net", ".jira.com")
_WORDS = 300


class Credentials:
    """How to sign in: basic (``username`` + ``api_token``), bearer (``pat``) or anonymous."""

    __slots__ = ("username", "api_token", "pat")

    def __init__(self, *, username: str | None = None, api_token: str | None = None,
                 pat: str | None = None) -> None:
        if pat is not None and (username is not None or api_token is not None):
            raise UsageError("--jira-pat is a Data Center personal access token, sent alone: "
                             "leave out --jira-username and --jira-api-token with it")
        if api_token is not None and username is None:
            raise UsageError("--jira-api-token needs --jira-username (on Cloud, the account's "
                             "e-mail address)",
                             remedy="a Data Center personal access token goes in --jira-pat")
        if username is not None and api_token is None:
            raise UsageError("--jira-username needs --jira-api-token (or the password on Data "
                             "Center)")
        for flag, value in (("--jira-api-token", api_token), ("--jira-pat", pat)):
            if value is not None and not _SECRET.match(value):
                # never echoed: a header requests refuses would put the value in the message
                raise UsageError(f"{flag}: the token contains spaces or control characters")
        if username is not None and (":" in username or not username.isprintable()):
            raise UsageError("--jira-username: a name with ':' or control characters cannot "
                             "be sent by HTTP basic auth")
        self.username, self.api_token, self.pat = username, api_token, pat

    @property
    def kind(self) -> str:
        """``basic``, ``bearer`` or ``anonymous``: what the predicate records of them."""
        if self.pat is not None:
            return "bearer"
        return "basic" if self.username is not None else "anonymous"

    def header(self) -> dict[str, str]:
        if self.pat is not None:
            return {"Authorization": f"Bearer {self.pat}"}
        if self.username is not None and self.api_token is not None:
            import base64

            pair = f"{self.username}:{self.api_token}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        return {}

    def remedy(self) -> str:
        """What to fix when Jira refuses these credentials, naming the flags."""
        if self.pat is not None:
            return ("check --jira-pat (AFFIDAVIT_JIRA_PAT): a Data Center personal access "
                    "token of an account that may browse the project; on Cloud use "
                    "--jira-username with --jira-api-token instead")
        if self.username is not None:
            return ("check --jira-username and --jira-api-token (AFFIDAVIT_JIRA_USERNAME, "
                    "AFFIDAVIT_JIRA_API_TOKEN): on Cloud the account's e-mail and an API token "
                    "that has not expired; on Data Center a username and password, or "
                    "--jira-pat")
        return ("this Jira needs credentials: --jira-username with --jira-api-token (Cloud) "
                "or --jira-pat (Data Center)")


def key_pattern(pattern: str | None) -> re.Pattern[str]:
    """``pattern`` (default :data:`DEFAULT_PATTERN`) compiled; a usage error naming
    ``--issue-pattern`` when it cannot find keys."""
    text = DEFAULT_PATTERN if pattern is None else pattern
    try:
        compiled = re.compile(text)
    except re.error as exc:
        raise UsageError(f"--issue-pattern {text!r} is not a regular expression: {exc}"
                         ) from None
    if compiled.fullmatch(""):
        raise UsageError(f"--issue-pattern {text!r} matches the empty string")
    return compiled


def check_key(key: str, what: str) -> str:
    """``key`` upper-cased, when it has Jira's key shape; a usage error naming ``what``."""
    upper = key.strip().upper()
    if not _KEY.match(upper):
        raise UsageError(f"{what}: {key!r} is not a Jira issue key (PROJECT-NUMBER, e.g. "
                         "ABC-123)")
    return upper


def check_projects(projects: Iterable[str] | None) -> tuple[str, ...] | None:
    """``--jira-project`` keys, upper-cased and each once; None when not given."""
    if projects is None:
        return None
    out: list[str] = []
    for project in projects:
        upper = project.strip().upper()
        if not _PROJECT.match(upper):
            raise UsageError(f"--jira-project: {project!r} is not a Jira project key")
        if upper not in out:
            out.append(upper)
    return tuple(out)


def find_keys(text: str, pattern: re.Pattern[str],
              projects: Sequence[str] | None = None) -> list[str]:
    """The issue keys in ``text``, in order, each once; only those of ``projects`` if given."""
    found: list[str] = []
    for match in pattern.finditer(text):
        start = match.start()
        if not match.group(0) or (start and text[start - 1].isascii()
                                  and text[start - 1].isalnum()):
            continue  # a match never follows a letter or digit: XABC-1 names no ABC-1
        key = check_key(match.group(0), "--issue-pattern matched")
        if projects is not None and key.rsplit("-", 1)[0] not in projects:
            continue
        if key not in found:
            found.append(key)
    return found


def api_version(base_url: str, asked: str | None) -> str:
    """``asked`` (``2`` or ``3``), else 3 for an Atlassian Cloud host and 2 for any other."""
    if asked is not None:
        if asked not in API_VERSIONS:
            raise UsageError(f"--jira-api {asked!r} is not one of {', '.join(API_VERSIONS)}")
        return asked
    from urllib.parse import urlsplit

    host = (urlsplit(base_url).hostname or "").lower()
    cloud = host.endswith(_CLOUD_HOSTS) or host == "api.atlassian.com"
    return "3" if cloud else "2"


def connect(base_url: str, credentials: Credentials, *,
            sleep: Callable[[float], None] = time.sleep) -> Api:
    """The REST API of the Jira at ``base_url`` (its context path included, e.g.
    ``https://host/jira``), signed in with ``credentials``."""
    from affidavit.collect.pullrequests.http import Api
    from affidavit.web import checked_url

    url = checked_url(base_url, "--jira-base-url",
                      token_hint="give credentials in --jira-api-token or --jira-pat")
    return Api("Jira", url, credentials.header(), sleep=sleep)


def look_up(api: Api, version: str, keys: Sequence[str],
            credentials: Credentials) -> list[dict[str, Any]]:
    """What Jira says of each key, in order: found (summary, status, type) or not found."""
    if len(keys) > MAX_ISSUES:
        raise UsageError(f"{len(keys)} Jira issue keys to look up, more than {MAX_ISSUES}",
                         remedy="narrow them with --jira-project or --issue-pattern, or name "
                                "them with --issue")
    checked = False
    out = []
    for key in keys:
        issue = _issue(api, version, key, credentials)
        if not issue["found"] and not checked and credentials.kind != "anonymous":
            _signed_in(api, version, credentials)
            checked = True
        out.append(issue)
    return out


def _issue(api: Api, version: str, key: str, credentials: Credentials) -> dict[str, Any]:
    from urllib.parse import quote

    path = f"/rest/api/{version}/issue/{quote(key, safe='')}"
    answer = api.request("GET", path, params={"fields": FIELDS}, statuses=(401, 403, 404))
    assert answer is not None
    if answer.status in (401, 403):
        raise _refused(answer, path, credentials)
    if answer.status == 404:
        said = _errors(answer.body)
        if said is None:
            raise UsageError(f"--jira-base-url {api.base_url}: {path} answered 404 without "
                             "Jira's error body: this is not the base URL of a Jira",
                             remedy="give Jira's own root, with its context path if it has one "
                                    "(https://HOST/jira)")
        return _record(key, None, api.base_url, said or "not found")
    body = answer.body
    if not isinstance(body, dict) or not isinstance(body.get("fields"), dict) or not isinstance(
            body.get("key"), str):
        raise ProviderError(f"Jira: {path} did not answer an issue (no key and fields)")
    return _record(key, body, api.base_url, None)


def _signed_in(api: Api, version: str, credentials: Credentials) -> None:
    """Refuse credentials Jira took for an anonymous caller (Cloud answers a wrong API token's
    issue lookups with the 404 of an issue it may not see)."""
    path = f"/rest/api/{version}/myself"
    answer = api.request("GET", path, statuses=(401, 403, 404))
    assert answer is not None
    if answer.status in (401, 403):
        raise _refused(answer, path, credentials)


def _refused(answer: Answer, path: str, credentials: Credentials) -> ProviderError:
    from affidavit.collect.pullrequests.http import provider_words

    return ProviderError(f"Jira: the credentials ({credentials.kind}) were refused for {path} "
                         f"(HTTP {answer.status}){provider_words(answer.body)}",
                         remedy=credentials.remedy())


def _errors(body: Any) -> str | None:
    """Jira's words in an error body (``{"errorMessages": [...], "errors": {...}}``): ``""``
    when it says none, None when the body is not Jira's."""
    if not isinstance(body, dict) or not isinstance(body.get("errorMessages"), list):
        return None
    words = [str(m) for m in body["errorMessages"] if m]
    errors = body.get("errors")
    if isinstance(errors, dict):
        words += [str(v) for v in errors.values() if v]
    return " ".join("; ".join(words).split())[:_WORDS]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _record(key: str, body: dict[str, Any] | None, base_url: str,
            said: str | None) -> dict[str, Any]:
    """One issue as the predicate records it; every field present, null when not known."""
    if body is None:
        return {"key": key, "found": False, "jira_key": None, "id": None, "url": None,
                "summary": None, "status": None, "issue_type": None, "jira_message": said}
    fields = body["fields"]
    status = fields.get("status")
    category = status.get("statusCategory") if isinstance(status, dict) else None
    kind = fields.get("issuetype")
    jira_key = str(body["key"])
    return {
        "key": key, "found": True, "jira_key": jira_key, "id": _text(body.get("id")),
        "url": f"{base_url}/browse/{jira_key}",
        "summary": _text(fields.get("summary")),
        "status": None if not isinstance(status, dict) else {
            "name": _text(status.get("name")),
            "category": _text(category.get("key")) if isinstance(category, dict) else None},
        "issue_type": _text(kind.get("name")) if isinstance(kind, dict) else None,
        "jira_message": None,
    }
