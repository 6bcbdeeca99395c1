"""A directory's ``.kosli_ignore`` is read with a bound (issue 11, item 1): linked to a device
or a FIFO, or larger than 1 MiB, it is exit 2 naming it, never a hang or a read without end.
(Kosli bounds lines, at 64 KiB, not files; within 1 MiB the fingerprint stays Kosli's.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import Cli, assert_error


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    root.mkdir()
    (root / "app.bin").write_bytes(b"app")
    return root


def test_ignore_file_linked_to_a_device(cli: Cli, tree: Path) -> None:
    (tree / ".kosli_ignore").symlink_to("/dev/zero")
    assert_error(cli("fingerprint", tree, "--artifact-type", "dir"), 2, ".kosli_ignore",
                 "not a regular file")


def test_ignore_file_that_is_a_fifo(cli: Cli, tree: Path) -> None:
    os.mkfifo(tree / ".kosli_ignore")
    assert_error(cli("fingerprint", tree, "--artifact-type", "dir"), 2, ".kosli_ignore",
                 "not a regular file")


def test_ignore_file_over_1_mib(cli: Cli, tree: Path) -> None:
    (tree / ".kosli_ignore").write_bytes(b"logs\n" * ((1 << 20) // 5 + 1))
    assert_error(cli("fingerprint", tree, "--artifact-type", "dir"), 2, ".kosli_ignore",
                 "larger than 1 MiB")


def test_ignore_file_at_1_mib_is_read(cli: Cli, tree: Path) -> None:
    rules = b"logs\n" * ((1 << 20) // 5)
    assert len(rules) <= 1 << 20
    (tree / ".kosli_ignore").write_bytes(rules)
    result = cli("fingerprint", tree, "--artifact-type", "dir")
    assert result.code == 0, result.err
    assert len(result.out.strip()) == 64
