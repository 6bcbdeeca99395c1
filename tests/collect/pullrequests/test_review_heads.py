"""Which head a review saw, when a push and the review carry the same moment: every provider
says the older one (a push at that instant may have landed after the reviewer looked), so an
approval is never counted for a head its reviewer may not have seen."""

from __future__ import annotations

from datetime import UTC, datetime

from affidavit.collect.pullrequests import azure, bitbucket, gitlab

OPENED = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)
PUSHED = datetime(2024, 3, 4, 12, 30, 55, 480000, tzinfo=UTC)
HEADS = [(OPENED, "a" * 40), (PUSHED, "b" * 40)]


def test_gitlab_a_push_at_the_moment_of_an_approval_is_after_it() -> None:
    assert gitlab._head_at(HEADS, "2024-03-04T12:30:55.480Z") == "a" * 40
    assert gitlab._head_at(HEADS, "2024-03-04T12:30:55.481Z") == "b" * 40
    assert gitlab._head_at(HEADS, "2024-03-04T12:00:00Z") is None


def test_azure_a_push_at_the_moment_of_a_vote_is_after_it() -> None:
    assert azure._head_at(HEADS, "2024-03-04T12:30:55.48Z") == "a" * 40
    assert azure._head_at(HEADS, "2024-03-04T12:31:00Z") == "b" * 40


def test_bitbucket_a_push_at_the_moment_of_an_approval_is_after_it() -> None:
    assert bitbucket._head_before(HEADS, PUSHED) == "a" * 40
    assert bitbucket._head_before(HEADS, datetime(2024, 3, 4, 13, tzinfo=UTC)) == "b" * 40
