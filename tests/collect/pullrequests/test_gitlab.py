"""The GitLab provider against a local server answering GitLab's REST API v4 endpoints with
JSON written from GitLab's API reference (tests/collect/pullrequests/gitlab/SOURCES.md).

Every expected value below is written by hand from those fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from affidavit.collect.pullrequests import gitlab
from affidavit.collect.pullrequests.http import Api
from affidavit.errors import NotFoundError, ProviderError, UsageError

FIXTURES = Path(__file__).parent / "gitlab"
PROJECT = "/api/v4/projects/4211"
MR7 = f"{PROJECT}/merge_requests/7"

A1 = "a1f0c3e9b2d47f6a8c5e1b3d9f0a2c4e6b8d0f13"
B2 = "b2e1d4fa0c3568b7d9f2a4c6e8b0d2f4a6c8e025"
C3 = "c3d2e5fb1d4679c8eaf3b5d7f9c1e3a5b7d9f136"
F6 = "f6a5b8ce4a79acfb1d26e8a0c2f4b6d8e0ac1469"
OLD = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"

ALICE = {"login": "achen", "name": "Alice Chen", "type": "User"}
BOB = {"login": "bwright", "name": "Bob Wright", "type": "User"}
CAROL = {"login": "cdiaz", "name": "Carol Diaz", "type": "User"}
DAVE = {"login": "dnovak", "name": "Dave Novak", "type": "User"}
ERIN = {"login": "eokafor", "name": "Erin Okafor", "type": "User"}
FRANK = {"login": "fmueller", "name": "Frank Müller", "type": "User"}
MARTA = {"login": "mkowalski", "name": "Marta Kowalski", "type": "User"}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def connect(httpserver: HTTPServer, token: str | None = "glpat-sekrit",
            username: str | None = None) -> tuple[Api, list[float]]:
    waits: list[float] = []
    api = gitlab.connect(httpserver.url_for("/api/v4"), token, username)
    api.sleep = waits.append
    return api, waits


def pages(httpserver: HTTPServer, path: str, bodies: list[Any],
          params: dict[str, str] | None = None) -> None:
    """``path`` answering ``bodies`` as GitLab's pages: ``page=N`` asks for page N (the first
    page is asked without it), and ``x-next-page`` names the next one, empty on the last."""
    for number, body in enumerate(bodies, start=1):
        query = {"per_page": "100", **(params or {})}
        if number > 1:
            query["page"] = str(number)
        last = number == len(bodies)
        headers = {"x-page": str(number), "x-per-page": "100",
                   "x-next-page": "" if last else str(number + 1),
                   "x-prev-page": "" if number == 1 else str(number - 1),
                   "x-total-pages": str(len(bodies))}
        httpserver.expect_request(path, query_string=query).respond_with_json(
            body, headers=headers)


def serve_mr(httpserver: HTTPServer, iid: int, *, merge_request: Any = None,
             commits: list[Any], notes: list[Any], versions: Any, approvals: Any,
             reviewers: Any) -> None:
    path = f"{PROJECT}/merge_requests/{iid}"
    httpserver.expect_request(path).respond_with_json(
        merge_request or fixture(f"merge_request_{iid}.json"))
    pages(httpserver, f"{path}/commits", commits)
    pages(httpserver, f"{path}/notes", notes, {"sort": "asc", "order_by": "created_at"})
    pages(httpserver, f"{path}/versions", [versions])
    httpserver.expect_request(f"{path}/approvals").respond_with_json(approvals)
    pages(httpserver, f"{path}/reviewers", [reviewers])


def serve_mr7(httpserver: HTTPServer, merge_request: Any = None) -> None:
    serve_mr(httpserver, 7, merge_request=merge_request,
             commits=[fixture("merge_request_7_commits_page1.json"),
                      fixture("merge_request_7_commits_page2.json")],
             notes=[fixture("merge_request_7_notes_page1.json"),
                    fixture("merge_request_7_notes_page2.json")],
             versions=fixture("merge_request_7_versions.json"),
             approvals=fixture("merge_request_7_approvals.json"),
             reviewers=fixture("merge_request_7_reviewers.json"))


def review(reviewer: dict[str, str] | None, state: str, at: str | None,
           commit: str | None) -> dict[str, Any]:
    return {"reviewer": reviewer, "state": state, "submitted_at": at, "commit": commit}


# -- the API root and the token --------------------------------------------------------------

def test_the_default_and_the_self_managed_api_roots() -> None:
    assert gitlab.DEFAULT_BASE_URL == "https://gitlab.com/api/v4"
    assert gitlab.connect(None, None, None).base_url == "https://gitlab.com/api/v4"
    assert (gitlab.connect("https://gitlab.example.com", None, None).base_url
            == "https://gitlab.example.com/api/v4")
    assert (gitlab.connect("https://gitlab.example.com/api/v4/", None, None).base_url
            == "https://gitlab.example.com/api/v4")
    assert (gitlab.connect("https://git.example.org/gitlab/", None, None).base_url
            == "https://git.example.org/gitlab/api/v4")


def test_a_self_managed_base_url_without_the_api_root_reaches_it(
        httpserver: HTTPServer) -> None:
    api = gitlab.connect(httpserver.url_for("/"), "glpat-sekrit", None)
    pages(httpserver, f"{PROJECT}/repository/commits/{C3}/merge_requests",
          [fixture("commit_merge_requests_page2.json")])
    assert gitlab.for_commit(api, "4211", C3) == [12]


def test_an_access_token_goes_in_private_token(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver, "glpat-sekrit", "someone")
    seen: list[Request] = []

    def answer(request: Request) -> Response:
        seen.append(request)
        return Response("[]", content_type="application/json")

    httpserver.expect_request(f"{PROJECT}/repository/commits/{C3}/merge_requests",
                              headers={"PRIVATE-TOKEN": "glpat-sekrit"}
                              ).respond_with_handler(answer)
    assert gitlab.for_commit(api, "4211", C3) == []
    assert "JOB-TOKEN" not in seen[0].headers and "Authorization" not in seen[0].headers


def test_a_ci_job_token_goes_in_job_token(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver, "glcbt-64-job", gitlab.JOB_TOKEN_USERNAME)
    seen: list[Request] = []

    def answer(request: Request) -> Response:
        seen.append(request)
        return Response("[]", content_type="application/json")

    httpserver.expect_request(f"{PROJECT}/repository/commits/{C3}/merge_requests",
                              headers={"JOB-TOKEN": "glcbt-64-job"}
                              ).respond_with_handler(answer)
    assert gitlab.for_commit(api, "4211", C3) == []
    assert "PRIVATE-TOKEN" not in seen[0].headers


def test_without_a_token_no_auth_header_is_sent(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver, None)
    pages(httpserver, f"{PROJECT}/repository/commits/{C3}/merge_requests", [[]])
    assert gitlab.for_commit(api, "4211", C3) == []
    request = httpserver.log[0][0]
    assert "PRIVATE-TOKEN" not in request.headers and "JOB-TOKEN" not in request.headers


# -- the merge requests of a commit -----------------------------------------------------------

def test_every_page_of_the_merge_requests_of_a_commit(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    pages(httpserver, f"{PROJECT}/repository/commits/{C3}/merge_requests",
          [fixture("commit_merge_requests_page1.json"),
           fixture("commit_merge_requests_page2.json")])
    assert gitlab.for_commit(api, "4211", C3) == [7, 9, 12]


def test_a_project_path_is_one_url_encoded_segment(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    # the server decodes %2F before matching, so the path it matches has slashes
    pages(httpserver, f"/api/v4/projects/acme/platform/payments/repository/commits/{C3}"
                      "/merge_requests", [fixture("commit_merge_requests_page2.json")])
    assert gitlab.for_commit(api, "acme/platform/payments", C3) == [12]
    sent = httpserver.log[0][0].environ["REQUEST_URI"]
    assert sent.startswith(f"/api/v4/projects/acme%2Fplatform%2Fpayments/repository/commits/"
                           f"{C3}/merge_requests?")


def test_a_commit_gitlab_does_not_know_yet_is_no_merge_request(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    httpserver.expect_request(f"{PROJECT}/repository/commits/{F6}/merge_requests"
                              ).respond_with_json(fixture("error_404_commit.json"), status=404)
    httpserver.expect_request(PROJECT).respond_with_json(fixture("project.json"))
    assert gitlab.for_commit(api, "4211", F6) == []


def test_an_unknown_repository_is_exit_2(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    missing = "/api/v4/projects/acme/platform/nope"
    httpserver.expect_request(f"{missing}/repository/commits/{C3}/merge_requests"
                              ).respond_with_json(fixture("error_404_project.json"), status=404)
    httpserver.expect_request(missing).respond_with_json(fixture("error_404_project.json"),
                                                         status=404)
    with pytest.raises(NotFoundError, match="unknown repository 'acme/platform/nope'") as caught:
        gitlab.for_commit(api, "acme/platform/nope", C3)
    assert caught.value.exit_code == 2


def test_with_a_job_token_the_project_is_checked_through_its_branches(
        httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver, "glcbt-64-job", gitlab.JOB_TOKEN_USERNAME)
    httpserver.expect_request(f"{PROJECT}/repository/commits/{F6}/merge_requests"
                              ).respond_with_json(fixture("error_404_commit.json"), status=404)
    httpserver.expect_request(f"{PROJECT}/repository/branches", query_string="per_page=1"
                              ).respond_with_json(fixture("branches.json"))
    assert gitlab.for_commit(api, "4211", F6) == []


def test_a_bad_token_is_exit_3_with_gitlabs_message(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver, "glpat-expired")
    httpserver.expect_request(f"{PROJECT}/repository/commits/{C3}/merge_requests"
                              ).respond_with_json(fixture("error_401.json"), status=401)
    with pytest.raises(ProviderError, match="401 Unauthorized") as caught:
        gitlab.for_commit(api, "4211", C3)
    assert caught.value.exit_code == 3


def test_rate_limited_then_answered_waits_as_retry_after_says(httpserver: HTTPServer) -> None:
    api, waits = connect(httpserver)
    path = f"{PROJECT}/repository/commits/{C3}/merge_requests"
    httpserver.expect_ordered_request(path).respond_with_data(
        (FIXTURES / "error_429.txt").read_text(), status=429,
        headers={"Retry-After": "1", "RateLimit-Limit": "2000", "RateLimit-Remaining": "0"})
    httpserver.expect_ordered_request(path).respond_with_json(
        fixture("commit_merge_requests_page2.json"), headers={"x-next-page": ""})
    assert gitlab.for_commit(api, "4211", C3) == [12]
    assert waits == [1.0]


def test_repository_must_be_a_project_path_or_id() -> None:
    api = gitlab.connect(None, None, None)
    for wrong in ("payments", "", "acme//payments", "/"):
        with pytest.raises(UsageError, match="not a GitLab project path"):
            gitlab.for_commit(api, wrong, C3)


# -- one merge request ------------------------------------------------------------------------

def test_a_merged_merge_request_with_every_commit_and_review(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    serve_mr7(httpserver)
    record = gitlab.get(api, "4211", 7)
    assert {key: value for key, value in record.items() if key not in ("reviews", "commits")
            } == {
        "provider": "gitlab",
        "url": "https://gitlab.example.com/acme/platform/payments/-/merge_requests/7",
        "number": 7, "title": "Refunds: partial refunds and currency checks",
        "state": "merged", "author": MARTA, "created_at": "2024-03-04T08:47:30.512Z",
        "merged_at": "2024-03-04T13:10:27.650Z",
        "head": {"ref": "feature/refunds", "sha": C3},
        "base": {"ref": "main", "sha": "e5b4a7bd3f689bea0c15d7f9b1e3a5c7d9fb0358"},
        "merge_commit": "d4c3f6ac2e578ad9fb04c6e8a0d2f4b6c8eaf247"}
    assert record["commits"] == [
        {"sha": A1, "author_name": "Alice Chen", "author_email": "alice.chen@acme.example",
         "author_login": None, "authored_at": "2024-03-04T09:41:05.000+01:00",
         "message": "Add refund model\n", "signature": {"verified": None, "state": None}},
        {"sha": B2, "author_name": "Marta Kowalski",
         "author_email": "marta.kowalski@acme.example", "author_login": None,
         "authored_at": "2024-03-04T11:01:12.000+01:00", "message": "Handle partial refunds\n",
         "signature": {"verified": None, "state": None}},
        {"sha": C3, "author_name": "Marta Kowalski",
         "author_email": "marta.kowalski@acme.example", "author_login": None,
         "authored_at": "2024-03-04T13:03:51.000+01:00",
         "message": "Address review: validate refund currency\n",
         "signature": {"verified": None, "state": None}}]
    assert record["reviews"] == [
        review(ALICE, "approved", "2024-03-04T09:15:48.120Z", A1),
        review(BOB, "approved", "2024-03-04T10:30:02.774Z", B2),
        review(BOB, "changes_requested", "2024-03-04T11:00:19.003Z", B2),
        review(CAROL, "approved", "2024-03-04T11:05:44.610Z", B2),
        review(CAROL, "dismissed", "2024-03-04T11:20:31.998Z", B2),
        review(DAVE, "approved", "2024-03-04T12:30:55.480Z", C3),
        review(ERIN, "approved", None, None),
        review(FRANK, "changes_requested", None, None)]


def test_an_approval_of_an_old_head_names_that_head(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    serve_mr7(httpserver)
    record = gitlab.get(api, "4211", 7)
    alice = [r for r in record["reviews"] if r["reviewer"] == ALICE]
    assert alice == [review(ALICE, "approved", "2024-03-04T09:15:48.120Z", A1)]
    assert record["head"]["sha"] == C3


def test_approval_then_changes_requested_by_one_reviewer_keeps_both_in_order(
        httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    serve_mr7(httpserver)
    bob = [r for r in gitlab.get(api, "4211", 7)["reviews"] if r["reviewer"] == BOB]
    assert [r["state"] for r in bob] == ["approved", "changes_requested"]


def test_an_unapproval_is_a_dismissed_review(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    serve_mr7(httpserver)
    carol = [r for r in gitlab.get(api, "4211", 7)["reviews"] if r["reviewer"] == CAROL]
    assert carol == [review(CAROL, "approved", "2024-03-04T11:05:44.610Z", B2),
                     review(CAROL, "dismissed", "2024-03-04T11:20:31.998Z", B2)]


def test_a_squash_merge_without_a_merge_commit_records_the_squash_commit(
        httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    squashed = {**fixture("merge_request_7.json"), "merge_commit_sha": None, "squash": True,
                "squash_commit_sha": "7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a"}
    serve_mr7(httpserver, squashed)
    assert (gitlab.get(api, "4211", 7)["merge_commit"]
            == "7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a")


def test_a_draft_by_a_deleted_account(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    serve_mr(httpserver, 9, commits=[fixture("merge_request_9_commits.json")], notes=[[]],
             versions=fixture("merge_request_9_versions.json"),
             approvals=fixture("merge_request_9_approvals.json"), reviewers=[])
    record = gitlab.get(api, "4211", 9)
    assert record["state"] == "draft"
    assert record["author"] is None
    assert record["merged_at"] is None and record["merge_commit"] is None
    assert record["head"] == {"ref": "feature/refunds-ui", "sha": F6}
    assert [c["sha"] for c in record["commits"]] == [C3, F6]
    assert record["reviews"] == []


def test_a_closed_one_by_a_bot_whose_approval_a_push_reset(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    serve_mr(httpserver, 12, commits=[fixture("merge_request_12_commits.json")],
             notes=[fixture("merge_request_12_notes.json")],
             versions=fixture("merge_request_12_versions.json"),
             approvals=fixture("merge_request_12_approvals.json"),
             reviewers=fixture("merge_request_12_reviewers.json"))
    record = gitlab.get(api, "4211", 12)
    assert record["state"] == "closed"
    assert record["author"] == {"login": "project_4211_bot_5e1c2d9a7b3f4e60",
                                "name": "payments-release-bot", "type": "Bot"}
    assert record["base"] == {"ref": "release/2024.03",
                              "sha": "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807"}
    assert record["reviews"] == [review(BOB, "approved", "2024-03-05T09:00:03.200Z", OLD),
                                 review(BOB, "dismissed", None, None)]


def test_without_the_approvals_endpoint_only_the_notes_speak(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    path = f"{PROJECT}/merge_requests/12"
    httpserver.expect_request(f"{path}/approvals").respond_with_json(
        {"message": "404 Not found"}, status=404)
    serve_mr(httpserver, 12, commits=[fixture("merge_request_12_commits.json")],
             notes=[fixture("merge_request_12_notes.json")],
             versions=fixture("merge_request_12_versions.json"), approvals={},
             reviewers=fixture("merge_request_12_reviewers.json"))
    assert gitlab.get(api, "4211", 12)["reviews"] == [
        review(BOB, "approved", "2024-03-05T09:00:03.200Z", OLD)]


def test_a_locked_merge_request_is_recorded_closed(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    locked = {**fixture("merge_request_12.json"), "state": "locked"}
    serve_mr(httpserver, 12, merge_request=locked,
             commits=[fixture("merge_request_12_commits.json")], notes=[[]],
             versions=fixture("merge_request_12_versions.json"),
             approvals=fixture("merge_request_12_approvals.json"), reviewers=[])
    assert gitlab.get(api, "4211", 12)["state"] == "closed"


def test_500_then_success(httpserver: HTTPServer) -> None:
    api, waits = connect(httpserver)
    httpserver.expect_ordered_request(MR7).respond_with_json(fixture("error_500.json"),
                                                             status=500)
    httpserver.expect_ordered_request(MR7).respond_with_json(fixture("merge_request_7.json"))
    serve_mr7(httpserver)
    assert gitlab.get(api, "4211", 7)["state"] == "merged"
    assert waits == [0.5]


def test_an_unknown_merge_request_is_exit_2(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    httpserver.expect_request(f"{PROJECT}/merge_requests/99").respond_with_json(
        fixture("error_404_merge_request.json"), status=404)
    httpserver.expect_request(PROJECT).respond_with_json(fixture("project.json"))
    with pytest.raises(NotFoundError, match="has no merge request !99") as caught:
        gitlab.get(api, "4211", 99)
    assert caught.value.exit_code == 2


def test_a_merge_request_of_an_unknown_repository_is_exit_2(httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver)
    httpserver.expect_request("/api/v4/projects/999/merge_requests/7").respond_with_json(
        fixture("error_404_project.json"), status=404)
    httpserver.expect_request("/api/v4/projects/999").respond_with_json(
        fixture("error_404_project.json"), status=404)
    with pytest.raises(NotFoundError, match="unknown repository '999'"):
        gitlab.get(api, "999", 7)


def test_a_job_token_cannot_read_the_commits_of_a_private_merge_request(
        httpserver: HTTPServer) -> None:
    api, _ = connect(httpserver, "glcbt-64-job", gitlab.JOB_TOKEN_USERNAME)
    httpserver.expect_request(MR7).respond_with_json(fixture("merge_request_7.json"))
    # GitLab takes a job token it does not accept here for no token: a private project is 404
    httpserver.expect_request(f"{MR7}/commits").respond_with_json(
        fixture("error_404_project.json"), status=404)
    with pytest.raises(ProviderError, match="not open to a CI job token") as caught:
        gitlab.get(api, "4211", 7)
    assert caught.value.exit_code == 3
    assert "read_api" in (caught.value.remedy or "")
