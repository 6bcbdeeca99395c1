"""CI detection feeding the CLI: trail, commit and origin URL default from the CI's variables,
commit details come from the checkout (cached), and `ci env` shows what was detected."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FLOW
from tests.helpers import Cli, Result

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

GIT_ENV = {"GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.com",
           "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.com",
           "GIT_AUTHOR_DATE": "2026-01-31T10:00:00Z", "GIT_COMMITTER_DATE": "2026-01-31T10:00:00Z"}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A checkout with one commit, as the working directory."""
    root = tmp_path / "repo"
    root.mkdir()
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, check=True, text=True,
                              capture_output=True).stdout.strip()

    git("init", "-q", "-b", "main")
    git("remote", "add", "origin", "git@github.com:acme/shop.git")
    (root / "app.txt").write_text("v1\n")
    git("add", ".")
    git("commit", "-q", "-m", "Add the app\n\nWith a body.")
    monkeypatch.chdir(root)
    return root, git("rev-parse", "HEAD")


@pytest.fixture
def github(repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """GitHub Actions' documented variables for a push build of the repo's commit."""
    sha = repo[1]
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_SHA": sha, "GITHUB_REF":
                        "refs/heads/main", "GITHUB_SERVER_URL": "https://github.com",
                        "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "42",
                        "GITHUB_RUN_ATTEMPT": "1", "GITHUB_ACTOR": "ada",
                        "GITHUB_REPOSITORY_ID": "7"}.items():
        monkeypatch.setenv(name, value)
    return sha


def _record(result: Result) -> dict[str, Any]:
    assert result.code == 0, str(result)
    record: dict[str, Any] = json.loads(result.out)["entry"]["record"]
    return record


def test_ci_env_reports_the_detected_build(cli: Cli, github: str) -> None:
    found = cli("ci", "env", "--output", "json").json()
    assert found["provider"] == "github"
    assert found["commit"] == github
    assert found["build_url"] == "https://github.com/acme/shop/actions/runs/42/attempts/1"
    table = cli("ci", "env")
    assert table.code == 0 and github in table.out


def test_ci_env_outside_ci(cli: Cli) -> None:
    assert cli("ci", "env", "--output", "json").json() is None
    assert cli("ci", "env").out == "no CI detected\n"


def test_trail_commit_and_origin_default_from_ci(cli: Cli, github: str) -> None:
    assert cli("create", "flow", FLOW).code == 0
    begun = cli("begin", "trail", "--flow", FLOW, "--output", "json")
    assert _record(begun)["name"] == github
    record = _record(cli("attest", "generic", "--flow", FLOW, "--name", "unit",
                         "--output", "json"))
    assert record["trail"] == github
    assert record["origin_url"] == "https://github.com/acme/shop/actions/runs/42/attempts/1"
    commit = record["commit"]
    assert commit["sha"] == github
    assert commit["author"] == "Ada Lovelace <ada@example.com>"
    assert commit["message"] == "Add the app\n\nWith a body."
    assert commit["repo_url"] == "https://github.com/acme/shop"
    assert commit["timestamp"] == "2026-01-31T10:00:00Z"
    assert commit["url"] == f"https://github.com/acme/shop/commit/{github}"


def test_explicit_flags_win_over_ci(cli: Cli, github: str) -> None:
    assert cli("create", "flow", FLOW).code == 0
    assert cli("begin", "trail", "mine", "--flow", FLOW).code == 0
    record = _record(cli("attest", "generic", "--flow", FLOW, "--trail", "mine", "--name",
                         "unit", "--origin-url", "https://ci.example/1", "--output", "json"))
    assert record["trail"] == "mine"
    assert record["origin_url"] == "https://ci.example/1"


def test_redact_commit_info(cli: Cli, github: str) -> None:
    assert cli("create", "flow", FLOW).code == 0
    assert cli("begin", "trail", "--flow", FLOW).code == 0
    record = _record(cli("attest", "generic", "--flow", FLOW, "--name", "unit",
                         "--redact-commit-info", "author,message", "--output", "json"))
    assert record["commit"]["author"] == "REDACTED"
    assert record["commit"]["message"] == "REDACTED"
    assert record["commit"]["sha"] == github
    bad = cli("attest", "generic", "--flow", FLOW, "--name", "unit",
              "--redact-commit-info", "password")
    assert bad.code == 2 and "password" in bad.err


def test_commit_outside_a_checkout_records_the_sha_only(cli: Cli, trail: Any, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "not-a-repo"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    sha = "a" * 40
    record = _record(cli("attest", "generic", "--flow", FLOW, "--trail", "t1", "--name", "u",
                         "--commit", sha, "--output", "json"))
    assert record["commit"] == {"sha": sha}
    short = cli("attest", "generic", "--flow", FLOW, "--trail", "t1", "--name", "u",
                "--commit", "abcdef1")
    assert short.code == 2 and "abbreviated" in short.err


def test_abbreviated_commit_is_expanded_from_the_checkout(cli: Cli, repo: tuple[Path, str]) -> None:
    assert cli("create", "flow", FLOW).code == 0
    assert cli("begin", "trail", "t1", "--flow", FLOW).code == 0
    record = _record(cli("attest", "generic", "--flow", FLOW, "--trail", "t1", "--name", "u",
                         "--commit", repo[1][:10], "--output", "json"))
    assert record["commit"]["sha"] == repo[1]


def test_evidence_package_defaults_to_the_builds_trail(cli: Cli, github: str,
                                                      tmp_path: Path) -> None:
    assert cli("create", "flow", FLOW).code == 0
    assert cli("begin", "trail", "--flow", FLOW).code == 0
    assert cli("begin", "trail", "other", "--flow", FLOW).code == 0
    out = tmp_path / "evidence.zip"
    done = cli("evidence", "package", "--flow", FLOW, "-o", out, "--output", "json")
    assert done.code == 0, done.err
    with zipfile.ZipFile(out) as package:
        manifest = json.loads(package.read("manifest.json"))
    assert manifest["scope"] == {"flow": FLOW, "trail": github, "fingerprint": None}


def test_begin_trail_needs_a_name_outside_ci(cli: Cli) -> None:
    assert cli("create", "flow", FLOW).code == 0
    result = cli("begin", "trail", "--flow", FLOW)
    assert result.code == 2 and "NAME" in result.err


def test_markdown_summary_of_a_generic_attestation(cli: Cli, trail: Any, files: Any) -> None:
    evidence = files("report.txt", b"fine\n")
    result = cli("attest", "generic", "--flow", FLOW, "--trail", "t1", "--name", "review",
                 "--compliant", "false", "--attachments", evidence, "--output", "markdown")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "### ❌ review (generic): not compliant"
    assert "- attestation 'review' is reported not compliant" in lines
    assert "| Evidence | report.txt |" in lines
    assert any(line.startswith("| Ledger entry | ") for line in lines)
