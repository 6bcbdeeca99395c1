"""Evidence packages: one zip an auditor can browse and anyone can verify offline.

Layout (docs/evidence-package.md): ``checkpoint`` (signed note), ``entries/<i>.json`` (the exact
leaf bytes), ``proofs/<i>.json`` (inclusion proofs against that checkpoint), ``evidence/<attestation
name>/<file name>``, ``manifest.json`` and a ``README.md``. Nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from affidavit import canonical
from affidavit.api import query
from affidavit.errors import InputError, IntegrityError, NotFoundError, UsageError
from affidavit.ledger import index
from affidavit.ledger.base import Ledger
from affidavit.ledger.checkpoint import Checkpoint
from affidavit.models.fields import check_sha256

__all__ = ["FORMAT", "build_package", "evidence_path"]

FORMAT = "affidavit-evidence-package/v1"
_STAMP = (1980, 1, 1, 0, 0, 0)


def evidence_path(attestation: str, name: str, taken: dict[str, str], digest: str) -> str:
    """``evidence/<attestation>/<name>``; a clash with other bytes gets ``-2``, ``-3``… before
    the extension, while the same bytes under the same name share one file."""
    safe = PurePosixPath(*[p for p in PurePosixPath(name).parts if p not in ("..", "/", ".")])
    base = PurePosixPath("evidence", attestation, safe)
    candidate, n = str(base), 1
    while taken.get(candidate, digest) != digest:
        n += 1
        candidate = str(base.with_name(f"{base.stem}-{n}{base.suffix}"))
    taken[candidate] = digest
    return candidate


def _select(ledger: Ledger, flow: str, trail: str | None, fingerprint: str | None) -> tuple[
        list[tuple[int, dict[str, Any]]], list[tuple[str, str]]]:
    if bool(trail) == bool(fingerprint):
        raise UsageError("evidence package needs exactly one of --trail or --fingerprint")
    if fingerprint:
        fingerprint = check_sha256(fingerprint, "--fingerprint")
        hits = query.entries_under(ledger, index.fingerprint_key(fingerprint))
        trails = sorted({(e["record"]["flow"], e["record"]["trail"]) for _, e in hits
                         if e["record"]["flow"] == flow})
        if not trails:
            raise NotFoundError(f"artifact {fingerprint} has not been reported in flow {flow!r}")
    else:
        assert trail is not None
        trails = [(flow, trail)]
    flow_entries = [(i, e) for i, e in query.entries_under(ledger, index.flow_key(flow))
                    if e["kind"] == "flow"]
    if not flow_entries:
        raise NotFoundError(f"flow {flow!r} does not exist")
    chosen = dict(flow_entries)
    for pair in trails:
        found = query.entries_under(ledger, index.trail_key(*pair))
        if not found:
            raise NotFoundError(f"trail {pair[1]!r} does not exist in flow {flow!r}")
        chosen.update(found)
    # The version of each custom type that judged a packaged attestation travels with it, so an
    # auditor can re-run the type's rules on the recorded data.
    for _position, entry in list(chosen.items()):
        record = entry["record"]
        if entry["kind"] == "attestation" and record["type"].startswith("custom:"):
            version = record["statement"]["predicate"]["type_entry"]
            for _, data in ledger.read(version, version + 1):
                chosen[version] = canonical.loads(data)
    return sorted(chosen.items()), trails


def build_package(ledger: Ledger, *, flow: str, trail: str | None = None,
                  fingerprint: str | None = None, out: Path) -> dict[str, Any]:
    """Write the package for a trail (or an artifact's trails) to ``out``; return a summary."""
    if fingerprint:
        fingerprint = check_sha256(fingerprint, "--fingerprint")
    entries, trails = _select(ledger, flow, trail, fingerprint)
    note = ledger.checkpoint()
    assert note is not None  # a ledger holding a flow has a checkpoint
    checkpoint = Checkpoint.parse(note.split("\n\n", 1)[0] + "\n")
    size = checkpoint.size
    taken: dict[str, str] = {}
    evidence: list[dict[str, Any]] = []
    for position, entry in entries:
        record = entry["record"]
        for ref in record.get("evidence", []):
            path = evidence_path(record["name"], ref["name"], taken, ref["sha256"])
            evidence.append({"path": path, "sha256": ref["sha256"], "entry": position})
    statuses = [(f, t, query.trail_state(ledger, f, t)) for f, t in trails]
    manifest = {
        "format": FORMAT,
        "ledger": {"origin": checkpoint.origin, "verifier_key": ledger.verifier_key()},
        "checkpoint": {"size": size, "root": base64.b64encode(checkpoint.root).decode()},
        "scope": {"flow": flow, "trail": trail, "fingerprint": fingerprint},
        "trails": [{"flow": f, "trail": t, "status": s["status"]} for f, t, s in statuses],
        "entries": [position for position, _ in entries],
        "evidence": evidence,
    }
    if out.is_dir():
        raise InputError(f"-o {out}: is a directory")
    tmp = out.with_name(f".{out.name}.partial")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            def put(name: str, data: bytes) -> None:
                zf.writestr(zipfile.ZipInfo(name, _STAMP), data, zipfile.ZIP_DEFLATED)

            put("checkpoint", note.encode())
            for position, entry in entries:
                put(f"entries/{position}.json", canonical.dumps(entry))
                hashes = ledger.inclusion_proof(position, size)
                put(f"proofs/{position}.json", json.dumps({
                    "index": position, "tree_size": size,
                    "hashes": [base64.b64encode(h).decode() for h in hashes]}).encode())
            written: set[str] = set()
            for item in evidence:
                if item["path"] not in written:
                    written.add(item["path"])
                    with ledger.blobs.open(item["sha256"]) as fh:
                        data = fh.read()
                    if hashlib.sha256(data).hexdigest() != item["sha256"]:
                        raise IntegrityError(
                            f"evidence {item['sha256']} in the vault does not match its digest")
                    put(item["path"], data)
            put("manifest.json", json.dumps(manifest, indent=2, sort_keys=True).encode())
            put("README.md", _readme(manifest, entries, statuses).encode())
        os.replace(tmp, out)
    except OSError as exc:
        raise InputError(f"-o {out}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return {"path": str(out), "entries": len(entries), "evidence": len(taken),
            "tree_size": size, "trails": manifest["trails"]}


def _readme(manifest: dict[str, Any], entries: list[tuple[int, dict[str, Any]]],
            statuses: list[tuple[str, str, dict[str, Any]]]) -> str:
    lines = [
        f"# Evidence package: {manifest['scope']['flow']}",
        "",
        "Produced by affidavit. Every record in `entries/` is a leaf of the ledger's Merkle log;",
        "`proofs/` proves each one is included in the signed `checkpoint`.",
        "",
        f"- Ledger: `{manifest['ledger']['origin']}`",
        f"- Verifier key: `{manifest['ledger']['verifier_key']}`",
        f"- Checkpoint: size {manifest['checkpoint']['size']}, "
        f"root `{manifest['checkpoint']['root']}`",
        "",
        "Check it, with nothing but this file and the key above:",
        "",
        "```",
        "affidavit verify package <this zip> --public-key '"
        f"{manifest['ledger']['verifier_key']}'",
        "```",
        "",
    ]
    for flow, trail, state in statuses:
        lines += [f"## Trail {flow}/{trail}: {state['status']}", ""]
        lines += ["| entry | time | kind | name | compliant |", "|---|---|---|---|---|"]
        for position, entry in entries:
            record = entry["record"]
            if entry["kind"] == "flow" or record.get("trail", record.get("name")) != trail:
                continue
            compliant = record.get("compliant")
            mark = "-" if compliant is None else ("yes" if compliant else "no")
            lines.append(f"| {position} | {entry['time']} | {entry['kind']} | "
                         f"{record['name']} | {mark} |")
        lines += [""] + [f"- {reason}" for reason in state["verdict"]["reasons"]] + [""]
    if manifest["evidence"]:
        lines += ["## Evidence files", "", "| file | sha256 | entry |", "|---|---|---|"]
        lines += [f"| `{e['path']}` | `{e['sha256']}` | {e['entry']} |"
                  for e in manifest["evidence"]]
    return "\n".join(lines) + "\n"
