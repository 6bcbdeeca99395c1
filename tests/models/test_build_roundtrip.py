"""Every record builder's output is exactly what the pydantic models accept and dump back.

``affidavit.models.build`` makes the records the CLI writes without importing pydantic; the
models in ``affidavit.models.records`` validate whatever is read back. If the two disagreed, a
verifier re-serialising a record would hash other bytes than the ones that were signed, so the
test compares canonical bytes, not just equality of dicts.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from affidavit import canonical
from affidavit.models import build, predicates
from affidavit.models.records import (
    ENTRY,
    Allowance,
    Artifact,
    Attestation,
    Environment,
    Expectation,
    Flow,
    PolicyAttachment,
    PolicyVersion,
    Snapshot,
    Subject,
    Template,
    Trail,
)

FP = "0f" * 32
COMMIT = "89abcdef" * 5
TEMPLATE = Template.model_validate({
    "version": 1,
    "trail": {"attestations": [{"name": "unit", "type": "junit"}],
              "artifacts": [{"name": "app", "attestations": [{"name": "scan", "type": "*"}]}]},
}).canonical()
FULL_COMMIT = {"sha": COMMIT, "parents": ["1" * 40], "author": "A <a@example.com>",
               "committer": "C <c@example.com>", "timestamp": "2026-01-01T00:00:00Z",
               "message": "fix: things\n\nbody", "branch": "main",
               "repo_url": "https://example.com/r", "url": "https://example.com/r/c"}
EVIDENCE = [{"name": "junit/a.xml", "sha256": "1" * 64, "size": 0},
            {"name": "b.log", "sha256": "2" * 64, "size": 12345}]

FLOWS = {
    "minimal": {"name": "f"},
    "described": {"name": "backend-ci", "description": "Ünïcode ✓ \"quoted\"\nnewline"},
    "templated": {"name": "f.1_x~y-z", "description": "d", "template": TEMPLATE},
    "tagged": {"name": "f", "tags": {"risk-level": "high", "team": None}},
}
TRAILS = {
    "minimal": {"flow": "f", "name": "t"},
    "full": {"flow": "f", "name": COMMIT, "description": "PR #1", "template": TEMPLATE},
}
ARTIFACTS = {
    "minimal": {"flow": "f", "trail": "t", "name": "app", "fingerprint": FP,
                "artifact_type": "file"},
    "full": {"flow": "f", "trail": "t", "name": "image", "fingerprint": FP,
             "artifact_type": "oci", "filename": "app.tar", "commit": FULL_COMMIT,
             "origin_url": "https://ci.example/1", "annotations": {"k": "v", "empty": ""}},
}
ATTESTATIONS = {
    "trail-minimal": {"flow": "f", "trail": "t", "name": "unit", "type": "generic",
                      "compliant": True, "predicate": {"compliant": True}},
    "artifact-full": {
        "flow": "f", "trail": "t", "name": "scan", "type": "generic", "compliant": False,
        "predicate": {"compliant": False, "nested": {"list": [1, 2.5, None, "x"]}},
        "fingerprint": FP, "origin_url": "https://ci.example/2", "commit": {"sha": COMMIT},
        "user_data": {"ticket": "OPS-1", "numbers": [0, -1, 1e100], "none": None,
                      "deep": {"a": [{"b": False}]}},
        "annotations": {"team": "core"}, "evidence": EVIDENCE,
    },
    "custom-predicate-type": {
        "flow": "f", "trail": "t", "name": "artifact-report", "type": "artifact",
        "compliant": True, "predicate": {}, "predicate_type": "https://example.com/p/v1",
    },
    "user-data-scalar": {"flow": "f", "trail": "t", "name": "u", "type": "generic",
                         "compliant": True, "predicate": {"compliant": True},
                         "user_data": "just a string"},
    "user-data-list": {"flow": "f", "trail": "t", "name": "u", "type": "generic",
                       "compliant": True, "predicate": {"compliant": True},
                       "user_data": [1, "two", {"three": 3}]},
    "user-data-zero": {"flow": "f", "trail": "t", "name": "u", "type": "generic",
                       "compliant": True, "predicate": {"compliant": True}, "user_data": 0},
}

ENVIRONMENTS = {
    "minimal": {"name": "prod", "type": "server"},
    "full": {"name": "eu-1", "type": "k8s", "description": "Ünïcode", "include_scaling": True},
    "logical": {"name": "live", "type": "logical", "physical": ["eu-1", "prod"]},
}
SNAPSHOTS = {
    "empty": {"environment": "prod", "source": "path", "artifacts": []},
    "listed": {"environment": "prod", "source": "json", "artifacts": [
        build.running_artifact(name="web", fingerprint=FP, instances=3,
                               details={"image": "web:1", "ready": True, "cpu": 0.5,
                                        "node": None}),
        build.running_artifact(name="api/ünï", fingerprint="1" * 64),
    ]},
}

ALLOWANCES = {"one": {"environment": "prod", "fingerprint": FP, "reason": "vendor ✓"}}
EXPECTATIONS = {
    "minimal": {"environment": "prod", "fingerprint": FP},
    "full": {"environment": "prod", "fingerprint": FP, "flow": "f", "trail": COMMIT,
             "origin_url": "https://ci.example/3"},
}

POLICIES = {"yaml": {"name": "strict", "language": "yaml", "digest": FP,
                     "text": "_schema: x\n", "description": "d"}}
ATTACHMENTS = {"on": {"environment": "prod", "policy": "strict", "attached": True}}

CASES: list[tuple[str, str, dict[str, Any]]] = [
    *(("policy", name, kwargs) for name, kwargs in POLICIES.items()),
    *(("policy_attachment", name, kwargs) for name, kwargs in ATTACHMENTS.items()),
    *(("allowance", name, kwargs) for name, kwargs in ALLOWANCES.items()),
    *(("expectation", name, kwargs) for name, kwargs in EXPECTATIONS.items()),
    *(("environment", name, kwargs) for name, kwargs in ENVIRONMENTS.items()),
    *(("snapshot", name, kwargs) for name, kwargs in SNAPSHOTS.items()),
    *(("flow", name, kwargs) for name, kwargs in FLOWS.items()),
    *(("trail", name, kwargs) for name, kwargs in TRAILS.items()),
    *(("artifact", name, kwargs) for name, kwargs in ARTIFACTS.items()),
    *(("attestation", name, kwargs) for name, kwargs in ATTESTATIONS.items()),
]
MODELS = {"flow": Flow, "trail": Trail, "artifact": Artifact, "attestation": Attestation,
          "environment": Environment, "snapshot": Snapshot, "allowance": Allowance,
          "expectation": Expectation, "policy": PolicyVersion,
          "policy_attachment": PolicyAttachment}


def _check_round_trip(kind: str, record: dict[str, Any]) -> None:
    entry = build.entry(kind, record)
    model = ENTRY.validate_python(entry)
    assert model.kind == kind
    dumped = model.canonical()
    assert dumped == entry
    assert canonical.dumps(dumped) == canonical.dumps(entry)
    # The bytes the ledger stores parse back to the same model and bytes.
    again = ENTRY.validate_json(canonical.dumps(entry))
    assert canonical.dumps(again.canonical()) == canonical.dumps(entry)
    # And the record alone validates with its own model.
    assert MODELS[kind].model_validate(record).canonical() == record


@pytest.mark.parametrize(("kind", "kwargs"), [(k, a) for k, _, a in CASES],
                         ids=[f"{k}-{n}" for k, n, _ in CASES])
def test_builder_output_validates_and_round_trips(kind: str, kwargs: dict[str, Any]) -> None:
    record = getattr(build, kind)(**kwargs)
    _check_round_trip(kind, record)


def test_builders_leave_out_absent_fields() -> None:
    assert build.flow(name="f", description=None, template=None) == {"name": "f"}
    assert build.trail(flow="f", name="t") == {"flow": "f", "name": "t"}
    record = build.attestation(flow="f", trail="t", name="n", type="generic", compliant=True,
                               predicate={"compliant": True}, user_data={}, annotations={},
                               evidence=[])
    assert set(record) == {"flow", "trail", "name", "type", "compliant", "target", "statement"}


def test_attestation_statement_shape() -> None:
    trail_level = build.attestation(flow="f", trail="t", name="unit", type="generic",
                                    compliant=True, predicate={"compliant": True})
    assert trail_level["target"] == {"kind": "trail"}
    assert trail_level["statement"] == {
        "_type": predicates.STATEMENT_TYPE,
        "subject": [build.trail_subject("f", "t")],
        "predicateType": predicates.GENERIC,
        "predicate": {"compliant": True},
    }
    bound = build.attestation(flow="f", trail="t", name="scan", type="generic",
                              compliant=False, predicate={}, fingerprint=FP)
    assert bound["target"] == {"kind": "artifact", "fingerprint": FP}
    assert bound["statement"]["subject"] == [{"name": "scan", "digest": {"sha256": FP}}]


def test_trail_subject_validates() -> None:
    import hashlib

    subject = build.trail_subject("flow", "trail")
    assert Subject.model_validate(subject).canonical() == subject
    assert subject == {"name": "trail:flow/trail",
                       "digest": {"sha256": hashlib.sha256(b"trail:flow/trail").hexdigest()}}


def test_entry_time() -> None:
    stamp = build.now()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp)
    entry = build.entry("flow", build.flow(name="f"))
    assert set(entry) == {"v", "kind", "time", "record"}
    assert entry["v"] == 1
    fixed = build.entry("flow", build.flow(name="f"), time="2026-01-31T10:00:00Z")
    assert ENTRY.validate_python(fixed).canonical() == fixed


@pytest.mark.parametrize(("kind", "record"), [
    ("flow", {"name": "f", "surprise": 1}),
    ("flow", {"name": "bad name"}),
    ("artifact", {**build.artifact(flow="f", trail="t", name="a", fingerprint=FP,
                                   artifact_type="file"), "fingerprint": FP.upper()}),
    ("attestation", {**build.attestation(flow="f", trail="t", name="n", type="generic",
                                         compliant=True, predicate={}), "compliant": "maybe"}),
    ("nonsense", {"name": "f"}),
    ("environment", {"name": "prod", "type": "mainframe"}),
    ("allowance", {"environment": "prod", "fingerprint": FP, "reason": ""}),
    ("snapshot", {"environment": "prod", "source": "json",
                  "artifacts": [{"name": "a", "fingerprint": FP, "details": {"x": [1]}}]}),
    ("snapshot", {"environment": "prod", "source": "json",
                  "artifacts": [{"name": "", "fingerprint": FP}]}),
])
def test_models_refuse_what_builders_never_make(kind: str, record: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ENTRY.validate_python(build.entry(kind, record))


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | _text
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)
_name = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._~-]{0,20}\Z")


@settings(max_examples=50, deadline=None)
@given(flow=_name, trail=_name, name=_name, description=_text, user_data=_json,
       compliant=st.booleans(), fingerprint=st.none() | st.just(FP),
       annotations=st.dictionaries(_text, _text, max_size=3))
def test_round_trip_property(
    flow: str, trail: str, name: str, description: str, user_data: Any, compliant: bool,
    fingerprint: str | None, annotations: dict[str, str],
) -> None:
    _check_round_trip("flow", build.flow(name=flow, description=description or None))
    _check_round_trip("trail", build.trail(flow=flow, name=trail, description=description))
    _check_round_trip("attestation", build.attestation(
        flow=flow, trail=trail, name=name, type="generic", compliant=compliant,
        predicate={"compliant": compliant, "extra": user_data}, fingerprint=fingerprint,
        user_data=user_data, annotations=annotations))


def test_models_do_not_coerce_types() -> None:
    """A record read back must say what it means: "yes" is not a boolean, "1" not a version."""
    from pydantic import ValidationError

    from affidavit.models.records import ENTRY, Template

    record = build.attestation(flow="f", trail="t", name="n", type="generic", compliant=True,
                               predicate={"compliant": True})
    entry = build.entry("attestation", {**record, "compliant": "yes"})
    with pytest.raises(ValidationError):
        ENTRY.validate_python(entry)
    with pytest.raises(ValidationError):
        Template.model_validate({"version": "1"})
