"""Files written whole or not at all, without following anything planted in their way.

Every file affidavit writes beside others it does not own (the client cache, an output next to
the user's files) goes through a new temporary file created exclusively (``O_EXCL``: a link
or file already at that name is never written through) and is renamed into place. ``tempfile``
would do the same but costs the CLI's write path ``shutil`` and ``random`` to import.
"""

from __future__ import annotations

import os

__all__ = ["temp_beside", "unwritable"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def temp_beside(path: str | os.PathLike[str], mode: int = 0o600) -> tuple[str, int]:
    """A new, exclusively created file in ``path``'s folder, to write and then ``os.replace``
    over ``path``: its name and an open descriptor."""
    folder, name = os.path.split(os.fspath(path))
    while True:
        tmp = os.path.join(folder, f".{name}.{os.urandom(6).hex()}.partial")
        try:
            return tmp, os.open(tmp, _FLAGS, mode)
        except FileExistsError:
            continue


def unwritable(path: str | os.PathLike[str], *, replace: bool = False) -> str | None:
    """Why no file could be written at ``path``, or None; found without writing anything, so
    that a command refuses an output it cannot write before it records anything, rather than
    after (an entry appended, then the step failing on its summary file).

    By default the file is appended to, created when missing (``--summary-file``): an existing
    one must be a regular file this process may open for writing (opened, not written, so a
    read-only file system or a read-only file is found), a missing one needs a folder it may
    create files in. With ``replace`` the file is written beside and renamed over ``path``
    (``-o``): only the folder must take a new file. A FIFO, a device or a socket is refused
    either way: an output is a file, and opening a FIFO for writing could block forever.
    """
    import stat

    path = os.fspath(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:  # a symbolic link loop, a folder above it that is a file or barred
        return _reason(exc)
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            return "is a directory"
        if not stat.S_ISREG(info.st_mode):
            return "is not a regular file (a FIFO, a device or a socket)"
        if not replace:
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK))
            except OSError as exc:
                return _reason(exc)
            return None
    folder = os.path.dirname(os.path.abspath(path) if replace else os.path.realpath(path))
    try:
        if not stat.S_ISDIR(os.stat(folder).st_mode):
            return "its directory is not a directory"
    except FileNotFoundError:
        return "its directory does not exist"
    except OSError as exc:
        return f"its directory: {_reason(exc)}"
    if not os.access(folder, os.W_OK | os.X_OK):
        try:
            if os.statvfs(folder).f_flag & os.ST_RDONLY:
                return "its directory is on a read-only file system"
        except (OSError, AttributeError):
            pass
        return "its directory is not writable"
    return None


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()
