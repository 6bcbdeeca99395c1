"""Compact ranges: roots, resuming from stored hashes, and exactly which nodes a store writes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from affidavit.errors import IntegrityError
from affidavit.ledger import proof
from affidavit.ledger.compact import CompactRange
from affidavit.ledger.rfc6962 import EMPTY_ROOT, leaf_hash
from tests.ledger import naive_tree

ENTRIES = [b"entry %d" % i for i in range(300)]


def test_empty_range() -> None:
    rng = CompactRange()
    assert rng.end == 0
    assert rng.hashes == []
    assert rng.root() == EMPTY_ROOT


def test_root_after_every_append_matches_naive() -> None:
    rng = CompactRange()
    for size, entry in enumerate(ENTRIES, start=1):
        rng.append(leaf_hash(entry))
        assert rng.end == size
        assert len(rng.hashes) == size.bit_count()
        assert rng.root() == naive_tree.mth(ENTRIES[:size])


def test_visit_writes_each_complete_perfect_subtree_once() -> None:
    visits: list[tuple[int, int, bytes]] = []
    rng = CompactRange()
    for entry in ENTRIES:
        rng.append(leaf_hash(entry), lambda lvl, idx, h: visits.append((lvl, idx, h)))
    n = len(ENTRIES)
    # Exactly the perfect subtrees complete within [0, n), each once: < 2n writes in all.
    expected = {(lvl, idx) for lvl in range(n.bit_length()) for idx in range(n >> lvl)}
    assert len(visits) == len(expected) < 2 * n
    assert {(lvl, idx) for lvl, idx, _ in visits} == expected
    for lvl, idx, digest in visits:
        assert digest == naive_tree.mth(ENTRIES[idx << lvl : (idx + 1) << lvl])


def test_leaf_is_visited_first_then_bottom_up() -> None:
    seen: list[tuple[int, int]] = []
    rng = CompactRange()
    for entry in ENTRIES[:7]:
        rng.append(leaf_hash(entry))
    rng.append(leaf_hash(ENTRIES[7]), lambda lvl, idx, _: seen.append((lvl, idx)))
    assert seen == [(0, 7), (1, 3), (2, 1), (3, 0)]


@settings(max_examples=100, deadline=None)
@given(split=st.integers(0, 200), more=st.integers(0, 100))
def test_resume_from_stored_hashes(split: int, more: int) -> None:
    whole = CompactRange()
    for entry in ENTRIES[:split]:
        whole.append(leaf_hash(entry))
    assert len(whole.hashes) == len(proof.root_nodes(split))

    resumed = CompactRange.from_hashes(split, whole.hashes)
    for entry in ENTRIES[split : split + more]:
        resumed.append(leaf_hash(entry))
        whole.append(leaf_hash(entry))
    assert resumed.end == whole.end == split + more
    assert resumed.hashes == whole.hashes
    assert resumed.root() == naive_tree.mth(ENTRIES[: split + more])


def test_from_hashes_rejects_wrong_shapes() -> None:
    h = leaf_hash(b"x")
    with pytest.raises(IntegrityError):
        CompactRange.from_hashes(3, [h])  # 3 = 0b11 needs two hashes
    with pytest.raises(IntegrityError):
        CompactRange.from_hashes(4, [h, h])
    with pytest.raises(IntegrityError):
        CompactRange.from_hashes(1, [h[:31]])
    with pytest.raises(IntegrityError):
        CompactRange.from_hashes(-1, [])
    assert CompactRange.from_hashes(0, []).root() == EMPTY_ROOT


def test_append_rejects_a_hash_of_the_wrong_length() -> None:
    rng = CompactRange()
    with pytest.raises(IntegrityError):
        rng.append(b"entry")  # data, not its leaf hash
    assert rng.end == 0


def test_hashes_is_a_copy() -> None:
    rng = CompactRange()
    rng.append(leaf_hash(b"a"))
    rng.hashes.clear()
    assert rng.end == 1 and len(rng.hashes) == 1
