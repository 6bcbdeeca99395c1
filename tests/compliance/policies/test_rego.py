"""Rego environment policies through regopy: Kosli's ``kosli evaluate`` contract, the input
document, one-line refusals naming the file, the time and memory bounds of the evaluating
process, and the rego-cpp discrepancies the engine guards against."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from affidavit.compliance.policies import (
    ArtifactFacts,
    Policy,
    evaluate,
    load_policy,
    rego,
    snapshot_status,
)
from affidavit.compliance.policies.input import rego_input
from affidavit.errors import InputError, UsageError

WHERE = "policy file prod.rego"
FP = "cd" * 32

WEB: ArtifactFacts = {"name": "web", "fingerprint": FP, "provenance": {
    "flow": {"name": "shop", "tags": {"risk-level": "high"}},
    "trail": {"name": "r-42", "compliance": "COMPLIANT"},
    "attestations": [{"name": "unit-test", "type": "junit", "compliant": True},
                     {"name": "scan", "type": "snyk", "compliant": False}]}}
BARE: ArtifactFacts = {"name": "nginx", "fingerprint": None, "provenance": None}


def rego_policy(body: str) -> Policy:
    text = "package policy\n\nimport rego.v1\n\n" + textwrap.dedent(body)
    return load_policy(text.encode(), WHERE)


def refused(text: str) -> str:
    with pytest.raises(InputError) as caught:
        load_policy(textwrap.dedent(text).encode(), WHERE)
    message = caught.value.diagnostics()
    assert "\n" not in message and message.startswith(WHERE), message
    return message


def decided(p: Policy, *artifacts: ArtifactFacts) -> list[tuple[str, bool, str]]:
    return [(d.rule, d.compliant, d.reason) for d in evaluate(p, list(artifacts))]


# --- the contract ------------------------------------------------------------------------------

def test_allow_decides_one_policy_decision_per_artifact() -> None:
    p = rego_policy("""
        default allow := false

        allow if input.trail.compliance_status.is_compliant

        violations contains msg if {
            input.trail == null
            msg := sprintf("%s has no provenance", [input.artifact.name])
        }
        """)
    assert p.language == "rego"
    assert decided(p, WEB, BARE) == [("policy", True, "allowed by the policy"),
                                     ("policy", False, "nginx has no provenance")]
    assert snapshot_status(evaluate(p, [WEB])) == "COMPLIANT"
    assert snapshot_status(evaluate(p, [WEB, BARE])) == "NON_COMPLIANT"


def test_the_input_is_the_documented_document() -> None:
    p = rego_policy("""
        default allow := false

        violations contains json.marshal(input)
        """)
    [(_, compliant, reason)] = decided(p, WEB)
    assert not compliant
    assert json.loads(reason) == rego_input(WEB) == {
        "artifact": {"name": "web", "fingerprint": FP},
        "flow": {"name": "shop", "tags": {"risk-level": "high"}},
        "trail": {"name": "r-42", "compliance_status": {
            "status": "COMPLIANT", "is_compliant": True, "attestations_statuses": {
                "scan": {"attestation_name": "scan", "attestation_type": "snyk",
                         "status": "COMPLETE", "is_compliant": False},
                "unit-test": {"attestation_name": "unit-test", "attestation_type": "junit",
                              "status": "COMPLETE", "is_compliant": True}}}}}
    [(_, _, bare)] = decided(p, BARE)
    assert json.loads(bare) == {"artifact": {"name": "nginx", "fingerprint": None},
                                "flow": None, "trail": None}


def test_kosli_field_names_reach_the_attestations() -> None:
    p = rego_policy("""
        default allow := false

        allow if {
            statuses := input.trail.compliance_status.attestations_statuses
            statuses["unit-test"].is_compliant
            statuses["unit-test"].attestation_type == "junit"
            input.flow.tags["risk-level"] == "high"
        }
        """)
    assert decided(p, WEB)[0][1] and not decided(p, BARE)[0][1]


def test_denial_reasons_are_the_sorted_violations() -> None:
    p = rego_policy("""
        default allow := false

        violations contains "b: second"
        violations contains "a: first"
        violations contains 7
        violations contains {"k": "v"}
        """)
    assert decided(p, WEB) == [("policy", False, '7; a: first; b: second; {"k": "v"}')]


def test_a_denial_without_violations_says_so() -> None:
    p = rego_policy("default allow := false\n")
    assert decided(p, WEB) == [("policy", False,
                                "denied by the policy (it gave no violations)")]


def test_violations_of_an_allowed_artifact_are_not_reasons() -> None:
    p = rego_policy("""
        default allow := true

        violations contains "ignored"
        """)
    assert decided(p, WEB) == [("policy", True, "allowed by the policy")]


def test_at_most_max_violations_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rego, "MAX_VIOLATIONS", 3)
    p = rego_policy("""
        default allow := false

        violations contains sprintf("v%d", [n]) if some n in numbers.range(10, 99)
        """)
    assert decided(p, WEB) == [("policy", False, "v10; v11; v12")]


@pytest.mark.parametrize(("body", "reason"), [
    ("allow if input.nothing.here\n",
     "allow is undefined for this artifact (declare default allow := false)"),
    ("allow if false\nviolations contains \"x\"\n",
     "allow is undefined for this artifact (declare default allow := false); x"),
    ("allow := 3\n", "allow is 3, not true or false"),
    ('allow := "yes"\n', 'allow is "yes", not true or false'),
    ("allow if foo(1)\n", "policy error: Function not found: foo"),
    ("f(x) := f(x)\n\nallow if f(1)\n",
     "policy error: Recursion detected in rule body: data.policy.allow"),
    ("allow := true\n\nallow := false\n", "policy error: evaluation error, without a message "
     "from rego-cpp (one cause: a rule given two different values)"),
    ("default allow := false\n\nviolations := 5\n",
     "violations is 5, not a set of strings"),
])
def test_an_allow_that_is_not_a_boolean_fails_the_artifact(body: str, reason: str) -> None:
    assert decided(rego_policy(body), WEB) == [("policy", False, reason)]


def test_no_artifacts_no_evaluation() -> None:
    assert evaluate(rego_policy("default allow := false\n"), []) == []


# --- refusals at load --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("package policy\n\nallow if {\n  input.x >\n", "line 3: this is unclosed"),
    ("package policy\n\nallow if input.x ==\n", "policy file prod.rego: line"),
    ("allow := true\n", "not a policy: neither YAML starting with _schema"),
    ("# just a comment\n", "empty; a policy starts with `_schema:"),
    ("package other\n\nallow := true\n",
     "line 1: package other, not policy (the policy's answer is read from data.policy.allow) "
     "(declare package policy)"),
    ("package policy.sub\n\nallow := true\n", "package policy.sub, not policy"),
    ("package policy\n\nx := 1\n# allow := true\ny := \"allow := true\"\n",
     "no allow rule (the policy's answer is data.policy.allow) (declare default allow := "
     "false and allow if { ... })"),
    ("package policy\n\nallow_all := true\n", "no allow rule"),
    ("package policy\n\nallow if time.now_ns() > 0\n",
     "line 3: time.now_ns() gives another answer on every run, or leaves this machine, so a "
     "recorded decision could not be checked again"),
    ("package policy\n\nallow if rand.intn(\"x\", 2) == 1\n", "rand.intn()"),
    ("package policy\n\nallow if uuid.rfc4122(\"x\") != \"\"\n", "uuid.rfc4122()"),
    ("package policy\n\nallow if opa.runtime().env.HOME\n", "opa.runtime()"),
    ("package policy\n\nallow if http.send({\"url\": \"x\"})\n", "http.send()"),
    ("package policy\nimport rego.v1\n\nallow if {\n\tevery a in input.xs {\n\t\tnot a.bad\n"
     "\t}\n}\n", "line 6: `not` directly inside an `every` body, which rego-cpp 1.5.2 "
     "evaluates as always true (move the negated condition into a helper rule"),
])
def test_modules_outside_the_contract_are_one_line_naming_the_file(text: str,
                                                                   expected: str) -> None:
    assert expected in refused(text)


def test_comments_and_strings_are_not_read_as_code() -> None:
    p = load_policy(textwrap.dedent("""
        # METADATA
        # title: uses no clock; time.now_ns() is only mentioned here
        package policy

        import rego.v1

        default allow := false

        allow if input.artifact.name != "time.now_ns()"

        ok(a) if not a.bad

        allow if {
            every a in input.xs {
                ok(a)
            }
        }
        """).encode(), WHERE)
    assert p.language == "rego" and decided(p, WEB)[0][1]


# --- the bounds --------------------------------------------------------------------------------

def test_a_policy_that_runs_too_long_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rego, "REGO_SECONDS", 1.0)
    monkeypatch.setattr(rego, "REGO_MEMORY_BYTES", 64 << 30)
    p = rego_policy("allow if count(numbers.range(1, 100000000)) > 0\n")
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        evaluate(p, [WEB])
    assert caught.value.diagnostics() == (
        f"{WHERE}: evaluation stopped: it took longer than 1 s (the limit)")
    assert time.monotonic() - started < 10


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="memory is read from /proc")
def test_a_policy_that_grows_too_large_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rego, "REGO_MEMORY_BYTES", 150 << 20)
    p = rego_policy("allow if count(numbers.range(1, 100000000)) > 0\n")
    with pytest.raises(InputError) as caught:
        evaluate(p, [WEB])
    assert caught.value.diagnostics() == (
        f"{WHERE}: evaluation stopped: it used more than 150 MiB of memory (the limit)")


def test_the_evaluator_sees_an_empty_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``opa.runtime()`` is refused at load; run it anyway to show no secret could leak."""
    monkeypatch.setenv("AFFIDAVIT_TEST_SECRET", "s3cret")
    policy = rego.RegoPolicy("package policy\n\ndefault allow := false\n\n"
                             "violations contains json.marshal(opa.runtime().env)\n", WHERE)
    [decision] = rego.decide_rego(policy, [WEB])
    assert set(json.loads(decision.reason)) <= {"LC_CTYPE"}  # what Python itself sets (PEP 538)


def test_an_evaluator_that_dies_is_an_input_error(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    child = tmp_path / "child.py"
    child.write_text("import sys\nsys.stderr.write('boom\\n')\nsys.exit(7)\n")
    monkeypatch.setattr(rego, "_CHILD", str(child))
    with pytest.raises(InputError) as caught:
        rego_policy("default allow := false\n")
    assert caught.value.diagnostics() == (
        f"{WHERE}: the Rego evaluator failed (exit status 7: boom)")


def test_an_evaluator_that_answers_nonsense_is_an_input_error(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    child = tmp_path / "child.py"
    child.write_text("print('not json')\n")
    monkeypatch.setattr(rego, "_CHILD", str(child))
    with pytest.raises(InputError) as caught:
        rego_policy("default allow := false\n")
    assert caught.value.diagnostics() == f"{WHERE}: the Rego evaluator gave no answer"


def test_the_child_runs_outside_the_package_path() -> None:
    assert rego._CHILD.endswith("rego_child.py") and os.path.isfile(rego._CHILD)
    assert sys.executable


# --- rego-cpp 1.5.2 discrepancies, pinned ------------------------------------------------------

def test_sprintf_of_a_returned_string_is_unreadable_not_a_crash() -> None:
    """rego-cpp 1.5.2's ``sprintf("%s")`` quotes a string that a function or built-in returned,
    and leaves the quotes unescaped in its JSON; the violation cannot be read, so the reason
    says so (and the artifact still fails: ``allow`` decides)."""
    p = rego_policy("""
        default allow := false

        violations contains sprintf("%s is denied", [upper(input.artifact.name)])
        """)
    [(_, compliant, reason)] = decided(p, WEB)
    assert not compliant
    assert reason.startswith("violations cannot be evaluated: rego-cpp gave an answer that is "
                             "not JSON")


def test_concat_of_a_returned_string_is_read_correctly() -> None:
    p = rego_policy("""
        default allow := false

        violations contains concat(" ", [upper(input.artifact.name), "is denied"])
        """)
    assert decided(p, WEB) == [("policy", False, "WEB is denied")]


def test_a_large_snapshot_is_judged_in_one_bounded_run() -> None:
    """All the artifacts are judged in one child run (the module compiled once), each with
    its own decision, in order; the run is not cut off by the bound."""
    p = rego_policy("""
        default allow := false

        allow if input.trail.compliance_status.attestations_statuses["unit-test"].is_compliant
        """)
    many: list[ArtifactFacts] = [{**WEB, "name": f"web-{i}"} for i in range(1000)]
    found = evaluate(p, many)
    assert [d.artifact.name for d in found] == [f"web-{i}" for i in range(1000)]
    assert all(d.compliant for d in found)


def test_without_regopy_rego_policies_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "regopy" else real(name, *args))
    with pytest.raises(UsageError) as caught:
        rego_policy("default allow := false\n")
    assert caught.value.diagnostics() == (
        "Rego policies need regopy, which is not installed (pip install 'affidavit[rego]')")
