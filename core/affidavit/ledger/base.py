"""The one protocol every ledger backend implements (SQLite, HTTP, PostgreSQL).

Contract, for implementers:

- ``append`` MUST be atomic: either every entry of the batch is in the log, its tree nodes,
  index rows and key-map leaves and nodes are stored and a checkpoint covering it is signed
  over both roots (the tree root, and the key map's as its ``map`` extension line, DESIGN
  §3.1), or none of that happened. It MUST NOT return before the batch is durable: what it
  acknowledges survives a crash of the writer. It MUST refuse to extend a log whose latest
  checkpoint does not cover exactly its entries, and to sign with a key other than the one the
  ledger's history is signed with.
- Entries MUST NOT change once appended; index rows and the key map MUST be derivable from the
  entries alone (``affidavit.ledger.index.keys``).
- Evidence files given to ``append`` MUST become readable no later than the entries naming
  them are committed, and MUST NOT stay in the vault when the append fails: a failed write
  leaves nothing behind, and a committed entry never names a file the vault lacks.
- Every ledger has a signed checkpoint from its creation on (the empty log's, size 0), under
  an origin chosen at random when it was created.
- ``read`` MUST check each entry against its stored leaf hash and raise ``IntegrityError`` on a
  mismatch or a gap.
- Reads inside ``with ledger.snapshot():`` MUST all see one state of the ledger; appending
  inside a snapshot is not allowed.

Nothing a backend returns is believed by the readers: ``affidavit.verify.proven`` checks every
answer against the signed checkpoint, so a backend that lies is caught, not trusted.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, BinaryIO, Protocol

from affidavit.ledger import Appended, KeyedRead
from affidavit.ledger.keymap import MapProof

__all__ = ["Appended", "KeyedRead", "Ledger", "BlobStore", "Incoming", "PlacedIncoming",
           "MAX_COSIGNATURES", "check_cosignature_lines", "merged_cosignatures"]


class Incoming(Protocol):
    """Evidence files to store with one append (``BlobStore.incoming``)."""

    def add(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        """Take a copy of a file to store with the append; return its digest and size. Nothing
        is visible under the digest yet."""
        ...

    def close(self) -> None:
        """Drop whatever was added and not stored (the write failed, or never appended)."""
        ...


class PlacedIncoming(Incoming, Protocol):
    """A batch a ledger stores in two steps around its commit, so that a failed commit leaves
    no evidence behind and a committed entry never names evidence the store lacks (the file
    vault's and the bucket's; see :class:`affidavit.ledger.blobs.Incoming` for why)."""

    def place(self) -> None:
        """Make every added file readable under its digest: inside the write transaction,
        just before the commit."""
        ...

    def undo(self) -> None:
        """The commit failed: remove what :meth:`place` stored that was not there before."""
        ...


class BlobStore(Protocol):
    """Content-addressed evidence storage: files keyed by the hex SHA-256 of their bytes."""

    def incoming(self) -> Incoming:
        """A new batch of files for ``Ledger.append(..., evidence=batch)``: stored with the
        entries naming them, or not at all."""
        ...

    def has(self, digest: str) -> bool:
        """Whether the blob is present."""
        ...

    def open(self, digest: str) -> BinaryIO:
        """Open a stored blob for reading; ``NotFoundError`` when absent."""
        ...


MAX_COSIGNATURES = 32
"""Witnesses whose cosignature a ledger keeps for one checkpoint: many more than any log has,
and few enough that the note stays under signed-note's 100 signatures."""


def _per_witness(lines: Sequence[str], *, skip_bad: bool = False) -> dict[tuple[str, bytes],
                                                                          str]:
    """``(witness name, key ID) -> line`` of ``lines``, each exactly one C2SP
    tlog-cosignature line (``— <name> <base64(key ID || u64 timestamp || Ed25519
    signature)>``: 76 bytes, canonical base64) with its newline added, the last one per
    witness kept, in the order each witness last came. A line that is not one is an
    :class:`InputError` naming it, or with ``skip_bad`` left out."""
    import base64
    import binascii

    from affidavit.errors import AffidavitError, InputError
    from affidavit.ledger.cosignature import _parse_line

    kept: dict[tuple[str, bytes], str] = {}
    for line in lines:
        body = line[:-1] if line.endswith("\n") else line
        try:
            if "\n" in body or "\r" in body or len(body) > 1000:
                raise InputError("not one line")
            name, raw = _parse_line(body)
            encoded = body.rsplit(" ", 1)[1]
            if len(raw) != 76 or base64.b64encode(raw).decode() != encoded:
                raise InputError("not a cosignature of 76 bytes in canonical base64")
        except (AffidavitError, binascii.Error, ValueError, IndexError):
            if skip_bad:
                continue
            raise InputError(f"cosignature {body[:60]!r} is not a signature line "
                             "(\u2014 <name> <base64 of 76 bytes>)") from None
        kept.pop((name, raw[:4]), None)
        kept[(name, raw[:4])] = body + "\n"
    return kept


def check_cosignature_lines(lines: Sequence[str]) -> list[str]:
    """``lines`` as stored: each exactly one cosignature line, its newline added, the last
    one per witness (name and key ID) kept (``_per_witness``); an :class:`InputError` naming
    the first that is not one, or when more than ``MAX_COSIGNATURES`` witnesses remain.
    Nothing here says a line verifies -- that takes the witness's key, which readers hold --
    only that it cannot break the note it is added to."""
    return list(_checked(lines).values())


def _checked(lines: Sequence[str]) -> dict[tuple[str, bytes], str]:
    """:func:`_per_witness` of lines given to be kept: refused whole when any is not a
    cosignature line, or when they are more than ``MAX_COSIGNATURES`` witnesses'."""
    from affidavit.errors import InputError

    kept = _per_witness(lines)
    if len(kept) > MAX_COSIGNATURES:
        raise InputError(f"more than {MAX_COSIGNATURES} witnesses' cosignatures for one "
                         "checkpoint")
    return kept


def merged_cosignatures(kept: list[str], wanted: list[str]) -> list[str]:
    """The lines kept for a checkpoint after ``wanted`` arrive: one per witness, a new line
    taking an older one's place (``witness add`` run again on an idle ledger gets a new
    timestamp, not a second line), the oldest witnesses' dropped beyond the limit so that a
    fresh cosignature always finds room. A stored line that no longer parses is dropped
    rather than kept to break the note."""
    arriving = _checked(wanted)
    latest = _per_witness(kept, skip_bad=True)
    for who, line in arriving.items():
        latest.pop(who, None)
        latest[who] = line
    return list(latest.values())[-MAX_COSIGNATURES:]


class Ledger(Protocol):
    """An append-only, verifiable log of canonical JSON entries plus the indexes derived from it."""

    url: str
    blobs: BlobStore

    def init(self, *, reuse_key: bool = False) -> str:
        """Create the ledger now if it does not exist; return its origin. ``reuse_key`` lets an
        existing signing key start a new history (under a fresh origin)."""
        ...

    def check_writable(self) -> None:
        """Raise before anything is written unless an append could be signed by this ledger's
        own key."""
        ...

    def append(
        self, entries: Sequence[bytes], decoded: Sequence[dict[str, Any]] | None = None,
        *, after: tuple[int, bytes] | None = None, evidence: Incoming | None = None,
    ) -> Appended:
        """Append a batch atomically and durably; see the module contract. ``decoded``, when
        given, MUST be the JSON decoding of ``entries`` (it spares the backend a parse).
        ``after`` is the ``(size, root)`` the caller proved: the backend MUST refuse, before
        signing, a log that does not extend it. ``evidence``, a batch of this ledger's
        ``blobs.incoming()``, MUST be readable under its digests once the append returns, and
        MUST leave nothing in the vault when the append fails."""
        ...

    def snapshot(self) -> AbstractContextManager[None]:
        """A read snapshot: every read inside the ``with`` sees one state of the ledger."""
        ...

    def record_heartbeat(self, environment: str, at: str, size: int) -> None:
        """Remember that ``environment`` reported, at ``at`` (RFC 3339 UTC with microseconds,
        as entries carry), the same running set as its latest snapshot in the log of ``size``
        entries -- beside the log, not in it: a heartbeat is neither signed nor proven, and
        only says the reporter is alive. A later ``at`` replaces an earlier one; an earlier
        one is ignored."""
        ...

    def heartbeat(self, environment: str) -> tuple[str, int] | None:
        """The latest heartbeat of ``environment`` as ``(at, size)``, or None."""
        ...

    def add_cosignatures(self, size: int, lines: Sequence[str]) -> None:
        """Keep witness cosignature lines (C2SP tlog-cosignature, ``ledger.cosignature``) of
        the checkpoint for ``size`` beside the log: one per witness (name and key ID), a
        later line replacing the earlier, at most ``MAX_COSIGNATURES`` witnesses a size. Like
        a heartbeat, not in the log and not believed -- a reader checks each with the witness
        keys it trusts; beyond the limit the oldest witnesses' lines give way
        (``merged_cosignatures``). A ``size`` with no checkpoint, or a line that is not one
        cosignature line (``check_cosignature_lines``), is an :class:`InputError`."""
        ...

    def cosignatures(self, size: int) -> list[str]:
        """The cosignature lines kept for the checkpoint of ``size`` (each ending in a
        newline), in the order they were first added."""
        ...

    def size(self) -> int:
        """Number of entries in the log."""
        ...

    def read(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        """Entries ``[start, end)`` with their indexes, each checked against its leaf hash."""
        ...

    def entries_at(self, positions: Sequence[int]) -> dict[int, bytes]:
        """The entries at ``positions``, each checked against its leaf hash; a missing one is
        ``IntegrityError``."""
        ...

    def lookup(self, key: str) -> list[int]:
        """Indexes of the entries filed under ``key`` (see ``ledger.index``), in log order."""
        ...

    def read_many(self, keys: Sequence[str], size: int, *, entries: bool = True,
                  held: Collection[int] = ()) -> KeyedRead:
        """For each of ``keys``: its index rows and key map proof; for all their entries: the
        bytes and the inclusion proof in the tree of ``size`` (``entries=False``: none of
        them, for a reader that needs only how many are filed), but those at the positions
        in ``held``, which the reader has proven already. One state, one round trip."""
        ...

    def lookup_prefix(self, prefix: str) -> list[tuple[str, int]]:
        """``(key, entry index)`` for every key starting with ``prefix``."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """Distinct index keys starting with ``prefix``, sorted."""
        ...

    def keys_many(self, prefixes: Sequence[str]) -> dict[str, list[str]]:
        """:meth:`keys` of each of ``prefixes``, in one state and one round trip."""
        ...

    def index_rows(self, after: tuple[int, str] | None = None) -> Iterator[tuple[str, int]]:
        """Every index row ``(key, entry)``, ordered by entry then key (for audits); with
        ``after`` ``(entry, key)``, those that follow it (where the last page ended)."""
        ...

    def map_proof(self, key: str) -> MapProof:
        """The key map's inclusion or absence proof for ``key`` against the latest map root."""
        ...

    def map_leaves(self, after: bytes | None = None) -> Iterator[tuple[bytes, str, int, int]]:
        """Every stored key-map leaf ``(key hash, key, count, last)`` in key-hash order, for an
        audit that compares them with the map rebuilt from the log; with ``after``, those
        whose key hash follows it."""
        ...

    def map_nodes(self, after: tuple[int, bytes] | None = None
                  ) -> Iterator[tuple[int, bytes, bytes]]:
        """Every stored key-map node ``(depth, prefix, hash)`` in that order (for the same
        audit); with ``after`` ``(depth, prefix)``, those that follow it."""
        ...

    def checkpoint(self) -> str | None:
        """The latest signed checkpoint note (None only for a ledger not yet created)."""
        ...

    def checkpoints(self, start: int = 0) -> Iterator[tuple[int, str]]:
        """Every signed checkpoint note with the size it is stored under, in order of size;
        from size ``start`` on when given."""
        ...

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """Audit path for entry ``index`` in the tree of ``size`` entries."""
        ...

    def inclusion_proofs(self, positions: Sequence[int], size: int) -> dict[int, list[bytes]]:
        """Audit paths of several entries in the tree of ``size`` entries."""
        ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """Proof that the tree of ``size1`` entries is a prefix of the tree of ``size2``."""
        ...

    def root(self, size: int) -> bytes:
        """The Merkle root of the first ``size`` entries."""
        ...

    def origin(self) -> str:
        """The origin line of this ledger's checkpoints."""
        ...

    def verifier_key(self) -> str:
        """The signed-note verifier key of this ledger's checkpoints."""
        ...

    def local_files(self) -> list[str]:
        """Paths this ledger keeps on the local disk (database, journals, key, evidence vault),
        which no command's output may overwrite; empty for a remote ledger."""
        ...

    def reindex(self) -> int:
        """Rebuild every index and the key map from the log; refuse (``IntegrityError``) when
        the log or the rebuilt map does not match the latest signed checkpoint. Returns the
        number of entries replayed."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
