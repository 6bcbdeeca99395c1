"""The verdict of a ``jira`` attestation, and the policy it records (``--require-status``).

Compliant iff at least one issue key the commit names (in its message or its branch, or given
with ``--issue``) exists in Jira, and, when the policy names statuses, at least one of the
issues found is in one of them (names compared ignoring case, surrounding spaces and repeated
spaces: Jira's workflow editor keeps the case a team typed, ``In review`` or ``In Review``).
Otherwise each reason says what was missing: no key at all (and where it was looked for), no
key Jira knows (each not found), or no issue in a status asked for (each one's status).
"""

from __future__ import annotations

from affidavit.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

__all__ = ["jira_policy", "jira_verdict", "same_status"]

_SHOWN = 5


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()


def same_status(name: object, wanted: Sequence[str]) -> bool:
    """Whether status ``name`` is one of ``wanted``, by the comparison above."""
    return isinstance(name, str) and _folded(name) in {_folded(w) for w in wanted}


def jira_policy(require_status: Sequence[str] | None) -> dict[str, Any]:
    """The ``policy`` a Jira predicate records, after checking ``--require-status``."""
    if require_status is None:
        return {"require_status": None}
    names: list[str] = []
    for name in require_status:
        if not isinstance(name, str) or not name.strip():
            raise UsageError("--require-status has an empty status name")
        shown = " ".join(name.split())
        if not same_status(shown, names):
            names.append(shown)
    if not names:
        raise UsageError("--require-status names no status")
    return {"require_status": names}


def _listed(items: list[str]) -> str:
    more = len(items) - _SHOWN
    return ", ".join(items[:_SHOWN]) + (f" and {more} more" if more > 0 else "")


def _nowhere(predicate: Mapping[str, Any]) -> str:
    """Why no key was found: where keys were looked for, by what pattern."""
    searched = predicate.get("searched")
    if not isinstance(searched, dict):
        from affidavit.compliance.judge import Malformed

        raise Malformed("searched is not an object")
    places = []
    if searched.get("message") is True:
        places.append("the commit message")
    branch = searched.get("branch")
    if isinstance(branch, str):
        places.append(f"the branch {branch!r}")
    projects = predicate.get("projects")
    of = (f" of project {', '.join(map(str, projects))}" if isinstance(projects, list)
          and projects else "")
    if not places:
        return ("no Jira issue key to look up: neither a commit message nor a branch name was "
                "at hand to search (give --issue, or --commit in its checkout)")
    return (f"no Jira issue key{of} in {' or '.join(places)} "
            f"(pattern {predicate.get('pattern')!r})")


def jira_verdict(predicate: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """Compliant or not, and why not, as the module says."""
    from affidavit.compliance.judge import Malformed

    issues = predicate.get("issues")
    policy = predicate.get("policy")
    if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
        raise Malformed("issues is not a list of objects")
    if not isinstance(policy, dict):
        raise Malformed("policy is not an object")
    wanted = policy.get("require_status")
    if wanted is not None and (not isinstance(wanted, list) or not wanted or not all(
            isinstance(w, str) and w.strip() for w in wanted)):
        raise Malformed("policy.require_status is not a list of status names")
    for issue in issues:
        if not isinstance(issue.get("key"), str) or not isinstance(issue.get("found"), bool):
            raise Malformed("an issue has no key or no found flag")
        if not isinstance(issue.get("status"), (dict, type(None))):
            raise Malformed(f"issue {issue['key']}: status is not an object")
    if not issues:
        return False, [_nowhere(predicate)]
    found = [i for i in issues if i["found"]]
    if not found:
        return False, [f"no issue the commit names exists in Jira: "
                       f"{_listed([i['key'] for i in issues])} not found"]
    if wanted is None:
        return True, []
    if any(same_status((i.get("status") or {}).get("name"), wanted) for i in found):
        return True, []
    statuses = []
    for issue in found:
        name = (issue.get("status") or {}).get("name")
        statuses.append(f"{issue['key']} is {name!r}" if name else f"{issue['key']} has none")
    return False, [f"no issue is in status {' or '.join(map(repr, wanted))} "
                   f"(--require-status): {_listed(statuses)}"]
