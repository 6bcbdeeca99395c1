"""The Jira verdict (``compliance/jira.py``) through the one judge, and the policy it records."""

from __future__ import annotations

from typing import Any

import pytest

from affidavit.compliance.jira import jira_policy
from affidavit.compliance.judge import judge
from affidavit.errors import InputError, UsageError


def _issue(key: str, status: str | None = None, *, found: bool = True) -> dict[str, Any]:
    return {"key": key, "found_in": ["message"], "found": found,
            "jira_key": key if found else None, "id": "1" if found else None,
            "url": None, "summary": "s" if found else None,
            "status": {"name": status, "category": "done"} if found and status else None,
            "issue_type": "Task" if found else None,
            "jira_message": None if found else "Issue Does Not Exist"}


def _predicate(issues: list[dict[str, Any]], require: list[str] | None = None,
               **more: Any) -> dict[str, Any]:
    return {"base_url": "https://acme.atlassian.net", "api_version": "3", "auth": "basic",
            "pattern": "[A-Z][A-Z0-9_]+-[0-9]+", "projects": None, "commit": "a" * 40,
            "searched": {"message": True, "branch": "feature/x", "given": []},
            "issues": issues, "policy": {"require_status": require}, **more}


def test_one_existing_issue_is_enough() -> None:
    issues = [_issue("ABC-1", found=False), _issue("ABC-2", "In Progress")]
    assert judge("jira", "jira", _predicate(issues)) == (True, [])


def test_no_key_says_where_it_looked() -> None:
    assert judge("jira", "jira", _predicate([])) == (False, [
        "no Jira issue key in the commit message or the branch 'feature/x' "
        "(pattern '[A-Z][A-Z0-9_]+-[0-9]+')"])


def test_no_key_of_the_projects_asked_and_nothing_searched() -> None:
    predicate = _predicate([], projects=["ABC", "OPS"])
    predicate["searched"] = {"message": False, "branch": "main", "given": []}
    assert judge("jira", "jira", predicate)[1] == [
        "no Jira issue key of project ABC, OPS in the branch 'main' "
        "(pattern '[A-Z][A-Z0-9_]+-[0-9]+')"]
    predicate["searched"] = {"message": False, "branch": None, "given": []}
    assert "neither a commit message nor a branch name" in judge("jira", "jira",
                                                                 predicate)[1][0]


def test_keys_that_jira_does_not_know() -> None:
    issues = [_issue(f"ABC-{n}", found=False) for n in range(7)]
    assert judge("jira", "jira", _predicate(issues)) == (False, [
        "no issue the commit names exists in Jira: ABC-0, ABC-1, ABC-2, ABC-3, ABC-4 and 2 "
        "more not found"])


def test_require_status_compares_names_ignoring_case_and_spaces() -> None:
    issues = [_issue("ABC-1", "In Progress"), _issue("ABC-2", "In  review")]
    assert judge("jira", "jira", _predicate(issues, ["in review", "Done"])) == (True, [])


def test_no_issue_in_a_required_status() -> None:
    issues = [_issue("ABC-1", "In Progress"), _issue("ABC-2", found=False),
              _issue("ABC-3")]
    assert judge("jira", "jira", _predicate(issues, ["Done", "Closed"])) == (False, [
        "no issue is in status 'Done' or 'Closed' (--require-status): ABC-1 is 'In Progress', "
        "ABC-3 has none"])


@pytest.mark.parametrize(("change", "needle"), [
    ({"issues": None}, "issues is not a list"),
    ({"policy": []}, "policy is not an object"),
    ({"policy": {"require_status": []}}, "policy.require_status"),
    ({"issues": [{"key": "ABC-1"}]}, "no key or no found flag"),
    ({"issues": [{"key": "ABC-1", "found": True, "status": "Done"}]}, "status is not"),
])
def test_a_predicate_it_cannot_read_has_no_verdict(change: dict[str, Any], needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        judge("jira", "jira", {**_predicate([_issue("ABC-1", "Done")]), **change})


def test_the_policy() -> None:
    assert jira_policy(None) == {"require_status": None}
    assert jira_policy([" In  Review", "in review", "Done"]) == {
        "require_status": ["In Review", "Done"]}
    with pytest.raises(UsageError, match="--require-status has an empty status name"):
        jira_policy(["Done", " "])
