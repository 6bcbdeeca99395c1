"""The Snyk collector: Snyk JSON (open source, container, IaC; one project or an array) or
Snyk's SARIF (``snyk code test``, ``--sarif`` of the other products) in, the ``snyk``
predicate out.

A file is SARIF when its object's first key is a SARIF log's (``$schema``, ``version``,
``runs``); it is then read by the SARIF collector with Snyk's rule
``properties.problem.severity`` honoured as the severity (falling back to
``security-severity`` and the level), each run becoming one project. Snyk's SARIF already has
one result per issue (paths are not listed), so a run's ``path_entries`` and ``unique_issues``
are both its results. Snyk JSON is read as :mod:`affidavit.collect.scans.snyk_json` documents.

The verdict (same ``--fail-on`` / ``--max-findings`` as SARIF, judged by
:mod:`affidavit.compliance.judge`) is judged on unique issues: ``actionable`` counts the issues
that are not suppressed (and, for SARIF with ``--new-only``, not already in the baseline).

Predicate (``https://affidavit.dev/predicate/snyk/v1``, model in ``models/scans.py``)::

    projects[] {file, name, type (open-source|container|container-app|iac|code|sarif),
                package_manager, target_file, path, path_entries, unique_issues, suppressed,
                by_severity {critical, high, medium, low, none}}
    totals     {projects, path_entries, unique_issues, suppressed, by_severity}
    actionable {critical, high, medium, low, none}
    findings[] one per unique issue, most severe actionable first: {project, target_file, id, title,
               severity, package, version, paths, location, suppressed, actionable}
    findings_total (= unique issues), findings_cap, files[{path, sha256, format}], and the
    policy (added by the caller)
"""

from __future__ import annotations

from affidavit.collect.scans import severity as sev
from affidavit.collect.scans.jsonstream import JsonStream, read_document
from affidavit.collect.scans.sarif import FINDINGS_CAP, check_cap
from affidavit.collect.scans.sarif_log import read_log
from affidavit.collect.scans.sarif_rules import actionable
from affidavit.collect.scans.snyk_json import SnykJson
from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping
    from typing import Any

__all__ = ["parse_file", "summarize"]

SARIF_KEYS = frozenset({"$schema", "version", "runs", "inlineExternalProperties"})
_FINDING_KEYS = ("project", "target_file", "id", "title", "severity", "package", "version", "paths",
                 "location", "suppressed")
_TYPES = (("code", "code"), ("iac", "iac"), ("infrastructure", "iac"),
          ("container", "container"), ("opensource", "open-source"))


def _run_type(tool: str | None) -> str:
    squashed = (tool or "").lower().replace(" ", "").replace("-", "")
    return next((kind for word, kind in _TYPES if word in squashed), "sarif")


def _from_sarif(log: dict[str, Any]) -> dict[str, Any]:
    """A SARIF log read in Snyk mode as projects (one per run) and Snyk-shaped findings."""
    projects = []
    names = []
    for n, run in enumerate(log["runs"]):
        name = run["automation_id"] or run["tool"] or f"run {n}"
        names.append(name)
        projects.append({
            "name": name, "type": _run_type(run["tool"]), "package_manager": None,
            "target_file": None, "path": None, "path_entries": run["results"],
            "unique_issues": run["results"], "suppressed": run["suppressed"],
            "by_severity": run["by_severity"], "actionable": run["actionable"],
            "existing": run["existing"]})
    findings = []
    for found in log["findings"]:
        first = found["locations"][0] if found["locations"] else None
        location = None
        if first and first["uri"]:
            line = first["start_line"]
            location = first["uri"] if line is None else f"{first['uri']}:{line}"
        findings.append({
            "project": names[found["run"]], "target_file": None,
            "id": found["rule_id"] or "", "title": found["message"],
            "severity": found["severity"], "package": None, "version": None, "paths": 1,
            "location": location, "suppressed": found["suppressed"], "kind": found["kind"],
            "baseline_state": found["baseline_state"]})
    return {"format": "sarif", "projects": projects, "findings": findings}


def _read(stream: JsonStream, cap: int) -> dict[str, Any]:
    first = stream.peek()
    if first == "{" and stream.peek_key() in SARIF_KEYS:
        return _from_sarif(read_log(stream, cap=cap, snyk=True))
    reader = SnykJson(stream.shown, cap)
    if first == "{":
        obj = stream.value()
        stream.finish()
        if "runs" in obj and "version" in obj and "vulnerabilities" not in obj:
            return {"format": "sarif-late"}  # SARIF with its keys in an unusual order
        reader.add(obj)
    elif first == "[":
        for index, (_, item) in enumerate(stream.iter_values()):
            reader.add(item, f"item {index}")
        stream.finish()
    elif not first:
        raise InputError(f"{stream.shown}: empty file, not Snyk JSON or SARIF")
    else:
        raise stream.refuse("Snyk JSON or SARIF")
    return {"format": "snyk-json", "projects": reader.projects, "findings": reader.findings()}


def parse_file(path: str | os.PathLike[str], *,
               findings_cap: int = FINDINGS_CAP) -> dict[str, Any]:
    """One Snyk JSON or Snyk SARIF file: its projects and a sample of its issues.

    Raises :class:`InputError` naming the file when it is not JSON, truncated, Snyk's error
    report, or neither Snyk JSON nor SARIF.
    """
    check_cap(findings_cap)
    parsed, digest = read_document(path, lambda stream: _read(stream, findings_cap))
    if parsed["format"] == "sarif-late":
        parsed, digest = read_document(
            path, lambda stream: _from_sarif(read_log(stream, cap=findings_cap, snyk=True)))
    return {"path": str(path), "sha256": digest, **parsed}


def summarize(files: Iterable[Mapping[str, Any]], *, new_only: bool = False,
              findings_cap: int = FINDINGS_CAP) -> dict[str, Any]:
    """The ``snyk`` predicate of parsed files (see the module docstring); ``findings_cap``
    should not exceed the one the files were parsed with."""
    check_cap(findings_cap)
    totals: dict[str, Any] = {"projects": 0, "path_entries": 0, "unique_issues": 0,
                              "suppressed": 0, "by_severity": sev.zero()}
    counts = sev.zero()
    projects: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    listed: list[dict[str, str]] = []
    for parsed in files:
        listed.append({"path": parsed["path"], "sha256": parsed["sha256"],
                       "format": parsed["format"]})
        for project in parsed["projects"]:
            projects.append({"file": parsed["path"], **{
                key: project[key] for key in ("name", "type", "package_manager", "target_file",
                                              "path", "path_entries", "unique_issues",
                                              "suppressed")},
                "by_severity": dict(project["by_severity"])})
            totals["projects"] += 1
            for key in ("path_entries", "unique_issues", "suppressed"):
                totals[key] += project[key]
            for name in sev.SEVERITIES:
                totals["by_severity"][name] += project["by_severity"][name]
                counts[name] += project["actionable"][name] - (
                    project["existing"][name] if new_only else 0)
        for found in parsed["findings"]:
            finding = {key: found[key] for key in _FINDING_KEYS}
            finding["actionable"] = actionable(found["suppressed"], found["kind"],
                                               found["baseline_state"], new_only)
            findings.append(finding)
    findings.sort(key=lambda f: (not f["actionable"], -sev.RANK[f["severity"]]))
    return {"projects": projects, "totals": totals, "actionable": counts,
            "findings": findings[:findings_cap], "findings_total": totals["unique_issues"],
            "findings_cap": findings_cap, "files": listed}
