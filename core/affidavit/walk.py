"""Directory walks and globs that fail closed, for every flag that takes a directory of inputs.

``os.walk`` and ``glob.glob`` skip a directory they cannot list, and follow links wherever they
point. Both are wrong for evidence: ``chmod 000 results/sub`` with a failing report inside
would be attested as a pass, and a link to ``/etc`` would be read as if it were a result. So
here an unreadable directory is an error naming it, and a link whose target lies outside the
tree given (or is a loop, or dangles, where its name would have been selected) is an error
saying so. A link to a directory inside the tree is not descended: its files are reached by
their real path, which also keeps a link to an ancestor from looping. A link to a file inside
the tree is a file like any other (callers that count files once dedupe on device and inode).
FIFOs, sockets and devices the caller would have selected are refused, never opened.
"""

from __future__ import annotations

import os
import stat

from affidavit.errors import InputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["files_below", "glob_files", "Found"]

Found = list[tuple[str, tuple[int, int]]]  # path as found, (device, inode) of the file
_MAGIC = "*?["


def _problem(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def _inside(real: str, base: str) -> bool:
    return real == base or real.startswith(base if base.endswith(os.sep) else base + os.sep)


class _Walk:
    """One walk's context: the flag and tree its errors name, and what they would select."""

    __slots__ = ("flag", "given", "base", "select")

    def __init__(self, flag: str, given: str, select: Callable[[str], bool]) -> None:
        self.flag = flag
        self.given = given
        self.base = os.path.realpath(given)
        self.select = select

    def fail(self, what: str) -> InputError:
        return InputError(f"{self.flag} {self.given}: {what}")

    def scan(self, directory: str) -> tuple[list[os.DirEntry[str]], int]:
        """The entries of ``directory`` and its device; an unreadable directory is an error."""
        try:
            with os.scandir(directory) as it:
                entries = list(it)
            device = os.stat(directory).st_dev
        except OSError as exc:
            where = "" if directory == self.given else f"{directory} "
            raise self.fail(f"{where}cannot be read ({_problem(exc)}); an unreadable "
                            "directory is refused rather than skipped") from None
        return entries, device

    def link(self, path: str, selected: bool) -> os.stat_result | None:
        """A link's target when it is a selected file inside the tree; None when it is a
        directory inside the tree or a file not selected; an error otherwise."""
        try:
            target = os.stat(path)
        except OSError as exc:
            if not selected:
                return None
            if exc.errno == getattr(os, "ELOOP", 40) or "loop" in _problem(exc):
                raise self.fail(f"{path} is a symlink loop") from None
            raise self.fail(f"{path} is a symlink whose target cannot be read "
                            f"({_problem(exc)})") from None
        is_dir = stat.S_ISDIR(target.st_mode)
        if not (is_dir or selected):
            return None
        real = os.path.realpath(path)
        if not _inside(real, self.base):
            raise self.fail(f"{path} links to {real}, outside {self.given}; links out "
                            "of the tree given are not followed")
        if is_dir:
            return None
        if not stat.S_ISREG(target.st_mode):
            raise self.fail(f"{path} links to a special file (FIFO, socket or device), "
                            "not a regular file")
        return target

    def special(self, path: str) -> InputError:
        return self.fail(f"{path} is not a regular file (a FIFO, socket or device)")


def _any(name: str) -> bool:
    return True


def files_below(
    directory: str, flag: str, select: Callable[[str], bool] | None = None
) -> Found:
    """Every file below ``directory`` whose name ``select`` accepts (all by default), sorted.

    ``directory`` itself may be a link (the tree is its target). Errors name ``flag`` and
    ``directory``: not a directory, unreadable (itself or below), a link out of the tree, a
    selected link that loops or dangles, a selected special file.
    """
    try:
        if not stat.S_ISDIR(os.stat(directory).st_mode):
            raise InputError(f"{flag} {directory}: not a directory")
    except OSError as exc:
        problem = "no such directory" if isinstance(exc, FileNotFoundError) else _problem(exc)
        raise InputError(f"{flag} {directory}: {problem}") from None
    walk = _Walk(flag, directory, select or _any)
    found: Found = []
    pending = [directory]
    while pending:
        entries, device = walk.scan(pending.pop())
        for entry in entries:
            _visit(walk, entry, device, found, pending)
    return sorted(found)


def _visit(walk: _Walk, entry: os.DirEntry[str], device: int, found: Found,
           pending: list[str]) -> None:
    """Add ``entry`` to ``found`` when selected; queue a directory on ``pending``."""
    if entry.is_symlink():
        target = walk.link(entry.path, walk.select(entry.name))
        if target is not None:
            found.append((entry.path, (target.st_dev, target.st_ino)))
    elif entry.is_dir(follow_symlinks=False):
        pending.append(entry.path)
    elif not walk.select(entry.name):
        return
    elif entry.is_file(follow_symlinks=False):
        found.append((entry.path, (device, entry.inode())))
    else:
        raise walk.special(entry.path)


def glob_files(pattern: str, flag: str) -> Found:
    """The files a glob matches, as ``glob.glob(pattern, recursive=True)`` finds them (``**``
    crosses directories; ``*``, ``?`` and ``[...]`` do not match a leading dot), sorted, but
    failing closed: a directory the glob has to list and cannot is an error, and so is a match
    that links out of the glob's base (its leading components without wildcards)."""
    if pattern.endswith(os.sep):
        return []  # a trailing separator matches directories only
    absolute = pattern.startswith(os.sep)
    parts = [part for part in pattern.split(os.sep) if part]
    fixed = 0
    while fixed < len(parts) - 1 and not _magic(parts[fixed]):
        fixed += 1
    base = (os.sep if absolute else "") + os.sep.join(parts[:fixed])
    if base and not os.path.isdir(base):
        return []
    found: Found = []
    _match(_Walk(flag, base or ".", _any), base, parts[fixed:], found)
    return sorted(set(found))


def _magic(part: str) -> bool:
    return any(c in part for c in _MAGIC)


def _join(directory: str, name: str) -> str:
    return os.path.join(directory, name) if directory else name


def _match(walk: _Walk, directory: str, rest: list[str], found: Found) -> None:
    """Match ``rest`` (pattern components) below ``directory`` (spelled as the pattern is)."""
    import fnmatch

    head, tail = rest[0], rest[1:]
    if not _magic(head):
        path = _join(directory, head)
        try:
            st = os.lstat(path)
        except OSError:
            return  # a literal that is not there matches nothing, as in glob
        _consider(walk, path, st, found, tail)
        return
    if head == "**" and tail:
        _match(walk, directory, tail, found)  # ``**`` matches no directory, too
    entries, _ = walk.scan(directory or ".")
    for entry in entries:
        if entry.name.startswith(".") and not head.startswith("."):
            continue
        if head != "**" and not fnmatch.fnmatchcase(entry.name, head):
            continue
        path = _join(directory, entry.name)
        if head == "**" and entry.is_dir(follow_symlinks=False):
            _match(walk, path, rest, found)
        elif head != "**" or not tail:
            _consider(walk, path, entry.stat(follow_symlinks=False), found, tail)


def _consider(walk: _Walk, path: str, st: os.stat_result, found: Found,
              tail: list[str]) -> None:
    """A path the pattern reached: descend when components remain, else keep it as a match."""
    if stat.S_ISLNK(st.st_mode):
        target = walk.link(path, not tail)
        if target is not None:
            found.append((path, (target.st_dev, target.st_ino)))
    elif stat.S_ISDIR(st.st_mode):
        if tail:
            _match(walk, path, tail, found)
    elif tail:
        return
    elif stat.S_ISREG(st.st_mode):
        found.append((path, (st.st_dev, st.st_ino)))
    else:
        raise walk.special(path)
