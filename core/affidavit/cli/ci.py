"""``affidavit ci env``: what the CI detection sees, so a wrapper's defaults can be checked."""

from __future__ import annotations

import argparse
import sys

from affidavit.cli import options as opt
from affidavit.cli.output import emit_json, key_values

__all__ = ["ci_env"]


def ci_env(p: argparse.ArgumentParser) -> None:
    """``ci env``."""
    opt.add_output(p)
    p.set_defaults(handler=_ci_env)


def _ci_env(args: argparse.Namespace) -> int:
    from affidavit.api.context import detect_ci

    found = detect_ci()
    if args.output == "json":
        emit_json(found)
        return 0
    if found is None:
        sys.stdout.write("no CI detected\n")
        return 0
    sys.stdout.write(key_values([(k.replace("_", " ").capitalize(), v)
                                 for k, v in found.items()]) + "\n")
    return 0
