"""The one protocol every ledger backend implements (SQLite, HTTP, PostgreSQL).

Contract, for implementers:

- ``append`` MUST be atomic: either every entry of the batch is in the log, its tree nodes and
  index rows are stored and a checkpoint covering it is signed, or none of that happened. It MUST
  NOT return before the batch is durable: what it acknowledges survives a crash of the writer.
- Entries MUST NOT change once appended; indexes MUST be derivable from the entries alone.
- ``read`` MUST check each entry against its stored leaf hash and raise ``IntegrityError`` on a
  mismatch; ``lookup`` MUST NOT return entries whose content contradicts the key asked for.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO, Protocol

from affidavit.ledger import Appended

__all__ = ["Appended", "Ledger", "BlobStore"]


class BlobStore(Protocol):
    """Content-addressed evidence storage: files keyed by the hex SHA-256 of their bytes."""

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        """Store a file; return its digest and size. Idempotent."""
        ...

    def has(self, digest: str) -> bool:
        """Whether the blob is present."""
        ...

    def open(self, digest: str) -> BinaryIO:
        """Open a stored blob for reading; ``NotFoundError`` when absent."""
        ...


class Ledger(Protocol):
    """An append-only, verifiable log of canonical JSON entries plus the indexes derived from it."""

    url: str
    blobs: BlobStore

    def append(
        self, entries: Sequence[bytes], decoded: Sequence[dict[str, Any]] | None = None
    ) -> Appended:
        """Append a batch atomically and durably; see the module contract. ``decoded``, when
        given, MUST be the JSON decoding of ``entries`` (it spares the backend a parse)."""
        ...

    def size(self) -> int:
        """Number of entries in the log."""
        ...

    def read(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        """Entries ``[start, end)`` with their indexes, each checked against its leaf hash."""
        ...

    def lookup(self, key: str) -> list[int]:
        """Indexes of the entries filed under ``key`` (see ``ledger.index``), in log order."""
        ...

    def lookup_prefix(self, prefix: str) -> list[tuple[str, int]]:
        """``(key, entry index)`` for every key starting with ``prefix``."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """Distinct index keys starting with ``prefix``, sorted."""
        ...

    def checkpoint(self) -> str | None:
        """The latest signed checkpoint note, or None for an empty ledger."""
        ...

    def checkpoints(self) -> Iterator[str]:
        """Every signed checkpoint note, in order of size."""
        ...

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """Audit path for entry ``index`` in the tree of ``size`` entries."""
        ...

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """Proof that the tree of ``size1`` entries is a prefix of the tree of ``size2``."""
        ...

    def root(self, size: int) -> bytes:
        """The Merkle root of the first ``size`` entries."""
        ...

    def verifier_key(self) -> str:
        """The signed-note verifier key of this ledger's checkpoints."""
        ...

    def reindex(self) -> int:
        """Rebuild every index from the log; return the number of entries replayed."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
