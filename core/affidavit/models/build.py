"""Canonical records, built as plain dicts so the write path never waits for pydantic to import.

Each function returns exactly the dict that ``records`` validates (absent means none: optional
fields are left out rather than written as null), wrapped by :func:`entry` into the leaf that the
ledger hashes. ``tests/models`` proves every builder's output round-trips through its model.
"""

from __future__ import annotations

import time as _time

from affidavit.digest import sha256
from affidavit.models import predicates

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    Record = dict[str, Any]

__all__ = [
    "entry",
    "flow",
    "trail",
    "artifact",
    "attestation",
    "signed",
    "attestation_type",
    "environment",
    "running_artifact",
    "snapshot",
    "allowance",
    "expectation",
    "policy",
    "policy_attachment",
    "webhook",
    "trail_subject",
    "now",
]



def now() -> str:
    """The current UTC time as RFC 3339 with microseconds and a ``Z``."""
    # time.strftime instead of datetime: this runs on every write and datetime costs 2 ms to import
    now_ns = _time.time_ns()
    seconds, nanos = divmod(now_ns, 1_000_000_000)
    return _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(seconds)) + f".{nanos // 1000:06d}Z"


def _pruned(values: dict[str, Any]) -> Record:
    return {k: v for k, v in values.items() if v is not None and v != {} and v != []}


def entry(kind: str, record: Record, *, time: str | None = None) -> Record:
    """The log entry: format version, kind, when it was recorded, and the record itself."""
    return {"v": 1, "kind": kind, "time": time or now(), "record": record}


def flow(
    *, name: str, description: str | None = None, template: Record | None = None,
    tags: dict[str, str | None] | None = None,
) -> Record:
    """A flow was created or changed; only the fields given are recorded (others are kept),
    and of ``tags`` only the keys given (None removes one)."""
    return _pruned({"name": name, "description": description, "template": template,
                    "tags": dict(sorted(tags.items())) if tags else None})


def trail(
    *,
    flow: str,
    name: str,
    description: str | None = None,
    template: Record | None = None,
) -> Record:
    """A trail was begun or changed; like flows, fields not given keep their earlier value."""
    return _pruned(
        {"flow": flow, "name": name, "description": description, "template": template}
    )


def artifact(
    *,
    flow: str,
    trail: str,
    name: str,
    fingerprint: str,
    artifact_type: str,
    filename: str | None = None,
    commit: Record | None = None,
    origin_url: str | None = None,
    annotations: dict[str, str] | None = None,
    image: Record | None = None,
) -> Record:
    """An artifact reported to a trail under a template name (``image``: where an image's
    digest came from, its media type and platforms)."""
    return _pruned(
        {
            "flow": flow,
            "trail": trail,
            "name": name,
            "fingerprint": fingerprint,
            "artifact_type": artifact_type,
            "filename": filename,
            "image": image,
            "commit": commit,
            "origin_url": origin_url,
            "annotations": annotations,
        }
    )


def attestation_type(
    *, name: str, schema: Record, rules: list[str], description: str | None = None
) -> Record:
    """A custom attestation type was created or changed: the JSON Schema its data must match
    and the rules that decide compliance. Each change is a new version (its entry index)."""
    return _pruned({"name": name, "description": description, "schema": schema,
                    "rules": rules})


def environment(*, name: str, type: str, description: str | None = None,
                include_scaling: bool | None = None,
                physical: list[str] | None = None) -> Record:
    """An environment was created or changed; fields not given keep their earlier value."""
    return _pruned({"name": name, "type": type, "description": description,
                    "include_scaling": include_scaling, "physical": physical})


def running_artifact(*, name: str, fingerprint: str | None = None,
                     instances: int | None = None, details: Record | None = None) -> Record:
    """One artifact a snapshot found running."""
    return _pruned({"name": name, "fingerprint": fingerprint, "instances": instances,
                    "details": details})


def snapshot(*, environment: str, source: str, artifacts: list[Record]) -> Record:
    """Everything running in ``environment``, in one order whatever order the source listed
    it in, so that the same set is always the same record (and "unchanged" is equality)."""
    ordered = sorted(artifacts, key=lambda a: (a["name"], a.get("fingerprint") or "",
                                                repr(sorted(a.items()))))
    return {"environment": environment, "source": source, "artifacts": ordered}


def allowance(*, environment: str, fingerprint: str, reason: str) -> Record:
    """An artifact may run in ``environment`` without provenance."""
    return {"environment": environment, "fingerprint": fingerprint, "reason": reason}


def expectation(*, environment: str, fingerprint: str, flow: str | None = None,
                trail: str | None = None, origin_url: str | None = None) -> Record:
    """A pipeline is deploying ``fingerprint`` to ``environment``."""
    return _pruned({"environment": environment, "fingerprint": fingerprint, "flow": flow,
                    "trail": trail, "origin_url": origin_url})


def policy(*, name: str, language: str, digest: str, text: str,
           description: str | None = None) -> Record:
    """A new version of policy ``name``."""
    return _pruned({"name": name, "language": language, "digest": digest, "text": text,
                    "description": description})


def policy_attachment(*, environment: str, policy: str, attached: bool) -> Record:
    """Policy ``policy`` now applies (or no longer applies) to ``environment``."""
    return {"environment": environment, "policy": policy, "attached": attached}


def webhook(*, name: str, events: list[str], url: str | None = None,
            url_env: str | None = None, environment: str | None = None,
            flow: str | None = None, secret_env: str | None = None,
            format: str | None = None) -> Record:
    """Environment ``environment``'s (or flow ``flow``'s) ``events`` are POSTed to ``url`` (or
    to the URL the variable ``url_env`` holds when it is sent), as ``format`` says (absent:
    JSON); a later entry of the same name there replaces it."""
    return _pruned({"name": name, "environment": environment, "flow": flow, "url": url,
                    "url_env": url_env, "events": events, "secret_env": secret_env,
                    "format": format})


def trail_subject(flow: str, trail: str) -> Record:
    """The in-toto subject standing for a whole trail: its name and the SHA-256 of that name."""
    name = f"trail:{flow}/{trail}"
    return {"name": name, "digest": {"sha256": sha256(name.encode()).hexdigest()}}


def attestation(
    *,
    flow: str,
    trail: str,
    name: str,
    type: str,
    compliant: bool,
    predicate: Record,
    predicate_type: str | None = None,
    fingerprint: str | None = None,
    artifact: str | None = None,
    origin_url: str | None = None,
    commit: Record | None = None,
    user_data: Any = None,
    annotations: dict[str, str] | None = None,
    evidence: list[Record] | None = None,
    redacted: list[str] | None = None,
    sigstore: Record | None = None,
) -> Record:
    """A typed claim about a trail, about the artifact ``fingerprint`` when one is given, or about
    every artifact reported as ``artifact`` for ``commit`` (whenever that report arrives).

    The claim itself is an in-toto Statement v1; the fields around it are what affidavit needs to
    file and judge it without parsing every predicate type.
    ``sigstore``: what a Sigstore bundle attached to it was verified to say
    (``verify.sigstore_bundles.verify_bundle``).
    """
    if fingerprint:
        subject: Record = {"name": name, "digest": {"sha256": fingerprint}}
        target: Record = {"kind": "artifact", "fingerprint": fingerprint}
    elif artifact and commit:
        # Bound by template name and commit: the fingerprint may not be reported yet, so the
        # subject names the binding itself.
        label = f"artifact:{flow}/{trail}/{artifact}@{commit['sha']}"
        subject = {"name": label, "digest": {"sha256": sha256(label.encode()).hexdigest()}}
        target = {"kind": "artifact", "artifact": artifact, "commit": commit["sha"]}
    else:
        subject = trail_subject(flow, trail)
        target = {"kind": "trail"}
    statement = {
        "_type": predicates.STATEMENT_TYPE,
        "subject": [subject],
        "predicateType": predicate_type or predicates.PREDICATE_TYPES[type],
        "predicate": predicate,
    }
    return _pruned(
        {
            "flow": flow,
            "trail": trail,
            "name": name,
            "type": type,
            "compliant": compliant,
            "target": target,
            "statement": statement,
            "origin_url": origin_url,
            "commit": commit,
            "user_data": user_data,
            "annotations": annotations,
            "evidence": evidence,
            "redacted": redacted,
            "sigstore": sigstore,
        }
    )


def signed(record: Record, envelope: Record, signed_by: Record) -> Record:
    """The attestation ``record`` with the DSSE ``envelope`` of its statement and the key that
    signed it (``models.dsse.envelope``)."""
    return {**record, "envelope": envelope, "signed_by": signed_by}
