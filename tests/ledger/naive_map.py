"""A naive key map: DESIGN §3.1's definitions written out directly, over a dict of items.

Independent of ``affidavit.ledger.keymap`` on purpose (hashlib only, no shared helpers), so the
library is checked against a second reading of the text. Recursive and slow: clarity first.
"""

from __future__ import annotations

import hashlib

__all__ = ["EMPTY", "root", "prove"]

EMPTY = b"\x00" * 32

Items = dict[str, tuple[int, int]]


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(key: str) -> bytes:
    return _h(key.encode("utf-8"))


def _bit(k: bytes, i: int) -> int:
    return (k[i // 8] >> (7 - i % 8)) & 1


def _leaf(k: bytes, count: int, last: int) -> bytes:
    return _h(b"\x02" + k + count.to_bytes(8, "big") + last.to_bytes(8, "big"))


def _subtree(items: list[tuple[bytes, int, int]], depth: int) -> bytes:
    if not items:
        return EMPTY
    if len(items) == 1:
        return _leaf(*items[0])
    left = [item for item in items if _bit(item[0], depth) == 0]
    right = [item for item in items if _bit(item[0], depth) == 1]
    return _h(b"\x03" + _subtree(left, depth + 1) + _subtree(right, depth + 1))


def _hashed(items: Items) -> list[tuple[bytes, int, int]]:
    return [(_k(key), count, last) for key, (count, last) in items.items()]


def root(items: Items) -> bytes:
    """The map root of ``items`` (key -> (count, last))."""
    return _subtree(_hashed(items), 0)


def prove(items: Items, key: str) -> tuple[list[bytes], tuple[bytes, int, int] | None]:
    """The siblings (deepest first) of ``key``'s walk, and the leaf it ends at (None: EMPTY)."""
    k = _k(key)
    here = _hashed(items)
    siblings: list[bytes] = []
    depth = 0
    while len(here) > 1:
        mine = [item for item in here if _bit(item[0], depth) == _bit(k, depth)]
        other = [item for item in here if _bit(item[0], depth) != _bit(k, depth)]
        siblings.append(_subtree(other, depth + 1))
        here, depth = mine, depth + 1
    return siblings[::-1], (here[0] if here else None)
