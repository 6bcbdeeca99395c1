"""A YAML policy and its Rego translation reach the same decisions on the same artifacts.

Each ``cases/NAME.rego`` states the rules of ``cases/NAME.yml`` against Kosli's ``kosli
evaluate`` input, its violations being ``RULE: REASON``. So for every artifact the Rego
decision must be compliant exactly when every YAML decision is, and its reason must be the
YAML decisions that failed, rule by rule, as the engine joins violations (sorted, ``; ``) —
on the fixture artifacts and on artifacts hypothesis makes up (a snapshot lists a name and
fingerprint once, so they do too).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from affidavit.compliance.policies import (
    ArtifactFacts,
    ArtifactKey,
    Decision,
    Policy,
    evaluate,
    load_policy,
    snapshot_status,
)

CASES = Path(__file__).parent / "cases"
PAIRS = ["provenance", "trail-compliance", "attestations", "kosli-example"]
ARTIFACTS: list[ArtifactFacts] = json.loads((CASES / "artifacts.json").read_text())


@functools.cache
def loaded(name: str) -> tuple[Policy, Policy]:
    yaml_form = load_policy((CASES / f"{name}.yml").read_bytes(), f"policy file {name}.yml")
    rego_form = load_policy((CASES / f"{name}.rego").read_bytes(), f"policy file {name}.rego")
    assert (yaml_form.language, rego_form.language) == ("yaml", "rego")
    return yaml_form, rego_form


def as_one_rule(decisions: list[Decision], key: ArtifactKey) -> tuple[bool, str]:
    """The YAML decisions on one artifact, folded the way a Rego policy states them."""
    failing = sorted({f"{d.rule}: {d.reason}" for d in decisions
                      if d.artifact == key and not d.compliant})
    return (False, "; ".join(failing)) if failing else (True, "allowed by the policy")


def assert_same(name: str, artifacts: list[ArtifactFacts]) -> None:
    yaml_form, rego_form = loaded(name)
    by_rule, by_policy = evaluate(yaml_form, artifacts), evaluate(rego_form, artifacts)
    assert [d.artifact for d in by_policy] == [
        ArtifactKey(a["name"], a["fingerprint"]) for a in artifacts]
    for decision in by_policy:
        assert decision.rule == "policy"
        assert (decision.compliant, decision.reason) == as_one_rule(by_rule, decision.artifact), (
            decision.artifact)
    assert snapshot_status(by_rule) == snapshot_status(by_policy)


@pytest.mark.parametrize("name", PAIRS)
def test_the_fixture_artifacts_get_the_same_decisions(name: str) -> None:
    assert_same(name, ARTIFACTS)


@pytest.mark.parametrize("name", PAIRS)
def test_the_fixtures_exercise_both_outcomes(name: str) -> None:
    yaml_form, _ = loaded(name)
    outcomes = {d.compliant for d in evaluate(yaml_form, ARTIFACTS)}
    assert outcomes == {True, False}


def test_a_policy_that_requires_nothing_is_the_allow_all_policy() -> None:
    yaml_form = load_policy(b"_schema: https://kosli.com/schemas/policy/environment/v1\n", "y")
    rego_form = load_policy(b"package policy\n\nallow := true\n", "r")
    assert evaluate(yaml_form, ARTIFACTS) == []
    assert all(d.compliant for d in evaluate(rego_form, ARTIFACTS))
    assert snapshot_status(evaluate(yaml_form, ARTIFACTS)) == "COMPLIANT"
    assert snapshot_status(evaluate(rego_form, ARTIFACTS)) == "COMPLIANT"


def test_kosli_spellings_of_one_policy_decide_alike() -> None:
    """Flow style, bare expressions and another schema URL are the same policy."""
    block, _ = loaded("provenance")
    flow_style = load_policy(
        b'{"_schema": "https://docs.kosli.com/schemas/policy/v1", "artifacts": {"provenance": '
        b'{"required": true, "exceptions": [{"if": "matches(artifact.name, \\"^datadog:\\")"}]}}}',
        "policy file flow.yml")
    assert evaluate(block, ARTIFACTS) == evaluate(flow_style, ARTIFACTS)
    assert block.digest != flow_style.digest


# --- made-up artifacts -------------------------------------------------------------------------

HEX = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
ATTESTATION = st.fixed_dictionaries({
    "name": st.sampled_from(["unit-test", "pull-request", "image-scan", "coverage", "dep-scan"]),
    "type": st.sampled_from(["junit", "pull_request", "snyk", "custom:coverage-metrics",
                             "generic"]),
    "compliant": st.booleans()})
PROVENANCE = st.fixed_dictionaries({
    "flow": st.fixed_dictionaries({
        "name": st.sampled_from(["web", "sandbox", "playground", "api"]),
        "tags": st.dictionaries(st.sampled_from(["risk-level", "tier", "team"]),
                                st.sampled_from(["high", "low", "experimental", "x"]),
                                max_size=3)}),
    "trail": st.fixed_dictionaries({
        "name": st.sampled_from(["t-1", "release-2"]),
        "compliance": st.sampled_from(["COMPLIANT", "NON_COMPLIANT", "INCOMPLETE"])}),
    "attestations": st.lists(ATTESTATION, max_size=5)})
ARTIFACT = st.fixed_dictionaries({
    "name": st.sampled_from(["web", "datadog:agent", "legacy-batch", "datadog", "api"]),
    "fingerprint": st.none() | HEX,
    "provenance": st.none() | PROVENANCE})


@pytest.mark.parametrize("name", PAIRS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(artifacts=st.lists(ARTIFACT, min_size=1, max_size=8,
                         unique_by=lambda a: (a["name"], a["fingerprint"])))
def test_made_up_artifacts_get_the_same_decisions(name: str,
                                                  artifacts: list[ArtifactFacts]) -> None:
    assert_same(name, artifacts)
