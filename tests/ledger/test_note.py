"""C2SP signed notes: the published examples, tampering, and key string compatibility with Go.

Vectors: the PeterNeumann key pair and note from golang.org/x/mod/sumdb/note (package docs and
note_test.go), the EnochRoot key and signature from the same tests, and the example that the
C2SP signed-note spec published at commit d4c16da (``example.com/foo``).
"""

from __future__ import annotations

import base64

import pytest

from affidavit.errors import InputError, IntegrityError
from affidavit.ledger.note import (
    MAX_SIGNATURES,
    Signer,
    Verifier,
    generate_signer_key,
    key_id,
    open_note,
    sign_note,
)

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngo"
    "tpRZb6KE6RyyBwJnAM=\n"
)
PETER_NOTE = PETER_TEXT + "\n" + PETER_SIG

ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnW"
    "Lox33WWd1RvMc+QQ=\n"
)

SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXp"
    "pzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def peter() -> Verifier:
    return Verifier.from_key(PETER_VKEY)


# --- published examples -------------------------------------------------------------------


def test_go_example_verifies() -> None:
    assert open_note(PETER_NOTE, [peter()]) == PETER_TEXT
    assert open_note(PETER_NOTE.encode(), [peter()]) == PETER_TEXT


def test_spec_example_verifies() -> None:
    verifier = Verifier.from_key(SPEC_VKEY)
    assert open_note(SPEC_NOTE, [verifier]) == "This is an example message.\n"


def test_verifier_key_parses_and_prints_back() -> None:
    v = peter()
    assert v.name == "PeterNeumann"
    assert v.key_id.hex() == "c74f20a3"
    assert v.key_id == key_id(v.name, v.public_key)
    assert v.key == PETER_VKEY


def test_go_signer_key_signs_like_go() -> None:
    # Ed25519 is deterministic, so the note must match Go's output byte for byte.
    signer = Signer.from_key(PETER_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_id.hex() == "c74f20a3"
    assert signer.verifier_key == PETER_VKEY
    assert signer.key == PETER_SKEY
    assert signer.sign(PETER_TEXT) == PETER_NOTE
    assert "AYEKFALV" not in repr(signer)


# --- tampering and unknown keys -----------------------------------------------------------


def test_tampered_text_fails() -> None:
    tampered = PETER_NOTE.replace("cryptography", "cryptographY")
    with pytest.raises(IntegrityError, match="invalid signature for key PeterNeumann\\+c74f20a3"):
        open_note(tampered, [peter()])


def test_tampered_signature_fails() -> None:
    bad = PETER_TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(IntegrityError, match="invalid signature"):
        open_note(bad, [peter()])


def test_wrong_key_fails() -> None:
    with pytest.raises(IntegrityError, match="no signature from a known key"):
        open_note(PETER_NOTE, [Verifier.from_key(ENOCH_VKEY)])
    with pytest.raises(IntegrityError, match="no signature from a known key"):
        open_note(PETER_NOTE, [])


def test_same_name_other_key_is_unknown_not_invalid() -> None:
    # Same name, different key (so different ID): the signature is ignored, not checked.
    other = Signer.from_key(generate_signer_key("PeterNeumann")).verifier
    with pytest.raises(IntegrityError, match="no signature from a known key"):
        open_note(PETER_NOTE, [other])


def test_unknown_signatures_are_ignored() -> None:
    note = PETER_TEXT + "\n" + ENOCH_SIG + PETER_SIG
    assert open_note(note, [peter()]) == PETER_TEXT
    assert open_note(note, [peter(), Verifier.from_key(ENOCH_VKEY)]) == PETER_TEXT


def test_a_failing_known_signature_rejects_the_note() -> None:
    enoch = Verifier.from_key(ENOCH_VKEY)
    bad_enoch = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    note = PETER_TEXT + "\n" + PETER_SIG + bad_enoch
    with pytest.raises(IntegrityError, match="EnochRoot"):
        open_note(note, [peter(), enoch])
    assert open_note(note, [peter()]) == PETER_TEXT  # unknown to this caller: ignored


def test_repeated_signatures_count_once() -> None:
    assert open_note(PETER_TEXT + "\n" + PETER_SIG * 3, [peter()]) == PETER_TEXT


def test_ambiguous_verifiers_are_rejected() -> None:
    impostor = Verifier("PeterNeumann", bytes(32))
    object.__setattr__(impostor, "key_id", peter().key_id)  # forge an ID collision
    with pytest.raises(IntegrityError, match="ambiguous"):
        open_note(PETER_NOTE, [peter(), impostor])
    assert open_note(PETER_NOTE, [peter(), peter()]) == PETER_TEXT  # the same key twice is fine


@pytest.mark.parametrize(
    "note",
    [
        PETER_TEXT,
        PETER_TEXT + "\n",
        PETER_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + PETER_TEXT + "\n" + PETER_SIG,
        PETER_TEXT.replace("\n", "\r\n", 1) + "\n" + PETER_SIG,
        PETER_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"),
        PETER_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter+Neumann"),
        PETER_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        PETER_TEXT + "\n" + PETER_SIG.replace("\u2014", "--"),
        PETER_TEXT + "\n" + PETER_SIG.replace("AM=\n", "AM\n"),
        PETER_TEXT + "\n" + "\u2014 PeterNeumann AAAA\n",  # too short for ID + signature
        PETER_TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1),
        "\ud800" + PETER_TEXT + "\n" + PETER_SIG,
    ],
)
def test_malformed_notes_are_rejected(note: str) -> None:
    with pytest.raises(IntegrityError):
        open_note(note, [peter()])


def test_invalid_utf8_bytes_are_rejected() -> None:
    with pytest.raises(IntegrityError, match="UTF-8"):
        open_note(b"\xff" + PETER_NOTE.encode(), [peter()])


def test_text_may_contain_blank_lines() -> None:
    signer = Signer.from_key(generate_signer_key("example.com/log"))
    text = "first\n\nthird\n\n"
    assert open_note(signer.sign(text), [signer.verifier]) == text


# --- generated keys -----------------------------------------------------------------------


def test_round_trip_with_a_generated_key() -> None:
    skey = generate_signer_key("affidavit.example/ledger")
    assert skey.startswith("PRIVATE+KEY+affidavit.example/ledger+")
    signer = Signer.from_key(skey)
    verifier = Verifier.from_key(signer.verifier_key)
    assert verifier == signer.verifier
    text = "affidavit.example/ledger\n3\n" + base64.b64encode(bytes(32)).decode() + "\n"
    note = signer.sign(text)
    assert note.startswith(text + "\n\u2014 affidavit.example/ledger ")
    assert open_note(note, [verifier]) == text
    assert Signer.from_key(skey).sign(text) == note


def test_several_signers() -> None:
    a = Signer.from_key(generate_signer_key("a.example"))
    b = Signer.from_key(generate_signer_key("b.example"))
    note = sign_note("hello\n", [a, b])
    assert note.count("\n\u2014 ") == 2
    assert open_note(note, [b.verifier]) == "hello\n"


@pytest.mark.parametrize("text", ["no newline", "tab\there\n", "a\x00\n", "\ud800\n"])
def test_sign_rejects_bad_text(text: str) -> None:
    signer = Signer.from_key(PETER_SKEY)
    with pytest.raises(InputError):
        signer.sign(text)
    with pytest.raises(InputError):
        sign_note("ok\n", [])


@pytest.mark.parametrize("name", ["", "a+b", "a b", "a\tb", "a\u00a0b", "a\u2003b", "a\nb"])
def test_invalid_key_names(name: str) -> None:
    with pytest.raises(InputError):
        generate_signer_key(name)
    with pytest.raises(InputError):
        Verifier(name, bytes(32))


# --- key string parsing -------------------------------------------------------------------


def _manglings(key: str) -> set[str]:
    """Every proper substring and every one-character increment of ``key``."""
    out = {key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1)}
    out |= {key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))}
    out.discard(key)
    return out


def test_mangled_verifier_keys_are_rejected() -> None:
    for bad in _manglings(PETER_VKEY):
        with pytest.raises(InputError):
            Verifier.from_key(bad)


def test_mangled_signer_keys_are_rejected() -> None:
    for bad in _manglings(PETER_SKEY):
        with pytest.raises(InputError):
            Signer.from_key(bad)


@pytest.mark.parametrize(
    "vkey",
    [
        # wrong key length, with the key ID adjusted to match (from the Go tests)
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        # unknown algorithm byte, with the key ID adjusted
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
        "PeterNeumann",
        "",
    ],
)
def test_bad_verifier_keys(vkey: str) -> None:
    with pytest.raises(InputError):
        Verifier.from_key(vkey)


def test_signer_key_must_be_private() -> None:
    with pytest.raises(InputError):
        Signer.from_key(PETER_VKEY)
