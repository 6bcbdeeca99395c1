"""The provider transport against a real HTTP server: every pager style to its last page,
retries and their waits, and each failure mapped to its exit code."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from affidavit.collect.pullrequests import http
from affidavit.collect.pullrequests.http import Api
from affidavit.errors import NotFoundError, ProviderError, UsageError


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def api(httpserver: HTTPServer, waits: list[float]) -> Api:
    return Api("github", httpserver.url_for("/api"), {"Authorization": "Bearer sekrit"},
               sleep=waits.append)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers,
                    content_type="application/json")


def test_link_pages_follow_next_to_the_last(api: Api, httpserver: HTTPServer) -> None:
    page2 = httpserver.url_for("/api/items") + "?page=2"
    page3 = httpserver.url_for("/api/items") + "?page=3"
    httpserver.expect_ordered_request("/api/items", query_string="per_page=100").respond_with_json(
        [1, 2], headers={"Link": f'<{page2}>; rel="next", <{page3}>; rel="last"'})
    httpserver.expect_ordered_request("/api/items", query_string="page=2").respond_with_json(
        [3], headers={"Link": f'<{page3}>; rel="next"'})
    httpserver.expect_ordered_request("/api/items", query_string="page=3").respond_with_json(
        [4], headers={"Link": f'<{page2}>; rel="prev"'})
    assert list(api.link_pages("/items", {"per_page": 100})) == [1, 2, 3, 4]
    httpserver.check_assertions()


def test_the_token_goes_in_the_header(api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/x", headers={"Authorization": "Bearer sekrit"}
                              ).respond_with_json({"ok": True})
    assert api.get("/x") == {"ok": True}


def test_gitlab_pages_follow_x_next_page(api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/api/mrs", query_string="per_page=100").respond_with_json(
        [{"iid": 1}], headers={"x-next-page": "2"})
    httpserver.expect_ordered_request("/api/mrs", query_string="per_page=100&page=2"
                                      ).respond_with_json([{"iid": 2}],
                                                          headers={"x-next-page": ""})
    assert [m["iid"] for m in api.gitlab_pages("/mrs")] == [1, 2]


def test_bitbucket_pages_follow_next(api: Api, httpserver: HTTPServer) -> None:
    following = httpserver.url_for("/api/prs") + "?page=2&pagelen=50"
    httpserver.expect_ordered_request("/api/prs", query_string="pagelen=50").respond_with_json(
        {"values": [1], "next": following, "pagelen": 50})
    httpserver.expect_ordered_request("/api/prs", query_string="page=2&pagelen=50"
                                      ).respond_with_json({"values": [2], "pagelen": 50})
    assert list(api.bitbucket_pages("/prs")) == [1, 2]


def test_data_center_pages_follow_next_page_start(api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/api/prs", query_string="limit=100").respond_with_json(
        {"values": [1, 2], "isLastPage": False, "nextPageStart": 2, "start": 0})
    httpserver.expect_ordered_request("/api/prs", query_string="limit=100&start=2"
                                      ).respond_with_json({"values": [3], "isLastPage": True})
    assert list(api.server_pages("/prs")) == [1, 2, 3]


def test_data_center_page_without_its_next_start_is_refused(api: Api,
                                                            httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/prs").respond_with_json({"values": [1],
                                                             "isLastPage": False})
    with pytest.raises(ProviderError, match="nextPageStart"):
        list(api.server_pages("/prs"))


def test_azure_pages_follow_the_continuation_token(api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/api/commits", query_string="api-version=7.1"
                                      ).respond_with_json(
        {"value": [1], "count": 1}, headers={"x-ms-continuationtoken": "abc=="})
    httpserver.expect_ordered_request(
        "/api/commits", query_string={"api-version": "7.1", "continuationToken": "abc=="}
    ).respond_with_json({"value": [2], "count": 1})
    assert list(api.azure_pages("/commits", {"api-version": "7.1"})) == [1, 2]


def test_azure_skip_pages_stop_at_a_short_page(api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/api/prs", query_string={"$top": "2", "$skip": "0"}
                                      ).respond_with_json({"value": [1, 2]})
    httpserver.expect_ordered_request("/api/prs", query_string={"$top": "2", "$skip": "2"}
                                      ).respond_with_json({"value": [3]})
    assert list(api.azure_skip_pages("/prs", top=2)) == [1, 2, 3]


def test_a_list_that_never_ends_is_refused(api: Api, httpserver: HTTPServer,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "MAX_PAGES", 3)
    looping = httpserver.url_for("/api/items")
    httpserver.expect_request("/api/items").respond_with_json(
        [1], headers={"Link": f'<{looping}>; rel="next"'})
    with pytest.raises(ProviderError, match="more than 3 pages"):
        list(api.link_pages("/items"))


def test_a_next_link_to_another_host_is_refused(api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/items").respond_with_json(
        [1], headers={"Link": '<https://evil.example/steal>; rel="next"'})
    with pytest.raises(ProviderError, match="another host"):
        list(api.link_pages("/items"))


def test_500_then_success_is_retried_with_backoff(api: Api, httpserver: HTTPServer,
                                                 waits: list[float]) -> None:
    httpserver.expect_ordered_request("/api/x").respond_with_json({"message": "boom"},
                                                                  status=500)
    httpserver.expect_ordered_request("/api/x").respond_with_json({"message": "boom"},
                                                                  status=502)
    httpserver.expect_ordered_request("/api/x").respond_with_json({"ok": 1})
    assert api.get("/x") == {"ok": 1}
    assert waits == [0.5, 1.0]


def test_429_waits_as_long_as_retry_after_says(api: Api, httpserver: HTTPServer,
                                               waits: list[float]) -> None:
    httpserver.expect_ordered_request("/api/x").respond_with_json(
        {"message": "slow down"}, status=429, headers={"Retry-After": "7"})
    httpserver.expect_ordered_request("/api/x").respond_with_json({"ok": 1})
    assert api.get("/x") == {"ok": 1}
    assert waits == [7.0]
    assert api.waited == 7.0


def test_a_spent_github_rate_limit_waits_for_its_reset(api: Api, httpserver: HTTPServer,
                                                      waits: list[float]) -> None:
    import time

    reset = int(time.time()) + 5
    httpserver.expect_ordered_request("/api/x").respond_with_json(
        {"message": "API rate limit exceeded"}, status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})
    httpserver.expect_ordered_request("/api/x").respond_with_json({"ok": 1})
    assert api.get("/x") == {"ok": 1}
    assert 3.0 <= waits[0] <= 7.0


def test_a_wait_longer_than_the_bound_is_an_outage(api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/x").respond_with_json(
        {"message": "slow down"}, status=429, headers={"Retry-After": "3600"})
    with pytest.raises(ProviderError, match="rate limited for 3600 s") as caught:
        api.get("/x")
    assert caught.value.exit_code == 3


def test_an_outage_after_every_attempt_is_exit_3(api: Api, httpserver: HTTPServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    httpserver.expect_request("/api/x").respond_with_json({"message": "down"}, status=503)
    with pytest.raises(ProviderError, match=r"failed after 5 attempts \(HTTP 503: down\)") as e:
        api.get("/x")
    assert e.value.exit_code == 3


def test_a_refused_connection_is_retried_then_exit_3(waits: list[float],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AFFIDAVIT_HTTP_RETRIES", "3")
    dead = Api("gitlab", f"http://127.0.0.1:{port}/api/v4", {}, sleep=waits.append)
    with pytest.raises(ProviderError, match="failed after 3 attempts .connection error"):
        dead.get("/projects/1")
    assert waits == [0.5, 1.0]


def test_a_bad_token_is_exit_3_with_the_providers_words(api: Api,
                                                         httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/x").respond_with_json(
        {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
        status=401)
    with pytest.raises(ProviderError) as caught:
        api.get("/x")
    assert caught.value.exit_code == 3
    assert "token was refused" in caught.value.message
    assert "Bad credentials" in caught.value.message
    assert "sekrit" not in caught.value.diagnostics()


@pytest.mark.parametrize("body, words", [
    ({"error": {"message": "Access token expired"}}, "Access token expired"),  # Bitbucket
    ({"errors": [{"message": "Authentication failed"}]}, "Authentication failed"),  # DC
    ({"error": "invalid_token", "error_description": "Token was revoked"}, "invalid_token"),
    ({"message": "401 Unauthorized"}, "401 Unauthorized"),  # GitLab
])
def test_each_providers_error_words_are_shown(api: Api, httpserver: HTTPServer, body: Any,
                                             words: str) -> None:
    httpserver.expect_request("/api/x").respond_with_json(body, status=403)
    with pytest.raises(ProviderError, match=words):
        api.get("/x")


def test_a_404_is_not_found_or_none_when_asked(api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/x").respond_with_json({"message": "Not Found"}, status=404)
    assert api.get("/x", missing=True) is None
    with pytest.raises(NotFoundError) as caught:
        api.get("/x")
    assert caught.value.exit_code == 2


def test_a_status_the_caller_reads_is_returned(api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/x").respond_with_json({"message": "indexing"}, status=202)
    httpserver.expect_request("/api/y").respond_with_json({"message": "No commit found"},
                                                          status=422)
    answer = api.request("GET", "/y", statuses=(422,))
    assert answer is not None and answer.status == 422
    answer = api.request("GET", "/x")
    assert answer is not None and answer.status == 202


def test_a_body_that_is_not_json_is_exit_3(api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/x").respond_with_data("<html>proxy login</html>")
    with pytest.raises(ProviderError, match="not JSON"):
        api.get("/x")


def test_a_body_past_the_bound_is_refused(api: Api, httpserver: HTTPServer,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "MAX_BODY", 1000)
    httpserver.expect_request("/api/x").respond_with_json(["x" * 100] * 20)
    with pytest.raises(ProviderError, match="more than"):
        api.get("/x")


def test_a_list_answer_that_is_not_a_list_is_exit_3(api: Api, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/items").respond_with_json({"message": "moved"})
    with pytest.raises(ProviderError, match="did not answer a list"):
        list(api.link_pages("/items"))


@pytest.mark.parametrize("url", ["http://github.example.com/api/v3", "ftp://x/y",
                                 "https://user:pw@github.example.com", "not a url"])
def test_a_base_url_that_would_leak_the_token_is_refused(url: str) -> None:
    with pytest.raises(UsageError):
        Api("github", url, {})


def test_a_timeout_is_retried(httpserver: HTTPServer, waits: list[float],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    release = threading.Event()
    calls: list[int] = []

    def slow(request: Request) -> Response:
        calls.append(1)
        if len(calls) == 1:
            release.wait(2)
        return _json({"ok": len(calls)})

    def sleep(seconds: float) -> None:  # the one-threaded server is free once it answers
        waits.append(seconds)
        release.set()

    monkeypatch.setenv("AFFIDAVIT_HTTP_TIMEOUT", "0.3")
    httpserver.expect_request("/api/slow").respond_with_handler(slow)
    api = Api("azure", httpserver.url_for("/api"), {}, sleep=sleep)
    try:
        assert api.get("/slow") == {"ok": 2}
    finally:
        release.set()
    assert waits == [0.5]
