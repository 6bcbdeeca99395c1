"""What the CI summaries and errors say, as a newcomer reads them: an assert gives each failing
attestation's own reason, a name-bound attestation is about its artifact (not the trail), and a
directory fingerprinted as a file names the flag that fixes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import Cli, assert_error, ok

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

COMMIT = "c0ffee" * 6 + "abcd"
FAILING = (b'<testsuite tests="2"><testcase classname="a" name="ok"/><testcase classname="a" '
           b'name="bad"><failure message="no"/></testcase></testsuite>')
HIGH = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "scanner", "rules": [
    {"id": "R1", "properties": {"security-severity": "8.0"}}]}},
    "results": [{"ruleId": "R1", "level": "error", "message": {"text": "bad"}}]}]}


@pytest.fixture
def failing(cli: Cli, tmp_path: Path) -> None:
    """Trail demo/t1 with a failed JUnit run and a SARIF scan with one high finding."""
    ok(cli("create", "flow", "demo"))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))
    junit = tmp_path / "TEST-unit.xml"
    junit.write_bytes(FAILING)
    ok(cli("attest", "junit", "--flow", "demo", "--trail", "t1", "--name", "unit",
           "--results", junit))
    sarif = tmp_path / "scan.sarif"
    sarif.write_text(json.dumps(HIGH))
    ok(cli("attest", "sarif", "--flow", "demo", "--trail", "t1", "--name", "sast",
           "--scan-results", sarif))


def test_assert_trail_summary_says_why_each_attestation_fails(cli: Cli, failing: None,
                                                              tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    gate = cli("assert", "trail", "t1", "--flow", "demo", "--output", "markdown",
               "--summary-file", summary)
    assert gate.code == 1
    assert gate.out == summary.read_text().rstrip("\n") + "\n"
    assert gate.out.splitlines() == [
        "### ❌ trail demo/t1: NON_COMPLIANT",
        "",
        "- trail: attestation 'unit' is not compliant: 1 test failed, more than "
        "--max-failures 0",
        "- trail: attestation 'sast' is not compliant: 1 finding at or above high (1 high), "
        "--fail-on high",
    ]


def test_assert_attestation_and_json_carry_the_reason(cli: Cli, failing: None) -> None:
    gate = cli("assert", "attestation", "sast", "--flow", "demo", "--trail", "t1",
               "--output", "json")
    assert gate.code == 1
    assert json.loads(gate.out)["reasons"] == [
        "attestation 'sast' (entry 3) is not compliant: 1 finding at or above high (1 high), "
        "--fail-on high"]


def test_assert_artifact_says_why(cli: Cli, tmp_path: Path) -> None:
    ok(cli("create", "flow", "demo"))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))
    app = tmp_path / "app.bin"
    app.write_bytes(b"app")
    fingerprint = ok(cli("attest", "artifact", app, "--flow", "demo", "--trail", "t1",
                         "--name", "app", "--output", "json")).json()["entry"]["record"][
                             "fingerprint"]
    junit = tmp_path / "TEST-unit.xml"
    junit.write_bytes(FAILING)
    ok(cli("attest", "junit", "--flow", "demo", "--trail", "t1", "--name", "unit",
           "--results", junit, "--fingerprint", fingerprint))
    gate = cli("assert", "artifact", app)
    assert gate.code == 1
    assert gate.out.splitlines()[1] == (
        f"  - demo/t1: artifact {fingerprint[:12]}: attestation 'unit' is not compliant: "
        "1 test failed, more than --max-failures 0")


def test_a_generic_claim_is_not_explained_twice(cli: Cli) -> None:
    ok(cli("create", "flow", "demo"))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))
    ok(cli("attest", "generic", "--flow", "demo", "--trail", "t1", "--name", "review",
           "--compliant", "false"))
    gate = cli("assert", "trail", "t1", "--flow", "demo")
    assert gate.out.splitlines()[1:] == ["  - trail: attestation 'review' is not compliant"]


def test_name_bound_attestation_summary_names_its_artifact(cli: Cli) -> None:
    ok(cli("create", "flow", "demo"))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))
    summary = ok(cli("attest", "generic", "--flow", "demo", "--trail", "t1", "--name",
                     "app.review", "--commit", COMMIT, "--output", "markdown")).out
    assert f"| Subject | artifact app of commit {COMMIT[:12]} |" in summary
    trail_level = ok(cli("attest", "generic", "--flow", "demo", "--trail", "t1", "--name",
                         "review", "--output", "markdown")).out
    assert "| Subject | trail |" in trail_level


@pytest.mark.parametrize("command", [
    ("fingerprint", "{dir}", "--artifact-type", "file"),
    ("attest", "artifact", "{dir}", "--flow", "demo", "--trail", "t1", "--name", "app"),
])
def test_a_directory_as_a_file_names_the_flag(cli: Cli, tmp_path: Path,
                                              command: tuple[str, ...]) -> None:
    ok(cli("create", "flow", "demo"))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))
    (tmp_path / "dist").mkdir()
    args = [str(tmp_path / "dist") if part == "{dir}" else part for part in command]
    assert_error(cli(*args), 2, "is a directory", "--artifact-type dir")
