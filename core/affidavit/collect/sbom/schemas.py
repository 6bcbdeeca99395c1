"""The official CycloneDX schemas, as ``cyclonedx-python-lib`` ships them, applied while streaming.

Why not ``cyclonedx-python-lib``'s own validators: its ``JsonValidator`` took 68 s for an SBOM
of 1,000 components here (its ``iri-reference`` format check runs an Earley parser per URL) and
4.4 ms a component without format checks, and it validates a document read whole, so a 50 MB
SBOM would take minutes and hold the file several times over in memory. The same schema files
(``bom-1.x.SNAPSHOT.schema.json`` and ``.xsd``, with the ``spdx``, ``jsf`` and
``cryptography-defs`` schemas they reference) are applied here instead:

- JSON: with ``jsonschema-rs`` (draft 7, formats checked, about 4 µs a component), one
  top-level array item at a time as the stream passes it (each item against the schema's
  ``properties.<key>.items``: nested components are checked by the schema's own recursion),
  and the rest of the document (those arrays emptied) against the whole schema at the end. A
  whole-array keyword (``uniqueItems`` of ``components``) is the one thing not checked across
  items.
- XML: with ``lxml``'s XML Schema validation during ``iterparse`` (libxml2 validates as it
  reads), each element dropped once read, after the streaming reader has refused DTDs and
  entities (so libxml2 never sees one).

All of it is the ``sbom`` extra (``pip install 'affidavit[sbom]'``).
"""

from __future__ import annotations

import json

from affidavit.errors import InputError, UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any, BinaryIO

__all__ = ["VERSIONS", "JsonSchema", "json_schema", "validate_xml", "schema_name"]

#: The CycloneDX versions read, oldest first.
VERSIONS = ("1.4", "1.5", "1.6")
_PREFIX = "http://cyclonedx.org/schema/"
_validators: dict[str, JsonSchema] = {}


def _resources() -> Any:
    """``cyclonedx.schema._res`` (its schema files' paths) and ``SchemaVersion``."""
    try:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.schema import _res as res
    except ImportError:
        raise UsageError("validating CycloneDX needs cyclonedx-python-lib's schemas, which are "
                         "not installed", remedy="pip install 'affidavit[sbom]'") from None
    return res, SchemaVersion


def schema_name(version: str, encoding: str) -> str:
    """How the predicate names the schema a file was validated against (with the version of
    the cyclonedx-python-lib that shipped it; ``importlib.metadata`` would cost 45 ms)."""
    import cyclonedx

    lib = getattr(cyclonedx, "__version__", None)
    shipped = f" of cyclonedx-python-lib {lib}" if isinstance(lib, str) else ""
    name = f"bom-{version}.schema.json" if encoding == "json" else f"bom-{version}.xsd"
    kind = "JSON schema" if encoding == "json" else "XML schema"
    return f"CycloneDX {version} {kind} ({name}{shipped})"


def _load(path: str) -> Any:
    with open(path, encoding="utf-8") as source:
        return json.load(source)


class JsonSchema:
    """One CycloneDX version's JSON schema: the whole, and each top-level array's items."""

    def __init__(self, version: str) -> None:
        try:
            import jsonschema_rs
        except ImportError:
            raise UsageError("validating CycloneDX JSON needs jsonschema-rs, which is not "
                             "installed", remedy="pip install 'affidavit[sbom]'") from None
        res, versions = _resources()
        self.version = version
        self._rs = jsonschema_rs
        self.schema = _load(res.BOM_JSON[versions.from_version(version)])
        self._id = self.schema["$id"]
        self._registry = jsonschema_rs.Registry([
            (_PREFIX + "spdx.SNAPSHOT.schema.json", _load(res.SPDX_JSON)),
            (_PREFIX + "jsf-0.82.SNAPSHOT.schema.json", _load(res.JSF)),
            (_PREFIX + "cryptography-defs.SNAPSHOT.schema.json", _load(res.CRYPTOGRAPHY_DEFS)),
            (self._id, self.schema)])
        self._items: dict[str, Any] = {}
        self._whole: Any = None

    def streams(self, key: str) -> bool:
        """Whether top-level ``key`` is an array the schema describes item by item."""
        spec = self.schema["properties"].get(key)
        return isinstance(spec, dict) and spec.get("type") == "array" and "items" in spec

    def _validator(self, schema: Any) -> Any:
        return self._rs.Draft7Validator(schema, registry=self._registry, validate_formats=True)

    def item_error(self, key: str, item: Any) -> tuple[str, str] | None:
        """Why ``item`` of top-level array ``key`` is not valid, as ``(path below the item,
        message)``; None when it is valid."""
        check = self._items.get(key)
        if check is None:
            check = self._items[key] = self._validator(
                {"$ref": f"{self._id}#/properties/{key}/items"})
        if check.is_valid(item):
            return None
        return _first(check, item)

    def document_error(self, document: Any) -> tuple[str, str] | None:
        """Why the document (its streamed arrays emptied) is not valid, as ``(path,
        message)``; None when it is valid."""
        if self._whole is None:
            self._whole = self._validator(self.schema)
        if self._whole.is_valid(document):
            return None
        return _first(self._whole, document)


def _first(check: Any, instance: Any) -> tuple[str, str]:
    """The first error: its JSON path (``.licenses[0].license``; empty at the top) and its
    message on one line."""
    error = next(iter(check.iter_errors(instance)))
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}"
                   for part in error.instance_path)
    return path, " ".join(str(error.message).split())[:300]


def json_schema(version: str) -> JsonSchema:
    """The validator of CycloneDX ``version`` (built once per process)."""
    found = _validators.get(version)
    if found is None:
        found = _validators[version] = JsonSchema(version)
    return found


def validate_xml(source: BinaryIO, shown: str, version: str) -> None:
    """Validate a CycloneDX XML file (``source``, open at its start; ``shown`` its name)
    against its version's XSD, streaming; an :class:`InputError` naming the file and the first
    problem. The file must already have been read by the safe reader (no DTD, no entity)."""
    try:  # imported by name: lxml ships no type hints
        import importlib

        etree: Any = importlib.import_module("lxml.etree")
    except ImportError:
        raise UsageError("validating CycloneDX XML needs lxml, which is not installed",
                         remedy="pip install 'affidavit[sbom]'") from None
    res, versions = _resources()
    schema = etree.XMLSchema(etree.parse(res.BOM_XML[versions.from_version(version)]))
    try:
        for _, element in etree.iterparse(source, events=("end",), schema=schema,
                                          resolve_entities=False, no_network=True,
                                          load_dtd=False, huge_tree=False):
            element.clear()
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        message = " ".join(str(exc.msg or exc).split())
        line = f" (line {exc.lineno})" if exc.lineno else ""
        raise InputError(f"{shown}: not valid CycloneDX {version} XML "
                         f"(bom-{version}.xsd){line}: {message[:400]}") from None
