"""Webhooks end to end: after a new snapshot the events a webhook asked for are POSTed, signed
with HMAC-SHA256 of the body when its secret variable is set; an unchanged set sends
nothing; a failing receiver is retried, then reported, and the snapshot stands."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.helpers import Result, assert_error, ok

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

Cli = Callable[..., Result]
SECRET = "s3cr3t-for-the-receiver"


def fp(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def prod(cli: Cli) -> str:
    ok(cli("create", "environment", "prod", "--type", "server"))
    return "prod"


def snapshot(cli: Cli, files: Callable[..., Path], n: int, *names: str) -> Result:
    listing = files(f"s{n}.json", json.dumps([{"name": x, "fingerprint": fp(x + str(n))}
                                               for x in names]))
    return ok(cli("snapshot", "json", "prod", "--file", listing))


def test_events_are_posted_signed(cli: Cli, prod: str, files: Callable[..., Path],
                                  httpserver: HTTPServer,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    got: list[Request] = []

    def receive(request: Request) -> Response:
        got.append(request)
        return Response("", status=204)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(receive)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    assert_error(cli("create", "webhook", "ops", "--url", httpserver.url_for("/hook"),
                     "--environment", prod, "--events", "started,nope"), 2, "nope")
    ok(cli("create", "webhook", "ops", "--url", httpserver.url_for("/hook"), "--environment",
           prod, "--events", "started,exited", "--secret-env", "HOOK_SECRET"))
    snapshot(cli, files, 1, "api", "web")
    snapshot(cli, files, 1, "api", "web")  # unchanged: nothing sent
    snapshot(cli, files, 2, "api")  # api changed, web exited
    assert len(got) == 2
    for request in got:
        body = request.get_data()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert request.headers["X-Affidavit-Signature-256"] == expected
    first, second = (json.loads(r.get_data()) for r in got)
    assert (first["snapshot"], first["events"], first["environment"]) == (1, ["started"], "prod")
    assert [a["name"] for a in first["artifacts"]["started"]] == ["api", "web"]
    assert second["events"] == ["started", "exited"]
    assert second["artifacts"]["exited"] == [{"name": "web"}]
    assert got[1].headers["X-Affidavit-Event"] == "started,exited"
    assert SECRET not in ok(cli("log", "ledger", "--output", "json")).out


def test_a_failing_receiver_never_loses_the_snapshot(cli: Cli, prod: str,
                                                     files: Callable[..., Path],
                                                     httpserver: HTTPServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    httpserver.expect_request("/down", method="POST").respond_with_data("no", status=503)
    ok(cli("create", "webhook", "down", "--url", httpserver.url_for("/down"), "--environment",
           prod, "--events", "started"))
    done = cli("snapshot", "json", "prod", "--file", files("s.json", json.dumps(
        [{"name": "api", "fingerprint": fp("a")}])), "--output", "json")
    assert done.code == 0
    (sent,) = done.json()["deliveries"]
    assert (sent["ok"], sent["status"], sent["attempts"], sent["signed"]) == (
        False, 503, 3, False)
    assert "webhook down" in done.err and "the snapshot is recorded" in done.err
    assert ok(cli("get", "snapshot", "prod", "--output", "json")).json()["number"] == 1
    assert len(httpserver.log) == 3
