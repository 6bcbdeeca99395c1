"""The ``Ledger`` protocol's contract (``affidavit.ledger.base``), checked on every backend
(SQLite, PostgreSQL; its reads also over HTTP, through ``affidavit server``).

Expected values come from the naive references (``tests/ledger/naive_tree.py``,
``naive_map.py``) and the hand-written keys of ``data.py``, never from the code under test.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from affidavit import canonical
from affidavit.errors import AffidavitError, IntegrityError, LedgerUnavailable, NotFoundError
from affidavit.ledger import Pending, keymap, note
from affidavit.ledger.checkpoint import Checkpoint
from tests.ledger import naive_map, naive_tree
from tests.ledger.conformance.conftest import Backend
from tests.ledger.conformance.data import BATCHES, ENTRIES, ITEMS, items_at, rows


def _leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _khash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _opened(ledger: Any, text: str) -> Checkpoint:
    """The checkpoint ``text``, its signature checked with the ledger's verifier key."""
    return Checkpoint.parse(note.open_note(text, [note.Verifier.from_key(ledger.verifier_key())]))


def _fill(ledger: Any) -> list[Any]:
    return [ledger.append(ENTRIES[a:b], [entry for entry, _ in ITEMS[a:b]])
            for a, b in BATCHES]


@pytest.fixture
def full(ledger: Any) -> Any:
    """The ledger holding every item of ``data.ITEMS``, appended in ``data.BATCHES``."""
    _fill(ledger)
    return ledger


@pytest.fixture(params=["embedded", "http"])
def reader(request: pytest.FixtureRequest, backend: Backend, full: Any,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """:func:`full`, read through the handle itself, or through ``affidavit server`` serving
    the same storage with the remote backend (``http``): every read of the contract answers
    the same over HTTP. (Writes over HTTP carry only entries the server admits, which these
    hand-made ones are not: the CLI suite's ``remote`` runs are their conformance test.)"""
    if request.param == "embedded":
        yield full
        return
    from affidavit.ledger.http import HttpLedger
    from tests.server.threaded import ThreadedServer

    monkeypatch.setenv("AFFIDAVIT_SIGNING_KEY_FILE", str(backend.key_path))
    monkeypatch.setenv("AFFIDAVIT_EVIDENCE_DIR", str(backend.vault))
    with ThreadedServer(backend.url) as server:
        remote = HttpLedger(server.url)
        yield remote
        remote.close()
        deadline = time.monotonic() + 5  # a request is counted once its answer has left
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.requests > 0  # the reads went through the server


# -- creation ----------------------------------------------------------------------------------


def test_a_new_ledger_has_a_signed_empty_checkpoint(ledger: Any) -> None:
    assert ledger.size() == 0
    head = _opened(ledger, ledger.checkpoint())
    assert (head.origin, head.size, head.root) == (ledger.origin(), 0, hashlib.sha256().digest())
    assert keymap.decode_root(head.extensions) == naive_map.EMPTY
    assert ledger.root(0) == naive_tree.mth([])
    assert [size for size, _ in ledger.checkpoints()] == [0]
    assert ledger.origin().startswith("affidavit/")


def test_origins_are_random(backend: Backend, tmp_path: Path) -> None:
    first = backend.open().init()
    assert backend.open().init() == first  # the same ledger, reopened
    assert first != _other_origin(tmp_path)


def _other_origin(tmp_path: Path) -> str:
    from affidavit.ledger.sqlite import SQLiteLedger

    other = SQLiteLedger(f"sqlite:///{tmp_path}/other/l.db")
    try:
        return str(other.init())
    finally:
        other.close()


def test_a_missing_ledger_is_not_created_by_a_reader(backend: Backend) -> None:
    with pytest.raises(LedgerUnavailable):
        backend.open(create=False).size()
    backend.open().init()
    assert backend.open(create=False).size() == 0


# -- the log and its tree -----------------------------------------------------------------------


def test_append_acknowledges_each_batch(ledger: Any) -> None:
    acks = _fill(ledger)
    assert [(a.first, a.size) for a in acks] == BATCHES
    for ack, (_, end) in zip(acks, BATCHES, strict=True):
        head = _opened(ledger, ack.checkpoint)
        assert (head.size, head.root) == (end, naive_tree.mth(ENTRIES[:end]))
    assert ledger.size() == len(ENTRIES)


def test_read_returns_the_entries_and_refuses_past_the_end(reader: Any) -> None:
    assert list(reader.read(0, len(ENTRIES))) == list(enumerate(ENTRIES))
    assert list(reader.read(3, 7)) == [(i, ENTRIES[i]) for i in range(3, 7)]
    assert list(reader.read(5, 5)) == []
    with pytest.raises(NotFoundError):
        list(reader.read(10, 20))
    assert reader.entries_at([7, 2, 2]) == {2: ENTRIES[2], 7: ENTRIES[7]}
    assert reader.entries_at([]) == {}


def test_roots_and_proofs_match_the_naive_tree(reader: Any) -> None:
    n = len(ENTRIES)
    for size in range(n + 1):
        assert reader.root(size) == naive_tree.mth(ENTRIES[:size])
    for size in range(1, n + 1):
        for i in range(size):
            assert reader.inclusion_proof(i, size) == naive_tree.path(i, ENTRIES[:size])
        assert reader.inclusion_proofs(range(size), size) == {
            i: naive_tree.path(i, ENTRIES[:size]) for i in range(size)}
        for old in range(1, size + 1):
            assert reader.consistency_proof(old, size) == naive_tree.proof(old, ENTRIES[:size])
    with pytest.raises(NotFoundError):
        reader.root(n + 1)


def test_every_checkpoint_signs_both_roots(reader: Any) -> None:
    stored = list(reader.checkpoints())
    assert [size for size, _ in stored] == [0] + [b for _, b in BATCHES]
    for size, text in stored:
        head = _opened(reader, text)
        assert (head.origin, head.size) == (reader.origin(), size)
        assert head.root == naive_tree.mth(ENTRIES[:size])
        assert keymap.decode_root(head.extensions) == naive_map.root(items_at(size))
    assert reader.checkpoint() == stored[-1][1]


# -- the index and the key map ---------------------------------------------------------------


def test_index_reads_match_the_keys_of_each_entry(reader: Any) -> None:
    expected = rows()
    for key in {k for k, _ in expected}:
        assert reader.lookup(key) == sorted(p for k, p in expected if k == key)
    assert reader.lookup("flow:nope") == []
    assert reader.lookup_prefix("trail:demo/") == sorted(
        (k, p) for k, p in expected if k.startswith("trail:demo/"))
    assert reader.keys("flow:") == sorted({k for k, _ in expected if k.startswith("flow:")})
    assert reader.keys("") == sorted({k for k, _ in expected})
    assert list(reader.index_rows()) == sorted(expected, key=lambda row: (row[1], row[0]))


def test_keys_of_many_prefixes_are_each_prefixs_keys(reader: Any) -> None:
    prefixes = ["flow:", "flowdef:", "trail:demo/", "nothing:", "", "flow:"]
    assert reader.keys_many(prefixes) == {prefix: reader.keys(prefix) for prefix in prefixes}
    assert reader.keys_many(["nothing:"]) == {"nothing:": []}


def test_keys_sort_by_code_point(reader: Any) -> None:
    """Not by the database's locale: ``dém✓`` after ``demo`` and ``other``."""
    assert reader.keys("flowdef:") == ["flowdef:demo", "flowdef:dém✓", "flowdef:other"]


def test_map_proofs_match_the_naive_map(reader: Any) -> None:
    items = items_at(len(ENTRIES))
    root = keymap.decode_root(_opened(reader, reader.checkpoint()).extensions)
    for key in [*items, "flow:absent", "trail:demo/t9", "artifact:" + "00" * 32]:
        proof = reader.map_proof(key)
        siblings, leaf = naive_map.prove(items, key)
        assert proof.siblings == siblings
        if key in items:
            assert (proof.count, proof.last, proof.other) == (*items[key], None)
        else:
            assert (proof.count, proof.last) == (0, None)
            assert proof.other == leaf
        keymap.verify_proof(root, proof)


def test_map_rows_hold_every_key(reader: Any) -> None:
    leaves, nodes = list(reader.map_leaves()), list(reader.map_nodes())
    assert leaves == sorted((_khash(k), k, c, last)
                            for k, (c, last) in items_at(len(ENTRIES)).items())
    assert nodes and all(len(digest) == 32 for _, _, digest in nodes)


@pytest.mark.parametrize("page", [1, 3])
def test_the_audit_listings_are_whole_a_page_at_a_time_and_from_where_asked(
        reader: Any, page: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``verify ledger`` compares with the log -- every index row, map leaf and node,
    every checkpoint -- read a page of ``page`` rows at a time (by the store, and over HTTP
    by the client) is the whole listing, and asked from a row on is what follows it."""
    whole = (list(reader.index_rows()), list(reader.map_leaves()), list(reader.map_nodes()),
             list(reader.checkpoints()))
    from affidavit.ledger import http, postgres, stored_tree

    monkeypatch.setattr(http, "_PAGE", page)
    monkeypatch.setattr(postgres, "_PAGE", page)
    monkeypatch.setattr(stored_tree, "_MAP_PAGE", page)
    index_rows, leaves, nodes, checkpoints = whole
    assert index_rows == sorted(rows(), key=lambda row: (row[1], row[0]))
    assert list(reader.index_rows()) == index_rows
    assert list(reader.map_leaves()) == leaves
    assert list(reader.map_nodes()) == nodes == sorted(set(nodes))
    assert list(reader.checkpoints()) == checkpoints
    key, entry = index_rows[4]
    assert list(reader.index_rows((entry, key))) == index_rows[5:]
    assert list(reader.index_rows((entry, key + "\x01"))) == index_rows[5:]
    assert list(reader.index_rows((entry, key + "\0"))) == index_rows[5:]  # what PG cannot hold
    assert list(reader.map_leaves(leaves[2][0])) == leaves[3:]
    assert list(reader.map_nodes(nodes[1][:2])) == nodes[2:]
    assert list(reader.checkpoints(checkpoints[2][0])) == checkpoints[2:]
    assert list(reader.checkpoints(checkpoints[2][0] + 1)) == checkpoints[3:]


def test_read_many_is_one_proven_state(reader: Any) -> None:
    size = len(ENTRIES)
    keys = ["trail:demo/t1", f"artifact:{'ab' * 32}", "flow:none"]
    got = reader.read_many(keys, size)
    expected = {k: sorted(p for key, p in rows() if key == k) for k in keys}
    assert got.size == size
    assert got.positions == expected
    wanted = sorted({p for found in expected.values() for p in found})
    assert got.entries == {p: ENTRIES[p] for p in wanted}
    assert got.inclusion == {p: naive_tree.path(p, ENTRIES) for p in wanted}
    items = items_at(size)
    for key in keys:
        assert got.proofs[key].siblings == naive_map.prove(items, key)[0]
        assert got.proofs[key].count == items.get(key, (0, 0))[0]


def test_a_key_with_a_nul_is_filed_nowhere(reader: Any) -> None:
    """No stored key holds a NUL (PostgreSQL text cannot, and names refuse control
    characters): a lookup, listing or read of one finds nothing, on every backend alike,
    rather than failing in the store (over HTTP: a 503 for a key that matches nothing)."""
    size = len(ENTRIES)
    odd = "trail:demo/t1\0"
    assert reader.lookup(odd) == [] and reader.lookup("\0") == []
    assert reader.keys("trail:\0") == [] and reader.lookup_prefix("trail:\0") == []
    listed = reader.keys_many(["trail:\0", "trail:"])
    assert listed["trail:\0"] == [] and "trail:demo/t1" in listed["trail:"]
    got = reader.read_many([odd, "trail:demo/t1"], size)
    assert got.positions[odd] == [] and got.proofs[odd].count == 0
    assert got.positions["trail:demo/t1"] == sorted(p for k, p in rows() if k == "trail:demo/t1")
    keymap.verify_proof(keymap.decode_root(_opened(reader, reader.checkpoint()).extensions),
                        got.proofs[odd])


def test_read_many_leaves_out_the_entries_the_reader_holds(reader: Any) -> None:
    """The entries at ``held`` positions come without bytes or inclusion proofs (the reader
    proved them already); every key's positions and map proof come as before."""
    size = len(ENTRIES)
    keys = ["trail:demo/t1", "flow:demo", f"artifact:{'ab' * 32}"]
    whole = reader.read_many(keys, size)
    assert len(whole.entries) >= 3
    held = sorted(whole.entries)[::2]
    got = reader.read_many(keys, size, held=held)
    assert (got.size, got.positions, got.proofs) == (whole.size, whole.positions, whole.proofs)
    assert got.entries == {p: d for p, d in whole.entries.items() if p not in held}
    assert got.inclusion == {p: path for p, path in whole.inclusion.items() if p not in held}
    everything = reader.read_many(keys, size, held=range(size))
    assert (everything.entries, everything.inclusion) == ({}, {})
    assert everything.positions == whole.positions
    if reader.url.startswith("http"):  # what a server takes as held, sent as it stands
        def sent(held: Any) -> Any:
            return reader.session.post(f"{reader.api}/ledger/read-many", timeout=30,
                                       json={"keys": keys, "size": size, "held": held})
        longest = sent([[0, 2**63 - 1]])
        assert longest.status_code == 200 and longest.json()["entries"] == {}
        for bad in ([[0, 2**64]], [[-1, 3]], [[1]], [[0, 1]] * 10_001, "0-3"):
            assert sent(bad).status_code in (400, 422), bad
    else:  # the runs a server makes of them, as long as any log
        from affidavit.ledger import wire

        longest = reader.read_many(keys, size, held=wire.Runs([(0, 10**30)]))
        assert (longest.entries, longest.positions) == ({}, whole.positions)


@pytest.mark.parametrize("dense", [False, True], ids=["probed", "read-whole"])
def test_read_many_of_hundreds_of_keys_proves_each_as_alone(
        reader: Any, dense: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Enough keys that the store walks their paths together (``sqlite_map._prove_wide``),
    probing its subtrees or, a batch that asks for most of the map, reading it whole (an
    embedded store, in this process): each proof is still the naive reference's."""
    from affidavit.ledger import sqlite_map

    monkeypatch.setattr(sqlite_map, "_DENSE", 256 if dense else 10**9)
    whole = sqlite_map.SQLiteMap._whole
    read_whole: list[bool] = []
    monkeypatch.setattr(sqlite_map.SQLiteMap, "_whole",
                        lambda self: read_whole.append(True) or whole(self))
    items = items_at(len(ENTRIES))
    keys = [*items, *(f"artifact:{n:064x}" for n in range(300))]
    got = reader.read_many(keys, len(ENTRIES), entries=False)
    if not reader.url.startswith("http"):  # the server reads in its own process
        assert bool(read_whole) is dense
    root = keymap.decode_root(_opened(reader, reader.checkpoint()).extensions)
    for key in keys:
        siblings, leaf = naive_map.prove(items, key)
        proof = got.proofs[key]
        assert proof.siblings == siblings
        assert (proof.count, proof.other) == ((items[key][0], None) if key in items
                                              else (0, leaf))
        keymap.verify_proof(root, proof)


@pytest.mark.parametrize("chunk", [3, 10_000])
def test_reindex_rebuilds_the_same_index(backend: Backend, full: Any, chunk: int,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Written a few rows at a time (``chunk``) or all at once, the same index."""
    from affidavit.ledger import stored_tree

    monkeypatch.setattr(stored_tree, "_INDEX_CHUNK", chunk)
    before = list(full.index_rows())
    backend.tamper("DELETE FROM idx WHERE key = ?", "trail:demo/t1")
    backend.tamper("DELETE FROM map_leaves")
    assert full.reindex() == len(ENTRIES)
    assert list(full.index_rows()) == before
    assert list(full.map_leaves()) == sorted(
        (_khash(k), k, c, last) for k, (c, last) in items_at(len(ENTRIES)).items())


# -- appends: atomic, extending what the writer proved, with their evidence ----------------------


def _state(ledger: Any) -> tuple[Any, ...]:
    return (ledger.size(), ledger.checkpoint(), list(ledger.checkpoints()),
            list(ledger.index_rows()), list(ledger.map_leaves()), list(ledger.map_nodes()))


def test_after_is_refused_unless_the_log_extends_it(full: Any) -> None:
    size = full.size()
    before = _state(full)
    for after in [(size, b"\x00" * 32), (size + 1, full.root(size)),
                  (4, naive_tree.mth(ENTRIES[:5]))]:
        with pytest.raises(IntegrityError):
            full.append([ENTRIES[0]], after=after)
        assert _state(full) == before
    ack = full.append([ENTRIES[0]], after=(4, naive_tree.mth(ENTRIES[:4])))
    assert ack.first == size
    full.append([ENTRIES[1]], after=(0, b""))


def test_a_failing_append_leaves_nothing(backend: Backend, full: Any, tmp_path: Path) -> None:
    """An entry whose keys cannot be computed fails the batch after it began: no entry, row,
    checkpoint or evidence file of the batch stays."""
    before = _state(full)
    (tmp_path / "report.txt").write_bytes(b"evidence bytes")
    batch = full.blobs.incoming()
    digest, size = batch.add(tmp_path / "report.txt")
    assert (digest, size) == (hashlib.sha256(b"evidence bytes").hexdigest(), 14)
    broken = {"v": 1, "kind": "flow", "time": "2026-01-01T00:00:00Z", "record": {}}
    with pytest.raises(KeyError):
        full.append([ENTRIES[0], ENTRIES[1]], [ITEMS[0][0], broken], evidence=batch)
    batch.close()
    assert _state(full) == before
    assert not full.blobs.has(digest)
    assert backend.vault_files() == []
    full.append([ENTRIES[0]])
    assert full.size() == len(ENTRIES) + 1


def test_evidence_is_readable_once_the_append_returns(backend: Backend, ledger: Any,
                                                      tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_bytes(b"<testsuite/>")
    batch = ledger.blobs.incoming()
    digest, _ = batch.add(tmp_path / "a.xml")
    assert not ledger.blobs.has(digest)
    ledger.append([ENTRIES[0]], evidence=batch)
    batch.close()
    assert ledger.blobs.has(digest)
    with ledger.blobs.open(digest) as fh:
        assert fh.read() == b"<testsuite/>"
    assert backend.vault_files() == [backend.vault / digest[:2] / digest[2:]]


def test_evidence_of_a_refused_append_is_not_kept(backend: Backend, full: Any,
                                                  tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_bytes(b"never named")
    batch = full.blobs.incoming()
    digest, _ = batch.add(tmp_path / "b.txt")
    with pytest.raises(IntegrityError):
        full.append([ENTRIES[0]], after=(1, b"\x01" * 32), evidence=batch)
    batch.close()
    assert not full.blobs.has(digest)
    assert backend.vault_files() == []


def test_evidence_of_another_vault_is_refused(backend: Backend, ledger: Any,
                                              tmp_path: Path) -> None:
    from affidavit.ledger.blobs import FileBlobStore

    (tmp_path / "c.txt").write_bytes(b"x")
    batch = FileBlobStore(str(tmp_path / "elsewhere")).incoming()
    batch.add(tmp_path / "c.txt")
    with pytest.raises(ValueError):
        ledger.append([ENTRIES[0]], evidence=batch)
    batch.close()
    assert ledger.size() == 0


def test_a_key_other_than_the_historys_is_refused(backend: Backend, ledger: Any) -> None:
    ledger.append([ENTRIES[0]])
    backend.key_path.write_text(note.generate_signer_key("intruder") + "\n")
    other = backend.open()
    with pytest.raises(IntegrityError):
        other.check_writable()
    with pytest.raises(IntegrityError):
        other.append([ENTRIES[1]])
    assert other.size() == 1


# -- reads see one state -----------------------------------------------------------------------


def test_a_snapshot_sees_one_state(backend: Backend, full: Any) -> None:
    writer = backend.open()
    size, text = full.size(), full.checkpoint()
    with full.snapshot():
        assert full.size() == size
        writer.append([ENTRIES[0], ENTRIES[2]], [ITEMS[0][0], ITEMS[2][0]])
        with full.snapshot():  # re-entrant: still the same state
            assert full.size() == size
        assert full.checkpoint() == text
        assert full.lookup("flow:demo") == writer.lookup("flow:demo")[:-2]
        assert full.map_proof("flow:demo").count == items_at(size)["flow:demo"][0]
        assert len(list(full.checkpoints())) == len(BATCHES) + 1
        with pytest.raises(AffidavitError):
            full.append([ENTRIES[1]])
        assert full.size() == size
    assert full.size() == size + 2
    assert _opened(full, full.checkpoint()).size == size + 2


def test_a_second_handle_appends_after_the_first(backend: Backend, ledger: Any) -> None:
    other = backend.open()
    ledger.append(ENTRIES[:2])
    assert other.append(ENTRIES[2:5]).first == 2
    assert ledger.append(ENTRIES[5:6]).first == 5
    assert ledger.root(6) == naive_tree.mth(ENTRIES[:6])


# -- storage changed below affidavit ---------------------------------------------------------


def test_an_altered_entry_is_an_integrity_error(backend: Backend, full: Any) -> None:
    backend.tamper("UPDATE entries SET data = ? WHERE idx = 3", ENTRIES[3].replace(b"1", b"7"))
    with pytest.raises(IntegrityError):
        list(full.read(0, len(ENTRIES)))
    with pytest.raises(IntegrityError):
        full.entries_at([3])
    with pytest.raises(IntegrityError):
        full.reindex()


def test_an_altered_entry_and_leaf_is_refused_by_the_next_append(backend: Backend,
                                                                  full: Any) -> None:
    forged = ENTRIES[12].replace(b"3", b"4")
    backend.tamper("UPDATE entries SET data = ?, leaf = ? WHERE idx = 12", forged, _leaf(forged))
    with pytest.raises(IntegrityError):
        full.append([ENTRIES[0]])
    with pytest.raises(IntegrityError):
        full.reindex()


def test_a_deleted_entry_is_a_gap(backend: Backend, reader: Any) -> None:
    backend.tamper("DELETE FROM entries WHERE idx = 5")
    with pytest.raises(IntegrityError):
        list(reader.read(0, len(ENTRIES)))
    with pytest.raises(IntegrityError):
        reader.entries_at([4, 5])


def test_a_missing_latest_checkpoint_is_refused(backend: Backend, full: Any) -> None:
    backend.tamper("DELETE FROM checkpoints WHERE size = ?", len(ENTRIES))
    with pytest.raises(IntegrityError):
        full.append([ENTRIES[0]])


def test_a_forged_checkpoint_signature_is_refused(backend: Backend, full: Any) -> None:
    text = full.checkpoint()
    body, _, signature = text.rpartition("\n— ")
    name, _, value = signature.partition(" ")
    forged = f"{body}\n— {name} {value[:8]}{'A' * (len(value) - 9)}=\n"
    backend.tamper("UPDATE checkpoints SET note = ? WHERE size = ?", forged, len(ENTRIES))
    with pytest.raises(IntegrityError):
        full.append([ENTRIES[0]])


def test_an_altered_key_map_is_refused(backend: Backend, full: Any) -> None:
    backend.tamper("UPDATE map_leaves SET count = count + 1 WHERE key = ?", "flow:demo")
    with pytest.raises(IntegrityError):
        full.append([ENTRIES[0]], [ITEMS[0][0]])
    with pytest.raises(IntegrityError):
        full.append([ENTRIES[1]], [ITEMS[1][0]])
    full.reindex()
    full.append([ENTRIES[0]], [ITEMS[0][0]])


# -- batches of appends (a server integrating many writers at once) ----------------------------


def _pending(a: int, b: int, **options: Any) -> Pending:
    return Pending(ENTRIES[a:b], [entry for entry, _ in ITEMS[a:b]], **options)


def test_a_batch_lands_in_order_under_one_checkpoint(ledger: Any) -> None:
    """Three writers' appends in one batch: one new checkpoint, each told where it went, and
    the log, index and map as if they had come one after another."""
    acks = ledger.append_batch([_pending(0, 2), _pending(2, 5), _pending(5, 6)])
    assert [(a.first, a.size) for a in acks] == [(0, 6), (2, 6), (5, 6)]
    assert len({a.checkpoint for a in acks}) == 1
    assert [size for size, _ in ledger.checkpoints()] == [0, 6]
    head = _opened(ledger, acks[0].checkpoint)
    assert head.root == naive_tree.mth(ENTRIES[:6])
    assert keymap.decode_root(head.extensions) == naive_map.root(items_at(6))
    assert list(ledger.read(0, 6)) == list(enumerate(ENTRIES[:6]))


def test_a_stale_writer_is_refused_alone(full: Any) -> None:
    """A writer whose ``after`` the log does not extend gets its refusal; the others land."""
    size = full.size()
    good = (size, full.root(size))
    acks = full.append_batch([
        Pending([ENTRIES[0]], after=good),
        Pending([ENTRIES[1]], after=(4, naive_tree.mth(ENTRIES[:5]))),  # a forked head
        Pending([ENTRIES[2]], after=(size + 3, b"\x00" * 32)),  # beyond the log
        Pending([ENTRIES[3]], after=(0, b"")),
    ])
    assert isinstance(acks[1], IntegrityError) and isinstance(acks[2], IntegrityError)
    assert "rewritten" in acks[1].message and "went back" in acks[2].message
    assert [(a.first, a.size) for a in (acks[0], acks[3])] == [(size, size + 2),
                                                               (size + 1, size + 2)]
    assert list(full.read(size, size + 2)) == [(size, ENTRIES[0]), (size + 1, ENTRIES[3])]


def test_a_retried_append_lands_once(full: Any) -> None:
    """``once``: entries already in the log after the writer's head, or earlier in the same
    batch, are answered with where they went; a batch of nothing but retries signs nothing."""
    size = full.size()
    after = (size, full.root(size))
    first = full.append([ENTRIES[0], ENTRIES[1]], after=after)
    again = full.append_batch([Pending(ENTRIES[0:2], after=after, once=True)])[0]
    assert (again.first, again.size, again.checkpoint) == (size, size + 2, first.checkpoint)
    assert full.size() == size + 2
    head = (size + 2, full.root(size + 2))
    acks = full.append_batch([Pending([ENTRIES[5]], after=head, once=True),
                              Pending([ENTRIES[5]], after=head, once=True),
                              Pending([ENTRIES[5]], after=head)])
    assert [(a.first, a.size) for a in acks] == [(size + 2, size + 4), (size + 2, size + 4),
                                                 (size + 3, size + 4)]
    assert [data for _, data in full.read(size + 2, size + 4)] == [ENTRIES[5], ENTRIES[5]]


def test_a_retry_is_found_after_its_since_past_other_writers(full: Any) -> None:
    """A one-request write's retry goes after a later head than its first attempt: its
    entries are looked for after the ``since`` its writer gave, across the appends of other
    writers in between, beside appends of the same batch that are new (a narrower window:
    what the log holds before it is not theirs) and a retry of one of those."""
    size = full.size()
    full.append([ENTRIES[0]], after=(size, full.root(size)))  # the first attempt landed
    full.append([ENTRIES[1], ENTRIES[2]], after=(size + 1, full.root(size + 1)))  # others
    head = (size + 3, full.root(size + 3))
    acks = full.append_batch([
        Pending([ENTRIES[3]], after=head, once=True, since=size + 3),
        Pending([ENTRIES[0]], after=head, once=True, since=size),
        Pending([ENTRIES[1], ENTRIES[2]], after=head, once=True, since=size + 1),
        Pending([ENTRIES[3]], after=head, once=True, since=size + 3),
        Pending([ENTRIES[4]], after=head, once=True, since=size + 3)])
    assert [(a.first, a.size) for a in acks] == [
        (size + 3, size + 5), (size, size + 5), (size + 1, size + 5), (size + 3, size + 5),
        (size + 4, size + 5)]
    assert [data for _, data in full.read(size, size + 5)] == ENTRIES[:5]


def test_a_failing_batch_leaves_nothing(backend: Backend, full: Any, tmp_path: Path) -> None:
    """One entry whose keys cannot be computed fails the whole batch: nothing of any writer's
    entries or evidence stays."""
    before = _state(full)
    (tmp_path / "report.txt").write_bytes(b"evidence bytes")
    batch = full.blobs.incoming()
    digest, _ = batch.add(tmp_path / "report.txt")
    broken = {"v": 1, "kind": "flow", "time": "2026-01-01T00:00:00Z", "record": {}}
    with pytest.raises(KeyError):
        full.append_batch([Pending([ENTRIES[0]], evidence=batch),
                           Pending([ENTRIES[1]], [broken])])
    batch.close()
    assert _state(full) == before
    assert not full.blobs.has(digest)
    assert backend.vault_files() == []


def test_an_appends_proofs_read_together_are_each_proof_alone(full: Any) -> None:
    """``append_proofs`` (what a server answers an append with) reads the consistency and
    inclusion proofs' nodes in one go; they are the proofs asked one by one."""
    size = full.size()
    for start, places in ((0, [size - 1]), (1, [0, size - 1]), (size - 3, [size - 3, size - 2]),
                          (size, [2]), (size // 2, list(range(size)))):
        consistency, inclusion = full.append_proofs(start, places, size)
        assert consistency == (full.consistency_proof(start, size) if 0 < start < size
                               else [])
        assert inclusion == full.inclusion_proofs(places, size)
    with pytest.raises(IntegrityError):  # a size the log does not hold lacks its nodes
        full.append_proofs(size - 1, [size], size + 1)


@pytest.mark.parametrize(("limit", "blocks"), [(1, 0), (2, 1), (2, 3), (250_000, 1 << 17)])
def test_proofs_through_the_subtree_cache_match_the_naive_tree(full: Any, limit: int,
                                                               blocks: int) -> None:
    """A long-lived reader's cache of complete subtrees and of the blocks below them
    (``cache_subtrees``) answers every root and proof as the store does, however often its
    bounds make it start over, and after the log grew past the block it ended in."""
    def note_entry(n: int) -> bytes:
        return canonical.dumps({"v": 1, "kind": "note", "time": "2026-01-01T00:00:00Z",
                                "record": {"n": n}})

    notes = [note_entry(n) for n in range(300)]
    full.append(notes)
    log = ENTRIES + notes
    full.cache_subtrees(limit, blocks)
    for grown in range(2):
        if grown:  # the last block, partial when the cache was made, is whole now
            more = [note_entry(n) for n in range(300, 340)]
            full.append(more)
            log += more
        for _ in range(2):  # the second pass reads what the first one cached
            for size in (63, 64, 65, 128, 200, len(log) - 3, len(log)):
                assert full.root(size) == naive_tree.mth(log[:size])
                assert full.inclusion_proofs(range(0, size, 7), size) == {
                    i: naive_tree.path(i, log[:size]) for i in range(0, size, 7)}
                for old in (1, 13, 64, size):
                    if old <= size:
                        assert full.consistency_proof(old, size) == naive_tree.proof(
                            old, log[:size])
    assert len(full._subtrees) <= limit
    assert limit < 100 or full._subtrees  # kept when there is room
    assert len(full._blocks) <= blocks
    assert blocks < 100 or len(full._blocks) == len(log) // 16


@pytest.mark.parametrize("prefetch", [1, 2])
def test_map_updates_read_a_few_levels_at_a_time_give_the_same_map(
        ledger: Any, prefetch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """An update reads its keys' paths ``_PREFETCH`` levels per query: read one or two at a
    time (deep maps read in several queries), every checkpoint still signs the naive map."""
    from affidavit.ledger import sqlite_map

    monkeypatch.setattr(sqlite_map, "_PREFETCH", prefetch)
    _fill(ledger)
    for size, text in ledger.checkpoints():
        assert keymap.decode_root(_opened(ledger, text).extensions) == naive_map.root(
            items_at(size))


def test_read_many_proves_every_key_at_once_as_one_at_a_time(reader: Any) -> None:
    """The map proofs of many keys read together are each key's own (present or absent)."""
    items = items_at(len(ENTRIES))
    keys = [*items, "flow:absent", "trail:demo/t9", "artifact:" + "00" * 32]
    got = reader.read_many(keys, len(ENTRIES))
    root = keymap.decode_root(_opened(reader, reader.checkpoint()).extensions)
    for key in keys:
        proof = got.proofs[key]
        siblings, leaf = naive_map.prove(items, key)
        assert proof.siblings == siblings
        if key in items:
            assert (proof.count, proof.last, proof.other) == (*items[key], None)
        else:
            assert (proof.count, proof.last, proof.other) == (0, None, leaf)
        keymap.verify_proof(root, proof)


def test_a_heartbeat_is_kept_beside_the_log_not_in_it(full: Any, backend: Backend) -> None:
    """No entry, no checkpoint, no index row or map change: only the latest time per
    environment (an earlier report arriving late is ignored), seen by every handle."""
    before = _state(full)
    assert full.heartbeat("prod") is None
    full.record_heartbeat("prod", "2026-01-02T00:00:00.000000Z", full.size())
    full.record_heartbeat("prod", "2026-01-01T00:00:00.000000Z", 1)  # late, older: ignored
    full.record_heartbeat("staging", "2026-01-03T00:00:00.000000Z", 2)
    assert _state(full) == before
    other = backend.open()
    assert other.heartbeat("prod") == ("2026-01-02T00:00:00.000000Z", full.size())
    assert other.heartbeat("staging") == ("2026-01-03T00:00:00.000000Z", 2)
    other.record_heartbeat("prod", "2026-01-04T00:00:00.000000Z", 3)
    with full.snapshot():
        assert full.heartbeat("prod") == ("2026-01-04T00:00:00.000000Z", 3)
        assert full.heartbeat("nowhere") is None
    full.append([ENTRIES[0]])  # appends go on as before
    assert full.size() == before[0] + 1


def _line(name: str, seed: int, key: int | None = None) -> str:
    """A cosignature line of the one valid shape: key ID (4) || timestamp (8) || signature
    (64), canonical base64; ``key`` picks the key ID (default: the seed's)."""
    import base64

    raw = bytes([seed if key is None else key]) * 4 + bytes([seed]) * 72
    return f"\u2014 {name} {base64.b64encode(raw).decode()}\n"


def test_cosignatures_are_kept_beside_the_log_not_in_it(full: Any, backend: Backend) -> None:
    """One line per witness (name and key ID), a later one replacing it, in the order they
    came, seen by every handle; no entry, checkpoint, index row or map change; a size with
    no checkpoint and a line that is no cosignature line are refused whole; past the limit the
    oldest witnesses give way, so a fresh cosignature always finds room."""
    from affidavit.errors import InputError
    from affidavit.ledger.base import MAX_COSIGNATURES

    before = _state(full)
    size = full.size()
    assert full.cosignatures(size) == []
    full.add_cosignatures(size, [_line("w1", 1), _line("w2", 2)])
    full.add_cosignatures(size, [_line("w2", 2), _line("w3", 3).rstrip("\n")])  # w2 again
    assert _state(full) == before
    other = backend.open()
    assert other.cosignatures(size) == [_line("w1", 1), _line("w2", 2), _line("w3", 3)]
    assert other.cosignatures(0) == []
    other.add_cosignatures(size, [_line("w1", 9, key=1)])  # w1 again, a later timestamp
    assert full.cosignatures(size) == [_line("w2", 2), _line("w3", 3), _line("w1", 9, key=1)]
    for bad in ("not a line", _line("a+b", 4), _line("w4", 4) + "\u2014 w5 AAAA",
                "\u2014 w6 " + "A" * 100, "\u2014 w7 AAAA"):
        with pytest.raises(InputError):
            other.add_cosignatures(size, [bad])
    with pytest.raises(InputError):
        other.add_cosignatures(size + 1, [_line("w9", 9)])
    other.add_cosignatures(size, [_line(f"m{i}", 10 + i) for i in range(MAX_COSIGNATURES)])
    kept = full.cosignatures(size)
    assert len(kept) == MAX_COSIGNATURES and kept[-1] == _line(f"m{MAX_COSIGNATURES - 1}",
                                                                  9 + MAX_COSIGNATURES)
    assert _line("w2", 2) not in kept  # the oldest gave way
    full.append([ENTRIES[0]])  # appends go on as before
    assert full.size() == size + 1
