"""The read-only web UI: server-rendered HTML (Jinja2, autoescaped, no JavaScript) over the
same proven reads the CLI makes (``api.browse``, ``api.query``): every verdict shown is the
one judge's, never recomputed here.

Who may read: a server without a token file is open, as its API is. With one, a visitor logs
in with a read token (a form, POSTed: never in a URL), kept in an HttpOnly, SameSite=Strict
session cookie (Secure over https) and checked against the token file on every request, so a
revoked token stops working at once; the token's organisation is the only ledger shown, so
another organisation's names are not found (404), as over the API. ``public_read`` lets
anyone read the organisation ``default`` without logging in.

Every answer carries a strict Content-Security-Policy (no script at all, styles and images
only from here), ``nosniff`` and ``no-referrer``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from affidavit.api import browse, query
from affidavit.errors import AffidavitError, IntegrityError, LedgerUnavailable, NotFoundError
from affidavit.server.gate import DEFAULT_ORG, ORG
from affidavit.server.tokens import TokenStore, allows

__all__ = ["ui_router", "not_found", "CSP", "COOKIE", "is_ui_path"]

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer"}
COOKIE = "affidavit_session"
_HERE = Path(__file__).resolve().parent
_STATUS_CLASS = {"COMPLIANT": "ok", "NON_COMPLIANT": "bad"}
_BADGE = {"COMPLIANT": ("compliant", "#2e7d32"), "NON_COMPLIANT": ("non-compliant", "#c62828"),
          "INCOMPLETE": ("incomplete", "#757575")}
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


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
    return env


_ENV = _templates()


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    body = _ENV.get_template(template).render(
        request_path=request.url.path, signed_in=COOKIE in request.cookies, **context)
    return HTMLResponse(body, status_code=status, headers={**HEADERS,
                                                           "Cache-Control": "no-store"})


def not_found(request: Request, message: str = "") -> HTMLResponse:
    """The UI's 404 page (also what ``create_app`` answers for an unknown UI path)."""
    return _page(request, "error.html", 404, title="Not found",
                 message=message or f"nothing at {request.url.path}")


def _badge(label: str, colour: str) -> Response:
    width = 62 + 7 * len(label)
    body = _ENV.get_template("badge.svg").render(label=label, colour=colour, width=width,
                                                 left=62)
    return Response(body, media_type="image/svg+xml",
                    headers={**HEADERS, "Cache-Control": "no-cache"})


def ui_router(ledger: Callable[[], Any], *, tokens: TokenStore | None, public_read: bool,
              ledger_url: str | None = None, multi: bool = False) -> APIRouter:
    """The UI's routes over ``ledger()`` (the current organisation's ledger, by
    :data:`~affidavit.server.gate.ORG`); ``tokens`` turns the login on; ``ledger_url`` is
    what the commands it shows name (default: this server's own URL, as a client names
    it)."""
    router = APIRouter(include_in_schema=False)

    def reader(request: Request) -> str | None:
        """The organisation this visitor may read, or None: log in first."""
        if tokens is None:
            return DEFAULT_ORG
        given = request.cookies.get(COOKIE)
        known = tokens.check(given) if given else None
        if known is not None and allows(known[2], "read"):
            return known[1]
        if public_read and (not multi or tokens.has_org(DEFAULT_ORG)):
            return DEFAULT_ORG
        return None

    def read(request: Request, what: Callable[[Any], Any]) -> Any:
        """``what(ledger)`` for this visitor's organisation; a Response when it may not."""
        org = reader(request)
        if org is None:
            return RedirectResponse("/login", status_code=303, headers=HEADERS)
        token = ORG.set(org)
        try:
            return what(ledger())
        except NotFoundError as exc:
            return not_found(request, exc.message)
        except AffidavitError as exc:
            status = 503 if isinstance(exc, LedgerUnavailable) else (
                500 if isinstance(exc, IntegrityError) else 400)
            return _page(request, "error.html", status, title="Cannot read the ledger",
                         message=exc.message, remedy=exc.remedy)
        except Exception as exc:  # noqa: BLE001 - a page, with its headers, never a trace
            import sys

            sys.stderr.write(f"affidavit ui: internal error on {request.url.path}: "
                             f"{type(exc).__name__}: {exc}\n")
            return _page(request, "error.html", 500, title="Internal error",
                         message="the page could not be made; nothing is shown",
                         remedy="the server's log names the error")
        finally:
            ORG.reset(token)

    def client_url(request: Request) -> str:
        """What a client names this ledger by in the commands a page shows."""
        if ledger_url is not None:
            return ledger_url
        base = str(request.base_url).rstrip("/")
        org = reader(request)
        return base if org in (None, DEFAULT_ORG) else f"{base}/orgs/{org}"

    @router.get("/static/ui.css")
    async def stylesheet() -> Response:
        return Response((_HERE / "static" / "ui.css").read_bytes(), media_type="text/css",
                        headers={**HEADERS, "Cache-Control": "max-age=300"})

    @router.get("/login")
    async def login_form(request: Request) -> Response:
        if tokens is None:
            return RedirectResponse("/", status_code=303, headers=HEADERS)
        return _page(request, "login.html", title="Log in", error=None)

    @router.post("/login")
    async def login(request: Request) -> Response:
        if tokens is None:
            return RedirectResponse("/", status_code=303, headers=HEADERS)
        if _cross_site(request):
            return _page(request, "error.html", 403, title="Refused",
                         message="a login from another site")
        form = await request.form(max_files=0, max_fields=4)
        given = form.get("token")
        token = given.strip() if isinstance(given, str) else ""
        known = tokens.check(token) if token else None
        if known is None or not allows(known[2], "read"):
            return _page(request, "login.html", 401, title="Log in",
                         error="That token is not valid here.")
        answer = RedirectResponse("/", status_code=303, headers=HEADERS)
        answer.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                          secure=request.url.scheme == "https", path="/")
        return answer

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        if _cross_site(request):
            return _page(request, "error.html", 403, title="Refused",
                         message="a logout from another site")
        answer = RedirectResponse("/login" if tokens is not None else "/", status_code=303,
                                  headers=HEADERS)
        answer.delete_cookie(COOKIE, httponly=True, samesite="strict",
                             secure=request.url.scheme == "https", path="/")
        return answer

    @router.get("/")
    async def flows(request: Request) -> Response:
        found = read(request, browse.flows)
        if isinstance(found, Response):
            return found
        return _page(request, "flows.html", title="Flows", flows=found)

    @router.get("/flows/{flow}")
    async def flow(request: Request, flow: str, page: str = "1") -> Response:
        if not page.isdigit() or not 0 < int(page) < 1 << 31:
            return not_found(request, f"no page {page!r}")
        found = read(request, lambda led: browse.trails_page(led, flow, int(page)))
        if isinstance(found, Response):
            return found
        return _page(request, "flow.html", title=f"Flow {flow}", flow=found)

    @router.get("/flows/{flow}/trails/{trail}")
    async def trail(request: Request, flow: str, trail: str) -> Response:
        found = read(request, lambda led: browse.trail_view(led, flow, trail))
        if isinstance(found, Response):
            return found
        return _page(request, "trail.html", title=f"Trail {flow}/{trail}", trail=found,
                     ledger_url=client_url(request))

    @router.get("/flows/{flow}/trails/{trail}/evidence/{digest}")
    async def evidence(request: Request, flow: str, trail: str, digest: str) -> Response:
        if not _DIGEST.match(digest):
            return not_found(request, "not an evidence digest")

        def fetch(led: Any) -> tuple[str, str]:
            from affidavit.api.evidence import get_evidence

            ref = browse.evidence_of(led, flow, trail, digest)
            folder = tempfile.mkdtemp(prefix="affidavit-ui-")
            path = os.path.join(folder, "evidence")
            try:
                get_evidence(led, digest, path)  # checked against its digest on the way
            except BaseException:
                _remove(folder)
                raise
            name = re.sub(r"[^A-Za-z0-9._-]", "_", str(ref.get("name") or digest))[:200]
            return path, name or digest

        found = read(request, fetch)
        if isinstance(found, Response):
            return found
        path, name = found
        return FileResponse(path, media_type="application/octet-stream", filename=name,
                            headers=HEADERS,
                            background=BackgroundTask(_remove, os.path.dirname(path)))

    @router.get("/ledger")
    async def ledger_page(request: Request) -> Response:
        found = read(request, browse.ledger_view)
        if isinstance(found, Response):
            return found
        return _page(request, "ledger.html", title="Ledger", ledger=found,
                     ledger_url=client_url(request))

    @router.get("/badge/{flow}/{trail}.svg")
    async def badge(request: Request, flow: str, trail: str) -> Response:
        found = read(request, lambda led: query.trail_state(led, flow, trail)["status"])
        if isinstance(found, Response):
            if found.status_code == 404:
                return Response(_badge("not found", "#757575").body, status_code=404,
                                media_type="image/svg+xml", headers=HEADERS)
            return found
        label, colour = _BADGE.get(found, (found.lower(), "#757575"))
        return _badge(label, colour)

    return router


def _cross_site(request: Request) -> bool:
    """Whether a form was posted from another site (a browser names the page's origin): a
    login that would sign this browser in with someone else's token, or a forced logout."""
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc != request.headers.get("host")


def _remove(folder: str) -> None:
    import shutil

    with contextlib.suppress(OSError):
        shutil.rmtree(folder)
