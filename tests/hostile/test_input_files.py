"""Every JSON or YAML input goes through one strict reader (issue 11, item 1): regular files
only, 64 MiB at most, no duplicate keys, no NaN, no lone surrogates, no 5000-digit integers.
Each case is exit 2, one line naming the file, and nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import Cli, Home, Result, assert_error, state

BAD_JSON = {
    "duplicate-key": (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
    "nested-duplicate": (b'{"x": {"k": true, "k": false}}', "duplicate key 'k'"),
    "nan": (b'{"a": NaN}', "NaN is not a JSON number"),
    "infinity": (b'{"a": -Infinity}', "-Infinity is not a JSON number"),
    "overflowing-float": (b'{"a": 1e999}', "1e999 is out of range"),
    "lone-surrogate": (b'{"a": "\\ud800"}', "lone surrogate"),
    "huge-integer": (b'{"a": ' + b"9" * 5000 + b"}", "a number is too long"),
    "not-utf8": (b'{"a": "\xff"}', "not UTF-8"),
    "deep": (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
}


def _user_data(cli: Cli, path: Path | str) -> Result:
    return cli("attest", "generic", "--flow", "demo", "--trail", "t1", "--name", "unit",
               "--user-data", path)


@pytest.mark.parametrize("case", list(BAD_JSON))
def test_bad_json_is_refused(cli: Cli, home: Home, trail: None, tmp_path: Path,
                             case: str) -> None:
    data, needle = BAD_JSON[case]
    path = tmp_path / f"{case}.json"
    path.write_bytes(data)
    before = state(home)
    assert_error(_user_data(cli, path), 2, f"user data file {path}", needle)
    assert state(home) == before


def test_fifo_and_devices_are_not_regular_files(cli: Cli, home: Home, trail: None,
                                                tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    before = state(home)
    for path in (fifo, "/dev/zero"):
        assert_error(_user_data(cli, path), 2, f"user data file {path}", "not a regular file")
    assert_error(_user_data(cli, tmp_path), 2, "is a directory")
    assert state(home) == before


def test_oversized_input_is_refused(cli: Cli, home: Home, trail: None, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.truncate((64 << 20) + 1)  # sparse: no 64 MiB written to disk
    before = state(home)
    assert_error(_user_data(cli, big), 2, "larger than 64 MiB")
    assert state(home) == before


def test_duplicate_yaml_keys_in_a_template_are_refused(cli: Cli, home: Home, trail: None,
                                                       tmp_path: Path) -> None:
    template = tmp_path / "template.yml"
    template.write_text("version: 1\ntrail:\n  attestations:\n    - {name: unit, type: junit}\n"
                        "trail:\n  attestations: []\n")
    before = state(home)
    assert_error(cli("create", "flow", "shop", "--template-file", template), 2,
                 f"template file {template}", "duplicate key 'trail'", "line 5")
    assert state(home) == before
