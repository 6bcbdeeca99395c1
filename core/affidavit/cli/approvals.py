"""``attest approval|decision``, ``request approval`` and ``assert approval [--wait]``."""

from __future__ import annotations

import argparse

from affidavit.cli import options as opt
from affidavit.cli.write import _bool, attest_flags, claim, open_for_write, show

__all__ = ["attest_approval", "attest_decision", "request_approval", "assert_approval"]


def attest_approval(p: argparse.ArgumentParser) -> None:
    """``attest approval --approver ID [--deny] [--reason TEXT]``."""
    attest_flags(p)
    opt.add(p, "--approver", required=True, metavar="ID", help="who approves (login or email)")
    opt.add(p, "--deny", action="store_const", const=True, help="record a refusal instead")
    opt.add(p, "--reason", help="why")
    p.set_defaults(handler=_attest_approval)


def attest_decision(p: argparse.ArgumentParser) -> None:
    """``attest decision --control ID --compliant true|false --reason TEXT``."""
    attest_flags(p, name_required=False)
    opt.add(p, "--control", required=True, metavar="ID", help="the control decided on; also "
            "the attestation name unless --name is given")
    opt.add(p, "--compliant", required=True, type=_bool, metavar="true|false",
            help="the decision")
    opt.add(p, "--reason", required=True, help="why: what an auditor will read")
    # Control ids are dotted (CC-7.1): the name never means ARTIFACT.ATTESTATION here.
    p.set_defaults(handler=_attest_decision, split_artifact=False)


def request_approval(p: argparse.ArgumentParser) -> None:
    """``request approval --approvers a,b [--reason TEXT]``."""
    attest_flags(p)
    opt.add(p, "--approvers", required=True, nargs="+", metavar="ID",
            help="who may approve (comma- or space-separated)")
    opt.add(p, "--reason", help="what the approval is for")
    opt.add(p, "--requester", metavar="ID", help="who asks: with a slot's distinct_from_author "
            "their own approval does not count (four eyes)")
    p.set_defaults(handler=_request_approval)


def assert_approval(p: argparse.ArgumentParser) -> None:
    """``assert approval --flow F --trail T --name N [--wait] [--timeout 30m]``."""
    opt.add(p, "--flow", required=True, help="flow name")
    opt.add(p, "--trail", required=True, help="trail name")
    opt.add(p, "--name", required=True, help="approval name")
    opt.add(p, "--wait", action="store_const", const=True,
            help="block until approved (exit 0), denied or timed out (exit 1)")
    opt.add(p, "--timeout", metavar="DURATION", help="with --wait: 30s, 10m, 2h (default 30m)")
    opt.add(p, "--poll", metavar="DURATION", help="with --wait: how often to look (default 5s)")
    opt.add_ledger(p)
    opt.add_output(p, ("table", "json", "markdown"))
    opt.add_summary_file(p)
    opt.add_outputs_file(p)
    p.set_defaults(handler=_assert_approval)


def _attest_approval(args: argparse.Namespace) -> int:
    from affidavit.api import approvals

    return show(args, approvals.attest_approval(
        open_for_write(args), claim(args), approver=args.approver, approved=not args.deny,
        reason=args.reason))


def _attest_decision(args: argparse.Namespace) -> int:
    from affidavit.api import approvals

    if args.name is None:
        args.name = args.control
    return show(args, approvals.attest_decision(
        open_for_write(args), claim(args), control=args.control, compliant=args.compliant,
        reason=args.reason))


def _request_approval(args: argparse.Namespace) -> int:
    from affidavit.api import approvals

    return show(args, approvals.request_approval(
        open_for_write(args), claim(args), approvers=args.approvers, reason=args.reason,
        requester=args.requester))


def _assert_approval(args: argparse.Namespace) -> int:
    from affidavit.api import approvals
    from affidavit.api.durations import duration
    from affidavit.api.ledgers import open_ledger
    from affidavit.cli.gate import report

    def fresh() -> object:
        return open_ledger(args.ledger)

    opt.check_output_files(args)  # before a wait that may last half an hour
    if args.wait:
        result = approvals.wait_for_approval(
            fresh, args.flow, args.trail, args.name,  # type: ignore[arg-type]
            timeout_s=duration(args.timeout or "30m", "--timeout"),
            poll_s=duration(args.poll or "5s", "--poll"))
    else:
        ledger = open_ledger(args.ledger)
        result = approvals.approval_status(ledger, args.flow, args.trail, args.name)
    result["status"] = result["status"].upper().replace(" ", "_")
    return report(args.output, result, args.summary_file, args.outputs_file)
