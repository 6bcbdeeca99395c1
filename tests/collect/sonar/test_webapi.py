"""The SonarQube Web API collector against a local server answering the documented JSON
shapes (tests/collect/sonar/webapi/, see its SOURCES.md): a pending analysis waited for, a
failed gate with its conditions, every page of analyses read, each refusal its exit code, and
no wait longer than ``max_wait``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from affidavit.collect import sonar
from affidavit.collect.pullrequests.http import Api
from affidavit.collect.sonar import webapi
from affidavit.compliance.sonar import sonar_verdict
from affidavit.errors import NotFoundError, ProviderError, UsageError
from affidavit.models.sonar import SonarPredicate

FIXTURES = Path(__file__).parent / "webapi"
TOKEN = "squ_3f1c9a7e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a"
TASK = "AZ1k9Qm3TqL0cXvB7uYh"
ANALYSIS = "AZ1k9RbD5sYp2wQe8tJm"
PROJECT = "octo-org_widgets"
NEWEST = "2b66fd261ee5c6cfc8de7fa466bab600bcfe4f69"  # analyses_page1.json, first
OLDEST = "3f786850e387550fdab836ed7e6dc881de23001b"  # analyses_page2.json
PR_HEAD = "c1dd3d8a5b9e4f3c6f0e2a7b8d9e0f1a2b3c4d5e"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class Clock:
    """Time that passes only when the code sleeps (and a little per request)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def strict_server(httpserver: HTTPServer) -> Any:
    httpserver.no_handler_status_code = 599  # an unexpected request fails fast, unretried
    yield
    httpserver.check_assertions()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(httpserver: HTTPServer, clock: Clock) -> Api:
    return webapi.connect(httpserver.url_for("/sonar"), TOKEN, sleep=clock.sleep)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webapi, "PAGE_SIZE", 2)  # the fixtures' pages hold two analyses


def serve_task(httpserver: HTTPServer, *names: str) -> None:
    for name in names:
        httpserver.expect_ordered_request("/sonar/api/ce/task", query_string={"id": TASK},
                                          headers={"Authorization": f"Bearer {TOKEN}"}
                                          ).respond_with_json(fixture(name))


def serve_page(httpserver: HTTPServer, page: int, name: str, **scope: str) -> None:
    httpserver.expect_ordered_request(
        "/sonar/api/project_analyses/search",
        query_string={"project": PROJECT, **scope, "ps": "2", "p": str(page)}
    ).respond_with_json(fixture(name))


def serve_gate(httpserver: HTTPServer, analysis: str, name: str) -> None:
    httpserver.expect_ordered_request("/sonar/api/qualitygates/project_status",
                                      query_string={"analysisId": analysis}
                                      ).respond_with_json(fixture(name))


def by_task(api: Api, clock: Clock, max_wait: float = 60.0, **kw: Any) -> dict[str, Any]:
    return sonar.by_task(api, TASK, project_key=PROJECT, max_wait=max_wait, sleep=clock.sleep,
                         clock=clock, **kw)


def test_a_pending_analysis_is_waited_for_then_its_gate_read(
        api: Api, clock: Clock, httpserver: HTTPServer) -> None:
    serve_task(httpserver, "task_pending.json", "task_in_progress.json", "task_success.json")
    serve_page(httpserver, 1, "analyses_page1.json", branch="main")
    serve_gate(httpserver, ANALYSIS, "project_status_ok.json")
    predicate = by_task(api, clock, commit=NEWEST)
    SonarPredicate.model_validate(predicate)
    assert clock.sleeps == [1.0, 2.0]
    assert predicate["lookup"] == {"by": "task", "task_id": TASK, "task_status": "SUCCESS",
                                   "task_error": None, "polls": 3, "waited_seconds": 3.0,
                                   "max_wait_seconds": 60.0}
    assert predicate["analysis"] == {"id": ANALYSIS, "revision": NEWEST,
                                     "date": "2025-03-14T09:26:50+0000"}
    assert (predicate["server_url"], predicate["project_key"], predicate["branch"],
            predicate["pull_request"]) == (httpserver.url_for("/sonar"), PROJECT, "main", None)
    gate = predicate["quality_gate"]
    assert gate["status"] == "OK" and gate["ignored_conditions"] is False
    assert gate["conditions"][0] == {
        "metric_key": "new_coverage", "comparator": "LT", "error_threshold": "80",
        "warning_threshold": None, "actual_value": "91.30434782608695", "status": "OK"}
    assert predicate["dashboard_url"] == (
        f"{httpserver.url_for('/sonar')}/dashboard?id={PROJECT}&branch=main")
    assert sonar_verdict(predicate) == (True, [])
    assert TOKEN not in json.dumps(predicate)


def test_a_failed_gate_names_each_failing_condition(api: Api, clock: Clock,
                                                    httpserver: HTTPServer) -> None:
    serve_task(httpserver, "task_success.json")
    serve_page(httpserver, 1, "analyses_page1.json", branch="main")
    serve_gate(httpserver, ANALYSIS, "project_status_error.json")
    predicate = by_task(api, clock, commit=NEWEST)
    assert [c["status"] for c in predicate["quality_gate"]["conditions"]] == [
        "ERROR", "OK", "ERROR", "ERROR"]
    assert sonar_verdict(predicate) == (False, [
        f"the quality gate of project {PROJECT} is ERROR: 3 failing conditions",
        "new_coverage 61.2 < 80", "new_violations 14 > 0", "new_reliability_rating 3 > 1"])
    assert clock.sleeps == []


def test_a_pull_request_analysis_is_read_on_its_pull_request(
        httpserver: HTTPServer, clock: Clock, api: Api) -> None:
    serve_task(httpserver, "task_success_pull_request.json")
    serve_page(httpserver, 1, "analyses_pull_request.json", pullRequest="1347")
    serve_gate(httpserver, "AZ1mC5aF3vU8zJcP4lXr", "project_status_ok.json")
    predicate = by_task(api, clock, branch="main")
    assert (predicate["branch"], predicate["pull_request"]) == (None, "1347")
    assert predicate["analysis"]["revision"] == PR_HEAD
    assert predicate["dashboard_url"].endswith(f"?id={PROJECT}&pullRequest=1347")


def test_an_analysis_of_another_commit_is_not_compliant(api: Api, clock: Clock,
                                                       httpserver: HTTPServer) -> None:
    serve_task(httpserver, "task_success.json")
    serve_page(httpserver, 1, "analyses_page1.json", branch="main")
    serve_gate(httpserver, ANALYSIS, "project_status_ok.json")
    predicate = by_task(api, clock, commit=OLDEST)
    assert sonar_verdict(predicate) == (False, [
        f"analysis {ANALYSIS} is of revision {NEWEST[:12]}, not of commit {OLDEST[:12]}"])


def test_a_failed_task_is_recorded_without_a_gate(api: Api, clock: Clock,
                                                  httpserver: HTTPServer) -> None:
    serve_task(httpserver, "task_failed.json")
    predicate = by_task(api, clock)
    SonarPredicate.model_validate(predicate)
    assert predicate["analysis"] is None and predicate["quality_gate"] is None
    assert predicate["lookup"]["task_status"] == "FAILED"
    compliant, reasons = sonar_verdict(predicate)
    assert not compliant
    assert reasons[0].startswith(f"the analysis task {TASK} ended FAILED: Date of analysis "
                                 "cannot be older")


def test_the_wait_stops_at_max_wait(api: Api, clock: Clock, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/sonar/api/ce/task", query_string={"id": TASK}
                              ).respond_with_json(fixture("task_pending.json"))
    predicate = by_task(api, clock, max_wait=10.0)
    assert clock.sleeps == [1.0, 2.0, 4.0, 3.0]  # the last pause is cut to what is left
    assert sum(clock.sleeps) == 10.0
    assert predicate["lookup"]["polls"] == 5
    assert predicate["lookup"]["waited_seconds"] == 10.0
    assert sonar_verdict(predicate) == (False, [
        f"the analysis task {TASK} was still PENDING after 10 s (--max-wait): no quality "
        "gate yet"])


def test_max_wait_zero_asks_once(api: Api, clock: Clock, httpserver: HTTPServer) -> None:
    serve_task(httpserver, "task_in_progress.json")
    predicate = by_task(api, clock, max_wait=0)
    assert (clock.sleeps, predicate["lookup"]["polls"]) == ([], 1)
    assert predicate["lookup"]["task_status"] == "IN_PROGRESS"


def test_a_revision_is_found_on_page_two(api: Api, clock: Clock,
                                         httpserver: HTTPServer) -> None:
    serve_page(httpserver, 1, "analyses_page1.json")
    serve_page(httpserver, 2, "analyses_page2.json")
    serve_gate(httpserver, "AZ1hT4kM6zQw9eLp1yRc", "project_status_error.json")
    predicate = sonar.by_revision(api, PROJECT, OLDEST.upper(), max_wait=0, sleep=clock.sleep,
                                  clock=clock)
    assert predicate["analysis"] == {"id": "AZ1hT4kM6zQw9eLp1yRc", "revision": OLDEST,
                                     "date": "2025-03-12T08:44:31+0000"}
    assert predicate["lookup"]["by"] == "revision"
    assert sonar_verdict(predicate)[0] is False


def test_a_revision_not_analysed_yet_is_asked_again_on_the_first_page(
        api: Api, clock: Clock, httpserver: HTTPServer) -> None:
    serve_page(httpserver, 1, "analyses_page1.json")
    serve_page(httpserver, 2, "analyses_page2.json")
    serve_page(httpserver, 1, "analyses_page1.json")
    newer = fixture("analyses_page1.json")
    newer["analyses"][0].update(key="AZ2new", revision=PR_HEAD)
    httpserver.expect_ordered_request(
        "/sonar/api/project_analyses/search",
        query_string={"project": PROJECT, "ps": "2", "p": "1"}).respond_with_json(newer)
    serve_gate(httpserver, "AZ2new", "project_status_ok.json")
    predicate = sonar.by_revision(api, PROJECT, PR_HEAD, max_wait=30, sleep=clock.sleep,
                                  clock=clock)
    assert clock.sleeps == [1.0, 2.0]
    assert predicate["analysis"]["id"] == "AZ2new"
    assert predicate["lookup"]["polls"] == 3
    assert sonar_verdict(predicate) == (True, [])


def test_no_analysis_of_the_revision_within_max_wait(api: Api, clock: Clock,
                                                    httpserver: HTTPServer) -> None:
    httpserver.expect_request("/sonar/api/project_analyses/search").respond_with_json(
        fixture("analyses_empty.json"))
    predicate = sonar.by_revision(api, PROJECT, PR_HEAD, branch="feature/x", max_wait=2,
                                  sleep=clock.sleep, clock=clock)
    assert clock.sleeps == [1.0, 1.0]
    assert predicate["analysis"] is None and predicate["quality_gate"] is None
    assert sonar_verdict(predicate) == (False, [
        f"no analysis of commit {PR_HEAD[:12]} in project {PROJECT} branch feature/x after "
        "2 s (--max-wait)"])


def test_an_unknown_project_is_not_found(api: Api, clock: Clock,
                                         httpserver: HTTPServer) -> None:
    httpserver.expect_request("/sonar/api/project_analyses/search").respond_with_json(
        fixture("error_404_project.json"), status=404)
    with pytest.raises(NotFoundError) as caught:
        sonar.by_revision(api, "octo-org_gadgets", NEWEST, max_wait=30, sleep=clock.sleep,
                          clock=clock)
    assert caught.value.exit_code == 2
    text = caught.value.diagnostics()
    assert "project 'octo-org_gadgets' was not found" in text
    assert "Component key 'octo-org_gadgets' not found" in text and "--project-key" in text
    assert clock.sleeps == []  # not found is not "not yet"


def test_an_unknown_task_is_not_found(api: Api, clock: Clock, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/sonar/api/ce/task").respond_with_json(
        fixture("error_404_task.json"), status=404)
    with pytest.raises(NotFoundError, match="analysis task .* was not found.*No activity"):
        by_task(api, clock)


@pytest.mark.parametrize(("status", "name", "said"), [(401, "error_401.json",
                                                       "Authentication is required"),
                                                      (403, "error_403.json",
                                                       "Insufficient privileges")])
def test_a_refused_token_names_the_token_flag(api: Api, clock: Clock, httpserver: HTTPServer,
                                              status: int, name: str, said: str) -> None:
    httpserver.expect_request("/sonar/api/ce/task").respond_with_json(fixture(name),
                                                                      status=status)
    with pytest.raises(ProviderError) as caught:
        by_task(api, clock)
    text = caught.value.diagnostics()
    assert caught.value.exit_code == 3
    assert f"token was refused for /api/ce/task (HTTP {status}): {said}" in text
    assert "--sonar-token or AFFIDAVIT_SONAR_TOKEN" in text
    assert TOKEN not in text


def test_no_token_sends_no_header_and_says_one_is_wanted(httpserver: HTTPServer,
                                                         clock: Clock) -> None:
    bare = webapi.connect(httpserver.url_for("/sonar"), None, sleep=clock.sleep)
    httpserver.expect_request("/sonar/api/ce/task").respond_with_data("", status=401)
    with pytest.raises(ProviderError) as caught:
        by_task(bare, clock)
    assert "(the server wants a token: --sonar-token" in caught.value.diagnostics()
    assert "Authorization" not in httpserver.log[0][0].headers


def test_5xx_and_429_are_retried_with_backoff(api: Api, clock: Clock,
                                              httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/sonar/api/ce/task").respond_with_json(
        {"errors": [{"msg": "An error has occurred"}]}, status=503)
    httpserver.expect_ordered_request("/sonar/api/ce/task").respond_with_json(
        {}, status=429, headers={"Retry-After": "3"})
    serve_task(httpserver, "task_failed.json")
    assert by_task(api, clock)["lookup"]["task_status"] == "FAILED"
    assert clock.sleeps == [0.5, 3.0]


def test_an_outage_after_the_retries_is_exit_3(api: Api, clock: Clock,
                                               httpserver: HTTPServer) -> None:
    api.attempts = 2
    httpserver.expect_request("/sonar/api/ce/task").respond_with_json(
        {"errors": [{"msg": "An error has occurred"}]}, status=502)
    with pytest.raises(ProviderError, match=r"failed after 2 attempts \(HTTP 502: An error"):
        by_task(api, clock)


def test_an_answer_of_the_wrong_shape_is_refused(api: Api, clock: Clock,
                                                 httpserver: HTTPServer) -> None:
    serve_task(httpserver, "task_success.json")
    serve_page(httpserver, 1, "analyses_page1.json", branch="main")
    httpserver.expect_request("/sonar/api/qualitygates/project_status").respond_with_json(
        {"projectStatus": {"status": "ERROR", "conditions": [{"status": "ERROR"}]}})
    with pytest.raises(ProviderError, match="condition without metricKey"):
        by_task(api, clock)


def test_a_plain_http_server_elsewhere_is_refused() -> None:
    with pytest.raises(UsageError, match="--sonar-url .*plain http"):
        webapi.connect("http://sonar.example.com", TOKEN)
