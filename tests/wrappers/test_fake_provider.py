"""The fake Bitbucket and Azure DevOps of ``fake_provider.py`` through the real CLI, in-process.

What the wrapper tests take for granted, checked once without a wrapper (and cheaply): for each
form the fake serves (Bitbucket Cloud and Data Center, Azure DevOps Services and Server), at
the base URL a user would give, ``attest pullrequest`` finds the pull request by the commit and
records exactly the story the fake tells (``recorded_bitbucket_pull``, ``recorded_azure_pull``,
written by hand), compliant with ``--require-approvals 1`` only when Grace approved the final
head; a token other than the fake's gets the provider's 401 (exit 3, in the provider's words).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Result
from tests.wrappers.fake_provider import (
    FakeProvider,
    recorded_azure_pull,
    recorded_bitbucket_pull,
)

TOKEN = "fake0provider0token0000"
FORMS = [pytest.param("bitbucket", False, id="bitbucket-cloud"),
         pytest.param("bitbucket", True, id="bitbucket-data-center"),
         pytest.param("azure", False, id="azure-services"),
         pytest.param("azure", True, id="azure-server")]
#: What the provider says of a token it refuses (its 401 body).
REFUSED = {"bitbucket": ("Token is invalid, expired, or not supported for this endpoint.",
                         "Authentication failed. Please check your credentials and try again."),
           "azure": ("TF400813: The user '' is not authorized",) * 2}


@pytest.fixture
def commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A checkout with one commit (the merge commit the fake serves), the working directory."""
    git = ["git", "-c", "user.name=CI", "-c", "user.email=ci@example.com"]
    subprocess.run([*git, "init", "-q", str(tmp_path)], check=True)
    subprocess.run([*git, "-C", str(tmp_path), "commit", "-q", "--allow-empty", "-m", "merge"],
                   check=True)
    monkeypatch.chdir(tmp_path)
    return subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


def _recorded(kind: str, merge_commit: str, **story: bool) -> dict[str, Any]:
    built = recorded_bitbucket_pull if kind == "bitbucket" else recorded_azure_pull
    return built(merge_commit, **story)


def _attest(cli: Callable[..., Result], fake: FakeProvider, commit: str) -> dict[str, Any]:
    got = cli("attest", "pullrequest", fake.kind, "--repository", fake.repository,
              "--base-url", fake.base_url, "--commit", commit, "--flow", "demo", "--trail",
              "t1", "--name", "pr", "--require-approvals", "1", "--max-wait", "0")
    assert got.code == 0, got.err
    read = cli("get", "attestation", "pr", "--flow", "demo", "--trail", "t1", "--output",
               "json")
    assert read.code == 0, read.err
    record: dict[str, Any] = json.loads(read.out)["record"]
    return record


@pytest.mark.parametrize("approved_head", [True, False], ids=["head-approved", "stale"])
@pytest.mark.parametrize(("kind", "self_hosted"), FORMS)
def test_the_cli_records_the_story_the_fake_tells(
        cli: Callable[..., Result], trail: tuple[str, str], commit: str,
        monkeypatch: pytest.MonkeyPatch, kind: str, self_hosted: bool,
        approved_head: bool) -> None:
    monkeypatch.setenv(f"AFFIDAVIT_{kind.upper()}_TOKEN", TOKEN)
    with FakeProvider(kind, commit, TOKEN, self_hosted=self_hosted,
                      approved_head=approved_head) as fake:
        record = _attest(cli, fake, commit)
    assert (record["type"], record["compliant"]) == ("pull_request", approved_head)
    predicate = record["statement"]["predicate"]
    assert {k: predicate[k] for k in ("provider", "base_url", "repository", "commit",
                                      "lookup", "policy")} == {
        "provider": kind, "base_url": fake.api_url, "repository": fake.repository,
        "commit": commit, "lookup": {"by": "commit", "polls": 1, "waited_seconds": 0.0},
        "policy": {"require_approvals": 1, "allow_stale_approvals": False}}
    assert predicate["pull_requests"] == [
        _recorded(kind, commit, approved_head=approved_head, self_hosted=self_hosted)]
    assert all(r["headers"]["authorization"] == fake.requests[0]["headers"]["authorization"]
               for r in fake.requests)


def test_azure_services_with_the_api_version_of_dev_azure_com(
        cli: Callable[..., Result], trail: tuple[str, str], commit: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process the local host can stand in for dev.azure.com: api-version 7.1, which the
    fake then asks for."""
    from affidavit.collect.pullrequests import azure

    monkeypatch.setattr(azure, "CLOUD_HOSTS", ("dev.azure.com", "127.0.0.1"))
    monkeypatch.setenv("AFFIDAVIT_AZURE_TOKEN", TOKEN)
    with FakeProvider("azure", commit, TOKEN, api_version="7.1") as fake:
        record = _attest(cli, fake, commit)
    assert record["compliant"] is True
    assert record["statement"]["predicate"]["pull_requests"] == [recorded_azure_pull(commit)]
    assert {r["query"].split("&")[0] for r in fake.requests} == {"api-version=7.1"}


@pytest.mark.parametrize(("kind", "self_hosted"), FORMS)
def test_another_token_gets_the_providers_401(
        cli: Callable[..., Result], commit: str, monkeypatch: pytest.MonkeyPatch, kind: str,
        self_hosted: bool) -> None:
    monkeypatch.setenv(f"AFFIDAVIT_{kind.upper()}_TOKEN", "not-" + TOKEN)
    with FakeProvider(kind, commit, TOKEN, self_hosted=self_hosted) as fake:
        got = cli("assert", "pullrequest", kind, "--repository", fake.repository,
                  "--base-url", fake.base_url, "--commit", commit, "--max-wait", "0")
    assert got.code == 3, got.out + got.err
    assert "HTTP 401" in got.err and REFUSED[kind][self_hosted] in got.err, got.err
    assert len(fake.requests) == 1  # a refused token is not retried
