"""A naive RFC 6962 Merkle tree: the spec's recursive definitions, written out directly.

RFC 6962 §2.1 (MTH), §2.1.1 (PATH) and §2.1.2 (PROOF/SUBPROOF), over the entries themselves, with
hashlib only, so that the library under test is checked against an independent reading of the
spec. Quadratic and slow on purpose: clarity over speed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = ["mth", "path", "proof"]


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (precondition: ``n > 1``)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(entries: Sequence[bytes]) -> bytes:
    """MTH(D[n]): the Merkle tree hash of the entries."""
    n = len(entries)
    if n == 0:
        return _sha256(b"")
    if n == 1:
        return _sha256(b"\x00" + entries[0])
    k = _split(n)
    return _sha256(b"\x01" + mth(entries[:k]) + mth(entries[k:]))


def path(m: int, entries: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the audit path of entry ``m`` (precondition: ``0 <= m < n``)."""
    n = len(entries)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return path(m, entries[:k]) + [mth(entries[k:])]
    return path(m - k, entries[k:]) + [mth(entries[:k])]


def proof(m: int, entries: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]): the consistency proof from the first ``m`` entries (``0 < m <= n``)."""
    return _subproof(m, entries, True)


def _subproof(m: int, entries: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(entries)
    if m == n:
        return [] if whole else [mth(entries)]
    k = _split(n)
    if m <= k:
        return _subproof(m, entries[:k], whole) + [mth(entries[k:])]
    return _subproof(m - k, entries[k:], False) + [mth(entries[:k])]
