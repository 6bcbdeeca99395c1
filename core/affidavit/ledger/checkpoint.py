"""Checkpoints in the C2SP ``tlog-checkpoint`` text format (https://c2sp.org/tlog-checkpoint).

A checkpoint is the body of a signed note (see :mod:`affidavit.ledger.note`) naming a tree head::

    <origin>
    <tree size, decimal, no leading zeros>
    <root hash, standard base64>
    [extension lines]

Parsing is strict, so that one tree head has exactly one text and therefore one signature: a
checkpoint that would not print back to the same bytes is rejected.
"""

from __future__ import annotations

import base64
import binascii
import re

from affidavit.errors import IntegrityError
from affidavit.ledger.rfc6962 import HASH_SIZE

__all__ = ["Checkpoint", "MAX_SIZE"]

MAX_SIZE = 2**64 - 1
"""The largest tree size (the reference implementations store it in a uint64)."""

_SIZE = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile("[\x00-\x1f]")


def _check_line(what: str, line: str) -> None:
    if not line:
        raise IntegrityError(f"checkpoint {what} is empty")
    if _CONTROL.search(line):
        raise IntegrityError(f"checkpoint {what} {line!r} contains a control character")


def _decode_root(text: str) -> bytes:
    try:
        root = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise IntegrityError(f"checkpoint root {text!r} is not valid base64") from exc
    if base64.b64encode(root).decode("ascii") != text:
        raise IntegrityError(f"checkpoint root {text!r} is not canonical base64")
    return root


class Checkpoint:
    """A signed tree head's text: ``size`` leaves with Merkle root ``root``, from log ``origin``.

    Validated at construction: ``origin`` and every extension are non-empty lines without control
    characters, ``0 <= size <= MAX_SIZE``, ``root`` is 32 bytes. Violations raise
    :class:`IntegrityError`.
    """

    __slots__ = ("origin", "size", "root", "extensions")

    def __init__(
        self, origin: str, size: int, root: bytes, extensions: tuple[str, ...] = ()
    ) -> None:
        self.origin = origin
        self.size = size
        self.root = root
        self.extensions = tuple(extensions)
        _check_line("origin", self.origin)
        if isinstance(self.size, bool) or not 0 <= self.size <= MAX_SIZE:
            raise IntegrityError(f"checkpoint size {self.size!r} is out of range")
        if len(self.root) != HASH_SIZE:
            raise IntegrityError(f"checkpoint root has {len(self.root)} bytes, not {HASH_SIZE}")
        for ext in self.extensions:
            _check_line("extension line", ext)

    def _key(self) -> tuple[str, int, bytes, tuple[str, ...]]:
        return (self.origin, self.size, self.root, self.extensions)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Checkpoint) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"Checkpoint(origin={self.origin!r}, size={self.size!r}, root={self.root!r}, "
                f"extensions={self.extensions!r})")

    def to_text(self) -> str:
        """The note text: origin, size, base64 root and extensions, each line ending in newline."""
        root = base64.b64encode(self.root).decode("ascii")
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text (without signatures), the inverse of :meth:`to_text`.

        Raises :class:`IntegrityError` unless ``text`` is at least three newline-terminated lines:
        a non-empty origin, a decimal size without leading zeros, a canonical base64 32-byte root,
        then only non-empty extension lines.
        """
        if not text.endswith("\n"):
            raise IntegrityError("checkpoint text does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise IntegrityError(f"checkpoint has {len(lines)} lines, expected at least 3")
        origin, size_text, root_text, *extensions = lines
        _check_line("origin", origin)
        # The length bound keeps int() away from huge strings; MAX_SIZE has 20 digits.
        if len(size_text) > 20 or not _SIZE.fullmatch(size_text):
            raise IntegrityError(f"checkpoint size {size_text!r} is not a canonical decimal")
        return cls(origin, int(size_text), _decode_root(root_text), tuple(extensions))
