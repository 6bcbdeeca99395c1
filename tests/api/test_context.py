"""CI defaults decided in one place (api.context): commit, its URL, the build URL, the trail."""

from __future__ import annotations

import pytest

from affidavit.api.context import ci_defaults, detect_ci, trail_name
from affidavit.errors import UsageError

SHA = "0123456789abcdef0123456789abcdef01234567"
GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": SHA, "GITHUB_SERVER_URL": "https://github.com",
          "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "1"}


def test_github_defaults() -> None:
    found = ci_defaults(GITHUB)
    assert found.commit == SHA
    assert found.commit_url == f"https://github.com/acme/shop/commit/{SHA}"
    assert found.origin_url == "https://github.com/acme/shop/actions/runs/42/attempts/1"


def test_outside_ci_there_are_no_defaults() -> None:
    found = ci_defaults({"HOME": "/root"})
    assert (found.commit, found.commit_url, found.origin_url) == (None, None, None)
    assert detect_ci({"HOME": "/root"}) is None


def test_a_ci_without_a_commit_gives_no_defaults() -> None:
    """GitLab says it is GitLab but names no commit: nothing is guessed from its job URL."""
    found = ci_defaults({"GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.example/j/1"})
    assert (found.commit, found.origin_url) == (None, None)


def test_trail_name_defaults_to_the_commit_in_ci() -> None:
    assert trail_name(None, "begin trail", GITHUB) == SHA
    assert trail_name("release-7", "begin trail", GITHUB) == "release-7"


def test_trail_name_outside_ci_is_required() -> None:
    with pytest.raises(UsageError) as caught:
        trail_name(None, "assert trail", {})
    assert caught.value.message == (
        "assert trail needs a trail NAME (outside CI there is no default)")


def test_an_empty_trail_name_is_refused_even_in_ci() -> None:
    with pytest.raises(UsageError) as caught:
        trail_name(" ", "begin trail", GITHUB)
    assert caught.value.message == "begin trail: the trail name is empty"
