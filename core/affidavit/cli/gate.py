"""``assert trail|artifact|attestation``: exit 0 when compliant, 1 when not, and say why."""

from __future__ import annotations

import argparse
import sys

from affidavit.cli import options as opt
from affidavit.cli.output import emit_json

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["assert_trail", "assert_artifact", "assert_attestation", "report"]

_OUTPUTS = ("table", "json", "markdown")


def _common(p: argparse.ArgumentParser) -> None:
    opt.add_ledger(p)
    opt.add_output(p, _OUTPUTS)
    opt.add_summary_file(p)
    opt.add_outputs_file(p)


def assert_trail(p: argparse.ArgumentParser) -> None:
    """``assert trail NAME --flow F``."""
    p.add_argument("name", nargs="?", help="trail name (default in CI: the commit)")
    opt.add(p, "--flow", required=True, help="flow name")
    _common(p)
    p.set_defaults(handler=_assert_trail)


def assert_artifact(p: argparse.ArgumentParser) -> None:
    """``assert artifact FINGERPRINT_OR_PATH [--flow F]``."""
    p.add_argument("artifact", help="SHA-256 fingerprint, or a file, directory or image (with "
                   "--artifact-type oci|docker) to fingerprint")
    opt.add(p, "--flow", help="only trails of this flow")
    opt.add_artifact_type(p, "a PATH or IMAGE")
    opt.add(p, "--environment", metavar="ENV",
            help="instead: does it meet the policies attached to this environment?")
    _common(p)
    p.set_defaults(handler=_assert_artifact)


def assert_attestation(p: argparse.ArgumentParser) -> None:
    """``assert attestation NAME --flow F --trail T``."""
    p.add_argument("name")
    opt.add(p, "--flow", required=True, help="flow name")
    opt.add(p, "--trail", required=True, help="trail name")
    _common(p)
    p.set_defaults(handler=_assert_attestation)


def _markdown(result: dict[str, Any]) -> str:
    from affidavit.cli.markdown import escape

    mark = "✅" if result["compliant"] else "❌"
    lines = [f"### {mark} {escape(result['subject'])}: {result['status']}", ""]
    lines += [f"- {escape(reason)}" for reason in result["reasons"]]
    return "\n".join(lines).rstrip() + "\n"


def report(output: str | None, result: dict[str, Any], summary_file: str | None = None,
           outputs_file: str | None = None) -> int:
    """Print a gate's result (and append its markdown to ``summary_file``, its outputs to
    ``outputs_file``); 0 when compliant, 1 when not."""
    from affidavit.api.gate import outputs

    opt.append_summary(summary_file, _markdown(result))
    opt.write_outputs(outputs_file, outputs(result))
    if output == "json":
        emit_json(result)
    elif output == "markdown":
        sys.stdout.write(_markdown(result))
    else:
        sys.stdout.write(f"{result['status']}: {result['subject']}\n")
        sys.stdout.write("".join(f"  - {reason}\n" for reason in result["reasons"]))
    return 0 if result["compliant"] else 1


def _ledger(args: argparse.Namespace) -> Any:
    """The ledger to decide on, once the files the result goes to are known to be writable: a
    gate that decided and then could not say so would fail the step after the fact."""
    from affidavit.api.ledgers import open_ledger

    opt.check_output_files(args)
    return open_ledger(args.ledger)


def _assert_trail(args: argparse.Namespace) -> int:
    from affidavit.api import gate
    from affidavit.api.context import trail_name

    result = gate.assert_trail(_ledger(args), args.flow, trail_name(args.name, "assert trail"))
    return report(args.output, result, args.summary_file, args.outputs_file)


def _assert_artifact(args: argparse.Namespace) -> int:
    from affidavit.api import gate

    if args.environment:
        from affidavit.api import policies

        if args.flow:
            from affidavit.errors import UsageError

            raise UsageError("--environment judges by the environment's policies: leave out "
                             "--flow")
        fingerprint = gate.resolve_fingerprint(opt.required(args.artifact, "artifact"),
                                               args.artifact_type, **_registry(args))
        result = policies.assert_artifact_in(_ledger(args), fingerprint, args.environment)
        return report(args.output, result, args.summary_file, args.outputs_file)
    result = gate.assert_artifact(_ledger(args), opt.required(args.artifact, "artifact"),
                                  args.flow, artifact_type=args.artifact_type,
                                  **_registry(args))
    return report(args.output, result, args.summary_file, args.outputs_file)


def _registry(args: argparse.Namespace) -> dict[str, str | None]:
    return {"registry_username": args.registry_username,
            "registry_password": args.registry_password}


def _assert_attestation(args: argparse.Namespace) -> int:
    from affidavit.api import gate

    result = gate.assert_attestation(_ledger(args), args.flow, args.trail,
                                     opt.required(args.name, "attestation name"))
    return report(args.output, result, args.summary_file, args.outputs_file)
