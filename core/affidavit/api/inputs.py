"""Turning user-supplied files and ``k=v`` pairs into record fields, with one-line errors."""

from __future__ import annotations

import json
import os

from affidavit import canonical
from affidavit.errors import InputError, UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    #: What the API accepts as a path; pathlib itself is imported only where paths are walked.
    PathArg = str | os.PathLike[str]

__all__ = [
    "read_json_file", "read_template_file", "parse_annotations", "expand_attachments"]


def read_json_file(path: PathArg, what: str) -> Any:
    """Parse a JSON file, naming the file and the position of the first problem."""
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{what} file {path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{what} file {path}: is a directory") from None
    except OSError as exc:
        raise InputError(f"{what} file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} file {path}: not UTF-8 ({exc.reason})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{what} file {path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise InputError(f"{what} file {path}: JSON nested too deeply") from None
    try:
        canonical.dumps(value)  # what the ledger will hash: refuses NaN and Infinity
    except ValueError:
        raise InputError(
            f"{what} file {path}: NaN and Infinity are not JSON numbers"
        ) from None
    return value


def read_template_file(path: PathArg) -> dict[str, Any]:
    """Load and validate a Kosli-style template (YAML ``version: 1``); return it canonical."""
    import yaml
    from pydantic import ValidationError

    from affidavit.models.records import Template

    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise InputError(f"template file {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"template file {path}: cannot read ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"template file {path}: {problem}{where}") from None
    except RecursionError:
        raise InputError(f"template file {path}: YAML nested too deeply") from None
    if not isinstance(data, dict):
        raise InputError(f"template file {path}: expected a mapping with 'version: 1'")
    try:
        return Template.model_validate(data).canonical()
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(p) for p in first["loc"]]
        key = ".".join(loc) or "(top level)"
        if first["type"] == "extra_forbidden":
            problem = f"{key}: unknown key {loc[-1]!r}"
        elif first["type"] == "string_pattern_mismatch" and loc[-1] == "type":
            problem = (f"{key}: unknown attestation type {first['input']!r} (generic, artifact, "
                       "junit, sarif, snyk, pull_request, approval, decision, custom:NAME or *)")
        else:
            problem = f"{key}: {first['msg']}"
        line = _line_of(text, first["loc"])
        where = f" line {line}:" if line else ""
        raise InputError(f"template file {path}:{where} {problem}") from None


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (a pydantic error location), or of the
    deepest node that exists on the way there."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == part]
            if not match:
                break
            key, node = match[0]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def parse_annotations(pairs: list[str] | None) -> dict[str, str] | None:
    """``["k=v", ...]`` -> ``{"k": "v"}``; a pair without ``=`` or with an empty key is refused."""
    if not pairs:
        return None
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--annotate {pair!r} is not KEY=VALUE")
        out[key.strip()] = value
    return out


def expand_attachments(paths: list[PathArg] | None) -> list[tuple[str, Path]]:
    """``(name, file)`` for every attachment: a file by its base name, a directory's files by
    their path below the directory's parent, in sorted order."""
    if not paths:
        return []
    from pathlib import Path

    out: list[tuple[str, Path]] = []
    for path in map(Path, paths or []):
        if path.is_file():
            out.append((path.name, path))
        elif path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                out.append((file.relative_to(path.parent).as_posix(), file))
        elif path.exists():
            raise InputError(f"attachment {path}: not a regular file or directory")
        else:
            raise InputError(f"attachment {path}: no such file or directory")
    return out
