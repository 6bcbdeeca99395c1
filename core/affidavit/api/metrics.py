"""``metrics ENV``: deployment frequency, lead time, change failure rate and time to restore
of one environment, from proven reads (the measures are ``compliance.dora``'s).

Everything comes from one proven view: the environment's snapshots (complete under
``snapshots:<env>``), each deployed artifact's reports (``artifact:<sha>``) and, to judge it
on arrival, its trails' entries up to the snapshot that first showed it -- the verdict the
trail had then, not the one it has now.
"""

from __future__ import annotations

from affidavit.compliance import dora
from affidavit.compliance.verdict import artifact_verdict, judge_trail
from affidavit.errors import UsageError
from affidavit.ledger import index
from affidavit.verify.proven import Proven, proven

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from affidavit.ledger.base import Ledger

    Record = dict[str, Any]

__all__ = ["environment_metrics", "metrics_series"]


def _seconds(stamp: str) -> float:
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class _Facts:
    """What the measures ask about an artifact, read once per fingerprint."""

    def __init__(self, view: Proven, environment: str, history: list[tuple[int, Record]]):
        self.view = view
        self.reports: dict[str, list[tuple[int, Record]]] = {}
        self.allowed = {e["record"]["fingerprint"]: i
                        for i, e in reversed(view.under(index.allowed_key(environment)))}
        #: (name, fingerprint) -> the first snapshot that showed it: one pass, not one a query
        self.first: dict[tuple[str, str], int] = {}
        for position, entry in history:
            for artifact in entry["record"]["artifacts"]:
                fingerprint = artifact.get("fingerprint")
                if fingerprint:
                    self.first.setdefault((artifact["name"], fingerprint), position)

    def prefetch(self, fingerprints: list[str]) -> None:
        """Every deployed artifact's reports, then their flows' and trails' entries, each set
        read and proven in one pass instead of one request a fingerprint."""
        unique = [f for f in dict.fromkeys(fingerprints) if f not in self.reports]
        found = self.view.under_all([index.artifact_key(f) for f in unique]) if unique else {}
        for fingerprint in unique:
            self.reports[fingerprint] = [(i, e) for i, e in found[index.artifact_key(fingerprint)]
                                         if e["kind"] == "artifact"]
        pairs = sorted({(e["record"]["flow"], e["record"]["trail"])
                        for f in unique for _, e in self.reports[f]})
        keys = [k for flow, trail in pairs
                for k in (index.flowdef_key(flow), index.trail_key(flow, trail))]
        if keys:
            self.view.under_all(keys)

    def _reports(self, fingerprint: str) -> list[tuple[int, Record]]:
        if fingerprint not in self.reports:
            self.reports[fingerprint] = [
                (i, e) for i, e in self.view.under(index.artifact_key(fingerprint))
                if e["kind"] == "artifact"]
        return self.reports[fingerprint]

    def ran_before(self, name: str, fingerprint: str, entry: int) -> bool:
        first = self.first.get((name, fingerprint))
        return first is not None and first < entry

    def commit_time(self, fingerprint: str) -> float | None:
        for _, entry in reversed(self._reports(fingerprint)):
            stamp = (entry["record"].get("commit") or {}).get("timestamp")
            if isinstance(stamp, str):
                try:
                    return _seconds(stamp)
                except ValueError:
                    return None
        return None

    def compliant_on_arrival(self, fingerprint: str, entry: int) -> bool:
        reports = [(i, e) for i, e in self._reports(fingerprint) if i < entry]
        if not reports:
            allowed = self.allowed.get(fingerprint)
            return allowed is not None and allowed < entry
        for flow, trail in sorted({(e["record"]["flow"], e["record"]["trail"])
                                   for _, e in reports}):
            own = [(i, e) for i, e in self.view.under(index.flowdef_key(flow)) if i < entry]
            entries = [(i, e) for i, e in self.view.under(index.trail_key(flow, trail))
                       if i < entry]
            _, verdict = judge_trail(own, entries)
            if artifact_verdict(verdict, fingerprint)["status"] != "COMPLIANT":
                return False
        return True


def environment_metrics(source: Ledger | Proven, environment: str, *,
                        since: str = "30d", now: float | None = None) -> Record:
    """The DORA measures of ``environment`` over the window from ``since`` (an age like
    ``30d`` or a UTC time) to now."""
    import time

    from affidavit.api.durations import point_in_time

    until = time.time() if now is None else now
    start = _seconds(point_in_time(since, "--since", until))
    if start > until:
        raise UsageError(f"--since {since!r} is in the future")
    with proven(source) as view:
        return _measured(view, environment, [(start, until)])[0]


def metrics_series(source: Ledger | Proven, environment: str, *, periods: int = 12,
                   days: float = 7.0, now: float | None = None) -> Record:
    """The measures of ``periods`` consecutive windows of ``days`` each, the last ending now,
    oldest first (``series``: the trend the web UI charts), and of the whole span
    (``overall``), each window measured exactly as ``metrics`` measures one (a window's
    deployments are those its snapshots show against the snapshot before it)."""
    import time

    if not 0 < periods <= 366 or not 0 < days <= 366:
        raise UsageError("metrics series: 1 to 366 periods of 1 to 366 days")
    until = time.time() if now is None else now
    width = days * 86400
    windows = [(until - (periods - k) * width, until - (periods - k - 1) * width)
               for k in range(periods)]
    with proven(source) as view:
        *series, overall = _measured(view, environment,
                                     [*windows, (until - periods * width, until)])
    return {"series": series, "overall": overall}


def _measured(view: Proven, environment: str,
              windows: list[tuple[float, float]]) -> list[Record]:
    """The measures of each ``(start, until)`` window, the environment's history read once."""
    from affidavit.api.environments import physical_state

    physical_state(view, environment, "measure")
    history = view.under(index.snapshots_key(environment))
    timed = [(i, _seconds(e["time"]), e["record"]["artifacts"]) for i, e in history]
    facts = _Facts(view, environment, history)
    out = []
    for start, until in windows:
        before = [shot for shot in timed if shot[1] < start]
        window = [shot for shot in timed if start <= shot[1] <= until]
        deployed = dora.deployments(before[-1] if before else None, window)
        facts.prefetch([d["fingerprint"] for d in deployed])
        found = dora.measures(deployed, since=start, until=until, ran_before=facts.ran_before,
                              compliant_on_arrival=facts.compliant_on_arrival,
                              commit_time=facts.commit_time)
        out.append({"environment": environment, "since": _iso(start), "until": _iso(until),
                    "snapshots": len(window), **found})
    return out


def _iso(moment: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
