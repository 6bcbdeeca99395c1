"""Signed attestations, sealed evidence and redaction, end to end through the CLI (issue 15,
items 2-4): ``key generate``, ``--signing-key`` (DSSE), ``--encrypt-for`` / ``--identity``
(age), ``--redact``, a template's ``require_signed``/``signers``, ``verify package
--trusted-keys``; on the embedded ledger and, where marked, through a server (SQLite, and
PostgreSQL with S3) whose storage is searched for the plaintext."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FLOW, TRAIL
from tests.helpers import Home, Result, assert_error, ok, rewrite_zip, state

Cli = Callable[..., Result]
SECRET_LINE = b"root@prod-7f3a: cat /etc/shadow  # session marker 5e1c0a9d"


def _keys(cli: Cli, tmp_path: Path) -> dict[str, Any]:
    signing = ok(cli("key", "generate", "--out", tmp_path / "sign.pem", "--output", "json"))
    sealing = ok(cli("key", "generate", "--encryption", "--out", tmp_path / "id.txt",
                     "--output", "json"))
    return {"signing": signing.json(), "sealing": sealing.json()}


def _trail(cli: Cli, template: str | None = None, tmp_path: Path | None = None) -> None:
    args: list[Any] = ["create", "flow", FLOW]
    if template is not None:
        assert tmp_path is not None
        path = tmp_path / "template.yml"
        path.write_text(template, encoding="utf-8")
        args += ["--template-file", path]
    ok(cli(*args))
    ok(cli("begin", "trail", TRAIL, "--flow", FLOW))


def _attest(cli: Cli, *extra: Any, name: str = "identity") -> Result:
    return cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", name,
               "--output", "json", *extra)


def _status(cli: Cli) -> tuple[str, list[str]]:
    doc = ok(cli("get", "trail", TRAIL, "--flow", FLOW, "--output", "json")).json()
    return doc["status"], doc["verdict"]["reasons"]


# -- key generate ----------------------------------------------------------------------------

def test_key_generate_writes_standard_key_files_once(cli: Cli, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        load_pem_private_key,
        load_pem_public_key,
    )

    made = _keys(cli, tmp_path)
    private = load_pem_private_key((tmp_path / "sign.pem").read_bytes(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    public = load_pem_public_key((tmp_path / "sign.pem.pub").read_bytes())
    assert public.public_bytes_raw() == private.public_key().public_bytes_raw()  # type: ignore[union-attr]
    import hashlib

    assert made["signing"]["keyid"] == hashlib.sha256(public.public_bytes_raw()).hexdigest()  # type: ignore[union-attr]
    for name in ("sign.pem", "id.txt"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600

    # the identity file is age-keygen's: its recipient comment, then the secret key
    lines = (tmp_path / "id.txt").read_text().splitlines()
    recipient = made["sealing"]["recipient"]
    assert lines[1] == f"# public key: {recipient}" and lines[2].startswith("AGE-SECRET-KEY-1")
    import pyrage

    identity = pyrage.x25519.Identity.from_str(lines[2])
    sealed = pyrage.encrypt(b"x", [pyrage.x25519.Recipient.from_str(recipient)])
    assert pyrage.decrypt(sealed, [identity]) == b"x"

    before = (tmp_path / "sign.pem").read_bytes()
    assert_error(cli("key", "generate", "--out", tmp_path / "sign.pem"), 2, "sign.pem exists")
    assert (tmp_path / "sign.pem").read_bytes() == before


# -- signed attestations ---------------------------------------------------------------------

def test_a_signed_attestation_round_trips_into_a_package_checked_against_trusted_keys(
        cli: Cli, tmp_path: Path, home: Home) -> None:
    made = _keys(cli, tmp_path)
    _trail(cli)
    entry = ok(_attest(cli, "--signing-key", tmp_path / "sign.pem")).json()["entry"]["record"]
    keyid = made["signing"]["keyid"]
    assert entry["signed_by"]["keyid"] == keyid
    assert entry["envelope"]["signatures"][0]["keyid"] == keyid
    payload = json.loads(base64.b64decode(entry["envelope"]["payload"]))
    assert payload["subject"] == entry["statement"]["subject"]
    assert payload["predicate"] == {k: v for k, v in entry.items() if k != "envelope"}
    ok(_attest(cli, name="unsigned"))
    ok(cli("verify", "ledger"))
    assert _status(cli)[0] == "COMPLIANT"

    zip_path = tmp_path / "p.zip"
    ok(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", zip_path))
    key = ok(cli("ledger", "public-key")).out.strip()
    checked = ok(cli("verify", "package", zip_path, "--public-key", key, "--trusted-keys",
                     tmp_path / "sign.pem.pub", "--output", "json")).json()
    assert checked["signed"] == {"by": {keyid: 1}, "unsigned": 1, "trusted_keys": True}

    ok(cli("key", "generate", "--out", tmp_path / "other.pem"))
    assert_error(cli("verify", "package", zip_path, "--public-key", key, "--trusted-keys",
                     tmp_path / "other.pem.pub"), 3, f"signed by key {keyid[:16]}",
                 "--trusted-keys does not hold")
    assert_error(cli("verify", "package", zip_path, "--public-key", key, "--trusted-keys",
                     tmp_path / "nope.pub"), 2, "nope.pub")


def test_a_package_whose_signature_was_altered_fails_verification(cli: Cli,
                                                                  tmp_path: Path) -> None:
    _keys(cli, tmp_path)
    _trail(cli)
    ok(_attest(cli, "--signing-key", tmp_path / "sign.pem"))
    zip_path = tmp_path / "p.zip"
    ok(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", zip_path))
    import zipfile

    with zipfile.ZipFile(zip_path) as zf:
        name = max(n for n in zf.namelist() if n.startswith("entries/"))
        entry = json.loads(zf.read(name))
    signature = entry["record"]["envelope"]["signatures"][0]
    raw = bytearray(base64.b64decode(signature["sig"]))
    raw[0] ^= 1
    signature["sig"] = base64.b64encode(bytes(raw)).decode()
    from affidavit import canonical

    bad = rewrite_zip(zip_path, tmp_path / "bad.zip", replace={name: canonical.dumps(entry)})
    key = ok(cli("ledger", "public-key")).out.strip()
    # the entry no longer hashes to its leaf either; the signature check is what names it
    result = cli("verify", "package", bad, "--public-key", key)
    assert result.code == 3 and "Traceback" not in result.err


@pytest.mark.remote
def test_a_bad_signature_is_refused_on_ingest_and_nothing_is_written(
        cli: Cli, tmp_path: Path, backend: str, home: Home,
        request: pytest.FixtureRequest) -> None:
    """A writer that sends an entry whose envelope does not verify gets an integrity failure
    from the ledger (exit 3 at the CLI, 409 from the server) and the log does not grow."""
    from affidavit import canonical
    from affidavit.api.ledgers import open_ledger
    from affidavit.errors import IntegrityError
    from affidavit.models import build, dsse
    from affidavit.verify.proven import Proven

    _keys(cli, tmp_path)
    _trail(cli)
    key = dsse.load_signing_key(str(tmp_path / "sign.pem"))
    record = build.attestation(flow=FLOW, trail=TRAIL, name="forged", type="generic",
                               compliant=True, predicate={"compliant": True})
    envelope, signed_by = dsse.envelope(record, key)
    record = build.signed(record, envelope, signed_by)
    record["statement"]["predicate"]["note"] = "changed after signing"
    entry = build.entry("attestation", record)
    ledger = open_ledger(os.environ.get("AFFIDAVIT_LEDGER", home.url))
    try:
        with Proven(ledger) as head:
            assert head.checkpoint is not None
            size = head.checkpoint.size
            after = (head.checkpoint.size, head.checkpoint.root)
        if backend == "embedded":
            from affidavit.verify.proven import admit

            with pytest.raises(IntegrityError, match="not the attestation"):
                admit(ledger, [entry])
        else:
            with pytest.raises(IntegrityError, match="not the attestation"):
                ledger.append([canonical.dumps(entry)], [entry], after=after)
        assert ledger.size() == size
    finally:
        ledger.close()


def test_an_entry_slipped_into_the_file_past_affidavit_is_caught_on_read(
        cli: Cli, tmp_path: Path, home: Home) -> None:
    """A signed attestation whose envelope no longer matches, appended straight through the
    store (what a writer going around ``admit`` could do), fails every gating read: exit 3."""
    from affidavit.models import build, dsse

    _keys(cli, tmp_path)
    _trail(cli)
    key = dsse.load_signing_key(str(tmp_path / "sign.pem"))
    record = build.attestation(flow=FLOW, trail=TRAIL, name="forged", type="generic",
                               compliant=True, predicate={"compliant": True})
    record = build.signed(record, *dsse.envelope({**record, "name": "other"}, key))
    _append_raw(home, build.entry("attestation", record))
    assert_error(cli("get", "trail", TRAIL, "--flow", FLOW), 3, "not the attestation")
    assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW), 3, "not the attestation")
    assert cli("verify", "ledger").code == 3


def test_a_template_can_require_signatures_by_named_keys(cli: Cli, tmp_path: Path) -> None:
    made = _keys(cli, tmp_path)
    ok(cli("key", "generate", "--out", tmp_path / "other.pem"))
    keyid = made["signing"]["keyid"]
    _trail(cli, "version: 1\ntrail:\n  attestations:\n"
                f"    - {{name: identity, type: generic, signers: [{keyid}]}}\n"
                "    - {name: logs, type: generic, require_signed: true}\n"
                "    - {name: notes, type: generic}\n", tmp_path)
    ok(_attest(cli, name="identity"))
    ok(_attest(cli, name="logs"))
    ok(_attest(cli, name="notes"))
    status, reasons = _status(cli)
    assert status == "NON_COMPLIANT"
    assert reasons == [
        "trail: attestation 'identity' is not signed, and the template requires a signature",
        "trail: attestation 'logs' is not signed, and the template requires a signature"]
    assert cli("assert", "trail", TRAIL, "--flow", FLOW).code == 1

    ok(_attest(cli, "--signing-key", tmp_path / "other.pem", name="identity"))
    ok(_attest(cli, "--signing-key", tmp_path / "other.pem", name="logs"))
    status, reasons = _status(cli)
    assert status == "NON_COMPLIANT"
    assert len(reasons) == 1 and "'identity' is signed by key" in reasons[0] and (
        "which the template does not allow" in reasons[0])

    ok(_attest(cli, "--signing-key", tmp_path / "sign.pem", name="identity"))
    assert _status(cli) == ("COMPLIANT", [])
    assert ok(cli("assert", "trail", TRAIL, "--flow", FLOW)).out.startswith("COMPLIANT")


def test_a_template_wide_signing_rule_and_its_package_verdict(cli: Cli, tmp_path: Path) -> None:
    """``require_signed`` on the trail applies to every slot; ``verify package`` recomputes the
    same verdict from the package alone."""
    _keys(cli, tmp_path)
    _trail(cli, "version: 1\ntrail:\n  require_signed: true\n  attestations:\n"
                "    - {name: identity, type: generic}\n"
                "    - {name: logs, type: generic, require_signed: false}\n", tmp_path)
    ok(_attest(cli, name="identity"))
    ok(_attest(cli, name="logs"))
    assert _status(cli)[0] == "NON_COMPLIANT"
    zip_path = tmp_path / "p.zip"
    ok(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", zip_path))
    key = ok(cli("ledger", "public-key")).out.strip()
    checked = ok(cli("verify", "package", zip_path, "--public-key", key, "--output", "json"))
    assert checked.json()["trails"][0]["status"] == "NON_COMPLIANT"
    ok(_attest(cli, "--signing-key", tmp_path / "sign.pem", name="identity"))
    assert _status(cli) == ("COMPLIANT", [])


@pytest.mark.parametrize("template, needle", [
    ("    - {name: a, type: generic, signers: [nothex]}\n", "signers"),
    ("    - {name: a, type: generic, require_signed: yes please}\n", "require_signed"),
])
def test_a_malformed_signing_rule_is_refused(cli: Cli, tmp_path: Path, template: str,
                                            needle: str) -> None:
    path = tmp_path / "t.yml"
    path.write_text("version: 1\ntrail:\n  attestations:\n" + template, encoding="utf-8")
    assert_error(cli("create", "flow", FLOW, "--template-file", path), 2, needle)


def test_a_bad_signing_key_is_refused_before_anything_is_written(
        cli: Cli, tmp_path: Path, home: Home, files: Callable[..., Path]) -> None:
    _keys(cli, tmp_path)
    _trail(cli)
    before = state(home)
    assert_error(_attest(cli, "--signing-key", tmp_path / "id.txt"), 2, "id.txt",
                 "not a PEM private key")
    assert_error(_attest(cli, "--signing-key", tmp_path / "missing.pem"), 2, "missing.pem")
    broken = files("e.pem", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    assert_error(_attest(cli, "--signing-key", broken), 2, "e.pem")
    assert state(home) == before


# -- redaction -------------------------------------------------------------------------------

def test_redacted_fields_never_reach_the_ledger(cli: Cli, files: Callable[..., Path],
                                                home: Home) -> None:
    _trail(cli)
    data = files("ud.json", json.dumps({"ticket": "OPS-1", "requester": {
        "name": "Ana", "email": "ana@example.com"}, "tags": ["a", "secret-tag", "b"]}))
    record = ok(_attest(cli, "--user-data", data, "--redact", "/user_data/requester/email",
                        "/user_data/tags/1")).json()["entry"]["record"]
    assert record["user_data"] == {"ticket": "OPS-1", "requester": {"name": "Ana"},
                                   "tags": ["a", "b"]}
    assert record["redacted"] == ["/user_data/requester/email", "/user_data/tags/1"]
    raw = home.db.read_bytes() + b"".join(
        p.read_bytes() for p in home.dir.rglob("*") if p.is_file() and p != home.db)
    assert b"ana@example.com" not in raw and b"secret-tag" not in raw
    ok(cli("verify", "ledger"))


@pytest.mark.parametrize("pointer, needle", [
    ("/user_data/nope", "has no such field"),
    ("/user_data/requester/nope/deeper", "has no /user_data/requester/nope"),
    ("/statement/subject", "inside /user_data or /predicate"),
    ("user_data/ticket", "not a JSON pointer"),
    ("/predicate/compliant", "once --redact removed /predicate/compliant"),
])
def test_a_bad_redaction_writes_nothing(cli: Cli, files: Callable[..., Path], home: Home,
                                        pointer: str, needle: str) -> None:
    _trail(cli)
    data = files("ud.json", json.dumps({"ticket": "OPS-1", "requester": {"name": "Ana"}}))
    before = state(home)
    result = _attest(cli, "--user-data", data, "--redact", pointer)
    assert result.code == 2, str(result)
    assert needle in result.err and "Traceback" not in result.err
    assert state(home) == before


# -- sealed evidence -------------------------------------------------------------------------

def _storage_bytes(home: Home, backend: str, request: pytest.FixtureRequest) -> bytes:
    """Everything the ledger's storage holds, read behind its back."""
    found = b"".join(p.read_bytes() for p in home.dir.rglob("*") if p.is_file())
    if backend == "http-postgresql-s3":
        import psycopg

        with psycopg.connect(request.node.remote_server.ledger_url) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
            for table in tables:
                for row in conn.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - test
                    found += repr(row).encode() + b"".join(
                        bytes(v) for v in row if isinstance(v, (bytes, memoryview)))
        bucket = request.getfixturevalue("bucket")
        for obj in bucket.objects.all():
            found += obj.get()["Body"].read()
    return found


@pytest.mark.remote
def test_sealed_evidence_round_trips_and_storage_holds_no_plaintext(
        cli: Cli, tmp_path: Path, files: Callable[..., Path], home: Home, backend: str,
        request: pytest.FixtureRequest) -> None:
    made = _keys(cli, tmp_path)
    _trail(cli)
    log = files("session.log", SECRET_LINE * 50)
    ident = files("identity.json", json.dumps({"user": "ana", "marker": "id-4c2b9e"}))
    record = ok(_attest(cli, "--attachments", log, ident, "--encrypt-for",
                        made["sealing"]["recipient"], "--signing-key",
                        tmp_path / "sign.pem")).json()["entry"]["record"]
    refs = {ref["name"]: ref for ref in record["evidence"]}
    assert set(refs) == {"session.log", "identity.json"}
    for ref in refs.values():
        assert ref["sealed"]["format"] == "age"
        assert ref["sealed"]["recipients"] == [made["sealing"]["recipient"]]
    stored = _storage_bytes(home, backend, request)
    assert b"session marker 5e1c0a9d" not in stored and b"id-4c2b9e" not in stored
    import hashlib

    assert hashlib.sha256(SECRET_LINE * 50).hexdigest().encode() not in stored

    digest = refs["session.log"]["sha256"]
    ok(cli("evidence", "get", digest, "-o", tmp_path / "ct.age"))
    ciphertext = (tmp_path / "ct.age").read_bytes()
    assert ciphertext.startswith(b"age-encryption.org/v1\n")
    assert hashlib.sha256(ciphertext).hexdigest() == digest
    ok(cli("evidence", "get", digest, "-o", tmp_path / "plain.log",
           "--identity", tmp_path / "id.txt"))
    assert (tmp_path / "plain.log").read_bytes() == SECRET_LINE * 50

    ok(cli("key", "generate", "--encryption", "--out", tmp_path / "stranger.txt"))
    assert_error(cli("evidence", "get", digest, "-o", tmp_path / "no.log", "--identity",
                     tmp_path / "stranger.txt"), 2, "the identity given is none of them")
    assert not (tmp_path / "no.log").exists()

    zip_path = tmp_path / "p.zip"
    summary = ok(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", zip_path,
                     "--identity", tmp_path / "id.txt", "--output", "json")).json()
    assert summary["opened"] == 2
    import zipfile

    with zipfile.ZipFile(zip_path) as zf:
        assert zf.read("opened/identity/session.log") == SECRET_LINE * 50
        assert zf.read("evidence/identity/session.log") == ciphertext
    key = ok(cli("ledger", "public-key")).out.strip()
    checked = ok(cli("verify", "package", zip_path, "--public-key", key, "--trusted-keys",
                     tmp_path / "sign.pem.pub", "--output", "json")).json()
    assert checked["opened"] == 2


def test_an_opened_file_or_its_salt_that_was_changed_fails_the_package(
        cli: Cli, tmp_path: Path, files: Callable[..., Path]) -> None:
    made = _keys(cli, tmp_path)
    _trail(cli)
    ok(_attest(cli, "--attachments", files("session.log", SECRET_LINE), "--encrypt-for",
               made["sealing"]["recipient"]))
    zip_path = tmp_path / "p.zip"
    ok(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", zip_path,
           "--identity", tmp_path / "id.txt"))
    key = ok(cli("ledger", "public-key")).out.strip()
    import hashlib
    import zipfile

    with zipfile.ZipFile(zip_path) as zf:
        opened = json.loads(zf.read("opened.json"))
    forged = b"nothing to see here"
    row = opened["files"][0]
    changed_file = dict(opened, files=[{**row, "sha256": hashlib.sha256(forged).hexdigest(),
                                        "size": len(forged)}])
    from affidavit import canonical

    cases = {
        "bytes": ({"opened/identity/session.log": forged}, "does not match its digest"),
        "bytes and digest": ({"opened/identity/session.log": forged,
                              "opened.json": canonical.dumps(changed_file)},
                             "does not open the entry's commitment"),
        "salt": ({"opened.json": canonical.dumps(dict(opened, files=[
            {**row, "salt": "00" * 32}]))}, "does not open the entry's commitment"),
    }
    for what, (replace, needle) in cases.items():
        bad = rewrite_zip(zip_path, tmp_path / f"bad-{what}.zip", replace=replace)
        assert_error(cli("verify", "package", bad, "--public-key", key), 3, needle)
    extra = rewrite_zip(zip_path, tmp_path / "extra.zip", add={"opened/x/more.txt": b"x"})
    assert_error(cli("verify", "package", extra, "--public-key", key), 3, "unlisted opened")
    plain = rewrite_zip(zip_path, tmp_path / "nolist.zip", drop=("opened.json",))
    assert_error(cli("verify", "package", plain, "--public-key", key), 3, "is not listed")


def test_ciphertext_tampered_in_the_vault_is_caught_and_nothing_is_written(
        cli: Cli, tmp_path: Path, files: Callable[..., Path], home: Home) -> None:
    made = _keys(cli, tmp_path)
    _trail(cli)
    record = ok(_attest(cli, "--attachments", files("session.log", SECRET_LINE * 3000),
                        "--encrypt-for", made["sealing"]["recipient"])).json()["entry"]["record"]
    digest = record["evidence"][0]["sha256"]
    blob = home.blobs / digest[:2] / digest[2:]
    data = bytearray(blob.read_bytes())
    data[-40] ^= 1
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    result = cli("evidence", "get", digest, "-o", tmp_path / "out.log", "--identity",
                 tmp_path / "id.txt")
    assert result.code == 3 and "Traceback" not in result.err, str(result)
    assert not (tmp_path / "out.log").exists()
    assert cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o",
               tmp_path / "p.zip", "--identity", tmp_path / "id.txt").code == 3
    assert not (tmp_path / "p.zip").exists()


def test_bad_recipients_and_identities_are_refused_before_anything_is_written(
        cli: Cli, tmp_path: Path, files: Callable[..., Path], home: Home) -> None:
    made = _keys(cli, tmp_path)
    _trail(cli)
    log = files("session.log", SECRET_LINE)
    before = state(home)
    assert_error(_attest(cli, "--attachments", log, "--encrypt-for", "age1notakey"), 2,
                 "age1notakey", "not an age X25519 recipient")
    assert_error(_attest(cli, "--attachments", log, "--encrypt-for", tmp_path / "none.txt"),
                 2, "none.txt")
    assert_error(_attest(cli, "--attachments", log, "--encrypt-for", files("r.txt", "# x\n")),
                 2, "r.txt", "holds no recipient")
    assert_error(_attest(cli, "--attachments", log, "--encrypt-for", "/dev/zero"), 2,
                 "/dev/zero", "not a regular file")  # never read until memory runs out
    assert state(home) == before
    # a file of recipients, as age -R reads it
    recipients = files("team.txt", f"# release team\n{made['sealing']['recipient']}\n")
    digest = ok(_attest(cli, "--attachments", log, "--encrypt-for",
                        recipients)).json()["entry"]["record"]["evidence"][0]["sha256"]
    assert_error(cli("evidence", "get", digest, "-o", tmp_path / "o", "--identity",
                     files("bad-id.txt", "AGE-SECRET-KEY-1NOPE\n")), 2, "bad-id.txt", "line 1")
    assert_error(cli("evidence", "get", "ab" * 32, "-o", tmp_path / "o", "--identity",
                     tmp_path / "id.txt"), 2, "no attestation names it")
    assert_error(cli("evidence", "get", digest, "-o", tmp_path / "o", "--identity",
                     tmp_path / "no-such-identity.txt"), 2, "no-such-identity.txt",
                 "no such file")
    assert not (tmp_path / "o").exists()


def test_a_signature_cannot_be_moved_onto_another_report(cli: Cli, tmp_path: Path,
                                                          home: Home,
                                                          files: Callable[..., Path]) -> None:
    """Two signed generic reports of one trail say the same predicate; the envelope signs the
    whole record, so one's signature renamed onto the other's slot, or kept over other
    evidence, is an integrity failure on every read (the forgery a helper found in review)."""
    import copy


    _keys(cli, tmp_path)
    _trail(cli, "version: 1\ntrail:\n  require_signed: true\n  attestations:\n"
                "    - {name: service-identity, type: generic}\n"
                "    - {name: command-logs, type: generic}\n", tmp_path)
    signed = ok(_attest(cli, "--signing-key", tmp_path / "sign.pem", "--attachments",
                        files("svc.json", "{}"), name="service-identity")).json()["entry"]
    other = ok(_attest(cli, "--attachments", files("other.txt", "not the log"),
                       name="unrelated")).json()["entry"]["record"]["evidence"]
    assert _status(cli)[0] == "INCOMPLETE"
    forged = copy.deepcopy(signed)
    forged["record"]["name"] = "command-logs"
    forged["record"]["evidence"] = other
    _append_raw(home, forged)
    assert_error(cli("assert", "trail", TRAIL, "--flow", FLOW), 3, "not the attestation")
    assert cli("verify", "ledger").code == 3


def test_four_eyes_leaves_out_the_requester_and_a_slot_can_require_signed_approvals(
        cli: Cli, tmp_path: Path) -> None:
    """``request approval --requester`` names who asks; with ``distinct_from_author`` their own
    approval does not count. With ``signers`` on the approval slot only approvals signed by
    one of those keys count: a name anyone with a write token can type is not enough."""
    made = _keys(cli, tmp_path)
    owner = made["signing"]["keyid"]
    _trail(cli, "version: 1\ntrail:\n  attestations:\n"
                "    - {name: grant-ok, type: approval, distinct_from_author: true, "
                f"signers: [{owner}]}}\n", tmp_path)
    ok(cli("request", "approval", "--flow", FLOW, "--trail", TRAIL, "--name", "grant-ok",
           "--approvers", "j.doe,m.smith", "--requester", "j.doe"))

    def approve(who: str, *extra: Any) -> None:
        ok(cli("attest", "approval", "--flow", FLOW, "--trail", TRAIL, "--name", "grant-ok",
               "--approver", who, *extra))

    def gate() -> Result:
        return cli("assert", "approval", "--flow", FLOW, "--trail", TRAIL, "--name", "grant-ok")

    approve("j.doe", "--signing-key", tmp_path / "sign.pem")  # the requester, signed
    first = gate()
    assert first.code == 1 and "j.doe requested it" in first.out, str(first)
    approve("m.smith")  # the right person, but unsigned
    second = gate()
    assert second.code == 1 and "m.smith did not sign" in second.out, str(second)
    assert _status(cli)[0] == "INCOMPLETE"
    approve("m.smith", "--signing-key", tmp_path / "sign.pem")
    assert gate().code == 0
    assert _status(cli) == ("COMPLIANT", [])


def _append_raw(home: Home, entry: dict[str, Any]) -> None:
    """What a writer going around ``affidavit`` (the SQLite file, or a write token and its own
    client) can append: any bytes, signed by nobody it has the key of."""
    from affidavit import canonical
    from affidavit.ledger.sqlite import SQLiteLedger

    store = SQLiteLedger(home.url)
    try:
        store.append([canonical.dumps(entry)], [entry])
    finally:
        store.close()


def test_an_old_signed_report_appended_again_does_not_count(cli: Cli, tmp_path: Path,
                                                              home: Home) -> None:
    """Good (signed), then failing (signed): appending the good entry again without the key
    would make it the latest; it repeats a signature the trail already holds, so it is a
    replay: not counted, and the trail is NON_COMPLIANT saying so (found in review)."""
    made = _keys(cli, tmp_path)
    _trail(cli, "version: 1\ntrail:\n  attestations:\n"
                f"    - {{name: unit, type: generic, signers: [{made['signing']['keyid']}]}}\n",
           tmp_path)
    good = ok(_attest(cli, "--signing-key", tmp_path / "sign.pem", name="unit")).json()
    ok(_attest(cli, "--signing-key", tmp_path / "sign.pem", "--compliant", "false",
               name="unit"))
    assert cli("assert", "trail", TRAIL, "--flow", FLOW).code == 1
    (tmp_path / "sign.pem").unlink()  # the one replaying has no key
    _append_raw(home, good["entry"])
    status, reasons = _status(cli)
    assert status == "NON_COMPLIANT"
    assert any(f"repeats the signed report of entry {good['index']}" in r for r in reasons)
    assert cli("assert", "trail", TRAIL, "--flow", FLOW).code == 1
    zip_path = tmp_path / "p.zip"
    ok(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", zip_path))
    key = ok(cli("ledger", "public-key")).out.strip()
    checked = ok(cli("verify", "package", zip_path, "--public-key", key, "--output", "json"))
    assert checked.json()["trails"][0]["status"] == "NON_COMPLIANT"  # the same judge offline


def test_a_trail_template_cannot_drop_the_flows_signing_rule(cli: Cli, tmp_path: Path) -> None:
    """Any writer can begin a trail with a template of its own; one that requires less signing
    than the flow's template for a slot is not compliant, with a reason (found in review).
    The flow's own template stays the way to change the rule."""
    made = _keys(cli, tmp_path)
    keyid = made["signing"]["keyid"]
    strict = f"version: 1\ntrail:\n  signers: [{keyid}]\n  attestations:\n" \
             "    - {name: unit, type: generic}\n"
    _trail(cli, strict, tmp_path)
    ok(_attest(cli, "--signing-key", tmp_path / "sign.pem", name="unit"))
    assert _status(cli) == ("COMPLIANT", [])
    loose = tmp_path / "open.yml"
    loose.write_text("version: 1\ntrail:\n  attestations:\n    - {name: unit, type: generic}\n")
    ok(cli("begin", "trail", "t2", "--flow", FLOW, "--template-file", loose))
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", "t2", "--name", "unit"))
    doc = ok(cli("get", "trail", "t2", "--flow", FLOW, "--output", "json")).json()
    assert doc["status"] == "NON_COMPLIANT"
    assert any("drops the signing rule" in r and "'unit'" in r for r in doc["verdict"]["reasons"])
    # a trail template as strict as the flow's is fine
    same = tmp_path / "same.yml"
    same.write_text(strict)
    ok(cli("begin", "trail", "t3", "--flow", FLOW, "--template-file", same))
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", "t3", "--name", "unit",
           "--signing-key", tmp_path / "sign.pem"))
    assert ok(cli("get", "trail", "t3", "--flow", FLOW, "--output", "json")).json()[
        "status"] == "COMPLIANT"
    # the flow's owner loosens the flow's own template: that is the way, and it holds
    ok(cli("create", "flow", FLOW, "--template-file", loose))
    assert ok(cli("get", "trail", "t2", "--flow", FLOW, "--output", "json")).json()[
        "status"] == "COMPLIANT"


@pytest.mark.parametrize("pointer", ["/user_data/list/\u00b2", "/user_data/list/\u0661",
                                     "/user_data/list/01", "/user_data/list/-1"])
def test_an_array_index_is_ascii_digits_only(cli: Cli, files: Callable[..., Path],
                                              home: Home, pointer: str) -> None:
    """RFC 6901 indices are ASCII digits without a leading zero: ``²`` crashed and ``١``
    removed an element (found in review); each is now a pointer that names nothing."""
    _trail(cli)
    data = files("ud.json", json.dumps({"list": ["a", "b", "c"]}))
    before = state(home)
    assert_error(_attest(cli, "--user-data", data, "--redact", pointer), 2, "no such field")
    assert state(home) == before


def test_deeply_nested_user_data_is_redacted_without_a_recursive_copy(
        cli: Cli, files: Callable[..., Path]) -> None:
    _trail(cli)
    depth = 900
    data = files("deep.json", '{"keep": 1, "drop": 2, "deep": ' + "[" * depth + "]" * depth + "}")
    record = ok(_attest(cli, "--user-data", data, "--redact", "/user_data/drop")).json()[
        "entry"]["record"]
    assert "drop" not in record["user_data"] and record["user_data"]["keep"] == 1


def test_redacting_the_predicate_of_an_attached_report_is_refused(
        cli: Cli, files: Callable[..., Path], home: Home) -> None:
    """The collector keeps the report it read as evidence: redacting the predicate would leave
    the field in that file (found in review), unless the report is not attached."""
    _trail(cli)
    report = files("r/TEST-s.xml", '<testsuite name="s" tests="1"><testcase classname="c" '
                                   'name="secret-case-name"/></testsuite>')
    before = state(home)
    assert_error(cli("attest", "junit", "--flow", FLOW, "--trail", TRAIL, "--name", "unit",
                     "--results-dir", report.parent, "--redact", "/predicate/files"), 2,
                 "--no-attach")
    assert state(home) == before
    ok(cli("attest", "junit", "--flow", FLOW, "--trail", TRAIL, "--name", "unit",
           "--results-dir", report.parent, "--redact", "/predicate/files", "--no-attach"))


@pytest.mark.parametrize("sealed", [
    {"format": "age", "recipients": ["age1x"], "commitment": "00", "opening": "AAAA"},
    {"format": "age", "recipients": ["age1x"], "commitment": "ab" * 32, "opening": 5},
    "x",
    {"format": "age", "recipients": [], "commitment": "ab" * 32, "opening": "AAAA"},
    {"format": "age", "recipients": ["age1x"], "commitment": "ab" * 32, "opening": "AAAA",
     "extra": True},
])
def test_a_sealed_reference_of_the_wrong_shape_is_refused_on_ingest(ledger: Any,
                                                                    sealed: Any) -> None:
    """What every reader and ``verify package`` read of a sealed reference is checked before
    a server stores it: a wrong type crashed ``evidence get --identity`` and made a trail's
    packages unverifiable for ever (found in review)."""
    from affidavit.errors import InputError
    from affidavit.models import build
    from affidavit.verify.proven import admit

    record = build.attestation(flow=FLOW, trail=TRAIL, name="x", type="generic",
                               compliant=True, predicate={"compliant": True},
                               evidence=[{"name": "a", "sha256": "cd" * 32, "size": 1,
                                          "sealed": sealed}])
    with pytest.raises(InputError, match="not a valid attestation"):
        admit(ledger, [build.entry("attestation", record)])
