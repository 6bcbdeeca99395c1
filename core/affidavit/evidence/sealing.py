"""Sealed evidence: files encrypted on this machine, for named recipients, before they leave it.

``--encrypt-for RECIPIENT…`` seals every evidence file of an attestation in the age format
(age-encryption.org/v1, X25519 recipients ``age1…``, through ``pyrage``): one file key per file,
wrapped for each recipient, the content in 64 KiB authenticated chunks, so a file of any size is
sealed in constant memory and anyone holding an identity opens it with this tool or with the
plain ``age -d -i key.txt``. The vault, a server and every package then hold and hash only the
ciphertext: the evidence reference's ``sha256`` and ``size`` are the ciphertext's.

What ties the ciphertext to the attested file is ``sealed``, recorded in the reference::

    {"format": "age", "recipients": ["age1…"], "commitment": "<hex>", "opening": "<base64>"}

``commitment`` is HMAC-SHA256 with a fresh 32-byte salt as key over the plaintext's SHA-256;
``opening`` is the salt, that digest and the size, sealed for the same recipients. A key holder
opens both and checks the decrypted bytes against the digest and the digest against the
commitment: the file is the one that was attested, and no one without a key learns even the
plaintext's digest (a salted commitment cannot be confirmed by guessing a short file).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from affidavit.errors import InputError, IntegrityError, UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import IO, Any

    Record = dict[str, Any]

__all__ = ["FORMAT", "HashingReader", "pyrage_module", "check_recipients", "seal_file",
           "read_identities", "open_sealed", "open_opening", "commits_to"]

FORMAT = "age"
_OPENING = b"affidavit-sealed-opening/v1\n"
_CHUNK = 1 << 20


def pyrage_module() -> Any:
    try:
        import pyrage  # type: ignore[import-untyped]
    except ImportError:
        raise UsageError("sealed evidence needs the age library pyrage",
                         remedy="pip install 'affidavit[seal]'") from None
    return pyrage


def check_recipients(values: Sequence[str]) -> list[str]:
    """The age recipients ``values`` name: each an ``age1…`` key, or a file of them (one a
    line, ``#`` comments, as ``age -R`` reads), checked before anything is collected."""
    pyrage = pyrage_module()
    out: list[str] = []
    for value in values:
        lines = [(value, value)]
        if not value.startswith("age1"):
            text = _text_file(value, f"--encrypt-for {value}",
                              "neither an age1… recipient nor a readable file of them")
            lines = [(f"{value}: line {n}", line.strip())
                     for n, line in enumerate(text.splitlines(), 1)
                     if line.strip() and not line.lstrip().startswith("#")]
            if not lines:
                raise UsageError(f"--encrypt-for {value}: holds no recipient")
        for where, line in lines:
            try:
                pyrage.x25519.Recipient.from_str(line)
            except pyrage.RecipientError:
                raise UsageError(f"--encrypt-for {where}: not an age X25519 recipient (age1…)",
                                 remedy="make a key with: affidavit key generate --encryption "
                                        "--out FILE") from None
            if line not in out:
                out.append(line)
    return out


def _text_file(path: str, label: str, what: str | None = None) -> str:
    """A small key file's text (read as ``regular.read_regular`` reads: a FIFO or a device is
    refused, never waited on), every problem a usage error beginning with ``label``."""
    from affidavit.regular import read_regular

    try:
        return read_regular(path, label, 1 << 20).decode("utf-8")
    except InputError as exc:
        reason = exc.message.removeprefix(label + ": ")
        raise UsageError(f"{label}: {what} ({reason})" if what else f"{label}: {reason}"
                         ) from None
    except UnicodeDecodeError:
        raise UsageError(f"{label}: not UTF-8 text") from None


class HashingReader:
    """A binary reader that hashes and counts what passes through it: the plaintext as it is
    sealed, the ciphertext as it is opened (``evidence.vault``)."""

    def __init__(self, raw: IO[bytes] | Any) -> None:
        self.raw, self.digest, self.size = raw, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data: bytes = self.raw.read(n if n is not None and n >= 0 else _CHUNK)
        self.digest.update(data)
        self.size += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        """Read to the end, so the digest is the whole stream's."""
        while self.read(_CHUNK):
            pass


def seal_file(path: str, recipients: Sequence[str], folder: str) -> tuple[str, Record]:
    """Seal ``path`` into a new file in ``folder``; its path and the reference's ``sealed``."""
    pyrage = pyrage_module()
    keys = [pyrage.x25519.Recipient.from_str(r) for r in recipients]
    fd, out_path = _new_file(folder)
    try:
        with open(path, "rb") as plain, os.fdopen(fd, "wb") as out:
            reader = HashingReader(plain)
            pyrage.encrypt_io(reader, out, keys)
    except OSError as exc:
        raise InputError(f"{path}: cannot be sealed: {(exc.strerror or str(exc)).lower()}"
                         ) from None
    digest = reader.digest.digest()
    salt = os.urandom(32)
    opening = _OPENING + json.dumps({"salt": salt.hex(), "sha256": digest.hex(),
                                     "size": reader.size}, sort_keys=True).encode()
    return out_path, {
        "format": FORMAT, "recipients": list(recipients),
        "commitment": hmac.new(salt, digest, hashlib.sha256).hexdigest(),
        "opening": base64.b64encode(pyrage.encrypt(opening, keys)).decode()}


def _new_file(folder: str) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(prefix="sealed-", dir=folder)


def read_identities(path: str) -> list[Any]:
    """The age X25519 identities in the file ``path`` (``AGE-SECRET-KEY-1…`` lines, as
    ``affidavit key generate --encryption`` and ``age-keygen`` write them)."""
    pyrage = pyrage_module()
    text = _text_file(path, f"--identity {path}")
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            found.append(pyrage.x25519.Identity.from_str(line))
        except pyrage.IdentityError:
            raise UsageError(f"--identity {path}: line {n}: not an age identity "
                             "(AGE-SECRET-KEY-1…)") from None
    if not found:
        raise UsageError(f"--identity {path}: holds no age identity")
    return found


def open_opening(sealed: Record, identities: Sequence[Any], where: str) -> Record:
    """The salt, digest and size ``sealed`` commits to, decrypted and checked against its
    commitment: an identity that is not a recipient is a usage error, anything that does not
    decrypt or match an integrity failure."""
    pyrage = pyrage_module()
    if not isinstance(sealed, dict) or sealed.get("format") != FORMAT:
        raise IntegrityError(f"{where}: not sealed in a format this version knows")
    try:
        raw = base64.b64decode(str(sealed.get("opening", "")), validate=True)
    except ValueError:
        raise IntegrityError(f"{where}: its opening is not base64") from None
    try:
        text = pyrage.decrypt(raw, list(identities))
    except pyrage.DecryptError as exc:
        if "no matching keys" in str(exc).lower():
            raise UsageError(f"{where}: sealed for {', '.join(sealed.get('recipients', []))}; "
                             "the identity given is none of them") from None
        raise IntegrityError(f"{where}: its opening does not decrypt ({exc})") from None
    try:
        if not text.startswith(_OPENING):
            raise ValueError
        opened = json.loads(text[len(_OPENING):])
        salt, digest = bytes.fromhex(opened["salt"]), bytes.fromhex(opened["sha256"])
        size = opened["size"]
    except (ValueError, KeyError, TypeError):
        raise IntegrityError(f"{where}: its opening is malformed") from None
    if not isinstance(size, int) or not commits_to(sealed, salt.hex(), digest.hex()):
        raise IntegrityError(f"{where}: its opening does not match its commitment")
    return {"sha256": digest.hex(), "size": size, "salt": salt.hex()}


def commits_to(sealed: Record, salt_hex: str, digest_hex: str) -> bool:
    """Whether ``salt`` opens ``sealed``'s commitment to the plaintext digest ``digest``:
    what a package verifier checks of an opened file, with no key."""
    try:
        salt, digest = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(hmac.new(salt, digest, hashlib.sha256).hexdigest(),
                               str(sealed.get("commitment")))


def open_sealed(sealed: Record, ciphertext: IO[bytes] | Any, identities: Sequence[Any],
                out: IO[bytes], where: str) -> Record:
    """Decrypt ``ciphertext`` into ``out`` and prove the bytes are the ones committed to; the
    plaintext's digest and size. The caller discards ``out`` on any error."""
    pyrage = pyrage_module()
    expected = open_opening(sealed, identities, where)
    sink = _HashingWriter(out)
    try:
        pyrage.decrypt_io(_Reading(ciphertext), sink, list(identities))
    except _Failed as failed:  # our own reads and writes: the caller's to report
        raise failed.error from None
    except (pyrage.DecryptError, OSError) as exc:  # age reports a bad chunk as an OSError
        raise IntegrityError(f"{where}: its ciphertext does not decrypt ({exc})") from None
    if sink.digest.hexdigest() != expected["sha256"] or sink.size != expected["size"]:
        raise IntegrityError(f"{where}: decrypts to other bytes than the ones attested")
    return expected


class _Failed(Exception):  # noqa: N818 - carries an error through pyrage, never shown
    """An ``OSError`` of the reader or writer given to pyrage, which reports the bad chunks of
    a ciphertext as ``OSError`` too: kept apart so that a full disk is not called tampering."""

    def __init__(self, error: OSError) -> None:
        self.error = error


class _Reading:
    """A binary reader whose own failures reach :func:`open_sealed` as :class:`_Failed`."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def read(self, n: int = -1) -> bytes:
        try:
            data: bytes = self.raw.read(n if n is not None and n >= 0 else _CHUNK)
        except OSError as exc:
            raise _Failed(exc) from None
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _HashingWriter:
    """A binary writer that hashes what it writes (the plaintext, as it is opened)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.digest, self.size = raw, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        try:
            self.raw.write(data)
        except OSError as exc:
            raise _Failed(exc) from None
        return len(data)

    def flush(self) -> None:
        try:
            self.raw.flush()
        except OSError as exc:
            raise _Failed(exc) from None
