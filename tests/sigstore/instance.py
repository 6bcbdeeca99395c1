"""A private Sigstore instance for the tests, made with ``cryptography`` at test time.

Nothing here is copied from another project: each part is built from the public formats
(Sigstore's bundle v0.3 and trusted-root protobuf JSON, RFC 6962 for the Merkle tree and the
certificate transparency SCT, C2SP signed notes for the checkpoint, Rekor's ``dsse`` and
``hashedrekord`` 0.0.1 entry bodies) and checked by sigstore-python's own verifier.

- A CA stands in for Fulcio: a self-signed ECDSA P-256 root issuing ten-minute leaf
  certificates with the signer's identity as SAN and the OIDC issuer in Fulcio's extensions
  (``1.3.6.1.4.1.57264.1.1`` raw, ``.1.8`` a DER UTF8String).
- A CT log key signs the certificate's embedded SCT, over the precertificate's TBS (the
  certificate less its SCT list) as RFC 6962 section 3.2 defines it.
- A transparency log key stands in for Rekor: the entry's canonicalized body is leaf
  ``LOG_INDEX`` of a small RFC 6962 tree, with its inclusion proof, a signed checkpoint of
  the tree, and a signed entry timestamp over the entry's canonical JSON.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import struct
import time
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

ISSUER = "https://token.actions.githubusercontent.com"
IDENTITY = ("https://github.com/acme/shop/.github/workflows/release.yml"
            "@refs/heads/main")
IN_TOTO = "application/vnd.in-toto+json"
LOG_INDEX = 5
TREE_SIZE = 8
_OIDC_ISSUER = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
_OIDC_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_SCT_LIST = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    """RFC 6962's log id: SHA-256 of the key's SubjectPublicKeyInfo."""
    return hashlib.sha256(_spki(key)).digest()


def _sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def _der_utf8(text: str) -> bytes:
    raw = text.encode()
    assert len(raw) < 128
    return bytes([0x0C, len(raw)]) + raw


def _der_octets(raw: bytes) -> bytes:
    n = len(raw)
    if n < 128:
        return bytes([0x04, n]) + raw
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x04, 0x80 | len(length)]) + length + raw


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _root(leaves: list[bytes]) -> bytes:
    """RFC 6962 MTH over leaf hashes (naive)."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return _node(_root(leaves[:k]), _root(leaves[k:]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 PATH(m, D[n]): the audit path of leaf ``m``, deepest first."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*_path(m, leaves[:k]), _root(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _root(leaves[:k])]


def _public(key: ec.EllipticCurvePublicKey, start: str = "2020-01-01T00:00:00Z"
            ) -> dict[str, Any]:
    return {"rawBytes": _b64(_spki(key)), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": {"start": start}}


class Instance:
    """One CA, one CT log and one transparency log, and bundles signed under them."""

    def __init__(self, name: str = "affidavit-test") -> None:
        self.name = name
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.log_key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                             x509.NameAttribute(NameOID.COMMON_NAME, f"{name} root")])
        ca_public = self.ca_key.public_key()
        self.ca = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(ca_public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_public),
                           critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )

    # -- the trust root ---------------------------------------------------------------

    def trusted_root(self) -> dict[str, Any]:
        """The instance as a Sigstore trusted root (``trustroot.v1.TrustedRoot`` JSON)."""
        def log(url: str, key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
            return {"baseUrl": url, "hashAlgorithm": "SHA2_256",
                    "publicKey": _public(key.public_key()),
                    "logId": {"keyId": _b64(_key_id(key.public_key()))}}

        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(f"https://rekor.{self.name}.invalid", self.log_key)],
            "certificateAuthorities": [{
                "subject": {"organization": self.name, "commonName": f"{self.name} root"},
                "uri": f"https://fulcio.{self.name}.invalid",
                "certChain": {"certificates": [
                    {"rawBytes": _b64(self.ca.public_bytes(serialization.Encoding.DER))}]},
                "validFor": {"start": "2020-01-01T00:00:00Z"},
            }],
            "ctlogs": [log(f"https://ctfe.{self.name}.invalid", self.ct_key)],
            "timestampAuthorities": [],
        }

    # -- a signing certificate --------------------------------------------------------

    def certificate(self, key: ec.EllipticCurvePrivateKey, *, identity: str = IDENTITY,
                    issuer: str = ISSUER, at: int) -> x509.Certificate:
        """A Fulcio-style leaf for ``key``, valid ten minutes from ``at`` (Unix seconds),
        with an embedded SCT the CT log signed."""
        start = datetime.datetime.fromtimestamp(at - 30, datetime.UTC)
        san: x509.GeneralName = (x509.RFC822Name(identity) if "@" in identity
                                 and "://" not in identity
                                 else x509.UniformResourceIdentifier(identity))

        def builder() -> x509.CertificateBuilder:
            return (
                x509.CertificateBuilder()
                .subject_name(x509.Name([]))
                .issuer_name(self.ca.subject)
                .public_key(key.public_key())
                .serial_number(serial)
                .not_valid_before(start)
                .not_valid_after(start + datetime.timedelta(minutes=10))
                .add_extension(x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=False,
                    crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]),
                               critical=False)
                .add_extension(x509.SubjectAlternativeName([san]), critical=True)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.ca_key.public_key()), critical=False)
                .add_extension(x509.UnrecognizedExtension(_OIDC_ISSUER, issuer.encode()),
                               critical=False)
                .add_extension(x509.UnrecognizedExtension(_OIDC_ISSUER_V2, _der_utf8(issuer)),
                               critical=False)
            )

        serial = x509.random_serial_number()
        # The precertificate's TBS is the certificate's without the SCT list: sign a draft
        # without one, then add the SCT over the draft's TBS as the last extension.
        draft = builder().sign(self.ca_key, hashes.SHA256())
        sct = self._sct(draft.tbs_certificate_bytes, at)
        return builder().add_extension(
            x509.UnrecognizedExtension(_SCT_LIST, _der_octets(sct)), critical=False
        ).sign(self.ca_key, hashes.SHA256())

    def _sct(self, tbs: bytes, at: int) -> bytes:
        """A SignedCertificateTimestampList of one v1 SCT for a precertificate (RFC 6962
        3.2-3.3), by the CT log."""
        millis = at * 1000
        issuer_key_hash = _key_id(self.ca_key.public_key())
        signed = (struct.pack("!BBQH", 0, 0, millis, 1) + issuer_key_hash
                  + len(tbs).to_bytes(3, "big") + tbs + struct.pack("!H", 0))
        signature = _sign(self.ct_key, signed)
        sct = (struct.pack("!B", 0) + _key_id(self.ct_key.public_key())
               + struct.pack("!QH", millis, 0)
               + struct.pack("!BBH", 4, 3, len(signature)) + signature)
        serialized = struct.pack("!H", len(sct)) + sct
        return struct.pack("!H", len(serialized)) + serialized

    # -- the log ----------------------------------------------------------------------

    def log_entry(self, body: bytes, kind: str, *, at: int) -> dict[str, Any]:
        """``body`` logged as leaf ``LOG_INDEX`` of a tree of ``TREE_SIZE``: the bundle's
        ``TransparencyLogEntry`` with inclusion proof, checkpoint and promise."""
        leaves = [_leaf(f"other entry {i}".encode()) for i in range(TREE_SIZE)]
        leaves[LOG_INDEX] = _leaf(body)
        root = _root(leaves)
        log_id = _key_id(self.log_key.public_key())
        origin = f"rekor.{self.name}.invalid - 1234567890"
        note = f"{origin}\n{TREE_SIZE}\n{_b64(root)}\n"
        signature = log_id[:4] + _sign(self.log_key, note.encode())
        checkpoint = f"{note}\n\u2014 rekor.{self.name}.invalid {_b64(signature)}\n"
        promise = json.dumps({"body": _b64(body), "integratedTime": at,
                              "logID": log_id.hex(), "logIndex": LOG_INDEX},
                             sort_keys=True, separators=(",", ":")).encode()
        return {
            "logIndex": str(LOG_INDEX),
            "logId": {"keyId": _b64(log_id)},
            "kindVersion": {"kind": kind, "version": "0.0.1"},
            "integratedTime": str(at),
            "inclusionPromise": {"signedEntryTimestamp": _b64(_sign(self.log_key, promise))},
            "inclusionProof": {
                "logIndex": str(LOG_INDEX), "rootHash": _b64(root), "treeSize": str(TREE_SIZE),
                "hashes": [_b64(h) for h in _path(LOG_INDEX, leaves)],
                "checkpoint": {"envelope": checkpoint},
            },
            "canonicalizedBody": _b64(body),
        }

    # -- bundles ----------------------------------------------------------------------

    def dsse_bundle(self, statement: dict[str, Any], *, identity: str = IDENTITY,
                    issuer: str = ISSUER, payload_type: str = IN_TOTO) -> dict[str, Any]:
        """A bundle v0.3 of a DSSE envelope of ``statement`` (what GitHub's artifact
        attestations are), logged as a ``dsse`` 0.0.1 entry."""
        at = int(time.time())
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self.certificate(key, identity=identity, issuer=issuer, at=at)
        payload = json.dumps(statement, separators=(",", ":")).encode()
        pae = (f"DSSEv1 {len(payload_type)} {payload_type} {len(payload)} ".encode()
               + payload)
        signature = _sign(key, pae)
        envelope = {"payload": _b64(payload), "payloadType": payload_type,
                    "signatures": [{"sig": _b64(signature), "keyid": ""}]}
        pem = cert.public_bytes(serialization.Encoding.PEM)
        body = json.dumps({
            "apiVersion": "0.0.1", "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(
                    json.dumps(envelope, sort_keys=True).encode()).hexdigest()},
                "payloadHash": {"algorithm": "sha256",
                                "value": hashlib.sha256(payload).hexdigest()},
                "signatures": [{"signature": _b64(signature), "verifier": _b64(pem)}],
            },
        }, sort_keys=True, separators=(",", ":")).encode()
        return self._bundle(cert, body, "dsse", at, {"dsseEnvelope": envelope})

    def message_bundle(self, artifact: bytes, *, identity: str = IDENTITY,
                       issuer: str = ISSUER) -> dict[str, Any]:
        """A bundle v0.3 of a plain signature over ``artifact``'s SHA-256 (``cosign
        sign-blob``, ``sigstore sign``), logged as a ``hashedrekord`` 0.0.1 entry."""
        at = int(time.time())
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self.certificate(key, identity=identity, issuer=issuer, at=at)
        digest = hashlib.sha256(artifact).digest()
        from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

        signature = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        pem = cert.public_bytes(serialization.Encoding.PEM)
        body = json.dumps({
            "apiVersion": "0.0.1", "kind": "hashedrekord",
            "spec": {"data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                     "signature": {"content": _b64(signature),
                                   "publicKey": {"content": _b64(pem)}}},
        }, sort_keys=True, separators=(",", ":")).encode()
        return self._bundle(cert, body, "hashedrekord", at, {"messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": _b64(digest)},
            "signature": _b64(signature)}})

    def _bundle(self, cert: x509.Certificate, body: bytes, kind: str, at: int,
                content: dict[str, Any]) -> dict[str, Any]:
        return {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": _b64(cert.public_bytes(serialization.Encoding.DER))},
                "tlogEntries": [self.log_entry(body, kind, at=at)],
                "timestampVerificationData": {},
            },
            **content,
        }


def statement(digest: str = "ab" * 32, name: str = "shop.tar.gz") -> dict[str, Any]:
    """An in-toto Statement v1 about one artifact, as GitHub's attestations make them."""
    return {"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": name, "digest": {"sha256": digest}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {"buildDefinition": {"buildType": "https://actions.github.io/"
                                              "buildtypes/workflow/v1"}}}
