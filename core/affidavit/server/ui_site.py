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
           "STATIC", "is_ui_path"]

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


def not_found(request: Request, message: str = "") -> HTMLResponse:
    """The UI's 404 page (also what ``create_app`` answers for an unknown UI path)."""
    return page(request, "error.html", 404, title="Not found",
                 message=message or f"nothing at {request.url.path}")


def badge(label: str, colour: str) -> Response:
    width = 62 + 7 * len(label)
    body = _ENV.get_template("badge.svg").render(label=label, colour=colour, width=width,
                                                 left=62)
    return Response(body, media_type="image/svg+xml",
                    headers={**HEADERS, "Cache-Control": "no-cache"})


class Site:
    """Who may read what, and the page a read makes: what every route of the UI shares (the
    environment pages register theirs with :meth:`show`, see ``server/ui_environments.py``)."""

    def __init__(self, ledger: Callable[[], Any], *, tokens: TokenStore | None,
                 public_read: bool, ledger_url: str | None, multi: bool) -> None:
        self.ledger, self.tokens, self.public_read = ledger, tokens, public_read
        self.ledger_url, self.multi = ledger_url, multi

    def reader(self, request: Request) -> str | None:
        """The organisation this visitor may read, or None: log in first."""
        if self.tokens is None:
            return DEFAULT_ORG
        given = request.cookies.get(COOKIE)
        known = self.tokens.check(given) if given else None
        if known is not None and allows(known[2], "read"):
            return known[1]
        if self.public_read and (not self.multi or self.tokens.has_org(DEFAULT_ORG)):
            return DEFAULT_ORG
        return None

    def read(self, request: Request, what: Callable[[Any], Any]) -> Any:
        """``what(ledger)`` for this visitor's organisation; a Response when it may not."""
        org = self.reader(request)
        if org is None:
            return RedirectResponse("/login", status_code=303, headers=HEADERS)
        token = ORG.set(org)
        try:
            return what(self.ledger())
        except NotFoundError as exc:
            return not_found(request, exc.message)
        except AffidavitError as exc:
            status = 503 if isinstance(exc, LedgerUnavailable) else (
                500 if isinstance(exc, IntegrityError) else 400)
            return page(request, "error.html", status, title="Cannot read the ledger",
                         message=exc.message, remedy=exc.remedy)
        except Exception as exc:  # noqa: BLE001 - a page, with its headers, never a trace
            import sys

            sys.stderr.write(f"affidavit ui: internal error on {request.url.path}: "
                             f"{type(exc).__name__}: {exc}\n")
            return page(request, "error.html", 500, title="Internal error",
                         message="the page could not be made; nothing is shown",
                         remedy="the server's log names the error")
        finally:
            ORG.reset(token)

    def show(self, request: Request, template: str, what: Callable[[Any], Any],
             name: str = "found", **context: Any) -> Response:
        """The page ``template`` with ``what(ledger)`` as ``name``, or the read's refusal."""
        found = self.read(request, what)
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


def status_badge(site: Site, request: Request, status: Callable[[Any], str]) -> Response:
    """The badge of the status ``status(ledger)`` reads: a "not found" badge (404) for a name
    that is not there, the refusal (a login) for a visitor who may not read."""
    found = site.read(request, status)
    if isinstance(found, Response):
        if found.status_code == 404:
            return Response(badge("not found", "#757575").body, status_code=404,
                            media_type="image/svg+xml", headers=HEADERS)
        return found
    label, colour = _BADGE.get(found, (found.lower(), "#757575"))
    return badge(label, colour)
