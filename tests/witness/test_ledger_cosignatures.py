"""Cosignatures kept with the ledger (issue 15, item 6): ``witness add`` stores the lines it
got beside the checkpoint, a ledger configured with ``AFFIDAVIT_WITNESSES`` gets every write's
checkpoint cosigned, packages carry the lines, ``verify package --witness`` requires them, and
a rollback by someone holding the ledger's key is caught by the witness -- on the embedded
ledger and through a server."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FLOW, TRAIL
from tests.helpers import Home, Result, assert_error, ok
from tests.witness.conftest import ThreadedWitness

Cli = Callable[..., Result]


def _spec(witness: ThreadedWitness, vkey: str) -> str:
    return f"{witness.url}={vkey}"


def _package(cli: Cli, tmp_path: Path, name: str = "p.zip") -> Path:
    out = tmp_path / name
    ok(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", out))
    return out


def test_writes_of_a_ledger_with_witnesses_are_cosigned_and_packages_carry_it(
        cli: Cli, tmp_path: Path, threaded_witness: ThreadedWitness,
        witness_key: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    vkey = witness_key[1]
    monkeypatch.setenv("AFFIDAVIT_WITNESSES", _spec(threaded_witness, vkey))
    ok(cli("begin", "trail", TRAIL, "--flow", FLOW, "--create-flow"))
    done = ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "unit"))
    assert "checkpoint cosigned by witness" in done.out
    key = ok(cli("ledger", "public-key")).out.strip()
    checked = ok(cli("verify", "package", _package(cli, tmp_path), "--public-key", key,
                     "--witness", vkey, "--output", "json")).json()
    assert [w["witness"] for w in checked["witnesses"]] == [vkey]

    # a package of a checkpoint no witness saw fails when the witness is required
    monkeypatch.delenv("AFFIDAVIT_WITNESSES")
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "more"))
    bare = _package(cli, tmp_path, "bare.zip")
    assert_error(cli("verify", "package", bare, "--public-key", key, "--witness", vkey), 3,
                 "no valid cosignature by witness")
    ok(cli("verify", "package", bare, "--public-key", key))  # without --witness: as before
    ok(cli("witness", "add", "--witness", _spec(threaded_witness, vkey)))
    ok(cli("verify", "package", _package(cli, tmp_path, "later.zip"), "--public-key", key,
           "--witness", vkey))


def test_a_cosignature_line_altered_in_the_store_fails_the_package(
        cli: Cli, tmp_path: Path, threaded_witness: ThreadedWitness,
        witness_key: tuple[Path, str], home: Home) -> None:
    import sqlite3

    vkey = witness_key[1]
    ok(cli("begin", "trail", TRAIL, "--flow", FLOW, "--create-flow"))
    ok(cli("witness", "add", "--witness", _spec(threaded_witness, vkey)))
    db = sqlite3.connect(home.db)
    (line,) = [r[0] for r in db.execute("SELECT line FROM cosignatures")]
    name, raw = line.rstrip("\n").rsplit(" ", 1)
    import base64

    forged = bytearray(base64.b64decode(raw))
    forged[20] ^= 1
    db.execute("UPDATE cosignatures SET line = ?",
               (f"{name} {base64.b64encode(bytes(forged)).decode()}\n",))
    db.commit()
    db.close()
    key = ok(cli("ledger", "public-key")).out.strip()
    assert_error(cli("verify", "package", _package(cli, tmp_path), "--public-key", key,
                     "--witness", vkey), 3, "checkpoint")


def test_a_rollback_by_the_key_holder_is_caught_by_the_witness(
        cli: Cli, tmp_path: Path, threaded_witness: ThreadedWitness,
        witness_key: tuple[Path, str], home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator keeps a copy of the ledger at size N, lets it grow to N+2 with the
    witness cosigning, then puts the old copy back and writes something else on it: the same
    key signs a history that does not extend what the witness saw. The write is told at once
    (exit 3), and its packages never get the witness's cosignature."""
    vkey = witness_key[1]
    monkeypatch.setenv("AFFIDAVIT_WITNESSES", _spec(threaded_witness, vkey))
    ok(cli("begin", "trail", TRAIL, "--flow", FLOW, "--create-flow"))
    saved = tmp_path / "saved"
    saved.mkdir()
    for path in home.dir.iterdir():
        if path.is_file():
            shutil.copy2(path, saved / path.name)
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "a"))
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "b"))
    for path in saved.iterdir():  # the rollback, behind every client's back
        shutil.copy2(path, home.dir / path.name)
    shutil.rmtree(home.cache, ignore_errors=True)  # and a client that never saw the later one
    forked = cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "c",
                 "--compliant", "false")
    assert forked.code == 3, str(forked)
    assert "was recorded, but" in forked.err and "witness" in forked.err
    monkeypatch.delenv("AFFIDAVIT_WITNESSES")
    key = ok(cli("ledger", "public-key")).out.strip()
    package = _package(cli, tmp_path)
    ok(cli("verify", "package", package, "--public-key", key))  # the key alone is fooled
    assert_error(cli("verify", "package", package, "--public-key", key, "--witness", vkey), 3,
                 "no valid cosignature by witness")


def test_an_unreachable_witness_is_a_warning_and_the_entry_stands(
        cli: Cli, witness_key: tuple[Path, str], monkeypatch: pytest.MonkeyPatch,
        ledger_log: str) -> None:
    from tests.server.conftest import free_port

    monkeypatch.setenv("AFFIDAVIT_WITNESSES", f"http://127.0.0.1:{free_port()}={witness_key[1]}")
    done = ok(cli("create", "flow", "other"))
    assert "warning: cannot reach witness" in done.out
    assert "the entry stands" in done.out
    monkeypatch.setenv("AFFIDAVIT_WITNESSES", "not-a-witness")
    assert_error(cli("create", "flow", "third"), 2, "was recorded, but", "URL=VKEY")


def test_cosignatures_go_through_a_server(cli: Cli, tmp_path: Path, home: Home,
                                          witness_key: tuple[Path, str],
                                          threaded_witness: ThreadedWitness,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Stored over HTTP with a write token's request, served back to a package build, and
    required by ``verify package``: the same path as the embedded ledger's."""
    from tests.server.threaded import ThreadedServer

    vkey = witness_key[1]
    ok(cli("begin", "trail", TRAIL, "--flow", FLOW, "--create-flow"))
    with ThreadedServer(home.url) as running:
        monkeypatch.setenv("AFFIDAVIT_LEDGER", running.url)
        ok(cli("witness", "add", "--witness", _spec(threaded_witness, vkey)))
        key = ok(cli("ledger", "public-key")).out.strip()
        ok(cli("verify", "package", _package(cli, tmp_path), "--public-key", key,
               "--witness", vkey))
        import requests

        size = requests.get(f"{running.url}/api/v1/ledger/state", timeout=10).json()["size"]
        answer = requests.get(f"{running.url}/api/v1/ledger/cosignatures",
                              params={"size": size}, timeout=10)
        assert answer.status_code == 200 and len(answer.json()["lines"]) == 1
        bad = requests.post(f"{running.url}/api/v1/ledger/cosignatures",
                            json={"size": size, "lines": ["not a line"]}, timeout=10)
        assert bad.status_code == 400
        missing = requests.post(f"{running.url}/api/v1/ledger/cosignatures",
                                json={"size": size + 5, "lines": answer.json()["lines"]},
                                timeout=10)
        assert missing.status_code == 400




def test_a_bad_line_beside_a_good_cosignature_neither_breaks_nor_fools_the_package(
        cli: Cli, tmp_path: Path, threaded_witness: ThreadedWitness,
        witness_key: tuple[Path, str], ledger: Any) -> None:
    """Lines kept beside the log may come from anyone who could write: a well-formed line by
    another witness's name, or a line under the witness's own key ID that does not verify,
    leaves the package verifiable, and with ``--witness`` the good line still counts -- but
    only a line that verifies does."""
    import base64

    vkey = witness_key[1]
    ok(cli("begin", "trail", TRAIL, "--flow", FLOW, "--create-flow"))
    ok(cli("witness", "add", "--witness", _spec(threaded_witness, vkey)))
    size = ledger.size()
    (good,) = ledger.cosignatures(size)
    name, raw = good.rstrip("\n").rsplit(" ", 1)
    forged = bytearray(base64.b64decode(raw))
    forged[-1] ^= 1
    stranger = f"\u2014 someone.else/w9 {base64.b64encode(bytes(76)).decode()}\n"
    ledger.add_cosignatures(size, [stranger])
    key = ok(cli("ledger", "public-key")).out.strip()
    ok(cli("verify", "package", _package(cli, tmp_path), "--public-key", key))
    ok(cli("verify", "package", _package(cli, tmp_path, "w.zip"), "--public-key", key,
           "--witness", vkey))
    # the forged line replaces the witness's own (one line per witness): no longer cosigned
    ledger.add_cosignatures(size, [f"{name} {base64.b64encode(bytes(forged)).decode()}\n"])
    assert_error(cli("verify", "package", _package(cli, tmp_path, "f.zip"), "--public-key",
                     key, "--witness", vkey), 3, "1 line(s) by its key do not verify")
