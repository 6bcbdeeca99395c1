"""CycloneDX JSON (1.4-1.6), read one top-level value at a time.

``bomFormat`` must be ``CycloneDX`` and ``specVersion`` one of :data:`VERSIONS`. Every
top-level array (``components``, ``dependencies``, ``services``, ...) is decoded one item at a
time, each item checked against the version's schema as it passes; the rest is kept and checked
whole at the end (:mod:`~affidavit.collect.sbom.schemas`). A file that names its
``specVersion`` only after an array is read a second time, knowing it.

Components are those of ``components`` and, recursively, of each component's own
``components``; ``metadata.component`` is what the BOM describes (the predicate's
``describes``), not one of its components, and neither are the components of ``pedigree``,
``metadata.tools`` or ``services``. A component's licences are its ``licenses[]``:
``license.id`` (an SPDX identifier), ``license.name`` (free text) or ``expression`` (an SPDX
expression, which must parse). It names a supplier when ``supplier`` has a ``name`` or a
``url``.
"""

from __future__ import annotations

import json

from affidavit.collect.sbom.schemas import VERSIONS, json_schema, schema_name
from affidavit.collect.sbom.summary import subject
from affidavit.errors import InputError
from affidavit.models.licenses import license_keys

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.collect.sbom.summary import Tally
    from affidavit.collect.scans.jsonstream import JsonStream

__all__ = ["CycloneDxJson", "KEYS", "Late", "BadComponent", "text", "licences_of",
           "supplier_named"]

#: Top-level keys only CycloneDX has: one of them makes a JSON document CycloneDX.
KEYS = frozenset({"bomFormat", "specVersion", "serialNumber", "metadata", "components",
                  "services", "dependencies", "compositions", "vulnerabilities", "formulation",
                  "declarations", "definitions", "externalReferences", "properties",
                  "signature", "version"})


class Late(Exception):
    """The file named its ``specVersion`` after an array: read it again, knowing it."""

    def __init__(self, version: str) -> None:
        super().__init__(version)
        self.version = version


class BadComponent(Exception):
    """A component the schema allows but this reader refuses (an expression that does not
    parse), with its JSON path below the item."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(problem)
        self.path, self.problem = path, problem


def text(value: object) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value.strip() else None


def supplier_named(supplier: object) -> bool:
    """Whether a CycloneDX ``supplier`` names someone (a ``name`` or a ``url``)."""
    if not isinstance(supplier, dict):
        return False
    urls = supplier.get("url")
    return bool(text(supplier.get("name")) or text(urls)
                or (isinstance(urls, list) and any(text(url) for url in urls)))


def licences_of(entries: object, path: str) -> list[tuple[str, str]]:
    """A component's ``licenses`` as ``(kind, text)``; an expression that does not parse is
    refused (it could not be checked against ``--deny-license``)."""
    out: list[tuple[str, str]] = []
    if not isinstance(entries, list):
        return out
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        licence = entry.get("license")
        if isinstance(licence, dict):
            if (ident := text(licence.get("id"))) is not None:
                out.append(("id", ident))
            elif (name := text(licence.get("name"))) is not None:
                out.append(("name", name))
        elif (expression := text(entry.get("expression"))) is not None:
            error = license_keys(expression).error
            if error is not None:
                raise BadComponent(f"{path}.licenses[{n}].expression",
                           f"{expression[:80]!r} is not an SPDX licence expression ({error})")
            out.append(("expression", expression))
    return out


class CycloneDxJson:
    """Reads the values of a CycloneDX JSON document's top-level keys into ``tally``;
    ``version`` is the ``specVersion`` a first reading found late."""

    def __init__(self, shown: str, tally: Tally, version: str | None = None) -> None:
        self.shown, self.tally = shown, tally
        self.version = version
        self.document: dict[str, Any] = {}
        self.late = False

    def _schema(self) -> Any:
        return json_schema(self.version) if self.version else None

    def key(self, stream: JsonStream, key: str, value: Any = None, *, held: bool = False) -> None:
        """Consume the value of top-level ``key`` (``held``: already decoded as ``value``)."""
        if not held and stream.peek() == "[":
            self._array(stream, key)
            return
        at = stream.position()
        if not held:
            value = stream.value()
        self.document[key] = value
        if key == "bomFormat" and value != "CycloneDX":
            raise stream.error(f"not CycloneDX: bomFormat is {_shown(value)}, not \"CycloneDX\"",
                               at)
        if key == "specVersion":
            if value not in VERSIONS:
                raise stream.error(f"unknown CycloneDX specVersion {_shown(value)} (read: "
                                   f"{', '.join(VERSIONS)})", at)
            if self.version is None:
                self.version = value

    def _array(self, stream: JsonStream, key: str) -> None:
        schema = self._schema()
        streamed = schema is not None and schema.streams(key)
        kept: list[Any] = []
        for n, (offset, item) in enumerate(stream.iter_values()):
            if schema is None:
                self.late = True
            elif streamed:
                problem = schema.item_error(key, item)
                if problem is not None:
                    raise stream.error(f"not valid CycloneDX {self.version} "
                                       f"({_schema_file(self.version)}): {key}[{n}]"
                                       f"{problem[0]}: {problem[1]}", offset)
            else:
                kept.append(item)
            if key == "components":
                try:
                    self._component(item, f"components[{n}]")
                except BadComponent as bad:
                    raise stream.error(f"{bad.path}: {bad.problem}", offset) from None
        self.document[key] = kept

    def _component(self, component: Any, path: str) -> None:
        if not isinstance(component, dict):
            return
        self.tally.add(text(component.get("name")), text(component.get("version")),
                       text(component.get("purl")), supplier_named(component.get("supplier")),
                       licences_of(component.get("licenses"), path))
        children = component.get("components")
        if isinstance(children, list):
            for n, child in enumerate(children):
                self._component(child, f"{path}.components[{n}]")

    def result(self, stream: JsonStream) -> dict[str, Any]:
        """What the document says besides the tally; :class:`Late` when it must be read again."""
        document = self.document
        if "bomFormat" not in document:
            raise InputError(f"{self.shown}: not CycloneDX: no \"bomFormat\" (a CycloneDX "
                             "document says \"bomFormat\": \"CycloneDX\")")
        if "specVersion" not in document:
            raise InputError(f"{self.shown}: CycloneDX without a \"specVersion\"")
        if self.late:
            raise Late(document["specVersion"])
        problem = json_schema(document["specVersion"]).document_error(document)
        if problem is not None:
            raise InputError(f"{self.shown}: not valid CycloneDX {document['specVersion']} "
                             f"({_schema_file(document['specVersion'])}): "
                             f"{problem[0].lstrip('.') or '(top level)'}: {problem[1]}")
        metadata = document.get("metadata") or {}
        component = metadata.get("component") if isinstance(metadata, dict) else None
        describes = None
        if isinstance(component, dict):
            hashes = [h.get("content") for h in component.get("hashes") or []
                      if isinstance(h, dict) and h.get("alg") == "SHA-256"]
            describes = subject(text(component.get("name")), text(component.get("version")),
                                text(component.get("type")), text(component.get("purl")),
                                text(component.get("bom-ref")), hashes)
        tools = _tools(metadata.get("tools") if isinstance(metadata, dict) else None)
        return {"format": "cyclonedx", "encoding": "json",
                "spec_version": document["specVersion"],
                "validation": schema_name(document["specVersion"], "json"),
                "document": {"id": text(document.get("serialNumber")), "name": None,
                             "created": text(metadata.get("timestamp")) if isinstance(
                                 metadata, dict) else None, "tools": tools},
                "describes": describes}


def _tools(tools: object) -> list[str]:
    """``metadata.tools`` as ``name version`` texts: the 1.4 array of tools, or the 1.5+
    object of ``components`` and ``services``."""
    if isinstance(tools, dict):
        listed = [*(tools.get("components") or []), *(tools.get("services") or [])]
    elif isinstance(tools, list):
        listed = tools
    else:
        return []
    out = []
    for tool in listed[:20]:
        if isinstance(tool, dict) and text(tool.get("name")):
            version = text(tool.get("version"))
            out.append(f"{tool['name']} {version}" if version else str(tool["name"]))
    return out


def _schema_file(version: str | None) -> str:
    return f"bom-{version}.schema.json"


def _shown(value: object) -> str:
    return json.dumps(value)[:60] if not isinstance(value, dict | list) else (
        "an object" if isinstance(value, dict) else "an array")
