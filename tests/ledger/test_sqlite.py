"""The embedded SQLite ledger: log, tree, signed checkpoints, indexes, and what tampering does.

Tampering is done the way an attacker with write access to the files would: with ``sqlite3``
directly, below affidavit. Reads must refuse what no longer matches its leaf hash, queries must
refuse an index the log contradicts, and ``verify ledger`` must catch modified, rewritten
(consistently re-signed) and truncated history, the last two through the checkpoint this client
saw last.
"""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from affidavit import canonical
from affidavit.api import record
from affidavit.errors import IntegrityError, LedgerUnavailable, NotFoundError, UsageError
from affidavit.ledger import index, note, proof
from affidavit.ledger.checkpoint import Checkpoint
from affidavit.ledger.registry import open_ledger
from affidavit.ledger.rfc6962 import leaf_hash
from affidavit.ledger.sqlite import SQLiteLedger
from tests.conftest import FLOW, TRAIL
from tests.helpers import Cli, Home, assert_error
from tests.ledger import naive_tree

#: Batch sizes: checkpoints land at irregular sizes, and the tree gets a few levels.
BATCHES = (1, 2, 1, 4, 3, 8, 1, 16, 5, 2)
N = sum(BATCHES)


def _note_entry(i: int, tag: str = "a") -> bytes:
    return canonical.dumps({"v": 1, "kind": "note", "time": "2026-01-01T00:00:00Z",
                            "record": {"n": i, "tag": tag}})


def _fill(ledger: SQLiteLedger, tag: str = "a") -> list[bytes]:
    entries: list[bytes] = []
    for batch in BATCHES:
        chunk = [_note_entry(len(entries) + j, tag) for j in range(batch)]
        appended = ledger.append(chunk)
        assert appended.first == len(entries)
        entries += chunk
        assert appended.size == len(entries)
    return entries


def _db(home: Home) -> sqlite3.Connection:
    return sqlite3.connect(home.db, isolation_level=None)


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _index_rows(home: Home) -> list[tuple[str, int]]:
    db = _db(home)
    try:
        return [(k, e) for k, e in db.execute("SELECT key, entry FROM idx ORDER BY key, entry")]
    finally:
        db.close()


def _flip(data: bytes, needle: bytes, replacement: bytes) -> bytes:
    assert needle in data and len(needle) == len(replacement)
    return data.replace(needle, replacement, 1)


@pytest.fixture
def populated(cli: Cli) -> dict[str, int]:
    """Flow demo with trails t1 and t2, an artifact and attestations, then flow other; the entry
    index of each by role."""
    fp = "ab" * 32
    commit = "12" * 20
    steps = {
        "flow": ("create", "flow", FLOW),
        "t1": ("begin", "trail", TRAIL, "--flow", FLOW),
        "t2": ("begin", "trail", "t2", "--flow", FLOW),
        "artifact": ("attest", "artifact", "--fingerprint", fp, "--flow", FLOW,
                     "--trail", TRAIL, "--name", "app", "--commit", commit),
        "unit": ("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "unit"),
        "t2-unit": ("attest", "generic", "--flow", FLOW, "--trail", "t2", "--name", "unit",
                    "--compliant", "false"),
        "other": ("create", "flow", "other"),
    }
    out = {}
    for role, command in steps.items():
        result = cli(*command, "--output", "json")
        assert result.code == 0, str(result)
        out[role] = result.json()["index"]
    return out


# -- the log, its tree and its checkpoints -----------------------------------------------------


def test_append_read_lookup(ledger: SQLiteLedger) -> None:
    assert ledger.size() == 0
    empty = ledger.checkpoint()  # a new ledger signs its empty log at once
    assert empty is not None
    head = Checkpoint.parse(note.open_note(empty, [note.Verifier.from_key(ledger.verifier_key())]))
    assert (head.size, head.origin) == (0, ledger.origin())
    flow = canonical.dumps({"v": 1, "kind": "flow", "time": "2026-01-01T00:00:00Z",
                            "record": {"name": FLOW}})
    trail = canonical.dumps({"v": 1, "kind": "trail", "time": "2026-01-01T00:00:01Z",
                             "record": {"flow": FLOW, "name": TRAIL}})
    first = ledger.append([flow])
    assert (first.first, first.size) == (0, 1)
    second = ledger.append([trail, _note_entry(2)])
    assert (second.first, second.size) == (1, 3)
    assert second.checkpoint == ledger.checkpoint()
    assert ledger.size() == 3

    assert list(ledger.read(0, 3)) == [(0, flow), (1, trail), (2, _note_entry(2))]
    assert list(ledger.read(1, 2)) == [(1, trail)]
    assert list(ledger.read(2, 2)) == []
    with pytest.raises(NotFoundError):
        list(ledger.read(2, 4))

    assert ledger.lookup(index.flow_key(FLOW)) == [0, 1]  # every entry of the flow
    assert ledger.lookup(index.flowdef_key(FLOW)) == [0]
    assert ledger.lookup(index.trail_key(FLOW, TRAIL)) == [1]
    assert ledger.lookup(index.trails_key(FLOW)) == [1]
    assert ledger.lookup("flow:nope") == []
    assert ledger.keys("trail:") == [index.trail_key(FLOW, TRAIL)]
    assert ledger.lookup_prefix("trail:de") == [(index.trail_key(FLOW, TRAIL), 1)]

    # A second handle on the same file sees the same log.
    other = SQLiteLedger(ledger.url)
    assert list(other.read(0, 3)) == list(ledger.read(0, 3))
    assert other.verifier_key() == ledger.verifier_key()
    other.close()


def test_checkpoints_are_signed_and_match_the_tree(ledger: SQLiteLedger) -> None:
    entries = _fill(ledger)
    verifier = note.Verifier.from_key(ledger.verifier_key())
    sizes = []
    for stored_size, signed in ledger.checkpoints():
        checkpoint = Checkpoint.parse(note.open_note(signed, [verifier]))
        assert checkpoint.size == stored_size
        assert checkpoint.origin == ledger.origin()
        assert checkpoint.root == naive_tree.mth(entries[: checkpoint.size])
        assert checkpoint.root == ledger.root(checkpoint.size)
        sizes.append(checkpoint.size)
    expected = [0] + [sum(BATCHES[: i + 1]) for i in range(len(BATCHES))]
    assert sizes == expected
    latest = ledger.checkpoint()
    assert latest is not None and Checkpoint.parse(
        note.open_note(latest, [verifier])).size == N

    stranger = note.Signer.from_key(note.generate_signer_key(ledger.origin())).verifier
    with pytest.raises(IntegrityError):
        note.open_note(latest, [stranger])


def test_inclusion_proofs_verify(ledger: SQLiteLedger) -> None:
    entries = _fill(ledger)
    for size in range(1, N + 1):
        root = ledger.root(size)
        assert root == naive_tree.mth(entries[:size])
        for i in range(size):
            hashes = ledger.inclusion_proof(i, size)
            proof.verify_inclusion(leaf_hash(entries[i]), i, size, hashes, root)
            if size in (N, N - 1, 16, 17):
                assert hashes == naive_tree.path(i, entries[:size])
    hashes = ledger.inclusion_proof(3, N)
    with pytest.raises(IntegrityError):
        proof.verify_inclusion(leaf_hash(entries[4]), 3, N, hashes, ledger.root(N))
    with pytest.raises(NotFoundError):
        ledger.inclusion_proof(0, N + 1)


def test_consistency_proofs_verify(ledger: SQLiteLedger) -> None:
    entries = _fill(ledger)
    roots = {size: ledger.root(size) for size in range(1, N + 1)}
    for size2 in range(1, N + 1):
        for size1 in range(1, size2 + 1):
            hashes = ledger.consistency_proof(size1, size2)
            proof.verify_consistency(size1, size2, hashes, roots[size1], roots[size2])
            if size2 == N:
                assert hashes == naive_tree.proof(size1, entries)
    with pytest.raises(IntegrityError):
        proof.verify_consistency(5, N, ledger.consistency_proof(5, N), roots[6], roots[N])


def test_key_file_is_private_and_signs_the_checkpoints(ledger: SQLiteLedger, home: Home) -> None:
    ledger.append([_note_entry(0)])
    mode = os.stat(home.key).st_mode
    assert stat.S_ISREG(mode)
    assert stat.S_IMODE(mode) == 0o600
    signer = note.Signer.from_key(home.key.read_text())
    assert signer.verifier_key == ledger.verifier_key()
    assert not [p for p in home.dir.iterdir() if p.name.startswith(".l.db.key")]


def test_open_ledger_by_url() -> None:
    with pytest.raises(UsageError, match="has no path"):  # a usage error: exit 2, not 3
        SQLiteLedger("sqlite://")
    missing = SQLiteLedger("sqlite:////definitely/not/here.db", create=False)
    with pytest.raises(LedgerUnavailable, match="no ledger at"):
        missing.size()
    assert not Path("/definitely/not/here.db").exists()
    with pytest.raises(UsageError):
        open_ledger("nosuchscheme://x")


def test_open_ledger_default_is_the_environment(home: Home) -> None:
    handle = open_ledger()
    assert isinstance(handle, SQLiteLedger)
    assert Path(handle.path) == home.db
    handle.close()
    plain = open_ledger(str(home.dir / "plain.db"))
    assert Path(plain.path) == home.dir / "plain.db"
    plain.close()


# -- the index is derived, rebuildable and never trusted over the log --------------------------


def test_reindex_rebuilds_the_same_index(cli: Cli, home: Home, populated: dict[str, int]) -> None:
    before = _index_rows(home)
    assert (index.trail_key(FLOW, TRAIL), populated["unit"]) in before
    db = _db(home)
    db.execute("DELETE FROM idx")
    db.execute("INSERT INTO idx (key, entry) VALUES ('trail:demo/ghost', 0)")
    db.close()
    result = cli("ledger", "reindex")
    assert result.code == 0, str(result)
    assert result.out == "reindexed 7 entries\n"
    assert _index_rows(home) == before


@pytest.mark.parametrize(("key", "wrong", "command"), [
    ("trail:demo/t1", "t2-unit", ("get", "trail", TRAIL, "--flow", FLOW)),
    ("trail:demo/t1", "t2-unit", ("get", "attestation", "unit", "--flow", FLOW,
                                  "--trail", TRAIL)),
    ("flowdef:demo", "other", ("get", "flow", FLOW)),
    ("artifact:" + "ab" * 32, "unit", ("get", "artifact", "ab" * 32)),
    ("commit:" + "12" * 20, "unit", ("search", "1212")),
    ("trail:demo/t1", "t2-unit", ("evidence", "package", "--flow", FLOW, "--trail", TRAIL,
                                  "-o", "{tmp}/p.zip")),
])
def test_doctored_index_row_is_exit_3(
    cli: Cli, home: Home, tmp_path: Path, populated: dict[str, int], key: str, wrong: str,
    command: tuple[str, ...],
) -> None:
    argv = [part.replace("{tmp}", str(tmp_path)) for part in command]
    assert cli(*argv).code == 0
    db = _db(home)
    db.execute("INSERT INTO idx (key, entry) VALUES (?, ?)", (key, populated[wrong]))
    db.close()
    result = cli(*argv)
    assert_error(result, 3, f"entry {populated[wrong]}", "reindex")
    assert cli("ledger", "reindex").code == 0
    assert cli(*argv).code == 0


# -- tampering with the log itself -------------------------------------------------------------


def _tamper_entry(home: Home, position: int, needle: bytes, replacement: bytes,
                  *, fix_leaf: bool = False) -> None:
    db = _db(home)
    (data,) = db.execute("SELECT data FROM entries WHERE idx = ?", (position,)).fetchone()
    doctored = _flip(bytes(data), needle, replacement)
    db.execute("UPDATE entries SET data = ? WHERE idx = ?", (doctored, position))
    if fix_leaf:  # also replace the stored leaf hash, wherever this schema keeps it
        if "leaf" in _columns(db, "entries"):
            db.execute("UPDATE entries SET leaf = ? WHERE idx = ?",
                       (leaf_hash(doctored), position))
        else:
            db.execute("UPDATE nodes SET hash = ? WHERE level = 0 AND idx = ?",
                       (leaf_hash(doctored), position))
    db.close()


@pytest.mark.parametrize("command", [
    ("get", "trail", "t2", "--flow", FLOW),
    ("get", "attestation", "unit", "--flow", FLOW, "--trail", "t2"),
    ("list", "trails", "--flow", FLOW),
    ("log", "ledger"),
    ("verify", "ledger"),
    ("ledger", "reindex"),
    ("evidence", "package", "--flow", FLOW, "--trail", "t2", "-o", "{tmp}/p.zip"),
])
def test_tampered_entry_byte_is_exit_3(
    cli: Cli, home: Home, tmp_path: Path, populated: dict[str, int], command: tuple[str, ...]
) -> None:
    _tamper_entry(home, populated["t2-unit"], b'"compliant":false', b'"compliant":true ')
    argv = [part.replace("{tmp}", str(tmp_path)) for part in command]
    assert_error(cli(*argv), 3, f"entry {populated['t2-unit']}")
    assert not (tmp_path / "p.zip").exists()


def test_tampered_entry_read_through_the_library(home: Home, populated: dict[str, int]) -> None:
    _tamper_entry(home, populated["unit"], b'"unit"', b'"unix"')
    handle = SQLiteLedger(home.url)
    with pytest.raises(IntegrityError, match="leaf hash"):
        list(handle.read(0, handle.size()))
    assert list(handle.read(0, populated["unit"]))  # the entries before it still read
    handle.close()


def test_tampered_entry_and_leaf_hash_caught_by_verify_ledger(
    cli: Cli, home: Home, populated: dict[str, int]
) -> None:
    _tamper_entry(home, populated["t2-unit"], b'"compliant":false', b'"compliant":true ',
                  fix_leaf=True)
    assert_error(cli("verify", "ledger"), 3, "root")


def test_altered_checkpoint_signature_is_exit_3(
    cli: Cli, home: Home, populated: dict[str, int]
) -> None:
    db = _db(home)
    size, signed = db.execute("SELECT size, note FROM checkpoints WHERE size = 3").fetchone()
    text, signatures = signed.split("\n\n")
    forged = text.replace("\n3\n", "\n4\n") + "\n\n" + signatures
    db.execute("UPDATE checkpoints SET note = ? WHERE size = ?", (forged, size))
    db.close()
    assert_error(cli("verify", "ledger"), 3, "signature")


def test_missing_checkpoint_is_exit_3(cli: Cli, home: Home, populated: dict[str, int]) -> None:
    db = _db(home)
    db.execute("DELETE FROM checkpoints WHERE size = (SELECT max(size) FROM checkpoints)")
    db.close()
    assert_error(cli("verify", "ledger"), 3, "checkpoint")


# -- history: the client's last-seen checkpoint ------------------------------------------------


def _remove_database(home: Home, *, key: bool = False) -> None:
    gc.collect()  # close connections the in-process CLI left for the garbage collector
    for suffix in ("", "-wal", "-shm"):
        Path(f"{home.db}{suffix}").unlink(missing_ok=True)
    if key:
        home.key.unlink()


def _rebuild(home: Home, entries: list[bytes]) -> None:
    handle = SQLiteLedger(home.url)
    for data in entries:
        handle.append([data])
    handle.close()


def _forge(home: Home, origin: str, entries: list[bytes]) -> None:
    """What an insider holding the key can do: a new database under the old origin, every
    checkpoint validly signed, holding a different history."""
    from affidavit.ledger import keymap, rfc6962

    handle = SQLiteLedger(home.url)
    handle.init(reuse_key=True)
    handle.close()
    signer = note.Signer.from_key(home.key.read_text())
    db = _db(home)
    db.execute("UPDATE meta SET value = ? WHERE key = 'origin'", (origin,))
    empty = Checkpoint(origin, 0, rfc6962.EMPTY_ROOT, (keymap.encode_root(keymap.EMPTY),))
    db.execute("UPDATE checkpoints SET note = ? WHERE size = 0", (signer.sign(empty.to_text()),))
    db.close()
    _rebuild(home, entries)


def _seen_files(home: Home) -> list[Path]:
    return sorted((home.cache / "seen").glob("*.json"))


def _seen_size(path: Path) -> int:
    signed = json.loads(path.read_text())["checkpoint"]
    return Checkpoint.parse(signed.split("\n\n", 1)[0] + "\n").size


def test_verify_ledger_remembers_what_it_saw(cli: Cli, home: Home) -> None:
    _rebuild(home, [_note_entry(i) for i in range(5)])
    first = cli("verify", "ledger", "--output", "json")
    assert first.code == 0, str(first)
    summary = first.json()
    assert set(summary) >= {"verified", "size", "checkpoints", "root", "seen_before", "summary"}
    assert (summary["verified"], summary["size"], summary["checkpoints"]) == (True, 5, 6)
    assert summary["seen_before"] is None
    seen = _seen_files(home)
    assert len(seen) == 1
    assert _seen_size(seen[0]) == 5

    _rebuild(home, [_note_entry(i) for i in range(5, 9)])
    second = cli("verify", "ledger")
    assert second.code == 0
    assert second.out == (f"verified ledger {home.url}: 9 entries, 10 signed checkpoints, "
                          "0 keys, 0 evidence files, consistent with size 5 seen before\n")
    assert _seen_size(seen[0]) == 9


@pytest.mark.parametrize("new_size", [3, 5, 8])
def test_rewritten_history_is_caught(
    cli: Cli, home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_size: int
) -> None:
    """The same key signs a different history under the same origin (the strongest rewrite:
    every entry, node and checkpoint consistent, only the client's memory can tell)."""
    _rebuild(home, [_note_entry(i, "original") for i in range(5)])
    assert cli("verify", "ledger").code == 0
    key_before = home.key.read_text()
    origin = SQLiteLedger(home.url).origin()

    _remove_database(home)
    _forge(home, origin, [_note_entry(i, "rewritten") for i in range(new_size)])
    assert home.key.read_text() == key_before

    # To a client that never saw the ledger, the rewrite is a perfectly valid ledger...
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(tmp_path / "fresh-cache"))
    assert cli("verify", "ledger").code == 0
    # ...but the client that verified it before knows.
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(home.cache))
    needle = "truncated" if new_size < 5 else "rewritten"
    assert_error(cli("verify", "ledger"), 3, needle)
    # And it keeps saying so: a failed audit does not overwrite what was seen.
    assert_error(cli("verify", "ledger"), 3, needle)


def test_replaced_key_is_caught_by_the_pinned_key(cli: Cli, home: Home) -> None:
    _rebuild(home, [_note_entry(i) for i in range(3)])
    pinned = SQLiteLedger(home.url).verifier_key()
    assert cli("verify", "ledger", "--public-key", pinned).code == 0
    _remove_database(home, key=True)
    _rebuild(home, [_note_entry(i) for i in range(3)])
    # A new key is a new ledger (a fresh origin): only a pinned key tells it is not the old one.
    assert_error(cli("verify", "ledger", "--public-key", pinned), 3, "pinned key")


@pytest.mark.parametrize("consistent", [True, False])
def test_truncation_is_caught(cli: Cli, home: Home, consistent: bool) -> None:
    _rebuild(home, [_note_entry(i) for i in range(40)])
    assert cli("verify", "ledger").code == 0
    db = _db(home)
    db.execute("DELETE FROM entries WHERE idx >= 20")
    if consistent:  # drop everything that mentions the lost entries, as if they never were
        db.execute("DELETE FROM checkpoints WHERE size > 20")
        db.execute("DELETE FROM idx WHERE entry >= 20")
        db.execute("DELETE FROM nodes WHERE ((idx + 1) << level) > 20")
    db.close()
    assert_error(cli("verify", "ledger"), 3, "truncated")


def test_truncation_without_memory_needs_the_checkpoints(
    cli: Cli, home: Home, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without the client cache, a truncation that left its checkpoints behind is still caught."""
    _rebuild(home, [_note_entry(i) for i in range(10)])
    db = _db(home)
    db.execute("DELETE FROM entries WHERE idx >= 7")
    db.close()
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(tmp_path / "fresh-cache"))
    assert_error(cli("verify", "ledger"), 3, "truncated")


def test_verify_missing_ledger_is_an_error_not_an_empty_success(cli: Cli, home: Home) -> None:
    result = cli("verify", "ledger")
    assert result.code == 3, str(result)
    assert result.err.startswith("affidavit: error: no ledger at ")
    assert len(result.err.splitlines()) == 1
    assert not home.db.exists()


# -- library contract ---------------------------------------------------------------------------


def test_record_api_appends_canonical_bytes(ledger: SQLiteLedger) -> None:
    recorded = record.create_flow(ledger, name=FLOW, description="d")
    ((position, data),) = list(ledger.read(0, 1))
    assert position == recorded.entry_index == 0
    assert data == canonical.dumps(recorded.entry)
    assert recorded.checkpoint == ledger.checkpoint()



def test_a_ledger_made_before_the_leaf_index_reads_and_gets_it_from_reindex(
        ledger: SQLiteLedger) -> None:
    """Ledgers of an earlier version have no ``entries_leaf`` index: proofs read the leaves
    from the entries as before, and ``ledger reindex`` adds the index."""
    entries = [canonical.dumps({"v": 1, "kind": "note", "time": "2026-01-01T00:00:00Z",
                                "record": {"n": n}}) for n in range(40)]
    ledger.append(entries)
    expected = [ledger.inclusion_proof(i, 40) for i in range(40)]
    path = ledger.path
    ledger.close()
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX entries_leaf")
    conn.commit()
    conn.close()
    older = SQLiteLedger(path)
    assert [older.inclusion_proof(i, 40) for i in range(40)] == expected
    assert older.reindex() == 40
    older.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'entries_leaf'"
                        ).fetchone() == (1,)
    conn.close()
    again = SQLiteLedger(path)
    assert [again.inclusion_proof(i, 40) for i in range(40)] == expected
    again.close()
