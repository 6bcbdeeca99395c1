"""``snapshot path`` and ``snapshot paths``: artifacts on a server's file system.

A server environment is a set of paths, each an artifact: a file's fingerprint is its
SHA-256, a directory's the one ``attest artifact --artifact-type dir`` computes, so what runs
matches what was attested byte for byte. The paths file is Kosli's (``version: 1``, then
``artifacts: {NAME: {path, exclude}}``), so its users keep theirs.
"""

from __future__ import annotations

import os
from pathlib import Path

from affidavit.errors import InputError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = ["PathSpec", "parse_paths_file", "fingerprint_paths"]

PathSpec = tuple[str, str, tuple[str, ...]]
"""One artifact to look for: its name, its path, what to leave out of a directory."""


def parse_paths_file(spec: Any, where: str, folder: str) -> list[PathSpec]:
    """The artifacts a paths file (``spec``, parsed YAML, named ``where`` in errors) names,
    relative paths resolved against ``folder``, the file's own."""
    if not isinstance(spec, dict) or spec.get("version") != 1:
        raise InputError(f"{where}: expected 'version: 1' and 'artifacts:'")
    unknown = set(spec) - {"version", "artifacts"}
    if unknown:
        raise InputError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    artifacts = spec.get("artifacts")
    if not isinstance(artifacts, dict) or not artifacts:
        raise InputError(f"{where}: 'artifacts' must map each artifact name to its path")
    base = Path(folder)
    out = []
    for name, item in artifacts.items():
        if not isinstance(name, str) or not name:
            raise InputError(f"{where}: artifact names must be strings")
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise InputError(f"{where}: artifact {name!r} needs a 'path'")
        extra = set(item) - {"path", "exclude"}
        if extra:
            raise InputError(f"{where}: artifact {name!r}: unknown key {sorted(extra)[0]!r}")
        exclude = item.get("exclude") or []
        if not isinstance(exclude, list) or not all(isinstance(e, str) for e in exclude):
            raise InputError(f"{where}: artifact {name!r}: 'exclude' must be a list of paths")
        out.append((name, str(base / item["path"]), tuple(exclude)))
    return out


def fingerprint_paths(specs: Sequence[PathSpec]) -> list[dict[str, Any]]:
    """One running artifact per path; a path that is not there is an error, never a smaller
    snapshot (which would read as "it stopped running")."""
    from affidavit.collect.fingerprint.artifact import fingerprint

    out = []
    for name, path, exclude in specs:
        if not os.path.lexists(path):
            raise InputError(f"{path}: no such file or directory (artifact {name!r})")
        if os.path.isdir(path):
            digest = fingerprint(path, "dir", exclude)
        elif exclude:
            raise UsageError(f"{path}: --exclude applies to a directory, not a file")
        else:
            digest = fingerprint(path, "file")
        out.append({"name": name, "fingerprint": digest})
    return out
