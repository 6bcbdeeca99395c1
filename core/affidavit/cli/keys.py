"""``key generate``: map flags onto ``affidavit.api.keys``."""

from __future__ import annotations

import argparse
import sys

from affidavit.cli import options as opt
from affidavit.cli.output import emit_json

__all__ = ["key_generate"]


def key_generate(p: argparse.ArgumentParser) -> None:
    """``key generate --out FILE [--encryption]``."""
    opt.add(p, "--out", required=True, metavar="FILE",
            help="the private key file (made mode 0600); the public one is FILE.pub")
    opt.add(p, "--encryption", action="store_const", const=True,
            help="an age X25519 key for sealed evidence (--encrypt-for / --identity) instead "
            "of an Ed25519 signing key (--signing-key)")
    opt.add_output(p, ("table", "json"))
    p.set_defaults(handler=_key_generate)


def _key_generate(args: argparse.Namespace) -> int:
    from affidavit.api import keys

    out = opt.required(args.out, "--out")
    made = (keys.generate_encryption_key(out) if args.encryption
            else keys.generate_signing_key(out))
    if args.output == "json":
        emit_json(made)
        return 0
    if made["kind"] == "signing":
        sys.stdout.write(f"signing key {made['private']} (keep it secret)\n"
                         f"public key  {made['public']}\n"
                         f"key id      {made['keyid']}\n")
    else:
        sys.stdout.write(f"identity    {made['private']} (keep it secret)\n"
                         f"recipient   {made['recipient']}  (also in {made['public']})\n")
    return 0
