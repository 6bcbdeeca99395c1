"""Ledger URLs: only the documented forms (a path, ``sqlite:///rel``, ``sqlite:////abs``);
anything else is exit 2 with nothing written anywhere (issue 11, item 6)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import Cli, assert_error


@pytest.mark.parametrize(("url", "needle"), [
    ("file:l.db?mode=memory", "not a form affidavit reads"),
    ("file:l.db", "not a form affidavit reads"),
    ("ftp://ledger.example/l", "no ledger backend for ftp://"),
    ("https://ledger.example/l?org=x", "query strings, fragments and credentials"),
    ("https://user:secret@ledger.example", "query strings, fragments and credentials"),
    ("http://ledger.example", "plain http is only for a server on this machine"),
    ("https://", "names no host"),
    ("https://ledger.example:99999", "is not a URL"),
    ("sqlite:l.db", "not a form affidavit reads"),
    ("sqlite://", "has no path"),
    ("sqlite:///", "has no path"),
    ("sqlite:///l.db?mode=ro", "query strings and fragments are not supported"),
    ("l.db?cache=shared", "query strings and fragments are not supported"),
    ("l.db#x", "query strings and fragments are not supported"),
    ("ledgers/", "names no database file"),
])
def test_undocumented_ledger_urls_are_refused(cli: Cli, tmp_path: Path, url: str,
                                              needle: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ledgers").mkdir()
    before = sorted(os.listdir(tmp_path))
    for argv in (["create", "flow", "f", "--ledger", url], ["list", "flows", "--ledger", url]):
        assert_error(cli(*argv), 2, needle)
    assert sorted(os.listdir(tmp_path)) == before
    assert os.listdir(tmp_path / "ledgers") == []


def test_documented_forms_still_work(cli: Cli, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for url in ("plain.db", "sqlite:///rel.db", f"sqlite:///{tmp_path}/abs.db"):
        result = cli("create", "flow", "f", "--ledger", url)
        assert result.code == 0, result.err
    assert {"plain.db", "rel.db", "abs.db"} <= set(os.listdir(tmp_path))
