"""Organisations and API tokens: scopes, confinement to one's organisation, public audit
endpoints, rate limits -- on a real server with one ledger per organisation."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.helpers import Result, assert_error
from tests.server.conftest import Server

CLI = str(Path(sys.executable).parent / "affidavit")
PUBLIC = {"/api/v1/checkpoint", "/api/v1/ledger/state", "/api/v1/ledger/root",
          "/api/v1/ledger/inclusion-proof", "/api/v1/ledger/inclusion-proofs",
          "/api/v1/ledger/consistency-proof"}


def _token(tokens: Path, org: str, scope: str) -> str:
    done = subprocess.run([CLI, "server", "token", "create", "--tokens", str(tokens), "--org",
                           org, "--scope", scope], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def orgs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("orgs")
    tokens = folder / "tokens.db"
    made = {f"{org}-{scope}": _token(tokens, org, scope)
            for org in ("acme", "globex") for scope in ("read", "write", "admin")}
    running = Server(folder)
    running.start(f"{folder}/{{org}}.db", "--tokens", str(tokens), "--rate-limit", "50")
    yield running, made
    running.stop()


def _as(monkeypatch: pytest.MonkeyPatch, server: Server, org: str, token: str | None) -> None:
    monkeypatch.setenv("AFFIDAVIT_LEDGER", f"{server.url}/orgs/{org}")
    if token is None:
        monkeypatch.delenv("AFFIDAVIT_API_TOKEN", raising=False)
    else:
        monkeypatch.setenv("AFFIDAVIT_API_TOKEN", token)


def test_tokens_are_shown_once_and_stored_hashed(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.db"
    token = _token(tokens, "acme", "write")
    assert token.startswith("afv_") and len(token) > 40
    assert token.encode() not in tokens.read_bytes()
    assert _token(tokens, "acme", "write") != token
    bad = subprocess.run([CLI, "server", "token", "create", "--tokens", str(tokens), "--org",
                          "Not An Org", "--scope", "write"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--org" in bad.stderr and "Traceback" not in bad.stderr


def test_scopes(cli: Callable[..., Result], orgs: tuple[Server, dict[str, str]],
                monkeypatch: pytest.MonkeyPatch) -> None:
    server, made = orgs
    _as(monkeypatch, server, "acme", made["acme-write"])
    assert cli("create", "flow", "app").code == 0
    _as(monkeypatch, server, "acme", made["acme-read"])
    assert cli("get", "flow", "app").code == 0
    assert_error(cli("create", "flow", "other"), 2, "scope is read", "needs write")
    _as(monkeypatch, server, "acme", made["acme-admin"])
    assert cli("create", "flow", "other").code == 0
    _as(monkeypatch, server, "acme", None)
    assert_error(cli("get", "flow", "app"), 2, "a valid API token is needed")
    _as(monkeypatch, server, "acme", "afv_not-a-token")
    assert_error(cli("get", "flow", "app"), 2, "a valid API token is needed")


def test_a_heartbeat_is_written_with_a_write_token_and_read_with_a_read_one(
        cli: Callable[..., Result], orgs: tuple[Server, dict[str, str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, made = orgs
    url = f"{server.url}/api/v1/orgs/acme/ledger/heartbeat"
    beat = {"environment": "prod", "at": "2026-01-01T00:00:00.000000Z", "size": 0}

    def post(token: str, body: dict[str, object]) -> requests.Response:
        return requests.post(url, json=body, timeout=10,
                             headers={"Authorization": f"Bearer {made[token]}"})

    refused = post("acme-read", beat)
    assert refused.status_code == 403 and "needs write" in refused.text
    assert post("acme-write", {**beat, "size": 5}).status_code == 400  # beyond the log
    assert post("acme-write", {**beat, "at": "yesterday"}).status_code == 400
    assert post("acme-write", beat).json() == {"recorded": True}
    read = requests.get(url, params={"environment": "prod"}, timeout=10,
                        headers={"Authorization": f"Bearer {made['acme-read']}"})
    assert read.json() == {"heartbeat": {"at": beat["at"], "size": 0}}


def test_every_private_endpoint_hides_another_organisation(
        cli: Callable[..., Result], orgs: tuple[Server, dict[str, str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, made = orgs
    _as(monkeypatch, server, "acme", made["acme-write"])
    assert cli("create", "flow", "app").code == 0
    spec = requests.get(f"{server.url}/api/v1/openapi.json", timeout=10).json()
    checked = 0
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/v1/") or path == "/api/v1/openapi.json":
            continue
        concrete = path.replace("{digest}", "ab" * 32)
        for method in operations:
            url = f"{server.url}/api/v1/orgs/acme{concrete[len('/api/v1'):]}"
            foreign = requests.request(method, url, timeout=10, headers={
                "Authorization": f"Bearer {made['globex-admin']}"}, json={})
            if path in PUBLIC:
                assert foreign.status_code != 404 or "organisation" not in foreign.text, path
            else:
                assert foreign.status_code == 404, (method, path, foreign.status_code)
                assert foreign.json()["error"]["message"] == "no organisation 'acme' here"
            unknown = requests.request(method, url.replace("/orgs/acme", "/orgs/initech"),
                                       timeout=10, json={})
            assert unknown.status_code == 404, (method, path)
            checked += 1
    assert checked >= 20


def test_audit_endpoints_are_public(orgs: tuple[Server, dict[str, str]],
                                    cli: Callable[..., Result],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    server, made = orgs
    _as(monkeypatch, server, "acme", made["acme-write"])
    assert cli("create", "flow", "app").code == 0
    base = f"{server.url}/api/v1/orgs/acme"
    note = requests.get(f"{base}/checkpoint", timeout=10)
    assert note.status_code == 200 and note.text.split("\n")[1] == "1"
    assert requests.get(f"{base}/ledger/inclusion-proof", params={"index": 0, "size": 1},
                        timeout=10).json() == {"hashes": []}
    assert requests.get(f"{base}/ledger/lookup", params={"key": "flow:app"},
                        timeout=10).status_code == 401


def test_a_token_over_its_rate_limit_is_429(orgs: tuple[Server, dict[str, str]]) -> None:
    server, made = orgs
    headers = {"Authorization": f"Bearer {made['acme-read']}"}
    statuses: list[int] = []
    with requests.Session() as session:  # one connection: as fast as this machine allows
        while 429 not in statuses and len(statuses) < 1000:  # a burst of 100, then 50/s
            statuses.append(session.get(f"{server.url}/api/v1/orgs/acme/ledger/keys",
                                        params={"prefix": ""}, headers=headers,
                                        timeout=10).status_code)
    assert statuses[0] == 200 and 429 in statuses
    other = requests.get(f"{server.url}/api/v1/orgs/acme/ledger/keys", params={"prefix": ""},
                         headers={"Authorization": f"Bearer {made['acme-write']}"}, timeout=10)
    assert other.status_code == 200  # the limit is per token
