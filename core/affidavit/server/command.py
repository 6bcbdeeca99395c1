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
    p.add_argument("--evidence", metavar="URL",
                   help="where evidence goes: s3://bucket/prefix or file:///dir ({org} filled "
                        "in); default: the ledger's own vault")
    p.add_argument("--tokens", metavar="FILE",
                   help="API token file: every request but the public ones needs a token")
    p.add_argument("--rate-limit", type=float, metavar="N",
                   help="requests a second allowed per token, on average (default 100)")
    p.add_argument("--public-read", action="store_true",
                   help="let anyone read the web UI at / without logging in (the "
                        "organisation default; the API still needs tokens)")
    p.set_defaults(handler=_serve)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    token = actions.add_parser("token", help="API tokens").add_subparsers(
        dest="token_action", metavar="ACTION", required=True)
    create = token.add_parser("create", help="create a token for an organisation; it is "
                              "printed once and stored only as its hash")
    create.add_argument("--tokens", metavar="FILE", required=True, help="the token file")
    create.add_argument("--org", required=True, help="the organisation (made by its first "
                        "token)")
    create.add_argument("--scope", required=True, choices=("read", "write", "admin"),
                        help="read: reads; write: reads and appends; admin: everything")
    create.set_defaults(handler=_token_create)


def _token_create(args: argparse.Namespace) -> int:
    from affidavit.server.tokens import TokenStore

    store = TokenStore(args.tokens)
    try:
        print(store.create(args.org, args.scope))
    finally:
        store.close()
    return 0


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

    if args.tokens:  # first: refuse an unusable token file before anything else
        from affidavit.server.tokens import TokenStore

        TokenStore(args.tokens).close()  # refuse an unusable token file before listening
        os.environ["AFFIDAVIT_SERVER_TOKENS"] = os.path.abspath(args.tokens)
    blobs = {}
    if args.evidence:
        from affidavit.ledger.blobstores import open_blobs

        blobs = {"blobs": open_blobs(args.evidence.replace("{org}", "default"))}
        os.environ["AFFIDAVIT_SERVER_EVIDENCE"] = args.evidence
    if "{org}" in ledger:
        if not args.tokens:
            raise UsageError(f"--ledger {ledger}: a ledger per organisation needs --tokens FILE")
    else:
        opened = open_ledger(ledger, create=True, **blobs)  # a bad URL or key: before listening
        opened.init()
        opened.close()
    if args.rate_limit is not None and args.rate_limit <= 0:
        raise UsageError("--rate-limit must be greater than 0")
    os.environ["AFFIDAVIT_SERVER_RATE"] = str(args.rate_limit or 100.0)
    os.environ["AFFIDAVIT_SERVER_PUBLIC_READ"] = "1" if args.public_read else ""
    os.environ["AFFIDAVIT_SERVER_LEDGER"] = ledger
    os.environ["AFFIDAVIT_SERVER_MAX_REQUEST"] = str(max_mb << 20)
    uvicorn.run("affidavit.server.asgi:make", factory=True, host=host, port=port,
                workers=workers, access_log=False, log_level="warning")
    return 0
