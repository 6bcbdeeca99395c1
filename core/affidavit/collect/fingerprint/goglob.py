"""Go's ``path/filepath`` (Unix) and ``yargevad/filepathx`` globbing, re-implemented on bytes.

Kosli resolves ``--exclude`` patterns and ``.kosli_ignore`` rules by globbing the file system
with ``filepathx.Glob`` (Go's ``filepath.Glob`` plus ``**``), not by gitignore matching, and
compares the paths it finds byte for byte with the paths its walk builds. A directory
fingerprint only agrees with Kosli's if every quirk is reproduced: what ``*``, ``?`` and
``[...]`` match, which patterns are malformed, how ``filepath.Clean`` and ``filepath.Join``
spell a path, and how ``**`` splits a pattern into pieces. Hence a line-by-line port (checked
against Go's own ``match_test.go`` and ``path_test.go`` tables) rather than ``fnmatch`` or
``glob``, which differ on all of these. Paths stay ``bytes`` so names that are not UTF-8
round-trip exactly.

Errors follow Go's: a malformed pattern raises :class:`BadPattern` (``filepath.ErrBadPattern``);
file system errors are ignored by ``go_glob``, as in Go, but abort ``filepathx_glob``'s walk of
a match with :class:`WalkError`, as ``filepath.Walk`` does. This module knows nothing of Kosli:
the caller decides what those errors mean.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

__all__ = [
    "BadPattern",
    "WalkError",
    "filepathx_glob",
    "go_child",
    "go_clean",
    "go_glob",
    "go_join",
    "go_match",
]

_GLOB_DEPTH_LIMIT = 10000  # Go's pathSeparatorsLimit (CVE-2022-30632)


class BadPattern(Exception):
    """Go's filepath.ErrBadPattern."""


class WalkError(Exception):
    """Walking a ``**`` match failed at ``path``.

    ``error`` is the ``OSError``, or the ``ValueError`` of a path holding a NUL byte.
    """

    def __init__(self, path: bytes, error: OSError | ValueError) -> None:
        super().__init__(path, error)
        self.path = path
        self.error = error


def go_clean(path: bytes) -> bytes:
    """Go's ``filepath.Clean``."""
    if not path:
        return b"."
    rooted = path.startswith(b"/")
    out: list[bytes] = []
    dotdot = 0  # number of leading ".." elements that cannot be backtracked
    for elem in path.split(b"/"):
        if elem in (b"", b"."):
            continue
        if elem == b"..":
            if len(out) > dotdot:
                out.pop()
            elif not rooted:
                out.append(b"..")
                dotdot = len(out)
            continue
        out.append(elem)
    cleaned = b"/".join(out)
    if rooted:
        return b"/" + cleaned
    return cleaned or b"."


def go_join(*elems: bytes) -> bytes:
    """Go's ``filepath.Join``: non-empty elements joined with ``/``, then cleaned."""
    kept = [e for e in elems if e]
    if not kept:
        return b""
    return go_clean(b"/".join(kept))


def go_child(parent: bytes, name: bytes) -> bytes:
    """``filepath.Join(parent, name)`` for a clean ``parent`` and a plain entry ``name``."""
    if parent == b".":
        return name
    if parent == b"/":
        return b"/" + name
    return parent + b"/" + name


def _decode_rune(s: bytes, i: int) -> tuple[int, int]:
    """Go's ``utf8.DecodeRune`` at ``s[i]``: (rune, width); invalid input is (U+FFFD, 1)."""
    b0 = s[i]
    if b0 < 0x80:
        return b0, 1
    if 0xC2 <= b0 <= 0xDF:
        n = 2
    elif 0xE0 <= b0 <= 0xEF:
        n = 3
    elif 0xF0 <= b0 <= 0xF4:
        n = 4
    else:
        return 0xFFFD, 1
    try:
        text = s[i : i + n].decode("utf-8")
    except UnicodeDecodeError:
        return 0xFFFD, 1
    return ord(text), n


def _scan_chunk(pattern: bytes) -> tuple[bool, bytes, bytes]:
    star = False
    i = 0
    while i < len(pattern) and pattern[i] == 0x2A:  # '*'
        i += 1
        star = True
    pattern = pattern[i:]
    inrange = False
    j = 0
    while j < len(pattern):
        c = pattern[j]
        if c == 0x5C:  # '\\'
            if j + 1 < len(pattern):
                j += 1
        elif c == 0x5B:  # '['
            inrange = True
        elif c == 0x5D:  # ']'
            inrange = False
        elif c == 0x2A and not inrange:
            return star, pattern[:j], pattern[j:]
        j += 1
    return star, pattern, b""


def _get_esc(chunk: bytes, i: int) -> tuple[int, int]:
    """A possibly escaped rune of a character class at ``chunk[i]``: (rune, next index)."""
    if i >= len(chunk) or chunk[i] in (0x2D, 0x5D):  # '-' or ']'
        raise BadPattern
    if chunk[i] == 0x5C:
        i += 1
        if i >= len(chunk):
            raise BadPattern
    r, n = _decode_rune(chunk, i)
    if r == 0xFFFD and n == 1:
        raise BadPattern
    i += n
    if i >= len(chunk):
        raise BadPattern
    return r, i


def _match_chunk(chunk: bytes, s: bytes) -> bytes | None:
    """Whether ``chunk`` matches the start of ``s``: the rest of ``s``, or None."""
    failed = False
    i = 0  # index in chunk
    k = 0  # index in s
    while i < len(chunk):
        failed = failed or k >= len(s)
        c = chunk[i]
        if c == 0x5B:  # '[' character class
            r = 0
            if not failed:
                r, n = _decode_rune(s, k)
                k += n
            i += 1
            negated = False
            if i < len(chunk) and chunk[i] == 0x5E:  # '^'
                negated = True
                i += 1
            matched = False
            nrange = 0
            while True:
                if i < len(chunk) and chunk[i] == 0x5D and nrange > 0:
                    i += 1
                    break
                lo, i = _get_esc(chunk, i)
                hi = lo
                if chunk[i] == 0x2D:  # '-'
                    hi, i = _get_esc(chunk, i + 1)
                matched = matched or lo <= r <= hi
                nrange += 1
            failed = failed or matched == negated
        elif c == 0x3F:  # '?'
            if not failed:
                failed = s[k] == 0x2F
                _, n = _decode_rune(s, k)
                k += n
            i += 1
        else:
            if c == 0x5C:  # '\\' escapes the next byte
                i += 1
                if i >= len(chunk):
                    raise BadPattern
            if not failed:
                failed = chunk[i] != s[k]
                k += 1
            i += 1
    return None if failed else s[k:]


def go_match(pattern: bytes, name: bytes) -> bool:
    """Go's ``filepath.Match`` (Unix); raises BadPattern."""
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return b"/" not in name
        t = _match_chunk(chunk, name)
        if t is not None and (not t or pattern):
            name = t
            continue
        if star:
            found = False
            i = 0
            while i < len(name) and name[i] != 0x2F:
                t = _match_chunk(chunk, name[i + 1 :])
                if t is not None:
                    if not pattern and t:
                        i += 1
                        continue
                    name = t
                    found = True
                    break
                i += 1
            if found:
                continue
        return False
    return not name


def _has_meta(path: bytes) -> bool:
    return any(c in path for c in (b"*", b"?", b"[", b"\\"))


def _listdir_sorted(path: bytes) -> list[bytes]:
    return sorted(os.listdir(path))


def go_glob(pattern: bytes, depth: int = 0) -> list[bytes]:
    """Go's ``filepath.Glob`` (Unix): file system errors are ignored, bad patterns raise."""
    if depth == _GLOB_DEPTH_LIMIT:
        raise BadPattern
    go_match(pattern, b"")  # validates the pattern before touching the file system
    if not _has_meta(pattern):
        try:
            os.lstat(pattern)
        except (OSError, ValueError):
            return []
        return [pattern]
    cut = pattern.rfind(b"/") + 1
    directory, file = pattern[:cut], pattern[cut:]
    if directory == b"":
        directory = b"."
    elif directory != b"/":
        directory = directory[:-1]
    if not _has_meta(directory):
        return _glob_in(directory, file, [])
    if directory == pattern:
        raise BadPattern
    matches: list[bytes] = []
    for d in go_glob(directory, depth + 1):
        matches = _glob_in(d, file, matches)
    return matches


def _glob_in(directory: bytes, pattern: bytes, matches: list[bytes]) -> list[bytes]:
    try:
        if not stat.S_ISDIR(os.stat(directory).st_mode):
            return matches
        names = _listdir_sorted(directory)
    except (OSError, ValueError):
        return matches
    for name in names:
        if go_match(pattern, name):
            matches.append(go_join(directory, name))
    return matches


def _go_walk(root: bytes, visit: Callable[[bytes], None]) -> None:
    """Go's ``filepath.Walk`` as filepathx drives it: any error aborts, as WalkError."""
    stack = [root]
    while stack:
        path = stack.pop()
        try:
            st = os.lstat(path)
            visit(path)
            if stat.S_ISDIR(st.st_mode):
                names = _listdir_sorted(path)
                stack.extend(go_join(path, n) for n in reversed(names))
        except (OSError, ValueError) as exc:
            raise WalkError(path, exc) from exc


def filepathx_glob(pattern: bytes) -> list[bytes]:
    """``filepathx.Glob``: Go's Glob, with ``**`` matching any number of directory levels."""
    if b"**" not in pattern:
        return go_glob(pattern)
    matches = [b""]
    for piece in pattern.split(b"**"):
        hits: list[bytes] = []
        seen: set[bytes] = set()

        def add(path: bytes, hits: list[bytes] = hits, seen: set[bytes] = seen) -> None:
            if path not in seen:
                seen.add(path)
                hits.append(path)

        for match in matches:
            for path in go_glob(match + piece):
                _go_walk(path, add)
        matches = hits
    return matches
