"""Evidence out of the ledger: one vault file, or a trail's (or an artifact's) whole package.

Both read only what a proven view established: a package's scope, entries, inclusion proofs
and map proofs come from the same checked checkpoint, so the zip cannot say more or less than
the signed log does.
"""

from __future__ import annotations

from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.api.inputs import PathArg
    from affidavit.ledger.base import Ledger
    from affidavit.verify.proven import Proven

__all__ = ["get_evidence", "sealed_refs", "package"]

Record = dict[str, "Any"]


def get_evidence(ledger: Ledger, digest: str, out: PathArg,
                 identity: PathArg | None = None) -> int:
    """Copy vault file ``digest`` to ``out``, checked against its digest; return its size.
    With ``identity`` (an age identity file) a sealed file is opened instead: its commitment
    is read from the attestations that name it, proven under ``sealed:<digest>``, and the
    plaintext written must match it."""
    import os
    from pathlib import Path

    from affidavit.evidence.vault import copy_out
    from affidavit.models.fields import check_sha256

    digest = check_sha256(digest, "digest")
    if identity is None:
        return copy_out(ledger, digest, Path(out))
    from affidavit.evidence.sealing import read_identities
    from affidavit.evidence.vault import open_out

    identities = read_identities(os.fspath(identity))
    sealed = sealed_refs(ledger, digest)
    if not sealed:
        from affidavit.errors import NotFoundError

        raise NotFoundError(f"evidence {digest}: no attestation names it as sealed evidence",
                            remedy="without --identity it is copied out as it is stored")
    opened = open_out(ledger, digest, sealed[0], identities, Path(out))
    size: int = opened["size"]
    return size


def sealed_refs(source: Ledger | Proven, digest: str) -> list[Record]:
    """The ``sealed`` records of every attestation naming ciphertext ``digest``, proven
    complete under its key; they must agree, or which one is the attested file is unknown."""
    from affidavit.errors import IntegrityError
    from affidavit.ledger import index
    from affidavit.verify.proven import proven

    with proven(source) as view:
        found = [ref["sealed"] for _, entry in view.under(index.sealed_key(digest))
                 for ref in entry["record"].get("evidence", ())
                 if isinstance(ref, dict) and ref.get("sha256") == digest and isinstance(
                     ref.get("sealed"), dict)]
    if any(f.get("commitment") != found[0].get("commitment") for f in found):
        raise IntegrityError(f"evidence {digest}: attestations name it with different "
                             "commitments")
    return found


def _scope(view: Proven, flow: str | None, trail: str | None,
           fingerprint: str | None) -> list[tuple[str, str]]:
    """The trails a package covers."""
    from affidavit.api import query

    if bool(trail) == bool(fingerprint):
        raise UsageError("evidence package needs exactly one of --trail or --fingerprint")
    if trail:
        if not flow:
            raise UsageError("evidence package --trail needs --flow")
        query.trail_entries(view, flow, trail)
        return [(flow, trail)]
    assert fingerprint is not None
    _, reports = query.artifact_reports(view, fingerprint, flow)
    return sorted({(e["record"]["flow"], e["record"]["trail"]) for _, e in reports})


def _collect(view: Proven, keys: list[str]) -> dict[int, Record]:
    chosen: dict[int, Record] = {}
    for key in keys:
        chosen.update(view.under(key))
    # The version of each custom type that judged a packaged attestation travels with it, so an
    # auditor can re-run the type's rules on the recorded data.
    for position, entry in list(chosen.items()):
        record = entry["record"]
        if entry["kind"] == "attestation" and view.type_version(position, record) is not None:
            version = record["statement"]["predicate"]["type_entry"]
            chosen[version] = view.entry(version)
    return chosen


def package(ledger: Ledger, *, out: PathArg, flow: str | None = None, trail: str | None = None,
            fingerprint: str | None = None, identity: PathArg | None = None) -> dict[str, Any]:
    """Write the package of a trail (``flow`` + ``trail``) or of an artifact's trails
    (``fingerprint``, optionally only those in ``flow``) to ``out``; return a summary. With
    ``identity`` (an age identity file) its sealed evidence is opened into it as well."""
    from pathlib import Path

    from affidavit.evidence import layout
    from affidavit.evidence.output import check_output_path
    from affidavit.evidence.package import Contents, write_package
    from affidavit.models.fields import check_sha256
    from affidavit.verify.proven import Proven

    if fingerprint:
        fingerprint = check_sha256(fingerprint, "--fingerprint")
    target = Path(out)
    check_output_path(ledger, target)  # refused before the (possibly long) proven reads
    identities = None
    if identity is not None:
        import os

        from affidavit.evidence.sealing import read_identities

        identities = read_identities(os.fspath(identity))
    with Proven(ledger) as view:
        trails = _scope(view, flow, trail, fingerprint)
        keys = layout.scope_keys(fingerprint, trails)
        entries = sorted(_collect(view, keys).items())
        # Each key's map proof was checked against the signed map root, and its entries
        # counted against it, when ``_collect`` read them; each entry's inclusion proof was
        # checked against the signed tree root when it was read.
        proofs = [view.proof(key) for key in keys]
        inclusion = view.inclusion([p for p, _ in entries])
        assert view.checkpoint is not None and view.note is not None
        assert view.verifier is not None
        # witnesses' cosignatures kept beside the checkpoint travel with it: not believed
        # here, checked by whoever verifies the package with the witnesses' keys; only
        # lines of the one well-formed shape, one per witness, so none can break the note
        from affidavit.ledger.base import merged_cosignatures

        cosigned = view.note + "".join(
            merged_cosignatures(ledger.cosignatures(view.checkpoint.size), []))
        contents = Contents(
            note=cosigned, checkpoint=view.checkpoint,
            verifier_key=view.verifier.key,  # parsed: the spelling a verifier compares
            map_root=view.map_root,
            scope={"flow": flow, "trail": trail, "fingerprint": fingerprint},
            trails=trails, keys=keys, proofs=proofs, entries=entries, inclusion=inclusion)
    return write_package(ledger, contents, target, identities)
