"""A team ledger for the wrapper tests: a real ``affidavit server`` on 127.0.0.1 serving
organisation ``acme``, with one write token, as ``tests/server/conftest.py`` runs it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.server.conftest import Server

CLI = Path(sys.executable).parent / "affidavit"


@dataclass(frozen=True)
class Team:
    """The running server: the ledger URL a pipeline is given, its token, and the size of the
    server's log (read without a token: ``/ledger/state`` is public)."""

    ledger: str
    token: str
    state_url: str

    def size(self) -> int:
        size: int = requests.get(self.state_url, timeout=10).json()["size"]
        return size


@contextmanager
def team_server(folder: Path) -> Iterator[Team]:
    tokens = folder / "tokens.db"
    token = subprocess.run([str(CLI), "server", "token", "create", "--tokens", str(tokens),
                            "--org", "acme", "--scope", "write"], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert len(token) > 16, token
    server = Server(folder)
    server.start(f"{folder}/{{org}}.db", "--tokens", str(tokens))
    try:
        yield Team(f"{server.url}/orgs/acme", token,
                   f"{server.url}/api/v1/orgs/acme/ledger/state")
    finally:
        server.stop()
