"""``witness add`` and ``witness key generate`` (``witness serve`` lives in the server package,
which the CLI does not import)."""

from __future__ import annotations

import argparse
import sys

from affidavit.cli import options as opt
from affidavit.cli.output import emit_json

__all__ = ["witness_add", "witness_key"]


def witness_add(p: argparse.ArgumentParser) -> None:
    """``witness add --witness URL=VKEY… [--ledger URL] [--output table|json]``."""
    opt.add(p, "--witness", required=True, nargs="+", action="extend", metavar="URL=VKEY",
            help="a witness: its add-checkpoint URL prefix and its verifier key (witness key "
                 "generate prints it); repeat for several")
    opt.add_ledger(p)
    opt.add_output(p)
    p.set_defaults(handler=_add)


def witness_key(p: argparse.ArgumentParser) -> None:
    """``witness key generate --out FILE --name NAME``.

    ``generate`` is a positional word rather than a third level of subcommands: the CLI
    resolves ``AFFIDAVIT_*`` variables and required flags on the verb-noun parser only."""
    p.add_argument("action", choices=("generate",), metavar="ACTION",
                   help="generate (the only one): write a new witness key (mode 0600) and "
                        "print its verifier key")
    opt.add(p, "--out", required=True, metavar="FILE",
            help="the key file to write; never overwritten")
    opt.add(p, "--name", required=True,
            help="the witness's name in its signature lines, e.g. witness.example.com/w1")
    p.set_defaults(handler=_generate)


def _add(args: argparse.Namespace) -> int:
    from affidavit.api.ledgers import open_ledger
    from affidavit.api.witnesses import cosign_ledger, parse_witness

    witnesses = [parse_witness(spec) for spec in args.witness]  # all flags, before any request
    ledger = open_ledger(args.ledger)
    try:
        result = cosign_ledger(ledger, witnesses)
    finally:
        ledger.close()
    if args.output == "json":
        emit_json(result)
    else:
        sys.stdout.write(result["checkpoint"])
    return 0


def _generate(args: argparse.Namespace) -> int:
    from affidavit.api.witnesses import generate_key

    print(generate_key(args.out, args.name))
    return 0
