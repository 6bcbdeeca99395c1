"""``report-task.txt`` as each scanner writes it (see webapi/SOURCES.md): the keys read, a
branch or pull request found in the dashboard URL, Java properties escapes, and a file that is
not the scanner's refused."""

from __future__ import annotations

import pytest

from affidavit.collect.sonar.report_task import parse
from affidavit.errors import InputError

SCANNER_CLI = b"""projectKey=octo-org_widgets
serverUrl=https://sonar.example.com
serverVersion=10.7.0.96327
dashboardUrl=https://sonar.example.com/dashboard?id=octo-org_widgets
ceTaskId=AZ1k9Qm3TqL0cXvB7uYh
ceTaskUrl=https://sonar.example.com/api/ce/task?id=AZ1k9Qm3TqL0cXvB7uYh
"""


def test_the_scanner_cli_file() -> None:
    assert parse(SCANNER_CLI, "f") == {
        "project_key": "octo-org_widgets", "server_url": "https://sonar.example.com",
        "ce_task_id": "AZ1k9Qm3TqL0cXvB7uYh",
        "ce_task_url": "https://sonar.example.com/api/ce/task?id=AZ1k9Qm3TqL0cXvB7uYh",
        "dashboard_url": "https://sonar.example.com/dashboard?id=octo-org_widgets",
        "organization": None, "server_version": "10.7.0.96327", "branch": None,
        "pull_request": None}


def test_sonarcloud_on_a_branch() -> None:
    found = parse(b"organization=octo-org\nprojectKey=octo-org_widgets\n"
                  b"serverUrl=https://sonarcloud.io\nserverVersion=8.0.0.61542\n"
                  b"branch=release/2.4\n"
                  b"dashboardUrl=https://sonarcloud.io/dashboard?id=octo-org_widgets"
                  b"&branch=release%2F2.4\n"
                  b"ceTaskId=AZ1k9Qm3TqL0cXvB7uYh\n"
                  b"ceTaskUrl=https://sonarcloud.io/api/ce/task?id=AZ1k9Qm3TqL0cXvB7uYh\n",
                  "f")
    assert (found["organization"], found["branch"], found["pull_request"]) == (
        "octo-org", "release/2.4", None)


def test_a_pull_request_is_read_from_the_dashboard_url() -> None:
    found = parse(SCANNER_CLI.replace(b"dashboard?id=octo-org_widgets",
                                      b"dashboard?id=octo-org_widgets&pullRequest=1347"), "f")
    assert (found["branch"], found["pull_request"]) == (None, "1347")


def test_properties_store_escapes_comments_and_crlf_read_the_same() -> None:
    stored = (b"#Written by Properties.store\r\n! another comment\r\n\r\n"
              b"projectKey=octo-org_widgets\r\nserverUrl=https\\://sonar.example.com\r\n"
              b"ceTaskId : AZ1k9Qm3TqL0cXvB7uYh\r\nbranch=caf\\u00e9\r\nunknownKey=x\r\n")
    found = parse(stored, "f")
    assert (found["server_url"], found["ce_task_id"], found["branch"]) == (
        "https://sonar.example.com", "AZ1k9Qm3TqL0cXvB7uYh", "café")


@pytest.mark.parametrize("data", [b"", b"projectKey=k\nserverUrl=https://s\n",
                                  b"<html>not found</html>"])
def test_a_file_that_names_no_task_is_refused(data: bytes) -> None:
    with pytest.raises(InputError, match="f: no .*ceTaskId.*not a SonarScanner"):
        parse(data, "f")


def test_binary_is_refused() -> None:
    with pytest.raises(InputError, match="NUL"):
        parse(SCANNER_CLI + b"\x00\x01", "f")
