"""Approvals and decisions as evidence: four eyes, denials, requests, and waiting for them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import Cli, Home, Result

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

TEMPLATE = """\
version: 1
trail:
  attestations:
    - {name: release, type: approval, min_approvers: 2, distinct_from_author: true}
"""


@pytest.fixture
def trail(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Flow `rel` with the four-eyes template; trail `t` reports a commit authored by Ada."""
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {"GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.com",
           "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.com"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / "f").write_text("x")
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "c"], cwd=repo, check=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, text=True,
                         capture_output=True).stdout.strip()
    monkeypatch.chdir(repo)
    (tmp_path / "t.yml").write_text(TEMPLATE)
    assert cli("create", "flow", "rel", "--template-file", tmp_path / "t.yml").code == 0
    assert cli("begin", "trail", "t", "--flow", "rel").code == 0
    assert cli("attest", "artifact", "--fingerprint", "c" * 64, "--flow", "rel", "--trail", "t",
               "--name", "app", "--commit", sha).code == 0
    return sha


def _approve(cli: Cli, who: str, *extra: str) -> Result:
    return cli("attest", "approval", "--flow", "rel", "--trail", "t", "--name", "release",
               "--approver", who, *extra)


def _status(cli: Cli) -> tuple[str, list[str]]:
    doc = json.loads(cli("get", "trail", "t", "--flow", "rel", "--output", "json").out)
    return doc["status"], doc["verdict"]["reasons"]


def test_four_eyes_and_minimum_approvers(cli: Cli, trail: str) -> None:
    assert _approve(cli, "ada@example.com").code == 0  # the author: does not count
    assert _approve(cli, "bob").code == 0
    status, reasons = _status(cli)
    assert status == "INCOMPLETE"
    assert reasons == ["trail: approval 'release' needs 2 approvers other than the commit "
                       "author, has 1 (bob); ada@example.com authored the commit"]
    assert _approve(cli, "bob").code == 0  # the same person twice is still one approver
    assert _status(cli)[0] == "INCOMPLETE"
    assert _approve(cli, "carol", "--reason", "reviewed the diff").code == 0
    assert _status(cli) == ("COMPLIANT", [])
    denied = _approve(cli, "dave", "--deny", "--reason", "not on a Friday")
    assert denied.code == 0 and "NOT compliant" in denied.out
    assert _status(cli) == ("NON_COMPLIANT", ["trail: approval 'release' was denied by dave"])
    assert _approve(cli, "dave").code == 0  # dave changes his mind: his latest word counts
    assert _status(cli)[0] == "COMPLIANT"


def test_decision_records_the_control_and_why(cli: Cli, trail: str) -> None:
    result = cli("attest", "decision", "--flow", "rel", "--trail", "t", "--control", "CC-7.1",
                 "--compliant", "false", "--reason", "pen test overdue", "--output", "json")
    record = json.loads(result.out)["entry"]["record"]
    assert record["name"] == "CC-7.1" and record["compliant"] is False
    assert record["statement"]["predicate"] == {"control": "CC-7.1", "compliant": False,
                                                "reason": "pen test overdue"}
    missing = cli("attest", "decision", "--flow", "rel", "--trail", "t", "--control", "x",
                  "--compliant", "true")
    assert missing.code == 2 and "--reason" in missing.err


def test_request_then_only_requested_approvers_count(cli: Cli, trail: str) -> None:
    assert cli("request", "approval", "--flow", "rel", "--trail", "t", "--name", "deploy",
               "--approvers", "erin,frank", "--reason", "prod deploy").code == 0
    pending = cli("assert", "approval", "--flow", "rel", "--trail", "t", "--name", "deploy")
    assert pending.code == 1 and pending.out.startswith("PENDING: approval rel/t/deploy")
    assert cli("attest", "approval", "--flow", "rel", "--trail", "t", "--name", "deploy",
               "--approver", "mallory").code == 0
    assert cli("assert", "approval", "--flow", "rel", "--trail", "t", "--name",
               "deploy").code == 1
    assert cli("attest", "approval", "--flow", "rel", "--trail", "t", "--name", "deploy",
               "--approver", "frank").code == 0
    approved = cli("assert", "approval", "--flow", "rel", "--trail", "t", "--name", "deploy",
                   "--output", "json")
    assert approved.code == 0
    assert json.loads(approved.out)["approved_by"] == ["frank"]


def _waiter(home: Home, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "AFFIDAVIT_LEDGER": home.url, "AFFIDAVIT_CACHE_DIR": str(home.cache)}
    return subprocess.Popen([sys.executable, "-m", "affidavit", "assert", "approval", "--flow",
                             "rel", "--trail", "t", "--name", "deploy", "--wait", "--poll",
                             "0.1s", *extra], env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def test_wait_until_approved(cli: Cli, trail: str, home: Home) -> None:
    assert cli("request", "approval", "--flow", "rel", "--trail", "t", "--name", "deploy",
               "--approvers", "erin").code == 0
    waiter = _waiter(home, "--timeout", "60s")
    assert cli("attest", "approval", "--flow", "rel", "--trail", "t", "--name", "deploy",
               "--approver", "erin").code == 0
    out, err = waiter.communicate(timeout=60)
    assert waiter.returncode == 0, err
    assert out.startswith("APPROVED: approval rel/t/deploy")


def test_wait_ends_on_denial_or_timeout(cli: Cli, trail: str, home: Home) -> None:
    timed = _waiter(home, "--timeout", "0.3s")
    out, _ = timed.communicate(timeout=60)
    assert timed.returncode == 1 and out.startswith("TIMED_OUT: ")
    waiter = _waiter(home, "--timeout", "60s")
    assert cli("attest", "approval", "--flow", "rel", "--trail", "t", "--name", "deploy",
               "--approver", "erin", "--deny").code == 0
    out, _ = waiter.communicate(timeout=60)
    assert waiter.returncode == 1 and out.startswith("DENIED: ")
    bad = cli("assert", "approval", "--flow", "rel", "--trail", "t", "--name", "deploy",
              "--wait", "--timeout", "soon")
    assert bad.code == 2 and "--timeout" in bad.err
