"""Directory fingerprints identical to Kosli CLI's.

A **directory** fingerprint reproduces ``DirSha256`` of kosli-dev/cli,
``internal/digest/digest.go`` (functions ``DirSha256``, ``ignoreFilePathInTree``,
``resolveExcludePaths``, ``calculateDirContentSha256``, ``excludePathsFromFile``), checked
against the known-answer vectors of ``internal/digest/digest_test.go`` and the rule table of
``internal/digest/virtualignore_test.go``. In words:

1. The root must be a directory (``os.Stat``, so a symlink to a directory is accepted).
2. The tree is walked like Go's ``filepath.WalkDir``: depth first, pre-order, the entries of
   each directory in byte order of their names, so directories and files interleave
   (``a``, ``a/z``, ``a.txt``). The root itself contributes nothing (its name is not hashed,
   so renaming the root keeps the fingerprint). Symlinks are never descended into.
3. For every entry that is not excluded, the 64 ASCII characters of the hex SHA-256 of its
   *base name* (raw bytes) are appended to a stream. Then:

   - regular file, or symlink to a file: append the hex SHA-256 of its content;
   - directory: nothing more (its entries follow, in walk order);
   - symlink to a directory: append the hex SHA-256 of the link's *target text*
     (``readlink``), and do not descend.

   An empty directory therefore contributes only its name; an empty root gives
   ``sha256(b"")`` = ``e3b0c442…b855``.
4. The fingerprint is the hex SHA-256 of the whole stream (hex digests are concatenated, not
   raw bytes; there are no separators).

Exclusions (``exclude`` patterns, then the non-empty lines of a ``.kosli_ignore`` at the root)
are resolved the way Kosli resolves them, which is *not* gitignore matching: each pattern ``p``
is joined onto the root path with Go's ``filepath.Join`` (which cleans the path) and expanded
with ``filepathx.Glob`` -- Go's ``filepath.Glob`` (``*``, ``?``, ``[...]``/``[^...]``, backslash
escapes; ``*`` does not cross ``/`` but does match dot-files) where ``**`` splits the pattern
into pieces, each piece globbed after every path reached so far and every hit walked recursively
(both ported in :mod:`~affidavit.collect.fingerprint.goglob`). An entry is excluded when the
path string the walk builds for it (``filepath.Join(parent, name)``) is *byte-equal* to one of
the resolved paths; an excluded directory is skipped with its whole subtree. Consequences kept
on purpose, because they decide the digest: ``logs`` and ``*/logs`` are anchored at the root;
``**/x`` never matches ``x`` at the root (the pieces concatenate to ``root//x``) but does
exclude the *contents* of a root directory ``x``; ``**/*.log`` matches at every depth; a pattern
starting with ``**`` matches nothing when the root is given as ``.``; a malformed pattern
(``[``) is an error. ``.kosli_ignore`` lines are read like Go's ``bufio.Scanner`` (``\\n`` or
``\\r\\n`` line ends, a line of 64 KiB or more ends the list), cut at the first ``#``, stripped
of white space (see :mod:`~affidavit.collect.fingerprint.kosli_ignore`). Since Kosli CLI issue
kosli-dev/server#6785 the root ignore file itself can never be excluded by its own rules (so a
tree cannot hide added files by listing them), only by an ``exclude`` pattern; the file is
located by listing the root (exact name preferred over a case-folded one, directories skipped).

Deliberate deviations, each where Kosli hangs, errors obscurely or measures nothing:

- a root given as a symlink to a directory is followed (Kosli's ``WalkDir`` does not descend
  into a symlinked root and returns the empty digest ``e3b0…`` for any such directory; we
  return what Kosli returns for the same path written with a trailing slash);
- FIFOs, sockets and devices inside the tree raise :class:`InputError` (Kosli blocks forever on
  a FIFO, fails on a socket and reads a device).

Kept although surprising, because it changes digests: the root path is joined into the glob
pattern unescaped, so when the root's own path contains ``* ? [ \\`` the patterns are matched
against other paths and usually exclude nothing -- as in Kosli.

Speed: the walk uses ``os.scandir`` (no per-file ``stat``) and only lists the files whose
content is needed; :mod:`~affidavit.collect.fingerprint.hashing` hashes them on every core, and
the digests are combined in walk order afterwards.
"""

from __future__ import annotations

import hashlib
import os
import stat

from affidavit.collect.fingerprint.goglob import (
    BadPattern,
    WalkError,
    filepathx_glob,
    go_child,
    go_clean,
    go_join,
)
from affidavit.collect.fingerprint.hashing import hash_files, input_error, path_error
from affidavit.collect.fingerprint.kosli_ignore import (
    IGNORE_FILE_NAME,
    equal_fold_ignore_name,
    read_ignore_rules,
)
from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; fingerprinting one file should not pay it
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

__all__ = ["IGNORE_FILE_NAME", "fingerprint_dir"]

StrPath = str | os.PathLike[str]

_IGNORE_B = IGNORE_FILE_NAME.encode()


def fingerprint_dir(path: StrPath, exclude: Sequence[str] = ()) -> str:
    """Hex SHA-256 of the directory at ``path`` computed exactly as Kosli CLI's ``DirSha256``.

    ``exclude`` holds Kosli ``--exclude`` patterns (already split on commas), relative to the
    root; a ``.kosli_ignore`` file at the root adds its lines. See the module docstring.
    """
    if isinstance(exclude, str | bytes):
        raise TypeError("exclude must be a sequence of patterns, not a single string")
    shown = os.fspath(path)
    root = os.fsencode(path)
    try:
        st = os.stat(root)
    except (OSError, ValueError) as exc:
        raise input_error(shown, exc) from exc
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{shown} is not a directory", remedy="fingerprint it as a file artifact")

    ignore_file = _ignore_file_in_tree(root, shown)
    excluded = _resolve(root, [os.fsencode(p) for p in exclude], "exclude pattern")
    protected = ignore_file
    if ignore_file is not None and ignore_file in excluded:
        # An operator's pattern may exclude the ignore file (Kosli's migration path); its rules
        # still apply.
        protected = None
    if ignore_file is not None:
        rules = read_ignore_rules(ignore_file)
        excluded |= _resolve(root, rules, f"rule in {os.fsdecode(ignore_file)}")

    parts, files = _walk(root, excluded, protected)
    digests = hash_files(files)
    stream = b"".join(p if isinstance(p, bytes) else digests[p] for p in parts)
    return hashlib.sha256(stream).hexdigest()


# --------------------------------------------------------------------------------------------
# the walk


_Part = bytes | int  # a hex digest, or the index of a file whose content digest is pending


def _hex(data: bytes) -> bytes:
    return hashlib.sha256(data).hexdigest().encode("ascii")


def _scan(path: bytes) -> list[os.DirEntry[bytes]]:
    try:
        with os.scandir(path) as it:
            entries = list(it)
    except OSError as exc:
        raise path_error(path, exc) from exc
    entries.sort(key=_entry_name)
    return entries


def _entry_name(entry: os.DirEntry[bytes]) -> bytes:
    return entry.name


def _walk(
    root: bytes, excluded: set[bytes], protected: bytes | None
) -> tuple[list[_Part], list[bytes]]:
    """The ordered stream parts and the files whose content digests are needed."""
    parts: list[_Part] = []
    files: list[bytes] = []
    tree = os.path.realpath(root)
    check = bool(excluded)
    # One frame per open directory: an iterator over its sorted entries and the directory's
    # path as Kosli's walk spells it (only needed when there are exclusions).
    stack: list[tuple[Iterator[os.DirEntry[bytes]], bytes]] = [
        (iter(_scan(root)), go_clean(root) if check else b"")
    ]
    while stack:
        entries, parent_go = stack[-1]
        for entry in entries:
            go_path = b""
            if check:
                go_path = go_child(parent_go, entry.name)
                if go_path in excluded and go_path != protected:
                    continue  # an excluded directory is skipped with its subtree
            path = entry.path
            try:
                if entry.is_dir(follow_symlinks=False):
                    parts.append(_hex(entry.name))
                    stack.append((iter(_scan(path)), go_path))
                    break  # descend now: pre-order, like WalkDir
                if entry.is_file(follow_symlinks=False):
                    parts.append(_hex(entry.name))
                    parts.append(len(files))
                    files.append(path)
                elif entry.is_symlink():
                    parts.append(_hex(entry.name))
                    _add_symlink(path, parts, files, tree)
                else:
                    raise InputError(
                        f"{os.fsdecode(path)} is a special file (FIFO, socket or device)",
                        remedy="exclude it",
                    )
            except OSError as exc:
                raise path_error(path, exc) from exc
        else:
            stack.pop()
    return parts, files


def _add_symlink(path: bytes, parts: list[_Part], files: list[bytes], tree: bytes) -> None:
    """A symlink to a file counts as the file; one to a directory as its target's text.

    Kosli reads a file link wherever it points; here only inside the tree being fingerprinted
    (issue 11): a link to ``~/.ssh/id_rsa`` or ``/dev/zero`` would otherwise make a secret or
    an endless read part of the artifact's identity. A directory link is never followed, so
    only its text counts, wherever it points.
    """
    try:
        target = os.stat(path)
    except OSError as exc:
        raise InputError(
            f"{os.fsdecode(path)} is a symlink whose target cannot be read: "
            f"{(exc.strerror or str(exc)).lower()}"
        ) from exc
    if stat.S_ISDIR(target.st_mode):
        parts.append(_hex(os.readlink(path)))  # not descended into, as in WalkDir
    elif stat.S_ISREG(target.st_mode):
        real = os.path.realpath(path)
        if not (real == tree or real.startswith(tree.rstrip(b"/") + b"/")):
            raise InputError(f"{os.fsdecode(path)} links to {os.fsdecode(real)}, outside the "
                             "directory fingerprinted; links out of the tree are not followed")
        parts.append(len(files))
        files.append(path)
    else:
        raise InputError(f"{os.fsdecode(path)} links to a special file (FIFO, socket or device)")


# --------------------------------------------------------------------------------------------
# exclusions: the root ignore file, and what the patterns match


def _ignore_file_in_tree(root: bytes, shown: str) -> bytes | None:
    """The root ignore file as the walk will spell it, or None (``ignoreFilePathInTree``)."""
    try:
        os.lstat(os.path.join(root, _IGNORE_B))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise input_error(shown, exc) from exc
    root_go = go_clean(root)
    folded: bytes | None = None
    for entry in _scan(root):
        try:
            if entry.is_dir(follow_symlinks=False):
                continue
        except OSError as exc:
            raise path_error(entry.path, exc) from exc
        if entry.name == _IGNORE_B:
            return go_child(root_go, entry.name)
        if folded is None and equal_fold_ignore_name(entry.name):
            folded = go_child(root_go, entry.name)
    return folded


def _resolve(root: bytes, patterns: Iterable[bytes], what: str) -> set[bytes]:
    """Kosli's ``resolveExcludePaths``: the paths the patterns match, spelled as Go spells them."""
    found: set[bytes] = set()
    for pattern in patterns:
        try:
            found.update(filepathx_glob(go_join(root, pattern)))
        except BadPattern:
            text = os.fsdecode(pattern)
            raise InputError(f"{what} {text!r}: syntax error in pattern") from None
        except WalkError as exc:
            raise path_error(exc.path, exc.error) from exc.error
        except RecursionError:
            text = os.fsdecode(pattern)
            raise InputError(f"{what} {text!r}: pattern too complex") from None
    return found
