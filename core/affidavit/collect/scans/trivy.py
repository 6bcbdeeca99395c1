"""Trivy's own JSON report (``trivy image|fs|repo|rootfs --format json``, ``SchemaVersion`` 2)
as the ``vulns`` predicate's sources and findings.

The document is read key by key from :mod:`affidavit.collect.scans.vulns` (which decides it is
Trivy's by its keys); each ``Results[]`` item is a source named by its ``Target``, each of its
``Vulnerabilities[]`` an entry, folded into unique vulnerabilities per package by
:class:`~affidavit.collect.scans.vuln_entry.Sources` (key: ``VulnerabilityID``, ``PkgName``,
``InstalledVersion``; the ``PkgPath`` of each entry kept as a package path -- an image's
``Java`` or ``Node.js`` target lists one entry per jar or ``package.json`` found).

What is read, as Trivy writes it (``pkg/types`` of aquasecurity/trivy, and the
``integration/testdata/*.json.golden`` reports its tests compare against):

- ``Severity`` ``CRITICAL``, ``HIGH``, ``MEDIUM``, ``LOW`` as the project's severities;
  ``UNKNOWN`` (or none: Go's ``omitempty``) as ``none``, below ``low`` as Trivy ranks it
  (``--severity LOW`` leaves it out); any other word is an error.
- ``FixedVersion`` (``"1.2.3"``, ``">=4.17.11"``, several joined by ``", "``) as the fixed-in
  versions, ``Status`` as the fix state; fixable when a fixed-in version is named and
  ``Status`` is not one of those Trivy's own ``--ignore-unfixed`` drops (``affected``,
  ``will_not_fix``, ``fix_deferred``, ``end_of_life``).
- ``ExperimentalModifiedFindings[]`` of ``Type`` ``vulnerability`` (``--show-suppressed``: found
  and then ignored by ``.trivyignore`` or not affected by a VEX statement) as suppressed
  entries: counted, never actionable.
- ``Vulnerabilities: null`` (Trivy before 0.20 wrote it for a clean target), ``Results``
  absent (``trivy fs`` finding nothing) or ``null``: nothing found. ``Results: []`` likewise.
- ``Misconfigurations`` (those with ``Status`` ``FAIL``) and ``Secrets`` are counted in the
  source's ``extra``, not judged: this type judges package vulnerabilities (``attest sarif`` with
  ``trivy --format sarif`` judges the rest). ``Packages`` and ``Licenses`` are skipped.
- ``ArtifactName``, ``ArtifactType``, ``Metadata.OS`` and ``Trivy.Version`` (newer Trivy) name
  what was scanned, on every source.

A ``SchemaVersion`` other than 2, a result or vulnerability that is not an object, an entry
without ``VulnerabilityID`` or ``PkgName``, or a field of the wrong type is an error naming the
file and the JSON path.
"""

from __future__ import annotations

from affidavit.collect.scans.vuln_entry import MESSAGE_MAX, Sources, kind_of, text, texts
from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.collect.scans.jsonstream import JsonStream

__all__ = ["TrivyReport", "KEYS", "SEVERITIES", "UNFIXED"]

#: Top-level keys only Trivy's report has (any one decides the format).
KEYS = frozenset({"SchemaVersion", "CreatedAt", "ArtifactName", "ArtifactType", "Metadata",
                  "Results", "Trivy", "ReportID"})
#: Trivy's severity words -> the project's.
SEVERITIES = {"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low",
              "UNKNOWN": "none"}
#: Statuses Trivy's ``--ignore-unfixed`` drops: the fix is not (or will not be) released.
UNFIXED = frozenset({"affected", "will_not_fix", "fix_deferred", "end_of_life"})


class TrivyReport:
    """Reads the top-level keys of one Trivy JSON document."""

    kind = "trivy"

    def __init__(self, stream: JsonStream, cap: int) -> None:
        self.stream = stream
        self.found = Sources("Trivy", cap)
        self.schema: object = None
        self.artifact: str | None = None
        self.artifact_type: str | None = None
        self.os: str | None = None
        self.version: str | None = None

    def read(self, key: str) -> None:
        """The value of top-level ``key`` (the cursor is on it)."""
        stream = self.stream
        at = stream.position()
        if key == "Results":
            self._results()
            return
        value = stream.value()
        doc = {key: value}
        if key == "SchemaVersion":
            self.schema = value
            if value != 2:
                raise stream.error(f"$.SchemaVersion: {value!r}, only Trivy's schema 2 is read "
                                   "(trivy --format json since 0.20)", at)
        elif key == "ArtifactName":
            self.artifact = text(stream, doc, key, "$", at)
        elif key == "ArtifactType":
            self.artifact_type = text(stream, doc, key, "$", at)
        elif key == "Metadata" and isinstance(value, dict) and isinstance(value.get("OS"), dict):
            os_ = value["OS"]
            words = [text(stream, os_, k, "$.Metadata.OS", at) for k in ("Family", "Name")]
            self.os = " ".join(w for w in words if w) or None
        elif key == "Trivy" and isinstance(value, dict):
            self.version = text(stream, value, "Version", "$.Trivy", at)

    def _results(self) -> None:
        stream = self.stream
        if stream.peek() == "n":
            stream.value()  # null: Go's nil slice, nothing found
            return
        if stream.peek() != "[":
            at = stream.position()
            raise stream.error(f"$.Results: expected an array, got {kind_of(stream.value())}",
                               at)
        for n in stream.iter_array():
            self._result(n)

    def _result(self, n: int) -> None:
        stream = self.stream
        path = f"$.Results[{n}]"
        at = stream.position()
        if stream.peek() != "{":
            raise stream.error(f"{path}: expected an object, got {kind_of(stream.value())}", at)
        extra: dict[str, Any] = {"scanner": "trivy", "artifact": None, "artifact_type": None,
                                 "target_class": None, "target_type": None, "os": None,
                                 "misconfigurations": 0, "secrets": 0}
        source = self.found.open(f"result {n}", extra)
        for key in stream.iter_object():
            where = stream.position()
            if key in ("Vulnerabilities", "ExperimentalModifiedFindings", "Misconfigurations",
                       "Secrets"):
                self._list(key, f"{path}.{key}", source)
                continue
            if key not in ("Target", "Class", "Type"):
                stream.skip()  # Packages, Licenses, MisconfSummary...: decoded one at a time
                continue
            found = text(stream, {key: stream.value()}, key, path, where)
            if key == "Target" and found:
                self.found.sources[source]["name"] = found
            elif key != "Target":
                extra["target_class" if key == "Class" else "target_type"] = found
        self.found.close(source, extra["target_type"])

    def _list(self, key: str, path: str, source: int) -> None:
        stream = self.stream
        at = stream.position()
        if stream.peek() == "n":
            stream.value()
            return
        if stream.peek() != "[":
            raise stream.error(f"{path}: expected an array, got {kind_of(stream.value())}", at)
        extra = self.found.sources[source]["extra"]
        for n, (offset, item) in enumerate(stream.iter_values()):
            if not isinstance(item, dict):
                raise stream.error(f"{path}[{n}]: expected an object, got {kind_of(item)}",
                                   offset)
            if key == "Vulnerabilities":
                self._entry(item, f"{path}[{n}]", offset, source, suppressed=False)
            elif key == "ExperimentalModifiedFindings":
                if item.get("Type") != "vulnerability":
                    continue
                found = item.get("Finding")
                if not isinstance(found, dict):
                    raise stream.error(f"{path}[{n}].Finding: expected an object, got "
                                       f"{kind_of(found)}", offset)
                self._entry(found, f"{path}[{n}].Finding", offset, source, suppressed=True)
            elif key == "Secrets":
                extra["secrets"] += 1
            elif item.get("Status") == "FAIL":
                extra["misconfigurations"] += 1

    def _entry(self, vuln: dict[str, Any], path: str, at: int, source: int, *,
               suppressed: bool) -> None:
        stream = self.stream
        ident = text(stream, vuln, "VulnerabilityID", path, at)
        package = text(stream, vuln, "PkgName", path, at)
        if ident is None or package is None:
            missing = "VulnerabilityID" if ident is None else "PkgName"
            raise stream.error(f"{path}: no {missing}", at)
        word = text(stream, vuln, "Severity", path, at) or "UNKNOWN"
        severity = SEVERITIES.get(word.upper())
        if severity is None:
            raise stream.error(f"{path}.Severity: unknown severity {word!r}", at)
        version = text(stream, vuln, "InstalledVersion", path, at)
        fixed = text(stream, vuln, "FixedVersion", path, at) or ""
        versions = [v.strip() for v in fixed.split(",") if v.strip()]
        status = text(stream, vuln, "Status", path, at)
        identifier = vuln.get("PkgIdentifier")
        purl = text(stream, identifier, "PURL", f"{path}.PkgIdentifier", at) if isinstance(
            identifier, dict) else None
        message = (text(stream, vuln, "Title", path, at)
                   or text(stream, vuln, "Description", path, at) or "")
        self.found.add(source, (ident, package, version), {
            "id": ident, "severity": severity, "scanner_severity": word,
            "message": message[:MESSAGE_MAX], "package": package, "version": version,
            "package_type": None, "purl": purl, "fixed_versions": versions,
            "fix_state": status, "fixable": bool(versions) and status not in UNFIXED,
            "paths": [p for p in (text(stream, vuln, "PkgPath", path, at),) if p],
            "url": text(stream, vuln, "PrimaryURL", path, at),
            "related": texts(stream, vuln, "VendorIDs", path, at), "suppressed": suppressed})

    def finish(self) -> dict[str, Any]:
        """The parsed report, once the whole document is read."""
        if self.schema is None:
            raise InputError(f"{self.stream.shown}: not Trivy's JSON report: no SchemaVersion "
                             "(trivy --format json writes SchemaVersion 2)")
        self.found.close_all()
        for source in self.found.sources:
            source["version"] = self.version
            source["extra"].update(artifact=self.artifact, artifact_type=self.artifact_type,
                                   os=self.os)
        return {"format": "trivy-json", "sources": self.found.sources,
                "findings": self.found.findings()}
