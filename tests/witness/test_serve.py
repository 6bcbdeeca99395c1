"""``witness serve`` speaks C2SP tlog-witness, section "add-checkpoint", to a client that
builds every request body by hand from the spec text (an ``old <size>`` line, one base64 hash
a line, an empty line, the checkpoint note) and checks every cosignature with cryptography's
Ed25519 over the message of tlog-cosignature, section "Ed25519 signed message". The
checkpoints are those of the test's real SQLite ledger as it grows; the forks are what
someone holding its key can make: a copy of its database grown apart, and notes signed by hand.

Statuses, as the spec names them: 200 with the cosignature lines; 409 with a
``text/x.tlog.size`` body when the old size is not the latest cosigned, or when the size is
the same and the root is not; 422 for a consistency proof that does not verify; 403 when no
signature is by a trusted key; 404 for an unknown origin; 400 for a malformed body or an old
size beyond the checkpoint's.
"""

from __future__ import annotations

import base64
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from affidavit.api import record
from affidavit.ledger import note
from affidavit.ledger.sqlite import SQLiteLedger
from tests.helpers import Home
from tests.witness.conftest import WITNESS_NAME, ThreadedWitness, WitnessProcess


def body(old: int, proof: list[bytes], signed: str) -> bytes:
    """The request body, spelled as tlog-witness's example spells it."""
    lines = [f"old {old}\n", *(base64.b64encode(h).decode() + "\n" for h in proof), "\n"]
    return ("".join(lines) + signed).encode()


def post(url: str, data: bytes) -> requests.Response:
    return requests.post(f"{url}/add-checkpoint", data=data, timeout=30)


def text_of(signed: str) -> str:
    return signed[:signed.rindex("\n\n") + 1]


def check_cosigned(answer: requests.Response, signed: str, vkey: str) -> int:
    """Assert ``answer`` is a 200 whose one line is the witness's valid cosignature of
    ``signed``; return its timestamp. By hand: key ID, timestamp, Ed25519 over the message."""
    assert answer.status_code == 200, answer.text
    lines = answer.content.decode().splitlines(keepends=True)
    assert len(lines) == 1 and lines[0].startswith(f"\u2014 {WITNESS_NAME} ")
    assert lines[0].endswith("\n")
    name, id_hex, material = vkey.split("+", 2)
    public = base64.b64decode(material)
    assert name == WITNESS_NAME and public[0] == 0x04
    raw = base64.b64decode(lines[0][:-1].split(" ")[2])
    assert raw[:4] == bytes.fromhex(id_hex) and len(raw) == 76
    stamp = int.from_bytes(raw[4:12], "big")
    message = b"cosignature/v1\ntime %d\n" % stamp + text_of(signed).encode()
    Ed25519PublicKey.from_public_bytes(public[1:]).verify(raw[12:], message)
    return stamp


def assert_size_conflict(answer: requests.Response, size: int) -> None:
    assert answer.status_code == 409, answer.text
    assert answer.headers["Content-Type"].split(";")[0] == "text/x.tlog.size"
    assert answer.text == f"{size}\n"


def grow(ledger: Any, n: int, prefix: str = "f") -> None:
    for i in range(n):
        record.create_flow(ledger, name=f"{prefix}{ledger.size()}-{i}")


def sign_by_hand(home: Home, text: str) -> str:
    """A note signed with the ledger's own key file: what its holder can sign."""
    return note.Signer.from_key(home.key.read_text()).sign(text)


def test_the_first_checkpoint_is_cosigned_from_size_zero(
        threaded_witness: ThreadedWitness, ledger: Any, witness_key: tuple[Path, str]) -> None:
    signed = ledger.checkpoint()
    check_cosigned(post(threaded_witness.url, body(0, [], signed)), signed, witness_key[1])


def test_a_later_checkpoint_is_cosigned_with_its_consistency_proof(
        threaded_witness: ThreadedWitness, ledger: Any, witness_key: tuple[Path, str]) -> None:
    first, size1 = ledger.checkpoint(), ledger.size()
    check_cosigned(post(threaded_witness.url, body(0, [], first)), first, witness_key[1])
    grow(ledger, 5)
    later, size2 = ledger.checkpoint(), ledger.size()
    proof = ledger.consistency_proof(size1, size2)
    assert proof, "a proof from 1 to 6 has hashes"
    check_cosigned(post(threaded_witness.url, body(size1, proof, later)), later,
                   witness_key[1])
    # the same checkpoint again, from its own size: equal sizes, equal roots, empty proof
    check_cosigned(post(threaded_witness.url, body(size2, [], later)), later, witness_key[1])


def test_an_old_size_that_is_not_the_latest_gets_409_with_the_size(
        threaded_witness: ThreadedWitness, ledger: Any) -> None:
    first, size1 = ledger.checkpoint(), ledger.size()
    assert post(threaded_witness.url, body(0, [], first)).status_code == 200
    grow(ledger, 2)
    assert_size_conflict(post(threaded_witness.url, body(0, [], ledger.checkpoint())), size1)
    # a client that asks from a size the witness never saw is told the same
    grow(ledger, 1)
    size2 = ledger.size()
    proof = ledger.consistency_proof(size1 + 1, size2)
    assert_size_conflict(post(threaded_witness.url, body(size1 + 1, proof,
                                                          ledger.checkpoint())), size1)


def fork_of(home: Home, tmp_path: Path) -> SQLiteLedger:
    """A copy of the ledger's database and key: the same origin and key, its own future."""
    copy = tmp_path / "fork.db"
    source, target = sqlite3.connect(home.db), sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    shutil.copy(home.key, f"{copy}.key")
    return SQLiteLedger(f"sqlite:///{copy}")


def test_a_fork_by_the_key_holder_is_refused_and_never_cosigned(
        threaded_witness: ThreadedWitness, ledger: Any, home: Home, tmp_path: Path,
        witness_key: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The headline: the log's key signs two histories from size 3 on; the witness cosigned
    one, so the other is refused whatever the request says, and its state stays put."""
    url, vkey = threaded_witness.url, witness_key[1]
    grow(ledger, 2)
    base = ledger.size()
    fork = fork_of(home, tmp_path)
    grow(ledger, 3, "honest")
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(tmp_path / "forker-cache"))
    grow(fork, 3, "forged")
    honest, forged, size = ledger.checkpoint(), fork.checkpoint(), ledger.size()
    assert fork.size() == size and text_of(honest) != text_of(forged)
    check_cosigned(post(url, body(0, [], honest)), honest, vkey)

    # same size, other root
    assert_size_conflict(post(url, body(size, [], forged)), size)
    # one more entry on the fork, with the fork's own (valid) proof from the shared size
    grow(fork, 1, "forged")
    longer = fork.checkpoint()
    answer = post(url, body(size, fork.consistency_proof(size, size + 1), longer))
    assert answer.status_code == 422, answer.text
    # ... or a proof from the size both histories share, which the witness is past
    answer = post(url, body(base, fork.consistency_proof(base, size + 1), longer))
    assert_size_conflict(answer, size)
    # a rollback: the fork's (and the honest log's) older checkpoint
    older = dict(ledger.checkpoints())[base]
    assert post(url, body(size, [], older)).status_code == 400  # old size beyond its size
    assert_size_conflict(post(url, body(base, [], older)), size)
    fork.close()

    # never cosigned: the witness still holds the honest checkpoint, and goes on from it
    check_cosigned(post(url, body(size, [], honest)), honest, vkey)
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(home.cache))
    grow(ledger, 1, "honest")
    later = ledger.checkpoint()
    check_cosigned(post(url, body(size, ledger.consistency_proof(size, size + 1), later)),
                   later, vkey)


def test_a_proof_with_a_hash_changed_is_422(
        threaded_witness: ThreadedWitness, ledger: Any) -> None:
    first, size1 = ledger.checkpoint(), ledger.size()
    grow(ledger, 2)  # size 1 -> 3: the proof is [leaf 1, leaf 2]
    assert post(threaded_witness.url, body(0, [], first)).status_code == 200
    proof = ledger.consistency_proof(size1, ledger.size())
    bad = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    assert post(threaded_witness.url, body(size1, bad, ledger.checkpoint())).status_code == 422
    assert post(threaded_witness.url, body(size1, proof[:-1],
                                           ledger.checkpoint())).status_code == 422
    assert post(threaded_witness.url, body(size1, proof,
                                           ledger.checkpoint())).status_code == 200


def test_a_proof_from_size_zero_or_between_equal_sizes_must_be_empty(
        threaded_witness: ThreadedWitness, ledger: Any) -> None:
    signed, size = ledger.checkpoint(), ledger.size()
    assert post(threaded_witness.url, body(0, [bytes(32)], signed)).status_code == 422
    assert post(threaded_witness.url, body(0, [], signed)).status_code == 200
    assert post(threaded_witness.url, body(size, [bytes(32)], signed)).status_code == 422


def test_a_checkpoint_not_signed_by_the_logs_key_is_403(
        threaded_witness: ThreadedWitness, ledger: Any) -> None:
    signed = ledger.checkpoint()
    other = note.Signer(ledger.origin(), bytes(range(32)))  # same name, another key
    assert post(threaded_witness.url, body(0, [], other.sign(text_of(signed)))
                ).status_code == 403
    # a known key whose signature fails: the text changed after signing
    tampered = signed.replace("\n1\n", "\n2\n", 1)
    assert tampered != signed
    assert post(threaded_witness.url, body(0, [], tampered)).status_code == 403
    # nothing was cosigned: the witness is still at size 0
    assert post(threaded_witness.url, body(0, [], signed)).status_code == 200


def test_an_unknown_origin_is_404(threaded_witness: ThreadedWitness, ledger: Any,
                                  home: Home) -> None:
    text = text_of(ledger.checkpoint()).replace(ledger.origin(), "example.com/other-log", 1)
    assert post(threaded_witness.url, body(0, [], sign_by_hand(home, text))).status_code == 404


@pytest.mark.parametrize("make", [
    pytest.param(lambda s: b"", id="empty"),
    pytest.param(lambda s: s.encode(), id="no old line"),
    pytest.param(lambda s: f"old 0\n{s}".encode(), id="no empty line"),
    pytest.param(lambda s: f"old 01\n\n{s}".encode(), id="leading zero"),
    pytest.param(lambda s: f"old -1\n\n{s}".encode(), id="negative"),
    pytest.param(lambda s: f"old  0\n\n{s}".encode(), id="two spaces"),
    pytest.param(lambda s: f"old {2**64}\n\n{s}".encode(), id="beyond u64"),
    pytest.param(lambda s: f"size 0\n\n{s}".encode(), id="not old"),
    pytest.param(lambda s: f"old 0\nnot base64!\n\n{s}".encode(), id="proof not base64"),
    pytest.param(lambda s: f"old 0\n{base64.b64encode(bytes(31)).decode()}\n\n{s}".encode(),
                 id="proof hash of 31 bytes"),
    pytest.param(lambda s: ("old 0\n" + (base64.b64encode(bytes(32)).decode() + "\n") * 64
                            + "\n" + s).encode(), id="64 proof lines"),
    pytest.param(lambda s: b"old 0\n\n" + s.encode().replace(b"\n", b"\xff\n", 1),
                 id="not UTF-8"),
    pytest.param(lambda s: f"old 0\n\n{s[:s.rindex(chr(10) + chr(10))]}".encode(),
                 id="note without signatures"),
    pytest.param(lambda s: f"old 0\n\n{s.split(chr(10), 1)[0]}\n\n{s.split(chr(10) * 2)[1]}"
                 .encode(), id="checkpoint of one line"),
    pytest.param(lambda s: f"old 99\n\n{s}".encode(), id="old size beyond the checkpoint"),
])
def test_a_malformed_request_is_400(threaded_witness: ThreadedWitness, ledger: Any,
                                    make: Any) -> None:
    answer = post(threaded_witness.url, make(ledger.checkpoint()))
    assert answer.status_code == 400, answer.text
    assert answer.text.endswith("\n") and answer.text.count("\n") == 1


def test_sixty_three_proof_lines_are_not_malformed(threaded_witness: ThreadedWitness,
                                                   ledger: Any) -> None:
    """The bound is the spec's 63 (more is 400 above): 63 wrong hashes fail as a proof."""
    answer = post(threaded_witness.url, body(0, [bytes(32)] * 63, ledger.checkpoint()))
    assert answer.status_code == 422, answer.text


def test_a_body_too_large_is_refused_unread(threaded_witness: ThreadedWitness) -> None:
    answer = post(threaded_witness.url, b"old 0\n" + b"A" * (2 << 20))
    assert answer.status_code == 413


def test_racing_requests_from_one_size_advance_it_once(
        threaded_witness: ThreadedWitness, ledger: Any) -> None:
    """The spec's race: two checkpoints checked against one old size; only one may be
    recorded, and the other is told the new size, whichever wins."""
    first, size1 = ledger.checkpoint(), ledger.size()
    assert post(threaded_witness.url, body(0, [], first)).status_code == 200
    requests_by_size = {}
    for _ in range(2):
        grow(ledger, 1)
        size = ledger.size()
        requests_by_size[size] = body(size1, ledger.consistency_proof(size1, size),
                                      ledger.checkpoint())
    answers: dict[int, requests.Response] = {}
    start = threading.Barrier(len(requests_by_size))

    def send(size: int, data: bytes) -> None:
        start.wait()
        answers[size] = post(threaded_witness.url, data)

    threads = [threading.Thread(target=send, args=item) for item in requests_by_size.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(a.status_code for a in answers.values())
    assert codes == [200, 409], codes
    winner = next(s for s, a in answers.items() if a.status_code == 200)
    assert_size_conflict(next(a for a in answers.values() if a.status_code == 409), winner)


def test_the_state_survives_a_restart(witness_process: WitnessProcess, ledger: Any,
                                      witness_key: tuple[Path, str]) -> None:
    first, size1 = ledger.checkpoint(), ledger.size()
    check_cosigned(post(witness_process.url, body(0, [], first)), first, witness_key[1])
    grow(ledger, 2)
    later, size2 = ledger.checkpoint(), ledger.size()
    check_cosigned(post(witness_process.url, body(size1, ledger.consistency_proof(
        size1, size2), later)), later, witness_key[1])
    witness_process.start()  # a restart on the same state file
    assert_size_conflict(post(witness_process.url, body(0, [], first)), size2)
    assert_size_conflict(post(witness_process.url, body(size1, [], first)), size2)
    check_cosigned(post(witness_process.url, body(size2, [], later)), later, witness_key[1])
