"""What only the PostgreSQL backend has: many writer processes on one database, the signing key
and evidence vault from the environment, migrations, an unreachable server, and the CLI on it.
(The protocol contract itself is ``tests/ledger/conformance``.)"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from affidavit.errors import IntegrityError, LedgerUnavailable, UsageError
from affidavit.ledger import note, proof
from affidavit.ledger.checkpoint import Checkpoint
from affidavit.ledger.postgres import PostgresLedger
from affidavit.ledger.registry import open_ledger
from tests.helpers import Cli
from tests.ledger import naive_tree
from tests.pg_cluster import Cluster

PROCESSES, THREADS, APPENDS = 2, 8, 6

_WRITER = textwrap.dedent("""
    import json, os, sys, threading, time
    from affidavit import canonical
    from affidavit.ledger.postgres import PostgresLedger

    url, key, process, threads, appends, go = sys.argv[1:7]
    process, threads, appends = int(process), int(threads), int(appends)
    acks, errors = [], []

    def write(thread):
        ledger = PostgresLedger(url, key_file=key)
        try:
            for n in range(appends):
                batch = [canonical.dumps({
                    "v": 1, "kind": "trail", "time": "2026-01-01T00:00:00Z",
                    "record": {"flow": f"p{process}", "name": f"t{thread}-{n}-{j}"}})
                    for j in range(1 + n % 3)]
                ack = ledger.append(batch)
                acks.append([ack.first, ack.size, ack.checkpoint])
        except BaseException as exc:
            errors.append(repr(exc))
        finally:
            ledger.close()

    while not os.path.exists(go):
        time.sleep(0.001)
    workers = [threading.Thread(target=write, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(json.dumps({"acks": acks, "errors": errors}))
""")


@pytest.fixture
def url(postgresql_proc: Cluster) -> str:
    return postgresql_proc.new_database()


def test_writer_processes_and_threads_make_one_linear_log(url: str, tmp_path: Path) -> None:
    """2 processes x 8 threads race to create one ledger (and its key), then append: every
    entry is there once, every acknowledged range is distinct, every checkpoint is signed and
    consistent with the next, and the last one is the root of the log as it stands."""
    key, go = tmp_path / "signing.key", tmp_path / "go"
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    writers = [subprocess.Popen([sys.executable, str(script), url, str(key), str(p),
                                 str(THREADS), str(APPENDS), str(go)],
                                stdout=subprocess.PIPE, text=True) for p in range(PROCESSES)]
    go.touch()
    results = []
    for writer in writers:
        out, _ = writer.communicate(timeout=300)
        assert writer.returncode == 0
        results.append(json.loads(out))
    assert [r["errors"] for r in results] == [[]] * PROCESSES
    acks = sorted(tuple(a) for r in results for a in r["acks"])
    assert len(acks) == PROCESSES * THREADS * APPENDS
    per_thread = sum(1 + n % 3 for n in range(APPENDS))
    total = PROCESSES * THREADS * per_thread
    assert [a[0] for a in acks] == [0] + [a[1] for a in acks[:-1]]
    assert acks[-1][1] == total

    ledger = PostgresLedger(url, key_file=str(key), create=False)
    try:
        entries = [data for _, data in ledger.read(0, ledger.size())]
        assert len(entries) == total
        names = {(e["record"]["flow"], e["record"]["name"]) for e in map(json.loads, entries)}
        assert len(names) == total
        verifier = note.Verifier.from_key(ledger.verifier_key())
        stored = [(size, Checkpoint.parse(note.open_note(text, [verifier])))
                  for size, text in ledger.checkpoints()]
        assert [size for size, _ in stored] == [0] + [a[1] for a in acks]
        assert {a[2] for a in acks} == {text for _, text in ledger.checkpoints()} - {
            dict(ledger.checkpoints())[0]}
        for (_, old), (_, new) in zip(stored, stored[1:], strict=False):
            assert new.size > old.size
            if old.size:
                proof.verify_consistency(old.size, new.size,
                                         ledger.consistency_proof(old.size, new.size),
                                         old.root, new.root)
        assert stored[-1][1].root == naive_tree.mth(entries)
        assert ledger.lookup("trails:p0") == sorted(ledger.lookup("trails:p0"))
        assert len(ledger.lookup("trails:p0")) + len(ledger.lookup("trails:p1")) == total
    finally:
        ledger.close()


def test_the_cli_records_and_verifies_on_postgresql(
        cli: Cli, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands and every proving reader work unchanged on the PostgreSQL backend."""
    monkeypatch.setenv("AFFIDAVIT_LEDGER", url)
    monkeypatch.setenv("AFFIDAVIT_SIGNING_KEY_FILE", str(tmp_path / "signing.key"))
    monkeypatch.setenv("AFFIDAVIT_EVIDENCE_DIR", str(tmp_path / "vault"))
    (tmp_path / "report.txt").write_text("all good\n")
    for command in [("create", "flow", "demo"), ("begin", "trail", "t1", "--flow", "demo"),
                    ("attest", "generic", "--flow", "demo", "--trail", "t1", "--name", "unit",
                     "--attachments", str(tmp_path / "report.txt"))]:
        result = cli(*command)
        assert result.code == 0, str(result)
    assert (tmp_path / "signing.key").stat().st_mode & 0o777 == 0o600
    result = cli("get", "trail", "t1", "--flow", "demo", "--output", "json")
    assert result.code == 0, str(result)
    result = cli("verify", "ledger")
    assert result.code == 0, str(result)


def test_the_registry_opens_both_schemes(url: str) -> None:
    for form in (url, url.replace("postgresql://", "postgres://", 1)):
        ledger = open_ledger(form)
        assert isinstance(ledger, PostgresLedger)
        ledger.close()


def test_an_unreachable_server_is_one_line_exit_3(cli: Cli,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://u:secret@127.0.0.1:{port}/nothing"
    with pytest.raises(LedgerUnavailable) as caught:
        PostgresLedger(url).size()
    assert "\n" not in caught.value.message and "secret" not in caught.value.message
    with pytest.raises(LedgerUnavailable), PostgresLedger(url).snapshot():
        pass
    monkeypatch.setenv("AFFIDAVIT_LEDGER", url)
    result = cli("list", "flows")
    assert result.code == 3, str(result)
    assert "Traceback" not in result.err and "secret" not in result.err


def test_writing_needs_a_key_file_and_evidence_needs_a_vault(url: str) -> None:
    ledger = PostgresLedger(url)
    with pytest.raises(UsageError) as no_key:
        ledger.init()
    assert "AFFIDAVIT_SIGNING_KEY_FILE" in no_key.value.diagnostics()
    with pytest.raises(UsageError) as no_vault:
        ledger.blobs.incoming()
    assert "AFFIDAVIT_EVIDENCE_DIR" in no_vault.value.diagnostics()
    ledger.close()


def test_a_key_file_without_its_history_is_refused(url: str, tmp_path: Path,
                                                   postgresql_proc: Cluster) -> None:
    key = tmp_path / "signing.key"
    first = PostgresLedger(url, key_file=str(key))
    origin = first.init()
    first.close()
    fresh = PostgresLedger(postgresql_proc.new_database(), key_file=str(key))
    with pytest.raises(IntegrityError) as refused:
        fresh.init()
    assert "--reuse-key" in refused.value.diagnostics()
    assert fresh.init(reuse_key=True) != origin
    fresh.close()


def test_migrations_are_recorded_once(url: str, tmp_path: Path) -> None:
    import psycopg

    for _ in range(2):
        ledger = PostgresLedger(url, key_file=str(tmp_path / "k"))
        ledger.init()
        ledger.close()
    with psycopg.connect(url) as conn:
        rows: list[Any] = conn.execute(
            "SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert rows == [(1,), (2,), (3,), (4,)]


def test_a_database_of_an_older_version_is_migrated_on_open(url: str, tmp_path: Path) -> None:
    """A ledger made before migrations 2 to 4 (the leaf index, heartbeats, cosignatures) is
    read as it is by a reader, and gets them when next opened to write, keeping every entry
    and proof."""
    import psycopg

    ledger = PostgresLedger(url, key_file=str(tmp_path / "k"))
    ledger.init()
    ledger.append([b'{"kind":"note","record":{},"time":"2026-01-01T00:00:00Z","v":1}'])
    root = ledger.root(1)
    ledger.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP INDEX entries_leaf")
        conn.execute("DROP TABLE heartbeats")
        conn.execute("DROP TABLE cosignatures")
        conn.execute("DELETE FROM schema_migrations WHERE version >= 2")
    reader = PostgresLedger(url, key_file=str(tmp_path / "k"), create=False)
    assert reader.root(1) == root and reader.heartbeat("prod") is None  # read, not migrated
    assert reader.cosignatures(1) == []
    reader.close()
    again = PostgresLedger(url, key_file=str(tmp_path / "k"))
    assert again.root(1) == root
    again.record_heartbeat("prod", "2026-01-01T00:00:00.000000Z", 1)
    line = "\u2014 w1 " + "A" * 100 + "AA=="  # 76 bytes: key ID, timestamp, signature
    again.add_cosignatures(1, [line])
    assert again.cosignatures(1) == [line + "\n"]
    again.close()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = "
                            "'entries_leaf'").fetchone() == (1,)
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone() == (4,)
        assert conn.execute("SELECT at, size FROM heartbeats").fetchall() == [
            ("2026-01-01T00:00:00.000000Z", 1)]


def test_a_newer_schema_is_refused(url: str, tmp_path: Path) -> None:
    import psycopg

    PostgresLedger(url, key_file=str(tmp_path / "k")).init()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (version) VALUES (99)")
    with pytest.raises(LedgerUnavailable, match="schema version 99"):
        PostgresLedger(url, key_file=str(tmp_path / "k")).size()


class _LosesCommit:
    """A connection that is lost while COMMIT is in flight, after the server committed
    (``delivered``) or before it saw the COMMIT."""

    def __init__(self, conn: Any, delivered: bool) -> None:
        self.conn, self.delivered = conn, delivered

    def execute(self, sql: Any, *args: Any) -> Any:
        import psycopg

        if sql == "COMMIT":
            if self.delivered:
                with self.conn.pipeline():  # sent and answered, in a pipeline or not
                    self.conn.execute("COMMIT")
            self.conn.close()
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return self.conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


@pytest.mark.parametrize("delivered", [True, False])
def test_a_connection_lost_during_commit_is_resolved(url: str, tmp_path: Path,
                                                     delivered: bool) -> None:
    """The append asks the database whether its checkpoint was committed: acknowledged with
    its evidence kept when it was, refused with its evidence removed when it was not."""
    from affidavit import canonical
    from affidavit.ledger.blobs import FileBlobStore

    ledger = PostgresLedger(url, key_file=str(tmp_path / "k"),
                            blobs=FileBlobStore(str(tmp_path / "vault")))
    ledger.check_writable()
    (tmp_path / "e.txt").write_bytes(b"evidence")
    batch = ledger.blobs.incoming()
    digest, _ = batch.add(tmp_path / "e.txt")
    entry = canonical.dumps({"v": 1, "kind": "note", "time": "2026-01-01T00:00:00Z",
                             "record": {}})
    ledger._connection = _LosesCommit(ledger._db, delivered)  # type: ignore[assignment]
    if delivered:
        assert ledger.append([entry], evidence=batch).size == 1
    else:
        with pytest.raises(LedgerUnavailable):
            ledger.append([entry], evidence=batch)
    batch.close()
    assert ledger.size() == int(delivered)
    assert ledger.blobs.has(digest) is delivered
    assert ledger.append([entry]).first == int(delivered)
    ledger.close()


def test_the_server_serves_a_postgresql_ledger(
        cli: Cli, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``affidavit server`` on the PostgreSQL backend: the remote client proves every answer
    of a ledger stored there, evidence included."""
    from tests.server.threaded import ThreadedServer

    monkeypatch.setenv("AFFIDAVIT_SIGNING_KEY_FILE", str(tmp_path / "signing.key"))
    monkeypatch.setenv("AFFIDAVIT_EVIDENCE_DIR", str(tmp_path / "vault"))
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "TEST-a.xml").write_text(
        "<testsuite tests='1'><testcase name='a'/></testsuite>")
    with ThreadedServer(url) as server:
        monkeypatch.setenv("AFFIDAVIT_LEDGER", server.url)
        for command in [("create", "flow", "demo"), ("begin", "trail", "t1", "--flow", "demo"),
                        ("attest", "junit", "--flow", "demo", "--trail", "t1", "--name", "unit",
                         "--results-dir", str(tmp_path / "results"))]:
            result = cli(*command)
            assert result.code == 0, str(result)
        result = cli("get", "trail", "t1", "--flow", "demo", "--output", "json")
        assert result.code == 0, str(result)
        assert cli("verify", "ledger").code == 0
    ledger = PostgresLedger(url, create=False)
    assert ledger.size() == 3
    ledger.close()
    assert [p for p in (tmp_path / "vault").rglob("*") if p.is_file()]
