"""The one approval rule, used by a trail's verdict, ``assert approval`` and ``assert trail``.

An approval named N of a trail is decided from the trail's records alone:

- the latest ``request approval`` for N, if any, names who may decide; words from anyone else
  (approvals or denials) do not count;
- each approver's latest word counts once (changing one's mind replaces the earlier word);
  names compare case-insensitively;
- any standing denial makes it ``denied``; otherwise ``min_approvers`` (default 1) approvals,
  not counting authors of the trail's commits nor the one who requested it (the latest
  request's ``requester``) when ``distinct_from_author`` is asked, make it ``approved``;
  otherwise it is ``pending``;
- with ``require_signed`` or ``signers`` (the slot's, else the template's), only approvals
  signed (by one of those keys) count: an approver's name is what anyone with a write token
  can type, a signature is what only the approver's key makes. A denial counts whatever its
  signature: refusing is never the forgery to fear.

``min_approvers``, ``distinct_from_author`` and the signing rule come from the template's
approval slot of that name when there is one.
"""

from __future__ import annotations

from affidavit.compliance import signing

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    Record = dict[str, Any]

__all__ = ["APPROVED", "DENIED", "PENDING", "approval_state", "commit_authors", "approval_names"]

APPROVED = "approved"
DENIED = "denied"
PENDING = "pending"


def _on_trail(record: Record) -> bool:
    return bool(record.get("target", {}).get("kind") == "trail")


def approval_names(attestations: list[tuple[int, Record]]) -> list[str]:
    """Names of the trail-level approvals that were requested or given, in first-seen order."""
    names: dict[str, None] = {}
    for _, record in sorted(attestations, key=lambda pair: pair[0]):
        if record["type"] in ("approval", "approval-request") and _on_trail(record):
            names[record["name"]] = None
    return list(names)


def commit_authors(artifacts: list[tuple[int, Record]],
                   attestations: list[tuple[int, Record]]) -> set[str]:
    """Every author (name and email, lower-cased) of a commit the trail's records name."""
    out: set[str] = set()
    for _, record in [*artifacts, *attestations]:
        author = (record.get("commit") or {}).get("author")
        if author and author != "REDACTED":
            name, _, email = author.partition(" <")
            out.update(part.strip().lower() for part in (name, email.rstrip(">")) if part)
    return out


def approval_state(attestations: list[tuple[int, Record]], wanted: Record,
                   authors: set[str]) -> Record:
    """Approval ``wanted["name"]`` under the rule above: ``status``, who approved, who
    denied, who was requested, a one-line ``why`` when not approved, and ``entry``, the latest
    record that counted."""
    name = wanted["name"]
    ordered = sorted(attestations, key=lambda pair: pair[0])
    requests = [(i, r) for i, r in ordered
                if r["type"] == "approval-request" and r["name"] == name and _on_trail(r)]
    requested = ([str(a) for a in requests[-1][1]["statement"]["predicate"]["approvers"]]
                 if requests else None)
    requester = (requests[-1][1]["statement"]["predicate"].get("requester")
                 if requests else None)
    if requester and wanted.get("distinct_from_author"):
        authors = authors | {str(requester).lower()}
    allowed = None if requested is None else {a.lower() for a in requested}
    latest: dict[str, tuple[int, Record]] = {}
    for position, record in ordered:
        if record["type"] == "approval" and record["name"] == name and _on_trail(record):
            approver = str(record["statement"]["predicate"]["approver"])
            if allowed is None or approver.lower() in allowed:
                latest[approver.lower()] = (position, record)
    need = wanted.get("min_approvers") or 1
    approved, denied, authors_hit, unsigned = [], [], [], []
    for key, (_, record) in sorted(latest.items()):
        approver = record["statement"]["predicate"]["approver"]
        if not record["statement"]["predicate"]["approved"]:
            denied.append(approver)
        elif wanted.get("distinct_from_author") and key in authors:
            authors_hit.append(approver)
        elif signing.shortfall(wanted, record) is not None:
            unsigned.append(approver)
        else:
            approved.append(approver)
    why = f"needs {need} approver{'s' if need > 1 else ''}"
    if requested is not None:
        why += f" of {', '.join(requested)}"
    if wanted.get("distinct_from_author"):
        why += " other than the commit author" + (" and the requester" if requester else "")
    why += f", has {len(approved)}"
    if approved:
        why += f" ({', '.join(approved)})"
    if authors_hit:
        who = "requested it" if requester and all(
            a.lower() == str(requester).lower() for a in authors_hit) else "authored the commit"
        why += f"; {', '.join(authors_hit)} {who}"
    if unsigned:
        why += (f"; {', '.join(unsigned)} did not sign with a key the template allows")
    status = DENIED if denied else APPROVED if len(approved) >= need else PENDING
    return {"status": status, "approved": approved, "denied": denied,
            "requested": requested, "enough": status == APPROVED,
            "why": f"was denied by {', '.join(denied)}" if denied else why,
            "entry": max((p for p, _ in latest.values()), default=None)}
