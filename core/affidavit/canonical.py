"""Canonical JSON: the exact bytes that are hashed and signed.

Sorted keys, no insignificant whitespace, UTF-8 (not ASCII escapes), no NaN/Infinity. Two parties
that agree on a value agree on these bytes, which is what makes a leaf hash reproducible.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["dumps", "loads"]

_encoder = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)


def dumps(value: Any) -> bytes:
    """Encode ``value`` as canonical JSON bytes."""
    return _encoder.encode(value).encode("utf-8")


def loads(data: bytes | str) -> Any:
    """Decode JSON; the inverse of :func:`dumps` for values it produced."""
    return json.loads(data)
