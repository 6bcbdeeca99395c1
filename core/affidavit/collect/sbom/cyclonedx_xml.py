"""CycloneDX XML (1.4-1.6), counted from expat's events, then checked against its XSD.

The root must be ``<bom>`` in the namespace ``http://cyclonedx.org/schema/bom/<version>``,
which says the version. The file is read by the JUnit collector's hardened streaming reader
(:func:`affidavit.collect.junit.reader.read_xml`: no tree, DTDs and entities refused, tokens
and nesting bounded) with an expat parser that resolves namespaces; once it has passed, it is
validated against the version's XSD, streaming (:func:`~affidavit.collect.sbom.schemas.
validate_xml`).

The same components as in JSON: each ``<component>`` of ``bom/components`` and, recursively,
of a counted component's own ``<components>``; ``metadata/component`` is ``describes``. Only
elements of the BOM's namespace are read (an extension's elements are skipped).
"""

from __future__ import annotations

import pyexpat

from affidavit.collect.junit.reader import MAX_DEPTH
from affidavit.collect.junit.reader import new_parser as junit_parser
from affidavit.collect.sbom.cyclonedx_json import BadComponent, licences_of
from affidavit.collect.sbom.schemas import VERSIONS, schema_name
from affidavit.collect.sbom.summary import subject
from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.collect.sbom.summary import Tally

__all__ = ["CycloneDxXml", "new_parser", "NAMESPACE"]

NAMESPACE = "http://cyclonedx.org/schema/bom/"
_TEXT = frozenset({"name", "version", "purl", "id", "expression", "url", "hash", "timestamp"})


def new_parser(shown: str, encoding: str | None) -> pyexpat.XMLParserType:
    """The JUnit reader's parser (DTDs and entities refused), resolving namespaces."""
    return junit_parser(shown, encoding, namespace_separator=" ", what="CycloneDX")


class _Component:
    """A component being read: ``depth`` of its element, what its children said."""

    __slots__ = ("depth", "counted", "fields", "supplier", "licenses", "hashes", "added")

    def __init__(self, depth: int, counted: bool) -> None:
        self.depth, self.counted = depth, counted
        self.added = False
        self.fields: dict[str, str] = {}
        self.supplier = False
        self.licenses: list[dict[str, Any]] = []
        self.hashes: list[str] = []


class CycloneDxXml:
    """The handler :func:`~affidavit.collect.junit.reader.read_xml` drives."""

    def __init__(self, shown: str, tally: Tally) -> None:
        self.shown, self.tally = shown, tally
        self.started = False
        self.version: str | None = None
        self.prefix = ""
        self.path: list[str] = []  # local names of the open elements ("" outside the BOM's)
        self.open: list[_Component] = []
        self.describes: dict[str, Any] | None = None
        self.serial: str | None = None
        self.timestamp: str | None = None
        self.tools: list[str] = []
        self._text: list[str] | None = None
        self._attrs: dict[str, str] = {}
        self._parser: pyexpat.XMLParserType | None = None

    def bind(self, parser: pyexpat.XMLParserType) -> None:
        self._parser = parser
        parser.StartElementHandler = self._root
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._chars
        parser.buffer_text = True

    def unbind(self, parser: pyexpat.XMLParserType) -> None:
        parser.StartElementHandler = None
        parser.EndElementHandler = None
        parser.CharacterDataHandler = None
        self._parser = None

    def _root(self, name: str, attrs: dict[str, str]) -> None:
        self.started = True
        uri, _, local = name.rpartition(" ")
        if local != "bom" or not uri.startswith(NAMESPACE):
            if local == "RDF" or uri.startswith("http://spdx.org"):
                raise InputError(f"{self.shown}: SPDX as RDF/XML is not read; give SPDX 2.3 "
                                 "as JSON or tag-value")
            raise InputError(f"{self.shown}: XML, but not a CycloneDX BOM: its root is "
                             f"<{local[:40]}>{' in ' + uri[:80] if uri else ''}, not <bom> in "
                             f"{NAMESPACE}<version>")
        version = uri[len(NAMESPACE):]
        if version not in VERSIONS:
            raise InputError(f"{self.shown}: unknown CycloneDX version {version[:20]!r} (its "
                             f"namespace is {uri[:80]}; read: {', '.join(VERSIONS)})")
        self.version = version
        self.prefix = uri + " "
        self.serial = attrs.get("serialNumber")
        assert self._parser is not None
        self._parser.StartElementHandler = self._start
        self.path.append("bom")

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        path = self.path
        local = name[len(self.prefix):] if name.startswith(self.prefix) else ""
        parent = path[-1]
        path.append(local)
        depth = len(path)
        if depth > MAX_DEPTH:
            raise InputError(f"{self.shown}: XML nested deeper than {MAX_DEPTH} elements")
        if local == "components" and self.open and self.open[-1].depth == depth - 1:
            self._finish(self.open[-1])  # counted before its own components, as in JSON
            return
        if local == "component":
            if parent == "components" and (depth == 3 or (
                    self.open and self.open[-1].counted and self.open[-1].depth == depth - 2)):
                self.open.append(_Component(depth, True))
            elif parent == "metadata" and depth == 3:
                self.open.append(_Component(depth, False))
            if self.open and self.open[-1].depth == depth:
                self.open[-1].fields["type"] = attrs.get("type", "")
                self.open[-1].fields["bom-ref"] = attrs.get("bom-ref", "")
            return
        if local in _TEXT:
            self._text = []
            self._attrs = attrs

    def _chars(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def _end(self, name: str) -> None:
        path = self.path
        local = path.pop()
        depth = len(path) + 1
        found = "".join(self._text).strip() if self._text is not None else None
        self._text = None
        current = self.open[-1] if self.open else None
        if local == "component" and current is not None and current.depth == depth:
            self.open.pop()
            self._finish(current)
            return
        if found is None or not local:
            return
        parent = path[-1]
        if depth == 3 and local == "timestamp" and parent == "metadata":
            self.timestamp = found
        if (depth > 4 and path[1] == "metadata" and path[2] == "tools"
                and parent in ("tool", "component", "service")):
            if local == "name":
                self.tools.append(found)
            elif local == "version" and self.tools:
                self.tools[-1] += f" {found}"
        if current is None:
            return
        inside = depth - current.depth
        if inside == 1 and local in ("name", "version", "purl"):
            current.fields[local] = found
        elif inside == 2 and parent == "supplier" and local in ("name", "url") and found:
            current.supplier = True
        elif inside == 2 and parent == "licenses" and local == "expression":
            current.licenses.append({"expression": found})
        elif inside == 3 and parent == "license" and local in ("id", "name") and (
                path[-2] == "licenses"):
            current.licenses.append({"license": {local: found}})
        elif inside == 2 and parent == "hashes" and local == "hash" and (
                self._attrs.get("alg") == "SHA-256"):
            current.hashes.append(found)

    def _finish(self, component: _Component) -> None:
        if component.added:
            return
        component.added = True
        fields = component.fields
        if not component.counted:
            self.describes = subject(fields.get("name") or None, fields.get("version") or None,
                                     fields.get("type") or None, fields.get("purl") or None,
                                     fields.get("bom-ref") or None, list(component.hashes))
            return
        where = f"component {fields.get('name') or '(unnamed)'}"
        try:
            licences = licences_of(component.licenses, where)
        except BadComponent as bad:
            line = self._parser.CurrentLineNumber if self._parser else 0
            raise InputError(f"{self.shown}: line {line}: {bad.path}: {bad.problem}") from None
        self.tally.add(fields.get("name") or None, fields.get("version") or None,
                       fields.get("purl") or None, component.supplier, licences)

    def result(self) -> dict[str, Any]:
        """What the document says besides the tally."""
        assert self.version is not None
        return {"format": "cyclonedx", "encoding": "xml", "spec_version": self.version,
                "validation": schema_name(self.version, "xml"),
                "document": {"id": self.serial, "name": None, "created": self.timestamp,
                             "tools": self.tools[:20]},
                "describes": self.describes}
