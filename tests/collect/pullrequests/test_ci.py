"""What each CI's documented variables say about the pull request being built."""

from __future__ import annotations

import pytest

from affidavit.collect.pullrequests import ci

GITHUB_PR = {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/pull/43/merge",
             "GITHUB_REPOSITORY": "octo/hello", "GITHUB_API_URL": "https://ghe.example/api/v3",
             "GITHUB_TOKEN": "ghs_x"}
GITLAB_MR = {"GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "12", "CI_PROJECT_PATH": "grp/sub/app",
             "CI_PROJECT_ID": "99", "CI_API_V4_URL": "https://gl.example/api/v4",
             "CI_JOB_TOKEN": "glcbt-x"}
BITBUCKET_PR = {"BITBUCKET_BUILD_NUMBER": "8", "BITBUCKET_PR_ID": "5",
                "BITBUCKET_REPO_FULL_NAME": "team/app"}
AZURE_PR = {"TF_BUILD": "True", "SYSTEM_PULLREQUEST_PULLREQUESTID": "17",
            "SYSTEM_TEAMPROJECT": "Fabrikam", "BUILD_REPOSITORY_NAME": "web",
            "SYSTEM_COLLECTIONURI": "https://dev.azure.com/fabrikam/",
            "SYSTEM_ACCESSTOKEN": "ey.x"}


@pytest.mark.parametrize("provider, env, number, repo, base", [
    ("github", GITHUB_PR, 43, "octo/hello", "https://ghe.example/api/v3"),
    ("gitlab", GITLAB_MR, 12, "grp/sub/app", "https://gl.example/api/v4"),
    ("bitbucket", BITBUCKET_PR, 5, "team/app", None),
    ("azure", AZURE_PR, 17, "Fabrikam/web", "https://dev.azure.com/fabrikam"),
])
def test_a_pull_request_build(provider: str, env: dict[str, str], number: int, repo: str,
                              base: str | None) -> None:
    assert ci.pull_request_number(provider, env) == number
    assert ci.repository(provider, env) == repo
    assert ci.base_url(provider, env) == base


def test_a_branch_build_has_no_number() -> None:
    push = {**GITHUB_PR, "GITHUB_REF": "refs/heads/main"}
    assert ci.pull_request_number("github", push) is None
    assert ci.pull_request_number("gitlab", {**GITLAB_MR, "CI_MERGE_REQUEST_IID": ""}) is None


def test_another_cis_variables_say_nothing_about_this_provider() -> None:
    assert ci.repository("github", GITLAB_MR) is None
    assert ci.pull_request_number("github", GITLAB_MR) is None
    assert ci.base_url("gitlab", GITHUB_PR) is None


def test_jenkins_multibranch_names_the_change() -> None:
    env = {"JENKINS_URL": "https://ci.example/", "CHANGE_ID": "31"}
    assert ci.pull_request_number("bitbucket", env) == 31
    assert ci.pull_request_number("github", {"CHANGE_ID": "31"}) is None


def test_tokens_prefer_ours_then_the_cis_own() -> None:
    assert ci.token("github", GITHUB_PR) == ("ghs_x", None)
    assert ci.token("github", {**GITHUB_PR, "AFFIDAVIT_GITHUB_TOKEN": "pat"}) == ("pat", None)
    assert ci.token("gitlab", GITLAB_MR) == ("glcbt-x", "CI_JOB_TOKEN")
    assert ci.token("azure", AZURE_PR) == ("ey.x", "SYSTEM_ACCESSTOKEN")
    assert ci.token("bitbucket", {"AFFIDAVIT_BITBUCKET_TOKEN": "app",
                                  "AFFIDAVIT_BITBUCKET_USERNAME": "me"}) == ("app", "me")
    assert ci.token("bitbucket", BITBUCKET_PR) == (None, None)
