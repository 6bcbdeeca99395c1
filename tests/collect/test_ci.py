"""CI detection from recorded variable sets.

The sets are what each CI's documentation lists for its predefined variables, with values shaped
like real builds (several are trimmed from environment dumps that OndraM/ci-detector records in
its tests, with the runner's unrelated variables left out). Each CI has a push build and, where
the CI tells them apart, a pull/merge request build.
"""

from __future__ import annotations

import pytest

from affidavit.collect.ci import FIELDS, PROVIDERS, detect

SHA = "b9173d9402ae3abca09f0b45b524a7567df05811"
MERGE = "f44ad676029757f70d7fc848d4bdf13b771c279b"
RUNNER = {"CI": "true", "HOME": "/home/runner", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}

GITHUB_PUSH = {
    **RUNNER, "GITHUB_ACTIONS": "true", "GITHUB_ACTION": "run2", "GITHUB_ACTOR": "OndraM",
    "GITHUB_API_URL": "https://api.github.com", "GITHUB_BASE_REF": "", "GITHUB_EVENT_NAME": "push",
    "GITHUB_EVENT_PATH": "/home/runner/work/_temp/_github_workflow/event.json",
    "GITHUB_HEAD_REF": "", "GITHUB_JOB": "tests", "GITHUB_REF": "refs/heads/test-github",
    "GITHUB_REF_NAME": "test-github", "GITHUB_REF_TYPE": "branch",
    "GITHUB_REPOSITORY": "OndraM/ci-detector", "GITHUB_REPOSITORY_ID": "72426181",
    "GITHUB_REPOSITORY_OWNER": "OndraM", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_RUN_ID": "135716608",
    "GITHUB_RUN_NUMBER": "50", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_SHA": SHA,
    "GITHUB_WORKFLOW": "Tests", "RUNNER_OS": "Linux",
}
GITHUB_PR = {
    **GITHUB_PUSH, "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/43/merge",
    "GITHUB_REF_NAME": "43/merge", "GITHUB_HEAD_REF": "feature/detect", "GITHUB_BASE_REF": "main",
    "GITHUB_SHA": MERGE, "GITHUB_RUN_ATTEMPT": "2", "GITHUB_ACTOR": "dependabot[bot]",
}
GITHUB_ENTERPRISE_TAG = {
    **GITHUB_PUSH, "GITHUB_SERVER_URL": "https://github.example.com",
    "GITHUB_API_URL": "https://github.example.com/api/v3", "GITHUB_REF": "refs/tags/v1.2.0",
    "GITHUB_REF_NAME": "v1.2.0", "GITHUB_REF_TYPE": "tag", "GITHUB_REPOSITORY": "platform/api",
}

GITLAB_PUSH = {
    **RUNNER, "GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.com",
    "CI_COMMIT_SHA": SHA, "CI_COMMIT_SHORT_SHA": SHA[:8], "CI_COMMIT_BRANCH": "main",
    "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_REF_SLUG": "main", "CI_DEFAULT_BRANCH": "main",
    "CI_JOB_ID": "3265050", "CI_JOB_URL": "https://gitlab.com/acme/platform/api/-/jobs/3265050",
    "CI_PIPELINE_ID": "3993609", "CI_PIPELINE_SOURCE": "push",
    "CI_PIPELINE_URL": "https://gitlab.com/acme/platform/api/-/pipelines/3993609",
    "CI_PROJECT_ID": "1545369", "CI_PROJECT_NAME": "api", "CI_PROJECT_NAMESPACE": "acme/platform",
    "CI_PROJECT_PATH": "acme/platform/api", "CI_PROJECT_URL": "https://gitlab.com/acme/platform/api",
    "CI_REPOSITORY_URL": "https://gitlab-ci-token:[MASKED]@gitlab.com/acme/platform/api.git",
    "GITLAB_USER_LOGIN": "jdoe", "GITLAB_USER_EMAIL": "jdoe@example.com",
}
GITLAB_MR = {
    **{k: v for k, v in GITLAB_PUSH.items() if k != "CI_COMMIT_BRANCH"},
    "CI_SERVER_URL": "https://gitlab.example.com",
    "CI_PROJECT_URL": "https://gitlab.example.com/acme/platform/api",
    "CI_JOB_URL": "https://gitlab.example.com/acme/platform/api/-/jobs/77",
    "CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_REF_NAME": "feature/login",
    "CI_MERGE_REQUEST_IID": "12", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/login",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "GITLAB_USER_LOGIN": "asmith",
}
GITLAB_TAG = {
    **{k: v for k, v in GITLAB_PUSH.items() if k != "CI_COMMIT_BRANCH"},
    "CI_COMMIT_TAG": "v2.0.0", "CI_COMMIT_REF_NAME": "v2.0.0", "CI_JOB_URL": "",
}

BITBUCKET_PUSH = {
    **RUNNER, "BITBUCKET_BUILD_NUMBER": "41", "BITBUCKET_BRANCH": "main",
    "BITBUCKET_CLONE_DIR": "/opt/atlassian/pipelines/agent/build", "BITBUCKET_COMMIT": SHA,
    "BITBUCKET_GIT_HTTP_ORIGIN": "http://bitbucket.org/ondrejmachulda/ci-detector",
    "BITBUCKET_GIT_SSH_ORIGIN": "git@bitbucket.org:ondrejmachulda/ci-detector.git",
    "BITBUCKET_PIPELINE_UUID": "{a1b2c3d4-0000-4000-8000-000000000001}",
    "BITBUCKET_PROJECT_KEY": "CD", "BITBUCKET_REPO_FULL_NAME": "ondrejmachulda/ci-detector",
    "BITBUCKET_REPO_IS_PRIVATE": "true", "BITBUCKET_REPO_OWNER": "ondrejmachulda",
    "BITBUCKET_REPO_SLUG": "ci-detector",
    "BITBUCKET_REPO_UUID": "{fe99db34-e979-40be-b383-c1a7738b52f7}",
    "BITBUCKET_STEP_TRIGGERER_UUID": "{5a50dd52-5ab7-4225-831c-4db9451375a2}",
    "BITBUCKET_STEP_UUID": "{b2c3d4e5-0000-4000-8000-000000000002}",
    "BITBUCKET_WORKSPACE": "ondrejmachulda",
}
BITBUCKET_PR = {
    **BITBUCKET_PUSH, "BITBUCKET_BUILD_NUMBER": "4", "BITBUCKET_BRANCH": "feature/bitbucket",
    "BITBUCKET_COMMIT": "8d081548cabb", "BITBUCKET_PR_DESTINATION_BRANCH": "main",
    "BITBUCKET_PR_DESTINATION_COMMIT": "88a27cd7f221", "BITBUCKET_PR_ID": "2",
}

AZURE_GITHUB_PUSH = {
    **RUNNER, "TF_BUILD": "True", "AGENT_NAME": "Hosted Agent", "BUILD_BUILDID": "33",
    "BUILD_BUILDNUMBER": "20201215.33", "BUILD_BUILDURI": "vstfs:///Build/Build/33",
    "BUILD_DEFINITIONNAME": "OndraM.ci-detector", "BUILD_QUEUEDBY": "Ondřej Machulda",
    "BUILD_REASON": "IndividualCI", "BUILD_REPOSITORY_ID": "OndraM/ci-detector",
    "BUILD_REPOSITORY_NAME": "OndraM/ci-detector", "BUILD_REPOSITORY_PROVIDER": "GitHub",
    "BUILD_REPOSITORY_URI": "https://github.com/OndraM/ci-detector",
    "BUILD_REQUESTEDFOR": "Ondřej Machulda", "BUILD_REQUESTEDFOREMAIL": "ondrej@example.com",
    "BUILD_SOURCEBRANCH": "refs/heads/test-azure-pipelines",
    "BUILD_SOURCEBRANCHNAME": "test-azure-pipelines",
    "BUILD_SOURCEVERSION": "6411f07f6cd88db7fc4f26edae51cf091eb707e1",
    "BUILD_SOURCEVERSIONMESSAGE": "Test Azure Pipelines",
    "SYSTEM_COLLECTIONURI": "https://dev.azure.com/ondrejmachulda/",
    "SYSTEM_PULLREQUEST_ISFORK": "False", "SYSTEM_TEAMPROJECT": "ci-detector",
    "SYSTEM_TEAMPROJECTID": "48440e73-a9f9-45c7-bbdd-3ff745878df5",
}
AZURE_GITHUB_PR = {
    **AZURE_GITHUB_PUSH, "BUILD_BUILDID": "4", "BUILD_REASON": "PullRequest",
    "BUILD_QUEUEDBY": "GitHub", "BUILD_REQUESTEDFOR": "GitHub", "BUILD_REQUESTEDFOREMAIL": "",
    "BUILD_SOURCEBRANCH": "refs/pull/89/merge", "BUILD_SOURCEBRANCHNAME": "merge",
    "BUILD_SOURCEVERSION": MERGE, "SYSTEM_PULLREQUEST_MERGEDAT": "",
    "SYSTEM_PULLREQUEST_PULLREQUESTID": "540266026", "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER": "89",
    "SYSTEM_PULLREQUEST_SOURCEBRANCH": "feature/azure-pipelines",
    "SYSTEM_PULLREQUEST_SOURCECOMMITID": "db49327fe5e5bfea81fb88cdbbf24e283538c395",
    "SYSTEM_PULLREQUEST_TARGETBRANCH": "main",
}
AZURE_REPOS_PUSH = {
    **RUNNER, "TF_BUILD": "True", "BUILD_BUILDID": "1207", "BUILD_REASON": "IndividualCI",
    "BUILD_REPOSITORY_ID": "3f1c7c2e-9d2a-4b52-8f0e-6a1d2b3c4d5e",
    "BUILD_REPOSITORY_NAME": "web", "BUILD_REPOSITORY_PROVIDER": "TfsGit",
    "BUILD_REPOSITORY_URI": "https://contoso@dev.azure.com/contoso/Fabrikam%20Fiber/_git/web",
    "BUILD_REQUESTEDFOR": "Jamal Hartnett", "BUILD_SOURCEBRANCH": "refs/heads/feature/a/b",
    "BUILD_SOURCEBRANCHNAME": "b", "BUILD_SOURCEVERSION": SHA,
    "SYSTEM_COLLECTIONURI": "https://dev.azure.com/contoso/",
    "SYSTEM_TEAMPROJECT": "Fabrikam Fiber",
}
AZURE_REPOS_PR = {
    **AZURE_REPOS_PUSH, "BUILD_REASON": "PullRequest", "BUILD_SOURCEBRANCH": "refs/pull/17/merge",
    "BUILD_SOURCEBRANCHNAME": "merge", "BUILD_SOURCEVERSION": MERGE,
    "SYSTEM_PULLREQUEST_PULLREQUESTID": "17",
    "SYSTEM_PULLREQUEST_SOURCEBRANCH": "refs/heads/feature/login",
    "SYSTEM_PULLREQUEST_TARGETBRANCH": "refs/heads/main",
}

CIRCLE_PUSH = {
    **RUNNER, "CIRCLECI": "true", "CIRCLE_BRANCH": "test-circleci", "CIRCLE_BUILD_NUM": "1337",
    "CIRCLE_BUILD_URL": "https://circleci.com/gh/OndraM/ci-detector/1337", "CIRCLE_JOB": "build",
    "CIRCLE_NODE_INDEX": "0", "CIRCLE_NODE_TOTAL": "1", "CIRCLE_PROJECT_REPONAME": "ci-detector",
    "CIRCLE_PROJECT_USERNAME": "OndraM",
    "CIRCLE_REPOSITORY_URL": "git@github.com:OndraM/ci-detector.git",
    "CIRCLE_SHA1": "fad3f7bdbf3515d1e9285b8aa80feeff74507bdd", "CIRCLE_USERNAME": "OndraM",
    "CIRCLE_WORKFLOW_ID": "6a5c0f4e-0000-4000-8000-000000000003", "CI_PULL_REQUEST": "",
}
CIRCLE_PR = {
    **CIRCLE_PUSH, "CIRCLE_BRANCH": "feature/circle",
    "CIRCLE_PULL_REQUEST": "https://github.com/OndraM/ci-detector/pull/43",
    "CI_PULL_REQUEST": "https://github.com/OndraM/ci-detector/pull/43",
}

CODEBUILD_BASE = {
    "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1", "CODEBUILD_CI": "true",
    "CODEBUILD_BUILD_ARN": "arn:aws:codebuild:eu-west-1:911074024513:build/project-api-pr:"
                           "449b6959-c0f7-41ac-aac8-7fec365d3004",
    "CODEBUILD_BUILD_ID": "project-api-pr:449b6959-c0f7-41ac-aac8-7fec365d3004",
    "CODEBUILD_BUILD_NUMBER": "559", "CODEBUILD_BUILD_URL": "https://eu-west-1.console.aws.amazon"
    ".com/codebuild/home?region=eu-west-1#/builds/project-api-pr:449b6959/view/new",
    "CODEBUILD_RESOLVED_SOURCE_VERSION": "c150e3a3d2d89acd1b1222bf6f7a50b45a4218c0",
    "CODEBUILD_SOURCE_REPO_URL": "https://github.com/project-app/project-api.git",
    "CODEBUILD_SRC_DIR": "/codebuild/output/src341076892/src/github.com/project-app/project-api",
    "HOME": "/root",
}
CODEBUILD_MANUAL = {**CODEBUILD_BASE, "CODEBUILD_INITIATOR": "radim",
                    "CODEBUILD_SOURCE_VERSION": "test/evn"}
CODEBUILD_PUSH = {
    **CODEBUILD_BASE, "CODEBUILD_INITIATOR": "GitHub-Hookshot/fc9e274",
    "CODEBUILD_SOURCE_VERSION": "c150e3a3d2d89acd1b1222bf6f7a50b45a4218c0",
    "CODEBUILD_WEBHOOK_EVENT": "PUSH", "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/release/2.x",
    "CODEBUILD_WEBHOOK_TRIGGER": "branch/release/2.x",
    "CODEBUILD_WEBHOOK_PREV_COMMIT": "783de14cf438a41a60af7cd148a43da74ccd11cc",
}
CODEBUILD_PR = {
    **CODEBUILD_BASE, "CODEBUILD_INITIATOR": "GitHub-Hookshot/fc9e274",
    "CODEBUILD_SOURCE_VERSION": "pr/1486", "CODEBUILD_WEBHOOK_ACTOR_ACCOUNT_ID": "461164",
    "CODEBUILD_WEBHOOK_BASE_REF": "refs/heads/develop", "CODEBUILD_WEBHOOK_EVENT":
    "PULL_REQUEST_CREATED", "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/test/pr-branch",
    "CODEBUILD_WEBHOOK_TRIGGER": "pr/1486",
}

TEAMCITY = {
    "BUILD_NUMBER": "5", "BUILD_VCS_NUMBER": "1ee546f280c093f1e24ecc149db4a0a100c8d609",
    "BUILD_VCS_NUMBER_CiDetector_HttpsGithubComOndraMCiDetectorRefsHeadsMain":
        "1ee546f280c093f1e24ecc149db4a0a100c8d609",
    "TEAMCITY_BUILDCONF_NAME": "Build", "TEAMCITY_PROJECT_NAME": "Ci Detector",
    "TEAMCITY_BUILD_PROPERTIES_FILE": "/opt/TeamCity/buildAgent/temp/buildTmp/teamcity.build.prop",
    "TEAMCITY_VERSION": "10.0 (build 42002)", "TEAMCITY_GIT_PATH": "/usr/bin/git",
}
TEAMCITY_TWO_ROOTS = {
    "TEAMCITY_VERSION": "2025.03 (build 186049)", "BUILD_NUMBER": "88",
    "BUILD_VCS_NUMBER_App_Main": SHA, "BUILD_VCS_NUMBER_App_Docs": MERGE,
    "BUILD_URL": "https://teamcity.example.com/viewLog.html?buildId=4711",
}

JENKINS_FREESTYLE = {
    "BUILD_CAUSE": "MANUALTRIGGER", "BUILD_DISPLAY_NAME": "#1337", "BUILD_ID": "1337",
    "BUILD_NUMBER": "1337", "BUILD_TAG": "jenkins-foo_job_name-1337",
    "BUILD_URL": "http://jenkins.foo/job/foo_job_name/1337/", "GIT_BRANCH": "origin/branchname",
    "GIT_COMMIT": "11cc783de14cf438a41a60af7cd148a43da74ccd",
    "GIT_PREVIOUS_COMMIT": "783de14cf438a41a60af7cd148a43da74ccd11cc",
    "GIT_URL": "ssh://git@gitserver:7999/project/repo.git", "JENKINS_URL": "http://jenkins.foo/",
    "JOB_NAME": "foo_job_name", "JOB_URL": "http://jenkins.foo/job/foo_job_name/",
    "WORKSPACE": "/srv/jenkins/workspace/foo_job_name",
}
JENKINS_MULTIBRANCH_PR = {
    "BRANCH_NAME": "PR-12", "BUILD_NUMBER": "3", "BUILD_TAG": "jenkins-acme-widgets-PR-12-3",
    "BUILD_URL": "https://ci.acme.dev/job/acme/job/widgets/job/PR-12/3/",
    "CHANGE_AUTHOR": "jdoe", "CHANGE_BRANCH": "feature/x", "CHANGE_ID": "12",
    "CHANGE_TARGET": "main", "CHANGE_URL": "https://github.com/acme/widgets/pull/12",
    "GIT_BRANCH": "PR-12", "GIT_COMMIT": SHA, "GIT_URL": "https://github.com/acme/widgets.git",
    "JENKINS_HOME": "/var/jenkins_home", "JOB_NAME": "acme/widgets/PR-12",
}
JENKINS_TAG = {**JENKINS_MULTIBRANCH_PR, "BRANCH_NAME": "v1.0", "GIT_BRANCH": "v1.0",
               "TAG_NAME": "v1.0", "CHANGE_BRANCH": "", "CHANGE_AUTHOR": "", "CHANGE_ID": ""}


def _want(provider: str, **fields: str | None) -> dict[str, str | None]:
    return {field: fields.get(field) for field in FIELDS} | {"provider": provider}


CASES = {
    "github push": (GITHUB_PUSH, _want(
        "github", commit=SHA, branch="test-github",
        build_url="https://github.com/OndraM/ci-detector/actions/runs/135716608/attempts/1",
        commit_url=f"https://github.com/OndraM/ci-detector/commit/{SHA}",
        repo_url="https://github.com/OndraM/ci-detector", repo_id="72426181",
        repo_name="OndraM/ci-detector", actor="OndraM")),
    "github pull request": (GITHUB_PR, _want(
        "github", commit=MERGE, branch="feature/detect",
        build_url="https://github.com/OndraM/ci-detector/actions/runs/135716608/attempts/2",
        commit_url=f"https://github.com/OndraM/ci-detector/commit/{MERGE}",
        repo_url="https://github.com/OndraM/ci-detector", repo_id="72426181",
        repo_name="OndraM/ci-detector", actor="dependabot[bot]")),
    "github enterprise tag": (GITHUB_ENTERPRISE_TAG, _want(
        "github", commit=SHA, branch=None,
        build_url="https://github.example.com/platform/api/actions/runs/135716608/attempts/1",
        commit_url=f"https://github.example.com/platform/api/commit/{SHA}",
        repo_url="https://github.example.com/platform/api", repo_id="72426181",
        repo_name="platform/api", actor="OndraM")),
    "gitlab push": (GITLAB_PUSH, _want(
        "gitlab", commit=SHA, branch="main",
        build_url="https://gitlab.com/acme/platform/api/-/jobs/3265050",
        commit_url=f"https://gitlab.com/acme/platform/api/-/commit/{SHA}",
        repo_url="https://gitlab.com/acme/platform/api", repo_id="1545369",
        repo_name="acme/platform/api", actor="jdoe")),
    "gitlab merge request": (GITLAB_MR, _want(
        "gitlab", commit=SHA, branch="feature/login",
        build_url="https://gitlab.example.com/acme/platform/api/-/jobs/77",
        commit_url=f"https://gitlab.example.com/acme/platform/api/-/commit/{SHA}",
        repo_url="https://gitlab.example.com/acme/platform/api", repo_id="1545369",
        repo_name="acme/platform/api", actor="asmith")),
    "gitlab tag": (GITLAB_TAG, _want(
        "gitlab", commit=SHA, branch=None,
        build_url="https://gitlab.com/acme/platform/api/-/pipelines/3993609",
        commit_url=f"https://gitlab.com/acme/platform/api/-/commit/{SHA}",
        repo_url="https://gitlab.com/acme/platform/api", repo_id="1545369",
        repo_name="acme/platform/api", actor="jdoe")),
    "bitbucket push": (BITBUCKET_PUSH, _want(
        "bitbucket", commit=SHA, branch="main",
        build_url="https://bitbucket.org/ondrejmachulda/ci-detector/pipelines/results/41",
        commit_url=f"https://bitbucket.org/ondrejmachulda/ci-detector/commits/{SHA}",
        repo_url="https://bitbucket.org/ondrejmachulda/ci-detector",
        repo_id="{fe99db34-e979-40be-b383-c1a7738b52f7}", repo_name="ondrejmachulda/ci-detector",
        actor="{5a50dd52-5ab7-4225-831c-4db9451375a2}")),
    "bitbucket pull request": (BITBUCKET_PR, _want(
        "bitbucket", commit="8d081548cabb", branch="feature/bitbucket",
        build_url="https://bitbucket.org/ondrejmachulda/ci-detector/pipelines/results/4",
        commit_url="https://bitbucket.org/ondrejmachulda/ci-detector/commits/8d081548cabb",
        repo_url="https://bitbucket.org/ondrejmachulda/ci-detector",
        repo_id="{fe99db34-e979-40be-b383-c1a7738b52f7}", repo_name="ondrejmachulda/ci-detector",
        actor="{5a50dd52-5ab7-4225-831c-4db9451375a2}")),
    "azure on github push": (AZURE_GITHUB_PUSH, _want(
        "azure-devops", commit="6411f07f6cd88db7fc4f26edae51cf091eb707e1",
        branch="test-azure-pipelines",
        build_url="https://dev.azure.com/ondrejmachulda/ci-detector/_build/results?buildId=33",
        commit_url="https://github.com/OndraM/ci-detector/commit/"
                   "6411f07f6cd88db7fc4f26edae51cf091eb707e1",
        repo_url="https://github.com/OndraM/ci-detector", repo_id="OndraM/ci-detector",
        repo_name="OndraM/ci-detector", actor="Ondřej Machulda")),
    "azure on github pull request": (AZURE_GITHUB_PR, _want(
        "azure-devops", commit=MERGE, branch="feature/azure-pipelines",
        build_url="https://dev.azure.com/ondrejmachulda/ci-detector/_build/results?buildId=4",
        commit_url=f"https://github.com/OndraM/ci-detector/commit/{MERGE}",
        repo_url="https://github.com/OndraM/ci-detector", repo_id="OndraM/ci-detector",
        repo_name="OndraM/ci-detector", actor="GitHub")),
    "azure repos push": (AZURE_REPOS_PUSH, _want(
        "azure-devops", commit=SHA, branch="feature/a/b",
        build_url="https://dev.azure.com/contoso/Fabrikam%20Fiber/_build/results?buildId=1207",
        commit_url=f"https://dev.azure.com/contoso/Fabrikam%20Fiber/_git/web/commit/{SHA}",
        repo_url="https://dev.azure.com/contoso/Fabrikam%20Fiber/_git/web",
        repo_id="3f1c7c2e-9d2a-4b52-8f0e-6a1d2b3c4d5e", repo_name="web", actor="Jamal Hartnett")),
    "azure repos pull request": (AZURE_REPOS_PR, _want(
        "azure-devops", commit=MERGE, branch="feature/login",
        build_url="https://dev.azure.com/contoso/Fabrikam%20Fiber/_build/results?buildId=1207",
        commit_url=f"https://dev.azure.com/contoso/Fabrikam%20Fiber/_git/web/commit/{MERGE}",
        repo_url="https://dev.azure.com/contoso/Fabrikam%20Fiber/_git/web",
        repo_id="3f1c7c2e-9d2a-4b52-8f0e-6a1d2b3c4d5e", repo_name="web", actor="Jamal Hartnett")),
    "circleci push": (CIRCLE_PUSH, _want(
        "circleci", commit="fad3f7bdbf3515d1e9285b8aa80feeff74507bdd", branch="test-circleci",
        build_url="https://circleci.com/gh/OndraM/ci-detector/1337",
        commit_url="https://github.com/OndraM/ci-detector/commit/"
                   "fad3f7bdbf3515d1e9285b8aa80feeff74507bdd",
        repo_url="https://github.com/OndraM/ci-detector", repo_name="OndraM/ci-detector",
        actor="OndraM")),
    "circleci pull request": (CIRCLE_PR, _want(
        "circleci", commit="fad3f7bdbf3515d1e9285b8aa80feeff74507bdd", branch="feature/circle",
        build_url="https://circleci.com/gh/OndraM/ci-detector/1337",
        commit_url="https://github.com/OndraM/ci-detector/commit/"
                   "fad3f7bdbf3515d1e9285b8aa80feeff74507bdd",
        repo_url="https://github.com/OndraM/ci-detector", repo_name="OndraM/ci-detector",
        actor="OndraM")),
    "codebuild manual": (CODEBUILD_MANUAL, _want(
        "codebuild", commit="c150e3a3d2d89acd1b1222bf6f7a50b45a4218c0", branch=None,
        build_url=CODEBUILD_BASE["CODEBUILD_BUILD_URL"],
        commit_url="https://github.com/project-app/project-api/commit/"
                   "c150e3a3d2d89acd1b1222bf6f7a50b45a4218c0",
        repo_url="https://github.com/project-app/project-api",
        repo_name="project-app/project-api", actor="radim")),
    "codebuild webhook push": (CODEBUILD_PUSH, _want(
        "codebuild", commit="c150e3a3d2d89acd1b1222bf6f7a50b45a4218c0", branch="release/2.x",
        build_url=CODEBUILD_BASE["CODEBUILD_BUILD_URL"],
        commit_url="https://github.com/project-app/project-api/commit/"
                   "c150e3a3d2d89acd1b1222bf6f7a50b45a4218c0",
        repo_url="https://github.com/project-app/project-api",
        repo_name="project-app/project-api", actor="GitHub-Hookshot/fc9e274")),
    "codebuild pull request": (CODEBUILD_PR, _want(
        "codebuild", commit="c150e3a3d2d89acd1b1222bf6f7a50b45a4218c0", branch="test/pr-branch",
        build_url=CODEBUILD_BASE["CODEBUILD_BUILD_URL"],
        commit_url="https://github.com/project-app/project-api/commit/"
                   "c150e3a3d2d89acd1b1222bf6f7a50b45a4218c0",
        repo_url="https://github.com/project-app/project-api",
        repo_name="project-app/project-api", actor="GitHub-Hookshot/fc9e274")),
    "teamcity": (TEAMCITY, _want("teamcity", commit="1ee546f280c093f1e24ecc149db4a0a100c8d609")),
    "teamcity two vcs roots, BUILD_URL mapped": (TEAMCITY_TWO_ROOTS, _want(
        "teamcity", build_url="https://teamcity.example.com/viewLog.html?buildId=4711")),
    "jenkins freestyle": (JENKINS_FREESTYLE, _want(
        "jenkins", commit="11cc783de14cf438a41a60af7cd148a43da74ccd", branch="branchname",
        build_url="http://jenkins.foo/job/foo_job_name/1337/",
        repo_url="https://gitserver/project/repo", repo_name="project/repo")),
    "jenkins multibranch pull request": (JENKINS_MULTIBRANCH_PR, _want(
        "jenkins", commit=SHA, branch="feature/x",
        build_url="https://ci.acme.dev/job/acme/job/widgets/job/PR-12/3/",
        commit_url=f"https://github.com/acme/widgets/commit/{SHA}",
        repo_url="https://github.com/acme/widgets", repo_name="acme/widgets", actor="jdoe")),
    "jenkins multibranch tag": (JENKINS_TAG, _want(
        "jenkins", commit=SHA, branch=None,
        build_url="https://ci.acme.dev/job/acme/job/widgets/job/PR-12/3/",
        commit_url=f"https://github.com/acme/widgets/commit/{SHA}",
        repo_url="https://github.com/acme/widgets", repo_name="acme/widgets")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_recorded_environments(case: str) -> None:
    env, expected = CASES[case]
    found = detect(env)
    assert found == expected
    assert found is not None and tuple(found) == FIELDS


def test_every_provider_has_a_recorded_case() -> None:
    assert {want["provider"] for _, want in CASES.values()} == set(PROVIDERS)
    assert len(PROVIDERS) == 8


@pytest.mark.parametrize("env", [
    {},
    RUNNER,
    {"PATH": "/usr/bin", "GITHUB_TOKEN": "x", "BUILD_URL": "http://example/1"},
    {key: "" for key in GITHUB_PUSH},
    {key: "  " for key in JENKINS_FREESTYLE},
    {**GITHUB_PUSH, "GITHUB_ACTIONS": "false"},
    {**GITLAB_PUSH, "GITLAB_CI": ""},
])
def test_no_ci(env: dict[str, str]) -> None:
    assert detect(env) is None


def test_empty_values_count_as_unset() -> None:
    found = detect({**GITLAB_MR, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "",
                    "CI_COMMIT_BRANCH": "develop", "CI_JOB_URL": "", "GITLAB_USER_LOGIN": ""})
    assert found is not None
    assert found["branch"] == "develop"
    assert found["build_url"] == GITLAB_MR["CI_PIPELINE_URL"]
    assert found["actor"] is None
    bare = detect({"GITHUB_ACTIONS": "true", "GITHUB_SHA": "", "GITHUB_REPOSITORY": ""})
    assert bare == _want("github")


def test_detected_by_jenkins_build_tag_without_jenkins_url() -> None:
    found = detect(JENKINS_MULTIBRANCH_PR)  # it has no JENKINS_URL
    assert found is not None and found["provider"] == "jenkins"


@pytest.mark.parametrize(("envs", "winner"), [
    # a GitHub Actions or GitLab runner hosted on CodeBuild sees both sets
    ((CODEBUILD_PUSH, GITHUB_PUSH), "github"),
    ((CODEBUILD_PUSH, GITLAB_PUSH), "gitlab"),
    ((JENKINS_FREESTYLE, GITLAB_MR), "gitlab"),
    ((JENKINS_FREESTYLE, TEAMCITY), "teamcity"),
    ((JENKINS_FREESTYLE, CIRCLE_PUSH), "circleci"),
    ((AZURE_REPOS_PUSH, BITBUCKET_PUSH), "bitbucket"),
])
def test_precedence_when_several_cis_variables_are_present(
        envs: tuple[dict[str, str], ...], winner: str) -> None:
    for ordering in (envs, envs[::-1]):
        merged: dict[str, str] = {}
        for env in ordering:
            merged.update(env)
        found = detect(merged)
        assert found is not None and found["provider"] == winner


def test_detection_order_is_the_documented_one() -> None:
    assert PROVIDERS == ("github", "gitlab", "bitbucket", "azure-devops", "circleci", "codebuild",
                         "teamcity", "jenkins")


def test_repo_urls_never_carry_credentials() -> None:
    found = detect({**JENKINS_FREESTYLE, "GIT_URL": "https://ci-bot:t0ken@git.acme.dev/a/b.git"})
    assert found is not None and found["repo_url"] == "https://git.acme.dev/a/b"
