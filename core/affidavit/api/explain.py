"""``get trail --explain``: for every template slot, the entry that filled it, or why none did.

Kosli users cannot tell why a trail stays INCOMPLETE; here each missing slot names the nearest
miss: a report under another type, bound to the trail instead of the artifact (or the other way
round), bound by name to another commit, or made in another trail of the flow.
"""

from __future__ import annotations

from affidavit.api import query
from affidavit.ledger import index

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.ledger.base import Ledger
    from affidavit.verify.proven import Proven

    Record = dict[str, Any]

__all__ = ["explain_trail", "explained_state", "slot_reasons"]


def _why_missing(slot: Record, reports: list[Record], commits: dict[str, set[str]],
                 elsewhere: list[str]) -> str:
    same_name = [r for r in reports if r["name"] == slot["name"]]
    fingerprint = slot["fingerprint"]
    for report in reversed(same_name):
        target = report["target"]
        bound_fp = target.get("fingerprint")
        if slot["type"] not in ("*", report["type"]) and (
                bound_fp == fingerprint or (fingerprint is None and target["kind"] == "trail")):
            return (f"entry {report['entry']} is named {slot['name']!r} but has type "
                    f"{report['type']!r}, the template wants {slot['type']!r}")
        if fingerprint is not None and target["kind"] == "trail":
            return (f"entry {report['entry']} is bound to the trail, not to this artifact "
                    "(use --fingerprint or --name ARTIFACT.ATTESTATION with --commit)")
        if fingerprint is None and target["kind"] == "artifact":
            return f"entry {report['entry']} is bound to an artifact, not to the trail"
        if fingerprint is not None and target.get("artifact"):
            reported = sorted(commits.get(fingerprint, set()))
            if target.get("commit") not in reported:
                return (f"entry {report['entry']} is bound to artifact {target['artifact']!r} "
                        f"of commit {target['commit'][:12]}, but this artifact was reported "
                        f"for commit {', '.join(c[:12] for c in reported) or 'none'}")
        if fingerprint is not None and bound_fp and bound_fp != fingerprint:
            return f"entry {report['entry']} is bound to another artifact ({bound_fp[:12]})"
    if elsewhere:
        return f"reported in other trails of the flow only: {', '.join(elsewhere)}"
    return f"nothing named {slot['name']!r} was reported"


def explain_trail(source: Ledger | Proven, flow: str, trail: str) -> list[Record]:
    """One row per template slot: target, name, type, state, entry, and ``why``."""
    rows: list[Record] = explained_state(source, flow, trail)["explain"]
    return rows


def explained_state(source: Ledger | Proven, flow: str, trail: str) -> Record:
    """``query.trail_state`` with the ``explain`` rows beside it, both read at one checkpoint."""
    from affidavit.verify.proven import proven

    with proven(source) as view:
        state = query.trail_state(view, flow, trail)
        rows = slot_reasons(view, flow, state)
    return {**state, "explain": rows}


def slot_reasons(view: Proven, flow: str, state: Record) -> list[Record]:
    """The ``explain`` rows of ``state`` (``query.trail_state``'s, read from ``view``). The
    flow's other trails are read only when a slot is missing: only then can a report made in
    another trail be the nearest miss."""
    others: list[str] | None = None
    reports = state["attestations"]
    commits: dict[str, set[str]] = {}
    for artifact in state["artifacts"]:
        sha = (artifact.get("commit") or {}).get("sha")
        if sha:
            commits.setdefault(artifact["fingerprint"], set()).add(sha)
    rows = []
    for slot in state["verdict"]["slots"]:
        row = {k: slot[k] for k in ("target", "name", "type", "state", "compliant", "entry")}
        if slot["state"] == "COMPLETE":
            row["why"] = f"filled by entry {slot['entry']}"
        elif slot["type"] == "artifact":
            row["why"] = f"no artifact was reported as {slot['name']!r} in this trail"
        else:
            if others is None:
                others = [name for name in query.trail_names(view, flow)
                          if name != state["name"]]
            elsewhere = [other for other in others if any(
                e["kind"] == "attestation" and e["record"]["name"] == slot["name"]
                for _, e in view.under(index.trail_key(flow, other)))]
            row["why"] = _why_missing(slot, reports, commits, elsewhere)
        rows.append(row)
    return rows
