"""``attest sonar`` end to end: the CLI against a local server answering SonarQube's Web API
with the fixtures of tests/collect/sonar/webapi/, the verdict from the judge, a template's
``type: sonar`` slot deciding ``assert trail``, and nothing written (nor any token printed) on
an error or a dry run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from affidavit.collect.sonar import webapi
from affidavit.models.sonar import SonarPredicate
from tests.collect.sonar.test_webapi import (
    ANALYSIS,
    NEWEST,
    OLDEST,
    PROJECT,
    TASK,
    TOKEN,
    serve_gate,
    serve_page,
    serve_task,
)
from tests.helpers import Home, Result, assert_error, ok, state

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)


@pytest.fixture
def server(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)  # the commits are the fixtures', not this checkout's
    monkeypatch.setattr(webapi, "PAGE_SIZE", 2)
    for name in ("AFFIDAVIT_SONAR_URL", "SONAR_HOST_URL", "SONAR_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AFFIDAVIT_SONAR_TOKEN", TOKEN)
    httpserver.no_handler_status_code = 599  # an unexpected request fails fast, unretried
    return httpserver.url_for("/sonar")


@pytest.fixture
def report(server: str, tmp_path: Path) -> Path:
    """The report-task.txt the scanner CLI leaves in .scannerwork/."""
    path = tmp_path / ".scannerwork" / "report-task.txt"
    path.parent.mkdir()
    path.write_text(f"projectKey={PROJECT}\nserverUrl={server}\nserverVersion=10.7.0.96327\n"
                    f"dashboardUrl={server}/dashboard?id={PROJECT}\nceTaskId={TASK}\n"
                    f"ceTaskUrl={server}/api/ce/task?id={TASK}\n")
    return path


@pytest.fixture
def template(cli: Callable[..., Result], files: Callable[..., Path]) -> None:
    """Flow ``demo`` whose template wants a ``sonar`` attestation ``quality``; trail ``t1``."""
    path = files("template.yml", "version: 1\ntrail:\n  attestations:\n"
                                 "    - {name: quality, type: sonar}\n")
    ok(cli("create", "flow", "demo", "--template-file", path))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))


def attest(cli: Callable[..., Result], *args: Any) -> Result:
    return cli("attest", "sonar", "--flow", "demo", "--trail", "t1", "--name", "quality", *args)


def test_a_passed_gate_fills_the_template(cli: Callable[..., Result], template: None,
                                          report: Path, httpserver: HTTPServer) -> None:
    serve_task(httpserver, "task_pending.json", "task_success.json")
    serve_page(httpserver, 1, "analyses_page1.json", branch="main")
    serve_gate(httpserver, ANALYSIS, "project_status_ok.json")
    assert cli("assert", "trail", "t1", "--flow", "demo").code == 1  # nothing yet
    result = ok(attest(cli, "--commit", NEWEST, "--output", "json", "--assert"))
    shown = result.json()
    record = shown["entry"]["record"]
    assert (record["type"], record["compliant"]) == ("sonar", True)
    assert record["statement"]["predicateType"] == "https://affidavit.dev/predicate/sonar/v1"
    predicate = record["statement"]["predicate"]
    SonarPredicate.model_validate(predicate)
    assert predicate["lookup"]["polls"] == 2 and predicate["lookup"]["waited_seconds"] >= 1
    assert predicate["analysis"]["revision"] == NEWEST
    assert shown["notes"][0] == (f"sonar {PROJECT}: quality gate OK for analysis {ANALYSIS} "
                                 f"of revision {NEWEST[:12]} after 1 s and 2 lookups")
    assert TOKEN not in result.out + result.err
    ok(cli("assert", "trail", "t1", "--flow", "demo"))


def test_a_failed_gate_fails_the_trail(cli: Callable[..., Result], template: None,
                                       report: Path, httpserver: HTTPServer,
                                       files: Callable[..., Path]) -> None:
    serve_task(httpserver, "task_success.json")
    serve_page(httpserver, 1, "analyses_page1.json", branch="main")
    serve_gate(httpserver, ANALYSIS, "project_status_error.json")
    summary = files("summary.md")
    result = attest(cli, "--commit", NEWEST, "--report-task", report, "--assert",
                    "--summary-file", summary)
    assert result.code == 1, str(result)
    assert "NOT compliant" in result.out
    assert "  - new_coverage 61.2 < 80\n" in result.out
    text = summary.read_text()
    assert "### ❌ quality (sonar): not compliant" in text
    assert "| Quality gate | ERROR |" in text
    assert "| new_violations | GT | 0 | 14 | ERROR |" in text
    gate = cli("assert", "trail", "t1", "--flow", "demo")
    assert gate.code == 1, str(gate)
    assert "new_coverage 61.2 < 80" in gate.out


def test_a_dry_run_reads_the_gate_and_records_nothing(cli: Callable[..., Result],
                                                      template: None, report: Path,
                                                      httpserver: HTTPServer,
                                                      home: Home) -> None:
    serve_task(httpserver, "task_success.json")
    serve_page(httpserver, 1, "analyses_page1.json", branch="main")
    serve_gate(httpserver, ANALYSIS, "project_status_ok.json")
    before = state(home)
    result = ok(attest(cli, "--commit", NEWEST, "--dry-run"))
    assert "dry run: attestation 'quality' was not recorded: compliant" in result.err
    assert state(home) == before
    assert TOKEN not in result.out + result.err


def test_by_project_key_and_commit(cli: Callable[..., Result], template: None, server: str,
                                   httpserver: HTTPServer) -> None:
    serve_page(httpserver, 1, "analyses_page1.json")
    serve_page(httpserver, 2, "analyses_page2.json")
    serve_gate(httpserver, "AZ1hT4kM6zQw9eLp1yRc", "project_status_ok.json")
    result = ok(attest(cli, "--project-key", PROJECT, "--commit", OLDEST, "--sonar-url",
                       server, "--output", "json")).json()
    predicate = result["entry"]["record"]["statement"]["predicate"]
    assert predicate["lookup"]["by"] == "revision"
    assert predicate["analysis"]["id"] == "AZ1hT4kM6zQw9eLp1yRc"
    assert predicate["dashboard_url"] == f"{server}/dashboard?id={PROJECT}"
    ok(cli("assert", "trail", "t1", "--flow", "demo"))


def test_a_pending_analysis_past_max_wait_is_not_compliant(
        cli: Callable[..., Result], template: None, report: Path,
        httpserver: HTTPServer) -> None:
    serve_task(httpserver, "task_in_progress.json")
    result = attest(cli, "--commit", NEWEST, "--max-wait", "0", "--assert")
    assert result.code == 1, str(result)
    assert (f"the analysis task {TASK} was still IN_PROGRESS after 0 s (--max-wait): no "
            "quality gate yet") in result.out


def test_a_refused_token_is_exit_3_and_writes_nothing(
        cli: Callable[..., Result], template: None, report: Path, httpserver: HTTPServer,
        home: Home) -> None:
    httpserver.expect_request("/sonar/api/ce/task").respond_with_json(
        {"errors": [{"msg": "Authentication is required"}]}, status=401)
    before = state(home)
    line = assert_error(attest(cli, "--commit", NEWEST, "--sonar-token", "squ_wrong"), 3,
                        "token was refused", "Authentication is required", "--sonar-token")
    assert "squ_wrong" not in line
    assert httpserver.log[0][0].headers["Authorization"] == "Bearer squ_wrong"  # the flag wins
    assert state(home) == before


def test_an_unknown_project_is_exit_2(cli: Callable[..., Result], template: None, server: str,
                                      httpserver: HTTPServer) -> None:
    httpserver.expect_request("/sonar/api/project_analyses/search").respond_with_json(
        {"errors": [{"msg": "Component key 'octo-org_gadgets' not found"}]}, status=404)
    assert_error(attest(cli, "--project-key", "octo-org_gadgets", "--commit", NEWEST,
                        "--sonar-url", server), 2, "project 'octo-org_gadgets' was not found",
                 "--project-key")


def test_what_it_needs_is_said(cli: Callable[..., Result], template: None,
                               server: str) -> None:
    assert_error(attest(cli, "--commit", NEWEST), 2, "needs --report-task FILE",
                 "--project-key KEY")
    assert_error(attest(cli, "--project-key", PROJECT, "--commit", NEWEST), 2,
                 "needs --sonar-url")
    assert_error(attest(cli, "--project-key", PROJECT, "--sonar-url", server), 2,
                 "needs --commit")
    assert_error(attest(cli, "--project-key", PROJECT, "--commit", NEWEST, "--sonar-url",
                        server, "--branch", "main", "--pull-request", "7"), 2,
                 "--branch and --pull-request")


def test_a_report_of_another_project_is_refused(cli: Callable[..., Result], template: None,
                                                report: Path) -> None:
    assert_error(attest(cli, "--commit", NEWEST, "--project-key", "other", "--report-task",
                        report), 2, "--project-key 'other' is not the project of")


def test_the_schema_is_published(cli: Callable[..., Result]) -> None:
    schema = ok(cli("schema", "sonar")).json()
    assert {"quality_gate", "analysis", "lookup", "project_key"} <= set(schema["properties"])


def test_the_package_verifies_the_sonar_verdict_offline(
        cli: Callable[..., Result], template: None, report: Path, httpserver: HTTPServer,
        tmp_path: Path) -> None:
    serve_task(httpserver, "task_success.json")
    serve_page(httpserver, 1, "analyses_page1.json", branch="main")
    serve_gate(httpserver, ANALYSIS, "project_status_error.json")
    shown = attest(cli, "--commit", NEWEST, "--output", "markdown")
    assert shown.code == 0, str(shown)
    assert "| Dashboard |" in shown.out and "- new_coverage 61.2 &lt; 80" in shown.out
    package = tmp_path / "t1.zip"
    ok(cli("evidence", "package", "--flow", "demo", "--trail", "t1", "--out", package))
    key = ok(cli("ledger", "public-key")).out.strip()
    verified = ok(cli("verify", "package", package, "--public-key", key, "--output",
                      "json")).json()
    assert [(t["trail"], t["status"]) for t in verified["trails"]] == [("t1", "NON_COMPLIANT")]
