"""The SARIF collector: any producer's SARIF 1.0.0, 2.0.0 (and pre-releases) or 2.1.0 log in,
the ``sarif`` predicate out.

``parse_file`` reads one file in a single streaming pass (its SHA-256 computed on the way);
``summarize`` merges files into the predicate's counts and findings; the ``policy`` the verdict
is judged by is added beside them by the caller
(:func:`affidavit.compliance.judge.scan_policy`). How a result's level, severity, suppression
and baseline state are read is documented in :mod:`affidavit.collect.scans.sarif_rules`; how
memory stays bounded in :mod:`affidavit.collect.scans.sarif_log`.

Predicate (``https://affidavit.dev/predicate/sarif/v1``, model in ``models/scans.py``)::

    summary   {results, suppressed, by_level {error, warning, note, none},
               by_severity {critical, high, medium, low, none}}   -- every result counted
    actionable {critical, high, medium, low, none}  -- what may fail the verdict: results
               that are problems (kind fail/open/review), not suppressed, not ``absent``, and
               with new_only not ``unchanged``/``updated``
    runs[]    {file, tool, version, results, suppressed, by_level, by_severity}
    findings[] most severe actionable first, then the rest, file order within a severity:
               {tool, rule_id, level, severity, kind, message, locations[{uri, start_line,
               end_line}] (at most 10), location_count, partial_fingerprints, suppressed,
               baseline_state, actionable}
    findings_total (= results), findings_cap, policy {fail_on, max_findings, new_only} (added by
    the caller),
    files[{path, sha256}]
"""

from __future__ import annotations

from affidavit.collect.scans import severity as sev
from affidavit.collect.scans.jsonstream import read_document
from affidavit.collect.scans.sarif_log import read_log
from affidavit.collect.scans.sarif_rules import actionable
from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping
    from typing import Any

__all__ = ["parse_file", "summarize", "FINDINGS_CAP"]

FINDINGS_CAP = 100
_FINDING_KEYS = ("tool", "rule_id", "level", "severity", "kind", "message", "locations",
                 "location_count", "partial_fingerprints", "suppressed", "baseline_state")


def check_cap(findings_cap: int) -> None:
    """Refuse a findings cap that is not a whole number >= 0."""
    if isinstance(findings_cap, bool) or not isinstance(findings_cap, int) or findings_cap < 0:
        raise UsageError(f"findings cap {findings_cap!r} is not a whole number >= 0")


def parse_file(path: str | os.PathLike[str], *, findings_cap: int = FINDINGS_CAP,
               snyk: bool = False) -> dict[str, Any]:
    """One SARIF file: its counts per run and a sample of findings large enough for
    ``summarize`` with the same ``findings_cap``. ``snyk`` honours Snyk's rule
    ``properties.problem.severity`` (used by the Snyk collector).

    Raises :class:`InputError` naming the file for unreadable, non-JSON, truncated or non-SARIF
    input (with the line and column when the JSON itself is at fault).
    """
    check_cap(findings_cap)
    log, digest = read_document(path, lambda stream: read_log(stream, cap=findings_cap,
                                                              snyk=snyk))
    return {"path": str(path), "sha256": digest, **log}


def _order(finding: Mapping[str, Any]) -> tuple[bool, int]:
    """Actionable before the rest, then the most severe first (the sort is stable: file order
    within a severity)."""
    return (not finding["actionable"], -sev.RANK[finding["severity"]])


def summarize(files: Iterable[Mapping[str, Any]], *, new_only: bool = False,
              findings_cap: int = FINDINGS_CAP) -> dict[str, Any]:
    """The ``sarif`` predicate of parsed files (see the module docstring).

    ``findings_cap`` should not exceed the one the files were parsed with: each file keeps only
    what that cap can show.
    """
    check_cap(findings_cap)
    summary: dict[str, Any] = {"results": 0, "suppressed": 0,
                               "by_level": dict.fromkeys(sev.LEVELS, 0),
                               "by_severity": sev.zero()}
    counts = sev.zero()
    runs: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    listed: list[dict[str, str]] = []
    for parsed in files:
        listed.append({"path": parsed["path"], "sha256": parsed["sha256"]})
        for run in parsed["runs"]:
            runs.append({"file": parsed["path"], "tool": run["tool"], "version": run["version"],
                         "results": run["results"], "suppressed": run["suppressed"],
                         "by_level": dict(run["by_level"]),
                         "by_severity": dict(run["by_severity"])})
            summary["results"] += run["results"]
            summary["suppressed"] += run["suppressed"]
            for level in sev.LEVELS:
                summary["by_level"][level] += run["by_level"][level]
            for name in sev.SEVERITIES:
                summary["by_severity"][name] += run["by_severity"][name]
                counts[name] += run["actionable"][name] - (run["existing"][name] if new_only
                                                           else 0)
        for found in parsed["findings"]:
            finding = {key: found[key] for key in _FINDING_KEYS}
            finding["actionable"] = actionable(found["suppressed"], found["kind"],
                                               found["baseline_state"], new_only)
            findings.append(finding)
    findings.sort(key=_order)
    return {"summary": summary, "actionable": counts, "runs": runs,
            "findings": findings[:findings_cap], "findings_total": summary["results"],
            "findings_cap": findings_cap, "files": listed}
