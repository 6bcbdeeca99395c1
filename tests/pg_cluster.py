"""A throwaway PostgreSQL cluster for the test session, started with pytest-postgresql's
executor, and a fresh database per test.

pytest-postgresql's own ``postgresql_proc`` fixture keeps the cluster under pytest's base
temporary folder, which is private to the user running the tests; as root (CI containers)
PostgreSQL must run as another user, who could not enter it. So the cluster lives in a folder
of its own, owned by that user, and ``pg_ctl`` runs through ``tests/pg_ctl_as_postgres``.
A cluster that cannot start fails the tests that need it: nothing is skipped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import port_for
from pytest_postgresql.executors import PostgreSQLExecutor

__all__ = ["cluster", "Cluster"]

PG_CTL = str(Path(__file__).with_name("pg_ctl_as_postgres"))


class Cluster:
    """A running cluster: URLs of new databases on it."""

    def __init__(self, executor: PostgreSQLExecutor) -> None:
        self.executor = executor

    def url(self, dbname: str) -> str:
        return f"postgresql://{self.executor.user}@127.0.0.1:{self.executor.port}/{dbname}"

    def new_database(self) -> str:
        """Create an empty database; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return self.url(name)


def cluster(*, durable: bool = False, options: str = "") -> Iterator[Cluster]:
    """Start a cluster in a new folder, yield it, stop it and remove the folder. Tests run it
    without fsync (nothing they check needs the disk); ``durable`` (benchmarks) keeps it;
    ``options``: more ``postgres`` options (``-c name=value ...``)."""
    root = os.getuid() == 0
    # as root, under /tmp itself: TMPDIR may be a folder the postgres user cannot enter
    home = tempfile.mkdtemp(prefix="affidavit-pg-", dir="/tmp" if root else None)
    if root:
        shutil.chown(home, "postgres", "postgres")
    executor = PostgreSQLExecutor(
        executable=PG_CTL, host="127.0.0.1", port=port_for.select_random(),
        datadir=os.path.join(home, "data"), unixsocketdir=home,
        logfile=os.path.join(home, "postgresql.log"), startparams="-w", dbname="affidavit",
        postgres_options=("" if durable else "-c fsync=off ") + "-c max_connections=200"
        + (f" {options}" if options else ""),
        timeout=120)
    try:
        executor.start()
        executor.wait_for_postgres()
        yield Cluster(executor)
    finally:
        try:
            executor.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)
