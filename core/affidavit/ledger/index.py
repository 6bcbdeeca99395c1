"""Index keys derived from an entry: the only thing any backend's indexes may hold.

A key is ``<namespace>:<value>``. Queries look a key up, read the entries from the log and call
:func:`keys` again on what they read: an index row whose entry does not produce its key is a
contradiction, reported as an integrity failure instead of being believed.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["keys", "flow_key", "trail_key", "fingerprint_key", "commit_key", "type_key"]


def flow_key(flow: str) -> str:
    """A flow's own entries (its creation and changes); its trails are under ``trail_key``."""
    return f"flow:{flow}"


def trail_key(flow: str, trail: str) -> str:
    """Entries of one trail."""
    return f"trail:{flow}/{trail}"


def fingerprint_key(fingerprint: str) -> str:
    """Artifacts reported, and attestations bound, by this SHA-256."""
    return f"fp:{fingerprint}"


def type_key(name: str) -> str:
    """Versions of a custom attestation type."""
    return f"type:{name}"


def commit_key(sha: str) -> str:
    """Records that name this git commit."""
    return f"commit:{sha}"


def keys(entry: dict[str, Any]) -> list[str]:
    """Every index key under which ``entry`` (a decoded log entry) is filed."""
    record = entry.get("record", {})
    kind = entry.get("kind")
    out: list[str] = []
    if kind == "flow":
        out.append(flow_key(record["name"]))
    elif kind == "attestation_type":
        out.append(type_key(record["name"]))
    elif kind in ("trail", "artifact", "attestation"):
        flow = record["flow"]
        trail = record["name"] if kind == "trail" else record["trail"]
        out.append(trail_key(flow, trail))
        fingerprint = record.get("fingerprint") or record.get("target", {}).get("fingerprint")
        if fingerprint:
            out.append(fingerprint_key(fingerprint))
        commit = record.get("commit")
        if commit:
            out.append(commit_key(commit["sha"]))
    return out
