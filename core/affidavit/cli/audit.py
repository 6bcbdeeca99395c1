"""``fingerprint``, ``evidence``, ``verify``, ``ledger`` and ``schema``."""

from __future__ import annotations

import argparse
import sys

from affidavit.cli import options as opt
from affidavit.cli.output import emit_json

TYPE_CHECKING = False  # typing costs 3 ms to import; `affidavit fingerprint` avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "fingerprint",
    "evidence_get",
    "evidence_package",
    "verify_package",
    "verify_ledger",
    "ledger_init",
    "ledger_public_key",
    "ledger_reindex",
    "schema",
]


def fingerprint(p: argparse.ArgumentParser) -> None:
    """``fingerprint PATH|IMAGE --artifact-type file|dir|oci|docker``."""
    p.add_argument("path", type=opt.path_text, metavar="PATH|IMAGE",
                   help="file or directory, or an image reference for oci and docker")
    opt.add_artifact_type(p, "PATH|IMAGE", required=True)
    opt.add(p, "--exclude", nargs="+", metavar="GLOB", help="paths to leave out of a dir")
    opt.add_output(p)
    p.set_defaults(handler=_fingerprint)


def evidence_get(p: argparse.ArgumentParser) -> None:
    """``evidence get DIGEST -o FILE``."""
    p.add_argument("digest")
    opt.add(p, "-o", "--out", type=opt.path, required=True, help="file to write")
    opt.add(p, "--identity", metavar="FILE", help="age identity: open sealed evidence and "
            "check the plaintext against its commitment")
    opt.add_ledger(p)
    p.set_defaults(handler=_evidence_get)


def evidence_package(p: argparse.ArgumentParser) -> None:
    """``evidence package (--flow F --trail T | --fingerprint SHA [--flow F]) -o ZIP``."""
    opt.add(p, "--flow", help="flow of the trail; with --fingerprint, only its trails in it")
    opt.add(p, "--trail", help="trail to package (default in CI, without --fingerprint: the "
            "commit)")
    opt.add(p, "--fingerprint", help="artifact to package (with its trails)")
    opt.add(p, "-o", "--out", type=opt.path, required=True, help="zip file to write")
    opt.add(p, "--identity", metavar="FILE", help="age identity: also open the sealed "
            "evidence into the package (opened/), each file checked against its commitment")
    opt.add_ledger(p)
    opt.add_output(p)
    p.set_defaults(handler=_evidence_package)


def verify_package(p: argparse.ArgumentParser) -> None:
    """``verify package ZIP --public-key KEY``."""
    p.add_argument("package", type=opt.path)
    opt.add(p, "--public-key", required=True, help="the ledger's verifier key")
    opt.add(p, "--trusted-keys", metavar="FILE", help="Ed25519 public keys (PEM, as key "
            "generate writes FILE.pub): every signed attestation must be signed by one")
    opt.add(p, "--witness", nargs="+", metavar="VKEY", help="witness verifier keys: the "
            "package's checkpoint must carry a valid cosignature by each")
    opt.add_output(p)
    p.set_defaults(handler=_verify_package)


def verify_ledger(p: argparse.ArgumentParser) -> None:
    """``verify ledger [--public-key KEY] [--deep]``."""
    opt.add(p, "--public-key", help="the verifier key the ledger must be signed with (pins it "
            "for an auditor on a fresh machine)")
    opt.add(p, "--deep", action="store_const", const=True,
            help="also rehash every evidence file in the vault")
    opt.add_ledger(p)
    opt.add_output(p)
    p.set_defaults(handler=_verify_ledger)


def ledger_init(p: argparse.ArgumentParser) -> None:
    """``ledger init [--reuse-key]``."""
    opt.add(p, "--reuse-key", action="store_const", const=True,
            help="start a new history (fresh origin) signed by the key file already there")
    opt.add_ledger(p)
    p.set_defaults(handler=_init)


def ledger_public_key(p: argparse.ArgumentParser) -> None:
    """``ledger public-key``."""
    opt.add_ledger(p)
    p.set_defaults(handler=_public_key)


def ledger_reindex(p: argparse.ArgumentParser) -> None:
    """``ledger reindex``."""
    opt.add_ledger(p)
    p.set_defaults(handler=_reindex)


def schema(p: argparse.ArgumentParser) -> None:
    """``schema TYPE``."""
    p.add_argument("type", help="entry, flow, trail, artifact, attestation, statement, "
                   "template, checkpoint, evidence, a predicate: junit, sarif, snyk, vulns, "
                   "sbom, coverage, jira, sonar, pull_request, or package-manifest (an "
                   "evidence package's manifest.json)")
    p.set_defaults(handler=_schema)


def _ledger(args: argparse.Namespace) -> Any:
    from affidavit.api.ledgers import open_ledger

    return open_ledger(args.ledger)


def _fingerprint(args: argparse.Namespace) -> int:
    from affidavit.api.fingerprints import describe

    digest, image = describe(args.path, args.artifact_type, opt.comma_list(args.exclude),
                             registry_username=args.registry_username,
                             registry_password=args.registry_password)
    if args.output == "json":
        shown: dict[str, Any] = {"fingerprint": digest, "artifact_type": args.artifact_type}
        emit_json({**shown, "image": image} if image is not None else shown)
    else:
        sys.stdout.write(digest + "\n")
    return 0


def _evidence_get(args: argparse.Namespace) -> int:
    from affidavit.api.evidence import get_evidence

    size = get_evidence(_ledger(args), opt.required(args.digest, "digest"), args.out,
                        identity=args.identity)
    sys.stderr.write(f"wrote {args.out} ({size} bytes)\n")
    return 0


def _evidence_package(args: argparse.Namespace) -> int:
    from affidavit.api.evidence import package

    if args.trail is None and args.fingerprint is None:
        # a CI job packages its own trail, named after the commit like every write's default
        from affidavit.api.context import ci_defaults

        args.trail = ci_defaults().commit
    summary = package(_ledger(args), flow=args.flow, trail=args.trail,
                      fingerprint=args.fingerprint, out=args.out, identity=args.identity)
    if args.output == "json":
        emit_json(summary)
    else:
        sys.stdout.write(
            f"wrote {args.out}: {summary['entries']} entries, {summary['evidence']} evidence "
            f"files{_opened(summary)}, checkpoint size {summary['tree_size']}\n")
    return 0


def _opened(summary: dict[str, Any]) -> str:
    return f" ({summary['opened']} opened)" if summary.get("opened") else ""


def _verify_package(args: argparse.Namespace) -> int:
    from affidavit.api.verification import verify_package

    result = verify_package(args.package, args.public_key, trusted_keys=args.trusted_keys,
                            witnesses=args.witness or ())
    if args.output == "json":
        emit_json(result)
    else:
        lines = [result["summary"]]
        for trail in result["trails"]:
            lines.append(f"{trail['status']}: trail {trail['flow']}/{trail['trail']} "
                         "(recomputed from the package)")
            lines += [f"  - {reason}" for reason in trail["reasons"]]
        sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _verify_ledger(args: argparse.Namespace) -> int:
    from affidavit.api.verification import verify_ledger

    result = verify_ledger(_ledger(args), public_key=args.public_key, deep=bool(args.deep))
    if args.output == "json":
        emit_json(result)
    else:
        sys.stdout.write(result["summary"] + "\n")
    return 0


def _init(args: argparse.Namespace) -> int:
    from affidavit.api.ledgers import init_ledger, public_key

    ledger, origin = init_ledger(args.ledger, reuse_key=bool(args.reuse_key))
    sys.stdout.write(f"ledger {ledger.url}: origin {origin}\n"
                     f"verifier key {public_key(ledger)}\n")
    return 0


def _public_key(args: argparse.Namespace) -> int:
    from affidavit.api.ledgers import public_key

    sys.stdout.write(public_key(_ledger(args)) + "\n")
    return 0


def _reindex(args: argparse.Namespace) -> int:
    from affidavit.api.ledgers import reindex

    count = reindex(_ledger(args))
    sys.stdout.write(f"reindexed {count} entries\n")
    return 0


def _schema(args: argparse.Namespace) -> int:
    from affidavit.api.schemas import schema

    emit_json(schema(args.type))
    return 0
