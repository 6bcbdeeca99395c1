"""``create|attach|detach|get|list policy``, ``evaluate snapshot`` and ``assert snapshot``:
map flags onto ``affidavit.api.policies``."""

from __future__ import annotations

import argparse
import sys

from affidavit.cli import options as opt
from affidavit.cli.environments import show_write, write_flags, write_ledger
from affidavit.cli.output import emit_json, table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["create_policy", "attach_policy", "detach_policy", "get_policy", "list_policies",
           "evaluate_snapshot", "evaluate_trail", "evaluate_trails", "assert_snapshot"]


def _ledger(args: argparse.Namespace) -> Any:
    """The ledger to read and decide on, once the output files are known to be writable."""
    from affidavit.api.ledgers import open_ledger

    opt.check_output_files(args)
    return open_ledger(args.ledger)


def create_policy(p: argparse.ArgumentParser) -> None:
    """``create policy NAME --file F``."""
    p.add_argument("name", help="policy name")
    opt.add(p, "--file", required=True, metavar="FILE",
            help="the policy: Kosli environment policy v1 (YAML) or Rego (package policy)")
    opt.add(p, "--description", help="what the policy is for")
    write_flags(p)
    p.set_defaults(handler=_create_policy)


def _create_policy(args: argparse.Namespace) -> int:
    from affidavit.api import policies

    name = opt.required(args.name, "policy name")
    return show_write(args, policies.create_policy(
        write_ledger(args), name=name, file=opt.required(args.file, "--file"),
        description=args.description, dry_run=bool(args.dry_run)),
        f"policy {name!r} (a new version)")


def _attachment_flags(p: argparse.ArgumentParser, handler: Any) -> None:
    p.add_argument("name", help="policy name")
    opt.add(p, "--environment", required=True, help="a physical environment")
    write_flags(p)
    p.set_defaults(handler=handler)


def attach_policy(p: argparse.ArgumentParser) -> None:
    """``attach policy NAME --environment ENV``."""
    _attachment_flags(p, _attach)


def detach_policy(p: argparse.ArgumentParser) -> None:
    """``detach policy NAME --environment ENV``."""
    _attachment_flags(p, _detach)


def _attach(args: argparse.Namespace) -> int:
    from affidavit.api import policies

    name = opt.required(args.name, "policy name")
    return show_write(args, policies.attach_policy(
        write_ledger(args), name=name, environment=args.environment,
        dry_run=bool(args.dry_run)), f"policy {name!r} on {args.environment!r}")


def _detach(args: argparse.Namespace) -> int:
    from affidavit.api import policies

    name = opt.required(args.name, "policy name")
    return show_write(args, policies.detach_policy(
        write_ledger(args), name=name, environment=args.environment,
        dry_run=bool(args.dry_run)), f"policy {name!r} off {args.environment!r}")


def get_policy(p: argparse.ArgumentParser) -> None:
    """``get policy NAME [--policy-version N]``."""
    p.add_argument("name")
    opt.add(p, "--policy-version", type=int, metavar="N",
            help="this version (default: the latest)")
    opt.add_ledger(p)
    opt.add_output(p)
    p.set_defaults(handler=_get_policy)


def _get_policy(args: argparse.Namespace) -> int:
    from affidavit.api import policies
    from affidavit.errors import NotFoundError

    name = opt.required(args.name, "policy name")
    versions = policies.policy_versions(_ledger(args), name)
    if not versions:
        raise NotFoundError(f"policy {name!r} does not exist")
    chosen = versions[-1] if args.policy_version is None else next(
        (v for v in versions if v["version"] == args.policy_version), None)
    if chosen is None:
        raise NotFoundError(f"policy {name!r} has versions 1 to {len(versions)}")
    if args.output == "json":
        emit_json({**chosen, "versions": len(versions)})
        return 0
    record = chosen["record"]
    sys.stdout.write(f"# policy {name} version {chosen['version']} of {len(versions)} "
                     f"({record['language']}, sha256 {record['digest']}, entry "
                     f"{chosen['entry']})\n{record['text']}")
    return 0


def list_policies(p: argparse.ArgumentParser) -> None:
    """``list policies``."""
    opt.add_ledger(p)
    opt.add_output(p)
    p.set_defaults(handler=_list_policies)


def _list_policies(args: argparse.Namespace) -> int:
    from affidavit.api import policies

    found = policies.list_policies(_ledger(args))
    if args.output == "json":
        emit_json(found)
        return 0
    sys.stdout.write(table(["name", "versions", "language", "description"],
                           [[p["name"], p["versions"], p["language"], p["description"]]
                            for p in found]) + "\n")
    return 0


def evaluate_snapshot(p: argparse.ArgumentParser) -> None:
    """``evaluate snapshot ENV --policy F [--since 30d]``."""
    p.add_argument("environment", help="a physical environment")
    opt.add(p, "--policy", required=True, metavar="FILE",
            help="a policy file to try (nothing is recorded)")
    opt.add(p, "--since", metavar="AGE_OR_TIME",
            help="what-if: every snapshot since then, and what the policy would have blocked")
    opt.add_ledger(p)
    opt.add_output(p)
    p.set_defaults(handler=_evaluate_snapshot)


def _evaluate_snapshot(args: argparse.Namespace) -> int:
    from affidavit.api import policies

    found = policies.evaluate_snapshot(
        _ledger(args), opt.required(args.environment, "environment name"),
        opt.required(args.policy, "--policy"), since=args.since)
    if args.output == "json":
        emit_json(found)
        return 0
    for shot in found["snapshots"]:
        sys.stdout.write(f"{found['environment']}#{shot['number']} {shot['time']}: "
                         f"{shot['status']}\n")
        sys.stdout.writelines(f"  - {reason}\n" for reason in shot["reasons"])
    if "would_block" in found:
        sys.stdout.write(f"{found['would_block']} of {len(found['snapshots'])} snapshots since "
                         f"{found['since']} would not be compliant\n")
    return 0


def evaluate_trail(p: argparse.ArgumentParser) -> None:
    """``evaluate trail NAME --flow F --policy FILE``."""
    p.add_argument("name", help="trail name")
    _trail_flags(p)


def evaluate_trails(p: argparse.ArgumentParser) -> None:
    """``evaluate trails [NAME…] --flow F --policy FILE``."""
    p.add_argument("name", nargs="*", help="trail names (default: every trail of the flow)")
    _trail_flags(p)


def _trail_flags(p: argparse.ArgumentParser) -> None:
    opt.add(p, "--flow", required=True, help="flow name")
    opt.add(p, "--policy", required=True, metavar="FILE",
            help="a policy file (YAML v1 or Rego) to judge the trails by, recording nothing")
    opt.add_ledger(p)
    opt.add_output(p)
    p.set_defaults(handler=_evaluate_trails)


def _evaluate_trails(args: argparse.Namespace) -> int:
    """Exit 0 when every trail is compliant with the policy, 1 when one is not."""
    from affidavit.api import policies

    names = args.name if isinstance(args.name, list) else [opt.required(args.name, "trail")]
    found = policies.evaluate_trails(_ledger(args), args.flow, names,
                                     opt.required(args.policy, "--policy"))
    if args.output == "json":
        emit_json(found)
    else:
        for trail in found["trails"]:
            sys.stdout.write(f"{trail['status']}: trail {found['flow']}/{trail['trail']}\n")
            sys.stdout.writelines(f"  - {reason}\n" for reason in trail["reasons"])
    return 0 if found["compliant"] else 1


def assert_snapshot(p: argparse.ArgumentParser) -> None:
    """``assert snapshot ENV``."""
    p.add_argument("environment", help="a physical environment")
    opt.add_ledger(p)
    opt.add_output(p, ("table", "json", "markdown"))
    opt.add_summary_file(p)
    opt.add_outputs_file(p)
    p.set_defaults(handler=_assert_snapshot)


def _assert_snapshot(args: argparse.Namespace) -> int:
    from affidavit.api import policies
    from affidavit.cli.gate import report

    result = policies.assert_snapshot(_ledger(args),
                                      opt.required(args.environment, "environment name"))
    return report(args.output, result, args.summary_file, args.outputs_file)
