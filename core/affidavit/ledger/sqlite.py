"""The embedded ledger: log, Merkle tree nodes, indexes, key map and checkpoints in one SQLite file.

Writers serialise on ``BEGIN IMMEDIATE`` (WAL mode, busy timeout), so several CI processes can
append to one ledger; ``synchronous=FULL`` makes a commit durable before ``append`` returns.
Before that they queue on an ``flock`` of ``<file>-writer`` beside the database, when it can be
made: SQLite's busy handler polls with sleeps growing to 100 ms, so a process waiting behind a
busy writer (two server processes on one file) slept well past the moment the lock came free --
the lock wakes it then. Without the file (a read-only folder) the busy handler alone serialises.
Readers take one snapshot with :meth:`SQLiteLedger.snapshot`, so what they read together (the
latest checkpoint, index rows, map proofs) belongs to one tree size however many writers run.

Tree storage: each entry row carries its leaf hash, and ``nodes`` keeps the perfect subtrees of
every fourth level only (4, 8, 12, ...), about one row per 16 entries. A node between stored
levels is rehashed from at most 8 stored nodes below it, so a proof still reads O(log n) rows in
one query, while an append writes barely more than the entries themselves. The key map lives in
``map_leaves`` and ``map_nodes`` (``ledger.sqlite_map``).

The signing key lives beside the database (``<file name>.key``, see :func:`_sidecars`), mode
0600. A new ledger gets a fresh random origin and, unless told to reuse one, a fresh key; a key
file whose database is missing or empty is refused, so that a lost or emptied database cannot
silently restart history under an old key.
"""

from __future__ import annotations

import os
import re
import sqlite3

from affidavit.errors import IntegrityError, LedgerUnavailable, NotFoundError, UsageError
from affidavit.ledger import checkpoint as ckpt
from affidavit.ledger import rfc6962
from affidavit.ledger.blobs import FileBlobStore
from affidavit.ledger.sqlite_map import SCHEMA as MAP_SCHEMA
from affidavit.ledger.sqlite_map import SQLiteMap
from affidavit.ledger.stored_tree import STRIDE, StoredTree

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from typing import Any

    from affidavit.ledger.base import BlobStore

__all__ = ["SQLiteLedger", "STRIDE", "FORMAT"]

#: Storage layout version, in ``meta``; a ledger of another layout is refused, not misread.
FORMAT = "3"

#: The leaf hashes apart from the entries: a proof reads a few leaves beside each entry it
#: proves, and these pages (40 bytes a leaf) stay in memory where the entries' would not
#: (a 1M-entry ledger: 46 MB against 890 MB; p99 of a 102-entry read 28 -> 13 ms,
#: bench/server_reads.py). Ledgers made before it get it from `ledger reindex`.
_LEAF_INDEX = "CREATE INDEX IF NOT EXISTS entries_leaf ON entries (idx, leaf)"
_KEYS_PER_QUERY = 500  # keys a lookup of many asks per query (SQLite binds up to 32,766)

_HEARTBEATS = ("CREATE TABLE IF NOT EXISTS heartbeats (environment TEXT PRIMARY KEY, "
               "at TEXT NOT NULL, size INTEGER NOT NULL)")
#: Keep the later of two heartbeats (times of one fixed format compare as text).
_BEAT = ("INSERT INTO heartbeats (environment, at, size) VALUES (?, ?, ?) "
         "ON CONFLICT (environment) DO UPDATE SET at = excluded.at, size = excluded.size "
         "WHERE excluded.at > heartbeats.at")

_COSIGNATURES = ("CREATE TABLE IF NOT EXISTS cosignatures (size INTEGER NOT NULL, "
                 "n INTEGER NOT NULL, line TEXT NOT NULL, PRIMARY KEY (size, n), "
                 "UNIQUE (size, line))")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idx (
    key TEXT NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY (key, entry)) WITHOUT ROWID;
""" + _LEAF_INDEX + ";" + """
""" + MAP_SCHEMA


_SCHEME_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _path_from_url(url: str) -> str:
    """``sqlite:///rel/path.db`` (relative) or ``sqlite:////abs/path.db``, as SQLAlchemy reads
    them; a URL without a scheme is a plain file path. Nothing else: SQLite's own ``file:`` URIs
    (``?mode=memory`` would record into nothing), query strings and fragments are refused rather
    than read as odd file names, so a ledger URL always names one file on disk."""
    if url.startswith("sqlite://"):
        rest = url[len("sqlite://") :]
        if not rest.startswith("/") or rest == "/":
            raise UsageError(f"ledger URL {url!r} has no path",
                             remedy="use sqlite:///path/to/ledger.db")
        path = rest[1:]
    elif _SCHEME_LIKE.match(url):
        raise UsageError(f"ledger URL {url!r}: not a form affidavit reads",
                         remedy="give a file path, sqlite:///relative.db or sqlite:////abs.db")
    else:
        path = url
    if "?" in path or "#" in path:
        raise UsageError(f"ledger URL {url!r}: query strings and fragments are not supported",
                         remedy="give the database file's path alone")
    if path.strip() == "" or path.endswith(("/", os.sep)):
        raise UsageError(f"ledger URL {url!r} names no database file")
    return path


def _sidecars(path: str) -> tuple[str, str]:
    """The key file and the vault of the database at ``path``: ``<file name>.key`` and
    ``<file name>.blobs`` (``ledger.db.key``), so that ``l.db`` and ``l.sqlite`` beside each
    other never share a key or a vault.

    Ledgers made before this naming have ``<stem>.key`` and ``<stem>.blobs`` (``ledger.key``).
    They are used where they are, never renamed: a read must not write, and a rename would pull
    the files from under a writer of the older version running at the same time. So a database
    with neither new sidecar but an old one keeps the old names; and so does a missing database
    whose old key is there and is no other database's (``l.db`` for a new ``l.sqlite``), so
    that losing a legacy database is still refused, not silently restarted beside its key.
    """
    key, vault = path + ".key", path + ".blobs"
    stem = os.path.splitext(path)[0]
    old_key, old_vault = stem + ".key", stem + ".blobs"
    if old_key == key or path in (old_key, old_vault) or os.path.lexists(key) or \
            os.path.lexists(vault):
        return key, vault
    if os.path.lexists(path):
        if os.path.lexists(old_key) or os.path.lexists(old_vault):
            return old_key, old_vault
    elif os.path.lexists(old_key) and not _sibling_database(path, stem):
        return old_key, old_vault
    return key, vault


def _sibling_database(path: str, stem: str) -> bool:
    """Whether another SQLite database named ``<stem>`` or ``<stem>.<ext>`` sits beside
    ``path``: the owner of an old-style ``<stem>.key``, which a new database at ``path`` must
    not take for its own. Only regular files are opened (without blocking, so a FIFO cannot
    hang the check), and only their first 16 bytes read."""
    import stat

    folder, base = os.path.split(stem)
    mine = os.path.basename(path)
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return False
    for name in names:
        if name == mine or os.path.splitext(name)[0] != base:
            continue
        try:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode) and os.read(fd, 16) == b"SQLite format 3\0":
                return True
        except OSError:
            pass
        finally:
            os.close(fd)
    return False


def _enter_wal(db: sqlite3.Connection) -> None:
    """Switch a new database to WAL. Two processes creating the ledger at once can both hold a
    read lock while asking for the write lock this needs; SQLite then answers BUSY at once
    instead of waiting (it would deadlock), so the switch is retried for a while."""
    import time

    for attempt in range(200):
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 199:
                raise
            time.sleep(0.01 + 0.001 * (os.getpid() % 10))


def _frozen(path: str) -> bool:
    """Whether the database at ``path`` is a still copy, which a reader opens ``immutable``.

    Still means: no ``-wal`` file beside it (there is one whenever a connection is open, so no
    writer is at work), and no one can start writing it, because it or its folder has no write
    permission bit, or its file system is mounted read-only (root aside, who ignores the bits:
    do not write as root into a ledger made read-only). An auditor's read-only copy is such a
    database, and its folder could not hold the ``-shm`` file SQLite needs for a WAL database;
    opened immutable, SQLite needs none, takes no locks and creates nothing. Anything else is
    opened as usual: an immutable reader would not see a writer's changes, and could read pages
    half-way through being checkpointed.
    """
    if os.path.lexists(path + "-wal"):
        return False
    try:
        if not os.stat(path).st_mode & 0o222:
            return True
        folder = os.path.dirname(os.path.abspath(path))
        if not os.stat(folder).st_mode & 0o222:
            return True
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows): not known to be still
        return False


def _immutable_uri(path: str) -> str:
    """The ``file:`` URI opening ``path`` read-only and immutable; ``?`` and ``#`` cannot occur
    (:func:`_path_from_url` refuses them), ``%`` is escaped."""
    return f"file://{os.path.abspath(path).replace('%', '%25')}?mode=ro&immutable=1"


def _why_read_only(path: str) -> str:
    try:
        if os.statvfs(os.path.dirname(os.path.abspath(path))).f_flag & os.ST_RDONLY:
            return "its file system is mounted read-only"
    except (OSError, AttributeError):
        pass
    return "this user may not write it"


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back a failed write, if SQLite has not already: a commit that fails for a full disk
    or an I/O error ends the transaction itself, and a ROLLBACK then would fail too and hide
    the error that matters."""
    if db.in_transaction:
        try:  # noqa: SIM105  (no contextlib on the write path)
            db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the error being raised is the one to report; SQLite ends the transaction


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read().strip()


def _typed(value: Any, kind: type, what: str, path: str) -> Any:
    """A stored value of the type its column holds; anything else was written below affidavit
    (``UPDATE entries SET data = '...'`` stores TEXT) and is an integrity failure, not a
    crash."""
    if type(value) is not kind:
        raise IntegrityError(f"ledger {path}: {what} is stored as {type(value).__name__}, not "
                             f"{kind.__name__}", remedy="run `affidavit verify ledger`")
    return value


def _key_reuse_refused(key_path: str, db_path: str) -> IntegrityError:
    return IntegrityError(
        f"ledger key {key_path} exists but its database {db_path} is missing or empty",
        remedy="restore the database, or start a new history under this key with "
               "`affidavit ledger init --reuse-key`")


class _Snapshot:
    """One read transaction, re-entrant: the outermost ``with`` begins and ends it."""

    __slots__ = ("_ledger",)

    def __init__(self, ledger: SQLiteLedger) -> None:
        self._ledger = ledger

    def __enter__(self) -> None:
        owner = self._ledger
        owner._init()
        if owner._snapshots == 0:
            owner._db.execute("BEGIN")
            owner._db.execute("SELECT count(*) FROM meta").fetchone()  # takes the snapshot
        owner._snapshots += 1

    def __exit__(self, *exc: object) -> None:
        owner = self._ledger
        owner._snapshots -= 1
        db = owner._connection
        if owner._snapshots == 0 and db is not None and db.in_transaction:
            db.execute("COMMIT")


class SQLiteLedger(StoredTree):
    """A ledger in one SQLite database, with its evidence vault and key beside it."""

    def __init__(self, url: str, *, create: bool = True, blobs: BlobStore | None = None) -> None:
        """Nothing is opened until first use, so a dry run that never reads leaves no file;
        with ``create=False`` a missing ledger is an error instead of a new empty one.
        ``blobs`` puts the evidence elsewhere than the vault beside the database (a bucket:
        :func:`affidavit.ledger.blobstores.open_blobs`)."""
        self.url = url
        self.path = _path_from_url(url)
        self.where = self.path
        self.key_path, vault = _sidecars(self.path)
        self.blobs: BlobStore = FileBlobStore(vault) if blobs is None else blobs
        self.create = create
        self._connection: sqlite3.Connection | None = None
        self._writer_fd: int | None = None  # the writer lock file, once an append opened it
        self._writing = False  # whether this handle holds it
        self._signer: Any = None
        self._meta: dict[str, str] | None = None
        self._snapshots = 0
        self._reuse = False
        self._new_key = False
        self._leaf_source: str | None = None

    @property
    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def _connect(self) -> sqlite3.Connection:
        """The connection: read-only and immutable for a reader of a still copy (see
        :func:`_frozen`), otherwise read-write in WAL mode. A writer is refused at once when
        the database cannot be written, before it reads anything: SQLite would otherwise read
        a read-only file through ``-wal``/``-shm`` files it then cannot remove."""
        exists = os.path.exists(self.path)
        if not self.create and not exists:
            raise LedgerUnavailable(
                f"no ledger at {self.path}",
                remedy="nothing was recorded there yet; check --ledger / AFFIDAVIT_LEDGER",
            )
        if not exists and os.path.exists(self.key_path) and not self._reuse:
            raise _key_reuse_refused(self.key_path, self.path)
        if exists and self.create and not os.access(self.path, os.W_OK):
            raise LedgerUnavailable(
                f"ledger {self.path} is read-only ({_why_read_only(self.path)})",
                remedy="nothing was recorded; read commands still work on it")
        try:
            if not self.create and _frozen(self.path):
                return sqlite3.connect(_immutable_uri(self.path), uri=True, isolation_level=None)
            if not exists:
                os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            db.execute("PRAGMA busy_timeout = 60000")
            _enter_wal(db)
            db.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from None
        except OSError as exc:
            raise LedgerUnavailable(f"cannot open ledger {self.path}: "
                                    f"{(exc.strerror or str(exc)).lower()}") from None
        return db

    def _unavailable(self, exc: sqlite3.Error) -> LedgerUnavailable:
        """What a failure of the SQLite library means here, in one line naming the file."""
        name = getattr(exc, "sqlite_errorname", "")
        if name == "SQLITE_READONLY_DIRECTORY" and not self.create:
            return LedgerUnavailable(
                f"ledger {self.path} cannot be read by this user while it may be written: "
                f"SQLite needs to create {self.path}-shm beside it, in a folder this user "
                "cannot write", remedy="read it as its owner, or read a still copy: copy the "
                "database and `chmod a-w` the copy")
        if name.startswith("SQLITE_READONLY"):
            return LedgerUnavailable(f"ledger {self.path} is read-only ({exc})",
                                     remedy="nothing was recorded")
        if name == "SQLITE_CANTOPEN" and os.path.lexists(self.path + "-wal"):
            return LedgerUnavailable(
                f"ledger {self.path}: its write-ahead log {self.path}-wal cannot be read without "
                f"{self.path}-shm, which cannot be created in its folder",
                remedy=f"copy it whole with `sqlite3 {self.path} '.backup copy.db'` and read the "
                       "copy")
        return LedgerUnavailable(f"ledger {self.path}: {exc}")

    @property
    def _leaves(self) -> str:
        """How leaf hashes are read: through :data:`_LEAF_INDEX` when the ledger has it
        (SQLite would otherwise look each row up by its rowid, page by page of entries)."""
        if self._leaf_source is None:
            has = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND "
                                   "name = 'entries_leaf'").fetchone()
            self._leaf_source = "INDEXED BY entries_leaf" if has else ""
        return self._leaf_source

    def _ensure_indexes(self) -> None:
        self._db.execute(_LEAF_INDEX)
        self._leaf_source = None

    def _new_map(self, db: sqlite3.Connection) -> SQLiteMap:
        return SQLiteMap(db, self.path)

    # -- setup -----------------------------------------------------------------------------

    def init(self, *, reuse_key: bool = False) -> str:
        """Create the ledger now (normally its first write does); return its origin. With
        ``reuse_key`` an existing key file signs the new history, under a fresh origin."""
        self._reuse = reuse_key
        return self._init()["origin"]

    def _init(self) -> dict[str, str]:
        """Create tables, identity and the empty checkpoint once; later calls read the cached
        meta rows."""
        if self._meta is not None:
            return self._meta
        try:
            meta = {_typed(k, str, "a meta key", self.path): _typed(v, str, f"meta {k}", self.path)
                    for k, v in self._db.execute("SELECT key, value FROM meta").fetchall()}
        except sqlite3.OperationalError:
            meta = {}
        except sqlite3.DatabaseError as exc:
            raise LedgerUnavailable(f"{self.path} is not a ledger database ({exc})") from None
        if meta and meta.get("format") != FORMAT:
            raise LedgerUnavailable(
                f"ledger {self.path} has format {meta.get('format')!r}; this version reads "
                f"format {FORMAT!r}"
            )
        if "origin" not in meta and not self.create:
            raise LedgerUnavailable(f"{self.path} is not an affidavit ledger")
        if "origin" not in meta:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
                if "origin" not in meta:
                    meta = self._create_identity()
                self._db.execute("COMMIT")
            except BaseException:
                if self._new_key:  # made for a history that was not committed: not a key
                    try:  # noqa: SIM105  (of anything, and it would refuse the next try)
                        os.unlink(self.key_path)
                    except OSError:
                        pass
                self._signer = None
                _rollback(self._db)
                raise
            finally:
                self._new_key = False
        for required in ("origin", "verifier_key"):
            if not meta.get(required):
                raise IntegrityError(f"ledger {self.path} has no {required} in its meta table")
        self._meta = meta
        return meta

    def _create_identity(self) -> dict[str, str]:
        """Inside the creating transaction: a fresh origin, the key (new, or reused when
        asked), and the signed checkpoint of the empty log."""
        import secrets

        from affidavit.ledger import keymap, note

        if os.path.exists(self.key_path) and not self._reuse:
            raise _key_reuse_refused(self.key_path, self.path)
        origin = f"affidavit/{secrets.token_hex(16)}"
        if os.path.exists(self.key_path):
            signer_key = _read(self.key_path)
        else:
            signer_key = note.generate_signer_key(origin)
            from affidavit.ledger.keyfile import write_key

            write_key(self.key_path, signer_key,
                      exists=lambda: _key_reuse_refused(self.key_path, self.path))
            self._new_key = True
        try:
            signer = note.Signer.from_key(signer_key)
        except Exception as exc:  # noqa: BLE001 - any unreadable key is the same failure
            raise LedgerUnavailable(f"ledger key {self.key_path} is not a signer key "
                                    f"({exc})") from None
        meta = {"origin": origin, "verifier_key": signer.verifier_key, "format": FORMAT}
        self._db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        self._signer = signer
        empty = ckpt.Checkpoint(origin, 0, rfc6962.EMPTY_ROOT,
                                (keymap.encode_root(keymap.EMPTY),)).to_text()
        self._db.execute("INSERT INTO checkpoints (size, note) VALUES (0, ?)",
                         (signer.sign(empty),))
        return meta

    def _writer(self) -> Any:
        """The signer, refused unless it is the key this ledger's checkpoints are signed by."""
        if self._signer is None:
            from affidavit.ledger import note

            try:
                key = _read(self.key_path)
            except OSError as exc:
                raise LedgerUnavailable(
                    f"cannot read the ledger key {self.key_path}: "
                    f"{(exc.strerror or str(exc)).lower()}", remedy="nothing was recorded"
                ) from None
            try:
                signer = note.Signer.from_key(key)
            except Exception as exc:  # noqa: BLE001 - any unreadable key is the same failure
                raise IntegrityError(f"ledger key {self.key_path} is not a signer key "
                                     f"({exc})") from None
            if signer.verifier_key != self._init()["verifier_key"]:
                raise IntegrityError(
                    f"ledger key {self.key_path} does not match the verifier key recorded in "
                    f"{self.path}", remedy="the key file or the database was swapped")
            self._signer = signer
        return self._signer

    def check_writable(self) -> None:
        """Raise unless an append could be signed: the ledger exists or may be created, and
        its key file matches the key its history is signed with. Writers call this before
        they store evidence, so a refused write leaves nothing behind."""
        self._init()
        self._writer()

    # -- writing ---------------------------------------------------------------------------

    def _latest_checkpoint(self) -> tuple[int, str] | None:
        row = self._db.execute(
            "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
        if row is None:
            return None
        return (_typed(row[0], int, "the latest checkpoint's size", self.path),
                _typed(row[1], str, "the latest checkpoint", self.path))

    def _begin_append(self) -> None:
        self._queue_writer()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._leave_writers()
            raise

    def _queue_writer(self) -> None:
        """Wait, without polling, until no other process holds the writer lock file (see the
        module docstring), and hold it; nothing when the file cannot be made here."""
        import fcntl

        if self._writer_fd is None:
            try:
                self._writer_fd = os.open(f"{self.path}-writer", os.O_RDWR | os.O_CREAT
                                          | getattr(os, "O_NOFOLLOW", 0), 0o600)
            except OSError:
                return
        fcntl.flock(self._writer_fd, fcntl.LOCK_EX)
        self._writing = True

    def _leave_writers(self) -> None:
        import fcntl

        if self._writing and self._writer_fd is not None:
            self._writing = False
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)

    def _store(self, first: int, leaves: list[bytes], entries: list[bytes],
               nodes: list[tuple[int, int, bytes]]) -> None:
        db = self._db
        db.executemany("INSERT INTO entries (idx, leaf, data) VALUES (?, ?, ?)",
                       zip(range(first, first + len(entries)), leaves, entries, strict=True))
        db.executemany("INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)", nodes)

    def _store_checkpoint(self, size: int, signed: str) -> None:
        self._db.execute("INSERT INTO checkpoints (size, note) VALUES (?, ?)", (size, signed))

    def _commit_append(self) -> None:
        try:
            self._db.execute("COMMIT")
        finally:
            self._leave_writers()

    def _abort_append(self) -> None:
        try:
            _rollback(self._db)
        finally:
            self._leave_writers()

    # -- reading ---------------------------------------------------------------------------

    def snapshot(self) -> _Snapshot:
        """``with ledger.snapshot():`` every read inside sees one state of the ledger."""
        return _Snapshot(self)

    def _size(self) -> int:
        row = self._db.execute("SELECT max(idx) FROM entries").fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def size(self) -> int:
        """Number of entries in the log."""
        self._init()
        return self._size()

    def _fetch(self, ids: Sequence[tuple[int, int]]) -> list[bytes]:
        """Hashes of the perfect subtrees ``ids``, in the order asked.

        Each id maps to the ``2**r`` stored nodes ``r = level % STRIDE`` levels below it; all of
        them are read with one query on ``entries`` and one per stored level on ``nodes``, then
        folded up. (Rows are kept by level, then index: a batch of proofs reads thousands.)
        """
        plans = []
        wanted: dict[int, set[int]] = {}
        for level, idx in ids:
            up = level % STRIDE
            base, first = level - up, idx << up
            plans.append((base, first, first + (1 << up)))
            wanted.setdefault(base, set()).update(range(first, first + (1 << up)))
        found: dict[int, dict[int, bytes]] = {}
        for base, indexes in sorted(wanted.items()):
            # One IN list per stored level walks the primary key once per index; an OR of
            # (level, idx) pairs costs SQLite far more to plan once proofs are batched.
            rows = found[base] = {}
            ordered = sorted(indexes)
            for start in range(0, len(ordered), 900):
                some = ordered[start:start + 900]
                marks = ",".join("?" * len(some))
                cursor = self._db.execute(
                    f"SELECT idx, leaf FROM entries {self._leaves} WHERE idx IN ({marks})", some
                ) if base == 0 else self._db.execute(
                    f"SELECT idx, hash FROM nodes WHERE level = ? AND idx IN ({marks})",
                    [base, *some])
                rows.update(cursor)
            if not all(type(h) is bytes for h in rows.values()):
                bad = next(i for i, h in rows.items() if type(h) is not bytes)
                _typed(rows[bad], bytes, f"the leaf hash of entry {bad}" if base == 0 else
                       f"tree node {(base, bad)}", self.path)
        out = []
        for base, first, stop in plans:
            rows = found[base]
            try:
                row = [rows[i] for i in range(first, stop)]
            except KeyError as exc:
                raise IntegrityError(
                    f"ledger {self.path} is missing tree node {(base, exc.args[0])}"
                ) from None
            out.append(rfc6962.fold(row))
        return out

    def _leaf_range(self, start: int, end: int) -> list[bytes]:
        rows = self._db.execute(f"SELECT idx, leaf FROM entries {self._leaves} WHERE idx >= ? "
                                "AND idx < ? ORDER BY idx", (start, end)).fetchall()
        # idx is the key: as many rows as asked, from the first to the last, are all of them
        if len(rows) != end - start or (rows and (rows[0][0], rows[-1][0]) != (start, end - 1)):
            have = {idx for idx, _ in rows}
            gap = next(i for i in range(start, end) if i not in have)
            raise IntegrityError(f"ledger {self.path} is missing tree node {(0, gap)}")
        leaves = [leaf for _, leaf in rows]
        for idx, leaf in rows:
            if type(leaf) is not bytes:
                _typed(leaf, bytes, f"the leaf hash of entry {idx}", self.path)
        return leaves

    def _stored_level(self, level: int) -> Iterator[tuple[int, bytes]]:
        for idx, digest in self._db.execute("SELECT idx, hash FROM nodes WHERE level = ?",
                                            (level,)):
            yield (_typed(idx, int, f"a tree node index of level {level}", self.path),
                   _typed(digest, bytes, f"tree node {(level, idx)}", self.path))

    def read(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        """Entries ``[start, end)``, each checked against its stored leaf hash."""
        self._init()
        cursor = self._db.execute(
            "SELECT idx, data, leaf FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx",
            (start, end),
        )
        expected = start
        for idx, data, leaf in cursor:
            _typed(data, bytes, f"entry {idx}", self.path)
            _typed(leaf, bytes, f"the leaf hash of entry {idx}", self.path)
            if idx != expected:
                raise IntegrityError(f"ledger {self.path} has no entry {expected}",
                                     remedy="entries were deleted outside affidavit")
            if rfc6962.leaf_hash(data) != leaf:
                raise IntegrityError(
                    f"ledger {self.path}: entry {idx} does not match its leaf hash",
                    remedy="the log was modified outside affidavit; run `affidavit verify ledger`",
                )
            expected += 1
            yield idx, bytes(data)
        if expected < end:
            if expected < self._size():
                raise IntegrityError(f"ledger {self.path} has no entry {expected}",
                                     remedy="entries were deleted outside affidavit")
            raise NotFoundError(f"ledger {self.path} has no entry {expected}")

    def entries_at(self, positions: Sequence[int]) -> dict[int, bytes]:
        """The entries at ``positions`` (one query per few hundred), each checked against its
        stored leaf hash; a position below the log's size that has no row is a gap."""
        self._init()
        out: dict[int, bytes] = {}
        ordered = sorted(set(positions))
        for start in range(0, len(ordered), 900):
            chunk = ordered[start:start + 900]
            marks = ",".join("?" * len(chunk))
            for idx, data, leaf in self._db.execute(
                    f"SELECT idx, data, leaf FROM entries WHERE idx IN ({marks})", chunk):
                _typed(data, bytes, f"entry {idx}", self.path)
                if rfc6962.leaf_hash(data) != _typed(leaf, bytes, f"the leaf hash of entry {idx}",
                                                      self.path):
                    raise IntegrityError(
                        f"ledger {self.path}: entry {idx} does not match its leaf hash",
                        remedy="the log was modified outside affidavit; run `affidavit verify "
                               "ledger`")
                out[int(idx)] = bytes(data)
        missing = [p for p in ordered if p not in out]
        if missing:
            raise IntegrityError(f"ledger {self.path} has no entry {missing[0]}",
                                 remedy="entries were deleted outside affidavit")
        return out

    def lookup(self, key: str) -> list[int]:
        """Entries filed under ``key``."""
        self._init()
        rows = self._db.execute("SELECT entry FROM idx WHERE key = ? ORDER BY entry", (key,))
        return [_typed(r[0], int, f"an index row of {key!r}", self.path) for r in rows]

    def _lookup_many(self, keys: list[str]) -> dict[str, list[int]]:
        """:meth:`lookup` of each of ``keys``, a few hundred keys per query: a snapshot's
        10,000 fingerprints were 10,000 queries, a twentieth of its read."""
        self._init()
        out: dict[str, list[int]] = {key: [] for key in keys}
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            chunk = keys[start:start + _KEYS_PER_QUERY]
            marks = ",".join("?" * len(chunk))
            for key, entry in self._db.execute(
                    f"SELECT key, entry FROM idx WHERE key IN ({marks}) ORDER BY key, entry",
                    chunk):
                out[key].append(_typed(entry, int, f"an index row of {key!r}", self.path))
        return out

    def lookup_prefix(self, prefix: str) -> list[tuple[str, int]]:
        """``(key, entry)`` pairs for every key starting with ``prefix``."""
        self._init()
        rows = self._db.execute(
            "SELECT key, entry FROM idx WHERE key >= ? AND key < ? ORDER BY key, entry",
            (prefix, prefix + "\U0010ffff"),
        )
        return [(_typed(k, str, "an index key", self.path),
                 _typed(e, int, f"an index row of {k!r}", self.path)) for k, e in rows]

    def keys(self, prefix: str) -> list[str]:
        """Distinct keys starting with ``prefix``."""
        self._init()
        rows = self._db.execute(
            "SELECT DISTINCT key FROM idx WHERE key >= ? AND key < ? ORDER BY key",
            (prefix, prefix + "\U0010ffff"),
        )
        return [_typed(r[0], str, "an index key", self.path) for r in rows]

    def index_rows(self, after: tuple[int, str] | None = None) -> Iterator[tuple[str, int]]:
        """Every index row ``(key, entry)``, ordered by entry then key, after ``after``."""
        self._init()
        entry0, key0 = after if after is not None else (-1, "")
        for key, entry in self._db.execute(
                "SELECT key, entry FROM idx WHERE (entry, key) > (?, ?) ORDER BY entry, key",
                (entry0, key0)):
            yield (_typed(key, str, "an index key", self.path),
                   _typed(entry, int, f"an index row of {key!r}", self.path))

    def checkpoint(self) -> str | None:
        """The latest signed checkpoint."""
        self._init()
        row = self._db.execute(
            "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1"
        ).fetchone()
        return None if row is None else _typed(row[0], str, "the latest checkpoint", self.path)

    def checkpoints(self, start: int = 0) -> Iterator[tuple[int, str]]:
        """All signed checkpoints by size from ``start`` on, as ``(size, note)``."""
        self._init()
        for size, text in self._db.execute(
                "SELECT size, note FROM checkpoints WHERE size >= ? ORDER BY size", (start,)):
            yield (_typed(size, int, "a checkpoint's size", self.path),
                   _typed(text, str, f"the checkpoint of size {size}", self.path))

    def _check_size(self, size: int) -> None:
        current = self._size()
        if size > current:
            raise NotFoundError(f"ledger {self.path} has {current} entries, not {size}")

    def local_files(self) -> list[str]:
        """The database, its journals, the key and the vault: what no output may overwrite."""
        files = [self.path, self.path + "-wal", self.path + "-shm", self.path + "-writer",
                 self.key_path]
        root = getattr(self.blobs, "root", None)  # a local vault; a bucket has no such path
        return files + [root] if isinstance(root, str) else files

    # -- heartbeats (beside the log) ----------------------------------------------------------

    def record_heartbeat(self, environment: str, at: str, size: int) -> None:
        """See ``Ledger.record_heartbeat``: one upsert in a transaction of its own (the table
        is made by the first heartbeat, so ledgers made before heartbeats need no change)."""
        self._init()
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(_HEARTBEATS)
            db.execute(_BEAT, (environment, at, size))
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise

    def add_cosignatures(self, size: int, lines: Sequence[str]) -> None:
        """See ``Ledger.add_cosignatures``: added in one transaction (the table is made by
        the first, like heartbeats')."""
        from affidavit.errors import InputError
        from affidavit.ledger.base import check_cosignature_lines, merged_cosignatures

        wanted = check_cosignature_lines(lines)
        self._init()
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("SELECT 1 FROM checkpoints WHERE size = ?", (size,)).fetchone() is None:
                raise InputError(f"ledger {self.path} has no checkpoint of size {size}")
            db.execute(_COSIGNATURES)
            kept = [str(row[0]) for row in db.execute(
                "SELECT line FROM cosignatures WHERE size = ? ORDER BY n", (size,))]
            merged = merged_cosignatures(kept, wanted)
            db.execute("DELETE FROM cosignatures WHERE size = ?", (size,))
            db.executemany("INSERT INTO cosignatures (size, n, line) VALUES (?, ?, ?)",
                           [(size, i, line) for i, line in enumerate(merged)])
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise

    def cosignatures(self, size: int) -> list[str]:
        self._init()
        try:
            rows = self._db.execute("SELECT line FROM cosignatures WHERE size = ? ORDER BY n",
                                    (size,)).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []  # nothing was ever cosigned
            raise
        return [_typed(row[0], str, f"a cosignature of size {size}", self.path) for row in rows]

    def heartbeat(self, environment: str) -> tuple[str, int] | None:
        self._init()
        try:
            row = self._db.execute("SELECT at, size FROM heartbeats WHERE environment = ?",
                                   (environment,)).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None  # no heartbeat was ever recorded
            raise
        if row is None:
            return None
        return (_typed(row[0], str, f"the heartbeat of {environment!r}", self.path),
                _typed(row[1], int, f"the heartbeat of {environment!r}", self.path))

    # -- maintenance -----------------------------------------------------------------------

    def _store_index(self, rows: list[tuple[str, int]]) -> None:
        self._db.executemany("INSERT INTO idx (key, entry) VALUES (?, ?)", rows)

    def _clear_index(self) -> None:
        self._db.execute("DELETE FROM idx")

    def close(self) -> None:
        """Close the database connection (and the writer lock file)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._writer_fd is not None:
            os.close(self._writer_fd)
            self._writer_fd, self._writing = None, False


def _os_failure(self: SQLiteLedger, exc: OSError) -> LedgerUnavailable:
    reason = (exc.strerror or str(exc)).lower()
    where = exc.filename if isinstance(exc.filename, str) else self.path
    if where != self.path:
        reason = f"{where}: {reason}"
    return LedgerUnavailable(f"ledger {self.path}: {reason}")


#: What a failed write leaves, for the methods that write: each is one transaction, rolled back.
_UNDONE = {"init": "nothing was recorded", "append": "nothing was recorded",
           "append_batch": "nothing was recorded", "record_heartbeat": "nothing was recorded",
           "reindex": "the index was left as it was"}


def _guard(method: Any) -> Any:
    """Report a database the SQLite library cannot use (unreadable, corrupt, locked for good,
    a disk error), or a file beside it the system refuses, as the ledger being unavailable:
    exit 3 with the file named, no traceback."""
    import functools

    undone = _UNDONE.get(method.__name__)

    @functools.wraps(method)
    def guarded(self: SQLiteLedger, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.Error, OSError) as exc:
            error = (self._unavailable(exc) if isinstance(exc, sqlite3.Error)
                     else _os_failure(self, exc))
            if error.remedy is None:
                error.remedy = undone
            raise error from None

    return guarded


def _guard_generator(method: Any) -> Any:
    import functools

    @functools.wraps(method)
    def guarded(self: SQLiteLedger, *args: Any, **kwargs: Any) -> Any:
        try:
            yield from method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from None
        except OSError as exc:
            raise _os_failure(self, exc) from None

    return guarded


for _name in ("init", "check_writable", "append", "append_batch", "size", "entries_at", "lookup",
              "lookup_prefix", "keys", "map_proof", "checkpoint", "root",
              "inclusion_proof", "inclusion_proofs", "consistency_proof", "verifier_key",
              "origin", "reindex", "record_heartbeat", "heartbeat"):
    setattr(SQLiteLedger, _name, _guard(getattr(SQLiteLedger, _name)))
for _name in ("read", "index_rows", "checkpoints", "map_leaves", "map_nodes"):
    setattr(SQLiteLedger, _name, _guard_generator(getattr(SQLiteLedger, _name)))
