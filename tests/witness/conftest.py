"""Witnesses on 127.0.0.1 for the witness tests: ``affidavit witness serve`` as a real process
(what an operator runs; a restart keeps its state file), or the same app under uvicorn in a
thread of the test process when a test only needs the HTTP protocol.

The ledger is the test's real SQLite ledger (``home``), grown through the library as the CLI
would grow it; its checkpoints are what the witness is asked to cosign.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.helpers import Home, stop_process
from tests.server.conftest import free_port
from tests.server.threaded import ThreadedApp

WITNESS_NAME = "witness.test/w1"


class WitnessProcess:
    """One ``affidavit witness serve`` process; :meth:`start` again is a restart."""

    def __init__(self, key: Path, state: Path, logs: list[str], log_file: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key, self.state, self.logs, self.log_file = key, state, logs, log_file
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.stop()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_")}
        cli = Path(sys.executable).parent / "affidavit"
        args = [str(cli), "witness", "serve", "--key", str(self.key), "--state",
                str(self.state), "--port", str(self.port)]
        for log in self.logs:
            args += ["--log", log]
        self.process = subprocess.Popen(  # noqa: S603 - our own CLI
            args, env=env, stdout=subprocess.DEVNULL, stderr=self.log_file.open("ab"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"witness exited: {self.log_file.read_text()}")
            try:  # an empty body is malformed: a 400 says the witness is up
                if requests.post(f"{self.url}/add-checkpoint", data=b"",
                                 timeout=1).status_code == 400:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"witness did not start: {self.log_file.read_text()}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


class ThreadedWitness(ThreadedApp):
    """The witness app under a real uvicorn in a thread: ``with ThreadedWitness(w) as t``."""

    def __init__(self, witness: Any) -> None:
        from affidavit.server.witness import create_witness_app

        super().__init__(create_witness_app(witness))


@pytest.fixture
def ledger_log(ledger: Any) -> str:
    """``ORIGIN=VKEY`` of the test's ledger (created by its first entry)."""
    from affidavit.api import record

    record.create_flow(ledger, name="f0", description="the first entry")
    return f"{ledger.origin()}={ledger.verifier_key()}"


@pytest.fixture
def witness_key(tmp_path: Path) -> tuple[Path, str]:
    """A witness key file and its vkey, made by the library."""
    from affidavit.api.witnesses import generate_key

    path = tmp_path / "witness.key"
    return path, generate_key(str(path), WITNESS_NAME)


@pytest.fixture
def witness_process(home: Home, ledger_log: str, witness_key: tuple[Path, str],
                    tmp_path: Path) -> Iterator[WitnessProcess]:
    """A real ``witness serve`` of the test's ledger, its state in ``tmp_path``."""
    running = WitnessProcess(witness_key[0], tmp_path / "witness.db", [ledger_log],
                             tmp_path / "witness.log")
    running.start()
    yield running
    running.stop()


@pytest.fixture
def threaded_witness(ledger_log: str, witness_key: tuple[Path, str],
                     tmp_path: Path) -> Iterator[ThreadedWitness]:
    """The same witness in this process (cheaper, for the protocol's cases)."""
    from affidavit.api.witnesses import open_witness

    witness = open_witness(str(witness_key[0]), str(tmp_path / "witness.db"), [ledger_log])
    with ThreadedWitness(witness) as running:
        yield running
