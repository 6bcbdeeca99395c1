"""The ``.kosli_ignore`` file: which name counts as one, and the rules it holds.

Rules from this file decide which paths a directory fingerprint leaves out, so they must be
read exactly as Kosli CLI reads them (``excludePathsFromFile``), quirks included: Go's
``bufio.Scanner`` splits the lines (``\\n`` or ``\\r\\n``, and a line of 64 KiB or more silently
ends the list), everything from the first ``#`` is a comment, and Go's ``strings.TrimSpace``
-- whose notion of white space is not Python's -- trims what is left. The file's name is
compared as Go's ``strings.EqualFold`` compares it, which admits two non-ASCII letters. What
the rules then match is :mod:`affidavit.collect.fingerprint.goglob`'s business.
"""

from __future__ import annotations

import os
import stat

from affidavit.collect.fingerprint.hashing import O_READ, path_error
from affidavit.errors import InputError

__all__ = ["IGNORE_FILE_NAME", "equal_fold_ignore_name", "read_ignore_rules"]

IGNORE_FILE_NAME = ".kosli_ignore"

_MAX_SCAN_LINE = 64 * 1024  # bufio.MaxScanTokenSize: a longer line stops Go's Scanner
#: The most an ignore file may hold. Kosli bounds each line by its 64 KiB scanner buffer (and
#: stops at a longer one, as ``read_ignore_rules`` does) but not the file; a file of short
#: lines up to 1 MiB keeps Kosli's fingerprint, a bigger one is refused rather than read.
MAX_IGNORE_FILE = 1 << 20


# Go's strings.EqualFold against ".kosli_ignore": ASCII case plus the two non-ASCII runes in
# the simple-fold orbits of its letters (KELVIN SIGN for k, LATIN SMALL LETTER LONG S for s).
_FOLDS = {c: {c, c.upper()} for c in IGNORE_FILE_NAME}
_FOLDS["k"].add("\u212a")
_FOLDS["s"].add("\u017f")


def equal_fold_ignore_name(name: bytes) -> bool:
    """Whether ``name`` is IGNORE_FILE_NAME under Go's ``strings.EqualFold``."""
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return len(text) == len(IGNORE_FILE_NAME) and all(
        c in _FOLDS[t] for c, t in zip(text, IGNORE_FILE_NAME, strict=True)
    )


# Go's unicode.IsSpace, which strings.TrimSpace uses (Python's str.strip also strips \x1c-\x1f).
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


def read_ignore_rules(path: bytes) -> list[bytes]:
    """The rules of an ignore file, read as Kosli's ``excludePathsFromFile`` reads them."""
    try:
        fd = os.open(path, O_READ)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise path_error(path, exc) from exc
    chunks: list[bytes] = []
    try:
        kind = os.fstat(fd).st_mode
        if not stat.S_ISREG(kind) and not stat.S_ISDIR(kind):
            # a FIFO or a device (``/dev/zero``) would hang or never end
            raise InputError(f"{os.fsdecode(path)}: not a regular file")
        size = 0
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_IGNORE_FILE:
                raise InputError(f"{os.fsdecode(path)}: larger than "
                                 f"{MAX_IGNORE_FILE >> 20} MiB")
            chunks.append(chunk)
    except OSError:
        # Go's Scanner stops silently on a read error (e.g. the name links to a directory).
        chunks = []
    finally:
        os.close(fd)
    data = b"".join(chunks)
    rules: list[bytes] = []
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # a final newline does not start another line
    for line in lines:
        if len(line) >= _MAX_SCAN_LINE:
            break  # bufio.ErrTooLong: Kosli ignores the error and keeps the rules so far
        if line.endswith(b"\r"):
            line = line[:-1]
        line = line.split(b"#", 1)[0].rstrip(b" ")
        text = line.decode("utf-8", "surrogateescape").strip(_GO_SPACE)
        if text:
            rules.append(text.encode("utf-8", "surrogateescape"))
    return rules
