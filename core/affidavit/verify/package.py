"""Verifying an evidence package with nothing but the ledger's verifier key.

Steps, in order; the first failure ends verification with ``IntegrityError`` (exit 3):

1. The zip is readable and every member name is a plain relative path; only the layout's files
   are present (``checkpoint``, ``manifest.json``, ``README.md``, ``entries/``, ``proofs/``,
   ``evidence/``).
2. ``checkpoint`` is a signed note whose signature checks with the given key.
3. Every entry has an inclusion proof against that checkpoint, and the proof checks.
4. Every entry is a valid record; the manifest names the signed checkpoint and exactly the
   packaged entries (an entry dropped from the zip is noticed); every evidence file hashes to its
   manifest digest, the manifest row's entry records that digest, and every digest an entry
   records is in the package.
5. The verdict of each trail, recomputed from the package's entries, equals the manifest's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

from affidavit.errors import InputError, IntegrityError
from affidavit.ledger import note, proof, rfc6962
from affidavit.ledger.checkpoint import Checkpoint

__all__ = ["verify_package"]

_ENTRY = re.compile(r"^(entries|proofs)/(0|[1-9][0-9]*)\.json$")
_FIXED = {"checkpoint", "manifest.json", "README.md"}


def _names(zf: zipfile.ZipFile, where: Path) -> set[str]:
    names: set[str] = set()
    for info in zf.infolist():
        name = info.filename
        parts = PurePosixPath(name).parts
        if (name.startswith("/") or "\\" in name or ".." in parts or "." in parts
                or not parts or info.is_dir() or ":" in parts[0]):
            raise IntegrityError(f"package {where}: unsafe member name {name!r}")
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise IntegrityError(f"package {where}: member {name!r} is a symbolic link")
        if name in names:
            raise IntegrityError(f"package {where}: member {name!r} appears twice")
        if name not in _FIXED and not _ENTRY.match(name) and parts[0] != "evidence":
            raise IntegrityError(f"package {where}: unexpected member {name!r}")
        names.add(name)
    missing = _FIXED - names
    if missing:
        raise IntegrityError(f"package {where}: missing {', '.join(sorted(missing))}")
    return names


def _json(zf: zipfile.ZipFile, name: str, where: Path) -> Any:
    try:
        return json.loads(zf.read(name))
    except (ValueError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"package {where}: {name} is not valid JSON ({exc})") from None


def verify_package(path: Path, public_key: str) -> dict[str, Any]:
    """Run every step above; return a summary on success."""
    try:
        verifier = note.Verifier.from_key(public_key)
    except InputError as exc:
        raise InputError(f"--public-key: {exc.message}") from None
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise InputError(f"package {path}: no such file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"package {path}: not a zip file ({exc})") from None
    with zf:
        try:
            return _verify(zf, path, verifier)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error) as exc:
            raise IntegrityError(f"package {path}: corrupt member ({exc})") from None


def _verify(zf: zipfile.ZipFile, where: Path, verifier: Any) -> dict[str, Any]:
    from pydantic import ValidationError

    from affidavit.models.records import ENTRY

    names = _names(zf, where)
    try:
        checkpoint = Checkpoint.parse(note.open_note(zf.read("checkpoint"), [verifier]))
    except IntegrityError as exc:
        raise IntegrityError(f"package {where}: checkpoint: {exc.message}",
                             remedy=exc.remedy) from None

    entries: dict[int, dict[str, Any]] = {}
    for name in sorted(n for n in names if n.startswith("entries/")):
        position = int(name.split("/")[1].split(".")[0])
        data = zf.read(name)
        proof_name = f"proofs/{position}.json"
        if proof_name not in names:
            raise IntegrityError(f"package {where}: entry {position} has no inclusion proof")
        doc = _json(zf, proof_name, where)
        try:
            hashes = [base64.b64decode(h, validate=True) for h in doc["hashes"]]
            index, size = int(doc["index"]), int(doc["tree_size"])
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise IntegrityError(f"package {where}: {proof_name} is malformed") from None
        if index != position or size != checkpoint.size:
            raise IntegrityError(
                f"package {where}: {proof_name} is for entry {index} of size {size}, "
                f"not entry {position} of the checkpoint's size {checkpoint.size}")
        try:
            proof.verify_inclusion(rfc6962.leaf_hash(data), index, size, hashes, checkpoint.root)
        except IntegrityError as exc:
            raise IntegrityError(
                f"package {where}: entry {position} is not in the checkpoint ({exc.message})"
            ) from None
        try:
            entries[position] = ENTRY.validate_json(data).canonical()
        except ValidationError as exc:
            raise IntegrityError(f"package {where}: entry {position} is not a valid record "
                                 f"({exc.errors()[0]['msg']})") from None
    orphans = {n for n in names if n.startswith("proofs/")} - {
        f"proofs/{i}.json" for i in entries}
    if orphans:
        raise IntegrityError(f"package {where}: proof without entry {sorted(orphans)[0]}")

    manifest = _json(zf, "manifest.json", where)
    claimed = manifest.get("checkpoint", {})
    root_text = base64.b64encode(checkpoint.root).decode()
    if claimed.get("size") != checkpoint.size or claimed.get("root") != root_text:
        raise IntegrityError(f"package {where}: manifest.json names another checkpoint")
    if sorted(manifest.get("entries", [])) != sorted(entries):
        raise IntegrityError(f"package {where}: manifest.json lists other entries than the "
                             "package holds")
    listed: set[str] = set()
    covered: set[tuple[int, str]] = set()
    for row in manifest.get("evidence", []):
        member, digest, position = row.get("path"), row.get("sha256"), row.get("entry")
        if member not in names or not str(member).startswith("evidence/"):
            raise IntegrityError(f"package {where}: evidence {member!r} is missing")
        if hashlib.sha256(zf.read(member)).hexdigest() != digest:
            raise IntegrityError(f"package {where}: {member} does not match its digest")
        recorded = {e["sha256"] for e in entries.get(position, {}).get("record", {}).get(
            "evidence", [])}
        if digest not in recorded:
            raise IntegrityError(
                f"package {where}: {member} is not recorded by entry {position}")
        listed.add(member)
        covered.add((position, digest))
    extra = {n for n in names if n.startswith("evidence/")} - listed
    if extra:
        raise IntegrityError(f"package {where}: unlisted evidence file {sorted(extra)[0]}")
    for position, entry in entries.items():
        for ref in entry["record"].get("evidence", []):
            if (position, ref["sha256"]) not in covered:
                raise IntegrityError(
                    f"package {where}: evidence {ref['name']} of entry {position} is missing")

    from affidavit.compliance.recheck import recompute

    types = {i: e["record"] for i, e in entries.items() if e["kind"] == "attestation_type"}
    for position, entry in sorted(entries.items()):
        if entry["kind"] != "attestation":
            continue
        record = entry["record"]
        if record["type"].startswith("custom:") and (
                record["statement"]["predicate"].get("type_entry") not in types):
            raise IntegrityError(f"package {where}: entry {position} was judged by a version of "
                                 f"{record['type']} the package does not hold")
        again = recompute(record, types)
        if again is not None and again != record["compliant"]:
            raise IntegrityError(
                f"package {where}: entry {position} says compliant={record['compliant']} but "
                f"its predicate yields {again}")

    from affidavit.compliance.verdict import judge_trail

    for claimed in manifest.get("trails", []):
        ordered = sorted(entries.items())
        flow_entries = [(i, e) for i, e in ordered
                        if e["kind"] == "flow" and e["record"]["name"] == claimed["flow"]]
        trail_entries = [(i, e) for i, e in ordered if e["kind"] != "flow"
                         and e["record"].get("flow") == claimed["flow"]
                         and (e["record"]["name"] if e["kind"] == "trail"
                              else e["record"].get("trail")) == claimed["trail"]]
        status = judge_trail(flow_entries, trail_entries)[1]["status"]
        if status != claimed.get("status"):
            raise IntegrityError(
                f"package {where}: trail {claimed['flow']}/{claimed['trail']} recomputes as "
                f"{status}, the manifest says {claimed.get('status')}")
    files = len(listed)
    return {
        "verified": True,
        "entries": len(entries),
        "evidence": files,
        "checkpoint": {"origin": checkpoint.origin, "size": checkpoint.size},
        "trails": manifest.get("trails", []),
        "summary": f"verified {where.name}: {len(entries)} entries and {files} evidence files "
                   f"included in checkpoint {checkpoint.origin} @ {checkpoint.size}",
    }
