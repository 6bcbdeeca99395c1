"""``Proven.picked``: a value of every entry filed under a key, proven whole as ``under`` proves
it, and extended from what an earlier view proved by only the entries filed since -- never
from a history the view does not extend, nor over index rows below that size that are not the
ones it proved. And the judge's verdict of an attestation, which is a function of its bytes,
found once per process (``verify.proven._JUDGED``), never for a record written around it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from affidavit.errors import IntegrityError
from affidavit.ledger import index
from affidavit.ledger.sqlite import SQLiteLedger
from affidavit.models import build
from affidavit.verify import proven as proven_module
from affidavit.verify.proven import Picked, Proven
from tests.helpers import Cli, Home, append_entries, counted_loads, ok

FLOW = "f"
KEY = index.trails_key(FLOW)


def _name(entry: dict[str, Any]) -> Any:
    return entry["record"]["name"]


def _append(home: Home, *entries: dict[str, Any]) -> None:
    append_entries(home, *entries)


def _trails(home: Home, *names: str) -> None:
    _append(home, *[build.entry("trail", build.trail(flow=FLOW, name=n)) for n in names])


@pytest.fixture
def flow(home: Home) -> None:
    ledger = SQLiteLedger(home.url, create=True)
    try:
        ledger.init()
    finally:
        ledger.close()
    _append(home, build.entry("flow", build.flow(name=FLOW)))
    _trails(home, *[f"t{n}" for n in range(25)])


def _view(home: Home) -> Proven:
    return Proven(SQLiteLedger(home.url))


def test_picked_is_what_under_proves(home: Home, flow: None) -> None:
    with _view(home) as view:
        whole = view.under(KEY)
    with _view(home) as view:
        held = view.entry(3)  # read before: kept; those picked in chunks are not
        picked = view.picked(KEY, _name, chunk=7)
        assert picked.positions == tuple(p for p, _ in whole)
        assert picked.values == tuple(e["record"]["name"] for _, e in whole)
        assert (picked.carried, picked.size, picked.key) == (0, view.size, KEY)
        assert view.entry(3) is held and len(view._entries) == 1
    with _view(home) as view:
        assert view.picked(index.trails_key("nothing"), _name).values == ()


def test_picked_extends_an_earlier_answer_by_the_entries_filed_since(
        home: Home, flow: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with _view(home) as view:
        first = view.picked(KEY, _name)
    with _view(home) as view:
        assert view.picked(KEY, _name, first) is first  # the same checkpoint: nothing to read
    _trails(home, "t3", "new")
    _append(home, build.entry("flow", build.flow(name="g")))  # not the key's
    loaded = counted_loads(monkeypatch)
    with _view(home) as view:
        later = view.picked(KEY, _name, first)
        assert later.carried == 25 and later.values == (*first.values, "t3", "new")
        assert sorted(loaded) == list(later.positions[25:]), "only the entries filed since"
        assert later.size == view.size > first.size
    with _view(home) as view:
        assert view.picked(KEY, _name).values == later.values  # as a read of them all


def _like(picked: Picked, **changed: Any) -> Picked:
    fields = {name: getattr(picked, name) for name in Picked.__slots__}
    return Picked(**{**fields, **changed})


def test_an_answer_of_another_key_log_or_a_later_size_is_not_used(home: Home,
                                                                  flow: None) -> None:
    with _view(home) as view:
        first = view.picked(KEY, _name)
    for other in (_like(first, key="trails:g"), _like(first, origin="elsewhere"),
                  _like(first, verifier="another key"), _like(first, size=first.size + 5),
                  _like(first, size=0, positions=(), values=())):
        with _view(home) as view:
            again = view.picked(KEY, _name, other)
            assert (again.carried, again.values) == (0, first.values)


def test_an_answer_from_a_history_this_log_does_not_extend_is_an_integrity_error(
        home: Home, flow: None) -> None:
    with _view(home) as view:
        first = view.picked(KEY, _name)
    forged = _like(first, root=bytes(32))
    with _view(home) as view, pytest.raises(IntegrityError, match="does not extend"):
        view.picked(KEY, _name, forged)
    _trails(home, "late")
    with _view(home) as view, pytest.raises(IntegrityError, match="does not extend"):
        view.picked(KEY, _name, forged)  # by a consistency proof this time
    with _view(home) as view:
        assert view.picked(KEY, _name, first).carried == 25


def test_rows_below_the_size_an_answer_was_proven_at_must_be_the_ones_it_proved(
        home: Home, flow: None) -> None:
    """Each case stands for an index that changed the rows below that size since."""
    with _view(home) as view:
        first = view.picked(KEY, _name)
    positions = first.positions
    cases = {"one fewer": positions[:3] + positions[4:],
             "one more": (*positions, positions[-1]),
             "one other": (positions[0] - 1, *positions[1:])}
    for what, rows in cases.items():
        forged = _like(first, positions=rows, values=first.values[:len(rows)])
        with _view(home) as view, pytest.raises(IntegrityError, match="below size"):
            view.picked(KEY, _name, forged)
            pytest.fail(what)


# -- the judge's verdicts, once per process -----------------------------------------------------

@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the attestations the judge is asked about, from an empty memory."""
    from affidavit.compliance import judge

    monkeypatch.setattr(proven_module, "_JUDGED", {})
    asked: list[str] = []
    real = judge.check_recorded

    def counted(record: Any, *rest: Any) -> None:
        asked.append(record["name"])
        real(record, *rest)

    monkeypatch.setattr(judge, "check_recorded", counted)
    yield asked


def _attestation(name: str, compliant: bool, recorded: bool | None = None) -> dict[str, Any]:
    return build.entry("attestation", build.attestation(
        flow=FLOW, trail="t1", name=name, type="generic",
        compliant=compliant if recorded is None else recorded,
        predicate={"compliant": compliant}))


def test_an_attestation_is_judged_once_per_process(home: Home, flow: None,
                                                   judged: list[str]) -> None:
    _append(home, _attestation("unit", True), _attestation("lint", False))
    for _ in range(3):
        with _view(home) as view:
            assert len(view.under(index.trail_key(FLOW, "t1"))) == 3
    assert sorted(judged) == ["lint", "unit"]


def test_a_record_written_around_the_judge_is_refused_every_time(home: Home, flow: None,
                                                                  judged: list[str]) -> None:
    _append(home, _attestation("unit", False, recorded=True))
    for _ in range(2):
        with _view(home) as view, pytest.raises(IntegrityError, match="records compliant"):
            view.under(index.trail_key(FLOW, "t1"))
    assert judged == ["unit", "unit"] and not proven_module._JUDGED


def test_a_custom_type_s_verdict_is_found_every_time(cli: Cli, home: Home, tmp_path: Path,
                                                     judged: list[str]) -> None:
    """Its verdict reads the type's version from the log, so it is no function of its bytes
    alone."""
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object"}))
    ok(cli("create", "attestation-type", "coverage", "--schema", schema, "--rule",
           "lines >= 80"))
    ok(cli("create", "flow", "c"))
    ok(cli("begin", "trail", "t", "--flow", "c"))
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"lines": 91}))
    ok(cli("attest", "custom", "--flow", "c", "--trail", "t", "--name", "cov", "--type",
           "coverage", "--attestation-data", data))
    ok(cli("attest", "generic", "--flow", "c", "--trail", "t", "--name", "plain"))
    judged.clear()
    for _ in range(2):
        with _view(home) as view:
            view.under(index.trail_key("c", "t"))
    assert sorted(judged) == ["cov", "cov", "plain"]


def test_the_memory_of_verdicts_is_bounded(home: Home, flow: None, judged: list[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proven_module, "_JUDGED_MAX", 2)
    _append(home, *[_attestation(f"a{n}", True) for n in range(5)])
    with _view(home) as view:
        view.under(index.trail_key(FLOW, "t1"))
    assert len(proven_module._JUDGED) <= 2 and len(judged) == 5
