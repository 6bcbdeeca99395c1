"""``create attestation-type`` and ``attest custom``: map flags onto ``affidavit.api.custom``."""

from __future__ import annotations

import argparse

from affidavit.cli import options as opt
from affidavit.cli.write import attest_flags, claim, open_for_write, show

__all__ = ["create_attestation_type", "attest_custom"]


def create_attestation_type(p: argparse.ArgumentParser) -> None:
    """``create attestation-type NAME --schema FILE [--rule EXPR...]``."""
    p.add_argument("name", help="type name, used as `custom:NAME` in templates")
    opt.add(p, "--schema", required=True, metavar="FILE", help="JSON Schema of the data")
    opt.add(p, "--rule", nargs="+", metavar="EXPR",
            help="compliance rules over the data, e.g. 'coverage.lines >= 80'")
    opt.add(p, "--description", help="what the type attests")
    opt.add_ledger(p)
    opt.add_dry_run(p)
    opt.add_output(p)
    p.set_defaults(handler=_create_attestation_type)


def attest_custom(p: argparse.ArgumentParser) -> None:
    """``attest custom --type NAME --attestation-data FILE``."""
    attest_flags(p)
    opt.add(p, "--type", required=True, dest="type_name", metavar="NAME",
            help="the attestation type (see `create attestation-type`)")
    opt.add(p, "--attestation-data", required=True, metavar="FILE", help="JSON data to check")
    p.set_defaults(handler=_attest_custom)


def _create_attestation_type(args: argparse.Namespace) -> int:
    from affidavit.api import custom

    return show(args, custom.create_attestation_type(
        open_for_write(args), name=opt.required(args.name, "type name"),
        schema_file=args.schema, rules=args.rule or (), description=args.description,
        dry_run=bool(args.dry_run)))


def _attest_custom(args: argparse.Namespace) -> int:
    from affidavit.api import custom

    return show(args, custom.attest_custom(
        open_for_write(args), claim(args), type_name=args.type_name,
        data_file=args.attestation_data))
