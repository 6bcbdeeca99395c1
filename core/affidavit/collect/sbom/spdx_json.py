"""SPDX 2.2/2.3 JSON, read one top-level value at a time (packages and relationships one by
one); what is checked and counted is :mod:`affidavit.collect.sbom.spdx`'s."""

from __future__ import annotations

from affidavit.collect.sbom.spdx import Invalid, Package, Spdx
from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.collect.sbom.summary import Tally
    from affidavit.collect.scans.jsonstream import JsonStream

__all__ = ["SpdxJson", "KEYS"]

#: Top-level keys only SPDX has: one of them makes a JSON document SPDX.
KEYS = frozenset({"spdxVersion", "SPDXID", "dataLicense", "documentNamespace", "creationInfo",
                  "packages", "files", "snippets", "relationships", "documentDescribes",
                  "hasExtractedLicensingInfos", "externalDocumentRefs", "name", "comment"})
_FIELDS = ("spdxVersion", "dataLicense", "SPDXID", "name", "documentNamespace", "comment")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _package(obj: dict[str, Any]) -> Package:
    package = Package()
    package.spdx_id = _str(obj.get("SPDXID"))
    package.name = _str(obj.get("name"))
    package.version = _str(obj.get("versionInfo"))
    package.download = _str(obj.get("downloadLocation"))
    package.supplier = _str(obj.get("supplier"))
    package.purpose = _str(obj.get("primaryPackagePurpose"))
    for field, key in (("concluded", "licenseConcluded"), ("declared", "licenseDeclared")):
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise Invalid(f"{key} is not a string")
        setattr(package, field, value)
    checksums = obj.get("checksums") or []
    if not isinstance(checksums, list):
        raise Invalid("checksums is not an array")
    for checksum in checksums:
        if not isinstance(checksum, dict) or not _str(checksum.get("algorithm")) or not _str(
                checksum.get("checksumValue")):
            raise Invalid("a checksum lacks algorithm or checksumValue")
        if checksum["algorithm"] == "SHA256":
            package.sha256s.append(checksum["checksumValue"])
    refs = obj.get("externalRefs") or []
    if not isinstance(refs, list):
        raise Invalid("externalRefs is not an array")
    for ref in refs:
        if not isinstance(ref, dict) or not all(_str(ref.get(k)) for k in (
                "referenceCategory", "referenceType", "referenceLocator")):
            raise Invalid("an external reference lacks referenceCategory, referenceType or "
                          "referenceLocator")
        if ref["referenceType"] == "purl" and package.purl is None:
            package.purl = ref["referenceLocator"]
    return package


class SpdxJson:
    """Reads the values of an SPDX JSON document's top-level keys."""

    def __init__(self, shown: str, tally: Tally, described: list[str] | None = None) -> None:
        self.shown = shown
        self.spdx = Spdx(shown, tally, described)

    def key(self, stream: JsonStream, key: str, value: Any = None, *, held: bool = False) -> None:
        """Consume the value of top-level ``key`` (``held``: already decoded as ``value``)."""
        at = stream.position()
        try:
            if key == "packages" and not held:
                self._each(stream, key, lambda item: self.spdx.package(_package(item)))
            elif key == "relationships" and not held:
                self._each(stream, key, lambda item: self.spdx.relationship(
                    item.get("spdxElementId"), item.get("relationshipType"),
                    item.get("relatedSpdxElement")))
            elif key in _FIELDS or key in ("creationInfo", "documentDescribes"):
                self._small(key, value if held else stream.value())
            elif not held:
                stream.skip()
        except Invalid as bad:
            raise stream.error(f"not valid SPDX: {key}: {bad.problem}", at) from None

    def _each(self, stream: JsonStream, key: str, read: Any) -> None:
        if stream.peek() != "[":
            raise Invalid("is not an array")
        for n, (offset, item) in enumerate(stream.iter_values()):
            if not isinstance(item, dict):
                raise stream.error(f"not valid SPDX: {key}[{n}] is not an object", offset)
            try:
                read(item)
            except Invalid as bad:
                raise stream.error(f"not valid SPDX: {key}[{n}]: {bad.problem}",
                                   offset) from None

    def _small(self, key: str, value: Any) -> None:
        if key == "creationInfo":
            if not isinstance(value, dict):
                raise Invalid("is not an object")
            self.spdx.field("created", value.get("created"))
            creators = value.get("creators")
            if not isinstance(creators, list):
                raise Invalid("creators is not an array")
            for creator in creators:
                self.spdx.field("creator", creator)
        elif key == "documentDescribes":
            if not isinstance(value, list):
                raise Invalid("is not an array")
            for spdx_id in value:
                self.spdx.describe(spdx_id)
        else:
            self.spdx.field(key, value)

    def result(self, stream: JsonStream) -> dict[str, Any]:
        """What the document says besides the tally (:class:`~affidavit.collect.sbom.spdx.
        Again` when it must be read again)."""
        try:
            return self.spdx.result("json")
        except Invalid as bad:
            raise InputError(f"{self.shown}: not valid SPDX: {bad.problem}") from None
