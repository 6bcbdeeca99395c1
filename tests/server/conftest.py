"""A real ``affidavit server`` process on 127.0.0.1 for each test that asks for one.

The server keeps its own cache directory (its memory of checkpoints is not the client's), and
the ledger it serves lives in the test's ``home``, so a test can also open the same file with
the library, copy it, or tamper with it, as an operator (or an attacker) of the server could.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.helpers import Home, stop_process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One ``affidavit server`` process; :meth:`start` again serves another ledger file at the
    same URL (what a replaced or rolled-back server looks like to its clients)."""

    def __init__(self, cache: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cache = cache
        self.process: subprocess.Popen[bytes] | None = None
        self.log = cache / "server.log"

    def start(self, ledger: Path | str, *extra: str, env: dict[str, str] | None = None) -> None:
        """Serve ``ledger``; ``env`` adds variables (a PostgreSQL ledger's signing key file)."""
        self.stop()
        given = env or {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_")}
        env.update(given)
        env["AFFIDAVIT_CACHE_DIR"] = str(self.cache)
        cli = Path(sys.executable).parent / "affidavit"
        self.process = subprocess.Popen(  # noqa: S603 - our own CLI
            [str(cli), "server", "--ledger", str(ledger), "--port", str(self.port), *extra],
            env=env, stdout=subprocess.DEVNULL, stderr=self.log.open("ab"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        self.stop()  # not left running past the test that gave up on it
        raise AssertionError(f"server did not become ready: {self.log.read_text()}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


@pytest.fixture
def server(home: Home, tmp_path_factory: pytest.TempPathFactory,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A server on this test's ledger file; the CLI's ``AFFIDAVIT_LEDGER`` points at it."""
    running = Server(tmp_path_factory.mktemp("server-cache"))
    running.start(home.db)
    monkeypatch.setenv("AFFIDAVIT_LEDGER", running.url)
    monkeypatch.setenv("AFFIDAVIT_HTTP_RETRIES", "2")
    yield running
    running.stop()
