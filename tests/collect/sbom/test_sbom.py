"""The SBOM collector: format and version from the content, counts, licences, what the SBOM
describes, and every file it must refuse.

Fixtures (written for these tests, each after its format's documented examples):

- ``cyclonedx-1.6.json``: the shapes of the CycloneDX specification's test resources
  ``tools/src/test/resources/1.6/valid-bom-1.6.json``, ``valid-metadata-tool-1.6.json``
  (``metadata.tools.components``), ``valid-component-hashes-1.6.json``,
  ``valid-license-expression-1.6.json`` and ``valid-license-name-1.6.json``: a container
  described with a SHA-256 hash, nested components, a pedigree ancestor, services and
  dependencies;
- ``cyclonedx-1.5.xml``: the same BOM as 1.5 XML, after ``valid-bom-1.5.xml`` (default
  namespace ``http://cyclonedx.org/schema/bom/1.5``);
- ``cyclonedx-1.4.json``: a 1.4 BOM (``metadata.tools`` an array) whose subject is named by a
  ``pkg:oci`` purl pinning its digest, as Trivy writes for an image;
- ``spdx-2.3.spdx.json``: after the SPDX 2.3 specification's ``examples/SPDXJSONExample-v2.3.
  spdx.json`` (its glibc, Jena, Apache Commons Lang and Saxon packages, ``documentDescribes``
  naming a file and a package) with a container package in front;
- ``spdx-2.3.spdx``: the same document as tag-value, after ``examples/SPDXTagExample-v2.3.spdx``
  (``<text>`` blocks, relationships at the end).

Every fixture is also accepted by the reference libraries (cyclonedx-python-lib's strict
validators, spdx-tools' ``validate_full_spdx_document``), whose counts are compared with ours.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from affidavit.collect.sbom import parse_file
from affidavit.errors import InputError
from affidavit.models.sbom import SbomPredicate

FIXTURES = Path(__file__).parent / "fixtures"
IMAGE = "a74f733635a19aefb1f73e5947cef59cd7440c6952ef0f03d09d974274cbd6df"
DENY = {"gpl-3.0-only": "GPL-3.0-only", "mit": "MIT"}
POLICY = {"deny_license": [], "deny_license_ids": [], "require_fields": [],
          "max_components_without_license": None}


def parse(name: str, **kwargs: Any) -> dict[str, Any]:
    found = parse_file(FIXTURES / name, **kwargs)
    SbomPredicate.model_validate({**found, "policy": POLICY})
    return found


def refused(path: Path, *needles: str) -> str:
    with pytest.raises(InputError) as caught:
        parse_file(path)
    message = caught.value.message
    assert message.startswith(f"{path}: "), message
    for needle in needles:
        assert needle in message, message
    return message


# ---------------------------------------------------------------------------- CycloneDX


def test_cyclonedx_json_counts_nested_components_and_not_the_subject() -> None:
    found = parse("cyclonedx-1.6.json", denied=DENY)
    assert (found["format"], found["encoding"], found["spec_version"]) == (
        "cyclonedx", "json", "1.6")
    assert found["validation"].startswith("CycloneDX 1.6 JSON schema (bom-1.6.schema.json")
    assert found["summary"] == {"components": 5, "with_license": 4, "without_license": 1,
                                "missing": {"supplier": 3, "version": 1, "purl": 2},
                                "denied": 2}
    assert found["missing_examples"]["supplier"] == ["acme-ui-icons", "left-pad", "app.conf"]
    assert [(item["license"], item["kind"]) for item in found["licenses"]] == [
        ("MIT OR GPL-3.0-only", "expression"), ("Apache-2.0", "id"), ("WTFPL", "id"),
        ("Acme Icon Licence", "name"), ("mit", "name")]
    # the pedigree's GPL ancestor is not a component; the OR includes GPL; the name "mit" is MIT
    assert [(d["name"], d["matched"]) for d in found["denied"]] == [
        ("acme-ui", ["GPL-3.0-only", "MIT"]), ("left-pad", ["MIT"])]
    assert found["denied_by_license"] == {"GPL-3.0-only": 1, "MIT": 2}
    assert found["describes"] == {
        "name": "registry.example.com/shop", "version": "2.3.0", "type": "container",
        "purl": None, "ref": "shop-image", "sha256": IMAGE, "sha256_from": "hash"}
    assert found["document"] == {"id": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
                                 "name": None, "created": "2024-05-02T10:20:30Z",
                                 "tools": ["syft 1.4.1"]}
    data = (FIXTURES / "cyclonedx-1.6.json").read_bytes()
    import hashlib

    assert found["file"] == {"path": str(FIXTURES / "cyclonedx-1.6.json"),
                             "sha256": hashlib.sha256(data).hexdigest()}


def test_cyclonedx_xml_reads_as_the_same_bom() -> None:
    as_json = parse("cyclonedx-1.6.json", denied=DENY)
    as_xml = parse("cyclonedx-1.5.xml", denied=DENY)
    assert (as_xml["encoding"], as_xml["spec_version"]) == ("xml", "1.5")
    assert as_xml["validation"].startswith("CycloneDX 1.5 XML schema (bom-1.5.xsd")
    same = ("summary", "licenses", "denied", "denied_by_license", "describes", "document",
            "missing_examples", "licenses_total")
    assert {k: as_xml[k] for k in same} == {k: as_json[k] for k in same}


def test_cyclonedx_1_4_subject_digest_from_its_purl() -> None:
    found = parse("cyclonedx-1.4.json")
    assert found["spec_version"] == "1.4"
    assert found["describes"]["sha256"] == ("b6c1a7d8e1e5b2a0f7c4d9e8a3b2c1d0e9f8a7b6c5d4e3f2a1"
                                            "b0c9d8e7f6a5b4")
    assert found["describes"]["sha256_from"] == "purl"
    assert found["document"]["tools"] == ["trivy 0.38.3"]
    assert found["summary"]["missing"] == {"supplier": 2, "version": 1, "purl": 0}
    assert found["licenses"][0] == {
        "license": "LGPL-2.1-or-later AND GPL-2.0-or-later WITH GCC-exception-2.0",
        "kind": "expression", "components": 1}


def test_denied_ids_match_through_spdx_normalisation(tmp_path: Path) -> None:
    """GPL-2.0+ is GPL-2.0-or-later, case is ignored, and an exception does not hide its
    licence."""
    path = _cdx(tmp_path, [_comp("a", licenses=[{"expression": "gpl-2.0+"}]),
                           _comp("b", licenses=[{"expression": "GPL-2.0-only WITH "
                                                                "Classpath-exception-2.0"}]),
                           _comp("c", licenses=[{"license": {"id": "GPL-2.0-or-later"}}])])
    found = parse_file(path, denied={"gpl-2.0-or-later": "GPL-2.0-or-later"})
    assert [d["name"] for d in found["denied"]] == ["a", "c"]
    found = parse_file(path, denied={"gpl-2.0-only": "GPL-2.0-only"})
    assert [d["name"] for d in found["denied"]] == ["b"]


def test_agrees_with_cyclonedx_python_lib() -> None:
    """The reference library validates each CycloneDX fixture and counts the same
    components (nested included) and licences."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from cyclonedx.validation.xml import XmlValidator

    for name, version in (("cyclonedx-1.6.json", "1.6"), ("cyclonedx-1.4.json", "1.4")):
        text = (FIXTURES / name).read_text()
        assert JsonStrictValidator(SchemaVersion.from_version(version)).validate_str(
            text) is None
        bom = Bom.from_json(json.loads(text))  # type: ignore[attr-defined]

        def walk(components: Any) -> list[Any]:
            return [c for top in components for c in (top, *walk(top.components))]

        components = walk(bom.components)
        found = parse(name)
        assert found["summary"]["components"] == len(components)
        assert found["summary"]["with_license"] == sum(1 for c in components if c.licenses)
    xml = (FIXTURES / "cyclonedx-1.5.xml").read_text()
    assert XmlValidator(SchemaVersion.V1_5).validate_str(xml) is None


# ---------------------------------------------------------------------------- SPDX


def test_spdx_json_packages_licences_and_the_described_package() -> None:
    found = parse("spdx-2.3.spdx.json", denied={"lgpl-2.0-only": "LGPL-2.0-only"})
    assert (found["format"], found["encoding"], found["spec_version"]) == ("spdx", "json",
                                                                          "2.3")
    # every package counts, the described image too; NOASSERTION and NONE are no licence,
    # licenseConcluded wins over licenseDeclared, which is used when it is NOASSERTION/absent
    assert found["summary"] == {"components": 5, "with_license": 3, "without_license": 2,
                                "missing": {"supplier": 3, "version": 1, "purl": 3},
                                "denied": 1}
    assert [item["license"] for item in found["licenses"]] == [
        "(LGPL-2.0-only OR LicenseRef-3)", "Apache-2.0", "MPL-1.0"]
    assert found["denied"][0]["name"] == "glibc"
    assert found["describes"]["ref"] == "SPDXRef-Package-image"
    assert (found["describes"]["sha256"], found["describes"]["sha256_from"]) == (IMAGE, "hash")
    assert found["document"]["tools"] == ["syft-1.4.1"]


def test_spdx_tag_value_reads_as_the_same_document() -> None:
    as_json = parse("spdx-2.3.spdx.json")
    as_tags = parse("spdx-2.3.spdx")
    assert as_tags["encoding"] == "tag-value"
    same = ("summary", "licenses", "denied", "describes", "document", "missing_examples",
            "spec_version", "validation")
    assert {k: as_tags[k] for k in same} == {k: as_json[k] for k in same}


def test_agrees_with_spdx_tools() -> None:
    from spdx_tools.spdx.parser.parse_anything import parse_file as spdx_parse
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    for name in ("spdx-2.3.spdx.json", "spdx-2.3.spdx"):
        document = spdx_parse(str(FIXTURES / name))
        assert validate_full_spdx_document(document) == []
        assert parse(name)["summary"]["components"] == len(document.packages)


def _spdx(tmp_path: Path, packages: list[dict[str, Any]], *, name: str = "s.json",
          **extra: Any) -> Path:
    document = {"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0",
                "SPDXID": "SPDXRef-DOCUMENT", "name": "doc",
                "documentNamespace": "https://example.com/doc-1",
                "creationInfo": {"created": "2024-01-01T00:00:00Z",
                                 "creators": ["Tool: test"]},
                "packages": packages, **extra}
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def _package(spdx_id: str, **fields: Any) -> dict[str, Any]:
    return {"SPDXID": f"SPDXRef-{spdx_id}", "name": spdx_id, "downloadLocation": "NOASSERTION",
            **fields}


def test_spdx_described_after_its_package_is_read_again(tmp_path: Path) -> None:
    """syft's layout: relationships after the packages, the described one without a
    checksum: a second reading finds it."""
    path = _spdx(tmp_path, [_package("lib"), _package("image", versionInfo="1.0")],
                 relationships=[{"spdxElementId": "SPDXRef-image",
                                 "relationshipType": "DESCRIBED_BY",
                                 "relatedSpdxElement": "SPDXRef-DOCUMENT"}])
    found = parse_file(path)
    assert found["describes"] == {"name": "image", "version": "1.0", "type": None, "purl": None,
                                  "ref": "SPDXRef-image", "sha256": None, "sha256_from": None}
    assert found["summary"]["components"] == 2  # counted once, not once a reading


def test_spdx_described_element_that_is_no_package(tmp_path: Path) -> None:
    path = _spdx(tmp_path, [_package("lib")], documentDescribes=["SPDXRef-File-x"])
    assert parse_file(path)["describes"]["ref"] == "SPDXRef-File-x"
    assert parse_file(_spdx(tmp_path, [_package("lib")]))["describes"] is None


def test_spdx_2_2_is_read(tmp_path: Path) -> None:
    path = _spdx(tmp_path, [_package("lib", licenseConcluded="MIT")])
    path.write_text(path.read_text().replace("SPDX-2.3", "SPDX-2.2"))
    assert parse_file(path)["spec_version"] == "2.2"


@pytest.mark.parametrize(("package", "needle"), [
    ({"SPDXID": "Package-1", "name": "x", "downloadLocation": "NONE"},
     "packages[0]: package SPDXID 'Package-1' is not SPDXRef-"),
    ({"SPDXID": "SPDXRef-1", "downloadLocation": "NONE"}, "packages[0]: package SPDXRef-1 has "
     "no name"),
    ({"SPDXID": "SPDXRef-1", "name": "x"}, "has no downloadLocation"),
    (_package("x", licenseConcluded="MIT OR"), "licenseConcluded 'MIT OR' is not an SPDX "
     "licence expression"),
    (_package("x", licenseDeclared="Apache 2"), "not on the SPDX licence list"),
    (_package("x", supplier="Acme"), "supplier 'Acme' is not NOASSERTION"),
    (_package("x", checksums=[{"algorithm": "SHA256", "checksumValue": "abc"}]),
     "SHA256 checksum 'abc' is not 64 hex digits"),
])
def test_spdx_invalid_packages_are_refused(tmp_path: Path, package: dict[str, Any],
                                           needle: str) -> None:
    message = refused(_spdx(tmp_path, [package]), "not valid SPDX", needle)
    assert "line 1 column" in message


@pytest.mark.parametrize(("change", "needle"), [
    (("SPDX-2.3", "SPDX-3.0"), "unknown spdxVersion 'SPDX-3.0'"),
    (("CC0-1.0", "MIT"), "dataLicense is 'MIT', not CC0-1.0"),
    (('"SPDXID": "SPDXRef-DOCUMENT"', '"SPDXID": "SPDXRef-DOC"'), "not SPDXRef-DOCUMENT"),
    (('"name": "doc", ', ""), "the document has no name"),
    (('"creators": ["Tool: test"]', '"creators": []'), "names no creator"),
])
def test_spdx_invalid_documents_are_refused(tmp_path: Path, change: tuple[str, str],
                                            needle: str) -> None:
    path = _spdx(tmp_path, [_package("lib")])
    path.write_text(path.read_text().replace(*change))
    refused(path, needle)


@pytest.mark.parametrize(("text", "needle"), [
    ("SPDXVersion: SPDX-2.3\nDataLicence: CC0-1.0\n", "line 2: unknown tag 'DataLicence'"),
    ("SPDXVersion: SPDX-2.3\njust words\n", "line 2: not a 'Tag: value' line"),
    ("SPDXVersion: SPDX-2.3\nDocumentComment: <text>cut off\nhere\n",
     "line 2: the <text> block of DocumentComment is never closed (truncated?)"),
    ("SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n",
     "the document has no name"),
])
def test_spdx_tag_value_refusals(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "doc.spdx"
    path.write_text(text)
    refused(path, "not valid SPDX tag-value", needle)


def test_spdx_tag_value_line_too_long(tmp_path: Path) -> None:
    path = tmp_path / "doc.spdx"
    path.write_text("SPDXVersion: SPDX-2.3\nDocumentComment: " + "x" * (1 << 21) + "\n")
    refused(path, "line 2 is longer than 1 MiB")


# ---------------------------------------------------------------------------- detection


def _comp(name: str, **fields: Any) -> dict[str, Any]:
    return {"type": "library", "name": name, **fields}


def _cdx(tmp_path: Path, components: list[dict[str, Any]], *, version: str = "1.6",
         first: bool = True, name: str = "bom.json") -> Path:
    head = {"bomFormat": "CycloneDX", "specVersion": version}
    body = {"components": components}
    document = {**head, **body} if first else {**body, **head}
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_format_comes_from_content_not_the_file_name(tmp_path: Path) -> None:
    shown = tmp_path / "report.xml"
    shown.write_bytes((FIXTURES / "spdx-2.3.spdx.json").read_bytes())
    assert parse_file(shown)["format"] == "spdx"
    shown = tmp_path / "sbom.spdx.json"
    shown.write_bytes((FIXTURES / "cyclonedx-1.5.xml").read_bytes())
    assert parse_file(shown)["encoding"] == "xml"


def test_spec_version_after_the_components_is_read_again(tmp_path: Path) -> None:
    path = _cdx(tmp_path, [_comp("a"), _comp("b", licenses=[{"license": {"id": "MIT"}}])],
                first=False)
    found = parse_file(path)
    assert (found["spec_version"], found["summary"]["components"]) == ("1.6", 2)
    bad = _cdx(tmp_path, [_comp("a", type="gadget")], first=False, name="bad.json")
    refused(bad, "not valid CycloneDX 1.6 (bom-1.6.schema.json): components[0].type: "
                 "\"gadget\" is not one of")


def test_byte_order_mark_and_keys_before_the_format(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json", "bomFormat": "CycloneDX",
        "specVersion": "1.5", "components": [_comp("a")]}).encode())
    assert parse_file(path)["spec_version"] == "1.5"


@pytest.mark.parametrize(("content", "needles"), [
    (b"", ("empty file",)),
    (b"   \n", ("empty file",)),
    (b"hello world", ("not CycloneDX (JSON or XML) or SPDX", "'hello world'")),
    (b"[1, 2]", ("a JSON array",)),
    (b'{"foo": 1}', ("JSON, but not CycloneDX",)),
    (b'{"name": 1}', ("not valid SPDX: name: name is not a string",)),
    (b'{"bomFormat": "SPDX", "specVersion": "1.6"}', ('bomFormat is "SPDX", not "CycloneDX"',
                                                       "line 1 column 15")),
    (b'{"bomFormat": "CycloneDX", "specVersion": "1.7"}',
     ('unknown CycloneDX specVersion "1.7" (read: 1.4, 1.5, 1.6)',)),
    (b'{"bomFormat": "CycloneDX", "specVersion": 1.6}', ("unknown CycloneDX specVersion 1.6",)),
    (b'{"specVersion": "1.6", "components": []}', ('no "bomFormat"',)),
    (b'{"bomFormat": "CycloneDX", "components": []}', ('without a "specVersion"',)),
    (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "lib',
     ("the document ends early (truncated?)",)),
    (b'{"bomFormat": "CycloneDX", "bomFormat": "CycloneDX", "specVersion": "1.6"}',
     ('duplicate key "bomFormat"',)),
    (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": "nope"}',
     ("not valid CycloneDX 1.6", "serialNumber:")),
    (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library", '
     b'"name": "x", "licenses": [{"license": {"id": "Not-A-Licence"}}]}]}',
     ("components[0].licenses: ", "is not valid under any of the schemas")),
    (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library", '
     b'"name": "x", "licenses": [{"expression": "MIT AND"}]}]}',
     ("components[0].licenses[0].expression: 'MIT AND' is not an SPDX licence expression",)),
    (b"<?xml version='1.0'?><report/>", ("XML, but not a CycloneDX BOM: its root is <report>",)),
    (b'<bom xmlns="http://cyclonedx.org/schema/bom/1.2"/>',
     ("unknown CycloneDX version '1.2'",)),
    (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
     ("SPDX as RDF/XML is not read",)),
    (b'<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components>',
     ("ends before the XML document is complete",)),
    (b'<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components><component '
     b'type="gadget"><name>x</name></component></components></bom>',
     ("not valid CycloneDX 1.6 XML (bom-1.6.xsd)", "gadget")),
    (b'<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>\n'
     b'<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><metadata>&b;</metadata></bom>',
     ("has a DTD", "refused")),
    (b'<?xml version="1.0"?>\n<!DOCTYPE bom SYSTEM "file:///etc/passwd">\n<bom/>',
     ("has a DTD",)),
])
def test_hostile_and_wrong_files_are_refused_naming_the_file(
        tmp_path: Path, content: bytes, needles: tuple[str, ...]) -> None:
    path = tmp_path / "input"
    path.write_bytes(content)
    refused(path, *needles)


def test_xml_entities_are_refused_like_defusedxml(tmp_path: Path) -> None:
    """What defusedxml refuses (forbid_dtd), the reader refuses too."""
    import defusedxml.ElementTree as safe
    from defusedxml import DTDForbidden

    path = tmp_path / "bomb.xml"
    path.write_bytes(b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n'
                     b'<bom xmlns="http://cyclonedx.org/schema/bom/1.6">&lol;</bom>')
    with pytest.raises(DTDForbidden):
        safe.parse(path, forbid_dtd=True)
    refused(path, "has a DTD")


def test_a_fifo_or_a_directory_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    refused(fifo, "not a regular file")
    refused(tmp_path, "not a regular file")
    refused(tmp_path / "missing.json", "no such file")


def test_memory_is_bounded_by_a_component_not_the_file(tmp_path: Path) -> None:
    """The peak of Python allocations is the reader's buffers, whatever the number of
    components: four times the components (about 3 and 12 MB) cost no more."""
    import tracemalloc

    def peak(count: int) -> int:
        components = [_comp(f"p{i}", version="1.0", purl=f"pkg:pypi/p{i}@1.0",
                            description="x" * 150, licenses=[{"license": {"id": "MIT"}}])
                      for i in range(count)]
        path = _cdx(tmp_path, components, name=f"bom-{count}.json")
        parse_file(path)  # schemas loaded, caches filled
        tracemalloc.start()
        try:
            found = parse_file(path)
            high = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert found["summary"]["components"] == count
        return high

    small, large = peak(10_000), peak(40_000)
    assert large < small * 1.3 + (256 << 10), (small, large)
    assert large < (tmp_path / "bom-40000.json").stat().st_size / 2
