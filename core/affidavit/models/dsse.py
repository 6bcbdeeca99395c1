"""Signed attestations: an attestation wrapped in a DSSE envelope its writer's key signs.

DSSE (the Dead Simple Signing Envelope, secure-systems-lab/dsse ``protocol.md``) signs not the
payload but its *pre-authentication encoding*::

    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

where ``LEN`` is the byte length in ASCII decimal and ``SP`` one space, so that a signature over
one payload type can never be replayed as another. The envelope is the protocol's JSON shape,
``{"payload": <base64>, "payloadType": ..., "signatures": [{"keyid": ..., "sig": <base64>}]}``,
with the in-toto payload type.

What is signed is an in-toto Statement v1 about the attestation's own subject, whose predicate
(``predicates.SIGNED_ATTESTATION``) is the whole attestation record as recorded, less the
envelope and ``signed_by``: :func:`signed_statement`. Signing the record's ``statement`` alone
would leave its name, its evidence (and the commitments of sealed files), its annotations and
user data unsigned: two ``generic`` claims of one trail would carry the same payload, and a
writer could move a signature onto a report it never made.

An attestation record that carries an ``envelope`` also carries ``signed_by``: the key id and
the raw Ed25519 public key (base64) that made the signature. Every reader checks, through
:func:`check_signed`, that the envelope's payload is exactly the canonical bytes of the
record's signed statement and that the signature verifies under that key: a record that fails
is an integrity failure wherever it is met -- on a server's ingest, on a read, in ``verify``.
Whether the key is *trusted* is another question, answered by the template
(``require_signed``, ``signers``) and by ``verify package --trusted-keys``.

A key id is the lowercase hex SHA-256 of the 32 raw public key bytes: the same key has the same
id in every ledger, template and trusted-keys file, and anyone can compute it from the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from affidavit import canonical
from affidavit.errors import IntegrityError, UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["PAYLOAD_TYPE", "pae", "key_id", "signed_statement", "envelope", "check_signed",
           "signer_of", "signature_of",
           "SigningKey", "load_signing_key", "public_keys_in", "public_key_pem"]

PAYLOAD_TYPE = "application/vnd.in-toto+json"
"""The payload type in-toto gives a Statement in a DSSE envelope."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """The bytes DSSE signs: ``payload_type`` and ``payload`` each behind its length."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def key_id(public_key: bytes) -> str:
    """The id of a raw 32-byte Ed25519 public key."""
    return hashlib.sha256(public_key).hexdigest()


class SigningKey:
    """An Ed25519 private key read from a PEM file. Never printed by ``repr``."""

    __slots__ = ("_private", "public_key", "keyid")

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_key: bytes = private.public_key().public_bytes_raw()
        self.keyid = key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey(keyid={self.keyid!r})"


def load_signing_key(path: str) -> SigningKey:
    """The Ed25519 key in the PEM (PKCS #8) file ``path``, as ``affidavit key generate`` writes
    it (and ``openssl genpkey -algorithm ed25519`` does); anything else is a usage error that
    names the file."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from affidavit.regular import read_regular

    data = read_regular(path, f"--signing-key {path}", 1 << 16)
    try:
        private = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        reason = "it is encrypted" if "password" in str(exc).lower() else (
            "not a PEM private key")
        raise UsageError(f"--signing-key {path}: {reason}",
                         remedy="make one with: affidavit key generate --out FILE") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise UsageError(f"--signing-key {path}: not an Ed25519 key",
                         remedy="make one with: affidavit key generate --out FILE")
    return SigningKey(private)


def public_key_pem(public_key: bytes) -> str:
    """The SubjectPublicKeyInfo PEM text of a raw Ed25519 public key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PublicKey.from_public_bytes(public_key)
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def public_keys_in(text: str, where: str) -> dict[str, bytes]:
    """Key id -> raw public key of every Ed25519 public key in ``text``: PEM blocks (as
    ``affidavit key generate`` writes ``FILE.pub``), or lines holding a key's base64; blank
    lines and ``#`` comments are skipped. Anything else is a usage error naming ``where``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    found: dict[str, bytes] = {}
    block: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if block:
            block.append(line)
            if line.startswith("-----END"):
                try:
                    key = load_pem_public_key("\n".join(block).encode())
                except ValueError:
                    raise UsageError(f"{where}: line {number}: not a PEM public key") from None
                if not isinstance(key, Ed25519PublicKey):
                    raise UsageError(f"{where}: line {number}: not an Ed25519 public key")
                public = key.public_bytes_raw()
                found[key_id(public)] = public
                block = []
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("-----BEGIN"):
            block = [line]
            continue
        raw_key = _b64(line)
        if raw_key is None or len(raw_key) != 32:
            raise UsageError(f"{where}: line {number}: neither a PEM block nor the base64 of "
                             "a 32-byte Ed25519 public key")
        found[key_id(raw_key)] = raw_key
    if block:
        raise UsageError(f"{where}: a PEM block is not closed")
    if not found:
        raise UsageError(f"{where}: holds no public key")
    return found


def _b64(text: str) -> bytes | None:
    """Standard or URL-safe base64 (DSSE: "verifiers MUST accept either"), or None."""
    try:
        if "-" in text or "_" in text:
            return base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


_UNSIGNED = ("envelope",)


def signed_statement(record: Mapping[str, Any]) -> dict[str, Any]:
    """The in-toto Statement an attestation record's envelope signs: its subject, and the
    record (less the envelope) as predicate -- ``signed_by`` included, whose ``nonce`` makes
    every signature unique, so that a signed record appended again is told from a report
    made again (``compliance.verdict`` refuses the replay)."""
    from affidavit.models import predicates

    statement = record.get("statement")
    subject = statement.get("subject") if isinstance(statement, dict) else None
    return {"_type": predicates.STATEMENT_TYPE, "subject": subject,
            "predicateType": predicates.SIGNED_ATTESTATION,
            "predicate": {k: v for k, v in record.items() if k not in _UNSIGNED}}


def envelope(record: Mapping[str, Any], key: SigningKey) -> tuple[dict[str, Any],
                                                                  dict[str, str]]:
    """The DSSE envelope of attestation ``record`` (its :func:`signed_statement`) signed by
    ``key``, and the record's ``signed_by``."""
    import os

    signed_by = {"keyid": key.keyid, "public_key": base64.b64encode(key.public_key).decode(),
                 "nonce": os.urandom(16).hex()}
    payload = canonical.dumps(signed_statement({**record, "signed_by": signed_by}))
    signature = key.sign(pae(PAYLOAD_TYPE, payload))
    return ({"payload": base64.b64encode(payload).decode(), "payloadType": PAYLOAD_TYPE,
             "signatures": [{"keyid": key.keyid, "sig": base64.b64encode(signature).decode()}]},
            signed_by)


def signature_of(record: Mapping[str, Any]) -> str | None:
    """The signature an attestation record's envelope carries (checked by
    :func:`check_signed`), or None when it is not signed: what tells a replay."""
    sealed = record.get("envelope")
    signatures = sealed.get("signatures") if isinstance(sealed, dict) else None
    if isinstance(signatures, list) and signatures and isinstance(signatures[0], dict):
        sig = signatures[0].get("sig")
        return sig if isinstance(sig, str) else None
    return None


def signer_of(record: Mapping[str, Any]) -> str | None:
    """The key id a recorded attestation is signed with (checked by :func:`check_signed`), or
    None when it is not signed."""
    signed = record.get("signed_by")
    return signed.get("keyid") if isinstance(signed, dict) else None


def check_signed(record: Mapping[str, Any]) -> None:
    """Raise :class:`IntegrityError` unless an attestation record is unsigned (neither
    ``envelope`` nor ``signed_by``) or its envelope is whole: the in-toto payload type, its
    payload the canonical bytes of the record's :func:`signed_statement`, and one signature by
    ``signed_by``'s key that verifies over the PAE. The message continues "entry N ..."."""
    sealed, signed = record.get("envelope"), record.get("signed_by")
    if sealed is None and signed is None:
        return
    if not isinstance(sealed, dict) or not isinstance(signed, dict):
        raise IntegrityError("has a DSSE envelope without its signer, or a signer without one")
    # exactly the fields written: the envelope is not under its own signature, and a field a
    # reader ignores but a package's model refuses would split the two
    signatures = sealed.get("signatures")
    if set(sealed) != {"payload", "payloadType", "signatures"} or set(signed) != {
            "keyid", "public_key", "nonce"} or not isinstance(signed["nonce"], str) or (
            not isinstance(signatures, list)) or any(
            not isinstance(s, dict) or set(s) != {"keyid", "sig"} for s in signatures):
        raise IntegrityError("has a DSSE envelope or signer with other fields than it is "
                             "written with")
    public = _b64(signed["public_key"]) if isinstance(signed.get("public_key"), str) else None
    if public is None or len(public) != 32 or signed.get("keyid") != key_id(public):
        raise IntegrityError("names a signing key whose id is not the SHA-256 of the key")
    if sealed.get("payloadType") != PAYLOAD_TYPE:
        raise IntegrityError(f"has a DSSE envelope whose payloadType is not {PAYLOAD_TYPE}")
    payload = _b64(sealed["payload"]) if isinstance(sealed.get("payload"), str) else None
    if payload is None or payload != canonical.dumps(signed_statement(record)):
        raise IntegrityError("has a DSSE envelope whose payload is not the attestation as "
                             "recorded")
    signatures = sealed.get("signatures")
    if not isinstance(signatures, list) or len(signatures) != 1 or not isinstance(
            signatures[0], dict) or signatures[0].get("keyid") != signed["keyid"]:
        raise IntegrityError("has a DSSE envelope without exactly one signature by its signer")
    signature = _b64(signatures[0]["sig"]) if isinstance(signatures[0].get("sig"), str) else None
    if signature is None or not _verifies(public, signature, pae(PAYLOAD_TYPE, payload)):
        raise IntegrityError(f"has a DSSE signature that does not verify under key "
                             f"{signed['keyid'][:16]}")


def _verifies(public: bytes, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
