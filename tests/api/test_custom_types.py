"""Custom attestation types: schema and rules checked at creation, data checked against the
schema (bad data is exit 2), compliance by the rules, versions, templates and packages."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Cli, Home, Result, assert_error, rewrite_zip, state

SCHEMA = {"type": "object", "required": ["coverage"],
          "properties": {"coverage": {"type": "object",
                                      "properties": {"lines": {"type": "number"}}}}}


@pytest.fixture
def coverage(cli: Cli, tmp_path: Path) -> Path:
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    assert cli("create", "attestation-type", "coverage", "--schema", schema, "--rule",
               "coverage.lines >= 80", "--description", "line coverage").code == 0
    template = tmp_path / "template.yml"
    template.write_text("version: 1\ntrail:\n  attestations:\n"
                        "    - {name: cov, type: 'custom:coverage'}\n")
    assert cli("create", "flow", "f", "--template-file", template).code == 0
    assert cli("begin", "trail", "t", "--flow", "f").code == 0
    return tmp_path


def _data(folder: Path, lines: object) -> Path:
    path = folder / f"data-{lines}.json"
    path.write_text(json.dumps({"coverage": {"lines": lines}}))
    return path


def _attest(cli: Cli, data: Path, *extra: Any) -> Result:
    return cli("attest", "custom", "--flow", "f", "--trail", "t", "--name", "cov", "--type",
               "coverage", "--attestation-data", data, *extra)


def test_rules_decide_and_explain(cli: Cli, coverage: Path) -> None:
    low = _attest(cli, _data(coverage, 72.5), "--output", "json")
    doc = json.loads(low.out)
    record = doc["entry"]["record"]
    assert (record["type"], record["compliant"]) == ("custom:coverage", False)
    assert doc["reasons"] == [
        "rule 'coverage.lines >= 80' does not hold: coverage.lines >= 80: 72.5 is less than 80"]
    predicate = record["statement"]["predicate"]
    assert predicate["type_entry"] == 0 and predicate["data"] == {"coverage": {"lines": 72.5}}
    assert cli("assert", "trail", "t", "--flow", "f").code == 1
    assert _attest(cli, _data(coverage, 91)).code == 0
    assert cli("assert", "trail", "t", "--flow", "f").code == 0  # template slot custom:coverage


def test_data_not_matching_the_schema_is_exit_2(cli: Cli, coverage: Path, home: Home) -> None:
    before = state(home)
    assert_error(_attest(cli, _data(coverage, "ninety")), 2, "does not match type 'coverage'",
                 "coverage/lines")
    missing = coverage / "empty.json"
    missing.write_text("{}")
    assert_error(_attest(cli, missing), 2, "'coverage' is a required property")
    assert state(home) == before


def test_bad_types_are_refused_at_creation(cli: Cli, tmp_path: Path, home: Home) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "objekt"}))
    assert_error(cli("create", "attestation-type", "x", "--schema", schema), 2,
                 "not a valid JSON Schema")
    schema.write_text(json.dumps(SCHEMA))
    assert_error(cli("create", "attestation-type", "x", "--schema", schema, "--rule",
                     "coverage.lines >>= 3"), 2, "coverage.lines >>= 3", "position")
    assert_error(cli("attest", "custom", "--flow", "f", "--trail", "t", "--name", "n", "--type",
                     "nope", "--attestation-data", schema), 2, "nope")
    assert not home.db.exists() or state(home).entries == 0


def test_a_new_version_judges_new_reports_and_is_recorded(cli: Cli, coverage: Path) -> None:
    schema = coverage / "schema.json"
    assert cli("create", "attestation-type", "coverage", "--schema", schema, "--rule",
               "coverage.lines >= 70").code == 0
    doc = json.loads(_attest(cli, _data(coverage, 72.5), "--output", "json").out)
    assert doc["entry"]["record"]["compliant"] is True
    assert doc["entry"]["record"]["statement"]["predicate"]["type_entry"] == 3


def test_package_carries_the_type_and_verify_reruns_its_rules(
        cli: Cli, coverage: Path, tmp_path: Path) -> None:
    assert _attest(cli, _data(coverage, 72.5)).code == 0
    out = tmp_path / "p.zip"
    assert cli("evidence", "package", "--flow", "f", "--trail", "t", "-o", out).code == 0
    with zipfile.ZipFile(out) as zf:
        assert "entries/0.json" in zf.namelist()  # the type version that judged entry 3
    key = cli("ledger", "public-key").out.strip()
    assert cli("verify", "package", out, "--public-key", key).code == 0
    # The same package with the type version left out cannot be re-judged: refused.
    stripped = tmp_path / "stripped.zip"
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    manifest["entries"] = [i for i in manifest["entries"] if i != 0]
    rewrite_zip(out, stripped, drop=("entries/0.json", "proofs/0.json"),
                replace={"manifest.json": json.dumps(manifest).encode()})
    assert_error(cli("verify", "package", stripped, "--public-key", key), 3,
                 "the package does not hold")


def test_verify_reruns_scan_and_test_verdicts(cli: Cli, coverage: Path, tmp_path: Path) -> None:
    report = tmp_path / "TEST-x.xml"
    report.write_text('<testsuite name="s"><testcase name="a"><failure/></testcase></testsuite>')
    assert cli("attest", "junit", "--flow", "f", "--trail", "t", "--name", "unit",
               "--results", report).code == 0
    out = tmp_path / "p.zip"
    assert cli("evidence", "package", "--flow", "f", "--trail", "t", "-o", out).code == 0
    key = cli("ledger", "public-key").out.strip()
    assert cli("verify", "package", out, "--public-key", key).code == 0
