"""``attest jira`` end to end: keys from a real checkout's commit message and from the CI's
branch, looked up in a local server answering Jira's REST API with the fixtures of
tests/collect/jira/, the verdict from the judge and the trail's from its template, and nothing
written (no credential anywhere) on any error."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from affidavit.models.jira import JiraPredicate
from tests.cli.test_ci_defaults import GIT_ENV
from tests.collect.test_jira import BASIC, EMAIL, PAT, QUERY, TOKEN, fixture
from tests.helpers import Home, Result, assert_error, ok, state

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

MESSAGE = "ABC-1: show the right total\n\nAlso touches ABC-404 and UTF-8 decoding."


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """A checkout as the working directory; ``commit(message)`` commits and returns the SHA."""
    root = tmp_path / "repo"
    root.mkdir()
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, check=True, text=True,
                              capture_output=True).stdout.strip()

    git("init", "-q", "-b", "main")
    monkeypatch.chdir(root)

    def commit(message: str) -> str:
        (root / "app.txt").write_text(message)
        git("add", ".")
        git("commit", "-q", "-m", message)
        return git("rev-parse", "HEAD")

    return commit


@pytest.fixture
def jira(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The Jira's base URL, with Cloud credentials in the environment."""
    httpserver.no_handler_status_code = 599  # an unexpected request fails fast, unretried
    monkeypatch.setenv("AFFIDAVIT_JIRA_USERNAME", EMAIL)
    monkeypatch.setenv("AFFIDAVIT_JIRA_API_TOKEN", TOKEN)
    return httpserver.url_for("").rstrip("/")


def _serve(httpserver: HTTPServer, key: str, body: Any, status: int = 200,
           version: str = "3") -> None:
    httpserver.expect_request(f"/rest/api/{version}/issue/{key}", query_string=QUERY
                              ).respond_with_json(body, status=status)


def _serve_cloud(httpserver: HTTPServer) -> None:
    _serve(httpserver, "ABC-1", fixture("cloud_issue_ABC-1.json"))
    for missing in ("ABC-404", "UTF-8"):
        _serve(httpserver, missing, fixture("cloud_404.json"), 404)
    httpserver.expect_request("/rest/api/3/myself").respond_with_json({"accountId": "5b10"})


@pytest.fixture
def attest(cli: Callable[..., Result], jira: str) -> Callable[..., Result]:
    """Flow ``demo`` and trail ``t1``; returns ``attest jira`` against the Jira, v3."""
    ok(cli("create", "flow", "demo"))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))

    def run(*args: Any) -> Result:
        return cli("attest", "jira", "--flow", "demo", "--trail", "t1", "--name", "ticket",
                   "--jira-base-url", jira, "--jira-api", "3", *args)

    return run


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text and PAT not in text and BASIC.split()[1] not in text


def test_keys_of_the_commit_message_are_looked_up_and_recorded(
        attest: Callable[..., Result], repo: Callable[[str], str], httpserver: HTTPServer,
        cli: Callable[..., Result], home: Home, jira: str) -> None:
    sha = repo(MESSAGE)
    _serve_cloud(httpserver)
    result = ok(attest("--commit", sha, "--output", "json"))
    shown = result.json()
    record = shown["entry"]["record"]
    assert record["type"] == "jira" and record["compliant"] is True
    assert record["statement"]["predicateType"] == "https://affidavit.dev/predicate/jira/v1"
    predicate = record["statement"]["predicate"]
    JiraPredicate.model_validate(predicate)
    assert {k: predicate[k] for k in ("base_url", "api_version", "auth", "commit",
                                      "searched", "projects", "policy")} == {
        "base_url": jira, "api_version": "3", "auth": "basic", "commit": sha,
        "searched": {"message": True, "branch": "main", "given": []}, "projects": None,
        "policy": {"require_status": None}}
    assert [(i["key"], i["found_in"], i["found"], i["status"]) for i in predicate["issues"]] == [
        ("ABC-1", ["message"], True, {"name": "In Review", "category": "indeterminate"}),
        ("ABC-404", ["message"], False, None), ("UTF-8", ["message"], False, None)]
    assert shown["notes"] == [f"Jira {jira} (REST API 3): ABC-1 In Review, ABC-404 not found, "
                              "UTF-8 not found"]
    stored = ok(cli("get", "attestation", "ticket", "--flow", "demo", "--trail", "t1",
                    "--output", "json"))
    assert "ABC-404" in stored.out
    _no_secret(result.out, result.err, stored.out, home.db.read_bytes().decode("latin-1"))


def test_jira_project_leaves_look_alikes_out(attest: Callable[..., Result],
                                             repo: Callable[[str], str],
                                             httpserver: HTTPServer) -> None:
    sha = repo(MESSAGE)
    _serve(httpserver, "ABC-1", fixture("cloud_issue_ABC-1.json"))
    _serve(httpserver, "ABC-404", fixture("cloud_404.json"), 404)
    httpserver.expect_request("/rest/api/3/myself").respond_with_json({"accountId": "5b10"})
    predicate = ok(attest("--commit", sha, "--jira-project", "abc", "--output", "json")
                   ).json()["entry"]["record"]["statement"]["predicate"]
    assert [i["key"] for i in predicate["issues"]] == ["ABC-1", "ABC-404"]
    assert predicate["projects"] == ["ABC"]


def test_keys_in_the_branch_only(attest: Callable[..., Result], repo: Callable[[str], str],
                                 httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A GitHub pull-request build: the commit is the merge commit, whose message names no
    key; the source branch does."""
    sha = repo("Merge 1a2b3c into 4d5e6f")
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_SHA": sha,
                        "GITHUB_REF": "refs/pull/7/merge", "GITHUB_HEAD_REF": "feature/ABC-7-key",
                        "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "42"}.items():
        monkeypatch.setenv(name, value)
    _serve(httpserver, "ABC-7", fixture("cloud_issue_ABC-7_moved.json"))
    shown = ok(attest("--output", "json", "--require-status", "done")).json()
    record = shown["entry"]["record"]
    assert record["compliant"] is True and record["commit"]["sha"] == sha
    predicate = record["statement"]["predicate"]
    assert predicate["searched"] == {"message": True, "branch": "feature/ABC-7-key",
                                     "given": []}
    (issue,) = predicate["issues"]
    assert (issue["key"], issue["found_in"], issue["jira_key"]) == ("ABC-7", ["branch"], "OPS-3")
    assert shown["notes"] == [f"Jira {predicate['base_url']} (REST API 3): ABC-7 (now OPS-3) "
                              "Done"]


def test_a_redacted_branch_and_message_are_still_searched_but_not_recorded(
        attest: Callable[..., Result], repo: Callable[[str], str],
        httpserver: HTTPServer) -> None:
    sha = repo("ABC-1 fix")
    _serve(httpserver, "ABC-1", fixture("cloud_issue_ABC-1.json"))
    record = ok(attest("--commit", sha, "--redact-commit-info", "message", "branch",
                       "--output", "json")).json()["entry"]["record"]
    assert record["commit"]["message"] == "REDACTED"
    predicate = record["statement"]["predicate"]
    assert predicate["searched"] == {"message": True, "branch": "REDACTED", "given": []}
    assert [i["key"] for i in predicate["issues"]] == ["ABC-1"]
    assert "ABC-1 fix" not in json.dumps(record)


def test_no_key_at_all_is_not_compliant_and_assert_exits_1(
        attest: Callable[..., Result], repo: Callable[[str], str]) -> None:
    sha = repo("Tidy the README")
    result = attest("--commit", sha, "--assert")
    assert result.code == 1, str(result)
    assert "NOT compliant" in result.out
    assert ("  - no Jira issue key in the commit message or the branch 'main' (pattern "
            "'[A-Z][A-Z0-9_]+-[0-9]+')") in result.out


def test_given_keys_without_a_commit_and_require_status(
        attest: Callable[..., Result], httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no checkout, no commit: only what --issue gives
    _serve(httpserver, "ABC-1", fixture("cloud_issue_ABC-1.json"))
    result = attest("--issue", "abc-1", "--require-status", "Done", "Closed", "--assert")
    assert result.code == 1, str(result)
    assert ("  - no issue is in status 'Done' or 'Closed' (--require-status): ABC-1 is "
            "'In Review'") in result.out
    ok(attest("--issue", "ABC-1", "--require-status", "in review"))


def test_data_center_v2_with_a_pat_by_default_off_cloud(
        cli: Callable[..., Result], httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    httpserver.no_handler_status_code = 599
    ok(cli("create", "flow", "demo"))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))
    monkeypatch.setenv("AFFIDAVIT_JIRA_PAT", PAT)
    httpserver.expect_request("/jira/rest/api/2/issue/OPS-42", query_string=QUERY,
                              headers={"Authorization": f"Bearer {PAT}"}
                              ).respond_with_json(fixture("dc_issue_OPS-42.json"))
    result = ok(cli("attest", "jira", "--flow", "demo", "--trail", "t1", "--name", "ticket",
                    "--jira-base-url", httpserver.url_for("/jira"), "--issue", "OPS-42",
                    "--output", "markdown"))
    assert result.out.startswith("### ✅ ticket (jira): compliant\n")
    assert ("| Issue | Found in | Summary | Status | Type |\n|---|---|---|---|---|\n"
            "| OPS-42 | given | Upgrade the build agents | To Do | Story |\n") in result.out
    _no_secret(result.out, result.err)


def test_dry_run_looks_up_judges_and_writes_nothing(
        attest: Callable[..., Result], repo: Callable[[str], str], httpserver: HTTPServer,
        home: Home) -> None:
    sha = repo(MESSAGE)
    _serve_cloud(httpserver)
    before = state(home)
    result = ok(attest("--commit", sha, "--dry-run"))
    assert "dry run: attestation 'ticket' was not recorded: compliant" in result.err
    entry = json.loads(result.out[:result.out.rindex("}") + 1])
    assert entry["record"]["statement"]["predicate"]["issues"][0]["key"] == "ABC-1"
    assert state(home) == before
    _no_secret(result.out, result.err)


def test_a_refused_token_is_exit_3_and_writes_nothing(
        attest: Callable[..., Result], repo: Callable[[str], str], httpserver: HTTPServer,
        home: Home) -> None:
    sha = repo(MESSAGE)
    _serve(httpserver, "ABC-1", fixture("cloud_401.json"), 401)
    before = state(home)
    line = assert_error(attest("--commit", sha), 3, "Jira: the credentials (basic) were refused",
                        "--jira-username and --jira-api-token")
    _no_secret(line)
    assert state(home) == before


def test_429_then_200(attest: Callable[..., Result], httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/rest/api/3/issue/ABC-1", query_string=QUERY
                                      ).respond_with_response(Response(
                                          "", status=429, headers={"Retry-After": "0"}))
    httpserver.expect_ordered_request("/rest/api/3/issue/ABC-1", query_string=QUERY
                                      ).respond_with_json(fixture("cloud_issue_ABC-1.json"))
    ok(attest("--issue", "ABC-1", "--assert"))


@pytest.mark.parametrize(("args", "code", "needles"), [
    (("--jira-api-token", "x"), 2, ("--jira-username needs --jira-api-token",)),
    (("--issue", "not-a-key!"), 2, ("--issue: 'not-a-key!' is not a Jira issue key",)),
    (("--issue-pattern", "("), 2, ("--issue-pattern '(' is not a regular expression",)),
    (("--jira-project", "a-b"), 2, ("--jira-project: 'a-b' is not a Jira project key",)),
    (("--require-status", " "), 2, ("--require-status has an empty value",)),
])
def test_bad_flags_are_exit_2_before_any_lookup(attest: Callable[..., Result], home: Home,
                                                 args: tuple[str, ...], code: int,
                                                 needles: tuple[str, ...],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    if args[0] == "--jira-api-token":
        monkeypatch.delenv("AFFIDAVIT_JIRA_USERNAME")
        monkeypatch.delenv("AFFIDAVIT_JIRA_API_TOKEN")
        args = ("--jira-username", EMAIL)
    before = state(home)
    assert_error(attest(*args), code, *needles)
    assert state(home) == before


def test_a_template_slot_of_type_jira_gates_the_trail(
        cli: Callable[..., Result], files: Callable[..., Path], jira: str,
        repo: Callable[[str], str], httpserver: HTTPServer) -> None:
    template = files("template.yml", "version: 1\ntrail:\n  attestations:\n"
                                     "    - {name: ticket, type: jira}\n")
    ok(cli("create", "flow", "demo", "--template-file", template))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))
    attest = ("attest", "jira", "--flow", "demo", "--trail", "t1", "--name", "ticket",
              "--jira-base-url", jira, "--jira-api", "3")
    missing = cli("assert", "trail", "t1", "--flow", "demo")
    assert missing.code == 1, str(missing)
    sha = repo("Tidy the README")
    ok(cli(*attest, "--commit", sha))
    gate = cli("assert", "trail", "t1", "--flow", "demo")
    assert gate.code == 1, str(gate)
    assert ("attestation 'ticket' is not compliant: no Jira issue key in the commit message "
            "or the branch 'main'") in gate.out
    _serve(httpserver, "ABC-1", fixture("cloud_issue_ABC-1.json"))
    ok(cli(*attest, "--commit", repo("ABC-1 the fix")))
    ok(cli("assert", "trail", "t1", "--flow", "demo"))


def test_schema_jira_is_the_predicate_model(cli: Callable[..., Result]) -> None:
    schema = ok(cli("schema", "jira")).json()
    assert schema["title"] == "JiraPredicate"
    assert {"issues", "searched", "policy", "api_version"} <= set(schema["properties"])
