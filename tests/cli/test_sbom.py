"""`attest sbom` end to end: a template's ``type: sbom`` slot, the policy flags, the SBOM as
evidence, what it describes (said, bound only when asked), markdown, bad input, offline
verification.

The collector's reading of each format is tested in tests/collect/sbom; here the CLI's is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Home, Result, assert_error, ok, state

FIXTURES = Path(__file__).parents[1] / "collect" / "sbom" / "fixtures"
IMAGE = "a74f733635a19aefb1f73e5947cef59cd7440c6952ef0f03d09d974274cbd6df"


@pytest.fixture
def template(cli: Callable[..., Result], files: Callable[..., Path]) -> None:
    """Flow ``demo`` whose template wants an ``sbom`` attestation ``bom``; trail ``t1``."""
    path = files("template.yml", "version: 1\ntrail:\n  attestations:\n"
                                 "    - {name: bom, type: sbom}\n")
    ok(cli("create", "flow", "demo", "--template-file", path))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))


def attest(cli: Callable[..., Result], *args: Any) -> Result:
    return cli("attest", "sbom", "--flow", "demo", "--trail", "t1", "--name", "bom", *args)


def test_a_compliant_sbom_fills_the_template(cli: Callable[..., Result], template: None) -> None:
    assert cli("assert", "trail", "t1", "--flow", "demo").code == 1  # nothing yet
    sbom = FIXTURES / "cyclonedx-1.6.json"
    shown = ok(attest(cli, "--sbom-file", sbom, "--deny-license", "AGPL-3.0-only",
                      "--output", "json")).json()
    record = shown["entry"]["record"]
    assert (record["type"], record["compliant"]) == ("sbom", True)
    assert record["statement"]["predicateType"] == "https://affidavit.dev/predicate/sbom/v1"
    assert [e["name"] for e in record["evidence"]] == ["cyclonedx-1.6.json"]
    assert record["target"] == {"kind": "trail"}  # what it describes is not bound
    predicate = record["statement"]["predicate"]
    assert predicate["describes"]["sha256"] == IMAGE
    assert shown["notes"][1] == (f"it describes registry.example.com/shop sha256:{IMAGE}; not "
                                 f"bound to it: pass --fingerprint {IMAGE} to attest that "
                                 "artifact")
    assert shown["files_read"] == [str(sbom)]
    ok(cli("assert", "trail", "t1", "--flow", "demo"))


def test_policy_flags_fail_the_trail(cli: Callable[..., Result], template: None,
                                     files: Callable[..., Path]) -> None:
    summary = files("summary.md")
    result = attest(cli, "--sbom-file", FIXTURES / "spdx-2.3.spdx", "--deny-license",
                    "LGPL-2.0-only", "--require-field", "supplier", "--require-field", "purl",
                    "version", "--max-components-without-license", "1", "--assert",
                    "--summary-file", summary, "--no-attach")
    assert result.code == 1, str(result)
    assert "NOT compliant" in result.out
    assert ("  - 1 component of 5 with a denied licence (LGPL-2.0-only 1), --deny-license\n"
            in result.out)
    assert "  - 3 components of 5 without a supplier, --require-field supplier\n" in result.out
    assert "  - 1 component of 5 without a version, --require-field version\n" in result.out
    text = summary.read_text()
    assert "### ❌ bom (sbom): not compliant" in text
    assert "| 5 | 2 | 3 | 1 | 3 | 1 |" in text
    assert "| glibc | 2.11.1 | (LGPL-2.0-only OR LicenseRef-3) | LGPL-2.0-only |" in text
    assert "| Format | SPDX 2.3 (tag-value) |" in text
    gate = cli("assert", "trail", "t1", "--flow", "demo")
    assert gate.code == 1 and "--require-field supplier" in gate.out, str(gate)


def test_flags_from_the_environment(cli: Callable[..., Result], template: None,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFIDAVIT_SBOM_FILE", str(FIXTURES / "cyclonedx-1.5.xml"))
    monkeypatch.setenv("AFFIDAVIT_DENY_LICENSE", "GPL-3.0-only,AGPL-3.0-only")
    monkeypatch.setenv("AFFIDAVIT_REQUIRE_FIELD", "version")
    predicate = ok(attest(cli, "--output", "json")).json()["entry"]["record"]["statement"][
        "predicate"]
    assert predicate["policy"]["deny_license_ids"] == ["AGPL-3.0-only", "GPL-3.0-only"]
    assert predicate["policy"]["require_fields"] == ["version"]
    assert predicate["summary"]["denied"] == 1


def test_binding_to_the_described_image_is_the_users(cli: Callable[..., Result],
                                                     template: None) -> None:
    shown = ok(attest(cli, "--sbom-file", FIXTURES / "spdx-2.3.spdx.json", "--fingerprint",
                      IMAGE, "--output", "json")).json()
    assert shown["entry"]["record"]["target"] == {"kind": "artifact", "fingerprint": IMAGE}
    assert len(shown["notes"]) == 1
    other = "b" * 64
    shown = ok(attest(cli, "--sbom-file", FIXTURES / "spdx-2.3.spdx.json", "--fingerprint",
                      other, "--output", "json")).json()
    assert shown["notes"][1] == f"it describes sha256:{IMAGE}, not the --fingerprint given"


def test_bind_described_binds_the_digest_the_sbom_names(cli: Callable[..., Result],
                                                        template: None, home: Home,
                                                        files: Callable[..., Path]) -> None:
    shown = ok(attest(cli, "--sbom-file", FIXTURES / "cyclonedx-1.6.json", "--bind-described",
                      "--output", "json")).json()
    assert shown["entry"]["record"]["target"] == {"kind": "artifact", "fingerprint": IMAGE}
    assert len(shown["notes"]) == 1  # nothing to say about the binding: it is the described one
    before = state(home)
    assert_error(attest(cli, "--sbom-file", FIXTURES / "cyclonedx-1.6.json", "--bind-described",
                        "--fingerprint", "b" * 64), 2, "--bind-described", "--fingerprint")
    bare = files("bare.json", '{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1}')
    assert_error(attest(cli, "--sbom-file", bare, "--bind-described"), 2, str(bare),
                 "names no sha256 digest")
    assert state(home) == before


@pytest.mark.parametrize(("args", "needles"), [
    (("--sbom-file", "missing.json"), ("missing.json: no such file",)),
    (("--deny-license", "GPL3"), ("GPL3 is not on the SPDX licence list",)),
    (("--require-field", "owner"), ("invalid choice: 'owner'",)),
    (("--max-components-without-license", "-1"), ("--max-components-without-license",)),
])
def test_bad_input_is_exit_2_and_writes_nothing(cli: Callable[..., Result], template: None,
                                                home: Home, args: tuple[str, ...],
                                                needles: tuple[str, ...]) -> None:
    before = state(home)
    full = args if args[0] == "--sbom-file" else ("--sbom-file",
                                                  FIXTURES / "cyclonedx-1.6.json", *args)
    assert_error(attest(cli, *full), 2, *needles)
    assert state(home) == before


def test_a_hostile_sbom_is_exit_2_naming_it(cli: Callable[..., Result], template: None,
                                            files: Callable[..., Path], home: Home) -> None:
    before = state(home)
    bomb = files("bomb.xml", '<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY a "x">]>\n'
                             '<bom xmlns="http://cyclonedx.org/schema/bom/1.6">&a;</bom>')
    assert_error(attest(cli, "--sbom-file", bomb), 2, f"{bomb}: has a DTD")
    cut = files("cut.json", (FIXTURES / "cyclonedx-1.6.json").read_text()[:900])
    assert_error(attest(cli, "--sbom-file", cut), 2, f"{cut}: ", "truncated")
    assert state(home) == before


def test_dry_run_markdown_and_the_schema(cli: Callable[..., Result], template: None,
                                         home: Home) -> None:
    before = state(home)
    shown = ok(attest(cli, "--sbom-file", FIXTURES / "cyclonedx-1.4.json", "--dry-run",
                      "--output", "markdown", "--require-field", "supplier"))
    assert "### ❌ bom (sbom): not compliant" in shown.out
    assert "| Format | CycloneDX 1.4 (json) |" in shown.out
    assert "| Describes | " in shown.out and "sha256:" in shown.out
    assert "- 2 components of 3 without a supplier, --require-field supplier" in shown.out
    assert state(home) == before
    schema = ok(cli("schema", "sbom")).json()
    assert {"describes", "summary", "licenses", "policy"} <= set(schema["properties"])


def test_the_package_verifies_the_sbom_verdict_offline(cli: Callable[..., Result],
                                                       template: None, tmp_path: Path) -> None:
    ok(attest(cli, "--sbom-file", FIXTURES / "cyclonedx-1.6.json", "--deny-license", "MIT"))
    package = tmp_path / "t1.zip"
    ok(cli("evidence", "package", "--flow", "demo", "--trail", "t1", "--out", package))
    key = ok(cli("ledger", "public-key")).out.strip()
    verified = ok(cli("verify", "package", package, "--public-key", key, "--output",
                      "json")).json()
    assert [(t["trail"], t["status"]) for t in verified["trails"]] == [("t1", "NON_COMPLIANT")]
