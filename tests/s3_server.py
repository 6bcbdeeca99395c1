"""A real S3 endpoint for the tests: moto's ``ThreadedMotoServer`` on 127.0.0.1 in a child
process (the stores talk real HTTP to it through boto3, no in-process patching), one per
worker, with the environment a deployment gives credentials and the endpoint through."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import Home

__all__ = ["moto_endpoint", "s3_env", "bucket"]

_SERVER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the test run closes the pipe
server.stop()
"""


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real S3 endpoint over HTTP on 127.0.0.1, for the whole run of this worker."""
    child = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None and child.stdin is not None
    port = child.stdout.readline().strip()
    if not port.isdigit():
        child.kill()
        pytest.fail("moto server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@pytest.fixture
def s3_env(home: Home, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Credentials and endpoint as a deployment gives them: through the environment."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AFFIDAVIT_S3_ENDPOINT", moto_endpoint)
    return moto_endpoint


@pytest.fixture
def bucket(s3_env: str) -> Any:
    """A fresh, empty bucket: the raw boto3 handle on it, to look behind the store's back."""
    import boto3

    resource = boto3.session.Session().resource("s3", endpoint_url=s3_env)
    made = resource.Bucket(f"ev-{uuid.uuid4().hex[:12]}")
    made.create()
    return made


