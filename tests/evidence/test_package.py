"""Evidence packages: what goes in the zip, offline verification, and every way to tamper.

Tampered packages must each fail ``verify package`` with exit 3 and one line naming the
problem; a file that is not a package at all is bad input (exit 2).
"""

from __future__ import annotations

import base64
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from affidavit.api import record
from affidavit.errors import IntegrityError
from affidavit.ledger import note, proof
from affidavit.ledger.checkpoint import Checkpoint
from affidavit.ledger.rfc6962 import leaf_hash
from affidavit.verify.package import verify_package
from tests.conftest import FLOW, TRAIL
from tests.helpers import (
    Cli,
    Home,
    assert_error,
    attest_generic,
    rewrite_zip,
    sha256_hex,
    state,
)

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

FP = "5e" * 32
REPORT_A = b"<testsuite name='a' tests='3'/>\n"
REPORT_B = b"<testsuite name='b' tests='4'/>\n"
LOG = b"all good\n"
SARIF = b'{"version": "2.1.0", "runs": []}\n'


@pytest.fixture
def world(ledger: Any, tmp_path: Path) -> dict[str, Any]:
    """Flow demo: trail t1 (artifact app, attestations unit twice and scan on the artifact, with
    evidence), trail t2 (the same artifact, a failing unit); flow other with the artifact too."""
    def write(name: str, data: bytes) -> str:
        path = tmp_path / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return str(path)

    report_a = write("reports/a/report.txt", REPORT_A)
    report_b = write("reports/b/report.txt", REPORT_B)
    log = write("log.txt", LOG)
    sarif = write("scan.sarif", SARIF)
    at: dict[str, int | None] = {}
    at["flow"] = record.create_flow(ledger, name=FLOW).entry_index
    at["t1"] = record.begin_trail(ledger, flow=FLOW, name=TRAIL).entry_index
    at["app"] = record.attest_artifact(ledger, flow=FLOW, trail=TRAIL, name="app",
                                       fingerprint=FP).entry_index
    at["unit"] = attest_generic(ledger, flow=FLOW, trail=TRAIL, name="unit",
                                       attachments=[report_a, report_b, log]).entry_index
    at["other"] = record.create_flow(ledger, name="other").entry_index
    at["o1"] = record.begin_trail(ledger, flow="other", name="o1").entry_index
    at["o1-app"] = record.attest_artifact(ledger, flow="other", trail="o1", name="app",
                                          fingerprint=FP).entry_index
    at["unit-again"] = attest_generic(ledger, flow=FLOW, trail=TRAIL, name="unit",
                                             attachments=[log]).entry_index
    at["scan"] = attest_generic(ledger, flow=FLOW, trail=TRAIL, name="scan",
                                       fingerprint=FP, attachments=[sarif]).entry_index
    at["t2"] = record.begin_trail(ledger, flow=FLOW, name="t2").entry_index
    at["t2-app"] = record.attest_artifact(ledger, flow=FLOW, trail="t2", name="app",
                                          fingerprint=FP).entry_index
    at["t2-unit"] = attest_generic(ledger, flow=FLOW, trail="t2", name="unit",
                                          compliant=False).entry_index
    return {"at": at, "key": ledger.verifier_key(), "size": ledger.size(), "ledger": ledger}


@pytest.fixture
def package(cli: Cli, world: dict[str, Any], tmp_path: Path) -> Path:
    out = tmp_path / "t1.zip"
    result = cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", out)
    assert result.code == 0, str(result)
    return out


def _names(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as zf:
        return set(zf.namelist())


def _read(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(name)


# -- building ----------------------------------------------------------------------------------


def test_trail_package_layout(
    cli: Cli, world: dict[str, Any], package: Path, home: Home
) -> None:
    at = world["at"]
    entries = sorted(at[k] for k in ("flow", "t1", "app", "unit", "unit-again", "scan"))
    assert _names(package) == {
        "checkpoint", "manifest.json", "README.md", "proofs/map.json",
        *(f"entries/{i}.json" for i in entries), *(f"proofs/{i}.json" for i in entries),
        "evidence/unit/report.txt", "evidence/unit/report-2.txt", "evidence/unit/log.txt",
        "evidence/scan/scan.sarif",
    }
    assert _read(package, "evidence/unit/report.txt") == REPORT_A
    assert _read(package, "evidence/unit/report-2.txt") == REPORT_B
    assert _read(package, "evidence/unit/log.txt") == LOG
    assert _read(package, "evidence/scan/scan.sarif") == SARIF

    # The entries are the exact leaf bytes, proven against the signed checkpoint.
    ledger = world["ledger"]
    signed = _read(package, "checkpoint").decode()
    assert signed == ledger.checkpoint()
    checkpoint = Checkpoint.parse(note.open_note(signed, [note.Verifier.from_key(world["key"])]))
    assert checkpoint.size == world["size"]
    for i in entries:
        data = _read(package, f"entries/{i}.json")
        assert data == dict(ledger.read(i, i + 1))[i]
        doc = json.loads(_read(package, f"proofs/{i}.json"))
        assert set(doc) == {"index", "tree_size", "hashes"}
        assert (doc["index"], doc["tree_size"]) == (i, checkpoint.size)
        hashes = [base64.b64decode(h) for h in doc["hashes"]]
        proof.verify_inclusion(leaf_hash(data), i, checkpoint.size, hashes, checkpoint.root)

    manifest = json.loads(_read(package, "manifest.json"))
    assert manifest["format"] == "affidavit-evidence-package/v2"
    assert manifest["ledger"]["verifier_key"] == world["key"]
    assert manifest["checkpoint"] == {"size": checkpoint.size,
                                      "root": base64.b64encode(checkpoint.root).decode(),
                                      "map": checkpoint.extensions[0].split(" ")[1]}
    assert manifest["keys"] == [f"flowdef:{FLOW}", f"trail:{FLOW}/{TRAIL}"]
    assert manifest["trails"] == [{"flow": FLOW, "trail": TRAIL, "status": "COMPLIANT"}]
    assert manifest["entries"] == entries
    assert sorted((e["path"], e["sha256"], e["entry"]) for e in manifest["evidence"]) == sorted([
        ("evidence/unit/report.txt", sha256_hex(REPORT_A), at["unit"]),
        ("evidence/unit/report-2.txt", sha256_hex(REPORT_B), at["unit"]),
        ("evidence/unit/log.txt", sha256_hex(LOG), at["unit"]),
        ("evidence/unit/log.txt", sha256_hex(LOG), at["unit-again"]),
        ("evidence/scan/scan.sarif", sha256_hex(SARIF), at["scan"]),
    ])

    readme = _read(package, "README.md").decode()
    assert readme.startswith(f"# Evidence package: trail {FLOW}/{TRAIL}\n")
    assert world["key"] in readme
    assert f"## Trail {FLOW}/{TRAIL}: COMPLIANT" in readme
    assert "evidence/unit/report-2.txt" in readme


def test_package_summary_output(cli: Cli, world: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "p.zip"
    result = cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", out)
    assert result.out == (f"wrote {out}: 6 entries, 4 evidence files, "
                          f"checkpoint size {world['size']}\n")
    as_json = cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", out,
                  "--output", "json").json()
    expected = {"path": str(out), "entries": 6, "evidence": 4, "tree_size": world["size"],
                "trails": [{"flow": FLOW, "trail": TRAIL, "status": "COMPLIANT"}]}
    assert {k: as_json.get(k) for k in expected} == expected
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_artifact_package_holds_every_trail_of_the_flow(
    cli: Cli, world: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "artifact.zip"
    result = cli("evidence", "package", "--flow", FLOW, "--fingerprint", FP.upper(), "-o", out)
    assert result.code == 0, str(result)
    at = world["at"]
    # Every entry carrying the fingerprint (the other flow's report too: the map proves the
    # artifact's entries complete), and the trails of the flow asked for, whole.
    entries = sorted(at[k] for k in ("flow", "t1", "app", "unit", "unit-again", "scan", "t2",
                                     "t2-app", "t2-unit", "o1-app"))
    names = _names(out)
    assert {n for n in names if n.startswith("entries/")} == {
        f"entries/{i}.json" for i in entries}
    assert f"entries/{at['o1']}.json" not in names  # the other flow's trail stays out
    manifest = json.loads(_read(out, "manifest.json"))
    assert manifest["scope"] == {"flow": FLOW, "trail": None, "fingerprint": FP}
    assert manifest["keys"] == [f"artifact:{FP}", f"flowdef:{FLOW}", f"trail:{FLOW}/{TRAIL}",
                                f"trail:{FLOW}/t2"]
    assert manifest["trails"] == [
        {"flow": FLOW, "trail": TRAIL, "status": "COMPLIANT"},
        {"flow": FLOW, "trail": "t2", "status": "NON_COMPLIANT"}]
    verified = cli("verify", "package", out, "--public-key", world["key"])
    assert verified.code == 0, str(verified)

    everywhere = tmp_path / "everywhere.zip"
    assert cli("evidence", "package", "--fingerprint", FP, "-o", everywhere).code == 0
    manifest = json.loads(_read(everywhere, "manifest.json"))
    assert [(t["flow"], t["trail"]) for t in manifest["trails"]] == [
        (FLOW, TRAIL), (FLOW, "t2"), ("other", "o1")]
    assert cli("verify", "package", everywhere, "--public-key", world["key"]).code == 0


def test_name_clash_disambiguation_keeps_extension() -> None:
    from affidavit.evidence.layout import evidence_path

    taken: dict[str, str] = {}
    assert evidence_path("unit", "r.xml", taken, "1" * 64) == "evidence/unit/r.xml"
    assert evidence_path("unit", "r.xml", taken, "1" * 64) == "evidence/unit/r.xml"
    assert evidence_path("unit", "r.xml", taken, "2" * 64) == "evidence/unit/r-2.xml"
    assert evidence_path("unit", "r.xml", taken, "3" * 64) == "evidence/unit/r-3.xml"
    assert evidence_path("unit", "r.xml", taken, "2" * 64) == "evidence/unit/r-2.xml"
    assert evidence_path("unit", "../../etc/r.xml", taken, "4" * 64) == "evidence/unit/etc/r.xml"
    assert evidence_path("unit", "/abs/r.xml", taken, "5" * 64) == "evidence/unit/abs/r.xml"


def test_package_refuses_evidence_altered_in_the_vault(
    cli: Cli, world: dict[str, Any], home: Home, tmp_path: Path
) -> None:
    digest = sha256_hex(LOG)
    blob = home.blobs / digest[:2] / digest[2:]
    blob.write_bytes(b"all bad\n")
    out = tmp_path / "p.zip"
    result = cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", out)
    assert_error(result, 3, digest)
    assert not out.exists()


# -- verifying ---------------------------------------------------------------------------------


def test_verify_package_ok(cli: Cli, world: dict[str, Any], package: Path) -> None:
    result = cli("verify", "package", package, "--public-key", world["key"])
    assert result.code == 0, str(result)
    assert result.err == ""
    origin = world["key"].split("+")[0]
    assert result.out == (f"verified {package.name}: 6 entries and 4 evidence files, complete "
                          f"for flowdef:{FLOW}, trail:{FLOW}/{TRAIL}, included in checkpoint "
                          f"{origin} @ {world['size']}\n"
                          f"COMPLIANT: trail {FLOW}/{TRAIL} (recomputed from the package)\n")
    as_json = cli("verify", "package", package, "--public-key", world["key"],
                  "--output", "json").json()
    assert as_json["verified"] is True
    assert (as_json["entries"], as_json["evidence"]) == (6, 4)
    assert as_json["checkpoint"] == {"origin": origin, "size": world["size"]}


def test_verify_package_needs_no_ledger(
    world: dict[str, Any], package: Path, home: Home, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Offline: the ledger is gone and the key is passed through the environment."""
    from tests.helpers import run_subprocess

    world["ledger"].close()
    for path in home.dir.iterdir():
        if path.is_file():
            path.unlink()
    monkeypatch.setenv("AFFIDAVIT_LEDGER", f"sqlite:///{tmp_path}/gone/none.db")
    result = run_subprocess("verify", "package", package,
                            env={"AFFIDAVIT_PUBLIC_KEY": world["key"]})
    assert result.code == 0, str(result)
    assert result.out.startswith("verified ")
    assert not (tmp_path / "gone").exists()


def _flip_byte(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1:]


def _tamper_cases(package: Path, at: dict[str, int]) -> dict[str, dict[str, Any]]:
    unit_entry = f"entries/{at['unit']}.json"
    unit_proof = f"proofs/{at['unit']}.json"
    proof_doc = json.loads(_read(package, unit_proof))
    manifest = json.loads(_read(package, "manifest.json"))
    signed = _read(package, "checkpoint").decode()
    text, signature = signed.split("\n\n")
    sig_prefix, sig_b64 = signature.rsplit(" ", 1)
    raw_sig = bytearray(base64.b64decode(sig_b64))
    raw_sig[10] ^= 0xFF

    def proof_with(**changes: Any) -> bytes:
        return json.dumps({**proof_doc, **changes}).encode()

    def manifest_with(change: Callable[[dict[str, Any]], None]) -> bytes:
        doc = json.loads(json.dumps(manifest))
        change(doc)
        return json.dumps(doc).encode()

    def set_status(doc: dict[str, Any]) -> None:
        doc["trails"][0]["status"] = "NON_COMPLIANT"

    def set_digest(doc: dict[str, Any]) -> None:
        doc["evidence"][0]["sha256"] = "0" * 64

    def drop_row(doc: dict[str, Any]) -> None:
        doc["evidence"] = [e for e in doc["evidence"] if e["path"] != "evidence/scan/scan.sarif"]

    def move_row(doc: dict[str, Any]) -> None:
        for row in doc["evidence"]:
            if row["path"] == "evidence/scan/scan.sarif":
                row["entry"] = at["unit"]

    entry_bytes = _read(package, unit_entry)
    other_hash = base64.b64encode(b"\x07" * 32).decode()
    return {
        "entry-byte": {"replace": {unit_entry: _flip_byte(entry_bytes, len(entry_bytes) // 2)},
                       "needle": f"entry {at['unit']}"},
        "entry-whitespace": {"replace": {unit_entry: entry_bytes + b"\n"},
                             "needle": f"entry {at['unit']}"},
        "evidence-file": {"replace": {"evidence/unit/log.txt": b"all bad\n"},
                          "needle": "evidence/unit/log.txt"},
        "evidence-swapped": {"replace": {"evidence/unit/report.txt": REPORT_B},
                             "needle": "evidence/unit/report.txt"},
        "extra-root-file": {"add": {"notes.txt": b"trust me"}, "needle": "notes.txt"},
        "extra-evidence": {"add": {"evidence/unit/extra.txt": b"x"},
                           "needle": "evidence/unit/extra.txt"},
        "extra-entry": {"add": {"entries/999.json": b"{}"}, "needle": "999"},
        "orphan-proof": {"add": {"proofs/999.json": proof_with(index=999)}, "needle": "999"},
        "extra-directory-entry": {"add": {"entries/": b""}, "needle": "entries/"},
        "proof-hash": {"replace": {unit_proof: proof_with(
            hashes=[other_hash, *proof_doc["hashes"][1:]])}, "needle": f"entry {at['unit']}"},
        "proof-short": {"replace": {unit_proof: proof_with(hashes=proof_doc["hashes"][:-1])},
                        "needle": f"entry {at['unit']}"},
        "proof-index": {"replace": {unit_proof: proof_with(index=at["unit"] + 1)},
                        "needle": unit_proof},
        "proof-size": {"replace": {unit_proof: proof_with(tree_size=proof_doc["tree_size"] - 1)},
                       "needle": unit_proof},
        "proof-not-json": {"replace": {unit_proof: b"{not json"}, "needle": unit_proof},
        "proof-missing": {"drop": (unit_proof,), "needle": f"entry {at['unit']}"},
        "checkpoint-signature": {"replace": {"checkpoint": (
            f"{text}\n\n{sig_prefix} {base64.b64encode(bytes(raw_sig)).decode()}\n").encode()},
            "needle": "signature"},
        "checkpoint-size": {"replace": {"checkpoint": signed.replace(
            f"\n{proof_doc['tree_size']}\n", f"\n{proof_doc['tree_size'] + 1}\n", 1).encode()},
            "needle": "signature"},
        "checkpoint-unsigned": {"replace": {"checkpoint": (text + "\n").encode()},
                                "needle": "checkpoint"},
        "checkpoint-missing": {"drop": ("checkpoint",), "needle": "checkpoint"},
        "manifest-status": {"replace": {"manifest.json": manifest_with(set_status)},
                            "needle": "NON_COMPLIANT"},
        "manifest-digest": {"replace": {"manifest.json": manifest_with(set_digest)},
                            "needle": "evidence/"},
        "manifest-row-dropped": {"replace": {"manifest.json": manifest_with(drop_row)},
                                 "needle": "scan.sarif"},
        "manifest-row-moved": {"replace": {"manifest.json": manifest_with(move_row)},
                               "needle": "scan.sarif"},
        "manifest-missing": {"drop": ("manifest.json",), "needle": "manifest.json"},
        "entry-dropped": {"drop": ("entries/0.json", "proofs/0.json"), "needle": "incomplete"},
        "manifest-checkpoint": {"replace": {"manifest.json": manifest_with(
            lambda doc: doc["checkpoint"].update(size=doc["checkpoint"]["size"] + 1))},
            "needle": "another checkpoint"},
        "evidence-missing": {"drop": ("evidence/unit/report-2.txt",),
                             "needle": "report-2.txt"},
        "dotdot-member": {"add": {"../evil": b"boo"}, "needle": "../evil"},
        "nested-dotdot-member": {"add": {"evidence/unit/../../evil": b"boo"}, "needle": "evil"},
        "absolute-member": {"add": {"/etc/evil": b"boo"}, "needle": "/etc/evil"},
        "backslash-member": {"add": {"evidence\\unit\\evil.txt": b"boo"}, "needle": "evil"},
        "duplicate-member": {"add": {"evidence/unit/log.txt": LOG}, "needle": "log.txt"},
        "manifest-duplicate-key": {"replace": {"manifest.json": _read(package, "manifest.json")
                                               .replace(b'"format"', b'"format": 1, "format"', 1)},
                                   "needle": "appears twice"},
        "manifest-float-size": {"replace": {"manifest.json": json.dumps(
            {**manifest, "checkpoint": {**manifest["checkpoint"],
                                        "size": float(manifest["checkpoint"]["size"])}},
            indent=2, sort_keys=True).encode()}, "needle": "manifest.json"},
        "manifest-utf16": {"replace": {"manifest.json": _read(package, "manifest.json")
                                       .decode().encode("utf-16")}, "needle": "manifest.json"},
        "manifest-respaced": {"replace": {"manifest.json": json.dumps(manifest).encode()},
                              "needle": "manifest.json"},
        "map-duplicate-key": {"replace": {"proofs/map.json": _read(package, "proofs/map.json")
                                          .replace(b'"count"', b'"count": 0, "count"', 1)},
                              "needle": "appears twice"},
        "proof-extra-field": {"replace": {unit_proof: proof_with(note="x")},
                              "needle": unit_proof},
    }


CASE_NAMES = [
    "entry-byte", "entry-whitespace", "evidence-file", "evidence-swapped", "extra-root-file",
    "extra-evidence", "extra-entry", "orphan-proof", "extra-directory-entry", "proof-hash",
    "proof-short", "proof-index", "proof-size", "proof-not-json", "proof-missing",
    "checkpoint-signature", "checkpoint-size", "checkpoint-unsigned", "checkpoint-missing",
    "manifest-status", "manifest-digest", "manifest-row-dropped", "manifest-row-moved",
    "manifest-missing", "entry-dropped", "manifest-checkpoint", "evidence-missing",
    "dotdot-member", "nested-dotdot-member",
    "absolute-member", "backslash-member", "duplicate-member", "manifest-duplicate-key",
    "manifest-float-size", "manifest-utf16", "manifest-respaced", "map-duplicate-key",
    "proof-extra-field",
]


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("case", CASE_NAMES)
def test_tampered_package_is_exit_3(
    cli: Cli, world: dict[str, Any], package: Path, tmp_path: Path, case: str
) -> None:
    spec = _tamper_cases(package, world["at"])[case]
    tampered = rewrite_zip(package, tmp_path / f"{case}.zip", replace=spec.get("replace"),
                           drop=spec.get("drop", ()), add=spec.get("add"))
    result = cli("verify", "package", tampered, "--public-key", world["key"])
    assert_error(result, 3, spec["needle"])
    with pytest.raises(IntegrityError):
        verify_package(tampered, world["key"])


def test_every_case_is_listed(world: dict[str, Any], package: Path) -> None:
    assert sorted(_tamper_cases(package, world["at"])) == sorted(CASE_NAMES)


def test_wrong_public_key_is_exit_3(cli: Cli, world: dict[str, Any], package: Path) -> None:
    origin = world["key"].split("+")[0]
    impostor = note.Signer.from_key(note.generate_signer_key(origin)).verifier_key
    assert_error(cli("verify", "package", package, "--public-key", impostor), 3,
                 "no signature from a known key")
    stranger = note.Signer.from_key(note.generate_signer_key("someone/else")).verifier_key
    assert_error(cli("verify", "package", package, "--public-key", stranger), 3,
                 "no signature from a known key")


def test_package_signed_by_another_ledger_is_exit_3(
    cli: Cli, world: dict[str, Any], package: Path, tmp_path: Path
) -> None:
    """A genuine package of another ledger does not verify with this ledger's key."""
    other_url = f"sqlite:///{tmp_path}/other.db"
    assert cli("create", "flow", FLOW, "--ledger", other_url).code == 0
    assert cli("begin", "trail", TRAIL, "--flow", FLOW, "--ledger", other_url).code == 0
    other = tmp_path / "other.zip"
    assert cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", other,
               "--ledger", other_url).code == 0
    assert_error(cli("verify", "package", other, "--public-key", world["key"]), 3)


def test_not_a_zip_and_missing_file_are_exit_2(
    cli: Cli, world: dict[str, Any], tmp_path: Path
) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"this is not a zip")
    assert_error(cli("verify", "package", junk, "--public-key", world["key"]), 2,
                 str(junk), "not a zip")
    missing = tmp_path / "missing.zip"
    assert_error(cli("verify", "package", missing, "--public-key", world["key"]), 2,
                 str(missing), "no such file")
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    assert_error(cli("verify", "package", empty, "--public-key", world["key"]), 3,
                 "missing")


def test_corrupt_member_is_exit_3(
    cli: Cli, world: dict[str, Any], package: Path, tmp_path: Path
) -> None:
    """Bytes flipped inside the compressed stream of a member: the zip CRC catches it."""
    data = bytearray(package.read_bytes())
    with zipfile.ZipFile(package) as zf:
        info = zf.getinfo("manifest.json")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(bytes(data))
    result = cli("verify", "package", corrupt, "--public-key", world["key"])
    assert_error(result, 3, str(corrupt))


# -- the vault ---------------------------------------------------------------------------------


def test_evidence_get_round_trip(cli: Cli, world: dict[str, Any], tmp_path: Path,
                                 home: Home) -> None:
    for content in (REPORT_A, REPORT_B, LOG, SARIF):
        out = tmp_path / "out" / sha256_hex(content)[:8]
        out.parent.mkdir(exist_ok=True)
        result = cli("evidence", "get", sha256_hex(content).upper(), "-o", out)
        assert result.code == 0, str(result)
        assert out.read_bytes() == content
        assert result.err == f"wrote {out} ({len(content)} bytes)\n"
    before = state(home)
    unknown = "7" * 64
    assert_error(cli("evidence", "get", unknown, "-o", tmp_path / "x"), 2, unknown)
    assert not (tmp_path / "x").exists()
    assert state(home) == before


def test_evidence_get_refuses_altered_blob(
    cli: Cli, world: dict[str, Any], tmp_path: Path, home: Home
) -> None:
    digest = sha256_hex(SARIF)
    (home.blobs / digest[:2] / digest[2:]).write_bytes(b"{}")
    out = tmp_path / "x.sarif"
    assert_error(cli("evidence", "get", digest, "-o", out), 3, digest)
    assert not out.exists()


def test_packages_are_reproducible(cli: Cli, world: dict[str, Any], tmp_path: Path) -> None:
    one, two = tmp_path / "one.zip", tmp_path / "two.zip"
    for out in (one, two):
        assert cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", out).code == 0
    assert one.read_bytes() == two.read_bytes()
    assert re.fullmatch(r"[0-9a-f]{64}", sha256_hex(one.read_bytes()))
