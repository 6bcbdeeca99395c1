"""One registry's HTTP API: plain http only where allowed, retries, and the token dance.

A registry that wants credentials answers ``401`` with ``WWW-Authenticate: Bearer
realm="…",service="…",scope="…"`` (the Docker registry token specification; the OCI
distribution specification leaves authentication out): the client GETs a token from the
realm, with the service and scope as query parameters and Basic credentials when it has any,
reads ``token`` (or OAuth's ``access_token``) from the JSON answer and retries with
``Authorization: Bearer``.
A registry that challenges ``Basic`` gets the credentials directly. A second ``401`` after
that is the credentials' fault, exit 2 with the registry's words, like a ``403``.

Credentials are ``--registry-username``/``--registry-password`` when given, else the ``auth``
of the registry in the docker CLI's ``config.json`` (``$DOCKER_CONFIG``, else ``~/.docker``);
credential helpers (``credsStore``, ``credHelpers``) are not run. Credentials go to the token
service the challenge names (to the registry itself only when it challenges ``Basic``), and
never over plain http to another machine.

Plain http is for a registry on this machine (``localhost``, ``127.0.0.1``, ``[::1]``, as
``crane`` and ``docker`` treat it) and for the hosts listed in ``AFFIDAVIT_REGISTRY_INSECURE``
(comma-separated ``host[:port]``); every other registry is https. 429, 5xx, a lost connection
and a timeout are retried with exponential backoff (``Retry-After`` honoured, up to
:data:`MAX_WAIT`), ``AFFIDAVIT_HTTP_RETRIES`` attempts (default 5) of
``AFFIDAVIT_HTTP_TIMEOUT`` seconds each (default 30); after the last, exit 3.
"""

from __future__ import annotations

import json
import os
import time

from affidavit.collect.fingerprint.registry_auth import basic, docker_login, parse_challenge
from affidavit.errors import ProviderError, UsageError
from affidavit.web import LOOPBACK, env_number, retry_after, session_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from affidavit.collect.fingerprint.registry_auth import Credentials

__all__ = ["MAX_BODY", "MAX_WAIT", "Registry", "Reply", "registry_words"]

MAX_BODY = 4 << 20
"""Bytes a manifest or token answer may have (the distribution spec's manifest limit)."""
MAX_WAIT = 60.0
"""Seconds one retry may wait, whatever ``Retry-After`` asks: a longer wait is an outage."""
_RETRIED = frozenset((429, 500, 502, 503, 504))


class Reply:
    """One answer, read in full within :data:`MAX_BODY`."""

    __slots__ = ("status", "headers", "body", "url")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes, url: str) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url


class Registry:
    """The API of the registry at ``endpoint`` (``host[:port]``), for pulls of
    ``repository``. ``sleep`` is how a retry waits."""

    def __init__(self, endpoint: str, repository: str, *,
                 credentials: Credentials | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.endpoint = endpoint
        self.repository = repository
        self.base = f"{_scheme(endpoint)}://{endpoint}"
        self.credentials = credentials if credentials else docker_login(endpoint)
        self.timeout = env_number("AFFIDAVIT_HTTP_TIMEOUT", 30.0)
        self.attempts = max(int(env_number("AFFIDAVIT_HTTP_RETRIES", 5.0)), 1)
        self.sleep = sleep
        self.authorization: str | None = None
        self._sessions: dict[str, Any] = {}

    def request(self, method: str, path: str, headers: Mapping[str, str]) -> Reply:
        """``method path`` with ``headers``, authorized as the registry asks (once per
        registry: the token is kept for the next call)."""
        url = self.base + path
        reply = self._send(method, url, self._with_auth(headers))
        if reply.status != 401:
            return reply
        self.authorization = self._authorize(reply)
        reply = self._send(method, url, self._with_auth(headers))
        if reply.status == 401:
            raise UsageError(f"registry {self.endpoint}: {method} {path} was refused to "
                             f"{self._who()} (HTTP 401){registry_words(reply.body)}",
                             remedy=_CREDENTIALS_HINT)
        return reply

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()

    # -- authorization ---------------------------------------------------------------------

    def _with_auth(self, headers: Mapping[str, str]) -> dict[str, str]:
        sent = {"User-Agent": "affidavit", **headers}
        if self.authorization:
            sent["Authorization"] = self.authorization
        return sent

    def _who(self) -> str:
        return f"user {self.credentials[0]!r}" if self.credentials else "an anonymous client"

    def _authorize(self, reply: Reply) -> str:
        """The ``Authorization`` value that answers the challenge of a 401 ``reply``."""
        scheme, params = parse_challenge(reply.headers.get("WWW-Authenticate", ""))
        if scheme == "basic":
            if not self.credentials:
                raise UsageError(f"registry {self.endpoint} wants a user name and password "
                                 "(HTTP 401, Basic)", remedy=_CREDENTIALS_HINT)
            return "Basic " + basic(self.credentials)
        if scheme != "bearer" or not params.get("realm"):
            raise UsageError(f"registry {self.endpoint} refused the request (HTTP 401) without "
                             "a Bearer or Basic challenge it could be answered with",
                             remedy=_CREDENTIALS_HINT)
        realm = params["realm"]
        _check_realm(realm, self.endpoint)
        query = [(key, params[key]) for key in ("service",) if params.get(key)]
        scope = params.get("scope") or f"repository:{self.repository}:pull"
        query += [("scope", part) for part in scope.split(" ") if part]
        headers = {"User-Agent": "affidavit", "Accept": "application/json"}
        if self.credentials:
            headers["Authorization"] = "Basic " + basic(self.credentials)
        answer = self._send("GET", realm, headers, params=query)
        if answer.status in (401, 403):
            raise UsageError(f"registry {self.endpoint}: the token service {_origin(realm)} "
                             f"refused {self._who()} (HTTP {answer.status})"
                             f"{registry_words(answer.body)}", remedy=_CREDENTIALS_HINT)
        if answer.status != 200:
            raise ProviderError(f"registry {self.endpoint}: the token service "
                                f"{_origin(realm)} answered HTTP {answer.status}"
                                f"{registry_words(answer.body)}")
        try:
            body = json.loads(answer.body)
        except ValueError:
            body = None
        token = None
        if isinstance(body, dict):
            token = body.get("token") or body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ProviderError(f"registry {self.endpoint}: the token service "
                                f"{_origin(realm)} answered no token")
        return f"Bearer {token}"

    # -- one request, retried --------------------------------------------------------------

    def _session(self, url: str) -> Any:
        origin = _origin(url)
        if origin not in self._sessions:
            self._sessions[origin] = session_for(url)
        return self._sessions[origin]

    def _send(self, method: str, url: str, headers: Mapping[str, str],
              params: list[tuple[str, str]] | None = None) -> Reply:
        import requests

        last = ""
        for attempt in range(self.attempts):
            try:
                response = self._session(url).request(
                    method, url, headers=headers, params=params, timeout=self.timeout,
                    stream=True)
            except requests.Timeout:
                last = "timed out"
            except requests.ConnectionError as exc:
                last = _unreachable(exc)
            except requests.RequestException as exc:
                raise ProviderError(f"registry {self.endpoint}: {_origin(url)}: "
                                    f"{' '.join(str(exc).split())[:300]}") from None
            else:
                try:
                    body = _read(response, self.endpoint)
                    status, wait = response.status_code, None
                    if status in _RETRIED:
                        wait = retry_after(response.headers.get("Retry-After"))
                        last = f"HTTP {status}{registry_words(body)}"
                    else:
                        return Reply(status, response.headers, body, response.url)
                finally:
                    response.close()
                self._backoff(attempt, wait)
                continue
            self._backoff(attempt, None)
        raise ProviderError(f"registry {self.endpoint}: {method} {_path(url)} failed after "
                            f"{self.attempts} attempts ({last})",
                            remedy="check the registry's address and that it is up, then "
                                   "rerun the job")

    def _backoff(self, attempt: int, asked: float | None) -> None:
        if attempt + 1 >= self.attempts:
            return
        wait = asked if asked is not None else min(0.5 * 2 ** attempt, MAX_WAIT)
        if wait > MAX_WAIT:
            raise ProviderError(f"registry {self.endpoint}: rate limited for {wait:.0f} s, "
                                f"longer than {MAX_WAIT:.0f} s", remedy="rerun the job later")
        self.sleep(wait)


_CREDENTIALS_HINT = ("give --registry-username and --registry-password (or "
                     "AFFIDAVIT_REGISTRY_USERNAME/AFFIDAVIT_REGISTRY_PASSWORD), or docker login")


def registry_words(body: bytes) -> str:
    """The registry's own words from an error body (``{"errors": [{"code", "message"}]}``),
    as ``: CODE: words``, or ``""``."""
    try:
        parsed = json.loads(body) if body.strip() else None
    except ValueError:
        text = body[:200].decode("utf-8", "replace")
        return f": {' '.join(text.split())}" if text.strip() else ""
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        words = " ".join(str(first.get("message") or "").split())[:300]
        code = first.get("code")
        return f": {code}: {words}" if code and words else f": {code or words}"
    if isinstance(parsed, dict) and isinstance(parsed.get("details"), str):
        return f": {' '.join(parsed['details'].split())[:300]}"  # Docker Hub's token service
    return ""


def _read(response: Any, endpoint: str) -> bytes:
    raw = response.raw.read(MAX_BODY + 1, decode_content=True) or b""
    if len(raw) > MAX_BODY:
        raise ProviderError(f"registry {endpoint}: an answer is larger than "
                            f"{MAX_BODY >> 20} MiB")
    return bytes(raw)


def _unreachable(exc: BaseException) -> str:
    """Why a connection failed, in the socket's words when it has some."""
    seen: list[BaseException] = [exc]
    while seen:
        current = seen.pop(0)
        if isinstance(current, OSError) and current.strerror:
            return current.strerror.lower()
        seen += [a for a in current.args if isinstance(a, BaseException)]
        seen += [e for e in (current.__cause__, current.__context__) if e is not None]
        if len(seen) > 20:
            break
    return "connection error"


def _insecure() -> set[str]:
    raw = os.environ.get("AFFIDAVIT_REGISTRY_INSECURE", "")
    return {part.strip().lower() for part in raw.split(",") if part.strip()}


def _host(endpoint: str) -> str:
    if endpoint.startswith("["):
        return endpoint[1:].partition("]")[0]
    return endpoint.rpartition(":")[0] if ":" in endpoint else endpoint


def _scheme(endpoint: str) -> str:
    """``http`` for a registry on this machine or listed as insecure, else ``https``."""
    if _host(endpoint).lower() in LOOPBACK or endpoint.lower() in _insecure():
        return "http"
    return "https"


def _check_realm(realm: str, endpoint: str) -> None:
    """A token realm is https, or http on this machine or on a listed insecure host:
    credentials never cross the network in the clear."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(realm)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        host, port, parts = "", None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise ProviderError(f"registry {endpoint}: the token realm {realm!r} is not an http(s) "
                            "URL")
    listed = host if port is None else f"{host}:{port}"
    if parts.scheme == "http" and host not in LOOPBACK and listed not in _insecure():
        raise ProviderError(f"registry {endpoint}: the token realm {_origin(realm)} is plain "
                            "http on another machine",
                            remedy="list it in AFFIDAVIT_REGISTRY_INSECURE only if you trust "
                                   "the network")


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme.lower()}://{rest.split('/', 1)[0].split('?', 1)[0].lower()}"


def _path(url: str) -> str:
    """A URL as messages show it: without its query (a token request's scope)."""
    return url.split("?", 1)[0]
