"""Environments and their snapshots: what runs where, proven like every other read.

A snapshot is the full set of artifacts an environment runs. It is recorded only when that
set differs from the environment's latest snapshot, so the log holds changes, not polls, and
"snapshot 12" means the twelfth different state. Its number is its place among the
environment's snapshots, which the key map proves (``snapshots:<env>`` counts them): no writer
keeps a counter another could disagree with.

Every read here opens one proven view: the latest snapshot is the map's ``last`` entry under
the environment's key, an older one is found among the entries proven complete under it, and
each running artifact is joined to where it was reported (its flow, trail, commit and
verdict) through the same proven reads as ``get artifact``.
"""

from __future__ import annotations

import os
import re

from affidavit.api.record import Recorded, _append, _head
from affidavit.errors import NotFoundError, UsageError
from affidavit.ledger import index
from affidavit.models import build
from affidavit.models.fields import ENVIRONMENT_TYPES, check_name
from affidavit.verify.proven import Proven, proven

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from affidavit.ledger.base import Ledger

    Record = dict[str, Any]

__all__ = [
    "check_environment_name",
    "ENVIRONMENT_TYPES",
    "SOURCES",
    "Snapshotted",
    "create_environment",
    "join_environment",
    "environment_state",
    "physical_state",
    "running_by_name",
    "list_environments",
    "record_snapshot",
    "allow_artifact",
    "expect_deployment",
    "DEFAULT_GRACE",
    "running_at_path",
    "running_in_paths_file",
    "running_in_listing",
    "running_in_k8s",
    "running_in_docker",
    "running_in_cloud_run",
    "running_in_ecs",
    "running_in_lambda",
    "running_in_s3",
    "parse_address",
    "snapshot_at",
    "get_snapshot",
    "environment_log",
    "diff_snapshots",
]

SOURCES: dict[str, tuple[str, ...]] = {
    "path": ("server",),
    "paths": ("server",),
    "json": ("server", "k8s", "ecs", "lambda", "s3", "docker", "cloud-run"),
    "k8s": ("k8s",),
    "docker": ("docker",),
    "cloud-run": ("cloud-run",),
    "ecs": ("ecs",),
    "lambda": ("lambda",),
    "s3": ("s3",),
}
"""Which environment types each snapshot source may record into: a file system is a server's,
a cluster's pods a k8s environment's, and a listing from any tool fits any physical
environment. A logical one takes none."""


class Snapshotted:
    """What a snapshot command did: recorded snapshot ``number``, or found the set unchanged
    since snapshot ``number`` (``recorded`` is None then, and nothing was written)."""

    def __init__(self, environment: str, number: int, recorded: Recorded | None,
                 record: Record, previous: Record | None) -> None:
        self.environment = environment
        self.number = number
        self.recorded = recorded
        self.record = record
        self.before = previous["artifacts"] if previous else []
        self.changes = _changes(self.before, record["artifacts"])
        #: What webhooks sent for it (``api.webhooks.notify``), one result each.
        self.deliveries: list[Record] = []
        #: When the set was found unchanged: the heartbeat remembered for it (None otherwise).
        self.reported_at: str | None = None

    @property
    def changed(self) -> bool:
        return self.recorded is not None

    def to_json(self) -> Record:
        recorded = self.recorded
        return {
            "environment": self.environment,
            "number": self.number,
            "changed": self.changed,
            "dry_run": bool(recorded and recorded.dry_run),
            "index": None if recorded is None else recorded.entry_index,
            "checkpoint": None if recorded is None else recorded.checkpoint,
            "running": len(self.record["artifacts"]),
            "changes": self.changes,
            "snapshot": self.record,
            "deliveries": self.deliveries,
            "heartbeat": self.reported_at,
        }

    def outputs(self) -> dict[str, str]:
        """The step outputs of a CI wrapper (every key always present)."""
        index_ = None if self.recorded is None else self.recorded.entry_index
        return {"environment": self.environment, "snapshot": str(self.number),
                "changed": str(self.changed).lower(),
                "entry-index": "" if index_ is None else str(index_),
                "running": str(len(self.record["artifacts"]))}


def check_environment_name(name: str) -> str:
    """``name`` when it can name an environment (a name, and no ``~``, which addresses a
    snapshot: ``prod~1``), else a one-line ``UsageError``."""
    check_name(name, "environment")
    if "~" in name:
        raise UsageError(f"environment name {name!r}: '~' is kept for addressing (prod~1)")
    return name


def create_environment(ledger: Ledger, *, name: str, type: str,
                       description: str | None = None, include_scaling: bool | None = None,
                       dry_run: bool = False) -> Recorded | None:
    """Create an environment, or record a change to its description; None when it already
    exists as asked (so every pipeline run may ask). Its type never changes: snapshots of one
    kind of source would be compared with another's."""
    check_environment_name(name)
    if type not in ENVIRONMENT_TYPES:
        raise UsageError(f"environment type {type!r} is not one of {', '.join(ENVIRONMENT_TYPES)}")
    with _head(ledger) as head:
        current = _state_or_none(head, name)
        if not dry_run:
            head.check_writable()
    if current is not None:
        if current["type"] != type:
            raise UsageError(f"environment {name!r} is a {current['type']} environment, not "
                             f"{type}", remedy="create an environment of another name")
        if description == current["description"]:
            description = None
        if include_scaling == current["include_scaling"]:
            include_scaling = None
        if description is None and include_scaling is None:
            return None
    record = build.environment(name=name, type=type, description=description,
                               include_scaling=include_scaling)
    return _append(ledger, build.entry("environment", record), dry_run, head)


def join_environment(ledger: Ledger, *, logical: str, physical: list[str],
                     dry_run: bool = False) -> Recorded | None:
    """Add physical environments to a logical one (None when all of them are in it already)."""
    check_environment_name(logical)
    if not physical:
        raise UsageError("join environment: name at least one --physical environment")
    with _head(ledger) as head:
        current = environment_state(head, logical)
        if current["type"] != "logical":
            raise UsageError(f"environment {logical!r} is a {current['type']} environment; only "
                             "a logical one joins others")
        for name in physical:
            member = environment_state(head, name)
            if member["type"] == "logical":
                raise UsageError(f"environment {name!r} is logical; a logical environment "
                                 "joins physical ones")
        if not dry_run:
            head.check_writable()
    joined = sorted(set(current["physical"]) | set(physical))
    if joined == current["physical"]:
        return None
    record = build.environment(name=logical, type="logical", physical=joined)
    return _append(ledger, build.entry("environment", record), dry_run, head)


def _state_or_none(view: Proven, name: str) -> Record | None:
    entries = [(i, e) for i, e in view.under(index.envdef_key(name))
               if e["kind"] == "environment"]
    if not entries:
        return None
    state: Record = {"name": name, "type": entries[0][1]["record"]["type"],
                     "description": None, "include_scaling": None, "physical": [],
                     "created_at": entries[0][1]["time"], "entries": [i for i, _ in entries]}
    for _, entry in entries:
        record = entry["record"]
        for field in ("description", "include_scaling", "physical"):
            if field in record:
                state[field] = record[field]
    return state


def environment_state(source: Ledger | Proven, name: str) -> Record:
    """An environment's type, description and (logical) members, and its snapshot count."""
    with proven(source) as view:
        state = _state_or_none(view, name)
        if state is None:
            raise NotFoundError(f"environment {name!r} does not exist",
                                remedy=f"affidavit create environment {name} --type TYPE")
        state["snapshots"] = view.proof(index.snapshots_key(name)).count
    return state


def list_environments(source: Ledger | Proven) -> list[Record]:
    """Every environment, in the order they were created."""
    with proven(source) as view:
        names = {e["record"]["name"]: None for _, e in view.under(index.ENVIRONMENTS_KEY)}
        return [environment_state(view, name) for name in names]


def _latest(view: Proven, name: str) -> tuple[int, int, Record] | None:
    """``(number, index, entry)`` of the environment's latest snapshot: the key map proves
    how many there are and which entry is the last, so one entry is read, not all."""
    key = index.snapshots_key(name)
    found = view.proof(key)
    if not found.count or found.last is None:
        return None
    entry = view.entry(found.last)
    if key not in index.keys(entry):
        from affidavit.errors import IntegrityError

        raise IntegrityError(f"{view.where}: the key map says entry {found.last} is the latest "
                             f"snapshot of {name!r}, but the entry says otherwise")
    return found.count, found.last, entry


def physical_state(source: Ledger | Proven, name: str, what: str) -> Record:
    """:func:`environment_state` of a physical environment; a logical one (which only joins
    others) is refused, naming its members, for ``what`` (``log``, ``measure``...)."""
    state = environment_state(source, name)
    if state["type"] == "logical":
        members = ", ".join(state["physical"]) or "its members (none yet)"
        raise UsageError(f"environment {name!r} is logical: {what} one of {members}")
    return state


def allow_artifact(ledger: Ledger, *, environment: str, fingerprint: str, reason: str,
                   dry_run: bool = False) -> Recorded:
    """Let ``fingerprint`` run in ``environment`` without provenance, for ``reason``: the
    entry is the evidence of who accepted what, and why."""
    from affidavit.models.fields import check_sha256

    fingerprint = check_sha256(fingerprint, "fingerprint")
    if not reason.strip():
        raise UsageError("allow artifact: --reason must say why")
    with _head(ledger) as head:
        physical_state(head, environment, "allow in")
        if not dry_run:
            head.check_writable()
    record = build.allowance(environment=environment, fingerprint=fingerprint, reason=reason)
    return _append(ledger, build.entry("allowance", record), dry_run, head)


def expect_deployment(ledger: Ledger, *, environment: str, fingerprint: str,
                      flow: str | None = None, trail: str | None = None,
                      origin_url: str | None = None, dry_run: bool = False) -> Recorded:
    """Say that ``fingerprint`` is being deployed to ``environment`` (from the deploying
    pipeline), so a snapshot can tell a deployment that never arrived, or one nobody said."""
    from affidavit.models.fields import check_sha256

    fingerprint = check_sha256(fingerprint, "fingerprint")
    if (flow is None) != (trail is None):
        raise UsageError("expect deployment: give --flow and --trail together (or neither)")
    with _head(ledger) as head:
        physical_state(head, environment, "expect deployments to")
        if flow is not None and trail is not None:
            from affidavit.api.record import require_trail

            require_trail(head, flow, trail)
        if not dry_run:
            head.check_writable()
    record = build.expectation(environment=environment, fingerprint=fingerprint, flow=flow,
                               trail=trail, origin_url=origin_url)
    return _append(ledger, build.entry("expectation", record), dry_run, head)


def running_at_path(name: str, path: str, exclude: tuple[str, ...] = ()) -> list[Record]:
    """``snapshot path``: the one artifact at ``path`` (a file or a directory)."""
    from affidavit.collect.environments.paths import fingerprint_paths

    return fingerprint_paths([(name, path, exclude)])


def running_in_paths_file(paths_file: str) -> list[Record]:
    """``snapshot paths``: every artifact a Kosli-style paths file names."""
    from affidavit.api.inputs import parse_yaml, read_input
    from affidavit.collect.environments.paths import fingerprint_paths, parse_paths_file

    where = f"paths file {paths_file}"
    spec, _ = parse_yaml(read_input(paths_file, "paths"), where)
    return fingerprint_paths(parse_paths_file(spec, where, os.path.dirname(paths_file)))


def running_in_listing(file: str) -> list[Record]:
    """``snapshot json``: the artifacts a JSON list names."""
    from affidavit.api.inputs import read_json_file
    from affidavit.collect.environments.listing import parse_listing

    return parse_listing(read_json_file(file, "listing"), f"listing file {file}")


def running_in_k8s(*, kubeconfig: str | None = None, context: str | None = None,
                   namespaces: tuple[str, ...] = (),
                   exclude_namespaces: tuple[str, ...] = ()) -> list[Record]:
    """``snapshot k8s``: the images a cluster's unfinished pods run, by digest."""
    from affidavit.collect.environments import k8s

    if kubeconfig is not None:
        from affidavit.api.inputs import read_input

        read_input(kubeconfig, "kubeconfig")  # a FIFO or a device must not hang the client
    client = k8s.client_from(kubeconfig, context)
    try:
        return k8s.running(client, namespaces=namespaces, exclude_namespaces=exclude_namespaces)
    finally:
        client.close()


def running_in_docker(*, docker_host: str | None = None) -> list[Record]:
    """``snapshot docker``: the images a Docker Engine's running containers run."""
    from affidavit.collect.environments import docker

    return docker.running(docker_host)


def running_in_cloud_run(*, project: str, region: str, token: str | None,
                         base_url: str | None = None) -> list[Record]:
    """``snapshot cloud-run``: the images the services of a project's region serve."""
    from affidavit.collect.environments import cloudrun

    if not token:
        raise UsageError("snapshot cloud-run needs an access token",
                         remedy="--access-token, or GOOGLE_OAUTH_ACCESS_TOKEN (e.g. from "
                                "`gcloud auth print-access-token`)")
    return cloudrun.running(project, region, token=token,
                            base_url=base_url or cloudrun.BASE_URL)


def running_in_ecs(*, clusters: tuple[str, ...], services: tuple[str, ...] = ()) -> list[Record]:
    """``snapshot ecs``: the images the running tasks of ECS clusters run, by digest."""
    from affidavit.collect.environments import aws, ecs

    if not clusters:
        raise UsageError("snapshot ecs: name at least one --cluster")
    return ecs.running(aws.client("ecs"), clusters=clusters, services=services)


def running_in_lambda(*, functions: tuple[str, ...] = ()) -> list[Record]:
    """``snapshot lambda``: every Lambda function (or those named), by code digest."""
    from affidavit.collect.environments import aws, lambdas

    return lambdas.running(aws.client("lambda"), functions=functions)


def running_in_s3(*, bucket: str, prefix: str | None = None, include: str | None = None,
                  exclude: str | None = None) -> list[Record]:
    """``snapshot s3``: a bucket (or a folder of it) as one artifact, fingerprinted as the
    directory of its objects would be."""
    from affidavit.collect.environments import aws, s3

    return s3.running(aws.client("s3"), bucket=bucket, prefix=prefix, include=include,
                      exclude=exclude)


def record_snapshot(ledger: Ledger, *, environment: str, source: str,
                    artifacts: list[Record], dry_run: bool = False) -> Snapshotted:
    """Record what runs in ``environment`` when it differs from the latest snapshot."""
    check_environment_name(environment)
    record = build.snapshot(environment=environment, source=source,
                            artifacts=[build.running_artifact(**a) for a in artifacts])
    _check_unique(record["artifacts"])
    with _head(ledger) as head:
        state = environment_state(head, environment)
        if state["type"] not in SOURCES.get(source, ()):
            raise UsageError(f"environment {environment!r} is a {state['type']} environment; "
                             f"`snapshot {source}` records into "
                             f"{' or '.join(SOURCES.get(source, ('none',)))} environments")
        latest = _latest(head, environment)
        if not dry_run:
            head.check_writable()
    previous = latest[2]["record"] if latest else None
    number = latest[0] if latest else 0
    scaling = bool(state["include_scaling"])
    if previous is not None and _compared(previous["artifacts"], scaling) == _compared(
            record["artifacts"], scaling):
        done = Snapshotted(environment, number, None, record, previous)
        if not dry_run:  # the reporter is alive: remembered beside the log, not in it
            done.reported_at = build.now()
            ledger.record_heartbeat(environment, done.reported_at, head.size)
        return done
    recorded = _append(ledger, build.entry("snapshot", record), dry_run, head)
    return Snapshotted(environment, number + 1, recorded, record, previous)


def _compared(artifacts: list[Record], scaling: bool) -> list[Record]:
    """What decides whether a set changed: everything recorded, except how many copies run
    unless the environment was created ``--include-scaling``."""
    if scaling:
        return artifacts
    return [{k: v for k, v in a.items() if k != "instances"} for a in artifacts]


def _check_unique(artifacts: list[Record]) -> None:
    seen: set[tuple[str, str]] = set()
    for artifact in artifacts:
        pair = (artifact["name"], _fp(artifact))
        if pair in seen:
            raise UsageError(f"artifact {pair[0]!r} with fingerprint {pair[1] or 'unknown'} is "
                             "listed twice; give how many copies run as 'instances'")
        seen.add(pair)


# -- addressing ------------------------------------------------------------------------------

_ADDRESS = re.compile(
    r"^(?P<env>[^#~@]+)(?:#(?P<number>\d+)|~(?P<back>\d+)|@\{(?P<when>[^}]*)\})?$")
_AGO = re.compile(r"^(?P<n>\d+)\.(?P<unit>second|minute|hour|day|week)s?\.ago$")
_UNIT = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def parse_address(address: str, now: float | None = None) -> tuple[str, str, Any]:
    """``(environment, how, value)`` for ``ENV`` (latest), ``ENV#N`` (number N), ``ENV~N``
    (N before the latest), ``ENV@{ISO-8601}`` or ``ENV@{N.units.ago}`` (the one running then,
    as a POSIX time)."""
    import time
    from datetime import UTC, datetime

    match = _ADDRESS.match(address)
    if match is None:
        raise UsageError(f"snapshot {address!r}: expected ENV, ENV#N, ENV~N, ENV@{{ISO-8601}} or "
                         "ENV@{N.hours.ago}")
    env = check_environment_name(match["env"])
    for part in ("number", "back"):
        if match[part] is not None and len(match[part]) > 18:
            raise UsageError(f"snapshot {address[:80]!r}: no environment has that many snapshots")
    if match["number"] is not None:
        number = int(match["number"])
        if number < 1:
            raise UsageError(f"snapshot {address!r}: snapshots are numbered from 1")
        return env, "number", number
    if match["back"] is not None:
        return env, "back", int(match["back"])
    when = match["when"]
    if when is None:
        return env, "latest", None
    ago = _AGO.match(when)
    if ago is not None and len(ago["n"]) > 12:
        raise UsageError(f"snapshot {address[:80]!r}: {ago['n'][:20]}… {ago['unit']}s ago is "
                         "before any ledger")
    if ago is not None:
        base = time.time() if now is None else now
        return env, "time", base - int(ago["n"]) * _UNIT[ago["unit"]]
    try:
        moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"snapshot {address!r}: {when!r} is neither an ISO-8601 time nor "
                         "N.(seconds|minutes|hours|days|weeks).ago") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return env, "time", moment.timestamp()


def _entry_time(entry: Record) -> float:
    from datetime import datetime

    return datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp()


def _describe(view: Proven, number: int, position: int, entry: Record) -> Record:
    record = entry["record"]
    return {"environment": record["environment"], "number": number, "entry": position,
            "time": entry["time"], "source": record["source"],
            "artifacts": [dict(a) for a in record["artifacts"]]}


def snapshot_at(source: Ledger | Proven, address: str, *, now: float | None = None) -> Record:
    """The snapshot ``address`` names (see :func:`parse_address`), proven."""
    env, how, value = parse_address(address, now)
    with proven(source) as view:
        state = environment_state(view, env)
        if state["type"] == "logical":
            if how != "latest":
                raise UsageError(f"snapshot {address!r}: a logical environment has no numbered "
                                 f"snapshots; address one of {', '.join(state['physical'])}")
            return _union(view, state)
        if how == "latest":
            latest = _latest(view, env)
            if latest is None:
                raise NotFoundError(f"environment {env!r} has no snapshot yet")
            found = _describe(view, *latest)
            return {**found, "reported": _reported(view, env, found)}
        snapshots = [(i, e) for i, e in view.under(index.snapshots_key(env))]
        if how == "number":
            chosen = value
        elif how == "back":
            chosen = len(snapshots) - value
        else:
            chosen = sum(1 for _, e in snapshots if _entry_time(e) <= value)
        if not 1 <= chosen <= len(snapshots):
            if how == "time" and snapshots:
                raise NotFoundError(f"snapshot {address!r}: nothing was recorded in {env!r} "
                                    f"before its first snapshot, at {snapshots[0][1]['time']}")
            have = f"snapshots 1 to {len(snapshots)}" if snapshots else "no snapshot"
            raise NotFoundError(f"snapshot {address!r} does not exist: {env!r} has {have}")
        position, entry = snapshots[chosen - 1]
        found = _describe(view, chosen, position, entry)
        return {**found, "reported": _reported(view, env, found)
                if chosen == len(snapshots) else None}


def _reported(view: Proven, environment: str, latest: Record) -> Record:
    """When ``environment`` last reported the set its ``latest`` snapshot (``_describe``'s)
    records: the snapshot's own time, proven, or a later heartbeat -- the same set reported
    again, remembered beside the log: not signed, not proven, only a sign the reporter is
    alive (``heartbeat: true`` says which)."""
    shown = latest["time"]
    beat = view.ledger.heartbeat(environment)
    if beat is not None and beat[1] > latest["entry"] and beat[0] > shown:
        return {"time": beat[0], "heartbeat": True}
    return {"time": shown, "heartbeat": False}


def _union(view: Proven, state: Record) -> Record:
    """A logical environment's latest state: every member's latest snapshot, each artifact
    saying where it runs."""
    artifacts = []
    members = []
    for name in state["physical"]:
        latest = _latest(view, name)
        members.append({"environment": name, "number": latest[0] if latest else None,
                        "entry": latest[1] if latest else None})
        if latest is not None:
            artifacts += [{**a, "environment": name} for a in latest[2]["record"]["artifacts"]]
    return {"environment": state["name"], "number": None, "entry": None, "time": None,
            "source": "logical", "members": members, "artifacts": artifacts, "reported": None}


def _provenance(view: Proven, fingerprints: list[str]) -> dict[str, Record | None]:
    """Where each artifact came from, or None: its latest report and its trails' verdicts.

    Every key is read in two passes (the artifacts' keys, then their flows' and trails'),
    each in one round trip, and each trail is judged once however many of its artifacts run:
    a snapshot of thousands of artifacts costs two reads, not thousands."""
    from affidavit.api.query import flow_tags
    from affidavit.compliance.verdict import artifact_verdicts, judge_trail

    unique = list(dict.fromkeys(f for f in fingerprints if f))
    found = view.under_all([index.artifact_key(f) for f in unique])
    reports = {f: [(i, e) for i, e in found[index.artifact_key(f)] if e["kind"] == "artifact"]
               for f in unique}
    reported_in: dict[tuple[str, str], set[str]] = {}
    for fingerprint, rows in reports.items():
        for _, e in rows:
            reported_in.setdefault((e["record"]["flow"], e["record"]["trail"]),
                                   set()).add(fingerprint)
    pairs = sorted(reported_in)
    keys = [k for flow, trail in pairs for k in (index.flowdef_key(flow),
                                                 index.trail_key(flow, trail))]
    trails = view.under_all(keys) if keys else {}
    verdicts = {(flow, trail): judge_trail(trails[index.flowdef_key(flow)],
                                           trails[index.trail_key(flow, trail)])[1]
                for flow, trail in pairs}
    # each trail's verdict shared out to its artifacts in one pass
    shares = {pair: artifact_verdicts(verdicts[pair], reported_in[pair]) for pair in pairs}
    out: dict[str, Record | None] = {}
    sorted_by_trail: dict[int, Any] = {}
    tags: dict[str, dict[str, str]] = {}  # each flow's, folded once
    for fingerprint, rows in reports.items():
        if not rows:
            out[fingerprint] = None
            continue
        position, latest = rows[-1]
        record = latest["record"]
        judged = [{"flow": flow, "trail": trail,
                   "status": shares[(flow, trail)][fingerprint]["status"]}
                  for flow, trail in sorted({(e["record"]["flow"], e["record"]["trail"])
                                             for _, e in rows})]
        key = (record["flow"], record["trail"])
        if record["flow"] not in tags:
            tags[record["flow"]] = flow_tags(trails[index.flowdef_key(record["flow"])])
        out[fingerprint] = {
            "flow": record["flow"], "flow_tags": tags[record["flow"]],
            "trail": record["trail"], "name": record["name"],
            "commit": (record.get("commit") or {}).get("sha"), "entry": position,
            "compliant": all(t["status"] == "COMPLIANT" for t in judged), "trails": judged,
            "trail_status": verdicts[key]["status"],
            "attestations": _attested(trails[index.trail_key(*key)], fingerprint,
                                      record["name"], sorted_by_trail)}
    return out


def _attested(entries: list[tuple[int, Record]], fingerprint: str, name: str,
              cache: dict[int, Any] | None = None) -> list[Record]:
    """What was attested about an artifact in its trail, oldest first: attestations of the
    trail itself, of this fingerprint, or of its template name (``--name app.unit``). The
    trail's attestations are filed by target once (``cache``), not gone through once an
    artifact (a snapshot of a trail's hundred artifacts went through its hundred
    attestations a hundred times)."""
    key = id(entries)
    filed = None if cache is None else cache.get(key)
    if filed is None:
        trail: list[tuple[int, Record]] = []
        by_fingerprint: dict[str, list[tuple[int, Record]]] = {}
        by_name: dict[str | None, list[tuple[int, Record]]] = {}
        for position, entry in entries:
            if entry["kind"] != "attestation":
                continue
            record = entry["record"]
            target = record["target"]
            facts = (position, {"name": record["name"], "type": record["type"],
                                "compliant": record["compliant"]})
            fingerprint_of = target.get("fingerprint")
            if target["kind"] == "trail":
                trail.append(facts)
            elif fingerprint_of is None:
                by_name.setdefault(target.get("artifact"), []).append(facts)
            elif isinstance(fingerprint_of, str):  # else of no artifact, as it matches none
                by_fingerprint.setdefault(fingerprint_of, []).append(facts)
        filed = (trail, by_fingerprint, by_name)
        if cache is not None:
            cache[key] = filed
    trail, by_fingerprint, by_name = filed
    mine = [*trail, *by_fingerprint.get(fingerprint, ()), *by_name.get(name, ())]
    mine.sort(key=lambda row: row[0])
    return [facts for _, facts in mine]


DEFAULT_GRACE = 600.0
"""Seconds a deployment may take to show up running before its expectation is reported."""


def get_snapshot(source: Ledger | Proven, address: str, *, now: float | None = None,
                 grace: float = DEFAULT_GRACE) -> Record:
    """The snapshot, each running artifact joined to its provenance (or ``null``: none) and
    to the allowlist; for a physical environment also the deployments announced before it
    that it does not show (after ``grace`` seconds) and what runs that nobody announced."""
    with proven(source) as view:
        found = snapshot_at(view, address, now=now)
        members = [m["environment"] for m in found["members"]] if "members" in found else [
            found["environment"]]
        allowed = {name: _allowances(view, name, found["entry"]) for name in members}
        joined = _provenance(view, [_fp(a) for a in found["artifacts"]])
        for artifact in found["artifacts"]:
            fingerprint = _fp(artifact)
            artifact["provenance"] = joined.get(fingerprint)
            home = artifact.get("environment", found["environment"])
            artifact["allowed"] = allowed[home].get(fingerprint)
        if found["entry"] is not None:
            found.update(_expectations(view, found, grace))
    found["without_provenance"] = sum(1 for a in found["artifacts"]
                                      if a["provenance"] is None and a["allowed"] is None)
    return found


def _allowances(view: Proven, environment: str, upto: int | None) -> dict[str, Record]:
    """The latest allowance of each fingerprint recorded before entry ``upto`` (all, for the
    latest state of a logical environment)."""
    out: dict[str, Record] = {}
    for position, entry in view.under(index.allowed_key(environment)):
        if upto is None or position < upto:
            record = entry["record"]
            out[record["fingerprint"]] = {"reason": record["reason"], "entry": position,
                                          "time": entry["time"]}
    return out


def _expectations(view: Proven, found: Record, grace: float) -> Record:
    """Expected but not running: announced before the snapshot (by more than ``grace``
    seconds) and shown by no snapshot of the environment since. Running but not expected: in
    the snapshot, announced never — asked only of environments that announce deployments."""
    env, upto = found["environment"], found["entry"]
    announced = [(i, e) for i, e in view.under(index.expected_key(env)) if i < upto]
    if not announced:
        return {"expected_missing": [], "unexpected": []}
    shown_at = _entry_time(view.entry(upto))
    running_now = {_fp(a) for a in found["artifacts"]}
    missing = []
    for position, entry in announced:
        fingerprint = entry["record"]["fingerprint"]
        if fingerprint in running_now or shown_at - _entry_time(entry) < grace:
            continue
        arrived = any(
            e["kind"] == "snapshot" and e["record"]["environment"] == env and position < i <= upto
            for i, e in view.under(index.running_key(fingerprint)))
        if not arrived:
            missing.append({"fingerprint": fingerprint, "entry": position,
                            "time": entry["time"],
                            **{k: entry["record"][k] for k in ("flow", "trail", "origin_url")
                               if k in entry["record"]}})
    said = {e["record"]["fingerprint"] for _, e in announced}
    unexpected = [{"name": a["name"], "fingerprint": _fp(a)} for a in found["artifacts"]
                  if _fp(a) and _fp(a) not in said]
    return {"expected_missing": missing, "unexpected": unexpected}


def _fp(artifact: Record) -> str:
    """The artifact's fingerprint, "" when its source could not tell it yet."""
    return str(artifact.get("fingerprint") or "")


def running_by_name(artifacts: list[Record]) -> dict[str, set[str]]:
    """Each name of a snapshot's artifacts with the fingerprints it runs ("" not known yet):
    what started, changed and exited is decided by comparing two of these."""
    out: dict[str, set[str]] = {}
    for artifact in artifacts:
        out.setdefault(artifact["name"], set()).add(_fp(artifact))
    return out


def _changes(before: list[Record], after: list[Record]) -> Record:
    """Counts of what started (a name not running before), exited (a name no longer running)
    and changed (a name running with other fingerprints) between two snapshots."""
    old, new = running_by_name(before), running_by_name(after)
    return {"started": sum(1 for n in new if n not in old),
            "exited": sum(1 for n in old if n not in new),
            "changed": sum(1 for n in new if n in old and new[n] != old[n])}


def environment_log(source: Ledger | Proven, name: str) -> list[Record]:
    """Every snapshot of a physical environment, oldest first, with what changed in each."""
    with proven(source) as view:
        physical_state(view, name, "log")
        out = []
        before: list[Record] = []
        for number, (position, entry) in enumerate(view.under(index.snapshots_key(name)), 1):
            after = entry["record"]["artifacts"]
            out.append({"number": number, "entry": position, "time": entry["time"],
                        "source": entry["record"]["source"], "running": len(after),
                        **_changes(before, after)})
            before = after
    return out


def diff_snapshots(source: Ledger | Proven, first: str, second: str, *,
                   now: float | None = None) -> Record:
    """What is running in ``second`` and not ``first`` (added), the reverse (removed), and
    names running in both with other fingerprints (changed), each side with its provenance."""
    with proven(source) as view:
        a = get_snapshot(view, first, now=now)
        b = get_snapshot(view, second, now=now)

    def keyed(found: Record) -> dict[tuple[str, str], Record]:
        return {(x["name"], _fp(x)): x for x in found["artifacts"]}

    left, right = keyed(a), keyed(b)
    names_left = running_by_name(a["artifacts"])
    names_right = running_by_name(b["artifacts"])
    changed_names = sorted(n for n in names_left if n in names_right
                           and names_left[n] != names_right[n])
    changed = [{"name": n,
                "from": [left[(n, f)] for f in sorted(names_left[n] - names_right[n])],
                "to": [right[(n, f)] for f in sorted(names_right[n] - names_left[n])]}
               for n in changed_names]
    moved = set(changed_names)
    return {
        "first": {k: a[k] for k in ("environment", "number", "entry", "time")},
        "second": {k: b[k] for k in ("environment", "number", "entry", "time")},
        "added": [x for k, x in sorted(right.items()) if k not in left and k[0] not in moved],
        "removed": [x for k, x in sorted(left.items()) if k not in right and k[0] not in moved],
        "changed": changed,
    }
