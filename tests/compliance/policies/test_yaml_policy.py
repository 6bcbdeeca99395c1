"""Kosli environment policy v1 in YAML: what loads and what is refused (one line naming the
file, the line and the key), every rule and exception, and what each expression means,
including over facts that are missing."""

from __future__ import annotations

import textwrap
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from affidavit.compliance.policies import (
    MAX_POLICY_BYTES,
    ArtifactFacts,
    AttestationFacts,
    Decision,
    Policy,
    evaluate,
    load_policy,
    snapshot_status,
)
from affidavit.compliance.policies.conditions import holds
from affidavit.compliance.policies.expression import parse_expression
from affidavit.compliance.policies.input import expression_context
from affidavit.compliance.rules.values import Undetermined
from affidavit.errors import InputError

WHERE = "policy file prod.yml"
HEAD = "_schema: https://kosli.com/schemas/policy/environment/v1\n"
FP = "ab" * 32


def policy(body: str, head: str = HEAD) -> Policy:
    return load_policy((head + textwrap.dedent(body)).encode(), WHERE)


def refused(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(InputError) as caught:
        load_policy(data, WHERE)
    message = caught.value.diagnostics()
    assert "\n" not in message and message.startswith(WHERE), message
    return message


def attestation(name: str, kind: str, compliant: bool = True) -> AttestationFacts:
    return {"name": name, "type": kind, "compliant": compliant}


def artifact(name: str = "web", fingerprint: str | None = FP, *, flow: str = "web",
             tags: dict[str, str] | None = None, trail: str = "t-1",
             compliance: str = "COMPLIANT", attestations: tuple[AttestationFacts, ...] = (),
             provenance: bool = True) -> ArtifactFacts:
    if not provenance:
        return {"name": name, "fingerprint": fingerprint, "provenance": None}
    return {"name": name, "fingerprint": fingerprint, "provenance": {
        "flow": {"name": flow, "tags": dict(tags or {})},
        "trail": {"name": trail, "compliance": compliance},  # type: ignore[typeddict-item]
        "attestations": list(attestations)}}


def decided(p: Policy, *artifacts: ArtifactFacts) -> list[tuple[str, bool, str]]:
    return [(d.rule, d.compliant, d.reason) for d in evaluate(p, list(artifacts))]


def one(p: Policy, facts: ArtifactFacts) -> tuple[bool, str]:
    [(_, compliant, reason)] = decided(p, facts)
    return compliant, reason


# --- loading -----------------------------------------------------------------------------------

@pytest.mark.parametrize("schema", [
    "https://kosli.com/schemas/policy/environment/v1",
    "https://docs.kosli.com/schemas/policy/v1",
    "https://kosli.mintlify.app/schemas/policy/v1",
])
def test_the_schema_urls_kosli_documents_load(schema: str) -> None:
    p = load_policy(f"_schema: {schema}\n".encode(), WHERE)
    assert p.language == "yaml" and decided(p, artifact()) == []


def test_policy_carries_its_text_and_the_digest_of_its_bytes() -> None:
    import hashlib

    data = (HEAD + "artifacts:\n  provenance:\n    required: true\n").encode()
    p = load_policy(data, WHERE)
    assert p.digest == hashlib.sha256(data).hexdigest() and p.text == data.decode()
    assert p.where == WHERE


def test_the_full_documented_shape_loads() -> None:
    p = policy("""
        # comments are fine
        artifacts:
          provenance:
            required: true
            exceptions:
              - if: ${{ matches(artifact.name, "^datadog:.*") }}
          trail-compliance:
            required: false
            exceptions: []
          attestations:
            - name: "*"
              type: pull_request
            - name: acceptance-test
              type: "*"
            - name: security-scan
              type: snyk
            - name: coverage-metrics
              type: custom:my-coverage-metrics
            - type: junit
              if: ${{ flow.tags.risk-level == "high" }}
        """)
    rules = [d.rule for d in evaluate(p, [artifact()])]
    assert rules == ["provenance", "attestation * of type pull_request",
                     "attestation acceptance-test of type *",
                     "attestation security-scan of type snyk",
                     "attestation coverage-metrics of type custom:my-coverage-metrics",
                     "attestation * of type junit"]


@pytest.mark.parametrize(("text", "expected"), [
    ("", "empty"),
    ("artifacts: {}\n", "line 1: _schema is missing"),
    ("- a\n- b\n", "not a policy: neither YAML starting with _schema: https://kosli.com/"
     "schemas/policy/environment/v1 nor a Rego module starting with package policy"),
    (HEAD + "artifact: {}\n", "line 2: artifact: unknown key 'artifact' (keys here are _schema, "
     "artifacts)"),
    (HEAD + "artifacts:\n  provenence: {}\n",
     "line 3: artifacts.provenence: unknown key 'provenence'"),
    (HEAD + "artifacts:\n  provenance:\n    require: true\n",
     "line 4: artifacts.provenance.require: unknown key 'require'"),
    (HEAD + "artifacts:\n  provenance:\n    exceptions:\n      - iff: x\n",
     "line 5: artifacts.provenance.exceptions[0].iff: unknown key 'iff'"),
    (HEAD + "artifacts:\n  attestations:\n    - name: a\n      type: junit\n      when: x\n",
     "line 6: artifacts.attestations[0].when: unknown key 'when'"),
    (HEAD + "artifacts:\n  provenance: {}\n  provenance: {}\n",
     "line 4: artifacts.provenance: duplicate key"),
    (HEAD + "_schema: https://kosli.com/schemas/policy/environment/v1\n",
     "line 2: _schema: duplicate key"),
    (HEAD + "artifacts:\n  provenance:\n    required: yes\n",
     'line 4: artifacts.provenance.required: expected true or false, found "yes"'),
    (HEAD + "artifacts:\n  provenance:\n    required: \"true\"\n",
     "artifacts.provenance.required: expected true or false"),
    (HEAD + "artifacts:\n  provenance:\n    exceptions:\n",
     "artifacts.provenance.exceptions: expected a list, found nothing"),
    (HEAD + "artifacts:\n  provenance:\n",
     "artifacts.provenance: expected a mapping, found nothing"),
    (HEAD + "artifacts:\n  provenance:\n    exceptions:\n      - {}\n",
     "artifacts.provenance.exceptions[0]: an exception needs an `if`"),
    (HEAD + "artifacts:\n  attestations:\n    - name: 12\n      type: junit\n",
     'artifacts.attestations[0].name: expected a string, found "12" (quote it)'),
    (HEAD + "artifacts:\n  attestations:\n    - name: a\n",
     "artifacts.attestations[0]: type is missing"),
    (HEAD + "artifacts:\n  attestations:\n    - name: a\n      type: junitt\n",
     "artifacts.attestations[0].type: unknown attestation type 'junitt'"),
    (HEAD + "artifacts:\n  attestations:\n    - name: a\n      type: \"custom:\"\n",
     "unknown attestation type 'custom:'"),
    (HEAD + "artifacts:\n  attestations:\n    - type: \"*\"\n",
     "artifacts.attestations[0]: name and type are both *"),
    (HEAD + "artifacts:\n  attestations:\n    - {name: a, type: junit}\n"
     "    - {name: a, type: junit, if: 'flow.name == \"x\"'}\n",
     "line 5: artifacts.attestations[1]: repeats the rule for attestation a of type junit"),
    (HEAD + "artifacts:\n  attestations:\n    - name: \"\"\n      type: junit\n",
     "artifacts.attestations[0].name: must not be empty"),
    (HEAD + "artifacts:\n  trail-compliance: &r {required: true}\n  provenance: *r\n",
     "anchors and aliases are not supported (write the value out in full)"),
    (HEAD + "artifacts:\n  provenance: {required: true\n", "at line 4"),
    (HEAD + "artifacts:\n  attestations:\n    - name: a\n      type: *\n", "at line 5"),
    ("_schema: https://kosli.com/schemas/policy/environment/v2\n",
     "line 1: _schema: policy version v2 is not supported (only v1)"),
    ("_schema: https://kosli.com/schemas/flow-template/v1\n",
     "is not a Kosli environment policy schema"),
    ("_schema: kosli.com/schemas/policy/v1\n", "is not a Kosli environment policy schema"),
    ("_schema: 1\n", '_schema: expected a string, found "1"'),
    ("version: 1\ntrail: {}\n", "unknown key 'version'"),
])
def test_malformed_policies_are_one_line_naming_file_line_and_key(text: str,
                                                                  expected: str) -> None:
    assert expected in refused(text)


def test_an_unknown_key_names_the_keys_allowed_there() -> None:
    message = refused(HEAD + "artifacts:\n  attestations:\n    - name: a\n      typ: junit\n")
    assert message.endswith("(keys here are name, type, if)")


@pytest.mark.parametrize(("expression", "expected"), [
    ("${{ flow.name = 'x' }}", 'unexpected character "=" at position 15 (write `==` to compare)'),
    ("${{ flow.name == 'x' && true }}", '"&" at position 22 (write `and`)'),
    ("${{ flow.nme == 'x' }}", "unknown field flow.nme at position 5 (fields are flow, "
     "flow.name, flow.tags, flow.tags.<key>, artifact, artifact.name, artifact.fingerprint)"),
    ("${{ trail.name == 'x' }}", "unknown field trail.name"),
    ("${{ startswith(artifact.name, 'x') }}", 'unknown function "startswith" at position 5'),
    ("${{ matches(artifact.name, '(a') }}", "invalid regex: missing ): (a"),
    ("${{ matches(artifact.name, '(?=a)') }}", "invalid regex: invalid perl operator"),
    ("${{ matches(artifact.name, flow.name) }}", "matches() takes its regex as a quoted string"),
    ("${{ exists('x') }}", "exists() takes a field"),
    ("${{ flow.name }}", '"flow.name" is not a condition'),
    ("${{ flow.name and true }}", '"flow.name" is not a condition'),
    ("${{ not artifact.name }}", '"artifact.name" is not a condition'),
    ("${{ flow.name == 'x' }", "`${{` is not closed by `}}`"),
    ("${{ }}", "the expression is empty"),
    ("${{ flow.name == 'x }}", "unterminated string"),
    ("${{ 1 < flow.tags.p < 3 }}", "chained comparison"),
    ("${{ flow.name not in ['a'] }}", "(write `not (a in b)`)"),
    ("${{ flow.tags. == 'x' }}", "expected a tag key after `flow.tags.`"),
    ("${{ flow.tags.p < 1.2.3 }}", "malformed number"),
    ("${{ flow.name == 'a\\qb' }}", "unknown escape \\q"),
    ("${{ " + "(" * 60 + "true" + ")" * 60 + " }}", "nested deeper than 50 levels"),
    ("${{ " + "not " * 60 + "true }}", "nested deeper than 50 levels"),
    ("${{ " + "true or " * 200 + "true }}", "characters long, more than 1000"),
])
def test_malformed_expressions_name_the_key_and_the_position(expression: str,
                                                             expected: str) -> None:
    text = (HEAD + "artifacts:\n  provenance:\n    required: true\n    exceptions:\n"
            "      - if: " + _quoted(expression) + "\n")
    message = refused(text)
    assert "line 6: artifacts.provenance.exceptions[0].if: expression" in message
    assert expected in message


def _quoted(value: str) -> str:
    """A YAML single-quoted scalar."""
    return "'" + value.replace("'", "''") + "'"


def test_a_condition_is_checked_for_attestation_rules_too() -> None:
    message = refused(HEAD + "artifacts:\n  attestations:\n    - name: a\n      type: junit\n"
                      "      if: ${{ exists(flow) and }}\n")
    assert "line 6: artifacts.attestations[0].if: expression" in message
    assert "expected a value, found the end of the expression" in message


def test_files_that_are_not_policies_are_refused() -> None:
    assert "not UTF-8" in refused(b"\xff\xfe_schema")
    assert "NUL" in refused(HEAD.encode() + b"\x00")
    assert "larger than 1 MiB" in refused(b"#" * (MAX_POLICY_BYTES + 1))


def test_a_bare_expression_is_read_as_the_wrapped_one() -> None:
    wrapped = policy("""
        artifacts:
          provenance: {required: true, exceptions: [{if: '${{ artifact.name == "x" }}'}]}
        """)
    bare = policy("""
        artifacts:
          provenance: {required: true, exceptions: [{if: 'artifact.name == "x"'}]}
        """)
    facts = [artifact("x", provenance=False), artifact("y", provenance=False)]
    assert evaluate(wrapped, facts) == evaluate(bare, facts)


# --- provenance --------------------------------------------------------------------------------

PROVENANCE = """
    artifacts:
      provenance:
        required: true
        exceptions:
          - if: ${{ matches(artifact.name, "^datadog:") }}
          - if: ${{ flow.tags.priority < 3 }}
    """


def test_provenance_holds_when_a_trail_reported_the_artifact() -> None:
    assert one(policy(PROVENANCE), artifact(trail="t-9", flow="shop")) == (
        True, "reported by trail t-9 of flow shop")


def test_provenance_fails_without_a_trail_and_says_what_waived_nothing() -> None:
    compliant, reason = one(policy(PROVENANCE), artifact("nginx", provenance=False))
    assert not compliant
    assert reason == ("no provenance; exception flow.tags.priority < 3 cannot be evaluated "
                      "(flow.tags.priority is not set), so it waives nothing")


def test_provenance_says_when_the_fingerprint_is_not_known_yet() -> None:
    p = policy("artifacts:\n  provenance:\n    required: true\n")
    assert one(p, artifact("pending", None, provenance=False)) == (
        False, "no provenance (its fingerprint is not known yet)")


def test_an_exception_that_holds_waives_provenance() -> None:
    assert one(policy(PROVENANCE), artifact("datadog:agent", provenance=False)) == (
        True, 'no provenance; waived by exception matches(artifact.name, "^datadog:")')


def test_provenance_not_required_makes_no_decision() -> None:
    p = policy("artifacts:\n  provenance:\n    required: false\n    exceptions:\n"
               "      - if: ${{ exists(flow) }}\n")
    assert decided(p, artifact(provenance=False)) == []


# --- trail compliance --------------------------------------------------------------------------

TRAIL = """
    artifacts:
      trail-compliance:
        required: true
        exceptions:
          - if: ${{ flow.name in ["sandbox", "playground"] }}
    """


@pytest.mark.parametrize(("compliance", "expected"), [
    ("COMPLIANT", (True, "trail t-1 of flow web is COMPLIANT")),
    ("INCOMPLETE", (False, "trail t-1 of flow web is INCOMPLETE")),
    ("NON_COMPLIANT", (False, "trail t-1 of flow web is NON_COMPLIANT")),
])
def test_trail_compliance_is_the_trails_verdict(compliance: str,
                                                expected: tuple[bool, str]) -> None:
    assert one(policy(TRAIL), artifact(compliance=compliance)) == expected


def test_trail_compliance_fails_without_provenance() -> None:
    assert one(policy(TRAIL), artifact(provenance=False)) == (False, "no provenance, so no trail")


def test_an_exception_waives_trail_compliance() -> None:
    assert one(policy(TRAIL), artifact(flow="sandbox", compliance="INCOMPLETE")) == (
        True, 'trail t-1 of flow sandbox is INCOMPLETE; waived by exception flow.name in '
              '["sandbox", "playground"]')


def test_exceptions_are_not_read_when_the_requirement_is_met() -> None:
    p = policy("artifacts:\n  trail-compliance:\n    required: true\n    exceptions:\n"
               "      - if: ${{ flow.tags.n > 1 }}\n")
    assert one(p, artifact()) == (True, "trail t-1 of flow web is COMPLIANT")


# --- attestations ------------------------------------------------------------------------------

def attestations_policy(rule: str) -> Policy:
    return policy("artifacts:\n  attestations:\n" + textwrap.indent(textwrap.dedent(rule),
                                                                      "    "))


UNIT = attestations_policy("- name: unit-test\n  type: junit\n")


def test_a_named_attestation_of_its_type_that_is_compliant_holds() -> None:
    assert one(UNIT, artifact(attestations=(attestation("unit-test", "junit"),))) == (
        True, "unit-test (junit) is compliant")


def test_a_named_attestation_that_is_not_compliant_fails() -> None:
    facts = artifact(attestations=(attestation("unit-test", "junit", False),))
    assert one(UNIT, facts) == (False, "unit-test (junit) is not compliant")


def test_a_missing_attestation_fails() -> None:
    assert one(UNIT, artifact()) == (False, "no attestation unit-test of type junit")


def test_the_name_with_another_type_does_not_count() -> None:
    facts = artifact(attestations=(attestation("unit-test", "generic"),))
    assert one(UNIT, facts) == (False, "no attestation unit-test of type junit")


def test_the_latest_report_of_a_name_counts() -> None:
    later_good = artifact(attestations=(attestation("unit-test", "junit", False),
                                        attestation("unit-test", "junit", True)))
    later_bad = artifact(attestations=(attestation("unit-test", "junit", True),
                                       attestation("unit-test", "junit", False)))
    assert one(UNIT, later_good)[0] and not one(UNIT, later_bad)[0]


def test_no_provenance_means_no_attestations() -> None:
    assert one(UNIT, artifact(provenance=False)) == (False, "no provenance, so no attestations")


def test_any_name_of_a_type_needs_one_and_every_one_compliant() -> None:
    p = attestations_policy("- name: '*'\n  type: snyk\n")
    both = artifact(attestations=(attestation("b-scan", "snyk"), attestation("a-scan", "snyk"),
                                  attestation("unit", "junit", False)))
    assert one(p, both) == (True, "a-scan (snyk), b-scan (snyk) are compliant")
    one_bad = artifact(attestations=(attestation("b-scan", "snyk", False),
                                     attestation("a-scan", "snyk")))
    assert one(p, one_bad) == (False, "b-scan (snyk) is not compliant")
    assert one(p, artifact()) == (False, "no attestation * of type snyk")


def test_a_name_of_any_type() -> None:
    p = attestations_policy("- name: acceptance\n  type: '*'\n")
    assert one(p, artifact(attestations=(attestation("acceptance", "custom:e2e"),))) == (
        True, "acceptance (custom:e2e) is compliant")
    assert one(p, artifact()) == (False, "no attestation acceptance of type *")


CONDITIONAL = attestations_policy("""
    - name: pull-request
      type: pull_request
      if: ${{ flow.tags.risk-level == "high" }}
    """)


def test_a_conditional_attestation_is_required_only_when_its_condition_holds() -> None:
    high = artifact(tags={"risk-level": "high"})
    assert one(CONDITIONAL, high) == (False, "no attestation pull-request of type pull_request")
    assert one(CONDITIONAL, artifact(tags={"risk-level": "low"})) == (
        True, 'not required: flow.tags.risk-level == "high" does not hold')
    assert one(CONDITIONAL, artifact(provenance=False)) == (
        True, 'not required: flow.tags.risk-level == "high" does not hold')


def test_a_condition_that_cannot_be_evaluated_requires_the_attestation() -> None:
    p = attestations_policy("- name: scan\n  type: snyk\n  if: ${{ flow.tags.tier < 2 }}\n")
    assert one(p, artifact()) == (
        False, "flow.tags.tier < 2 cannot be evaluated (flow.tags.tier is not set), so it is "
               "required: no attestation scan of type snyk")
    present = artifact(tags={"tier": "gold"}, attestations=(attestation("scan", "snyk"),))
    assert one(p, present) == (
        True, "flow.tags.tier < 2 cannot be evaluated (cannot compare a string with a number), "
              "so it is required: scan (snyk) is compliant")


# --- the whole policy --------------------------------------------------------------------------

def test_one_decision_per_artifact_per_rule_in_order() -> None:
    p = policy("""
        artifacts:
          provenance: {required: true}
          trail-compliance: {required: true}
          attestations:
            - {name: unit-test, type: junit}
        """)
    facts = [artifact("b", attestations=(attestation("unit-test", "junit"),)),
             artifact("a", provenance=False)]
    found = evaluate(p, facts)
    assert [(d.artifact.name, d.rule, d.compliant) for d in found] == [
        ("b", "provenance", True), ("b", "trail-compliance", True),
        ("b", "attestation unit-test of type junit", True),
        ("a", "provenance", False), ("a", "trail-compliance", False),
        ("a", "attestation unit-test of type junit", False)]
    assert found[0].as_dict() == {"artifact": {"name": "b", "fingerprint": FP},
                                  "rule": "provenance", "compliant": True,
                                  "reason": "reported by trail t-1 of flow web"}


def test_snapshot_status_folds_the_decisions() -> None:
    p = policy("artifacts:\n  provenance: {required: true}\n")
    assert snapshot_status(evaluate(p, [artifact()])) == "COMPLIANT"
    assert snapshot_status(evaluate(p, [artifact(), artifact(provenance=False)])) == (
        "NON_COMPLIANT")
    assert snapshot_status(evaluate(p, [])) == "COMPLIANT"
    assert snapshot_status([]) == "COMPLIANT"
    assert isinstance(evaluate(p, [artifact()])[0], Decision)


# --- what expressions mean ---------------------------------------------------------------------

FACTS = artifact("prod:web", tags={"risk-level": "high", "priority": "2", "team": "shop",
                                   "key.with.dots": "yes", "ratio": "-0.5"})
BARE = artifact("datadog:agent", None, provenance=False)


def truth(expression: str, facts: ArtifactFacts = FACTS) -> bool | str:
    outcome = holds(parse_expression(expression, WHERE), expression_context(facts))
    return "?" if isinstance(outcome, Undetermined) else outcome


@pytest.mark.parametrize(("expression", "with_flow", "without_flow"), [
    ('flow.name == "web"', True, False),
    ("flow.name == 'web'", True, False),
    ('flow.name != "web"', False, True),
    ('flow.tags.risk-level == "high"', True, False),
    ('flow.tags.risk-level != "high"', False, True),
    ('not flow.tags.risk-level == "high"', False, True),
    ('flow.tags.key.with.dots == "yes"', True, False),
    ('flow.tags.team=="shop"', True, False),
    ("flow.tags.missing == null", True, True),
    ('flow.name in ["runner", "web"]', True, False),
    ('flow.name in ["runner"]', False, False),
    ('"team" in flow.tags', True, False),
    ('"we" in flow.name', True, False),
    ("flow.tags.priority < 3", True, "?"),
    ("flow.tags.priority > 1", True, "?"),
    ("flow.tags.priority <= 2", True, "?"),
    ("flow.tags.priority >= 2.5", False, "?"),
    ("flow.tags.priority == 2", True, False),
    ("flow.tags.priority in [1, 2]", True, False),
    ("flow.tags.ratio < 0", True, "?"),
    ('flow.tags.team < "zzz"', True, "?"),
    ('flow.tags.team < 3', "?", "?"),
    ("exists(flow)", True, False),
    ("exists(flow.tags.team)", True, False),
    ("exists(flow.tags.nope)", False, False),
    ("exists(artifact.fingerprint)", True, False),
    ('matches(artifact.name, "^(prod|datadog):")', True, True),
    ('matches(flow.name, "^w")', True, False),
    ('matches(flow.tags, "x")', "?", False),
    ('matches(artifact.name, "WEB")', False, False),
    ('matches(artifact.name, "(?i)WEB")', True, False),
    ('flow.name == "web" and flow.tags.priority < 3', True, False),
    ('flow.name == "x" and flow.tags.team < 3', False, False),
    ('flow.name == "web" or flow.tags.team < 3', True, "?"),
    ('flow.name == "x" or flow.tags.team < 3', "?", "?"),
    ("not (flow.tags.team < 3)", "?", "?"),
    ('flow.name == "x" or (flow.tags.team == "shop" and artifact.name != "y")', True, False),
    ("true", True, True),
    ("exists(flow) == false", False, True),
    ("artifact.name == artifact.name", True, True),
    ("flow == null", False, True),
])
def test_what_an_expression_means(expression: str, with_flow: bool | str,
                                  without_flow: bool | str) -> None:
    assert truth(expression) == with_flow
    assert truth(expression, BARE) == without_flow


def test_undecided_conditions_say_why() -> None:
    outcome = holds(parse_expression("flow.tags.team < 3", WHERE), expression_context(FACTS))
    assert isinstance(outcome, Undetermined)
    assert outcome.reason == "flow.tags.team < 3: cannot compare a string with a number"
    outcome = holds(parse_expression('matches(flow.tags, "x")', WHERE),
                    expression_context(FACTS))
    assert isinstance(outcome, Undetermined)
    assert outcome.reason == 'matches(flow.tags, "x"): matches() needs a string, not an object'


def test_a_backtracking_regex_runs_in_linear_time() -> None:
    facts = artifact("a" * 1000 + "b", tags={"t": "a" * 5000 + "!"})
    started = time.monotonic()
    assert truth('matches(artifact.name, "^(a+)+$")', facts) is False
    assert truth('matches(flow.tags.t, "^(a|aa)*$")', facts) is False
    assert time.monotonic() - started < 1


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_text_is_an_expression_or_one_input_error(text: str) -> None:
    try:
        expression = parse_expression(text, WHERE)
    except InputError as exc:
        assert "\n" not in exc.diagnostics()
        return
    for facts in (FACTS, BARE):
        outcome = holds(expression, expression_context(facts))
        assert isinstance(outcome, bool | Undetermined)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=5),
       st.sampled_from(['flow.tags.a < 3', 'not flow.tags.a == "x"', '"a" in flow.tags',
                        'matches(flow.tags.a, "^[0-9]+$") or flow.tags.b >= "m"']))
def test_any_tags_give_a_truth_or_a_reason(tags: dict[str, str], expression: str) -> None:
    outcome = holds(parse_expression(expression, WHERE), expression_context(artifact(tags=tags)))
    assert isinstance(outcome, bool | Undetermined)
