"""A private Sigstore instance per test module, its trust root exported as the one to use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sigstore.instance import Instance

pytest.importorskip("sigstore.verify", reason="the sigstore extra is not installed")


@pytest.fixture(scope="module")
def instance() -> Instance:
    return Instance()


@pytest.fixture
def trust_root(instance: Instance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The instance's trust root, as ``AFFIDAVIT_SIGSTORE_TRUSTED_ROOT``."""
    path = tmp_path / "trusted_root.json"
    path.write_text(json.dumps(instance.trusted_root()))
    monkeypatch.setenv("AFFIDAVIT_SIGSTORE_TRUSTED_ROOT", str(path))
    return path
