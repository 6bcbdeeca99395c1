"""A transparency-log witness: C2SP ``tlog-witness`` ``add-checkpoint``
(https://c2sp.org/tlog-witness), with its state in one small SQLite file.

The request body is an ``old <size>`` line, up to 63 lines of one base64 hash each (the RFC 6962
consistency proof from the old size), an empty line, then the signed checkpoint note. The
witness cosigns (:mod:`affidavit.ledger.cosignature`) only a checkpoint that a log key it trusts
signed and that extends, by a proof it checked, the latest one it cosigned for that origin; and
it records that checkpoint before answering, in the same transaction that read the previous
one, so two requests racing for one origin cannot both advance it (the spec's rollback race).

Refusals are :class:`Refused`, carrying the HTTP status the spec names for each case, so the
HTTP face (``server/witness.py``) only maps them. A refusal that may be evidence of a log's
misbehaviour -- a fork at a size already cosigned, a proof that does not hold -- from a
checkpoint whose signature verified is kept in the state file (the spec allows it), so the
operator can show what the log's key signed.
"""

from __future__ import annotations

import base64
import binascii
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from affidavit.errors import AffidavitError, InputError, IntegrityError
from affidavit.ledger import note
from affidavit.ledger.checkpoint import MAX_SIZE, Checkpoint
from affidavit.ledger.cosignature import Cosigner, split_note
from affidavit.ledger.proof import verify_consistency
from affidavit.ledger.rfc6962 import EMPTY_ROOT, HASH_SIZE

__all__ = ["MAX_PROOF_LINES", "SIZE_CONTENT_TYPE", "Refused", "Witness", "encode_request",
           "parse_request"]

MAX_PROOF_LINES = 63
"""The most consistency proof lines a request may carry (tlog-witness, add-checkpoint)."""

SIZE_CONTENT_TYPE = "text/x.tlog.size"
"""The media type of a 409 answer's body: the witness's latest size and a newline."""

_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_APPLICATION_ID = 0x41465754  # "AFWT": this file is a witness state, not some other database
_KEEP_REFUSED = 1000

_SCHEMA = """
CREATE TABLE logs (
    origin TEXT PRIMARY KEY,
    size TEXT NOT NULL,       -- decimal: a tree size may exceed SQLite's signed 64 bits
    root BLOB NOT NULL,
    checkpoint TEXT NOT NULL, -- the signed note last cosigned
    cosigned_at INTEGER NOT NULL
);
CREATE TABLE refused (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    at INTEGER NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    request BLOB NOT NULL
)
"""


class Refused(AffidavitError):
    """An ``add-checkpoint`` the witness does not cosign. ``status`` is the HTTP status the
    spec names; ``size``, for a 409, is the size of the latest checkpoint cosigned (the body
    of the answer); ``suspect`` marks a refusal that may be evidence of the log's
    misbehaviour rather than a client's mistake."""

    def __init__(self, status: int, message: str, *, size: int | None = None,
                 suspect: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.size = size
        self.suspect = suspect


def _size(text: str, what: str) -> int:
    """A decimal tree size with no leading zeros (``0`` for zero), at most :data:`MAX_SIZE`."""
    if not _SIZE.fullmatch(text) or int(text) > MAX_SIZE:
        raise Refused(400, f"{what} {text[:30]!r} is not a tree size in decimal")
    return int(text)


def encode_request(old_size: int, proof: Sequence[bytes], signed: str) -> bytes:
    """The ``add-checkpoint`` body for checkpoint note ``signed`` with the consistency proof
    ``proof`` from ``old_size``. Preconditions, else :class:`InputError`: a size in range, at
    most 63 hashes of 32 bytes, and none when ``old_size`` is 0."""
    if isinstance(old_size, bool) or not 0 <= old_size <= MAX_SIZE:
        raise InputError(f"old size {old_size!r} is out of range")
    if len(proof) > MAX_PROOF_LINES or any(len(h) != HASH_SIZE for h in proof):
        raise InputError(f"a consistency proof of {len(proof)} hashes cannot be sent to a "
                         "witness (at most 63 of 32 bytes)")
    if old_size == 0 and proof:
        raise InputError("a consistency proof from size 0 must be empty")
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof), ""]
    return ("\n".join(lines) + "\n" + signed).encode("utf-8")


def parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    """``(old size, proof hashes, signed note)`` of an ``add-checkpoint`` body; a 400
    :class:`Refused` naming what is malformed. The note is only split off, not checked."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "request body is not UTF-8") from None
    head, blank, signed = text.partition("\n\n")
    if not blank:
        raise Refused(400, "request body has no empty line before the checkpoint")
    first, *proof_lines = (head + "\n").split("\n")[:-1]
    if not first.startswith("old "):
        raise Refused(400, "request body does not start with an old size line")
    old_size = _size(first[4:], "old size")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise Refused(400, f"{len(proof_lines)} consistency proof lines, at most "
                           f"{MAX_PROOF_LINES}")
    proof = []
    for number, line in enumerate(proof_lines, 2):
        try:
            raw = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != HASH_SIZE or base64.b64encode(raw).decode() != line:
            raise Refused(400, f"line {number} is not one base64 hash of {HASH_SIZE} bytes")
        proof.append(raw)
    return old_size, proof, signed


class Witness:
    """Cosigns checkpoints of the logs in ``logs`` (origin -> the log keys trusted for it)
    with ``cosigner``, keeping each origin's latest cosigned checkpoint in SQLite file
    ``state`` (created when missing; a file that is some other database is an InputError).

    One instance may serve many threads and processes at once: each call opens its own
    connection, and the state is read and advanced in one ``BEGIN IMMEDIATE`` transaction.
    ``clock`` gives the cosignature's POSIX time.
    """

    def __init__(self, cosigner: Cosigner, logs: Mapping[str, Sequence[note.Verifier]],
                 state: str, *, clock: Callable[[], float] = time.time) -> None:
        self.cosigner = cosigner
        self.logs = {origin: tuple(keys) for origin, keys in logs.items()}
        self.state = state
        self.clock = clock
        self._create()

    def _connect(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.state, timeout=30, isolation_level=None)
            db.execute("PRAGMA synchronous = FULL")  # answered means on disk (the spec's MUST)
        except sqlite3.Error as exc:
            raise InputError(f"--state {self.state}: cannot open it ({exc})") from None
        return db

    def _create(self) -> None:
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            found = db.execute("PRAGMA application_id").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if found == 0 and tables == 0:
                db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                for statement in _SCHEMA.split(";"):  # not executescript: it would commit
                    if statement.strip():
                        db.execute(statement)
            elif found != _APPLICATION_ID:
                raise InputError(f"--state {self.state} is a database, but not a witness's "
                                 "state", remedy="give the witness a file of its own")
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise InputError(f"--state {self.state}: not a witness state file ({exc})") from None
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")  # the write lock before the read: no lost update
            yield db
            db.execute("COMMIT")
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")
            db.close()

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line(s) for an ``add-checkpoint`` request ``body``, after every
        check of the spec, in its order; :class:`Refused` with the spec's status otherwise.
        The new checkpoint is durable in the state file before this returns."""
        old_size, proof, signed = parse_request(body)
        try:
            text, _ = split_note(signed)
            checkpoint = Checkpoint.parse(text)
        except IntegrityError as exc:
            raise Refused(400, f"malformed checkpoint: {exc.message}") from None
        keys = self.logs.get(checkpoint.origin)
        if not keys:
            raise Refused(404, f"unknown log origin {checkpoint.origin!r}")
        try:
            note.open_note(signed, keys)
        except IntegrityError as exc:
            raise Refused(403, f"checkpoint not signed by a trusted key of "
                               f"{checkpoint.origin!r}: {exc.message}") from None
        if old_size > checkpoint.size:
            raise Refused(400, f"old size {old_size} is larger than the checkpoint's "
                               f"{checkpoint.size}")
        try:
            with self._transaction() as db:
                row = db.execute("SELECT size, root FROM logs WHERE origin = ?",
                                 (checkpoint.origin,)).fetchone()
                size, root = (0, EMPTY_ROOT) if row is None else (int(row[0]), bytes(row[1]))
                if old_size != size:
                    raise Refused(409, f"old size {old_size} is not the latest cosigned size "
                                       f"{size}", size=size)
                _check_extends(size, root, proof, checkpoint)
                stamp = int(self.clock())
                db.execute("INSERT OR REPLACE INTO logs VALUES (?, ?, ?, ?, ?)",
                           (checkpoint.origin, str(checkpoint.size), checkpoint.root, signed,
                            stamp))
        except Refused as refusal:
            if refusal.suspect:
                self._keep_refused(checkpoint.origin, refusal, body)
            raise
        except (sqlite3.Error, InputError) as exc:  # the client may retry; nothing cosigned
            raise Refused(503, f"witness state unavailable ({exc})") from None
        return self.cosigner.cosign(text, stamp)

    def _keep_refused(self, origin: str, refusal: Refused, body: bytes) -> None:
        """Keep a signed checkpoint that does not extend the cosigned one: evidence that
        the log's key signed two histories (bounded, so a log cannot fill the disk)."""
        try:
            with self._transaction() as db:
                db.execute("INSERT INTO refused (origin, at, status, reason, request) "
                           "VALUES (?, ?, ?, ?, ?)",
                           (origin, int(self.clock()), refusal.status, refusal.message, body))
                db.execute("DELETE FROM refused WHERE id <= (SELECT max(id) FROM refused) - ?",
                           (_KEEP_REFUSED,))
        except sqlite3.Error:
            pass  # the refusal stands whether or not it could be kept


def _check_extends(size: int, root: bytes, proof: Sequence[bytes],
                   checkpoint: Checkpoint) -> None:
    """Refuse ``checkpoint`` unless ``proof`` shows it extends the tree (``size``, ``root``)
    last cosigned: 409 for another root at that very size, 422 for a proof that does not
    verify (from size 0 the proof must be empty; the first checkpoint is taken on trust)."""
    if checkpoint.size == size:
        if proof:
            raise Refused(422, "a consistency proof between equal sizes must be empty")
        if checkpoint.root != root:
            # the answer still carries the size, so a client can tell a fork at the size
            # it sent from a stale old size
            raise Refused(409, f"checkpoint of size {size} has another root than the one "
                               "cosigned at that size", size=size, suspect=True)
        return
    if size == 0:
        if proof:
            raise Refused(422, "a consistency proof from size 0 must be empty")
        return
    try:
        verify_consistency(size, checkpoint.size, proof, root, checkpoint.root)
    except IntegrityError as exc:
        raise Refused(422, f"consistency proof from size {size} to {checkpoint.size} does "
                           f"not verify: {exc.message}", suspect=True) from None
