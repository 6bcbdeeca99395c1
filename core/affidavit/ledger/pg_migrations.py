"""Numbered schema migrations of the PostgreSQL ledger, applied in order and recorded in
``schema_migrations``.

The tables mirror the SQLite ledger's (``ledger.sqlite``, ``ledger.sqlite_map``) so that the
same tree, index and key-map code reads both. Text keys use the ``C`` collation: the index's
order and prefix ranges are then code-point order, as in SQLite and Python, whatever locale the
cluster was created with. Migrations only ever get added: a database already migrated past what
this version knows is refused rather than written by code that does not know its layout.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "LATEST", "TRACKING"]

TRACKING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
"""

_V1 = """
CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (idx BIGINT PRIMARY KEY, leaf BYTEA NOT NULL, data BYTEA NOT NULL);
CREATE TABLE nodes (
    level INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY (level, idx));
CREATE TABLE checkpoints (size BIGINT PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE idx (
    key TEXT COLLATE "C" NOT NULL, entry BIGINT NOT NULL, PRIMARY KEY (key, entry));
CREATE INDEX idx_by_entry ON idx (entry, key);
CREATE TABLE map_leaves (
    khash BYTEA PRIMARY KEY, key TEXT COLLATE "C" NOT NULL, count BIGINT NOT NULL,
    last BIGINT NOT NULL);
CREATE TABLE map_nodes (
    depth INTEGER NOT NULL, prefix BYTEA NOT NULL, hash BYTEA NOT NULL,
    PRIMARY KEY (depth, prefix))
"""

#: The leaf hashes apart from the entries, so that a proof's leaves are read by index-only
#: scans instead of from the entries' pages (see ``ledger.sqlite._LEAF_INDEX``).
_V2 = """
CREATE INDEX entries_leaf ON entries (idx) INCLUDE (leaf)
"""

#: Heartbeats: an environment that reported its unchanged running set (``Ledger.heartbeat``),
#: beside the log, not in it.
_V3 = """
CREATE TABLE heartbeats (
    environment TEXT COLLATE "C" PRIMARY KEY, at TEXT COLLATE "C" NOT NULL, size BIGINT NOT NULL)
"""

#: Witness cosignatures of checkpoints (``Ledger.add_cosignatures``), beside the log like
#: heartbeats: ``added`` keeps the order lines came in.
_V4 = """
CREATE TABLE cosignatures (
    size BIGINT NOT NULL, line TEXT COLLATE "C" NOT NULL, added BIGSERIAL NOT NULL,
    PRIMARY KEY (size, line))
"""

#: ``(version, statements)``, in order; each runs in the transaction that records it.
MIGRATIONS: tuple[tuple[int, str], ...] = ((1, _V1), (2, _V2), (3, _V3), (4, _V4))
LATEST = MIGRATIONS[-1][0]
