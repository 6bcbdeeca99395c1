"""``mirror --from URL --to URL``: copy a ledger off site and prove the copy (``api.mirror``)."""

from __future__ import annotations

import argparse
import sys

from affidavit.cli import options as opt
from affidavit.cli.output import emit_json

__all__ = ["mirror"]


def mirror(p: argparse.ArgumentParser) -> None:
    """``mirror --from URL --to URL [--public-key KEY] [--output table|json]``."""
    opt.add(p, "--from", dest="source", required=True, metavar="URL",
            help="the ledger to copy: a SQLite file, sqlite:///path, http(s)://server")
    opt.add(p, "--to", dest="copy", required=True, metavar="URL",
            help="where the copy lives: another SQLite file, a server, or s3://bucket/prefix "
                 "(a static C2SP tlog-tiles log); only new entries are copied, the whole copy "
                 "is checked; exit 3 on any divergence")
    opt.add(p, "--public-key", help="the source's verifier key: its checkpoints must be signed "
            "by it (default: the key it showed the first time this client used it)")
    opt.add_output(p)
    p.set_defaults(handler=_mirror)


def _mirror(args: argparse.Namespace) -> int:
    from affidavit.api.mirror import mirror as run

    result = run(args.source, args.copy, public_key=args.public_key)
    if args.output == "json":
        emit_json(result)
    else:
        sys.stdout.write(result["summary"] + "\n")
    return 0
