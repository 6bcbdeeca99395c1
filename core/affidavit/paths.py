"""``str(pathlib.Path(p))`` without importing pathlib.

``pathlib`` costs about 4 ms to import (it pulls in ``urllib.parse`` and ``ipaddress``), which
``attest junit|sarif|snyk|artifact`` would pay on every call only to normalise the spelling of
the paths they record. The spelling matters (it is recorded, and names evidence), so this
gives exactly what ``str(Path(p))`` gives; on other systems than POSIX it is pathlib.
"""

from __future__ import annotations

import os

__all__ = ["path_text"]


def path_text(path: str | os.PathLike[str]) -> str:
    """``str(Path(path))``: repeated and trailing slashes and ``.`` components dropped, a
    leading ``//`` (but not ``///``) kept, ``..`` kept, and ``.`` for the empty path."""
    text = os.fspath(path)
    if os.name != "posix":  # pragma: no cover - Windows drives and separators: pathlib's rules
        from pathlib import Path

        return str(Path(text))
    if text[:2] == "//" and text[2:3] != "/":
        root = "//"
    elif text[:1] == "/":
        root = "/"
    else:
        root = ""
    parts = [part for part in text.split("/") if part and part != "."]
    return (root + "/".join(parts)) or "."
