"""``affidavit ui``: a local, read-only web viewer of any ledger (the CLI's table points here).

Kept in the server package, like ``affidavit server``, so the CLI never imports FastAPI or
Jinja2. The app has the UI's routes only: no API, nothing that appends, and the ledger is
opened as it is (never created or initialised).
"""

from __future__ import annotations

import argparse
from typing import Any

from affidavit.errors import UsageError

__all__ = ["serve", "create_ui_app"]


def serve(p: argparse.ArgumentParser) -> None:
    """``ui [--ledger URL] [--host H] [--port N]``."""
    p.add_argument("--ledger", metavar="URL",
                   help="the ledger to show: a SQLite path or sqlite:// URL, https://server "
                        "(with AFFIDAVIT_API_TOKEN), postgresql://... (default: "
                        "AFFIDAVIT_LEDGER, or the repository's embedded one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.set_defaults(handler=_serve)


LOCAL = ("127.0.0.1", "localhost", "[::1]")
"""The Host names a local viewer answers: a page elsewhere that points its own name at
127.0.0.1 (DNS rebinding) must not read a ledger that needs no login here."""


def create_ui_app(ledger_url: str | None, host: str = "127.0.0.1") -> Any:
    """The UI alone over the ledger at ``ledger_url``, opened read-only (not created),
    answering requests that name this machine or ``host`` (any name when it listens on every
    address: the operator's choice)."""
    from fastapi import FastAPI, Request
    from starlette.exceptions import HTTPException

    from affidavit.api.ledgers import open_ledger
    from affidavit.server.ui import ui_router
    from affidavit.server.ui_site import PerThread, SecurityHeaders, refused

    handle = open_ledger(ledger_url)  # a missing ledger is refused here, not made
    app = FastAPI(title="affidavit ui", openapi_url=None, docs_url=None, redoc_url=None)
    # each worker thread reads through its own handle on the same ledger
    reads = PerThread(lambda org: open_ledger(handle.url))
    app.include_router(ui_router(lambda: handle, tokens=None, public_read=True,
                                 ledger_url=ledger_url or handle.url, reads=reads))
    named = None if host in ("0.0.0.0", "::", "") else {*LOCAL, host, f"[{host}]"}

    @app.middleware("http")
    async def this_machine(request: Request, call_next: Any) -> Any:
        given = request.headers.get("host", "")
        name = given.rsplit(":", 1)[0] if not given.endswith("]") else given
        if named is not None and name.lower() not in named:
            return refused(request, 421, "this viewer answers requests for this machine only")
        return await call_next(request)

    @app.exception_handler(HTTPException)
    async def missing(request: Request, exc: HTTPException) -> Any:
        return refused(request, exc.status_code, str(exc.detail) if exc.status_code != 404
                       else "")

    return SecurityHeaders(app)


def _serve(args: argparse.Namespace) -> int:
    if not 0 <= args.port < 65536:
        raise UsageError("--port must be 0-65535")
    try:
        import jinja2  # noqa: F401 - the UI's one dependency beyond the server's
        import uvicorn
    except ImportError:
        raise UsageError("the web UI is not installed",
                         remedy="pip install 'affidavit[server]'") from None
    app = create_ui_app(args.ledger, args.host)
    print(f"affidavit ui: http://{args.host}:{args.port}/ (read-only; Ctrl-C stops it)",
          flush=True)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
    return 0
