"""Open a file argument as a regular file, or say in one line why it is not one.

Every file a user names goes through here (issue 11): opened without blocking, so a FIFO with
no writer cannot hang the command, and checked with ``fstat`` on the open descriptor (not a
``stat`` beforehand, which a swap could outrun), so ``/dev/zero``, a device or a directory is
refused instead of read until memory runs out.
"""

from __future__ import annotations

import os
import stat

from affidavit.errors import InputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    PathArg = str | os.PathLike[str]

__all__ = ["open_regular", "read_regular", "check_regular_or_absent", "problem"]

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def problem(exc: OSError) -> str:
    """An OS error as the lower-case phrase the one-line errors end with."""
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    return (exc.strerror or str(exc)).lower()


def open_regular(path: PathArg, label: str, limit: int | None = None) -> int:
    """A descriptor on the regular file at ``path`` (blocking reads once open), no larger than
    ``limit`` bytes when one is given; errors begin with ``label`` (e.g. ``package p.zip``)."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        raise InputError(f"{label}: {problem(exc)}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{label}: is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{label}: not a regular file")
        if limit is not None and info.st_size > limit:
            raise InputError(f"{label}: larger than {limit >> 20} MiB")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: PathArg, label: str, limit: int) -> bytes:
    """The whole of the small regular file at ``path`` (a key, a list of keys): refused as
    :func:`open_regular` refuses, and when larger than ``limit`` bytes."""
    fd = open_regular(path, label)
    try:
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{label}: {problem(exc)}") from None
    if len(data) > limit:
        raise InputError(f"{label}: larger than {limit} bytes; this is not such a file")
    return data


def check_regular_or_absent(path: PathArg, label: str) -> None:
    """Refuse ``path`` unless it is a regular file or does not exist yet (a database a
    command creates): a FIFO, a device, a directory or a symbolic link loop is named in one
    line, before a library that would block on it or read it forever opens it."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"{label}: {problem(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{label}: is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{label}: not a regular file")
