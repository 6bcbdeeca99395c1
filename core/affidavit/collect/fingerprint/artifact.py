"""The fingerprint of an artifact: a file's SHA-256, or a directory's as Kosli computes it.

A **file** fingerprint is the lowercase hex SHA-256 of the file's bytes (symlinks followed);
a **directory** fingerprint is :func:`~affidavit.collect.fingerprint.dirsha.fingerprint_dir`.
"""

from __future__ import annotations

import os
import stat

from affidavit.collect.fingerprint.hashing import BUF_SIZE, hash_fd, input_error
from affidavit.errors import InputError, UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; fingerprinting one file should not pay it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Literal

__all__ = ["ArtifactType", "fingerprint", "fingerprint_file"]

if TYPE_CHECKING:
    ArtifactType = Literal["file", "dir"]
else:
    ArtifactType = str  # the same names at run time, without importing typing for Literal
StrPath = str | os.PathLike[str]


def fingerprint(path: StrPath, artifact_type: ArtifactType, exclude: Sequence[str] = ()) -> str:
    """Fingerprint ``path`` as a ``file`` or a ``dir`` artifact (hex SHA-256)."""
    if artifact_type == "file":
        if exclude:
            raise UsageError(
                f"exclude patterns apply only to a dir artifact, not to file {os.fspath(path)}"
            )
        return fingerprint_file(path)
    if artifact_type == "dir":
        from affidavit.collect.fingerprint.dirsha import fingerprint_dir  # its walk and threads

        return fingerprint_dir(path, exclude)
    raise UsageError(f"unknown artifact type {artifact_type!r} (expected 'file' or 'dir')")


def _anonymous_pipe(st: os.stat_result, raw: bytes) -> bool:
    """Whether ``raw`` is a pipe with no name in the file system: ``<(cmd)`` or a piped
    ``/dev/stdin``, whose writer exists by construction and whose end is the command's end.
    A named FIFO may have no writer (an open that never returns) or one that never stops,
    and a device such as ``/dev/zero`` never ends: those are refused."""
    return stat.S_ISFIFO(st.st_mode) and os.path.basename(os.path.realpath(raw)).startswith(
        b"pipe:[")


def fingerprint_file(path: StrPath) -> str:
    """Hex SHA-256 of the content of the file at ``path`` (symlinks are followed)."""
    shown = os.fspath(path)
    raw = os.fsencode(path)
    try:
        st = os.stat(raw)
    except (OSError, ValueError) as exc:
        raise input_error(shown, exc) from exc
    if stat.S_ISDIR(st.st_mode):
        raise InputError(
            f"{shown} is a directory, not a file", remedy="fingerprint it with --artifact-type dir"
        )
    if not stat.S_ISREG(st.st_mode) and not _anonymous_pipe(st, raw):
        raise InputError(f"{shown} is not a regular file (a named FIFO, socket or device)",
                         remedy="write the artifact to a file first; a pipe such as <(cmd) "
                                "or /dev/stdin is read to its end")
    try:
        # Not O_NONBLOCK here: a pipe (``<(cmd)``) is a legitimate file artifact.
        fd = os.open(raw, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            return hash_fd(fd, bytearray(BUF_SIZE),
                           st.st_size if stat.S_ISREG(st.st_mode) else None)
        finally:
            os.close(fd)
    except OSError as exc:
        raise input_error(shown, exc) from exc
