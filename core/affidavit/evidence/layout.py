"""The evidence package format: member names, the scope's keys, evidence folder names and the
README, each a pure function of the packaged entries, so that ``verify package`` recomputes
them and refuses a package whose files say anything the entries do not.

Layout (docs/evidence-package.md)::

    checkpoint               the signed note (tree root, and the key map root as `map` line)
    manifest.json            format, ledger, checkpoint, scope, trails and their verdicts,
                             entries, evidence files
    entries/<i>.json         the exact leaf bytes of entry i
    proofs/<i>.json          its inclusion proof under the checkpoint
    proofs/map.json          the key map proofs of the scope's keys (DESIGN §3.1)
    evidence/<attestation>/<file>
    README.md                the summary an auditor reads first

and, only in a package written with ``--identity``, the plaintext of its sealed files::

    opened.json              per opened file: its member, the evidence member it opens, and
                             the salt and digest that open the entry's commitment
    opened/<attestation>/<file>
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from affidavit.ledger import index

__all__ = ["FORMAT", "MAP_PROOFS", "OPENED", "OPENED_FORMAT", "sealed_rows", "scope_keys",
           "evidence_path", "evidence_rows", "verdicts",
           "manifest", "manifest_bytes", "proof_bytes", "map_bytes", "readme"]

FORMAT = "affidavit-evidence-package/v2"
MAP_PROOFS = "proofs/map.json"

Record = dict[str, Any]


def scope_keys(fingerprint: str | None, trails: list[tuple[str, str]]) -> list[str]:
    """The keys whose entries a package must hold in full: the artifact's (for an artifact
    package), then for each trail its flow's definitions and the trail itself."""
    keys = [index.artifact_key(fingerprint)] if fingerprint else []
    for flow, trail in trails:
        keys += [index.flowdef_key(flow), index.trail_key(flow, trail)]
    return list(dict.fromkeys(keys))


def evidence_path(attestation: str, name: str, taken: dict[str, str], digest: str) -> str:
    """``evidence/<attestation>/<name>``; a clash with other bytes gets ``-2``, ``-3``… before
    the extension, while the same bytes under the same name share one file."""
    def safe(text: str) -> PurePosixPath:
        # A backslash is a separator to some unzip tools and refused by the verifier: never
        # let one reach a member name.
        return PurePosixPath(*[p for p in PurePosixPath(text.replace("\\", "_")).parts
                               if p not in ("..", "/", ".")] or ["_"])

    base = PurePosixPath("evidence") / safe(attestation) / safe(name)
    candidate, n = str(base), 1
    while taken.get(candidate, digest) != digest:
        n += 1
        candidate = str(base.with_name(f"{base.stem}-{n}{base.suffix}"))
    taken[candidate] = digest
    return candidate


def evidence_rows(entries: list[tuple[int, Record]]) -> list[Record]:
    """Where each evidence file of the entries goes, in entry order: ``{path, sha256, entry}``."""
    taken: dict[str, str] = {}
    rows = []
    for position, entry in entries:
        record = entry["record"]
        for ref in record.get("evidence", []):
            path = evidence_path(record["name"], ref["name"], taken, ref["sha256"])
            rows.append({"path": path, "sha256": ref["sha256"], "entry": position})
    return rows


OPENED = "opened.json"
OPENED_FORMAT = "affidavit-opened/v1"


def sealed_rows(entries: list[tuple[int, Record]]) -> list[Record]:
    """The evidence rows (:func:`evidence_rows`) of sealed files, each with its ``sealed``
    record and the member its plaintext goes to when a package is written with an identity:
    ``opened/<attestation>/<file>``, beside ``evidence/<attestation>/<file>``."""
    sealed = {(position, ref["sha256"]): ref["sealed"] for position, entry in entries
              for ref in entry["record"].get("evidence", []) if "sealed" in ref}
    return [{**row, "sealed": sealed[(row["entry"], row["sha256"])],
             "opened": "opened/" + row["path"].removeprefix("evidence/")}
            for row in evidence_rows(entries) if (row["entry"], row["sha256"]) in sealed]


def verdicts(entries: list[tuple[int, Record]],
             trails: list[tuple[str, str]]) -> list[tuple[str, str, Record]]:
    """Each trail's verdict from the packaged entries alone: ``(flow, trail, verdict)``."""
    from affidavit.compliance.verdict import judge_trail

    out = []
    for flow, trail in trails:
        own = [(i, e) for i, e in entries
               if e["kind"] == "flow" and index.flowdef_key(flow) in index.keys(e)]
        mine = [(i, e) for i, e in entries if index.trail_key(flow, trail) in index.keys(e)]
        out.append((flow, trail, judge_trail(own, mine)[1]))
    return out


def manifest(*, origin: str, verifier_key: str, size: int, root: str, map_root: str,
             scope: Record, keys: list[str], judged: list[tuple[str, str, Record]],
             entries: list[tuple[int, Record]]) -> Record:
    """``manifest.json``: everything in it but ``scope`` follows from the entries, the
    checkpoint and the key, so a verifier rebuilds it and compares."""
    return {
        "format": FORMAT,
        "ledger": {"origin": origin, "verifier_key": verifier_key},
        "checkpoint": {"size": size, "root": root, "map": map_root},
        "scope": {"flow": scope.get("flow"), "trail": scope.get("trail"),
                  "fingerprint": scope.get("fingerprint")},
        "keys": keys,
        "trails": [{"flow": f, "trail": t, "status": v["status"]} for f, t, v in judged],
        "entries": [position for position, _ in entries],
        "evidence": evidence_rows(entries),
    }


def manifest_bytes(doc: Record) -> bytes:
    """The manifest as the package stores it: the only spelling a verifier accepts."""
    import json

    return json.dumps(doc, indent=2, sort_keys=True).encode()


def proof_bytes(position: int, size: int, hashes: list[bytes]) -> bytes:
    """``proofs/<i>.json`` as the package stores it: the only spelling a verifier accepts."""
    import base64
    import json

    return json.dumps({"index": position, "tree_size": size,
                       "hashes": [base64.b64encode(h).decode() for h in hashes]}).encode()


def map_bytes(size: int, items: list[Record]) -> bytes:
    """``proofs/map.json`` (DESIGN §3.1's shape) as the package stores it; ``items`` are
    ``MapProof.to_json()`` dicts, in the order of the manifest's ``keys``."""
    import json

    return json.dumps({"tree_size": size, "keys": items}, indent=2).encode()


def readme(manifest: Record, entries: list[tuple[int, Record]],
           verdicts: list[tuple[str, str, Record]]) -> str:
    """The README: the ledger and checkpoint, how to verify, each trail's entries and verdict
    with its reasons, and the evidence files. ``verdicts`` is ``(flow, trail, verdict)``."""
    scope = manifest["scope"]
    subject = (f"artifact {scope['fingerprint']}" if scope.get("fingerprint")
               else f"trail {scope['flow']}/{scope['trail']}")
    lines = [
        f"# Evidence package: {subject}",
        "",
        "Produced by affidavit. Every record in `entries/` is a leaf of the ledger's Merkle log;",
        "`proofs/` proves each one is included in the signed `checkpoint`, and",
        "`proofs/map.json` proves the package holds every entry of its scope.",
        "",
        f"- Ledger: `{manifest['ledger']['origin']}`",
        f"- Verifier key: `{manifest['ledger']['verifier_key']}`",
        f"- Checkpoint: size {manifest['checkpoint']['size']}, "
        f"root `{manifest['checkpoint']['root']}`, map `{manifest['checkpoint']['map']}`",
        "",
        "Check it offline with the ledger's verifier key, obtained from the ledger's operator",
        "rather than from this file (the key above is only what the package says of itself):",
        "",
        "```",
        "affidavit verify package <this zip> --public-key '<the verifier key>'",
        "```",
        "",
    ]
    for flow, trail, verdict in verdicts:
        lines += [f"## Trail {flow}/{trail}: {verdict['status']}", ""]
        lines += ["| entry | time | kind | name | compliant |", "|---|---|---|---|---|"]
        for position, entry in entries:
            record = entry["record"]
            if index.trail_key(flow, trail) not in index.keys(entry):
                continue
            compliant = record.get("compliant")
            mark = "-" if compliant is None else ("yes" if compliant else "no")
            lines.append(f"| {position} | {entry['time']} | {entry['kind']} | "
                         f"{record['name']} | {mark} |")
        lines += [""] + [f"- {reason}" for reason in verdict["reasons"]] + [""]
    if manifest["evidence"]:
        lines += ["## Evidence files", "", "| file | sha256 | entry |", "|---|---|---|"]
        lines += [f"| `{e['path']}` | `{e['sha256']}` | {e['entry']} |"
                  for e in manifest["evidence"]]
    return "\n".join(lines) + "\n"
