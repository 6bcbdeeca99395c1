"""``affidavit <verb> <noun>``: parse, call the library, map errors to exit codes.

Exit codes: 0 ok, 1 not compliant, 2 usage or bad input, 3 ledger unreachable or integrity
failure, and also any failure nothing anticipated (it decided nothing, so a gate must not pass
on it). Errors print one line on stderr; tracebacks only with ``AFFIDAVIT_DEBUG=1``.

``AFFIDAVIT_ARGS`` holds further arguments, split like a shell would (quotes group, nothing is
expanded) and appended to the command line: the one place the CI wrappers' free ``args`` input
is split, so the same text means the same arguments under GitHub, GitLab and Jenkins.
"""

from __future__ import annotations

import argparse
import os
import sys

from affidavit import __version__
from affidavit.errors import AffidavitError, UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, NoReturn

__all__ = ["main", "build_parser", "run"]

_DESCRIPTION = (
    "Record verifiable evidence of how a change reached production, and decide whether it may "
    "ship. Exit codes: 0 ok, 1 not compliant, 2 usage or bad input, 3 ledger unreachable or "
    "integrity failure. AFFIDAVIT_ARGS adds arguments, split like a shell would."
)


def _extra_args() -> list[str]:
    """``AFFIDAVIT_ARGS``, split like a shell would; empty or unset adds nothing."""
    raw = os.environ.get("AFFIDAVIT_ARGS", "")
    if raw.strip() == "":
        return []
    import shlex

    try:
        return shlex.split(raw)
    except ValueError as exc:
        raise UsageError(f"AFFIDAVIT_ARGS: {exc} in {raw!r}") from None


class _Formatter(argparse.HelpFormatter):
    """Help text sized to the terminal without importing shutil on every call (2 ms)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            try:
                width = max(os.get_terminal_size().columns - 2, 40)
            except OSError:
                width = 98
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2, like every other error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _configure(parser: argparse.ArgumentParser, target: str) -> None:
    import importlib

    module, _, function = target.partition(":")
    # a command another package owns (``affidavit server``) is named in full, so the CLI does
    # not import that package unless the command is run
    name = module if module.startswith("affidavit.") else f"affidavit.cli.{module}"
    getattr(importlib.import_module(name), function)(parser)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The command tree; only the branch ``argv`` selects, when it selects a known command."""
    from affidavit.cli.commands import TABLE

    parser = _Parser(prog="affidavit", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"affidavit {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", required=True,
                                  parser_class=_Parser)
    chosen_verb = argv[0] if argv and argv[0] in TABLE else None
    for verb, (verb_help, nouns) in TABLE.items():
        if chosen_verb is not None and verb != chosen_verb:
            continue
        if None in nouns:
            _configure(verbs.add_parser(verb, help=verb_help), nouns[None][0])
            continue
        sub = verbs.add_parser(verb, help=verb_help).add_subparsers(
            dest="noun", metavar="NOUN", required=True, parser_class=_Parser)
        chosen_noun = argv[1] if chosen_verb and len(argv) > 1 and argv[1] in nouns else None
        for noun, (target, noun_help) in nouns.items():
            if chosen_noun is None or noun == chosen_noun:
                _configure(sub.add_parser(str(noun), help=noun_help), target)
    return parser


def _leaf(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The parser of the command that was chosen, whose options need env resolution."""
    current = parser
    for dest in ("verb", "noun"):
        name = getattr(args, dest, None)
        action = next((a for a in current._actions if isinstance(a, argparse._SubParsersAction)),
                      None)
        if action is None or name is None:
            break
        current = action.choices[name]
    return current


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    from affidavit.cli import options

    try:
        arguments = list(sys.argv[1:] if argv is None else argv) + _extra_args()
        parser = build_parser(arguments)
        args = parser.parse_args(arguments)
        options.resolve(_leaf(parser, args), args)
        return int(args.handler(args))
    except AffidavitError as exc:
        if os.environ.get("AFFIDAVIT_DEBUG"):
            raise
        sys.stderr.write(f"affidavit: error: {exc.diagnostics()}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("affidavit: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence: never a traceback
        # Whatever failed here was not decided: a gate must not read it as 0 (ok) or 1 (not
        # compliant), so the answer is 3, as for anything else that cannot be proven.
        if os.environ.get("AFFIDAVIT_DEBUG"):
            raise
        detail = " ".join(str(exc).split())[:200]
        sys.stderr.write(f"affidavit: error: internal error, nothing decided ({type(exc).__name__}"
                         f"{': ' + detail if detail else ''}; AFFIDAVIT_DEBUG=1 shows where)\n")
        return 3


def run() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
