"""affidavit.walk: the same matches as ``glob.glob`` on a plain tree, and errors where it would
silently skip (unreadable directories, links out of the tree, loops, special files)."""

from __future__ import annotations

import errno
import glob
import os
from pathlib import Path

import pytest

from affidavit.errors import InputError
from affidavit.walk import files_below, glob_files

TREE = [
    "a.xml", "b.txt", ".hidden.xml", "sub/c.xml", "sub/deep/d.xml", "sub/deep/e.json",
    "sub/.dot/f.xml", "other/g.xml", "other/TEST-h.xml", "x[1]/i.xml",
]


@pytest.fixture()
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "r"
    for name in TREE:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    monkeypatch.chdir(tmp_path)
    return root


PATTERNS = [
    "r/*.xml", "r/**/*.xml", "r/**", "r/*/*.xml", "r/sub/**/*.xml", "r/**/deep/*",
    "r/?.xml", "r/[ab].*", "r/other/TEST-*.xml", "r/*/deep/d.xml", "r/.*", "r/sub/.*/*.xml",
    "r/sub/*/", "**/*.json", "r/nothing/*.xml", "r/*/nothing.xml",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_glob_matches_what_glob_glob_matches(tree: Path, pattern: str) -> None:
    want = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    assert [p for p, _ in glob_files(pattern, "--results")] == want


def test_repeated_separators_are_one(tree: Path) -> None:
    # glob.glob keeps the spelling (and here matched nothing); the walk reads it as one '/'
    assert [p for p, _ in glob_files("r//sub///*.xml", "--results")] == ["r/sub/c.xml"]


def test_absolute_glob_matches_glob_glob(tree: Path) -> None:
    pattern = f"{tree}/**/*.xml"
    want = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    assert [p for p, _ in glob_files(pattern, "--results")] == want


def test_files_below_selects_and_sorts(tree: Path) -> None:
    got = [p for p, _ in files_below("r", "--results-dir", lambda n: n.endswith(".xml"))]
    assert got == sorted(f"r/{n}" for n in TREE if n.endswith(".xml"))


def _unreadable(monkeypatch: pytest.MonkeyPatch, blocked: str) -> None:
    """scandir refusing one directory, as it does for another user after ``chmod 000``
    (root, which runs CI, reads through any mode; tests/hostile drops privileges for real)."""
    real = os.scandir

    def scandir(path: str) -> object:
        if os.path.normpath(path) == os.path.normpath(blocked):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_unreadable_subdirectory_is_refused(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _unreadable(monkeypatch, "r/sub/deep")
    with pytest.raises(InputError, match=r"--results-dir r: r/sub/deep cannot be read "
                                         r"\(permission denied\); an unreadable directory"):
        files_below("r", "--results-dir")
    with pytest.raises(InputError, match="r/sub/deep cannot be read"):
        glob_files("r/**/*.xml", "--results")
    # a glob that does not need the directory does not list it
    assert glob_files("r/other/*.xml", "--results")


def test_unreadable_given_directory_is_refused(tree: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _unreadable(monkeypatch, "r")
    with pytest.raises(InputError, match=r"^--results-dir r: cannot be read"):
        files_below("r", "--results-dir")


def test_link_out_of_the_tree_is_refused(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.xml").write_text("x")
    (tree / "sub" / "out.xml").symlink_to(tmp_path / "outside.xml")
    with pytest.raises(InputError, match=r"r/sub/out.xml links to .*outside.xml, outside r; "
                                         "links out of the tree given are not followed"):
        files_below("r", "--results-dir")
    with pytest.raises(InputError, match="links out of the tree"):
        glob_files("r/**/*.xml", "--results")
    # not selected: a link out of the tree that the walk would not read is left alone
    assert files_below("r", "--results-dir", lambda n: n.endswith(".json"))


def test_directory_link_out_of_the_tree_is_refused(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tree / "sub" / "etc").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InputError, match="r/sub/etc links to .*elsewhere, outside r"):
        files_below("r", "--results-dir", lambda n: n.endswith(".xml"))


def test_links_inside_the_tree(tree: Path) -> None:
    (tree / "sub" / "again").symlink_to("..")  # a directory link to an ancestor: no loop
    (tree / "alias.xml").symlink_to("sub/c.xml")
    found = files_below("r", "--results-dir", lambda n: n.endswith(".xml"))
    paths = [p for p, _ in found]
    assert "r/alias.xml" in paths and not any("again" in p for p in paths)
    alias, real = dict(found)["r/alias.xml"], dict(found)["r/sub/c.xml"]
    assert alias == real  # the same (device, inode): callers count the file once


def test_symlink_given_as_the_tree(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(tree)
    assert len(files_below("link", "--results-dir")) == len(TREE)


@pytest.mark.parametrize("kind", ["loop", "dangling"])
def test_selected_bad_link_is_refused(tree: Path, kind: str) -> None:
    target = "loop.xml" if kind == "loop" else "nowhere"
    (tree / "loop.xml").symlink_to(target)
    problem = "is a symlink loop" if kind == "loop" else "is a symlink whose target cannot be read"
    with pytest.raises(InputError, match=f"r/loop.xml {problem}"):
        files_below("r", "--results-dir")
    assert files_below("r", "--results-dir", lambda n: n.endswith(".json"))


def test_special_file_is_refused(tree: Path) -> None:
    os.mkfifo(tree / "sub" / "pipe.xml")
    with pytest.raises(InputError, match=r"r/sub/pipe.xml is not a regular file"):
        files_below("r", "--results-dir", lambda n: n.endswith(".xml"))
    with pytest.raises(InputError, match=r"r/sub/pipe.xml is not a regular file"):
        glob_files("r/sub/*.xml", "--results")
    (tree / "dev.xml").symlink_to("/dev/zero")
    with pytest.raises(InputError, match="r/dev.xml links to /dev/zero, outside r"):
        glob_files("r/*.xml", "--results")


@pytest.mark.parametrize("given, problem", [("r/a.xml", "not a directory"),
                                            ("r/none", "no such directory")])
def test_not_a_directory(tree: Path, given: str, problem: str) -> None:
    with pytest.raises(InputError, match=f"^--results-dir {given}: {problem}$"):
        files_below(given, "--results-dir")
