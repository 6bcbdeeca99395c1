"""Reads shaped for a page at a time (the web UI, ``server/ui.py``): the same proven reads as
``query``, each verdict the one judge's, but only as much of the log as one page shows.

What a page still reads in full, and why: the set of a flow's trails (``trails:<flow>``: one
entry per trail begun or changed) is proven whole, because that is what proves the set and its
order, but its entries are read once per process and then only those filed since
(:func:`_trail_order`); a trail's state is read only for the trails on the page.
``query.list_flows`` and ``query.list_trails`` read every trail's state, so the UI does not
use them.
"""

from __future__ import annotations

from affidavit.api import gate, query
from affidavit.errors import NotFoundError
from affidavit.ledger import index
from affidavit.verify.proven import proven

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from affidavit.ledger.base import Ledger
    from affidavit.verify.proven import Picked, Proven

    Record = dict[str, Any]

__all__ = ["PAGE", "SCAN", "STATUSES", "flows", "flows_without", "trails_page", "trail_view",
           "trail_page", "evidence_of", "ledger_view", "page_of", "environment_page"]

PAGE = 50
"""Trails on one page of a flow."""


_MEMO_ROWS = 200_000
"""Rows the memory of proven keys keeps, over every key and ledger of this process (some 25 MB):
the least recently read key is forgotten first, and a key with more rows than this is read
whole on every page instead."""

_MEMO: dict[tuple[str, str], tuple[Picked, Any]] = {}
"""(ledger URL, key) -> what a page picked from every entry under the key, proven
(``Proven.picked``) at the last size a page read it, and what it folded that into; the least
recently read first."""


def _lock() -> Any:
    """A lock for :data:`_MEMO`: pages may be read by several threads at once (a server's,
    a test's); the reads themselves run outside it."""
    import threading

    return threading.Lock()


_MEMO_LOCK = _lock()


def _remembered(view: Proven, key: str, pick: Any, fold: Any, empty: Any) -> Any:
    """``fold(before, fresh)`` of ``pick(entry)`` over every entry under ``key``, proven whole
    (``Proven.picked``: the index's rows against the signed key map, each entry read proven
    and filed under the key) but read once per process: what the last page proved is
    extended only by the entries filed since, after checking the log extends the one it was
    proved in and the rows below its size are the ones proved then. ``before`` is the last
    fold (``empty`` when every entry is read again); ``fresh`` the values picked since, in
    log order. An index that lies is so an :class:`IntegrityError`, never a wrong page."""
    slot = (view.ledger.url, key)
    with _MEMO_LOCK:
        held = _MEMO.pop(slot, None)
    before, folded = held if held is not None else (None, empty)
    rows = view.picked(key, pick, before)
    if rows is not before:
        folded = fold(folded if rows.carried else empty, rows.values[rows.carried:])
    if len(rows.positions) <= _MEMO_ROWS:
        with _MEMO_LOCK:
            _MEMO[slot] = (rows, folded)
            kept = sum(len(r.positions) for r, _ in _MEMO.values())
            while kept > _MEMO_ROWS:
                oldest = next(iter(_MEMO))
                kept -= len(_MEMO.pop(oldest)[0].positions)
    return folded


def _trail_name(entry: Record) -> Any:
    return entry["record"]["name"]


def _later_first(order: list[str], fresh: tuple[str, ...]) -> list[str]:
    """``order`` (the latest first) after the trails ``fresh`` names (in log order) changed:
    the last change of each is its place."""
    latest = list(dict.fromkeys(reversed(fresh)))
    moved = set(latest)
    return latest + [name for name in order if name not in moved]


def _trail_order(view: Proven, flow: str) -> list[str]:
    """The flow's trails, the one begun or changed last first: ``trails:<flow>`` (one entry
    per trail begun or changed) proven whole (:func:`_remembered`), each trail's place that
    of its last entry. What it does not prove is anything of a trail but its name and place:
    its verdict and times are the page's ``query.trail_state``."""
    order: list[str] = _remembered(view, index.trails_key(flow), _trail_name, _later_first,
                                   [])
    return order


def _attestation_type(entry: Record) -> Any:
    return entry["record"]["type"] if entry["kind"] == "attestation" else None


def _with_types(types: frozenset[str], fresh: tuple[Any, ...]) -> frozenset[str]:
    return types | {t for t in fresh if t is not None}


def _types_of(view: Proven, flow: str) -> frozenset[str]:
    """The attestation types any trail of ``flow`` ever recorded (``flow:<flow>``, proven
    whole and remembered as :func:`_remembered` does)."""
    types: frozenset[str] = _remembered(view, index.flow_key(flow), _attestation_type,
                                        _with_types, frozenset())
    return types


def flows(source: Ledger | Proven,
          only: Callable[[Proven, str], bool] | None = None) -> list[Record]:
    """Every flow (those ``only(view, name)`` keeps, when given), its description, how many
    trails it has and its latest trail (the one begun or changed last) with that trail's
    verdict."""
    out = []
    with proven(source) as view:
        names = sorted({e["record"]["name"]: None for _, e in view.under(index.FLOWS_KEY)})
        for name in names:
            if only is not None and not only(view, name):
                continue
            state = query.flow_facts(view, name)
            order = _trail_order(view, name)
            latest = None
            if order:
                trail = query.trail_state(view, name, order[0])
                latest = {"name": trail["name"], "status": trail["status"],
                          "updated_at": trail["updated_at"]}
            out.append({"name": name, "description": state["description"],
                        "trails": len(order), "created_at": state["created_at"],
                        "latest": latest})
    return out


def page_of(items: list[Any], page: int, size: int, what: str) -> tuple[list[Any], int]:
    """Page ``page`` (from 1) of ``items``, ``size`` a page, and how many pages there are (at
    least one, empty); a page beyond them is not found in ``what``."""
    pages = max(1, -(-len(items) // size))
    if not 1 <= page <= pages:
        raise NotFoundError(f"{what} has no page {page} (it has {pages})")
    return items[(page - 1) * size:page * size], pages


def environment_page(source: Ledger | Proven, name: str, page: int = 1,
                     size: int = PAGE) -> Record:
    """An environment and, for a physical one, page ``page`` of its snapshots
    (``environment_log``'s rows), the latest first."""
    from affidavit.api import environments

    with proven(source) as view:
        state = environments.environment_state(view, name)
        log = [] if state["type"] == "logical" else environments.environment_log(view, name)
    shown, pages = page_of(log[::-1], page, size, f"environment {name!r}")
    return {**state, "log": shown, "page": page, "pages": pages}


STATUSES = ("COMPLIANT", "NON_COMPLIANT", "INCOMPLETE")
"""What a flow's trails can be filtered by: the judge's statuses."""


def _row(view: Proven, flow: str, name: str) -> Record:
    trail = query.trail_state(view, flow, name)
    return {"name": name, "status": trail["status"], "created_at": trail["created_at"],
            "updated_at": trail["updated_at"]}


SCAN = 1000
"""Trails one filtered page reads at most: a rare status in a large flow is looked for a
thousand trails a request, each page saying where the next looks on from."""


def trails_page(source: Ledger | Proven, flow: str, page: int = 1, size: int = PAGE,
                status: str | None = None, start: int = 0) -> Record:
    """Page ``page`` (from 1) of a flow's trails, the latest first: each with its verdict,
    when it was begun and last changed; only the page's trails are read.

    With ``status``, only the trails the judge gives that status, looked for from the
    ``start``-th trail (the latest first) on: up to ``size`` of them, reading at most
    :data:`SCAN` trails' states, and ``next`` is where the following page looks on from (None:
    none are left). A filtered page so costs at most a thousand trails' reads, however rare
    the status; it knows whether more may follow, not how many (that would read every
    trail)."""
    with proven(source) as view:
        state = query.flow_facts(view, flow)
        order = _trail_order(view, flow)
        facts = {"flow": flow, "description": state["description"],
                 "template": state["template"], "count": len(order), "status": status}
        if status is not None:
            if not 0 <= start < max(len(order), 1):
                raise NotFoundError(f"flow {flow!r} has {len(order)} trails, none from {start}")
            rows, resume = _filtered(view, flow, order, status, start, size)
            return {**facts, "page": None, "pages": None, "start": start, "next": resume,
                    "scanned": (resume if resume is not None else len(order)) - start,
                    "trails": rows}
        shown, pages = page_of(order, page, size, f"flow {flow!r}")
        # the page's trails in one read (one round trip to a remote ledger), not one each
        view.under_all([index.trail_key(flow, name) for name in shown])
        rows = [_row(view, flow, name) for name in shown]
    return {**facts, "page": page, "pages": pages, "start": None,
            "next": page + 1 if page < pages else None, "trails": rows}


def _filtered(view: Proven, flow: str, order: list[str], status: str, start: int,
              size: int) -> tuple[list[Record], int | None]:
    """Up to ``size`` trails of ``status`` from ``order[start:]``, reading at most
    :data:`SCAN` of them, ``PAGE`` a round trip; and where the next page looks on from."""
    found: list[Record] = []
    end = min(len(order), start + SCAN)
    for first in range(start, end, PAGE):
        batch = order[first:min(first + PAGE, end)]
        view.under_all([index.trail_key(flow, name) for name in batch])
        for offset, name in enumerate(batch):
            row = _row(view, flow, name)
            if row["status"] == status:
                found.append(row)
                if len(found) == size:
                    after = first + offset + 1
                    return found, after if after < len(order) else None
    return found, end if end < len(order) else None


def trail_view(source: Ledger | Proven, flow: str, trail: str) -> Record:
    """``query.trail_state`` with the gate's reasons (``assert trail``'s, word for word) and
    each attestation's signer (the key id of a signed one, checked by every reader) and the
    failed test cases a test report records.

    The trail is read and folded once: the reasons are ``gate.assert_trail``'s explanation of
    this same state's issues (``assert_trail`` would fold the trail again, a tenth of a page of
    a thousand attestations), and each attestation's record is the one the view proved."""
    with proven(source) as view:
        state = query.trail_state(view, flow, trail)
        reasons = gate.explained_reasons(view, state["verdict"]["issues"])
        records = view.entries(a["entry"] for a in state["attestations"])
        for attestation, (_, entry) in zip(state["attestations"], records, strict=True):
            record = entry["record"]
            signed = record.get("signed_by")
            attestation["signer"] = signed.get("keyid") if isinstance(signed, dict) else None
            predicate = (record.get("statement") or {}).get("predicate")
            failed = predicate.get("failed_cases") if isinstance(predicate, dict) else None
            attestation["failed_cases"] = failed if isinstance(failed, list) else []
    return {**state, "reasons": reasons}


def evidence_of(source: Ledger | Proven, flow: str, trail: str, digest: str) -> Record:
    """The reference to evidence file ``digest`` of one of the trail's attestations; not
    found when none of them names it (a page offers only what the trail shows)."""
    state = query.trail_state(source, flow, trail)
    for attestation in state["attestations"]:
        for ref in attestation["evidence"]:
            if isinstance(ref, dict) and ref.get("sha256") == digest:
                return dict(ref)
    raise NotFoundError(f"no attestation of trail {flow}/{trail} names evidence {digest}")


def ledger_view(source: Ledger | Proven) -> Record:
    """The latest signed checkpoint (proven: it verifies with the ledger's key and extends
    what this reader saw before), its size, origin and the verifier key."""
    with proven(source) as view:
        assert view.checkpoint is not None and view.verifier is not None
        return {"checkpoint": view.note, "size": view.size, "origin": view.checkpoint.origin,
                "verifier_key": view.verifier.key}


def trail_page(source: Ledger | Proven, flow: str, trail: str) -> Record:
    """:func:`trail_view` with each template slot's ``--explain`` reason (``why``), read at
    one checkpoint: the trail page answers "why not?" in the words ``get trail --explain``
    uses."""
    from affidavit.api.explain import slot_reasons

    with proven(source) as view:
        state = trail_view(view, flow, trail)
        state["explain"] = slot_reasons(view, flow, state)
    return state


def flows_without(source: Ledger | Proven, attestation_type: str) -> list[Record]:
    """The flows none of whose trails holds an attestation of ``attestation_type`` ("which
    pipelines never scan?"; ``list flows --without-type``), shaped as :func:`flows` shapes a
    row. Every entry of every flow is read once per process (:func:`_types_of`), then only
    those filed since: a filter asked again and again costs what the flows page costs."""
    return flows(source, lambda view, name: attestation_type not in _types_of(view, name))
