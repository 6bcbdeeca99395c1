"""`attest vulns` end to end: Trivy and Grype reports through the CLI, the verdict and its
reasons, ``--ignore-unfixed`` flipping it, a template asking for ``type: vulns`` and the gate
that reads it, outputs, the schema, and bad input that records nothing.

The collector's own counting rules are tested in tests/collect/scans/test_vulns.py; here the
CLI's mapping is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FLOW, TRAIL
from tests.helpers import Cli, Home, Result, assert_error, state

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

FIXTURES = Path(__file__).resolve().parents[1] / "collect" / "scans" / "fixtures" / "vulns"

#: A Trivy report whose only critical vulnerability has no fix yet (``Status: affected``),
#: beside a fixable low one.
UNFIXED = json.dumps({"SchemaVersion": 2, "ArtifactName": "app:1", "ArtifactType":
                      "container_image", "Results": [{
                          "Target": "app:1 (alpine 3.19.1)", "Class": "os-pkgs",
                          "Type": "alpine", "Vulnerabilities": [
                              {"VulnerabilityID": "CVE-2024-0001", "PkgName": "busybox",
                               "InstalledVersion": "1.36.1-r15", "Status": "affected",
                               "Severity": "CRITICAL", "Title": "busybox: no fix yet"},
                              {"VulnerabilityID": "CVE-2024-0002", "PkgName": "zlib",
                               "InstalledVersion": "1.3-r2", "FixedVersion": "1.3.1-r0",
                               "Status": "fixed", "Severity": "LOW",
                               "Title": "zlib: fixed upstream"}]}]})

TEMPLATE = """version: 1
trail:
  attestations:
    - name: container-vulns
      type: vulns
"""


def _json(result: Result) -> dict[str, Any]:
    assert result.code == 0, str(result)
    out: dict[str, Any] = json.loads(result.out)
    return out


def _on(name: str = "vulns") -> tuple[str, ...]:
    return ("--flow", FLOW, "--trail", TRAIL, "--name", name)


def test_trivy_report_counts_verdict_and_evidence(cli: Cli, trail: Any) -> None:
    report = FIXTURES / "trivy-image.json"
    out = _json(cli("attest", "vulns", *_on(), "--scan-results", report, "--output", "json"))
    record = out["entry"]["record"]
    statement = record["statement"]
    assert statement["predicateType"] == "https://affidavit.dev/predicate/vulns/v1"
    predicate = statement["predicate"]
    assert predicate["summary"]["by_severity"] == {"critical": 1, "high": 2, "medium": 1,
                                                   "low": 1, "none": 1}
    assert predicate["policy"] == {"fail_on": "high", "max_findings": None, "new_only": False,
                                   "ignore_unfixed": False}
    assert predicate["files"][0]["format"] == "trivy-json"
    assert record["compliant"] is False
    assert out["reasons"] == [
        "3 vulnerabilities at or above high (1 critical, 2 high), --fail-on high"]
    assert [e["name"] for e in record["evidence"]] == ["trivy-image.json"]
    assert record["type"] == "vulns"


def test_grype_report_is_detected_and_thresholds_apply(
        cli: Cli, trail: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    report = FIXTURES / "grype-image.json"
    out = _json(cli("attest", "vulns", *_on(), "--scan-results", report, "--fail-on",
                    "critical", "--no-attach", "--output", "json"))
    predicate = out["entry"]["record"]["statement"]["predicate"]
    assert predicate["files"][0]["format"] == "grype-json"
    assert predicate["sources"][0]["name"] == "registry.example.com/shop/api:1.4.2"
    assert out["entry"]["record"]["compliant"] is False
    assert "evidence" not in out["entry"]["record"]
    monkeypatch.setenv("AFFIDAVIT_FAIL_ON", "none")
    capped = _json(cli("attest", "vulns", *_on(), "--scan-results", report, "--format",
                       "grype", "--max-findings", "3", "--output", "json"))
    assert capped["reasons"] == [
        "4 vulnerabilities (1 critical, 1 high, 2 none), more than --max-findings 3"]
    relaxed = _json(cli("attest", "vulns", *_on(), "--scan-results", report,
                        "--max-findings", "4", "--output", "json"))
    assert relaxed["entry"]["record"]["compliant"] is True


def test_ignore_unfixed_flips_the_verdict(cli: Cli, trail: Any, files: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    report = files("trivy.json", UNFIXED)
    plain = _json(cli("attest", "vulns", *_on(), "--scan-results", report, "--output", "json"))
    assert plain["entry"]["record"]["compliant"] is False
    assert plain["reasons"] == [
        "1 vulnerability at or above high (1 critical), --fail-on high"]
    ignoring = _json(cli("attest", "vulns", *_on(), "--scan-results", report,
                         "--ignore-unfixed", "--output", "json"))
    record = ignoring["entry"]["record"]
    assert record["compliant"] is True and ignoring["reasons"] == []
    predicate = record["statement"]["predicate"]
    assert predicate["policy"]["ignore_unfixed"] is True
    assert predicate["summary"]["by_severity"]["critical"] == 1  # still recorded
    assert predicate["actionable"]["critical"] == 0
    monkeypatch.setenv("AFFIDAVIT_IGNORE_UNFIXED", "true")
    strict = _json(cli("attest", "vulns", *_on(), "--scan-results", report, "--fail-on", "low",
                       "--output", "json"))
    assert strict["reasons"] == [
        "1 fixable vulnerability at or above low (1 low), --fail-on low with --ignore-unfixed"]


def test_a_template_of_type_vulns_and_the_gate(cli: Cli, files: Any) -> None:
    template = files("template.yml", TEMPLATE)
    report = files("trivy.json", UNFIXED)
    assert cli("create", "flow", "shop", "--template-file", template).code == 0
    assert cli("begin", "trail", "c1", "--flow", "shop").code == 0
    missing = cli("assert", "trail", "c1", "--flow", "shop")
    assert missing.code == 1
    assert "  - trail: attestation 'container-vulns' (vulns) is missing" in missing.out

    args = ("attest", "vulns", "--flow", "shop", "--trail", "c1", "--name", "container-vulns",
            "--scan-results", report)
    assert cli(*args).code == 0
    gate = cli("assert", "trail", "c1", "--flow", "shop", "--output", "json")
    assert gate.code == 1
    doc = json.loads(gate.out)
    assert (doc["status"], doc["compliant"]) == ("NON_COMPLIANT", False)
    assert doc["reasons"] == ["trail: attestation 'container-vulns' is not compliant: "
                              "1 vulnerability at or above high (1 critical), --fail-on high"]

    assert cli(*args, "--ignore-unfixed").code == 0  # a later report of the name wins
    passed = cli("assert", "trail", "c1", "--flow", "shop")
    assert (passed.code, passed.out) == (0, "COMPLIANT: trail shop/c1\n")


def test_attest_with_assert_and_dry_run(cli: Cli, trail: Any, files: Any, home: Home) -> None:
    report = files("trivy.json", UNFIXED)
    before = state(home)
    dry = cli("attest", "vulns", *_on(), "--scan-results", report, "--dry-run", "--output",
              "json")
    assert dry.code == 0 and json.loads(dry.out)["entry"]["record"]["compliant"] is False
    assert state(home) == before
    failed = cli("attest", "vulns", *_on(), "--scan-results", report, "--assert")
    assert failed.code == 1
    recorded = cli("assert", "attestation", "vulns", "--flow", FLOW, "--trail", TRAIL)
    assert recorded.code == 1  # recorded first (not compliant), then exit 1
    assert recorded.out.startswith(f"NON_COMPLIANT: attestation {FLOW}/{TRAIL}/vulns")


def test_markdown_summary_lists_fixed_in_versions(cli: Cli, trail: Any) -> None:
    result = cli("attest", "vulns", *_on(), "--scan-results", FIXTURES / "trivy-image.json",
                 "--output", "markdown")
    assert result.code == 0
    assert result.out.startswith("### ❌ vulns (vulns): not compliant\n")
    assert "| Critical | High | Medium | Low | None |" in result.out
    assert "**First vulnerabilities**" in result.out
    assert "| Severity | Rule | Message | Location | Fixed in |" in result.out
    assert ("| critical | CVE-2021-44228 | log4j-core: Remote code execution in Log4j 2.x when "
            "logs contain an attacker-controlled string value | "
            "org.apache.logging.log4j:log4j-core@2.14.1 | 2.15.0, 2.12.2 |") in result.out
    assert "| low | CVE-2019-18276 |" in result.out and "5.2.15-2+b2 | - |" in result.out
    assert "- 3 vulnerabilities at or above high (1 critical, 2 high), --fail-on high\n" in (
        result.out)


def test_wrong_format_and_bad_reports_are_exit_2_and_record_nothing(
        cli: Cli, trail: Any, files: Any, home: Home) -> None:
    trivy_report = FIXTURES / "trivy-image.json"
    truncated = files("cut.json", trivy_report.read_text()[:5000])
    sarif = files("scan.sarif", json.dumps({"version": "2.1.0", "runs": []}))
    before = state(home)
    assert_error(cli("attest", "vulns", *_on(), "--scan-results", trivy_report, "--format",
                     "grype"), 2, str(trivy_report),
                 "--format grype, but this is Trivy JSON", "use --format trivy")
    assert_error(cli("attest", "vulns", *_on(), "--scan-results", truncated), 2, str(truncated),
                 "truncated")
    assert_error(cli("attest", "vulns", *_on(), "--scan-results", sarif), 2, str(sarif),
                 "not Trivy or Grype JSON")
    assert_error(cli("attest", "vulns", *_on(), "--scan-results", trivy_report, "--format",
                     "snyk"), 2, "--format", "invalid choice")
    assert_error(cli("attest", "vulns", *_on(), "--scan-results", FIXTURES / "none.json"), 2,
                 "none.json: no such file")
    assert_error(cli("attest", "vulns", *_on()), 2, "--scan-results")
    # the second file is bad: nothing of the first is recorded either
    assert_error(cli("attest", "vulns", *_on(), "--scan-results", trivy_report, truncated), 2,
                 str(truncated))
    assert state(home) == before


def test_schema_vulns(cli: Cli) -> None:
    schema = _json(cli("schema", "vulns"))
    assert schema["title"] == "VulnsPredicate"
    assert "ignore_unfixed" in schema["$defs"]["VulnsPolicy"]["properties"]
    extra = schema["$defs"]["VulnsFindingExtra"]["properties"]
    assert {"package", "version", "fixed_versions", "package_paths", "fixable"} <= set(extra)
