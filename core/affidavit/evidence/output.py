"""Where a command may write its output: never over the ledger's own files, and never through
anything but a regular file, so ``-o`` cannot be turned into a way to destroy evidence."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from affidavit.atomic import unwritable
from affidavit.errors import InputError
from affidavit.ledger.base import Ledger

__all__ = ["check_output_path", "open_partial"]


def check_output_path(ledger: Ledger, out: Path) -> None:
    """Refuse to write ``out`` over the ledger's own files (database, journal, key, vault),
    over anything but a regular file (a symlink, a device, a directory, a FIFO), or into a
    folder that is missing or cannot take a new file."""
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InputError(f"-o {out}: {(exc.strerror or str(exc)).lower()}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        what = ("a directory" if stat.S_ISDIR(st.st_mode) else
                "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file")
        raise InputError(f"-o {out}: is {what}; refusing to replace it")
    target = os.path.realpath(out)
    for own in ledger.local_files():
        mine = os.path.realpath(own)
        if target == mine or target.startswith(mine.rstrip(os.sep) + os.sep):
            raise InputError(f"-o {out}: is the ledger's own {own}; refusing to overwrite it")
    why = unwritable(out, replace=True)  # its folder must take the file renamed over ``out``
    if why is not None:
        raise InputError(f"-o {out}: {why}")


def open_partial(out: Path) -> tuple[Path, int]:
    """A new file beside ``out`` to write into, then rename over it; created exclusively, so a
    link planted beside ``out`` is never written through."""
    from affidavit.atomic import temp_beside

    tmp, fd = temp_beside(out, 0o644)
    return Path(tmp), fd
