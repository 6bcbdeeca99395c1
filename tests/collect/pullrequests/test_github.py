"""The GitHub provider against a local server answering GitHub's REST endpoints with JSON of
the documented shapes (tests/collect/pullrequests/github/, see its SOURCES.md).

Expected values are written by hand from the fixtures. Every test runs against the Enterprise
Server form of the base URL (``/api/v3``) unless it says otherwise; the cloud form (no prefix)
has its own test."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from affidavit.collect.pullrequests import github
from affidavit.collect.pullrequests.http import Api
from affidavit.errors import NotFoundError, ProviderError, UsageError

FIXTURES = Path(__file__).parent / "github"
ROOT = "/api/v3"
REPO = "/repos/octo-org/widgets"
C1 = "3f786850e387550fdab836ed7e6dc881de23001b"
C2 = "89e6c98d92887913cadf06b2adb97f26cde4849b"
C3 = "2b66fd261ee5c6cfc8de7fa466bab600bcfe4f69"
C4 = "c1dd3d8a5b9e4f3c6f0e2a7b8d9e0f1a2b3c4d5e"
BASE = "9fceb02d0ae598e95dc970b74767f19372d61af8"
MERGE = "e5bd3914e2e596debea16f433f57875b5b90bcd6"
LIST = {"per_page": "100"}


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
def api(httpserver: HTTPServer, waits: list[float]) -> Api:
    """The API as ``connect`` makes it, with a token, waiting into ``waits``."""
    made = github.connect(httpserver.url_for(ROOT), "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
                          None)
    made.sleep = waits.append
    return made


def at(path: str) -> str:
    return ROOT + path


def serve(httpserver: HTTPServer, path: str, body: Any, *, query: Any = None,
          status: int = 200, headers: dict[str, str] | None = None) -> None:
    httpserver.expect_request(at(path), query_string=query).respond_with_json(
        body, status=status, headers=headers)


def next_link(httpserver: HTTPServer, path: str, page: int, last: int) -> dict[str, str]:
    """GitHub's Link header for ``page`` of ``path`` (GitHub links by repository id)."""
    url = httpserver.url_for(at(path))
    return {"Link": f'<{url}?per_page=100&page={page}>; rel="next", '
                    f'<{url}?per_page=100&page={last}>; rel="last"'}


def serve_users(httpserver: HTTPServer) -> None:
    for login in ("octocat", "monalisa", "defunkt", "pjhyett"):
        serve(httpserver, f"/users/{login}", fixture(f"user_{login}.json"))
    serve(httpserver, "/users/github-actions[bot]", fixture("error_404.json"), status=404)


def serve_pull_1347(httpserver: HTTPServer) -> None:
    serve(httpserver, f"{REPO}/pulls/1347", fixture("pull_1347.json"))
    reviews = "/repositories/1296269/pulls/1347/reviews"
    serve(httpserver, f"{REPO}/pulls/1347/reviews", fixture("pull_1347_reviews_page1.json"),
          query=LIST, headers=next_link(httpserver, reviews, 2, 2))
    serve(httpserver, reviews, fixture("pull_1347_reviews_page2.json"),
          query={"per_page": "100", "page": "2"})
    commits = "/repositories/1296269/pulls/1347/commits"
    serve(httpserver, f"{REPO}/pulls/1347/commits", fixture("pull_1347_commits_page1.json"),
          query=LIST, headers=next_link(httpserver, commits, 2, 2))
    serve(httpserver, commits, fixture("pull_1347_commits_page2.json"),
          query={"per_page": "100", "page": "2"})
    serve_users(httpserver)


# -- connecting ------------------------------------------------------------------------------

def test_cloud_is_the_default_base_url() -> None:
    assert github.DEFAULT_BASE_URL == "https://api.github.com"
    assert github.connect(None, None, None).base_url == "https://api.github.com"


def test_the_token_is_a_bearer_header_with_the_documented_media_type_and_version(
        api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_request(at(f"{REPO}/commits/{C1}/pulls"), headers={
        "Authorization": "Bearer ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28"}).respond_with_json([])
    assert github.for_commit(api, "octo-org/widgets", C1) == []
    request = httpserver.log[0][0]
    assert "ghp_" not in request.url


def test_without_a_token_no_authorization_is_sent(httpserver: HTTPServer) -> None:
    serve(httpserver, f"{REPO}/commits/{C1}/pulls", [], query=LIST)
    public = github.connect(httpserver.url_for(ROOT), None, None)
    assert github.for_commit(public, "octo-org/widgets", C1) == []
    assert "Authorization" not in httpserver.log[0][0].headers


def test_the_cloud_form_of_the_base_url_has_no_prefix(httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{REPO}/commits/{C3}/pulls", query_string=LIST
                              ).respond_with_json(fixture("commit_pulls_page2.json"))
    cloud = github.connect(httpserver.url_for("/"), "t", None)
    assert github.for_commit(cloud, "octo-org/widgets", C3) == [1352]


def test_a_repository_that_is_not_owner_slash_repo_is_a_usage_error(api: Api) -> None:
    with pytest.raises(UsageError, match="owner/repo"):
        github.for_commit(api, "widgets", C1)


# -- the pull requests of a commit -----------------------------------------------------------

def test_every_page_of_pull_requests_of_a_commit(api: Api, httpserver: HTTPServer) -> None:
    following = f"/repositories/1296269/commits/{C2}/pulls"
    serve(httpserver, f"{REPO}/commits/{C2}/pulls", fixture("commit_pulls_page1.json"),
          query=LIST, headers=next_link(httpserver, following, 2, 2))
    serve(httpserver, following, fixture("commit_pulls_page2.json"),
          query={"per_page": "100", "page": "2"})
    assert github.for_commit(api, "octo-org/widgets", C2) == [1347, 1350, 1352]


def test_no_pull_request_yet_is_an_empty_list(api: Api, httpserver: HTTPServer) -> None:
    serve(httpserver, f"{REPO}/commits/{C4}/pulls", [], query=LIST)
    assert github.for_commit(api, "octo-org/widgets", C4) == []


@pytest.mark.parametrize(("status", "body"), [(422, "error_422_no_commit.json"),
                                              (404, "error_404.json")])
def test_a_commit_github_does_not_know_is_no_pull_request(
        api: Api, httpserver: HTTPServer, status: int, body: str) -> None:
    sha = "0000000000000000000000000000000000000bad"
    serve(httpserver, f"{REPO}/commits/{sha}/pulls", fixture(body), query=LIST, status=status)
    serve(httpserver, REPO, fixture("repository.json"))
    assert github.for_commit(api, "octo-org/widgets", sha) == []


def test_an_unknown_repository_is_exit_2(api: Api, httpserver: HTTPServer) -> None:
    serve(httpserver, f"/repos/octo-org/gadgets/commits/{C1}/pulls", fixture("error_404.json"),
          query=LIST, status=404)
    serve(httpserver, "/repos/octo-org/gadgets", fixture("error_404.json"), status=404)
    with pytest.raises(NotFoundError, match="unknown repository 'octo-org/gadgets'") as caught:
        github.for_commit(api, "octo-org/gadgets", C1)
    assert caught.value.exit_code == 2


def test_a_bad_token_is_exit_3_with_githubs_message(api: Api, httpserver: HTTPServer) -> None:
    serve(httpserver, f"{REPO}/commits/{C1}/pulls", fixture("error_401.json"), query=LIST,
          status=401)
    with pytest.raises(ProviderError, match="Bad credentials") as caught:
        github.for_commit(api, "octo-org/widgets", C1)
    assert caught.value.exit_code == 3
    assert "HTTP 401" in caught.value.message


# -- retries ---------------------------------------------------------------------------------

def test_429_waits_as_long_as_retry_after(api: Api, httpserver: HTTPServer,
                                          waits: list[float]) -> None:
    httpserver.expect_oneshot_request(at(f"{REPO}/commits/{C3}/pulls")).respond_with_json(
        fixture("error_429_secondary.json"), status=429, headers={"Retry-After": "1"})
    serve(httpserver, f"{REPO}/commits/{C3}/pulls", fixture("commit_pulls_page2.json"),
          query=LIST)
    assert github.for_commit(api, "octo-org/widgets", C3) == [1352]
    assert waits == [1.0]


def test_a_spent_rate_limit_403_waits_for_its_reset(api: Api, httpserver: HTTPServer,
                                                    waits: list[float]) -> None:
    reset = int(time.time()) + 1
    httpserver.expect_oneshot_request(at(f"{REPO}/commits/{C3}/pulls")).respond_with_json(
        fixture("error_403_rate_limit.json"), status=403,
        headers={"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
                 "x-ratelimit-used": "5000", "x-ratelimit-reset": str(reset),
                 "x-ratelimit-resource": "core"})
    serve(httpserver, f"{REPO}/commits/{C3}/pulls", fixture("commit_pulls_page2.json"),
          query=LIST)
    assert github.for_commit(api, "octo-org/widgets", C3) == [1352]
    assert len(waits) == 1
    assert 0.0 < waits[0] <= 2.0


def test_500_then_success(api: Api, httpserver: HTTPServer, waits: list[float]) -> None:
    httpserver.expect_oneshot_request(at(f"{REPO}/commits/{C3}/pulls")).respond_with_data(
        "", status=500)
    serve(httpserver, f"{REPO}/commits/{C3}/pulls", fixture("commit_pulls_page2.json"),
          query=LIST)
    assert github.for_commit(api, "octo-org/widgets", C3) == [1352]
    assert waits == [0.5]


def test_an_outage_after_the_retries_is_exit_3(httpserver: HTTPServer,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFIDAVIT_HTTP_RETRIES", "2")
    api = github.connect(httpserver.url_for(ROOT), "t", None)
    api.sleep = lambda seconds: None
    httpserver.expect_request(at(f"{REPO}/commits/{C3}/pulls")).respond_with_data(
        "<h1>Unicorn!</h1>", status=503)
    with pytest.raises(ProviderError, match="failed after 2 attempts") as caught:
        github.for_commit(api, "octo-org/widgets", C3)
    assert caught.value.exit_code == 3


# -- one pull request ------------------------------------------------------------------------

def test_a_merged_pull_request_with_every_review_and_commit(api: Api,
                                                            httpserver: HTTPServer) -> None:
    serve_pull_1347(httpserver)
    pull = github.get(api, "octo-org/widgets", 1347)
    assert {k: v for k, v in pull.items() if k not in ("reviews", "commits")} == {
        "provider": "github",
        "url": "https://github.com/octo-org/widgets/pull/1347",
        "number": 1347,
        "title": "Add retry budget to the widget client",
        "state": "merged",
        "author": {"login": "octocat", "name": "The Octocat", "type": "User"},
        "created_at": "2024-03-01T09:12:44Z",
        "merged_at": "2024-03-02T16:03:10Z",
        "head": {"ref": "feature/retry-budget", "sha": C3},
        "base": {"ref": "main", "sha": BASE},
        "merge_commit": MERGE,
    }
    assert pull["reviews"] == [
        # an approval of an older head: the commit it reviewed is C2, not the head C3
        {"reviewer": {"login": "monalisa", "name": "Mona Lisa Octocat", "type": "User"},
         "state": "approved", "submitted_at": "2024-03-01T10:04:31Z", "commit": C2},
        # approval, then changes requested by the same reviewer: both, in order
        {"reviewer": {"login": "defunkt", "name": "Chris Wanstrath", "type": "User"},
         "state": "approved", "submitted_at": "2024-03-01T11:20:05Z", "commit": C3},
        {"reviewer": {"login": "github-actions[bot]", "name": None, "type": "Bot"},
         "state": "commented", "submitted_at": "2024-03-01T11:21:40Z", "commit": C3},
        # page 2
        {"reviewer": {"login": "defunkt", "name": "Chris Wanstrath", "type": "User"},
         "state": "changes_requested", "submitted_at": "2024-03-01T12:02:17Z", "commit": C3},
        {"reviewer": {"login": "pjhyett", "name": None, "type": "User"},
         "state": "dismissed", "submitted_at": "2024-03-01T12:30:59Z", "commit": C3},
        # a deleted reviewer (GitHub's "ghost"); the PENDING draft review is left out
        {"reviewer": None, "state": "commented", "submitted_at": "2024-03-01T13:45:00Z",
         "commit": C3},
    ]
    assert pull["commits"] == [
        {"sha": C1, "author_name": "Octo Cat", "author_email": "octocat@github.com",
         "author_login": "octocat", "authored_at": "2024-03-01T09:05:12Z",
         "message": "Add a retry budget to the client",
         "signature": {"verified": True, "state": "valid"}},
        {"sha": C2, "author_name": "Octo Cat", "author_email": "octo@laptop.local",
         "author_login": None, "authored_at": "2024-03-01T09:40:55Z",
         "message": "Test the budget under load",
         "signature": {"verified": False, "state": "unsigned"}},
        {"sha": C3, "author_name": "Octo Cat", "author_email": "octocat@github.com",
         "author_login": "octocat", "authored_at": "2024-03-01T10:58:03Z",
         "message": "Refill the budget every second\n\nFixes #1339",
         "signature": {"verified": False, "state": "unknown_key"}},
    ]
    asked = [request.path for request, _ in httpserver.log]
    assert asked.count(at("/users/defunkt")) == 1  # one call per distinct account
    assert at("/users/ghost") not in asked


def _serve_small(httpserver: HTTPServer, number: int, pull: Any,
                 reviews: list[Any] | None = None) -> None:
    serve(httpserver, f"{REPO}/pulls/{number}", pull)
    serve(httpserver, f"{REPO}/pulls/{number}/reviews", reviews or [], query=LIST)
    serve(httpserver, f"{REPO}/pulls/{number}/commits", fixture(f"pull_{number}_commits.json"),
          query=LIST)


def test_a_draft(api: Api, httpserver: HTTPServer) -> None:
    _serve_small(httpserver, 1350, fixture("pull_1350.json"))
    serve(httpserver, "/users/monalisa", fixture("user_monalisa.json"))
    pull = github.get(api, "octo-org/widgets", 1350)
    assert pull["state"] == "draft"
    assert pull["merged_at"] is None
    assert pull["author"] == {"login": "monalisa", "name": "Mona Lisa Octocat", "type": "User"}
    assert pull["reviews"] == []
    assert [c["sha"] for c in pull["commits"]] == [C1, C2, C3, C4]
    assert pull["commits"][3]["author_login"] == "monalisa"


def test_closed_without_merge_by_a_deleted_account(api: Api, httpserver: HTTPServer) -> None:
    _serve_small(httpserver, 1352, fixture("pull_1352.json"))
    pull = github.get(api, "octo-org/widgets", 1352)
    assert pull["state"] == "closed"
    assert pull["author"] is None  # GitHub's "ghost"
    assert pull["merge_commit"] == "0d1c2b3a495867f0e1d2c3b4a5968778695a4b3c"


def test_an_author_of_null_is_none(api: Api, httpserver: HTTPServer) -> None:
    pull = fixture("pull_1352.json")
    pull["user"] = None
    _serve_small(httpserver, 1352, pull)
    assert github.get(api, "octo-org/widgets", 1352)["author"] is None


def test_an_open_pull_request(api: Api, httpserver: HTTPServer) -> None:
    pull = fixture("pull_1350.json")
    pull["draft"] = False
    _serve_small(httpserver, 1350, pull)
    serve(httpserver, "/users/monalisa", fixture("user_monalisa.json"))
    assert github.get(api, "octo-org/widgets", 1350)["state"] == "open"


def test_an_unknown_pull_request_is_exit_2(api: Api, httpserver: HTTPServer) -> None:
    serve(httpserver, f"{REPO}/pulls/9999", fixture("error_404.json"), status=404)
    serve(httpserver, REPO, fixture("repository.json"))
    with pytest.raises(NotFoundError, match="no pull request #9999") as caught:
        github.get(api, "octo-org/widgets", 9999)
    assert caught.value.exit_code == 2


def test_a_pull_request_of_an_unknown_repository_is_exit_2(api: Api,
                                                           httpserver: HTTPServer) -> None:
    serve(httpserver, "/repos/octo-org/gadgets/pulls/1", fixture("error_404.json"), status=404)
    serve(httpserver, "/repos/octo-org/gadgets", fixture("error_404.json"), status=404)
    with pytest.raises(NotFoundError, match="unknown repository") as caught:
        github.get(api, "octo-org/gadgets", 1)
    assert caught.value.exit_code == 2


def test_a_review_state_github_may_add_later_is_refused(api: Api,
                                                        httpserver: HTTPServer) -> None:
    review = fixture("pull_1347_reviews_page1.json")[0]
    review["state"] = "SUPERSEDED"
    _serve_small(httpserver, 1350, fixture("pull_1350.json"), [review])
    serve(httpserver, "/users/monalisa", fixture("user_monalisa.json"))
    with pytest.raises(ProviderError, match="SUPERSEDED"):
        github.get(api, "octo-org/widgets", 1350)


# -- more than the 250 commits pulls/{n}/commits lists -----------------------------------------

def _commits(first: int, last: int) -> list[Any]:
    """Commits ``first``..``last`` (1-based) of a long pull request: the fixture's first commit
    with the SHA ``0…0<n in hex>`` and the message ``commit <n>``."""
    template = fixture("pull_1347_commits_page1.json")[0]
    made = []
    for n in range(first, last + 1):
        item = copy.deepcopy(template)
        item["sha"] = f"{n:040x}"
        item["commit"]["message"] = f"commit {n}"
        made.append(item)
    return made


def _serve_long(httpserver: HTTPServer, compare_pages: list[list[Any]],
                total_commits: int = 251) -> None:
    pull = fixture("pull_1347.json")
    pull["commits"] = 251
    serve(httpserver, f"{REPO}/pulls/1347", pull)
    serve(httpserver, f"{REPO}/pulls/1347/reviews", [], query=LIST)
    following = "/repositories/1296269/pulls/1347/commits"
    serve(httpserver, f"{REPO}/pulls/1347/commits", _commits(1, 100), query=LIST,
          headers=next_link(httpserver, following, 2, 3))
    serve(httpserver, following, _commits(101, 200), query={"per_page": "100", "page": "2"},
          headers=next_link(httpserver, following, 3, 3))
    serve(httpserver, following, _commits(201, 250), query={"per_page": "100", "page": "3"})
    for page, items in enumerate(compare_pages, start=1):
        body = {**fixture("compare.json"), "total_commits": total_commits, "commits": items}
        serve(httpserver, f"{REPO}/compare/{BASE}...{C3}", body,
              query={"per_page": "100", "page": str(page)})
    serve(httpserver, "/users/octocat", fixture("user_octocat.json"))


def test_past_250_commits_the_comparison_gives_them_all(api: Api,
                                                        httpserver: HTTPServer) -> None:
    _serve_long(httpserver, [_commits(1, 100), _commits(101, 200), _commits(201, 251)])
    commits = github.get(api, "octo-org/widgets", 1347)["commits"]
    assert len(commits) == 251
    assert commits[0]["sha"] == "0000000000000000000000000000000000000001"
    assert commits[250]["sha"] == "00000000000000000000000000000000000000fb"
    assert commits[250]["message"] == "commit 251"


def test_a_comparison_that_falls_short_is_refused(api: Api, httpserver: HTTPServer) -> None:
    _serve_long(httpserver, [_commits(1, 100), _commits(101, 200), _commits(201, 249)])
    with pytest.raises(ProviderError, match="incomplete") as caught:
        github.get(api, "octo-org/widgets", 1347)
    assert caught.value.exit_code == 3


def test_a_comparison_of_another_size_is_refused(api: Api, httpserver: HTTPServer) -> None:
    _serve_long(httpserver, [_commits(1, 100)], total_commits=260)
    with pytest.raises(ProviderError, match="251 commits"):
        github.get(api, "octo-org/widgets", 1347)
