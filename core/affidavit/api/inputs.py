"""Turning user-supplied files and ``k=v`` pairs into record fields, with one-line errors."""

from __future__ import annotations

import json
import os

from affidavit import canonical
from affidavit.errors import InputError, UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    #: What the API accepts as a path; pathlib itself is imported only where paths are walked.
    PathArg = str | os.PathLike[str]

__all__ = [
    "read_json_file", "read_template_file", "parse_annotations", "expand_attachments"]


#: The most a JSON or YAML input (user data, template, schema, attestation data) may hold.
MAX_INPUT = 64 << 20


def read_input(path: PathArg, what: str, limit: int = MAX_INPUT) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    Opened without blocking, so a FIFO cannot hang the command, and checked to be a regular
    file, so ``/dev/zero`` or a device is refused instead of read until memory runs out.
    """
    from affidavit.regular import open_regular, problem

    label = f"{what} file {path}"
    fd = open_regular(path, label, limit)
    try:
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > limit:
                raise InputError(f"{label}: larger than {limit >> 20} MiB")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(f"{label}: {problem(exc)}") from None
    finally:
        os.close(fd)


def _unique_pairs(where: str) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)
        if len(out) != len(items):  # rare: find the first repeat only then
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    raise InputError(f"{where}: duplicate key {key!r} (which one counts would "
                                     "be a guess)")
                seen.add(key)
        return out
    return pairs


def parse_json(data: bytes, where: str) -> Any:
    """Strict JSON: UTF-8, no duplicate keys, no NaN or Infinity, no lone surrogates, no
    integer over the interpreter's 4300 digits; ``where`` names the input in every error."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        value = json.loads(text, object_pairs_hook=_unique_pairs(where),
                           parse_constant=_no_constant(where), parse_float=_finite(where))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{where}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply") from None
    except ValueError as exc:  # int() beyond sys.get_int_max_str_digits()
        raise InputError(f"{where}: a number is too long ({exc})") from None
    try:
        canonical.dumps(value)  # what the ledger will hash
    except UnicodeEncodeError:
        raise InputError(f"{where}: a string holds a lone surrogate (not Unicode text)") from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply") from None
    return value


def _finite(where: str) -> Any:
    def number(text: str) -> float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise InputError(f"{where}: {text[:40]} is out of range for a JSON number")
        return value
    return number


def _no_constant(where: str) -> Any:
    def refuse(name: str) -> Any:
        raise InputError(f"{where}: {name} is not a JSON number")
    return refuse


def read_json_file(path: PathArg, what: str) -> Any:
    """Parse a JSON file (see :func:`parse_json`), naming the file in every error."""
    return parse_json(read_input(path, what), f"{what} file {path}")


def parse_yaml(data: bytes, where: str) -> tuple[Any, str]:
    """Strict YAML (a safe loader refusing duplicate keys) and its text; ``where`` names the
    input in every error."""
    import yaml

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: not UTF-8 ({exc.reason})") from None
    try:
        return yaml.load(text, Loader=_unique_keys_loader()), text  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"{where}: {problem}{at}") from None
    except RecursionError:
        raise InputError(f"{where}: YAML nested too deeply") from None


def read_template_file(path: PathArg) -> dict[str, Any]:
    """Load and validate a Kosli-style template (YAML ``version: 1``); return it canonical."""
    from pydantic import ValidationError

    from affidavit.models.records import Template

    data, text = parse_yaml(read_input(path, "template"), f"template file {path}")
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
                       "junit, sarif, snyk, pull_request, approval, decision, sbom, coverage, "
                       "vulns, jira, sonar, custom:NAME or *)")
        else:
            problem = f"{key}: {first['msg']}"
        line = _line_of(text, first["loc"])
        where = f" line {line}:" if line else ""
        raise InputError(f"template file {path}:{where} {problem}") from None


def _unique_keys_loader() -> Any:
    """PyYAML's SafeLoader refusing duplicate keys: with two ``trail:`` keys the last would
    silently win and its requirements replace the first's."""
    import yaml

    class UniqueKeys(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[object] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, str | int | float | bool | None):
                    continue  # unhashable: construct_mapping itself refuses it below
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeys


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
    return _key_values(pairs, "--annotate") or None


def _key_values(pairs: Sequence[str] | None, flag: str) -> dict[str, str]:
    """``["k=v", ...]`` given to ``flag`` -> ``{"k": "v"}``, keys stripped; a pair without
    ``=`` or with an empty key is refused."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} {pair!r} is not KEY=VALUE")
        out[key.strip()] = value
    return out


def parse_tags(pairs: Sequence[str] | None, removed: Sequence[str] | None = None
               ) -> dict[str, str | None] | None:
    """``--tag k=v …`` and ``--untag k …`` -> ``{"k": "v", "gone": None}`` (None removes a
    tag); a pair without ``=``, or a key both set and removed, is refused."""
    out: dict[str, str | None] = dict(_key_values(pairs, "--tag"))
    for key in removed or ():
        if key in out:
            raise UsageError(f"--untag {key}: the same key is also given to --tag")
        out[key] = None
    return out or None


def expand_attachments(paths: list[PathArg] | None) -> list[tuple[str, str]]:
    """``(name, file)`` for every attachment: a file by its base name, a directory's files by
    their path below the directory's parent, in sorted order.

    Only regular files are evidence: a FIFO or device would hang the vault's copy or fill it.
    A directory is walked as every input directory is (:mod:`affidavit.walk`): an unreadable
    directory or a link out of it is refused rather than left out of the evidence.
    """
    if not paths:
        return []
    import stat

    from affidavit.regular import open_regular
    from affidavit.walk import files_below

    out: list[tuple[str, str]] = []
    for path in (os.fspath(p) for p in paths):
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise InputError(f"--attachments {path}: no such file or directory") from None
        except OSError as exc:
            raise InputError(f"--attachments {path}: {(exc.strerror or str(exc)).lower()}"
                             ) from None
        if stat.S_ISREG(mode):
            out.append((os.path.basename(os.path.normpath(path)), path))
        elif stat.S_ISDIR(mode):
            parent = os.path.dirname(os.path.normpath(path))
            for file, _ in files_below(path, "--attachments"):
                name = os.path.relpath(file, parent) if parent else os.path.normpath(file)
                out.append((name.replace(os.sep, "/"), file))
        else:
            raise InputError(f"--attachments {path}: not a regular file or directory")
    for _, file in out:  # unreadable is refused here, before the first one is stored
        os.close(open_regular(file, f"--attachments {file}"))
    return out
