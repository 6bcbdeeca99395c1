"""The ``backend`` fixture of the conformance suite: every test runs once per ledger backend.

Each backend opens handles on one fresh ledger (several handles stand for several processes)
and can change its rows below affidavit (``tamper``), which is how the tests play an attacker
with access to the storage. The SQL given to ``tamper`` uses ``?`` placeholders and names the
tables both backends share.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from affidavit.ledger.blobs import FileBlobStore
from affidavit.ledger.postgres import PostgresLedger
from affidavit.ledger.sqlite import SQLiteLedger
from tests.pg_cluster import Cluster

BACKENDS = ["sqlite", "postgresql"]


@dataclass
class Backend:
    """One fresh ledger on one backend."""

    name: str
    url: str
    key_path: Path
    vault: Path
    opener: Callable[[bool], Any]
    raw: Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]
    handles: list[Any] = field(default_factory=list)

    def open(self, *, create: bool = True) -> Any:
        """A new handle on the ledger, closed at the end of the test."""
        ledger = self.opener(create)
        self.handles.append(ledger)
        return ledger

    def tamper(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run ``sql`` on the storage directly, committed."""
        return self.raw(sql, params)

    def vault_files(self) -> list[Path]:
        """Every file in the evidence vault, temporary ones included."""
        return sorted(p for p in self.vault.rglob("*") if p.is_file()) if self.vault.exists() \
            else []


def _sqlite(tmp_path: Path) -> Backend:
    db = tmp_path / "ledger.db"

    def raw(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(db, isolation_level=None)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    return Backend("sqlite", f"sqlite:///{db}", Path(f"{db}.key"), Path(f"{db}.blobs"),
                   lambda create: SQLiteLedger(f"sqlite:///{db}", create=create), raw)


def _postgres(tmp_path: Path, proc: Cluster) -> Backend:
    import psycopg

    url = proc.new_database()
    key, vault = tmp_path / "signing.key", tmp_path / "vault"

    def raw(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with psycopg.connect(url, autocommit=True) as conn:
            cursor = conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    return Backend("postgresql", url, key, vault,
                   lambda create: PostgresLedger(url, create=create, key_file=str(key),
                                                 blobs=FileBlobStore(str(vault))), raw)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A fresh ledger on each backend in turn."""
    if request.param == "sqlite":
        made = _sqlite(tmp_path)
    else:
        made = _postgres(tmp_path, request.getfixturevalue("postgresql_proc"))
    yield made
    for handle in made.handles:
        handle.close()


@pytest.fixture
def ledger(backend: Backend) -> Any:
    """A handle on the backend's ledger, created."""
    handle = backend.open()
    handle.init()
    return handle
