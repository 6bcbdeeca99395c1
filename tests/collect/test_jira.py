"""The Jira collector against a local server answering Jira's REST API with JSON of the
documented shapes (tests/collect/jira/, see its SOURCES.md): keys found in text, Cloud (v3,
basic auth) and Data Center (v2, bearer) lookups, a missing key, refused credentials,
throttling, and a base URL that is not Jira's."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from affidavit.collect import jira
from affidavit.errors import ProviderError, UsageError

FIXTURES = Path(__file__).parent / "jira"
QUERY = {"fields": "summary,status,issuetype"}
EMAIL, TOKEN, PAT = "ci@acme.example", "ATATT3xFfGF0-test-token", "NjI0OTk2-dc-pat"
BASIC = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()


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


def _api(httpserver: HTTPServer, waits: list[float], credentials: jira.Credentials,
         root: str = "") -> Any:
    return jira.connect(httpserver.url_for(root), credentials, sleep=waits.append)


def _cloud() -> jira.Credentials:
    return jira.Credentials(username=EMAIL, api_token=TOKEN)


# -- keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "projects", "keys"), [
    ("ABC-1: fix the total (see ABC-22, ABC-1)", None, ["ABC-1", "ABC-22"]),
    ("feature/ABC-123-add-login", None, ["ABC-123"]),
    ("fooABC-1 and 9ABC-2 are not keys; (ABC-3) is", None, ["ABC-3"]),
    ("P2_X-10 and A1-2", None, ["P2_X-10", "A1-2"]),
    ("A-1 is too short a project key", None, []),
    ("lower abc-1 is not the default shape", None, []),
    ("decode as UTF-8 for ABC-5", ("ABC",), ["ABC-5"]),
    ("", None, []),
])
def test_keys_in_text(text: str, projects: tuple[str, ...] | None, keys: list[str]) -> None:
    assert jira.find_keys(text, jira.key_pattern(None), projects) == keys


def test_a_pattern_of_its_own_and_keys_are_upper_cased() -> None:
    pattern = jira.key_pattern(r"(?i)ops-\d+")
    assert jira.find_keys("closes ops-12 and OPS-3", pattern) == ["OPS-12", "OPS-3"]


@pytest.mark.parametrize(("pattern", "needle"), [
    ("[A-Z", "is not a regular expression"),
    ("x*", "matches the empty string"),
])
def test_a_pattern_that_cannot_find_keys_is_a_usage_error(pattern: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        jira.key_pattern(pattern)


def test_a_pattern_matching_something_else_than_a_key_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--issue-pattern matched: 'ticket 7' is not a Jira"):
        jira.find_keys("see ticket 7", jira.key_pattern(r"ticket \d+"))


@pytest.mark.parametrize(("url", "asked", "version"), [
    ("https://acme.atlassian.net", None, "3"),
    ("https://legacy.jira.com", None, "3"),
    ("https://api.atlassian.com/ex/jira/1a11d016-8984-4c3e-b9ab-142dd06acb1b", None, "3"),
    ("https://jira.example.com/jira", None, "2"),
    ("https://acme.atlassian.net", "2", "2"),
    ("https://jira.example.com", "3", "3"),
])
def test_the_api_version(url: str, asked: str | None, version: str) -> None:
    assert jira.api_version(url, asked) == version


@pytest.mark.parametrize(("given", "needle"), [
    ({"api_token": TOKEN}, "--jira-api-token needs --jira-username"),
    ({"username": EMAIL}, "--jira-username needs --jira-api-token"),
    ({"pat": PAT, "username": EMAIL, "api_token": TOKEN}, "leave out --jira-username"),
    ({"pat": "two words"}, "--jira-pat: the token contains spaces"),
    ({"username": "a:b", "api_token": TOKEN}, "cannot be sent by HTTP basic auth"),
])
def test_credentials_that_cannot_work_are_usage_errors(given: dict[str, str],
                                                       needle: str) -> None:
    with pytest.raises(UsageError, match=needle) as caught:
        jira.Credentials(**given)
    assert "two words" not in caught.value.diagnostics()


# -- lookups ---------------------------------------------------------------------------------


def test_cloud_v3_with_basic_auth(httpserver: HTTPServer, waits: list[float]) -> None:
    httpserver.expect_ordered_request("/rest/api/3/issue/ABC-1", query_string=QUERY,
                                      headers={"Authorization": BASIC}
                                      ).respond_with_json(fixture("cloud_issue_ABC-1.json"))
    httpserver.expect_ordered_request("/rest/api/3/issue/ABC-7", query_string=QUERY
                                      ).respond_with_json(fixture("cloud_issue_ABC-7_moved.json"))
    api = _api(httpserver, waits, _cloud())
    found = jira.look_up(api, "3", ["ABC-1", "ABC-7"], _cloud())
    base = httpserver.url_for("").rstrip("/")
    assert found == [
        {"key": "ABC-1", "found": True, "jira_key": "ABC-1", "id": "10002",
         "url": f"{base}/browse/ABC-1", "summary": "Checkout shows the wrong total",
         "status": {"name": "In Review", "category": "indeterminate"}, "issue_type": "Task",
         "jira_message": None},
        {"key": "ABC-7", "found": True, "jira_key": "OPS-3", "id": "10040",
         "url": f"{base}/browse/OPS-3", "summary": "Rotate the signing key",
         "status": {"name": "Done", "category": "done"}, "issue_type": "Bug",
         "jira_message": None}]
    assert waits == []


def test_data_center_v2_with_a_personal_access_token_under_a_context_path(
        httpserver: HTTPServer, waits: list[float]) -> None:
    credentials = jira.Credentials(pat=PAT)
    httpserver.expect_ordered_request("/jira/rest/api/2/issue/OPS-42", query_string=QUERY,
                                      headers={"Authorization": f"Bearer {PAT}"}
                                      ).respond_with_json(fixture("dc_issue_OPS-42.json"))
    (issue,) = jira.look_up(_api(httpserver, waits, credentials, "/jira"), "2", ["OPS-42"],
                            credentials)
    assert (issue["summary"], issue["status"], issue["issue_type"]) == (
        "Upgrade the build agents", {"name": "To Do", "category": "new"}, "Story")
    assert issue["url"] == httpserver.url_for("/jira/browse/OPS-42")


def test_a_missing_key_is_not_found_once_the_credentials_are_proven(
        httpserver: HTTPServer, waits: list[float]) -> None:
    credentials = jira.Credentials(pat=PAT)
    httpserver.expect_ordered_request("/rest/api/2/issue/OPS-1", query_string=QUERY
                                      ).respond_with_json(fixture("dc_404.json"), status=404)
    httpserver.expect_ordered_request("/rest/api/2/myself").respond_with_json(
        {"name": "ci", "displayName": "CI"})
    httpserver.expect_ordered_request("/rest/api/2/issue/OPS-2", query_string=QUERY
                                      ).respond_with_json(fixture("dc_404.json"), status=404)
    found = jira.look_up(_api(httpserver, waits, credentials), "2", ["OPS-1", "OPS-2"],
                         credentials)
    assert [(i["key"], i["found"], i["jira_message"]) for i in found] == [
        ("OPS-1", False, "Issue Does Not Exist"), ("OPS-2", False, "Issue Does Not Exist")]
    assert found[0]["status"] is None and found[0]["summary"] is None


def test_anonymous_lookups_prove_nothing_and_report_not_found(httpserver: HTTPServer,
                                                              waits: list[float]) -> None:
    httpserver.expect_ordered_request("/rest/api/3/issue/ABC-9", query_string=QUERY,
                                      ).respond_with_json(fixture("cloud_404.json"), status=404)
    (issue,) = jira.look_up(_api(httpserver, waits, jira.Credentials()), "3", ["ABC-9"],
                            jira.Credentials())
    assert issue["jira_message"] == ("Issue does not exist or you do not have permission to "
                                     "see it.")


def test_a_refused_token_is_exit_3_naming_the_flags(httpserver: HTTPServer,
                                                    waits: list[float]) -> None:
    httpserver.expect_request("/rest/api/3/issue/ABC-1", query_string=QUERY
                              ).respond_with_json(fixture("cloud_401.json"), status=401)
    with pytest.raises(ProviderError) as caught:
        jira.look_up(_api(httpserver, waits, _cloud()), "3", ["ABC-1"], _cloud())
    text = caught.value.diagnostics()
    assert caught.value.exit_code == 3
    assert "credentials (basic) were refused for /rest/api/3/issue/ABC-1 (HTTP 401)" in text
    assert "You are not authenticated" in text
    assert "--jira-username and --jira-api-token" in text
    assert TOKEN not in text and BASIC not in text


def test_a_wrong_cloud_token_taken_for_anonymous_is_caught_by_myself(
        httpserver: HTTPServer, waits: list[float]) -> None:
    """Cloud answers a wrong API token's issue lookup with the 404 it gives an anonymous
    caller; the check that follows the first 404 tells the two apart."""
    httpserver.expect_ordered_request("/rest/api/3/issue/ABC-1", query_string=QUERY
                                      ).respond_with_json(fixture("cloud_404.json"), status=404)
    httpserver.expect_ordered_request("/rest/api/3/myself").respond_with_json(
        fixture("cloud_401.json"), status=401)
    with pytest.raises(ProviderError, match=r"refused for /rest/api/3/myself \(HTTP 401\)"):
        jira.look_up(_api(httpserver, waits, _cloud()), "3", ["ABC-1"], _cloud())


def test_a_403_names_the_pat(httpserver: HTTPServer, waits: list[float]) -> None:
    credentials = jira.Credentials(pat=PAT)
    httpserver.expect_request("/rest/api/2/issue/OPS-1", query_string=QUERY
                              ).respond_with_data("Forbidden", status=403)
    with pytest.raises(ProviderError, match=r"\(HTTP 403\): Forbidden") as caught:
        jira.look_up(_api(httpserver, waits, credentials), "2", ["OPS-1"], credentials)
    assert "(check --jira-pat (AFFIDAVIT_JIRA_PAT)" in caught.value.diagnostics()
    assert PAT not in caught.value.diagnostics()


def test_429_then_200_waits_as_retry_after_asks(httpserver: HTTPServer,
                                                waits: list[float]) -> None:
    httpserver.expect_ordered_request("/rest/api/3/issue/ABC-1", query_string=QUERY
                                      ).respond_with_response(Response(
                                          "", status=429, headers={"Retry-After": "7"}))
    httpserver.expect_ordered_request("/rest/api/3/issue/ABC-1", query_string=QUERY
                                      ).respond_with_response(Response(
                                          json.dumps({"errorMessages": ["busy"]}), status=503))
    httpserver.expect_ordered_request("/rest/api/3/issue/ABC-1", query_string=QUERY
                                      ).respond_with_json(fixture("cloud_issue_ABC-1.json"))
    (issue,) = jira.look_up(_api(httpserver, waits, _cloud()), "3", ["ABC-1"], _cloud())
    assert issue["found"] is True
    assert waits == [7.0, 1.0]  # Retry-After, then the backoff's second step


def test_an_outage_after_the_retries_is_exit_3(httpserver: HTTPServer,
                                               waits: list[float]) -> None:
    httpserver.expect_request("/rest/api/3/issue/ABC-1", query_string=QUERY
                              ).respond_with_json({"errorMessages": ["down"]}, status=502)
    with pytest.raises(ProviderError, match=r"failed after 5 attempts \(HTTP 502: down\)"):
        jira.look_up(_api(httpserver, waits, _cloud()), "3", ["ABC-1"], _cloud())
    assert len(waits) == 4


def test_a_404_that_is_not_jiras_names_the_base_url(httpserver: HTTPServer,
                                                    waits: list[float]) -> None:
    httpserver.expect_request("/rest/api/3/issue/ABC-1", query_string=QUERY
                              ).respond_with_data("<html>Not Found</html>", status=404)
    with pytest.raises(UsageError, match="--jira-base-url .*not the base URL of a Jira"):
        jira.look_up(_api(httpserver, waits, _cloud()), "3", ["ABC-1"], _cloud())


def test_an_answer_that_is_not_an_issue_is_refused(httpserver: HTTPServer,
                                                   waits: list[float]) -> None:
    httpserver.expect_request("/rest/api/3/issue/ABC-1", query_string=QUERY
                              ).respond_with_json({"key": "ABC-1"})
    with pytest.raises(ProviderError, match="did not answer an issue"):
        jira.look_up(_api(httpserver, waits, _cloud()), "3", ["ABC-1"], _cloud())


def test_too_many_keys_are_refused_before_any_lookup(httpserver: HTTPServer,
                                                     waits: list[float]) -> None:
    keys = [f"ABC-{n}" for n in range(jira.MAX_ISSUES + 1)]
    with pytest.raises(UsageError, match="101 Jira issue keys"):
        jira.look_up(_api(httpserver, waits, _cloud()), "3", keys, _cloud())


def test_plain_http_goes_to_this_machine_only() -> None:
    with pytest.raises(UsageError, match="--jira-base-url .*plain http"):
        jira.connect("http://jira.example.com", _cloud())
