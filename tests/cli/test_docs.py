"""``docs/cli-reference.md`` documents every command and flag, and is what the generator writes.

The completeness check finds the commands through ``cli.commands.TABLE``, not through the
generator's own walk of the parser tree, so a command the generator skipped is caught too; and
it wants every flag listed in its own command's section, not just somewhere on the page.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
from pathlib import Path
from types import ModuleType

import pytest

from affidavit.cli import options
from affidavit.cli.commands import TABLE
from affidavit.cli.main import build_parser
from affidavit.errors import UsageError

DOCS = Path(__file__).resolve().parents[2] / "docs"
REFERENCE = DOCS / "cli-reference.md"


def _load_generator() -> ModuleType:
    path = DOCS / "gen_cli_reference.py"
    spec = importlib.util.spec_from_file_location("gen_cli_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _table_commands() -> dict[str, argparse.ArgumentParser]:
    """``"attest junit"`` -> its parser, for every verb and noun of the command table."""
    root, found = build_parser(), {}
    for verb, (_, nouns) in TABLE.items():
        for noun in nouns:
            parser, path = root, [verb] if noun is None else [verb, noun]
            for name in path:
                sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
                parser = sub.choices[name]
            found[" ".join(path)] = parser
    return found


COMMANDS = _table_commands()


def _documentable(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if "--help" not in a.option_strings
            and not isinstance(a, argparse._SubParsersAction)]  # its commands have sections


def _names(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string, and each positional as the page spells it (``NAME``)."""
    return [name for action in _documentable(parser)
            for name in action.option_strings or [(action.metavar or action.dest).upper()]]


def _sections(page: str) -> dict[str, str]:
    """``"attest junit"`` -> the text under the heading ``## `affidavit attest junit` ``."""
    parts = re.split(r"^## `affidavit ([^`]+)`$", page, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


_ITEM = re.compile(r"^- (.+?) — ", re.MULTILINE)


def _listed(section: str) -> set[str]:
    """The names a section's items describe: the first word of each code span before ``—``."""
    return {span.split()[0] for item in _ITEM.findall(section)
            for span in re.findall(r"`([^`]+)`", item)}


def undocumented(page: str) -> list[str]:
    """Commands without a section, and ``"command --flag"`` for flags not listed in theirs."""
    sections, missing = _sections(page), []
    for command, parser in COMMANDS.items():
        if command not in sections:
            missing.append(command)
            continue
        listed = _listed(sections[command])
        missing += [f"{command} {name}" for name in _names(parser) if name not in listed]
    return missing


def _without_item(page: str, command: str, flag: str) -> tuple[str, str]:
    """``page`` with ``flag``'s item removed from ``command``'s section, and that item."""
    item = next(line for line in _sections(page)[command].splitlines()
                if line.startswith(f"- `{flag} ") or line.startswith(f"- `{flag}`"))
    return page.replace(f"\n{item}\n", "\n", 1), item


def test_reference_is_up_to_date() -> None:
    if REFERENCE.read_text(encoding="utf-8") != gen.render():  # no diff: pytest's takes a minute
        pytest.fail(f"{REFERENCE} is stale: run `make docs`", pytrace=False)


def test_every_command_and_flag_is_documented_in_its_section() -> None:
    assert len(COMMANDS) == sum(len(nouns) for _, nouns in TABLE.values())
    assert undocumented(REFERENCE.read_text(encoding="utf-8")) == []


def test_a_flag_missing_from_the_reference_is_caught() -> None:
    # --results-dir stays on the page: a prefix of another flag must not count as documented.
    page, _ = _without_item(REFERENCE.read_text(encoding="utf-8"), "attest junit", "--results")
    assert "--results-dir" in _sections(page)["attest junit"]
    assert undocumented(page) == ["attest junit --results"]


def test_a_flag_in_another_commands_section_is_caught() -> None:
    page, item = _without_item(REFERENCE.read_text(encoding="utf-8"), "attest junit",
                               "--max-failures")
    heading = "## `affidavit attest sarif`\n"
    page = page.replace(heading, f"{heading}\n{item}\n", 1)
    assert undocumented(page) == ["attest junit --max-failures"]


def test_a_command_missing_from_the_reference_is_caught() -> None:
    page = REFERENCE.read_text(encoding="utf-8").replace("## `affidavit ci env`", "## ci env")
    assert undocumented(page) == ["ci env"]


def test_check_fails_in_one_line_that_says_how_to_regenerate(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "cli-reference.md"
    page.write_text(gen.render().replace("--max-failures", "--max-fails"), encoding="utf-8")
    assert gen.main(["--check", str(page)]) == 1
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and "make docs" in message and str(page) in message
    assert gen.main([str(page)]) == 0
    assert gen.main(["--check", str(page)]) == 0
    assert capsys.readouterr().err == ""


def test_the_page_does_not_depend_on_the_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    wide = gen.render()
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setattr(os, "get_terminal_size", lambda *_: os.terminal_size((40, 24)))
    assert gen.render() == wide


def _env_cases() -> list[object]:
    cases: list[object] = []
    for command, parser in COMMANDS.items():
        for action in _documentable(parser):
            if not action.option_strings:
                continue
            cases.append(pytest.param(parser, action,
                                      id=f"{command} {'/'.join(action.option_strings)}"))
    return cases


@pytest.mark.parametrize(("parser", "action"), _env_cases())
def test_the_documented_env_var_is_the_one_read(
        parser: argparse.ArgumentParser, action: argparse.Action,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Setting the variable the page names sets the option, or fails naming that variable."""
    variable = gen.env_var(action)
    for name in list(os.environ):  # the suite's own AFFIDAVIT_LEDGER would fill --ledger regardless
        if name.startswith("AFFIDAVIT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv(variable, str(next(iter(action.choices))) if action.choices else "true")
    args = argparse.Namespace(**{a.dest: None for a in parser._actions})
    try:
        options.resolve(parser, args)
    except UsageError as exc:
        if f"(from {variable})" in str(exc):
            return
    assert getattr(args, action.dest) is not None
