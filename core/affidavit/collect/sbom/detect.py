"""Which SBOM a file is, from its content alone (never its name), and reading it.

The first character that is not white space (after a byte-order mark) decides the encoding:
``{`` JSON, ``<`` XML, a first line ``SPDXVersion:`` (after comments) SPDX tag-value. JSON is
CycloneDX or SPDX by its first top-level key that only one of them has
(:data:`~affidavit.collect.sbom.cyclonedx_json.KEYS`,
:data:`~affidavit.collect.sbom.spdx_json.KEYS`); keys before it (``$schema``) are held and
replayed. XML must be a CycloneDX ``<bom>``. Anything else -- an empty file, a JSON array or
scalar, other XML, text that is not tag-value -- is an error naming the file.

A file is read once; twice when what the second reading needs comes late in it (CycloneDX's
``specVersion`` after an array, SPDX's "describes" links after the packages).
"""

from __future__ import annotations

import codecs
import os

from affidavit.collect.sbom.summary import Tally
from affidavit.collect.scans.jsonstream import open_regular, read_document
from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from affidavit.collect.scans.jsonstream import JsonStream

__all__ = ["parse_file", "sniff"]

_HEAD = 64 << 10
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_WHAT = "CycloneDX (JSON or XML) or SPDX (JSON or tag-value)"


def sniff(head: bytes, shown: str) -> str:
    """``json``, ``xml`` or ``tag-value`` for a file starting with ``head``."""
    encoding = next((name for bom, name in _BOMS if head.startswith(bom)), "utf-8")
    text = head.decode(encoding, "ignore").lstrip("\ufeff \t\r\n")
    if not text:
        raise InputError(f"{shown}: empty file, not {_WHAT}")
    if text[0] == "{":
        return "json"
    if text[0] == "<":
        return "xml"
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("SPDXVersion:"):
            return "tag-value"
        break
    if text[0] == "[":
        raise InputError(f"{shown}: a JSON array, not {_WHAT} (a document is one object)")
    raise InputError(f"{shown}: not {_WHAT}: it starts with {text[:20]!r}")


def _json(stream: JsonStream, tally: Tally, hint: Any) -> dict[str, Any]:
    from affidavit.collect.sbom import cyclonedx_json, spdx_json

    if stream.peek() != "{":
        raise stream.refuse(f"a JSON object ({_WHAT})")
    held: list[tuple[str, Any]] = []
    reader: Any = None
    for key in stream.iter_object():
        if reader is None:
            if key in cyclonedx_json.KEYS:
                reader = cyclonedx_json.CycloneDxJson(stream.shown, tally, hint)
            elif key in spdx_json.KEYS:
                reader = spdx_json.SpdxJson(stream.shown, tally, hint)
            else:
                held.append((key, stream.value()))
                continue
            for old, value in held:
                reader.key(stream, old, value, held=True)
        reader.key(stream, key)
    stream.finish()
    if reader is None:
        raise InputError(f"{stream.shown}: JSON, but not {_WHAT}: none of its keys is "
                         "CycloneDX's bomFormat/specVersion/components nor SPDX's spdxVersion/"
                         "packages")
    result: dict[str, Any] = reader.result(stream)
    return result


def _xml(shown: str, tally: Tally) -> tuple[dict[str, Any], str]:
    from affidavit.collect.junit.reader import HEAD, NotWellFormed, read_xml, sniff_encoding
    from affidavit.collect.sbom.cyclonedx_xml import CycloneDxXml, new_parser
    from affidavit.collect.sbom.schemas import validate_xml

    handler = CycloneDxXml(shown, tally)
    with open_regular(shown) as stream:
        head = stream.read(HEAD)
        expat_encoding, codec = sniff_encoding(head, shown)
        try:
            digest = read_xml(stream, shown, handler, head=head, codec=codec,
                              expat_encoding=expat_encoding, parser_for=new_parser)
        except NotWellFormed as exc:
            raise InputError(f"{shown}: {exc.message}") from None
        result = handler.result()
        stream.seek(0)  # the same file, not the path again
        validate_xml(stream, shown, result["spec_version"])
    return result, digest


def _read(kind: str, shown: str, denied: Mapping[str, str] | None,
          hint: Any) -> tuple[dict[str, Any], str, Tally]:
    tally = Tally(denied)
    if kind == "json":
        result, digest = read_document(shown, lambda stream: _json(stream, tally, hint))
    elif kind == "xml":
        result, digest = _xml(shown, tally)
    else:
        from affidavit.collect.sbom.spdx_tagvalue import read_tagvalue

        with open_regular(shown) as stream:
            result, digest = read_tagvalue(stream, shown, tally, hint)
    return result, digest, tally


def parse_file(path: str | os.PathLike[str], *,
               denied: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The predicate of one SBOM file without its policy: format, version, what it
    describes, the counts; ``denied`` maps the lower-cased licence keys the policy denies to
    their spelling (``compliance.sbom``). Raises :class:`InputError` naming the file for a
    file that is not a valid CycloneDX or SPDX document."""
    from affidavit.collect.sbom.cyclonedx_json import Late
    from affidavit.collect.sbom.spdx import Again

    shown = os.fspath(path)
    with open_regular(shown) as stream:
        head = stream.read(_HEAD)
    kind = sniff(head, shown)
    try:
        result, digest, tally = _read(kind, shown, denied, None)
    except Late as late:
        result, digest, tally = _read(kind, shown, denied, late.version)
    except Again as again:
        result, digest, tally = _read(kind, shown, denied, again.described)
    return {**result, **tally.result(), "file": {"path": shown, "sha256": digest}}
