"""Flow webhooks end to end: a scripted trail (begin, a failing then a passing JUnit report, an
unexpected generic one) sends ``trail-begun``, ``attestation-reported`` and ``verdict-changed``
to a local receiver after each write, HMAC-signed, as JSON or as a Slack message; a receiver
that fails or never answers is retried and bounded, and the entry stands; a dry run sends
nothing; a flow without webhooks pays one key more in the read the write makes anyway."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.helpers import Result, assert_error, ok, state

Cli = Callable[..., Result]
Files = Callable[..., Path]
SECRET = "flow-hook-secret"
TEMPLATE = "version: 1\ntrail:\n  attestations:\n    - name: unit\n      type: junit\n"
FAILING = ('<testsuite name="s" tests="2" failures="1"><testcase classname="c" name="a"/>'
           '<testcase classname="c" name="b"><failure message="no"/></testcase></testsuite>')
PASSING = ('<testsuite name="s" tests="2" failures="0"><testcase classname="c" name="a"/>'
           '<testcase classname="c" name="b"/></testsuite>')


@pytest.fixture
def flow(cli: Cli, files: Files) -> str:
    ok(cli("create", "flow", "access", "--template-file", files("t.yml", TEMPLATE)))
    return "access"


@pytest.fixture
def received(httpserver: HTTPServer) -> Iterator[list[Request]]:
    got: list[Request] = []

    def receive(request: Request) -> Response:
        got.append(request)
        return Response("", status=204)

    for path in ("/json", "/slack", "/began"):
        httpserver.expect_request(path, method="POST").respond_with_handler(receive)
    yield got


def junit(cli: Cli, files: Files, xml: str, n: int, *more: str) -> Result:
    results = files(f"r{n}/TEST-s.xml", xml).parent
    return cli("attest", "junit", "--flow", "access", "--trail", "t1", "--name", "unit",
               "--results-dir", results, "--output", "json", *more)


def signed(request: Request, secret: str = SECRET) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), request.get_data(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers.get("X-Affidavit-Signature-256", ""), expected)


@pytest.mark.remote
def test_a_scripted_trail_sends_each_event_signed(
        backend: str, cli: Cli, flow: str, files: Files, httpserver: HTTPServer,
        received: list[Request], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    ok(cli("create", "webhook", "all", "--url", httpserver.url_for("/json"), "--flow", flow,
           "--events", "trail-begun,attestation-reported,verdict-changed",
           "--secret-env", "HOOK_SECRET"))
    ok(cli("create", "webhook", "chat", "--url", httpserver.url_for("/slack"), "--flow", flow,
           "--events", "attestation-reported", "verdict-changed", "--format", "slack",
           "--secret-env", "HOOK_SECRET"))
    ok(cli("create", "webhook", "began", "--url", httpserver.url_for("/began"), "--flow", flow,
           "--events", "trail-begun"))

    begun = ok(cli("begin", "trail", "t1", "--flow", flow, "--output", "json")).json()
    ok(cli("begin", "trail", "t1", "--flow", flow, "--description", "again"))  # not new
    failing = ok(junit(cli, files, FAILING, 1)).json()
    passing = ok(junit(cli, files, PASSING, 2)).json()
    extra = ok(cli("attest", "generic", "--flow", flow, "--trail", "t1", "--name", "note",
                   "--output", "json")).json()
    assert [d["ok"] for d in passing["deliveries"]] == [True] * 4

    by_path: dict[str, list[dict[str, Any]]] = {"/json": [], "/slack": [], "/began": []}
    for request in received:
        body = json.loads(request.get_data())
        by_path[request.path].append(body)
        assert request.headers["Content-Type"] == "application/json"
        assert len(request.headers["X-Affidavit-Delivery"]) == 32
        if request.path == "/began":
            assert "X-Affidavit-Signature-256" not in request.headers
        else:
            assert signed(request), request.path
            assert not signed(request, "another secret")

    events = [(b["event"], b["entry"]) for b in by_path["/json"]]
    assert events == [("trail-begun", begun["index"]),
                      ("attestation-reported", failing["index"]),
                      ("verdict-changed", failing["index"]),
                      ("attestation-reported", passing["index"]),
                      ("verdict-changed", passing["index"]),
                      ("attestation-reported", extra["index"])]
    first, reported, changed = by_path["/json"][:3]
    assert first == {"event": "trail-begun", "webhook": "all", "flow": "access", "trail": "t1",
                     "entry": begun["index"], "time": begun["entry"]["time"], "kind": "trail",
                     "attestation": None, "artifact": None, "origin_url": None,
                     "status": {"before": None, "after": "INCOMPLETE"}}
    assert reported["attestation"] == {"name": "unit", "type": "junit", "compliant": False}
    assert reported["time"] == failing["entry"]["time"]
    assert reported["status"] == changed["status"] == {"before": "INCOMPLETE",
                                                       "after": "NON_COMPLIANT"}
    assert by_path["/json"][4]["status"] == {"before": "NON_COMPLIANT", "after": "COMPLIANT"}
    assert by_path["/json"][5]["status"] == {"before": "COMPLIANT", "after": "COMPLIANT"}
    assert by_path["/began"] == [{**first, "webhook": "began", "status": None}]

    slack = by_path["/slack"]
    assert len(slack) == 5  # every event of "all" but trail-begun
    for message in slack:
        assert set(message) == {"text", "blocks"}
        section, context = message["blocks"]
        assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
        assert context["type"] == "context" and context["elements"][0]["type"] == "mrkdwn"
    assert "unit (junit) reported, NOT compliant" in slack[0]["text"]
    assert slack[1]["text"] == "access/t1 is now NON_COMPLIANT (was INCOMPLETE)"
    assert f"entry {failing['index']}" in slack[1]["blocks"][1]["elements"][0]["text"]

    logged = ok(cli("log", "ledger", "--output", "json")).json()
    assert [e["subject"] for e in logged if e["kind"] == "webhook"] == [
        "access all", "access chat", "access began"]
    assert SECRET not in json.dumps(logged)
    ok(cli("verify", "ledger"))


def test_a_failing_receiver_is_retried_and_the_entry_stands(
        cli: Cli, flow: str, files: Files, httpserver: HTTPServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from affidavit.api import delivery

    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    httpserver.expect_request("/down", method="POST").respond_with_data("no", status=500)
    ok(cli("create", "webhook", "down", "--url", httpserver.url_for("/down"), "--flow", flow,
           "--events", "attestation-reported,verdict-changed"))
    ok(cli("begin", "trail", "t1", "--flow", flow))
    assert len(httpserver.log) == 0  # trail-begun was not asked for
    done = junit(cli, files, FAILING, 1)
    assert done.code == 0, str(done)
    reported, changed = done.json()["deliveries"]
    assert (reported["ok"], reported["status"], reported["attempts"], reported["error"]) == (
        False, 500, delivery.ATTEMPTS, "HTTP 500")
    assert (changed["events"], changed["attempts"]) == (["verdict-changed"], 0)
    assert len(httpserver.log) == delivery.ATTEMPTS  # one round of retries for the write
    assert waits == [0.5, 1.0]
    shown = ok(cli("get", "trail", "t1", "--flow", flow, "--output", "json")).json()
    assert done.json()["index"] in [a["entry"] for a in shown["attestations"]]
    table = ok(junit(cli, files, PASSING, 2, "--output", "table"))
    assert "webhook down" in table.out and "HTTP 500 after 3 attempt(s); the entry is " \
        "recorded" in table.out


def test_a_receiver_that_never_answers_does_not_hang_the_write(
        cli: Cli, flow: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from affidavit.api import delivery

    monkeypatch.setattr(delivery, "TIMEOUT", 0.2)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    with socket.socket() as silent, socket.socket() as closed:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connects (the backlog), never answers
        closed.bind(("127.0.0.1", 0))  # bound, not listening: refused
        for name, sock in (("silent", silent), ("closed", closed)):
            port = sock.getsockname()[1]
            ok(cli("create", "webhook", name, "--url", f"http://127.0.0.1:{port}/hook",
                   "--flow", flow, "--events", "trail-begun"))
        started = time.monotonic()
        done = cli("begin", "trail", "t1", "--flow", flow, "--output", "json")
        took = time.monotonic() - started
    assert done.code == 0, str(done)
    errors = {d["webhook"]: (d["error"], d["attempts"]) for d in done.json()["deliveries"]}
    assert errors == {"closed": ("ConnectionError", 3), "silent": ("ReadTimeout", 3)}
    assert took < 5, took
    assert ok(cli("get", "trail", "t1", "--flow", flow)).code == 0


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_deadline(
        cli: Cli, flow: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``requests``' timeout bounds each read, not the whole answer: a receiver that sends a
    byte of its status line now and then would hold the write for ever without the per-try
    deadline (found in review). Each try now ends at ``DEADLINE``."""
    import threading

    from affidavit.api import delivery

    monkeypatch.setattr(delivery, "DEADLINE", 0.5)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    stop = threading.Event()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)

        def trickle() -> None:
            while not stop.is_set():
                try:
                    server.settimeout(0.2)
                    conn, _ = server.accept()
                except OSError:
                    continue
                with conn:
                    for byte in b"HTTP/1.1 200 OK\r\n":
                        if stop.wait(0.3):
                            return
                        try:
                            conn.sendall(bytes([byte]))
                        except OSError:
                            break

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        port = server.getsockname()[1]
        ok(cli("create", "webhook", "slow", "--url", f"http://127.0.0.1:{port}/hook",
               "--flow", flow, "--events", "trail-begun"))
        started = time.monotonic()
        done = cli("begin", "trail", "t1", "--flow", flow, "--output", "json")
        took = time.monotonic() - started
        stop.set()
    assert done.code == 0, str(done)
    (slow,) = done.json()["deliveries"]
    assert (slow["ok"], slow["error"], slow["attempts"]) == (
        False, "no answer within 0.5 s", delivery.ATTEMPTS)
    assert took < 5, took


def test_a_dry_run_sends_nothing(cli: Cli, flow: str, files: Files, home: Any,
                                 httpserver: HTTPServer, received: list[Request]) -> None:
    ok(cli("create", "webhook", "all", "--url", httpserver.url_for("/json"), "--flow", flow,
           "--events", "trail-begun,attestation-reported,verdict-changed"))
    before = state(home)
    ok(cli("begin", "trail", "t1", "--flow", flow, "--dry-run"))
    assert received == []
    ok(cli("begin", "trail", "t1", "--flow", flow))
    assert [json.loads(r.get_data())["event"] for r in received] == ["trail-begun"]
    after_begin = state(home)
    assert after_begin.entries == before.entries + 1
    dry = ok(junit(cli, files, FAILING, 1, "--dry-run"))
    assert dry.json()["deliveries"] == [] and dry.json()["trail_status"] == "NON_COMPLIANT"
    ok(cli("create", "webhook", "more", "--url", httpserver.url_for("/json"), "--flow", flow,
           "--events", "trail-begun", "--dry-run"))
    assert len(received) == 1 and state(home) == after_begin


def test_bad_flags_are_one_line_and_exit_2(cli: Cli, flow: str, home: Any) -> None:
    ok(cli("create", "environment", "prod", "--type", "server"))
    url = "https://hooks.example.com/x"
    before = state(home)
    cases = [
        (["--flow", flow, "--environment", "prod", "--events", "trail-begun"], "not both"),
        (["--events", "trail-begun"], "--flow FLOW"),
        (["--flow", flow, "--events", "started"], "trail-begun, attestation-reported"),
        (["--environment", "prod", "--events", "trail-begun"], "started, exited"),
        (["--flow", flow, "--events", "trail-begun,nope"], "nope"),
        (["--environment", "prod", "--events", "started", "--format", "slack"],
         "--format slack is for --flow"),
        (["--flow", flow, "--events", "trail-begun", "--format", "xml"], "xml"),
        (["--flow", flow, "--events", "trail-begun", "--secret-env", "lower"], "lower"),
        (["--flow", "missing", "--events", "trail-begun"], "'missing' does not exist"),
    ]
    for flags, needle in cases:
        assert_error(cli("create", "webhook", "w", "--url", url, *flags), 2, needle)
    assert_error(cli("create", "webhook", "w", "--url", "http://example.com/x", "--flow", flow,
                     "--events", "trail-begun"), 2, "plain http")
    assert state(home) == before


def test_a_flow_without_webhooks_costs_one_key_in_the_same_read(
        cli: Cli, flow: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from affidavit.ledger.sqlite import SQLiteLedger

    ok(cli("begin", "trail", "t1", "--flow", flow))
    reads: list[tuple[list[str], bool]] = []
    real = SQLiteLedger.read_many

    def counted(self: SQLiteLedger, keys: Any, size: int, **kwargs: Any) -> Any:
        reads.append((list(keys), kwargs.get("entries", True)))
        return real(self, keys, size, **kwargs)

    monkeypatch.setattr(SQLiteLedger, "read_many", counted)
    sys.modules.pop("affidavit.api.flowhooks", None)
    ok(cli("attest", "generic", "--flow", flow, "--trail", "t1", "--name", "unit"))
    assert reads == [(["flowdef:access", "trail:access/t1", "flowhooks:access"], False)]
    assert "affidavit.api.flowhooks" not in sys.modules
    reads.clear()
    ok(cli("begin", "trail", "t2", "--flow", flow))
    assert reads == [(["flowdef:access", "flowhooks:access", "trail:access/t2"], False)]


@pytest.mark.remote
def test_over_a_server_the_webhook_key_comes_with_the_append(
        backend: str, cli: Cli, flow: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one request a write makes to a server carries the flow's webhook key as ``also``:
    the head it answers with proves its count, and no second read is made for it."""
    if backend == "embedded":
        pytest.skip("a server's one-request write")
    from affidavit.ledger.http import HttpLedger

    ok(cli("begin", "trail", "t1", "--flow", flow))
    posts: list[str] = []
    real = HttpLedger._post

    def counted(self: HttpLedger, path: str, body: Any, *args: Any, **kwargs: Any) -> Any:
        posts.append(path)
        return real(self, path, body, *args, **kwargs)

    sent: list[dict[str, Any]] = []
    real_append = HttpLedger._send_append

    def appending(self: HttpLedger, body: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        sent.append(body)
        return real_append(self, body, *args, **kwargs)

    monkeypatch.setattr(HttpLedger, "_post", counted)
    monkeypatch.setattr(HttpLedger, "_send_append", appending)
    ok(cli("attest", "generic", "--flow", flow, "--trail", "t1", "--name", "unit"))
    assert [b.get("also") for b in sent] == [["flowhooks:access"]]
    assert "/api/v1/ledger/read-many" not in posts


@pytest.mark.remote
@pytest.mark.parametrize("server_lacks", ["the feature", "the keys in its head"])
def test_a_server_without_also_still_gets_the_events_sent(
        backend: str, server_lacks: str, cli: Cli, flow: str, httpserver: HTTPServer,
        received: list[Request], monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that does not list ``append-also`` is not sent it, and a head without the
    webhook key is not read for it (a read past the head would be answered after the write):
    either way the webhooks are looked up once the entry is in."""
    if backend == "embedded":
        pytest.skip("a server's one-request write")
    from affidavit.server import app

    if server_lacks == "the feature":
        monkeypatch.setattr(app, "FEATURES", [f for f in app.FEATURES if f != "append-also"])
    else:
        monkeypatch.setattr(app, "_also", lambda body: [])
    ok(cli("create", "webhook", "all", "--url", httpserver.url_for("/json"), "--flow", flow,
           "--events", "trail-begun,attestation-reported,verdict-changed"))
    ok(cli("begin", "trail", "t1", "--flow", flow))
    ok(cli("begin", "trail", "t1", "--flow", flow, "--description", "again"))
    ok(cli("attest", "generic", "--flow", flow, "--trail", "t1", "--name", "note"))
    assert [json.loads(r.get_data())["event"] for r in received] == [
        "trail-begun", "attestation-reported"]


def test_begin_trail_that_creates_its_flow_change_sends_trail_begun(
        cli: Cli, flow: str, files: Files, httpserver: HTTPServer,
        received: list[Request]) -> None:
    ok(cli("create", "webhook", "began", "--url", httpserver.url_for("/began"), "--flow", flow,
           "--events", "trail-begun"))
    done = ok(cli("begin", "trail", "t2", "--flow", flow, "--flow-description", "changed",
                  "--output", "json")).json()
    assert done["flow_change"]["index"] == done["index"] - 1
    (sent,) = (json.loads(r.get_data()) for r in received)
    assert (sent["event"], sent["trail"], sent["entry"]) == ("trail-begun", "t2", done["index"])
    ok(cli("begin", "trail", "t2", "--flow", flow, "--create-flow"))  # not new: nothing
    assert len(received) == 1


def test_a_url_that_is_a_credential_stays_out_of_the_log(
        cli: Cli, flow: str, home: Any, httpserver: HTTPServer, received: list[Request],
        monkeypatch: pytest.MonkeyPatch, files: Files) -> None:
    """A Slack incoming webhook's URL lets whoever holds it post: ``--url-env`` keeps it in
    a variable; the entry, the outputs and the log never hold it, and the literal URL is
    refused (found in review)."""
    url = httpserver.url_for("/services/T0001/B0002/SeCrEtToKeN123")
    httpserver.expect_request("/services/T0001/B0002/SeCrEtToKeN123", method="POST"
                              ).respond_with_handler(lambda r: (received.append(r), Response(
                                  "", status=204))[1])
    assert_error(cli("create", "webhook", "chan", "--flow", flow, "--format", "slack",
                     "--url", "https://hooks.slack.com/services/T0001/B0002/SeCrEtToKeN123",
                     "--events", "trail-begun"), 2, "--url-env")
    ok(cli("create", "webhook", "chan", "--flow", flow, "--format", "slack", "--url-env",
           "CHAN_URL", "--events", "trail-begun,attestation-reported"))
    missing = ok(cli("begin", "trail", "t1", "--flow", flow, "--output", "json")).json()
    assert missing["deliveries"][0]["error"] == "CHAN_URL is not set or not an http(s) URL: " \
        "not sent"
    monkeypatch.setenv("CHAN_URL", url)
    done = ok(junit(cli, files, PASSING, 2))
    assert [d["url"] for d in done.json()["deliveries"]] == ["$CHAN_URL"]
    assert len(received) == 1 and "text" in json.loads(received[0].get_data())
    raw = b"".join(p.read_bytes() for p in Path(home.dir).rglob("*") if p.is_file())
    assert b"SeCrEtToKeN123" not in raw and "SeCrEtToKeN123" not in done.out
    assert_error(cli("create", "webhook", "x", "--flow", flow, "--url", url, "--url-env",
                     "CHAN_URL", "--events", "trail-begun"), 2, "one of the two")
