"""Backend lookup by URL scheme through entry points, and the cache that keeps it cheap."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from affidavit.errors import UsageError
from affidavit.ledger import registry
from affidavit.ledger.sqlite import SQLiteLedger


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("AFFIDAVIT_NO_PLUGIN_CACHE", raising=False)
    return tmp_path / "cache"


def _cache_file(cache: Path) -> Path:
    (found,) = cache.glob("plugins-*.json")
    return found


def test_builtin_sqlite_backend_is_registered_as_an_entry_point(cache: Path) -> None:
    assert registry.backends()["sqlite"] == "affidavit.ledger.sqlite:SQLiteLedger"
    assert json.loads(_cache_file(cache).read_text())["ledgers"]["sqlite"].endswith(
        ":SQLiteLedger")


def test_cache_is_used_while_the_import_path_is_unchanged(
        cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry.backends()
    path = _cache_file(cache)
    doc = json.loads(path.read_text())
    doc["ledgers"]["memo"] = "some.module:Backend"
    path.write_text(json.dumps(doc))
    assert registry.backends()["memo"] == "some.module:Backend"  # served from the cache
    monkeypatch.setenv("AFFIDAVIT_NO_PLUGIN_CACHE", "1")
    assert "memo" not in registry.backends()  # a real scan


def test_cache_is_invalidated_when_the_import_path_changes(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry.backends()
    path = _cache_file(cache)
    doc = json.loads(path.read_text())
    doc["ledgers"]["memo"] = "some.module:Backend"
    path.write_text(json.dumps(doc))
    extra = tmp_path / "site"
    extra.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(extra)])
    assert "memo" not in registry.backends()


def test_corrupt_or_unwritable_cache_falls_back_to_a_scan(
        cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry.backends()
    _cache_file(cache).write_text("{not json")
    assert "sqlite" in registry.backends()
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", "/proc/affidavit-cannot-write-here")
    assert "sqlite" in registry.backends()


def test_unknown_scheme_is_a_usage_error_naming_what_is_installed(cache: Path) -> None:
    with pytest.raises(UsageError, match=r"no ledger backend for ftp:// \(installed: .*sqlite"):
        registry.open_ledger("ftp://example/ledger")


def test_default_url_is_at_the_git_root_else_the_cwd(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(repo / "a" / "b")
    assert registry.default_url() == str(repo / ".affidavit" / "ledger.db")
    bare = tmp_path / "bare"
    bare.mkdir()
    monkeypatch.chdir(bare)
    if not any((p / ".git").exists() for p in bare.parents):
        assert registry.default_url() == str(bare / ".affidavit" / "ledger.db")


def test_open_ledger_reads_the_environment(cache: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFIDAVIT_LEDGER", f"sqlite:///{tmp_path}/env.db")
    ledger = registry.open_ledger(create=False)
    assert isinstance(ledger, SQLiteLedger)
    assert os.path.abspath(ledger.path) == str(tmp_path / "env.db")
