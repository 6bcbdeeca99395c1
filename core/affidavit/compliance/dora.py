"""The four DORA measures of one environment, from its snapshot history.

What counts is decided here, once, so every reader gets the same figures from the same log:

- a **deployment** is an artifact name running with a fingerprint it did not run with in the
  snapshot before (a new name, or a new version of one); the snapshot it first shows in is
  when it arrived;
- **deployment frequency** is deployments per day over the window;
- **lead time for changes** is from the deployed artifact's commit (its author time, as the
  artifact's report recorded it) to its arrival: median and 90th percentile, over the
  deployments whose commit time is known;
- a deployment **failed** when it was rolled back (the next deployment of that name brings
  back a fingerprint the name ran before) or was not compliant on arrival (no
  provenance and not allowlisted, or its trail's verdict, judged from the log as it stood
  then, was not COMPLIANT); **change failure rate** is failed over all deployments;
- **time to restore** is from a failed deployment's arrival to the next deployment of that
  name that is compliant on arrival or is its rollback: median over the restored ones.

Percentiles are nearest-rank (the value at rank ⌈p·n⌉), so each is a measured value.
"""

from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    Record = dict[str, Any]
    #: One snapshot: its entry index, its time (POSIX seconds) and what it lists.
    Shot = tuple[int, float, list[Record]]

__all__ = ["deployments", "measures", "percentile"]


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile of ``values`` (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _by_name(artifacts: list[Record]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for artifact in artifacts:
        fingerprint = artifact.get("fingerprint")
        if fingerprint:  # one not known yet has not arrived
            out.setdefault(artifact["name"], set()).add(fingerprint)
    return out


def deployments(baseline: Shot | None, shots: Sequence[Shot]) -> list[Record]:
    """Every arrival in ``shots`` (oldest first), each against the snapshot before it (the
    first against ``baseline``, the last snapshot before the window, if any)."""
    out: list[Record] = []
    before = _by_name(baseline[2]) if baseline else {}
    for position, moment, artifacts in shots:
        now = _by_name(artifacts)
        for name in sorted(now):
            for fingerprint in sorted(now[name] - before.get(name, set())):
                out.append({"name": name, "fingerprint": fingerprint, "entry": position,
                            "time": moment})
        before = now
    return out


def measures(deployed: list[Record], *, since: float, until: float,
             ran_before: Callable[[str, str, int], bool],
             compliant_on_arrival: Callable[[str, int], bool],
             commit_time: Callable[[str], float | None]) -> Record:
    """The measures of ``deployed`` (from :func:`deployments`) over ``[since, until]``.

    ``ran_before(name, fingerprint, entry)`` says whether that name ran that fingerprint in a
    snapshot before ``entry``; ``compliant_on_arrival(fingerprint, entry)`` judges the
    artifact from the log before ``entry``; ``commit_time(fingerprint)`` is its commit's time.
    """
    rows = []
    for d in deployed:
        name, fingerprint, entry, moment = d["name"], d["fingerprint"], d["entry"], d["time"]
        compliant = compliant_on_arrival(fingerprint, entry)
        rollback = ran_before(name, fingerprint, entry)
        committed = commit_time(fingerprint)
        rows.append({**d, "compliant_on_arrival": compliant, "rollback": rollback,
                     "lead_time_seconds": None if committed is None else moment - committed,
                     "failed": False, "failed_because": None, "restored_after_seconds": None})
    latest: dict[str, Record] = {}  # per name, the deployment in place
    for row in rows:
        replaced = latest.get(row["name"])
        latest[row["name"]] = row
        if not row["rollback"]:
            continue
        if replaced is not None and replaced["fingerprint"] != row["fingerprint"] and not (
                replaced["failed"]):
            replaced["failed"], replaced["failed_because"] = True, "rolled back"
            replaced["restored_after_seconds"] = row["time"] - replaced["time"]
    fixed_at: dict[str, float] = {}  # per name, the next deployment that restores it
    for row in reversed(rows):
        if not row["compliant_on_arrival"]:
            row["failed"], row["failed_because"] = True, "not compliant on arrival"
            fixed = fixed_at.get(row["name"])
            row["restored_after_seconds"] = None if fixed is None else fixed - row["time"]
        if row["compliant_on_arrival"] or row["rollback"]:
            fixed_at[row["name"]] = row["time"]
    days = max(until - since, 1.0) / 86400
    leads = [r["lead_time_seconds"] for r in rows if r["lead_time_seconds"] is not None]
    failed = [r for r in rows if r["failed"]]
    restores = [r["restored_after_seconds"] for r in failed
                if r["restored_after_seconds"] is not None]
    return {
        "deployments": len(rows),
        "deployment_frequency_per_day": len(rows) / days,
        "lead_time": {"median_seconds": percentile(leads, 0.5),
                      "p90_seconds": percentile(leads, 0.9), "measured": len(leads)},
        "change_failure_rate": len(failed) / len(rows) if rows else None,
        "failures": len(failed),
        "time_to_restore": {"median_seconds": percentile(restores, 0.5),
                            "restored": len(restores),
                            "unrestored": len(failed) - len(restores)},
        "per_deployment": rows,
    }
