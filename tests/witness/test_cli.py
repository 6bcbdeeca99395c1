"""``affidavit witness key generate``, ``witness add`` and ``witness serve`` from the command
line: the ledger's latest checkpoint cosigned by a real witness process (C2SP tlog-witness
"add-checkpoint", from size 0 and then from the size the witness answers 409 with), printed as
the note with the cosignature line appended (signed-note: one more signature line), and every
bad flag one line on stderr with exit 2, never a traceback.
"""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from affidavit.api.witnesses import generate_key, open_witness
from affidavit.ledger import note
from affidavit.ledger.cosignature import CosignatureVerifier, verify_cosignature
from tests.helpers import Cli, Home, assert_error, ok
from tests.server.conftest import free_port
from tests.witness.conftest import ThreadedWitness, WitnessProcess


def test_key_generate_writes_a_private_file_and_prints_the_vkey(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "w.key"
    result = ok(cli("witness", "key", "generate", "--out", out, "--name", "w.example/w1"))
    vkey = result.out.strip()
    assert result.out == vkey + "\n"
    verifier = CosignatureVerifier.from_key(vkey)
    assert verifier.name == "w.example/w1"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text().startswith(f"PRIVATE+KEY+w.example/w1+{verifier.key_id.hex()}+")
    before = out.read_bytes()
    assert_error(cli("witness", "key", "generate", "--out", out, "--name", "w.example/w1"),
                 2, "already exists")
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["w.key"]  # no temporary file left


@pytest.mark.parametrize(("args", "needle"), [
    (["--name", "has space"], "invalid key name"),
    (["--name", "a+b"], "invalid key name"),
    ([], "--name is required"),
])
def test_key_generate_refuses_bad_input(cli: Cli, tmp_path: Path, args: list[str],
                                        needle: str) -> None:
    out = tmp_path / "w.key"
    assert_error(cli("witness", "key", "generate", "--out", out, *args), 2, needle)
    assert not out.exists()
    assert_error(cli("witness", "key", "generate", "--out", tmp_path / "no" / "dir" / "k",
                     "--name", "w.example/w1"), 2, "--out")


def test_add_prints_the_checkpoint_cosigned(cli: Cli, witness_process: WitnessProcess,
                                            witness_key: tuple[Path, str], ledger: Any) -> None:
    spec = f"{witness_process.url}={witness_key[1]}"
    first = ok(cli("witness", "add", "--witness", spec)).out
    log_key = [note.Verifier.from_key(ledger.verifier_key())]
    assert first.startswith(ledger.checkpoint())
    assert note.open_note(first, log_key) == first[:first.rindex("\n\n") + 1]
    verify_cosignature(first, witness_key[1])
    ok(cli("create", "flow", "second"))
    ok(cli("create", "flow", "third"))
    shown = ok(cli("witness", "add", "--witness", spec, "--output", "json")).json()
    assert shown["size"] == ledger.size() == 3
    assert shown["checkpoint"].startswith(ledger.checkpoint())
    [cosigned] = shown["cosignatures"]
    assert cosigned["witness"] == witness_key[1] and cosigned["url"] == witness_process.url
    assert verify_cosignature(shown["checkpoint"], witness_key[1]) == cosigned["timestamp"]


def test_add_with_two_witnesses_carries_both(cli: Cli, threaded_witness: ThreadedWitness,
                                             witness_key: tuple[Path, str], ledger_log: str,
                                             tmp_path: Path) -> None:
    key2 = tmp_path / "second.key"
    vkey2 = generate_key(str(key2), "witness.test/w2")
    with ThreadedWitness(open_witness(str(key2), str(tmp_path / "w2.db"),
                                      [ledger_log])) as second:
        out = ok(cli("witness", "add", "--witness", f"{threaded_witness.url}={witness_key[1]}",
                     "--witness", f"{second.url}={vkey2}")).out
    verify_cosignature(out, witness_key[1])
    verify_cosignature(out, vkey2)


def test_add_on_a_forked_ledger_exits_3(cli: Cli, threaded_witness: ThreadedWitness,
                                        witness_key: tuple[Path, str], home: Home,
                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy of the ledger (its key too) grown apart after the witness cosigned the
    original: the witness refuses it, and ``witness add`` says so in one line."""
    spec = f"{threaded_witness.url}={witness_key[1]}"
    fork = tmp_path / "fork.db"
    source, target = sqlite3.connect(home.db), sqlite3.connect(fork)
    source.backup(target)
    source.close()
    target.close()
    shutil.copy(home.key, f"{fork}.key")
    ok(cli("create", "flow", "honest"))
    ok(cli("witness", "add", "--witness", spec))
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(tmp_path / "forker"))
    monkeypatch.setenv("AFFIDAVIT_LEDGER", f"sqlite:///{fork}")
    ok(cli("create", "flow", "forged"))
    assert_error(cli("witness", "add", "--witness", spec), 3, "another tree of size 2")
    ok(cli("create", "flow", "forged-more"))
    assert_error(cli("witness", "add", "--witness", spec), 3,
                 "did not accept the consistency proof from size 2")


def log_vkey(cli: Cli) -> str:
    return ok(cli("ledger", "public-key")).out.strip()


@pytest.mark.parametrize(("spec", "needle"), [
    ("http://127.0.0.1:1", "is not URL=VKEY"),
    ("=w.example/w1+00000000+AAAA", "is not URL=VKEY"),
    ("http://127.0.0.1:1=not-a-key", "witness verifier key is not of the form"),
    ("ftp://127.0.0.1=VKEY", "is not an http(s) URL"),
    ("http://witness.example.com=VKEY", "plain http is only for a server on this machine"),
    ("LOGKEY", "not an Ed25519 cosignature key"),
])
def test_add_refuses_bad_flags_in_one_line(cli: Cli, ledger_log: str, spec: str,
                                           needle: str) -> None:
    real = f"http://127.0.0.1:1={log_vkey(cli)}" if spec == "LOGKEY" else spec
    real = real.replace("VKEY", "w.example/w1+00000000+AAAA")
    assert_error(cli("witness", "add", "--witness", real), 2, needle)


def test_add_needs_a_witness(cli: Cli, ledger_log: str) -> None:
    assert_error(cli("witness", "add"), 2, "--witness is required")


def test_add_to_an_unreachable_witness_exits_3(cli: Cli, ledger_log: str,
                                               witness_key: tuple[Path, str]) -> None:
    assert_error(cli("witness", "add", "--witness",
                     f"http://127.0.0.1:{free_port()}={witness_key[1]}"), 3, "cannot reach")


@pytest.fixture
def serve_args(witness_key: tuple[Path, str], ledger_log: str, tmp_path: Path) -> list[str]:
    return ["witness", "serve", "--key", str(witness_key[0]), "--state",
            str(tmp_path / "state.db"), "--log", ledger_log, "--port", "0"]


def swap(args: list[str], flag: str, value: str | None) -> list[str]:
    """``args`` with ``flag``'s value replaced, or the flag dropped when ``value`` is None."""
    at = args.index(flag)
    return args[:at] + args[at + 2:] if value is None else [
        *args[:at + 1], value, *args[at + 2:]]


@pytest.mark.parametrize(("flag", "value", "needle"), [
    ("--key", None, "--key is required"),
    ("--state", None, "--state is required"),
    ("--log", None, "--log is required"),
    ("--key", "/nonexistent/witness.key", "--key /nonexistent/witness.key: no such file"),
    ("--log", "no-equals-sign", "--log 'no-equals-sign' is not ORIGIN=VKEY"),
    ("--log", "origin=not-a-key", "--log origin: verifier key is not of the form"),
    ("--state", "/nonexistent/dir/state.db", "--state /nonexistent/dir/state.db"),
    ("--port", "70000", "--port 70000 is not 0-65535"),
    ("--port", "seven", "--port: invalid int value"),
])
def test_serve_refuses_bad_flags_before_listening(cli: Cli, serve_args: list[str], flag: str,
                                                  value: str | None, needle: str) -> None:
    assert_error(cli(*swap(serve_args, flag, value)), 2, needle)


def test_serve_refuses_a_key_file_that_is_not_a_witness_key(
        cli: Cli, serve_args: list[str], home: Home, tmp_path: Path) -> None:
    # the ledger's own key is a note key (type 0x01): not a cosigner's
    assert_error(cli(*swap(serve_args, "--key", str(home.key))), 2, "not an Ed25519 "
                 "cosignature key")
    garbage = tmp_path / "garbage.key"
    garbage.write_bytes(b"\xff\xfe")
    assert_error(cli(*swap(serve_args, "--key", str(garbage))), 2, "not UTF-8")


def test_serve_refuses_a_state_file_that_is_another_database(
        cli: Cli, serve_args: list[str], home: Home) -> None:
    before = home.db.read_bytes()
    assert_error(cli(*swap(serve_args, "--state", str(home.db))), 2, "not a witness's state")
    assert home.db.read_bytes() == before

