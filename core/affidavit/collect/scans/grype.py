"""Grype's own JSON report (``grype -o json``) as the ``vulns`` predicate's source and findings.

The document is read key by key from :mod:`affidavit.collect.scans.vulns` (which decides it is
Grype's by its keys). Grype scans one thing, so the report is one source, named by its
``source.target`` (an image's ``userInput``, a directory, a file, an SBOM, a purl); each
``matches[]`` item is an entry, folded into unique vulnerabilities per package by
:class:`~affidavit.collect.scans.vuln_entry.Sources` (key: ``vulnerability.id``, and the
artifact's ``name``, ``version`` and ``type``; each entry's ``artifact.locations[].path`` kept
as package paths -- the same jar in two places is two matches of one package version).

What is read, as Grype writes it (``grype/presenter/models`` of anchore/grype, and the
``grype/presenter/json`` snapshot reports its tests compare against):

- ``vulnerability.severity`` ``Critical``, ``High``, ``Medium``, ``Low`` as the project's
  severities; ``Negligible`` and ``Unknown`` (or none) as ``none``, below ``low`` as Grype ranks
  them (``--fail-on low`` does not fail on them); any other word is an error.
- ``vulnerability.fix.versions`` as the fixed-in versions, ``fix.state`` as the fix state;
  fixable when a fixed-in version is named and the state is not ``not-fixed`` or ``wont-fix``.
- ``ignoredMatches[]`` (matches an ignore rule or a VEX document suppressed; they carry the
  match's fields and ``appliedIgnoreRules``) as suppressed entries: counted, never actionable.
- ``relatedVulnerabilities[].id`` (the CVE behind a GHSA, say) as ``related``: Grype reports a
  GHSA and its CVE as two matches, and so do we (``grype --by-cve`` makes them one).
- ``matches: []`` (always written, even when nothing matched) or ``null``: nothing found;
  a document without ``matches`` is not Grype's report.
- ``descriptor.version`` as the tool version, ``source.type`` and ``distro`` on the source.

A match or ignored match that is not an object, one without ``vulnerability.id`` or
``artifact.name``, or a field of the wrong type is an error naming the file and the JSON path.
"""

from __future__ import annotations

from affidavit.collect.scans.vuln_entry import MESSAGE_MAX, Sources, kind_of, text, texts
from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.collect.scans.jsonstream import JsonStream

__all__ = ["GrypeReport", "KEYS", "SEVERITIES", "UNFIXED"]

#: Top-level keys only Grype's report has (any one decides the format).
KEYS = frozenset({"matches", "ignoredMatches", "source", "distro", "descriptor"})
#: Grype's severity words (any case) -> the project's.
SEVERITIES = {"critical": "critical", "high": "high", "medium": "medium", "low": "low",
              "negligible": "none", "unknown": "none"}
#: Fix states that say no fix is (or will be) released.
UNFIXED = frozenset({"not-fixed", "wont-fix"})


def _object(stream: JsonStream, obj: dict[str, Any], key: str, path: str, at: int,
            required: bool = True) -> dict[str, Any]:
    value = obj.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise stream.error(f"{path}.{key}: expected an object, got {kind_of(value)}", at)
    return value


def _objects(stream: JsonStream, obj: dict[str, Any], key: str, path: str,
             at: int) -> list[dict[str, Any]]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise stream.error(f"{path}.{key}: expected an array, got {kind_of(value)}", at)
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            raise stream.error(f"{path}.{key}[{n}]: expected an object, got {kind_of(item)}",
                               at)
    return value


class GrypeReport:
    """Reads the top-level keys of one Grype JSON document."""

    kind = "grype"

    def __init__(self, stream: JsonStream, cap: int) -> None:
        self.stream = stream
        self.found = Sources("Grype", cap)
        self.source = self.found.open("(unknown)", {
            "scanner": "grype", "artifact": None, "artifact_type": None, "target_class": None,
            "target_type": None, "os": None, "misconfigurations": None, "secrets": None})
        self.matched = False
        self.version: str | None = None

    def read(self, key: str) -> None:
        """The value of top-level ``key`` (the cursor is on it)."""
        stream = self.stream
        at = stream.position()
        if key in ("matches", "ignoredMatches"):
            self.matched = self.matched or key == "matches"
            self._matches(f"$.{key}", suppressed=key == "ignoredMatches")
            return
        value = stream.value()
        if value is None:
            return
        if not isinstance(value, dict):
            raise stream.error(f"$.{key}: expected an object, got {kind_of(value)}", at)
        extra = self.found.sources[self.source]["extra"]
        if key == "descriptor":
            self.version = text(stream, value, "version", "$.descriptor", at)
        elif key == "distro":
            words = [text(stream, value, k, "$.distro", at) for k in ("name", "version")]
            extra["os"] = " ".join(w for w in words if w) or None
        elif key == "source":
            extra["artifact_type"] = text(stream, value, "type", "$.source", at)
            target = value.get("target")
            if isinstance(target, dict):
                extra["artifact"] = text(stream, target, "userInput", "$.source.target", at)
            else:
                extra["artifact"] = text(stream, value, "target", "$.source", at)

    def _matches(self, path: str, *, suppressed: bool) -> None:
        stream = self.stream
        at = stream.position()
        if stream.peek() == "n":
            stream.value()  # null: Go's nil slice, nothing matched
            return
        if stream.peek() != "[":
            raise stream.error(f"{path}: expected an array, got {kind_of(stream.value())}", at)
        for n, (offset, match) in enumerate(stream.iter_values()):
            if not isinstance(match, dict):
                raise stream.error(f"{path}[{n}]: expected an object, got {kind_of(match)}",
                                   offset)
            self._entry(match, f"{path}[{n}]", offset, suppressed)

    def _entry(self, match: dict[str, Any], path: str, at: int, suppressed: bool) -> None:
        stream = self.stream
        vuln = _object(stream, match, "vulnerability", path, at)
        artifact = _object(stream, match, "artifact", path, at)
        where, made_of = f"{path}.vulnerability", f"{path}.artifact"
        ident = text(stream, vuln, "id", where, at)
        package = text(stream, artifact, "name", made_of, at)
        if ident is None or package is None:
            raise stream.error(f"{where if ident is None else made_of}: no "
                               f"{'id' if ident is None else 'name'}", at)
        word = text(stream, vuln, "severity", where, at) or "Unknown"
        severity = SEVERITIES.get(word.lower())
        if severity is None:
            raise stream.error(f"{where}.severity: unknown severity {word!r}", at)
        fix = _object(stream, vuln, "fix", where, at, required=False)
        versions = texts(stream, fix, "versions", f"{where}.fix", at)
        state = text(stream, fix, "state", f"{where}.fix", at)
        related = _objects(stream, match, "relatedVulnerabilities", path, at)
        paths = [text(stream, place, "path", f"{made_of}.locations[{n}]", at)
                 for n, place in enumerate(_objects(stream, artifact, "locations", made_of, at))]
        message = text(stream, vuln, "description", where, at) or next(
            (text(stream, r, "description", f"{path}.relatedVulnerabilities[{n}]", at)
             for n, r in enumerate(related) if r.get("description")), None) or ""
        ids = [text(stream, r, "id", f"{path}.relatedVulnerabilities[{n}]", at)
               for n, r in enumerate(related)]
        urls = texts(stream, vuln, "urls", where, at)
        version = text(stream, artifact, "version", made_of, at)
        kind = text(stream, artifact, "type", made_of, at)
        self.found.add(self.source, (ident, package, version, kind), {
            "id": ident, "severity": severity, "scanner_severity": word,
            "message": message[:MESSAGE_MAX], "package": package, "version": version,
            "package_type": kind, "purl": text(stream, artifact, "purl", made_of, at),
            "fixed_versions": versions, "fix_state": state,
            "fixable": bool(versions) and state not in UNFIXED,
            "paths": [p for p in paths if p],
            "url": text(stream, vuln, "dataSource", where, at) or (urls[0] if urls else None),
            "related": [i for i in ids if i], "suppressed": suppressed})

    def finish(self) -> dict[str, Any]:
        """The parsed report, once the whole document is read."""
        if not self.matched:
            raise InputError(f'{self.stream.shown}: not Grype\'s JSON report: no "matches" '
                             "(grype -o json always writes it)")
        source = self.found.sources[self.source]
        extra = source["extra"]
        source["name"] = extra["artifact"] or extra["artifact_type"] or "(unknown)"
        source["version"] = self.version
        self.found.close_all()
        return {"format": "grype-json", "sources": self.found.sources,
                "findings": self.found.findings()}
