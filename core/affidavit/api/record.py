"""Write operations: each builds its entry, checks it against the ledger, and appends it.

With ``dry_run`` the same entry is built and checked (files are hashed, the trail must exist)
but nothing is written: not the entry, not the evidence.
"""

from __future__ import annotations

import os

from affidavit import canonical
from affidavit.api import inputs
from affidavit.errors import NotFoundError, UsageError
from affidavit.ledger import index
from affidavit.ledger.blobs import hash_file
from affidavit.models import build
from affidavit.models.fields import COMMIT_PATTERN, check_name, check_sha256

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.api.inputs import PathArg
    from affidavit.ledger.base import Ledger

__all__ = [
    "Recorded",
    "create_flow",
    "begin_trail",
    "attest_artifact",
    "attest_generic",
    "require_trail",
]


class Recorded:
    """An entry that was appended (``entry_index`` set) or would have been (``dry_run``)."""

    __slots__ = ("entry", "entry_index", "checkpoint", "dry_run")

    def __init__(self, *, entry: dict[str, Any], entry_index: int | None,
                 checkpoint: str | None, dry_run: bool) -> None:
        self.entry = entry
        self.entry_index = entry_index
        self.checkpoint = checkpoint
        self.dry_run = dry_run

    def to_json(self) -> dict[str, Any]:
        """The stable ``--output json`` shape of a write command."""
        return {
            "dry_run": self.dry_run,
            "index": self.entry_index,
            "entry": self.entry,
            "checkpoint": self.checkpoint,
        }


def _append(ledger: Ledger, entry: dict[str, Any], dry_run: bool) -> Recorded:
    if dry_run:
        return Recorded(entry=entry, entry_index=None, checkpoint=None, dry_run=True)
    appended = ledger.append([canonical.dumps(entry)], [entry])
    return Recorded(
        entry=entry, entry_index=appended.first, checkpoint=appended.checkpoint, dry_run=False
    )


def require_flow(ledger: Ledger, flow: str) -> None:
    """Refuse to write into a flow that was never created (a typo, usually)."""
    if not ledger.lookup(index.flow_key(flow)):
        raise NotFoundError(f"flow {flow!r} does not exist", remedy="run `affidavit create flow`")


def require_trail(ledger: Ledger, flow: str, trail: str) -> None:
    """Refuse to attest to a trail that was never begun."""
    require_flow(ledger, flow)
    if not ledger.lookup(index.trail_key(flow, trail)):
        raise NotFoundError(
            f"trail {trail!r} does not exist in flow {flow!r}",
            remedy="run `affidavit begin trail` first",
        )


def _commit(sha: str | None) -> dict[str, Any] | None:
    if sha is None:
        return None
    import re

    lowered = sha.lower()
    if not re.match(COMMIT_PATTERN, lowered):
        raise UsageError(f"--commit {sha!r} is not a full git commit SHA (40 or 64 hex characters)")
    return {"sha": lowered}


def create_flow(
    ledger: Ledger,
    *,
    name: str,
    description: str | None = None,
    template_file: PathArg | None = None,
    dry_run: bool = False,
) -> Recorded:
    """Create a flow, or record a change to its description or template."""
    check_name(name, "flow")
    template = inputs.read_template_file(template_file) if template_file else None
    record = build.flow(name=name, description=description, template=template)
    return _append(ledger, build.entry("flow", record), dry_run)


def begin_trail(
    ledger: Ledger,
    *,
    flow: str,
    name: str,
    description: str | None = None,
    template_file: PathArg | None = None,
    dry_run: bool = False,
) -> Recorded:
    """Begin a trail; again on an existing trail it records only the fields given."""
    check_name(flow, "flow")
    check_name(name, "trail")
    template = inputs.read_template_file(template_file) if template_file else None
    require_flow(ledger, flow)
    record = build.trail(flow=flow, name=name, description=description, template=template)
    return _append(ledger, build.entry("trail", record), dry_run)


def attest_artifact(
    ledger: Ledger,
    *,
    flow: str,
    trail: str,
    name: str,
    path: PathArg | None = None,
    artifact_type: str = "file",
    fingerprint: str | None = None,
    commit: str | None = None,
    origin_url: str | None = None,
    annotations: list[str] | None = None,
    exclude: tuple[str, ...] = (),
    dry_run: bool = False,
) -> Recorded:
    """Report an artifact by its fingerprint, computed from ``path`` unless given."""
    check_name(flow, "flow")
    check_name(trail, "trail")
    check_name(name, "artifact name")
    if fingerprint:
        digest = check_sha256(fingerprint, "--fingerprint")
    elif path is not None:
        from pathlib import Path

        from affidavit.collect.fingerprint import fingerprint as compute

        path = Path(path)
        digest = compute(path, artifact_type, exclude)  # type: ignore[arg-type]
    else:
        raise UsageError("attest artifact needs a PATH or --fingerprint")
    require_trail(ledger, flow, trail)
    record = build.artifact(
        flow=flow,
        trail=trail,
        name=name,
        fingerprint=digest,
        artifact_type=artifact_type,
        filename=os.path.basename(path) if path is not None else None,
        commit=_commit(commit),
        origin_url=origin_url,
        annotations=inputs.parse_annotations(annotations),
    )
    return _append(ledger, build.entry("artifact", record), dry_run)


def store_evidence(
    ledger: Ledger, attachments: list[PathArg] | None, dry_run: bool
) -> list[dict[str, Any]]:
    """Put attachments into the vault (only hash them on a dry run); return evidence refs."""
    refs = []
    for name, file in inputs.expand_attachments(attachments):
        digest, size = hash_file(file) if dry_run else ledger.blobs.put_file(file)
        refs.append({"name": name, "sha256": digest, "size": size})
    return refs


def attest_generic(
    ledger: Ledger,
    *,
    flow: str,
    trail: str,
    name: str,
    compliant: bool = True,
    fingerprint: str | None = None,
    attachments: list[PathArg] | None = None,
    user_data_file: PathArg | None = None,
    annotations: list[str] | None = None,
    origin_url: str | None = None,
    commit: str | None = None,
    dry_run: bool = False,
) -> Recorded:
    """Record a yes/no claim about a trail or one of its artifacts, with evidence files."""
    check_name(flow, "flow")
    check_name(trail, "trail")
    check_name(name, "attestation name")
    digest = check_sha256(fingerprint, "--fingerprint") if fingerprint else None
    user_data = inputs.read_json_file(user_data_file, "user data") if user_data_file else None
    notes = inputs.parse_annotations(annotations)
    commit_info = _commit(commit)
    inputs.expand_attachments(attachments)  # refuse missing files before anything is stored
    require_trail(ledger, flow, trail)
    record = build.attestation(
        flow=flow,
        trail=trail,
        name=name,
        type="generic",
        compliant=compliant,
        predicate={"compliant": compliant},
        fingerprint=digest,
        origin_url=origin_url,
        commit=commit_info,
        user_data=user_data,
        annotations=notes,
        evidence=store_evidence(ledger, attachments, dry_run),
    )
    return _append(ledger, build.entry("attestation", record), dry_run)
