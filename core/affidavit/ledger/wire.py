"""The ledger protocol's answers as JSON, the one encoding the server writes and the HTTP
backend reads.

Hashes and entries are standard base64 (as in C2SP checkpoints), so an answer is plain JSON a
``curl`` user can read; decoding is strict, because the client believes nothing the server
says until it has checked it, and a malformed answer must be an integrity error naming the
field, not a ``KeyError`` somewhere inside a verifier.
"""

from __future__ import annotations

import base64
import binascii
import bisect

from affidavit.errors import IntegrityError
from affidavit.ledger import KeyedRead
from affidavit.ledger.keymap import MapProof

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Sequence
    from typing import Any

__all__ = ["b64", "unb64", "proof_json", "proof_from", "paths_json", "paths_from",
           "keyed_json", "keyed_from", "count", "hashes", "Malformed", "runs_json", "Runs"]


class Malformed(IntegrityError):
    """An answer of the wrong shape: the server (or what stands between) is not believed."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise Malformed(f"{field} is not base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed(f"{field} is not base64") from None


def count(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Malformed(f"{field} is not a whole number >= 0")
    return value


def hashes(value: Any, field: str) -> list[bytes]:
    if not isinstance(value, list):
        raise Malformed(f"{field} is not a list")
    return [unb64(item, f"{field}[{i}]") for i, item in enumerate(value)]


def proof_json(found: MapProof) -> dict[str, Any]:
    other = None
    if found.other is not None:
        digest, many, last = found.other
        other = {"key_hash": b64(digest), "count": many, "last": last}
    return {"key": found.key, "count": found.count, "last": found.last,
            "siblings": [b64(s) for s in found.siblings], "other": other}


def proof_from(value: Any, field: str) -> MapProof:
    if not isinstance(value, dict) or not isinstance(value.get("key"), str):
        raise Malformed(f"{field} is not a key map proof")
    last = value.get("last")
    other = value.get("other")
    parsed_other = None
    if other is not None:
        if not isinstance(other, dict):
            raise Malformed(f"{field}.other is not an object")
        parsed_other = (unb64(other.get("key_hash"), f"{field}.other.key_hash"),
                        count(other.get("count"), f"{field}.other.count"),
                        count(other.get("last"), f"{field}.other.last"))
    return MapProof(value["key"], count(value.get("count"), f"{field}.count"),
                    None if last is None else count(last, f"{field}.last"),
                    hashes(value.get("siblings"), f"{field}.siblings"), parsed_other)


def paths_json(paths: dict[int, list[bytes]]) -> dict[str, str]:
    """Audit paths by entry index, as JSON (object keys are text), each path one base64
    string of its 32-byte hashes, bottom up: a batch of a hundred proofs is some two
    thousand hashes, and one string per path is a twentieth of the strings to encode, send
    and decode."""
    return {str(i): b64(b"".join(path)) for i, path in paths.items()}


def paths_from(value: Any, field: str) -> dict[int, list[bytes]]:
    """The audit paths of :func:`paths_json`'s answer."""
    if not isinstance(value, dict):
        raise Malformed(f"{field} is not an object")
    out = {}
    for key, text in value.items():
        raw = unb64(text, f"{field}[{key}]")
        if len(raw) % 32:
            raise Malformed(f"{field}[{key}] is not a whole number of 32-byte hashes")
        out[_position(key, field)] = [raw[i:i + 32] for i in range(0, len(raw), 32)]
    return out


def keyed_json(read: KeyedRead, checkpoint: str | None) -> dict[str, Any]:
    """A :class:`KeyedRead`, with the checkpoint of the state it was read at."""
    return {
        "size": read.size,
        "checkpoint": checkpoint,
        "positions": read.positions,
        "proofs": {key: proof_json(p) for key, p in read.proofs.items()},
        "entries": {str(i): b64(data) for i, data in read.entries.items()},
        "inclusion": paths_json(read.inclusion),
    }


def _position(text: str, field: str) -> int:
    if not text.isdigit():
        raise Malformed(f"{field} has a key {text!r} that is not an entry index")
    return int(text)


def keyed_from(value: Any) -> tuple[KeyedRead, str | None]:
    """The :class:`KeyedRead` and checkpoint of :func:`keyed_json`'s answer."""
    if not isinstance(value, dict):
        raise Malformed("the keyed read is not an object")
    positions = value.get("positions")
    proofs = value.get("proofs")
    entries = value.get("entries")
    inclusion = value.get("inclusion")
    if not all(isinstance(part, dict) for part in (positions, proofs, entries, inclusion)):
        raise Malformed("the keyed read lacks positions, proofs, entries or inclusion")
    assert isinstance(positions, dict) and isinstance(proofs, dict)
    assert isinstance(entries, dict) and isinstance(inclusion, dict)
    checkpoint = value.get("checkpoint")
    if checkpoint is not None and not isinstance(checkpoint, str):
        raise Malformed("the keyed read's checkpoint is not text")
    read = KeyedRead(
        size=count(value.get("size"), "size"),
        positions={str(k): [count(p, f"positions[{k!r}]") for p in v]
                   if isinstance(v, list) else _not_list(f"positions[{k!r}]")
                   for k, v in positions.items()},
        proofs={str(k): proof_from(v, f"proofs[{k!r}]") for k, v in proofs.items()},
        entries={_position(k, "entries"): unb64(v, f"entries[{k}]") for k, v in entries.items()},
        inclusion=paths_from(inclusion, "inclusion"))
    return read, checkpoint


def _not_list(field: str) -> list[int]:
    raise Malformed(f"{field} is not a list")


def runs_json(positions: Collection[int], most: int) -> list[list[int]]:
    """``positions`` as ``[first, end)`` runs, the longest ``most`` of them: a reader holding
    the entries of a few trails names them in a few pairs, and one holding scattered
    thousands names the runs that save the most (the rest come again, which costs only
    bytes)."""
    runs: list[list[int]] = []
    for p in sorted(positions):
        if runs and runs[-1][1] == p:
            runs[-1][1] = p + 1
        else:
            runs.append([p, p + 1])
    if len(runs) > most:
        runs = sorted(sorted(runs, key=lambda run: run[0] - run[1])[:most])
    return runs


class Runs:
    """The positions of ``[first, end)`` runs, asked by bisection: a reader's ``held`` as the
    server takes it, as many positions as the runs say without one set entry each (a run
    may be as long as the log). Overlapping runs are merged."""

    __slots__ = ("_firsts", "_ends")

    def __init__(self, runs: Sequence[Sequence[int]]) -> None:
        merged: list[list[int]] = []
        for first, end in sorted((first, end) for first, end in runs if first < end):
            if merged and first <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([first, end])
        self._firsts = [first for first, _ in merged]
        self._ends = [end for _, end in merged]

    def __contains__(self, position: object) -> bool:
        if not isinstance(position, int):
            return False
        at = bisect.bisect_right(self._firsts, position) - 1
        return at >= 0 and position < self._ends[at]

    def __bool__(self) -> bool:
        return bool(self._firsts)

    def __len__(self) -> int:
        return sum(end - first for first, end in zip(self._firsts, self._ends, strict=True))

    def __iter__(self) -> Iterator[int]:
        for first, end in zip(self._firsts, self._ends, strict=True):
            yield from range(first, end)
