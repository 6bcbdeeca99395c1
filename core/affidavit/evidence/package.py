"""Evidence packages: one zip an auditor can browse and anyone can verify offline, complete.

A package holds every entry filed under its scope's keys (``evidence.layout.scope_keys``) with
their inclusion proofs, the key map proofs that show nothing is left out, the custom type
versions its attestations were judged by, the evidence files, the signed checkpoint, a manifest
and a README. ``api.evidence`` gathers all of it through a proven view, every proof checked
against the signed roots, before this module writes the zip; nothing is written on any error.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affidavit import canonical
from affidavit.errors import InputError, IntegrityError, NotFoundError
from affidavit.evidence import layout
from affidavit.evidence.output import check_output_path, open_partial
from affidavit.ledger import keymap
from affidavit.ledger.base import Ledger
from affidavit.ledger.checkpoint import Checkpoint

__all__ = ["Contents", "write_package"]

_STAMP = (1980, 1, 1, 0, 0, 0)

Record = dict[str, Any]


def _copy_blob(ledger: Ledger, item: dict[str, Any], zf: zipfile.ZipFile) -> None:
    """Stream one vault file into the zip, a chunk at a time, refusing bytes that no longer
    hash to the digest the entry records (the half-written zip is then discarded)."""
    digest = hashlib.sha256()
    info = zipfile.ZipInfo(item["path"], _STAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    try:
        with ledger.blobs.open(item["sha256"]) as src:
            size = getattr(src, "size", None)  # a store without descriptors (S3) says it
            if not isinstance(size, int):
                size = os.fstat(src.fileno()).st_size
            large = size > (1 << 31)
            with zf.open(info, "w", force_zip64=large) as dst:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    dst.write(chunk)
    except NotFoundError:
        raise IntegrityError(f"evidence {item['sha256']} named by entry {item['entry']} is not "
                             "in the vault") from None
    if digest.hexdigest() != item["sha256"]:
        raise IntegrityError(f"evidence {item['sha256']} in the vault does not match its digest")


@dataclass(frozen=True, slots=True)
class Contents:
    """What a package holds, every part already proven against ``note``'s signed roots."""

    note: str
    checkpoint: Checkpoint
    verifier_key: str
    map_root: bytes
    scope: dict[str, str | None]
    trails: list[tuple[str, str]]
    keys: list[str]
    proofs: list[keymap.MapProof]
    entries: list[tuple[int, Record]]
    inclusion: dict[int, list[bytes]]


def _open_blob(ledger: Ledger, row: Record, identities: list[Any],
               zf: zipfile.ZipFile) -> Record:
    """Decrypt one sealed vault file into its ``opened/`` member, the plaintext checked
    against the entry's commitment on the way (``evidence.sealing``); its ``opened.json``
    row."""
    from affidavit.evidence.sealing import open_sealed

    info = zipfile.ZipInfo(row["opened"], _STAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    try:
        with ledger.blobs.open(row["sha256"]) as src, zf.open(info, "w",
                                                              force_zip64=True) as dst:
            opened = open_sealed(row["sealed"], src, identities, dst,
                                 f"evidence {row['sha256']} of entry {row['entry']}")
    except NotFoundError:
        raise IntegrityError(f"evidence {row['sha256']} named by entry {row['entry']} is not "
                             "in the vault") from None
    return {"path": row["opened"], "evidence": row["path"], "entry": row["entry"],
            "sha256": opened["sha256"], "size": opened["size"], "salt": opened["salt"]}


def write_package(ledger: Ledger, contents: Contents, out: Path,
                  identities: list[Any] | None = None) -> dict[str, Any]:
    """Write ``contents`` (and the vault files its entries name) as a zip at ``out``; return
    a summary. With ``identities`` (age), every sealed file the package holds is also opened
    into it (``opened/``, ``opened.json``); one that none of them opens fails the package.
    Nothing is left at ``out`` on any error. The caller refuses a bad ``out``
    before gathering ``contents`` (``api.evidence.package``); it is checked again here just
    before the zip replaces it, as what lies at ``out`` may have changed meanwhile."""
    checkpoint, note, entries = contents.checkpoint, contents.note, contents.entries
    inclusion, keys = contents.inclusion, contents.keys
    verdicts = layout.verdicts(entries, contents.trails)
    manifest = layout.manifest(
        origin=checkpoint.origin, verifier_key=contents.verifier_key, size=checkpoint.size,
        root=base64.b64encode(checkpoint.root).decode(),
        map_root=base64.b64encode(contents.map_root).decode(),
        scope=contents.scope, keys=keys,
        judged=verdicts, entries=entries)
    evidence = manifest["evidence"]
    map_doc = layout.map_bytes(
        checkpoint.size, [keymap.MapProof.to_json(p) for p in contents.proofs])
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
            opened = []
            if identities:
                done: set[str] = set()
                for row in layout.sealed_rows(entries):
                    if row["opened"] not in done:
                        done.add(row["opened"])
                        opened.append(_open_blob(ledger, row, identities, zf))
                put(layout.OPENED, canonical.dumps(
                    {"format": layout.OPENED_FORMAT, "files": opened}))
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
            "opened": len(opened), "tree_size": checkpoint.size, "keys": keys,
            "trails": manifest["trails"]}
