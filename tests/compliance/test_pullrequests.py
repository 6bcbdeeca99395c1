"""The four-eyes rule and the judge's verdict of pull-request predicates, on hand-written
pull requests (the shape of collect/pullrequests/shape.py)."""

from __future__ import annotations

from typing import Any

import pytest

from affidavit.compliance.judge import judge, pull_request_policy
from affidavit.compliance.pullrequests import approvals, deciding
from affidavit.errors import InputError, UsageError

HEAD = "a" * 40
OLD = "b" * 40


def person(login: str, name: str | None = None) -> dict[str, Any]:
    return {"login": login, "name": name, "type": "User"}


def review(login: str | None, state: str, commit: str | None = HEAD,
           at: str = "2026-11-30T10:00:00Z") -> dict[str, Any]:
    return {"reviewer": None if login is None else person(login), "state": state,
            "submitted_at": at, "commit": commit}


def pr(number: int = 7, *, state: str = "merged", reviews: list[dict[str, Any]] | None = None,
       author: str | None = "ann", commit_authors: tuple[str, ...] = ("ann",),
       merged_at: str | None = "2026-11-30T12:00:00Z",
       created_at: str = "2026-11-29T09:00:00Z") -> dict[str, Any]:
    return {
        "provider": "github", "url": f"https://github.com/o/r/pull/{number}", "number": number,
        "title": "t", "state": state, "author": None if author is None else person(author),
        "created_at": created_at, "merged_at": merged_at if state == "merged" else None,
        "head": {"ref": "feature", "sha": HEAD}, "base": {"ref": "main", "sha": OLD},
        "merge_commit": "c" * 40, "reviews": reviews or [],
        "commits": [{"sha": HEAD, "author_name": f"{login.title()} Person",
                     "author_email": f"{login}@example.com", "author_login": login,
                     "authored_at": None, "message": "m",
                     "signature": {"verified": None, "state": None}}
                    for login in commit_authors]}


def predicate(*prs: dict[str, Any], need: int | None = None,
              stale: bool = False) -> dict[str, Any]:
    return {"provider": "github", "base_url": "https://api.github.com", "repository": "o/r",
            "commit": HEAD, "lookup": {"by": "commit", "polls": 1, "waited_seconds": 0},
            "pull_requests": list(prs),
            "policy": {"require_approvals": need, "allow_stale_approvals": stale}}


def verdict(p: dict[str, Any]) -> tuple[bool, list[str]]:
    return judge("pull_request", "pr", p)


def test_a_pull_request_containing_the_commit_is_compliant() -> None:
    assert verdict(predicate(pr())) == (True, [])


def test_none_is_not_compliant_and_says_how_long_it_looked() -> None:
    p = predicate()
    p["lookup"] = {"by": "commit", "polls": 4, "waited_seconds": 12.5}
    assert verdict(p) == (False, [f"no pull request contains commit {HEAD[:12]} "
                                  "(looked for 12.5 s)"])


def test_approvals_from_others_of_the_final_head_count() -> None:
    p = predicate(pr(reviews=[review("bob", "approved"), review("cy", "approved")]), need=2)
    assert verdict(p) == (True, [])


def test_an_approval_of_an_old_head_does_not_count_unless_allowed() -> None:
    prs = pr(reviews=[review("bob", "approved", commit=OLD), review("cy", "approved")])
    ok, reasons = verdict(predicate(prs, need=2))
    assert not ok
    assert reasons == [f"pull request #7 has 1 approval of its final head {HEAD[:12]} from "
                       "people other than its authors (cy), --require-approvals asks 2 "
                       "(bob approved an older or unknown head)"]
    assert verdict(predicate(prs, need=2, stale=True)) == (True, [])


def test_an_approval_whose_reviewed_commit_is_unknown_is_not_of_the_final_head() -> None:
    prs = pr(reviews=[review("bob", "approved", commit=None)])
    assert not verdict(predicate(prs, need=1))[0]
    assert verdict(predicate(prs, need=1, stale=True))[0]


def test_a_later_changes_requested_cancels_the_approval() -> None:
    prs = pr(reviews=[review("bob", "approved"), review("bob", "commented"),
                      review("bob", "changes_requested")])
    ok, reasons = verdict(predicate(prs, need=1))
    assert not ok and "bob withdrew or had dismissed an approval" in reasons[0]


def test_a_comment_after_an_approval_changes_nothing() -> None:
    prs = pr(reviews=[review("bob", "approved"), review("bob", "commented")])
    assert verdict(predicate(prs, need=1)) == (True, [])


def test_an_approval_after_changes_requested_counts() -> None:
    prs = pr(reviews=[review("bob", "changes_requested"), review("bob", "approved")])
    assert verdict(predicate(prs, need=1)) == (True, [])


def test_a_dismissed_approval_does_not_count() -> None:
    prs = pr(reviews=[review("bob", "dismissed")])
    assert approvals(prs, allow_stale=False)["counted"] == []
    prs = pr(reviews=[review("bob", "approved"), review("bob", "dismissed")])
    assert approvals(prs, allow_stale=False)["cancelled"] == ["bob"]


def test_approved_with_suggestions_approves() -> None:
    prs = pr(reviews=[review("bob", "approved_with_suggestions")])
    assert verdict(predicate(prs, need=1)) == (True, [])


def test_the_author_and_commit_authors_do_not_count() -> None:
    prs = pr(author="ann", commit_authors=("ann", "dan"),
             reviews=[review("ANN", "approved"), review("dan", "approved"),
                      review("bob", "approved")])
    found = approvals(prs, allow_stale=False)
    assert found["counted"] == ["bob"]
    assert sorted(found["authors"]) == ["ANN", "dan"]
    ok, reasons = verdict(predicate(prs, need=2))
    assert not ok and "ANN, dan authored it or one of its commits" in reasons[0]


def test_a_commit_author_known_only_by_email_is_matched() -> None:
    prs = pr(commit_authors=())
    prs["commits"] = [{"sha": HEAD, "author_name": None, "author_email": "bob@example.com",
                       "author_login": None, "authored_at": None, "message": None,
                       "signature": {"verified": None, "state": None}}]
    prs["reviews"] = [{"reviewer": {"login": "bob@example.com", "name": "Bob", "type": "User"},
                       "state": "approved", "submitted_at": None, "commit": HEAD}]
    assert approvals(prs, allow_stale=False)["authors"] == ["bob@example.com"]


def test_a_deleted_reviewer_never_counts() -> None:
    prs = pr(reviews=[review(None, "approved")])
    assert not verdict(predicate(prs, need=1))[0]


def test_a_deleted_author_is_no_error() -> None:
    prs = pr(author=None, commit_authors=(), reviews=[review("bob", "approved")])
    assert verdict(predicate(prs, need=1)) == (True, [])


def test_the_merged_pull_request_decides_over_a_later_open_one() -> None:
    merged = pr(1, reviews=[review("bob", "approved")])
    later = pr(2, state="open", created_at="2026-12-01T00:00:00Z")
    assert deciding([later, merged]) is merged
    assert verdict(predicate(later, merged, need=1)) == (True, [])


def test_without_a_merged_one_the_latest_opened_decides() -> None:
    first = pr(1, state="closed", created_at="2026-11-01T00:00:00Z",
               reviews=[review("bob", "approved")])
    latest = pr(2, state="open", created_at="2026-11-02T00:00:00Z")
    assert deciding([first, latest]) is latest
    assert not verdict(predicate(first, latest, need=1))[0]


def test_unknown_fields_are_read_past() -> None:
    p = predicate(pr(reviews=[review("bob", "approved")]), need=1)
    p["future"] = {"x": 1}
    p["pull_requests"][0]["labels"] = ["security"]
    p["pull_requests"][0]["reviews"][0]["body"] = "LGTM"
    assert verdict(p) == (True, [])


@pytest.mark.parametrize("broken", [
    {"pull_requests": "none"},
    {"policy": None},
    {"policy": {"require_approvals": 0, "allow_stale_approvals": False}},
    {"policy": {"require_approvals": 1}},
    {"pull_requests": [{"number": 1}]},
])
def test_a_predicate_the_judge_cannot_read_is_an_input_error(broken: dict[str, Any]) -> None:
    with pytest.raises(InputError, match="cannot judge"):
        verdict({**predicate(pr()), **broken})


def test_the_policy_refuses_zero_approvals() -> None:
    with pytest.raises(UsageError, match="--require-approvals"):
        pull_request_policy(0, False)
    assert pull_request_policy(None, True) == {"require_approvals": None,
                                               "allow_stale_approvals": True}
