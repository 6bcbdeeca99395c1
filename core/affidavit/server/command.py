"""``affidavit server``: the command that runs the HTTP server (the CLI's table points here).

Kept in the server package so that the CLI never imports FastAPI: the command table names
this module, and only ``affidavit server`` loads it.
"""

from __future__ import annotations

import argparse
import os

from affidavit.errors import UsageError

__all__ = ["serve"]


def serve(p: argparse.ArgumentParser) -> None:
    """``server --ledger URL [--host H] [--port N] [--workers N] [--max-request-mb N]``."""
    # defaults are applied in _serve: an option left None is read from its AFFIDAVIT_ variable
    p.add_argument("--ledger", metavar="URL",
                   help="the ledger to serve: its storage (a SQLite path or sqlite:// URL)")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument("--workers", type=int, help="server processes (default 1)")
    p.add_argument("--max-request-mb", type=int, metavar="N",
                   help="largest request body, an append with its evidence (default 256)")
    p.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    ledger = args.ledger
    host = args.host or "127.0.0.1"
    port = 8000 if args.port is None else args.port
    workers = args.workers or 1
    max_mb = args.max_request_mb or 256
    if not ledger:
        raise UsageError("server needs --ledger URL (or AFFIDAVIT_LEDGER)")
    if ledger.split("://", 1)[0] in ("http", "https"):
        raise UsageError(f"--ledger {ledger}: a server serves a ledger's storage, not another "
                         "server")
    if workers < 1 or max_mb < 1 or not 0 <= port < 65536:
        raise UsageError("--workers and --max-request-mb must be at least 1, --port 0-65535")
    try:
        import uvicorn
    except ImportError:
        raise UsageError("the server is not installed",
                         remedy="pip install 'affidavit[server]'") from None
    from affidavit.ledger.registry import open_ledger

    opened = open_ledger(ledger, create=True)  # refuse a bad URL or key before listening
    opened.init()
    opened.close()
    os.environ["AFFIDAVIT_SERVER_LEDGER"] = ledger
    os.environ["AFFIDAVIT_SERVER_MAX_REQUEST"] = str(max_mb << 20)
    uvicorn.run("affidavit.server.asgi:make", factory=True, host=host, port=port,
                workers=workers, access_log=False, log_level="warning")
    return 0
