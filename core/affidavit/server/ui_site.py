"""What every page of the web UI shares: who may read (:class:`Site`), the page a template
makes with its security headers, the 404 page and the status badges.

Who may read: a server without a token file is open, as its API is. With one, a visitor logs
in with a read token (``server/ui.py``'s form) kept in an HttpOnly session cookie and checked
against the token file on every request, so a revoked token stops working at once; the
token's organisation is the only ledger shown, so another organisation's names are not found
(404), as over the API. ``public_read`` lets anyone read the organisation ``default`` without
logging in.

Every answer carries a strict Content-Security-Policy (no script at all, styles and images
only from here), ``nosniff`` and ``no-referrer``.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from affidavit.errors import AffidavitError, IntegrityError, LedgerUnavailable, NotFoundError
from affidavit.server.charts import duration
from affidavit.server.gate import DEFAULT_ORG, ORG
from affidavit.server.tokens import TokenStore, allows

__all__ = ["Site", "page", "not_found", "status_badge", "badge", "CSP", "COOKIE", "HEADERS",
           "STATIC", "is_ui_path", "refused", "SecurityHeaders",
           "number", "PerThread", "READERS"]

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer"}
COOKIE = "affidavit_session"
_HERE = Path(__file__).resolve().parent
STATIC = _HERE / "static"
"""The stylesheet and icon the pages link to."""
_STATUS_CLASS = {"COMPLIANT": "ok", "NON_COMPLIANT": "bad"}
_BADGE = {"COMPLIANT": ("compliant", "#2e7d32"), "NON_COMPLIANT": ("non-compliant", "#c62828"),
          "INCOMPLETE": ("incomplete", "#757575"), "UNKNOWN": ("no policy", "#757575")}


def is_ui_path(path: str) -> bool:
    """Whether ``path`` is the UI's (it authenticates by its own cookie, not the API gate)."""
    return not path.startswith("/api/") and path not in ("/healthz", "/readyz")


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_HERE / "templates"),
                             autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["u"] = lambda value: quote(str(value), safe="")
    env.filters["status_class"] = lambda status: _STATUS_CLASS.get(status, "none")
    env.filters["sh"] = lambda value: shlex.quote(str(value))
    env.filters["duration"] = duration
    env.filters["utc"] = lambda moment: time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                      time.gmtime(float(moment)))
    return env


_ENV = _templates()


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    body = _ENV.get_template(template).render(
        request_path=request.url.path, signed_in=COOKIE in request.cookies, **context)
    return HTMLResponse(body, status_code=status, headers={**HEADERS,
                                                           "Cache-Control": "no-store"})


def number(value: str) -> int | None:
    """A page or snapshot number as a URL gives it (1 to 2**31 - 1, ASCII digits only), or
    None: ``str.isdigit`` also takes digits ``int`` cannot read (``²``) or reads as others."""
    if not 0 < len(value) <= 10 or not value.isascii() or not value.isdigit():
        return None
    found = int(value)
    return found if 0 < found < 1 << 31 else None


_SAID = 200
"""Characters of a refusal's message a page repeats: a name asked for is the visitor's text,
and a link could otherwise make any text of any length read as this site's own words."""


def _cut(message: str) -> str:
    return message if len(message) <= _SAID else message[:_SAID - 1] + "…"


def not_found(request: Request, message: str = "") -> HTMLResponse:
    """The UI's 404 page (also what ``create_app`` answers for an unknown UI path)."""
    return page(request, "error.html", 404, title="Not found",
                 message=_cut(message or f"nothing at {request.url.path}"))


_REFUSED = {400: "Bad request", 405: "Not allowed", 413: "Too large", 415: "Not accepted",
            421: "Not this host"}


def refused(request: Request, status: int, detail: str = "") -> HTMLResponse:
    """The UI's page for a refusal the router or a form parser made (an unknown path, a
    method a route does not take, a form of too many fields): a page with the UI's headers,
    never the API's JSON."""
    if status == 404:
        return not_found(request)
    return page(request, "error.html", status, title=_REFUSED.get(status, "Refused"),
                message=_cut(detail or f"{request.method} {request.url.path} is refused"))


class SecurityHeaders:
    """ASGI middleware: every answer on a UI path carries the UI's headers, whatever made it
    (a redirect the router adds for a trailing slash, a host refused, a refusal of the
    framework's own), where a route's answer already has them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not is_ui_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        wanted = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]

        async def headed(message: Any) -> None:
            if message["type"] == "http.response.start":
                have = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in wanted if k not in have]
                if b"cache-control" not in have:
                    extra.append((b"cache-control", b"no-store"))
                if extra:
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, headed)


def badge(label: str, colour: str) -> Response:
    width = 62 + 7 * len(label)
    body = _ENV.get_template("badge.svg").render(label=label, colour=colour, width=width,
                                                 left=62)
    return Response(body, media_type="image/svg+xml",
                    headers={**HEADERS, "Cache-Control": "no-cache"})


READERS = 4
"""Worker threads the UI's reads run in at once (each with its own handle on the ledger)."""


class PerThread:
    """A ledger handle for each worker thread and organisation, opened by ``opener(org)``
    on the thread's first read of that organisation: a SQLite connection, a PostgreSQL one
    or an HTTP session belongs to the thread that opened it. What readers remember of a
    ledger (``api.browse``'s proven rows, the judge's verdicts) is the process's, shared by
    the threads."""

    def __init__(self, opener: Callable[[str], Any]) -> None:
        import threading

        self.opener = opener
        self._local = threading.local()

    def __call__(self) -> Any:
        handles: dict[str, Any] = self._local.__dict__.setdefault("handles", {})
        org = ORG.get()
        if org not in handles:
            handles[org] = self.opener(org)
        return handles[org]


class Site:
    """Who may read what, and the page a read makes: what every route of the UI shares (the
    environment pages register theirs with :meth:`show`, see ``server/ui_environments.py``)."""

    def __init__(self, ledger: Callable[[], Any], *, tokens: TokenStore | None,
                 public_read: bool, ledger_url: str | None, multi: bool,
                 reads: Callable[[], Any] | None = None) -> None:
        self.ledger, self.tokens, self.public_read = ledger, tokens, public_read
        self.ledger_url, self.multi, self.reads = ledger_url, multi, reads
        self._limiter: Any = None

    def granted(self, token: str) -> str | None:
        """The organisation ``token`` may read here, or None: unknown, revoked, not allowed
        to read, or of an organisation this server does not serve (a server of one ledger
        serves ``default`` only, as its API does)."""
        assert self.tokens is not None
        known = self.tokens.check(token)
        if known is None or not allows(known[2], "read"):
            return None
        return known[1] if self.multi or known[1] == DEFAULT_ORG else None

    def reader(self, request: Request) -> str | None:
        """The organisation this visitor may read, or None: log in first."""
        if self.tokens is None:
            return DEFAULT_ORG
        given = request.cookies.get(COOKIE)
        known = self.granted(given) if given else None
        if known is not None:
            return known
        if self.public_read and (not self.multi or self.tokens.has_org(DEFAULT_ORG)):
            return DEFAULT_ORG
        return None

    async def read(self, request: Request, what: Callable[[Any], Any]) -> Any:
        """``what(ledger)`` for this visitor's organisation; a Response when it may not.

        With ``reads`` (a handle a worker thread, :class:`PerThread`), the read runs in one
        of :data:`READERS` worker threads, so a page that reads much (the first proof of a
        large flow, a filter over every trail) holds up neither the API's writes nor other
        pages; the organisation's ledger is opened (made, on a server) on the loop's thread
        first, as the API opens it. Without, it runs on the loop."""
        org = self.reader(request)
        if org is None:
            return RedirectResponse("/login", status_code=303, headers=HEADERS)
        token = ORG.set(org)
        try:
            if self.reads is None:
                return what(self.ledger())
            self.ledger()
            reads = self.reads
            return await self._in_thread(lambda: what(reads()))
        except NotFoundError as exc:
            return not_found(request, exc.message)
        except AffidavitError as exc:
            status = 503 if isinstance(exc, LedgerUnavailable) else (
                500 if isinstance(exc, IntegrityError) else 400)
            return page(request, "error.html", status, title="Cannot read the ledger",
                        message=_cut(exc.message), remedy=exc.remedy)
        except Exception as exc:  # noqa: BLE001 - a page, with its headers, never a trace
            import sys

            sys.stderr.write(f"affidavit ui: internal error on {request.url.path}: "
                             f"{type(exc).__name__}: {exc}\n")
            return page(request, "error.html", 500, title="Internal error",
                        message="the page could not be made; nothing is shown",
                        remedy="the server's log names the error")
        finally:
            ORG.reset(token)

    async def _in_thread(self, call: Callable[[], Any]) -> Any:
        """``call()`` in a worker thread, this request's context (its organisation) with it."""
        import contextvars

        import anyio

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(READERS)
        return await anyio.to_thread.run_sync(contextvars.copy_context().run, call,
                                              limiter=self._limiter)

    async def show(self, request: Request, template: str, what: Callable[[Any], Any],
                   name: str = "found", **context: Any) -> Response:
        """The page ``template`` with ``what(ledger)`` as ``name``, or the read's refusal."""
        found = await self.read(request, what)
        if isinstance(found, Response):
            return found
        return page(request, template, **{name: found}, **context)

    def client_url(self, request: Request) -> str:
        """What a client names this ledger by in the commands a page shows."""
        if self.ledger_url is not None:
            return self.ledger_url
        base = str(request.base_url).rstrip("/")
        org = self.reader(request)
        return base if org in (None, DEFAULT_ORG) else f"{base}/orgs/{org}"


async def status_badge(site: Site, request: Request, status: Callable[[Any], str]) -> Response:
    """The badge of the status ``status(ledger)`` reads: a "not found" badge (404) for a name
    that is not there, the refusal (a login) for a visitor who may not read."""
    found = await site.read(request, status)
    if isinstance(found, Response):
        if found.status_code == 404:
            return Response(badge("not found", "#757575").body, status_code=404,
                            media_type="image/svg+xml", headers=HEADERS)
        return found
    label, colour = _BADGE.get(found, (found.lower(), "#757575"))
    return badge(label, colour)
