"""SPDX 2.2/2.3 tag-value, read line by line; what is checked and counted is
:mod:`affidavit.collect.sbom.spdx`'s.

A line is ``Tag: value`` (blank lines and ``#`` comments aside), a value may be a
``<text>…</text>`` block over several lines (a block never closed is a truncated file).
``PackageName`` opens a package, which the next ``PackageName``, ``FileName``,
``SnippetSPDXID`` or ``LicenseID`` (or the end) closes; an ``SPDXID`` belongs to the section
it is in (the document's before any package). A tag that SPDX 2.3 does not define is an
error, as it is for ``spdx-tools``. Lines are read in chunks: a line longer than
:data:`MAX_LINE` is refused, and of a text block no more than that is kept.
"""

from __future__ import annotations

import codecs

from affidavit.collect.sbom.spdx import Invalid, Package, Spdx
from affidavit.digest import sha256_for, size_of
from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, BinaryIO

    from affidavit.collect.sbom.summary import Tally

__all__ = ["read_tagvalue", "MAX_LINE"]

MAX_LINE = 1 << 20
_CHUNK = 1 << 20
_DOCUMENT = {"SPDXVersion": "spdxVersion", "DataLicense": "dataLicense",
             "DocumentName": "name", "DocumentNamespace": "documentNamespace",
             "Created": "created", "Creator": "creator", "DocumentComment": "comment"}
_OPENS = frozenset({"FileName", "SnippetSPDXID", "LicenseID"})
_PACKAGE = {"PackageVersion": "version", "PackageDownloadLocation": "download",
            "PackageSupplier": "supplier", "PackageLicenseConcluded": "concluded",
            "PackageLicenseDeclared": "declared", "PrimaryPackagePurpose": "purpose"}
#: Every tag of SPDX 2.3 tag-value (spdx-tools' lexer).
TAGS = frozenset({
    "SPDXVersion", "DataLicense", "DocumentName", "SPDXID", "DocumentComment",
    "DocumentNamespace", "ExternalDocumentRef", "Creator", "Created", "CreatorComment",
    "LicenseListVersion", "Annotator", "AnnotationDate", "AnnotationComment", "AnnotationType",
    "SPDXREF", "Relationship", "RelationshipComment", "PackageName", "PackageVersion",
    "PackageDownloadLocation", "FilesAnalyzed", "PackageSummary", "PackageSourceInfo",
    "PackageFileName", "PackageSupplier", "PackageOriginator", "PackageChecksum",
    "PackageVerificationCode", "PackageDescription", "PackageComment", "PackageLicenseDeclared",
    "PackageLicenseConcluded", "PackageLicenseInfoFromFiles", "PackageLicenseComments",
    "PackageCopyrightText", "PackageHomePage", "ExternalRef", "ExternalRefComment",
    "PackageAttributionText", "PrimaryPackagePurpose", "BuiltDate", "ReleaseDate",
    "ValidUntilDate", "FileName", "FileType", "FileChecksum", "LicenseConcluded",
    "LicenseInfoInFile", "FileCopyrightText", "LicenseComments", "FileComment", "FileNotice",
    "FileContributor", "FileAttributionText", "LicenseID", "ExtractedText", "LicenseName",
    "LicenseCrossReference", "LicenseComment", "SnippetSPDXID", "SnippetName", "SnippetComment",
    "SnippetCopyrightText", "SnippetLicenseComments", "SnippetFromFileSPDXID",
    "SnippetLicenseConcluded", "LicenseInfoInSnippet", "SnippetAttributionText",
    "SnippetByteRange", "SnippetLineRange"})


def _lines(stream: BinaryIO, shown: str, digest: Any) -> Iterator[str]:
    """The file's lines (without their ends), decoded as UTF-8 (a BOM allowed), its bytes
    hashed as they pass; a line longer than :data:`MAX_LINE` is refused."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    pending = ""
    done = lines = 0
    while True:
        data = stream.read(_CHUNK)
        digest.update(data)
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise InputError(f"{shown}: not UTF-8 text (byte {done + exc.start})") from None
        done += len(data)
        parts = (pending + text).split("\n")
        pending = parts.pop()
        for part in parts:
            lines += 1
            if len(part) > MAX_LINE:
                break
            yield part.removesuffix("\r")
        if len(pending) > MAX_LINE or any(len(part) > MAX_LINE for part in parts):
            raise InputError(f"{shown}: not SPDX tag-value: line {lines + 1} is longer than "
                             f"{MAX_LINE >> 20} MiB")
        if not data:
            if pending:
                yield pending.removesuffix("\r")
            return


class _Reader:
    def __init__(self, shown: str, spdx: Spdx) -> None:
        self.shown, self.spdx = shown, spdx
        self.package: Package | None = None
        self.section = "document"
        self.line = 0

    def fail(self, problem: str, line: int | None = None) -> InputError:
        return InputError(f"{self.shown}: not valid SPDX tag-value: line {line or self.line}: "
                          f"{problem}")

    def close(self) -> None:
        if self.package is not None:
            package, self.package = self.package, None
            self.spdx.package(package)

    def tag(self, tag: str, value: str) -> None:
        spdx = self.spdx
        if tag == "PackageName":
            self.close()
            self.package = Package()
            self.package.name = value or None
            self.section = "package"
        elif tag in _OPENS:
            self.close()
            self.section = tag
        elif tag == "Relationship":
            parts = value.split()
            if len(parts) < 3:
                raise Invalid("a Relationship is not 'SPDXID TYPE SPDXID'")
            spdx.relationship(parts[0], parts[1], parts[2])
        elif tag == "SPDXID":
            if self.section == "document":
                spdx.field("SPDXID", value)
            elif self.package is not None:
                self.package.spdx_id = value
        elif self.section == "document" and tag in _DOCUMENT:
            spdx.field(_DOCUMENT[tag], value)
        elif self.package is not None and tag in _PACKAGE:
            setattr(self.package, _PACKAGE[tag], value)
        elif self.package is not None and tag == "PackageChecksum":
            algorithm, _, digest = value.partition(":")
            if not digest.strip():
                raise Invalid(f"PackageChecksum {value[:80]!r} is not 'ALGORITHM: VALUE'")
            if algorithm.strip() == "SHA256":
                self.package.sha256s.append(digest.strip())
        elif self.package is not None and tag == "ExternalRef":
            parts = value.split()
            if len(parts) < 3:
                raise Invalid("an ExternalRef is not 'CATEGORY TYPE LOCATOR'")
            if parts[1] == "purl" and self.package.purl is None:
                self.package.purl = parts[2]


def read_tagvalue(stream: BinaryIO, shown: str, tally: Tally,
                  described: list[str] | None = None) -> tuple[dict[str, Any], str]:
    """The document's facts (the tally filled) and the file's SHA-256; raises
    :class:`~affidavit.collect.sbom.spdx.Again` to be read again knowing ``described``."""
    digest = sha256_for(size_of(stream))
    reader = _Reader(shown, Spdx(shown, tally, described))
    block: list[str] | None = None
    block_tag, block_line, kept = "", 0, 0
    try:
        for number, line in enumerate(_lines(stream, shown, digest), 1):
            reader.line = number
            if block is not None:
                end = line.find("</text>")
                piece = line if end < 0 else line[:end]
                if kept < MAX_LINE:
                    block.append(piece[:MAX_LINE - kept])
                    kept += len(piece)
                if end < 0:
                    continue
                reader.tag(block_tag, "\n".join(block).strip())
                block = None
                continue
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            tag, colon, value = stripped.partition(":")
            tag = tag.strip()
            if not colon or tag not in TAGS:
                raise reader.fail(f"unknown tag {tag[:40]!r}" if colon else
                                  f"not a 'Tag: value' line ({stripped[:40]!r})")
            value = value.strip()
            if value.startswith("<text>"):
                rest = value[len("<text>"):]
                end = rest.find("</text>")
                if end >= 0:
                    reader.tag(tag, rest[:end].strip())
                    continue
                block, block_tag, block_line, kept = [rest], tag, number, len(rest)
                continue
            reader.tag(tag, value)
        if block is not None:
            raise reader.fail(f"the <text> block of {block_tag} is never closed (truncated?)",
                              block_line)
        reader.close()
    except Invalid as bad:
        raise reader.fail(bad.problem) from None
    try:
        result = reader.spdx.result("tag-value")
    except Invalid as bad:
        raise InputError(f"{shown}: not valid SPDX tag-value: {bad.problem}") from None
    return result, digest.hexdigest()
