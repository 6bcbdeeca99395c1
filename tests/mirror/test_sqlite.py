"""``affidavit mirror`` from a SQLite ledger to a second SQLite file: the copy, its evidence,
incremental runs, and divergence caught on either side (one line, exit 3, nothing copied)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import Cli, Home, assert_error, ok
from tests.mirror.conftest import Source, checkpoint_rows, entries_of, flip_entry, run, save


def test_copy_is_the_source_and_second_run_copies_only_new(
        cli: Cli, source: Source, tmp_path: Path, attach: Callable[[bytes], str]) -> None:
    digest = attach(b"the session log\n")
    source.grow(3)
    copy = tmp_path / "copy.db"
    first = run(cli, "--from", source.url, "--to", copy)
    assert entries_of(copy) == source.entries()
    assert first["copied"] == len(source.entries()) and first["evidence"] == 1
    # the evidence file, in the copy's vault under its digest, with its bytes
    assert (tmp_path / "copy.db.blobs" / digest[:2] / digest[2:]).read_bytes() == \
        b"the session log\n"
    # the source's own signed checkpoint is kept with the copy
    kept = first["source_checkpoint_evidence"]
    assert (tmp_path / "copy.db.blobs" / kept[:2] / kept[2:]).read_text() == \
        source.checkpoint()
    ok(cli("verify", "ledger", "--ledger", copy))

    rows = checkpoint_rows(copy)
    before = entries_of(copy)
    source.grow(2)
    second = run(cli, "--from", source.url, "--to", copy)
    assert second["copied"] == 2 and second["evidence"] == 0
    assert second["verified_before"] == len(before)
    assert entries_of(copy) == source.entries()
    assert entries_of(copy)[:len(before)] == before
    assert checkpoint_rows(copy) == rows + 1  # one append of the two new entries
    third = run(cli, "--from", source.url, "--to", copy)
    assert third["copied"] == 0 and checkpoint_rows(copy) == rows + 1


def test_pages_of_a_large_source(cli: Cli, source: Source, tmp_path: Path) -> None:
    source.grow(250)
    copy = tmp_path / "copy.db"
    run(cli, "--from", source.url, "--to", copy)
    assert entries_of(copy) == source.entries()
    assert checkpoint_rows(copy) == 1 + 3  # the empty log's, then pages of 100, 100, 50


def test_copy_edited_is_caught(cli: Cli, source: Source, tmp_path: Path) -> None:
    source.grow(5)
    copy = tmp_path / "copy.db"
    run(cli, "--from", source.url, "--to", copy)
    source.grow(2)
    flip_entry(copy, 2)
    assert_error(cli("mirror", "--from", source.url, "--to", copy), 3, "copy", str(copy),
                 "entry 2", "size 5")
    assert len(entries_of(copy)) == 5  # nothing more copied
    flip_entry(copy, 2)  # back as it was...
    flip_entry(copy, 3, leaf_too=True)  # ...and a forger who also rewrote the leaf hash
    assert_error(cli("mirror", "--from", source.url, "--to", copy), 3, "copy", str(copy),
                 "size 5", "edited")
    assert len(entries_of(copy)) == 5


def test_source_rewritten_from_a_backup_is_caught(
        cli: Cli, source: Source, home: Home, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    source.grow(4)
    backup = tmp_path / "backup.db"
    save(home.db, backup)
    source.grow(3)
    copy = tmp_path / "copy.db"
    run(cli, "--from", source.url, "--to", copy)
    source.ledger.close()
    # the key holder rewrites history after entry 3: same origin, same key, another tree
    save(backup, home.db)
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(tmp_path / "forger-cache"))
    rewritten = Source(home)
    rewritten.trails = 100
    rewritten.grow(5)
    rewritten.ledger.close()
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(home.cache))
    # what this client saw of the source catches it first...
    assert_error(cli("mirror", "--from", source.url, "--to", copy), 3, "size 7", "rewritten")
    # ...and what the mirror verified, without that
    shutil.rmtree(home.cache / "seen")
    assert_error(cli("mirror", "--from", source.url, "--to", copy), 3, source.url, "size 9",
                 "size 7", "rewritten")
    assert len(entries_of(copy)) == 7


def test_source_replaced_by_a_fresh_file_with_the_same_key(
        cli: Cli, source: Source, home: Home, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    source.grow(4)
    copy = tmp_path / "copy.db"
    first = run(cli, "--from", source.url, "--to", copy)
    key = cli("ledger", "public-key", "--ledger", source.url).out.strip()
    source.ledger.close()
    home.db.unlink()
    ok(cli("ledger", "init", "--reuse-key", "--ledger", source.url))  # a new origin
    fresh = Source(home)
    fresh.grow(6)
    assert_error(cli("mirror", "--from", source.url, "--to", copy, "--public-key", key), 3,
                 source.url, first["origin"], "same key", "rewritten")
    assert len(entries_of(copy)) == 4
    # another client, which never mirrored the old source: the copy itself refuses
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(tmp_path / "other-cache"))
    assert_error(cli("mirror", "--from", source.url, "--to", copy, "--public-key", key), 3,
                 str(copy), "4 entries that are not the source's")
    assert len(entries_of(copy)) == 4
    fresh.ledger.close()


def test_source_rolled_back_is_caught(cli: Cli, source: Source, home: Home,
                                      tmp_path: Path) -> None:
    source.grow(3)
    saved = tmp_path / "saved.db"
    save(home.db, saved)
    source.grow(2)
    copy = tmp_path / "copy.db"
    run(cli, "--from", source.url, "--to", copy)
    source.ledger.close()
    save(saved, home.db)
    assert_error(cli("mirror", "--from", source.url, "--to", copy), 3, "size 3", "rolled back")
    shutil.rmtree(home.cache / "seen")
    assert_error(cli("mirror", "--from", source.url, "--to", copy), 3, source.url, "size 3",
                 "size 5", "rolled back")
    assert len(entries_of(copy)) == 5


def test_copy_rolled_back_or_replaced_is_caught(cli: Cli, source: Source,
                                                tmp_path: Path) -> None:
    source.grow(3)
    copy = tmp_path / "copy.db"
    run(cli, "--from", source.url, "--to", copy)
    for name in ("copy.db", "copy.db.key"):
        (tmp_path / name).unlink()
    shutil.rmtree(tmp_path / "copy.db.blobs", ignore_errors=True)
    assert_error(cli("mirror", "--from", source.url, "--to", copy), 3, str(copy), "size 0",
                 "size 3")


def test_target_holding_other_entries_is_refused(cli: Cli, source: Source,
                                                 tmp_path: Path) -> None:
    source.grow(3)
    other = tmp_path / "other.db"
    ok(cli("create", "flow", "elsewhere", "--ledger", other))
    assert_error(cli("mirror", "--from", source.url, "--to", other), 3, str(other),
                 "not the source's")
    assert len(entries_of(other)) == 1


def test_evidence_checked_on_the_way(cli: Cli, source: Source, home: Home, tmp_path: Path,
                                     attach: Callable[[bytes], str]) -> None:
    digest = attach(b"original bytes\n")
    blob = home.blobs / digest[:2] / digest[2:]
    blob.chmod(0o600)
    blob.write_bytes(b"Original bytes\n")
    copy = tmp_path / "copy.db"
    assert_error(cli("mirror", "--from", source.url, "--to", copy), 3, "source", digest,
                 "does not match its digest")
    # the page naming it was never appended
    assert not copy.exists() or entries_of(copy) == []


def test_bad_input_is_one_line(cli: Cli, source: Source, tmp_path: Path) -> None:
    source.grow(2)
    assert_error(cli("mirror", "--from", source.url, "--to", "ftp://example.com/x"), 2, "ftp")
    assert_error(cli("mirror", "--from", source.url, "--to", "s3://No_Such"), 2, "s3://No_Such")
    assert_error(cli("mirror", "--from", source.url, "--to", source.url), 2, "source itself")
    assert_error(cli("mirror", "--to", tmp_path / "c.db"), 2, "--from")
    assert_error(cli("mirror", "--from", source.url, "--to", tmp_path / "c.db",
                     "--public-key", "not a key"), 2, "--public-key")
    missing = tmp_path / "missing.db"
    result = cli("mirror", "--from", missing, "--to", tmp_path / "c.db")
    assert result.code in (2, 3) and "Traceback" not in result.err
    assert len(result.err.splitlines()) == 1 and not (tmp_path / "c.db").exists()


def test_wrong_public_key_is_refused(cli: Cli, source: Source, tmp_path: Path) -> None:
    source.grow(2)
    other = tmp_path / "other.db"
    ok(cli("create", "flow", "x", "--ledger", other))
    key = cli("ledger", "public-key", "--ledger", other).out.strip()
    assert_error(cli("mirror", "--from", source.url, "--to", tmp_path / "c.db",
                     "--public-key", key), 3, "pinned key")
