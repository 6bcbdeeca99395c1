"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys.

A signed note is a text ending in a newline, a blank line, then one line per signature::

    — <key name> <base64(4-byte key ID || Ed25519 signature of the text)>

Keys are strings compatible with Go's golang.org/x/mod/sumdb/note, so the same key files work with
the Go transparency tooling:

- verifier key: ``<name>+<8 hex key ID>+<base64(0x01 || 32-byte public key)>``
- signer key: ``PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || 32-byte seed)>``

where the key ID is ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``. ``cryptography`` is
imported inside the functions that sign or verify, so importing this module stays cheap.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence

from affidavit.digest import sha256
from affidavit.errors import InputError, IntegrityError

_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")  # a control character other than newline
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f]")  # str.isspace() is \s for str patterns

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "MAX_SIGNATURES",
    "Signer",
    "Verifier",
    "generate_signer_key",
    "key_id",
    "open_note",
    "sign_note",
]

ALG_ED25519 = 0x01
"""The signature type byte of Ed25519 in key IDs and key strings."""

MAX_SIGNATURES = 100
"""Notes with more signature lines are rejected (the spec requires accepting at least 16)."""

_SIG_PREFIX = "\u2014 "  # em dash, space
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_HEX_ID = re.compile(r"[0-9a-fA-F]{8}")


def _valid_name(name: str) -> bool:
    """Key names are non-empty UTF-8 without '+', Unicode spaces or control characters."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return bool(name) and "+" not in name and not _SPACE_OR_CONTROL.search(name)


def _b64decode(text: str) -> bytes | None:
    """Standard base64 with padding, in its one canonical spelling; None if not."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte Ed25519 key ID: ``SHA-256(name || 0x0A || 0x01 || public_key)[:4]``."""
    material = name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key
    return sha256(material).digest()[:4]


def _parse_key(what: str, key: str) -> tuple[str, bytes]:
    """Split ``<name>+<hex id>+<base64(0x01 || 32 bytes)>`` into name and ``id || 32 bytes``.

    Checks the syntax only; the caller checks that the ID matches the key.
    """
    parts = key.split("+", 2)  # base64 may itself contain '+'
    if len(parts) != 3:
        raise InputError(f"{what} is not of the form <name>+<key id>+<key>")
    name, id_hex, material_b64 = parts
    if not _valid_name(name):
        raise InputError(f"{what} has an invalid key name {name!r}")
    material = _b64decode(material_b64)
    if not _HEX_ID.fullmatch(id_hex) or material is None:
        raise InputError(f"{what} for {name!r} is malformed")
    if len(material) != 33 or material[0] != ALG_ED25519:
        raise InputError(f"{what} for {name!r} is not an Ed25519 key")
    return name, bytes.fromhex(id_hex) + material[1:]


class Verifier:
    """An Ed25519 public key ``public_key`` (32 raw bytes) known under ``name``.

    Construction checks the name and key length (:class:`InputError` otherwise).
    """

    __slots__ = ("name", "public_key", "key_id")

    def __init__(self, name: str, public_key: bytes) -> None:
        if not _valid_name(name):
            raise InputError(f"invalid key name {name!r}: empty, or has '+' or spaces")
        if len(public_key) != 32:
            raise InputError(f"Ed25519 public key for {name!r} is not 32 bytes")
        self.name = name
        self.public_key = public_key
        self.key_id = key_id(name, public_key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verifier) and (self.name, self.public_key) == (
            other.name, other.public_key)

    def __hash__(self) -> int:
        return hash((self.name, self.public_key))

    def __repr__(self) -> str:
        return f"Verifier(name={self.name!r}, public_key={self.public_key!r})"

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        """Parse a verifier key string; :class:`InputError` if malformed or its ID is wrong."""
        name, rest = _parse_key("verifier key", vkey.strip())
        verifier = cls(name, rest[4:])
        if verifier.key_id != rest[:4]:
            raise InputError(f"verifier key for {name!r}: key ID does not match the key")
        return verifier

    @property
    def key(self) -> str:
        """The verifier key string, ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
        material = _b64encode(bytes([ALG_ED25519]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            _public_key(self.public_key).verify(signature, message)
        except Exception:  # noqa: BLE001 - InvalidSignature, or a malformed key or signature
            return False
        return True


def _public_key(public: bytes) -> Any:
    """The Ed25519 public key object, from cryptography's Rust binding for the same reason as
    :func:`_private_key`: every read verifies a checkpoint, and ``cryptography.exceptions``
    (which the public API imports) pulls in ``typing``. Failures raise whatever the binding
    raises; :meth:`Verifier.verify` treats any of them as a bad signature."""
    try:
        from cryptography.hazmat.bindings._rust import openssl

        return openssl.ed25519.from_public_bytes(public)
    except (ImportError, AttributeError):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        return Ed25519PublicKey.from_public_bytes(public)


def _private_key(seed: bytes) -> Ed25519PrivateKey:
    """The Ed25519 key for ``seed``, from cryptography's Rust binding when it is where it has
    been since cryptography 42: the CLI signs a checkpoint on every write, and the public module
    costs about 5 ms more to import (typing and its helpers) for the very same key object. Any
    other layout falls back to the public API."""
    try:
        from cryptography.hazmat.bindings._rust import openssl

        key: Ed25519PrivateKey = openssl.ed25519.from_private_bytes(seed)
        return key
    except (ImportError, AttributeError):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return Ed25519PrivateKey.from_private_bytes(seed)


class Signer:
    """An Ed25519 private key that signs notes under ``name``. Never printed by ``repr``."""

    __slots__ = ("_private", "_seed", "_verifier")

    def __init__(self, name: str, seed: bytes) -> None:
        """Precondition: ``seed`` is a 32-byte Ed25519 private key seed (RFC 8032)."""
        if len(seed) != 32:
            raise InputError(f"Ed25519 seed for {name!r} is not 32 bytes")
        self._seed = seed
        self._private: Ed25519PrivateKey = _private_key(seed)
        public = self._private.public_key().public_bytes_raw()
        self._verifier = Verifier(name, public)

    @classmethod
    def from_key(cls, skey: str) -> Signer:
        """Parse a signer key string ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>``.

        Raises :class:`InputError` if it is malformed or its key ID does not match the key.
        """
        skey = skey.strip()
        if not skey.startswith(_PRIVATE_PREFIX):
            raise InputError("signer key does not start with PRIVATE+KEY+")
        name, rest = _parse_key("signer key", skey[len(_PRIVATE_PREFIX) :])
        signer = cls(name, rest[4:])
        if signer.key_id != rest[:4]:
            raise InputError(f"signer key for {name!r}: key ID does not match the key")
        return signer

    @property
    def name(self) -> str:
        """The key name written in signature lines."""
        return self._verifier.name

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID."""
        return self._verifier.key_id

    @property
    def key(self) -> str:
        """The signer key string (secret: store it like a password)."""
        material = _b64encode(bytes([ALG_ED25519]) + self._seed)
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id.hex()}+{material}"

    @property
    def verifier(self) -> Verifier:
        """The matching public key."""
        return self._verifier

    @property
    def verifier_key(self) -> str:
        """The matching verifier key string, safe to publish."""
        return self._verifier.key

    def signature(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of ``message``."""
        return self._private.sign(message)

    def sign(self, text: str) -> str:
        """The signed note of ``text`` with this key's signature (see :func:`sign_note`)."""
        return sign_note(text, [self])

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, key_id={self.key_id.hex()!r})"


def generate_signer_key(name: str) -> str:
    """A new random signer key string for ``name`` (secret; derive the public one with Signer)."""
    return Signer(name, os.urandom(32)).key


def _check_text(text: str) -> None:
    """Raise :class:`IntegrityError` unless ``text`` can be the text of a note."""
    if not text.endswith("\n"):
        raise IntegrityError("note text does not end with a newline")
    if _CONTROL.search(text):
        raise IntegrityError("note text contains a control character other than newline")


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """The note: ``text``, a blank line, then one signature line per signer, in order.

    Preconditions: ``text`` ends with a newline and has no other control characters (else
    :class:`InputError`); at least one signer.
    """
    try:
        _check_text(text)
        message = text.encode("utf-8")
    except (IntegrityError, UnicodeEncodeError) as exc:
        raise InputError(f"cannot sign note: {exc}") from exc
    if not signers:
        raise InputError("cannot sign note: no signer given")
    lines = [
        f"{_SIG_PREFIX}{s.name} {_b64encode(s.key_id + s.signature(message))}\n" for s in signers
    ]
    return text + "\n" + "".join(lines)


def _malformed(reason: str) -> IntegrityError:
    return IntegrityError(f"malformed signed note: {reason}")


def _parse_signatures(block: str) -> list[tuple[str, bytes, bytes]]:
    """The ``(name, key ID, signature)`` of each signature line of ``block``."""
    if not block.endswith("\n"):
        raise _malformed("no signature lines after the last blank line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _malformed(f"more than {MAX_SIGNATURES} signatures")
    sigs = []
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise _malformed(f"line {line[:40]!r} is not a signature line")
        name, _, sig_b64 = line[len(_SIG_PREFIX) :].partition(" ")
        raw = _b64decode(sig_b64)
        if not _valid_name(name) or raw is None or len(raw) < 5:
            raise _malformed(f"signature line {line[:40]!r} is invalid")
        sigs.append((name, raw[:4], raw[4:]))
    return sigs


#: Notes already opened in this process, by (note, verifier keys): a command meets the same
#: checkpoint several times (the head, the seen memory, the head again after a write), and a
#: long-lived process (a server, a client appending in a loop) meets each new one a few times
#: in a row. The oldest is let go once :data:`_MEMO` are kept.
_OPENED: dict[tuple[str, tuple[str, ...]], str] = {}
_MEMO = 64


def open_note(note: str | bytes, verifiers: Sequence[Verifier]) -> str:
    """Return the text of ``note`` if at least one signature by a key in ``verifiers`` checks.

    Follows the spec: signatures by unknown keys (name and key ID not both matching a verifier)
    are ignored, a signature by a known key that fails rejects the whole note, and a note with no
    valid signature by a known key is rejected. Repeated signature lines count once. Raises
    :class:`IntegrityError` naming the problem in every rejected case, including a malformed note.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _malformed("not valid UTF-8") from exc
    memo = (note, tuple(sorted(v.key for v in verifiers)))
    opened = _OPENED.get(memo)
    if opened is not None:
        return opened
    text = _open(note, verifiers)
    if len(_OPENED) >= _MEMO:
        del _OPENED[next(iter(_OPENED))]
    _OPENED[memo] = text
    return text


def _open(note: str, verifiers: Sequence[Verifier]) -> str:
    """:func:`open_note` without the memo."""
    if _CONTROL.search(note):
        raise _malformed("contains a control character other than newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise _malformed("no blank line before the signatures")
    text = note[: split + 1]
    try:
        message = text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates
        raise _malformed("not valid UTF-8") from exc
    signatures = _parse_signatures(note[split + 2 :])

    verified: list[str] = []
    unknown: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for name, kid, sig in signatures:
        label = f"{name}+{kid.hex()}"
        if (name, kid) in seen:
            continue
        seen.add((name, kid))
        matches = {v.public_key for v in verifiers if v.name == name and v.key_id == kid}
        if not matches:
            unknown.append(label)
            continue
        if len(matches) > 1:
            raise IntegrityError(f"ambiguous key {label}: several verifiers share its name and ID")
        verifier = next(v for v in verifiers if v.name == name and v.key_id == kid)
        if not verifier.verify(message, sig):
            raise IntegrityError(
                f"invalid signature for key {label}",
                remedy="the signed text was altered after signing",
            )
        verified.append(label)
    if not verified:
        known = ", ".join(f"{v.name}+{v.key_id.hex()}" for v in verifiers)
        raise IntegrityError(
            f"note has no signature from a known key (signed by {', '.join(unknown)})",
            remedy=f"check the verifier key; known keys: {known or 'none'}",
        )
    return text
