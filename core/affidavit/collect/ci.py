"""Which CI system runs this process, and what it says about the build, from its variables.

:func:`detect` is a pure function of the environment mapping it is given (no files, no network,
standard library only), so the CLI can call it on every run and tests can replay recorded
environments. Empty (or blank) variables count as unset. Every field is None when the CI does
not provide it; ``repo_url`` goes through :func:`~affidavit.collect.remote.normalize_repo_url`
(https, no credentials, no ``.git``).

``commit`` is the commit the CI checked out and built, as the CI names it. In pull-request
builds of GitHub Actions and of Azure Pipelines on GitHub (and GitLab merged-results pipelines)
that is a merge commit the CI made, not the head of the pull request. Bitbucket may give an
abbreviated SHA. ``branch`` is the source branch of a pull/merge request, else the branch
built; None for tag builds and where the CI does not say.

Variables read per CI (detected by the first, in this order; the first CI that matches wins):

1. ``github`` -- GitHub Actions: ``GITHUB_ACTIONS``; ``GITHUB_SHA``; ``GITHUB_HEAD_REF`` (pull
   requests), else ``GITHUB_REF`` when ``refs/heads/…``; ``GITHUB_SERVER_URL`` +
   ``GITHUB_REPOSITORY`` (repo and commit URL, ``{server}/{repo}/commit/{sha}``) +
   ``GITHUB_RUN_ID`` and ``GITHUB_RUN_ATTEMPT`` (``…/actions/runs/{id}/attempts/{n}``);
   ``GITHUB_REPOSITORY_ID``; ``GITHUB_ACTOR``.
2. ``gitlab`` -- GitLab CI: ``GITLAB_CI``; ``CI_COMMIT_SHA``;
   ``CI_MERGE_REQUEST_SOURCE_BRANCH_NAME``,
   ``CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME``, ``CI_COMMIT_BRANCH``, else
   ``CI_COMMIT_REF_NAME`` unless ``CI_COMMIT_TAG``; ``CI_JOB_URL`` (else ``CI_PIPELINE_URL``);
   ``CI_PROJECT_URL`` (commit URL ``{project}/-/commit/{sha}``); ``CI_PROJECT_ID``;
   ``CI_PROJECT_PATH``; ``GITLAB_USER_LOGIN``.
3. ``bitbucket`` -- Bitbucket Pipelines: ``BITBUCKET_BUILD_NUMBER``; ``BITBUCKET_COMMIT``;
   ``BITBUCKET_BRANCH`` (the source branch in PR pipelines); ``BITBUCKET_REPO_FULL_NAME`` (repo
   ``https://bitbucket.org/{name}``, build ``…/pipelines/results/{number}``, commit
   ``…/commits/{sha}``; else ``BITBUCKET_GIT_HTTP_ORIGIN``); ``BITBUCKET_REPO_UUID``;
   ``BITBUCKET_STEP_TRIGGERER_UUID`` (Bitbucket exposes no user name).
4. ``azure-devops`` -- Azure Pipelines: ``TF_BUILD``; ``BUILD_SOURCEVERSION``;
   ``SYSTEM_PULLREQUEST_SOURCEBRANCH`` (short or ``refs/heads/`` form), else
   ``BUILD_SOURCEBRANCH`` when ``refs/heads/…`` (not ``BUILD_SOURCEBRANCHNAME``: it keeps only
   the last path segment); ``SYSTEM_COLLECTIONURI`` + ``SYSTEM_TEAMPROJECT`` + ``BUILD_BUILDID``
   (``…/_build/results?buildId=N``); ``BUILD_REPOSITORY_URI`` and ``BUILD_REPOSITORY_PROVIDER``
   (commit URL ``{repo}/commit/{sha}`` for TfsGit and GitHub, ``/commits/`` for Bitbucket);
   ``BUILD_REPOSITORY_ID``; ``BUILD_REPOSITORY_NAME``; ``BUILD_REQUESTEDFOR`` (a display name).
5. ``circleci`` -- CircleCI: ``CIRCLECI``; ``CIRCLE_SHA1``; ``CIRCLE_BRANCH``;
   ``CIRCLE_BUILD_URL``; ``CIRCLE_REPOSITORY_URL``; ``CIRCLE_PROJECT_USERNAME`` +
   ``CIRCLE_PROJECT_REPONAME``; ``CIRCLE_USERNAME``. No repository id.
6. ``codebuild`` -- AWS CodeBuild: ``CODEBUILD_BUILD_ID`` (or ``CODEBUILD_BUILD_ARN``);
   ``CODEBUILD_RESOLVED_SOURCE_VERSION``; ``CODEBUILD_WEBHOOK_TRIGGER`` (``branch/<name>``;
   ``pr/<n>`` takes ``CODEBUILD_WEBHOOK_HEAD_REF``; ``tag/…`` none), else
   ``CODEBUILD_SOURCE_VERSION`` only in its ``refs/heads/…`` form (a bare name may be a branch,
   a tag or a commit: not guessed); ``CODEBUILD_BUILD_URL`` (else ``CODEBUILD_PUBLIC_BUILD_URL``);
   ``CODEBUILD_SOURCE_REPO_URL`` (repo name from its path); ``CODEBUILD_INITIATOR`` (a user, a
   ``codepipeline/<name>`` or ``GitHub-Hookshot/…``). No repository id.
7. ``teamcity`` -- TeamCity: ``TEAMCITY_VERSION``; ``BUILD_VCS_NUMBER``, else the one value of
   the ``BUILD_VCS_NUMBER_<root>`` variables when they agree. TeamCity passes the branch, the
   VCS root URL, the server URL and the triggering user only as configuration parameters, not as
   environment variables, so they are None; ``BUILD_URL`` is used when the build configuration
   defines it (``env.BUILD_URL=%teamcity.serverUrl%/viewLog.html?buildId=%teamcity.build.id%``).
8. ``jenkins`` -- Jenkins: ``JENKINS_URL``, or ``BUILD_TAG`` starting with ``jenkins-``;
   ``GIT_COMMIT``; ``CHANGE_BRANCH`` (multibranch pull requests, where ``BRANCH_NAME`` is
   ``PR-n``), else none when ``TAG_NAME``, else ``BRANCH_NAME``, else ``GIT_BRANCH`` without
   ``origin/``;
   ``BUILD_URL``; ``GIT_URL`` (else ``GIT_URL_1``; repo name from its path); ``CHANGE_AUTHOR``,
   else ``BUILD_USER_ID`` (build-user-vars plugin). No repository id.

Why this order: services whose marker is a variable only they set come first; the self-hosted
servers, whose variables leak most easily into nested builds, come last, Jenkins last of all
because its names (``BUILD_URL``, ``BUILD_NUMBER``) are the most generic. GitHub Actions and
GitLab come before CodeBuild because CodeBuild can host their runners, where both sets are
present and the GitHub/GitLab run is the build being described.
"""

from __future__ import annotations

from affidavit.collect.remote import commit_url, normalize_repo_url

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["FIELDS", "PROVIDERS", "detect"]

#: The keys of what :func:`detect` returns, in this order.
FIELDS = ("provider", "commit", "branch", "build_url", "commit_url", "repo_url", "repo_id",
          "repo_name", "actor")


def detect(env: Mapping[str, str]) -> dict[str, str | None] | None:
    """What the CI running with variables ``env`` says about this build; None outside a CI."""
    get = _Vars(env)
    for provider, marker, collect in _PROVIDERS:
        if marker(get):
            found = collect(get)
            repo_url, sha = found.get("repo_url"), found.get("commit")
            repo_url = found["repo_url"] = normalize_repo_url(repo_url) if repo_url else None
            if not found.get("commit_url") and repo_url and sha:
                found["commit_url"] = commit_url(repo_url, sha)
            found["provider"] = provider
            return {field: found.get(field) for field in FIELDS}
    return None


class _Vars:
    """Read variables the way every CI is read: empty or blank values count as unset."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def __call__(self, name: str) -> str | None:
        value = self._env.get(name)
        return (value.strip() or None) if value is not None else None

    def prefixed(self, prefix: str) -> set[str]:
        """The distinct set values of every variable whose name starts with ``prefix``."""
        return {v for k in self._env if k.startswith(prefix) and (v := self(k)) is not None}


def _flag(name: str) -> Callable[[_Vars], bool]:
    return lambda get: (get(name) or "false").lower() not in ("false", "0", "no")


def _github(get: _Vars) -> dict[str, str | None]:
    server = (get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    repo, sha, run = get("GITHUB_REPOSITORY"), get("GITHUB_SHA"), get("GITHUB_RUN_ID")
    attempt = get("GITHUB_RUN_ATTEMPT")
    build = f"{server}/{repo}/actions/runs/{run}" if repo and run else None
    return {
        "commit": sha,
        "branch": get("GITHUB_HEAD_REF") or _branch_ref(get("GITHUB_REF"), short=False),
        "build_url": f"{build}/attempts/{attempt}" if build and attempt else build,
        "commit_url": f"{server}/{repo}/commit/{sha}" if repo and sha else None,
        "repo_url": f"{server}/{repo}" if repo else None,
        "repo_id": get("GITHUB_REPOSITORY_ID"),
        "repo_name": repo,
        "actor": get("GITHUB_ACTOR"),
    }


def _gitlab(get: _Vars) -> dict[str, str | None]:
    project, sha = get("CI_PROJECT_URL"), get("CI_COMMIT_SHA")
    ref = None if get("CI_COMMIT_TAG") else get("CI_COMMIT_REF_NAME")
    return {
        "commit": sha,
        "branch": (get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
                   or get("CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME")
                   or get("CI_COMMIT_BRANCH") or ref),
        "build_url": get("CI_JOB_URL") or get("CI_PIPELINE_URL"),
        "commit_url": f"{project.rstrip('/')}/-/commit/{sha}" if project and sha else None,
        "repo_url": project,
        "repo_id": get("CI_PROJECT_ID"),
        "repo_name": get("CI_PROJECT_PATH"),
        "actor": get("GITLAB_USER_LOGIN"),
    }


def _bitbucket(get: _Vars) -> dict[str, str | None]:
    name, sha, number = (get("BITBUCKET_REPO_FULL_NAME"), get("BITBUCKET_COMMIT"),
                         get("BITBUCKET_BUILD_NUMBER"))
    repo = f"https://bitbucket.org/{name}" if name else get("BITBUCKET_GIT_HTTP_ORIGIN")
    return {
        "commit": sha,
        "branch": get("BITBUCKET_BRANCH"),
        "build_url": f"{repo}/pipelines/results/{number}" if name and number else None,
        "commit_url": f"{repo}/commits/{sha}" if name and sha else None,
        "repo_url": repo,
        "repo_id": get("BITBUCKET_REPO_UUID"),
        "repo_name": name,
        "actor": get("BITBUCKET_STEP_TRIGGERER_UUID"),
    }


def _azure(get: _Vars) -> dict[str, str | None]:
    collection, project, build = (get("SYSTEM_COLLECTIONURI"), get("SYSTEM_TEAMPROJECT"),
                                  get("BUILD_BUILDID"))
    sha, uri = get("BUILD_SOURCEVERSION"), get("BUILD_REPOSITORY_URI")
    repo = normalize_repo_url(uri) if uri else None
    kind = {"TfsGit": "commit", "GitHub": "commit", "GitHubEnterprise": "commit",
            "Bitbucket": "commits"}.get(get("BUILD_REPOSITORY_PROVIDER") or "")
    return {
        "commit": sha,
        "branch": (_branch_ref(get("SYSTEM_PULLREQUEST_SOURCEBRANCH"), short=True)
                   or _branch_ref(get("BUILD_SOURCEBRANCH"), short=False)),
        "build_url": (f"{collection.rstrip('/')}/{_quote(project)}/_build/results?buildId={build}"
                      if collection and project and build else None),
        "commit_url": f"{repo}/{kind}/{sha}" if repo and kind and sha else None,
        "repo_url": repo,
        "repo_id": get("BUILD_REPOSITORY_ID"),
        "repo_name": get("BUILD_REPOSITORY_NAME"),
        "actor": get("BUILD_REQUESTEDFOR"),
    }


def _circleci(get: _Vars) -> dict[str, str | None]:
    owner, name = get("CIRCLE_PROJECT_USERNAME"), get("CIRCLE_PROJECT_REPONAME")
    return {
        "commit": get("CIRCLE_SHA1"),
        "branch": get("CIRCLE_BRANCH"),
        "build_url": get("CIRCLE_BUILD_URL"),
        "repo_url": get("CIRCLE_REPOSITORY_URL"),
        "repo_name": f"{owner}/{name}" if owner and name else None,
        "actor": get("CIRCLE_USERNAME"),
    }


def _codebuild(get: _Vars) -> dict[str, str | None]:
    trigger = get("CODEBUILD_WEBHOOK_TRIGGER") or ""
    if trigger.startswith("branch/"):
        branch: str | None = trigger[len("branch/"):] or None
    elif trigger.startswith("pr/"):
        branch = _branch_ref(get("CODEBUILD_WEBHOOK_HEAD_REF"), short=True)
    elif trigger:
        branch = None
    else:
        branch = _branch_ref(get("CODEBUILD_SOURCE_VERSION"), short=False)
    repo = get("CODEBUILD_SOURCE_REPO_URL")
    return {
        "commit": get("CODEBUILD_RESOLVED_SOURCE_VERSION"),
        "branch": branch,
        "build_url": get("CODEBUILD_BUILD_URL") or get("CODEBUILD_PUBLIC_BUILD_URL"),
        "repo_url": repo,
        "repo_name": _repo_name(repo),
        "actor": get("CODEBUILD_INITIATOR"),
    }


def _teamcity(get: _Vars) -> dict[str, str | None]:
    roots = get.prefixed("BUILD_VCS_NUMBER_")
    commit = get("BUILD_VCS_NUMBER") or (roots.pop() if len(roots) == 1 else None)
    return {"commit": commit, "build_url": get("BUILD_URL")}


def _jenkins(get: _Vars) -> dict[str, str | None]:
    git_branch = get("GIT_BRANCH")
    if git_branch:
        for prefix in ("refs/heads/", "refs/remotes/origin/", "origin/"):
            if git_branch.startswith(prefix):
                git_branch = git_branch[len(prefix):]
                break
    repo = get("GIT_URL") or get("GIT_URL_1")
    tag = get("TAG_NAME")
    return {
        "commit": get("GIT_COMMIT"),
        "branch": get("CHANGE_BRANCH") or (None if tag else get("BRANCH_NAME") or git_branch),
        "build_url": get("BUILD_URL"),
        "repo_url": repo,
        "repo_name": _repo_name(repo),
        "actor": get("CHANGE_AUTHOR") or get("BUILD_USER_ID"),
    }


def _branch_ref(ref: str | None, *, short: bool) -> str | None:
    """``refs/heads/x`` -> ``x``; other refs (tags, pull requests) -> None; a bare name is
    taken as a branch only where the variable may hold the short form (``short``)."""
    if not ref:
        return None
    if ref.startswith("refs/heads/"):
        return ref[len("refs/heads/"):] or None
    return ref if short and not ref.startswith("refs/") else None


def _repo_name(remote: str | None) -> str | None:
    """``org/repo`` from a remote URL (Azure's ``/_git/`` left out), for CIs that only give
    the URL."""
    url = normalize_repo_url(remote) if remote else None
    if url is None:
        return None
    return url.split("://", 1)[1].split("/", 1)[1].replace("/_git/", "/")


def _quote(segment: str) -> str:
    """Percent-encode a URL path segment (Azure project names may hold spaces), without
    importing urllib on the CLI's path."""
    safe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    return "".join(c if c in safe else "".join(f"%{b:02X}" for b in c.encode()) for c in segment)


#: (provider, marker, collector) in detection order; see the module docstring.
_PROVIDERS: tuple[
    tuple[str, Callable[[_Vars], bool], Callable[[_Vars], dict[str, str | None]]], ...]
_PROVIDERS = (
    ("github", _flag("GITHUB_ACTIONS"), _github),
    ("gitlab", _flag("GITLAB_CI"), _gitlab),
    ("bitbucket", lambda get: get("BITBUCKET_BUILD_NUMBER") is not None, _bitbucket),
    ("azure-devops", _flag("TF_BUILD"), _azure),
    ("circleci", _flag("CIRCLECI"), _circleci),
    ("codebuild", lambda get: bool(get("CODEBUILD_BUILD_ID") or get("CODEBUILD_BUILD_ARN")),
     _codebuild),
    ("teamcity", lambda get: get("TEAMCITY_VERSION") is not None, _teamcity),
    ("jenkins", lambda get: bool(get("JENKINS_URL")
                                 or (get("BUILD_TAG") or "").startswith("jenkins-")), _jenkins),
)
#: Provider names in detection order.
PROVIDERS = tuple(name for name, _, _ in _PROVIDERS)
