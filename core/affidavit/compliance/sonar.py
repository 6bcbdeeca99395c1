"""The verdict of a ``sonar`` attestation: compliant iff the quality gate of the commit's
analysis passed.

Only ``OK`` passes; everything else fails closed:

- ``ERROR``: a condition failed; each failing condition is a reason, written as the gate reads
  (``new_coverage 61.2 < 80``: the value, the comparison that failed, the threshold);
- ``WARN`` (SonarQube before 7.6, whose conditions had warning thresholds): not a pass, since
  the gate did not say OK; the conditions at WARN are the reasons;
- ``NONE``: no quality gate is associated with the project, so nothing was checked;
- no gate at all: the analysis task FAILED or was CANCELED, was still pending when
  ``--max-wait`` ran out, or no analysis of the commit appeared in that time.

An analysis whose recorded revision is another commit than the one asked about fails too (a
``report-task.txt`` left over from an earlier build); one that records no revision (a scan
without SCM data) is judged by its gate alone.
"""

from __future__ import annotations

from affidavit.compliance.judge import Malformed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = ["sonar_verdict", "condition_text"]

_OPERATORS = {"LT": "<", "GT": ">", "EQ": "=", "NE": "!="}


def _number(value: Any) -> str:
    """A value as the gate shows it: ``82.50562381034781`` -> ``82.51``, ``14`` -> ``14``."""
    if not isinstance(value, str):
        return "?" if value is None else str(value)
    try:
        number = float(value)
    except ValueError:
        return value
    if number != number or number in (float("inf"), float("-inf")):
        return value
    if number.is_integer():
        return str(int(number))
    return f"{number:.2f}".rstrip("0").rstrip(".")


def condition_text(condition: Mapping[str, Any]) -> str:
    """One condition as a reason: ``new_coverage 61.2 < 80`` (the threshold it crossed: the
    warning one for a condition at WARN)."""
    status = condition.get("status")
    threshold = (condition.get("warning_threshold") if status == "WARN" else None) or \
        condition.get("error_threshold")
    comparator = condition.get("comparator")
    operator = _OPERATORS.get(str(comparator), str(comparator or "?"))
    text = f"{condition.get('metric_key')} {_number(condition.get('actual_value'))}"
    if threshold is not None:
        text += f" {operator} {_number(threshold)}"
    return text + (" (warning)" if status == "WARN" else "")


def _field(predicate: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = predicate.get(name)
    if not isinstance(value, kind):
        raise Malformed(f"sonar predicate: {name} is not a {getattr(kind, '__name__', kind)}")
    return value


def _no_gate(predicate: Mapping[str, Any], lookup: Mapping[str, Any]) -> str:
    waited = lookup.get("waited_seconds")
    after = f" after {waited:g} s (--max-wait)" if isinstance(waited, (int, float)) else ""
    status = lookup.get("task_status")
    if lookup.get("by") == "task":
        task = lookup.get("task_id")
        if status in ("PENDING", "IN_PROGRESS"):
            return f"the analysis task {task} was still {status}{after}: no quality gate yet"
        error = lookup.get("task_error")
        return (f"the analysis task {task} ended {status}"
                + (f": {error}" if error else "") + ": no quality gate")
    scope = (f" pull request {predicate['pull_request']}" if predicate.get("pull_request")
             else f" branch {predicate['branch']}" if predicate.get("branch") else "")
    return (f"no analysis of commit {str(predicate.get('commit'))[:12]} in project "
            f"{predicate.get('project_key')}{scope}{after}")


def sonar_verdict(predicate: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """Compliant iff the quality gate is ``OK`` (and the analysis is of the commit asked
    about, when both are known); the reasons say why not, one failing condition each."""
    lookup = _field(predicate, "lookup", dict)
    gate = predicate.get("quality_gate")
    if gate is None:
        return False, [_no_gate(predicate, lookup)]
    if not isinstance(gate, dict):
        raise Malformed("sonar predicate: quality_gate is not an object")
    status = _field(gate, "status", str)
    conditions = _field(gate, "conditions", list)
    if not all(isinstance(c, dict) for c in conditions):
        raise Malformed("sonar predicate: a quality-gate condition is not an object")
    reasons: list[str] = []
    analysis = predicate.get("analysis")
    if analysis is not None and not isinstance(analysis, dict):
        raise Malformed("sonar predicate: analysis is not an object")
    commit, revision = predicate.get("commit"), (analysis or {}).get("revision")
    if isinstance(commit, str) and isinstance(revision, str) and (
            commit.lower() != revision.lower()):
        reasons.append(f"analysis {(analysis or {}).get('id')} is of revision {revision[:12]}, "
                       f"not of commit {commit[:12]}")
    if status == "OK":
        return not reasons, reasons
    key = predicate.get("project_key")
    if status == "NONE":
        reasons.append(f"project {key} has no quality gate (status NONE): nothing was checked")
        return False, reasons
    failing = [c for c in conditions if c.get("status") in ("ERROR", "WARN")]
    reasons.append(f"the quality gate of project {key} is {status}"
                   + (" (only OK passes)" if status == "WARN" else "")
                   + (f": {len(failing)} failing condition{'' if len(failing) == 1 else 's'}"
                      if failing else ""))
    reasons.extend(condition_text(c) for c in failing)
    return False, reasons
