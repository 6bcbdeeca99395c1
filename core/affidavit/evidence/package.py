"""Evidence packages: one zip an auditor can browse and anyone can verify offline, complete.

A package holds every entry filed under its scope's keys (``evidence.layout.scope_keys``) with
their inclusion proofs, the key map proofs that show nothing is left out, the custom type
versions its attestations were judged by, the evidence files, the signed checkpoint, a manifest
and a README. Everything is read through a proven view and every proof is checked against the
signed roots before the zip is written; nothing is written on any error.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from pathlib import Path
from typing import Any

from affidavit import canonical
from affidavit.api import query
from affidavit.errors import InputError, IntegrityError, NotFoundError, UsageError
from affidavit.evidence import layout
from affidavit.evidence.output import check_output_path, open_partial
from affidavit.ledger import index, keymap
from affidavit.ledger.base import Ledger
from affidavit.models.fields import check_sha256
from affidavit.verify.proven import Proven

__all__ = ["build_package"]

_STAMP = (1980, 1, 1, 0, 0, 0)

Record = dict[str, Any]


def _scope(view: Proven, flow: str | None, trail: str | None,
           fingerprint: str | None) -> list[tuple[str, str]]:
    """The trails a package covers."""
    if bool(trail) == bool(fingerprint):
        raise UsageError("evidence package needs exactly one of --trail or --fingerprint")
    if trail:
        if not flow:
            raise UsageError("evidence package --trail needs --flow")
        query.trail_entries(view, flow, trail)
        return [(flow, trail)]
    assert fingerprint is not None
    reports = [e for _, e in view.under(index.artifact_key(fingerprint))
               if e["kind"] == "artifact" and (flow is None or e["record"]["flow"] == flow)]
    if not reports:
        raise NotFoundError(f"artifact {fingerprint} has not been reported"
                            + (f" in flow {flow!r}" if flow else ""))
    return sorted({(e["record"]["flow"], e["record"]["trail"]) for e in reports})


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


def _copy_blob(ledger: Ledger, item: dict[str, Any], zf: zipfile.ZipFile) -> None:
    """Stream one vault file into the zip, a chunk at a time, refusing bytes that no longer
    hash to the digest the entry records (the half-written zip is then discarded)."""
    digest = hashlib.sha256()
    info = zipfile.ZipInfo(item["path"], _STAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    try:
        with ledger.blobs.open(item["sha256"]) as src:
            large = os.fstat(src.fileno()).st_size > (1 << 31)
            with zf.open(info, "w", force_zip64=large) as dst:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    dst.write(chunk)
    except NotFoundError:
        raise IntegrityError(f"evidence {item['sha256']} named by entry {item['entry']} is not "
                             "in the vault") from None
    if digest.hexdigest() != item["sha256"]:
        raise IntegrityError(f"evidence {item['sha256']} in the vault does not match its digest")


def build_package(ledger: Ledger, *, flow: str | None = None, trail: str | None = None,
                  fingerprint: str | None = None, out: Path) -> dict[str, Any]:
    """Write the package for a trail (or an artifact's trails) to ``out``; return a summary."""
    if fingerprint:
        fingerprint = check_sha256(fingerprint, "--fingerprint")
    check_output_path(ledger, out)
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
        checkpoint, note = view.checkpoint, view.note
        assert view.verifier is not None
        verifier_key = view.verifier.key  # parsed: the spelling a verifier compares
        verdicts = layout.verdicts(entries, trails)
    manifest = layout.manifest(
        origin=checkpoint.origin, verifier_key=verifier_key, size=checkpoint.size,
        root=base64.b64encode(checkpoint.root).decode(),
        map_root=base64.b64encode(view.map_root).decode(),
        scope={"flow": flow, "trail": trail, "fingerprint": fingerprint}, keys=keys,
        judged=verdicts, entries=entries)
    evidence = manifest["evidence"]
    map_doc = layout.map_bytes(checkpoint.size, [keymap.MapProof.to_json(p) for p in proofs])
    tmp: Path | None = None
    written: set[str] = set()
    try:
        tmp, fd = open_partial(out)
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(
                raw, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            def put(name: str, data: bytes) -> None:
                zf.writestr(zipfile.ZipInfo(name, _STAMP), data, zipfile.ZIP_DEFLATED)

            put("checkpoint", note.encode())
            for position, entry in entries:
                put(f"entries/{position}.json", canonical.dumps(entry))
                put(f"proofs/{position}.json",
                    layout.proof_bytes(position, checkpoint.size, inclusion[position]))
            put(layout.MAP_PROOFS, map_doc)
            for item in evidence:
                if item["path"] not in written:
                    written.add(item["path"])
                    _copy_blob(ledger, item, zf)
            put("manifest.json", layout.manifest_bytes(manifest))
            put("README.md", layout.readme(manifest, entries, verdicts).encode())
        check_output_path(ledger, out)
        os.replace(tmp, out)
    except OSError as exc:
        raise InputError(f"-o {out}: {(exc.strerror or str(exc)).lower()}") from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return {"path": str(out), "entries": len(entries), "evidence": len(written),
            "tree_size": checkpoint.size, "keys": keys, "trails": manifest["trails"]}
