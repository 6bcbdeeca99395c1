"""``affidavit witness serve``: run a witness (the CLI's table points here).

Apart from ``server/witness.py`` for the reason ``server/command.py`` is apart from the app:
building the parser, for ``--help`` or the docs, must not import FastAPI.
"""

from __future__ import annotations

import argparse

from affidavit.errors import UsageError

__all__ = ["serve", "DEFAULT_PORT"]

DEFAULT_PORT = 7380
"""The spec names no port; this one is clear of ``affidavit server``'s 8000."""

_REQUIRED = "_affidavit_required"


def serve(p: argparse.ArgumentParser) -> None:
    """``witness serve --key FILE --state FILE --log ORIGIN=VKEY… [--host H] [--port N]``."""
    # not argparse's `required`: an option left None may come from its AFFIDAVIT_ variable,
    # and the CLI's option resolver checks the mark (cli/options.py's _REQUIRED, spelled
    # out here because the server layer does not import the CLI's)
    required = [
        p.add_argument("--key", metavar="FILE",
                       help="the witness key file (affidavit witness key generate)"),
        p.add_argument("--state", metavar="FILE",
                       help="SQLite file of the latest checkpoint cosigned per log (created "
                            "when missing)"),
        p.add_argument("--log", nargs="+", action="extend", metavar="ORIGIN=VKEY",
                       help="a log to witness: its checkpoints' origin line and its verifier "
                            "key (affidavit ledger public-key); repeat for more logs or keys"),
    ]
    for action in required:
        setattr(action, _REQUIRED, True)
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help=f"port (default {DEFAULT_PORT})")
    p.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    port = DEFAULT_PORT if args.port is None else args.port
    if not 0 <= port < 65536:
        raise UsageError(f"--port {port} is not 0-65535")
    try:
        import uvicorn
    except ImportError:
        raise UsageError("the witness server is not installed",
                         remedy="pip install 'affidavit[server]'") from None
    from affidavit.api.witnesses import open_witness
    from affidavit.server.witness import create_witness_app

    witness = open_witness(args.key, args.state, args.log)  # every bad flag before listening
    uvicorn.run(create_witness_app(witness), host=args.host or "127.0.0.1", port=port,
                access_log=False, log_level="warning")
    return 0
