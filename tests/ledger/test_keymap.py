"""The key map (DESIGN §3.1): the shared vectors, a naive reference, the SQLite store, and
proofs that must fail.

Three implementations are held to one another: the shared vectors (generated from the DESIGN
text by another reference), ``tests/ledger/naive_map.py`` (written from the text here), and
the library's in-memory map and SQLite store, at random sizes and after random updates.
"""

from __future__ import annotations

import base64
import json
import os
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from affidavit.errors import IntegrityError
from affidavit.ledger import keymap
from affidavit.ledger.keymap import MapProof, MemoryMap
from affidavit.ledger.sqlite_map import SCHEMA, SQLiteMap
from tests.ledger import naive_map

VECTORS = os.environ.get("AFFIDAVIT_VECTORS")
SKIP = "AFFIDAVIT_VECTORS is not set (point it at the shared vectors folder)"


def _cases() -> list[dict[str, Any]]:
    if not VECTORS:
        return []
    return list(json.loads((Path(VECTORS) / "keymap" / "vectors.json").read_text())["cases"])


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _store() -> SQLiteMap:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.executescript(SCHEMA)
    return SQLiteMap(db, ":memory:")


def _stored(items: dict[str, tuple[int, int]]) -> SQLiteMap:
    """A store that reached ``items`` through several updates, in a random order."""
    store = _store()
    keys = list(items)
    random.Random(len(keys)).shuffle(keys)
    for start in range(0, len(keys), 3):
        store.add({key: items[key] for key in keys[start:start + 3]}, store.root())
    return store


@pytest.mark.skipif(not VECTORS, reason=SKIP)
@pytest.mark.parametrize("case", range(7))
def test_shared_vectors(case: int) -> None:
    vector = _cases()[case]
    items = {k: (v["count"], v["last"]) for k, v in vector["items"].items()}
    memory = keymap.build((k, c, last) for k, (c, last) in items.items())
    store = _stored(items)
    for name, implementation in (("memory", memory), ("sqlite", store)):
        assert _b64(implementation.root()) == vector["root"], name
        for expected in vector["proofs"]:
            got = implementation.prove(expected["key"])
            assert (got.count, got.last) == (expected["count"], expected["last"]), name
            assert [_b64(s) for s in got.siblings] == expected["siblings"], name
            keymap.verify_proof(implementation.root(), got)
        for expected in vector["absent"]:
            got = implementation.prove(expected["key"])
            assert got.count == 0 and [_b64(s) for s in got.siblings] == expected["siblings"]
            other = expected["other"]
            assert got.other == (None if other is None else (
                bytes.fromhex(other["key_hash"]), other["count"], other["last"]))
            keymap.verify_proof(implementation.root(), got)
    assert _b64(naive_map.root(items)) == vector["root"]


def test_empty_map() -> None:
    assert MemoryMap().root() == keymap.EMPTY == _store().root() == naive_map.root({})
    proof = _store().prove("trail:a/b")
    assert (proof.count, proof.siblings, proof.other) == (0, [], None)
    keymap.verify_proof(keymap.EMPTY, proof)


#: SQLite integers are signed 64-bit, so the store holds counts and indexes below 2**63 (a log
#: that long is not a concern); the hashing itself takes any u64 (see the vectors).
_U63 = 2**63 - 1


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=12),
                       st.tuples(st.integers(1, _U63), st.integers(0, _U63)),
                       max_size=40),
       st.text(min_size=1, max_size=12))
def test_memory_and_store_equal_the_naive_reference(items: dict[str, tuple[int, int]],
                                                    probe: str) -> None:
    root = naive_map.root(items)
    memory = keymap.build((k, c, last) for k, (c, last) in items.items())
    store = _stored(items)
    assert memory.root() == store.root() == root
    assert sorted(memory.nodes()) == sorted(store.nodes((-1, b""), 1 << 30))
    for key in [*list(items)[:5], probe, probe + "!"]:
        siblings, end = naive_map.prove(items, key)
        for proof in (memory.prove(key), store.prove(key)):
            assert proof.siblings == siblings
            if key in items:
                assert (proof.count, proof.last) == items[key]
            else:
                assert proof.count == 0
                assert proof.other == end
            keymap.verify_proof(root, proof)


@pytest.mark.parametrize("reach", [1, 2, 5])
def test_a_proof_deeper_than_the_learned_reach_is_asked_again(reach: int) -> None:
    """The store asks as many levels of a path as the last proof's keys went deep, and
    more: a key whose path goes deeper than that is read on from where it stopped, and the
    proofs are the naive reference's either way (keys alone and in batches)."""
    items = {f"trail:f/{n}": (n + 1, n) for n in range(300)}
    store = _stored(items)
    root = naive_map.root(items)
    probes = [*list(items)[::37], "trail:f/absent", "flow:x"]
    for batch in ([key] for key in probes):
        store.reach = reach
        proof = store.prove_many(batch)[batch[0]]
        siblings, end = naive_map.prove(items, batch[0])
        assert proof.siblings == siblings and (proof.other == end or proof.count)
        keymap.verify_proof(root, proof)
        assert store.reach >= 7  # learned again from how deep this path went
    store.reach = reach
    for key, proof in store.prove_many([*list(items)[:100], *probes]).items():
        assert proof.siblings == naive_map.prove(items, key)[0]
        keymap.verify_proof(root, proof)


@pytest.mark.parametrize("dense", [False, True], ids=["probed", "read-whole"])
@pytest.mark.parametrize("size", [0, 1, 2, 300])
def test_a_wide_batch_walks_its_paths_together_and_proves_what_the_reference_does(
        size: int, dense: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of hundreds of keys (present, absent in an empty subtree, absent beside
    another key's leaf) is proven by walking the paths together, its subtrees probed or the
    map read whole (a batch that is a large share of it): each proof is the naive
    reference's, and the same as the key asked alone."""
    from affidavit.ledger import sqlite_map

    monkeypatch.setattr(sqlite_map, "_DENSE", 256 if dense else 10**9)
    reads: list[str] = []
    items = {f"artifact:{n:04d}": (n % 5 + 1, 3 * n) for n in range(size)}
    store = _stored(items)
    store.db.set_trace_callback(reads.append)
    root = naive_map.root(items)
    probes = [*items, *(f"absent:{n}" for n in range(260))]
    wide = store.prove_many(probes)
    store.db.set_trace_callback(None)
    assert ("SELECT depth, prefix, hash FROM map_nodes" in reads) is dense
    assert len(wide) == len(probes) >= 256
    for key in probes:
        siblings, end = naive_map.prove(items, key)
        proof = wide[key]
        assert proof.siblings == siblings, key
        if key in items:
            assert (proof.count, proof.last, proof.other) == (*items[key], None)
        else:
            assert (proof.count, proof.last, proof.other) == (0, None, end)
        keymap.verify_proof(root, proof)
        assert proof == store.prove_many([key])[key]


@pytest.mark.parametrize("dense", [False, True], ids=["probed", "read-whole"])
@pytest.mark.parametrize("alteration", ["DELETE FROM map_nodes WHERE depth = 3",
                                        "DELETE FROM map_nodes WHERE depth = 0"])
def test_a_wide_batch_refuses_a_store_missing_a_node(alteration: str, dense: bool,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from affidavit.ledger import sqlite_map

    monkeypatch.setattr(sqlite_map, "_DENSE", 256 if dense else 10**9)
    store = _stored({f"artifact:{n:04d}": (1, n) for n in range(300)})
    store.db.execute(alteration)
    with pytest.raises(IntegrityError, match="lacks"):
        store.prove_many([f"artifact:{n:04d}" for n in range(300)])


def test_a_map_padded_with_node_rows_is_not_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows beyond what a real map holds (about two nodes a key) keep a batch on the probed
    path: a store padded with junk nodes is not read into memory whole."""
    from affidavit.ledger import sqlite_map

    monkeypatch.setattr(sqlite_map, "_DENSE", 256)
    items = {f"artifact:{n:04d}": (1, n) for n in range(300)}
    store = _stored(items)
    rng = random.Random(2)
    store.db.executemany("INSERT INTO map_nodes VALUES (200, ?, ?)",
                         [(rng.randbytes(25), bytes(32)) for _ in range(8 * 300)])
    reads: list[str] = []
    store.db.set_trace_callback(reads.append)
    proofs = store.prove_many(list(items))
    assert "SELECT depth, prefix, hash FROM map_nodes" not in reads
    root = naive_map.root(items)
    for proof in proofs.values():
        keymap.verify_proof(root, proof)


@pytest.mark.parametrize("alteration", [
    "UPDATE map_nodes SET prefix = x'81' WHERE depth = 1 AND prefix = x'80'",  # a stray bit
    "UPDATE map_nodes SET prefix = x'8000' WHERE depth = 1 AND prefix = x'80'",  # too long
    "UPDATE map_nodes SET depth = 300 WHERE depth = 2",
    "UPDATE map_nodes SET prefix = 'text' WHERE depth = 1 AND prefix = x'80'",
    "UPDATE map_nodes SET hash = x'00' WHERE depth = 2",
    "UPDATE map_leaves SET count = 'many' WHERE key = 'artifact:0007'"])
def test_a_map_read_whole_checks_every_row_it_reads(alteration: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Read whole, the map's rows are checked as probed ones are: a node under a name no
    subtree has, or a row of the wrong types, is an integrity error, not a proof built on it."""
    from affidavit.ledger import sqlite_map

    monkeypatch.setattr(sqlite_map, "_DENSE", 256)
    store = _stored({f"artifact:{n:04d}": (1, n) for n in range(300)})
    store.db.execute(alteration)
    with pytest.raises(IntegrityError):
        store.prove_many([f"artifact:{n:04d}" for n in range(300)])


def test_incremental_updates_match_fresh_rebuilds() -> None:
    rng = random.Random(11)
    memory, store = MemoryMap(), _store()
    items: dict[str, tuple[int, int]] = {}
    for step in range(400):
        before = memory.root()
        batch: dict[str, tuple[int, int]] = {}
        for _ in range(rng.choice([1, 1, 2, 7])):
            key = f"trail:f/{rng.randrange(120)}"
            memory.add(key, step)
            count, _ = items.get(key, (0, 0))
            added, _ = batch.get(key, (0, 0))
            items[key] = (count + 1, step)
            batch[key] = (added + 1, step)
        assert store.add(batch, before) == memory.root()
        if step % 50 == 0:
            assert memory.root() == naive_map.root(items)
            assert sorted(store.nodes((-1, b""), 1 << 30)) == sorted(memory.nodes())
    assert {k: (c, last) for _, k, c, last in store.leaves(b"", 1 << 30)} == items


def _present(items: dict[str, tuple[int, int]], key: str) -> tuple[bytes, MapProof]:
    memory = keymap.build((k, c, last) for k, (c, last) in items.items())
    return memory.root(), memory.prove(key)


ITEMS = {f"trail:f/{n}": (n + 1, 100 + n) for n in range(50)}


@pytest.mark.parametrize("change", ["count", "last", "sibling", "drop-sibling", "add-sibling",
                                    "other-key", "claim-absent", "flip-other",
                                    "too-deep", "too-deep-absent", "short-sibling"])
@pytest.mark.parametrize("warm", [False, True], ids=["alone", "after-the-others"])
def test_doctored_proofs_fail(change: str, warm: bool) -> None:
    """Alone, or after every key's honest proof taught ``known`` the map's subtrees (so the
    doctored one stops folding at the first subtree it meets)."""
    root, proof = _present(ITEMS, "trail:f/7")
    keymap.verify_proof(root, proof)
    known = None
    if warm:
        memory = keymap.build((k, c, last) for k, (c, last) in ITEMS.items())
        known = {(0, 0): root}
        for key in [*ITEMS, "trail:f/none"]:
            keymap.verify_proof(root, memory.prove(key), known)
        assert len(known) > 50
    doctored = MapProof(proof.key, proof.count, proof.last, proof.siblings, proof.other)
    if change == "count":
        doctored.count += 1
    elif change == "last":
        doctored.last = (doctored.last or 0) - 1
    elif change == "sibling":
        doctored.siblings[0] = bytes(32)
    elif change == "drop-sibling":
        doctored.siblings = doctored.siblings[1:]
    elif change == "add-sibling":
        doctored.siblings = [keymap.EMPTY, *doctored.siblings]
    elif change == "other-key":
        doctored.key = "trail:f/8"
    elif change == "too-deep":
        doctored.siblings = [keymap.EMPTY] * (keymap.KEY_BITS + 1)
    elif change == "short-sibling":
        doctored.siblings = [*doctored.siblings[:-1], bytes(31)]
    elif change in ("too-deep-absent", "flip-other"):  # an absence proof ending at a leaf
        _, doctored = _present(ITEMS, "trail:f/none")
        assert doctored.other is not None
        other_k, count, last = doctored.other
        if change == "flip-other":  # a leaf whose hash leaves the key's path one level up
            depth = len(doctored.siblings)
            flipped = int.from_bytes(other_k, "big") ^ (1 << (keymap.KEY_BITS - depth))
            doctored.other = (flipped.to_bytes(32, "big"), count, last)
        else:
            doctored.siblings = [keymap.EMPTY] * (keymap.KEY_BITS + 1)
    else:
        doctored.count, doctored.last = 0, None
    caught = {"flip-other": "off the key's path", "too-deep": "more than 256",
              "too-deep-absent": "more than 256",
              "short-sibling": "does not lead" if warm else "not 32"}.get(change)
    with pytest.raises(IntegrityError, match=caught):
        keymap.verify_proof(root, doctored, known)


def test_proofs_sharing_known_subtrees_equal_whole_folds() -> None:
    """Every honest proof passes with ``known`` as without, in any order, and ``known`` holds
    only hashes a whole fold computes (each node of each path, and its siblings)."""
    items = {f"artifact:{n}": (1, n) for n in range(400)}
    memory = keymap.build((k, c, last) for k, (c, last) in items.items())
    root = memory.root()
    keys = [*items, *(f"absent:{n}" for n in range(100))]
    random.Random(3).shuffle(keys)
    known = {(0, 0): root}
    for key in keys:
        proof = memory.prove(key)
        keymap.verify_proof(root, proof)
        keymap.verify_proof(root, proof, known)
    nodes = {(d, int.from_bytes(p, "big") >> ((-d) % 8)): h for d, p, h in memory.nodes()}
    for (depth, prefix), digest in known.items():
        assert nodes.get((depth, prefix), digest) == digest
    with pytest.raises(ValueError):
        keymap.verify_proof(bytes(32), memory.prove(keys[0]), known)


def test_absence_proofs_cannot_hide_a_present_key() -> None:
    root, _ = _present(ITEMS, "trail:f/7")
    _, absent = _present(ITEMS, "trail:f/none")
    keymap.verify_proof(root, absent)
    # The absent walk of one key, relabelled as the walk of a present key, does not verify;
    # nor does an absence proof naming the key itself as the leaf it ends at.
    with pytest.raises(IntegrityError):
        keymap.verify_proof(root, MapProof("trail:f/7", 0, None, absent.siblings, absent.other))
    k = keymap.key_hash("trail:f/7")
    with pytest.raises(IntegrityError, match="off the key's path"):
        keymap.verify_proof(root, MapProof("trail:f/7", 0, None, [], (k, 8, 107)))


def test_checkpoint_extension_line() -> None:
    root = bytes(range(32))
    line = keymap.encode_root(root)
    assert line == "map " + base64.b64encode(root).decode()
    assert keymap.decode_root((line,)) == root
    for bad in ((), (line, line), ("map",), ("map " + base64.b64encode(b"short").decode(),),
                ("MAP " + line[4:],), (line + "=",)):
        with pytest.raises(IntegrityError):
            keymap.decode_root(bad)


def test_store_without_a_node_over_two_keys_is_refused() -> None:
    store = _stored(dict(list(ITEMS.items())[:10]))
    store.db.execute("DELETE FROM map_nodes WHERE depth = 0")
    with pytest.raises(IntegrityError, match="lacks"):
        store.root()


def _other_half(key: str) -> bytes:
    """The prefix of the depth-1 subtree on the other side of the root from ``key``."""
    return b"\x00" if keymap.bit(keymap.key_hash(key), 0) else b"\x80"


@pytest.mark.parametrize("alteration", [
    "UPDATE map_leaves SET count = count + 1 WHERE key = 'trail:f/7'",
    "UPDATE map_leaves SET last = last - 1 WHERE key = 'trail:f/7'",
    "DELETE FROM map_leaves WHERE key = 'trail:f/7'",
    "UPDATE map_nodes SET hash = zeroblob(32) WHERE depth = 1 AND prefix = ?",
    "DELETE FROM map_nodes WHERE depth = 1 AND prefix = ?",
])
def test_update_refuses_a_store_that_is_not_the_signed_map(alteration: str) -> None:
    """What an update builds on must be what the signed root commits to: an altered row that
    the update reads (the leaf it bumps, a subtree beside its path) makes it refuse, not sign."""
    store = _stored(ITEMS)
    signed = store.root()
    store.db.execute(alteration, (_other_half("trail:f/7"),) if "?" in alteration else ())
    with pytest.raises(IntegrityError):
        store.add({"trail:f/7": (1, 500)}, signed)


def test_update_of_an_untouched_store_checks_its_root() -> None:
    store = _stored(ITEMS)
    assert store.add({}, store.root()) == store.root()
    with pytest.raises(IntegrityError, match="not the one its latest checkpoint signs"):
        store.add({}, bytes(32))
