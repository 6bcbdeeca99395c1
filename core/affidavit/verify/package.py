"""Verifying an evidence package with nothing but the ledger's verifier key.

Steps, in order; the first failure ends verification with ``IntegrityError`` (exit 3):

1. The zip is readable, every member name is a plain relative path, and only the layout's
   files are present (``evidence.layout``); members are read within fixed size bounds,
   checked in the central directory before inflating and again while inflating (a zip bomb
   costs a bounded read), and every JSON member is checked against its model
   (``models.package``) before any field of it is used.
2. ``checkpoint`` is a signed note whose signature checks with the given key; it carries the
   key map root as its one extension line.
3. Every entry has an inclusion proof against that checkpoint, and the proof checks; every
   entry is a valid record, and every attestation's ``compliant`` is what the one judge derives
   from its predicate (custom types by the packaged version they name).
4. Completeness: ``proofs/map.json`` holds one proof per key of the package's scope (the scope's
   trails as the entries show them), each checks against the map root, and the package holds
   exactly ``count`` entries filed under each key, the last being ``last``; it holds no entry
   outside those keys but the type versions its attestations name.
5. ``manifest.json`` and ``README.md`` are exactly what the entries, the checkpoint and the
   scope make of them (trail verdicts recomputed, evidence folder names derived), and every
   evidence file is present once and hashes to its digest.
6. Every Sigstore bundle an attestation recorded verifies again, to what it recorded, when
   sigstore is installed (``verify.sigstore_bundles``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

from affidavit.errors import AffidavitError, InputError, IntegrityError
from affidavit.evidence import layout
from affidavit.ledger import index, keymap, note, proof, rfc6962
from affidavit.ledger.checkpoint import Checkpoint

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

__all__ = ["verify_package"]

_ENTRY = re.compile(r"^(entries|proofs)/(0|[1-9][0-9]{0,18})\.json$")
_FIXED = {"checkpoint", "manifest.json", "README.md", layout.MAP_PROOFS}
#: Largest member this inflates into memory, by kind, checked against the central directory
#: before inflating and again while inflating (docs/evidence-package.md, step 1). Each is
#: many times what a real package holds: a checkpoint is a few hundred bytes, an inclusion
#: proof at most 64 hashes (~3 KiB), a map item at most 256 siblings (~15 KiB, so 16 MiB is
#: ~1000 keys), an entry what the ledger accepted. Evidence files are hashed in chunks.
_LIMITS = {"checkpoint": 1 << 16, "entries": 1 << 24, "proofs": 1 << 16,
           "manifest.json": 1 << 26, "README.md": 1 << 26, layout.MAP_PROOFS: 1 << 24,
           layout.OPENED: 1 << 26}


Record = dict[str, Any]
_M = TypeVar("_M", bound="BaseModel")


def _where(exc: ValidationError) -> str:
    """``field.path: message`` of a validation error's first problem, on one line."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(the document)"
    return f"{field}: {first['msg']}".replace("\n", " ")


class _Package:
    """The zip, read member by member within bounds."""

    def __init__(self, zf: zipfile.ZipFile, where: Path) -> None:
        self.zf = zf
        self.where = where
        self.names = self._names()

    def fail(self, message: str) -> IntegrityError:
        return IntegrityError(f"package {self.where}: {message}")

    def _names(self) -> set[str]:
        names: set[str] = set()
        for info in self.zf.infolist():
            name = info.filename
            parts = PurePosixPath(name).parts
            if (name.startswith("/") or "\\" in name or ".." in parts or "." in parts
                    or not parts or info.is_dir() or ":" in parts[0]):
                raise self.fail(f"unsafe member name {name!r}")
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise self.fail(f"member {name!r} is a symbolic link")
            if name in names:
                raise self.fail(f"member {name!r} appears twice")
            if name not in _FIXED and not _ENTRY.match(name) and parts[0] not in (
                    "evidence", "opened") and name != layout.OPENED:
                raise self.fail(f"unexpected member {name!r}")
            names.add(name)
        missing = _FIXED - names
        if missing:
            raise self.fail(f"missing {', '.join(sorted(missing))}")
        return names

    def read(self, name: str) -> bytes:
        limit = _LIMITS.get(name) or _LIMITS[name.split("/", 1)[0]]
        info = self.zf.getinfo(name)
        if info.file_size > limit:
            raise self.fail(f"{name} is {info.file_size} bytes, more than a package member of "
                            f"its kind may be ({limit})")
        with self.zf.open(info) as fh:
            # Bounded even if the directory's size is a lie: never more than limit + 1 bytes.
            data = fh.read(limit + 1)
        if len(data) > limit or len(data) != info.file_size:
            raise self.fail(f"{name} inflates to more than the {info.file_size} bytes its zip "
                            f"directory gives (read stopped at {len(data)})")
        return data

    def json(self, name: str) -> Any:
        """A JSON member: UTF-8, no key twice, nesting a package never needs refused."""
        def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
            keys = [k for k, _ in items]
            if len(set(keys)) != len(keys):
                raise ValueError(f"key {sorted(k for k in keys if keys.count(k) > 1)[0]!r} "
                                 "appears twice")
            return dict(items)

        try:
            return json.loads(self.read(name).decode("utf-8"), object_pairs_hook=pairs)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise self.fail(f"{name} is not valid JSON ({exc})") from None

    def doc(self, name: str, model: type[_M]) -> _M:
        """A JSON member checked against its model, so no later check meets a wrong type; the
        refusal names the member and the first wrong field."""
        from pydantic import ValidationError

        value = self.json(name)
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            raise self.fail(f"{name}: {_where(exc)}") from None
        except RecursionError:
            raise self.fail(f"{name} nests deeper than a package member may") from None

    def digest(self, name: str) -> str:
        hasher = hashlib.sha256()
        with self.zf.open(name) as fh:
            while chunk := fh.read(1 << 20):
                hasher.update(chunk)
        return hasher.hexdigest()


def verify_package(path: Path, public_key: str,
                   trusted_keys: dict[str, bytes] | None = None,
                   witnesses: Sequence[str] = ()) -> dict[str, Any]:
    """Run every step above; return a summary with each trail's recomputed verdict. With
    ``trusted_keys`` (key id -> Ed25519 public key), every signed attestation must also be
    signed by one of them (step 3); with ``witnesses`` (cosigner vkeys), the checkpoint must
    carry a valid cosignature by each (step 2)."""
    from affidavit.ledger.cosignature import CosignatureVerifier

    cosigners = []
    for vkey in witnesses:
        try:
            cosigners.append(CosignatureVerifier.from_key(vkey))
        except InputError as exc:
            raise InputError(f"--witness {vkey[:40]}: {exc.message}") from None
    try:
        verifier = note.Verifier.from_key(public_key)
    except InputError as exc:
        raise InputError(f"--public-key: {exc.message}") from None
    from affidavit.regular import open_regular
    from affidavit.verify.zipcheck import check_single_reading

    # closed below, after the zip that reads it
    raw = os.fdopen(open_regular(path, f"package {path}"), "rb")
    with raw:
        try:
            zf = zipfile.ZipFile(raw)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise InputError(f"package {path}: not a zip file ({exc})") from None
        with zf:
            try:
                check_single_reading(raw, zf, str(path))
                return _verify(_Package(zf, path), verifier, trusted_keys, cosigners)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error,
                    NotImplementedError, struct.error) as exc:
                raise IntegrityError(f"package {path}: corrupt member ({exc})") from None


def _checkpoint(package: _Package, verifier: note.Verifier) -> tuple[Checkpoint, bytes]:
    try:
        checkpoint = Checkpoint.parse(note.open_note(package.read("checkpoint"), [verifier]))
        return checkpoint, keymap.decode_root(checkpoint.extensions)
    except IntegrityError as exc:
        raise IntegrityError(f"package {package.where}: checkpoint: {exc.message}",
                             remedy=exc.remedy) from None


def _entries(package: _Package, checkpoint: Checkpoint) -> dict[int, Record]:
    from pydantic import ValidationError

    from affidavit.models.package import InclusionProofDoc
    from affidavit.models.records import ENTRY

    entries: dict[int, Record] = {}
    for name in sorted(n for n in package.names if n.startswith("entries/")):
        position = int(name.split("/")[1].split(".")[0])
        data = package.read(name)
        proof_name = f"proofs/{position}.json"
        if proof_name not in package.names:
            raise package.fail(f"entry {position} has no inclusion proof")
        doc = package.doc(proof_name, InclusionProofDoc)
        try:
            hashes = [base64.b64decode(h, validate=True) for h in doc.hashes]
        except (ValueError, binascii.Error):
            raise package.fail(f"{proof_name}: hashes: not standard base64") from None
        claimed, size = doc.index, doc.tree_size
        if claimed != position or size != checkpoint.size:
            raise package.fail(
                f"{proof_name} is for entry {claimed} of size {size}, not entry {position} of "
                f"the checkpoint's size {checkpoint.size}")
        if package.read(proof_name) != layout.proof_bytes(position, size, hashes):
            raise package.fail(f"{proof_name} is not written the one way a package writes it")
        try:
            proof.verify_inclusion(rfc6962.leaf_hash(data), position, size, hashes,
                                   checkpoint.root)
        except IntegrityError as exc:
            raise package.fail(f"entry {position} ({name}) is not in the checkpoint "
                               f"({exc.message})") from None
        try:
            entries[position] = ENTRY.validate_json(data).canonical()
        except ValidationError as exc:
            raise package.fail(f"entry {position} ({name}) is not a valid record "
                               f"({_where(exc)})") from None
    orphans = {n for n in package.names if _ENTRY.match(n) and n.startswith("proofs/")} - {
        f"proofs/{i}.json" for i in entries}
    if orphans:
        raise package.fail(f"proof without entry {sorted(orphans)[0]}")
    return entries


def _judge(package: _Package, entries: dict[int, Record]) -> None:
    """Every attestation's flag is the one judge's verdict of its predicate, custom types judged
    by the version the package holds."""
    from affidavit.compliance.judge import check_recorded

    for position, entry in sorted(entries.items()):
        if entry["kind"] == "attestation":
            try:
                check_recorded(entry["record"], entries.get, "the package")
            except AffidavitError as exc:
                raise package.fail(f"entry {position} {exc.message}") from None


def _scope(package: _Package, manifest: Record,
           entries: dict[int, Record]) -> tuple[Record, list[tuple[str, str]]]:
    """The scope the manifest claims (its shape already checked) and the trails it covers, as
    the entries show them."""
    scope: Record = manifest["scope"]
    flow, trail, fingerprint = scope["flow"], scope["trail"], scope["fingerprint"]
    if trail is not None and flow is not None and fingerprint is None:
        return scope, [(flow, trail)]
    if fingerprint is not None and trail is None:
        trails = sorted({(e["record"]["flow"], e["record"]["trail"]) for e in entries.values()
                         if e["kind"] == "artifact" and e["record"]["fingerprint"] == fingerprint
                         and (flow is None or e["record"]["flow"] == flow)})
        if not trails:
            raise package.fail(f"it holds no report of artifact {fingerprint}")
        return scope, trails
    raise package.fail("manifest.json scope names neither a trail nor an artifact")


def _complete(package: _Package, checkpoint: Checkpoint, map_root: bytes, keys: list[str],
              entries: dict[int, Record]) -> None:
    """Step 4: the map proofs of the scope's keys, and exactly their entries."""
    from affidavit.models.package import MapProofsDoc

    doc = package.doc(layout.MAP_PROOFS, MapProofsDoc)
    items = [item.model_dump() for item in doc.keys]
    if doc.tree_size != checkpoint.size:
        raise package.fail(f"{layout.MAP_PROOFS} is not for the checkpoint's size "
                           f"{checkpoint.size}")
    proved = [item["key"] for item in items]
    if proved != keys:
        raise package.fail(f"{layout.MAP_PROOFS} proves keys {proved}, the package's scope "
                           f"needs {keys}")
    filed: dict[str, list[int]] = {key: [] for key in keys}
    for position, entry in sorted(entries.items()):
        for key in index.keys(entry):
            if key in filed:
                filed[key].append(position)
    for item in items:
        try:
            siblings = [base64.b64decode(s, validate=True) for s in item["siblings"]]
            count, last = item["count"], item["last"]
            claim = keymap.MapProof(item["key"], count, last, siblings)
            keymap.verify_proof(map_root, claim)
        except (ValueError, binascii.Error):
            raise package.fail(f"{layout.MAP_PROOFS}: the item of {item['key']!r}: siblings: "
                               "not standard base64") from None
        except IntegrityError as exc:
            raise package.fail(f"{layout.MAP_PROOFS}: {exc.message}") from None
        held = filed[item["key"]]
        if len(held) != count or (held[-1] if held else None) != last:
            raise package.fail(
                f"it holds {len(held)} entries filed under {item['key']!r}, the signed key map "
                f"says {count} (the last being entry {last}): the package is incomplete or "
                "padded")
    if package.read(layout.MAP_PROOFS) != layout.map_bytes(checkpoint.size, items):
        raise package.fail(f"{layout.MAP_PROOFS} is not written the one way a package writes it")
    wanted = {p for held in filed.values() for p in held}
    wanted |= {e["record"]["statement"]["predicate"].get("type_entry") for e in
               (entries[p] for p in list(wanted))
               if e["kind"] == "attestation" and e["record"]["type"].startswith("custom:")}
    extra = sorted(set(entries) - wanted)
    if extra:
        raise package.fail(f"entry {extra[0]} is outside the package's scope")


def _evidence(package: _Package, rows: list[Record]) -> int:
    """Every evidence file present once, where the layout puts it, with its digest."""
    listed = set()
    for row in rows:
        member = row["path"]
        if member not in package.names:
            raise package.fail(f"evidence {member} is missing")
        if member not in listed and package.digest(member) != row["sha256"]:
            raise package.fail(f"{member} does not match its digest")
        listed.add(member)
    extra = {n for n in package.names if n.startswith("evidence/")} - listed
    if extra:
        raise package.fail(f"unlisted evidence file {sorted(extra)[0]}")
    return len(listed)


def _opened(package: _Package, entries: list[tuple[int, Record]]) -> int:
    """The plaintext of sealed files a package was written with (``opened.json``,
    ``opened/``): each where the layout puts it, hashing to the digest its row says, and that
    digest opening the commitment its entry records under the row's salt -- so the opened
    bytes are the ones that were attested, checked with no key. None is fine: 0."""
    from affidavit.evidence.sealing import commits_to

    files = [n for n in package.names if n.startswith("opened/")]
    if layout.OPENED not in package.names:
        if files:
            raise package.fail(f"{files[0]} is not listed: the package has no {layout.OPENED}")
        return 0
    doc = package.json(layout.OPENED)
    rows = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("format") != layout.OPENED_FORMAT or not isinstance(
            rows, list):
        raise package.fail(f"{layout.OPENED} is not an {layout.OPENED_FORMAT} document")
    expected = {row["opened"]: row for row in layout.sealed_rows(entries)}
    seen: set[str] = set()
    for n, row in enumerate(rows):
        member = row.get("path") if isinstance(row, dict) else None
        want = expected.get(member) if isinstance(member, str) else None
        if want is None or member in seen or row.get("evidence") != want["path"] or (
                row.get("entry") != want["entry"]):
            raise package.fail(f"{layout.OPENED}: row {n} opens no sealed file of the entries")
        assert isinstance(member, str)
        seen.add(member)
        if member not in package.names:
            raise package.fail(f"{member} is missing")
        digest, size = row.get("sha256"), row.get("size")
        if not isinstance(digest, str) or not isinstance(size, int) or (
                package.digest(member) != digest) or package.zf.getinfo(member).file_size != size:
            raise package.fail(f"{member} does not match its digest in {layout.OPENED}")
        if not commits_to(want["sealed"], str(row.get("salt")), digest):
            raise package.fail(f"{member} is not the file entry {want['entry']} attested: its "
                               "digest does not open the entry's commitment")
    extra = sorted(set(files) - seen)
    if extra:
        raise package.fail(f"unlisted opened file {extra[0]}")
    return len(seen)


def _same_manifest(package: _Package, manifest: Record, expected: Record) -> None:
    """The manifest must be exactly the one the entries make; say what differs first."""
    if manifest == expected:
        return
    if manifest.get("checkpoint") != expected["checkpoint"] or (
            manifest.get("ledger") != expected["ledger"]):
        raise package.fail("manifest.json names another checkpoint or ledger")
    if manifest.get("entries") != expected["entries"]:
        raise package.fail("manifest.json lists other entries than the package holds")
    claimed = manifest.get("trails")
    for i, trail in enumerate(expected["trails"]):
        said = claimed[i] if isinstance(claimed, list) and i < len(claimed) else None
        if said != trail:
            status = said.get("status") if isinstance(said, dict) else None
            raise package.fail(f"trail {trail['flow']}/{trail['trail']} recomputes as "
                               f"{trail['status']}, manifest.json says {status}")
    rows = manifest.get("evidence")
    for i, row in enumerate(expected["evidence"]):
        said = rows[i] if isinstance(rows, list) and i < len(rows) else None
        if said != row:
            raise package.fail(f"manifest.json: evidence row {i} should be {row['path']} of "
                               f"entry {row['entry']} ({row['sha256']})")
    wrong = sorted(k for k in set(expected) | set(manifest) if manifest.get(k) != expected.get(k))
    raise package.fail(f"manifest.json disagrees with the entries ({', '.join(wrong)})")


def _signers(package: _Package, entries: dict[int, Record],
             trusted: dict[str, bytes] | None) -> dict[str, int]:
    """Key id -> how many attestations it signed (their envelopes checked by ``_judge``); with
    ``trusted``, a signature by any other key fails the package."""
    from affidavit.models.dsse import signer_of

    counts: dict[str, int] = {}
    for position, entry in sorted(entries.items()):
        keyid = signer_of(entry["record"]) if entry["kind"] == "attestation" else None
        if keyid is None:
            continue
        if trusted is not None and keyid not in trusted:
            raise package.fail(f"entry {position} is signed by key {keyid[:16]}, which "
                               "--trusted-keys does not hold")
        counts[keyid] = counts.get(keyid, 0) + 1
    return counts


def _cosigned(package: _Package, cosigners: Sequence[Any]) -> list[dict[str, Any]]:
    """Each witness's cosignature of the package's checkpoint (its name and timestamp): at
    least one line by its key must verify over the checkpoint, else the package fails. Lines
    by the same key that do not verify are passed over rather than failing it: the lines are
    kept beside the log, where whoever could write could add one, and a good cosignature is
    not undone by a bad line beside it."""
    from affidavit.ledger.cosignature import split_note

    try:
        text, lines = split_note(package.read("checkpoint"))
    except IntegrityError as exc:
        raise package.fail(f"checkpoint: {exc.message}") from None
    out = []
    for cosigner in cosigners:
        stamps, bad = [], 0
        for line in lines:
            if not cosigner.matches(line):
                continue
            try:
                stamps.append(cosigner.verify_line(text, line))
            except IntegrityError:
                bad += 1
        if not stamps:
            which = f"{cosigner.name}+{cosigner.key_id.hex()}"
            raise package.fail(f"checkpoint: no valid cosignature by witness {which}" + (
                f" ({bad} line(s) by its key do not verify)" if bad else ""))
        out.append({"witness": cosigner.key, "timestamp": max(stamps)})
    return out


def _verify(package: _Package, verifier: note.Verifier,
            trusted: dict[str, bytes] | None = None,
            cosigners: Sequence[Any] = ()) -> dict[str, Any]:
    from affidavit.models.package import PackageManifest

    checkpoint, map_root = _checkpoint(package, verifier)
    witnessed = _cosigned(package, cosigners)
    entries = _entries(package, checkpoint)
    _judge(package, entries)
    signers = _signers(package, entries, trusted)
    unsigned = sum(1 for e in entries.values()
                   if e["kind"] == "attestation" and "signed_by" not in e["record"])
    manifest = package.doc("manifest.json", PackageManifest).model_dump()
    scope, trails = _scope(package, manifest, entries)
    keys = layout.scope_keys(scope["fingerprint"], trails)
    _complete(package, checkpoint, map_root, keys, entries)
    ordered = sorted(entries.items())
    judged = layout.verdicts(ordered, trails)
    expected = layout.manifest(
        origin=checkpoint.origin, verifier_key=verifier.key, size=checkpoint.size,
        root=base64.b64encode(checkpoint.root).decode(),
        map_root=base64.b64encode(map_root).decode(), scope=scope, keys=keys, judged=judged,
        entries=ordered)
    _same_manifest(package, manifest, expected)
    if package.read("manifest.json") != layout.manifest_bytes(expected):
        raise package.fail("manifest.json is not written the one way a package writes it")
    if package.read("README.md") != layout.readme(expected, ordered, judged).encode():
        raise package.fail("README.md disagrees with the entries")
    files = _evidence(package, expected["evidence"])
    opened = _opened(package, ordered)
    bundles = _sigstore(package, entries, expected["evidence"])
    where = package.where
    return {
        "verified": True,
        "entries": len(entries),
        "evidence": files,
        "opened": opened,
        "checkpoint": {"origin": checkpoint.origin, "size": checkpoint.size},
        "keys": keys,
        "signed": {"by": signers, "unsigned": unsigned, "trusted_keys": trusted is not None},
        "witnesses": witnessed,
        "sigstore": bundles.to_json(),
        "trails": [{"flow": f, "trail": t, "status": v["status"], "reasons": v["reasons"]}
                   for f, t, v in judged],
        "summary": f"verified {where.name}: {len(entries)} entries and {files} evidence files"
                   f"{f' ({opened} opened, each matching its commitment)' if opened else ''}, "
                   f"complete for {', '.join(keys)}, included in checkpoint "
                   f"{checkpoint.origin} @ {checkpoint.size}" + _signed_text(
                       signers, unsigned, trusted is not None) + (
                       f", cosigned by {len(witnessed)} witness(es)" if witnessed else "")
                   + bundles.text(),
    }


def _sigstore(package: _Package, entries: dict[int, Record], rows: list[Record]) -> Any:
    """Step 6: every Sigstore bundle the attestations recorded, verified again from the
    evidence file that holds it (``verify.sigstore_bundles.reverify``)."""
    from affidavit.verify.sigstore_bundles import BUNDLE_LIMIT, reverify

    def member(position: int, digest: str) -> tuple[str, bytes]:
        path = next(r["path"] for r in rows if r["entry"] == position and r["sha256"] == digest)
        with package.zf.open(path) as fh:
            return path, fh.read(BUNDLE_LIMIT + 1)

    try:
        return reverify(entries, member)
    except IntegrityError as exc:
        raise package.fail(exc.message) from None


def _signed_text(signers: dict[str, int], unsigned: int, trusted: bool) -> str:
    if not signers:
        return ""
    signed = sum(signers.values())
    whose = "trusted keys" if trusted else f"{len(signers)} key(s), none checked against " \
        "--trusted-keys"
    return f"; {signed} attestation(s) signed by {whose}, {unsigned} unsigned"
