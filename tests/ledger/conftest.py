"""The PostgreSQL cluster of the ledger tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pg_cluster import Cluster, cluster


@pytest.fixture(scope="session")
def postgresql_proc() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster per test session (per xdist worker), started on first
    use; a cluster that cannot start fails every test asking for it."""
    yield from cluster()
