"""The four-eyes rule for pull requests, used by the judge and by a template's ``min_approvers``.

A ``pull_request`` attestation is compliant iff at least one pull request contains the commit,
and, when its policy asks for ``require_approvals`` N, the deciding pull request has N approvals
that count. The deciding pull request is the merged one (the latest merged when several are),
else the latest opened.

An approval counts when, taking each reviewer's reviews in order:

- it is the reviewer's last word: a later "changes requested" or a dismissal cancels it, and
  comments change nothing (``approved_with_suggestions``, Azure DevOps' vote 5, approves);
- the reviewer is neither the pull request's author nor the author of any of its commits
  (compared by login, display name and e-mail, case-insensitively: a false match only ever
  withholds an approval);
- it reviewed the final head (the pull request's head SHA), unless the policy says
  ``allow_stale_approvals``. An approval whose reviewed commit the provider does not say is
  not taken for one of the final head.

A deleted reviewer account cannot be told apart from the author and never counts.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    Record = Mapping[str, Any]

__all__ = ["APPROVING", "deciding", "approvals", "shortfall"]

APPROVING = ("approved", "approved_with_suggestions")
_WORDS = (*APPROVING, "changes_requested", "dismissed")


def deciding(pull_requests: list[Record]) -> Record | None:
    """The pull request whose reviews decide: the latest merged, else the latest opened."""
    merged = [p for p in pull_requests if p.get("state") == "merged"]
    pool = merged or pull_requests
    if not pool:
        return None
    when = "merged_at" if merged else "created_at"
    return max(pool, key=lambda p: (str(p.get(when) or ""), p.get("number") or 0))


def _names(who: Record | None) -> set[str]:
    if not isinstance(who, dict):
        return set()
    return {str(who[k]).lower() for k in ("login", "name") if who.get(k)}


def _authors(pull_request: Record) -> set[str]:
    out = _names(pull_request.get("author"))
    for commit in pull_request.get("commits") or []:
        out.update(str(commit[k]).lower() for k in ("author_login", "author_name",
                                                    "author_email") if commit.get(k))
    return out


def approvals(pull_request: Record, *, allow_stale: bool) -> dict[str, list[str]]:
    """Who approves ``pull_request`` under the rule above (``counted``), and whose approval
    does not count and why: ``stale`` (an older head, or not known), ``authors``, ``cancelled``
    (a later word withdrew it)."""
    head = (pull_request.get("head") or {}).get("sha")
    authors = _authors(pull_request)
    last: dict[str, Record] = {}
    ever: dict[str, str] = {}
    for review in pull_request.get("reviews") or []:
        reviewer = review.get("reviewer")
        names = _names(reviewer)
        if not names or review.get("state") not in _WORDS:
            continue
        key = str(reviewer.get("login") or reviewer.get("name")).lower()
        last[key] = review
        if review["state"] in APPROVING:
            ever[key] = str(reviewer.get("login") or reviewer.get("name"))
    out: dict[str, list[str]] = {"counted": [], "stale": [], "authors": [], "cancelled": []}
    for key, review in sorted(last.items()):
        label = ever.get(key)
        if label is None:
            continue
        if review["state"] not in APPROVING:
            out["cancelled"].append(label)
        elif _names(review["reviewer"]) & authors:
            out["authors"].append(label)
        elif not allow_stale and (review.get("commit") is None or review["commit"] != head):
            out["stale"].append(label)
        else:
            out["counted"].append(label)
    return out


def shortfall(pull_requests: list[Record], need: int, *, allow_stale: bool,
              asked_by: str) -> str | None:
    """Why the deciding pull request has fewer than ``need`` approvals that count, or None
    when it has enough; ``asked_by`` names who asked (a flag, a template slot)."""
    chosen = deciding(pull_requests)
    if chosen is None:
        return None  # "no pull request" is its own reason
    found = approvals(chosen, allow_stale=allow_stale)
    counted = found["counted"]
    if len(counted) >= need:
        return None
    head = str((chosen.get("head") or {}).get("sha") or "unknown")[:12]
    of = "" if allow_stale else f" of its final head {head}"
    why = (f"pull request #{chosen.get('number')} has {len(counted)} approval"
           f"{'' if len(counted) == 1 else 's'}{of} from people other than its authors"
           f"{' (' + ', '.join(counted) + ')' if counted else ''}, {asked_by} asks {need}")
    notes = []
    if found["stale"]:
        notes.append(f"{', '.join(found['stale'])} approved an older or unknown head")
    if found["authors"]:
        notes.append(f"{', '.join(found['authors'])} authored it or one of its commits")
    if found["cancelled"]:
        notes.append(f"{', '.join(found['cancelled'])} withdrew or had dismissed an approval")
    return why + (f" ({'; '.join(notes)})" if notes else "")
