"""Which files ``attest junit`` reads: ``--results-dir DIR`` and ``--results FILE_OR_GLOB...``.

There is no default location: searching ``.`` would attest whatever XML lies in the checkout
(fixtures, build files), so an explicit location is required, and one that does not exist or
matches nothing is an error naming it.
"""

from __future__ import annotations

import os
import re

from affidavit.errors import InputError, UsageError
from affidavit.paths import path_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["find_results", "find_result_names"]

_MAGIC = re.compile(r"[*?[]")
_Found = list[tuple[str, tuple[int, int]]]  # path, (device, inode)


def find_results(results_dir: str | None, results: Sequence[str]) -> list[Path]:
    """:func:`find_result_names` as ``Path`` objects."""
    from pathlib import Path  # 4 ms to import: the CLI takes the names instead

    return [Path(name) for name in find_result_names(results_dir, results)]


def find_result_names(results_dir: str | None, results: Sequence[str]) -> list[str]:
    """The result files named by ``--results-dir DIR`` and ``--results FILE_OR_GLOB...``.

    ``DIR`` means every ``*.xml`` file below it (recursive, sorted); each ``--results`` value
    is a file, a glob (``**`` crosses directories) or a directory (as ``--results-dir``). There
    is no default location: searching ``.`` would attest whatever XML lies in the checkout.
    A location that does not exist or matches nothing is an error naming it; a file found twice
    is kept once, where it was first found. Each is spelled as ``str(Path(name))`` spells it.
    """
    if results_dir is None and not results:
        raise UsageError("no test results given",
                         remedy="pass --results-dir DIR or --results FILE_OR_GLOB...")
    found: _Found = []
    if results_dir is not None:
        found += _xml_below(results_dir, "--results-dir")
    for item in results:
        if not item:
            raise UsageError("--results: empty value")
        if _MAGIC.search(item):
            import glob

            matches = sorted(p for p in glob.glob(item, recursive=True) if os.path.isfile(p))
            if not matches:
                raise InputError(f"--results {item}: matches no file")
            found += [(p, _identity(p)) for p in matches]
        elif os.path.isdir(item):
            found += _xml_below(item, "--results")
        elif os.path.isfile(item):
            found.append((item, _identity(item)))
        else:
            raise InputError(f"--results {item}: no such file")
    seen: set[tuple[int, int]] = set()
    unique: list[str] = []
    for path, key in found:
        if key not in seen:
            seen.add(key)
            unique.append(path_text(path))
    return unique


def _identity(path: str) -> tuple[int, int]:
    """(device, inode): the same file reached by two spellings or a symlink is found once."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _xml_below(directory: str, flag: str) -> _Found:
    if not os.path.isdir(directory):
        problem = "not a directory" if os.path.exists(directory) else "no such directory"
        raise InputError(f"{flag} {directory}: {problem}")
    found: _Found = []
    pending = [directory]
    while pending:
        top = pending.pop()
        try:
            entries = list(os.scandir(top))
            device = os.stat(top).st_dev
        except OSError as exc:
            if top == directory:
                problem = (exc.strerror or str(exc)).lower()
                raise InputError(f"{flag} {directory}: {problem}") from None
            continue  # unreadable below the given directory: skipped, as os.walk does
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            elif entry.name.endswith(".xml") and entry.is_file():
                if entry.is_symlink():
                    found.append((entry.path, _identity(entry.path)))
                else:
                    found.append((entry.path, (device, entry.inode())))
    if not found:
        raise InputError(f"{flag} {directory}: no *.xml file below it")
    return sorted(found)
