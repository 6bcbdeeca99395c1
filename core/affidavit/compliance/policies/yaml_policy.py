"""Kosli's environment policy v1 (YAML): strict loading, and one decision per artifact per rule.

The format is Kosli's, so its users keep their files::

    _schema: https://kosli.com/schemas/policy/environment/v1   # or docs.kosli.com/schemas/policy/v1
    artifacts:
      provenance:        {required: BOOL, exceptions: [{if: EXPR}, ...]}
      trail-compliance:  {required: BOOL, exceptions: [{if: EXPR}, ...]}
      attestations:      [{name: NAME | "*", type: TYPE | "*", if: EXPR}, ...]

Loading is strict because a policy that says less than its author meant passes artifacts it
should not: an unknown or duplicate key, a value of the wrong type (``required: yes`` is not
read as true), an anchor or alias, a malformed expression or a regex RE2 refuses is one
``InputError`` naming the file, the line and the key path (``artifacts.attestations[1].type``).
A rule must not have both ``name`` and ``type`` ``*``, and a rule may not repeat another's
name and type (join their conditions with ``or``), so each rule names one decision.

Decisions: ``provenance`` (when required) holds when a trail reported the artifact's
fingerprint; ``trail-compliance`` when that trail is ``COMPLIANT``; an attestation rule when the
artifact has at least one attestation of that name and type and every one of them is compliant.
A rule that is not required (``required: false``, or omitted) makes no decisions; an attestation
rule whose ``if`` does not hold makes a compliant one ("not required"). An exception waives a
requirement the artifact fails when its ``if`` holds.

A condition that cannot be evaluated (``conditions.py``: an ordering on a tag that is not set,
say) takes the policy's stricter reading, and the reason says so: an exception that cannot be
evaluated waives nothing, and an attestation whose ``if`` cannot be evaluated is required. So
no gap in the facts ever makes an artifact compliant that the policy, read either way, would
not; Kosli reports such an expression as an evaluation error, which here is scoped to the one
artifact rather than failing the whole snapshot.
"""

from __future__ import annotations

import json

from affidavit.compliance.policies.conditions import holds
from affidavit.compliance.policies.decisions import ArtifactKey, Decision
from affidavit.compliance.policies.expression import Expression, parse_expression
from affidavit.compliance.policies.input import expression_context, latest_attestations
from affidavit.compliance.rules.values import Undetermined
from affidavit.compliance.verdict import COMPLIANT
from affidavit.errors import InputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

    from affidavit.compliance.policies.input import ArtifactFacts, AttestationFacts

__all__ = ["YamlPolicy", "load_yaml", "decide_yaml"]

_TYPES = frozenset({"generic", "artifact", "junit", "sarif", "snyk", "pull_request",
                    "approval", "decision", "jira", "sonar", "sbom", "coverage", "vulns", "*"})
_TYPES_TEXT = ("generic, junit, snyk, pull_request, jira, sonar, sarif, artifact, approval, "
               "decision, sbom, coverage, vulns, custom:NAME or *")
_STR, _BOOL, _NULL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"


class Requirement:
    """``provenance`` or ``trail-compliance``; only a required one is kept.

    The rule classes here are plain slotted classes, not dataclasses: building a dataclass
    costs about a millisecond at import, and the CLI imports this module on its write path."""

    __slots__ = ("name", "exceptions")

    def __init__(self, name: str, exceptions: tuple[Expression, ...]) -> None:
        self.name = name
        self.exceptions = exceptions

    def __repr__(self) -> str:
        return f"Requirement({self.name!r}, {self.exceptions!r})"


class AttestationRule:
    __slots__ = ("name", "type", "condition")

    def __init__(self, name: str, kind: str, condition: Expression | None) -> None:
        self.name = name
        self.type = kind
        self.condition = condition

    def __repr__(self) -> str:
        return f"AttestationRule({self.name!r}, {self.type!r}, {self.condition!r})"

    @property
    def label(self) -> str:
        return f"attestation {self.name} of type {self.type}"

    def matches(self, attestation: AttestationFacts) -> bool:
        return self.name in ("*", attestation["name"]) and self.type in ("*", attestation["type"])


class YamlPolicy:
    __slots__ = ("requirements", "attestations")

    def __init__(self, requirements: tuple[Requirement, ...],
                 attestations: tuple[AttestationRule, ...]) -> None:
        self.requirements = requirements
        self.attestations = attestations

    def __repr__(self) -> str:
        return f"YamlPolicy({self.requirements!r}, {self.attestations!r})"


# --- loading -----------------------------------------------------------------------------------

def load_yaml(text: str, where: str) -> YamlPolicy:
    """The rules of the policy ``text``; ``InputError`` naming ``where``, the line and the key."""
    return _Reader(where).policy(_compose(text, where))


def _compose(text: str, where: str) -> Any:
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        return loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"{where}: {problem}{at}") from None
    except RecursionError:
        raise InputError(f"{where}: YAML nested too deeply") from None
    finally:
        loader.dispose()


class _Reader:
    """Walks the composed YAML nodes, so every refusal knows its line and key path, and each
    node is read once: a node seen twice is an alias, refused rather than expanded."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.seen: set[int] = set()

    def fail(self, node: Any, path: str, problem: str, remedy: str | None = None) -> InputError:
        line = f" line {node.start_mark.line + 1}:" if node is not None else ""
        key = f" {path}:" if path else ""
        return InputError(f"{self.where}:{line}{key} {problem}", remedy=remedy)

    def visit(self, node: Any, path: str) -> None:
        if id(node) in self.seen:
            raise self.fail(node, path, "anchors and aliases are not supported",
                            "write the value out in full")
        self.seen.add(id(node))

    def mapping(self, node: Any, path: str, keys: Iterable[str]) -> dict[str, Any]:
        import yaml

        self.visit(node, path)
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, path, f"expected a mapping, found {_shown(node)}")
        allowed = tuple(keys)
        out: dict[str, Any] = {}
        for key_node, value in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key_node.tag != _STR or not isinstance(key, str):
                raise self.fail(key_node, path, f"a key must be a string, found {_shown(key_node)}")
            here = f"{path}.{key}" if path else key
            if key in out:
                raise self.fail(key_node, here, "duplicate key (which one counts would be a guess)")
            if key not in allowed:
                raise self.fail(key_node, here, f"unknown key {key!r}",
                                "keys here are " + ", ".join(allowed))
            out[key] = value
        return out

    def sequence(self, node: Any, path: str) -> list[Any]:
        import yaml

        self.visit(node, path)
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, path, f"expected a list, found {_shown(node)}")
        return list(node.value)

    def string(self, node: Any, path: str) -> str:
        import yaml

        self.visit(node, path)
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR:
            raise self.fail(node, path, f"expected a string, found {_shown(node)}",
                            "quote it" if isinstance(node, yaml.ScalarNode) else None)
        if not node.value.strip():
            raise self.fail(node, path, "must not be empty")
        return str(node.value)

    def boolean(self, node: Any, path: str) -> bool:
        import yaml

        self.visit(node, path)
        value = node.value if isinstance(node, yaml.ScalarNode) else None
        if node.tag != _BOOL or not isinstance(value, str) or value.lower() not in (
                "true", "false"):
            raise self.fail(node, path, f"expected true or false, found {_shown(node)}")
        return value.lower() == "true"

    def policy(self, root: Any) -> YamlPolicy:
        if root is None:
            raise InputError(f"{self.where}: empty; a policy starts with `_schema: "
                             "https://kosli.com/schemas/policy/environment/v1`")
        import yaml

        if not isinstance(root, yaml.MappingNode):
            raise InputError(f"{self.where}: not a policy: neither YAML starting with _schema: "
                             "https://kosli.com/schemas/policy/environment/v1 nor a Rego module "
                             "starting with package policy")
        top = self.mapping(root, "", ("_schema", "artifacts"))
        if "_schema" not in top:
            raise self.fail(root, "", "_schema is missing",
                            "start with _schema: https://kosli.com/schemas/policy/environment/v1")
        self.schema(top["_schema"])
        if "artifacts" not in top:
            return YamlPolicy((), ())
        artifacts = self.mapping(top["artifacts"], "artifacts",
                                 ("provenance", "trail-compliance", "attestations"))
        requirements: list[Requirement] = []
        for name in ("provenance", "trail-compliance"):
            requirement = self.requirement(artifacts[name], name) if name in artifacts else None
            if requirement is not None:
                requirements.append(requirement)
        rules = self.attestation_rules(artifacts.get("attestations"))
        return YamlPolicy(tuple(requirements), rules)

    def schema(self, node: Any) -> None:
        """Kosli's rule: a URL whose last segment is ``v{n}``, with only v1 supported; it must
        also name a policy schema (``.../schemas/policy/...``), so a flow template is refused."""
        from urllib.parse import urlsplit

        url = self.string(node, "_schema")
        parts = urlsplit(url.strip())
        segments = parts.path.split("/")
        last = segments[-1]
        is_policy = "schemas" in segments and "policy" in segments[segments.index("schemas"):]
        if (parts.scheme not in ("https", "http") or not parts.netloc or not is_policy
                or not (last[:1] == "v" and _ascii_digits(last[1:]))):
            raise self.fail(node, "_schema", f"{url!r} is not a Kosli environment policy schema",
                            "write _schema: https://kosli.com/schemas/policy/environment/v1")
        if last != "v1":
            raise self.fail(node, "_schema", f"policy version {last} is not supported (only v1)")

    def requirement(self, node: Any, name: str) -> Requirement | None:
        fields = self.mapping(node, f"artifacts.{name}", ("required", "exceptions"))
        required = ("required" in fields
                    and self.boolean(fields["required"], f"artifacts.{name}.required"))
        exceptions = self.exceptions(fields.get("exceptions"), f"artifacts.{name}.exceptions")
        return Requirement(name, exceptions) if required else None

    def exceptions(self, node: Any, path: str) -> tuple[Expression, ...]:
        if node is None:
            return ()
        out = []
        for at, item in enumerate(self.sequence(node, path)):
            here = f"{path}[{at}]"
            fields = self.mapping(item, here, ("if",))
            if "if" not in fields:
                raise self.fail(item, here, "an exception needs an `if`")
            out.append(self.expression(fields["if"], f"{here}.if"))
        return tuple(out)

    def expression(self, node: Any, path: str) -> Expression:
        text = self.string(node, path)
        return parse_expression(text, f"{self.where}: line {node.start_mark.line + 1}: {path}")

    def attestation_rules(self, node: Any) -> tuple[AttestationRule, ...]:
        if node is None:
            return ()
        rules: list[AttestationRule] = []
        for at, item in enumerate(self.sequence(node, "artifacts.attestations")):
            rule = self.attestation_rule(item, f"artifacts.attestations[{at}]")
            twin = next((r for r in rules if (r.name, r.type) == (rule.name, rule.type)), None)
            if twin is not None:
                raise self.fail(item, f"artifacts.attestations[{at}]",
                                f"repeats the rule for {rule.label}",
                                "give one rule, joining the conditions with `or`")
            rules.append(rule)
        return tuple(rules)

    def attestation_rule(self, node: Any, path: str) -> AttestationRule:
        fields = self.mapping(node, path, ("name", "type", "if"))
        if "type" not in fields:
            raise self.fail(node, path, "type is missing", f"types are {_TYPES_TEXT}")
        kind = self.string(fields["type"], f"{path}.type")
        if kind not in _TYPES and not _is_custom(kind):
            raise self.fail(fields["type"], f"{path}.type",
                            f"unknown attestation type {kind!r}", f"types are {_TYPES_TEXT}")
        name = self.string(fields["name"], f"{path}.name") if "name" in fields else "*"
        if name == "*" and kind == "*":
            raise self.fail(node, path, "name and type are both *",
                            "name the attestation or its type")
        condition = self.expression(fields["if"], f"{path}.if") if "if" in fields else None
        return AttestationRule(name, kind, condition)


def _ascii_digits(text: str) -> bool:
    return bool(text) and all("0" <= ch <= "9" for ch in text)


def _is_custom(kind: str) -> bool:
    name = kind.removeprefix("custom:")
    return name != kind and bool(name) and name[0].isascii() and name[0].isalnum() and all(
        ch.isascii() and (ch.isalnum() or ch in "._-") for ch in name)


def _shown(node: Any) -> str:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == _NULL:
        return "nothing"
    value = str(node.value)
    return json.dumps(value if len(value) <= 40 else value[:37] + "...", ensure_ascii=False)


# --- decisions ---------------------------------------------------------------------------------

def decide_yaml(policy: YamlPolicy, artifacts: Iterable[ArtifactFacts]) -> list[Decision]:
    """One decision per artifact per rule, artifacts in the order given, rules in the policy's."""
    out: list[Decision] = []
    for facts in artifacts:
        key = ArtifactKey(facts["name"], facts["fingerprint"])
        context = expression_context(facts)
        for requirement in policy.requirements:
            compliant, reason = _requirement(requirement, facts, context)
            out.append(Decision(key, requirement.name, compliant, reason))
        for rule in policy.attestations:
            compliant, reason = _attestation(rule, facts, context)
            out.append(Decision(key, rule.label, compliant, reason))
    return out


def _requirement(requirement: Requirement, facts: ArtifactFacts,
                 context: Mapping[str, object]) -> tuple[bool, str]:
    failure, success = _failure(requirement.name, facts)
    if failure is None:
        return True, success
    undecided: list[str] = []
    for exception in requirement.exceptions:
        outcome = holds(exception, context)
        if outcome is True:
            return True, f"{failure}; waived by exception {exception.text}"
        if isinstance(outcome, Undetermined):
            undecided.append(f"exception {exception.text} cannot be evaluated "
                             f"({_detail(outcome, exception)}), so it waives nothing")
    return False, "; ".join([failure, *undecided])


def _failure(name: str, facts: ArtifactFacts) -> tuple[str | None, str]:
    """Why the artifact fails requirement ``name`` (None: it meets it), and why it meets it."""
    provenance = facts["provenance"]
    if provenance is None:
        unknown = " (its fingerprint is not known yet)" if facts["fingerprint"] is None else ""
        return ("no provenance" + unknown if name == "provenance"
                else "no provenance, so no trail"), ""
    trail, flow = provenance["trail"]["name"], provenance["flow"]["name"]
    if name == "provenance":
        return None, f"reported by trail {trail} of flow {flow}"
    status = provenance["trail"]["compliance"]
    verdict = f"trail {trail} of flow {flow} is {status}"
    return (None if status == COMPLIANT else verdict), verdict


def _attestation(rule: AttestationRule, facts: ArtifactFacts,
                 context: Mapping[str, object]) -> tuple[bool, str]:
    prefix = ""
    if rule.condition is not None:
        outcome = holds(rule.condition, context)
        if outcome is False:
            return True, f"not required: {rule.condition.text} does not hold"
        if isinstance(outcome, Undetermined):
            prefix = (f"{rule.condition.text} cannot be evaluated "
                      f"({_detail(outcome, rule.condition)}), so it is required: ")
    compliant, reason = _attested(rule, facts)
    return compliant, prefix + reason


def _detail(outcome: Undetermined, expression: Expression) -> str:
    """The reason without the expression's own text in front, which the caller already quotes."""
    return outcome.reason.removeprefix(f"{expression.text}: ")


def _attested(rule: AttestationRule, facts: ArtifactFacts) -> tuple[bool, str]:
    provenance = facts["provenance"]
    if provenance is None:
        return False, "no provenance, so no attestations"
    found = [a for a in latest_attestations(provenance) if rule.matches(a)]
    if not found:
        return False, f"no attestation {rule.name} of type {rule.type}"
    failing = [a for a in found if not a["compliant"]]
    shown = failing or found
    names = ", ".join(f"{a['name']} ({a['type']})" for a in shown)
    verb = "is" if len(shown) == 1 else "are"
    return (False, f"{names} {verb} not compliant") if failing else (
        True, f"{names} {verb} compliant")
