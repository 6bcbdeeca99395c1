"""Walking a SARIF log with bounded memory: counts per run and a bounded sample of findings.

Results are decoded one at a time (:mod:`~affidavit.collect.scans.jsonstream`) and never kept.
Each is reduced to a small key -- rule reference, written level and kind, ``security-severity``,
suppressed, baseline state -- and counted per key; keys are few (about one per rule), so rules
appearing *after* the results (as 1.0/2.0 logs and some producers write them) cost nothing:
keys are resolved against the rules when the run ends. The findings sample keeps at most
``cap`` results per (class, severity) bucket -- enough for any ``--new-only`` choice to show the
``cap`` most severe actionable ones in file order. When a run's rules are not known yet, its
candidates wait per key (bounded too) until the run ends.
"""

from __future__ import annotations

import re

from affidavit.collect.scans import severity as sev
from affidavit.collect.scans.jsonstream import JsonStream
from affidavit.collect.scans.sarif_rules import RuleTable, is_suppressed, normal_level, text_of
from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["read_log", "VERSION", "LOCATIONS_CAP", "MESSAGE_CAP", "SNYK_KEYS"]

#: SARIF versions read: 1.0.0, 2.0.0 and its ``-csd.*`` pre-releases, 2.1.0 (and ``-rtm.N``).
VERSION = re.compile(r"^(1\.0\.0|2\.0\.0(-csd\.[0-9A-Za-z.-]+)?|2\.1\.0(-rtm\.\d+)?)$")
LOCATIONS_CAP = 10  # locations kept per finding (``location_count`` says how many there were)
MESSAGE_CAP = 1000  # characters of a finding's message kept
#: Top-level keys of Snyk's own JSON, which is not SARIF.
SNYK_KEYS = frozenset({"vulnerabilities", "infrastructureAsCodeIssues", "applications",
                       "packageManager", "dependencyCount"})
_SNYK_HINT = "for Snyk JSON use `affidavit attest snyk`"
_ARG = re.compile(r"\{(\d+)\}")
_BUCKETS = 3 * len(sev.SEVERITIES)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, (str, int, float)) else None


def _locations(result: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Up to LOCATIONS_CAP ``{uri, start_line, end_line}`` and how many locations there are."""
    found = result.get("locations")
    if not isinstance(found, list):
        return [], 0
    out = []
    for loc in found[:LOCATIONS_CAP]:
        loc = loc if isinstance(loc, dict) else {}
        physical = loc.get("physicalLocation")
        if isinstance(physical, dict):  # 2.x
            artifact = physical.get("artifactLocation") or physical.get("fileLocation")
            region = physical.get("region")
        else:  # 1.0
            artifact = loc.get("resultFile") or loc.get("analysisTarget")
            region = artifact.get("region") if isinstance(artifact, dict) else None
        uri = artifact.get("uri") if isinstance(artifact, dict) else None
        region = region if isinstance(region, dict) else {}
        start, end = _int(region.get("startLine")), _int(region.get("endLine"))
        out.append({"uri": uri if isinstance(uri, str) else None, "start_line": start,
                    "end_line": end if end is not None else start})
    return out, len(found)


def _candidate(seq: int, key: tuple[Any, ...], result: dict[str, Any]) -> dict[str, Any]:
    """What a finding needs from its result, before its rule is known."""
    locations, count = _locations(result)
    prints = result.get("partialFingerprints")
    prints = {k: v for k, v in prints.items() if isinstance(v, str)} if isinstance(
        prints, dict) else {}
    return {"seq": seq, "key": key, "message": result.get("message"),
            "formatted": result.get("formattedRuleMessage"), "locations": locations,
            "location_count": count, "partial_fingerprints": prints}


#: Levels written exactly as a known word, checked before :func:`normal_level` is called.
_PLAIN_LEVELS = frozenset({"error", "warning", "note", "none", "pass", "notApplicable", "open"})


def _kind(value: object) -> str:
    """What a JSON value is, for an error saying what was found instead."""
    if value is None:
        return "null"
    return {str: "a string", bool: "a boolean", list: "an array", dict: "an object"}.get(
        type(value), "a number")


class _Run:
    """The state of one run while its results stream past."""

    def __init__(self, log: _Log) -> None:
        self.log = log
        self.index = len(log.runs)
        self.rules = RuleTable(snyk=log.snyk)
        self.counts: dict[tuple[Any, ...], int] = {}
        self.tool: dict[str, Any] = {}
        self.automation: str | None = None
        self.final = False  # rules complete: 2.1.0 keeps them all in ``tool``
        self.kept: list[tuple[int, dict[str, Any]]] = []  # (bucket, candidate)
        self.waiting: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self.waiting_total = 0

    def results(self, stream: JsonStream) -> None:
        log, counts, cap = self.log, self.counts, self.log.cap
        meanings: dict[tuple[Any, ...], Any] = {}
        path = f"$.runs[{self.index}].results"
        if stream.peek() != "[":
            where = stream.position()
            found = stream.value()  # "results": null says the tool failed to run (§3.14.23)
            raise stream.error(f"{path}: expected an array, got {_kind(found)}", where)
        for n, (where, result) in enumerate(stream.iter_values()):
            if type(result) is not dict:
                raise stream.error(f"{path}[{n}]: expected an object, got {_kind(result)}",
                                   where)
            level = result.get("level")
            if level is not None and level not in _PLAIN_LEVELS and normal_level(
                    level)[0] is None:
                raise stream.error(f"{path}[{n}].level: unknown level {level!r}", where)
            marks = result.get("suppressions")
            if marks and type(marks) is list:
                for j, mark in enumerate(marks):
                    if type(mark) is not dict:
                        raise stream.error(f"{path}[{n}].suppressions[{j}]: expected an "
                                           f"object, got {_kind(mark)}", where)
            rule_id, index, component = result.get("ruleId"), result.get("ruleIndex"), None
            rule = result.get("rule")
            if isinstance(rule, dict):
                rule_id = rule_id if rule_id is not None else rule.get("id")
                index = index if index is not None else rule.get("index")
                ref = rule.get("toolComponent")
                if isinstance(ref, dict):
                    component = ref["index"] if "index" in ref else ref.get("name")
            props = result.get("properties")
            cvss = props.get("security-severity") if isinstance(props, dict) else None
            hidden = bool(result.get("suppressions") or result.get("suppressionStates")) and (
                is_suppressed(result))
            key: tuple[Any, ...] = (rule_id, index, component, result.get("level"),
                                    result.get("kind"), cvss, hidden,
                                    result.get("baselineState"))
            try:
                counts[key] = counts.get(key, 0) + 1
            except TypeError:  # a malformed field holds a list or an object
                key = tuple(_plain(v) for v in key)
                counts[key] = counts.get(key, 0) + 1
            seq = log.seq
            log.seq += 1
            if self.final:
                meaning = meanings.get(key)
                if meaning is None:
                    meaning = meanings[key] = self.rules.meaning(key)
                bucket = meaning.cls * 5 + 4 - sev.RANK[meaning.severity]
                if log.sizes[bucket] < cap:
                    log.sizes[bucket] += 1
                    self.kept.append((bucket, _candidate(seq, key, result)))
            else:
                waiting = self.waiting.setdefault(key, [])
                if len(waiting) < cap and self.waiting_total < 16 * cap + 1000:
                    waiting.append(_candidate(seq, key, result))
                    self.waiting_total += 1

    def finish(self) -> dict[str, Any]:
        """Resolve the keys against the rules, now complete; the run's counts."""
        by_level = dict.fromkeys(sev.LEVELS, 0)
        by_severity, actionable, existing = sev.zero(), sev.zero(), sev.zero()
        total = hidden = 0
        meanings = {key: self.rules.meaning(key) for key in self.counts}
        for key, n in self.counts.items():
            meaning = meanings[key]
            total += n
            by_level[meaning.level] += n
            by_severity[meaning.severity] += n
            hidden += n if meaning.suppressed else 0
            if meaning.cls != 2:
                actionable[meaning.severity] += n
                if meaning.cls == 1:
                    existing[meaning.severity] += n
        for key, waiting in self.waiting.items():
            meaning = meanings[key]
            bucket = meaning.cls * 5 + 4 - sev.RANK[meaning.severity]
            self.kept.extend((bucket, candidate) for candidate in waiting)
        for bucket, candidate in self.kept:
            self.log.buckets[bucket].append(self._finding(candidate, meanings[candidate["key"]]))
        driver = self.tool.get("driver")
        driver = driver if isinstance(driver, dict) else self.tool
        name, version = driver.get("name"), driver.get("version", driver.get("semanticVersion"))
        return {"tool": name if isinstance(name, str) else None,
                "version": version if isinstance(version, str) else None,
                "automation_id": self.automation, "results": total, "suppressed": hidden,
                "by_level": by_level, "by_severity": by_severity, "actionable": actionable,
                "existing": existing}

    def _finding(self, candidate: dict[str, Any], meaning: Any) -> dict[str, Any]:
        rule = meaning.rule
        rule_id = candidate["key"][0]
        if not isinstance(rule_id, str):
            rule_id = rule.id if rule is not None else None
        return {"seq": candidate["seq"], "run": self.index, "tool": self.tool_name(),
                "rule_id": rule_id,
                "level": meaning.level, "severity": meaning.severity, "kind": meaning.kind,
                "message": self._message(candidate, rule, rule_id),
                "locations": candidate["locations"],
                "location_count": candidate["location_count"],
                "partial_fingerprints": candidate["partial_fingerprints"],
                "suppressed": meaning.suppressed, "baseline_state": meaning.baseline}

    def tool_name(self) -> str | None:
        driver = self.tool.get("driver")
        name = (driver if isinstance(driver, dict) else self.tool).get("name")
        return name if isinstance(name, str) else None

    def _message(self, candidate: dict[str, Any], rule: Any, rule_id: str | None) -> str:
        message, args, template_id = candidate["message"], None, None
        text = text_of(message)
        if isinstance(message, dict):
            args = message.get("arguments")
            template_id = message.get("id", message.get("messageId"))
        formatted = candidate["formatted"]
        if text is None and isinstance(formatted, dict):  # 1.0 formattedRuleMessage
            template_id, args = formatted.get("formatId"), formatted.get("arguments")
        if text is None and isinstance(template_id, str):
            strings = rule.messages if rule is not None else {}
            text = strings.get(template_id) or self.rules.messages.get(template_id)
        if text is None:
            text = (rule.title if rule is not None else None) or rule_id or ""
        if isinstance(args, list) and args:
            strs = [str(a) for a in args]
            text = _ARG.sub(lambda m: strs[int(m[1])] if int(m[1]) < len(strs) else m[0], text)
        return text if len(text) <= MESSAGE_CAP else text[: MESSAGE_CAP - 1] + "…"


class _Log:
    """The state of one file."""

    def __init__(self, cap: int, snyk: bool) -> None:
        self.cap, self.snyk = cap, snyk
        self.seq = 0
        self.sizes = [0] * _BUCKETS
        self.buckets: list[list[dict[str, Any]]] = [[] for _ in range(_BUCKETS)]
        self.version: object = None
        self.runs: list[dict[str, Any]] = []

    def run(self, stream: JsonStream) -> dict[str, Any]:
        if stream.peek() != "{":
            where = stream.position()
            stream.value()  # invalid JSON is reported as such
            raise stream.error("a SARIF run is not an object", where)
        run = _Run(self)
        for key in stream.iter_object():
            if key == "results":
                run.results(stream)
            elif key == "tool":
                tool = stream.value()
                run.tool = tool if isinstance(tool, dict) else {}
                run.rules.add_tool(tool)
                run.final = isinstance(self.version, str) and self.version.startswith("2.1")
            elif key == "rules":  # 1.0
                run.rules.add_map(stream.value())
            elif key == "resources":  # 2.0
                resources = stream.value()
                if isinstance(resources, dict):
                    run.rules.add_map(resources.get("rules"))
            elif key == "invocations":
                where = stream.position()
                self._invocations(stream.value(), run.index, stream, where)
            elif key == "automationDetails":
                details = stream.value()
                found = details.get("id") if isinstance(details, dict) else None
                run.automation = found if isinstance(found, str) else None
            else:
                stream.skip()
        return run.finish()


    @staticmethod
    def _invocations(found: object, index: int, stream: JsonStream, where: int) -> None:
        """Refuse a run whose invocation says the tool failed (``executionSuccessful``): its
        results, if any, are not a scan's whole answer."""
        for n, invocation in enumerate(found if isinstance(found, list) else []):
            if isinstance(invocation, dict) and invocation.get("executionSuccessful") is False:
                raise stream.error(f"$.runs[{index}].invocations[{n}].executionSuccessful: "
                                   "false, the tool says it failed", where)


def _check_version(stream: JsonStream, version: object) -> None:
    if not isinstance(version, str) or not VERSION.match(version):
        raise InputError(f"{stream.shown}: unsupported SARIF version {version!r} "
                         "(expected 1.0.0, 2.0.0 or 2.1.0)")


def read_log(stream: JsonStream, *, cap: int, snyk: bool = False) -> dict[str, Any]:
    """Counts per run and the findings sample of the SARIF log at the stream's cursor."""
    first = stream.peek()
    if first == "[":
        raise InputError(f"{stream.shown}: not a SARIF log: the document is an array, not an "
                         "object", remedy=_SNYK_HINT)
    if first != "{":
        if not first:
            raise InputError(f"{stream.shown}: empty file, not a SARIF log")
        raise stream.refuse("a SARIF log")
    log = _Log(cap, snyk)
    seen_runs = False
    for key in stream.iter_object():
        if key == "version":
            log.version = stream.value()
            _check_version(stream, log.version)
        elif key == "runs":
            seen_runs = True
            if stream.peek() != "[":  # "runs": null says the tool failed to start (§3.13.4)
                where = stream.position()
                found = stream.value()
                raise stream.error(f"$.runs: expected an array, got {_kind(found)}", where)
            for _ in stream.iter_array():
                log.runs.append(log.run(stream))
        elif key in SNYK_KEYS:
            raise InputError(f"{stream.shown}: not a SARIF log: it has {key!r}, so it is Snyk "
                             "JSON", remedy=_SNYK_HINT)
        else:
            stream.skip()
    stream.finish()
    if log.version is None:
        raise InputError(f"{stream.shown}: not a SARIF log: no \"version\" property")
    if not seen_runs:
        raise InputError(f"{stream.shown}: not a SARIF log: no \"runs\" property")
    findings = []
    for bucket in log.buckets:
        bucket.sort(key=lambda f: int(f["seq"]))
        findings.extend(bucket[:cap])
    findings.sort(key=lambda f: int(f["seq"]))
    for finding in findings:
        del finding["seq"]
    return {"version": log.version, "runs": log.runs, "findings": findings,
            "results": log.seq}
