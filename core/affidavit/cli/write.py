"""``create``, ``begin`` and ``attest``: map flags onto ``affidavit.api.record``."""

from __future__ import annotations

import argparse
import sys

from affidavit.cli import options as opt
from affidavit.cli.output import emit_json
from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "create_flow",
    "begin_trail",
    "attest_artifact",
    "attest_generic",
    "attest_flags",
    "claim",
    "show",
    "open_for_write",
]


def _bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {value!r}")


def _common(parser: argparse.ArgumentParser,
            outputs: tuple[str, ...] = ("table", "json")) -> None:
    opt.add_ledger(parser)
    opt.add_dry_run(parser)
    opt.add_output(parser, outputs)
    opt.add_summary_file(parser)
    opt.add_outputs_file(parser)


def _trail_flags(parser: argparse.ArgumentParser, name_required: bool = True) -> None:
    opt.add(parser, "--flow", required=True, help="flow name")
    opt.add(parser, "--trail", required=True, help="trail name (default in CI: the commit)")
    opt.add(parser, "--name", required=name_required,
            help="template name of the attestation or artifact")


def _meta_flags(parser: argparse.ArgumentParser) -> None:
    opt.add(parser, "--commit", help="full git commit SHA the record is about (default in CI: "
            "the build's commit); its details are read from the local checkout")
    opt.add(parser, "--redact-commit-info", nargs="+", metavar="FIELD",
            help="leave out of the commit: author, committer, message, branch")
    opt.add(parser, "--origin-url", help="link to where this was produced (default in CI: the "
            "build URL)")
    opt.add(parser, "--annotate", nargs="+", metavar="KEY=VALUE", help="annotations")
    parser.set_defaults(ci_defaults=True)


def attest_flags(parser: argparse.ArgumentParser, name_required: bool = True) -> None:
    """The flags every ``attest <type>`` command shares."""
    _trail_flags(parser, name_required)
    opt.add(parser, "--fingerprint", help="bind to this artifact instead of the trail")
    opt.add(parser, "--attachments", nargs="+", metavar="PATH", help="evidence files/dirs")
    opt.add(parser, "--user-data", metavar="FILE", help="JSON file to record with it")
    opt.add(parser, "--redact", nargs="+", metavar="POINTER",
            help="JSON pointers under /user_data or /predicate to leave out (before hashing "
            "and judging; the entry lists them)")
    opt.add(parser, "--signing-key", metavar="FILE",
            help="Ed25519 PEM key: record the statement in a DSSE envelope it signs")
    opt.add(parser, "--encrypt-for", nargs="+", metavar="RECIPIENT",
            help="seal the evidence files here for these age recipients (age1…, or a file of "
            "them): the ledger stores only ciphertext")
    opt.add(parser, "--sigstore-bundle", metavar="FILE",
            help="Sigstore bundle (a GitHub artifact attestation, cosign/sigstore sign "
            "output): verified with sigstore before anything is written, attached, and what "
            "it says recorded")
    opt.add(parser, "--certificate-identity", metavar="ID",
            help="the identity (SAN) the bundle's certificate must carry")
    opt.add(parser, "--certificate-oidc-issuer", metavar="URL",
            help="the OIDC issuer the bundle's certificate must carry")
    _meta_flags(parser)
    _common(parser, ("table", "json", "markdown"))
    opt.add(parser, "--assert", dest="assert_gate", action="store_const", const=True,
            help="exit 1 (after recording) when the attestation is not compliant")


def claim(args: argparse.Namespace) -> Any:
    """The shared part of an attestation, from the flags :func:`attest_flags` added."""
    from affidavit.api.record import Claim

    return Claim(
        flow=args.flow, trail=args.trail, name=args.name, fingerprint=args.fingerprint,
        attachments=args.attachments, user_data_file=args.user_data,
        annotations=args.annotate, origin_url=args.origin_url, commit=args.commit,
        commit_url=getattr(args, "commit_url", None), redact=args.redact_commit_info or (),
        dry_run=bool(args.dry_run), split_artifact=getattr(args, "split_artifact", True),
        signing_key=args.signing_key, redact_paths=args.redact or (),
        encrypt_for=args.encrypt_for or (),
        sigstore_bundle=getattr(args, "sigstore_bundle", None),
        certificate_identity=getattr(args, "certificate_identity", None),
        certificate_oidc_issuer=getattr(args, "certificate_oidc_issuer", None))


def create_flow(p: argparse.ArgumentParser) -> None:
    """``create flow NAME``."""
    p.add_argument("name", help="flow name")
    opt.add(p, "--description", help="what the flow is for")
    opt.add(p, "--template-file", help="flow template (YAML, version: 1)")
    opt.add(p, "--tag", nargs="+", metavar="KEY=VALUE",
            help="set tags (what a policy's flow.tags.KEY reads); others are kept")
    opt.add(p, "--untag", nargs="+", metavar="KEY", help="remove tags")
    _common(p)
    p.set_defaults(handler=_create_flow)


def begin_trail(p: argparse.ArgumentParser) -> None:
    """``begin trail NAME --flow F``."""
    p.add_argument("name", nargs="?", help="trail name (default in CI: the commit)")
    opt.add(p, "--flow", required=True, help="flow name")
    opt.add(p, "--description", help="what the trail is about")
    opt.add(p, "--template-file", help="template overriding the flow's")
    opt.add(p, "--create-flow", action="store_const", const=True,
            help="create the flow when it does not exist (nothing when it does)")
    opt.add(p, "--flow-description", help="the flow's description: recorded when it differs "
            "(implies --create-flow)")
    opt.add(p, "--flow-template-file", help="the flow's template (YAML, version: 1): recorded "
            "when it differs (implies --create-flow)")
    _common(p, ("table", "json", "markdown"))
    p.set_defaults(handler=_begin_trail)


def attest_artifact(p: argparse.ArgumentParser) -> None:
    """``attest artifact PATH|IMAGE``."""
    p.add_argument("path", nargs="?", metavar="PATH|IMAGE",
                   help="file or directory, or image reference (oci, docker), to fingerprint")
    _trail_flags(p)
    opt.add_artifact_type(p, "PATH|IMAGE")
    opt.add(p, "--fingerprint", help="SHA-256 of the artifact, instead of PATH")
    opt.add(p, "--exclude", nargs="+", metavar="GLOB", help="paths to leave out of a dir")
    _meta_flags(p)
    _common(p, ("table", "json", "markdown"))
    p.set_defaults(handler=_attest_artifact)


def attest_generic(p: argparse.ArgumentParser) -> None:
    """``attest generic``."""
    attest_flags(p)
    opt.add(p, "--compliant", type=_bool, metavar="true|false", help="the claim (default true)")
    p.set_defaults(handler=_attest_generic)


def show(args: argparse.Namespace, recorded: Any) -> int:
    """Print what a write command recorded (or would have, on a dry run); with ``--assert``,
    exit 1 when the attestation is not compliant."""
    record = recorded.entry["record"]
    code = 1 if getattr(args, "assert_gate", None) and record.get("compliant") is False else 0
    try:
        if getattr(args, "summary_file", None):
            from affidavit.cli.markdown import render

            opt.append_summary(args.summary_file, render(recorded))
        opt.write_outputs(getattr(args, "outputs_file", None), recorded.outputs())
    except UsageError as exc:  # checked writable before; now full, say, and the entry is in
        if recorded.entry_index is None:
            raise
        raise UsageError(f"{exc.message}, after entry {recorded.entry_index} was recorded",
                         remedy="the entry stands; rerun with --dry-run for its summary"
                         ) from None
    if args.output == "json":
        emit_json(recorded.to_json())
        return code
    if args.output == "markdown":
        from affidavit.cli.markdown import render

        sys.stdout.write(render(recorded))
        return code
    if recorded.flow_change is not None:
        _table(recorded.flow_change)
    return _table(recorded, code)


def _table(recorded: Any, code: int = 0) -> int:
    """The plain-text lines of one write: what was recorded (or not, on a dry run), and why an
    attestation is not compliant."""
    entry = recorded.entry
    record = entry["record"]
    what = f"{entry['kind']} {record['name']!r}"
    verdict = ""
    if "compliant" in record:
        verdict = ": compliant" if record["compliant"] else ": NOT compliant"
    if recorded.dry_run:
        emit_json(entry)
        sys.stderr.write(f"dry run: {what} was not recorded{verdict}\n")
        if recorded.trail_status:
            sys.stderr.write(f"dry run: trail {record['flow']}/{record['trail']} would be "
                             f"{recorded.trail_status}\n")
    else:
        size = recorded.entry_index + 1
        sys.stdout.write(
            f"recorded {what} as entry {recorded.entry_index} (ledger size {size}){verdict}\n")
    for note in recorded.notes:
        sys.stdout.write(f"  {note}\n")
    for reason in recorded.reasons:
        sys.stdout.write(f"  - {reason}\n")
    return code


def open_for_write(args: argparse.Namespace) -> Any:
    from affidavit.api.ledgers import open_ledger

    opt.check_output_files(args)
    return open_ledger(args.ledger, create=not args.dry_run)


def _create_flow(args: argparse.Namespace) -> int:
    from affidavit.api import record
    from affidavit.api.inputs import parse_tags

    return show(args, record.create_flow(
        open_for_write(args), name=opt.required(args.name, "flow name"),
        description=args.description, template_file=args.template_file,
        tags=parse_tags(args.tag, args.untag), dry_run=bool(args.dry_run)))


def _begin_trail(args: argparse.Namespace) -> int:
    from affidavit.api import record
    from affidavit.api.context import trail_name

    return show(args, record.begin_trail(
        open_for_write(args), flow=args.flow, name=trail_name(args.name, "begin trail"),
        description=args.description, template_file=args.template_file,
        create_flow=bool(args.create_flow), flow_description=args.flow_description,
        flow_template_file=args.flow_template_file, dry_run=bool(args.dry_run)))


def _attest_artifact(args: argparse.Namespace) -> int:
    from affidavit.api import record

    return show(args, record.attest_artifact(
        open_for_write(args), flow=args.flow, trail=args.trail, name=args.name,
        path=None if args.path is None else opt.required(args.path, "PATH"),
        artifact_type=args.artifact_type or "file", fingerprint=args.fingerprint,
        commit=args.commit, commit_url=getattr(args, "commit_url", None),
        redact=args.redact_commit_info or (), origin_url=args.origin_url,
        annotations=args.annotate, exclude=opt.comma_list(args.exclude),
        dry_run=bool(args.dry_run), registry_username=args.registry_username,
        registry_password=args.registry_password))


def _attest_generic(args: argparse.Namespace) -> int:
    from affidavit.api import record

    return show(args, record.attest_generic(
        open_for_write(args), claim(args),
        compliant=True if args.compliant is None else args.compliant))
