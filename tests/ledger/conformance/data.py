"""The entries the conformance suite appends, each with the index keys it must be filed under,
written out by hand from ``docs/ledger.md``'s table (not computed by ``ledger.index``)."""

from __future__ import annotations

from typing import Any

from affidavit import canonical

T = "2026-01-01T00:00:00Z"
FP1, FP2 = "ab" * 32, "cd" * 32
SHA = "12" * 20


def _entry(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    return {"v": 1, "kind": kind, "time": T, "record": record}


#: (decoded entry, the keys it is filed under)
ITEMS: list[tuple[dict[str, Any], list[str]]] = [
    (_entry("flow", {"name": "demo"}), ["flow:demo", "flowdef:demo", "kind:flow"]),
    (_entry("trail", {"flow": "demo", "name": "t1"}),
     ["flow:demo", "trail:demo/t1", "trails:demo"]),
    (_entry("artifact", {"flow": "demo", "trail": "t1", "fingerprint": FP1,
                         "commit": {"sha": SHA}}),
     ["flow:demo", "trail:demo/t1", f"artifact:{FP1}", f"commit:{SHA}"]),
    (_entry("note", {"n": 1}), []),
    (_entry("attestation", {"flow": "demo", "trail": "t1", "target": {"fingerprint": FP1}}),
     ["flow:demo", "trail:demo/t1", f"artifact:{FP1}"]),
    (_entry("trail", {"flow": "demo", "name": "t2"}),
     ["flow:demo", "trail:demo/t2", "trails:demo"]),
    (_entry("flow", {"name": "other"}), ["flow:other", "flowdef:other", "kind:flow"]),
    (_entry("attestation", {"flow": "demo", "trail": "t2"}), ["flow:demo", "trail:demo/t2"]),
    (_entry("artifact", {"flow": "other", "trail": "x", "fingerprint": FP2}),
     ["flow:other", "trail:other/x", f"artifact:{FP2}"]),
    (_entry("note", {"n": 2}), []),
    (_entry("flow", {"name": "dém✓"}), ["flow:dém✓", "flowdef:dém✓", "kind:flow"]),
    (_entry("attestation", {"flow": "demo", "trail": "t1"}), ["flow:demo", "trail:demo/t1"]),
    (_entry("note", {"n": 3}), []),
]

#: Batches the items are appended in: sizes 0 -> 1 -> 4 -> 9 -> 13.
BATCHES = [(0, 1), (1, 4), (4, 9), (9, 13)]

ENTRIES = [canonical.dumps(entry) for entry, _ in ITEMS]


def items_at(size: int) -> dict[str, tuple[int, int]]:
    """The key map's items ``key -> (count, last)`` at tree size ``size``."""
    out: dict[str, tuple[int, int]] = {}
    for position, (_, keys) in enumerate(ITEMS[:size]):
        for key in keys:
            count, _ = out.get(key, (0, 0))
            out[key] = (count + 1, position)
    return out


def rows() -> list[tuple[str, int]]:
    """Every index row ``(key, entry)``."""
    return [(key, position) for position, (_, keys) in enumerate(ITEMS) for key in keys]


def note(n: int) -> bytes:
    """A keyless entry, distinct for each ``n``."""
    return canonical.dumps(_entry("note", {"n": 1000 + n}))
