"""The Azure DevOps provider against a local server answering the Git REST API's endpoints with
JSON written from the API reference (tests/collect/pullrequests/azure/SOURCES.md).

Expected values are written by hand from the fixtures. Tests taking ``form`` run twice: against
Azure DevOps Services (``ORG/PROJECT/REPO`` below a bare base URL, api-version 7.1; the local
server's host counts as a cloud host for it) and against Azure DevOps Server (``PROJECT/REPO``
below a collection URL, ``/tfs/DefaultCollection``, api-version 7.0)."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from affidavit.collect.pullrequests import azure, ci, find
from affidavit.collect.pullrequests.http import Api
from affidavit.compliance.pullrequests import approvals, shortfall
from affidavit.errors import NotFoundError, ProviderError, UsageError
from affidavit.models.pullrequests import PullRequest

FIXTURES = Path(__file__).parent / "azure"
PAT = "4kq7wz2n5xv3c8b6m1l9j0h2g4f6d8s0a3p5o7i9u1y3t5r7e9w2"
PROJECT_REPO = "Fabrikam Fiber/payments-api"

C1 = "a3f1e5c7b9d2046e8f1a3c5e7b9d0f2a4c6e8b01"
C2 = "b4e2f6d8c0a3157f9e2b4d6f8c0a1e3b5d7f9c12"
C3 = "c5d3e7f9a1b4268e0f3c5e7a9b1d2f4c6e8a0d23"
C4 = "e7b5a9f1c3d6480a2f5e7a9c1d3f4b6e8a0c2f45"
C5 = "f8a6b0e2d4c7591b3a6f8b0d2e4a5c7f9b1d3a56"
C6 = "0a9b7c1f3e5d6a2c4b7a9c1e3f5b6d8a0c2e4b67"
T2 = "8f2d1b0e4c6a5f3b9d7e1c2a4f6b8d0e3a5c7f9b"
MERGE = "d6c4f8e0b2a5379f1e4d6f8b0c2e3a5d7f9b1e34"
TRIAL_MERGE = "1b0c8d2a4f6e7b3d5c8b0d2f4a6c7e9b1d3f5c78"

ANA = {"login": "ana.silva@fabrikam.example", "name": "Ana Silva", "type": "User"}
BEN = {"login": "ben.okoro@fabrikam.example", "name": "Ben Okoro", "type": "User"}
CHLOE = {"login": "chloe.martin@fabrikam.example", "name": "Chloé Martin", "type": "User"}
DEV = {"login": "dev.patel@fabrikam.example", "name": "Dev Patel", "type": "User"}
EMMA = {"login": "emma.schulz@fabrikam.example", "name": "Emma Schulz", "type": "User"}
FARID = {"login": "farid.haddad@fabrikam.example", "name": "Farid Haddad", "type": "User"}
TOKENS = ("MjAyNC0wNi0wM1QxNTo0ODozMFo=", "c2tpcDoyMDA=")


class Form(NamedTuple):
    """Where the repository is: the base URL, ``--repository``, the API path the server sees
    for it (decoded), and the api-version every call must carry."""

    name: str
    base: str
    repository: str
    prefix: str
    version: str


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def review(reviewer: dict[str, str] | None, state: str, at: str | None,
           commit: str | None) -> dict[str, Any]:
    return {"reviewer": reviewer, "state": state, "submitted_at": at, "commit": commit}


@pytest.fixture(autouse=True)
def strict_server(httpserver: HTTPServer) -> Any:
    """A request no test expects fails fast (599 is not retried) and fails the test."""
    httpserver.no_handler_status_code = 599
    yield
    httpserver.check_assertions()


@pytest.fixture
def local_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local server's host stands in for dev.azure.com."""
    monkeypatch.setattr(azure, "CLOUD_HOSTS", ("dev.azure.com", "localhost"))


@pytest.fixture(params=["services", "server"])
def form(request: pytest.FixtureRequest, httpserver: HTTPServer,
         monkeypatch: pytest.MonkeyPatch) -> Form:
    if request.param == "services":
        monkeypatch.setattr(azure, "CLOUD_HOSTS", ("dev.azure.com", "localhost"))
        return Form("services", httpserver.url_for("/"), f"fabrikam/{PROJECT_REPO}",
                    "/fabrikam/Fabrikam Fiber/_apis/git/repositories/payments-api", "7.1")
    return Form("server", httpserver.url_for("/tfs/DefaultCollection"), PROJECT_REPO,
                "/tfs/DefaultCollection/Fabrikam Fiber/_apis/git/repositories/payments-api",
                "7.0")


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def api(form: Form, waits: list[float]) -> Api:
    """The API as ``connect`` makes it, with a PAT, waiting into ``waits``."""
    made = azure.connect(form.base, PAT, None)
    made.sleep = waits.append
    return made


def serve(httpserver: HTTPServer, form: Form, path: str, body: Any, *, method: str = "GET",
          query: dict[str, str] | None = None, status: int = 200,
          headers: dict[str, str] | None = None, json_body: Any = None) -> None:
    extra: dict[str, Any] = {} if json_body is None else {"json": json_body}
    httpserver.expect_request(form.prefix + path, method=method,
                              query_string={"api-version": form.version, **(query or {})},
                              **extra).respond_with_json(body, status=status, headers=headers)


def pages(httpserver: HTTPServer, form: Form, path: str, bodies: list[Any],
          query: dict[str, str] | None = None) -> None:
    """``path`` answering ``bodies`` as Azure's pages: each but the last names the next in
    ``x-ms-continuationtoken``, which the next request sends back as ``continuationToken``."""
    for number, body in enumerate(bodies):
        asked = dict(query or {})
        if number:
            asked["continuationToken"] = TOKENS[number - 1]
        last = number == len(bodies) - 1
        serve(httpserver, form, path, body, query=asked,
              headers=None if last else {"x-ms-continuationtoken": TOKENS[number]})


def serve_pull(httpserver: HTTPServer, form: Form, number: int, *, pull: Any = None,
               iterations: Any = None, threads: list[Any] | None = None,
               commits: list[Any] | None = None) -> None:
    path = f"/pullrequests/{number}"
    serve(httpserver, form, path, pull if pull is not None
          else fixture(f"pullrequest_{number}.json"))
    serve(httpserver, form, f"{path}/iterations", iterations if iterations is not None
          else fixture(f"pullrequest_{number}_iterations.json"))
    pages(httpserver, form, f"{path}/threads", threads if threads is not None
          else [fixture(f"pullrequest_{number}_threads.json")])
    pages(httpserver, form, f"{path}/commits", commits if commits is not None
          else [fixture(f"pullrequest_{number}_commits.json")], {"$top": "100"})


def serve_2417(httpserver: HTTPServer, form: Form, *, pull: Any = None,
               threads: list[Any] | None = None) -> None:
    serve_pull(httpserver, form, 2417, pull=pull,
               threads=threads or [fixture("pullrequest_2417_threads_page1.json"),
                                   fixture("pullrequest_2417_threads_page2.json")],
               commits=[fixture("pullrequest_2417_commits_page1.json"),
                        fixture("pullrequest_2417_commits_page2.json")])


def query_for(sha: str) -> dict[str, Any]:
    return {"queries": [{"type": "lastMergeCommit", "items": [sha]},
                        {"type": "commit", "items": [sha]}]}


def serve_query(httpserver: HTTPServer, form: Form, sha: str, body: Any, *,
                status: int = 200) -> None:
    serve(httpserver, form, "/pullrequestquery", body, method="POST", status=status,
          json_body=query_for(sha))


def only_thread(name: str, thread_id: int) -> dict[str, Any]:
    """A copy of thread ``thread_id`` of a threads fixture."""
    found = [t for t in fixture(name)["value"] if t["id"] == thread_id]
    return copy.deepcopy(found[0])


# -- connecting ------------------------------------------------------------------------------

def test_services_is_the_default_and_gets_api_version_7_1() -> None:
    assert azure.DEFAULT_BASE_URL == "https://dev.azure.com"
    api = azure.connect(None, PAT, None)
    assert api.base_url == "https://dev.azure.com"
    assert api.session.params == {"api-version": "7.1"}
    old = azure.connect("https://fabrikam.visualstudio.com/", PAT, None)
    assert old.session.params == {"api-version": "7.1"}


def test_a_server_collection_gets_api_version_7_0() -> None:
    api = azure.connect("https://tfs.example.com/DefaultCollection/", PAT, None)
    assert api.base_url == "https://tfs.example.com/DefaultCollection"
    assert api.session.params == {"api-version": "7.0"}


def test_a_pat_is_basic_auth_with_an_empty_username(api: Api, form: Form,
                                                    httpserver: HTTPServer) -> None:
    basic = "Basic " + base64.b64encode(f":{PAT}".encode()).decode()
    httpserver.expect_request(form.prefix + "/pullrequestquery", method="POST",
                              headers={"Authorization": basic}).respond_with_json(
        fixture("pullrequestquery_none.json"))
    assert azure.for_commit(api, form.repository, C5) == []
    assert PAT not in httpserver.log[0][0].url


def test_the_pipelines_access_token_is_a_bearer_token(form: Form,
                                                      httpserver: HTTPServer) -> None:
    api = azure.connect(form.base, "eyJ0eXAiOiJKV1QiLCJhbGciOi.job", "SYSTEM_ACCESSTOKEN")
    httpserver.expect_request(form.prefix + "/pullrequestquery", headers={
        "Authorization": "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi.job"}).respond_with_json(
        fixture("pullrequestquery_none.json"))
    assert azure.for_commit(api, form.repository, C5) == []


def test_a_username_goes_with_the_token_into_basic_auth(form: Form,
                                                        httpserver: HTTPServer) -> None:
    api = azure.connect(form.base, PAT, "FABRIKAM\\svc-evidence")
    pair = base64.b64encode(f"FABRIKAM\\svc-evidence:{PAT}".encode()).decode()
    httpserver.expect_request(form.prefix + "/pullrequestquery", headers={
        "Authorization": f"Basic {pair}"}).respond_with_json(
        fixture("pullrequestquery_none.json"))
    assert azure.for_commit(api, form.repository, C5) == []


def test_without_a_token_no_authorization_is_sent(form: Form, httpserver: HTTPServer) -> None:
    api = azure.connect(form.base, None, None)
    serve_query(httpserver, form, C5, fixture("pullrequestquery_none.json"))
    assert azure.for_commit(api, form.repository, C5) == []
    assert "Authorization" not in httpserver.log[0][0].headers


def test_each_segment_is_percent_encoded_and_every_call_has_the_api_version(
        api: Api, form: Form, httpserver: HTTPServer) -> None:
    serve_query(httpserver, form, MERGE, fixture("pullrequestquery_merge_commit.json"))
    assert azure.for_commit(api, form.repository, MERGE) == [2417]
    sent = httpserver.log[0][0].environ["REQUEST_URI"]
    assert sent == (form.prefix.replace(" ", "%20") + "/pullrequestquery?api-version="
                    + form.version)


@pytest.mark.parametrize("wrong", ["payments-api", "a/b/c/d", "fabrikam//payments-api",
                                   "fabrikam/ /payments-api", "", "/"])
def test_a_repository_of_another_shape_is_a_usage_error(wrong: str) -> None:
    api = azure.connect("https://tfs.example.com/DefaultCollection", PAT, None)
    with pytest.raises(UsageError, match="ORG/PROJECT/REPO") as caught:
        azure.for_commit(api, wrong, C3)
    assert caught.value.exit_code == 2


def test_project_slash_repo_against_bare_dev_azure_com_is_a_usage_error() -> None:
    api = azure.connect(None, PAT, None)
    with pytest.raises(UsageError, match="names no organization") as caught:
        azure.get(api, PROJECT_REPO, 2417)
    assert "https://dev.azure.com/ORG" in (caught.value.remedy or "")


def test_an_organization_url_and_project_slash_repo_as_azure_pipelines_gives_them(
        local_cloud: None, httpserver: HTTPServer) -> None:
    env = {"TF_BUILD": "True", "SYSTEM_TEAMPROJECT": "Fabrikam Fiber",
           "BUILD_REPOSITORY_NAME": "payments-api",
           "SYSTEM_COLLECTIONURI": httpserver.url_for("/fabrikam/")}
    base, repository = ci.base_url("azure", env), ci.repository("azure", env)
    assert repository == PROJECT_REPO and base is not None
    api = azure.connect(base, "job", "SYSTEM_ACCESSTOKEN")
    cloud = Form("services", base, repository,
                 "/fabrikam/Fabrikam Fiber/_apis/git/repositories/payments-api", "7.1")
    serve_query(httpserver, cloud, MERGE, fixture("pullrequestquery_merge_commit.json"))
    assert azure.for_commit(api, repository, MERGE) == [2417]


# -- the pull requests of a commit -----------------------------------------------------------

def test_a_merge_commit_finds_the_pull_request_that_made_it(api: Api, form: Form,
                                                           httpserver: HTTPServer) -> None:
    serve_query(httpserver, form, MERGE, fixture("pullrequestquery_merge_commit.json"))
    assert azure.for_commit(api, form.repository, MERGE.upper()) == [2417]


def test_a_commit_merged_by_several_pull_requests_finds_each_once(
        api: Api, form: Form, httpserver: HTTPServer) -> None:
    body = fixture("pullrequestquery_commit.json")
    body["results"][0][C2] = [body["results"][1][C2][1]]  # 2417 in both queries' results
    serve_query(httpserver, form, C2, body)
    assert azure.for_commit(api, form.repository, C2) == [2417, 2409]
    # each result maps the commit to its pull requests; the key's spelling is not relied on
    serve_query(httpserver, form, C3, fixture("pullrequestquery_commit.json"))
    assert azure.for_commit(api, form.repository, C3) == [2409, 2417]


def test_no_pull_request_yet_is_an_empty_list(api: Api, form: Form,
                                              httpserver: HTTPServer) -> None:
    serve_query(httpserver, form, C5, fixture("pullrequestquery_none.json"))
    assert azure.for_commit(api, form.repository, C5) == []


@pytest.mark.parametrize("body", ["error_404_repository.json", "error_404_project.json"])
def test_an_unknown_repository_or_project_is_exit_2(api: Api, form: Form,
                                                    httpserver: HTTPServer, body: str) -> None:
    serve_query(httpserver, form, C3, fixture(body), status=404)
    with pytest.raises(NotFoundError, match="unknown repository") as caught:
        azure.for_commit(api, form.repository, C3)
    assert caught.value.exit_code == 2
    assert fixture(body)["message"][:8] in caught.value.message  # TF401019, TF200016


def test_a_404_that_names_nothing_azure_knows_blames_the_base_url(
        api: Api, form: Form, httpserver: HTTPServer) -> None:
    serve_query(httpserver, form, C3, {"message": "Page not found."}, status=404)
    with pytest.raises(NotFoundError, match="was not found .HTTP 404.: Page not found") as e:
        azure.for_commit(api, form.repository, C3)
    assert "--base-url" in (e.value.remedy or "")


def test_a_bad_token_with_a_json_401_keeps_azures_words(api: Api, form: Form,
                                                        httpserver: HTTPServer) -> None:
    serve_query(httpserver, form, C3, fixture("error_401.json"), status=401)
    with pytest.raises(ProviderError, match="TF400813") as caught:
        azure.for_commit(api, form.repository, C3)
    assert caught.value.exit_code == 3
    assert "HTTP 401" in caught.value.message


def test_a_bad_token_with_an_empty_401_is_exit_3(api: Api, form: Form,
                                                 httpserver: HTTPServer) -> None:
    httpserver.expect_request(form.prefix + "/pullrequestquery").respond_with_data(
        "", status=401, headers={"WWW-Authenticate": "Basic realm=\"https://dev.azure.com/\""})
    with pytest.raises(ProviderError, match="token was refused .* .HTTP 401.$") as caught:
        azure.for_commit(api, form.repository, C3)
    assert caught.value.exit_code == 3


@pytest.mark.parametrize("status", [203, 401])
def test_a_sign_in_page_is_a_refused_token_in_one_line(api: Api, form: Form,
                                                       httpserver: HTTPServer,
                                                       status: int) -> None:
    httpserver.expect_request(form.prefix + "/pullrequestquery").respond_with_data(
        (FIXTURES / "sign_in_page.html").read_text(encoding="utf-8"), status=status,
        content_type="text/html; charset=utf-8")
    with pytest.raises(ProviderError) as caught:
        azure.for_commit(api, form.repository, C3)
    message = caught.value.message
    assert caught.value.exit_code == 3
    assert f"HTTP {status}: Azure DevOps answered with its sign-in page" in message
    assert "\n" not in message and "<" not in message and "api-version" not in message
    assert "Code (Read)" in (caught.value.remedy or "")
    assert len(httpserver.log) == 1  # a refused token is not retried


def test_429_waits_as_long_as_retry_after_says(api: Api, form: Form, httpserver: HTTPServer,
                                               waits: list[float]) -> None:
    httpserver.expect_oneshot_request(form.prefix + "/pullrequestquery").respond_with_json(
        fixture("error_429.json"), status=429,
        headers={"Retry-After": "3", "X-RateLimit-Resource": "ATCPU",
                 "X-RateLimit-Delay": "0.25", "X-RateLimit-Limit": "200",
                 "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1717416000"})
    serve_query(httpserver, form, MERGE, fixture("pullrequestquery_merge_commit.json"))
    assert azure.for_commit(api, form.repository, MERGE) == [2417]
    assert waits == [3.0]


def test_rate_limited_past_every_attempt_is_exit_3_with_azures_words(
        form: Form, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFIDAVIT_HTTP_RETRIES", "2")
    api = azure.connect(form.base, PAT, None)
    api.sleep = lambda seconds: None
    httpserver.expect_request(form.prefix + "/pullrequestquery").respond_with_json(
        fixture("error_429.json"), status=429, headers={"Retry-After": "1"})
    with pytest.raises(ProviderError, match="failed after 2 attempts .HTTP 429: TF400733"):
        azure.for_commit(api, form.repository, C3)


def test_500_then_success(api: Api, form: Form, httpserver: HTTPServer,
                          waits: list[float]) -> None:
    httpserver.expect_oneshot_request(form.prefix + "/pullrequests/2417").respond_with_json(
        fixture("error_500.json"), status=500)
    serve_2417(httpserver, form)
    assert azure.get(api, form.repository, 2417)["state"] == "merged"
    assert waits == [0.5]


def test_an_api_version_a_server_does_not_know_is_shown_with_its_words(
        api: Api, form: Form, httpserver: HTTPServer) -> None:
    serve_query(httpserver, form, C3, fixture("error_400_version.json"), status=400)
    with pytest.raises(NotFoundError, match="HTTP 400.: VS800071: .*out of range"):
        azure.for_commit(api, form.repository, C3)


@pytest.mark.parametrize("body, words", [
    ({"value": []}, "did not answer the results"),
    ({"queries": [], "results": ["2417"]}, "not an object"),
    ({"queries": [], "results": [{C3: {"pullRequestId": 2417}}]}, "not a list"),
    ({"queries": [], "results": [{C3: [{"pullRequestId": "2417"}]}]}, "without a pullRequestId"),
    ([], "did not answer the results"),
])
def test_a_query_answer_of_another_shape_is_exit_3(api: Api, form: Form,
                                                   httpserver: HTTPServer, body: Any,
                                                   words: str) -> None:
    serve_query(httpserver, form, C3, body)
    with pytest.raises(ProviderError, match=words) as caught:
        azure.for_commit(api, form.repository, C3)
    assert caught.value.exit_code == 3 and "\n" not in caught.value.message


def test_a_pull_request_that_shows_up_on_the_third_poll(api: Api, form: Form,
                                                        httpserver: HTTPServer) -> None:
    answers = [fixture("pullrequestquery_none.json"), fixture("pullrequestquery_none.json"),
               fixture("pullrequestquery_merge_commit.json")]

    def answer(request: Request) -> Response:
        return Response(json.dumps(answers.pop(0)), content_type="application/json")

    httpserver.expect_request(form.prefix + "/pullrequestquery", method="POST",
                              json=query_for(MERGE)).respond_with_handler(answer)
    serve_2417(httpserver, form)
    now, slept = [100.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    found = find(azure, api, form.repository, commit=MERGE, number=None, max_wait=30.0,
                 sleep=sleep, clock=lambda: now[0])
    assert [p["number"] for p in found.pull_requests] == [2417]
    assert (found.polls, found.waited, slept) == (3, 3.0, [1.0, 2.0])
    assert found.pull_requests[0]["merge_commit"] == MERGE


def test_no_pull_request_within_the_wait_is_none(api: Api, form: Form,
                                                 httpserver: HTTPServer) -> None:
    serve_query(httpserver, form, C5, fixture("pullrequestquery_none.json"))
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    found = find(azure, api, form.repository, commit=C5, number=None, max_wait=4.0,
                 sleep=sleep, clock=lambda: now[0])
    assert (found.pull_requests, found.polls, found.waited) == ([], 4, 4.0)


# -- one pull request ------------------------------------------------------------------------

def test_a_completed_pull_request_with_every_vote_and_commit(api: Api, form: Form,
                                                             httpserver: HTTPServer) -> None:
    serve_2417(httpserver, form)
    pull = azure.get(api, form.repository, 2417)
    assert {k: v for k, v in pull.items() if k not in ("reviews", "commits")} == {
        "provider": "azure",
        "url": "https://dev.azure.com/fabrikam/Fabrikam%20Fiber/_git/payments-api"
               "/pullrequest/2417",
        "number": 2417,
        "title": "Add idempotency keys to the refund endpoint",
        "state": "merged",
        "author": ANA,
        "created_at": "2024-06-03T08:15:01.9633428Z",
        "merged_at": "2024-06-04T11:05:18.2231094Z",
        "head": {"ref": "feature/refund-idempotency", "sha": C3},
        "base": {"ref": "main", "sha": T2},
        "merge_commit": MERGE,
    }
    assert pull["reviews"] == [
        # page 1 of the threads: heads C1 (iteration 1) and C2 (iteration 2, 13:40:51)
        review(BEN, "approved", "2024-06-03T10:21:44.301Z", C1),
        review(FARID, "changes_requested", "2024-06-03T11:30:05.88Z", C1),  # vote -5
        review(EMMA, "approved", "2024-06-03T14:05:09.12Z", C2),
        review(EMMA, "dismissed", "2024-06-03T15:48:30Z", C2),  # reset to 0
        # page 2: head C3 (iteration 3)
        review(CHLOE, "approved", "2024-06-04T09:30:12.7Z", C3),
        review(DEV, "approved_with_suggestions", "2024-06-04T09:55:48Z", C3),  # vote 5
        review(CHLOE, "changes_requested", "2024-06-04T10:12:03.44Z", C3),  # vote -10
        review(FARID, "approved", "2024-06-04T10:40:27Z", C3),
        review(ANA, "approved", "2024-06-04T10:50:00.5Z", C3),  # the author's own vote
    ]  # the team's rolled-up vote, comments, pushes and merge attempts are not reviews
    assert pull["commits"] == [
        {"sha": C1, "author_name": "Ana Silva", "author_email": "ana.silva@fabrikam.example",
         "author_login": None, "authored_at": "2024-06-03T08:02:55Z",
         "message": "Add idempotency keys to POST /refunds",
         "signature": {"verified": None, "state": None}},
        {"sha": C2, "author_name": "Ana Silva", "author_email": "ana@ana-laptop.local",
         "author_login": None, "authored_at": "2024-06-03T13:31:40Z",
         "message": "Cover the retry path in tests",
         "signature": {"verified": None, "state": None}},
        {"sha": C3, "author_name": "Ana Silva", "author_email": "ana.silva@fabrikam.example",
         "author_login": None, "authored_at": "2024-06-04T08:58:12Z",
         "message": "Store idempotency keys for 24 hours",
         "signature": {"verified": None, "state": None}},
    ]
    PullRequest.model_validate(pull)  # the predicate's model takes it as it is
    asked = [(request.path, request.args.get("continuationToken")) for request, _ in
             httpserver.log]
    assert (form.prefix + "/pullrequests/2417/threads", TOKENS[0]) in asked
    assert (form.prefix + "/pullrequests/2417/commits", TOKENS[0]) in asked
    assert all(request.args.get("api-version") == form.version
               for request, _ in httpserver.log)


def test_an_approval_of_an_old_head_names_that_head(api: Api, form: Form,
                                                    httpserver: HTTPServer) -> None:
    serve_2417(httpserver, form)
    pull = azure.get(api, form.repository, 2417)
    assert [r for r in pull["reviews"] if r["reviewer"] == BEN] == [
        review(BEN, "approved", "2024-06-03T10:21:44.301Z", C1)]
    assert pull["head"]["sha"] == C3


def test_approval_then_rejection_by_one_reviewer_keeps_both_in_order(
        api: Api, form: Form, httpserver: HTTPServer) -> None:
    serve_2417(httpserver, form)
    chloe = [r for r in azure.get(api, form.repository, 2417)["reviews"]
             if r["reviewer"] == CHLOE]
    assert [r["state"] for r in chloe] == ["approved", "changes_requested"]


def test_the_four_eyes_rule_on_a_recorded_azure_pull_request(api: Api, form: Form,
                                                             httpserver: HTTPServer) -> None:
    serve_2417(httpserver, form)
    pull = azure.get(api, form.repository, 2417)
    assert approvals(pull, allow_stale=False) == {
        "counted": [DEV["login"], FARID["login"]],  # vote 5 approves; -5 then 10 at the head
        "stale": [BEN["login"]],  # approved C1, not the final head C3
        "authors": [ANA["login"]],
        "cancelled": [CHLOE["login"], EMMA["login"]],  # rejected after; reset to 0
    }
    assert approvals(pull, allow_stale=True)["counted"] == [BEN["login"], DEV["login"],
                                                            FARID["login"]]
    why = shortfall([pull], 3, allow_stale=False, asked_by="--require-approvals")
    assert why is not None and why.startswith("pull request #2417 has 2 approvals of its "
                                              f"final head {C3[:12]}")
    assert shortfall([pull], 2, allow_stale=False, asked_by="--require-approvals") is None


def test_a_draft_by_a_deleted_account(api: Api, form: Form, httpserver: HTTPServer) -> None:
    serve_pull(httpserver, form, 2419)
    pull = azure.get(api, form.repository, 2419)
    assert pull["state"] == "draft"
    assert pull["author"] is None
    assert pull["merged_at"] is None and pull["merge_commit"] is None
    assert pull["head"] == {"ref": "users/contractor/batch-settlement", "sha": C4}
    assert pull["reviews"] == []
    assert [(c["sha"], c["author_name"]) for c in pull["commits"]] == [
        (C4, "Former Contractor")]


@pytest.mark.parametrize("status, draft, state", [("abandoned", False, "closed"),
                                                  ("abandoned", True, "closed"),
                                                  ("active", False, "open")])
def test_abandoned_is_closed_and_active_is_open(api: Api, form: Form, httpserver: HTTPServer,
                                                status: str, draft: bool, state: str) -> None:
    pull = {**fixture("pullrequest_2419.json"), "status": status, "isDraft": draft}
    if status == "abandoned":
        pull["closedDate"] = "2024-06-07T10:00:00.01Z"
    serve_pull(httpserver, form, 2419, pull=pull)
    record = azure.get(api, form.repository, 2419)
    assert record["state"] == state
    assert record["merged_at"] is None


@pytest.mark.parametrize("created_by", [None, {}, {"displayName": "", "uniqueName": ""},
                                        {"id": "00000000-0000-0000-0000-000000000000",
                                         "displayName": "Unknown", "uniqueName": "unknown"},
                                        "ana.silva@fabrikam.example"])
def test_an_author_azure_cannot_name_is_none(api: Api, form: Form, httpserver: HTTPServer,
                                             created_by: Any) -> None:
    pull = {**fixture("pullrequest_2419.json"), "createdBy": created_by}
    serve_pull(httpserver, form, 2419, pull=pull)
    assert azure.get(api, form.repository, 2419)["author"] is None


def test_an_approval_reset_by_a_push_is_a_dismissal_without_a_time(
        api: Api, form: Form, httpserver: HTTPServer) -> None:
    pull = fixture("pullrequest_2421.json")
    pull["lastMergeSourceCommit"]["commitId"] = C5  # Azure's trial merge not yet rerun
    serve_pull(httpserver, form, 2421, pull=pull)
    record = azure.get(api, form.repository, 2421)
    assert record["state"] == "open"
    assert record["author"] == {"login": "Build\\c0ffee00-1234-4cde-8f00-abcdef012345",
                                "name": "Fabrikam Fiber Build Service (fabrikam)",
                                "type": "Bot"}
    assert record["head"] == {"ref": "deps/gateway-sdk-4.2.1", "sha": C6}  # the last push
    assert record["merge_commit"] == TRIAL_MERGE
    assert record["reviews"] == [review(BEN, "approved", "2024-06-06T08:12:31.4Z", C5),
                                 review(BEN, "dismissed", None, None)]
    assert approvals(record, allow_stale=True)["cancelled"] == [BEN["login"]]


def test_a_vote_no_thread_recorded_is_added_without_a_time_or_commit(
        api: Api, form: Form, httpserver: HTTPServer) -> None:
    pull = fixture("pullrequest_2421.json")
    dev = {**copy.deepcopy(fixture("pullrequest_2417.json")["reviewers"][2]), "vote": 10}
    pull["reviewers"] = [pull["reviewers"][0] | {"vote": 10}, dev]
    serve_pull(httpserver, form, 2421, pull=pull)
    record = azure.get(api, form.repository, 2421)
    assert record["reviews"] == [review(BEN, "approved", "2024-06-06T08:12:31.4Z", C5),
                                 review(DEV, "approved", None, None)]
    assert approvals(record, allow_stale=False)["stale"] == [BEN["login"], DEV["login"]]


def test_a_team_server_vote_thread_names_its_voter_by_tf_id(api: Api, form: Form,
                                                            httpserver: HTTPServer) -> None:
    """Team Foundation Server's vote threads name the voter in ``CodeReviewVotedByTfId`` and
    ``CodeReviewVotedByDisplayName``, and their comment's author is a service account."""
    threads = []
    for thread_id, voter_id, name in (
            (5002, "8D2E4B61-0F3A-4C59-A7E2-6B1C9D0E3F42", "Ben Okoro"),
            (5010, "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "Gone Reviewer")):
        thread = only_thread("pullrequest_2417_threads_page1.json" if thread_id == 5002
                             else "pullrequest_2417_threads_page2.json", thread_id)
        del thread["identities"]
        properties = thread["properties"]
        for name_of in ("CodeReviewVotedByIdentity", "CodeReviewVotedByInitiatorIdentity"):
            del properties[name_of]
        properties["CodeReviewVotedByTfId"] = {"$type": "System.String", "$value": voter_id}
        properties["CodeReviewVotedByDisplayName"] = {"$type": "System.String", "$value": name}
        thread["comments"][0]["author"] = {
            "id": "41113706-4320-4083-9150-925feb93fc22", "isContainer": True,
            "displayName": "[DefaultCollection]\\Project Collection Service Accounts"}
        threads.append(thread)
    serve_2417(httpserver, form, threads=[{"value": threads, "count": 2}])
    reviews = azure.get(api, form.repository, 2417)["reviews"]
    assert reviews[:2] == [
        review(BEN, "approved", "2024-06-03T10:21:44.301Z", C1),  # found among the reviewers
        review({"login": None, "name": "Gone Reviewer", "type": "User"},
               "approved_with_suggestions", "2024-06-04T09:55:48Z", C3)]


def test_a_vote_thread_without_identities_is_its_comment_authors_vote(
        api: Api, form: Form, httpserver: HTTPServer) -> None:
    mine = only_thread("pullrequest_2417_threads_page2.json", 5012)
    service = only_thread("pullrequest_2417_threads_page2.json", 5010)
    deleted = only_thread("pullrequest_2417_threads_page2.json", 5009)
    for thread in (mine, service):
        del thread["identities"], thread["properties"]["CodeReviewVotedByIdentity"]
    service["comments"][0]["author"] = {"displayName": "[fabrikam]\\Service Accounts",
                                        "id": "41113706-4320-4083-9150-925feb93fc22",
                                        "isContainer": True}
    deleted["identities"] = {}  # the account the thread names is gone
    serve_2417(httpserver, form, threads=[{"value": [deleted, service, mine], "count": 3}])
    reviews = azure.get(api, form.repository, 2417)["reviews"]
    assert reviews[:3] == [review(None, "approved", "2024-06-04T09:30:12.7Z", C3),
                           review(None, "approved_with_suggestions", "2024-06-04T09:55:48Z", C3),
                           review(FARID, "approved", "2024-06-04T10:40:27Z", C3)]


def test_the_web_url_is_built_from_the_base_url_when_azure_gives_none(
        api: Api, form: Form, httpserver: HTTPServer) -> None:
    pull = fixture("pullrequest_2419.json")
    del pull["repository"]["webUrl"]
    serve_pull(httpserver, form, 2419, pull=pull)
    web = httpserver.url_for("/").rstrip("/") + form.prefix.replace(" ", "%20").replace(
        "/_apis/git/repositories/", "/_git/")
    assert azure.get(api, form.repository, 2419)["url"] == web + "/pullrequest/2419"


def test_an_unknown_pull_request_is_exit_2(api: Api, form: Form,
                                           httpserver: HTTPServer) -> None:
    serve(httpserver, form, "/pullrequests/9999", fixture("error_404_pullrequest.json"),
          status=404)
    with pytest.raises(NotFoundError, match="has no pull request 9999: TF401180") as caught:
        azure.get(api, form.repository, 9999)
    assert caught.value.exit_code == 2


def test_a_pull_request_of_an_unknown_repository_is_exit_2(api: Api, form: Form,
                                                           httpserver: HTTPServer) -> None:
    serve(httpserver, form, "/pullrequests/2417", fixture("error_404_repository.json"),
          status=404)
    with pytest.raises(NotFoundError, match="unknown repository .*TF401019") as caught:
        azure.get(api, form.repository, 2417)
    assert caught.value.exit_code == 2


def _status(pull: dict[str, Any]) -> None:
    pull["status"] = "notSet"


def _vote(pull: dict[str, Any]) -> None:
    pull["reviewers"][0]["vote"] = 7


def _commits(pages: list[Any]) -> None:
    del pages[1]["value"][0]["commitId"]


def _thread_vote(pages: list[Any]) -> None:
    pages[0]["value"][1]["properties"]["CodeReviewVoteResult"]["$value"] = "approve"


@pytest.mark.parametrize("pull_change, commits_change, threads_change, words", [
    (_status, None, None, "status 'notSet'"),
    (_vote, None, None, "vote 7"),
    (None, _commits, None, "without a commitId"),
    (None, None, _thread_vote, "vote thread 5002 of pull request 2417 has the vote 'approve'"),
])
def test_a_pull_request_of_another_shape_is_exit_3(
        api: Api, form: Form, httpserver: HTTPServer, pull_change: Any, commits_change: Any,
        threads_change: Any, words: str) -> None:
    pull = fixture("pullrequest_2417.json")
    commits = [fixture("pullrequest_2417_commits_page1.json"),
               fixture("pullrequest_2417_commits_page2.json")]
    threads = [fixture("pullrequest_2417_threads_page1.json"),
               fixture("pullrequest_2417_threads_page2.json")]
    for change, target in ((pull_change, pull), (commits_change, commits),
                           (threads_change, threads)):
        if change is not None:
            change(target)
    serve_pull(httpserver, form, 2417, pull=pull, threads=threads, commits=commits)
    with pytest.raises(ProviderError, match=words) as caught:
        azure.get(api, form.repository, 2417)
    assert caught.value.exit_code == 3 and "\n" not in caught.value.message


@pytest.mark.parametrize("path, body, words", [
    ("", [fixture("pullrequest_2417.json")], "did not answer a pull request"),
    ("/iterations", [{"id": 1}], "did not answer an object with a 'value' list"),
    ("/threads", {"value": ["5002"]}, "listed something that is not an object"),
])
def test_a_list_of_another_shape_is_exit_3(api: Api, form: Form, httpserver: HTTPServer,
                                           path: str, body: Any, words: str) -> None:
    serve(httpserver, form, f"/pullrequests/2417{path}", body)
    serve_2417(httpserver, form)  # the broken answer above takes precedence where it is
    with pytest.raises(ProviderError, match=words) as caught:
        azure.get(api, form.repository, 2417)
    assert caught.value.exit_code == 3
