"""DSSE envelopes of attestations (models/dsse.py) against the protocol's own test vector and
an independent verifier (securesystemslib's DSSE code, used here only).

The vector is the one in secure-systems-lab/dsse ``protocol.md``, section "Test Vectors": the
PAE of ``hello world`` as ``http://example.com/HelloWorld``, and its ECDSA P-256 signature
(deterministic RFC 6979, raw r||s) under the key the section prints.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from affidavit import canonical
from affidavit.errors import IntegrityError, UsageError
from affidavit.models import dsse

SPEC_PAE = b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
SPEC_X = 46950820868899156662930047687818585632848591499744589407958293238635476079160
SPEC_Y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
SPEC_SIG = ("A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUj"
            "W2JIZA==")

STATEMENT = {"_type": "https://in-toto.io/Statement/v1",
             "subject": [{"name": "trail:f/t", "digest": {"sha256": "ab" * 32}}],
             "predicateType": "https://affidavit.dev/generic/v1",
             "predicate": {"compliant": True}}
RECORD = {"flow": "f", "trail": "t", "name": "command-logs", "type": "generic",
          "compliant": True, "target": {"kind": "trail"}, "statement": STATEMENT,
          "annotations": {"ticket": "OPS-1"},
          "evidence": [{"name": "session.log", "sha256": "cd" * 32, "size": 10}]}


def test_pae_is_the_protocol_example() -> None:
    assert dsse.pae("http://example.com/HelloWorld", b"hello world") == SPEC_PAE


def test_the_protocol_signature_verifies_over_our_pae() -> None:
    """The published signature covers exactly the bytes ``pae`` makes (a PAE that differed
    by a space or a length would not verify)."""
    key = ec.EllipticCurvePublicNumbers(SPEC_X, SPEC_Y, ec.SECP256R1()).public_key()
    raw = base64.b64decode(SPEC_SIG)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(der, dsse.pae("http://example.com/HelloWorld", b"hello world"),
               ec.ECDSA(hashes.SHA256()))


def _key() -> tuple[dsse.SigningKey, Ed25519PrivateKey]:
    private = Ed25519PrivateKey.generate()
    return dsse.SigningKey(private), private


def _record(key: dsse.SigningKey) -> dict[str, Any]:
    envelope, signed_by = dsse.envelope(RECORD, key)
    return {**copy.deepcopy(RECORD), "envelope": envelope, "signed_by": signed_by}


def test_securesystemslib_accepts_our_envelope() -> None:
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey

    key, private = _key()
    envelope, signed_by = dsse.envelope(RECORD, key)
    theirs = SSlibKey.from_crypto(private.public_key(), keyid=key.keyid)
    accepted = Envelope.from_dict(copy.deepcopy(envelope)).verify([theirs], 1)
    assert list(accepted) == [key.keyid]
    payload = json.loads(base64.b64decode(envelope["payload"]))
    assert payload == {"_type": "https://in-toto.io/Statement/v1",
                       "subject": STATEMENT["subject"],
                       "predicateType": "https://affidavit.dev/predicate/signed-attestation/v1",
                       "predicate": {**RECORD, "signed_by": signed_by}}
    assert set(signed_by) == {"keyid", "public_key", "nonce"} and len(signed_by["nonce"]) == 32
    assert base64.b64decode(envelope["payload"]) == canonical.dumps(payload)


def test_the_key_id_is_the_sha256_of_the_raw_public_key() -> None:
    import hashlib

    key, private = _key()
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert key.keyid == hashlib.sha256(raw).hexdigest()


def test_a_whole_envelope_passes_and_an_unsigned_record_is_none_of_its_business() -> None:
    key, _ = _key()
    dsse.check_signed(_record(key))
    dsse.check_signed(RECORD)
    assert dsse.signer_of(_record(key)) == key.keyid
    assert dsse.signer_of(RECORD) is None


def test_url_safe_base64_is_accepted_as_the_protocol_requires() -> None:
    key, _ = _key()
    record = _record(key)
    for signature in record["envelope"]["signatures"]:
        signature["sig"] = base64.urlsafe_b64encode(base64.b64decode(signature["sig"])).decode()
    record["envelope"]["payload"] = base64.urlsafe_b64encode(
        base64.b64decode(record["envelope"]["payload"])).decode()
    dsse.check_signed(record)


def _flip(text: str, at: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[at] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("tamper, needle", [
    (lambda r: r["envelope"]["signatures"][0].update(sig=_flip(
        r["envelope"]["signatures"][0]["sig"], 5)), "does not verify"),
    (lambda r: r["statement"]["predicate"].update(compliant=False), "not the attestation"),
    # what the statement alone does not hold is signed too: a signature moved onto another
    # report of the same trail, or the evidence swapped, no longer verifies
    (lambda r: r.update(name="user-identity"), "not the attestation"),
    (lambda r: r["evidence"][0].update(sha256="ef" * 32), "not the attestation"),
    (lambda r: r.pop("annotations"), "not the attestation"),
    (lambda r: r.update(user_data={"added": "later"}), "not the attestation"),
    (lambda r: r["signed_by"].update(nonce="00" * 16), "not the attestation"),
    (lambda r: r["envelope"].update(extra=1), "other fields"),
    (lambda r: r["envelope"]["signatures"][0].update(x="1"), "other fields"),
    (lambda r: r["signed_by"].pop("nonce"), "other fields"),
    (lambda r: r["envelope"].update(payloadType="application/json"), "payloadType"),
    (lambda r: r["signed_by"].update(keyid="0" * 64), "id is not the SHA-256"),
    (lambda r: r["signed_by"].update(public_key=base64.b64encode(
        Ed25519PrivateKey.generate().public_key().public_bytes_raw()).decode()),
     "id is not the SHA-256"),
    (lambda r: r.pop("signed_by"), "without its signer"),
    (lambda r: r["envelope"]["signatures"].append(dict(r["envelope"]["signatures"][0])),
     "exactly one signature"),
    (lambda r: r["envelope"].update(payload="not base64!"), "not the attestation"),
])
def test_a_tampered_envelope_is_an_integrity_failure(tamper: Any, needle: str) -> None:
    key, _ = _key()
    record = _record(key)
    tamper(record)
    with pytest.raises(IntegrityError, match=needle):
        dsse.check_signed(record)


def test_signing_the_same_record_twice_gives_two_signatures() -> None:
    """A fresh nonce under every signature: a report made again is told from a copy."""
    key, _ = _key()
    first, second = dsse.envelope(RECORD, key)[0], dsse.envelope(RECORD, key)[0]
    assert first["signatures"][0]["sig"] != second["signatures"][0]["sig"]


def test_a_signature_by_another_key_under_the_recorded_one_fails() -> None:
    key, _ = _key()
    other, _ = _key()
    record = _record(key)
    record["envelope"]["signatures"][0]["sig"] = dsse.envelope(
        RECORD, other)[0]["signatures"][0]["sig"]
    with pytest.raises(IntegrityError, match="does not verify"):
        dsse.check_signed(record)


def test_trusted_keys_files_hold_pem_blocks_or_base64_lines() -> None:
    key, private = _key()
    other, _ = _key()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    text = f"# the release team\n{pem.decode()}\n{base64.b64encode(other.public_key).decode()}\n"
    assert dsse.public_keys_in(text, "keys.pem") == {key.keyid: key.public_key,
                                                      other.keyid: other.public_key}


@pytest.mark.parametrize("text, needle", [
    ("", "holds no public key"),
    ("hello\n", "line 1: neither a PEM block"),
    ("-----BEGIN PUBLIC KEY-----\nAAAA\n", "not closed"),
    ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "line 3: not a PEM"),
])
def test_a_bad_trusted_keys_file_is_a_usage_error_naming_it(text: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle) as caught:
        dsse.public_keys_in(text, "--trusted-keys keys.pem")
    assert "keys.pem" in caught.value.message


def test_a_non_ed25519_key_is_refused(tmp_path: Any) -> None:
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    path = tmp_path / "ec.pem"
    path.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    with pytest.raises(UsageError, match="not an Ed25519 key"):
        dsse.load_signing_key(str(path))
    ec_public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(UsageError, match="not an Ed25519 public key"):
        dsse.public_keys_in(ec_public, "keys.pem")
