"""Read operations: every answer proven by the log (``verify.proven``), then folded.

Each function takes a ledger or an open :class:`~affidavit.verify.proven.Proven` view; given a
ledger it opens a view for the call, so one command reads one snapshot at one signed
checkpoint, and a doctored index, a rolled-back log or a record that disagrees with the judge
is an integrity failure (exit 3), never a different answer.
"""

from __future__ import annotations

from affidavit.compliance.verdict import (
    artifact_issues,
    artifact_verdict,
    judge_trail,
    latest_attestations,
    trail_verdict,
)
from affidavit.errors import NotFoundError, UsageError
from affidavit.ledger import index
from affidavit.verify.proven import Proven, proven

TYPE_CHECKING = False  # typing costs 3 ms to import; every gating read comes through here
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from affidavit.ledger.base import Ledger

    Record = dict[str, Any]

__all__ = [
    "flow_entries",
    "flow_facts",
    "flow_state",
    "trail_entries",
    "trail_state",
    "artifact_state",
    "attestation_state",
    "list_flows",
    "list_trails",
    "trail_names",
    "trail_log",
    "search",
    "log",
]



def _fold(records: list[Record], fields: tuple[str, ...]) -> Record:
    state: Record = {}
    for record in records:
        for field in fields:
            if field in record:
                state[field] = record[field]
    return state


def flow_tags(entries: Iterable[tuple[int, Record]]) -> dict[str, str]:
    """A flow's tags now, from its own entries in log order (those filed under its
    ``flowdef:`` key; others are passed over): each change sets the keys it names, or removes
    those it names with null."""
    tags: dict[str, str] = {}
    for _, entry in entries:
        if entry["kind"] != "flow":
            continue
        for key, value in (entry["record"].get("tags") or {}).items():
            if value is None:
                tags.pop(key, None)
            else:
                tags[key] = value
    return dict(sorted(tags.items()))


def flow_entries(source: Ledger | Proven, name: str) -> list[tuple[int, Record]]:
    """A flow's own entries (creation and changes), in log order; proven complete."""
    with proven(source) as view:
        entries = [(i, e) for i, e in view.under(index.flowdef_key(name)) if e["kind"] == "flow"]
    if not entries:
        raise NotFoundError(f"flow {name!r} does not exist")
    return entries


def trail_names(source: Ledger | Proven, flow: str) -> list[str]:
    """The trails of a flow, in the order they were begun; proven complete."""
    with proven(source) as view:
        names = {e["record"]["name"]: None for _, e in view.under(index.trails_key(flow))}
    return list(names)


def flow_facts(source: Ledger | Proven, name: str) -> Record:
    """A flow's current description, template and tags and when it was created, from its own
    entries alone (``flowdef:<flow>``): :func:`flow_state` without the list of its trails,
    which reads every trail's begin and change entries."""
    entries = flow_entries(source, name)
    state = _fold([e["record"] for _, e in entries], ("description", "template"))
    template_entry = max((i for i, e in entries if "template" in e["record"]), default=None)
    return {
        "name": name,
        "description": state.get("description"),
        "template": state.get("template"),
        "template_entry": template_entry,
        "tags": flow_tags(entries),
        "created_at": entries[0][1]["time"],
        "updated_at": entries[-1][1]["time"],
        "entries": [i for i, _ in entries],
    }


def flow_state(source: Ledger | Proven, name: str) -> Record:
    """A flow's current description, template and tags, when it was created and its
    trails."""
    with proven(source) as view:
        return {**flow_facts(view, name), "trails": trail_names(view, name)}


def trail_entries(source: Ledger | Proven, flow: str, name: str) -> list[tuple[int, Record]]:
    """Everything filed under the trail, proven complete; NotFound when it was never begun."""
    with proven(source) as view:
        entries = view.under(index.trail_key(flow, name))
    if not entries:
        raise NotFoundError(f"trail {name!r} does not exist in flow {flow!r}")
    return entries


def trail_state(source: Ledger | Proven, flow: str, name: str,
                extra: list[tuple[int, Record]] | None = None) -> Record:
    """Everything reported to a trail, and its verdict; ``extra`` entries (not in the log)
    are counted as if appended, which is how a dry run shows the verdict it would cause."""
    reads = [index.flowdef_key(flow), index.trail_key(flow, name)]
    with proven(source, reads) as view:
        view.under_all(reads)
        own = flow_entries(view, flow)
        entries = list(view.under(index.trail_key(flow, name))) + (extra or [])
    if not entries:
        raise NotFoundError(f"trail {name!r} does not exist in flow {flow!r}")
    trail_records = [e["record"] for _, e in entries if e["kind"] == "trail"]
    state = _fold(trail_records, ("description", "template"))
    template, verdict = judge_trail(own, entries)
    template_entry = verdict["template_entry"]
    artifacts = [(i, e["record"]) for i, e in entries if e["kind"] == "artifact"]
    attestations = [(i, e["record"]) for i, e in entries if e["kind"] == "attestation"]
    current = {i for i, _ in latest_attestations(attestations, artifacts).values()}
    # Each approver's latest word counts towards an approval, not just the latest approver's.
    by_approver = {(r["name"], r["statement"]["predicate"]["approver"]): i
                   for i, r in attestations if r["type"] == "approval"}
    current.update(by_approver.values())
    current.update(i for i, r in attestations if r["type"] == "approval-request")
    times = {i: str(e["time"]) for i, e in entries}
    return {
        "flow": flow,
        "name": name,
        "description": state.get("description"),
        "template": template,
        "template_source": "trail" if state.get("template") else (
            "flow" if template else None),
        "template_entry": template_entry,
        "tags": flow_tags(entries),
        "created_at": entries[0][1]["time"],
        "updated_at": entries[-1][1]["time"],
        "status": verdict["status"],
        "verdict": verdict,
        "artifacts": [
            {"entry": i, "time": times[i], **record} for i, record in artifacts
        ],
        "attestations": [
            {"entry": i, "time": times[i], **_attestation_summary(record),
             "superseded": i not in current}
            for i, record in attestations
        ],
        "entries": [i for i, _ in entries],
    }


def _attestation_summary(record: Record) -> Record:
    return {
        "name": record["name"],
        "type": record["type"],
        "compliant": record["compliant"],
        "target": record["target"],
        "evidence": record.get("evidence", []),
        "commit": record.get("commit"),
        "origin_url": record.get("origin_url"),
        "annotations": record.get("annotations"),
    }


def artifact_reports(view: Proven, fingerprint: str, flow: str | None = None
                     ) -> tuple[list[tuple[int, Record]], list[tuple[int, Record]]]:
    """Every entry filed under the artifact (in ``flow`` when given), and its reports among
    them; an artifact never reported is not found."""
    entries = view.under(index.artifact_key(fingerprint))
    if flow:
        entries = [(i, e) for i, e in entries if e["record"]["flow"] == flow]
    reports = [(i, e) for i, e in entries if e["kind"] == "artifact"]
    if not reports:
        raise NotFoundError(f"artifact {fingerprint} has not been reported"
                            + (f" in flow {flow!r}" if flow else ""))
    return entries, reports


def artifact_state(source: Ledger | Proven, fingerprint: str,
                   flow: str | None = None) -> Record:
    """Where an artifact was reported, what was attested about it, and its trails' verdicts."""
    from affidavit.models.fields import check_sha256

    fingerprint = check_sha256(fingerprint, "fingerprint")
    with proven(source) as view:
        entries, reports = artifact_reports(view, fingerprint, flow)
        trails = []
        for pair in sorted({(e["record"]["flow"], e["record"]["trail"]) for _, e in reports}):
            state = trail_state(view, *pair)
            mine = artifact_verdict(state["verdict"], fingerprint)
            trails.append({"flow": pair[0], "trail": pair[1], "status": mine["status"],
                           "trail_status": state["status"], "reasons": mine["reasons"],
                           "issues": artifact_issues(state["verdict"], fingerprint)})
    return {
        "fingerprint": fingerprint,
        "reports": [{"entry": i, "time": e["time"], **e["record"]} for i, e in reports],
        "attestations": [
            {"entry": i, "time": e["time"], **_attestation_summary(e["record"])}
            for i, e in entries if e["kind"] == "attestation"
        ],
        "trails": trails,
        "compliant": all(t["status"] == "COMPLIANT" for t in trails),
    }


def attestation_state(source: Ledger | Proven, flow: str, trail: str, name: str) -> Record:
    """The latest report of an attestation name in a trail, and all earlier ones."""
    entries = trail_entries(source, flow, trail)
    reports = [(i, e) for i, e in entries
               if e["kind"] == "attestation" and e["record"]["name"] == name]
    if not reports:
        raise NotFoundError(f"attestation {name!r} has not been reported in {flow}/{trail}")
    latest_index, latest = reports[-1]
    return {
        "entry": latest_index,
        "time": latest["time"],
        "record": latest["record"],
        "history": [{"entry": i, "time": e["time"], "compliant": e["record"]["compliant"]}
                    for i, e in reports],
    }


def list_flows(source: Ledger | Proven, *, without_type: str | None = None) -> list[Record]:
    """Every flow with its description, number of trails, and its latest trail's verdict;
    ``without_type`` keeps only flows none of whose trails holds an attestation of that type
    (which pipelines have no SARIF scanning?)."""
    out = []
    with proven(source) as view:
        names = list({e["record"]["name"]: None for _, e in view.under(index.FLOWS_KEY)})
        for name in sorted(names):
            state = flow_state(view, name)
            trails = [trail_state(view, name, trail) for trail in state["trails"]]
            if without_type and any(a["type"] == without_type for t in trails
                                    for a in t["attestations"]):
                continue
            last = max(trails, key=lambda t: t["updated_at"], default=None)
            out.append({"name": name, "description": state["description"],
                        "trails": len(state["trails"]), "created_at": state["created_at"],
                        "last_trail": None if last is None else {
                            "name": last["name"], "status": last["status"],
                            "updated_at": last["updated_at"]}})
    return out


def list_trails(source: Ledger | Proven, flow: str, *, status: str | None = None,
                since: str | None = None) -> list[Record]:
    """Every trail of a flow with its verdict and last change; ``status`` and ``since`` (a
    time expression of ``api.durations``: ``7d`` ago, or a UTC time) filter them."""
    if since:
        from affidavit.api.durations import point_in_time

        since = point_in_time(since, "--since")
    out = []
    with proven(source) as view:
        for name in flow_state(view, flow)["trails"]:
            state = trail_state(view, flow, name)
            if status and state["status"] != status:
                continue
            if since and state["updated_at"] < since:
                continue
            out.append({"name": name, "status": state["status"],
                        "created_at": state["created_at"], "updated_at": state["updated_at"]})
    return out


def trail_log(source: Ledger | Proven, flow: str, name: str) -> list[Record]:
    """A trail's history in log order: begun or changed, artifacts reported, attestations
    recorded, template changes, and every change of its verdict."""
    with proven(source) as view:
        flow_info = flow_state(view, flow)
        entries = trail_entries(view, flow, name)
    events: list[Record] = []
    template: Record | None = None
    artifacts: list[tuple[int, Record]] = []
    attestations: list[tuple[int, Record]] = []
    status: str | None = None
    for position, entry in entries:
        record = entry["record"]
        kind = entry["kind"]
        if kind == "trail":
            what = "trail begun" if not events else "trail changed"
            if "template" in record:
                template = record["template"]
                what += ", template changed"
            detail = record.get("description")
        elif kind == "artifact":
            artifacts.append((position, record))
            what, detail = "artifact reported", f"{record['name']} {record['fingerprint']}"
        else:
            attestations.append((position, record))
            verdict = "compliant" if record["compliant"] else "not compliant"
            what, detail = "attested", f"{record['name']} ({record['type']}): {verdict}"
        events.append({"entry": position, "time": entry["time"], "event": what,
                       "detail": detail})
        now = trail_verdict(template or flow_info["template"], artifacts, attestations)["status"]
        if now != status:
            events.append({"entry": position, "time": entry["time"],
                           "event": "verdict changed", "detail": f"{status or '-'} -> {now}"})
            status = now
    return events


#: What ``search`` looks in, and the SHA lengths at which a miss is proven absent (git commits
#: are SHA-1, or SHA-256 in repositories of the newer object format).
_SEARCHED = (("fingerprint", "artifact:", (64,)), ("commit", "commit:", (40, 64)),
             ("running", "running:", (64,)))


def search(source: Ledger | Proven, prefix: str) -> list[Record]:
    """Artifacts and commits whose SHA starts with ``prefix`` (at least 4 hex characters).

    Every hit is proven (its key's count against the map, its entry against the log); a full
    SHA that finds nothing is proven absent. Whether a shorter prefix misses a key cannot be
    proven: the map is keyed by hashes, which have no order to search by.
    """
    lowered = prefix.lower()
    if len(lowered) < 4 or any(c not in "0123456789abcdef" for c in lowered):
        raise UsageError(f"search {prefix!r}: give at least 4 hex characters of a SHA")
    out = []
    # a server lists the prefixes, reads what it listed and the prefixes as keys (a full
    # SHA's proven miss) with its head: one request for the whole search
    prefixes = [namespace + lowered for _, namespace, _ in _SEARCHED]
    with proven(source, ahead=prefixes, ahead_prefixes=prefixes) as view:
        listed = view.keys_many(prefixes)
        found = {kind: listed[namespace + lowered] for kind, namespace, _ in _SEARCHED}
        misses = [namespace + lowered for kind, namespace, full in _SEARCHED
                  if len(lowered) in full and namespace + lowered not in found[kind]]
        # the hits and the proven misses (the map must agree) read a hundred keys a pass
        wanted = [key for kind, _, _ in _SEARCHED for key in found[kind]] + misses
        for first in range(0, len(wanted), 100):
            view.under_all(wanted[first:first + 100])
        for kind, _, _ in _SEARCHED:
            for key in found[kind]:
                sha = key.split(":", 1)[1]
                for position, entry in view.under(key):
                    record = entry["record"]
                    if entry["kind"] == "snapshot":
                        out.append(_running_hit(view, sha, position, record))
                        continue
                    out.append({"match": kind, "sha": sha, "entry": position,
                                "kind": entry["kind"], "flow": record["flow"],
                                "trail": record.get("trail", record.get("name")),
                                "name": record["name"], "environment": None,
                                "current": None})
    return out


def _running_hit(view: Proven, sha: str, position: int, record: Record) -> Record:
    """A snapshot the artifact ran in: where, under which name, and whether it still runs
    there (the snapshot is its environment's latest, as the key map proves)."""
    env = record["environment"]
    names = sorted({a["name"] for a in record["artifacts"] if a.get("fingerprint") == sha})
    latest = view.proof(index.snapshots_key(env)).last
    return {"match": "running", "sha": sha, "entry": position, "kind": "snapshot",
            "flow": None, "trail": None, "name": ", ".join(names), "environment": env,
            "current": latest == position}


def log(ledger: Ledger, start: int = 0, limit: int | None = None) -> list[Record]:
    """Entries in log order with a one-line summary each, each proven included."""
    if start < 0 or (limit is not None and limit < 0):
        flag = "--start" if start < 0 else "--limit"
        raise UsageError(f"{flag} must not be negative")
    out = []
    with proven(ledger) as view:
        end = view.size if limit is None else min(view.size, start + limit)
        for position, entry in view.scan(start, end):
            record = entry["record"]
            if entry["kind"] in ("flow", "attestation_type"):
                subject = record.get("name")
            elif entry["kind"] == "trail":
                subject = f"{record['flow']}/{record['name']}"
            elif entry["kind"] == "environment":
                subject = record["name"]
            elif entry["kind"] == "snapshot":
                subject = f"{record['environment']} ({len(record['artifacts'])} running)"
            elif entry["kind"] == "webhook":
                subject = f"{record.get('environment') or record.get('flow')} {record['name']}"
            elif entry["kind"] == "policy":
                subject = record["name"]
            elif entry["kind"] == "policy_attachment":
                subject = f"{record['policy']} {'to' if record['attached'] else 'from'} " \
                          f"{record['environment']}"
            elif entry["kind"] in ("allowance", "expectation"):
                subject = f"{record['environment']} {record['fingerprint'][:12]}"
            elif "flow" in record:
                subject = f"{record['flow']}/{record['trail']}/{record['name']}"
            else:
                subject = None
            out.append({"index": position, "time": entry["time"], "kind": entry["kind"],
                        "subject": subject})
    return out
