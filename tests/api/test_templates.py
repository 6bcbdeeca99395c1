"""Flow templates: validated with the line and key named, versioned in the log, and the
template in effect recorded with each verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import Cli, Home, assert_error, state


@pytest.mark.parametrize(("text", "needles"), [
    ("version: 1\ntrail:\n  attestations:\n    - name: unit\n      type: junitt\n",
     ["line 5:", "unknown attestation type 'junitt'"]),
    ("version: 1\ntrail:\n  attestations:\n    - name: unit\n      type: junit\n"
     "      colour: red\n", ["line 6:", "unknown key 'colour'"]),
    ("version: 2\n", ["line 1:", "version"]),
    ("version: 1\ntrail:\n  artifacts:\n    - name: app\n      attestations: oops\n",
     ["line 5:", "trail.artifacts.0.attestations"]),
    ("version: 1\ntrail:\n  attestations:\n    - name: 'bad name!'\n      type: generic\n",
     ["line 4:", "name"]),
    ("version: 1\ntrail: [\n", ["template file"]),
    ("- just\n- a list\n", ["expected a mapping"]),
])
def test_bad_templates_are_exit_2_naming_line_and_key(cli: Cli, home: Home, tmp_path: Path,
                                                     text: str, needles: list[str]) -> None:
    template = tmp_path / "template.yml"
    template.write_text(text)
    before = state(home)
    assert_error(cli("create", "flow", "f", "--template-file", template), 2, str(template),
                 *needles)
    assert state(home) == before


def test_template_schema_is_published(cli: Cli) -> None:
    schema = json.loads(cli("schema", "template").out)
    assert schema["properties"]["version"]["const"] == 1
    assert "TemplateAttestation" in json.dumps(schema)


def test_each_verdict_records_the_template_version_in_effect(cli: Cli, tmp_path: Path) -> None:
    first = tmp_path / "v1.yml"
    first.write_text("version: 1\ntrail:\n  attestations:\n    - {name: unit, type: generic}\n")
    second = tmp_path / "v2.yml"
    second.write_text("version: 1\ntrail:\n  attestations:\n    - {name: unit, type: generic}\n"
                      "    - {name: lint, type: generic}\n")
    assert cli("create", "flow", "f", "--template-file", first).code == 0
    assert cli("begin", "trail", "t", "--flow", "f").code == 0
    assert cli("attest", "generic", "--flow", "f", "--trail", "t", "--name", "unit").code == 0

    def trail() -> dict[str, object]:
        out: dict[str, object] = json.loads(
            cli("get", "trail", "t", "--flow", "f", "--output", "json").out)
        return out

    before = trail()
    assert (before["status"], before["template_entry"]) == ("COMPLIANT", 0)
    assert cli("create", "flow", "f", "--template-file", second).code == 0  # entry 3
    after = trail()
    assert (after["status"], after["template_entry"]) == ("INCOMPLETE", 3)
    assert after["verdict"]["template_entry"] == 3  # type: ignore[index]
    own = tmp_path / "own.yml"
    own.write_text("version: 1\n")
    assert cli("begin", "trail", "t", "--flow", "f", "--template-file", own).code == 0  # entry 4
    mine = trail()
    assert (mine["status"], mine["template_source"], mine["template_entry"]) == (
        "COMPLIANT", "trail", 4)
