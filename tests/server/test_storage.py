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
