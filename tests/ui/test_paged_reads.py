"""A page of a flow's trails without reading them all again (``api/browse.py::_trail_order``,
``Proven.picked``): the order (the trail begun or changed last first) and the count stay right
as trails are begun and changed, and an index that lies about the rows of ``trails:<flow>`` a
page uses -- one removed, added, or pointing at another key's entry, in the rows read for the
page, below what the process proved before, or on a first read -- is an IntegrityError (a 500
page), never a page with a trail missing, added or out of its place.

No timing here: bench/ui.py measures the pages against their budget."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from affidavit.api import browse, query
from affidavit.errors import IntegrityError
from affidavit.ledger import index
from affidavit.ledger.sqlite import SQLiteLedger
from affidavit.models import build
from affidavit.verify.proven import Proven
from tests.helpers import Home, append_entries, counted_loads
from tests.server.threaded import ThreadedServer

FLOW = "big"
SIZE = 10  # trails a page in these tests (the UI's is browse.PAGE)


@pytest.fixture(autouse=True)
def forgetful() -> Iterator[None]:
    """Each test starts and ends with the process remembering no flow's trails."""
    browse._MEMO.clear()
    yield
    browse._MEMO.clear()


def _append(home: Home, *entries: dict[str, Any]) -> None:
    append_entries(home, *entries)


def _flow(home: Home, trails: int) -> None:
    """Flow ``big`` with trails ``t000`` ... (one entry each), and flow ``other`` with one
    trail and, among ``big``'s, an attestation: entries of other keys for a lying index to
    point at."""
    ledger = SQLiteLedger(home.url, create=True)
    try:
        ledger.init()
    finally:
        ledger.close()
    begun = [build.entry("trail", build.trail(flow=FLOW, name=f"t{t:03d}"))
             for t in range(trails)]
    _append(home, build.entry("flow", build.flow(name=FLOW, description="many trails")),
            build.entry("flow", build.flow(name="other")),
            build.entry("trail", build.trail(flow="other", name="x")),
            *begun[:trails // 2],
            build.entry("attestation", build.attestation(
                flow="other", trail="x", name="check", type="generic", compliant=True,
                predicate={"compliant": True})),
            *begun[trails // 2:])


def _change(home: Home, *names: str) -> None:
    """Begin each of ``names`` again (a change: a new entry under ``trails:big``)."""
    _append(home, *[build.entry("trail", build.trail(flow=FLOW, name=name,
                                                     description=f"changed {name}"))
                    for name in names])


def _page(home: Home, page: int = 1) -> dict[str, Any]:
    return browse.trails_page(SQLiteLedger(home.url), FLOW, page, SIZE)


def _names(home: Home, page: int = 1) -> list[str]:
    return [t["name"] for t in _page(home, page)["trails"]]


def _order_read_whole(home: Home) -> list[str]:
    """The order as a read of every entry of ``trails:big`` gives it (``Proven.under``)."""
    last: dict[str, int] = {}
    with Proven(SQLiteLedger(home.url)) as view:
        for position, entry in view.under(index.trails_key(FLOW)):
            last[entry["record"]["name"]] = position
    return sorted(last, key=lambda name: last[name], reverse=True)


def _every_page(home: Home) -> list[str]:
    first = _page(home)
    names = [t["name"] for t in first["trails"]]
    for page in range(2, first["pages"] + 1):
        names += _names(home, page)
    return names


def _remembered(home: Home) -> Any:
    """What the process remembers of ``trails:big`` (``Proven.picked``'s answer)."""
    return browse._MEMO[(SQLiteLedger(home.url).url, f"trails:{FLOW}")][0]


def _db(home: Home) -> sqlite3.Connection:
    return sqlite3.connect(home.db, isolation_level=None)


def _rows(home: Home) -> list[int]:
    db = _db(home)
    try:
        return [p for (p,) in db.execute("SELECT entry FROM idx WHERE key = ? ORDER BY entry",
                                         (index.trails_key(FLOW),))]
    finally:
        db.close()


def _other_entry(home: Home) -> int:
    """An entry not filed under ``trails:big``: flow ``other``'s attestation."""
    db = _db(home)
    try:
        (position,) = db.execute("SELECT entry FROM idx WHERE key = 'trail:other/x' "
                                 "ORDER BY entry DESC LIMIT 1").fetchone()
        return int(position)
    finally:
        db.close()


def _tamper(home: Home, *statements: tuple[str, tuple[Any, ...]]) -> None:
    db = _db(home)
    try:
        for sql, args in statements:
            db.execute(sql, args)
    finally:
        db.close()


def _drop(position: int) -> tuple[str, tuple[Any, ...]]:
    return ("DELETE FROM idx WHERE key = ? AND entry = ?", (index.trails_key(FLOW), position))


def _add(position: int) -> tuple[str, tuple[Any, ...]]:
    return ("INSERT INTO idx (key, entry) VALUES (?, ?)", (index.trails_key(FLOW), position))


def _refused(home: Home, *words: str) -> None:
    """A page of the flow is an IntegrityError naming ``words``, however it is read."""
    with pytest.raises(IntegrityError) as raised:
        _page(home)
    for word in words:
        assert word in raised.value.message, raised.value.message
    with pytest.raises(IntegrityError):
        browse.flows(SQLiteLedger(home.url))


# -- the order and the count ----------------------------------------------------------------------

def test_a_trail_changed_last_comes_first_and_the_count_stays(home: Home) -> None:
    _flow(home, 35)
    first = _page(home)
    assert first["count"] == 35 and first["pages"] == 4
    assert _every_page(home) == [f"t{t:03d}" for t in range(34, -1, -1)]
    _change(home, "t003")  # an old trail changed: it comes first, nothing else moves
    again = _page(home)
    assert again["count"] == 35 and again["pages"] == 4
    assert [t["name"] for t in again["trails"]][:3] == ["t003", "t034", "t033"]
    assert _every_page(home) == ["t003", *[f"t{t:03d}" for t in range(34, -1, -1) if t != 3]]
    _append(home, build.entry("trail", build.trail(flow=FLOW, name="t035")))
    _change(home, "t010", "t000", "t010")  # changed twice in one batch: its last change counts
    assert _page(home)["count"] == 36 and _page(home)["pages"] == 4
    assert _names(home)[:4] == ["t010", "t000", "t035", "t003"]
    assert _every_page(home) == _order_read_whole(home)
    assert _names(home, 4)[-2:] == ["t002", "t001"]  # the oldest unchanged trails, last
    assert browse.flows(SQLiteLedger(home.url))[0]["trails"] == 36
    assert browse.flows(SQLiteLedger(home.url))[0]["latest"]["name"] == "t010"


def test_a_page_reads_only_the_entries_filed_since_the_page_before(
        home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    _flow(home, 40)
    _page(home)
    remembered = _remembered(home)
    assert remembered.carried == 0 and len(remembered.values) == 40  # read whole, once
    _change(home, "t007", "t008")
    loaded = counted_loads(monkeypatch)
    assert _names(home)[:3] == ["t008", "t007", "t039"]
    after = _remembered(home)
    assert after.carried == 40 and len(after.values) == 42 and after.size > remembered.size
    rows = _rows(home)
    read = set(loaded) & set(rows)
    # of trails:big, the two new entries and the page's trails' own (8 + 2 + 2), no others
    assert set(rows[-2:]) <= read and len(read) <= SIZE + 2 and rows[0] not in read, read
    browse._MEMO.clear()  # a first read, at the same size, gives the same page
    assert _names(home) == [t["name"] for t in _page(home)["trails"]]
    assert _every_page(home) == _order_read_whole(home)


def test_the_memory_holds_only_so_many_rows(home: Home, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.setattr(browse, "_MEMO_ROWS", 30)
    _flow(home, 40)
    assert _names(home)[0] == "t039"
    assert not browse._MEMO  # more rows than it may hold: read whole each time
    assert _names(home)[0] == "t039"


# -- an index that lies ------------------------------------------------------------------------

@pytest.mark.parametrize("remembered", [False, True], ids=["first-read", "remembered"])
def test_a_row_removed_or_added_is_an_integrity_error(home: Home, remembered: bool) -> None:
    _flow(home, 30)
    rows = _rows(home)
    cases = {"the last row": [_drop(rows[-1])], "an old row": [_drop(rows[2])],
             "a row of another key's entry": [_add(_other_entry(home))],
             "a row of a trail of another flow": [_add(rows[0] - 1)]}
    for what, tampering in cases.items():
        if remembered:
            _page(home)
            assert browse._MEMO
        _tamper(home, *tampering)
        with pytest.raises(IntegrityError, match="key map"):
            _page(home)
        _tamper(home, ("DELETE FROM idx WHERE key = ?", (index.trails_key(FLOW),)),
                *[_add(p) for p in rows])  # the honest rows back
        assert _names(home)[0] == "t029", what


@pytest.mark.parametrize("where", ["first-read", "below-the-remembered-size"])
@pytest.mark.parametrize("stranger", ["a trail of another flow", "an attestation"])
def test_a_row_swapped_for_another_keys_entry_is_an_integrity_error(
        home: Home, where: str, stranger: str) -> None:
    """The count and the last stay the map's: only reading the entry behind each row, or
    comparing the rows with the ones proven before, can tell."""
    _flow(home, 30)
    if where != "first-read":
        _page(home)
    rows = _rows(home)
    other = rows[0] - 1 if stranger == "a trail of another flow" else _other_entry(home)
    assert other not in rows and other < rows[-1]
    _tamper(home, _drop(rows[5]), _add(other))  # t005 gone, the count and the last kept
    if where == "below-the-remembered-size":
        _refused(home, "other entries", "below size")
    else:
        _refused(home, "says otherwise")


def test_a_row_swapped_for_an_entry_filed_after_the_remembered_size(home: Home) -> None:
    """A row of an old trail entry dropped, one of a new entry of another key added: the
    count and the last agree, the rows below the remembered size are the proven ones, and
    the entry behind the new row says it is not the key's."""
    _flow(home, 20)
    _page(home)
    size = _remembered(home).size
    _change(home, "t004")
    _append(home, build.entry("attestation", build.attestation(
        flow="other", trail="x", name="late", type="generic", compliant=True,
        predicate={"compliant": True})))
    _change(home, "t005")
    rows = _rows(home)
    stranger = _other_entry(home)
    assert rows[-2] < stranger < rows[-1] and stranger >= size
    _tamper(home, _drop(rows[-2]), _add(stranger))
    _refused(home, "says otherwise")


def test_a_lying_index_is_a_500_page_not_a_page(home: Home) -> None:
    _flow(home, 60)
    with ThreadedServer(home.url) as running:
        url = f"{running.url}/flows/{FLOW}"
        honest = requests.get(url, timeout=30)
        assert honest.status_code == 200 and "60 trails" in honest.text
        assert re.findall(r'href="/flows/big/trails/(t\d+)">', honest.text)[0] == "t059"
        rows = _rows(home)
        _tamper(home, _drop(rows[10]), _add(rows[0] - 1))  # below what the page proved
        for path in (url, running.url + "/"):
            refused = requests.get(path, timeout=30)
            assert refused.status_code == 500, refused.text
            assert "Cannot read the ledger" in refused.text and "t059" not in refused.text
        browse._MEMO.clear()
        assert requests.get(url, timeout=30).status_code == 500  # and on a first read
        _tamper(home, _drop(rows[0] - 1), _add(rows[10]))
        assert requests.get(url, timeout=30).status_code == 200


def test_the_page_of_a_flow_is_query_s_answer(home: Home) -> None:
    """What a page shows of each trail is ``query.trail_state``'s, and the trails are the
    flow's, as ``query.trail_names`` lists them."""
    _flow(home, 25)
    _change(home, "t020", "t001")
    page = _page(home)
    ledger = SQLiteLedger(home.url)
    assert sorted(_every_page(home)) == sorted(query.trail_names(ledger, FLOW))
    for row in page["trails"]:
        state = query.trail_state(ledger, FLOW, row["name"])
        assert (row["status"], row["created_at"], row["updated_at"]) == (
            state["status"], state["created_at"], state["updated_at"])
    flow = query.flow_state(ledger, FLOW)
    assert (page["description"], page["template"]) == (flow["description"], flow["template"])
