"""RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256.

Leaves and interior nodes are hashed with different one-byte prefixes (0x00 and 0x01) so that a
leaf can never be passed off as an interior node (second-preimage resistance, RFC 9162 §2.1.1).
Every other ledger module builds on these three definitions and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence

from affidavit.digest import sha256

__all__ = ["HASH_SIZE", "EMPTY_ROOT", "fold", "leaf_hash", "leaf_hashes", "node_hash",
           "use_openssl"]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT = sha256(b"").digest()
"""The root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1, ``MTH({})``)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

# Starts as the built-in SHA-256 (cheap to import); bulk work switches it to OpenSSL's, which
# is three times faster per small input once loaded. Both give identical digests.
_sha256 = sha256


def use_openssl() -> None:
    """Hash with OpenSSL from now on in this process (worth it for bulk appends and audits)."""
    global _sha256
    import hashlib

    _sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """Hash one entry as a leaf: ``SHA-256(0x00 || data)``."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two children into their parent: ``SHA-256(0x01 || left || right)``.

    The caller passes hashes of adjacent subtrees, ``left`` covering the leaves just before those
    of ``right``; the function itself does not check lengths, so that verification code can hash
    whatever a (possibly malformed) proof contains and fail on the root comparison.
    """
    return _sha256(_NODE_PREFIX + left + right).digest()


def fold(row: list[bytes]) -> bytes:
    """The root of the perfect subtree whose ``2**k`` nodes of one level are ``row``, left to
    right: ``node_hash`` level by level, inlined (a store folds thousands per proof batch)."""
    digest, prefix = _sha256, _NODE_PREFIX
    while len(row) > 1:
        row = [digest(prefix + row[i] + row[i + 1]).digest() for i in range(0, len(row), 2)]
    return row[0]


def leaf_hashes(entries: Sequence[bytes]) -> list[bytes]:
    """``leaf_hash`` of each entry; a large batch switches hashing to OpenSSL first."""
    if len(entries) >= 64:
        use_openssl()
    digest = _sha256
    return [digest(_LEAF_PREFIX + data).digest() for data in entries]
