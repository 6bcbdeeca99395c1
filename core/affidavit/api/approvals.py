"""Human sign-off as evidence: approvals, denials, a control's manual decision, and a pipeline
asking for approval and waiting for it."""

from __future__ import annotations

from affidavit.api.record import CheckedClaim, Claim, Recorded, attest
from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from affidavit.ledger.base import Ledger
    from affidavit.verify.proven import Proven

__all__ = ["attest_approval", "attest_decision", "request_approval", "approval_status",
           "wait_for_approval"]


def _text(value: str | None, what: str) -> str | None:
    if value is not None and not value.strip():
        raise UsageError(f"{what} is empty")
    return value


def attest_approval(ledger: Ledger, claim: Claim | CheckedClaim, *, approver: str,
                    approved: bool = True, reason: str | None = None) -> Recorded:
    """``approver`` approves (or, with ``approved=False``, denies) the trail's ``claim.name``."""
    from affidavit.models.predicates import APPROVAL

    predicate: dict[str, Any] = {"approver": _text(approver, "--approver"), "approved": approved}
    if _text(reason, "--reason"):
        predicate["reason"] = reason
    return attest(ledger, claim, type="approval", predicate=predicate,
                  predicate_type=APPROVAL)


def attest_decision(ledger: Ledger, claim: Claim | CheckedClaim, *, control: str, compliant: bool,
                    reason: str) -> Recorded:
    """A person's decision on control ``control``, with the reason an auditor will ask for."""
    from affidavit.models.predicates import DECISION

    predicate = {"control": _text(control, "--control"), "compliant": compliant,
                 "reason": _text(reason, "--reason")}
    return attest(ledger, claim, type="decision", predicate=predicate,
                  predicate_type=DECISION)


def request_approval(ledger: Ledger, claim: Claim | CheckedClaim, *, approvers: Sequence[str],
                     reason: str | None = None, requester: str | None = None) -> Recorded:
    """Record that the pipeline asks these people to approve ``claim.name``; ``requester``
    names who asks, whose own approval a four-eyes slot does not count."""
    from affidavit.models.predicates import APPROVAL_REQUEST

    names = [a.strip() for value in approvers for a in value.split(",") if a.strip()]
    if not names:
        raise UsageError("--approvers names nobody")
    predicate: dict[str, Any] = {"approvers": names}
    if _text(reason, "--reason"):
        predicate["reason"] = reason
    if _text(requester, "--requester"):
        predicate["requester"] = requester
    return attest(ledger, claim, type="approval-request", predicate=predicate,
                  predicate_type=APPROVAL_REQUEST)


def approval_status(source: Ledger | Proven, flow: str, trail: str,
                    name: str) -> dict[str, Any]:
    """``approved``, ``denied`` or ``pending``, with who and why, decided by the one approval
    rule (``compliance.approval``) with the template's approval slot of that name when there is
    one: the same answer the trail's verdict gives."""
    from affidavit.api import query
    from affidavit.compliance.approval import APPROVED, DENIED, approval_state, commit_authors
    from affidavit.compliance.signing import signing_rule
    from affidavit.compliance.verdict import judge_trail
    from affidavit.verify.proven import proven

    with proven(source) as view:
        entries = query.trail_entries(view, flow, trail)
        template, _ = judge_trail(query.flow_entries(view, flow), entries)
    wanted: dict[str, Any] = {"name": name, "type": "approval"}
    slots = (template or {}).get("trail", {}).get("attestations", [])
    slot = next((s for s in slots if s["name"] == name and s["type"] == "approval"), None)
    if slot is not None:  # as the trail's verdict decides it (compliance.verdict)
        wanted.update({**signing_rule(template), **slot})
    records = [(i, e["record"]) for i, e in entries if e["kind"] == "attestation"]
    artifacts = [(i, e["record"]) for i, e in entries if e["kind"] == "artifact"]
    result = approval_state(records, wanted, commit_authors(artifacts, records))
    status = result["status"]
    reasons = ([f"denied by {', '.join(result['denied'])}"] if status == DENIED else
               [] if status == APPROVED else [result["why"]])
    return {"subject": f"approval {flow}/{trail}/{name}", "status": status,
            "compliant": status == APPROVED, "approved_by": result["approved"],
            "denied_by": result["denied"], "requested": sorted(result["requested"] or []),
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
