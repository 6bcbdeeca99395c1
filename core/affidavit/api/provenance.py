"""An artifact's provenance as one timeline: its commit, every report of it, what was attested
about it, and each environment it ran in (from the first snapshot that showed it to the last,
and whether it still runs there) -- "what runs in prod and where did it come from?".

Everything is read from one proven view: the artifact's key (``artifact:<sha>``, complete
under the key map) gives its reports and attestations, ``running:<sha>`` every snapshot that
showed it, and each of those environments' ``snapshots:<env>`` the snapshot's number and
whether a later snapshot still shows it. The trails' verdicts are ``query.artifact_state``'s,
the one judge's.
"""

from __future__ import annotations

from affidavit.api import query
from affidavit.ledger import index
from affidavit.verify.proven import proven

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.ledger.base import Ledger
    from affidavit.verify.proven import Proven

    Record = dict[str, Any]

__all__ = ["artifact_timeline"]


def _runs(view: Proven, fingerprint: str) -> list[Record]:
    """Each environment the artifact ran in: the snapshots that showed it (their numbers, first
    and last), whether that environment's latest snapshot still shows it and, when not, the
    snapshot after the last that showed it (``gone``). A run that stopped and started again is
    one row: its first and last sightings."""
    shown: dict[str, list[tuple[int, Record]]] = {}
    for position, entry in view.under(index.running_key(fingerprint)):
        if entry["kind"] == "snapshot":
            shown.setdefault(entry["record"]["environment"], []).append((position, entry))
    if not shown:
        return []
    listed = view.under_all([index.snapshots_key(env) for env in shown])
    out = []
    for env, seen in shown.items():
        snapshots = listed[index.snapshots_key(env)]
        numbers = {p: n for n, (p, _) in enumerate(snapshots, 1)}
        latest = view.proof(index.snapshots_key(env)).last
        first, last = seen[0], seen[-1]
        after = numbers.get(last[0], len(snapshots))  # the snapshot that no longer showed it
        gone = None if last[0] == latest or after >= len(snapshots) else {
            "number": after + 1, "entry": snapshots[after][0],
            "time": snapshots[after][1]["time"]}
        names = sorted({a["name"] for _, e in seen for a in e["record"]["artifacts"]
                        if a.get("fingerprint") == fingerprint})
        out.append({"environment": env, "names": names, "snapshots": len(seen),
                    "first": {"number": numbers.get(first[0]), "entry": first[0],
                              "time": first[1]["time"]},
                    "last": {"number": numbers.get(last[0]), "entry": last[0],
                             "time": last[1]["time"]},
                    "running": last[0] == latest, "gone": gone})
    return sorted(out, key=lambda run: run["first"]["entry"])


def artifact_timeline(source: Ledger | Proven, fingerprint: str) -> Record:
    """``query.artifact_state`` with where the artifact ran and one timeline, oldest first:
    ``{time, entry, event, detail, flow, trail, environment, number}`` rows; each trail's
    reasons are ``assert artifact``'s. An artifact no pipeline reported but a snapshot shows
    has no reports, no trails and is not compliant; one neither reported nor seen is not
    found."""
    from affidavit.api.gate import explained_reasons
    from affidavit.errors import NotFoundError
    from affidavit.models.fields import check_sha256

    fingerprint = check_sha256(fingerprint, "fingerprint")
    with proven(source) as view:
        runs = _runs(view, fingerprint)
        try:
            state = query.artifact_state(view, fingerprint)
        except NotFoundError:
            if not runs:
                raise
            # it runs somewhere, but no pipeline reported it: that is its provenance
            state = {"fingerprint": fingerprint, "reports": [], "attestations": [],
                     "trails": [], "compliant": False}
        for trail in state["trails"]:  # with what each report's judge said, as assert does
            trail["reasons"] = explained_reasons(view, trail["issues"])
    events: list[Record] = []

    def event(time: str, entry: int | None, what: str, detail: str, **where: Any) -> None:
        events.append({"time": time, "entry": entry, "event": what, "detail": detail,
                       "flow": None, "trail": None, "environment": None, "number": None,
                       **where})

    commits = set()
    for report in state["reports"]:
        commit = report.get("commit") or {}
        sha = commit.get("sha")
        if sha and sha not in commits:
            commits.add(sha)
            event(commit.get("timestamp") or report["time"], None, "committed", " ".join(
                str(commit[k]) for k in ("sha", "author", "message") if commit.get(k))[:300])
        event(report["time"], report["entry"], "built", f"reported as {report['name']!r}",
              flow=report["flow"], trail=report["trail"])
    for attestation in state["attestations"]:
        verdict = "compliant" if attestation["compliant"] else "not compliant"
        event(attestation["time"], attestation["entry"], "attested",
              f"{attestation['name']} ({attestation['type']}): {verdict}")
    for run in runs:
        for what, seen in (("started running", run["first"]), ("stopped running", run["gone"])):
            if seen is not None:
                event(seen["time"], seen["entry"], what, ", ".join(run["names"]),
                      environment=run["environment"], number=seen["number"])
    events.sort(key=lambda e: (-1 if e["entry"] is None else e["entry"], str(e["time"])))
    return {**state, "runs": runs, "timeline": events}
