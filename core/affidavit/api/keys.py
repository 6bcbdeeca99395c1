"""``affidavit key generate``: the keys a user holds, as opposed to the ledger's own.

A *signing* key (Ed25519) signs attestations (``--signing-key``, DSSE envelopes: ``models.dsse``);
its private half is a PKCS #8 PEM file and its public half, ``FILE.pub``, a SubjectPublicKeyInfo
PEM file, the forms ``openssl`` and every DSSE library read, so a key made here works elsewhere
and the other way round. An *encryption* key (``--encryption``, X25519) opens sealed evidence
(``--identity``); it is written as ``age-keygen`` writes one, so the plain ``age`` tool opens the
same files, and ``FILE.pub`` holds its recipient (``age1…``) for ``--encrypt-for``.

The private file is created mode 0600 and never over an existing file: a second ``generate``
with the same name must not silently replace a key that evidence was sealed for.
"""

from __future__ import annotations

import os

from affidavit.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["generate_signing_key", "generate_encryption_key"]


def _write_new(path: str, data: bytes, mode: int) -> None:
    from affidavit.ledger.keyfile import write_key

    write_key(path, data, mode=mode, exists=lambda: UsageError(
        f"{path} exists: nothing was written",
        remedy="choose another --out, or remove the old key first"),
        failed=lambda reason: UsageError(f"{path}: {reason}"), make_folder=False)


def _both(out: str, private: bytes, public: bytes) -> str:
    """Write ``out`` (0600) and ``out.pub``; neither is left behind when the other fails."""
    public_path = out + ".pub"
    for path in (out, public_path):
        if os.path.lexists(path):
            raise UsageError(f"{path} exists: nothing was written",
                             remedy="choose another --out, or remove the old key first")
    _write_new(out, private, 0o600)
    try:
        _write_new(public_path, public, 0o644)
    except BaseException:
        os.unlink(out)
        raise
    return public_path


def generate_signing_key(out: str) -> dict[str, Any]:
    """A new Ed25519 signing key in ``out`` and ``out.pub``: the paths and the key id."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    from affidavit.models.dsse import key_id

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    public_path = _both(out, private, public)
    return {"kind": "signing", "private": out, "public": public_path,
            "keyid": key_id(key.public_key().public_bytes_raw())}


def generate_encryption_key(out: str) -> dict[str, Any]:
    """A new age X25519 identity in ``out`` and its recipient in ``out.pub``."""
    import time

    from affidavit.evidence.sealing import pyrage_module

    identity = pyrage_module().x25519.Identity.generate()
    recipient = str(identity.to_public())
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    private = (f"# created: {created}\n# public key: {recipient}\n{identity}\n").encode()
    public_path = _both(out, private, (recipient + "\n").encode())
    return {"kind": "encryption", "private": out, "public": public_path,
            "recipient": recipient}
