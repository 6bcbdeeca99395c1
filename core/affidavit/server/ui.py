"""The web UI's routes: flows, a flow's trails a page at a time, a trail with its slots,
reasons, attestations, evidence, history and package, an artifact's provenance, search, the
ledger, the login and the trail badges (the environment pages are ``server/ui_environments.py``;
what every page shares -- who may read, headers, the page itself -- is ``server/ui_site.py``).
Server-rendered HTML (Jinja2, autoescaped, no JavaScript) over the same proven reads the CLI
makes (``api.browse``, ``api.query``): every verdict shown is the one judge's, never
recomputed here. A token is never in a URL: the login form is POSTed and sets an HttpOnly,
SameSite=Strict session cookie (Secure over https).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from affidavit.api import browse, query
from affidavit.server import ui_environments
from affidavit.server.tokens import TokenStore
from affidavit.server.ui_site import (
    COOKIE,
    CSP,
    HEADERS,
    STATIC,
    Site,
    is_ui_path,
    not_found,
    number,
    status_badge,
)
from affidavit.server.ui_site import page as _page

__all__ = ["ui_router", "not_found", "CSP", "COOKIE", "is_ui_path"]

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_PREFIX = re.compile(r"^[0-9a-f]{4,64}$")
_TYPE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def ui_router(ledger: Callable[[], Any], *, tokens: TokenStore | None, public_read: bool,
              ledger_url: str | None = None, multi: bool = False,
              reads: Callable[[], Any] | None = None) -> APIRouter:
    """The UI's routes over ``ledger()`` (the current organisation's ledger, by
    :data:`~affidavit.server.gate.ORG`); ``tokens`` turns the login on; ``ledger_url`` is
    what the commands it shows name (default: this server's own URL, as a client names
    it); ``reads`` (a :class:`~affidavit.server.ui_site.PerThread`) moves the reads off the
    event loop."""
    router = APIRouter(include_in_schema=False)
    site = Site(ledger, tokens=tokens, public_read=public_read, ledger_url=ledger_url,
                multi=multi, reads=reads)
    read, client_url = site.read, site.client_url

    @router.get("/static/ui.css")
    async def stylesheet() -> Response:
        return Response((STATIC / "ui.css").read_bytes(), media_type="text/css",
                        headers={**HEADERS, "Cache-Control": "max-age=300"})

    @router.get("/static/favicon.svg")
    async def icon() -> Response:
        return Response((STATIC / "favicon.svg").read_bytes(),
                        media_type="image/svg+xml",
                        headers={**HEADERS, "Cache-Control": "max-age=86400"})

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
        if not token or site.granted(token) is None:
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
    async def flows(request: Request, without: str = "") -> Response:
        if without:
            if not _TYPE_NAME.match(without):
                return _page(request, "error.html", 400, title="Not a type",
                             message=f"{without[:80]!r} is not an attestation type name")
            return await site.show(request, "flows.html", lambda led: browse.flows_without(
                led, without), "flows", title=f"Flows without {without}", without=without)
        return await site.show(request, "flows.html", browse.flows, "flows", title="Flows",
                               without="")

    @router.get("/flows/{flow}")
    async def flow(request: Request, flow: str, page: str = "1", status: str = "",
                   start: str = "0") -> Response:
        wanted, first = number(page), 0 if start == "0" else number(start)
        if wanted is None or first is None:
            return not_found(request, f"no page {page[:20]!r} from {start[:20]!r}")
        if status and status not in browse.STATUSES:
            return _page(request, "error.html", 400, title="Which status?",
                         message=f"filter by one of {', '.join(browse.STATUSES)}")
        return await site.show(request, "flow.html", lambda led: browse.trails_page(
            led, flow, wanted, status=status or None, start=first), "flow",
            title=f"Flow {flow}", statuses=browse.STATUSES)

    @router.get("/flows/{flow}/trails/{trail}")
    async def trail(request: Request, flow: str, trail: str) -> Response:
        return await site.show(request, "trail.html",
                               lambda led: browse.trail_page(led, flow, trail), "trail",
                               title=f"Trail {flow}/{trail}", ledger_url=client_url(request))

    @router.get("/flows/{flow}/trails/{trail}/log")
    async def trail_log(request: Request, flow: str, trail: str) -> Response:
        return await site.show(request, "trail_log.html",
                               lambda led: query.trail_log(led, flow, trail), "events",
                               title=f"Log of trail {flow}/{trail}", flow=flow, trail=trail)

    async def download(request: Request, write: Callable[[Any, str], str], media_type: str,
                       suffix: str = "") -> Response:
        """The file ``write(ledger, path)`` makes at ``path`` in a folder of its own, sent
        as an attachment named what it returns (made safe for a header, at most 200
        characters) and ``suffix``, and removed once sent, or with the folder on any
        failure; never cached."""
        def made(led: Any) -> tuple[str, str]:
            folder = tempfile.mkdtemp(prefix="affidavit-ui-")
            path = os.path.join(folder, "download")
            try:
                named = re.sub(r"[^A-Za-z0-9._-]", "_", write(led, path))[:200]
                return path, named + suffix
            except BaseException:
                _remove(folder)
                raise

        found = await read(request, made)
        if isinstance(found, Response):
            return found
        path, name = found
        return FileResponse(path, media_type=media_type, filename=name,
                            headers={**HEADERS, "Cache-Control": "no-store"},
                            background=BackgroundTask(_remove, os.path.dirname(path)))

    @router.get("/flows/{flow}/trails/{trail}/package.zip")
    async def package(request: Request, flow: str, trail: str) -> Response:
        def write(led: Any, path: str) -> str:
            from affidavit.api.evidence import package as make

            make(led, out=path, flow=flow, trail=trail)  # every entry proven on the way
            return f"{flow}-{trail}"

        return await download(request, write, "application/zip", ".zip")

    @router.get("/flows/{flow}/trails/{trail}/evidence/{digest}")
    async def evidence(request: Request, flow: str, trail: str, digest: str) -> Response:
        if not _DIGEST.match(digest):
            return not_found(request, "not an evidence digest")

        def write(led: Any, path: str) -> str:
            from affidavit.api.evidence import get_evidence

            ref = browse.evidence_of(led, flow, trail, digest)
            get_evidence(led, digest, path)  # checked against its digest on the way
            return str(ref.get("name") or digest)

        return await download(request, write, "application/octet-stream")

    @router.get("/ledger")
    async def ledger_page(request: Request) -> Response:
        found = await read(request, browse.ledger_view)
        if isinstance(found, Response):
            return found
        return _page(request, "ledger.html", title="Ledger", ledger=found,
                     ledger_url=client_url(request))

    @router.get("/artifacts/{fingerprint}")
    async def artifact(request: Request, fingerprint: str) -> Response:
        if not _DIGEST.match(fingerprint):
            return not_found(request, "not a SHA-256 fingerprint")
        from affidavit.api.provenance import artifact_timeline

        return await site.show(request, "artifact.html",
                               lambda led: artifact_timeline(led, fingerprint), "artifact",
                               title=f"Artifact {fingerprint[:12]}")

    @router.get("/search")
    async def search(request: Request, q: str = "") -> Response:
        wanted = q.strip().lower()
        if not wanted:
            return _page(request, "search.html", title="Search", q="", hits=None)
        if not _PREFIX.match(wanted):
            return _page(request, "search.html", 400, title="Search", q=q[:80], hits=None,
                         error="give 4 to 64 hex characters of a commit or fingerprint")
        return await site.show(request, "search.html", lambda led: query.search(led, wanted),
                               "hits", title=f"Search {wanted}", q=wanted)

    ui_environments.add_routes(router, site)

    @router.get("/badge/{flow}/{trail}.svg")
    async def badge(request: Request, flow: str, trail: str) -> Response:
        return await status_badge(site, request,
                                  lambda led: query.trail_state(led, flow, trail)["status"])

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
