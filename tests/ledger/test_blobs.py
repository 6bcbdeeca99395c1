"""The vault stores a file only with the entry naming it: staged, placed in the append, undone.

``Incoming`` copies a file under a temporary name; ``place`` (inside the ledger's write
transaction) renames it under its digest; ``undo`` (the append failed) and ``close`` (the
write ended) remove whatever should not stay. These tests drive a batch by hand and through
``SQLiteLedger.append``, and check the vault's whole tree after each step.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from affidavit import canonical
from affidavit.errors import InputError, IntegrityError, LedgerUnavailable
from affidavit.ledger.blobs import FileBlobStore
from affidavit.ledger.sqlite import SQLiteLedger
from tests.helpers import Home, sha256_hex


def _tree(root: Path) -> list[str]:
    """Every file and folder below ``root`` (and ``root`` itself), as relative paths."""
    if not root.exists():
        return []
    return sorted(["."] + [str(p.relative_to(root)) for p in root.rglob("*")])


def _entry(n: int) -> bytes:
    return canonical.dumps({"v": 1, "kind": "note", "time": "2026-01-01T00:00:00Z",
                            "record": {"n": n}})


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "report.txt"
    path.write_bytes(b"evidence bytes\n")
    return path


def test_a_staged_file_is_invisible_and_closing_removes_it(tmp_path: Path, source: Path) -> None:
    store = FileBlobStore(str(tmp_path / "vault"))
    batch = store.incoming()
    digest, size = batch.add(source)
    assert (digest, size) == (sha256_hex(source.read_bytes()), source.stat().st_size)
    assert not store.has(digest)
    staged = [p.name for p in (tmp_path / "vault").iterdir()]
    assert len(staged) == 1 and staged[0].startswith(".incoming-")
    batch.close()
    assert _tree(tmp_path / "vault") == []  # the vault folder it made is gone too


def test_placing_makes_the_file_readable_and_undo_removes_it(
    tmp_path: Path, source: Path
) -> None:
    store = FileBlobStore(str(tmp_path / "vault"))
    batch = store.incoming()
    digest, _ = batch.add(source)
    batch.place()
    assert store.read_verified(digest) == source.read_bytes()
    assert _tree(tmp_path / "vault") == [".", digest[:2], f"{digest[:2]}/{digest[2:]}"]
    batch.undo()
    batch.close()
    assert _tree(tmp_path / "vault") == []


def test_undo_keeps_a_file_that_was_there_before(tmp_path: Path, source: Path) -> None:
    store = FileBlobStore(str(tmp_path / "vault"))
    first = store.incoming()
    digest, _ = first.add(source)
    first.place()
    first.close()
    before = _tree(tmp_path / "vault")
    second = store.incoming()
    second.add(source)
    second.place()
    second.undo()
    second.close()
    assert _tree(tmp_path / "vault") == before
    assert store.read_verified(digest) == source.read_bytes()


def test_undo_keeps_a_copy_another_writer_placed_since(tmp_path: Path, source: Path) -> None:
    """Only the very file this batch placed is removed: not one that replaced it since."""
    store = FileBlobStore(str(tmp_path / "vault"))
    mine, theirs = store.incoming(), store.incoming()
    digest, _ = mine.add(source)
    theirs.add(source)
    mine.place()
    theirs.place()  # the other writer's copy replaces mine, and its entry commits
    theirs.close()
    mine.undo()
    mine.close()
    assert store.read_verified(digest) == source.read_bytes()


def test_the_same_bytes_twice_are_staged_once(tmp_path: Path, source: Path) -> None:
    copy = tmp_path / "copy.txt"
    copy.write_bytes(source.read_bytes())
    store = FileBlobStore(str(tmp_path / "vault"))
    batch = store.incoming()
    assert batch.add(source)[0] == batch.add(copy)[0]
    assert len(list((tmp_path / "vault").iterdir())) == 1
    batch.close()


def test_an_unreadable_source_is_the_callers_error(tmp_path: Path) -> None:
    store = FileBlobStore(str(tmp_path / "vault"))
    batch = store.incoming()
    with pytest.raises(InputError, match="evidence file .*: is a directory"):
        batch.add(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        batch.add(tmp_path / "missing")
    batch.close()
    assert _tree(tmp_path / "vault") == []


def test_a_vault_that_cannot_be_written_is_the_ledgers_error(tmp_path: Path, source: Path) -> None:
    (tmp_path / "vault").write_text("a file where the vault folder should be")
    batch = FileBlobStore(str(tmp_path / "vault")).incoming()
    with pytest.raises(LedgerUnavailable, match="evidence vault .*: not a directory"):
        batch.add(source)
    batch.close()


def test_a_failed_append_leaves_no_evidence(
    home: Home, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = SQLiteLedger(home.url)
    ledger.append([_entry(0)])
    before = _tree(home.blobs)
    batch = ledger.blobs.incoming()
    batch.add(source)

    def refuse(*args: object) -> None:
        raise IntegrityError("the head moved")

    monkeypatch.setattr(SQLiteLedger, "_check_extends", refuse)
    with pytest.raises(IntegrityError):
        ledger.append([_entry(1)], after=(1, b"x" * 32), evidence=batch)
    batch.close()
    assert _tree(home.blobs) == before
    assert ledger.size() == 1


def test_a_commit_that_fails_takes_the_placed_evidence_back(
    home: Home, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files are placed just before COMMIT: when COMMIT itself fails, they go again."""
    ledger = SQLiteLedger(home.url)
    ledger.append([_entry(0)])
    batch = ledger.blobs.incoming()
    digest, _ = batch.add(source)
    seen: list[bool] = []

    class FailingCommit:
        """The connection, except that COMMIT fails as it does on a full disk."""

        def __init__(self, db: sqlite3.Connection) -> None:
            self._db = db

        def __getattr__(self, name: str) -> object:
            return getattr(self._db, name)

        def execute(self, sql: str, *args: object) -> object:
            if sql == "COMMIT":
                seen.append(ledger.blobs.has(digest))
                raise sqlite3.OperationalError("database or disk is full")
            return self._db.execute(sql, *args)

    real = ledger._db
    monkeypatch.setattr(ledger, "_connection", FailingCommit(real))
    with pytest.raises(LedgerUnavailable, match="disk is full"):
        ledger.append([_entry(1)], evidence=batch)
    batch.close()
    assert seen == [True]  # placed before the commit...
    assert _tree(home.blobs) == []  # ...and taken back with it
    monkeypatch.setattr(ledger, "_connection", real)
    assert ledger.size() == 1


def test_evidence_of_another_vault_is_refused(home: Home, tmp_path: Path) -> None:
    ledger = SQLiteLedger(home.url)
    with pytest.raises(ValueError, match="this ledger's own vault"):
        ledger.append([_entry(0)], evidence=FileBlobStore(str(tmp_path / "v")).incoming())
    assert not os.path.exists(home.db) or ledger.size() == 0


def test_a_key_made_for_a_creation_that_did_not_commit_is_removed(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Else the next try would find a key without its history and refuse to start one."""
    real_connect = SQLiteLedger._connect

    class FailingCommit:
        def __init__(self, db: sqlite3.Connection) -> None:
            self._db = db

        def __getattr__(self, name: str) -> object:
            return getattr(self._db, name)

        def execute(self, sql: str, *args: object) -> object:
            if sql == "COMMIT" and self._db.in_transaction:
                assert home.key.exists()  # written inside the creating transaction
                raise sqlite3.OperationalError("database or disk is full")
            return self._db.execute(sql, *args)

    monkeypatch.setattr(SQLiteLedger, "_connect",
                        lambda self: FailingCommit(real_connect(self)))
    with pytest.raises(LedgerUnavailable, match="disk is full") as refused:
        SQLiteLedger(home.url).init()
    assert refused.value.remedy == "nothing was recorded"
    assert not home.key.exists()
    monkeypatch.undo()
    assert SQLiteLedger(home.url).init().startswith("affidavit/")
