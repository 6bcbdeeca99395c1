"""The ledger in a PostgreSQL database: the server's storage, shared by several server processes.

The rows are those of the SQLite ledger (entries with their leaf hashes, every fourth level of
tree nodes, index rows, the key map, signed checkpoints), so every reader and audit works on
both unchanged. What differs is how writers meet: an append takes a transaction-scoped
advisory lock (one fixed key: the database is the ledger) before it reads the head, so appends
from any number of processes form one linear history, each signing the checkpoint that extends
the one before. A commit is durable before it is acknowledged (``synchronous_commit`` is forced
on for the append's transaction, whatever the server's default).

The signing key cannot sit beside a database on another host, so it comes from the file named
by ``AFFIDAVIT_SIGNING_KEY_FILE`` (made, mode 0600, when the ledger is created), and is refused
when it is not the key the history is signed with. Evidence goes to the ``BlobStore`` the caller
gives, by default a vault folder named by ``AFFIDAVIT_EVIDENCE_DIR``.
"""

from __future__ import annotations

import os

from affidavit.errors import (
    InputError,
    IntegrityError,
    LedgerUnavailable,
    NotFoundError,
    UsageError,
)
from affidavit.ledger import checkpoint as ckpt
from affidavit.ledger import pg_migrations, rfc6962
from affidavit.ledger.keyfile import read_key, write_key
from affidavit.ledger.pg_support import (
    EVIDENCE_ENV,
    KEY_FILE_ENV,
    MissingBlobs,
    Qmark,
    one_line,
    redacted,
)
from affidavit.ledger.sqlite_map import SQLiteMap
from affidavit.ledger.stored_tree import STRIDE, StoredTree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Sequence
    from typing import Any

    import psycopg

    from affidavit.errors import AffidavitError
    from affidavit.ledger import Appended, Pending
    from affidavit.ledger.base import BlobStore

__all__ = ["PostgresLedger", "STRIDE", "LOCK", "KEY_FILE_ENV", "EVIDENCE_ENV"]

#: The advisory lock key every writer of a ledger database takes (advisory locks are per
#: database, so one constant serves every ledger): ``b"affidavi"`` as a signed 64-bit integer.
LOCK = int.from_bytes(b"affidavi", "big", signed=True)
_PAGE = 1000  # rows per query when streaming a long read


class _Snapshot:
    """One REPEATABLE READ, read-only transaction, re-entrant: the outermost ``with`` owns it."""

    __slots__ = ("_ledger",)

    def __init__(self, ledger: PostgresLedger) -> None:
        self._ledger = ledger

    def __enter__(self) -> None:
        owner = self._ledger
        _guarded(owner, owner._init)
        if owner._snapshots == 0:
            owner._snapshot_size = None
            owner._snapshot_note = None
            _guarded(owner, lambda: owner._begin_snapshot())
        owner._snapshots += 1

    def __exit__(self, *exc: object) -> None:
        owner = self._ledger
        owner._snapshots -= 1
        if owner._snapshots == 0 and owner._connection is not None:
            _guarded(owner, lambda: owner._end_transaction())


class PostgresLedger(StoredTree):
    """A ledger in one PostgreSQL database, its key in a file, its evidence in ``blobs``.

    A handle holds one connection and the transaction state of its snapshots, so it belongs to
    one thread at a time (the server makes every call from its event loop's thread); threads
    and processes that write at once each open their own handle, and the advisory lock orders
    them."""

    def __init__(self, url: str, *, create: bool = True, blobs: BlobStore | None = None,
                 key_file: str | None = None) -> None:
        """Nothing is connected until first use; ``create=False`` makes a database without a
        ledger an error rather than a new, empty ledger."""
        if not url.startswith(("postgresql://", "postgres://")):
            raise UsageError(f"ledger URL {url!r} is not a postgresql:// URL")
        self.url = url
        self.where = redacted(url)
        self.create = create
        self.key_path = key_file or os.environ.get(KEY_FILE_ENV) or None
        if blobs is None:
            vault = os.environ.get(EVIDENCE_ENV)
            if vault:
                from affidavit.ledger.blobs import FileBlobStore

                blobs = FileBlobStore(vault)
            else:
                blobs = MissingBlobs(self.where)
        self.blobs: BlobStore = blobs
        self._connection: psycopg.Connection[Any] | None = None
        self._pipeline: psycopg.Pipeline | None = None  # during append_batch
        self._signer: Any = None
        self._meta: dict[str, str] | None = None
        self._snapshots = 0
        self._snapshot_size: int | None = None
        self._snapshot_note: tuple[str | None] | None = None  # the latest checkpoint in it
        self._seen_size = 0
        self._reuse = False

    # -- connection ---------------------------------------------------------------------------

    @property
    def _db(self) -> psycopg.Connection[Any]:
        if self._connection is None:
            try:
                import psycopg
            except ImportError:
                raise LedgerUnavailable(
                    f"ledger {self.where}: the PostgreSQL driver is not installed",
                    remedy="pip install 'affidavit[postgres]'") from None
            try:
                self._connection = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            except psycopg.Error as exc:
                raise LedgerUnavailable(f"cannot connect to ledger {self.where}: "
                                        f"{one_line(exc)}") from None
        return self._connection

    def _q(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, params).fetchall()

    def _begin_snapshot(self) -> None:
        """PostgreSQL takes the snapshot at the transaction's first query: every read inside
        sees the state of that moment, which is all a snapshot promises. That first query
        reads the size and the latest checkpoint, which nearly every snapshot asks for, in
        the same round trip as the BEGIN (no parameters: one simple-protocol query)."""
        cursor = self._db.execute(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT (SELECT max(idx) FROM "
            "entries), (SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1)")
        cursor.nextset()  # past BEGIN's result, to the row
        value, note = cursor.fetchone() or (None, None)
        self._snapshot_size = 0 if value is None else int(value) + 1
        self._snapshot_note = (None if note is None else str(note),)

    def _end_transaction(self) -> None:
        from psycopg import pq

        if self._db.info.transaction_status != pq.TransactionStatus.IDLE:
            self._db.execute("ROLLBACK")

    def _rollback(self) -> None:
        """Roll back a failed write; a connection that broke is dropped (the next call
        reconnects), and the error being raised stays the one reported."""
        conn = self._connection
        if conn is None:
            return
        try:
            if conn.closed or conn.broken:
                self._connection = None
            else:
                conn.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - the original failure is the one that matters
            self._connection = None

    def _write(self) -> None:
        """Begin a writing transaction holding the ledger's advisory lock."""
        if self._snapshots:
            raise UsageError(f"ledger {self.where}: cannot write inside a read snapshot")
        self._db.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        self._db.execute("SET LOCAL synchronous_commit TO on")
        self._db.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))

    def _new_map(self, db: Any) -> SQLiteMap:
        return _PostgresMap(Qmark(db), self.where)

    # -- setup --------------------------------------------------------------------------------

    def init(self, *, reuse_key: bool = False) -> str:
        """Create the ledger now if it does not exist; return its origin. ``reuse_key`` lets an
        existing key file sign a new history."""
        self._reuse = reuse_key
        return self._init()["origin"]

    def _read_meta(self) -> dict[str, str] | None:
        """The meta rows, or None when the schema is not (fully) there yet."""
        rows = self._q("SELECT to_regclass('schema_migrations') IS NOT NULL")
        if not rows[0][0]:
            return None
        versions = [int(r[0]) for r in self._q("SELECT version FROM schema_migrations")]
        if versions and max(versions) > pg_migrations.LATEST:
            raise LedgerUnavailable(
                f"ledger {self.where} has schema version {max(versions)}; this version of "
                f"affidavit knows up to {pg_migrations.LATEST}", remedy="upgrade affidavit")
        if set(versions) != {v for v, _ in pg_migrations.MIGRATIONS} and (
                self.create or 1 not in versions):
            return None  # a writer migrates first; a reader reads what an older version made
        return {str(k): str(v) for k, v in self._q("SELECT key, value FROM meta")}

    def _init(self) -> dict[str, str]:
        """Migrate, and create the identity and the empty log's checkpoint, once; later calls
        use the cached meta rows. Creation runs under the append lock, so processes racing to
        create one ledger make one history."""
        if self._meta is not None:
            return self._meta
        meta = self._read_meta()
        if (meta is None or "origin" not in meta) and not self.create:
            raise LedgerUnavailable(f"{self.where} is not an affidavit ledger",
                                    remedy="nothing was recorded there yet; check --ledger")
        if meta is None or "origin" not in meta:
            self._write()
            made_key = False
            try:
                self._migrate()
                meta = {str(k): str(v) for k, v in self._q("SELECT key, value FROM meta")}
                if "origin" not in meta:
                    meta, made_key = self._create_identity()
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                self._signer = None
                if made_key and self.key_path:
                    try:  # noqa: SIM105 - a key of no history would refuse the next try
                        os.unlink(self.key_path)
                    except OSError:
                        pass
                raise
        for required in ("origin", "verifier_key"):
            if not meta.get(required):
                raise IntegrityError(f"ledger {self.where} has no {required} in its meta table")
        self._meta = meta
        return meta

    def _migrate(self) -> None:
        """Apply the migrations this database lacks, inside the caller's locked transaction."""
        self._db.execute(pg_migrations.TRACKING)
        done = {int(r[0]) for r in self._q("SELECT version FROM schema_migrations")}
        for version, statements in pg_migrations.MIGRATIONS:
            if version in done:
                continue
            for statement in statements.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))

    def _create_identity(self) -> tuple[dict[str, str], bool]:
        """A fresh origin, the key (made now unless reusing one), and the signed empty
        checkpoint; returns the meta rows and whether the key file was made here."""
        import secrets

        from affidavit.ledger import keymap, note

        path = self._key_file()
        exists = os.path.exists(path)
        if exists and not self._reuse:
            raise IntegrityError(
                f"ledger key {path} exists but the database {self.where} holds no ledger",
                remedy="restore the database, or start a new history under this key with "
                       "`affidavit ledger init --reuse-key`")
        origin = f"affidavit/{secrets.token_hex(16)}"
        made = False
        if exists:
            signer_key = read_key(path)
        else:
            signer_key = note.generate_signer_key(origin)
            write_key(path, signer_key)
            made = True
        try:
            signer = note.Signer.from_key(signer_key)
        except Exception as exc:  # noqa: BLE001 - any unreadable key is the same failure
            raise LedgerUnavailable(f"ledger key {path} is not a signer key ({exc})") from None
        meta = {"origin": origin, "verifier_key": signer.verifier_key}
        with self._db.cursor() as cursor:
            cursor.executemany("INSERT INTO meta (key, value) VALUES (%s, %s)",
                               list(meta.items()))
        empty = ckpt.Checkpoint(origin, 0, rfc6962.EMPTY_ROOT,
                                (keymap.encode_root(keymap.EMPTY),)).to_text()
        self._db.execute("INSERT INTO checkpoints (size, note) VALUES (0, %s)",
                         (signer.sign(empty),))
        self._signer = signer
        return meta, made

    def _key_file(self) -> str:
        if not self.key_path:
            raise UsageError(f"ledger {self.where} has no signing key file",
                             remedy=f"set {KEY_FILE_ENV} to the path of the ledger's key")
        return self.key_path

    def _writer(self) -> Any:
        """The signer, refused unless it is the key this ledger's checkpoints are signed by."""
        if self._signer is None:
            from affidavit.ledger import note

            path = self._key_file()
            try:
                signer = note.Signer.from_key(read_key(path))
            except (LedgerUnavailable, UsageError):
                raise
            except Exception as exc:  # noqa: BLE001 - any unreadable key is the same failure
                raise IntegrityError(f"ledger key {path} is not a signer key ({exc})") from None
            if signer.verifier_key != self._init()["verifier_key"]:
                raise IntegrityError(
                    f"ledger key {path} does not match the verifier key recorded in "
                    f"{self.where}", remedy="the key file or the database was swapped")
            self._signer = signer
        return self._signer

    def check_writable(self) -> None:
        """Raise unless an append could be signed by this ledger's own key."""
        self._init()
        self._writer()

    # -- writing ------------------------------------------------------------------------------

    def _latest_checkpoint(self) -> tuple[int, str] | None:
        rows = self._q("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
        return None if not rows else (int(rows[0][0]), str(rows[0][1]))

    def _begin_append(self) -> None:
        self._write()

    def _store(self, first: int, leaves: list[bytes], entries: list[bytes],
               nodes: list[tuple[int, int, bytes]]) -> None:
        # One statement per table however many rows (see _PostgresMap._put_leaves).
        self._db.execute("INSERT INTO entries (idx, leaf, data) SELECT * FROM unnest("
                         "%s::bigint[], %s::bytea[], %s::bytea[])",
                         (list(range(first, first + len(entries))), leaves, entries))
        if nodes:
            self._db.execute("INSERT INTO nodes (level, idx, hash) SELECT * FROM unnest("
                             "%s::int[], %s::bigint[], %s::bytea[])",
                             [list(column) for column in zip(*nodes, strict=True)])

    def _store_checkpoint(self, size: int, signed: str) -> None:
        self._db.execute("INSERT INTO checkpoints (size, note) VALUES (%s, %s)", (size, signed))

    def append_batch(self, pending: Sequence[Pending]) -> list[Appended | AffidavitError]:
        """``StoredTree.append_batch`` in one pipeline: a statement whose result the batch does
        not read (the BEGIN and the lock, every INSERT, the COMMIT) goes with the next one
        that it reads, so the transaction that holds the ledger's lock -- which every server
        process waits for -- makes about half the round trips (17 for a batch before)."""
        if self._pipeline is not None:
            return super().append_batch(pending)
        conn = self._db
        pipeline = conn.pipeline()
        self._pipeline = pipeline.__enter__()
        try:
            done = super().append_batch(pending)
        except BaseException as exc:
            self._pipeline = None
            pipeline.__exit__(type(exc), exc, exc.__traceback__)  # its own errors: logged
            raise
        self._pipeline = None
        if not conn.closed:  # closed: a commit in doubt was resolved on a new connection
            pipeline.__exit__(None, None, None)
        return done

    def _commit_append(self) -> None:
        self._db.execute("COMMIT")
        if self._pipeline is not None:
            self._pipeline.sync()  # the COMMIT's answer, before the batch is acknowledged

    def _abort_append(self) -> None:
        self._rollback()

    def _recovered(self, exc: BaseException, size: int, signed: str) -> bool:
        return self._in_doubt(exc) and self._committed(size, signed)

    def _in_doubt(self, exc: BaseException) -> bool:
        """Whether a failed COMMIT may still have committed: the connection went away while
        it was in flight, so only the database knows. (A COMMIT the server answered with an
        error did not commit.)"""
        import psycopg

        conn = self._connection
        return isinstance(exc, psycopg.OperationalError) and (
            conn is None or conn.closed or conn.broken)

    def _committed(self, size: int, signed: str) -> bool:
        """After an in-doubt COMMIT, whether the checkpoint this append signed is stored, asked
        on a new connection once the append lock is free again: the old transaction holds it
        until it has committed or aborted, so the answer is final. When no answer can be had,
        the outcome is unknown: ``LedgerUnavailable``, and the evidence stays in the vault
        (an unnamed file is the lesser harm than a recorded entry whose file was removed)."""
        self._connection = None
        try:
            self._db.execute("BEGIN")
            self._db.execute("SET LOCAL lock_timeout = '30s'")
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
            rows = self._q("SELECT note FROM checkpoints WHERE size = %s", (size,))
            self._db.execute("ROLLBACK")
        except Exception as exc:  # noqa: BLE001 - any failure leaves the outcome unknown
            self._rollback()
            raise LedgerUnavailable(
                f"ledger {self.where}: the connection was lost while committing an append "
                f"up to size {size}; whether it was recorded is unknown ({one_line(exc)})",
                remedy="run `affidavit verify ledger` before retrying") from None
        return bool(rows) and rows[0][0] == signed

    # -- tree ---------------------------------------------------------------------------------

    def _size(self) -> int:
        """The log's size; read once per snapshot (it cannot change inside one), every time
        outside one."""
        if self._snapshots and self._snapshot_size is not None:
            return self._snapshot_size
        value = self._q("SELECT max(idx) FROM entries")[0][0]
        size = 0 if value is None else int(value) + 1
        if self._snapshots:
            self._snapshot_size = size
        return size

    def _fetch(self, ids: Sequence[tuple[int, int]]) -> list[bytes]:
        """Hashes of the perfect subtrees ``ids``, each folded up from the stored level at or
        below it (as ``SQLiteLedger._fetch``), with one query per stored level."""
        plans = []
        wanted: dict[int, set[int]] = {}
        for level, idx in ids:
            up = level % STRIDE
            base, first = level - up, idx << up
            span = range(first, first + (1 << up))
            plans.append((base, span))
            wanted.setdefault(base, set()).update(span)
        found: dict[tuple[int, int], bytes] = {}
        leaves = sorted(wanted.pop(0, ()))
        pairs = sorted((base, i) for base, indexes in wanted.items() for i in indexes)
        if leaves or pairs:  # leaves and every stored level in one round trip
            for level, idx, digest in self._q(
                    "SELECT 0, idx, leaf FROM entries WHERE idx = ANY(%s::bigint[]) UNION ALL "
                    "SELECT n.level, n.idx, n.hash FROM nodes n JOIN unnest(%s::int[], "
                    "%s::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx",
                    (leaves, [p[0] for p in pairs], [p[1] for p in pairs])):
                found[(int(level), int(idx))] = bytes(digest)
        out = []
        for base, span in plans:
            try:
                row = [found[(base, i)] for i in span]
            except KeyError as exc:
                raise IntegrityError(f"ledger {self.where} is missing tree node "
                                     f"{exc.args[0]}") from None
            out.append(rfc6962.fold(row))
        return out

    def record_heartbeat(self, environment: str, at: str, size: int) -> None:
        """See ``Ledger.record_heartbeat``: one upsert, committed on its own (no lock: it
        touches nothing an append reads)."""
        self._init()
        if self._snapshots:
            raise UsageError(f"ledger {self.where}: cannot write inside a read snapshot")
        self._db.execute(
            "INSERT INTO heartbeats (environment, at, size) VALUES (%s, %s, %s) "
            "ON CONFLICT (environment) DO UPDATE SET at = excluded.at, size = excluded.size "
            "WHERE excluded.at > heartbeats.at", (environment, at, size))

    def add_cosignatures(self, size: int, lines: Sequence[str]) -> None:
        """See ``Ledger.add_cosignatures``: under the append lock, so that two witnesses'
        lines arriving together are merged one after the other."""
        from affidavit.ledger.base import check_cosignature_lines, merged_cosignatures

        wanted = check_cosignature_lines(lines)
        self._init()
        self._write()
        try:
            if not self._q("SELECT 1 FROM checkpoints WHERE size = %s", (size,)):
                raise InputError(f"ledger {self.where} has no checkpoint of size {size}")
            kept = [str(r[0]) for r in self._q(
                "SELECT line FROM cosignatures WHERE size = %s ORDER BY added", (size,))]
            merged = merged_cosignatures(kept, wanted)
            self._db.execute("DELETE FROM cosignatures WHERE size = %s", (size,))
            for line in merged:
                self._db.execute("INSERT INTO cosignatures (size, line) VALUES (%s, %s)",
                                 (size, line))
            self._db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def cosignatures(self, size: int) -> list[str]:
        self._init()
        if not self._q("SELECT to_regclass('cosignatures') IS NOT NULL")[0][0]:
            return []  # a ledger an older version made, read without migrating it
        return [str(r[0]) for r in self._q(
            "SELECT line FROM cosignatures WHERE size = %s ORDER BY added", (size,))]

    def heartbeat(self, environment: str) -> tuple[str, int] | None:
        self._init()
        if not self._q("SELECT to_regclass('heartbeats') IS NOT NULL")[0][0]:
            return None  # a ledger an older version made, read without migrating it
        rows = self._q("SELECT at, size FROM heartbeats WHERE environment = %s", (environment,))
        return (str(rows[0][0]), int(rows[0][1])) if rows else None

    def _leaf_range(self, start: int, end: int) -> list[bytes]:
        rows = self._q("SELECT idx, leaf FROM entries WHERE idx >= %s AND idx < %s ORDER BY idx",
                       (start, end))
        if [int(idx) for idx, _ in rows] != list(range(start, end)):
            gap = next(i for n, i in enumerate(range(start, end))
                       if n >= len(rows) or int(rows[n][0]) != i)
            raise IntegrityError(f"ledger {self.where} is missing tree node {(0, gap)}")
        return [bytes(leaf) for _, leaf in rows]

    def _stored_level(self, level: int) -> list[tuple[int, bytes]]:
        return [(int(idx), bytes(digest)) for idx, digest in self._q(
            "SELECT idx, hash FROM nodes WHERE level = %s", (level,))]

    def _check_size(self, size: int) -> None:
        """``size`` is within the log: asked of the database only past the largest size this
        handle has seen (a log only grows; one that shrank is caught by the proofs, whose
        nodes are gone, and by every client's consistency check)."""
        if size <= self._seen_size:
            return
        current = self._size()
        self._seen_size = max(self._seen_size, current)
        if size > current:
            raise NotFoundError(f"ledger {self.where} has {current} entries, not {size}")

    # -- reading ------------------------------------------------------------------------------

    def snapshot(self) -> _Snapshot:
        """``with ledger.snapshot():`` every read inside sees one committed state."""
        return _Snapshot(self)

    def size(self) -> int:
        """Number of entries in the log."""
        self._init()
        return self._size()

    def _checked(self, idx: int, data: bytes, leaf: bytes) -> bytes:
        if rfc6962.leaf_hash(data) != leaf:
            raise IntegrityError(
                f"ledger {self.where}: entry {idx} does not match its leaf hash",
                remedy="the log was modified outside affidavit; run `affidavit verify ledger`")
        return bytes(data)

    def read(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        """Entries ``[start, end)``, a page per query (entries never change, so pages read
        outside a snapshot still fit together), each checked against its leaf hash."""
        self._init()
        expected = start
        while expected < end:
            rows = self._q("SELECT idx, data, leaf FROM entries WHERE idx >= %s AND idx < %s "
                           "ORDER BY idx", (expected, min(end, expected + _PAGE)))
            if not rows:
                break
            for idx, data, leaf in rows:
                if idx != expected:
                    raise IntegrityError(f"ledger {self.where} has no entry {expected}",
                                         remedy="entries were deleted outside affidavit")
                yield int(idx), self._checked(idx, data, leaf)
                expected += 1
        if expected < end:
            if expected < self._size():
                raise IntegrityError(f"ledger {self.where} has no entry {expected}",
                                     remedy="entries were deleted outside affidavit")
            raise NotFoundError(f"ledger {self.where} has no entry {expected}")

    def entries_at(self, positions: Sequence[int]) -> dict[int, bytes]:
        """The entries at ``positions``, each checked; one missing is a gap."""
        self._init()
        ordered = sorted(set(positions))
        out = {int(idx): self._checked(idx, data, leaf) for idx, data, leaf in self._q(
            "SELECT idx, data, leaf FROM entries WHERE idx = ANY(%s)", (ordered,))}
        missing = [p for p in ordered if p not in out]
        if missing:
            raise IntegrityError(f"ledger {self.where} has no entry {missing[0]}",
                                 remedy="entries were deleted outside affidavit")
        return out

    def lookup(self, key: str) -> list[int]:
        """Entries filed under ``key``, in log order."""
        self._init()
        if _NUL in key:
            return []
        return [int(r[0]) for r in self._q(
            "SELECT entry FROM idx WHERE key = %s ORDER BY entry", (key,))]

    def _keyed_entries(self, keys: list[str], size: int, held: Collection[int] = ()
                       ) -> tuple[dict[str, list[int]], dict[int, bytes]]:
        """The keys' positions and the entries below ``size`` at them, in one query: the
        index rows joined to their entries (each checked against its leaf hash). With
        entries ``held``, two: the positions, then the entries not held (not shipped twice)."""
        if held:
            return super()._keyed_entries(keys, size, held)
        positions: dict[str, list[int]] = {key: [] for key in keys}
        found: dict[int, bytes] = {}
        for key, idx, data, leaf in self._q(
                "SELECT i.key, i.entry, e.data, e.leaf FROM idx i LEFT JOIN entries e "
                "ON e.idx = i.entry AND e.idx < %s WHERE i.key = ANY(%s) ORDER BY i.key, "
                "i.entry", (size, _storable(keys))):
            position = int(idx)
            positions[str(key)].append(position)
            if position < size and position not in found:
                if data is None:
                    raise IntegrityError(f"ledger {self.where} has no entry {position}",
                                         remedy="entries were deleted outside affidavit")
                found[position] = self._checked(position, data, leaf)
        return positions, found

    def _lookup_many(self, keys: list[str]) -> dict[str, list[int]]:
        """Every key's entries in one query (each query is a round trip to the database)."""
        out: dict[str, list[int]] = {key: [] for key in keys}
        for key, entry in self._q("SELECT key, entry FROM idx WHERE key = ANY(%s) "
                                  "ORDER BY key, entry", (_storable(keys),)):
            out[str(key)].append(int(entry))
        return out

    def lookup_prefix(self, prefix: str) -> list[tuple[str, int]]:
        """``(key, entry)`` for every key starting with ``prefix``, by key then entry."""
        self._init()
        if _NUL in prefix:
            return []
        return [(str(k), int(e)) for k, e in self._q(
            "SELECT key, entry FROM idx WHERE key >= %s AND key < %s ORDER BY key, entry",
            (prefix, prefix + "\U0010ffff"))]

    def keys(self, prefix: str) -> list[str]:
        """Distinct keys starting with ``prefix``, sorted by code point."""
        self._init()
        if _NUL in prefix:
            return []
        return [str(r[0]) for r in self._q(
            "SELECT DISTINCT key FROM idx WHERE key >= %s AND key < %s ORDER BY key",
            (prefix, prefix + "\U0010ffff"))]

    def keys_many(self, prefixes: Sequence[str]) -> dict[str, list[str]]:
        """:meth:`keys` of each of ``prefixes`` in one query (a round trip each would cost
        more than the scans)."""
        self._init()
        out: dict[str, list[str]] = {prefix: [] for prefix in prefixes}
        wanted = _storable(list(out))
        if not wanted:
            return out
        scans = " UNION ALL ".join(
            f"(SELECT DISTINCT {n} AS n, key FROM idx WHERE key >= %s AND key < %s)"
            for n in range(len(wanted)))
        params = [part for prefix in wanted for part in (prefix, prefix + "\U0010ffff")]
        for n, key in self._q(f"SELECT n, key FROM ({scans}) AS k ORDER BY n, key", params):
            out[wanted[int(n)]].append(str(key))
        return out

    def index_rows(self, after: tuple[int, str] | None = None) -> Iterator[tuple[str, int]]:
        """Every index row after ``after``, ordered by entry then key, a page per query."""
        self._init()
        # No stored key holds a NUL (PostgreSQL text cannot), so the rows after a key with
        # one are those after what comes before it -- the same rows, asked without it.
        last = (after[0], after[1].split(_NUL, 1)[0]) if after is not None else (-1, "")
        while True:
            rows = self._q("SELECT key, entry FROM idx WHERE (entry, key) > (%s, %s) "
                           "ORDER BY entry, key LIMIT %s", (last[0], last[1], _PAGE))
            for key, entry in rows:
                yield str(key), int(entry)
            if len(rows) < _PAGE:
                return
            last = (int(rows[-1][1]), str(rows[-1][0]))

    def checkpoint(self) -> str | None:
        """The latest signed checkpoint."""
        self._init()
        if self._snapshots and self._snapshot_note is not None:
            return self._snapshot_note[0]
        rows = self._q("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1")
        return str(rows[0][0]) if rows else None

    def checkpoints(self, start: int = 0) -> Iterator[tuple[int, str]]:
        """All signed checkpoints by size from ``start`` on, a page per query."""
        self._init()
        after = start - 1
        while True:
            rows = self._q("SELECT size, note FROM checkpoints WHERE size > %s ORDER BY size "
                           "LIMIT %s", (after, _PAGE))
            for size, text in rows:
                yield int(size), str(text)
            if len(rows) < _PAGE:
                return
            after = int(rows[-1][0])

    def local_files(self) -> list[str]:
        """The key file and a local vault, if any: the database itself is not a local file."""
        files = [self.key_path] if self.key_path else []
        root = getattr(self.blobs, "root", None)
        if isinstance(root, str):
            files.append(root)
        return files

    # -- maintenance --------------------------------------------------------------------------

    def _store_index(self, rows: list[tuple[str, int]]) -> None:
        if rows:
            self._db.execute("INSERT INTO idx (key, entry) SELECT * FROM unnest(%s::text[], "
                             "%s::bigint[])", [list(column) for column in zip(*rows, strict=True)])

    def _clear_index(self) -> None:
        self._db.execute("DELETE FROM idx")

    def close(self) -> None:
        """Close the connection."""
        if self._connection is not None:
            try:  # noqa: SIM105 - closing a broken connection may fail; nothing to keep
                self._connection.close()
            except Exception:  # noqa: BLE001
                pass
            self._connection = None
            self._snapshots = 0


def _failure(ledger: PostgresLedger, exc: BaseException) -> LedgerUnavailable:
    """A database failure as one line naming the (redacted) ledger URL; a broken connection
    is dropped so the next call reconnects."""
    conn = ledger._connection
    if conn is not None and (conn.closed or conn.broken):
        ledger._connection = None
        ledger._snapshots = 0
    return LedgerUnavailable(f"ledger {ledger.where}: {one_line(exc)}")


def _guarded(ledger: PostgresLedger, call: Any) -> Any:
    import psycopg

    try:
        return call()
    except psycopg.Error as exc:
        raise _failure(ledger, exc) from None


def _guard(method: Any) -> Any:
    """Report a failure of the database (unreachable, refused, dropped) as the ledger being
    unavailable: one line, exit 3, never a traceback."""
    import functools

    @functools.wraps(method)
    def guarded(self: PostgresLedger, *args: Any, **kwargs: Any) -> Any:
        import psycopg

        try:
            return method(self, *args, **kwargs)
        except psycopg.Error as exc:
            raise _failure(self, exc) from None

    return guarded


def _guard_generator(method: Any) -> Any:
    import functools

    @functools.wraps(method)
    def guarded(self: PostgresLedger, *args: Any, **kwargs: Any) -> Any:
        import psycopg

        try:
            yield from method(self, *args, **kwargs)
        except psycopg.Error as exc:
            raise _failure(self, exc) from None

    return guarded


for _name in ("init", "check_writable", "append", "append_batch", "size", "entries_at",
              "read_many", "lookup", "lookup_prefix", "keys", "map_proof",
              "checkpoint", "root", "inclusion_proof", "inclusion_proofs", "consistency_proof",
              "verifier_key", "origin", "reindex", "record_heartbeat", "heartbeat",
              "add_cosignatures", "cosignatures"):
    setattr(PostgresLedger, _name, _guard(getattr(PostgresLedger, _name)))
for _name in ("read", "index_rows", "checkpoints", "map_leaves", "map_nodes"):
    setattr(PostgresLedger, _name, _guard_generator(getattr(PostgresLedger, _name)))


_NUL = "\0"


def _storable(keys: list[str]) -> list[str]:
    """The ``keys`` PostgreSQL can be asked about: its text holds no NUL, so no stored key
    has one, and a key or prefix with one is filed nowhere -- answered as such, not sent
    to be refused as a storage error (a 503 for what is only a key that matches nothing)."""
    return keys if not any(_NUL in key for key in keys) else [k for k in keys if _NUL not in k]


class _PostgresMap(SQLiteMap):
    """The key map's SQL, but for reading node rows: one statement of the same text however
    many nodes (arrays joined through ``unnest``), which the driver parses once and the
    database plans as one index probe each -- a text that grows with the pairs asked is
    parsed afresh by both on every read, a tenth of a busy server's time."""

    def _node_rows(self, pairs: list[tuple[int, bytes]]) -> Any:
        if not pairs:
            return iter(())
        return self.db.execute(
            "SELECT m.depth, m.prefix, m.hash FROM map_nodes m JOIN unnest(?::int[], "
            "?::bytea[]) AS w(depth, prefix) ON m.depth = w.depth AND m.prefix = w.prefix",
            ([depth for depth, _ in pairs], [prefix for _, prefix in pairs]))

    # The writes likewise: one statement of arrays per table, not one per row -- a batch sends
    # six statements under the ledger's lock where it sent some forty, each parsed, bound and
    # answered on both sides.

    def _put_leaves(self, rows: list[tuple[bytes, str, int, int]]) -> None:
        if rows:
            self.db.execute(
                "INSERT INTO map_leaves (khash, key, count, last) SELECT * FROM unnest("
                "?::bytea[], ?::text[], ?::bigint[], ?::bigint[]) ON CONFLICT (khash) DO UPDATE "
                "SET key = excluded.key, count = excluded.count, last = excluded.last",
                [list(column) for column in zip(*rows, strict=True)])

    def _put_nodes(self, rows: list[tuple[int, bytes, bytes]]) -> None:
        if rows:
            self.db.execute(
                "INSERT INTO map_nodes (depth, prefix, hash) SELECT * FROM unnest(?::int[], "
                "?::bytea[], ?::bytea[]) ON CONFLICT (depth, prefix) DO UPDATE "
                "SET hash = excluded.hash", [list(column) for column in zip(*rows, strict=True)])
