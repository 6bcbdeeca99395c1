"""A source ledger for the mirror tests, grown through the library as the CLI grows it, and
readings of SQLite files that go behind every affidavit class (``sqlite3`` alone), so that what
a test expects never comes from the code under test."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Home


class Source:
    """The test's source ledger (``home``'s file): grow it, read it behind the ledger's back."""

    def __init__(self, home: Home) -> None:
        from affidavit.ledger.sqlite import SQLiteLedger

        self.db = home.db
        self.url = home.url
        self.ledger = SQLiteLedger(home.url)
        self.trails = 0

    def grow(self, count: int) -> None:
        """``count`` more entries: a flow first, then trails."""
        from affidavit.api import record

        if self.ledger.size() == 0:
            record.create_flow(self.ledger, name="demo")
            count -= 1
        for _ in range(count):
            record.begin_trail(self.ledger, flow="demo", name=f"t{self.trails}")
            self.trails += 1

    def entries(self) -> list[bytes]:
        return entries_of(self.db)

    def checkpoint(self) -> str:
        """The latest checkpoint note the source signed."""
        with sqlite3.connect(self.db) as db:
            return str(db.execute("SELECT note FROM checkpoints ORDER BY size DESC "
                                  "LIMIT 1").fetchone()[0])


def entries_of(db: Path) -> list[bytes]:
    """Every entry of the SQLite ledger file ``db``, in log order, read with sqlite3 alone."""
    with sqlite3.connect(db) as conn:
        return [bytes(row[0]) for row in conn.execute("SELECT data FROM entries ORDER BY idx")]


def save(db: Path, to: Path) -> None:
    """Copy the SQLite file ``db`` whole (its WAL too) to ``to``, replacing what is there: a
    backup taken, or one restored over the live file."""
    for suffix in ("-wal", "-shm"):
        Path(f"{to}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(db) as src, sqlite3.connect(to) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def checkpoint_rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0])


def flip_entry(db: Path, index: int, *, leaf_too: bool = False) -> None:
    """Change one byte of entry ``index`` in the file (and its stored leaf hash, as a careful
    forger would, when ``leaf_too``)."""
    with sqlite3.connect(db) as conn:
        data = bytearray(conn.execute("SELECT data FROM entries WHERE idx = ?",
                                      (index,)).fetchone()[0])
        at = data.index(b"emo") - 1
        data[at] ^= 0x20  # "demo" <-> "Demo": still JSON, another entry
        leaf = hashlib.sha256(b"\x00" + bytes(data)).digest()
        if leaf_too:
            conn.execute("UPDATE entries SET data = ?, leaf = ? WHERE idx = ?",
                         (bytes(data), leaf, index))
        else:
            conn.execute("UPDATE entries SET data = ? WHERE idx = ?", (bytes(data), index))


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1's Merkle Tree Hash of a list of leaf hashes, straight from its definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


@pytest.fixture
def source(home: Home) -> Iterator[Source]:
    made = Source(home)
    yield made
    made.ledger.close()


@pytest.fixture
def attach(source: Source, tmp_path: Path) -> Callable[[bytes], str]:
    """Record a generic attestation with one evidence file of ``data``; its digest."""

    def record(data: bytes) -> str:
        from affidavit.cli.main import main

        if source.trails == 0:
            source.grow(2 if source.ledger.size() == 0 else 1)
        path = tmp_path / f"evidence-{hashlib.sha256(data).hexdigest()[:8]}.txt"
        path.write_bytes(data)
        code = main(["attest", "generic", "--flow", "demo", "--trail", "t0", "--name",
                     f"check-{path.stem}", "--attachments", str(path), "--ledger", source.url,
                     "--output", "json"])
        assert code == 0
        return hashlib.sha256(data).hexdigest()

    return record


def run(cli: Any, *args: Any) -> Any:
    """``affidavit mirror ARGS --output json``, asserted to succeed; its JSON."""
    result = cli("mirror", *args, "--output", "json")
    assert result.code == 0, str(result)
    return result.json()
