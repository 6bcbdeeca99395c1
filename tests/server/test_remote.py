"""The CLI against ``affidavit server`` (a real uvicorn process on 127.0.0.1), and a server
that lies: every lie is caught by the client's own proofs (exit 3), never believed.

Expected outcomes are stated from the protocol (DESIGN §3, §4): what a pipeline sees on the
embedded ledger it sees over HTTP, with the same exit codes; a server that drops, rewrites,
forks or swaps its history, or answers an index it cannot prove, fails the next command.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import FLOW, TRAIL
from tests.helpers import Home, Result, assert_error, sha256_hex
from tests.server.conftest import Server, free_port

JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="calc" tests="2" failures="1">
  <testcase classname="calc.Add" name="one"/>
  <testcase classname="calc.Add" name="two"><failure message="2 != 3"/></testcase>
</testsuite>
"""

Cli = Callable[..., Result]


def _json(result: Result) -> Any:
    assert result.code == 0, str(result)
    return json.loads(result.out)


def _pipeline(cli: Cli, files: Callable[..., Path]) -> None:
    """What a pipeline records: a flow, a trail, test results with their report as evidence."""
    assert cli("create", "flow", FLOW).code == 0
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
    report = files("results/TEST-calc.xml", JUNIT)
    result = cli("attest", "junit", "--flow", FLOW, "--trail", TRAIL, "--name", "unit",
                 "--results-dir", report.parent, "--max-failures", "1")
    assert result.code == 0, str(result)


def _entries(server: Server, start: int, end: int) -> list[bytes]:
    answer = requests.get(f"{server.url}/api/v1/ledger/entries",
                          params={"start": start, "end": end}, timeout=10).json()
    return [base64.b64decode(data) for _, data in answer["entries"]]


def _post_append(server: Server, entries: list[bytes], after: tuple[int, str] | None,
                 evidence: tuple[tuple[str, bytes], ...] = ()) -> requests.Response:
    body = {"entries": [base64.b64encode(e).decode() for e in entries],
            "after": None if after is None else {"size": after[0], "root": after[1]}}
    parts: list[tuple[str, Any]] = [("request", (None, json.dumps(body), "application/json"))]
    parts += [("evidence", (name, data, "application/octet-stream")) for name, data in evidence]
    return requests.post(f"{server.url}/api/v1/ledger/append", files=parts, timeout=30)


def _head(server: Server) -> tuple[int, str]:
    state = requests.get(f"{server.url}/api/v1/ledger/state", timeout=10).json()
    root = state["checkpoint"].split("\n")[2]
    return state["size"], root


def _size(server: Server) -> int:
    return int(requests.get(f"{server.url}/api/v1/ledger/state", timeout=10).json()["size"])


# ------------------------------------------------------------------------------------------
# the same commands, through the server


def test_a_pipeline_records_reads_gates_and_packages_through_the_server(
        cli: Cli, server: Server, files: Callable[..., Path], tmp_path: Path) -> None:
    _pipeline(cli, files)
    trail = _json(cli("get", "trail", TRAIL, "--flow", FLOW, "--output", "json"))
    assert [(a["name"], a["compliant"]) for a in trail["attestations"]] == [("unit", True)]
    assert cli("assert", "trail", TRAIL, "--flow", FLOW).code == 0
    failing = cli("attest", "junit", "--flow", FLOW, "--trail", TRAIL, "--name", "strict",
                  "--results", files("strict/TEST-calc.xml", JUNIT))
    assert failing.code == 0  # recorded, not compliant
    gate = cli("assert", "trail", TRAIL, "--flow", FLOW)
    assert gate.code == 1 and "1 test failed, more than --max-failures 0" in gate.out
    assert cli("verify", "ledger").code == 0
    package = tmp_path / "t1.zip"
    assert cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", package).code == 0
    key = cli("ledger", "public-key").out.strip()
    verified = cli("verify", "package", package, "--public-key", key)
    assert verified.code == 0, str(verified)
    # the report is in the server's vault, fetched back byte for byte
    out = tmp_path / "copy.xml"
    fetched = cli("evidence", "get", sha256_hex(JUNIT.encode()), "-o", out)
    assert fetched.code == 0, str(fetched)
    assert out.read_text() == JUNIT


def test_errors_keep_their_exit_codes_over_http(cli: Cli, server: Server) -> None:
    assert_error(cli("get", "trail", "nope", "--flow", "missing"), 2, "missing")
    assert_error(cli("begin", "trail", TRAIL, "--flow", "no-such-flow"), 2, "no-such-flow")


def test_an_unreachable_server_is_exit_3_in_one_line(
        cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFIDAVIT_LEDGER", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AFFIDAVIT_HTTP_RETRIES", "2")
    assert_error(cli("get", "trail", TRAIL, "--flow", FLOW), 3, "cannot be reached",
                 "after 2 attempts")


def test_health_readiness_openapi_and_the_public_checkpoint(server: Server) -> None:
    assert requests.get(f"{server.url}/healthz", timeout=5).json() == {"status": "ok"}
    assert requests.get(f"{server.url}/readyz", timeout=5).json() == {"status": "ready"}
    spec = requests.get(f"{server.url}/api/v1/openapi.json", timeout=5).json()
    assert "/api/v1/ledger/append" in spec["paths"] and "/api/v1/checkpoint" in spec["paths"]
    note = requests.get(f"{server.url}/api/v1/checkpoint", timeout=5).text
    lines = note.split("\n")
    assert lines[1] == "0" and lines[3].startswith("map ") and "\u2014 " in note  # C2SP note
    log = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    assert {"method", "path", "status", "ms", "request_id"} <= set(log[-1])


# ------------------------------------------------------------------------------------------
# what the server writes: only what it verified, and each append once


def test_the_server_judges_every_record_and_refuses_a_false_flag(
        cli: Cli, server: Server, files: Callable[..., Path]) -> None:
    _pipeline(cli, files)
    size = _size(server)
    attestation = json.loads(_entries(server, size - 1, size)[0])
    assert attestation["record"]["compliant"] is True
    attestation["record"]["compliant"] = False  # its predicate says compliant: a lie
    from affidavit import canonical

    refused = _post_append(server, [canonical.dumps(attestation)], _head(server))
    assert refused.status_code == 400
    assert "entry 3 is refused" in refused.json()["error"]["message"]
    assert "records compliant=False but its predicate yields True" in refused.json()["error"][
        "message"]
    assert _size(server) == size


def test_an_entry_naming_evidence_that_was_not_sent_is_refused(
        cli: Cli, server: Server, files: Callable[..., Path]) -> None:
    _pipeline(cli, files)
    size = _size(server)
    attestation = json.loads(_entries(server, size - 1, size)[0])
    attestation["record"]["evidence"][0]["sha256"] = "ab" * 32
    from affidavit import canonical

    refused = _post_append(server, [canonical.dumps(attestation)], _head(server))
    assert refused.status_code == 400 and "neither sent nor stored" in refused.text
    assert _size(server) == size


def test_an_append_without_evidence_may_be_plain_json(
        cli: Cli, server: Server, files: Callable[..., Path]) -> None:
    """The JSON body is held to what the form is: judged, refused whole, and a request of
    the wrong shape is the client's bad input (400), not a conflict."""
    _pipeline(cli, files)
    size = _size(server)
    attestation = json.loads(_entries(server, size - 1, size)[0])
    attestation["record"]["evidence"] = []
    from affidavit import canonical

    def post(body: Any) -> requests.Response:
        return requests.post(f"{server.url}/api/v1/ledger/append", json=body, timeout=30)

    head = _head(server)
    after = {"size": head[0], "root": head[1]}
    lie = dict(attestation, record=dict(attestation["record"], compliant=False))
    refused = post({"entries": [base64.b64encode(canonical.dumps(lie)).decode()],
                    "after": after})
    assert refused.status_code == 400, refused.text
    assert "its predicate yields True" in refused.json()["error"]["message"]
    garbled = post({"entries": ["not base64!"], "after": after})
    assert garbled.status_code == 400
    assert garbled.json()["error"] == {"type": "InputError", "remedy": None,
                                       "message": "append: entries[] is not base64"}
    assert _size(server) == size
    landed = post({"entries": [base64.b64encode(canonical.dumps(attestation)).decode()],
                   "after": after})
    assert landed.status_code == 200, landed.text
    assert landed.json()["first"] == size and _size(server) == size + 1


def _logged_paths(server: Server) -> list[str]:
    """The paths the server has logged requests for, in order."""
    lines = [json.loads(line) for line in server.log.read_text().splitlines()
             if line.startswith("{")]
    return [line["path"] for line in lines if "path" in line]


def _requests_so_far(server: Server, appends: int) -> list[str]:
    """The paths requested, once the log holds ``appends`` appends (a request is logged when
    its answer has gone, so the line can come after the client has it)."""
    for _ in range(200):
        paths = _logged_paths(server)
        if paths.count("/api/v1/ledger/append") >= appends:
            return paths
        time.sleep(0.025)
    raise AssertionError(f"the server logged fewer than {appends} appends")


def test_a_write_is_one_request_that_reads_its_head_too(cli: Cli, server: Server) -> None:
    """``attest`` in a new process: the ledger's identity, then the append, which requires
    the flow and trail it checks and comes back with the head it went after -- no read of
    its own for the head."""
    assert cli("create", "flow", FLOW).code == 0
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
    before = len(_requests_so_far(server, 2))
    assert cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "ok").code == 0
    paths = _requests_so_far(server, 3)[before:]
    assert paths == ["/api/v1/ledger/state", "/api/v1/ledger/append"], paths


def test_a_write_that_depends_on_no_key_is_one_request_too(cli: Cli, server: Server) -> None:
    """``create flow`` (first use: nothing remembered) and again (the memory behind the
    log): the identity, then the append that comes back with the head it went after."""
    assert cli("create", "flow", FLOW).code == 0
    assert cli("create", "flow", "second").code == 0
    paths = [p for p in _requests_so_far(server, 2) if p.startswith("/api/")]
    assert paths == ["/api/v1/ledger/state", "/api/v1/ledger/append"] * 2, paths


def test_a_write_after_other_writers_proves_their_appends_in_the_same_request(
        cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Another job appended since this client's last write: the append's answer carries the
    proof that the log still extends what this client saw (no consistency request of its
    own), and the proof is checked: the write lands, and this client now remembers the new
    head."""
    mine = os.environ["AFFIDAVIT_CACHE_DIR"]
    assert cli("create", "flow", FLOW).code == 0
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(tmp_path / "another-job"))
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
    assert cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "a").code == 0
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", mine)
    before = len(_requests_so_far(server, 3))
    assert cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "b").code == 0
    paths = _requests_so_far(server, 4)[before:]
    assert paths == ["/api/v1/ledger/state", "/api/v1/ledger/append"], paths
    from affidavit.ledger import note
    from affidavit.verify.seen import Seen

    state = requests.get(f"{server.url}/api/v1/ledger/state", timeout=10).json()
    remembered = Seen(state["origin"], note.Verifier.from_key(state["verifier_key"])).load()
    assert remembered is not None and remembered[0].size == 4


def test_a_write_with_large_evidence_reads_its_head_before_it_uploads(
        cli: Cli, server: Server, files: Callable[..., Path]) -> None:
    """Over 1 MiB of evidence is not sent before the write is known to be allowed: a head
    read first, then the append (or nothing, when the trail is missing)."""
    assert cli("create", "flow", FLOW).code == 0
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
    big = files("big.log", "x" * ((1 << 20) + 1))
    before = len(_requests_so_far(server, 2))
    assert_error(cli("attest", "generic", "--flow", FLOW, "--trail", "nowhere", "--name", "x",
                     "--attachments", big), 2, "trail 'nowhere' does not exist")
    assert cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x",
               "--attachments", big).code == 0
    paths = _requests_so_far(server, 3)[before:]
    assert paths == ["/api/v1/ledger/state", "/api/v1/ledger/read-many",
                     "/api/v1/ledger/state", "/api/v1/ledger/read-many",
                     "/api/v1/ledger/append"], paths


@pytest.mark.parametrize(("command", "missing"), [
    (("attest", "generic", "--flow", FLOW, "--trail", "nowhere", "--name", "x"),
     "trail 'nowhere' does not exist"),
    (("attest", "generic", "--flow", "nowhere", "--trail", TRAIL, "--name", "x"),
     "flow 'nowhere' does not exist"),
    (("begin", "trail", "t2", "--flow", "nowhere"), "flow 'nowhere' does not exist"),
    (("attest", "artifact", "--flow", FLOW, "--trail", "nowhere", "--name", "a",
      "--fingerprint", "a" * 64), "trail 'nowhere' does not exist")])
def test_a_write_the_head_refuses_is_worded_as_a_read_would_and_writes_nothing(
        cli: Cli, server: Server, command: tuple[str, ...], missing: str) -> None:
    """The server refuses an append whose required key files nothing (412, with the head);
    the client proves that head and words the refusal as its own read would: exit 2, the
    same line as on the embedded ledger, nothing appended."""
    assert cli("create", "flow", FLOW).code == 0
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
    assert_error(cli(*command), 2, missing)
    assert _size(server) == 2


def _an_older_server(path: str, body: bytes, upstream: str) -> tuple[int, Any] | None:
    """A server from before ``since``, ``requires`` and read-many's ``prefixes``: it refuses
    fields it does not know."""
    sent = json.loads(body) if body.startswith(b"{") else {}
    unknown = {"since", "requires"} | ({"prefixes", "held"} if path.endswith("/read-many")
                                       else set())
    if isinstance(sent, dict) and (unknown & set(sent)):
        return 422, {"error": {"type": "InputError", "message": "unknown field",
                               "remedy": None}}
    return None


def _without_features(path: str, answer: Any) -> Any:
    if isinstance(answer, dict):
        answer.pop("features", None)
    return answer


def test_an_older_server_is_written_to_and_read_as_before(
        cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A server whose state lists no features is sent neither ``since`` nor ``requires``: a
    newer client writes with a head read first and asks for its consistency proof."""
    assert cli("create", "flow", FLOW).code == 0
    mine = os.environ["AFFIDAVIT_CACHE_DIR"]
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(tmp_path / "another-job"))
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", mine)
    with _LyingProxy(server.url, _without_features, _an_older_server) as proxy:
        monkeypatch.setenv("AFFIDAVIT_LEDGER", proxy.url)
        assert cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x").code == 0
        assert_error(cli("attest", "generic", "--flow", FLOW, "--trail", "nowhere", "--name",
                         "x"), 2, "trail 'nowhere' does not exist")
        assert cli("get", "trail", TRAIL, "--flow", FLOW).code == 0
        searched = cli("search", "abcd")
        assert searched.code == 0, str(searched)
        assert cli("verify", "ledger").code == 0  # its audit listings asked whole
    assert _size(server) == 3
    paths = _logged_paths(server)
    assert "/api/v1/ledger/map-rows" in paths and "/api/v1/ledger/map-leaves" not in paths


FINGERPRINT = "ab" * 32


@pytest.mark.parametrize("older", [False, True], ids=["held", "older-server"])
def test_a_read_after_a_read_names_the_entries_it_holds(
        cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        older: bool) -> None:
    """``get snapshot`` reads its artifacts' reports, then their trails: the second read names
    the entries the first proved, and the server leaves their bytes out. An older server is
    sent no ``held`` and answers in full, and the join is the same."""
    assert cli("create", "flow", FLOW).code == 0
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
    assert cli("attest", "artifact", "--flow", FLOW, "--trail", TRAIL, "--name", "app",
               "--fingerprint", FINGERPRINT).code == 0
    assert cli("create", "environment", "prod", "--type", "server").code == 0
    listing = tmp_path / "running.json"
    listing.write_text(json.dumps([{"name": "app", "fingerprint": FINGERPRINT}]))
    assert cli("snapshot", "json", "prod", "--file", str(listing)).code == 0
    asked: list[dict[str, Any]] = []
    answered: list[dict[str, Any]] = []

    def record(path: str, body: bytes, upstream: str) -> tuple[int, Any] | None:
        if path.endswith("/read-many"):
            asked.append(json.loads(body))
        return _an_older_server(path, body, upstream) if older else None

    def keep(path: str, answer: Any) -> Any:
        if path.endswith("/read-many"):
            answered.append(answer)
        return _without_features(path, answer) if older else answer

    with _LyingProxy(server.url, keep, record) as proxy:
        monkeypatch.setenv("AFFIDAVIT_LEDGER", proxy.url)
        shown = cli("get", "snapshot", "prod", "--output", "json")
    assert shown.code == 0, str(shown)
    provenance = shown.json()["artifacts"][0]["provenance"]
    assert (provenance["flow"], provenance["trail"], provenance["name"]) == (FLOW, TRAIL, "app")
    reported = provenance["entry"]
    trail_read = [n for n, body in enumerate(asked) if f"trail:{FLOW}/{TRAIL}" in body["keys"]]
    assert trail_read, asked
    body, answer = asked[trail_read[-1]], answered[trail_read[-1]]
    if older:
        assert "held" not in body
        assert str(reported) in answer["entries"]
    else:
        assert any(first <= reported < end for first, end in body["held"]), body
        assert str(reported) not in answer["entries"]
        assert str(reported) not in answer["inclusion"]
        assert reported in answer["positions"][f"trail:{FLOW}/{TRAIL}"]


def _requests_after(server: Server, before: int, count: int) -> list[str]:
    """The paths requested after the first ``before``, once there are ``count`` of them (a
    request is logged when its answer has gone, so the line can come after the client has
    it), and a moment later: nothing else came."""
    for _ in range(200):
        if len(_logged_paths(server)[before:]) >= count:
            time.sleep(0.2)
            return _logged_paths(server)[before:]
        time.sleep(0.025)
    raise AssertionError(f"the server logged fewer than {count} requests")


@pytest.mark.parametrize("sha", [FINGERPRINT[:8], FINGERPRINT, "cdef" * 16])
def test_a_search_is_one_request_after_the_identity(cli: Cli, server: Server,
                                                   sha: str) -> None:
    """``search`` lists its prefixes, reads what they list and proves a full SHA's miss with
    the head, in one request: the identity, then that read."""
    assert cli("create", "flow", FLOW).code == 0
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
    assert cli("attest", "artifact", "--flow", FLOW, "--trail", TRAIL, "--name", "app",
               "--fingerprint", FINGERPRINT).code == 0
    before = len(_requests_so_far(server, 3))
    found = cli("search", sha, "--output", "json")
    assert found.code == 0, str(found)
    hits = found.json()
    assert [hit["sha"] for hit in hits] == ([] if sha.startswith("cdef") else [FINGERPRINT])
    paths = _requests_after(server, before, 2)
    assert paths == ["/api/v1/ledger/state", "/api/v1/ledger/read-many"], paths


def test_a_search_the_server_lists_a_stranger_for_is_caught(
        cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key listed under a prefix it does not start with would be shown as a hit of that
    prefix (the key is proven when read, what it was listed under is not): exit 3."""
    assert cli("create", "flow", FLOW).code == 0
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
    assert cli("attest", "artifact", "--flow", FLOW, "--trail", TRAIL, "--name", "app",
               "--fingerprint", FINGERPRINT).code == 0

    def stranger(path: str, answer: Any) -> Any:
        if isinstance(answer, dict):
            for listing in ("listed", "keys"):
                if isinstance(answer.get(listing), dict):
                    for found in answer[listing].values():
                        found.append(f"artifact:{FINGERPRINT}")
        return answer

    with _LyingProxy(server.url, stranger) as proxy:
        monkeypatch.setenv("AFFIDAVIT_LEDGER", proxy.url)
        assert_error(cli("search", "cdef0123"), 3, "that do not start with it")


def test_a_job_beside_it_that_remembers_a_newer_head_is_no_rollback(
        cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two jobs of one runner share the seen memory: while one's write is in flight, the
    other appends and remembers a newer head than the one the write is answered with. The
    write's head extends what its writer remembered when it sent it, which is all that is
    checked: no false alarm of a rolled-back ledger (a GitLab pipeline of parallel jobs hit
    it)."""
    import subprocess
    import sys

    assert cli("create", "flow", FLOW).code == 0
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
    affidavit = str(Path(sys.executable).parent / "affidavit")
    env = {**os.environ, "AFFIDAVIT_LEDGER": server.url}

    def beside(path: str, body: bytes, upstream: str) -> tuple[int, Any] | None:
        if not path.endswith("/append"):
            return None
        answer = requests.post(upstream + path, data=body, timeout=30,
                               headers={"content-type": "application/json"})
        subprocess.run([affidavit, "create", "flow", "beside"], env=env, check=True,
                       capture_output=True)  # the other job: same memory, a newer head
        return answer.status_code, answer.json()

    with _LyingProxy(server.url, instead=beside) as proxy:
        monkeypatch.setenv("AFFIDAVIT_LEDGER", proxy.url)
        assert cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x").code == 0
    assert _size(server) == 4


def test_a_retried_one_request_write_lands_once(cli: Cli, server: Server) -> None:
    """An append with ``requires`` goes after whatever head the server reads, so a retry
    (its answer was lost) finds a later head: the writer's ``since`` is where the server
    looks for it instead, across appends of other writers in between."""
    assert cli("create", "flow", FLOW).code == 0
    from affidavit import canonical

    flow = json.loads(_entries(server, 0, 1)[0])
    flow["record"]["name"] = "second"
    body = {"entries": [base64.b64encode(canonical.dumps(flow)).decode()],
            "requires": [f"flowdef:{FLOW}"], "since": 1}
    first = requests.post(f"{server.url}/api/v1/ledger/append", json=body, timeout=30)
    assert first.status_code == 200, first.text
    assert first.json()["first"] == 1 and first.json()["head"]["size"] == 1
    assert cli("create", "flow", "third").code == 0  # another writer, in between
    again = requests.post(f"{server.url}/api/v1/ledger/append", json=body, timeout=30)
    assert again.status_code == 200, again.text
    assert again.json()["first"] == 1 and _size(server) == 3
    refused = requests.post(f"{server.url}/api/v1/ledger/append", timeout=30, json={
        **body, "requires": ["flowdef:absent"]})
    assert refused.status_code == 412 and refused.json()["head"]["size"] == 3
    assert _size(server) == 3


def test_a_retried_append_lands_once(cli: Cli, server: Server) -> None:
    """The response to an append was lost and the client sends it again: same place."""
    assert cli("create", "flow", FLOW).code == 0
    from affidavit import canonical

    flow = json.loads(_entries(server, 0, 1)[0])
    flow["record"]["name"] = "second"
    entry = canonical.dumps(flow)
    head = _head(server)
    first = _post_append(server, [entry], head)
    again = _post_append(server, [entry], head)
    assert first.status_code == again.status_code == 200, first.text
    assert first.json()["first"] == again.json()["first"] == 1
    assert _size(server) == 2


def test_a_body_over_the_limit_is_413_and_nothing_is_written(
        home: Home, tmp_path_factory: pytest.TempPathFactory) -> None:
    small = Server(tmp_path_factory.mktemp("small"))
    small.start(home.db, "--max-request-mb", "1")
    try:
        response = _post_append(small, [b"{}"], None, (("big", b"x" * (2 << 20)),))
        assert response.status_code == 413
        assert _size(small) == 0
    finally:
        small.stop()


# ------------------------------------------------------------------------------------------
# a server that lies is caught by the next call


def _library_append(db: Path, name: str) -> None:
    """Append a flow to the ledger file directly, with its own key: what an operator holding
    the server's key can do behind its clients' backs."""
    from affidavit.api import record
    from affidavit.ledger.sqlite import SQLiteLedger

    client_cache = os.environ["AFFIDAVIT_CACHE_DIR"]
    os.environ["AFFIDAVIT_CACHE_DIR"] = str(db.parent / "operator-cache")  # not the client's
    handle = SQLiteLedger(str(db))
    try:
        record.create_flow(handle, name=name)
    finally:
        handle.close()
        os.environ["AFFIDAVIT_CACHE_DIR"] = client_cache


def _copy_ledger(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", ".key"):  # the server's writes may still be in the WAL
        if Path(f"{src}{suffix}").exists():
            shutil.copy2(f"{src}{suffix}", dst / f"l.db{suffix}")
    if Path(f"{src}.blobs").exists():
        shutil.copytree(f"{src}.blobs", dst / "l.db.blobs")


def test_a_forked_history_is_caught(cli: Cli, server: Server, home: Home,
                                    files: Callable[..., Path], tmp_path: Path) -> None:
    _pipeline(cli, files)
    fork = tmp_path / "fork"
    _copy_ledger(home.db, fork)  # the history as it was, and the key
    assert cli("create", "flow", "seen-by-the-client").code == 0  # size 4, remembered
    _library_append(fork / "l.db", "another-history")  # a different size 4, same key
    server.start(fork / "l.db")
    assert_error(cli("get", "trail", TRAIL, "--flow", FLOW), 3)
    assert_error(cli("verify", "ledger"), 3)


def test_a_rolled_back_history_is_caught(cli: Cli, server: Server, home: Home,
                                         files: Callable[..., Path], tmp_path: Path) -> None:
    _pipeline(cli, files)
    old = tmp_path / "old"
    _copy_ledger(home.db, old)
    assert cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "later",
               "--compliant", "false").code == 0
    server.start(old / "l.db")  # the non-compliant attestation is gone
    assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW), 3)


def test_a_replaced_ledger_is_caught_by_its_first_identity(
        cli: Cli, server: Server, files: Callable[..., Path], tmp_path: Path) -> None:
    _pipeline(cli, files)
    server.start(tmp_path / "new" / "l.db")  # a fresh ledger: new origin, new key
    line = assert_error(cli("get", "flow", FLOW), 3, "was first used as origin")
    assert server.url in line
    assert_error(cli("create", "flow", "x"), 3, "was first used as origin")


def test_a_pinned_key_refuses_a_server_signing_with_another(
        cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("create", "flow", FLOW).code == 0
    from affidavit.ledger import note

    other = note.Signer.from_key(note.generate_signer_key("someone-else"))
    monkeypatch.setenv("AFFIDAVIT_PUBLIC_KEY", other.verifier.key)
    assert_error(cli("get", "flow", FLOW), 3, "not the pinned key")


def test_evidence_the_server_altered_is_refused(cli: Cli, server: Server, home: Home,
                                               files: Callable[..., Path],
                                               tmp_path: Path) -> None:
    _pipeline(cli, files)
    stored = [p for p in home.blobs.rglob("*") if p.is_file()]
    assert len(stored) == 1
    stored[0].chmod(0o644)
    stored[0].write_text(JUNIT.replace("2 != 3", "fine"))
    assert_error(cli("evidence", "get", sha256_hex(JUNIT.encode()), "-o", tmp_path / "x.xml"), 3,
                 "does not match its digest")
    assert not (tmp_path / "x.xml").exists()


def _hide_the_newest_of_each_trail(path: str, answer: Any) -> Any:
    """The attack a compromised server would make to hide a failing attestation."""
    if path.endswith("/read-many"):
        for key, positions in answer["positions"].items():
            if key.startswith("trail:") and len(positions) > 2:
                dropped = positions.pop()  # the newest entry of the trail
                answer["entries"].pop(str(dropped), None)
                answer["inclusion"].pop(str(dropped), None)
    return answer


class _LyingProxy:
    """A server in front of the real one that alters its JSON answers with ``lie(path,
    answer)``, or answers on its own where ``instead(path, body, upstream)`` gives a
    ``(status, answer)``."""

    def __init__(self, upstream: str, lie: Callable[[str, Any], Any] = lambda _, a: a,
                 instead: Callable[[str, bytes, str], tuple[int, Any] | None] | None = None,
                 ) -> None:
        import uvicorn
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        async def forward(request: Request) -> Response:
            body = await request.body()
            made = None if instead is None else instead(request.url.path, body, upstream)
            if made is not None:
                return Response(json.dumps(made[1]), status_code=made[0],
                                media_type="application/json")
            answer = requests.request(request.method, upstream + request.url.path,
                                      params=dict(request.query_params), data=body,
                                      headers={k: v for k, v in request.headers.items()
                                               if k.lower() in ("content-type",)}, timeout=30)
            content = answer.content
            if answer.headers.get("content-type") == "application/json" and answer.ok:
                content = json.dumps(lie(request.url.path, answer.json())).encode()
            return Response(content, status_code=answer.status_code,
                            media_type=answer.headers.get("content-type"))

        app = Starlette(routes=[Route("/{path:path}", forward,
                                      methods=["GET", "POST", "HEAD"])])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _LyingProxy:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def liar(server: Server) -> Iterator[_LyingProxy]:
    with _LyingProxy(server.url, _hide_the_newest_of_each_trail) as proxy:
        yield proxy


def _flip(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _bad_inclusion(path: str, answer: Any) -> Any:
    if path.endswith("/append"):
        for position, path in answer["inclusion"].items():
            answer["inclusion"][position] = _flip(path)  # the path's first hash, one bit
    return answer


def _bad_consistency(path: str, answer: Any) -> Any:
    if path.endswith("/append") and answer["consistency"]:
        answer["consistency"][-1] = _flip(answer["consistency"][-1])
    return answer


def _no_consistency(path: str, answer: Any) -> Any:
    if path.endswith("/append"):
        answer["consistency"] = []
    return answer


@pytest.mark.parametrize(("lie", "caught"), [
    (_bad_inclusion, "not included"), (_bad_consistency, "does not extend"),
    (_no_consistency, "does not extend")])
def test_an_append_answer_with_false_proofs_is_caught(
        cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch,
        lie: Callable[[str, Any], Any], caught: str) -> None:
    """The proofs an append's answer carries are checked like any other: one that does not
    prove the entry landed, or that the log still extends the writer's head, is exit 3."""
    assert cli("create", "flow", FLOW).code == 0
    assert cli("create", "flow", "second").code == 0
    with _LyingProxy(server.url, lie) as proxy:
        monkeypatch.setenv("AFFIDAVIT_LEDGER", proxy.url)
        assert_error(cli("create", "flow", "third"), 3, caught)


def _bad_consistency_with_the_head(path: str, answer: Any) -> Any:
    """Flip the proof from what the client saw to the head: read's or one-request write's."""
    head = answer if path.endswith("/read-many") else (
        answer.get("head") if path.endswith("/append") else None)
    if head and head.get("consistency"):
        head["consistency"][0] = _flip(head["consistency"][0])
    return answer


@pytest.mark.parametrize("command", [("create", "flow", "third"), ("get", "flow", FLOW),
                                     ("assert", "trail", TRAIL, "--flow", FLOW)])
def test_a_false_consistency_proof_read_with_the_head_is_caught(
        cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        command: tuple[str, ...]) -> None:
    """The proof that the log extends what this client saw, when it comes with the head's
    read instead of a request of its own, is checked all the same: writes and reads alike."""
    assert cli("create", "flow", FLOW).code == 0
    mine = os.environ["AFFIDAVIT_CACHE_DIR"]
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(tmp_path / "another-job"))
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", mine)
    with _LyingProxy(server.url, _bad_consistency_with_the_head) as proxy:
        monkeypatch.setenv("AFFIDAVIT_LEDGER", proxy.url)
        assert_error(cli(*command), 3, "does not extend")
    monkeypatch.setenv("AFFIDAVIT_LEDGER", server.url)
    assert cli(*command).code in (0, 1)  # the honest server's answer passes


def _head_of(upstream: str, append: dict[str, Any]) -> dict[str, Any]:
    """The head an honest server would answer an append with ``requires`` with."""
    body = {"keys": append["requires"], "with_state": True, "entries": False}
    if "since" in append:
        body["since"] = append["since"]
    head: dict[str, Any] = requests.post(f"{upstream}/api/v1/ledger/read-many", json=body,
                                         timeout=30).json()
    return head


def _append_regardless(path: str, body: bytes, upstream: str) -> tuple[int, Any] | None:
    """A server that appends what it should refuse, answering with the true head."""
    append = json.loads(body) if path.endswith("/append") else {}
    if "requires" not in append:
        return None
    head = _head_of(upstream, append)
    root = requests.get(f"{upstream}/api/v1/ledger/root", params={"size": head["size"]},
                        timeout=30).json()["root"]
    landed = requests.post(f"{upstream}/api/v1/ledger/append", json={
        "entries": append["entries"], "after": {"size": head["size"], "root": root}},
        timeout=30).json()
    return 200, {**landed, "head": head}


def _refuse_regardless(path: str, body: bytes, upstream: str) -> tuple[int, Any] | None:
    """A server that refuses a write it should take, with the true head."""
    append = json.loads(body) if path.endswith("/append") else {}
    if "requires" not in append:
        return None
    return 412, {"error": {"type": "NotFoundError", "message": "no", "remedy": None},
                 "head": _head_of(upstream, append)}


def _hide_the_trail_in_the_head(path: str, answer: Any) -> Any:
    if path.endswith("/append") and "head" in answer:
        for key, found in answer["head"]["proofs"].items():
            if key.startswith("trail:"):
                found["count"] += 1
    return answer


@pytest.mark.parametrize(("trail", "lie", "instead", "caught"), [
    ("nowhere", None, _append_regardless, "appended a write its own head refuses"),
    (TRAIL, None, _refuse_regardless, "refused a write whose requirements its own head meets"),
    (TRAIL, _hide_the_trail_in_the_head, None, "does not lead to the signed map root")])
def test_a_one_request_write_the_server_lies_about_is_caught(
        cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch, trail: str,
        lie: Callable[[str, Any], Any] | None,
        instead: Callable[[str, bytes, str], tuple[int, Any] | None] | None,
        caught: str) -> None:
    """The head a write's one request comes back with is proven like a head read first, and
    what the write depends on is checked on it: a server that appended what that head
    refuses, refused what it allows, or altered its proofs is exit 3."""
    assert cli("create", "flow", FLOW).code == 0
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
    with _LyingProxy(server.url, lie or (lambda _, answer: answer), instead) as proxy:
        monkeypatch.setenv("AFFIDAVIT_LEDGER", proxy.url)
        assert_error(cli("attest", "generic", "--flow", FLOW, "--trail", trail, "--name", "x"),
                     3, caught)


def test_an_index_that_hides_an_attestation_is_caught(
        cli: Cli, server: Server, liar: _LyingProxy, files: Callable[..., Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _pipeline(cli, files)
    assert cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "security",
               "--compliant", "false").code == 0
    assert cli("assert", "trail", TRAIL, "--flow", FLOW).code == 1  # the honest answer
    monkeypatch.setenv("AFFIDAVIT_LEDGER", liar.url)
    assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW), 3, "key map")


def _paths_settled(server: Server) -> list[str]:
    """The logged paths once no more come (a request is logged when its answer has gone)."""
    paths = _logged_paths(server)
    for _ in range(40):
        time.sleep(0.05)
        again = _logged_paths(server)
        if again == paths:
            return paths
        paths = again
    return paths


def test_verify_ledger_reads_the_servers_audit_listings_a_page_at_a_time(
        cli: Cli, server: Server, files: Callable[..., Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every index row, key-map leaf and node, and checkpoint, read in pages (of two rows,
    here): no answer holds a whole ledger, and the audit says what it said asked whole."""
    from affidavit.ledger import http

    _pipeline(cli, files)
    whole = _json(cli("verify", "ledger", "--output", "json"))
    monkeypatch.setattr(http, "_PAGE", 2)
    before = len(_paths_settled(server))
    paged = _json(cli("verify", "ledger", "--output", "json"))
    assert paged == {**whole, "seen_before": whole["size"],
                     "summary": paged["summary"]} and paged["keys"] > 4
    asked = _paths_settled(server)[before:]
    for listing in ("index-rows", "map-leaves", "map-nodes", "checkpoints"):
        assert asked.count(f"/api/v1/ledger/{listing}") >= 2, listing
    assert "/api/v1/ledger/map-rows" not in asked


def _the_first_page_again() -> Callable[[str, Any], Any]:
    first: dict[str, Any] = {}

    def lie(path: str, answer: Any) -> Any:
        return first.setdefault(path, answer) if path.endswith("/index-rows") else answer
    return lie


def _reversed_leaves(path: str, answer: Any) -> Any:
    if path.endswith("/map-leaves"):
        answer["leaves"].reverse()
    return answer


def _no_more_nodes(path: str, answer: Any) -> Any:
    seen = _no_more_nodes.__dict__.setdefault("pages", [])
    if path.endswith("/map-nodes"):
        seen.append(path)
        if len(seen) > 1:
            answer["nodes"] = []
    return answer


@pytest.mark.parametrize(("lie", "caught"), [
    (_the_first_page_again(), "index rows are not in order"),
    (_reversed_leaves, "key map leaves are not in order"),
    (_no_more_nodes, "key map nodes disagree with the log")])
def test_a_server_whose_pages_loop_reorder_or_stop_short_fails_the_audit(
        cli: Cli, server: Server, files: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
        lie: Callable[[str, Any], Any], caught: str) -> None:
    """A page that repeats one before (which, believed, would send the audit round the same
    pages for ever), rows out of order, or a listing cut short: exit 3, never a pass."""
    from affidavit.ledger import http

    _pipeline(cli, files)
    _no_more_nodes.__dict__.pop("pages", None)
    monkeypatch.setattr(http, "_PAGE", 2)
    with _LyingProxy(server.url, lie) as proxy:
        monkeypatch.setenv("AFFIDAVIT_LEDGER", proxy.url)
        assert_error(cli("verify", "ledger"), 3, caught)


@pytest.mark.parametrize("during", ["/index-rows", "/map-leaves", "/map-nodes"])
def test_verify_ledger_on_a_server_written_to_during_the_audit_still_verifies(
        cli: Cli, server: Server, home: Home, files: Callable[..., Path],
        monkeypatch: pytest.MonkeyPatch, during: str) -> None:
    """Another job appends while the audit reads the server's listings (a team server is
    never still): the audit is of the log up to the size it began at, and what was appended
    meanwhile is no tampering."""
    from affidavit.ledger import http

    _pipeline(cli, files)
    monkeypatch.setattr(http, "_PAGE", 2)
    appended: list[str] = []

    def another_job(path: str, body: bytes, upstream: str) -> tuple[int, Any] | None:
        if path.endswith(during) and len(appended) < 2:
            appended.append(path)
            _library_append(home.db, f"meanwhile-{len(appended)}")
        return None

    size = _size(server)
    with _LyingProxy(server.url, instead=another_job) as proxy:
        monkeypatch.setenv("AFFIDAVIT_LEDGER", proxy.url)
        result = cli("verify", "ledger", "--output", "json")
    assert appended and _size(server) == size + len(appended)
    assert result.code == 0, str(result)
    assert _json(result)["size"] >= size


def test_verify_ledger_on_a_server_that_never_stands_still_gives_up_on_its_map(
        cli: Cli, server: Server, home: Home, files: Callable[..., Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The log moves on during every listing of the map: after a few tries the audit says it
    could not compare the map (exit 2, not read completely), neither a pass nor tampering."""
    from affidavit.ledger import http

    _pipeline(cli, files)
    monkeypatch.setattr(http, "_PAGE", 2)
    appended: list[str] = []

    def busy(path: str, body: bytes, upstream: str) -> tuple[int, Any] | None:
        if path.endswith("/map-leaves"):
            appended.append(path)
            _library_append(home.db, f"busy-{len(appended)}")
        return None

    with _LyingProxy(server.url, instead=busy) as proxy:
        monkeypatch.setenv("AFFIDAVIT_LEDGER", proxy.url)
        assert_error(cli("verify", "ledger"), 2, "the map was not compared")
    assert 5 <= len(appended) < 100


def test_a_servers_altered_key_map_fails_its_audit(
        cli: Cli, server: Server, home: Home, files: Callable[..., Path]) -> None:
    import sqlite3

    _pipeline(cli, files)
    db = sqlite3.connect(home.db)
    with db:
        db.execute("UPDATE map_leaves SET count = count + 1 WHERE key = ?", (f"flow:{FLOW}",))
    db.close()
    assert_error(cli("verify", "ledger"), 3, f"disagrees with the log at key 'flow:{FLOW}'")


def test_a_listing_asked_whole_is_refused_past_its_bound(
        cli: Cli, home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client from before pages asks for all rows at once: the server answers as it did up
    to ``MAX_UNPAGED`` rows, and past it refuses (exit 2 there) rather than build an answer
    as large as the ledger."""
    from affidavit.server import schemas
    from tests.server.threaded import ThreadedServer

    assert cli("create", "flow", FLOW).code == 0
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
    with ThreadedServer(f"sqlite:///{home.db}") as running:
        api = running.url + "/api/v1/ledger"
        whole = requests.get(f"{api}/index-rows", timeout=10)
        assert whole.status_code == 200 and len(whole.json()["rows"]) > 3
        monkeypatch.setattr(schemas, "MAX_UNPAGED", 3)
        for listing in ("index-rows", "map-rows"):
            refused = requests.get(f"{api}/{listing}", timeout=10)
            assert refused.status_code == 400
            assert "more than 3 rows for one answer" in refused.json()["error"]["message"]
        paged = requests.get(f"{api}/index-rows", params={"limit": 3}, timeout=10)
        assert paged.status_code == 200 and paged.json()["rows"] == whole.json()["rows"][:3]
        bad = requests.get(f"{api}/map-leaves", params={"after": "not base64!"}, timeout=10)
        assert bad.status_code == 400


@pytest.mark.remote
def test_the_remote_marker_runs_commands_through_the_server(
        cli: Cli, backend: str, request: pytest.FixtureRequest) -> None:
    """What makes the marked part of the CLI suite a test of the remote backend: the
    commands reach the server, and on ``http-postgresql-s3`` it stores in PostgreSQL and S3
    (the test's own SQLite file is never made)."""
    assert cli("create", "flow", FLOW).code == 0
    assert cli("attest", "generic", "--flow", FLOW, "--trail", "none", "--name", "x").code != 0
    if backend != "embedded":
        assert request.node.remote_server.requests > 0
    if backend == "http-postgresql-s3":
        import psycopg

        home: Home = request.getfixturevalue("home")
        assert not home.db.exists()
        with psycopg.connect(request.node.remote_server.ledger_url) as conn:
            assert conn.execute("SELECT count(*) FROM entries").fetchone() == (1,)
        bucket = request.getfixturevalue("bucket")
        assert [o.key for o in bucket.objects.all()] == []  # no evidence yet
        files = request.getfixturevalue("files")
        assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
        assert cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x",
                   "--attachments", files("note.txt", "evidence bytes")).code == 0
        digest = sha256_hex(b"evidence bytes")
        assert [o.key for o in bucket.objects.all()] == [
            f"evidence/sha256/{digest[:2]}/{digest}"]
