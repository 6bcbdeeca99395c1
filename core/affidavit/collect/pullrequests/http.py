"""One provider's REST API over one ``requests`` session: timeouts, retries, every page.

The faults users of other tools hit are each a rule here:

- a list is never cut at its first page: every pager follows the provider's own "next" (Link
  headers, GitLab ``x-next-page``, Bitbucket ``next``, Bitbucket Data Center ``nextPageStart``,
  Azure DevOps continuation tokens) until the provider says there is no more, and refuses a
  pager that loops or never ends (exit 3, never a partial list);
- 429, 5xx, a lost connection and a timeout are retried with exponential backoff, waiting as
  long as ``Retry-After`` (or GitHub's ``x-ratelimit-reset`` on a spent rate limit) asks, up to
  a bound; after the last attempt the outage is exit 3 (:class:`ProviderError`), never "no
  pull request";
- 401 and 403 are the token's fault: exit 3 with the provider's own message, never "not found";
- 404 is the caller's to interpret (an unknown repository is exit 2; an unknown commit may just
  mean "no pull request").

Bodies are read with a bound (:data:`MAX_BODY`), so a hostile server cannot exhaust memory.
``AFFIDAVIT_HTTP_TIMEOUT`` (seconds, default 30) and ``AFFIDAVIT_HTTP_RETRIES`` (attempts,
default 5) are the same settings the remote ledger reads.
"""

from __future__ import annotations

import json
import time

from affidavit.errors import AffidavitError, NotFoundError, ProviderError
from affidavit.web import checked_url, env_number, retry_after, session_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from typing import Any

__all__ = ["Api", "Answer", "MAX_BODY", "MAX_PAGES", "MAX_WAIT", "next_link", "provider_words"]

MAX_BODY = 32 << 20
"""Bytes one answer may have: pages are 100 items of a few KiB each."""
MAX_PAGES = 1000
"""Pages one list may have (100,000 commits or reviews of one pull request at 100 a page)."""
MAX_WAIT = 60.0
"""Seconds one retry may wait, whatever ``Retry-After`` asks: a longer wait is an outage."""
_RETRIED = frozenset((429, 500, 502, 503, 504))


class Answer:
    """A response read in full (within :data:`MAX_BODY`): status, headers, parsed JSON."""

    def __init__(self, status: int, headers: Mapping[str, str], body: Any, url: str) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url


class Api:
    """The REST API of ``provider`` (a name for messages) at ``base_url``.

    ``headers`` carry the token; they are sent to ``base_url``'s host only (requests drops
    ``Authorization`` on a redirect to another host). ``sleep`` is how a retry waits."""

    def __init__(self, provider: str, base_url: str, headers: Mapping[str, str], *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.provider = provider
        self.base_url = checked_url(base_url, "--base-url",
                                    token_hint=f"give the token in --token or "
                                               f"AFFIDAVIT_{provider.upper()}_TOKEN")
        self.session = session_for(self.base_url)
        self.session.headers.update({"Accept": "application/json",
                                     "User-Agent": "affidavit", **headers})
        self.timeout = env_number("AFFIDAVIT_HTTP_TIMEOUT", 30.0)
        self.attempts = max(int(env_number("AFFIDAVIT_HTTP_RETRIES", 5.0)), 1)
        self.sleep = sleep
        self.waited = 0.0  # seconds spent in retries, for the output to say

    def url(self, path: str) -> str:
        """``path`` below the base URL, or ``path`` itself when it is a full URL (a "next"
        link), which must stay on the base URL's host and scheme."""
        if not path.startswith(("http://", "https://")):
            return self.base_url + path
        if _origin(path) != _origin(self.base_url):
            raise ProviderError(f"{self.provider}: a page link leads to another host "
                                f"({_origin(path)}), not {_origin(self.base_url)}")
        return path

    # -- one request -----------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json_body: Any = None, missing: bool = False,
                statuses: tuple[int, ...] = ()) -> Answer | None:
        """One call, retried as the module says. ``missing``: a 404 is None instead of a
        :class:`NotFoundError`. ``statuses``: other non-2xx codes the caller reads itself."""
        import requests

        url = self.url(path)
        last = ""
        for attempt in range(self.attempts):
            try:
                response = self.session.request(method, url, params=params, json=json_body,
                                                timeout=self.timeout, stream=True)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = "timed out" if isinstance(exc, requests.Timeout) else "connection error"
                self._backoff(attempt, None)
                continue
            except requests.RequestException as exc:
                raise ProviderError(f"{self.provider}: {url}: {exc}") from None
            try:
                status = response.status_code
                wait = self._retry_after(response)
                if status in _RETRIED or wait is not None:
                    last = f"HTTP {status}{provider_words(self._body(response, url))}"
                    self._backoff(attempt, wait)
                    continue
                body = self._body(response, url)
                answer = Answer(status, response.headers, body, response.url)
            finally:
                response.close()
            if status < 300 or status in statuses:
                return answer
            if status == 404 and missing:
                return None
            raise self._refused(answer)
        raise ProviderError(f"{self.provider}: {_path(url)} failed after {self.attempts} "
                            f"attempts ({last})",
                            remedy="the provider may be down; rerun the job later")

    def get(self, path: str, params: Mapping[str, Any] | None = None, *,
            missing: bool = False) -> Any:
        """The JSON of one GET, or None for a 404 when ``missing``."""
        answer = self.request("GET", path, params=params, missing=missing)
        return None if answer is None else answer.body

    def _backoff(self, attempt: int, asked: float | None) -> None:
        if attempt + 1 >= self.attempts:
            return
        wait = asked if asked is not None else min(0.5 * 2 ** attempt, MAX_WAIT)
        if wait > MAX_WAIT:
            raise ProviderError(f"{self.provider}: rate limited for {wait:.0f} s, longer than "
                                f"{MAX_WAIT:.0f} s", remedy="rerun the job later")
        self.waited += wait
        self.sleep(wait)

    def _retry_after(self, response: Any) -> float | None:
        """Seconds the provider asks to wait before a retry, or None when it asks nothing.

        ``Retry-After`` on any status; GitHub's spent primary rate limit is a 403 (or 429)
        with ``x-ratelimit-remaining: 0`` and the reset time in ``x-ratelimit-reset``."""
        value = response.headers.get("Retry-After")
        if value is not None and (response.status_code in _RETRIED
                                  or response.status_code == 403):
            return retry_after(value)
        if (response.status_code in (403, 429)
                and response.headers.get("x-ratelimit-remaining") == "0"):
            reset = response.headers.get("x-ratelimit-reset", "")
            if reset.isdigit():
                return max(float(reset) - time.time(), 0.0) + 1.0
        return None

    def _body(self, response: Any, url: str) -> Any:
        """The JSON body, read within :data:`MAX_BODY`; None when empty; the text when the
        status is an error and the body is not JSON (a proxy's HTML page)."""
        raw = response.raw.read(MAX_BODY + 1, decode_content=True)
        if len(raw) > MAX_BODY:
            raise ProviderError(f"{self.provider}: {_path(url)} answered more than "
                                f"{MAX_BODY >> 20} MiB")
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            if response.status_code >= 400:
                return raw[:200].decode("utf-8", "replace")
            raise ProviderError(f"{self.provider}: {_path(url)} answered HTTP "
                                f"{response.status_code} with something that is not JSON"
                                ) from None

    def _refused(self, answer: Answer) -> AffidavitError:
        said = provider_words(answer.body)
        where = _path(answer.url)
        if answer.status in (401, 403):
            return ProviderError(
                f"{self.provider}: the token was refused for {where} (HTTP {answer.status})"
                f"{said}", remedy=f"check the token and its scopes (--token or "
                                  f"AFFIDAVIT_{self.provider.upper()}_TOKEN)")
        if answer.status == 404:
            return NotFoundError(f"{self.provider}: {where} was not found (HTTP 404){said}",
                                 remedy="check --repository and --base-url, and that the "
                                        "token can see the repository")
        if 400 <= answer.status < 500:
            return NotFoundError(f"{self.provider}: {where} was refused (HTTP {answer.status})"
                                 f"{said}")
        return ProviderError(f"{self.provider}: {where} answered HTTP {answer.status}{said}")

    # -- every page ------------------------------------------------------------------------

    def link_pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Items of a list paged by ``Link: <…>; rel="next"`` (GitHub; GitLab too)."""
        url: str | None = path
        query: Mapping[str, Any] | None = params
        for _ in self._bounded(path):
            if url is None:
                return
            answer = self.request("GET", url, params=query)
            assert answer is not None
            yield from _items(answer.body, None, self, url)
            url, query = next_link(answer.headers.get("Link", "")), None

    def gitlab_pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Items of a GitLab list: ``x-next-page`` names the next page, empty on the last."""
        query = {"per_page": 100, **(params or {})}
        for _ in self._bounded(path):
            answer = self.request("GET", path, params=query)
            assert answer is not None
            yield from _items(answer.body, None, self, path)
            following = (answer.headers.get("x-next-page") or "").strip()
            if not following:
                link = next_link(answer.headers.get("Link", ""))
                if link is None:
                    return
                path, query = link, {}
                continue
            query = {**query, "page": following}

    def bitbucket_pages(self, path: str,
                        params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Items of a Bitbucket Cloud list: ``values``, and ``next`` (a URL) until the last."""
        url: str | None = path
        query: Mapping[str, Any] | None = {"pagelen": 50, **(params or {})}
        for _ in self._bounded(path):
            if url is None:
                return
            answer = self.request("GET", url, params=query)
            assert answer is not None
            yield from _items(answer.body, "values", self, url)
            following = answer.body.get("next")
            url, query = (following if isinstance(following, str) and following else None), None

    def server_pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Items of a Bitbucket Data Center list: ``values``, ``isLastPage``, and the
        ``start`` of the next page in ``nextPageStart``."""
        query = {"limit": 100, **(params or {})}
        for _ in self._bounded(path):
            answer = self.request("GET", path, params=query)
            assert answer is not None
            yield from _items(answer.body, "values", self, path)
            if answer.body.get("isLastPage") is not False:
                return
            start = answer.body.get("nextPageStart")
            if not isinstance(start, int) or isinstance(start, bool):
                raise ProviderError(f"{self.provider}: {_path(self.url(path))}: a page that is "
                                    "not the last names no nextPageStart")
            query = {**query, "start": start}

    def azure_pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Items of an Azure DevOps list: ``value``, and ``x-ms-continuationtoken`` in the
        headers while there is more, sent back as ``continuationToken``."""
        query = dict(params or {})
        for _ in self._bounded(path):
            answer = self.request("GET", path, params=query)
            assert answer is not None
            yield from _items(answer.body, "value", self, path)
            token = answer.headers.get("x-ms-continuationtoken")
            if not token:
                return
            query = {**query, "continuationToken": token}

    def azure_skip_pages(self, path: str, params: Mapping[str, Any] | None = None,
                         top: int = 100) -> Iterator[Any]:
        """Items of an Azure DevOps list paged by ``$top``/``$skip`` (pull requests,
        reviewers' threads): a page shorter than ``$top`` is the last."""
        skip = 0
        for _ in self._bounded(path):
            answer = self.request("GET", path, params={**(params or {}), "$top": top,
                                                       "$skip": skip})
            assert answer is not None
            items = list(_items(answer.body, "value", self, path))
            yield from items
            if len(items) < top:
                return
            skip += len(items)

    def _bounded(self, path: str) -> Iterator[int]:
        yield from range(MAX_PAGES)
        raise ProviderError(f"{self.provider}: {_path(self.url(path))} has more than "
                            f"{MAX_PAGES} pages; refusing a list that may never end")

    def close(self) -> None:
        self.session.close()


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme.lower()}://{rest.split('/', 1)[0].lower()}"


def _path(url: str) -> str:
    """A URL as messages show it: without the query string, which may carry a page token."""
    return url.split("?", 1)[0]


def _items(body: Any, field: str | None, api: Api, url: str) -> Iterator[Any]:
    items = body if field is None else (body.get(field) if isinstance(body, dict) else None)
    if not isinstance(items, list):
        where = "a list" if field is None else f"an object with a {field!r} list"
        raise ProviderError(f"{api.provider}: {_path(api.url(url))} did not answer {where}")
    yield from items


def next_link(header: str) -> str | None:
    """The ``rel="next"`` target of an RFC 8288 Link header, or None."""
    for part in header.split(","):
        target, _, rest = part.partition(";")
        target = target.strip()
        if target.startswith("<") and target.endswith(">") and any(
                p.strip().replace(" ", "") in ('rel="next"', "rel=next")
                for p in rest.split(";")):
            return target[1:-1]
    return None


def provider_words(body: Any) -> str:
    """The provider's own words from an error body (each spells it differently), as
    ``: words``, or ``""``."""
    text: Any = None
    if isinstance(body, dict):
        error = body.get("error")
        errors = body.get("errors")
        jira = body.get("errorMessages")  # Jira: a list of strings, besides an errors object
        text = (body.get("message") or (error.get("message") if isinstance(error, dict)
                                        else error)
                or ((errors[0].get("message") or errors[0].get("msg"))  # msg: SonarQube
                    if isinstance(errors, list) and errors and isinstance(errors[0], dict)
                    else None)
                or body.get("error_description")
                or ("; ".join(str(m) for m in jira) if isinstance(jira, list) else None))
        if isinstance(text, (dict, list)):
            text = json.dumps(text)
    elif isinstance(body, str):
        text = body
    if not text:
        return ""
    words = " ".join(str(text).split())
    return f": {words[:300]}"
