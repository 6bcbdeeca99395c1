"""Snyk's own JSON (``snyk test|container test|iac test --json``) as projects and issues.

One Snyk project object, or an array of them from ``--all-projects``. Each object is one
project; a container result's ``applications[]`` are projects of their own (type
``container-app``) -- Snyk reports them beside the image's OS packages, and tools that read
only the top level (DefectDojo) miss them. Counting, as Snyk itself does:

- open source / container: every entry of ``vulnerabilities`` is one *path* to a vulnerable
  package (the source's ``paths``); entries sharing an ``id`` are one *issue* (its ``total``,
  what Snyk's ``uniqueCount`` reports), whose severity is the highest of its entries
  (``severityWithCritical`` before ``severity``, for old CLIs that capped ``severity`` at high).
- IaC: every entry of ``infrastructureAsCodeIssues`` is one misconfigured resource; entries
  with the same ``id`` at the same resource ``path`` are one issue. ``isIgnored: true`` marks
  it suppressed.

Issues Snyk already filtered out (``filtered.ignore``) are not in these arrays and are not
counted. An object that is Snyk's error report (``ok: false`` and ``error``) is refused with
Snyk's message.
"""

from __future__ import annotations

from affidavit.collect.scans import severity as sev
from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SnykJson"]

_BUCKETS = 2 * len(sev.SEVERITIES)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _severity(entry: dict[str, Any], shown: str, path: str) -> str:
    """``severityWithCritical``, else ``severity``; a word neither Snyk nor this reader knows,
    a value that is not a word, or no severity at all is an error: counted as ``none`` it would
    never fail the verdict."""
    found = None
    for key in ("severityWithCritical", "severity"):
        value = entry.get(key)
        if value is None:
            continue
        name = sev.from_name(value)
        if name is None:
            what = f"unknown severity {value!r}" if isinstance(value, str) else (
                f"expected a severity word, got {value!r}")
            raise InputError(f"{shown}: {path}.{key}: {what}")
        found = found or name
    if found is None:
        raise InputError(f"{shown}: {path}: no severity")
    return found


class SnykJson:
    """Projects (as the scan predicate's sources) and a bounded sample of issues (as its
    findings) from the Snyk JSON objects of one file."""

    def __init__(self, shown: str, cap: int) -> None:
        self.shown, self.cap = shown, cap
        self.sources: list[dict[str, Any]] = []
        self.buckets: list[list[dict[str, Any]]] = [[] for _ in range(_BUCKETS)]
        self.seq = 0

    def add(self, obj: object, where: str = "", path: str = "$") -> None:
        """One top-level object (``where`` says which, for errors in an array; ``path`` is its
        JSON path)."""
        if not isinstance(obj, dict):
            raise InputError(f"{self.shown}: not Snyk JSON: {where or 'the document'} is not "
                             "an object")
        has_issues = "vulnerabilities" in obj or "infrastructureAsCodeIssues" in obj
        if not has_issues and obj.get("ok") is False and obj.get("error"):
            first = str(obj["error"]).strip().splitlines() or [""]
            raise InputError(f"{self.shown}: Snyk reported an error{where and ' in ' + where}: "
                             f"{first[0]}")
        if not has_issues:
            raise InputError(f"{self.shown}: not Snyk JSON: {where or 'the document'} has no "
                             '"vulnerabilities" or "infrastructureAsCodeIssues"')
        if "infrastructureAsCodeIssues" in obj:
            kind = "iac"
        elif isinstance(obj.get("docker"), dict) or str(obj.get("projectName", "")).startswith(
                "docker-image|"):
            kind = "container"
        else:
            kind = "open-source"
        self._project(obj, kind, where, path)
        apps = obj.get("applications")
        for n, app in enumerate(apps if isinstance(apps, list) else []):
            inner = f"{where + ' ' if where else ''}applications[{n}]"
            if not isinstance(app, dict):
                raise InputError(f"{self.shown}: not Snyk JSON: {inner} is not an object")
            self._project(app, "container-app", inner, f"{path}.applications[{n}]")

    def _list(self, obj: dict[str, Any], key: str, where: str) -> list[Any]:
        found = obj.get(key)
        if found is None:
            return []
        if not isinstance(found, list):
            raise InputError(f"{self.shown}: not Snyk JSON: {where + ' ' if where else ''}"
                             f'"{key}" is not an array')
        return found

    def _project(self, obj: dict[str, Any], kind: str, where: str, json_path: str) -> None:
        target = _str(obj.get("displayTargetFile")) or _str(obj.get("targetFile"))
        name = _str(obj.get("projectName")) or target or _str(obj.get("path")) or "(unnamed)"
        issues: dict[object, dict[str, Any]] = {}
        entries = 0
        source = len(self.sources)
        for n, vuln in enumerate(self._list(obj, "vulnerabilities", where)):
            at_path = f"{json_path}.vulnerabilities[{n}]"
            if not isinstance(vuln, dict):
                raise InputError(f"{self.shown}: {at_path}: expected an object")
            entries += 1
            key = vuln.get("id") if isinstance(vuln.get("id"), str) else (
                _str(vuln.get("title")), _str(vuln.get("packageName")))
            package, version = _str(vuln.get("packageName")), _str(vuln.get("version"))
            at = f"{package}@{version}" if package and version else package
            self._issue(issues, key, vuln, source, package, version, at, [], False,
                        _severity(vuln, self.shown, at_path))
        for n, item in enumerate(self._list(obj, "infrastructureAsCodeIssues", where)):
            at_path = f"{json_path}.infrastructureAsCodeIssues[{n}]"
            if not isinstance(item, dict):
                raise InputError(f"{self.shown}: {at_path}: expected an object")
            entries += 1
            path = item.get("path")
            resource = ".".join(str(p) for p in path) if isinstance(path, list) and path else (
                _str(item.get("msg")))
            line = item.get("lineNumber")
            line = line if isinstance(line, int) and not isinstance(line, bool) and (
                line > 0) else None
            where_in = target or ""
            if line is not None:
                where_in = f"{where_in}:{line}"
            location = " ".join(part for part in (where_in, resource) if part) or None
            places = [{"uri": target, "start_line": line, "end_line": line}] if target else []
            self._issue(issues, (item.get("id"), resource), item, source, None, None,
                        location, places, item.get("isIgnored") is True,
                        _severity(item, self.shown, at_path))
        by_severity, actionable = sev.zero(), sev.zero()
        hidden = 0
        for issue in issues.values():
            by_severity[issue["severity"]] += 1
            if issue["suppressed"]:
                hidden += 1
            else:
                actionable[issue["severity"]] += 1
            bucket = (1 if issue["suppressed"] else 0) * 5 + 4 - sev.RANK[issue["severity"]]
            if len(self.buckets[bucket]) < self.cap:
                self.buckets[bucket].append(issue)
        self.sources.append({
            "name": name, "tool": None, "version": None, "total": len(issues),
            "suppressed": hidden, "by_severity": by_severity, "by_level": None,
            "paths": entries, "extra": {
                "type": kind, "package_manager": _str(obj.get("packageManager")),
                "target_file": target, "path": _str(obj.get("path"))},
            "actionable": actionable, "existing": sev.zero()})

    def _issue(self, issues: dict[object, dict[str, Any]], key: object, entry: dict[str, Any],
               source: int, package: str | None, version: str | None, location: str | None,
               places: list[dict[str, Any]], suppressed: bool, severity: str) -> None:
        try:
            issue = issues.get(key)
        except TypeError:  # an id that is a list or an object
            key = repr(key)
            issue = issues.get(key)
        if issue is not None:
            issue["extra"]["paths"] += 1
            if sev.RANK[severity] > sev.RANK[issue["severity"]]:
                issue["severity"] = severity
            issue["suppressed"] = issue["suppressed"] and suppressed
            return
        ident = entry.get("id")
        issues[key] = {
            "seq": self.seq, "source": source, "tool": None,
            "rule_id": ident if isinstance(ident, str) and ident else (
                str(ident) if ident else None),
            "severity": severity, "level": None, "kind": "fail",
            "message": _str(entry.get("title")) or _str(entry.get("issue")) or "",
            "location": location, "locations": places, "location_count": len(places),
            "fingerprints": {}, "suppressed": suppressed, "baseline_state": None,
            "extra": {"package": package, "version": version, "paths": 1}}
        self.seq += 1

    def findings(self) -> list[dict[str, Any]]:
        """The sample, in file order."""
        kept = [issue for bucket in self.buckets for issue in bucket]
        kept.sort(key=lambda issue: int(issue["seq"]))
        for issue in kept:
            del issue["seq"]
        return kept
