"""The query endpoints: each read of ``api/`` over HTTP answers what the CLI prints for it with
``--output json``, under the checkpoint the server proved it at; unknown names are 404, bad
parameters 400, and the server never fingerprints a path of its own."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from affidavit.ledger import note
from affidavit.ledger.checkpoint import Checkpoint
from tests.conftest import FLOW, TRAIL
from tests.helpers import Home
from tests.server.conftest import Server
from tests.server.test_remote import Cli, _pipeline

FP = "ab" * 32


def _query(server: Server, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{server.url}/api/v1{path}", params=params, timeout=30)


def _cli_json(cli: Cli, *args: str) -> Any:
    done = cli(*args, "--output", "json")
    assert done.code in (0, 1), str(done)
    return json.loads(done.out)


@pytest.fixture
def recorded(cli: Cli, server: Server, files: Callable[..., Path]) -> Server:
    """A flow with one trail: JUnit results (compliant), an artifact, a failing check."""
    _pipeline(cli, files)
    assert cli("attest", "artifact", "--flow", FLOW, "--trail", TRAIL, "--name", "app",
               "--fingerprint", FP, "--commit", "12" * 20).code == 0
    assert cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "security",
               "--compliant", "false").code == 0
    return server


@pytest.mark.parametrize(("path", "params", "command"), [
    ("/flows", {}, ["list", "flows"]),
    (f"/flows/{FLOW}", {}, ["get", "flow", FLOW]),
    (f"/flows/{FLOW}/trails", {}, ["list", "trails", "--flow", FLOW]),
    (f"/flows/{FLOW}/trails", {"status": "NON_COMPLIANT"},
     ["list", "trails", "--flow", FLOW, "--status", "NON_COMPLIANT"]),
    (f"/flows/{FLOW}/trails/{TRAIL}", {}, ["get", "trail", TRAIL, "--flow", FLOW]),
    (f"/flows/{FLOW}/trails/{TRAIL}", {"explain": "true"},
     ["get", "trail", TRAIL, "--flow", FLOW, "--explain"]),
    (f"/flows/{FLOW}/trails/{TRAIL}/log", {}, ["log", "trail", TRAIL, "--flow", FLOW]),
    (f"/flows/{FLOW}/trails/{TRAIL}/attestations/unit", {},
     ["get", "attestation", "unit", "--flow", FLOW, "--trail", TRAIL]),
    (f"/artifacts/{FP}", {}, ["get", "artifact", FP]),
    ("/search", {"prefix": "1212"}, ["search", "1212"]),
    ("/log", {"start": 1, "limit": 2}, ["log", "ledger", "--start", "1", "--limit", "2"]),
])
def test_each_query_answers_what_the_cli_prints(recorded: Server, cli: Cli, path: str,
                                                params: dict[str, Any],
                                                command: list[str]) -> None:
    answer = _query(recorded, path, **params)
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"] == _cli_json(cli, *command)


def test_answers_name_the_checkpoint_they_were_read_under(recorded: Server, home: Home,
                                                          cli: Cli) -> None:
    body = _query(recorded, f"/flows/{FLOW}/trails/{TRAIL}").json()
    key = cli("ledger", "public-key").out.strip()
    head = Checkpoint.parse(note.open_note(body["checkpoint"], [note.Verifier.from_key(key)]))
    assert head.size == 5  # flow, trail, junit, artifact, security
    assert body["result"]["status"] == "NON_COMPLIANT"
    assert [a["name"] for a in body["result"]["attestations"]] == ["unit", "security"]


def test_the_gates_answer_with_their_reasons(recorded: Server) -> None:
    trail = _query(recorded, f"/flows/{FLOW}/trails/{TRAIL}/assert").json()["result"]
    assert trail["status"] == "NON_COMPLIANT" and trail["compliant"] is False
    assert any("security" in reason for reason in trail["reasons"])
    artifact = _query(recorded, f"/artifacts/{FP}/assert").json()["result"]
    assert artifact["compliant"] is False


def test_unknown_names_are_404_and_bad_parameters_400(recorded: Server) -> None:
    assert _query(recorded, "/flows/nope").status_code == 404
    assert _query(recorded, f"/flows/{FLOW}/trails/nope").status_code == 404
    assert _query(recorded, f"/flows/{FLOW}/trails/{TRAIL}/attestations/nope").status_code == 404
    assert _query(recorded, f"/flows/{FLOW}/trails", status="SOMETIMES").status_code == 400
    assert _query(recorded, "/log", start=99).status_code == 400
    assert _query(recorded, "/log", limit=0).status_code == 400
    assert _query(recorded, "/search").status_code == 400


def test_an_artifact_is_named_by_its_fingerprint_only(recorded: Server) -> None:
    """A path (which ``assert artifact`` would fingerprint on the CLI's machine) is not a
    fingerprint here: the server never reads a file a request names."""
    for path in ("/artifacts/%2Fetc%2Fpasswd/assert", "/artifacts/etc/assert",
                 "/artifacts/..%2F..%2Fsecret"):
        assert _query(recorded, path).status_code in (400, 404)
