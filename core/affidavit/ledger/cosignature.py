"""Witness cosignatures in the C2SP ``tlog-cosignature`` format (https://c2sp.org/tlog-cosignature),
Ed25519 type (``cosignature/v1``).

A cosignature is one more signature line on a checkpoint note (https://c2sp.org/signed-note)::

    — <witness name> <base64(key ID || u64 timestamp, big-endian || Ed25519 signature)>

where the signature is over ``"cosignature/v1\\n" + "time <timestamp>\\n" + <note text>`` (the
text including its final newline, without any signature line) and the key ID is
``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` -- 0x04, not the 0x01 of a log's own
signatures, so a cosigner key can never be taken for a log key or the other way round.

Keys are written like the note keys of :mod:`affidavit.ledger.note`, with the type byte 0x04:

- verifier key (the spec's *vkey*): ``<name>+<8 hex key ID>+<base64(0x04 || public key)>``
- signer key (the specs define none; ours mirrors the note form): ``PRIVATE+KEY+<name>+<8 hex
  key ID>+<base64(0x04 || 32-byte seed)>``

The Ed25519 arithmetic itself is :class:`~affidavit.ledger.note.Signer`'s and
:class:`~affidavit.ledger.note.Verifier`'s: only the message and the key ID differ.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from affidavit.digest import sha256
from affidavit.errors import InputError, IntegrityError
from affidavit.ledger import note

__all__ = [
    "ALG_COSIGNATURE_V1",
    "MAX_TIMESTAMP",
    "Cosigner",
    "CosignatureVerifier",
    "cosigner_key_id",
    "generate_cosigner_key",
    "signed_message",
    "split_note",
    "verify_cosignature",
]

ALG_COSIGNATURE_V1 = 0x04
"""The signature type byte of timestamped Ed25519 cosignatures (signed-note, Signature types)."""

MAX_TIMESTAMP = 2**63 - 1
"""The spec's bound on a cosignature's timestamp."""

_SIG_PREFIX = "\u2014 "  # em dash, space
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_HEX_ID = re.compile(r"[0-9a-fA-F]{8}")
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")
_SPACE = re.compile(r"\s")
_SIGNATURE_SIZE = 4 + 8 + 64  # key ID, timestamp, Ed25519 signature


def _b64decode(text: str) -> bytes | None:
    """Standard base64 in its one canonical spelling, so one signature has one line."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || 0x04 || public_key)[:4]`` (tlog-cosignature, Format)."""
    return sha256(name.encode("utf-8") + b"\n" + bytes([ALG_COSIGNATURE_V1])
                  + public_key).digest()[:4]


def signed_message(text: str, timestamp: int) -> bytes:
    """What a cosignature signs (tlog-cosignature, Ed25519 signed message): the header line,
    the time line, then the note text ``text`` with its final newline."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def _parse_key(what: str, key: str) -> tuple[str, bytes, bytes]:
    """``<name>+<hex id>+<base64(0x04 || 32 bytes)>`` as ``(name, key ID, 32 bytes)``."""
    parts = key.split("+", 2)  # names have no '+'; base64 may
    if len(parts) != 3:
        raise InputError(f"{what} is not of the form <name>+<key id>+<key>")
    name, id_hex, material_b64 = parts
    material = _b64decode(material_b64)
    if not _HEX_ID.fullmatch(id_hex) or material is None:
        raise InputError(f"{what} for {name!r} is malformed")
    if len(material) != 33 or material[0] != ALG_COSIGNATURE_V1:
        raise InputError(f"{what} for {name!r} is not an Ed25519 cosignature key (type 0x04)",
                         remedy="a log's own key (type 0x01) cannot verify a witness")
    return name, bytes.fromhex(id_hex), material[1:]


class CosignatureVerifier:
    """A witness's public key: checks its cosignatures. Construction checks the name and
    key length (:class:`InputError` otherwise)."""

    __slots__ = ("name", "public_key", "key_id", "_ed25519")

    def __init__(self, name: str, public_key: bytes) -> None:
        self._ed25519 = note.Verifier(name, public_key)  # validates both
        self.name = name
        self.public_key = public_key
        self.key_id = cosigner_key_id(name, public_key)

    @classmethod
    def from_key(cls, vkey: str) -> CosignatureVerifier:
        """Parse a vkey; :class:`InputError` if malformed or its key ID is not the key's."""
        name, kid, public = _parse_key("witness verifier key", vkey.strip())
        verifier = cls(name, public)
        if verifier.key_id != kid:
            raise InputError(f"witness verifier key for {name!r}: key ID does not match the key")
        return verifier

    @property
    def key(self) -> str:
        """The vkey string, safe to publish."""
        material = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CosignatureVerifier) and (self.name, self.public_key) == (
            other.name, other.public_key)

    def __hash__(self) -> int:
        return hash((self.name, self.public_key))

    def __repr__(self) -> str:
        return f"CosignatureVerifier(name={self.name!r}, key_id={self.key_id.hex()!r})"

    def matches(self, line: str) -> bool:
        """Whether signature line ``line`` claims to be by this key (name and key ID both):
        signed-note says lines by any other key are ignored, never failed."""
        name, raw = _parse_line(line)
        return name == self.name and raw[:4] == self.key_id

    def verify_line(self, text: str, line: str) -> int:
        """The timestamp of cosignature ``line`` on note text ``text``.

        Precondition: :meth:`matches` ``line``. Raises :class:`IntegrityError` when the line
        is not a cosignature's size, its timestamp exceeds :data:`MAX_TIMESTAMP`, or the
        signature does not verify.
        """
        _, raw = _parse_line(line)
        if len(raw) != _SIGNATURE_SIZE:
            raise IntegrityError(f"cosignature by {self.name} has {len(raw)} bytes, not "
                                 f"{_SIGNATURE_SIZE}")
        timestamp = int.from_bytes(raw[4:12], "big")
        if timestamp > MAX_TIMESTAMP:
            raise IntegrityError(f"cosignature by {self.name} has timestamp {timestamp}, "
                                 "beyond 2^63-1")
        if not self._ed25519.verify(signed_message(text, timestamp), raw[12:]):
            raise IntegrityError(f"invalid cosignature by {self.name}+{self.key_id.hex()}",
                                 remedy="the checkpoint or the cosignature was altered, or "
                                        "another key made it")
        return timestamp


class Cosigner:
    """A witness's private key. Never printed by ``repr``."""

    __slots__ = ("_seed", "_signer", "_verifier")

    def __init__(self, name: str, seed: bytes) -> None:
        """Precondition: ``seed`` is a 32-byte Ed25519 seed (RFC 8032), else InputError."""
        self._signer = note.Signer(name, seed)
        self._seed = seed
        self._verifier = CosignatureVerifier(name, self._signer.verifier.public_key)

    @classmethod
    def from_key(cls, skey: str) -> Cosigner:
        """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(0x04 || seed)>``; :class:`InputError`
        if it is malformed or its key ID is not the key's."""
        skey = skey.strip()
        if not skey.startswith(_PRIVATE_PREFIX):
            raise InputError("witness key does not start with PRIVATE+KEY+")
        name, kid, seed = _parse_key("witness key", skey[len(_PRIVATE_PREFIX):])
        cosigner = cls(name, seed)
        if cosigner.verifier.key_id != kid:
            raise InputError(f"witness key for {name!r}: key ID does not match the key")
        return cosigner

    @property
    def verifier(self) -> CosignatureVerifier:
        """The matching public key."""
        return self._verifier

    @property
    def key(self) -> str:
        """The signer key string (secret)."""
        material = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self._seed).decode()
        return f"{_PRIVATE_PREFIX}{self._verifier.name}+{self._verifier.key_id.hex()}+{material}"

    def cosign(self, text: str, timestamp: int) -> str:
        """The cosignature line (ending in a newline) of note text ``text`` at ``timestamp``
        (POSIX seconds). Precondition: ``0 <= timestamp <= MAX_TIMESTAMP``."""
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise InputError(f"cosignature timestamp {timestamp} is out of range")
        signature = self._signer.signature(signed_message(text, timestamp))
        raw = self._verifier.key_id + timestamp.to_bytes(8, "big") + signature
        return f"{_SIG_PREFIX}{self._verifier.name} {base64.b64encode(raw).decode()}\n"

    def __repr__(self) -> str:
        return f"Cosigner(name={self._verifier.name!r}, key_id={self._verifier.key_id.hex()!r})"


def generate_cosigner_key(name: str) -> str:
    """A new random witness key string for ``name`` (secret; its vkey: ``Cosigner.verifier``)."""
    return Cosigner(name, os.urandom(32)).key


def _parse_line(line: str) -> tuple[str, bytes]:
    """``(key name, raw signature bytes)`` of one signature line, with or without its newline;
    :class:`IntegrityError` if it is not one (signed-note, Format)."""
    body = line[:-1] if line.endswith("\n") else line
    if not body.startswith(_SIG_PREFIX):
        raise IntegrityError(f"line {body[:40]!r} is not a signature line")
    name, _, sig_b64 = body[len(_SIG_PREFIX):].partition(" ")
    raw = _b64decode(sig_b64)
    if not name or "+" in name or _SPACE.search(name) or raw is None or len(raw) < 5:
        raise IntegrityError(f"signature line {body[:40]!r} is invalid")
    return name, raw


def split_note(signed: str | bytes) -> tuple[str, list[str]]:
    """A signed note's text (with its final newline) and its signature lines (each with its
    newline), after checking the note's syntax (signed-note, Format); :class:`IntegrityError`
    naming the problem otherwise. Verifies no signature."""
    if isinstance(signed, bytes):
        try:
            signed = signed.decode("utf-8")
        except UnicodeDecodeError:
            raise IntegrityError("malformed signed note: not valid UTF-8") from None
    if _CONTROL.search(signed):
        raise IntegrityError("malformed signed note: a control character other than newline")
    split = signed.rfind("\n\n")
    if split < 0 or not signed.endswith("\n"):
        raise IntegrityError("malformed signed note: no signature lines after a blank line")
    lines = signed[split + 2:].splitlines(keepends=True)
    if len(lines) > note.MAX_SIGNATURES:
        raise IntegrityError(f"malformed signed note: more than {note.MAX_SIGNATURES} "
                             "signatures")
    for line in lines:
        _parse_line(line)
    return signed[:split + 1], lines


def verify_cosignature(signed: str | bytes, vkey: str | CosignatureVerifier) -> int:
    """The timestamp of the witness ``vkey``'s cosignature on note ``signed``.

    What a verifier of a cosigned checkpoint calls (``verify package --witness``): lines by
    other keys -- the log's own signature, other witnesses -- are ignored, as signed-note
    says; a line by this key that does not verify is an :class:`IntegrityError`, and so is a
    note with no line by it at all. When the witness signed the note more than once, every
    line must verify and the latest timestamp is returned. The log's own signature is not
    checked here: that is :func:`affidavit.ledger.note.open_note`'s job, with the log's key.
    """
    verifier = vkey if isinstance(vkey, CosignatureVerifier) else CosignatureVerifier.from_key(
        vkey)
    text, lines = split_note(signed)
    stamps = [verifier.verify_line(text, line) for line in lines if verifier.matches(line)]
    if not stamps:
        raise IntegrityError(f"no cosignature by witness {verifier.name}+"
                             f"{verifier.key_id.hex()} on the checkpoint",
                             remedy="have the checkpoint cosigned: affidavit witness add")
    return max(stamps)
