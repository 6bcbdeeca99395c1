"""Tests of affidavit.collect.fingerprint and the modules it builds on (goglob, hashing,
kosli_ignore).

Expected digests come from three independent places:

- the known-answer vectors of Kosli CLI's own tests (kosli-dev/cli, internal/digest/
  digest_test.go: TestFileSha256, TestDirSha256), carried over verbatim;
- digests computed here step by step with hashlib, following the documented algorithm
  (hex sha256 of each base name, then of each file's content, in lexical walk order);
- ``reference_digest`` below, a deliberately naive re-statement of that algorithm, used for
  larger trees and for the exclusion table, whose expected excluded sets are derived by hand
  from Kosli's glob rules (and agree with the "has effect" column of Kosli's
  internal/digest/virtualignore_test.go).
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

import affidavit.collect.fingerprint.dirsha as fp
from affidavit.collect.fingerprint import (
    ArtifactType,
    fingerprint,
    fingerprint_dir,
    fingerprint_file,
    goglob,
    hashing,
    kosli_ignore,
)
from affidavit.errors import InputError, UsageError

EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

Tree = Mapping[str, "str | bytes | None"]  # relative path -> content; None makes a directory


def hx(data: bytes | str) -> bytes:
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest().encode()


def make_tree(root: Path, tree: Tree) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in tree.items():
        path = root / rel
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def reference_digest(root: Path | bytes, skip: frozenset[str] = frozenset()) -> str:
    """The documented algorithm, naively: ``skip`` holds relative paths left out (with subtree)."""
    stream = bytearray()

    def visit(directory: bytes, rel: str) -> None:
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            child = f"{rel}/{os.fsdecode(name)}" if rel else os.fsdecode(name)
            if child in skip:
                continue
            stream.extend(hx(name))
            if os.path.islink(path):
                if os.path.isdir(path):
                    stream.extend(hx(os.readlink(path)))
                else:
                    with open(path, "rb") as f:
                        stream.extend(hx(f.read()))
            elif os.path.isdir(path):
                visit(path, child)
            else:
                with open(path, "rb") as f:
                    stream.extend(hx(f.read()))

    visit(os.fsencode(root), "")
    return hashlib.sha256(stream).hexdigest()


# ---------------------------------------------------------------------------------------------
# Kosli's own vectors


@pytest.mark.parametrize(
    ("content", "want"),
    [
        ("", EMPTY),
        ("this is non empty", "1256d6510a6606ad61a4f6104243a291b18383b456d50205eba893b51e1807bc"),
        ("this is non empty.", "a50afcf37a327e0715b3148c2625bc28b3e4dcdf32b6cf78c8b8fa3ac1ebfe47"),
    ],
)
def test_kosli_file_vectors(tmp_path: Path, content: str, want: str) -> None:
    path = tmp_path / "test"
    path.write_text(content)
    assert fingerprint_file(path) == want
    assert fingerprint(str(path), "file") == want


NESTED = {
    "sample.yaml": "some content. And some more.",
    "nested-dir/file1": "content1",
    "nested-dir/file2": "content2",
}

KOSLI_DIR_VECTORS: list[tuple[str, Tree, list[str], str]] = [
    (
        "change client (python) counterpart",
        {"file.extra": "this is known extra content"},
        [],
        "c71f5baef8cce289c9b7c971cf219e21b787a025af68ad6539b82634fe62819e",
    ),
    ("an empty dir has a digest", {}, [], EMPTY),
    (
        "a non-empty dir has a digest",
        {"sample.txt": "some content."},
        [],
        "388ab80164bbd9d96f132b046b8d09354f68b79a3668da7b507625cd1230dddf",
    ),
    (
        "changing a file content changes the digest",
        {"sample.txt": "some content. And some more."},
        [],
        "5b0e14a923d7239b0a23750a6bbfc837f71e684b8bdc2909d5ff6d90e59449c1",
    ),
    (
        "changing a file name changes the digest",
        {"sample.yaml": "some content. And some more."},
        [],
        "c38fbc1a99dad628142d0b7e2e05901362623d2b81e316d2cf650b08e93e0cef",
    ),
    (
        "a dir with a nested dir has a digest",
        NESTED,
        [],
        "5d3c17dae9e208bbb92ee04ff8342abf77cb0959764def4af3ccfe9a2109d4a7",
    ),
    (
        "a dir with a nested dir with a different name has a different digest",
        {
            "sample.yaml": "some content. And some more.",
            "nested-dir2/file1": "content1",
            "nested-dir2/file2": "content2",
        },
        [],
        "db40d79b3a15b17ee9fcc2f49aa73736e0073de6b5a35c459268bb9a31e55139",
    ),
    (
        "excluding dirs works with nested dir",
        {**NESTED, "logs/file1": "content1"},
        ["logs"],
        "5d3c17dae9e208bbb92ee04ff8342abf77cb0959764def4af3ccfe9a2109d4a7",
    ),
    (
        "excluding dirs and files works with nested dir",
        {**NESTED, "logs/file1": "content1"},
        ["logs", "nested-dir/file1"],
        "2acbc9efc1f86f89086a9539244946839599b3639da7f4959744c20234cb4f40",
    ),
    (
        "excluding dirs using glob pattern works",
        {**NESTED, "nested-dir/logs/log.txt": "this is a log", "logs/file1": "content1"},
        ["logs", "*/logs"],
        "5d3c17dae9e208bbb92ee04ff8342abf77cb0959764def4af3ccfe9a2109d4a7",
    ),
    (
        ".kosli_ignore is included in the fingerprint",
        {**NESTED, ".kosli_ignore": "logs\n*/logs"},
        [],
        "4048004ce6f91e8ce27c35e5e857948a46750567cf7c873ee32b120f4318363c",
    ),
    (
        "excluding dirs using .kosli_ignore in root works",
        {
            **NESTED,
            ".kosli_ignore": "logs\n*/logs",
            "nested-dir/logs/log.txt": "this is a log",
            "logs/file1": "content1",
        },
        [],
        "4048004ce6f91e8ce27c35e5e857948a46750567cf7c873ee32b120f4318363c",
    ),
]


@pytest.mark.parametrize(
    ("tree", "exclude", "want"),
    [pytest.param(t, e, w, id=name) for name, t, e, w in KOSLI_DIR_VECTORS],
)
def test_kosli_dir_vectors(tmp_path: Path, tree: Tree, exclude: list[str], want: str) -> None:
    root = make_tree(tmp_path / "test_dir", tree)
    assert fingerprint_dir(root, exclude) == want
    assert fingerprint(root, "dir", exclude) == want


def test_root_name_is_not_hashed(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "test4", {"sample.yaml": "some content. And some more."})
    b = make_tree(tmp_path / "test44", {"sample.yaml": "some content. And some more."})
    assert fingerprint_dir(a) == fingerprint_dir(b)


# ---------------------------------------------------------------------------------------------
# the algorithm, computed step by step


def test_step_by_step_walk_order_nested_and_empty_dirs(tmp_path: Path) -> None:
    # WalkDir order is lexical per directory, depth first: "a" < "a.txt" because the walk
    # compares names ("a" is a prefix), so a/z comes before a.txt -- unlike a flat sort of
    # paths, where "a.txt" < "a/z".
    root = make_tree(
        tmp_path / "t",
        {"b.txt": "b\n", "a.txt": "a\n", "a/z": "z\n", "empty": None, "a/deep/er": None},
    )
    stream = (
        hx("a")
        + hx("deep")
        + hx("er")  # an empty directory contributes its name only
        + hx("z")
        + hx("z\n")
        + hx("a.txt")
        + hx("a\n")
        + hx("b.txt")
        + hx("b\n")
        + hx("empty")
    )
    assert fingerprint_dir(root) == hashlib.sha256(stream).hexdigest()
    assert fingerprint_dir(root) == reference_digest(root)


def test_names_sort_by_bytes(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    names = [b"a", b"Z", "é".encode(), b"\xff", b"_", b"10", b"9"]
    for name in names:
        with open(os.path.join(os.fsencode(root), name), "wb") as f:
            f.write(name)
    stream = b"".join(hx(n) + hx(n) for n in sorted(names))  # 10 9 Z _ a é \xff
    assert fingerprint_dir(root) == hashlib.sha256(stream).hexdigest()


def test_empty_root(tmp_path: Path) -> None:
    assert fingerprint_dir(tmp_path) == EMPTY


def test_root_spellings_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_tree(tmp_path / "t", NESTED)
    want = reference_digest(root)
    assert fingerprint_dir(str(root) + "/") == want
    assert fingerprint_dir(os.fsencode(root).decode()) == want
    monkeypatch.chdir(root)
    assert fingerprint_dir(".") == want
    monkeypatch.chdir(tmp_path)
    assert fingerprint_dir("t") == want
    assert fingerprint_dir("./t/") == want


# ---------------------------------------------------------------------------------------------
# symlinks


def test_symlink_to_file_counts_as_the_file(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t", {"real.txt": "payload"})
    (root / "link").symlink_to("real.txt")
    stream = hx("link") + hx("payload") + hx("real.txt") + hx("payload")
    assert fingerprint_dir(root) == hashlib.sha256(stream).hexdigest()


def test_symlink_to_dir_hashes_target_text_and_is_not_descended(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t", {"c/d/f": "x"})
    (root / "a").symlink_to("c/d")
    stream = hx("a") + hx("c/d") + hx("c") + hx("d") + hx("f") + hx("x")
    assert fingerprint_dir(root) == hashlib.sha256(stream).hexdigest()
    # the target text, not the target: an absolute link to the same dir differs
    (root / "a").unlink()
    (root / "a").symlink_to(root / "c" / "d")
    assert fingerprint_dir(root) != hashlib.sha256(stream).hexdigest()
    assert fingerprint_dir(root) == reference_digest(root)


def test_symlink_to_a_file_outside_the_tree_is_refused(tmp_path: Path) -> None:
    # Deliberate deviation (issue 11): Kosli hashes the outside file's content.
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"secret")
    root = make_tree(tmp_path / "t", {})
    (root / "ln").symlink_to(outside)
    with pytest.raises(InputError, match=r"t/ln links to .*outside.bin, outside the directory "
                                         "fingerprinted; links out of the tree are not followed"):
        fingerprint_dir(root)
    (root / "ln").unlink()
    (root / "ln").symlink_to("/dev/zero")
    with pytest.raises(InputError, match="links to a special file"):
        fingerprint_dir(root)


def test_symlink_to_a_file_inside_a_linked_root_counts(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "real", {"f": "x"})
    (root / "ln").symlink_to(root / "f")  # absolute, through the real path
    link = tmp_path / "link"
    link.symlink_to(root)
    stream = hx("f") + hx("x") + hx("ln") + hx("x")
    assert fingerprint_dir(link) == hashlib.sha256(stream).hexdigest()


def test_broken_symlink_is_an_input_error(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t", {"ok": "1"})
    (root / "dangling").symlink_to("nowhere")
    with pytest.raises(InputError, match="dangling"):
        fingerprint_dir(root)


def test_symlink_loop_is_an_input_error(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t", {})
    (root / "loop").symlink_to("loop")
    with pytest.raises(InputError, match="loop"):
        fingerprint_dir(root)


def test_root_symlink_is_followed(tmp_path: Path) -> None:
    # Deliberate deviation: Kosli's WalkDir does not descend into a symlinked root and returns
    # the empty digest; we return what Kosli gives for "link/".
    root = make_tree(tmp_path / "real", NESTED)
    link = tmp_path / "link"
    link.symlink_to(root)
    assert fingerprint_dir(link) == fingerprint_dir(root) != EMPTY
    assert fingerprint_dir(str(link) + "/") == fingerprint_dir(root)


# ---------------------------------------------------------------------------------------------
# exclusions


IGNORE_TEST_TREE = {  # kosli-dev/cli internal/digest/virtualignore_test.go: ignoreTestTree
    "app.js": "app",
    "app.log": "log at the root",
    "notes.txt": "notes",
    "logs/file1": "c1",
    "logs/deep/file2": "c2",
    "nested-dir/file1": "n1",
    "nested-dir/logs/log.txt": "nl",
    "vendor/lib/v.js": "v",
    "vendor/lib/.kosli_ignore": "nested-rules",
    "a/x": "ax",
    "a/b/x": "abx",
    "a/b/c/x": "abcx",
}
EVERYTHING = frozenset({"app.js", "app.log", "notes.txt", "logs", "nested-dir", "vendor", "a"})

# rule -> relative paths it excludes (an excluded directory takes its subtree with it)
RULES: list[tuple[str, frozenset[str]]] = [
    ("logs", frozenset({"logs"})),
    ("app.js", frozenset({"app.js"})),
    ("*/logs", frozenset({"nested-dir/logs"})),
    ("logs/*", frozenset({"logs/deep", "logs/file1"})),  # the directory's name stays
    ("*.log", frozenset({"app.log"})),
    ("**/*.log", frozenset({"app.log"})),
    # "**/x" resolves at the root to "root//x", which the walk never spells: a/x goes, x at
    # the root would not; "a/**/x" likewise resolves a/x to "root/a//x" and keeps it.
    ("**/x", frozenset({"a/x", "a/b/x", "a/b/c/x"})),
    ("a/**/x", frozenset({"a/b/x", "a/b/c/x"})),
    # ... and for a root directory "logs", "root//logs" is walked, whose children are spelled
    # cleanly: the contents go, the directory's name stays.
    ("**/logs", frozenset({"logs/deep", "logs/file1", "nested-dir/logs"})),
    ("**", EVERYTHING),
    ("**.log", frozenset()),  # "x.log" only where a sibling "x" exists
    ("vendor/**/.kosli_ignore", frozenset({"vendor/lib/.kosli_ignore"})),
    ("**/.kosli_ignore", frozenset({"vendor/lib/.kosli_ignore"})),
    ("logs/", frozenset({"logs"})),
    ("/logs", frozenset({"logs"})),
    ("./logs", frozenset({"logs"})),
    ("nested-dir//logs", frozenset({"nested-dir/logs"})),
    ("../logs", frozenset()),
    ("does-not-exist", frozenset()),
    ("nonexistent/**/a[", frozenset()),  # the malformed piece is never evaluated
    ("*", EVERYTHING),
    ("app.[jl]?", frozenset({"app.js"})),
    ("a/?", frozenset({"a/b", "a/x"})),
    ("app\\*", frozenset()),  # an escaped star is a literal
    ("[^a-m]*", frozenset({"notes.txt", "nested-dir", "vendor"})),
]


@pytest.mark.parametrize(("rule", "excluded"), RULES, ids=[r for r, _ in RULES])
def test_exclude_patterns(tmp_path: Path, rule: str, excluded: frozenset[str]) -> None:
    root = make_tree(tmp_path / "tree", IGNORE_TEST_TREE)
    assert fingerprint_dir(root, [rule]) == reference_digest(root, excluded)


@pytest.mark.parametrize(("rule", "excluded"), RULES, ids=[r for r, _ in RULES])
def test_kosli_ignore_rules(tmp_path: Path, rule: str, excluded: frozenset[str]) -> None:
    # the same rules from a root .kosli_ignore: the ignore file itself always stays
    root = make_tree(tmp_path / "tree", {**IGNORE_TEST_TREE, ".kosli_ignore": rule + "\n"})
    assert fingerprint_dir(root) == reference_digest(root, excluded)


@pytest.mark.parametrize("rule", [".kosli_ignore", "*ignore*", ".kosli*"])
def test_rules_matching_the_ignore_file_have_no_effect(tmp_path: Path, rule: str) -> None:
    root = make_tree(tmp_path / "tree", {**IGNORE_TEST_TREE, ".kosli_ignore": rule})
    assert fingerprint_dir(root) == reference_digest(root)


def test_excludes_relative_to_dot_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_tree(tmp_path / "tree", IGNORE_TEST_TREE)
    monkeypatch.chdir(root)
    assert fingerprint_dir(".", ["logs"]) == reference_digest(root, frozenset({"logs"}))
    assert fingerprint_dir(".", ["a/**/x"]) == reference_digest(
        root, frozenset({"a/b/x", "a/b/c/x"})
    )
    # Kosli quirk kept: with the root spelled ".", a pattern starting with ** matches nothing
    # (filepath.Join(".", "**/x") has no root prefix, and Glob("") finds nothing).
    assert fingerprint_dir(".", ["**/x"]) == reference_digest(root)


def test_several_patterns_and_a_trailing_slash_root(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree", IGNORE_TEST_TREE)
    want = reference_digest(root, frozenset({"logs", "nested-dir/logs", "app.log"}))
    assert fingerprint_dir(str(root) + "/", ["logs", "*/logs", "*.log"]) == want


@pytest.mark.parametrize("rule", ["[", "nonexistent/a[", "logs/[", "a/**/[", "../a["])
def test_malformed_pattern_is_an_error(tmp_path: Path, rule: str) -> None:
    root = make_tree(tmp_path / "tree", IGNORE_TEST_TREE)
    with pytest.raises(InputError, match="syntax error in pattern") as flag:
        fingerprint_dir(root, [rule])
    assert rule in flag.value.message
    (root / ".kosli_ignore").write_text(rule)
    with pytest.raises(InputError, match="kosli_ignore") as from_file:
        fingerprint_dir(root)
    assert rule in from_file.value.message


def test_exclude_must_be_a_sequence_of_patterns(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        fingerprint_dir(tmp_path, "logs")


# ---------------------------------------------------------------------------------------------
# .kosli_ignore: reading, and that it cannot hide itself (Kosli #6785)


@pytest.mark.parametrize(
    ("text", "want"),
    [  # kosli-dev/cli internal/digest/virtualignore_test.go: TestParseIgnoreRules
        ("", []),
        ("logs", [b"logs"]),
        ("\n  logs  \n\n\t*.log\t\n", [b"logs", b"*.log"]),
        ("# all logs\nlogs\n# done", [b"logs"]),
        ("logs # noisy", [b"logs"]),
        ("   # only a comment", []),
        ("logs\r\n*.log\r\n", [b"logs", b"*.log"]),
        # and Go's white space, not Python's: \x1c is not stripped, NBSP is
        ("\xa0logs\xa0\n\x1cx", [b"logs", b"\x1cx"]),
    ],
)
def test_ignore_file_parsing(tmp_path: Path, text: str, want: list[bytes]) -> None:
    path = tmp_path / ".kosli_ignore"
    path.write_bytes(text.encode())
    assert kosli_ignore.read_ignore_rules(os.fsencode(path)) == want


def test_ignore_file_overlong_line_ends_the_rules(tmp_path: Path) -> None:
    path = tmp_path / ".kosli_ignore"
    path.write_bytes(b"a\n" + b"x" * 65536 + b"\nb\n")
    assert kosli_ignore.read_ignore_rules(os.fsencode(path)) == [b"a"]
    path.write_bytes(b"a\n" + b"x" * 65535 + b"\nb\n")
    assert kosli_ignore.read_ignore_rules(os.fsencode(path)) == [b"a", b"x" * 65535, b"b"]


BASELINE = {"app/index.js": "console.log(1)", "app/lib/util.js": "exports.x = 1"}


@pytest.mark.parametrize(
    "ignore",
    [
        ".kosli_ignore\napp/backdoor.js",
        "*ignore*\napp/backdoor.js",
        ".kosli*\napp/backdoor.js",
        "**/.kosli_ignore\napp/backdoor.js",
        "**\napp/backdoor.js",
    ],
)
def test_ignore_file_cannot_hide_itself(tmp_path: Path, ignore: str) -> None:
    approved = make_tree(tmp_path / "approved", BASELINE)
    deployed = make_tree(
        tmp_path / "deployed",
        {**BASELINE, "app/backdoor.js": "BACKDOOR", ".kosli_ignore": ignore},
    )
    assert fingerprint_dir(approved) != fingerprint_dir(deployed)


def test_flag_excluding_the_ignore_file_keeps_its_rules(tmp_path: Path) -> None:
    # Kosli's migration path: the file leaves the digest, its rules still apply.
    approved = make_tree(tmp_path / "approved", BASELINE)
    deployed = make_tree(
        tmp_path / "deployed",
        {**BASELINE, "app/backdoor.js": "BACKDOOR", ".kosli_ignore": "app/backdoor.js"},
    )
    assert fingerprint_dir(deployed, [".kosli_ignore"]) == fingerprint_dir(approved)


def test_nested_ignore_file_is_an_ordinary_file(tmp_path: Path) -> None:
    base = {"app.js": "app", "vendor/lib/v.js": "v", ".kosli_ignore": "vendor/**/.kosli_ignore"}
    with_nested = make_tree(tmp_path / "a", {**base, "vendor/lib/.kosli_ignore": "nested"})
    without = make_tree(tmp_path / "b", base)
    assert fingerprint_dir(with_nested) == fingerprint_dir(without)
    # and its own rules are not read
    plain = make_tree(tmp_path / "c", {"vendor/lib/.kosli_ignore": "v.js", "vendor/lib/v.js": "v"})
    assert fingerprint_dir(plain) == reference_digest(plain)


def test_directory_named_like_the_ignore_file_stays_excludable(tmp_path: Path) -> None:
    with_dir = make_tree(tmp_path / "a", {"app.js": "app", ".kosli_ignore/inside.txt": "s"})
    without = make_tree(tmp_path / "b", {"app.js": "app"})
    assert fingerprint_dir(with_dir, [".kosli_ignore"]) == fingerprint_dir(without)
    assert fp._ignore_file_in_tree(os.fsencode(with_dir), "a") is None


def test_case_variant_is_read_when_the_exact_name_is_a_directory(tmp_path: Path) -> None:
    # ignoreFilePathInTree: Lstat(".kosli_ignore") succeeds (a directory), the listing skips
    # directories, and a case-folded file name is taken instead.
    root = make_tree(
        tmp_path / "t",
        {".kosli_ignore/keep": "k", ".KOSLI_IGNORE": "logs", "logs/f": "1", "app": "a"},
    )
    assert fingerprint_dir(root) == reference_digest(root, frozenset({"logs"}))


def test_case_variant_alone_is_not_an_ignore_file(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t", {".KOSLI_IGNORE": "logs", "logs/f": "1"})
    assert fingerprint_dir(root) == reference_digest(root)


def test_equal_fold_matches_go() -> None:
    assert kosli_ignore.equal_fold_ignore_name(b".kosli_ignore")
    assert kosli_ignore.equal_fold_ignore_name(b".KoSlI_IgNoRe")
    assert kosli_ignore.equal_fold_ignore_name(".\u212aosli_ignore".encode())  # KELVIN SIGN
    assert kosli_ignore.equal_fold_ignore_name(".ko\u017fli_ignore".encode())  # LONG S
    assert not kosli_ignore.equal_fold_ignore_name(".kosl\u0131_ignore".encode())  # dotless i
    assert not kosli_ignore.equal_fold_ignore_name(b".kosli_ignore2")
    assert not kosli_ignore.equal_fold_ignore_name(b".kosli_ignor\xff")


@pytest.mark.parametrize("kind", ["hardlink", "symlink"])
def test_aliases_of_the_ignore_file_stay_excludable(tmp_path: Path, kind: str) -> None:
    with_alias = make_tree(tmp_path / "a", {**BASELINE, ".kosli_ignore": "alias"})
    if kind == "hardlink":
        os.link(with_alias / ".kosli_ignore", with_alias / "alias")
    else:
        (with_alias / "alias").symlink_to(with_alias / ".kosli_ignore")
    no_alias = make_tree(tmp_path / "b", {**BASELINE, ".kosli_ignore": "alias"})
    assert fingerprint_dir(with_alias) == fingerprint_dir(no_alias)


# ---------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("kind", ["dir", "file"])
def test_missing_path(tmp_path: Path, kind: ArtifactType) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(InputError) as err:
        fingerprint(missing, kind)
    assert str(missing) in err.value.message
    assert "no such file or directory" in err.value.message
    assert err.value.exit_code == 2


def test_file_given_as_dir(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("x")
    with pytest.raises(InputError) as err:
        fingerprint_dir(path)
    assert str(path) in err.value.message
    assert "not a directory" in err.value.message


def test_dir_given_as_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        fingerprint(tmp_path, "file")
    assert str(tmp_path) in err.value.message
    assert "is a directory" in err.value.message


def test_fifo_in_tree_is_an_error_not_a_hang(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t", {"a": "1"})
    os.mkfifo(root / "pipe")
    with pytest.raises(InputError, match="pipe.*special file"):
        fingerprint_dir(root)
    assert fingerprint_dir(root, ["pipe"]) == reference_digest(root, frozenset({"pipe"}))


def test_anonymous_pipe_as_a_file_artifact_is_read() -> None:
    # e.g. `affidavit fingerprint <(build)`: an unnamed pipe is a legitimate file artifact
    read_end, write_end = os.pipe()
    data = os.urandom(300_000)

    def writer() -> None:
        with open(write_end, "wb") as f:
            f.write(data)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert fingerprint_file(f"/dev/fd/{read_end}") == hashlib.sha256(data).hexdigest()
    finally:
        thread.join()
        os.close(read_end)


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_named_fifo_or_device_as_a_file_artifact_is_refused(tmp_path: Path, kind: str) -> None:
    # a named FIFO may never get a writer, and /dev/zero never ends: both would hang
    path = tmp_path / "fifo"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    with pytest.raises(InputError, match="fifo is not a regular file"):
        fingerprint_file(path)


# An unreadable file or directory inside the tree: tests/hostile/test_unreadable.py, which can
# make mode 000 stop root.


def test_dispatcher_usage_errors(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    with pytest.raises(UsageError, match="only to a dir"):
        fingerprint(path, "file", ["logs"])
    with pytest.raises(UsageError, match="unknown artifact type"):
        fingerprint(path, "oci")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# content hashing: every execution path gives the same digests


@pytest.fixture
def random_tree(tmp_path: Path) -> Path:
    rng = random.Random(7)
    root = tmp_path / "rand"
    tree: dict[str, str | bytes | None] = {}
    for i in range(300):
        depth = rng.randrange(4)
        parts = [f"d{rng.randrange(3)}" for _ in range(depth)]
        size = rng.choice([0, 1, 100, 2047, 2048, 5000, 70_000])
        tree["/".join([*parts, f"f{i}.bin"])] = rng.randbytes(size)
    tree["big.bin"] = rng.randbytes(hashing.BUF_SIZE * 2 + 123)  # several reads
    tree["edge.bin"] = rng.randbytes(hashing.BUF_SIZE)  # exactly one buffer
    tree["emptydir"] = None
    return make_tree(root, tree)


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setattr(hashing, "_workers", lambda: 3)
    yield monkeypatch


def test_inline_hashing(random_tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hashing, "_workers", lambda: 1)
    assert fingerprint_dir(random_tree) == reference_digest(random_tree)


def test_threaded_hashing(random_tree: Path, workers: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = hashing._hash_batch

    def spy(paths: list[bytes]) -> list[bytes]:
        calls.append(threading.get_ident())
        return real(paths)

    workers.setattr(hashing, "_hash_batch", spy)
    assert fingerprint_dir(random_tree) == reference_digest(random_tree)
    assert len(calls) > 1 and threading.get_ident() not in calls


def test_threaded_hashing_reports_a_worker_error(tmp_path: Path,
                                                 workers: pytest.MonkeyPatch) -> None:
    good = tmp_path / "good"
    good.write_bytes(b"x")
    files = [os.fsencode(good)] * 40 + [os.fsencode(tmp_path / "vanished")]
    with pytest.raises(InputError, match="vanished.*no such file"):
        hashing.hash_files(files)


def test_large_file_artifact(tmp_path: Path) -> None:
    data = random.Random(3).randbytes(hashing.BUF_SIZE * 3 + 17)
    path = tmp_path / "big"
    path.write_bytes(data)
    assert fingerprint_file(path) == hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# the Go primitives, against Go's own test tables (path/filepath match_test.go, path_test.go)


GO_MATCH = [
    ("abc", "abc", True),
    ("*", "abc", True),
    ("*c", "abc", True),
    ("a*", "a", True),
    ("a*", "abc", True),
    ("a*", "ab/c", False),
    ("a*/b", "abc/b", True),
    ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True),
    ("ab[b-d]", "abc", True),
    ("ab[e-g]", "abc", False),
    ("ab[^c]", "abc", False),
    ("ab[^b-d]", "abc", False),
    ("ab[^e-g]", "abc", True),
    ("a\\*b", "a*b", True),
    ("a\\*b", "ab", False),
    ("a?b", "a☺b", True),
    ("a[^a]b", "a☺b", True),
    ("a???b", "a☺b", False),
    ("a[^a][^a][^a]b", "a☺b", False),
    ("[a-ζ]*", "α", True),
    ("*[a-ζ]", "A", False),
    ("a?b", "a/b", False),
    ("a*b", "a/b", False),
    ("[\\]a]", "]", True),
    ("[\\-]", "-", True),
    ("[x\\-]", "x", True),
    ("[x\\-]", "-", True),
    ("[x\\-]", "z", False),
    ("[\\-x]", "x", True),
    ("[\\-x]", "-", True),
    ("[\\-x]", "a", False),
    ("*x", "xxx", True),
]
GO_BAD = [
    ("[]a]", "]"),
    ("[-]", "-"),
    ("[x-]", "x"),
    ("[x-]", "-"),
    ("[x-]", "z"),
    ("[-x]", "x"),
    ("[-x]", "-"),
    ("[-x]", "a"),
    ("\\", "a"),
    ("[a-b-c]", "a"),
    ("[", "a"),
    ("[^", "a"),
    ("[^bc", "a"),
    ("a[", "a"),
    ("a[", "ab"),
    ("a[", "x"),
    ("a/b[", "x"),
]


@pytest.mark.parametrize(("pattern", "name", "want"), GO_MATCH)
def test_go_match(pattern: str, name: str, want: bool) -> None:
    assert goglob.go_match(pattern.encode(), name.encode()) is want


@pytest.mark.parametrize(("pattern", "name"), GO_BAD)
def test_go_match_bad_pattern(pattern: str, name: str) -> None:
    with pytest.raises(goglob.BadPattern):
        goglob.go_match(pattern.encode(), name.encode())


@pytest.mark.parametrize(
    ("path", "want"),
    [
        ("", "."),
        ("abc", "abc"),
        ("a/b/c", "a/b/c"),
        ("..", ".."),
        ("../../abc", "../../abc"),
        ("/", "/"),
        ("abc/", "abc"),
        ("./", "."),
        ("../../", "../.."),
        ("abc//def//ghi", "abc/def/ghi"),
        ("//abc", "/abc"),
        ("///abc", "/abc"),
        ("//abc//", "/abc"),
        ("abc/./def", "abc/def"),
        ("/./abc/def", "/abc/def"),
        ("abc/.", "abc"),
        ("abc/def/ghi/../jkl", "abc/def/jkl"),
        ("abc/def/../ghi/../jkl", "abc/jkl"),
        ("abc/def/../..", "."),
        ("/abc/def/../..", "/"),
        ("abc/def/../../..", ".."),
        ("/abc/def/../../..", "/"),
        ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
        ("/../abc", "/abc"),
        ("abc/./../def", "def"),
        ("abc//./../def", "def"),
    ],
)
def test_go_clean(path: str, want: str) -> None:
    assert goglob.go_clean(path.encode()) == want.encode()


def test_go_glob_depth_limit() -> None:
    # Go's TestCVE202230632
    with pytest.raises((goglob.BadPattern, RecursionError)):
        goglob.go_glob(b"/*" + b"/" * 10001)
