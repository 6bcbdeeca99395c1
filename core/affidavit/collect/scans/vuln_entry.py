"""What the Trivy and Grype readers share: reading one field, and folding report entries into
unique vulnerabilities per package, per source, with a bounded sample.

Each reader turns one report entry (a Trivy ``Vulnerabilities[]`` item, a Grype ``matches[]``
item) into the same plain *entry* and hands it to :class:`Sources`, which counts the way the
``snyk`` type counts a project's issues:

- entries of one source with the same key (vulnerability id, package name, installed version;
  the reader chooses) are one *finding*, at the highest severity of its entries; the source's
  ``paths`` counts every entry, its ``total`` the findings;
- a finding is suppressed only when every one of its entries is (a vulnerability ignored in one
  place and found in another still counts), and ``fixable`` when any entry is (the same package
  version has the same fix wherever it is installed);
- each finding keeps the package paths of its entries (at most :data:`PATHS_KEPT`, their
  number in ``location_count``) and every fixed-in version, in order.

A source's findings are held until the source ends (memory grows with the unique
vulnerabilities of the largest source, not with the file); then they are counted and at most
``cap`` of each (suppressed, fixable, severity) kind are kept, enough for
:func:`affidavit.collect.scans.predicate.summarize` to show the first ``cap`` whichever way
``--ignore-unfixed`` is set.
"""

from __future__ import annotations

from affidavit.collect.scans import severity as sev

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.collect.scans.jsonstream import JsonStream

__all__ = ["Sources", "text", "texts", "kind_of", "PATHS_KEPT", "MESSAGE_MAX"]

PATHS_KEPT = 10
MESSAGE_MAX = 1000
_BUCKETS = 4 * len(sev.SEVERITIES)


def kind_of(value: object) -> str:
    """How an error names the JSON type of ``value``."""
    if value is None:
        return "null"
    return {str: "a string", bool: "a boolean", list: "an array", dict: "an object"}.get(
        type(value), "a number")


def text(stream: JsonStream, obj: dict[str, Any], key: str, path: str, at: int) -> str | None:
    """``obj[key]`` when it is a non-empty string; None when absent, null or empty (Go's
    ``omitempty`` writes nothing); anything else is an error at ``path``."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise stream.error(f"{path}.{key}: expected a string, got {kind_of(value)}", at)
    return value


def texts(stream: JsonStream, obj: dict[str, Any], key: str, path: str, at: int) -> list[str]:
    """``obj[key]`` as a list of strings (absent or null: none; empty strings dropped)."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise stream.error(f"{path}.{key}: expected an array, got {kind_of(value)}", at)
    out = []
    for n, item in enumerate(value):
        if not isinstance(item, str):
            raise stream.error(f"{path}.{key}[{n}]: expected a string, got {kind_of(item)}", at)
        if item:
            out.append(item)
    return out


class Sources:
    """The sources of one report and a sample of their findings, as the scan predicate's
    intermediate (see :mod:`affidavit.collect.scans.predicate`)."""

    def __init__(self, tool: str, cap: int) -> None:
        self.tool, self.cap = tool, cap
        self.sources: list[dict[str, Any]] = []
        self._buckets: list[list[dict[str, Any]]] = [[] for _ in range(_BUCKETS)]
        self._open: dict[int, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self._entries: dict[int, int] = {}
        self._seq = 0

    def open(self, name: str, extra: dict[str, Any]) -> int:
        """A new source (its name and extra may be changed until it is closed); its index."""
        index = len(self.sources)
        self.sources.append({"name": name, "tool": self.tool, "version": None, "extra": extra})
        self._open[index] = {}
        self._entries[index] = 0
        return index

    def add(self, source: int, key: tuple[Any, ...], entry: dict[str, Any]) -> None:
        """One report entry of ``source``: ``key`` says which entries are one finding.

        ``entry``: ``id, severity, scanner_severity, message, package, version, package_type,
        purl, fixed_versions, fix_state, fixable, paths, url, related, suppressed``.
        """
        self._entries[source] += 1
        found = self._open[source].get(key)
        if found is None:
            self._open[source][key] = self._new(source, entry)
            return
        extra = found["extra"]
        extra["entries"] += 1
        if sev.RANK[entry["severity"]] > sev.RANK[found["severity"]]:
            found["severity"] = entry["severity"]
            extra["scanner_severity"] = entry["scanner_severity"]
        found["suppressed"] = found["suppressed"] and entry["suppressed"]
        extra["fixable"] = extra["fixable"] or entry["fixable"]
        for version in entry["fixed_versions"]:
            if version not in extra["fixed_versions"]:
                extra["fixed_versions"].append(version)
        self._paths(found, entry["paths"])
        for related in entry["related"]:
            if len(extra["related"]) < PATHS_KEPT and related not in extra["related"]:
                extra["related"].append(related)
        for field in ("fix_state", "url", "purl", "package_type"):
            extra[field] = extra[field] or entry[field]
        found["message"] = found["message"] or entry["message"]

    @staticmethod
    def _paths(finding: dict[str, Any], paths: list[str]) -> None:
        """Count the package paths of an entry, keeping the first few: a path already kept is
        not counted again (past the first few a repeat would be, which the scanners do not
        write: one entry per place a package is found)."""
        kept = finding["extra"]["package_paths"]
        for path in paths:
            if path in kept:
                continue
            finding["location_count"] += 1
            if len(kept) < PATHS_KEPT:
                kept.append(path)

    def _new(self, source: int, entry: dict[str, Any]) -> dict[str, Any]:
        package, version = entry["package"], entry["version"]
        self._seq += 1
        finding = {
            "seq": self._seq,
            "source": source, "tool": self.tool, "rule_id": entry["id"],
            "severity": entry["severity"], "level": None, "kind": "fail",
            "message": entry["message"],
            "location": f"{package}@{version}" if version else package,
            "locations": [], "location_count": 0, "fingerprints": {},
            "suppressed": entry["suppressed"], "baseline_state": None,
            "extra": {
                "package": package, "version": version, "package_type": entry["package_type"],
                "purl": entry["purl"],
                "fixed_versions": list(dict.fromkeys(entry["fixed_versions"])),
                "fix_state": entry["fix_state"], "fixable": entry["fixable"],
                "package_paths": [], "entries": 1,
                "scanner_severity": entry["scanner_severity"], "url": entry["url"],
                "related": list(dict.fromkeys(entry["related"]))[:PATHS_KEPT]}}
        self._paths(finding, entry["paths"])
        return finding

    def close(self, source: int, package_type: str | None = None) -> None:
        """Count ``source``'s findings and keep its share of the sample; ``package_type`` is
        the ecosystem of findings whose entries named none (a Trivy target's type)."""
        findings = self._open.pop(source)
        by_severity, actionable, unfixed = sev.zero(), sev.zero(), sev.zero()
        hidden = 0
        for finding in findings.values():
            extra = finding["extra"]
            extra["package_type"] = extra["package_type"] or package_type
            finding["locations"] = [{"uri": p, "start_line": None, "end_line": None}
                                    for p in extra["package_paths"]]
            severity = finding["severity"]
            by_severity[severity] += 1
            if finding["suppressed"]:
                hidden += 1
            else:
                actionable[severity] += 1
                if not extra["fixable"]:
                    unfixed[severity] += 1
            bucket = (2 * finding["suppressed"] + (not extra["fixable"])) * len(
                sev.SEVERITIES) + 4 - sev.RANK[severity]
            if len(self._buckets[bucket]) < self.cap:
                self._buckets[bucket].append(finding)
        self.sources[source].update({
            "total": len(findings), "suppressed": hidden, "by_severity": by_severity,
            "by_level": None, "paths": self._entries.pop(source), "actionable": actionable,
            "existing": sev.zero(), "unfixed": unfixed})

    def close_all(self) -> None:
        """Close every source still open (in index order)."""
        for source in sorted(self._open):
            self.close(source)

    def findings(self) -> list[dict[str, Any]]:
        """The sample, in file order (after every source is closed)."""
        kept = [finding for bucket in self._buckets for finding in bucket]
        kept.sort(key=lambda finding: int(finding["seq"]))
        for finding in kept:
            del finding["seq"]
        return kept
