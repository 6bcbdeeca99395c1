"""The client, ``api.witnesses.cosign``: C2SP tlog-witness "add-checkpoint" from the log's side
-- a 409's ``text/x.tlog.size`` answer retried once from the size it names, every answer's
cosignature checked with the witness key before it is accepted (tlog-cosignature), and each
refusal the spec names turned into the error a caller can act on. Against the real witness
app on 127.0.0.1, and against a canned HTTP server for answers a real witness never gives
(a cosignature with a flipped byte, a 500).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from affidavit.api import record
from affidavit.api.witnesses import cosign, verify_cosignature
from affidavit.errors import InputError, IntegrityError, ProviderError
from affidavit.ledger import note
from affidavit.ledger.cosignature import Cosigner
from tests.helpers import Home
from tests.server.conftest import free_port
from tests.witness.conftest import ThreadedWitness


def grow(ledger: Any, n: int) -> None:
    for i in range(n):
        record.create_flow(ledger, name=f"g{ledger.size()}-{i}")


def text_of(signed: str) -> str:
    return signed[:signed.rindex("\n\n") + 1]


def test_a_checkpoint_is_cosigned_and_the_line_verifies(
        threaded_witness: ThreadedWitness, ledger: Any, witness_key: tuple[Path, str]) -> None:
    signed, vkey = ledger.checkpoint(), witness_key[1]
    line = cosign(signed, threaded_witness.url, vkey, 0, [])
    assert line.startswith("\u2014 witness.test/w1 ") and line.endswith("\n")
    assert verify_cosignature(signed + line, vkey) > 1_600_000_000
    # the log's own signature still checks on the cosigned note: the line is an extra one
    assert note.open_note(signed + line, [note.Verifier.from_key(ledger.verifier_key())])


def test_a_409_is_retried_once_from_the_size_the_witness_names(
        threaded_witness: ThreadedWitness, ledger: Any, witness_key: tuple[Path, str]) -> None:
    url, vkey = threaded_witness.url, witness_key[1]
    size1 = ledger.size()
    cosign(ledger.checkpoint(), url, vkey, 0, [])
    grow(ledger, 4)
    signed, size2 = ledger.checkpoint(), ledger.size()
    asked: list[int] = []

    def proof_for(old: int) -> list[bytes]:
        asked.append(old)
        return list(ledger.consistency_proof(old, size2))

    line = cosign(signed, url, vkey, 0, [], proof_for=proof_for)
    assert asked == [size1]
    verify_cosignature(signed + line, vkey)
    # without a way to get another proof, the 409 is the answer
    grow(ledger, 1)
    with pytest.raises(IntegrityError, match=f"last cosigned size {size2}, not 0"):
        cosign(ledger.checkpoint(), url, vkey, 0, [])


def test_a_fork_and_a_rollback_are_integrity_errors(
        threaded_witness: ThreadedWitness, ledger: Any, home: Home,
        witness_key: tuple[Path, str]) -> None:
    url, vkey = threaded_witness.url, witness_key[1]
    grow(ledger, 2)
    older = ledger.checkpoint()
    grow(ledger, 2)
    signed, size = ledger.checkpoint(), ledger.size()
    cosign(signed, url, vkey, 0, [])
    text = text_of(signed).split("\n")
    text[2] = base64.b64encode(bytes(32)).decode()  # another root at the same size
    forged = note.Signer.from_key(home.key.read_text()).sign("\n".join(text))
    with pytest.raises(IntegrityError, match=f"another tree of size {size}"):
        cosign(forged, url, vkey, size, [])
    with pytest.raises(IntegrityError, match=f"another tree of size {size}"):
        cosign(forged, url, vkey, 0, [], proof_for=lambda old: [])
    with pytest.raises(IntegrityError, match=f"cosigned size {size}, beyond"):
        cosign(older, url, vkey, 0, [], proof_for=lambda old: [])


def test_a_proof_the_witness_rejects_is_an_integrity_error(
        threaded_witness: ThreadedWitness, ledger: Any, witness_key: tuple[Path, str]) -> None:
    url, vkey = threaded_witness.url, witness_key[1]
    size1 = ledger.size()
    cosign(ledger.checkpoint(), url, vkey, 0, [])
    grow(ledger, 2)
    wrong = [bytes(32)] * len(ledger.consistency_proof(size1, ledger.size()))
    with pytest.raises(IntegrityError, match="did not accept the consistency proof"):
        cosign(ledger.checkpoint(), url, vkey, size1, wrong)


def test_another_witness_key_is_never_accepted(
        threaded_witness: ThreadedWitness, ledger: Any) -> None:
    stranger = Cosigner("witness.test/w1", bytes(range(32))).verifier.key  # same name
    with pytest.raises(IntegrityError, match="no cosignature by witness.test/w1"):
        cosign(ledger.checkpoint(), threaded_witness.url, stranger, 0, [])


def test_a_witness_that_does_not_know_the_log_is_an_input_error(
        threaded_witness: ThreadedWitness, ledger: Any, home: Home,
        witness_key: tuple[Path, str]) -> None:
    signed = ledger.checkpoint()
    unknown = note.Signer.from_key(home.key.read_text()).sign(
        text_of(signed).replace(ledger.origin(), "example.com/elsewhere", 1))
    with pytest.raises(InputError, match="does not witness this log's origin"):
        cosign(unknown, threaded_witness.url, witness_key[1], 0, [])
    other_key = note.Signer(ledger.origin(), bytes(32)).sign(text_of(signed))
    with pytest.raises(InputError, match="does not trust the key"):
        cosign(other_key, threaded_witness.url, witness_key[1], 0, [])


@pytest.fixture
def canned(httpserver: HTTPServer, ledger: Any) -> tuple[HTTPServer, str, Cosigner]:
    """A server that answers whatever the test says, a real checkpoint and a witness key."""
    return httpserver, ledger.checkpoint(), Cosigner("witness.test/canned", bytes(range(32)))


def test_a_cosignature_with_a_flipped_byte_is_refused(
        canned: tuple[HTTPServer, str, Cosigner]) -> None:
    server, signed, witness = canned
    line = witness.cosign(text_of(signed), 1_700_000_000)
    name, sig = line[:-1].rsplit(" ", 1)
    raw = bytearray(base64.b64decode(sig))
    raw[-1] ^= 0x80
    flipped = f"{name} {base64.b64encode(bytes(raw)).decode()}\n"
    server.expect_request("/add-checkpoint", method="POST").respond_with_data(flipped)
    url = server.url_for("").rstrip("/")
    with pytest.raises(IntegrityError, match="invalid cosignature"):
        cosign(signed, url, witness.verifier.key, 0, [])
    # the same line unflipped is accepted, beside another witness's line it ignores
    other = Cosigner("witness.test/other", bytes(32)).cosign(text_of(signed), 5)
    server.clear()
    server.expect_request("/add-checkpoint", method="POST").respond_with_data(other + line)
    assert cosign(signed, url, witness.verifier.key, 0, []) == line


def test_a_409_that_is_not_a_size_is_refused(canned: tuple[HTTPServer, str, Cosigner]) -> None:
    server, signed, witness = canned
    server.expect_request("/add-checkpoint").respond_with_data(
        "3\n", status=409, content_type="text/plain")
    with pytest.raises(IntegrityError, match="conflict"):
        cosign(signed, server.url_for("").rstrip("/"), witness.verifier.key, 0, [],
               proof_for=lambda old: [])


def test_a_failing_or_absent_witness_is_a_provider_error(
        canned: tuple[HTTPServer, str, Cosigner]) -> None:
    server, signed, witness = canned
    server.expect_request("/add-checkpoint").respond_with_data("oops", status=500)
    with pytest.raises(ProviderError, match="HTTP 500"):
        cosign(signed, server.url_for("").rstrip("/"), witness.verifier.key, 0, [])
    with pytest.raises(ProviderError, match="cannot reach witness"):
        cosign(signed, f"http://127.0.0.1:{free_port()}", witness.verifier.key, 0, [])
