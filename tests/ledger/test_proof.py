"""Inclusion and consistency proofs: published vectors, the naive tree, and tampering.

Proofs are built the way a store builds them: ``*_nodes(...)`` names perfect subtrees, the test
"store" (a dict filled by ``CompactRange.append``'s ``visit``) returns their hashes, and
``Nodes.rehash`` turns them into the proof.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from affidavit.errors import InputError, IntegrityError, RootMismatch
from affidavit.ledger import proof
from affidavit.ledger.compact import CompactRange
from affidavit.ledger.rfc6962 import EMPTY_ROOT, leaf_hash
from tests.ledger import naive_tree

MAX_SIZE = 300
ENTRIES = [b"entry %d" % i for i in range(MAX_SIZE)]


def _build_store(entries: Sequence[bytes]) -> dict[tuple[int, int], bytes]:
    store: dict[tuple[int, int], bytes] = {}

    def visit(level: int, index: int, digest: bytes) -> None:
        assert (level, index) not in store, "a node was written twice"
        store[(level, index)] = digest

    rng = CompactRange()
    for entry in entries:
        rng.append(leaf_hash(entry), visit)
    return store


STORE = _build_store(ENTRIES)


def _fetch(ids: Sequence[tuple[int, int]], size: int) -> list[bytes]:
    """What a store of ``size`` leaves returns: only nodes complete within ``[0, size)``."""
    assert len(set(ids)) == len(ids), "a node is fetched twice"
    for level, index in ids:
        assert (index + 1) << level <= size, f"node {(level, index)} is not complete at {size}"
    return [STORE[node] for node in ids]


def _root(size: int) -> bytes:
    return proof.root_from(_fetch(proof.root_nodes(size), size))


def _inclusion(index: int, size: int) -> list[bytes]:
    nodes = proof.inclusion_nodes(index, size)
    return nodes.rehash(_fetch(nodes.ids, size))


def _consistency(size1: int, size2: int) -> list[bytes]:
    nodes = proof.consistency_nodes(size1, size2)
    return nodes.rehash(_fetch(nodes.ids, size2))


def _flip(data: bytes, byte: int, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[byte % len(out)] ^= 1 << bit
    return bytes(out)


# --- against the naive tree ---------------------------------------------------------------


def test_root_matches_naive_for_every_size() -> None:
    assert _root(0) == EMPTY_ROOT == naive_tree.mth([])
    for size in range(1, MAX_SIZE + 1):
        assert _root(size) == naive_tree.mth(ENTRIES[:size]), size


def test_every_small_proof_matches_naive() -> None:
    for size2 in range(1, 41):
        root2 = naive_tree.mth(ENTRIES[:size2])
        for index in range(size2):
            got = _inclusion(index, size2)
            assert got == naive_tree.path(index, ENTRIES[:size2]), (index, size2)
            proof.verify_inclusion(leaf_hash(ENTRIES[index]), index, size2, got, root2)
        for size1 in range(1, size2 + 1):
            got = _consistency(size1, size2)
            assert got == naive_tree.proof(size1, ENTRIES[:size2]), (size1, size2)
            proof.verify_consistency(size1, size2, got, _root(size1), root2)


def test_a_batch_of_proofs_is_each_proof_alone() -> None:
    """``InclusionBatch`` plans the shared tops of many paths once; every proof it makes is
    the naive tree's path, for every leaf of every size up to 80 and for scattered sets of
    larger trees, and each node is fetched once."""
    for size in range(1, 81):
        batch = proof.InclusionBatch(list(range(size)) * 2, size)
        got = batch.rehash(dict(zip(batch.ids, _fetch(batch.ids, size), strict=True)))
        assert got == {i: naive_tree.path(i, ENTRIES[:size]) for i in range(size)}, size
    for size in (81, 128, 129, 255, 256, 257, 299, 300):
        for positions in ([0, size - 1], list(range(0, size, 7)), [size // 2, size - 2]):
            batch = proof.InclusionBatch(positions, size)
            got = batch.rehash(dict(zip(batch.ids, _fetch(batch.ids, size), strict=True)))
            assert got == {i: _inclusion(i, size) for i in positions}, (size, positions)


def test_a_batch_refuses_a_leaf_outside_the_tree_and_a_missing_hash() -> None:
    with pytest.raises(InputError):
        proof.InclusionBatch([3, 10], 10)
    batch = proof.InclusionBatch([0, 5], 10)
    hashes = dict(zip(batch.ids, _fetch(batch.ids, 10), strict=True))
    del hashes[batch.ids[-1]]
    with pytest.raises(IntegrityError):
        batch.rehash(hashes)


@st.composite
def _sizes(draw: st.DrawFn) -> tuple[int, int]:
    """(smaller, larger) with ``1 <= smaller <= larger <= MAX_SIZE``."""
    larger = draw(st.integers(1, MAX_SIZE))
    return draw(st.integers(1, larger)), larger


@settings(max_examples=200, deadline=None)
@given(sizes=_sizes(), byte=st.integers(0, 31), bit=st.integers(0, 7))
def test_inclusion_proof_property(sizes: tuple[int, int], byte: int, bit: int) -> None:
    index, size = sizes[0] - 1, sizes[1]
    leaf, root = leaf_hash(ENTRIES[index]), naive_tree.mth(ENTRIES[:size])
    got = _inclusion(index, size)
    assert got == naive_tree.path(index, ENTRIES[:size])
    assert proof.root_from_inclusion_proof(leaf, index, size, got) == root
    proof.verify_inclusion(leaf, index, size, got, root)

    with pytest.raises(RootMismatch):
        proof.verify_inclusion(_flip(leaf, byte, bit), index, size, got, root)
    with pytest.raises(RootMismatch):
        proof.verify_inclusion(leaf, index, size, got, _flip(root, byte, bit))
    for i in range(len(got)):
        tampered = [*got[:i], _flip(got[i], byte, bit), *got[i + 1 :]]
        with pytest.raises(RootMismatch):
            proof.verify_inclusion(leaf, index, size, tampered, root)


@settings(max_examples=200, deadline=None)
@given(sizes=_sizes(), byte=st.integers(0, 31), bit=st.integers(0, 7))
def test_consistency_proof_property(sizes: tuple[int, int], byte: int, bit: int) -> None:
    size1, size2 = sizes
    root1, root2 = naive_tree.mth(ENTRIES[:size1]), naive_tree.mth(ENTRIES[:size2])
    got = _consistency(size1, size2)
    assert got == naive_tree.proof(size1, ENTRIES[:size2])
    proof.verify_consistency(size1, size2, got, root1, root2)

    with pytest.raises(RootMismatch):
        proof.verify_consistency(size1, size2, got, _flip(root1, byte, bit), root2)
    with pytest.raises(RootMismatch):
        proof.verify_consistency(size1, size2, got, root1, _flip(root2, byte, bit))
    for i in range(len(got)):
        tampered = [*got[:i], _flip(got[i], byte, bit), *got[i + 1 :]]
        with pytest.raises(RootMismatch):
            proof.verify_consistency(size1, size2, tampered, root1, root2)


@settings(max_examples=200, deadline=None)
@given(
    index=st.integers(0, 2**62),
    extra=st.integers(1, 2**62),
    size1=st.integers(1, 2**62),
)
def test_reads_are_logarithmic(index: int, extra: int, size1: int) -> None:
    size, size2 = index + extra, size1 + extra
    cases = [
        (proof.inclusion_nodes(index, size), size),
        (proof.consistency_nodes(size1, size2), size2),
    ]
    for nodes, tree_size in cases:
        assert len(nodes.ids) <= 2 * tree_size.bit_length() + 1
        assert len(set(nodes.ids)) == len(nodes.ids)
        assert all((i + 1) << level <= tree_size for level, i in nodes.ids)
        assert 0 <= nodes.begin <= nodes.end <= len(nodes.ids)


# --- malformed input ----------------------------------------------------------------------


def test_inclusion_rejects_malformed_proofs() -> None:
    leaf, root = leaf_hash(ENTRIES[3]), _root(8)
    good = _inclusion(3, 8)
    for index, size, bad in [
        (8, 8, good),  # index == size
        (9, 8, good),
        (-1, 8, good),
        (0, 0, []),
        (3, 8, good[:-1]),
        (3, 8, [*good, good[0]]),
        (3, 8, [good[0][:31], *good[1:]]),
    ]:
        with pytest.raises(IntegrityError):
            proof.verify_inclusion(leaf, index, size, bad, root)
    with pytest.raises(IntegrityError):
        proof.verify_inclusion(leaf[:31], 3, 8, good, root)


def test_consistency_rejects_malformed_proofs() -> None:
    good = _consistency(3, 7)
    root3, root7 = _root(3), _root(7)
    with pytest.raises(IntegrityError):
        proof.verify_consistency(7, 3, good, root7, root3)  # size1 > size2
    with pytest.raises(IntegrityError):
        proof.verify_consistency(3, 7, good[:-1], root3, root7)
    with pytest.raises(IntegrityError):
        proof.verify_consistency(3, 7, [*good, good[0]], root3, root7)
    with pytest.raises(IntegrityError):
        proof.verify_consistency(3, 7, [], root3, root7)
    with pytest.raises(IntegrityError):
        proof.verify_consistency(7, 7, good, root7, root7)  # equal sizes need an empty proof
    with pytest.raises(IntegrityError):
        proof.verify_consistency(3, 7, [good[0][:31], *good[1:]], root3, root7)
    proof.verify_consistency(7, 7, [], root7, root7)


def test_consistency_from_the_empty_tree_is_rejected() -> None:
    # RFC 9162 §2.1.4 defines consistency proofs only for 0 < size1 <= size2, and the reference
    # library rejects size1 == 0 outright, even 0 -> 0 with equal roots and an empty proof.
    # We follow that reading: such a proof shows nothing.
    with pytest.raises(IntegrityError):
        proof.verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(IntegrityError):
        proof.verify_consistency(0, 5, [], EMPTY_ROOT, _root(5))
    with pytest.raises(InputError):
        proof.consistency_nodes(0, 5)


def test_node_preconditions() -> None:
    for index, size in [(0, 0), (5, 5), (-1, 3)]:
        with pytest.raises(InputError):
            proof.inclusion_nodes(index, size)
    for size1, size2 in [(0, 0), (4, 3), (-1, 2)]:
        with pytest.raises(InputError):
            proof.consistency_nodes(size1, size2)
    with pytest.raises(InputError):
        proof.root_nodes(-1)
    assert proof.root_nodes(0) == []
    assert proof.root_nodes(13) == [(3, 0), (2, 2), (0, 12)]
    assert proof.consistency_nodes(5, 5).ids == ()


def test_rehash_wants_one_hash_per_node() -> None:
    nodes = proof.inclusion_nodes(0, 7)
    hashes = _fetch(nodes.ids, 7)
    with pytest.raises(IntegrityError):
        nodes.rehash(hashes[:-1])


# --- published vectors (transparency-dev/merkle testdata) ---------------------------------

VECTORS = os.environ.get("AFFIDAVIT_VECTORS")
SKIP_REASON = "AFFIDAVIT_VECTORS is not set (point it at the shared vectors folder)"
# The RFC 6962 reference test leaves behind the vectors' happy paths.
RFC6962_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]


def _vector_files(kind: str) -> list[Any]:
    if not VECTORS:
        return [pytest.param(None, id=f"{kind}-unset", marks=pytest.mark.skip(reason=SKIP_REASON))]
    base = Path(VECTORS) / "rfc6962-proofs" / kind
    return [pytest.param(f, id=str(f.relative_to(base))) for f in sorted(base.rglob("*.json"))]


def _load(path: Path) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads(path.read_text())
    for key in ("root", "root1", "root2", "leafHash"):
        if key in vector:
            vector[key] = base64.b64decode(vector[key])
    vector["proof"] = [base64.b64decode(h) for h in vector["proof"] or []]
    return vector


@pytest.mark.skipif(not VECTORS, reason=SKIP_REASON)
def test_vectors_are_found() -> None:
    assert VECTORS is not None
    base = Path(VECTORS) / "rfc6962-proofs"
    assert len(list((base / "inclusion").rglob("*.json"))) > 50
    assert len(list((base / "consistency").rglob("*.json"))) > 50


@pytest.mark.parametrize("path", _vector_files("inclusion"))
def test_inclusion_vector(path: Path) -> None:
    v = _load(path)
    args = (v["leafHash"], v["leafIdx"], v["treeSize"], v["proof"], v["root"])
    if v["wantErr"]:
        with pytest.raises(IntegrityError):
            proof.verify_inclusion(*args)
        return
    proof.verify_inclusion(*args)
    if v["root"] == naive_tree.mth(RFC6962_LEAVES[: v["treeSize"]]):
        leaves = RFC6962_LEAVES[: v["treeSize"]]
        assert naive_tree.path(v["leafIdx"], leaves) == v["proof"]


@pytest.mark.parametrize("path", _vector_files("consistency"))
def test_consistency_vector(path: Path) -> None:
    # Every vector with size1 == 0 expects an error: we follow the reference library and
    # RFC 9162, which define consistency proofs only for 0 < size1 <= size2.
    v = _load(path)
    args = (v["size1"], v["size2"], v["proof"], v["root1"], v["root2"])
    if v["wantErr"]:
        with pytest.raises(IntegrityError):
            proof.verify_consistency(*args)
        return
    assert v["size1"] > 0
    proof.verify_consistency(*args)


def test_happy_path_vectors_match_generated_proofs() -> None:
    if not VECTORS:
        pytest.skip(SKIP_REASON)
    base = Path(VECTORS) / "rfc6962-proofs"
    store = _build_store(RFC6962_LEAVES)
    checked = 0
    paths = [*base.glob("inclusion/*/happy-path.json"), *base.glob("consistency/*/happy-path.json")]
    for path in sorted(paths):
        v = _load(path)
        if "leafIdx" in v:
            nodes = proof.inclusion_nodes(v["leafIdx"], v["treeSize"])
        else:
            nodes = proof.consistency_nodes(v["size1"], v["size2"])
        assert nodes.rehash([store[n] for n in nodes.ids]) == v["proof"], path
        checked += 1
    assert checked == 10


# --- many leaves against one root, sharing what earlier proofs proved --------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 63, 64, 65, 200, MAX_SIZE])
def test_shared_checks_prove_every_leaf_and_refuse_every_false_one(size: int) -> None:
    """With the subtrees earlier checks proved shared, every honest leaf still passes (in any
    order), and a wrong leaf or a wrong sibling fails even once its path meets a proven
    subtree a few levels up."""
    root = naive_tree.mth(ENTRIES[:size])
    proven: dict[tuple[int, int], bytes] = {}
    order = list(range(size))[::-3] + list(range(size))  # repeats and arbitrary order
    for i in order:
        proof.verify_inclusion(leaf_hash(ENTRIES[i]), i, size, _inclusion(i, size), root, proven)
    assert proven or size == 1  # what was proven is kept (a tree of one has no path)
    for i in range(size):
        path = _inclusion(i, size)
        with pytest.raises(RootMismatch):
            proof.verify_inclusion(leaf_hash(b"forged"), i, size, path, root, proven)
        for k in range(len(path)):
            bad = path[:k] + [_flip(path[k], k)] + path[k + 1:]
            with pytest.raises(RootMismatch):
                proof.verify_inclusion(leaf_hash(ENTRIES[i]), i, size, bad, root, dict(proven))
        with pytest.raises(IntegrityError):
            proof.verify_inclusion(leaf_hash(ENTRIES[i]), i, size, path[:-1] if path else
                                   [b"\0" * 32], root, proven)


def test_shared_checks_start_from_nothing_like_single_ones() -> None:
    size = 100
    root = naive_tree.mth(ENTRIES[:size])
    for i in range(size):
        path = _inclusion(i, size)
        proof.verify_inclusion(leaf_hash(ENTRIES[i]), i, size, path, root, {})
        with pytest.raises(RootMismatch):
            proof.verify_inclusion(leaf_hash(ENTRIES[i]), i, size, path, _flip(root, 0), {})
