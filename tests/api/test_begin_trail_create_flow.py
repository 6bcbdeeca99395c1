"""``begin trail --create-flow``: a pipeline bootstraps its flow itself, idempotently.

The flow is created when missing; its description and template are recorded when they differ
from the current ones, and nothing is recorded for the flow when they do not, so every build of
the pipeline may pass the same flags.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Cli, Home, assert_error, ok, state

TEMPLATE = "version: 1\ntrail:\n  attestations:\n    - {name: unit, type: junit}\n"
OTHER = "version: 1\ntrail:\n  attestations:\n    - {name: review, type: generic}\n"


def _kinds(cli: Cli) -> list[tuple[str, str]]:
    entries = json.loads(ok(cli("log", "ledger", "--output", "json")).out)
    return [(e["kind"], e["subject"]) for e in entries]


def _flow(cli: Cli, name: str = "shop") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(ok(cli("get", "flow", name, "--output", "json")).out)
    return doc


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "flow.yml"
    path.write_text(TEMPLATE)
    return path


def test_creates_the_flow_then_records_nothing_for_it_again(cli: Cli, template: Path) -> None:
    first = ok(cli("begin", "trail", "c1", "--flow", "shop", "--flow-template-file", template,
                   "--flow-description", "Shop delivery", "--output", "json")).json()
    assert first["flow_change"]["index"] == 0 and first["index"] == 1
    assert first["flow_change"]["entry"]["record"] == {
        "name": "shop", "description": "Shop delivery",
        "template": {"version": 1, "trail": {"attestations": [
            {"name": "unit", "type": "junit"}], "artifacts": []}}}
    flow = _flow(cli)
    assert flow["description"] == "Shop delivery"
    assert flow["template"]["trail"]["attestations"][0]["name"] == "unit"

    again = ok(cli("begin", "trail", "c2", "--flow", "shop", "--flow-template-file", template,
                   "--flow-description", "Shop delivery", "--output", "json")).json()
    assert (again["flow_change"], again["index"]) == (None, 2)
    plain = ok(cli("begin", "trail", "c3", "--flow", "shop", "--create-flow"))
    assert plain.out.startswith("recorded trail 'c3' as entry 3")
    assert [kind for kind, _ in _kinds(cli)] == ["flow", "trail", "trail", "trail"]
    # the trail is judged against the template the flow was created with
    verdict = ok(cli("get", "trail", "c2", "--flow", "shop", "--output", "json")).json()
    assert verdict["status"] == "INCOMPLETE"


def test_a_changed_template_is_recorded_and_the_description_kept(
        cli: Cli, template: Path, tmp_path: Path) -> None:
    ok(cli("begin", "trail", "c1", "--flow", "shop", "--flow-template-file", template,
           "--flow-description", "Shop delivery"))
    other = tmp_path / "other.yml"
    other.write_text(OTHER)
    changed = ok(cli("begin", "trail", "c2", "--flow", "shop", "--flow-template-file", other,
                     "--output", "json")).json()
    assert changed["flow_change"]["entry"]["record"] == {
        "name": "shop", "template": {"version": 1, "trail": {"attestations": [
            {"name": "review", "type": "generic"}], "artifacts": []}}}
    flow = _flow(cli)
    assert flow["description"] == "Shop delivery"
    assert flow["template"]["trail"]["attestations"][0]["name"] == "review"
    assert flow["entries"] == [0, 2]


def test_an_existing_flow_made_by_create_flow_is_left_alone(cli: Cli, template: Path) -> None:
    ok(cli("create", "flow", "shop", "--template-file", template))
    done = ok(cli("begin", "trail", "c1", "--flow", "shop", "--flow-template-file", template,
                  "--output", "json")).json()
    assert done["flow_change"] is None
    assert _kinds(cli) == [("flow", "shop"), ("trail", "shop/c1")]


def test_without_it_a_missing_flow_is_still_an_error(cli: Cli, home: Home) -> None:
    assert_error(cli("begin", "trail", "c1", "--flow", "shop"), 2,
                 "flow 'shop' does not exist", "begin trail --create-flow")
    assert state(home).entries == 0


def test_dry_run_writes_neither(cli: Cli, home: Home, template: Path) -> None:
    ok(cli("create", "flow", "other"))
    before = state(home)
    done = ok(cli("begin", "trail", "c1", "--flow", "shop", "--flow-template-file", template,
                  "--dry-run", "--output", "json")).json()
    assert done["dry_run"] is True and done["flow_change"]["dry_run"] is True
    assert done["flow_change"]["entry"]["record"]["name"] == "shop"
    assert state(home) == before


def test_a_bad_template_writes_nothing(cli: Cli, home: Home, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 2\n")
    assert_error(cli("begin", "trail", "c1", "--flow", "shop", "--flow-template-file", bad), 2,
                 str(bad))
    assert state(home).entries == 0


def test_from_the_environment_and_in_the_markdown_summary(
        cli: Cli, template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFIDAVIT_CREATE_FLOW", "true")
    summary = ok(cli("begin", "trail", "c1", "--flow", "shop", "--output", "markdown")).out
    assert summary.startswith("### Trail c1\n")
    assert "| Flow entry | 0 (created or changed) |" in summary
    assert "| Ledger entry | 1 |" in summary


def test_the_library_call(ledger: Any, template: Path) -> None:
    from affidavit.api import record

    done = record.begin_trail(ledger, flow="shop", name="c1", create_flow=True,
                              flow_template_file=template)
    assert done.flow_change is not None and done.flow_change.entry_index == 0
    assert done.entry_index == 1
    again = record.begin_trail(ledger, flow="shop", name="c1", flow_template_file=template)
    assert again.flow_change is None and again.entry_index == 2
