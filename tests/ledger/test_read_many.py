"""``Ledger.read_many``: several keys' rows, map proofs, entries and inclusion proofs at once."""

from __future__ import annotations

from pathlib import Path

from affidavit.api import record
from affidavit.ledger import index, keymap, note, proof, rfc6962
from affidavit.ledger.checkpoint import Checkpoint
from affidavit.ledger.sqlite import SQLiteLedger
from tests.helpers import attest_generic


def test_read_many_answers_for_every_key(tmp_path: Path) -> None:
    ledger = SQLiteLedger(str(tmp_path / "l.db"))
    record.create_flow(ledger, name="shop")
    record.begin_trail(ledger, flow="shop", name="t1")
    record.begin_trail(ledger, flow="shop", name="t2")
    attest_generic(ledger, flow="shop", trail="t1", name="unit")
    size = ledger.size()
    verifier = note.Verifier.from_key(ledger.verifier_key())
    checkpoint = Checkpoint.parse(note.open_note(ledger.checkpoint() or "", [verifier]))
    map_root = keymap.decode_root(checkpoint.extensions)
    keys = [index.trail_key("shop", "t1"), index.trail_key("shop", "t2"),
            index.trail_key("shop", "never")]
    read = ledger.read_many(keys, size)
    assert read.size == size
    # entries 0 (flow), 1 and 2 (the trails), 3 (the attestation)
    assert read.positions == {keys[0]: [1, 3], keys[1]: [2], keys[2]: []}
    assert sorted(read.entries) == [1, 2, 3]
    for position, data in read.entries.items():
        proof.verify_inclusion(rfc6962.leaf_hash(data), position, size,
                               read.inclusion[position], checkpoint.root)
    for key in keys:
        keymap.verify_proof(map_root, read.proofs[key])
    assert (read.proofs[keys[0]].count, read.proofs[keys[0]].last) == (2, 3)
    assert read.proofs[keys[2]].count == 0


def test_held_positions_travel_as_runs_and_are_asked_by_bisection() -> None:
    """What a client names as ``held`` (runs, the longest when there are too many) and what
    the server makes of it: overlapping and empty runs, and a run as long as any log, without
    a set of its positions."""
    from affidavit.ledger import wire

    assert wire.runs_json([7, 1, 2, 3, 9, 8, 20], 10) == [[1, 4], [7, 10], [20, 21]]
    assert wire.runs_json([1, 2, 3, 9, 8, 20], 2) == [[1, 4], [8, 10]]  # the longest two
    assert wire.runs_json((), 5) == []
    runs = wire.Runs([(10, 20), (15, 30), (5, 5), (40, 41), (0, 2)])
    assert [p for p in range(45) if p in runs] == [0, 1, *range(10, 30), 40]
    assert len(runs) == 23 and list(runs) == [0, 1, *range(10, 30), 40]
    assert "10" not in runs and -1 not in runs
    huge = wire.Runs([(3, 10**15)])
    assert 10**15 - 1 in huge and 10**15 not in huge and 2 not in huge
    assert wire.Runs([(0, 10**30)]) and not wire.Runs([]) and not wire.Runs([(4, 4)])
