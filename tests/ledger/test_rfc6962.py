"""RFC 6962 hashing against the published values (transparency-dev/merkle rfc6962 tests)."""

from __future__ import annotations

import hashlib

from affidavit.ledger.rfc6962 import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash


def test_empty_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_empty_leaf() -> None:
    want = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert leaf_hash(b"").hex() == want


def test_leaf() -> None:
    want = "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert leaf_hash(b"L123456").hex() == want


def test_node() -> None:
    want = "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    assert node_hash(b"N123", b"N456").hex() == want


def test_domain_separation() -> None:
    # A leaf whose data looks like two child hashes must not hash like the node above them.
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert leaf_hash(left + right) != node_hash(left, right)
    assert node_hash(left, right) != node_hash(right, left)
    assert len(leaf_hash(b"x")) == HASH_SIZE == hashlib.sha256().digest_size
