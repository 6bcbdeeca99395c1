"""AWS for the snapshot sources' tests: the session's moto server (``moto_endpoint``, see
tests/s3_server.py) reached through the environment a deployment configures, and, for what
moto does not model (pages, digests, throttling, refused credentials), a local server
answering with JSON of the documented shapes (``aws/``, see its SOURCES.md).

Each test gets an AWS account of its own on the shared moto server (moto keeps one state per
account id, chosen by the ``x-moto-account-id`` header), so a listing of "every function"
sees only what the test created.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from affidavit.collect.environments import aws as aws_clients

__all__ = ["Account", "aws_fixture", "aws_env_fixture", "fixture", "FIXTURES", "REGION",
           "json_error"]

FIXTURES = Path(__file__).parent / "aws"
REGION = "eu-west-1"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@dataclass(frozen=True)
class Account:
    """One test's AWS account on the moto server."""

    endpoint: str
    id: str

    def client(self, service: str, **kwargs: Any) -> Any:
        """A client made the way the sources make theirs, inside this account."""
        made = aws_clients.client(service, **kwargs)
        account = self.id

        def in_account(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account

        made.meta.events.register("before-sign", in_account)
        return made


def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing from the machine running the tests: no profile, no metadata service."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(name="aws_env")
def aws_env_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and a region, as a pipeline gives them: through the environment."""
    _clean_environment(monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_REGION", REGION)


@pytest.fixture(name="aws")
def aws_fixture(moto_endpoint: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Account:
    """A fresh account on the moto server, its endpoint given as ``AWS_ENDPOINT_URL``."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return Account(moto_endpoint, str(100_000_000_000 + secrets.randbelow(899_999_999_999)))


def json_error(code: str, message: str) -> str:
    """The body of an AWS JSON-protocol error (ECS, and Lambda's REST-JSON)."""
    return json.dumps({"__type": code, "message": message})
