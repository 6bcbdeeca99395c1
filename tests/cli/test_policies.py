"""Environment policies end to end through the CLI, on every backend: versions, attachments,
``assert snapshot`` (UNKNOWN fails closed), ``assert artifact --environment`` before a deploy,
the allowlist, the what-if of ``evaluate snapshot --since``, and the same decisions from a
YAML policy and its Rego form."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import Result, assert_error, ok

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

Cli = Callable[..., Result]
CASES = Path(__file__).parents[1] / "compliance" / "policies" / "cases"

STRICT = """\
_schema: https://kosli.com/schemas/policy/environment/v1
artifacts:
  provenance:
    required: true
  trail-compliance:
    required: true
  attestations:
    - name: unit
      type: generic
"""


def fp(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def entries(cli: Cli) -> int:
    return len(ok(cli("log", "ledger", "--output", "json")).json())


@pytest.fixture
def shop(cli: Cli, files: Callable[..., Path]) -> Callable[[str, bool], None]:
    """Flow ``shop`` (its artifact ``app`` needs a generic ``unit``) and environment ``prod``;
    returns ``build(version, tested)``: a trail reporting ``app`` of that version, attested
    ``unit`` when ``tested``."""
    template = files("flow.yml", "version: 1\ntrail:\n  artifacts:\n    - name: app\n"
                     "      attestations:\n        - {name: unit, type: generic}\n")
    ok(cli("create", "flow", "shop", "--template-file", template))
    ok(cli("create", "environment", "prod", "--type", "server"))

    def build(version: str, tested: bool) -> None:
        ok(cli("begin", "trail", version, "--flow", "shop"))
        ok(cli("attest", "artifact", "--fingerprint", fp(version), "--flow", "shop", "--trail",
               version, "--name", "app"))
        if tested:
            ok(cli("attest", "generic", "--flow", "shop", "--trail", version, "--name", "unit",
                   "--fingerprint", fp(version), "--compliant", "true"))
    return build


def run(cli: Cli, files: Callable[..., Path], n: int, *versions: str) -> None:
    listing = files(f"run{n}.json", json.dumps(
        [{"name": f"app-{v}", "fingerprint": fp(v)} for v in versions]))
    ok(cli("snapshot", "json", "prod", "--file", listing))


def test_versions_and_attachments(cli: Cli, shop: Callable[[str, bool], None],
                                  files: Callable[..., Path]) -> None:
    policy = files("strict.yml", STRICT)
    assert ok(cli("create", "policy", "strict", "--file", policy, "--output", "json")).json()[
        "changed"] is True
    assert "unchanged" in ok(cli("create", "policy", "strict", "--file", policy)).out
    policy.write_text(STRICT.replace("    - name: unit\n      type: generic\n", "    []\n")
                      .replace("  attestations:\n    []\n", ""))
    ok(cli("create", "policy", "strict", "--file", policy, "--description", "no tests"))
    shown = ok(cli("get", "policy", "strict", "--output", "json")).json()
    assert (shown["version"], shown["versions"]) == (2, 2)
    first = ok(cli("get", "policy", "strict", "--policy-version", "1", "--output", "json")).json()
    assert first["record"]["text"] == STRICT
    assert first["record"]["digest"] == hashlib.sha256(STRICT.encode()).hexdigest()
    assert_error(cli("attach", "policy", "nope", "--environment", "prod"), 2, "'nope'")
    ok(cli("attach", "policy", "strict", "--environment", "prod"))
    assert "unchanged" in ok(cli("attach", "policy", "strict", "--environment", "prod")).out
    ok(cli("detach", "policy", "strict", "--environment", "prod"))
    assert "unchanged" in ok(cli("detach", "policy", "strict", "--environment", "prod")).out
    listed = ok(cli("list", "policies", "--output", "json")).json()
    assert [(p["name"], p["versions"], p["description"]) for p in listed] == [
        ("strict", 2, "no tests")]


@pytest.mark.parametrize(("body", "needle"), [
    ("_schema: https://kosli.com/schemas/policy/environment/v1\nartifacts:\n  surprise: 1\n",
     "unknown key 'surprise'"),
    ("package policy\nallow if {\n", "policy file"),
    ("not: [valid", "policy file"),
])
def test_a_bad_policy_is_refused_and_nothing_is_written(
        cli: Cli, shop: Callable[[str, bool], None], files: Callable[..., Path], body: str,
        needle: str) -> None:
    before = entries(cli)
    assert_error(cli("create", "policy", "bad", "--file", files("bad.pol", body)), 2, needle,
                 "bad.pol")
    assert entries(cli) == before


def test_assert_snapshot(cli: Cli, shop: Callable[[str, bool], None],
                         files: Callable[..., Path]) -> None:
    shop("v1", True)
    shop("v2", False)
    run(cli, files, 1, "v1")
    unknown = cli("assert", "snapshot", "prod")
    assert unknown.code == 1 and unknown.out.startswith("UNKNOWN: snapshot prod#1")
    ok(cli("create", "policy", "strict", "--file", files("strict.yml", STRICT)))
    ok(cli("attach", "policy", "strict", "--environment", "prod"))
    passed = ok(cli("assert", "snapshot", "prod", "--output", "json")).json()
    assert passed["status"] == "COMPLIANT"
    assert [(p["name"], p["version"]) for p in passed["policies"]] == [("strict", 1)]
    run(cli, files, 2, "v1", "v2", "stray")
    failed = cli("assert", "snapshot", "prod")
    assert failed.code == 1
    lines = failed.out.splitlines()
    assert lines[0] == "NON_COMPLIANT: snapshot prod#2"
    assert any("app-v2" in line and "trail-compliance" in line for line in lines)
    assert any("app-v2" in line and "attestation unit" in line for line in lines)
    assert any("app-stray" in line and "provenance" in line for line in lines)
    assert not any("app-v1" in line for line in lines)
    got = ok(cli("get", "snapshot", "prod", "--output", "json")).json()
    assert got["compliance"]["status"] == "NON_COMPLIANT"
    # the allowlist lets the stray run; the untested build still fails
    ok(cli("allow", "artifact", fp("stray"), "--environment", "prod", "--reason", "vendor"))
    run(cli, files, 3, "v1", "v2", "stray", "extra")
    ok(cli("allow", "artifact", fp("extra"), "--environment", "prod", "--reason", "vendor"))
    run(cli, files, 4, "v1", "stray", "extra")
    assert ok(cli("assert", "snapshot", "prod")).out.startswith("COMPLIANT: snapshot prod#4")
    ok(cli("detach", "policy", "strict", "--environment", "prod"))
    assert cli("assert", "snapshot", "prod").code == 1


def test_assert_artifact_in_an_environment_before_it_runs(
        cli: Cli, shop: Callable[[str, bool], None], files: Callable[..., Path]) -> None:
    shop("v1", True)
    shop("v2", False)
    ok(cli("create", "policy", "strict", "--file", files("strict.yml", STRICT)))
    ok(cli("attach", "policy", "strict", "--environment", "prod"))
    assert ok(cli("assert", "artifact", fp("v1"), "--environment", "prod")).out.startswith(
        "COMPLIANT")
    refused = cli("assert", "artifact", fp("v2"), "--environment", "prod")
    assert refused.code == 1 and "attestation unit" in refused.out
    assert cli("assert", "artifact", fp("never"), "--environment", "prod").code == 1
    assert_error(cli("assert", "artifact", fp("v1"), "--environment", "prod", "--flow", "shop"),
                 2, "leave out --flow")


def test_what_if_lists_what_a_policy_would_have_blocked(
        cli: Cli, shop: Callable[[str, bool], None], files: Callable[..., Path]) -> None:
    shop("v1", True)
    shop("v2", False)
    run(cli, files, 1, "v1")
    run(cli, files, 2, "v2")
    run(cli, files, 3, "v1")
    strict = files("strict.yml", STRICT)
    found = ok(cli("evaluate", "snapshot", "prod", "--policy", strict, "--since", "1d",
                   "--output", "json")).json()
    assert [(s["number"], s["status"]) for s in found["snapshots"]] == [
        (1, "COMPLIANT"), (2, "NON_COMPLIANT"), (3, "COMPLIANT")]
    assert found["snapshots"][1]["blocked"] == [{"name": "app-v2", "fingerprint": fp("v2")}]
    assert found["would_block"] == 1
    assert entries(cli) == 2 + 2 * 3 - 1 + 3  # flow, env, the builds, the snapshots: no more
    assert "1 of 3 snapshots" in ok(cli("evaluate", "snapshot", "prod", "--policy", strict,
                                        "--since", "1d")).out


def test_a_yaml_policy_and_its_rego_form_decide_alike(
        cli: Cli, shop: Callable[[str, bool], None], files: Callable[..., Path]) -> None:
    pytest.importorskip("regopy")
    shop("v1", True)
    shop("v2", False)
    run(cli, files, 1, "v1", "v2", "stray")
    statuses = {}
    for form in ("trail-compliance.yml", "trail-compliance.rego"):
        found = ok(cli("evaluate", "snapshot", "prod", "--policy", CASES / form, "--output",
                       "json")).json()
        (shot,) = found["snapshots"]
        statuses[form] = (shot["status"], shot["blocked"])
    assert statuses["trail-compliance.yml"] == statuses["trail-compliance.rego"] == (
        "NON_COMPLIANT", [{"name": "app-stray", "fingerprint": fp("stray")},
                          {"name": "app-v2", "fingerprint": fp("v2")}])


def test_evaluate_trails_by_a_policy_file(cli: Cli, shop: Callable[[str, bool], None],
                                          files: Callable[..., Path]) -> None:
    shop("v1", True)
    shop("v2", False)
    strict = files("strict.yml", STRICT)
    before = entries(cli)
    assert ok(cli("evaluate", "trail", "v1", "--flow", "shop", "--policy", strict)).out == (
        "COMPLIANT: trail shop/v1\n")
    refused = cli("evaluate", "trail", "v2", "--flow", "shop", "--policy", strict)
    assert refused.code == 1 and refused.out.startswith("NON_COMPLIANT: trail shop/v2")
    assert "attestation unit" in refused.out and "trail-compliance" in refused.out
    both = cli("evaluate", "trails", "--flow", "shop", "--policy", strict, "--output", "json")
    assert both.code == 1
    assert [(t["trail"], t["status"]) for t in both.json()["trails"]] == [
        ("v1", "COMPLIANT"), ("v2", "NON_COMPLIANT")]
    assert_error(cli("evaluate", "trail", "v9", "--flow", "shop", "--policy", strict), 2, "v9")
    assert entries(cli) == before


RISKY = """\
_schema: https://kosli.com/schemas/policy/environment/v1
artifacts:
  attestations:
    - name: unit
      type: generic
      if: ${{ flow.tags.risk-level == "high" }}
"""

RISKY_REGO = """\
package policy

import rego.v1

default allow := false

high_risk if input.flow.tags["risk-level"] == "high"

tested if {
	some a in input.trail.compliance_status.attestations_statuses
	a.attestation_name == "unit"
	a.is_compliant
}

allow if not high_risk

allow if tested

violations contains "attestation unit: a high-risk flow's artifact needs it" if not allow
"""


def test_a_flows_tags_decide_which_rules_apply(
        cli: Cli, shop: Callable[[str, bool], None], files: Callable[..., Path]) -> None:
    """``flow.tags.<key>`` reads the tags ``create flow --tag`` set, as they stand when the
    snapshot is judged (later changes set or remove keys), in YAML and in Rego alike."""
    shop("v2", False)
    run(cli, files, 1, "v2")
    forms = [files("risky.yml", RISKY)]
    if importlib.util.find_spec("regopy") is not None:
        forms.append(files("risky.rego", RISKY_REGO))

    def statuses() -> set[str]:
        return {ok(cli("evaluate", "snapshot", "prod", "--policy", form, "--output", "json"))
                .json()["snapshots"][0]["status"] for form in forms}

    assert statuses() == {"COMPLIANT"}  # untagged: the rule does not apply
    ok(cli("create", "flow", "shop", "--tag", "risk-level=high", "team=payments"))
    assert ok(cli("get", "flow", "shop", "--output", "json")).json()["tags"] == {
        "risk-level": "high", "team": "payments"}
    assert statuses() == {"NON_COMPLIANT"}
    got = ok(cli("get", "snapshot", "prod", "--output", "json")).json()
    assert got["artifacts"][0]["provenance"]["flow_tags"] == {"risk-level": "high",
                                                              "team": "payments"}
    ok(cli("create", "flow", "shop", "--untag", "risk-level"))
    assert "Tags:         team=payments\n" in ok(cli("get", "flow", "shop")).out
    assert statuses() == {"COMPLIANT"}
    assert ok(cli("evaluate", "trail", "v2", "--flow", "shop", "--policy", forms[0]))
    ok(cli("create", "flow", "shop", "--tag", "risk-level=high"))  # trails: the same facts
    refused = cli("evaluate", "trail", "v2", "--flow", "shop", "--policy", forms[0])
    assert refused.code == 1 and "attestation unit" in refused.out


def test_bad_tags_are_refused_and_nothing_is_written(cli: Cli) -> None:
    ok(cli("create", "flow", "shop"))
    before = entries(cli)
    assert_error(cli("create", "flow", "shop", "--tag", "risk-level"), 2, "not KEY=VALUE")
    assert_error(cli("create", "flow", "shop", "--tag", ".x=1"), 2, "a tag key is a name")
    assert_error(cli("create", "flow", "shop", "--tag", "k=" + "v" * 257), 2,
                 "at most 256 characters")
    assert_error(cli("create", "flow", "shop", "--tag", "k=1", "--untag", "k"), 2,
                 "also given to --tag")
    assert entries(cli) == before
