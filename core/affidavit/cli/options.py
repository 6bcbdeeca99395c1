"""Shared option definitions: one ``--ledger``, one ``--output``, one way to read env vars.

Every flag may also come from ``AFFIDAVIT_<FLAG>`` (``--origin-url`` -> ``AFFIDAVIT_ORIGIN_URL``);
the command line wins. An empty value on the command line is a usage error rather than a silent
default (``--trail "$UNSET"`` must fail the step, not record an empty trail name). An empty
``AFFIDAVIT_*`` variable counts as not set: CI systems cannot unset a variable, only empty it (a
GitHub ``env:`` of an input left blank, a GitLab job variable), so empty there means "not given"
for a wrapper and for a plain ``run:`` step alike; a required flag then still fails, naming the
empty variable.
"""

from __future__ import annotations

import argparse
import os

from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

__all__ = [
    "env_name",
    "add",
    "add_ledger",
    "add_output",
    "add_dry_run",
    "add_artifact_type",
    "add_summary_file",
    "append_summary",
    "add_outputs_file",
    "write_outputs",
    "check_output_files",
    "resolve",
    "required",
    "comma_list",
]

_REQUIRED = "_affidavit_required"
_LIST_SEPARATOR = ","


def env_name(flag: str) -> str:
    """``--origin-url`` -> ``AFFIDAVIT_ORIGIN_URL``."""
    return "AFFIDAVIT_" + flag.lstrip("-").upper().replace("-", "_")


def add(
    parser: argparse.ArgumentParser,
    *flags: str,
    help: str,
    required: bool = False,
    **kwargs: Any,
) -> None:
    """Add an option whose default comes from the environment; ``required`` is checked after.

    The long flag (the last one) names the environment variable.
    """
    suffix = f" [env {env_name(flags[-1])}]"
    action = parser.add_argument(*flags, default=None, help=help + suffix, **kwargs)
    if required:
        setattr(action, _REQUIRED, True)


def add_ledger(parser: argparse.ArgumentParser) -> None:
    """``--ledger URL``: which ledger to use."""
    add(parser, "--ledger", metavar="URL",
        help="ledger URL (default: .affidavit/ledger.db at the git repo root)")


def add_output(
    parser: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json")
) -> None:
    """``--output FORMAT``."""
    add(parser, "--output", choices=choices, help=f"output format (default {choices[0]})")


def add_summary_file(parser: argparse.ArgumentParser) -> None:
    """``--summary-file PATH``: also append the markdown summary there (a CI job summary),
    whatever ``--output`` prints, so one call gives a wrapper both JSON and the summary."""
    add(parser, "--summary-file", metavar="PATH",
        help="also append the markdown summary to this file (e.g. $GITHUB_STEP_SUMMARY)")


def append_summary(path: str | None, text: str) -> None:
    """Append ``text`` to the ``--summary-file``, naming the file when it cannot be written."""
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as out:
            out.write(text.rstrip("\n") + "\n\n")
    except OSError as exc:
        raise UsageError(f"--summary-file {path}: {exc.strerror}") from None


def add_outputs_file(parser: argparse.ArgumentParser) -> None:
    """``--outputs-file PATH``: append the result's key facts as ``key=value`` lines, the format
    of ``$GITHUB_OUTPUT``, so a wrapper gets step outputs without reading the JSON shapes."""
    add(parser, "--outputs-file", metavar="PATH",
        help="also append the result as key=value lines to this file (e.g. $GITHUB_OUTPUT)")


def write_outputs(path: str | None, outputs: dict[str, str]) -> None:
    """Append ``outputs`` to the ``--outputs-file`` in GitHub's ``$GITHUB_OUTPUT`` format: a
    value on one line as ``key=value``, one with line breaks as ``key<<DELIM`` … ``DELIM``, the
    delimiter chosen so that no line of the value can end it early."""
    if not path:
        return
    lines = []
    for key, value in outputs.items():
        if "\n" not in value and "\r" not in value:
            lines.append(f"{key}={value}\n")
            continue
        taken = set(value.splitlines())
        delimiter = "AFFIDAVIT_EOF"
        while delimiter in taken:
            delimiter += "_"
        lines.append(f"{key}<<{delimiter}\n{value}\n{delimiter}\n")
    try:
        with open(path, "a", encoding="utf-8") as out:
            out.writelines(lines)
    except OSError as exc:
        raise UsageError(f"--outputs-file {path}: {exc.strerror}") from None


def check_output_files(args: argparse.Namespace) -> None:
    """Refuse a ``--summary-file`` or ``--outputs-file`` that could not be written (a
    directory, a FIFO, a read-only file or folder, a missing folder, a link loop) before the
    command records or decides anything, not after (``api.outputs``)."""
    summary, outputs = getattr(args, "summary_file", None), getattr(args, "outputs_file", None)
    if summary or outputs:
        from affidavit.api.outputs import check_output_file

        check_output_file("--summary-file", summary)
        check_output_file("--outputs-file", outputs)


def add_dry_run(parser: argparse.ArgumentParser) -> None:
    """``--dry-run``: compute and print, write nothing."""
    add(parser, "--dry-run", action="store_const", const=True,
        help="print what would be recorded and write nothing")


def add_attach(parser: argparse.ArgumentParser, what: str) -> None:
    """``--attach/--no-attach``: keep the files a collector read (``what``) as evidence."""
    add(parser, "--attach", action=argparse.BooleanOptionalAction,
        help=f"keep {what} as evidence (default: yes)")


ARTIFACT_TYPES = ("file", "dir", "oci", "docker")
"""``--artifact-type``'s choices (``api.fingerprints.ARTIFACT_TYPES``: the CLI imports no more
than it parses with)."""


def add_artifact_type(parser: argparse.ArgumentParser, what: str, *,
                      required: bool = False) -> None:
    """``--artifact-type file|dir|oci|docker`` (how to fingerprint ``what``), and the
    registry credentials an ``oci`` image may need."""
    add(parser, "--artifact-type", required=required, choices=ARTIFACT_TYPES,
        help=f"how to fingerprint {what}: file, dir, oci (an image's digest from its "
             "registry) or docker (a local image's repo digest from the Docker Engine)")
    add(parser, "--registry-username", metavar="USER",
        help="for --artifact-type oci: the registry user (default: docker login's)")
    add(parser, "--registry-password", metavar="SECRET",
        help="for --artifact-type oci: the registry password or token")


def _coerce(action: argparse.Action, raw: str, source: str) -> Any:
    try:
        return _convert(action, raw, source)
    except (ValueError, argparse.ArgumentTypeError) as exc:
        raise UsageError(f"{_flag(action)}{source}: {exc}") from None


def _convert(action: argparse.Action, raw: str, source: str) -> Any:
    if (action.const is True and action.nargs == 0) or isinstance(
            action, argparse.BooleanOptionalAction):
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        flag = _flag(action)
        raise UsageError(f"{flag}{source}: expected true or false, not {raw!r}")
    if action.nargs in ("+", "*"):
        items = [part.strip() for part in raw.split(_LIST_SEPARATOR)]
        if any(item == "" for item in items):
            raise UsageError(f"{_flag(action)}{source} has an empty item")
        return [action.type(item) if action.type else item for item in items]  # type: ignore[operator]
    value = action.type(raw) if action.type else raw  # type: ignore[operator]
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise UsageError(f"{_flag(action)}{source}: {raw!r} is not one of {choices}")
    return value


def _flag(action: argparse.Action) -> str:
    """The flag that names ``action``'s environment variable: the long one given to :func:`add`
    (``--attach`` of ``--attach/--no-attach``, whose help says ``AFFIDAVIT_ATTACH``)."""
    names = action.option_strings
    if isinstance(action, argparse.BooleanOptionalAction):
        names = [name for name in names if not name.startswith("--no-")] or names
    return names[-1] if names else ""


def resolve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fill unset options from the environment, refuse empty values and missing required ones."""
    for action in parser._actions:
        if not action.option_strings or action.dest in ("help",):
            continue
        value = getattr(args, action.dest, None)
        flag = _flag(action)
        if value is None:
            raw = os.environ.get(env_name(flag))
            if raw is not None and raw.strip() != "":
                setattr(args, action.dest, _coerce(action, raw, f" (from {env_name(flag)})"))
        elif isinstance(value, str) and value.strip() == "":
            raise UsageError(f"{flag} is empty")
        elif isinstance(value, list) and any(str(v).strip() == "" for v in value):
            raise UsageError(f"{flag} has an empty value")
    if getattr(args, "ci_defaults", False):
        _ci_defaults(args)
    for action in parser._actions:
        flag = _flag(action)
        if getattr(args, action.dest, None) is None and getattr(action, _REQUIRED, False):
            if env_name(flag) in os.environ:
                raise UsageError(f"{flag} is required ({env_name(flag)} is empty)")
            raise UsageError(f"{flag} is required (or set {env_name(flag)})")


def comma_list(values: list[str] | None) -> tuple[str, ...]:
    """Values given as ``--exclude a,b c``: each may hold several, comma-separated (Kosli's
    form), so a command line copied from Kosli means the same thing here."""
    return tuple(part for value in values or () for part in value.split(",") if part)


def _ci_defaults(args: argparse.Namespace) -> None:
    """The CI defaults ``api.context`` decides, for the flags not given on the command line
    or in AFFIDAVIT_*."""
    from affidavit.api.context import ci_defaults

    found = ci_defaults()
    if found.commit is None:
        return
    if getattr(args, "commit", None) is None:
        args.commit = found.commit
        args.commit_url = found.commit_url
    if getattr(args, "origin_url", None) is None:
        args.origin_url = found.origin_url
    if hasattr(args, "trail") and args.trail is None:
        args.trail = found.commit


def required(value: str | None, what: str) -> str:
    """A positional value that must be non-empty."""
    if value is None or value.strip() == "":
        raise UsageError(f"{what} is empty")
    return value


def path(value: str) -> Path:
    """argparse ``type`` for file arguments: empty is an error, not the current directory."""
    if value.strip() == "":
        raise argparse.ArgumentTypeError("is empty")
    from pathlib import Path

    return Path(value)


def path_text(value: str) -> str:
    """:func:`path` as text, for commands that need no ``pathlib`` (4 ms) to read one file."""
    if value.strip() == "":
        raise argparse.ArgumentTypeError("is empty")
    return value
