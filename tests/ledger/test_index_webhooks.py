"""Where webhook entries are filed, and which shapes every reader accepts: an environment's
under ``env:``/``webhooks:`` as before, a flow's under ``flow:``/``flowhooks:`` (the one key a
write to the flow's trails counts), and a webhook naming both or neither is no valid entry for
the key function, the readers (``verify.proven``) or the package verifier's model."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from affidavit.errors import IntegrityError
from affidavit.ledger import index
from affidavit.models import build
from affidavit.models.records import ENTRY
from affidavit.verify.proven import _shaped_keys

URL = "https://hooks.example.com/x"


def hook(**fields: Any) -> dict[str, Any]:
    return build.entry("webhook", build.webhook(name="w", url=URL, **fields),
                       time="2026-01-31T10:00:00Z")


def test_a_flow_webhook_is_filed_under_its_flow() -> None:
    entry = hook(flow="access", events=["trail-begun"], format="slack")
    assert index.keys(entry) == ["flow:access", "flowhooks:access"]
    assert _shaped_keys(entry, 7, "here")[1] == index.keys(entry)
    assert ENTRY.validate_python(entry).canonical() == entry


def test_an_environment_webhook_is_filed_as_before() -> None:
    entry = hook(environment="prod", events=["started"])
    assert entry["record"] == {"name": "w", "environment": "prod", "url": URL,
                               "events": ["started"]}
    assert index.keys(entry) == ["env:prod", "webhooks:prod"]
    assert ENTRY.validate_python(entry).canonical() == entry


@pytest.mark.parametrize("fields", [
    {"environment": "prod", "flow": "access", "events": ["started"]},
    {"events": ["started"]},
    {"flow": 7, "events": ["trail-begun"]},
])
def test_a_webhook_of_both_or_neither_is_refused_by_readers(fields: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError, match="entry 3 is not a valid"):
        _shaped_keys(hook(**fields), 3, "ledger x")


@pytest.mark.parametrize("fields", [
    {"environment": "prod", "flow": "access", "events": ["started"]},
    {"flow": "access", "events": ["started"]},
    {"environment": "prod", "events": ["verdict-changed"]},
    {"environment": "prod", "events": ["started"], "format": "slack"},
    {"flow": "access", "events": ["trail-begun"], "format": "xml"},
])
def test_the_model_refuses_what_no_webhook_can_send(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ENTRY.validate_python(hook(**fields))
