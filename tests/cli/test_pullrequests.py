"""``attest pullrequest`` and ``assert pullrequest`` end to end: the CLI against a local server
answering GitHub's REST endpoints with the fixtures of tests/collect/pullrequests/github/, the
verdict from the judge, the trail's from its template, and nothing written on any error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from affidavit.models.pullrequests import PullRequestPredicate
from tests.collect.pullrequests.test_github import (
    C1,
    C3,
    LIST,
    REPO,
    ROOT,
    fixture,
    serve,
    serve_pull_1347,
)
from tests.helpers import Home, Result, assert_error, ok, state

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

REPOSITORY = "octo-org/widgets"


@pytest.fixture
def base(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)  # the commits are GitHub's, not this checkout's
    httpserver.no_handler_status_code = 599  # an unexpected request fails fast, unretried
    monkeypatch.setenv("AFFIDAVIT_GITHUB_TOKEN", "ghp_test")
    return httpserver.url_for(ROOT)


@pytest.fixture
def trail(cli: Callable[..., Result], files: Callable[..., Path]) -> Callable[..., Result]:
    """Flow ``demo`` and trail ``t1``; returns ``attest pullrequest github`` with the trail's
    flags."""
    ok(cli("create", "flow", "demo"))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))

    def attest(*args: Any) -> Result:
        return cli("attest", "pullrequest", "github", "--flow", "demo", "--trail", "t1",
                   "--name", "review", "--repository", REPOSITORY, *args)

    return attest


def _recorded(cli: Callable[..., Result]) -> dict[str, Any]:
    shown = ok(cli("get", "attestation", "review", "--flow", "demo", "--trail", "t1",
                   "--output", "json")).json()
    record: dict[str, Any] = shown["record"] if "record" in shown else shown["entry"]["record"]
    return record


def test_a_pull_request_by_number_is_recorded_whole(trail: Callable[..., Result], base: str,
                                                   httpserver: HTTPServer,
                                                   cli: Callable[..., Result]) -> None:
    serve_pull_1347(httpserver)
    result = ok(trail("--pr", "1347", "--base-url", base, "--output", "json")).json()
    assert result["notes"] == [f"pull request #1347 of {REPOSITORY}"]
    record = result["entry"]["record"]
    assert record["type"] == "pull_request" and record["compliant"] is True
    predicate = record["statement"]["predicate"]
    PullRequestPredicate.model_validate(predicate)
    assert record["statement"]["predicateType"] == (
        "https://affidavit.dev/predicate/pull-request/v1")
    (pull,) = predicate["pull_requests"]
    assert (pull["number"], pull["state"], pull["head"]["sha"]) == (1347, "merged", C3)
    assert [(r["reviewer"] and r["reviewer"]["login"], r["state"]) for r in pull["reviews"]] == [
        ("monalisa", "approved"), ("defunkt", "approved"), ("github-actions[bot]", "commented"),
        ("defunkt", "changes_requested"), ("pjhyett", "dismissed"), (None, "commented")]
    assert len(pull["commits"]) == 3
    assert predicate["lookup"] == {"by": "number", "polls": 1, "waited_seconds": 0.0}
    assert predicate["policy"] == {"require_approvals": None, "allow_stale_approvals": False}
    stored = _recorded(cli)
    assert stored["statement"]["predicate"]["pull_requests"][0]["number"] == 1347


def test_four_eyes_of_the_final_head_decides(trail: Callable[..., Result], base: str,
                                             httpserver: HTTPServer) -> None:
    serve_pull_1347(httpserver)
    result = trail("--pr", "1347", "--base-url", base, "--require-approvals", "1", "--assert")
    assert result.code == 1, str(result)
    assert "NOT compliant" in result.out
    assert (f"pull request #1347 has 0 approvals of its final head {C3[:12]} from people other "
            "than its authors, --require-approvals asks 1 (monalisa approved an older or "
            "unknown head; defunkt withdrew or had dismissed an approval)") in result.out


def test_stale_approvals_count_when_allowed(trail: Callable[..., Result], base: str,
                                            httpserver: HTTPServer) -> None:
    serve_pull_1347(httpserver)
    result = ok(trail("--pr", "1347", "--base-url", base, "--require-approvals", "1",
                      "--allow-stale-approvals", "--assert"))
    assert ": compliant" in result.out


def test_a_just_merged_pull_request_is_found_on_the_third_lookup(
        trail: Callable[..., Result], base: str, httpserver: HTTPServer) -> None:
    for _ in range(2):
        httpserver.expect_ordered_request(f"{ROOT}{REPO}/commits/{C3}/pulls",
                                          query_string=LIST).respond_with_json([])
    httpserver.expect_ordered_request(f"{ROOT}{REPO}/commits/{C3}/pulls", query_string=LIST
                                      ).respond_with_json([fixture("pull_1347.json")])
    serve_pull_1347(httpserver)
    result = ok(trail("--commit", C3, "--base-url", base, "--max-wait", "20"))
    assert (f"pull requests containing {C3[:12]} in {REPOSITORY}: #1347 after 3 s and 3 "
            "lookups") in result.out


def test_no_pull_request_after_the_wait_is_not_compliant(
        trail: Callable[..., Result], base: str, httpserver: HTTPServer,
        cli: Callable[..., Result]) -> None:
    serve(httpserver, f"{REPO}/commits/{C1}/pulls", [], query=LIST)
    result = trail("--commit", C1, "--base-url", base, "--max-wait", "0", "--assert")
    assert result.code == 1, str(result)
    assert f"no pull request contains commit {C1[:12]}" in result.out
    gate = cli("assert", "pullrequest", "github", "--repository", REPOSITORY, "--commit", C1,
               "--base-url", base, "--max-wait", "0")
    assert gate.code == 1, str(gate)
    assert gate.out.splitlines()[-2:] == [
        f"NON_COMPLIANT: pull request of github {REPOSITORY}",
        f"  - no pull request contains commit {C1[:12]}"]


def test_assert_pullrequest_passes_when_one_contains_the_commit(
        base: str, httpserver: HTTPServer, cli: Callable[..., Result], home: Home) -> None:
    serve(httpserver, f"{REPO}/commits/{C3}/pulls", [fixture("pull_1347.json")], query=LIST)
    serve_pull_1347(httpserver)
    result = ok(cli("assert", "pullrequest", "github", "--repository", REPOSITORY, "--commit",
                    C3, "--base-url", base, "--output", "json")).json()
    assert result["compliant"] is True
    assert [p["number"] for p in result["pull_requests"]] == [1347]
    assert not home.db.exists()  # a gate records nothing


def test_a_bad_token_is_exit_3_and_writes_nothing(trail: Callable[..., Result], base: str,
                                                  httpserver: HTTPServer, home: Home) -> None:
    serve(httpserver, f"{REPO}/pulls/1347", fixture("error_401.json"), status=401)
    before = state(home)
    assert_error(trail("--pr", "1347", "--base-url", base), 3, "token was refused",
                 "Bad credentials")
    assert state(home) == before


def test_an_unknown_repository_is_exit_2_and_writes_nothing(
        trail: Callable[..., Result], base: str, httpserver: HTTPServer, home: Home) -> None:
    serve(httpserver, f"/repos/octo-org/gadgets/commits/{C1}/pulls", fixture("error_404.json"),
          query=LIST, status=404)
    serve(httpserver, "/repos/octo-org/gadgets", fixture("error_404.json"), status=404)
    before = state(home)
    assert_error(trail("--commit", C1, "--base-url", base, "--repository", "octo-org/gadgets"),
                 2, "unknown repository 'octo-org/gadgets'")
    assert state(home) == before


def test_an_outage_is_exit_3_not_no_pull_request(trail: Callable[..., Result], base: str,
                                                 httpserver: HTTPServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFIDAVIT_HTTP_RETRIES", "1")
    serve(httpserver, f"{REPO}/commits/{C1}/pulls", {"message": "down"}, query=LIST,
          status=503)
    assert_error(trail("--commit", C1, "--base-url", base), 3, "failed after 1 attempts")


def test_a_pull_request_build_needs_no_lookup_flags(cli: Callable[..., Result], base: str,
                                                    httpserver: HTTPServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    serve_pull_1347(httpserver)
    ok(cli("create", "flow", "demo"))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))
    monkeypatch.delenv("AFFIDAVIT_GITHUB_TOKEN")
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/pull/1347/merge",
                        "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": base,
                        "GITHUB_TOKEN": "ghs_job", "GITHUB_SHA": C3}.items():
        monkeypatch.setenv(name, value)
    result = ok(cli("attest", "pullrequest", "github", "--flow", "demo", "--trail", "t1",
                    "--name", "review", "--output", "json")).json()
    assert result["entry"]["record"]["statement"]["predicate"]["lookup"]["by"] == "number"
    assert httpserver.log[0][0].headers["Authorization"] == "Bearer ghs_job"


def test_a_template_asks_for_approvals_of_the_final_head(
        cli: Callable[..., Result], files: Callable[..., Path], base: str,
        httpserver: HTTPServer) -> None:
    template = files("template.yml", "version: 1\ntrail:\n  attestations:\n"
                                     "    - {name: review, type: pull_request, "
                                     "min_approvers: 1}\n")
    ok(cli("create", "flow", "demo", "--template-file", template))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))
    serve_pull_1347(httpserver)
    attest = ("attest", "pullrequest", "github", "--flow", "demo", "--trail", "t1", "--name",
              "review", "--repository", REPOSITORY, "--pr", "1347", "--base-url", base)
    ok(cli(*attest))
    gate = cli("assert", "trail", "t1", "--flow", "demo")
    assert gate.code == 1, str(gate)
    assert ("trail: attestation 'review': pull request #1347 has 0 approvals of its final head "
            f"{C3[:12]} from people other than its authors, the template asks 1") in gate.out
    ok(cli(*attest, "--allow-stale-approvals"))
    ok(cli("assert", "trail", "t1", "--flow", "demo"))


def test_the_package_verifies_the_pull_request_verdict_offline(
        trail: Callable[..., Result], base: str, httpserver: HTTPServer,
        cli: Callable[..., Result], tmp_path: Path) -> None:
    serve_pull_1347(httpserver)
    ok(trail("--pr", "1347", "--base-url", base, "--require-approvals", "1"))
    package = tmp_path / "t1.zip"
    ok(cli("evidence", "package", "--flow", "demo", "--trail", "t1", "--out", package))
    key = ok(cli("ledger", "public-key")).out.strip()
    verified = ok(cli("verify", "package", package, "--public-key", key, "--output",
                      "json")).json()
    assert [(t["trail"], t["status"]) for t in verified["trails"]] == [("t1", "NON_COMPLIANT")]
