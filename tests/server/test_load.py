"""Two server processes on one database under 16 concurrent writers give one consistent log;
a server killed with SIGKILL mid-load restarts and verifies, with nothing it acknowledged lost
-- on SQLite and on PostgreSQL (one database, two stateless servers, one shared key).

Each writer is a separate CLI process with its own client cache, as separate CI jobs are; the
log is then checked by a fresh client (``verify ledger``: every checkpoint, the tree, the key
map) and read back entry by entry.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FLOW, TRAIL
from tests.helpers import Home
from tests.server.conftest import Server

CLI = str(Path(sys.executable).parent / "affidavit")


def _run(url: str, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_")}
    env.update(AFFIDAVIT_LEDGER=url, AFFIDAVIT_CACHE_DIR=str(cache), AFFIDAVIT_HTTP_RETRIES="3")
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def _attest(url: str, cache: Path, name: str) -> subprocess.CompletedProcess[str]:
    return _run(url, cache, "attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name",
                name, "--compliant", "true")


def _names(url: str, cache: Path) -> list[str]:
    """The attestations' names, in log order, from the entries themselves (the ledger was
    verified just before, by the same client)."""
    import base64

    import requests

    size = int(requests.get(f"{url}/api/v1/ledger/state", timeout=10).json()["size"])
    rows = requests.get(f"{url}/api/v1/ledger/entries", params={"start": 0, "end": size},
                        timeout=10).json()["entries"]
    entries = [json.loads(base64.b64decode(data)) for _, data in rows]
    return [e["record"]["name"] for e in entries if e["kind"] == "attestation"]


class Storage:
    """What the servers serve: the test's SQLite file, or a fresh PostgreSQL database with
    the signing key and the evidence folder every replica shares."""

    def __init__(self, kind: str, home: Home, folder: Path, request: pytest.FixtureRequest):
        self.env: dict[str, str] = {}
        self.extra: tuple[str, ...] = ()
        if kind == "sqlite":
            self.ledger = str(home.db)
        else:
            cluster = request.getfixturevalue("postgresql_proc")
            self.ledger = cluster.new_database()
            self.env = {"AFFIDAVIT_SIGNING_KEY_FILE": str(folder / "signing.key")}
            self.extra = ("--evidence", f"file://{folder / 'evidence'}")

    def start(self, server: Server) -> None:
        server.start(self.ledger, *self.extra, env=self.env)


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, home: Home,
            tmp_path_factory: pytest.TempPathFactory) -> Storage:
    return Storage(str(request.param), home, tmp_path_factory.mktemp("storage"), request)


@pytest.fixture
def two(storage: Storage, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Server]]:
    servers = [Server(tmp_path_factory.mktemp(f"server{i}")) for i in range(2)]
    for running in servers:
        storage.start(running)
    yield servers
    for running in servers:
        running.stop()


def test_sixteen_writers_through_two_servers_make_one_log(
        two: list[Server], tmp_path: Path) -> None:
    setup = tmp_path / "setup"
    assert _run(two[0].url, setup, "create", "flow", FLOW).returncode == 0
    assert _run(two[1].url, setup, "begin", "trail", TRAIL, "--flow", FLOW).returncode == 0
    failures: list[str] = []

    def job(n: int) -> None:
        cache = tmp_path / f"job{n}"
        for i in range(3):
            done = _attest(two[(n + i) % 2].url, cache, f"w{n}-{i}")
            if done.returncode != 0:
                failures.append(done.stderr)

    threads = [threading.Thread(target=job, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    auditor = tmp_path / "auditor"
    for running in two:
        verified = _run(running.url, auditor, "verify", "ledger")
        assert verified.returncode == 0, verified.stderr
        assert "50 entries" in verified.stdout
    names = _names(two[0].url, auditor)
    assert sorted(names) == sorted(f"w{n}-{i}" for n in range(16) for i in range(3))


def test_a_server_killed_mid_load_loses_nothing_it_acknowledged(
        storage: Storage, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    running = Server(tmp_path_factory.mktemp("victim"))
    storage.start(running)
    setup = tmp_path / "setup"
    assert _run(running.url, setup, "create", "flow", FLOW).returncode == 0
    assert _run(running.url, setup, "begin", "trail", TRAIL, "--flow", FLOW).returncode == 0
    acknowledged: list[str] = []
    stop = threading.Event()

    def job(n: int) -> None:
        cache = tmp_path / f"job{n}"
        i = 0
        while not stop.is_set():
            name = f"k{n}-{i}"
            if _attest(running.url, cache, name).returncode == 0:
                acknowledged.append(name)
            i += 1

    threads = [threading.Thread(target=job, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < 6:
        threading.Event().wait(0.05)
    assert running.process is not None
    os.kill(running.process.pid, signal.SIGKILL)
    running.process.wait()
    running.process = None
    threading.Event().wait(0.5)  # writers now fail: nothing more is acknowledged
    stop.set()
    for thread in threads:
        thread.join()
    storage.start(running)
    try:
        auditor = tmp_path / "auditor"
        verified = _run(running.url, auditor, "verify", "ledger")
        assert verified.returncode == 0, verified.stderr
        names = _names(running.url, auditor)
        assert set(acknowledged) <= set(names)
        assert len(names) == len(set(names))  # no retry appended twice
    finally:
        running.stop()
