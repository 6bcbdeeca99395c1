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
from affidavit.walk import Found, files_below, glob_files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["find_results", "find_result_names"]

_MAGIC = re.compile(r"[*?[]")


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
    found: Found = []
    if results_dir is not None:
        found += _xml_below(results_dir, "--results-dir")
    for item in results:
        if not item:
            raise UsageError("--results: empty value")
        if _MAGIC.search(item):
            matches = glob_files(item, "--results")
            if not matches:
                raise InputError(f"--results {item}: matches no file")
            found += matches
        elif os.path.isdir(item):
            found += _xml_below(item, "--results")
        else:
            found.append((item, _identity(item)))
    seen: set[tuple[int, int]] = set()
    unique: list[str] = []
    for path, key in found:
        if key not in seen:
            seen.add(key)
            unique.append(path_text(path))
    return unique


def _identity(path: str) -> tuple[int, int]:
    """(device, inode): the same file reached by two spellings or a symlink is found once.
    Only a regular file is a result: a FIFO or device would block or never end."""
    import stat

    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"--results {path}: no such file") from None
    except OSError as exc:
        raise InputError(f"--results {path}: {(exc.strerror or str(exc)).lower()}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"--results {path}: not a regular file")
    return st.st_dev, st.st_ino


def _is_xml(name: str) -> bool:
    return name.endswith(".xml")


def _xml_below(directory: str, flag: str) -> Found:
    found = files_below(directory, flag, _is_xml)
    if not found:
        raise InputError(f"{flag} {directory}: no *.xml file below it")
    return found
