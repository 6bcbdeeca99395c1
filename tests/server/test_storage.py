"""The server's storage chosen by URL: evidence in S3 (moto's server on 127.0.0.1, through
boto3) behind a SQLite ledger, reached by the CLI over HTTP like any other."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FLOW, TRAIL
from tests.helpers import Home, Result, assert_error
from tests.server.conftest import Server

REPORT = ('<testsuite name="s" tests="1"><testcase classname="c" name="t"/></testsuite>\n')


def test_evidence_goes_to_s3_and_comes_back_verified(
        cli: Callable[..., Result], home: Home, bucket: Any,  # noqa: F811
        tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", bucket.meta.client.meta.endpoint_url)
    server = Server(tmp_path_factory.mktemp("s3-server"))
    server.start(home.db, "--evidence", f"s3://{bucket.name}/team")
    monkeypatch.setenv("AFFIDAVIT_LEDGER", server.url)
    try:
        report = tmp_path / "TEST-s.xml"
        report.write_text(REPORT)
        assert cli("create", "flow", FLOW).code == 0
        assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
        assert cli("attest", "junit", "--flow", FLOW, "--trail", TRAIL, "--name", "unit",
                   "--results", report).code == 0
        digest = hashlib.sha256(REPORT.encode()).hexdigest()
        keys = sorted(o.key for o in bucket.objects.all())
        assert keys == [f"team/sha256/{digest[:2]}/{digest}"]
        assert not home.blobs.exists()  # not in the ledger's own vault
        out = tmp_path / "copy.xml"
        assert cli("evidence", "get", digest, "-o", out).code == 0
        assert out.read_text() == REPORT
        assert cli("verify", "ledger", "--deep").code == 0
        bucket.Object(keys[0]).put(Body=b"altered")
        assert_error(cli("evidence", "get", digest, "-o", tmp_path / "x.xml"), 3)
    finally:
        server.stop()


def test_a_bad_evidence_url_is_refused_before_listening(
        cli: Callable[..., Result], home: Home) -> None:
    assert_error(cli("server", "--ledger", home.url, "--evidence", "ftp://x/y"), 2, "ftp://x/y")


@pytest.mark.parametrize(("extra", "env", "named"), [
    (("--evidence", "s3://shared/evidence"), {}, "--evidence s3://shared/evidence"),
    ((), {"AFFIDAVIT_SIGNING_KEY_FILE": "/keys/ledger.key"}, "AFFIDAVIT_SIGNING_KEY_FILE"),
    ((), {"AFFIDAVIT_SIGNING_KEY_FILE": "/keys/{org}.key", "AFFIDAVIT_EVIDENCE_DIR": "/vault"},
     "AFFIDAVIT_EVIDENCE_DIR"),
])
def test_organisations_never_share_a_store(cli: Callable[..., Result], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           extra: tuple[str, ...], env: dict[str, str],
                                           named: str) -> None:
    """With a ledger per organisation, an evidence store or a signing key without ``{org}``
    would be one for all of them (one organisation's files served to another; a key file no
    second ledger can start under): refused before listening."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ledger = ("postgresql://affidavit@127.0.0.1:1/org_{org}" if env
              else f"{tmp_path}/{{org}}.db")
    assert_error(cli("server", "--ledger", ledger, "--tokens", tmp_path / "tokens.db",
                     *extra), 2, named, "{org}")


def test_a_ledger_per_organisation_on_postgresql(
        cli: Callable[..., Result], tmp_path: Path, files: Callable[..., Path],
        monkeypatch: pytest.MonkeyPatch, postgresql_proc: Any) -> None:
    """Each organisation's ledger in its own database, signed by its own key, its evidence in
    its own vault: one organisation's evidence is not found through another's."""
    import psycopg
    import requests

    from tests.server.test_auth import _token

    with psycopg.connect(postgresql_proc.url("postgres"), autocommit=True) as conn:
        for org in ("acme", "globex"):
            conn.execute(f'CREATE DATABASE "org_{org}"')  # type: ignore[arg-type]
    tokens = tmp_path / "tokens.db"
    made = {org: _token(tokens, org, "write") for org in ("acme", "globex")}
    server = Server(tmp_path / "server")
    (tmp_path / "server").mkdir()
    server.start(postgresql_proc.url("org_{org}"), "--tokens", str(tokens), env={
        "AFFIDAVIT_SIGNING_KEY_FILE": str(tmp_path / "keys-{org}.key"),
        "AFFIDAVIT_EVIDENCE_DIR": str(tmp_path / "vault-{org}")})
    try:
        digests = {}
        for org in ("acme", "globex"):
            monkeypatch.setenv("AFFIDAVIT_LEDGER", f"{server.url}/orgs/{org}")
            monkeypatch.setenv("AFFIDAVIT_API_TOKEN", made[org])
            assert cli("create", "flow", FLOW).code == 0
            assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
            report = files(f"{org}/report.txt", f"{org}'s evidence\n")
            assert cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x",
                       "--attachments", report).code == 0
            digests[org] = hashlib.sha256(f"{org}'s evidence\n".encode()).hexdigest()
            assert cli("verify", "ledger", "--deep").code == 0
        keys = {org: (tmp_path / f"keys-{org}.key").read_bytes() for org in ("acme", "globex")}
        assert keys["acme"] != keys["globex"]
        for org in ("acme", "globex"):
            held = {p.name for p in (tmp_path / f"vault-{org}").rglob("*") if p.is_file()}
            assert any(digests[org][2:] in name or digests[org] in name for name in held)
        exists = requests.get(f"{server.url}/api/v1/orgs/globex/evidence/{digests['acme']}"
                              "/exists", headers={"Authorization": f"Bearer {made['globex']}"},
                              timeout=10)
        assert exists.json() == {"exists": False}
        assert_error(cli("evidence", "get", digests["acme"], "-o", tmp_path / "x"), 2)
    finally:
        server.stop()
