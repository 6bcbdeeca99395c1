"""What a CI build says about the pull request it builds: its number, the repository, the API.

During a pull-request build the number is known and is looked up directly (no lookup by
commit can be fresher); the repository and the API root default from the same CI, so a job
needs no flags at all. Pure: a mapping of environment variables in, defaults out. Only the
provider's own CI is read for the repository and API root (a GitLab job says nothing about a
GitHub repository), while the number is also taken from Jenkins (``CHANGE_ID``, set by
multibranch pipelines for any of these providers).
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["pull_request_number", "repository", "base_url", "token"]

_GITHUB_PR_REF = re.compile(r"^refs/pull/(\d+)/(?:merge|head)$")


def _number(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def pull_request_number(provider: str, env: Mapping[str, str]) -> int | None:
    """The number of the pull request this build is for, or None (a branch build)."""
    if provider == "github" and env.get("GITHUB_ACTIONS") == "true":
        match = _GITHUB_PR_REF.match(env.get("GITHUB_REF", ""))
        if match:
            return int(match.group(1))
    found = {"gitlab": "CI_MERGE_REQUEST_IID", "bitbucket": "BITBUCKET_PR_ID",
             "azure": "SYSTEM_PULLREQUEST_PULLREQUESTID"}.get(provider)
    number = _number(env.get(found)) if found else None
    if number is None and env.get("JENKINS_URL"):
        number = _number(env.get("CHANGE_ID"))
    return number


def repository(provider: str, env: Mapping[str, str]) -> str | None:
    """The repository this build is of, spelled as ``--repository`` takes it."""
    if provider == "github" and env.get("GITHUB_ACTIONS") == "true":
        return env.get("GITHUB_REPOSITORY") or None
    if provider == "gitlab" and env.get("GITLAB_CI") == "true":
        return env.get("CI_PROJECT_PATH") or env.get("CI_PROJECT_ID") or None
    if provider == "bitbucket" and env.get("BITBUCKET_BUILD_NUMBER"):
        return env.get("BITBUCKET_REPO_FULL_NAME") or None
    if (provider == "azure" and env.get("TF_BUILD", "").lower() == "true"
            and env.get("BUILD_REPOSITORY_PROVIDER", "TfsGit") == "TfsGit"):
        # A GitHub or Bitbucket repository built in Azure Pipelines is not an Azure Repos one.
        project, repo = env.get("SYSTEM_TEAMPROJECT"), env.get("BUILD_REPOSITORY_NAME")
        return f"{project}/{repo}" if project and repo else None
    return None


def base_url(provider: str, env: Mapping[str, str]) -> str | None:
    """The API root this build's CI names (GitHub Enterprise, self-managed GitLab, an Azure
    DevOps collection), or None for the provider's default."""
    if provider == "github" and env.get("GITHUB_ACTIONS") == "true":
        return env.get("GITHUB_API_URL") or None
    if provider == "gitlab" and env.get("GITLAB_CI") == "true":
        return env.get("CI_API_V4_URL") or None
    if provider == "azure" and env.get("TF_BUILD", "").lower() == "true":
        return (env.get("SYSTEM_COLLECTIONURI") or "").rstrip("/") or None
    return None


def token(provider: str, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """``(token, username)`` from the environment: ``AFFIDAVIT_<PROVIDER>_TOKEN`` (with
    ``AFFIDAVIT_<PROVIDER>_USERNAME`` where the provider takes basic auth), else the CI's own
    job token where the provider accepts one for reading pull requests: ``GITHUB_TOKEN``,
    GitLab's ``CI_JOB_TOKEN`` (username ``CI_JOB_TOKEN``: sent as ``JOB-TOKEN``), Azure's
    ``SYSTEM_ACCESSTOKEN`` (username ``SYSTEM_ACCESSTOKEN``: sent as a bearer token)."""
    prefix = f"AFFIDAVIT_{provider.upper()}_"
    given = env.get(prefix + "TOKEN")
    if given:
        return given, env.get(prefix + "USERNAME") or None
    if provider == "github" and env.get("GITHUB_TOKEN"):
        return env["GITHUB_TOKEN"], None
    if provider == "gitlab" and env.get("CI_JOB_TOKEN"):
        return env["CI_JOB_TOKEN"], "CI_JOB_TOKEN"
    if provider == "azure" and env.get("SYSTEM_ACCESSTOKEN"):
        return env["SYSTEM_ACCESSTOKEN"], "SYSTEM_ACCESSTOKEN"
    return None, None
