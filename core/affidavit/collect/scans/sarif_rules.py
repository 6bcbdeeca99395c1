"""What a SARIF result means: its rule, level, severity, kind, suppression and baseline state.

Every SARIF version puts these in different places, so they are looked up here once, for
1.0.0, the 2.0.0 pre-releases (``csd.*``) and 2.1.0 alike (the shapes come from the sarif-sdk
test logs and their ``.expected.sarif`` upgrades):

- rules: 2.1.0 ``tool.driver.rules`` and ``tool.extensions[].rules``; 2.0.0-csd.2 (2019)
  ``tool.driver.ruleDescriptors``; 2.0.0 ``run.resources.rules`` and 1.0.0 ``run.rules`` (both
  maps keyed by rule id). A result names its rule by ``ruleIndex`` / ``rule.index`` (into the
  driver, or into ``extensions[rule.toolComponent.index]``) or by ``ruleId`` / ``rule.id``
  (hierarchical ids ``A/B`` fall back to ``A``).
- default level: ``defaultConfiguration.level`` (2.1.0), ``configuration.defaultLevel`` (2.0
  pre-releases), ``defaultLevel`` (1.0.0).
- level: the result's, else (for a result whose ``kind`` is not ``fail``) ``none`` as 2.1.0
  §3.27.10 says, else the rule's default, else ``warning``. The 1.0/2.0 levels ``pass``,
  ``notApplicable`` and ``open`` were later split into ``kind``: they become level ``none``
  with that kind. Producers' severity words used as levels (``high``, ``info``...) are mapped.
- severity: ``properties.security-severity`` of the result, then of the rule, as CVSS; else
  the level (error -> high, warning -> medium, note -> low, none -> none). For Snyk's SARIF the
  rule's ``properties.problem.severity`` comes first.
- suppressed: 2.1.0 ``suppressions`` non-empty and none of them ``rejected`` or ``underReview``
  (sarif-sdk's rule; a status left out counts as accepted; the draft spelling ``state`` is
  read too); 2.0 ``suppressionStates`` holding ``suppressedInSource``/``suppressedExternally``.
- baseline: 2.1.0 ``new | unchanged | updated | absent``; 1.0/2.0 ``existing`` is ``unchanged``.
"""

from __future__ import annotations

from affidavit.collect.scans import severity as sev

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Rule", "RuleTable", "Meaning", "normal_level", "is_suppressed", "baseline",
           "text_of", "actionable", "CLASS_NEW", "CLASS_KNOWN", "CLASS_INERT"]

_LEVELS = {"error": "error", "warning": "warning", "note": "note", "none": "none",
           "critical": "error", "high": "error", "fatal": "error", "medium": "warning",
           "moderate": "warning", "low": "note", "info": "note", "information": "note",
           "informational": "note", "recommendation": "note"}
#: 1.0 / 2.0 levels that are kinds in 2.1.0.
_LEVEL_KINDS = {"pass": "pass", "notapplicable": "notApplicable", "open": "open"}
_NOT_A_PROBLEM = frozenset({"pass", "notApplicable", "informational"})
_BASELINE = {"new": "new", "unchanged": "unchanged", "updated": "updated", "absent": "absent",
             "existing": "unchanged"}
_SUPPRESSED_STATES = frozenset({"suppressedInSource", "suppressedExternally"})
_NOT_SUPPRESSING = frozenset({"rejected", "underReview", "suppressionRejected"})

#: Finding classes: may fail the verdict always / only without --new-only / never.
CLASS_NEW, CLASS_KNOWN, CLASS_INERT = 0, 1, 2


def normal_level(value: object) -> tuple[str | None, str | None]:
    """``(level, kind)`` from a written level; ``(None, None)`` when absent or unknown."""
    if not isinstance(value, str):
        return None, None
    word = value.strip().lower()
    kind = _LEVEL_KINDS.get(word)
    if kind:
        return "none", kind
    return _LEVELS.get(word), None


def text_of(value: object) -> str | None:
    """A message string as 1.0 (plain) or 2.x (``{"text"}`` / ``{"markdown"}``) writes it."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("text", "markdown"):
            if isinstance(value.get(key), str):
                return str(value[key])
    return None


def is_suppressed(result: dict[str, Any]) -> bool:
    """Whether the producer says the result is suppressed (see the module docstring)."""
    suppressions = result.get("suppressions")
    if isinstance(suppressions, list) and suppressions:
        for item in suppressions:
            if isinstance(item, dict) and (
                item.get("status") in _NOT_SUPPRESSING or item.get("state") in _NOT_SUPPRESSING
                or item.get("kind") in _NOT_SUPPRESSING
            ):
                return False
        return True
    states = result.get("suppressionStates")
    if isinstance(states, list):
        return any(state in _SUPPRESSED_STATES for state in states)
    return False


def baseline(value: object) -> str | None:
    """The 2.1.0 name of a baseline state; ``None`` when absent or unknown."""
    return _BASELINE.get(value) if isinstance(value, str) else None


class Rule:
    """The few facts of a reporting descriptor that results need."""

    __slots__ = ("id", "level", "cvss", "problem", "messages", "title")

    def __init__(self, raw: dict[str, Any], rule_id: object = None) -> None:
        found = raw.get("id", rule_id)
        self.id = found if isinstance(found, str) else None
        level = None
        config = raw.get("defaultConfiguration")
        if isinstance(config, dict):
            level = config.get("level")
        old = raw.get("configuration")
        if level is None and isinstance(old, dict):
            level = old.get("defaultLevel")
        if level is None:
            level = raw.get("defaultLevel")
        self.level = normal_level(level)[0]
        props = raw.get("properties")
        props = props if isinstance(props, dict) else {}
        self.cvss = sev.from_cvss(props.get("security-severity"))
        problem = props.get("problem")
        self.problem = sev.from_name(problem.get("severity")) if isinstance(problem, dict) else None
        self.messages = _strings(raw.get("messageStrings")) or _strings(raw.get("messageFormats"))
        self.title = text_of(raw.get("shortDescription")) or text_of(raw.get("name"))


def _strings(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    out = {}
    for key, item in value.items():
        text = text_of(item)
        if text is not None:
            out[key] = text
    return out


def _rules(value: object) -> list[Rule]:
    if isinstance(value, list):
        return [Rule(item) for item in value if isinstance(item, dict)]
    if isinstance(value, dict):  # 1.0 / 2.0: a map from rule id to rule
        return [Rule(item, key) for key, item in value.items() if isinstance(item, dict)]
    return []


def actionable(suppressed: bool, kind: str, baseline_state: str | None, new_only: bool) -> bool:
    """Whether a finding may fail the verdict: a problem, not suppressed, in the current scan
    (not ``absent``), and with ``new_only`` not already in the baseline."""
    if suppressed or kind in _NOT_A_PROBLEM or baseline_state == "absent":
        return False
    return not (new_only and baseline_state in ("unchanged", "updated"))


class Meaning:
    """What one distinct kind of result means; shared by every result with the same key."""

    __slots__ = ("level", "severity", "kind", "suppressed", "baseline", "cls", "rule")

    def __init__(self, level: str, severity: str, kind: str, suppressed: bool,
                 baseline_state: str | None, rule: Rule | None) -> None:
        self.level, self.severity, self.kind = level, severity, kind
        self.suppressed, self.baseline, self.rule = suppressed, baseline_state, rule
        if not actionable(suppressed, kind, baseline_state, False):
            self.cls = CLASS_INERT
        elif not actionable(suppressed, kind, baseline_state, True):
            self.cls = CLASS_KNOWN
        else:
            self.cls = CLASS_NEW


class RuleTable:
    """The rules of one run, however its SARIF version stores them."""

    def __init__(self, *, snyk: bool = False) -> None:
        self.snyk = snyk
        self.driver: list[Rule] = []
        self.extensions: list[list[Rule]] = []
        self.extension_names: list[object] = []
        self.by_id: dict[str, Rule] = {}
        self.messages: dict[str, str] = {}

    def _index(self, rules: list[Rule]) -> None:
        for rule in rules:
            if rule.id is not None:
                self.by_id.setdefault(rule.id, rule)

    def add_tool(self, tool: object) -> None:
        """Rules and global message strings of ``run.tool`` (any version)."""
        if not isinstance(tool, dict):
            return
        driver = tool.get("driver")
        driver = driver if isinstance(driver, dict) else tool
        self.driver = _rules(driver.get("rules")) or _rules(driver.get("ruleDescriptors"))
        self._index(self.driver)
        self.messages.update(_strings(driver.get("globalMessageStrings")))
        extensions = tool.get("extensions")
        for ext in extensions if isinstance(extensions, list) else []:
            ext = ext if isinstance(ext, dict) else {}
            rules = _rules(ext.get("rules")) or _rules(ext.get("ruleDescriptors"))
            self.extensions.append(rules)
            self.extension_names.append(ext.get("name"))
            self._index(rules)

    def add_map(self, rules: object) -> None:
        """1.0 ``run.rules`` or 2.0 ``run.resources.rules``."""
        found = _rules(rules)
        if not self.driver:
            self.driver = found if isinstance(rules, list) else []
        self._index(found)

    def find(self, rule_id: object, index: object, component: object) -> Rule | None:
        """The rule a result names, or ``None``."""
        table = self.driver
        if component is not None:
            if isinstance(component, int) and 0 <= component < len(self.extensions):
                table = self.extensions[component]
            elif component in self.extension_names:
                table = self.extensions[self.extension_names.index(component)]
            else:
                table = []
        if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(table):
            return table[index]
        if not isinstance(rule_id, str):
            return None
        if component is not None:
            for rule in table:
                if rule.id == rule_id:
                    return rule
        while True:
            found = self.by_id.get(rule_id)
            if found is not None or "/" not in rule_id:
                return found
            rule_id = rule_id.rsplit("/", 1)[0]

    def meaning(self, key: tuple[Any, ...]) -> Meaning:
        """Resolve a result key (see ``sarif_log``) against these rules."""
        rule_id, index, component, level_raw, kind_raw, cvss, suppressed, base = key
        rule = self.find(rule_id, index, component)
        level, kind = normal_level(level_raw)
        if kind is None and isinstance(kind_raw, str):
            kind = kind_raw
        if level is None:
            if kind is not None and kind != "fail":
                level = "none"
            elif rule is not None and rule.level is not None:
                level = rule.level
            else:
                level = "warning"
        severity = None
        if self.snyk and rule is not None:
            severity = rule.problem
        if severity is None:
            severity = sev.from_cvss(cvss)
        if severity is None and rule is not None:
            severity = rule.cvss
        if severity is None:
            severity = sev.from_level(level)
        return Meaning(level, severity, kind or "fail", suppressed, baseline(base), rule)
