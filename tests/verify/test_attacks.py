"""The four attacks that broke "every answer proven", replayed as an attacker would run them.

Each starts from a ledger the CLI wrote, changes it below affidavit (``sqlite3`` on the file, a
copy of an older database, a record appended around the judge, a forged package) and checks
that the gating reads answer exit 3 (or the honest answer), never the attacker's answer.
"""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest

from affidavit import canonical
from affidavit.api import record
from affidavit.errors import InputError
from affidavit.evidence import layout
from affidavit.ledger.sqlite import SQLiteLedger
from affidavit.models import build
from tests.helpers import SHOP_TEMPLATE, Cli, Home, assert_error, ok, rewrite_zip, state

FLOW, TRAIL = "shop", "t1"


@pytest.fixture
def compliant(cli: Cli, tmp_path: Path) -> dict[str, Any]:
    """Flow shop (review on the trail, unit on artifact app), trail t1 COMPLIANT."""
    template = tmp_path / "template.yml"
    template.write_text(SHOP_TEMPLATE)
    fp = "a1" * 32
    ok(cli("create", "flow", FLOW, "--template-file", template))
    ok(cli("begin", "trail", TRAIL, "--flow", FLOW))
    ok(cli("attest", "artifact", "--fingerprint", fp, "--flow", FLOW, "--trail", TRAIL,
            "--name", "app"))
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "unit",
            "--fingerprint", fp))
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "review"))
    assert cli("assert", "trail", TRAIL, "--flow", FLOW).code == 0
    return {"fp": fp}


def _failing_review(cli: Cli) -> int:
    """Report a failing ``review`` to the trail; its entry index."""
    result = ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "review",
                    "--compliant", "false", "--output", "json"))
    return int(result.json()["index"])


def _db(home: Home) -> sqlite3.Connection:
    return sqlite3.connect(home.db, isolation_level=None)


def db_size(home: Home) -> int:
    db = _db(home)
    try:
        return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])
    finally:
        db.close()


# -- 1. deleting one index row flips a gate ------------------------------------------------------


def test_deleting_the_index_rows_of_a_failing_review_is_exit_3(
    cli: Cli, home: Home, tmp_path: Path, compliant: dict[str, Any]
) -> None:
    failing = _failing_review(cli)
    assert cli("assert", "trail", TRAIL, "--flow", FLOW).code == 1
    db = _db(home)
    db.execute("DELETE FROM idx WHERE entry = ?", (failing,))
    db.close()
    assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW), 3, "key map")
    assert_error(cli("assert", "artifact", compliant["fp"]), 3)
    assert_error(cli("get", "trail", TRAIL, "--flow", FLOW), 3)
    assert_error(cli("verify", "ledger"), 3, f"entry {failing}")
    out = tmp_path / "p.zip"
    assert_error(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", out), 3)
    assert not out.exists()
    # A write reads only how many entries the trail files, and that too must agree with the map.
    before = db_size(home)
    assert_error(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "late"), 3,
                 "signed key map")
    assert db_size(home) == before
    # The log itself is intact: rebuilding the index restores the honest answer.
    ok(cli("ledger", "reindex"))
    assert cli("assert", "trail", TRAIL, "--flow", FLOW).code == 1


def _rebuild_map_from_the_index(home: Home) -> None:
    """What a holder of the database can do without the key: make the key map agree with a
    doctored index, so that only the signed map root still tells."""
    from affidavit.ledger import keymap

    db = _db(home)
    memory = keymap.MemoryMap()
    for key, entry in db.execute("SELECT key, entry FROM idx ORDER BY entry"):
        memory.add(key, entry)
    db.execute("DELETE FROM map_leaves")
    db.execute("DELETE FROM map_nodes")
    db.executemany("INSERT INTO map_leaves VALUES (?, ?, ?, ?)",
                   [(keymap.key_hash(k), k, c, last) for k, (c, last) in memory.items().items()])
    db.executemany("INSERT INTO map_nodes VALUES (?, ?, ?)", list(memory.nodes()))
    db.close()


def test_the_next_honest_write_does_not_sign_a_doctored_index_and_map(
    cli: Cli, home: Home, compliant: dict[str, Any]
) -> None:
    failing = _failing_review(cli)
    db = _db(home)
    db.execute("DELETE FROM idx WHERE entry = ?", (failing,))
    db.close()
    _rebuild_map_from_the_index(home)
    before = state(home)
    assert_error(cli("create", "flow", "g"), 3, "key map")
    assert state(home) == before  # nothing signed over the doctored map
    assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW), 3, "signed map root")
    ok(cli("ledger", "reindex"))  # the log is intact: the honest index and map come back
    assert cli("assert", "trail", TRAIL, "--flow", FLOW).code == 1


def test_the_next_honest_write_does_not_sign_a_doctored_entry(
    cli: Cli, home: Home, compliant: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from affidavit.ledger.rfc6962 import leaf_hash

    failing = _failing_review(cli)
    db = _db(home)
    (data,) = db.execute("SELECT data FROM entries WHERE idx = ?", (failing,)).fetchone()
    forged = bytes(data).replace(b'"compliant":false', b'"compliant":true ')
    db.execute("UPDATE entries SET data = ?, leaf = ? WHERE idx = ?",
               (forged, leaf_hash(forged), failing))
    db.close()
    before = state(home)
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(tmp_path / "first-use"))  # no memory at all
    assert_error(cli("create", "flow", "g"), 3, "tree")
    assert state(home) == before
    # The forged leaf breaks every proof whose path crosses it, its own and its neighbours'.
    assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW), 3, "not included in the signed")


def test_deleting_a_trails_only_index_rows_does_not_make_it_vanish(
    cli: Cli, home: Home, compliant: dict[str, Any]
) -> None:
    db = _db(home)
    db.execute("DELETE FROM idx WHERE key = ?", (f"trail:{FLOW}/{TRAIL}",))
    db.close()
    assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW), 3, f"trail:{FLOW}/{TRAIL}")
    assert_error(cli("list", "trails", "--flow", FLOW), 3)


# -- 2. a package that cannot prove it is complete ---------------------------------------------


def test_forged_package_without_the_failing_entry_is_exit_3(
    cli: Cli, tmp_path: Path, compliant: dict[str, Any]
) -> None:
    failing = _failing_review(cli)
    package = tmp_path / "p.zip"
    ok(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", package))
    key = ok(cli("ledger", "public-key")).out.strip()
    assert ok(cli("verify", "package", package, "--public-key", key)).out.count(
        "NON_COMPLIANT: trail") == 1

    # The attacker drops the entry and its proof, and rewrites manifest and README exactly as
    # affidavit would have written them for the remaining entries: only the map can tell.
    with zipfile.ZipFile(package) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        kept = [(i, json.loads(zf.read(f"entries/{i}.json"))) for i in manifest["entries"]
                if i != failing]
    trails = [(FLOW, TRAIL)]
    judged = layout.verdicts(kept, trails)
    assert judged[0][2]["status"] == "COMPLIANT"  # what the forgery would claim
    forged_manifest = layout.manifest(
        origin=manifest["ledger"]["origin"], verifier_key=manifest["ledger"]["verifier_key"],
        size=manifest["checkpoint"]["size"], root=manifest["checkpoint"]["root"],
        map_root=manifest["checkpoint"]["map"], scope=manifest["scope"], keys=manifest["keys"],
        judged=judged, entries=kept)
    forged = rewrite_zip(package, tmp_path / "forged.zip",
                         drop=(f"entries/{failing}.json", f"proofs/{failing}.json"),
                         replace={"manifest.json": layout.manifest_bytes(forged_manifest),
                                  "README.md": layout.readme(forged_manifest, kept,
                                                             judged).encode()})
    assert_error(cli("verify", "package", forged, "--public-key", key), 3,
                 f"trail:{FLOW}/{TRAIL}", "incomplete")

    # Nor can the attacker shrink the map proof's count: it no longer leads to the signed root.
    with zipfile.ZipFile(forged) as zf:
        proofs = json.loads(zf.read(layout.MAP_PROOFS))
    for item in proofs["keys"]:
        if item["key"] == f"trail:{FLOW}/{TRAIL}":
            item["count"] -= 1
            item["last"] = max(i for i, _ in kept)
    shrunk = rewrite_zip(forged, tmp_path / "shrunk.zip",
                         replace={layout.MAP_PROOFS: json.dumps(proofs).encode()})
    assert_error(cli("verify", "package", shrunk, "--public-key", key), 3, "signed map root")


def _polyglot(genuine: bytes, forged: bytes) -> bytes:
    """One file, two packages: a ZIP64 end record names the genuine central directory (what
    Python's zipfile reads), the plain end record the forged one (what unzip reads)."""
    import struct

    def split(z: bytes) -> tuple[bytes, bytes, int]:
        _, _, _, n, _, size, offset, _ = struct.unpack("<4s4H2LH", z[-22:])
        return z[:offset], z[offset:offset + size], n

    locals_g, cd_g, n_g = split(genuine)
    locals_f, cd_f, n_f = split(forged)
    moved, i = bytearray(cd_f), 0
    while i < len(moved):  # the forged members now sit after the genuine ones
        name_len, extra_len, comment_len = struct.unpack("<3H", moved[i + 28:i + 34])
        (offset,) = struct.unpack("<L", moved[i + 42:i + 46])
        moved[i + 42:i + 46] = struct.pack("<L", offset + len(locals_g))
        i += 46 + name_len + extra_len + comment_len
    at_f = len(locals_g) + len(locals_f)
    at_g = at_f + len(moved) + 4
    at_64 = at_g + len(cd_g)
    end64 = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, n_g, n_g, len(cd_g), at_g)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, at_64, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n_f, n_f,
                      len(moved) + 4 + len(cd_g) + 76, at_f, 0)
    return locals_g + locals_f + bytes(moved) + b"PK\x05\x06" + cd_g + end64 + locator + end


def test_a_zip_with_two_readings_is_exit_3(
    cli: Cli, tmp_path: Path, compliant: dict[str, Any]
) -> None:
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "review",
           "--compliant", "false"))
    package = tmp_path / "p.zip"
    ok(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", package))
    key = ok(cli("ledger", "public-key")).out.strip()
    with zipfile.ZipFile(package) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)),
                        data.replace(b"NON_COMPLIANT", b"COMPLIANT"))
    poly = tmp_path / "poly.zip"
    poly.write_bytes(_polyglot(package.read_bytes(), forged.read_bytes()))
    with zipfile.ZipFile(poly) as zf:  # Python reads the genuine package...
        assert b"NON_COMPLIANT" in zf.read("README.md")
    assert_error(cli("verify", "package", poly, "--public-key", key), 3, "one reading")
    for trailing in (b"junk", b"PK\x05\x06" + bytes(18)):
        padded = tmp_path / "padded.zip"
        padded.write_bytes(package.read_bytes() + trailing)
        assert cli("verify", "package", padded, "--public-key", key).code in (2, 3)
    prefixed = tmp_path / "prefixed.zip"
    prefixed.write_bytes(b"#!/bin/sh\n" + package.read_bytes())
    assert cli("verify", "package", prefixed, "--public-key", key).code in (2, 3)


# -- 3. rollbacks -------------------------------------------------------------------------------


def _backup(home: Home, target: Path) -> None:
    source = sqlite3.connect(home.db)
    copy = sqlite3.connect(target)
    source.backup(copy)
    copy.close()
    source.close()


def _restore(home: Home, backup: Path) -> None:
    import gc

    gc.collect()  # close connections the in-process CLI left for the garbage collector
    for suffix in ("-wal", "-shm"):
        Path(f"{home.db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup, home.db)


def test_rollback_to_an_older_database_is_exit_3_without_any_verify(
    cli: Cli, home: Home, tmp_path: Path, compliant: dict[str, Any]
) -> None:
    """The client only ever wrote and asserted; its seen memory still knows."""
    backup = tmp_path / "before.db"
    _backup(home, backup)
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "review",
            "--compliant", "false"))
    assert cli("assert", "trail", TRAIL, "--flow", FLOW).code == 1
    _restore(home, backup)
    assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW), 3, "rolled back")
    assert_error(cli("verify", "ledger"), 3, "rolled back")
    before = state(home)
    assert_error(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x"), 3,
                 "rolled back")
    assert state(home) == before  # nothing written on a rolled-back ledger


def test_deleting_the_last_entry_its_checkpoint_and_index_rows_is_exit_3(
    cli: Cli, home: Home, compliant: dict[str, Any]
) -> None:
    """The rollback as the issue describes it: the rows of the last append removed by hand."""
    failing = _failing_review(cli)
    db = _db(home)
    db.execute("DELETE FROM entries WHERE idx = ?", (failing,))
    db.execute("DELETE FROM checkpoints WHERE size = ?", (failing + 1,))
    db.execute("DELETE FROM idx WHERE entry = ?", (failing,))
    db.close()
    assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW), 3)
    assert_error(cli("verify", "ledger"), 3)


@pytest.mark.parametrize("then", ["rolled back", "rewritten"])
def test_a_write_never_signs_a_fork_of_the_head_it_proved(
    home: Home, compliant: dict[str, Any], then: str
) -> None:
    """The race: a writer proves the head, the log is rolled back (and maybe re-extended by
    a client with no memory) before its append: the append refuses, nothing is signed."""
    from affidavit.errors import IntegrityError
    from affidavit.verify.proven import Proven

    ledger = SQLiteLedger(home.url)
    with Proven(ledger) as head:
        pass
    assert head.checkpoint is not None
    proved = (head.checkpoint.size, head.checkpoint.root)
    db = _db(home)
    db.execute("DELETE FROM entries WHERE idx >= ?", (proved[0] - 2,))
    db.execute("DELETE FROM checkpoints WHERE size > ?", (proved[0] - 2,))
    db.close()
    ledger.close()
    ledger = SQLiteLedger(home.url)
    ledger.reindex()  # the rolled-back log is consistent with its own latest checkpoint
    if then == "rewritten":
        other = [build.entry("trail", build.trail(flow=FLOW, name=f"x{n}")) for n in range(2)]
        ledger.append([canonical.dumps(e) for e in other], other)
    before = state(home)
    entry = build.entry("trail", build.trail(flow=FLOW, name="late"))
    with pytest.raises(IntegrityError, match=then):
        ledger.append([canonical.dumps(entry)], [entry], after=proved)
    assert state(home) == before
    ledger.close()


# -- 4. reads that trusted what the writer claimed ------------------------------------------------


def _failing_junit() -> dict[str, Any]:
    return {"summary": {"tests": 3, "failures": 2, "errors": 0, "skipped": 0},
            "policy": {"max_failures": 0, "max_errors": 0}}


def test_library_write_claiming_compliant_against_its_predicate_is_refused(
    home: Home, ledger: Any, compliant: dict[str, Any]
) -> None:
    before = state(home)
    claim = record.Claim(flow=FLOW, trail=TRAIL, name="unit-tests")
    with pytest.raises(InputError, match="predicate yields False"):
        record.attest(ledger, claim, type="junit", compliant=True, predicate=_failing_junit())
    assert state(home) == before


def test_record_appended_around_the_judge_is_exit_3_on_every_read(
    cli: Cli, home: Home, tmp_path: Path, compliant: dict[str, Any]
) -> None:
    """An entry written straight into the log (signed, included, indexed) that claims
    compliant with a failing predicate is not believed by any read."""
    lie = build.entry("attestation", build.attestation(
        flow=FLOW, trail=TRAIL, name="review", type="junit", compliant=True,
        predicate=_failing_junit()))
    handle = SQLiteLedger(home.url)
    position = handle.append([canonical.dumps(lie)], [lie]).first
    handle.close()
    needle = f"entry {position} records compliant=True but its predicate yields False"
    assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW), 3, needle)
    assert_error(cli("get", "attestation", "review", "--flow", FLOW, "--trail", TRAIL), 3,
                 needle)
    assert_error(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o",
                     tmp_path / "p.zip"), 3, needle)
    assert_error(cli("verify", "ledger"), 3, needle)


@pytest.mark.parametrize("forged", [
    build.entry("trail", {"flow": FLOW, "name": TRAIL, "template": {"trail": {
        "attestations": [{"type": "generic"}]}}}),
    build.entry("attestation", build.attestation(
        flow=FLOW, trail=TRAIL, name="deploy", type="approval-request", compliant=True,
        predicate={"approvers": "alice"})),
    build.entry("attestation", {**build.attestation(
        flow=FLOW, trail=TRAIL, name="unit", type="generic", compliant=True,
        predicate={"compliant": True}), "target": {"kind": "artifact"}}),
    build.entry("flow", {"name": FLOW, "tags": {"risk-level": ["high"]}}),
    build.entry("flow", {"name": FLOW, "tags": "risk-level=high"}),
], ids=["template-slot-without-name", "request-approvers-not-a-list", "target-without-artifact",
        "flow-tag-not-text", "flow-tags-not-a-map"])
def test_signed_record_of_the_wrong_shape_is_exit_3_not_a_crash(
    cli: Cli, home: Home, compliant: dict[str, Any], forged: dict[str, Any]
) -> None:
    """Records only a key holder could have appended around affidavit's write path."""
    handle = SQLiteLedger(home.url)
    handle.append([canonical.dumps(forged)], [forged])
    handle.close()
    assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW), 3)
    assert_error(cli("get", "trail", TRAIL, "--flow", FLOW), 3)


def test_one_approval_rule_for_the_trail_and_the_approval(cli: Cli) -> None:
    """Request alice, mallory approves: both gates say it is not approved."""
    ok(cli("create", "flow", "rel"))
    ok(cli("begin", "trail", "t", "--flow", "rel"))
    ok(cli("request", "approval", "--flow", "rel", "--trail", "t", "--name", "deploy",
            "--approvers", "alice"))
    ok(cli("attest", "approval", "--flow", "rel", "--trail", "t", "--name", "deploy",
            "--approver", "mallory"))
    trail = cli("assert", "trail", "t", "--flow", "rel", "--output", "json")
    approval = cli("assert", "approval", "--flow", "rel", "--trail", "t", "--name", "deploy",
                   "--output", "json")
    assert (trail.code, approval.code) == (1, 1)
    assert trail.json()["status"] == "INCOMPLETE"
    assert approval.json()["status"] == "PENDING"
    assert trail.json()["reasons"] == [
        "trail: approval 'deploy' needs 1 approver of alice, has 0"]
    ok(cli("attest", "approval", "--flow", "rel", "--trail", "t", "--name", "deploy",
            "--approver", "Alice"))
    assert cli("assert", "trail", "t", "--flow", "rel").code == 0
    assert cli("assert", "approval", "--flow", "rel", "--trail", "t", "--name",
               "deploy").code == 0


def test_package_map_proof_is_exactly_the_designs_shape(
    cli: Cli, tmp_path: Path, compliant: dict[str, Any]
) -> None:
    package = tmp_path / "p.zip"
    ok(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", package))
    with zipfile.ZipFile(package) as zf:
        doc = json.loads(zf.read(layout.MAP_PROOFS))
        size = json.loads(zf.read("manifest.json"))["checkpoint"]["size"]
    assert set(doc) == {"tree_size", "keys"} and doc["tree_size"] == size
    assert [item["key"] for item in doc["keys"]] == [f"flowdef:{FLOW}", f"trail:{FLOW}/{TRAIL}"]
    for item in doc["keys"]:
        assert set(item) == {"key", "count", "last", "siblings"}
        assert all(len(base64.b64decode(s)) == 32 for s in item["siblings"])
    assert doc["keys"][1]["count"] == 4  # begin, artifact, unit, review
