"""The one scan predicate (``sarif/v2``, ``snyk/v2``, ``vulns/v1``), built from any scan
collector's files.

The collectors parse a file into the same intermediate: ``sources`` (a SARIF run, a Snyk
project) and a sample of ``findings`` pointing at them by index, in the fields of the predicate
plus the counts the verdict needs (``actionable``, ``existing``). :func:`summarize` merges files
into the predicate, so the types cannot drift apart again: one builder, one model
(``models/scans.py``), one reader (the markdown summary), one judge. What is truly a type's own
sits in named places: ``summary.by_level`` (``sarif``), ``summary.paths`` (``snyk``,
``vulns``), and ``extra`` on sources and findings (null for ``sarif``; Snyk's project and
package facts; Trivy's and Grype's package, installed and fixed-in versions). ``vulns`` sources
also count ``unfixed`` (actionable findings that are not ``fixable``), which ``ignore_unfixed``
takes out of ``actionable``.

Predicate (field table in docs/predicates.md)::

    summary    {total, suppressed, by_severity, by_level | null, paths | null}
    actionable {critical, high, medium, low, none}  -- what may fail the verdict: not
               suppressed, a problem (SARIF kind fail/open/review), not ``absent``, and with
               new_only not ``unchanged``/``updated``
    sources[]  {file, name, tool, version, <the summary's counts for this source>, extra}
    findings[] most severe actionable first, then the rest, file order within a severity:
               {source, tool, rule_id, severity, level, kind, message, location, locations[]
               (at most 10), location_count, fingerprints, suppressed, baseline_state,
               actionable, extra}
    findings_total (= summary.total), findings_cap, files[{path, sha256, format}], and the
    policy {fail_on, max_findings, new_only} (``vulns``: and ignore_unfixed; added by the
    caller)
"""

from __future__ import annotations

from affidavit.collect.scans import severity as sev
from affidavit.collect.scans.sarif_rules import actionable
from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

__all__ = ["summarize", "from_sarif_log", "location_text", "check_cap", "FINDINGS_CAP"]

FINDINGS_CAP = 100
_SOURCE_KEYS = ("name", "tool", "version", "total", "suppressed", "by_severity", "by_level",
                "paths", "extra")
#: The summary's type-specific breakdown: which of ``by_level`` / ``paths`` a type has.
_OWN = {"sarif": ("by_level",), "snyk": ("paths",), "vulns": ("paths",)}
_SNYK_TYPES = (("code", "code"), ("iac", "iac"), ("infrastructure", "iac"),
               ("container", "container"), ("opensource", "open-source"))


def check_cap(findings_cap: int) -> None:
    """Refuse a findings cap that is not a whole number >= 0."""
    if isinstance(findings_cap, bool) or not isinstance(findings_cap, int) or findings_cap < 0:
        raise UsageError(f"findings cap {findings_cap!r} is not a whole number >= 0")


def location_text(locations: list[dict[str, Any]]) -> str | None:
    """The first location as one line, ``uri:line`` (or ``uri``), for readers of a finding
    alone; None when it names no file."""
    first = locations[0] if locations else None
    if not first or not first["uri"]:
        return None
    line = first["start_line"]
    return first["uri"] if line is None else f"{first['uri']}:{line}"


def _snyk_type(tool: str | None) -> str:
    """Which Snyk product wrote a SARIF run, guessed from its tool name (``sarif`` if none)."""
    squashed = (tool or "").lower().replace(" ", "").replace("-", "")
    return next((kind for word, kind in _SNYK_TYPES if word in squashed), "sarif")


def from_sarif_log(log: Mapping[str, Any], *, snyk: bool) -> dict[str, Any]:
    """A SARIF log (:func:`~affidavit.collect.scans.sarif_log.read_log`) as sources and
    findings. ``snyk``: as the Snyk type records them -- each run a project whose ``paths`` are
    its results (Snyk's SARIF lists one result per issue, not its paths)."""
    sources = []
    for n, run in enumerate(log["runs"]):
        extra = {"type": _snyk_type(run["tool"]), "package_manager": None,
                 "target_file": None, "path": None} if snyk else None
        sources.append({
            "name": run["automation_id"] or run["tool"] or f"run {n}", "tool": run["tool"],
            "version": run["version"], "total": run["results"],
            "suppressed": run["suppressed"], "by_severity": run["by_severity"],
            "by_level": run["by_level"], "paths": run["results"], "extra": extra,
            "actionable": run["actionable"], "existing": run["existing"]})
    findings = []
    for found in log["findings"]:
        findings.append({
            "source": found["run"], "tool": found["tool"], "rule_id": found["rule_id"],
            "severity": found["severity"], "level": found["level"], "kind": found["kind"],
            "message": found["message"], "location": location_text(found["locations"]),
            "locations": found["locations"], "location_count": found["location_count"],
            "fingerprints": found["partial_fingerprints"], "suppressed": found["suppressed"],
            "baseline_state": found["baseline_state"],
            "extra": {"package": None, "version": None, "paths": 1} if snyk else None})
    return {"format": "sarif", "sources": sources, "findings": findings}


def _order(finding: Mapping[str, Any]) -> tuple[bool, int]:
    """Actionable before the rest, then the most severe first (the sort is stable: file order
    within a severity)."""
    return (not finding["actionable"], -sev.RANK[finding["severity"]])


def summarize(files: Iterable[Mapping[str, Any]], *, type: str, new_only: bool = False,
              ignore_unfixed: bool = False,
              findings_cap: int = FINDINGS_CAP) -> dict[str, Any]:
    """The predicate of attestation type ``type`` (``sarif``, ``snyk`` or ``vulns``) of parsed
    files (see the module docstring); ``ignore_unfixed`` (``vulns`` only): a finding whose
    ``extra.fixable`` is false is not actionable.

    ``findings_cap`` should not exceed the one the files were parsed with: each file keeps only
    what that cap can show.
    """
    check_cap(findings_cap)
    own = _OWN[type]
    summary: dict[str, Any] = {"total": 0, "suppressed": 0, "by_severity": sev.zero(),
                               "by_level": dict.fromkeys(sev.LEVELS, 0), "paths": 0}
    counts = sev.zero()
    sources: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    listed: list[dict[str, str]] = []
    for parsed in files:
        listed.append({"path": parsed["path"], "sha256": parsed["sha256"],
                       "format": parsed["format"]})
        offset = len(sources)
        for source in parsed["sources"]:
            kept = {"file": parsed["path"], **{key: source[key] for key in _SOURCE_KEYS}}
            kept["by_severity"] = dict(source["by_severity"])
            kept["by_level"] = dict(source["by_level"]) if "by_level" in own else None
            kept["paths"] = source["paths"] if "paths" in own else None
            sources.append(kept)
            summary["total"] += source["total"]
            summary["suppressed"] += source["suppressed"]
            if "paths" in own:
                summary["paths"] += source["paths"]
            if "by_level" in own:
                for level in sev.LEVELS:
                    summary["by_level"][level] += source["by_level"][level]
            for name in sev.SEVERITIES:
                summary["by_severity"][name] += source["by_severity"][name]
                counts[name] += source["actionable"][name] - (source["existing"][name]
                                                              if new_only else 0)
                if ignore_unfixed:
                    counts[name] -= source["unfixed"][name]
        for found in parsed["findings"]:
            finding = dict(found)
            finding["source"] = offset + found["source"]
            finding["actionable"] = actionable(found["suppressed"], found["kind"],
                                               found["baseline_state"], new_only) and not (
                ignore_unfixed and not found["extra"]["fixable"])
            findings.append(finding)
    for key in ("by_level", "paths"):
        if key not in own:
            summary[key] = None
    findings.sort(key=_order)
    return {"summary": summary, "actionable": counts, "sources": sources,
            "findings": findings[:findings_cap], "findings_total": summary["total"],
            "findings_cap": findings_cap, "files": listed}
