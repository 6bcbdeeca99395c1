"""Fixtures shared by every test: an isolated environment, the CLI in-process, a small ledger.

Every test gets its own ledger location (``AFFIDAVIT_LEDGER``) and its own client cache
(``AFFIDAVIT_CACHE_DIR``, where ``verify ledger`` remembers the last checkpoint it saw), both in
fresh temporary directories outside ``tmp_path``, so tests can run in parallel, never see each
other's state, and never depend on the working directory being a git checkout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Home, Result, clear_environment
from tests.s3_server import bucket, moto_endpoint, s3_env  # noqa: F401 - fixtures for all


def _first_re2_compile() -> None:
    """Compile one RE2 pattern while the worker is fresh. Twice, a test worker has aborted
    (SIGABRT) inside google-re2's first construction of a pattern, late in a run, after other
    native libraries (lxml, jsonschema-rs, psycopg) had loaded into the same worker. It never
    happened alone. Doing RE2's first construction before any of them load takes that moment
    out of the suite's order; what the tests assert is unchanged."""
    import re2  # type: ignore[import-untyped]

    options = re2.Options()
    options.log_errors = False
    re2.compile("^datadog:", options)  # the pattern the aborted worker was compiling


_first_re2_compile()

FLOW = "demo"
TRAIL = "t1"


@pytest.fixture(scope="session")
def postgresql_proc() -> Iterator[Any]:
    """One throwaway PostgreSQL cluster per test session (per xdist worker), started on first
    use; a cluster that cannot start fails every test asking for it."""
    from tests.pg_cluster import cluster

    yield from cluster()


@pytest.fixture(autouse=True)
def home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Home:
    """This test's ledger location and client cache, exported to the environment."""
    clear_environment(monkeypatch)
    here = Home(dir=tmp_path_factory.mktemp("ledger"), cache=tmp_path_factory.mktemp("cache"))
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(here.cache))
    monkeypatch.setenv("AFFIDAVIT_LEDGER", here.url)
    return here


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "remote: also run against affidavit server over HTTP (the CLI suite's "
        "representative part: same commands, outputs and exit codes on the remote backend)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("remote"):
        metafunc.fixturenames.append("backend")
        metafunc.parametrize("backend", ["embedded", "http", "http-postgresql-s3"],
                             indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest, home: Home,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``http``: the test's commands go to a real uvicorn server on 127.0.0.1 serving the
    test's ledger file (started in this process, so a test can still open that file).
    ``http-postgresql-s3``: the server stores the ledger in a fresh PostgreSQL database and
    the evidence in a fresh S3 bucket (moto), as a team deployment does."""
    kind = str(request.param)
    if kind == "embedded":
        yield kind
        return
    from tests.server.threaded import ThreadedServer

    ledger, options = home.url, {}
    if kind == "http-postgresql-s3":
        ledger = request.getfixturevalue("postgresql_proc").new_database()
        bucket = request.getfixturevalue("bucket")
        monkeypatch.setenv("AFFIDAVIT_SIGNING_KEY_FILE", str(home.dir / "server-signing.key"))
        options = {"evidence": f"s3://{bucket.name}/evidence"}
    with ThreadedServer(ledger, **options) as running:
        request.node.remote_server = running  # type: ignore[attr-defined]
        monkeypatch.setenv("AFFIDAVIT_LEDGER", running.url)
        monkeypatch.setenv("AFFIDAVIT_HTTP_RETRIES", "2")
        yield kind


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``affidavit ARGS`` in-process; return its exit code and what it printed."""
    from affidavit.cli.main import main

    def run(*args: Any) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def ledger(home: Home) -> Iterator[Any]:
    """The library's handle on this test's ledger."""
    from affidavit.ledger.sqlite import SQLiteLedger

    handle = SQLiteLedger(home.url)
    yield handle
    handle.close()


@pytest.fixture
def trail(ledger: Any) -> tuple[str, str]:
    """Flow ``demo`` with trail ``t1`` begun, recorded through the library."""
    from affidavit.api import record

    record.create_flow(ledger, name=FLOW, description="the demo flow")
    record.begin_trail(ledger, flow=FLOW, name=TRAIL, description="first trail")
    return FLOW, TRAIL


@pytest.fixture
def files(tmp_path: Path) -> Callable[..., Path]:
    """``files("a/b.txt", b"...")`` writes a file under tmp_path and returns its path."""

    def write(name: str, data: bytes | str = b"") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        return path

    return write
