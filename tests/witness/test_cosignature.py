"""Cosignatures byte for byte as C2SP tlog-cosignature defines them, checked against values
derived here from the spec text with cryptography's Ed25519 and hashlib, never from the code
under test:

- tlog-cosignature "Format": key ID ``SHA-256(name || "\\n" || 0x04 || public key)[:4]``, the
  vkey with signature type 0x04, the signature line ``— <name> base64(key ID ||
  timestamped_signature)`` where ``timestamped_signature`` is ``u64 timestamp`` (big-endian,
  RFC 8446 §3.3) then the 64-byte Ed25519 signature;
- tlog-cosignature "Ed25519 signed message": ``cosignature/v1\\n``, ``time <decimal>\\n``, then
  the note body with its final newline, its example body and timestamp reused as is;
- signed-note "Signatures": lines by unknown keys are ignored, a known key's bad line fails.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from affidavit.errors import InputError, IntegrityError
from affidavit.ledger import note
from affidavit.ledger.cosignature import (
    CosignatureVerifier,
    Cosigner,
    split_note,
    verify_cosignature,
)

# tlog-cosignature's example: the checkpoint body and the timestamp of its signed message
SPEC_BODY = ("example.com/behind-the-sofa\n"
             "20852163\n"
             "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
SPEC_TIME = 1679315147
SPEC_MESSAGE = (b"cosignature/v1\n"
                b"time 1679315147\n"
                b"example.com/behind-the-sofa\n"
                b"20852163\n"
                b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")

NAME = "witness.example.com/w1"
SEED = bytes(range(32))


def expected() -> tuple[str, str, bytes]:
    """(vkey, cosignature line, public key) for SEED/NAME on the spec's body, by hand."""
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    public = private.public_key().public_bytes_raw()
    key_id = hashlib.sha256(NAME.encode() + b"\n" + b"\x04" + public).digest()[:4]
    material = base64.b64encode(b"\x04" + public).decode()
    vkey = f"{NAME}+{key_id.hex()}+{material}"
    signature = private.sign(SPEC_MESSAGE)  # Ed25519 is deterministic (RFC 8032)
    raw = key_id + SPEC_TIME.to_bytes(8, "big") + signature
    return vkey, f"\u2014 {NAME} {base64.b64encode(raw).decode()}\n", public


def spec_note_signed_by_log() -> str:
    """The spec's body as a note signed by some log key (type 0x01), like a real checkpoint."""
    log = note.Signer("example.com/behind-the-sofa", bytes(32))
    return log.sign(SPEC_BODY)


def test_the_message_is_the_spec_example() -> None:
    """Our SPEC_MESSAGE is the spec's example message, assembled from its lines as specified."""
    assert b"cosignature/v1\ntime %d\n" % SPEC_TIME + SPEC_BODY.encode() == SPEC_MESSAGE


def test_a_cosignature_is_the_bytes_the_spec_defines() -> None:
    vkey, line, _ = expected()
    cosigner = Cosigner(NAME, SEED)
    assert cosigner.verifier.key == vkey
    assert cosigner.cosign(SPEC_BODY, SPEC_TIME) == line


def test_a_hand_made_cosignature_verifies_and_gives_its_timestamp() -> None:
    vkey, line, _ = expected()
    assert verify_cosignature(spec_note_signed_by_log() + line, vkey) == SPEC_TIME


def test_what_the_code_signs_verifies_under_an_independent_ed25519() -> None:
    """The other direction: our line, taken apart by hand, checks with cryptography."""
    _, _, public = expected()
    line = Cosigner(NAME, SEED).cosign(SPEC_BODY, 1_700_000_000)
    raw = base64.b64decode(line.split(" ")[2])
    assert len(raw) == 4 + 8 + 64
    assert int.from_bytes(raw[4:12], "big") == 1_700_000_000
    message = b"cosignature/v1\ntime 1700000000\n" + SPEC_BODY.encode()
    Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], message)  # raises if bad


def test_the_key_file_round_trips() -> None:
    cosigner = Cosigner(NAME, SEED)
    again = Cosigner.from_key(cosigner.key)
    assert again.verifier == cosigner.verifier
    assert cosigner.key.startswith(f"PRIVATE+KEY+{NAME}+{cosigner.verifier.key_id.hex()}+")
    assert base64.b64decode(cosigner.key.rsplit("+", 1)[1]) == b"\x04" + SEED
    assert SEED.hex() not in repr(cosigner) and cosigner.key not in repr(cosigner)


@pytest.mark.parametrize("where", ["key id", "timestamp", "signature"])
def test_a_flipped_byte_in_the_cosignature_does_not_verify(where: str) -> None:
    vkey, line, _ = expected()
    name, sig = line[:-1].rsplit(" ", 1)
    raw = bytearray(base64.b64decode(sig))
    raw[{"key id": 0, "timestamp": 11, "signature": 40}[where]] ^= 0x01
    flipped = f"{name} {base64.b64encode(bytes(raw)).decode()}\n"
    signed = spec_note_signed_by_log() + flipped
    with pytest.raises(IntegrityError):
        verify_cosignature(signed, vkey)


def test_a_changed_checkpoint_does_not_verify() -> None:
    vkey, line, _ = expected()
    signed = spec_note_signed_by_log().replace("20852163", "20852164") + line
    with pytest.raises(IntegrityError, match="invalid cosignature"):
        verify_cosignature(signed, vkey)


def test_other_keys_lines_are_ignored_and_none_of_ours_is_refused() -> None:
    vkey, line, _ = expected()
    other = Cosigner("witness.example.com/w2", bytes(range(1, 33)))
    signed = spec_note_signed_by_log() + other.cosign(SPEC_BODY, 5)
    with pytest.raises(IntegrityError, match="no cosignature by witness"):
        verify_cosignature(signed, vkey)
    assert verify_cosignature(signed + line, vkey) == SPEC_TIME
    assert verify_cosignature(signed + line, other.verifier.key) == 5


def test_the_logs_own_key_cannot_pass_for_a_witness() -> None:
    """Same name and Ed25519 key, type 0x01: another key ID, so a log's signature line is not
    a cosignature, and a note vkey is refused as a witness key."""
    log = note.Signer(NAME, SEED)
    signed = log.sign(SPEC_BODY)
    with pytest.raises(IntegrityError, match="no cosignature"):
        verify_cosignature(signed, Cosigner(NAME, SEED).verifier)
    with pytest.raises(InputError, match="type 0x04"):
        CosignatureVerifier.from_key(log.verifier_key)


def test_a_vkey_whose_id_is_not_its_keys_is_refused() -> None:
    vkey, _, _ = expected()
    name, key_id, material = vkey.split("+", 2)
    wrong = f"{name}+{int(key_id, 16) ^ 1:08x}+{material}"
    with pytest.raises(InputError, match="key ID does not match"):
        CosignatureVerifier.from_key(wrong)


def test_a_timestamp_beyond_two_to_the_63_is_refused() -> None:
    """The spec: it MUST NOT exceed 2^63 - 1; a correct signature does not save it."""
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    vkey, _, _ = expected()
    key_id = bytes.fromhex(vkey.split("+")[1])
    stamp = 2**63
    raw = key_id + stamp.to_bytes(8, "big") + private.sign(
        b"cosignature/v1\ntime %d\n" % stamp + SPEC_BODY.encode())
    line = f"\u2014 {NAME} {base64.b64encode(raw).decode()}\n"
    with pytest.raises(IntegrityError, match="2\\^63"):
        verify_cosignature(spec_note_signed_by_log() + line, vkey)


@pytest.mark.parametrize("signed", [
    "no blank line\n",
    SPEC_BODY + "\n" + "not a signature line\n",
    SPEC_BODY + "\n\u2014 name !!notbase64\n",
    (SPEC_BODY + "\n\u2014 name AAAAAAAA\n").replace("sofa", "so\x07fa"),
])
def test_a_malformed_note_is_refused(signed: str) -> None:
    with pytest.raises(IntegrityError, match="malformed|signature line|not a signature"):
        split_note(signed)
