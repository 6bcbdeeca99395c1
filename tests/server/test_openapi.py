"""Schemathesis against the server's own OpenAPI document, on a real server process with a
small ledger in it: no 5xx for any generated request, and every answer -- errors included --
has the status, content type and shape the document says."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FLOW, TRAIL
from tests.server.conftest import Server

CHECKS = ("not_a_server_error,response_schema_conformance,status_code_conformance,"
          "content_type_conformance,response_headers_conformance")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module, on a ledger with a flow, a trail and an attestation."""
    import os

    from affidavit.api import record
    from affidavit.ledger.sqlite import SQLiteLedger

    folder = tmp_path_factory.mktemp("openapi")
    cache = os.environ.get("AFFIDAVIT_CACHE_DIR")
    os.environ["AFFIDAVIT_CACHE_DIR"] = str(folder / "writer-cache")
    handle = SQLiteLedger(str(folder / "l.db"))
    try:
        record.create_flow(handle, name=FLOW)
        record.begin_trail(handle, flow=FLOW, name=TRAIL)
        record.attest(handle, record.Claim(flow=FLOW, trail=TRAIL, name="ok"), type="generic",
                      predicate={"compliant": True})
    finally:
        handle.close()
        if cache is None:
            os.environ.pop("AFFIDAVIT_CACHE_DIR", None)
        else:
            os.environ["AFFIDAVIT_CACHE_DIR"] = cache
    running = Server(folder)
    running.start(folder / "l.db")
    yield running
    running.stop()


def test_every_operation_keeps_to_its_document(served: Server) -> None:
    """Schemathesis' own runner (its pytest plugin does not load under this pytest), with the
    checks named: a failure prints the request that reproduces it."""
    runner = Path(sys.executable).parent / "schemathesis"
    done = subprocess.run(  # noqa: S603 - the runner installed beside this interpreter
        [str(runner), "run", f"{served.url}/api/v1/openapi.json", "--checks", CHECKS,
         "--max-examples", "25", "--seed", "20261202", "--no-color"],
        capture_output=True, text=True, timeout=300, check=False,
        cwd=served.cache)  # its .schemathesis/ cache stays out of the checkout
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "generated" in done.stdout
