"""What an SPDX 2.2/2.3 document says, whichever way it is written (JSON or tag-value).

Both readers hand over the document's creation fields, each package and each "describes"
link; this module checks them as ``spdx-tools``' validator does for the fields read, counts
the packages and finds the subject. ``spdx-tools`` itself is not run: it builds the whole
document as Python objects (and takes 0.9 s to import), where these readers stream; the tests
check that it accepts what is accepted here and refuses the invalid fixtures too.

Checked: ``spdxVersion`` SPDX-2.2 or SPDX-2.3, ``dataLicense`` CC0-1.0, the document's
``SPDXID`` ``SPDXRef-DOCUMENT``, a ``name``, a ``documentNamespace`` without ``#``, a creation
time and at least one creator; every package's ``SPDXID`` (``SPDXRef-`` then letters, digits,
``.`` or ``-``), ``name`` and ``downloadLocation``; a ``supplier`` that is ``NOASSERTION`` or
starts ``Person:``/``Organization:``; a SHA-256 checksum of 64 hex digits; and each licence
field, ``NONE``, ``NOASSERTION`` or an SPDX expression whose identifiers are on the SPDX
licence list or are ``LicenseRef-``/``DocumentRef-`` references (whether such a reference is
declared in ``hasExtractedLicensingInfos`` is not checked).

Counted: every package is a component (the described one too: SPDX lists it among the
packages). Its licence is ``licenseConcluded``, else ``licenseDeclared`` (a value of ``NONE``
or ``NOASSERTION`` is no licence); its supplier is ``supplier`` unless ``NOASSERTION``; its
purl is the ``locator`` of an external reference of type ``purl``.

Described: the packages ``documentDescribes`` names, or that a relationship
``SPDXRef-DOCUMENT DESCRIBES X`` (or ``X DESCRIBED_BY SPDXRef-DOCUMENT``) names; the first
with a SHA-256 checksum (or a purl pinning a digest) is ``describes``, else the first. When the
links come after the packages, the file is read a second time knowing them (:class:`Again`).
"""

from __future__ import annotations

import re

from affidavit.collect.sbom.summary import sha256_hex, subject
from affidavit.models.licenses import license_keys

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.collect.sbom.summary import Tally

__all__ = ["VERSIONS", "Spdx", "Package", "Again", "Invalid", "DOCUMENT"]

VERSIONS = ("SPDX-2.2", "SPDX-2.3")
DOCUMENT = "SPDXRef-DOCUMENT"
_ID = re.compile(r"SPDXRef-[A-Za-z0-9.\-]+")
_NO_LICENCE = frozenset({"NONE", "NOASSERTION"})


class Invalid(Exception):
    """Not valid SPDX: ``problem`` (the reader adds where)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class Again(Exception):
    """The described packages are known only now: read the file again, knowing them."""

    def __init__(self, described: list[str]) -> None:
        super().__init__(described)
        self.described = described


class Package:
    """The fields of one package that are read (None: absent)."""

    __slots__ = ("spdx_id", "name", "version", "download", "supplier", "concluded", "declared",
                 "purl", "sha256s", "purpose")

    def __init__(self) -> None:
        self.spdx_id: str | None = None
        self.name: str | None = None
        self.version: str | None = None
        self.download: str | None = None
        self.supplier: str | None = None
        self.concluded: str | None = None
        self.declared: str | None = None
        self.purl: str | None = None
        self.sha256s: list[str] = []
        self.purpose: str | None = None


def _licence(value: str | None, field: str) -> str | None:
    """A licence field's expression, None for NONE/NOASSERTION/absent; :class:`Invalid` for
    one that does not parse or names an identifier the SPDX list does not hold."""
    if value is None or value.strip() in _NO_LICENCE:
        return None
    found = license_keys(value)
    if found.error is not None:
        raise Invalid(f"{field} {value[:80]!r} is not an SPDX licence expression "
                      f"({found.error})")
    if found.unknown:
        raise Invalid(f"{field} {value[:80]!r} names {', '.join(found.unknown[:3])}, not on the "
                      "SPDX licence list (use a LicenseRef- for other licences)")
    return value.strip()


class Spdx:
    """One SPDX document being read into ``tally``; ``described`` the ids a first reading
    found described after their packages."""

    def __init__(self, shown: str, tally: Tally, described: list[str] | None = None) -> None:
        self.shown, self.tally = shown, tally
        self.again = described is not None
        self.described: list[str] = list(described or [])
        self.subjects: dict[str, dict[str, Any]] = {}
        self.document: dict[str, Any] = {}
        self.creators = 0
        self.tools: list[str] = []

    # ------------------------------------------------------------------ document

    def field(self, name: str, value: object) -> None:
        """A document field: ``spdxVersion``, ``dataLicense``, ``SPDXID``, ``name``,
        ``documentNamespace``, ``created``, ``creator`` (one each), ``comment``."""
        if name == "creator":
            if not isinstance(value, str) or not value.strip():
                raise Invalid("a creator is empty")
            self.creators += 1
            if value.startswith("Tool:") and len(self.tools) < 20:
                self.tools.append(value[5:].strip())
            return
        if not isinstance(value, str):
            raise Invalid(f"{name} is not a string")
        if name in self.document and name != "comment":
            raise Invalid(f"{name} is given twice")
        value = value.strip()
        self.document[name] = value
        if name == "spdxVersion" and value not in VERSIONS:
            raise Invalid(f"unknown spdxVersion {value[:20]!r} (read: {', '.join(VERSIONS)})")
        if name == "dataLicense" and value != "CC0-1.0":
            raise Invalid(f"dataLicense is {value[:40]!r}, not CC0-1.0")
        if name == "SPDXID" and value != DOCUMENT:
            raise Invalid(f"the document's SPDXID is {value[:40]!r}, not {DOCUMENT}")
        if name == "documentNamespace" and ("#" in value or not value):
            raise Invalid("documentNamespace is empty or has a '#'")

    def describe(self, spdx_id: object) -> None:
        """A package the document describes."""
        if not isinstance(spdx_id, str) or not spdx_id:
            raise Invalid("a described element is not an SPDX id")
        if spdx_id not in self.described:
            self.described.append(spdx_id)

    def relationship(self, left: object, kind: object, right: object) -> None:
        """One relationship; only ``DESCRIBES`` / ``DESCRIBED_BY`` of the document matter."""
        if not all(isinstance(v, str) and v for v in (left, kind, right)):
            raise Invalid("a relationship lacks spdxElementId, relationshipType or "
                          "relatedSpdxElement")
        if kind == "DESCRIBES" and left == DOCUMENT:
            self.describe(right)
        elif kind == "DESCRIBED_BY" and right == DOCUMENT:
            self.describe(left)

    # ------------------------------------------------------------------ packages

    def package(self, package: Package) -> None:
        """One package, checked and counted."""
        spdx_id = package.spdx_id
        if spdx_id is None:
            raise Invalid(f"package {package.name or '(unnamed)'!r} has no SPDXID")
        if not _ID.fullmatch(spdx_id):
            raise Invalid(f"package SPDXID {spdx_id[:60]!r} is not SPDXRef- followed by "
                          "letters, digits, '.' or '-'")
        if not package.name:
            raise Invalid(f"package {spdx_id} has no name")
        if not package.download:
            raise Invalid(f"package {spdx_id} has no downloadLocation")
        supplier = package.supplier
        if supplier is not None and supplier != "NOASSERTION" and not supplier.startswith(
                ("Person:", "Organization:")):
            raise Invalid(f"package {spdx_id}: supplier {supplier[:60]!r} is not NOASSERTION, "
                          "Person: … or Organization: …")
        for value in package.sha256s:
            if sha256_hex(value) is None:
                raise Invalid(f"package {spdx_id}: SHA256 checksum {value[:70]!r} is not 64 "
                              "hex digits")
        concluded = _licence(package.concluded, f"package {spdx_id}: licenseConcluded")
        declared = _licence(package.declared, f"package {spdx_id}: licenseDeclared")
        licence = concluded or declared
        self.tally.add(package.name, package.version or None, package.purl,
                       bool(supplier and supplier != "NOASSERTION"),
                       [("expression", licence)] if licence else [])
        if spdx_id in self.described or not self.again:
            found = subject(package.name, package.version, package.purpose, package.purl,
                            spdx_id, list(package.sha256s))
            if spdx_id in self.described:
                self.subjects.setdefault(spdx_id, found)
            elif found["sha256"] and len(self.subjects) < 64:
                self.subjects.setdefault(spdx_id, found)  # may be described later

    # ------------------------------------------------------------------ result

    def result(self, encoding: str) -> dict[str, Any]:
        """What the document says besides the tally; :class:`Again` when the described
        packages came before the links that say so."""
        document = self.document
        for name in ("spdxVersion", "dataLicense", "SPDXID", "name", "documentNamespace",
                     "created"):
            if name not in document:
                raise Invalid(f"the document has no {name}")
        if not self.creators:
            raise Invalid("the document names no creator")
        found = [self.subjects[i] for i in self.described if i in self.subjects]
        if not self.again and self.described and (
                len(found) < len(self.described) and not any(s["sha256"] for s in found)):
            raise Again(self.described)
        chosen = next((s for s in found if s["sha256"]), found[0] if found else None)
        if chosen is None and self.described:
            chosen = subject(None, None, None, None, self.described[0], [])
        return {"format": "spdx", "encoding": encoding,
                "spec_version": document["spdxVersion"].removeprefix("SPDX-"),
                "validation": f"{document['spdxVersion']} required fields and licence "
                              "expressions (spdx-tools' rules for the fields read)",
                "document": {"id": document["documentNamespace"], "name": document["name"],
                             "created": document["created"], "tools": list(self.tools)},
                "describes": chosen}
