"""Reads shaped for a page at a time (the web UI, ``server/ui.py``): the same proven reads as
``query``, each verdict the one judge's, but only as much of the log as one page shows.

What a page still reads in full, and why: the set of a flow's trails (``trails:<flow>``: one
entry per trail begun or changed) is read whole, because that is what proves the set and its
order; a trail's state is then read only for the trails on the page. ``query.list_flows`` and
``query.list_trails`` read every trail's state, so the UI does not use them.
"""

from __future__ import annotations

from affidavit.api import gate, query
from affidavit.errors import NotFoundError
from affidavit.ledger import index
from affidavit.verify.proven import proven

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.ledger.base import Ledger
    from affidavit.verify.proven import Proven

    Record = dict[str, Any]

__all__ = ["PAGE", "flows", "trails_page", "trail_view", "evidence_of", "ledger_view"]

PAGE = 50
"""Trails on one page of a flow."""


def _trail_order(view: Proven, flow: str) -> list[str]:
    """The flow's trails, the one begun or changed last first."""
    last: dict[str, int] = {}
    for position, entry in view.under(index.trails_key(flow)):
        last[entry["record"]["name"]] = position
    return sorted(last, key=lambda name: last[name], reverse=True)


def flows(source: Ledger | Proven) -> list[Record]:
    """Every flow, its description, how many trails it has and its latest trail (the one
    begun or changed last) with that trail's verdict."""
    out = []
    with proven(source) as view:
        names = sorted({e["record"]["name"]: None for _, e in view.under(index.FLOWS_KEY)})
        for name in names:
            state = query.flow_state(view, name)
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


def trails_page(source: Ledger | Proven, flow: str, page: int = 1,
                size: int = PAGE) -> Record:
    """Page ``page`` (from 1) of a flow's trails, the latest first: each with its verdict,
    when it was begun and last changed; only the page's trails are read."""
    with proven(source) as view:
        state = query.flow_state(view, flow)
        order = _trail_order(view, flow)
        pages = max(1, -(-len(order) // size))
        if not 1 <= page <= pages:
            raise NotFoundError(f"flow {flow!r} has no page {page} (it has {pages})")
        rows = []
        for name in order[(page - 1) * size:page * size]:
            trail = query.trail_state(view, flow, name)
            rows.append({"name": name, "status": trail["status"],
                         "created_at": trail["created_at"], "updated_at": trail["updated_at"]})
    return {"flow": flow, "description": state["description"], "template": state["template"],
            "count": len(order), "page": page, "pages": pages, "trails": rows}


def trail_view(source: Ledger | Proven, flow: str, trail: str) -> Record:
    """``query.trail_state`` with the gate's reasons (``assert trail``'s, word for word) and
    each attestation's signer (the key id of a signed one, checked by every reader) and the
    failed test cases a test report records."""
    with proven(source) as view:
        state = query.trail_state(view, flow, trail)
        reasons = gate.assert_trail(view, flow, trail)["reasons"]
        for attestation in state["attestations"]:
            record = view.entry(attestation["entry"])["record"]
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
    pipelines never scan?"), shaped as :func:`flows` shapes a row. Every trail of every flow
    is read: the answer is about all of them."""
    return [{"name": row["name"], "description": row["description"], "trails": row["trails"],
             "created_at": row["created_at"], "latest": row["last_trail"]}
            for row in query.list_flows(source, without_type=attestation_type)]
