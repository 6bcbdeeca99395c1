"""Environment policies on the ledger: versions, attachments, and the compliance of what runs.

A policy version is an entry holding the policy's whole text, so the decisions it makes can be
rerun by anyone from the log; creating a policy again with the same text records nothing, and
another text is the next version (its number is its place under ``policy:<name>``, proven by
the key map). An environment's policies are the ones attached to it and not detached since,
each at its latest version.

A snapshot's compliance is decided when it is read, by ``compliance.policies`` over the facts
the ledger proves now (provenance, the trail's verdict, the attestations): COMPLIANT,
NON_COMPLIANT, or UNKNOWN when no policy is attached -- and every answer names the policy
versions (entry and digest) that made it. An artifact the environment's allowlist accepts
passes without being evaluated; the decision says so.
"""

from __future__ import annotations

import hashlib

from affidavit.api.record import Recorded, _append, _head
from affidavit.errors import IntegrityError, NotFoundError, UsageError
from affidavit.ledger import index
from affidavit.models import build
from affidavit.models.fields import check_name
from affidavit.verify.proven import Proven, proven

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from affidavit.ledger.base import Ledger

    Record = dict[str, Any]

__all__ = [
    "create_policy",
    "attach_policy",
    "detach_policy",
    "policy_versions",
    "list_policies",
    "policies_in_force",
    "snapshot_compliance",
    "assert_snapshot",
    "environment_status",
    "assert_artifact_in",
    "evaluate_snapshot",
    "evaluate_trails",
]


def _load(path: str) -> Any:
    from affidavit.api.inputs import read_input
    from affidavit.compliance.policies import load_policy

    return load_policy(read_input(path, "policy"), f"policy file {path}")


def _digest(text: str) -> str:
    """What a version's ``digest`` is: the SHA-256 of its text in UTF-8 (checkable from the
    entry alone)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def policy_versions(source: Ledger | Proven, name: str) -> list[Record]:
    """Every version of policy ``name``, oldest first: ``{version, entry, time, record}``."""
    with proven(source) as view:
        found = [(i, e) for i, e in view.under(index.policy_key(name)) if e["kind"] == "policy"]
    out = []
    for number, (position, entry) in enumerate(found, 1):
        record = entry["record"]
        if _digest(record["text"]) != record["digest"]:
            raise IntegrityError(f"policy {name!r} version {number} (entry {position}): its "
                                 "digest is not the SHA-256 of its text")
        out.append({"version": number, "entry": position, "time": entry["time"],
                    "record": record})
    return out


def create_policy(ledger: Ledger, *, name: str, file: str, description: str | None = None,
                  dry_run: bool = False) -> Recorded | None:
    """Record a new version of policy ``name`` from ``file`` (checked to load: YAML v1 or
    Rego); None when its latest version already has this text."""
    check_name(name, "policy")
    policy = _load(file)
    digest = _digest(policy.text)
    with _head(ledger) as head:
        versions = policy_versions(head, name)
        if not dry_run:
            head.check_writable()
    if versions and versions[-1]["record"]["digest"] == digest:
        return None
    record = build.policy(name=name, language=policy.language, digest=digest,
                          text=policy.text, description=description)
    return _append(ledger, build.entry("policy", record), dry_run, head)


def _attachment(ledger: Ledger, name: str, environment: str, attached: bool,
                dry_run: bool) -> Recorded | None:
    from affidavit.api.environments import physical_state

    with _head(ledger) as head:
        if not policy_versions(head, name):
            raise NotFoundError(f"policy {name!r} does not exist",
                                remedy=f"affidavit create policy {name} --file FILE")
        physical_state(head, environment, "attach policies to")
        now = {p["name"] for p in _attached(head, environment, None)}
        if not dry_run:
            head.check_writable()
    if (name in now) == attached:
        return None
    record = build.policy_attachment(environment=environment, policy=name, attached=attached)
    return _append(ledger, build.entry("policy_attachment", record), dry_run, head)


def attach_policy(ledger: Ledger, *, name: str, environment: str,
                  dry_run: bool = False) -> Recorded | None:
    """Policy ``name`` applies to ``environment`` from now on (None: it already did)."""
    return _attachment(ledger, name, environment, True, dry_run)


def detach_policy(ledger: Ledger, *, name: str, environment: str,
                  dry_run: bool = False) -> Recorded | None:
    """Policy ``name`` no longer applies to ``environment`` (None: it did not)."""
    return _attachment(ledger, name, environment, False, dry_run)


def _attached(view: Proven, environment: str, upto: int | None) -> list[Record]:
    """The policies attached to ``environment`` before entry ``upto`` (all when None)."""
    state: dict[str, bool] = {}
    for position, entry in view.under(index.attached_key(environment)):
        if upto is None or position < upto:
            state[entry["record"]["policy"]] = entry["record"]["attached"]
    return [{"name": name} for name, on in sorted(state.items()) if on]


def policies_in_force(source: Ledger | Proven, environment: str,
                      upto: int | None = None) -> list[Record]:
    """Each attached policy at its latest version (before ``upto``): ``{name, version,
    entry, digest, language, text}``."""
    out = []
    with proven(source) as view:
        for attached in _attached(view, environment, upto):
            versions = [v for v in policy_versions(view, attached["name"])
                        if upto is None or v["entry"] < upto]
            latest = versions[-1]
            record = latest["record"]
            out.append({"name": attached["name"], "version": latest["version"],
                        "entry": latest["entry"], "digest": record["digest"],
                        "language": record["language"], "text": record["text"]})
    return out


def list_policies(source: Ledger | Proven) -> list[Record]:
    """Every policy with its number of versions and its latest's language and digest."""
    with proven(source) as view:
        names = {e["record"]["name"]: None for _, e in view.under(index.POLICIES_KEY)}
        out = []
        for name in names:
            versions = policy_versions(view, name)
            latest = versions[-1]["record"]
            out.append({"name": name, "versions": len(versions),
                        "language": latest["language"], "digest": latest["digest"],
                        "description": latest.get("description")})
    return out


def _facts(artifact: Record) -> Any:
    provenance = artifact.get("provenance")
    facts: dict[str, Any] = {"name": artifact["name"],
                             "fingerprint": artifact.get("fingerprint"), "provenance": None}
    if provenance is not None:
        facts["provenance"] = {
            "flow": {"name": provenance["flow"], "tags": provenance.get("flow_tags") or {}},
            "trail": {"name": provenance["trail"], "compliance": provenance["trail_status"]},
            "attestations": provenance["attestations"]}
    return facts


def _loaded(policies: list[Record]) -> list[tuple[Record, Any]]:
    """Each policy version with its loaded rules: a Rego text is checked in a child process,
    so a what-if over many snapshots loads it once."""
    from affidavit.compliance.policies import load_policy

    return [(p, load_policy(p["text"].encode("utf-8"), f"policy {p['name']} version "
                            f"{p['version']}")) for p in policies]


def _decide(policies: list[tuple[Record, Any]], artifacts: list[Record], where: str) -> Record:
    """The compliance of ``artifacts`` (with provenance joined) under ``policies`` (from
    :func:`_loaded`)."""
    from affidavit.compliance.policies import evaluate, snapshot_status

    if not policies:
        return {"status": "UNKNOWN", "policies": [], "decisions": [],
                "reasons": [f"no policy is attached to {where}"]}
    decisions: list[Record] = []
    judged = []
    for a in artifacts:
        if a.get("provenance") is None and a.get("allowed"):
            decisions.append({"artifact": {"name": a["name"], "fingerprint": a["fingerprint"]},
                              "rule": "allowlist", "compliant": True, "policy": None,
                              "reason": f"allowlisted: {a['allowed']['reason']}"})
        else:
            judged.append(a)
    made = []
    for policy, loaded in policies:
        found = evaluate(loaded, [_facts(a) for a in judged])
        made += found
        decisions += [{**d.as_dict(), "policy": f"{policy['name']}#{policy['version']}"}
                      for d in found]
    status = snapshot_status(made)
    reasons = [f"{d['artifact']['name']} ({(d['artifact']['fingerprint'] or 'unknown')[:12]}): "
               f"{d['policy']} {d['rule']}: {d['reason']}"
               for d in decisions if not d["compliant"]]
    return {"status": status,
            "policies": [{k: p[k] for k in ("name", "version", "entry", "digest", "language")}
                         for p, _ in policies],
            "decisions": decisions, "reasons": reasons}


def snapshot_compliance(source: Ledger | Proven, address: str, *,
                        dry: list[tuple[Record, Any]] | None = None,
                        grace: float | None = None) -> Record:
    """The snapshot ``address`` names with its compliance under the policies attached to its
    environment now (or, given ``dry``, under those policies alone: a dry run); a
    logical environment's union has no compliance of its own (its members have)."""
    from affidavit.api.environments import DEFAULT_GRACE, get_snapshot

    with proven(source) as view:
        found = get_snapshot(view, address, grace=DEFAULT_GRACE if grace is None else grace)
        if found["source"] == "logical":
            if dry is not None:
                raise UsageError(f"snapshot {address!r}: policies apply to physical "
                                 "environments")
            return found
        policies = dry if dry is not None else _loaded(
            policies_in_force(view, found["environment"]))
        found["compliance"] = _decide(policies, found["artifacts"],
                                      f"environment {found['environment']!r}")
    return found


def _dry(path: str) -> list[tuple[Record, Any]]:
    """The policy file ``path`` as :func:`_loaded` gives an attached one (loaded once)."""
    policy = _load(path)
    return [({"name": path, "version": 0, "entry": None, "digest": _digest(policy.text),
              "language": policy.language, "text": policy.text}, policy)]


def assert_snapshot(source: Ledger | Proven, environment: str) -> Record:
    """The latest snapshot's compliance: ``compliant`` only when COMPLIANT (UNKNOWN, no
    policy attached, fails closed)."""
    found = snapshot_compliance(source, environment)
    if "compliance" not in found:
        raise UsageError(f"environment {environment!r} is logical: assert its physical ones")
    return _gate(f"snapshot {environment}#{found['number']}", found["compliance"])


def environment_status(source: Ledger | Proven, environment: str) -> str:
    """The status of what runs in ``environment`` now (its badge): its latest snapshot's
    compliance, as ``assert snapshot`` decides it; for a logical environment the worst of its
    members' (any NON_COMPLIANT, else any UNKNOWN or a member without a snapshot, else
    COMPLIANT)."""
    from affidavit.api.environments import environment_state
    from affidavit.errors import NotFoundError

    with proven(source) as view:
        state = environment_state(view, environment)
        if state["type"] != "logical":
            return str(snapshot_compliance(view, environment)["compliance"]["status"])
        statuses = set()
        for member in state["physical"]:
            try:
                statuses.add(snapshot_compliance(view, member)["compliance"]["status"])
            except NotFoundError:
                statuses.add("UNKNOWN")
    if "NON_COMPLIANT" in statuses:
        return "NON_COMPLIANT"
    return "UNKNOWN" if "UNKNOWN" in statuses or not statuses else "COMPLIANT"


def _gate(subject: str, compliance: Record) -> Record:
    from affidavit.api.gate import result

    return result(subject, compliance["status"], compliance["reasons"],
                  policies=compliance["policies"], decisions=compliance["decisions"])


def assert_artifact_in(source: Ledger | Proven, fingerprint: str, environment: str) -> Record:
    """Whether ``fingerprint`` meets the policies attached to ``environment``, running there
    or not yet (a gate before the deploy)."""
    from affidavit.api.environments import _allowances, _provenance, physical_state
    from affidavit.models.fields import check_sha256

    fingerprint = check_sha256(fingerprint, "fingerprint")
    with proven(source) as view:
        physical_state(view, environment, "assert policies in")
        provenance = _provenance(view, [fingerprint])[fingerprint]
        allowed = _allowances(view, environment, None).get(fingerprint)
        name = provenance["name"] if provenance else fingerprint[:12]
        artifact = {"name": name, "fingerprint": fingerprint, "provenance": provenance,
                    "allowed": allowed}
        compliance = _decide(_loaded(policies_in_force(view, environment)), [artifact],
                             f"environment {environment!r}")
    return _gate(f"artifact {fingerprint[:12]} in {environment}", compliance)


def evaluate_snapshot(source: Ledger | Proven, environment: str, policy_file: str, *,
                      since: str | None = None) -> Record:
    """What ``policy_file`` decides of the latest snapshot, or, with ``since``, of every
    snapshot recorded since then: the what-if of a policy before anyone attaches it."""
    policies = _dry(policy_file)  # a bad file is refused before the ledger is read
    if since is None:
        found = snapshot_compliance(source, environment, dry=policies)
        return {"environment": environment, "snapshots": [_verdict_of(found)]}
    from affidavit.api.durations import point_in_time
    from affidavit.api.environments import get_snapshot

    start = point_in_time(since, "--since")
    out = []
    with proven(source) as view:
        for number, (_, entry) in enumerate(view.under(index.snapshots_key(environment)), 1):
            if entry["time"] < start:
                continue
            found = get_snapshot(view, f"{environment}#{number}")
            found["compliance"] = _decide(policies, found["artifacts"],
                                          f"environment {environment!r}")
            out.append(_verdict_of(found))
    return {"environment": environment, "since": start, "snapshots": out,
            "would_block": sum(1 for s in out if s["status"] != "COMPLIANT")}


def _verdict_of(found: Record) -> Record:
    compliance = found["compliance"]
    blocked = sorted({(d["artifact"]["name"], d["artifact"]["fingerprint"] or "")
                      for d in compliance["decisions"] if not d["compliant"]})
    return {"number": found["number"], "entry": found["entry"], "time": found["time"],
            "status": compliance["status"], "reasons": compliance["reasons"],
            "blocked": [{"name": n, "fingerprint": f or None} for n, f in blocked]}


def evaluate_trails(source: Ledger | Proven, flow: str, trails: list[str],
                    policy_file: str) -> Record:
    """What ``policy_file`` decides of each trail, recording nothing (Kosli's ``evaluate
    trail|trails``): each trail is judged as one subject named after it, with its flow, its
    verdict and every attestation reported to it -- the facts a snapshot gives an artifact."""
    from affidavit.api.query import flow_entries, flow_tags, trail_names, trail_state

    policies = _dry(policy_file)
    with proven(source) as view:
        names = trails or trail_names(view, flow)
        tags = flow_tags(flow_entries(view, flow))
        subjects = []
        for name in names:
            state = trail_state(view, flow, name)
            attested = [{"name": a["name"], "type": a["type"], "compliant": a["compliant"]}
                        for a in state["attestations"] if not a["superseded"]]
            subjects.append({"name": name, "fingerprint": None, "allowed": None,
                             "provenance": {"flow": flow, "flow_tags": tags, "trail": name,
                                            "trail_status": state["status"],
                                            "attestations": attested}})
    out = []
    for subject in subjects:
        decided = _decide(policies, [subject], f"trail {flow}/{subject['name']}")
        out.append({"trail": subject["name"], "status": decided["status"],
                    "reasons": decided["reasons"], "decisions": decided["decisions"]})
    return {"flow": flow, "policy": {k: policies[0][0][k] for k in ("digest", "language")},
            "trails": out, "compliant": all(t["status"] == "COMPLIANT" for t in out)}
