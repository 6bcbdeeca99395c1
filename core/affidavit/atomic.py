"""Files written whole or not at all, without following anything planted in their way.

Every file affidavit writes beside others it does not own (the client cache, an output next to
the user's files) goes through a new temporary file created exclusively (``O_EXCL``: a link
or file already at that name is never written through) and is renamed into place. ``tempfile``
would do the same but costs the CLI's write path ``shutil`` and ``random`` to import.
"""

from __future__ import annotations

import os

__all__ = ["temp_beside"]

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
