"""Circuit breakers and trail history: `assert …`, `attest … --assert`, the verdict a dry run
would cause, `log trail`, and the questions across flows (`list … --without-type/--status`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import SHOP_TEMPLATE as TEMPLATE
from tests.helpers import Cli, Home, Result, state

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)


@pytest.fixture
def flow(cli: Cli, tmp_path: Path) -> dict[str, str]:
    template = tmp_path / "template.yml"
    template.write_text(TEMPLATE)
    assert cli("create", "flow", "shop", "--template-file", template).code == 0
    assert cli("begin", "trail", "c1", "--flow", "shop").code == 0
    artifact = tmp_path / "app.bin"
    artifact.write_bytes(b"the app\n")
    out = cli("attest", "artifact", artifact, "--flow", "shop", "--trail", "c1", "--name", "app",
              "--output", "json")
    assert out.code == 0
    return {"path": str(artifact), "fp": json.loads(out.out)["entry"]["record"]["fingerprint"]}


def _attest(cli: Cli, name: str, compliant: bool, *extra: Any) -> Result:
    return cli("attest", "generic", "--flow", "shop", "--trail", "c1", "--name", name,
               "--compliant", str(compliant).lower(), *extra)


def test_trail_goes_incomplete_non_compliant_compliant(cli: Cli, flow: dict[str, str]) -> None:
    first = cli("assert", "trail", "c1", "--flow", "shop")
    assert first.code == 1
    assert first.out.splitlines()[0] == "INCOMPLETE: trail shop/c1"
    assert "  - trail: attestation 'review' (generic) is missing" in first.out.splitlines()
    assert any("'unit'" in line and "is missing" in line for line in first.out.splitlines())

    assert _attest(cli, "unit", True, "--fingerprint", flow["fp"]).code == 0
    assert _attest(cli, "review", False).code == 0
    second = cli("assert", "trail", "c1", "--flow", "shop", "--output", "json")
    assert second.code == 1
    doc = json.loads(second.out)
    assert (doc["status"], doc["compliant"]) == ("NON_COMPLIANT", False)
    assert doc["reasons"] == ["trail: attestation 'review' is not compliant"]

    assert _attest(cli, "review", True).code == 0  # a later report of the same name wins
    third = cli("assert", "trail", "c1", "--flow", "shop")
    assert (third.code, third.out) == (0, "COMPLIANT: trail shop/c1\n")


def test_assert_artifact_by_fingerprint_or_path(cli: Cli, flow: dict[str, str]) -> None:
    assert _attest(cli, "unit", True, "--fingerprint", flow["fp"]).code == 0
    pending = cli("assert", "artifact", flow["fp"])
    assert pending.code == 1 and pending.out.startswith("INCOMPLETE: artifact ")
    assert "shop/c1: trail: attestation 'review' (generic) is missing" in pending.out
    assert _attest(cli, "review", True).code == 0
    by_path = cli("assert", "artifact", flow["path"], "--flow", "shop", "--output", "markdown")
    assert by_path.code == 0
    assert by_path.out == f"### ✅ artifact {flow['fp']}: COMPLIANT\n"


def test_assert_attestation(cli: Cli, flow: dict[str, str]) -> None:
    assert _attest(cli, "review", False).code == 0
    result = cli("assert", "attestation", "review", "--flow", "shop", "--trail", "c1")
    assert result.code == 1 and result.out.startswith("NON_COMPLIANT: attestation shop/c1/review")
    missing = cli("assert", "attestation", "nope", "--flow", "shop", "--trail", "c1")
    assert missing.code == 2 and "nope" in missing.err


def test_attest_with_assert_records_first_then_fails(cli: Cli, flow: dict[str, str],
                                                     home: Home) -> None:
    before = state(home)
    failed = _attest(cli, "review", False, "--assert")
    assert failed.code == 1
    assert state(home) != before  # recorded all the same
    passed = _attest(cli, "review", True, "--assert")
    assert passed.code == 0


def test_dry_run_shows_the_verdict_the_trail_would_have(cli: Cli, flow: dict[str, str],
                                                        home: Home) -> None:
    assert _attest(cli, "unit", True, "--fingerprint", flow["fp"]).code == 0
    before = state(home)
    would = _attest(cli, "review", True, "--dry-run", "--output", "json")
    assert would.code == 0
    assert json.loads(would.out)["trail_status"] == "COMPLIANT"
    text = _attest(cli, "review", False, "--dry-run")
    assert "dry run: trail shop/c1 would be NON_COMPLIANT" in text.err
    assert state(home) == before
    assert cli("assert", "trail", "c1", "--flow", "shop").code == 1  # still INCOMPLETE


def test_log_trail_lists_events_and_verdict_changes(cli: Cli, flow: dict[str, str]) -> None:
    assert _attest(cli, "unit", True, "--fingerprint", flow["fp"]).code == 0
    assert _attest(cli, "review", False).code == 0
    assert _attest(cli, "review", True).code == 0
    events = json.loads(cli("log", "trail", "c1", "--flow", "shop", "--output", "json").out)
    assert [(e["event"], e["detail"]) for e in events] == [
        ("trail begun", None),
        ("verdict changed", "- -> INCOMPLETE"),
        ("artifact reported", f"app {flow['fp']}"),
        ("attested", "unit (generic): compliant"),
        ("attested", "review (generic): not compliant"),
        ("verdict changed", "INCOMPLETE -> NON_COMPLIANT"),
        ("attested", "review (generic): compliant"),
        ("verdict changed", "NON_COMPLIANT -> COMPLIANT"),
    ]
    table = cli("log", "trail", "c1", "--flow", "shop")
    assert table.code == 0 and "verdict changed" in table.out


def test_questions_across_flows(cli: Cli, flow: dict[str, str], tmp_path: Path) -> None:
    assert cli("create", "flow", "scanned").code == 0
    assert cli("begin", "trail", "s1", "--flow", "scanned").code == 0
    sarif = tmp_path / "scan.sarif"
    sarif.write_text(json.dumps({"version": "2.1.0", "runs": [
        {"tool": {"driver": {"name": "x"}}, "results": []}]}))
    assert cli("attest", "sarif", "--flow", "scanned", "--trail", "s1", "--name", "sast",
               "--scan-results", sarif).code == 0
    flows = json.loads(cli("list", "flows", "--without-type", "sarif", "--output", "json").out)
    assert [f["name"] for f in flows] == ["shop"]
    assert flows[0]["last_trail"]["name"] == "c1"
    assert flows[0]["last_trail"]["status"] == "INCOMPLETE"
    incomplete = json.loads(cli("list", "trails", "--flow", "shop", "--status", "INCOMPLETE",
                                "--since", "7d", "--output", "json").out)
    assert [t["name"] for t in incomplete] == ["c1"]
    none = json.loads(cli("list", "trails", "--flow", "shop", "--status", "COMPLIANT",
                          "--output", "json").out)
    assert none == []
    future = json.loads(cli("list", "trails", "--flow", "shop", "--since", "2999-01-01",
                            "--output", "json").out)
    assert future == []
    bad = cli("list", "trails", "--flow", "shop", "--since", "last tuesday")
    assert bad.code == 2 and "--since" in bad.err


def test_get_trail_shows_the_latest_report_and_history_on_request(cli: Cli,
                                                                  flow: dict[str, str]) -> None:
    assert _attest(cli, "review", False).code == 0
    assert _attest(cli, "review", True).code == 0
    latest = cli("get", "trail", "c1", "--flow", "shop").out
    assert [line.split()[:4] for line in latest.splitlines()
            if " review " in line and line[0].isdigit()] == [
        ["4", "review", "generic", "yes"]]
    history = cli("get", "trail", "c1", "--flow", "shop", "--history").out
    assert [line.split()[:4] for line in history.splitlines()
            if " review " in line and line[0].isdigit()] == [
        ["3", "review", "generic", "no"], ["4", "review", "generic", "yes"]]
    doc = json.loads(cli("get", "trail", "c1", "--flow", "shop", "--output", "json").out)
    assert [(a["entry"], a["superseded"]) for a in doc["attestations"]] == [(3, True),
                                                                           (4, False)]


def test_summary_file_gets_the_markdown_whatever_the_output(
        cli: Cli, flow: dict[str, str], tmp_path: Path, home: Home) -> None:
    summary = tmp_path / "summary.md"
    out = _attest(cli, "review", False, "--output", "json", "--summary-file", summary)
    assert json.loads(out.out)["entry"]["record"]["name"] == "review"
    gate = cli("assert", "trail", "c1", "--flow", "shop", "--summary-file", summary)
    assert gate.code == 1 and gate.out.startswith("NON_COMPLIANT: ")
    text = summary.read_text()
    assert text.startswith("### ❌ review (generic): not compliant\n")
    assert "### ❌ trail shop/c1: NON_COMPLIANT" in text
    before = state(home)
    bad = _attest(cli, "review", True, "--summary-file", tmp_path / "missing-dir" / "s.md")
    assert bad.code == 2 and "--summary-file" in bad.err
    assert state(home) == before
