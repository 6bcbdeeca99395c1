"""The key file and the vault beside a database are named after its whole file name.

``l.db`` keeps ``l.db.key`` and ``l.db.blobs/``, so ``l.db`` and ``l.sqlite`` in one folder are
two ledgers with two keys. A ledger made with the older names (``l.key``, ``l.blobs/``) keeps
working where it is: its files are found, used and never renamed.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from affidavit.api import record
from affidavit.ledger.sqlite import SQLiteLedger
from tests.conftest import FLOW, TRAIL
from tests.helpers import Cli, assert_error, attest_generic, ok


def _ledger_with_evidence(db: Path, evidence: Path) -> str:
    """A ledger at ``db`` with one attestation keeping ``evidence``; the evidence digest."""
    handle = SQLiteLedger(str(db))
    record.create_flow(handle, name=FLOW)
    record.begin_trail(handle, flow=FLOW, name=TRAIL)
    recorded = attest_generic(handle, flow=FLOW, trail=TRAIL, name="review",
                              attachments=[evidence])
    handle.close()
    digest: str = recorded.entry["record"]["evidence"][0]["sha256"]
    return digest


def _make_legacy(db: Path) -> None:
    """Rename a new ledger's sidecars to the names ledgers had before (``<stem>.key``)."""
    gc.collect()  # no connection of an earlier handle may stay open on the files
    stem = db.with_suffix("")
    Path(f"{db}.key").rename(f"{stem}.key")
    if Path(f"{db}.blobs").exists():
        Path(f"{db}.blobs").rename(f"{stem}.blobs")


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    path = tmp_path / "evidence.txt"
    path.write_text("what the reviewer saw\n")
    return path


def test_sidecars_are_named_after_the_whole_file_name(tmp_path: Path, evidence: Path) -> None:
    db = tmp_path / "l.db"
    digest = _ledger_with_evidence(db, evidence)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("l.")) == [
        "l.db", "l.db-writer", "l.db.blobs", "l.db.key"]
    assert (tmp_path / "l.db.blobs" / digest[:2] / digest[2:]).is_file()
    handle = SQLiteLedger(str(db))
    assert handle.key_path == f"{db}.key" and handle.blobs.root == f"{db}.blobs"
    assert set(handle.local_files()) >= {f"{db}.key", f"{db}.blobs", f"{db}-writer"}


def test_two_databases_with_one_stem_have_two_keys(tmp_path: Path, evidence: Path) -> None:
    _ledger_with_evidence(tmp_path / "l.db", evidence)
    _ledger_with_evidence(tmp_path / "l.sqlite", evidence)
    first, second = SQLiteLedger(str(tmp_path / "l.db")), SQLiteLedger(str(tmp_path / "l.sqlite"))
    assert first.key_path != second.key_path
    assert first.verifier_key() != second.verifier_key()
    assert (tmp_path / "l.sqlite.key").is_file() and (tmp_path / "l.sqlite.blobs").is_dir()
    assert not (tmp_path / "l.key").exists()


def test_a_database_without_extension_keeps_its_key_name(tmp_path: Path, evidence: Path) -> None:
    """``ledger`` has ``ledger.key`` under either naming: nothing to tell apart."""
    _ledger_with_evidence(tmp_path / "ledger", evidence)
    assert (tmp_path / "ledger.key").is_file() and (tmp_path / "ledger.blobs").is_dir()


def test_a_legacy_ledger_is_read_and_written_where_it_is(
    cli: Cli, tmp_path: Path, evidence: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "l.db"
    digest = _ledger_with_evidence(db, evidence)
    _make_legacy(db)
    monkeypatch.setenv("AFFIDAVIT_LEDGER", str(db))
    handle = SQLiteLedger(str(db))
    assert handle.key_path == str(tmp_path / "l.key")
    assert handle.blobs.root == str(tmp_path / "l.blobs")
    ok(cli("verify", "ledger", "--deep"))
    ok(cli("evidence", "get", digest, "-o", tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text() == evidence.read_text()
    more = tmp_path / "more.txt"
    more.write_text("a second file\n")
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "second",
           "--attachments", more))
    assert "entries, " in ok(cli("verify", "ledger", "--deep")).out
    assert len(list((tmp_path / "l.blobs").rglob("*/*"))) == 2  # both files in the old vault
    assert not (tmp_path / "l.db.key").exists() and not (tmp_path / "l.db.blobs").exists()


def test_a_legacy_vault_is_found_without_its_key(
    tmp_path: Path, evidence: Path
) -> None:
    """Reads need no key: with the old key gone, the evidence is still where it was."""
    db = tmp_path / "l.db"
    digest = _ledger_with_evidence(db, evidence)
    _make_legacy(db)
    (tmp_path / "l.key").unlink()
    handle = SQLiteLedger(str(db), create=False)
    assert handle.blobs.root == str(tmp_path / "l.blobs")
    assert handle.blobs.read_verified(digest) == evidence.read_bytes()


def test_a_new_database_beside_a_legacy_one_gets_its_own_key(
    tmp_path: Path, evidence: Path
) -> None:
    """``l.key`` belongs to ``l.db``: a new ``l.sqlite`` neither takes it nor is refused."""
    _ledger_with_evidence(tmp_path / "l.db", evidence)
    _make_legacy(tmp_path / "l.db")
    _ledger_with_evidence(tmp_path / "l.sqlite", evidence)
    assert (tmp_path / "l.sqlite.key").is_file()
    assert SQLiteLedger(str(tmp_path / "l.sqlite")).verifier_key() != SQLiteLedger(
        str(tmp_path / "l.db")).verifier_key()


def test_a_lost_legacy_database_is_still_refused(
    cli: Cli, tmp_path: Path, evidence: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "l.db"
    _ledger_with_evidence(db, evidence)
    _make_legacy(db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    monkeypatch.setenv("AFFIDAVIT_LEDGER", str(db))
    assert_error(cli("create", "flow", FLOW), 3, str(tmp_path / "l.key"), "--reuse-key")
    assert not db.exists() and not (tmp_path / "l.db.key").exists()
    ok(cli("ledger", "init", "--reuse-key"))  # a new history, under the old key, in the old files
    assert not (tmp_path / "l.db.key").exists()
    assert SQLiteLedger(str(db)).key_path == str(tmp_path / "l.key")


def test_a_lost_database_with_the_new_names_is_refused(
    cli: Cli, tmp_path: Path, evidence: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "l.db"
    _ledger_with_evidence(db, evidence)
    gc.collect()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    monkeypatch.setenv("AFFIDAVIT_LEDGER", str(db))
    assert_error(cli("create", "flow", FLOW), 3, f"{db}.key", "--reuse-key")
    assert not db.exists()


def test_the_sibling_check_opens_no_fifo(tmp_path: Path) -> None:
    """A FIFO named like a sibling database is not opened for reading (it would block)."""
    (tmp_path / "l.key").write_text("PRIVATE+KEY+x\n")
    os.mkfifo(tmp_path / "l.sqlite")
    handle = SQLiteLedger(str(tmp_path / "l.db"))
    assert handle.key_path == str(tmp_path / "l.key")  # no database claims it: the old name
