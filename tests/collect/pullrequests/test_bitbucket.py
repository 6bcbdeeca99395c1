"""The Bitbucket provider against a local server answering Bitbucket Cloud's REST API 2.0 (at
``/2.0``) and Bitbucket Data Center's REST API 1.0 (below the context path ``/bitbucket``, as a
self-hosted instance serves it), with JSON written from Atlassian's API references
(tests/collect/pullrequests/bitbucket/SOURCES.md: ``cloud_*`` and ``dc_*`` files).

Every expected value below is written by hand from those fixtures."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from pytest_httpserver import HTTPServer

from affidavit.collect.pullrequests import bitbucket, find
from affidavit.collect.pullrequests.http import Api
from affidavit.compliance.pullrequests import approvals, shortfall
from affidavit.errors import NotFoundError, ProviderError, UsageError

FIXTURES = Path(__file__).parent / "bitbucket"
CLOUD_API = "https://api.bitbucket.org/2.0"  # what the Cloud fixtures' links name

# -- Bitbucket Cloud: northwind/billing-service ---------------------------------------------
REPOSITORY = "northwind/billing-service"
CLOUD = "/2.0/repositories/northwind/billing-service"
C1 = "a3f91c07d2e84b6f9015c3d7e2a8b4f60c1d9e27"
C2 = "b7e20d4c91f36a8e5d20b7c4f19a3e6d8c0b2f41"
C3 = "c5d83e1fa20b49c7e6f1d8a3b05c2e9f7a4d1b63"
C4 = "d9c46f2b3e815a0d7c9e4b1f2a6d8e03c5b7f928"
C5 = "e1b57a3c6d924f0e8b1c5d7a9f3e2b40d6c8a195"
BASE = "0d4e7f1a2b3c5d6e8f9a0b1c2d3e4f5a6b7c8d90"
MERGE = "f2a68b4d7e035c1f9a2d6e8b0c4f7a51e3d9b206"

PRIYA = {"login": "712020:0c7d1e2f-3a4b-4c5d-9e6f-7a8b9c0d1e2f", "name": "Priya Raman",
         "type": "User"}
TOMAS = {"login": "712020:1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a", "name": "Tomás Herrera",
         "type": "User"}
MEI = {"login": "712020:2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b", "name": "Mei Lin",
       "type": "User"}
OLU = {"login": "712020:3f4a5b6c-7d8e-4f9a-8b1c-2d3e4f5a6b7c", "name": "Olu Adeyemi",
       "type": "User"}
SAM = {"login": "712020:4a5b6c7d-8e9f-4a0b-9c2d-3e4f5a6b7c8d", "name": "Sam Keller",
       "type": "User"}
NADIA = {"login": "712020:5b6c7d8e-9f0a-4b1c-8d3e-4f5a6b7c8d9e", "name": "Nadia Petrova",
         "type": "User"}
DEPS_BOT = {"login": "712020:6c7d8e9f-0a1b-4c2d-9e4f-5a6b7c8d9e0f",
            "name": "Dependency Updates", "type": "Bot"}

# -- Bitbucket Data Center: PAY/ledger at https://HOST/bitbucket -----------------------------
PROJECT_REPO = "PAY/ledger"
CONTEXT = "/bitbucket"
DC = f"{CONTEXT}/rest/api/1.0/projects/PAY/repos/ledger"
D1 = "1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5"
D2 = "2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5d6"
D3 = "3c4d5e6f708192a3b4c5d6e7f80912a3b4c5d6e7"
D4 = "4d5e6f708192a3b4c5d6e7f80912a3b4c5d6e7f8"
D5 = "5e6f708192a3b4c5d6e7f80912a3b4c5d6e7f809"
DC_BASE = "708192a3b4c5d6e7f80912a3b4c5d6e7f8091a2b"
DC_MERGE = "6f708192a3b4c5d6e7f80912a3b4c5d6e7f8091a"

JANE = {"login": "jcitizen", "name": "Jane Citizen", "type": "User"}
RAVI = {"login": "rkumar", "name": "Ravi Kumar", "type": "User"}
ANA = {"login": "asousa", "name": "Ana Sousa", "type": "User"}
LEO = {"login": "lmartin", "name": "Léo Martin", "type": "User"}
KIM = {"login": "kpark", "name": "Kim Park", "type": "User"}
DANA = {"login": "dweiss", "name": "Dana Weiss", "type": "User"}
SVC = {"login": "svc-ci", "name": "CI Service", "type": "Bot"}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(autouse=True)
def strict_server(httpserver: HTTPServer) -> Any:
    """A request no test expects fails fast (599 is not retried) and fails the test."""
    httpserver.no_handler_status_code = 599
    yield
    httpserver.check_assertions()


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def cloud_api(httpserver: HTTPServer, waits: list[float]) -> Api:
    """Bitbucket Cloud as ``connect`` makes it (a base URL ending in ``/2.0``), with an access
    token, waiting into ``waits``."""
    made = bitbucket.connect(httpserver.url_for("/2.0"), "ATCTT3xFfGN0-repository-token", None)
    made.sleep = waits.append
    return made


@pytest.fixture
def dc_api(httpserver: HTTPServer, waits: list[float]) -> Api:
    """Bitbucket Data Center at the root ``http://HOST/bitbucket``, with an HTTP access token."""
    made = bitbucket.connect(httpserver.url_for(CONTEXT), "BBDC-NzE4MDEwMDAwMDAwOmh0dHA", None)
    made.sleep = waits.append
    return made


def review(reviewer: dict[str, str] | None, state: str, at: str | None,
           commit: str | None) -> dict[str, Any]:
    return {"reviewer": reviewer, "state": state, "submitted_at": at, "commit": commit}


def asked(httpserver: HTTPServer) -> list[str]:
    return [request.path for request, _ in httpserver.log]


# -- serving Bitbucket Cloud -----------------------------------------------------------------

def cloud(name: str, httpserver: HTTPServer) -> Any:
    """A Cloud fixture with its API links (``next`` among them) on the local server."""
    text = (FIXTURES / name).read_text().replace(CLOUD_API, httpserver.url_for("/2.0"))
    return json.loads(text)


def cloud_pages(httpserver: HTTPServer, path: str, names: list[str]) -> None:
    """``path`` answering the fixtures ``names`` as Cloud pages: the first asked with
    ``pagelen=50``, each next one at the query its predecessor's ``next`` link names."""
    query = {"pagelen": "50"}
    for name in names:
        body = cloud(name, httpserver)
        httpserver.expect_request(path, query_string=query).respond_with_json(body)
        if "next" in body:
            query = dict(parse_qsl(urlsplit(body["next"]).query))


def serve_cloud_pull(httpserver: HTTPServer, number: int, *, pull: Any = None,
                     commits: list[str] | None = None,
                     activity: list[str] | None = None) -> None:
    path = f"{CLOUD}/pullrequests/{number}"
    httpserver.expect_request(path).respond_with_json(
        pull or cloud(f"cloud_pullrequest_{number}.json", httpserver))
    cloud_pages(httpserver, f"{path}/commits",
                commits or [f"cloud_pullrequest_{number}_commits.json"])
    cloud_pages(httpserver, f"{path}/activity",
                activity or [f"cloud_pullrequest_{number}_activity.json"])
    httpserver.expect_request(f"{CLOUD}/commit/{BASE[:12]}").respond_with_json(
        cloud("cloud_commit_base.json", httpserver))


def serve_cloud_42(httpserver: HTTPServer, pull: Any = None,
                   activity: list[str] | None = None) -> None:
    serve_cloud_pull(httpserver, 42, pull=pull,
                     commits=["cloud_pullrequest_42_commits_page1.json",
                              "cloud_pullrequest_42_commits_page2.json"],
                     activity=activity or ["cloud_pullrequest_42_activity_page1.json",
                                           "cloud_pullrequest_42_activity_page2.json"])
    httpserver.expect_request(f"{CLOUD}/commit/{MERGE[:12]}").respond_with_json(
        cloud("cloud_commit_merge.json", httpserver))


def serve_cloud_commit(httpserver: HTTPServer) -> None:
    """The pull requests of C3, on two pages, and each of them."""
    cloud_pages(httpserver, f"{CLOUD}/commit/{C3}/pullrequests",
                ["cloud_commit_pullrequests_page1.json", "cloud_commit_pullrequests_page2.json"])


# -- serving Bitbucket Data Center -----------------------------------------------------------

def dc_pages(httpserver: HTTPServer, path: str, names: list[str]) -> None:
    """``path`` answering ``names`` as Data Center pages: ``limit=100``, then ``start`` as
    each page's ``nextPageStart`` says, until ``isLastPage``."""
    query = {"limit": "100"}
    for name in names:
        body = fixture(name)
        httpserver.expect_request(path, query_string=query).respond_with_json(body)
        if not body["isLastPage"]:
            query = {"limit": "100", "start": str(body["nextPageStart"])}


def serve_dc_pull(httpserver: HTTPServer, number: int, *, pull: Any = None,
                  commits: list[str] | None = None, activities: list[str] | None = None,
                  activity_body: Any = None) -> None:
    path = f"{DC}/pull-requests/{number}"
    httpserver.expect_request(path).respond_with_json(
        pull or fixture(f"dc_pull_request_{number}.json"))
    dc_pages(httpserver, f"{path}/commits",
             commits or [f"dc_pull_request_{number}_commits.json"])
    if activity_body is not None:
        httpserver.expect_request(f"{path}/activities", query_string={"limit": "100"}
                                  ).respond_with_json(activity_body)
    else:
        dc_pages(httpserver, f"{path}/activities",
                 activities or [f"dc_pull_request_{number}_activities.json"])


def serve_dc_7(httpserver: HTTPServer, pull: Any = None) -> None:
    serve_dc_pull(httpserver, 7, pull=pull,
                  commits=["dc_pull_request_7_commits_page1.json",
                           "dc_pull_request_7_commits_page2.json"],
                  activities=["dc_pull_request_7_activities_page1.json",
                              "dc_pull_request_7_activities_page2.json"])


# -- the base URL and the token ----------------------------------------------------------------

def test_cloud_is_the_default_and_any_other_base_url_a_data_center_root() -> None:
    assert bitbucket.DEFAULT_BASE_URL == "https://api.bitbucket.org/2.0"
    roots = {None: "https://api.bitbucket.org/2.0",
             "https://api.bitbucket.org/2.0/": "https://api.bitbucket.org/2.0",
             "https://api.bitbucket.org": "https://api.bitbucket.org/2.0",
             "https://bitbucket.org": "https://api.bitbucket.org/2.0",
             "https://git.example.com": "https://git.example.com/rest/api/1.0",
             "https://git.example.com/bitbucket/": "https://git.example.com/bitbucket/rest/api/1.0",
             "https://git.example.com/bitbucket/rest/api/latest":
                 "https://git.example.com/bitbucket/rest/api/1.0",
             "https://git.example.com/rest/api/1.0": "https://git.example.com/rest/api/1.0"}
    for given, root in roots.items():
        assert bitbucket.connect(given, None, None).base_url == root, given


def test_a_base_url_that_would_leak_the_token_is_refused() -> None:
    for wrong in ("http://git.example.com", "https://user:pw@git.example.com", "not a url"):
        with pytest.raises(UsageError, match="--base-url"):
            bitbucket.connect(wrong, "t", None)


def test_a_token_alone_is_a_bearer_token(cloud_api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{CLOUD}/commit/{C3}/pullrequests", headers={
        "Authorization": "Bearer ATCTT3xFfGN0-repository-token"}).respond_with_json(
        {"pagelen": 50, "values": [], "page": 1, "size": 0})
    assert bitbucket.for_commit(cloud_api, REPOSITORY, C3) == []
    assert "ATCTT3x" not in httpserver.log[0][0].url


def test_a_username_and_token_are_basic_auth(httpserver: HTTPServer) -> None:
    api = bitbucket.connect(httpserver.url_for(CONTEXT), "s3cret-password", "jcitizen")
    pair = base64.b64encode(b"jcitizen:s3cret-password").decode()
    httpserver.expect_request(f"{DC}/commits/{D3}/pull-requests",
                              headers={"Authorization": f"Basic {pair}"}).respond_with_json(
        {"size": 0, "limit": 100, "isLastPage": True, "values": [], "start": 0})
    assert bitbucket.for_commit(api, PROJECT_REPO, D3) == []


def test_without_a_token_no_authorization_is_sent(httpserver: HTTPServer) -> None:
    api = bitbucket.connect(httpserver.url_for("/2.0"), None, "ignored-without-a-token")
    httpserver.expect_request(f"{CLOUD}/commit/{C3}/pullrequests").respond_with_json(
        {"pagelen": 50, "values": []})
    assert bitbucket.for_commit(api, REPOSITORY, C3) == []
    assert "Authorization" not in httpserver.log[0][0].headers


@pytest.mark.parametrize("wrong", ["billing-service", "", "/", "northwind//x",
                                   "northwind/billing/service"])
def test_a_repository_that_is_not_two_names_is_a_usage_error(cloud_api: Api, dc_api: Api,
                                                             wrong: str) -> None:
    with pytest.raises(UsageError, match="workspace/repo_slug") as caught:
        bitbucket.for_commit(cloud_api, wrong, C3)
    assert caught.value.exit_code == 2
    with pytest.raises(UsageError, match="PROJECT/repo_slug"):
        bitbucket.get(dc_api, wrong, 7)


# -- Cloud: the pull requests of a commit ----------------------------------------------------

def test_cloud_every_page_of_the_pull_requests_of_a_commit(cloud_api: Api,
                                                          httpserver: HTTPServer) -> None:
    serve_cloud_commit(httpserver)
    assert bitbucket.for_commit(cloud_api, REPOSITORY, C3) == [42, 43, 44]
    second = httpserver.log[1][0]
    assert dict(parse_qsl(second.query_string.decode())) == {"pagelen": "2", "page": "2"}


def test_cloud_still_indexing_is_none(cloud_api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{CLOUD}/commit/{C3}/pullrequests").respond_with_data(
        "", status=202)
    assert bitbucket.for_commit(cloud_api, REPOSITORY, C3) is None


def test_cloud_commit_links_not_indexed_yet_are_none(cloud_api: Api,
                                                    httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{CLOUD}/commit/{C3}/pullrequests").respond_with_json(
        fixture("cloud_error_404_commit_links.json"), status=404)
    httpserver.expect_request(CLOUD).respond_with_json(fixture("cloud_repository.json"))
    assert bitbucket.for_commit(cloud_api, REPOSITORY, C3) is None


def test_cloud_an_unknown_repository_is_exit_2(cloud_api: Api, httpserver: HTTPServer) -> None:
    missing = "/2.0/repositories/northwind/billing-archive"
    httpserver.expect_request(f"{missing}/commit/{C3}/pullrequests").respond_with_json(
        fixture("cloud_error_404_repository.json"), status=404)
    httpserver.expect_request(missing).respond_with_json(
        fixture("cloud_error_404_repository.json"), status=404)
    with pytest.raises(NotFoundError, match="unknown repository 'northwind/billing-archive'"
                       ) as caught:
        bitbucket.for_commit(cloud_api, "northwind/billing-archive", C3)
    assert caught.value.exit_code == 2


def test_cloud_a_bad_token_is_exit_3_with_bitbuckets_message(cloud_api: Api,
                                                             httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{CLOUD}/commit/{C3}/pullrequests").respond_with_json(
        fixture("cloud_error_401.json"), status=401)
    with pytest.raises(ProviderError, match="Token is invalid, expired, or not supported "
                                            "for this endpoint") as caught:
        bitbucket.for_commit(cloud_api, REPOSITORY, C3)
    assert caught.value.exit_code == 3
    assert "HTTP 401" in caught.value.message
    assert "ATCTT3x" not in caught.value.diagnostics()


def test_cloud_rate_limited_then_answered_waits_as_retry_after_says(
        cloud_api: Api, httpserver: HTTPServer, waits: list[float]) -> None:
    path = f"{CLOUD}/commit/{C3}/pullrequests"
    httpserver.expect_oneshot_request(path).respond_with_json(
        fixture("cloud_error_429.json"), status=429, headers={"Retry-After": "2"})
    serve_cloud_commit(httpserver)
    assert bitbucket.for_commit(cloud_api, REPOSITORY, C3) == [42, 43, 44]
    assert waits == [2.0]


def test_cloud_a_pull_request_without_an_id_is_exit_3(cloud_api: Api,
                                                      httpserver: HTTPServer) -> None:
    body = cloud("cloud_commit_pullrequests_page2.json", httpserver)
    del body["values"][0]["id"]
    httpserver.expect_request(f"{CLOUD}/commit/{C3}/pullrequests").respond_with_json(body)
    with pytest.raises(ProviderError, match="without a numeric 'id'") as caught:
        bitbucket.for_commit(cloud_api, REPOSITORY, C3)
    assert caught.value.exit_code == 3


# -- Cloud: one pull request -----------------------------------------------------------------

CLOUD_42_REVIEWS = [
    review(TOMAS, "approved", "2024-05-06T09:20:33.118402+00:00", C1),
    review(None, "approved", "2024-05-06T09:58:47.330126+00:00", C2),  # a "Former user"
    review(MEI, "approved", "2024-05-06T10:12:15.774420+00:00", C2),
    review(MEI, "changes_requested", "2024-05-06T10:30:09.251904+00:00", C2),
    review(OLU, "approved", "2024-05-06T11:18:03.092655+00:00", C3),
    review(SAM, "approved", "2024-05-06T11:25:44.517730+00:00", C3),
    review(SAM, "dismissed", None, None),  # no longer approving, says participants
    review(NADIA, "approved", "2024-05-06T11:40:12.301948+00:00", C3),  # participants only
]


def test_cloud_a_merged_pull_request_with_every_commit_and_review(
        cloud_api: Api, httpserver: HTTPServer) -> None:
    serve_cloud_42(httpserver)
    record = bitbucket.get(cloud_api, REPOSITORY, 42)
    assert {key: value for key, value in record.items() if key not in ("reviews", "commits")
            } == {
        "provider": "bitbucket",
        "url": "https://bitbucket.org/northwind/billing-service/pull-requests/42",
        "number": 42, "title": "Invoices: round half-even and keep the currency scale",
        "state": "merged", "author": PRIYA, "created_at": "2024-05-06T08:55:10.412093+00:00",
        "merged_at": "2024-05-06T12:02:58.863214+00:00",
        "head": {"ref": "feature/invoice-rounding", "sha": C3},
        "base": {"ref": "main", "sha": BASE}, "merge_commit": MERGE}
    assert record["commits"] == [
        {"sha": C1, "author_name": "Priya Raman", "author_email": "priya.raman@northwind.example",
         "author_login": PRIYA["login"], "authored_at": "2024-05-06T08:49:31+00:00",
         "message": "Round invoice totals half-even\n",
         "signature": {"verified": None, "state": None}},
        {"sha": C2, "author_name": "Priya Raman", "author_email": "priya@laptop.local",
         "author_login": None, "authored_at": "2024-05-06T09:38:12+00:00",
         "message": "Keep the currency's scale when rounding\n",
         "signature": {"verified": None, "state": None}},
        {"sha": C3, "author_name": "Priya Raman", "author_email": "priya.raman@northwind.example",
         "author_login": PRIYA["login"], "authored_at": "2024-05-06T11:03:55+00:00",
         "message": "Address review: test JPY and BHD scales\n",
         "signature": {"verified": None, "state": None}}]
    assert record["reviews"] == CLOUD_42_REVIEWS


def test_cloud_short_hashes_are_resolved_from_the_commits_first(
        cloud_api: Api, httpserver: HTTPServer) -> None:
    serve_cloud_42(httpserver)
    bitbucket.get(cloud_api, REPOSITORY, 42)
    commit_calls = [path for path in asked(httpserver) if "/commit/" in path]
    # the head and every update's head are among the pull request's commits: no call for them
    assert sorted(commit_calls) == [f"{CLOUD}/commit/{BASE[:12]}", f"{CLOUD}/commit/{MERGE[:12]}"]


def test_cloud_a_hash_bitbucket_no_longer_knows_is_recorded_as_given(
        cloud_api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request(f"{CLOUD}/commit/{MERGE[:12]}").respond_with_json(
        {"type": "error", "error": {"message": "Commit not found"}}, status=404)
    serve_cloud_42(httpserver)
    assert bitbucket.get(cloud_api, REPOSITORY, 42)["merge_commit"] == MERGE[:12]


def test_cloud_an_approval_of_an_old_head_names_that_head(cloud_api: Api,
                                                          httpserver: HTTPServer) -> None:
    serve_cloud_42(httpserver)
    record = bitbucket.get(cloud_api, REPOSITORY, 42)
    assert [r for r in record["reviews"] if r["reviewer"] == TOMAS] == [
        review(TOMAS, "approved", "2024-05-06T09:20:33.118402+00:00", C1)]
    assert [r["commit"] for r in record["reviews"] if r["reviewer"] == OLU] == [C3]
    assert record["head"]["sha"] == C3


def test_cloud_approval_then_changes_requested_by_one_reviewer_keeps_both_in_order(
        cloud_api: Api, httpserver: HTTPServer) -> None:
    serve_cloud_42(httpserver)
    mei = [r for r in bitbucket.get(cloud_api, REPOSITORY, 42)["reviews"]
           if r["reviewer"] == MEI]
    assert [(r["state"], r["commit"]) for r in mei] == [("approved", C2),
                                                         ("changes_requested", C2)]


def test_cloud_an_approval_withdrawn_is_dismissed(cloud_api: Api,
                                                  httpserver: HTTPServer) -> None:
    serve_cloud_42(httpserver)
    sam = [r for r in bitbucket.get(cloud_api, REPOSITORY, 42)["reviews"]
           if r["reviewer"] == SAM]
    assert sam == [review(SAM, "approved", "2024-05-06T11:25:44.517730+00:00", C3),
                   review(SAM, "dismissed", None, None)]


def test_cloud_a_request_for_changes_withdrawn_is_dismissed(cloud_api: Api,
                                                            httpserver: HTTPServer) -> None:
    pull = cloud("cloud_pullrequest_42.json", httpserver)
    mei = next(p for p in pull["participants"] if p["user"]["display_name"] == "Mei Lin")
    mei["state"] = None
    serve_cloud_42(httpserver, pull)
    reviews = bitbucket.get(cloud_api, REPOSITORY, 42)["reviews"]
    assert [r["state"] for r in reviews if r["reviewer"] == MEI] == [
        "approved", "changes_requested", "dismissed"]


def test_cloud_the_judge_counts_only_approvals_of_the_final_head(
        cloud_api: Api, httpserver: HTTPServer) -> None:
    serve_cloud_42(httpserver)
    record = bitbucket.get(cloud_api, REPOSITORY, 42)
    assert approvals(record, allow_stale=False) == {
        "counted": [OLU["login"], NADIA["login"]], "stale": [TOMAS["login"]],
        "authors": [], "cancelled": [MEI["login"], SAM["login"]]}
    assert approvals(record, allow_stale=True)["counted"] == [
        TOMAS["login"], OLU["login"], NADIA["login"]]
    assert shortfall([record], 2, allow_stale=False, asked_by="--require-approvals") is None
    why = shortfall([record], 3, allow_stale=False, asked_by="--require-approvals")
    assert why is not None
    assert why.startswith(f"pull request #42 has 2 approvals of its final head {C3[:12]} ")
    assert f"{TOMAS['login']} approved an older or unknown head" in why


def test_cloud_a_draft_by_an_app_account(cloud_api: Api, httpserver: HTTPServer) -> None:
    serve_cloud_pull(httpserver, 43)
    record = bitbucket.get(cloud_api, REPOSITORY, 43)
    assert record["state"] == "draft"
    assert record["author"] == DEPS_BOT
    assert record["head"] == {"ref": "deps/decimal-utils-3.2.1", "sha": C4}
    assert record["base"] == {"ref": "main", "sha": BASE}
    assert record["merged_at"] is None and record["merge_commit"] is None
    assert [(c["sha"], c["author_login"]) for c in record["commits"]] == [
        (C3, PRIYA["login"]), (C4, DEPS_BOT["login"])]
    assert record["reviews"] == []


def test_cloud_an_open_pull_request(cloud_api: Api, httpserver: HTTPServer) -> None:
    pull = cloud("cloud_pullrequest_43.json", httpserver)
    pull["draft"] = False
    serve_cloud_pull(httpserver, 43, pull=pull)
    assert bitbucket.get(cloud_api, REPOSITORY, 43)["state"] == "open"


def test_cloud_declined_by_a_former_user(cloud_api: Api, httpserver: HTTPServer) -> None:
    serve_cloud_pull(httpserver, 44)
    record = bitbucket.get(cloud_api, REPOSITORY, 44)
    assert record["state"] == "closed"
    assert record["author"] is None
    assert record["merged_at"] is None and record["merge_commit"] is None
    assert record["head"] == {"ref": "spike/bankers-rounding", "sha": C5}
    assert [(c["sha"], c["author_name"], c["author_login"]) for c in record["commits"]] == [
        (C3, "Priya Raman", PRIYA["login"]), (C5, "Former Contractor", None)]


@pytest.mark.parametrize("state", ["SUPERSEDED", "DECLINED"])
def test_cloud_an_author_of_null_and_superseded_is_closed(cloud_api: Api,
                                                          httpserver: HTTPServer,
                                                          state: str) -> None:
    pull = cloud("cloud_pullrequest_44.json", httpserver)
    pull["author"], pull["state"] = None, state
    serve_cloud_pull(httpserver, 44, pull=pull)
    record = bitbucket.get(cloud_api, REPOSITORY, 44)
    assert (record["author"], record["state"]) == (None, "closed")


def test_cloud_several_pull_requests_of_one_commit(cloud_api: Api,
                                                   httpserver: HTTPServer) -> None:
    serve_cloud_commit(httpserver)
    serve_cloud_42(httpserver)
    serve_cloud_pull(httpserver, 43)
    serve_cloud_pull(httpserver, 44)
    found = find(bitbucket, cloud_api, REPOSITORY, commit=C3, number=None, max_wait=30)
    assert [(p["number"], p["state"]) for p in found.pull_requests] == [
        (42, "merged"), (43, "draft"), (44, "closed")]
    assert found.polls == 1


def test_cloud_a_pull_request_still_being_indexed_is_found_on_the_third_poll(
        cloud_api: Api, httpserver: HTTPServer) -> None:
    path = f"{CLOUD}/commit/{C3}/pullrequests"
    for _ in range(2):
        httpserver.expect_oneshot_request(path).respond_with_data("", status=202)
    first = cloud("cloud_commit_pullrequests_page1.json", httpserver)
    httpserver.expect_request(path, query_string={"pagelen": "50"}).respond_with_json(
        {"size": 1, "page": 1, "pagelen": 50, "values": first["values"][:1]})
    serve_cloud_42(httpserver)
    now, slept = [100.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    found = find(bitbucket, cloud_api, REPOSITORY, commit=C3, number=None, max_wait=20,
                 sleep=sleep, clock=lambda: now[0])
    assert [p["number"] for p in found.pull_requests] == [42]
    assert (found.polls, found.waited, slept) == (3, 3.0, [1.0, 2.0])


def test_cloud_500_then_success(cloud_api: Api, httpserver: HTTPServer,
                                waits: list[float]) -> None:
    httpserver.expect_oneshot_request(f"{CLOUD}/pullrequests/42").respond_with_json(
        fixture("cloud_error_500.json"), status=500)
    serve_cloud_42(httpserver)
    assert bitbucket.get(cloud_api, REPOSITORY, 42)["state"] == "merged"
    assert waits == [0.5]


def test_cloud_an_unknown_pull_request_is_exit_2(cloud_api: Api,
                                                 httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{CLOUD}/pullrequests/99").respond_with_json(
        fixture("cloud_error_404_pull_request.json"), status=404)
    httpserver.expect_request(CLOUD).respond_with_json(fixture("cloud_repository.json"))
    with pytest.raises(NotFoundError, match="has no pull request #99") as caught:
        bitbucket.get(cloud_api, REPOSITORY, 99)
    assert caught.value.exit_code == 2


def test_cloud_a_pull_request_of_an_unknown_repository_is_exit_2(
        cloud_api: Api, httpserver: HTTPServer) -> None:
    missing = "/2.0/repositories/northwind/billing-archive"
    for path in (f"{missing}/pullrequests/42", missing):
        httpserver.expect_request(path).respond_with_json(
            fixture("cloud_error_404_repository.json"), status=404)
    with pytest.raises(NotFoundError, match="unknown repository"):
        bitbucket.get(cloud_api, "northwind/billing-archive", 42)


def test_cloud_an_answer_that_is_not_a_pull_request_is_exit_3(
        cloud_api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{CLOUD}/pullrequests/42").respond_with_json(
        [{"id": 42}])
    with pytest.raises(ProviderError, match="did not answer an object") as caught:
        bitbucket.get(cloud_api, REPOSITORY, 42)
    assert caught.value.exit_code == 3
    assert "\n" not in caught.value.message


def test_cloud_an_approval_without_a_time_is_exit_3(cloud_api: Api,
                                                    httpserver: HTTPServer) -> None:
    page = cloud("cloud_pullrequest_42_activity_page1.json", httpserver)
    del page["values"][1]["approval"]["date"]
    httpserver.expect_request(f"{CLOUD}/pullrequests/42/activity",
                              query_string={"pagelen": "50"}).respond_with_json(page)
    serve_cloud_42(httpserver)
    with pytest.raises(ProviderError, match="approval in the activity of pull request #42"):
        bitbucket.get(cloud_api, REPOSITORY, 42)


def test_cloud_a_state_bitbucket_may_add_later_is_refused(cloud_api: Api,
                                                          httpserver: HTTPServer) -> None:
    pull = cloud("cloud_pullrequest_43.json", httpserver)
    pull["state"] = "QUEUED"
    serve_cloud_pull(httpserver, 43, pull=pull)
    with pytest.raises(ProviderError, match="QUEUED"):
        bitbucket.get(cloud_api, REPOSITORY, 43)


# -- Data Center: the pull requests of a commit ----------------------------------------------

def test_dc_every_page_of_the_pull_requests_of_a_commit(dc_api: Api,
                                                       httpserver: HTTPServer) -> None:
    dc_pages(httpserver, f"{DC}/commits/{D3}/pull-requests",
             ["dc_commit_pull_requests_page1.json", "dc_commit_pull_requests_page2.json"])
    assert bitbucket.for_commit(dc_api, PROJECT_REPO, D3) == [7, 8, 9]


def test_dc_a_commit_bitbucket_does_not_know_yet_is_no_pull_request(
        dc_api: Api, httpserver: HTTPServer) -> None:
    sha = "0" * 39 + "1"
    httpserver.expect_request(f"{DC}/commits/{sha}/pull-requests").respond_with_json(
        fixture("dc_error_404_commit.json"), status=404)
    httpserver.expect_request(DC).respond_with_json(fixture("dc_repository.json"))
    assert bitbucket.for_commit(dc_api, PROJECT_REPO, sha) == []


def test_dc_an_unknown_repository_is_exit_2(dc_api: Api, httpserver: HTTPServer) -> None:
    missing = f"{CONTEXT}/rest/api/1.0/projects/PAY/repos/ledger-archive"
    for path in (f"{missing}/commits/{D3}/pull-requests", missing):
        httpserver.expect_request(path).respond_with_json(
            fixture("dc_error_404_repository.json"), status=404)
    with pytest.raises(NotFoundError, match="unknown repository 'PAY/ledger-archive'") as caught:
        bitbucket.for_commit(dc_api, "PAY/ledger-archive", D3)
    assert caught.value.exit_code == 2


def test_dc_a_bad_token_is_exit_3_with_bitbuckets_message(dc_api: Api,
                                                          httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{DC}/commits/{D3}/pull-requests").respond_with_json(
        fixture("dc_error_401.json"), status=401)
    with pytest.raises(ProviderError, match="Authentication failed. Please check your "
                                            "credentials") as caught:
        bitbucket.for_commit(dc_api, PROJECT_REPO, D3)
    assert caught.value.exit_code == 3
    assert "BBDC-" not in caught.value.diagnostics()


def test_dc_rate_limited_then_answered_waits_as_retry_after_says(
        dc_api: Api, httpserver: HTTPServer, waits: list[float]) -> None:
    path = f"{DC}/commits/{D3}/pull-requests"
    httpserver.expect_oneshot_request(path).respond_with_json(
        fixture("dc_error_429.json"), status=429, headers={"Retry-After": "3"})
    dc_pages(httpserver, path,
             ["dc_commit_pull_requests_page1.json", "dc_commit_pull_requests_page2.json"])
    assert bitbucket.for_commit(dc_api, PROJECT_REPO, D3) == [7, 8, 9]
    assert waits == [3.0]


def test_dc_a_page_that_names_no_next_start_is_exit_3(dc_api: Api,
                                                      httpserver: HTTPServer) -> None:
    body = fixture("dc_commit_pull_requests_page1.json")
    del body["nextPageStart"]
    httpserver.expect_request(f"{DC}/commits/{D3}/pull-requests").respond_with_json(body)
    with pytest.raises(ProviderError, match="nextPageStart"):
        bitbucket.for_commit(dc_api, PROJECT_REPO, D3)


# -- Data Center: one pull request -----------------------------------------------------------

DC_7_REVIEWS = [
    review(RAVI, "approved", "2024-06-10T09:20:00.118Z", D1),
    review(DANA, "approved", "2024-06-10T09:25:00.330Z", D1),
    review(ANA, "approved", "2024-06-10T10:00:00.774Z", D2),
    review(ANA, "changes_requested", "2024-06-10T10:15:00.251Z", D2),
    review(LEO, "approved", "2024-06-10T11:00:00.092Z", D3),
    review(KIM, "approved", "2024-06-10T11:05:00.517Z", D3),
    review(KIM, "dismissed", "2024-06-10T11:10:00.002Z", D3),
    review(DANA, "dismissed", None, None),  # reset by a push: only reviewers[] says so
]


def test_dc_a_merged_pull_request_with_every_commit_and_review(
        dc_api: Api, httpserver: HTTPServer) -> None:
    serve_dc_7(httpserver)
    record = bitbucket.get(dc_api, PROJECT_REPO, 7)
    assert {key: value for key, value in record.items() if key not in ("reviews", "commits")
            } == {
        "provider": "bitbucket",
        "url": "https://git.example.com/bitbucket/projects/PAY/repos/ledger/pull-requests/7",
        "number": 7, "title": "Ledger: round postings half-even", "state": "merged",
        "author": JANE, "created_at": "2024-06-10T09:00:00.000Z",
        "merged_at": "2024-06-10T12:00:00.000Z",
        "head": {"ref": "feature/ledger-rounding", "sha": D3},
        "base": {"ref": "main", "sha": DC_BASE}, "merge_commit": DC_MERGE}
    assert record["commits"] == [
        {"sha": D1, "author_name": "Jane Citizen", "author_email": "jane.citizen@example.com",
         "author_login": "jcitizen", "authored_at": "2024-06-10T08:55:00.412Z",
         "message": "Round postings half-even", "signature": {"verified": None, "state": None}},
        {"sha": D2, "author_name": "Jane Citizen", "author_email": "jane@laptop.local",
         "author_login": None, "authored_at": "2024-06-10T09:38:00.907Z",
         "message": "Keep the ledger's scale per currency",
         "signature": {"verified": None, "state": None}},
        {"sha": D3, "author_name": "Jane Citizen", "author_email": "jane.citizen@example.com",
         "author_login": "jcitizen", "authored_at": "2024-06-10T10:37:00.055Z",
         "message": "Address review: cover JPY and BHD",
         "signature": {"verified": None, "state": None}}]
    assert record["reviews"] == DC_7_REVIEWS


def test_dc_an_approval_of_an_old_head_names_that_head(dc_api: Api,
                                                       httpserver: HTTPServer) -> None:
    serve_dc_7(httpserver)
    record = bitbucket.get(dc_api, PROJECT_REPO, 7)
    assert [r["commit"] for r in record["reviews"] if r["reviewer"] == RAVI] == [D1]
    assert [r["commit"] for r in record["reviews"] if r["reviewer"] == LEO] == [D3]
    assert record["head"]["sha"] == D3


def test_dc_an_approval_at_the_moment_of_a_push_is_of_the_older_head(
        dc_api: Api, httpserver: HTTPServer) -> None:
    page = fixture("dc_pull_request_7_activities_page1.json")
    rescoped = next(a for a in page["values"] if a["action"] == "RESCOPED")
    leo = next(a for a in page["values"] if a["user"] and a["user"]["name"] == "lmartin")
    leo["createdDate"] = rescoped["createdDate"]
    httpserver.expect_request(f"{DC}/pull-requests/7/activities",
                              query_string={"limit": "100"}).respond_with_json(page)
    serve_dc_7(httpserver)
    reviews = bitbucket.get(dc_api, PROJECT_REPO, 7)["reviews"]
    assert [r["commit"] for r in reviews if r["reviewer"] == LEO] == [D2]


def test_dc_approval_then_needs_work_by_one_reviewer_keeps_both_in_order(
        dc_api: Api, httpserver: HTTPServer) -> None:
    serve_dc_7(httpserver)
    ana = [r for r in bitbucket.get(dc_api, PROJECT_REPO, 7)["reviews"] if r["reviewer"] == ANA]
    assert [(r["state"], r["commit"]) for r in ana] == [("approved", D2),
                                                         ("changes_requested", D2)]


def test_dc_an_unapproval_and_an_approval_reset_by_a_push_are_dismissed(
        dc_api: Api, httpserver: HTTPServer) -> None:
    serve_dc_7(httpserver)
    reviews = bitbucket.get(dc_api, PROJECT_REPO, 7)["reviews"]
    assert [r for r in reviews if r["reviewer"] == KIM] == [
        review(KIM, "approved", "2024-06-10T11:05:00.517Z", D3),
        review(KIM, "dismissed", "2024-06-10T11:10:00.002Z", D3)]
    assert [r["state"] for r in reviews if r["reviewer"] == DANA] == ["approved", "dismissed"]


def test_dc_an_approval_only_the_reviewers_show_has_no_time_or_commit(
        dc_api: Api, httpserver: HTTPServer) -> None:
    pull = fixture("dc_pull_request_7.json")
    pull["reviewers"][1]["status"] = "APPROVED"  # Dana: her approval stands, no later word
    pull["participants"][0]["status"] = "NEEDS_WORK"  # the CI account said "needs work"
    serve_dc_7(httpserver, pull)
    reviews = bitbucket.get(dc_api, PROJECT_REPO, 7)["reviews"]
    assert reviews[-1:] == [review(SVC, "changes_requested", None, None)]
    assert [r["state"] for r in reviews if r["reviewer"] == DANA] == ["approved"]


def test_dc_the_judge_counts_only_approvals_of_the_final_head(
        dc_api: Api, httpserver: HTTPServer) -> None:
    serve_dc_7(httpserver)
    record = bitbucket.get(dc_api, PROJECT_REPO, 7)
    assert approvals(record, allow_stale=False) == {
        "counted": ["lmartin"], "stale": ["rkumar"], "authors": [],
        "cancelled": ["asousa", "dweiss", "kpark"]}
    why = shortfall([record], 2, allow_stale=False, asked_by="--require-approvals")
    assert why == (f"pull request #7 has 1 approval of its final head {D3[:12]} from people "
                   "other than its authors (lmartin), --require-approvals asks 2 (rkumar "
                   "approved an older or unknown head; asousa, dweiss, kpark withdrew or had "
                   "dismissed an approval)")


def test_dc_an_approval_by_a_commit_author_does_not_count(dc_api: Api,
                                                          httpserver: HTTPServer) -> None:
    pull = fixture("dc_pull_request_7.json")
    commits = fixture("dc_pull_request_7_commits_page1.json")
    commits["values"][0]["author"] = {"name": "Léo Martin", "emailAddress": "leo@home.example"}
    httpserver.expect_request(f"{DC}/pull-requests/7/commits", query_string={"limit": "100"}
                              ).respond_with_json(commits)
    serve_dc_7(httpserver, pull)
    assert approvals(bitbucket.get(dc_api, PROJECT_REPO, 7), allow_stale=False)[
        "authors"] == ["lmartin"]


def test_dc_a_draft_by_a_service_account_never_rescoped(dc_api: Api,
                                                        httpserver: HTTPServer) -> None:
    activities = fixture("dc_pull_request_8_activities.json")
    approval = copy.deepcopy(activities["values"][0])
    approval.update(id=9999, action="APPROVED", createdDate=1718010000000 + 160 * 60_000,
                    user=fixture("dc_pull_request_7.json")["reviewers"][3]["user"])
    activities["values"].insert(0, approval)
    serve_dc_pull(httpserver, 8, activity_body=activities)
    record = bitbucket.get(dc_api, PROJECT_REPO, 8)
    assert record["state"] == "draft"
    assert record["author"] == SVC
    assert record["head"] == {"ref": "deps/money-utils-4.1.0", "sha": D4}
    assert record["merged_at"] is None and record["merge_commit"] is None
    assert [(c["sha"], c["author_login"]) for c in record["commits"]] == [
        (D3, "jcitizen"), (D4, "svc-ci")]
    # never rescoped: the head it has now is the one it always had
    assert record["reviews"] == [review(LEO, "approved", "2024-06-10T11:40:00.000Z", D4)]


def test_dc_an_open_pull_request(dc_api: Api, httpserver: HTTPServer) -> None:
    pull = fixture("dc_pull_request_8.json")
    del pull["draft"]  # before Data Center 8.18
    serve_dc_pull(httpserver, 8, pull=pull)
    assert bitbucket.get(dc_api, PROJECT_REPO, 8)["state"] == "open"


def test_dc_declined_by_a_deleted_account(dc_api: Api, httpserver: HTTPServer) -> None:
    serve_dc_pull(httpserver, 9)
    record = bitbucket.get(dc_api, PROJECT_REPO, 9)
    assert (record["state"], record["author"]) == ("closed", None)
    assert record["merged_at"] is None and record["merge_commit"] is None
    assert record["created_at"] == "2024-06-10T08:00:00.000Z"
    assert [(c["sha"], c["author_name"], c["author_login"]) for c in record["commits"]] == [
        (D3, "Jane Citizen", "jcitizen"), (D5, "Former Contractor", None)]
    assert record["reviews"] == []


def test_dc_several_pull_requests_of_one_commit(dc_api: Api, httpserver: HTTPServer) -> None:
    dc_pages(httpserver, f"{DC}/commits/{D3}/pull-requests",
             ["dc_commit_pull_requests_page1.json", "dc_commit_pull_requests_page2.json"])
    serve_dc_7(httpserver)
    serve_dc_pull(httpserver, 8)
    serve_dc_pull(httpserver, 9)
    found = find(bitbucket, dc_api, PROJECT_REPO, commit=D3, number=None, max_wait=30)
    assert [(p["number"], p["state"]) for p in found.pull_requests] == [
        (7, "merged"), (8, "draft"), (9, "closed")]


def test_dc_a_just_merged_commit_is_found_on_the_third_poll(dc_api: Api,
                                                            httpserver: HTTPServer) -> None:
    path = f"{DC}/commits/{D3}/pull-requests"
    for _ in range(2):  # pushed, not known to Bitbucket yet
        httpserver.expect_oneshot_request(path).respond_with_json(
            fixture("dc_error_404_commit.json"), status=404)
    httpserver.expect_request(DC).respond_with_json(fixture("dc_repository.json"))
    body = fixture("dc_commit_pull_requests_page2.json")
    body["start"] = 0
    httpserver.expect_request(path, query_string={"limit": "100"}).respond_with_json(body)
    serve_dc_pull(httpserver, 9)
    now, slept = [0.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    found = find(bitbucket, dc_api, PROJECT_REPO, commit=D3, number=None, max_wait=20,
                 sleep=sleep, clock=lambda: now[0])
    assert [p["number"] for p in found.pull_requests] == [9]
    assert (found.polls, slept) == (3, [1.0, 2.0])


def test_dc_500_then_success(dc_api: Api, httpserver: HTTPServer,
                             waits: list[float]) -> None:
    httpserver.expect_oneshot_request(f"{DC}/pull-requests/7").respond_with_data(
        "<html><body>Proxy error</body></html>", status=502)
    httpserver.expect_oneshot_request(f"{DC}/pull-requests/7/activities").respond_with_json(
        {"errors": [{"message": "Internal server error"}]}, status=500)
    serve_dc_7(httpserver)
    assert bitbucket.get(dc_api, PROJECT_REPO, 7)["reviews"] == DC_7_REVIEWS
    assert waits == [0.5, 0.5]


def test_dc_an_unknown_pull_request_is_exit_2(dc_api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{DC}/pull-requests/99").respond_with_json(
        fixture("dc_error_404_pull_request.json"), status=404)
    httpserver.expect_request(DC).respond_with_json(fixture("dc_repository.json"))
    with pytest.raises(NotFoundError, match="PAY/ledger has no pull request #99") as caught:
        bitbucket.get(dc_api, PROJECT_REPO, 99)
    assert caught.value.exit_code == 2


def test_dc_an_activity_without_a_time_is_exit_3(dc_api: Api, httpserver: HTTPServer) -> None:
    activities = fixture("dc_pull_request_8_activities.json")
    activities["values"].insert(0, {"id": 9998, "action": "APPROVED",
                                    "user": fixture("dc_pull_request_7.json")["author"]["user"]})
    serve_dc_pull(httpserver, 8, activity_body=activities)
    with pytest.raises(ProviderError, match="APPROVED activity of pull request #8") as caught:
        bitbucket.get(dc_api, PROJECT_REPO, 8)
    assert caught.value.exit_code == 3


def test_dc_a_state_bitbucket_may_add_later_is_refused(dc_api: Api,
                                                       httpserver: HTTPServer) -> None:
    pull = fixture("dc_pull_request_8.json")
    pull["state"] = "SUPERSEDED"
    serve_dc_pull(httpserver, 8, pull=pull)
    with pytest.raises(ProviderError, match="SUPERSEDED"):
        bitbucket.get(dc_api, PROJECT_REPO, 8)
