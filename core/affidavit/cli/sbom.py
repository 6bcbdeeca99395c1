"""``attest sbom``: map flags onto ``affidavit.api.sbom``."""

from __future__ import annotations

import argparse

from affidavit.cli import options as opt
from affidavit.cli.write import attest_flags, claim, open_for_write, show

__all__ = ["attest_sbom"]

_FIELDS = ("supplier", "version", "purl")


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(f"{value} is negative")
    return number


def attest_sbom(p: argparse.ArgumentParser) -> None:
    """``attest sbom --sbom-file FILE [--deny-license EXPR...] [--require-field FIELD]...
    [--max-components-without-license N]``."""
    attest_flags(p)
    opt.add(p, "--sbom-file", required=True, metavar="FILE",
            help="a CycloneDX (JSON or XML, 1.4-1.6) or SPDX (2.2/2.3 JSON or tag-value) SBOM, "
                 "found from its content")
    opt.add(p, "--deny-license", nargs="+", action="extend", metavar="EXPR",
            help="not compliant when a component's licence includes this SPDX identifier (an "
                 "expression denies every identifier it names; repeatable)")
    opt.add(p, "--require-field", nargs="+", action="extend", choices=_FIELDS,
            metavar="FIELD",
            help="not compliant when a component lacks it: supplier, version or purl "
                 "(repeatable)")
    opt.add(p, "--max-components-without-license", type=_count, metavar="N",
            help="not compliant with more than N components without a licence (default: no "
                 "limit)")
    opt.add(p, "--bind-described", action="store_const", const=True,
            help="bind to the sha256 digest the SBOM says it describes (its metadata component "
                 "or described package) instead of the trail")
    opt.add_attach(p, "the SBOM file")
    p.set_defaults(handler=_attest_sbom)


def _attest_sbom(args: argparse.Namespace) -> int:
    from affidavit.api import sbom

    return show(args, sbom.attest_sbom(
        open_for_write(args), claim(args), sbom_file=args.sbom_file,
        deny_license=args.deny_license or (), require_fields=args.require_field or (),
        max_components_without_license=args.max_components_without_license,
        bind_described=bool(args.bind_described), attach=args.attach is not False))
