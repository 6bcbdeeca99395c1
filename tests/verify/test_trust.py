"""What a client remembers and refuses: seen memory by origin and key, key files, fresh origins,
pinned keys, audits under concurrent writers, the vault, and where a package may be written."""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from affidavit.ledger import note
from affidavit.ledger.sqlite import SQLiteLedger
from tests.helpers import Cli, Home, assert_error, ok, sha256_hex, state

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

FLOW, TRAIL = "demo", "t1"


@pytest.fixture
def trail(cli: Cli) -> None:
    ok(cli("create", "flow", FLOW))
    ok(cli("begin", "trail", TRAIL, "--flow", FLOW))
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "unit"))


def _seen(home: Home) -> list[Path]:
    return sorted((home.cache / "seen").glob("*.json"))


def _forget_connections() -> None:
    import gc

    gc.collect()  # the in-process CLI leaves connections for the garbage collector


def _attach(cli: Cli, tmp_path: Path) -> str:
    """Attest ``e`` with one evidence file holding ``x``; return the file's digest."""
    report = tmp_path / "r.txt"
    report.write_text("x")
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "e",
           "--attachments", report))
    return sha256_hex(b"x")


# -- the seen memory --------------------------------------------------------------------------


def test_every_spelling_of_the_location_is_one_memory(
    cli: Cli, home: Home, monkeypatch: pytest.MonkeyPatch, trail: None
) -> None:
    monkeypatch.chdir(home.dir)
    spellings = [str(home.db), f"sqlite:///{home.db}", f"sqlite:///{home.dir}//{home.db.name}",
                 home.db.name, f"sqlite:///{home.db.name}"]
    for spelling in spellings:
        ok(cli("assert", "trail", TRAIL, "--flow", FLOW, "--ledger", spelling))
    assert len(_seen(home)) == 1
    # A rollback seen through one spelling is caught through any other.
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "more",
            "--ledger", spellings[1]))
    db = sqlite3.connect(home.db, isolation_level=None)
    size = db.execute("SELECT max(idx) FROM entries").fetchone()[0]
    db.execute("DELETE FROM entries WHERE idx = ?", (size,))
    db.execute("DELETE FROM checkpoints WHERE size = ?", (size + 1,))
    db.close()
    for spelling in spellings:
        assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW, "--ledger", spelling), 3)


def test_corrupt_seen_memory_is_exit_3_naming_it_and_never_reset(
    cli: Cli, home: Home, trail: None
) -> None:
    (seen,) = _seen(home)
    for junk in ("not json", json.dumps({"format": "affidavit-seen/v1"}),
                 seen.read_text().replace('"checkpoint": "', '"checkpoint": "x')):
        seen.write_text(junk)
        for command in (("assert", "trail", TRAIL, "--flow", FLOW), ("verify", "ledger"),
                        ("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x")):
            assert_error(cli(*command), 3, str(seen), "corrupt")
        assert seen.read_text() == junk


def test_memory_of_another_ledger_copied_in_is_corrupt(
    cli: Cli, home: Home, tmp_path: Path, trail: None
) -> None:
    other = f"sqlite:///{tmp_path}/other.db"
    ok(cli("create", "flow", "x", "--ledger", other))
    mine, theirs = sorted(_seen(home), key=lambda p: p.stat().st_mtime)
    mine.write_text(theirs.read_text())
    assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW), 3, str(mine))


def test_unwritable_cache_is_a_clear_error(
    cli: Cli, home: Home, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, trail: None
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(blocker))
    before = state(home)
    assert_error(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x"), 2,
                 "AFFIDAVIT_CACHE_DIR")
    assert state(home) == before


# -- identity: origins and key files --------------------------------------------------------


def test_each_new_ledger_gets_a_fresh_random_origin(tmp_path: Path) -> None:
    origins = set()
    for n in range(3):
        ledger = SQLiteLedger(f"sqlite:///{tmp_path}/{n}.db")
        origins.add(ledger.init())
        ledger.close()
    assert len(origins) == 3
    assert all(o.startswith("affidavit/") and len(o) == len("affidavit/") + 32 for o in origins)


@pytest.mark.parametrize("how", ["missing", "empty-file", "emptied"])
def test_key_file_without_its_database_is_refused(
    cli: Cli, home: Home, trail: None, how: str
) -> None:
    _forget_connections()
    old_origin = SQLiteLedger(home.url).origin()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{home.db}{suffix}").unlink(missing_ok=True)
    if how == "empty-file":
        home.db.write_bytes(b"")
    elif how == "emptied":
        sqlite3.connect(home.db).close()
    assert_error(cli("create", "flow", FLOW), 3, str(home.key), "--reuse-key")
    assert_error(cli("ledger", "init"), 3, "--reuse-key")
    assert not (home.db.exists() and home.db.stat().st_size and how == "missing")
    result = ok(cli("ledger", "init", "--reuse-key"))
    new_origin = result.out.splitlines()[0].rsplit(" ", 1)[1]
    assert new_origin != old_origin  # the same key, a new history under a new origin
    assert SQLiteLedger(home.url).verifier_key() in result.out
    ok(cli("create", "flow", FLOW))


def test_swapped_key_file_is_refused_before_anything_is_written(
    cli: Cli, home: Home, tmp_path: Path, trail: None
) -> None:
    home.key.write_text(note.generate_signer_key("impostor") + "\n")
    evidence = tmp_path / "log.txt"
    evidence.write_text("evidence")
    before = state(home)
    assert_error(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x",
                     "--attachments", evidence), 3, str(home.key), "does not match")
    assert state(home) == before  # no entry, no checkpoint, no evidence in the vault
    assert_error(cli("create", "flow", "other"), 3, "does not match")


def test_ledger_init_is_idempotent(cli: Cli, home: Home) -> None:
    first = ok(cli("ledger", "init")).out
    assert first == ok(cli("ledger", "init")).out
    assert ok(cli("verify", "ledger")).out.startswith(f"verified ledger {home.url}: 0 entries")


def test_pinned_key_for_an_auditor_on_a_fresh_machine(
    cli: Cli, home: Home, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, trail: None
) -> None:
    key = ok(cli("ledger", "public-key")).out.strip()
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(tmp_path / "auditor"))
    ok(cli("verify", "ledger", "--public-key", key))
    other = note.Signer.from_key(note.generate_signer_key("someone")).verifier_key
    assert_error(cli("verify", "ledger", "--public-key", other), 3, "pinned key")
    assert_error(cli("verify", "ledger", "--public-key", "garbage"), 2, "--public-key")


# -- verify ledger ------------------------------------------------------------------------------


def test_verify_ledger_checks_the_vault(cli: Cli, home: Home, tmp_path: Path, trail: None) -> None:
    report = tmp_path / "report.txt"
    report.write_text("all passed\n")
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "e2e",
            "--attachments", report))
    assert "1 evidence files" in ok(cli("verify", "ledger", "--deep")).out
    digest = sha256_hex(b"all passed\n")
    blob = home.blobs / digest[:2] / digest[2:]
    blob.write_text("all failed\n")
    ok(cli("verify", "ledger"))  # present: only --deep rehashes
    assert_error(cli("verify", "ledger", "--deep"), 3, digest, "does not match")
    blob.unlink()
    assert_error(cli("verify", "ledger"), 3, digest, "not in the vault")


def test_verify_ledger_rebuilds_the_index_and_the_map(
    cli: Cli, home: Home, trail: None
) -> None:
    db = sqlite3.connect(home.db, isolation_level=None)
    db.execute("UPDATE map_leaves SET count = count + 1 WHERE key = ?", (f"trail:{FLOW}/{TRAIL}",))
    db.close()
    assert_error(cli("verify", "ledger"), 3, "key map")
    assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW), 3, "key map")
    ok(cli("ledger", "reindex"))  # the map is rebuilt from the log and matches the signed root
    ok(cli("verify", "ledger"))
    db = sqlite3.connect(home.db, isolation_level=None)
    db.execute("INSERT INTO idx (key, entry) VALUES ('trail:demo/ghost', 1)")
    db.close()
    assert_error(cli("verify", "ledger"), 3, "trail:demo/ghost")


def test_reindex_refuses_a_log_that_does_not_match_the_signed_map(
    cli: Cli, home: Home, trail: None
) -> None:
    """A key holder who signed a checkpoint over a map the log does not produce."""
    from affidavit.ledger import keymap
    from affidavit.ledger.checkpoint import Checkpoint

    signer = note.Signer.from_key(home.key.read_text())
    db = sqlite3.connect(home.db, isolation_level=None)
    size, signed = db.execute(
        "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
    head = Checkpoint.parse(signed.split("\n\n", 1)[0] + "\n")
    forged = Checkpoint(head.origin, head.size, head.root, (keymap.encode_root(b"\x09" * 32),))
    db.execute("UPDATE checkpoints SET note = ? WHERE size = ?",
               (signer.sign(forged.to_text()), size))
    db.close()
    before = sqlite3.connect(home.db).execute("SELECT count(*) FROM idx").fetchone()
    assert_error(cli("ledger", "reindex"), 3, "signed map root")
    assert sqlite3.connect(home.db).execute("SELECT count(*) FROM idx").fetchone() == before


_WRITER = textwrap.dedent("""
    import sys
    from affidavit.api import record
    from affidavit.ledger.sqlite import SQLiteLedger

    url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ledger = SQLiteLedger(url)
    for n in range(count):
        record.attest_generic(ledger, record.Claim(flow="demo", trail="t1", name=f"{name}{n}"))
    ledger.close()
""")


def test_verify_during_two_concurrent_writers_never_fails_falsely(
    cli: Cli, home: Home, trail: None
) -> None:
    env = {**os.environ, "AFFIDAVIT_CACHE_DIR": str(home.cache)}
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, home.url, name, "150"],
                                env=env, stderr=subprocess.PIPE, text=True)
               for name in ("a", "b")]
    results = []
    for _ in range(50):
        results.append(cli("verify", "ledger"))
        results.append(cli("assert", "trail", TRAIL, "--flow", FLOW))
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
    failures = [str(r) for r in results if r.code != 0]
    assert failures == []
    assert "303 entries" in ok(cli("verify", "ledger")).out


# -- where a package may be written ---------------------------------------------------------------


@pytest.mark.parametrize("target", ["db", "wal", "shm", "key", "vault", "vault-file"])
def test_package_refuses_the_ledgers_own_files(
    cli: Cli, home: Home, tmp_path: Path, trail: None, target: str
) -> None:
    report = tmp_path / "r.txt"
    report.write_text("x")
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "e",
            "--attachments", report))
    digest = sha256_hex(b"x")
    out = {"db": home.db, "wal": Path(f"{home.db}-wal"), "shm": Path(f"{home.db}-shm"),
           "key": home.key, "vault": home.blobs / "p.zip",
           "vault-file": home.blobs / digest[:2] / digest[2:]}[target]
    # The in-process attest's ledger handle closes when it is collected, and SQLite may then
    # fold its write-ahead log into the database file: settle that before taking the bytes.
    gc.collect()
    before = out.read_bytes() if out.exists() else None
    assert_error(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", out), 2,
                 "ledger's own")
    assert (out.read_bytes() if out.exists() else None) == before


def test_package_never_replaces_anything_but_a_regular_file(
    cli: Cli, tmp_path: Path, trail: None
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "link.zip"
    link.symlink_to(victim)
    assert_error(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", link), 2,
                 "symbolic link")
    assert victim.read_text() == "keep me" and link.is_symlink()
    assert_error(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o",
                     "/dev/null"), 2, "not a regular file")
    assert_error(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", tmp_path),
                 2, "directory")
    regular = tmp_path / "old.zip"
    regular.write_text("old")
    ok(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", regular))
    assert regular.read_bytes()[:2] == b"PK"


def test_evidence_get_refuses_the_ledgers_own_files(
    cli: Cli, home: Home, tmp_path: Path, trail: None
) -> None:
    digest = _attach(cli, tmp_path)
    key = home.key.read_bytes()
    for target in (home.key, home.db, Path(f"{home.db}-wal"), home.blobs / "x"):
        assert_error(cli("evidence", "get", digest, "-o", target), 2, "ledger's own")
    assert home.key.read_bytes() == key
    ok(cli("verify", "ledger", "--deep"))  # the database and the vault are intact
    ok(cli("evidence", "get", digest, "-o", tmp_path / "copy.txt"))
    assert (tmp_path / "copy.txt").read_text() == "x"


def test_evidence_names_with_a_backslash_make_a_package_that_verifies(
    cli: Cli, tmp_path: Path, trail: None
) -> None:
    odd = tmp_path / "we\\ird.txt"
    odd.write_text("odd name")
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "e",
           "--attachments", odd))
    package = tmp_path / "p.zip"
    ok(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", package))
    import zipfile

    with zipfile.ZipFile(package) as zf:
        assert "evidence/e/we_ird.txt" in zf.namelist()
    key = ok(cli("ledger", "public-key")).out.strip()
    ok(cli("verify", "package", package, "--public-key", key))


@pytest.mark.parametrize("length", [40, 64])
def test_search_for_a_full_commit_proves_a_miss(cli: Cli, home: Home, trail: None,
                                               length: int) -> None:
    sha = "ab" * (length // 2)
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "c",
           "--commit", sha))
    assert len(ok(cli("search", sha, "--output", "json")).json()) == 1
    db = sqlite3.connect(home.db, isolation_level=None)
    db.execute("DELETE FROM idx WHERE key = ?", (f"commit:{sha}",))
    db.close()
    assert_error(cli("search", sha), 3, f"commit:{sha}")


# -- rows of the wrong type, files of the wrong kind -----------------------------------------


@pytest.mark.parametrize("edit", [
    "UPDATE entries SET data = CAST(data AS TEXT) WHERE idx = 2",
    "UPDATE entries SET leaf = hex(leaf) WHERE idx = 1",
    "INSERT INTO idx VALUES ('trail:demo/t1', 'x')",
    "UPDATE map_leaves SET count = 'x' WHERE key = 'trail:demo/t1'",
    "UPDATE map_nodes SET hash = 'x'",
    "UPDATE meta SET value = CAST(value AS BLOB) WHERE key = 'verifier_key'",
    "UPDATE checkpoints SET note = CAST(note AS BLOB) WHERE size = (SELECT max(size) FROM "
    "checkpoints)",
])
def test_a_value_of_the_wrong_type_is_exit_3_not_a_traceback(
    cli: Cli, home: Home, trail: None, edit: str
) -> None:
    db = sqlite3.connect(home.db, isolation_level=None)
    db.execute(edit)
    db.close()
    write = ("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x")
    for command in (("assert", "trail", TRAIL, "--flow", FLOW), ("verify", "ledger"), write):
        if command == write and edit.startswith("UPDATE entries SET data"):
            # A write proves its trail exists by the key map alone and reads none of its
            # entries: it appends, and what it signs still commits to the entry as it was,
            # so every read after it still refuses the altered one.
            assert cli(*command).code == 0
            assert_error(cli("verify", "ledger"), 3, "entry 2")
            continue
        assert_error(cli(*command), 3)


def test_no_file_in_the_cache_or_the_vault_can_make_a_command_hang(
    cli: Cli, home: Home, tmp_path: Path, trail: None
) -> None:
    from tests.helpers import run_subprocess

    digest = _attach(cli, tmp_path)
    blob = home.blobs / digest[:2] / digest[2:]
    package = tmp_path / "p.zip"
    blob.unlink()
    blob.symlink_to("/dev/zero")
    result = run_subprocess("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o",
                            package, timeout=30)
    assert_error(result, 3, digest)
    blob.unlink()
    os.mkfifo(blob)
    assert_error(run_subprocess("evidence", "get", digest, "-o", tmp_path / "c", timeout=30), 3,
                 "not a regular file")
    (seen,) = _seen(home)
    seen.unlink()
    os.mkfifo(seen)
    assert_error(run_subprocess("assert", "trail", TRAIL, "--flow", FLOW, timeout=30), 3,
                 str(seen))


def test_the_plugin_cache_cannot_redirect_the_built_in_ledger(
    cli: Cli, home: Home, trail: None
) -> None:
    import hashlib

    name = hashlib.sha256(sys.prefix.encode()).hexdigest()[:16]
    poisoned = home.cache / f"plugins-{name}.json"
    poisoned.write_text(json.dumps({"stamp": None, "ledgers": {"sqlite": "this:thing"}}))
    ok(cli("assert", "trail", TRAIL, "--flow", FLOW))


def test_a_link_planted_in_the_seen_folder_is_never_written_through(
    cli: Cli, home: Home, tmp_path: Path, trail: None
) -> None:
    victim = tmp_path / "precious.txt"
    victim.write_text("precious")
    (seen,) = _seen(home)
    for n in range(20):  # under any name a careless writer might use
        (seen.parent / f"{seen.name}.{n}.tmp").symlink_to(victim)
    Path(f"{seen}.lock").unlink(missing_ok=True)
    Path(f"{seen}.lock").symlink_to(tmp_path / "made-by-a-link")
    assert_error(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "y"), 2,
                 "AFFIDAVIT_CACHE_DIR")
    assert victim.read_text() == "precious"
    assert not (tmp_path / "made-by-a-link").exists()
