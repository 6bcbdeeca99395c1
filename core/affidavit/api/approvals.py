"""Human sign-off as evidence: approvals, denials, a control's manual decision, and a pipeline
asking for approval and waiting for it."""

from __future__ import annotations

from affidavit.api.record import Claim, Recorded, attest
from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from affidavit.ledger.base import Ledger

__all__ = ["attest_approval", "attest_decision", "request_approval", "approval_status",
           "wait_for_approval"]


def _text(value: str | None, what: str) -> str | None:
    if value is not None and not value.strip():
        raise UsageError(f"{what} is empty")
    return value


def attest_approval(ledger: Ledger, claim: Claim, *, approver: str, approved: bool = True,
                    reason: str | None = None) -> Recorded:
    """``approver`` approves (or, with ``approved=False``, denies) the trail's ``claim.name``."""
    from affidavit.models.predicates import APPROVAL

    predicate: dict[str, Any] = {"approver": _text(approver, "--approver"), "approved": approved}
    if _text(reason, "--reason"):
        predicate["reason"] = reason
    reasons = [] if approved else [f"{approver} denied {claim.name!r}"]
    return attest(ledger, claim, type="approval", compliant=approved, predicate=predicate,
                  predicate_type=APPROVAL, reasons=reasons)


def attest_decision(ledger: Ledger, claim: Claim, *, control: str, compliant: bool,
                    reason: str) -> Recorded:
    """A person's decision on control ``control``, with the reason an auditor will ask for."""
    from affidavit.models.predicates import DECISION

    predicate = {"control": _text(control, "--control"), "compliant": compliant,
                 "reason": _text(reason, "--reason")}
    reasons = [] if compliant else [f"control {control!r} decided not compliant: {reason}"]
    return attest(ledger, claim, type="decision", compliant=compliant, predicate=predicate,
                  predicate_type=DECISION, reasons=reasons)


def request_approval(ledger: Ledger, claim: Claim, *, approvers: Sequence[str],
                     reason: str | None = None) -> Recorded:
    """Record that the pipeline asks these people to approve ``claim.name``."""
    from affidavit.models.predicates import APPROVAL_REQUEST

    names = [a.strip() for value in approvers for a in value.split(",") if a.strip()]
    if not names:
        raise UsageError("--approvers names nobody")
    predicate: dict[str, Any] = {"approvers": names}
    if _text(reason, "--reason"):
        predicate["reason"] = reason
    return attest(ledger, claim, type="approval-request", compliant=True, predicate=predicate,
                  predicate_type=APPROVAL_REQUEST)


def approval_status(ledger: Ledger, flow: str, trail: str, name: str) -> dict[str, Any]:
    """``approved``, ``denied`` or ``pending``, with who and why. The rule is the template's
    approval slot of that name when there is one; else one approval from whoever the latest
    request named (anyone, without a request)."""
    from affidavit.api import query
    from affidavit.compliance.verdict import approval_state, commit_authors, judge_trail
    from affidavit.errors import NotFoundError
    from affidavit.ledger import index

    entries = query.entries_under(ledger, index.trail_key(flow, trail))
    if not entries:
        raise NotFoundError(f"trail {trail!r} does not exist in flow {flow!r}")
    template, _ = judge_trail(query.flow_entries(ledger, flow), entries)
    wanted: dict[str, Any] = {"name": name, "type": "approval"}
    slots = (template or {}).get("trail", {}).get("attestations", [])
    wanted.update(next((s for s in slots if s["name"] == name and s["type"] == "approval"), {}))
    records = [(i, e["record"]) for i, e in entries if e["kind"] == "attestation"]
    requests = [r for _, r in records if r["type"] == "approval-request" and r["name"] == name]
    allowed = set(requests[-1]["statement"]["predicate"]["approvers"]) if requests else None
    if allowed is not None:
        records = [(i, r) for i, r in records if r["type"] != "approval" or
                   r["statement"]["predicate"]["approver"] in allowed]
    artifacts = [(i, e["record"]) for i, e in entries if e["kind"] == "artifact"]
    result = approval_state(records, wanted, commit_authors(artifacts, records))
    status = "denied" if result["denied"] else "approved" if result["enough"] else "pending"
    reasons = ([f"denied by {', '.join(result['denied'])}"] if result["denied"] else
               [] if result["enough"] else [result["why"]])
    return {"subject": f"approval {flow}/{trail}/{name}", "status": status,
            "compliant": status == "approved", "approved_by": result["approved"],
            "denied_by": result["denied"], "requested": sorted(allowed or []),
            "reasons": reasons}


def wait_for_approval(open_ledger: Callable[[], Ledger], flow: str, trail: str, name: str, *,
                      timeout_s: float, poll_s: float = 5.0,
                      sleep: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Poll until the approval is given or denied, or ``timeout_s`` passes (then ``status`` is
    ``timed out``). Each poll opens the ledger afresh to see other processes' appends."""
    import time

    nap = sleep or time.sleep
    deadline = time.monotonic() + timeout_s
    while True:
        ledger = open_ledger()
        try:
            result = approval_status(ledger, flow, trail, name)
        finally:
            ledger.close()
        if result["status"] != "pending":
            return result
        if time.monotonic() >= deadline:
            result["status"] = "timed out"
            result["reasons"] = [f"no decision within {timeout_s:g}s: {result['reasons'][0]}"]
            return result
        nap(min(poll_s, max(deadline - time.monotonic(), 0.0)))
