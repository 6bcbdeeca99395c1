"""Jenkins shared library (``jenkins/vars/affidavit*.groovy``): argument mapping, quoting, errors.

One ``groovy`` run (``tests/wrappers/jenkins/harness.groovy``) executes every scenario below
against recording stand-ins for ``sh``, ``withEnv``, ``withCredentials``, ``string``,
``archiveArtifacts``, ``error`` and ``env``; the tests assert on what was recorded. The recorded
``sh`` scripts are then run for real (bash and dash) with the recorded environment: against a stub
CLI that dumps its argv, to prove hostile values arrive as literal argv/env text, and against the
real CLI, to prove a begin-trail / attest-junit / assert pipeline lands in the ledger. The
team-ledger test has the harness run those steps for real (its ``withCredentials`` binds a
secret from a stand-in credentials store, its ``sh`` runs ``sh -xe``) against a real
``affidavit server`` on 127.0.0.1.

Needs Debian ``groovy`` (``tests/wrappers/install-jenkins.sh``); every test but the help-page
check is skipped without it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.wrappers.fake_provider import (
    FIRST,
    HEAD,
    FakeProvider,
    recorded_bitbucket_pull,
    recorded_github_pull,
)
from tests.wrappers.team import team_server

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "jenkins"
HARNESS = Path(__file__).parent / "jenkins" / "harness.groovy"
FIXTURES = Path(__file__).parent / "jenkins" / "fixtures"
VENV_BIN = Path(sys.executable).parent
STEPS = ("affidavitSetup", "affidavitAttest", "affidavitBeginTrail", "affidavitAssert",
         "affidavitEvidencePackage", "affidavitSnapshot")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
#: Pipelines run whole against the stand-ins: ours, and the example one once it exists.
JENKINSFILES = {"fixture": FIXTURES / "Jenkinsfile",
                "example": ROOT / "examples" / "jenkins" / "Jenkinsfile",
                "team-example": ROOT / "examples" / "jenkins" / "Jenkinsfile.team"}
#: The team ledger examples/jenkins/Jenkinsfile.team names (a test points it at its server).
EXAMPLE_LEDGER = "https://affidavit.example.com/orgs/acme"

GROOVY = shutil.which("groovy")
NO_GROOVY = "groovy is not installed (tests/wrappers/install-jenkins.sh: apt-get install groovy)"

#: Values a shell would execute if they were ever pasted into a script.
HOSTILE = {
    "flow": "demo\"; touch PWNED_FLOW; echo \"",
    "trail": "t1 $(touch PWNED_TRAIL) `touch PWNED_TICK`",
    "name": "unit'; touch PWNED_NAME; '\nsecond line $HOME",
}
HOSTILE_ARGS = ["--annotate", "owner=$(touch PWNED_ARG) ${HOME} `id` 'q' \"dq\" \\ *"]
#: What a run would leave behind if any of the above reached a shell as code.
PWNED = ("PWNED_FLOW", "PWNED_TRAIL", "PWNED_TICK", "PWNED_NAME", "PWNED_ARG")

# id -> (step, args, env, sh fails)
SCENARIOS: dict[str, tuple[str, dict[str, Any], dict[str, str], bool]] = {
    "attest-junit": ("affidavitAttest", {
        "type": "junit", "name": "unit", "resultsDir": "build/test-results"}, {}, False),
    "attest-junit-e2e": ("affidavitAttest", {
        "type": "junit", "flow": "demo", "name": "unit",
        "resultsDir": str(FIXTURES / "test-results"), "assert": True}, {}, False),
    "attest-sarif-all": ("affidavitAttest", {
        "type": "sarif", "flow": "demo", "trail": "t1", "name": "scan",
        "results": ["a.sarif", "b dir/c.sarif"], "failOn": "medium",
        "attachments": "report.html", "annotate": ["team=core", "ticket=OPS 1"],
        "fingerprint": "ab" * 32, "assert": False, "dryRun": True,
        "ledger": "https://ledger.example/x", "credentialsId": "affidavit-token",
        "summary": "out/scan.md", "args": ["--max-findings", "3", "--new-only"]}, {}, False),
    "attest-coverage": ("affidavitAttest", {
        "type": "coverage", "name": "cov", "results": "build/lcov.info", "minLines": 80,
        "minBranches": "62.5"}, {}, False),
    "attest-jira": ("affidavitAttest", {
        "type": "jira", "name": "ticket", "jiraBaseUrl": "https://acme.atlassian.net"}, {},
        False),
    "attest-sonar": ("affidavitAttest", {
        "type": "sonar", "name": "gate", "sonarUrl": "https://sonar.example"}, {}, False),
    "attest-junit-files": ("affidavitAttest", {
        "type": "junit", "name": "unit", "results": ["a.xml", "reports/*.xml"],
        "args": "--max-failures 1 --annotate 'note=two words'"}, {}, False),
    "attest-artifact": ("affidavitAttest", {
        "type": "artifact", "name": "app", "artifact": "dist/app 1", "artifactType": "dir"},
        {}, False),
    "attest-custom": ("affidavitAttest", {
        "type": "custom", "name": "cov", "customType": "coverage"}, {}, False),
    "attest-hostile": ("affidavitAttest", {
        "type": "generic", **HOSTILE, "args": HOSTILE_ARGS}, {}, False),
    "attest-pullrequest": ("affidavitAttest", {
        "type": "pullrequest", "provider": "github", "repository": "acme/shop", "name": "pr"},
        {}, False),
    "attest-pullrequest-all": ("affidavitAttest", {
        "type": "pullrequest", "provider": "gitlab", "flow": "demo", "trail": "t1", "name": "mr",
        "repository": "acme/shop", "pr": 7, "baseUrl": "https://gitlab.example.com",
        "requireApprovals": 2, "allowStaleApprovals": True, "maxWait": 0,
        "credentialsId": "affidavit-token", "providerCredentialsId": "gitlab-token"}, {}, False),
    "attest-fails": ("affidavitAttest", {
        "type": "junit", "name": "unit", "resultsDir": "r", "assert": True}, {}, True),
    "begin": ("affidavitBeginTrail", {"flow": "demo"}, {}, False),
    "begin-e2e": ("affidavitBeginTrail", {
        "flow": "demo", "description": "build 7", "credentialsId": "tok",
        "flowTemplateFile": str(FIXTURES / "flow.yml")}, {}, False),
    "begin-create": ("affidavitBeginTrail", {
        "flow": "demo", "createFlow": True, "flowDescription": "Demo"}, {}, False),
    "assert-trail": ("affidavitAssert", {"flow": "demo"}, {}, False),
    "begin-named": ("affidavitBeginTrail", {"flow": "demo", "trail": "t 1"}, {}, False),
    "assert-artifact": ("affidavitAssert", {
        "subject": "artifact", "artifact": "dist", "artifactType": "dir"}, {}, False),
    "assert-attestation": ("affidavitAssert", {
        "subject": "attestation", "name": "unit", "trail": "t1", "flow": "demo"}, {}, False),
    "assert-fails": ("affidavitAssert", {}, {}, True),
    "package": ("affidavitEvidencePackage", {"flow": "demo"}, {}, False),
    "package-all": ("affidavitEvidencePackage", {
        "flow": "demo", "trail": "t1", "out": "out/evidence 1.zip", "ledger": "sqlite:///x.db",
        "credentialsId": "tok", "args": "--output json"}, {}, False),
    "package-fails": ("affidavitEvidencePackage", {"flow": "demo"}, {}, True),
    "snapshot-path": ("affidavitSnapshot", {
        "source": "path", "environment": "production", "environmentType": "server",
        "name": "shop", "path": "dist/shop 1.tar.gz", "exclude": ["cache", "*.tmp"],
        "assert": True, "ledger": "https://ledger.example/x", "credentialsId": "affidavit-token",
        "args": "--exclude 'two words'"}, {}, False),
    "snapshot-k8s": ("affidavitSnapshot", {
        "source": "k8s", "environment": "prod k8s", "namespace": "shop",
        "excludeNamespace": ["kube-system", "monitoring"], "kubeconfig": "kube/config",
        "context": "blue", "dryRun": True, "summary": "out/k8s.md",
        "args": ["--context", "green"]}, {}, False),
    "snapshot-s3": ("affidavitSnapshot", {
        "source": "s3", "environment": "site", "bucket": "www", "prefix": "public/",
        "include": r"\.html$", "exclude": "^tmp/.{1,3}$"}, {}, False),
    "snapshot-cloud-run": ("affidavitSnapshot", {
        "source": "cloud-run", "environment": "run", "project": "acme", "region": "europe-west1",
        "baseUrl": "http://127.0.0.1:9", "accessTokenCredentialsId": "gcp-token"}, {}, False),
    "snapshot-ecs": ("affidavitSnapshot", {
        "source": "ecs", "environment": "ecs", "cluster": ["prod", "prod-eu"],
        "serviceNames": "web"}, {}, False),
    "snapshot-lambda": ("affidavitSnapshot", {
        "source": "lambda", "environment": "fn", "functionNames": ["resize", "notify"]}, {}, False),
    "snapshot-docker": ("affidavitSnapshot", {
        "source": "docker", "environment": "box", "dockerHost": "tcp://docker:2376"}, {}, False),
    "snapshot-json": ("affidavitSnapshot", {
        "source": "json", "environment": "edge", "file": "running.json"}, {}, False),
    "snapshot-paths": ("affidavitSnapshot", {
        "source": "paths", "environment": "hosts", "pathsFile": "paths.yml"}, {}, False),
    "snapshot-fails": ("affidavitSnapshot", {
        "source": "path", "environment": "production", "name": "shop", "path": "shop",
        "assert": True}, {}, True),
    "setup": ("affidavitSetup", {}, {"WORKSPACE": "/ws"}, False),
    "setup-release": ("affidavitSetup", {
        "version": "0.2.0", "repository": "https://git.example/affidavit.git"},
        {"WORKSPACE": "/ws"}, False),
    "setup-package": ("affidavitSetup", {
        "package": "/src/affidavit-0.1.0-py3-none-any.whl", "venv": "/opt/aff",
        "cacheDir": "/cache/pip", "python": "python3.12"}, {}, False),
}

#: id -> (step, args, the exact error message)
ERRORS: dict[str, tuple[str, dict[str, Any], str]] = {
    "no-type": ("affidavitAttest", {"name": "unit"},
                "affidavitAttest: 'type' is required (junit, sarif, snyk, vulns, sbom, coverage, "
                "jira, sonar, pullrequest, generic, artifact, custom, approval, decision)"),
    "bad-type": ("affidavitAttest", {"type": "junit; rm -rf /"},
                 "affidavitAttest: 'type' must be an attest noun such as junit, not "
                 "'junit; rm -rf /'"),
    "unknown-key": ("affidavitAttest", {"type": "junit", "result": "x"},
                    "affidavitAttest: unknown argument 'result' (known: type, flow, trail, name, "
                    "artifact, artifactType, fingerprint, results, resultsDir, failOn, "
                    "minLines, minBranches, jiraBaseUrl, sonarUrl, customType, provider, "
                    "repository, pr, baseUrl, requireApprovals, "
                    "allowStaleApprovals, maxWait, attachments, annotate, assert, dryRun, "
                    "ledger, credentialsId, providerCredentialsId, summary, args)"),
    "pr-no-provider": ("affidavitAttest", {"type": "pullrequest", "name": "pr"},
                       "affidavitAttest: type 'pullrequest' needs 'provider': github, gitlab, "
                       "bitbucket or azure"),
    "pr-bad-provider": ("affidavitAttest", {"type": "pullrequest", "provider": "gitea"},
                        "affidavitAttest: type 'pullrequest' needs 'provider': github, gitlab, "
                        "bitbucket or azure, not 'gitea'"),
    "pr-option-wrong-type": ("affidavitAttest", {"type": "junit", "repository": "acme/shop"},
                             "affidavitAttest: 'repository' only goes with type 'pullrequest'"),
    "pr-token-wrong-type": ("affidavitAttest", {"type": "sarif", "providerCredentialsId": "t"},
                            "affidavitAttest: 'providerCredentialsId' only goes with type "
                            "'pullrequest'"),
    "pr-number": ("affidavitAttest", {"type": "pullrequest", "provider": "github", "pr": "#42"},
                  "affidavitAttest: 'pr' must be a whole number, not '#42'"),
    "pr-approvals": ("affidavitAttest", {"type": "pullrequest", "provider": "github",
                                         "requireApprovals": "two"},
                     "affidavitAttest: 'requireApprovals' must be a whole number, not 'two'"),
    "pr-max-wait": ("affidavitAttest", {"type": "pullrequest", "provider": "github",
                                        "maxWait": "soon"},
                    "affidavitAttest: 'maxWait' must be a number of seconds, not 'soon'"),
    "pr-stale-string": ("affidavitAttest", {"type": "pullrequest", "provider": "github",
                                            "allowStaleApprovals": "yes"},
                        "affidavitAttest: 'allowStaleApprovals' must be true or false, not "
                        "'yes'"),
    "empty-flow": ("affidavitAttest", {"type": "junit", "flow": " "},
                   "affidavitAttest: 'flow' is empty"),
    "artifact-wrong-type": ("affidavitAttest", {"type": "junit", "artifact": "a"},
                            "affidavitAttest: 'artifact' is the path for type 'artifact'; use "
                            "'fingerprint' to bind a junit attestation to an artifact"),
    "results-twice": ("affidavitAttest", {"type": "junit", "results": "f", "resultsDir": "d"},
                      "affidavitAttest: give 'results' (files or globs) or 'resultsDir' (a "
                      "directory), not both"),
    "assert-string": ("affidavitAttest", {"type": "junit", "assert": "yes"},
                      "affidavitAttest: 'assert' must be true or false, not 'yes'"),
    "args-map": ("affidavitAttest", {"type": "junit", "args": {"max": 1}},
                 "affidavitAttest: 'args' must be a String (split like a shell would) or a List "
                 "of strings, one per argument"),
    "args-number": ("affidavitAttest", {"type": "junit", "args": ["--max-failures", 2]},
                    "affidavitAttest: 'args' must hold strings, not 2"),
    "comma-item": ("affidavitAttest", {"type": "sarif", "results": ["a,b.sarif"]},
                   "affidavitAttest: 'results' item 'a,b.sarif' contains a comma; pass it "
                   "through args"),
    "empty-list": ("affidavitAttest", {"type": "sarif", "attachments": []},
                   "affidavitAttest: 'attachments' is an empty list"),
    "begin-unknown": ("affidavitBeginTrail", {"name": "t1"},
                      "affidavitBeginTrail: unknown argument 'name' (known: flow, trail, "
                      "description, templateFile, createFlow, flowTemplateFile, flowDescription, "
                      "dryRun, ledger, credentialsId, summary, args)"),
    "begin-create-string": ("affidavitBeginTrail", {"createFlow": "yes"},
                            "affidavitBeginTrail: 'createFlow' must be true or false, not 'yes'"),
    "assert-subject": ("affidavitAssert", {"subject": "flow"},
                       "affidavitAssert: 'subject' must be trail, artifact or attestation, not "
                       "'flow'"),
    "assert-what": ("affidavitAssert", {"what": "trail"},
                    "affidavitAssert: unknown argument 'what' (known: subject, flow, trail, "
                    "artifact, artifactType, name, ledger, credentialsId, summary, args)"),
    "assert-no-artifact": ("affidavitAssert", {"subject": "artifact"},
                           "affidavitAssert: 'artifact' is required with subject: 'artifact'"),
    "assert-no-name": ("affidavitAssert", {"subject": "attestation"},
                       "affidavitAssert: 'name' is required with subject: 'attestation'"),
    "assert-stray-name": ("affidavitAssert", {"name": "unit"},
                          "affidavitAssert: 'name' only goes with subject: 'attestation'"),
    "package-unknown": ("affidavitEvidencePackage", {"output": "x.zip"},
                        "affidavitEvidencePackage: unknown argument 'output' (known: flow, "
                        "trail, fingerprint, out, ledger, credentialsId, args)"),
    "snapshot-no-source": ("affidavitSnapshot", {"environment": "production"},
                           "affidavitSnapshot: 'source' is required (path, paths, json, k8s, "
                           "docker, ecs, lambda, s3, cloud-run)"),
    "snapshot-bad-source": ("affidavitSnapshot", {"source": "nomad", "environment": "p"},
                            "affidavitSnapshot: 'source' must be one of path, paths, json, k8s, "
                            "docker, ecs, lambda, s3, cloud-run, not 'nomad'"),
    "snapshot-no-environment": ("affidavitSnapshot", {"source": "path"},
                                "affidavitSnapshot: 'environment' is required"),
    "snapshot-bad-type": ("affidavitSnapshot", {"source": "path", "environment": "p",
                                                "environmentType": "logical"},
                          "affidavitSnapshot: 'environmentType' must be server, k8s, ecs, lambda, "
                          "s3, docker, cloud-run, not 'logical'"),
    "snapshot-other-source": ("affidavitSnapshot", {"source": "path", "environment": "p",
                                                    "namespace": "shop"},
                              "affidavitSnapshot: 'namespace' is for source k8s, not 'path'"),
    "snapshot-exclude-k8s": ("affidavitSnapshot", {"source": "k8s", "environment": "p",
                                                   "exclude": "x"},
                             "affidavitSnapshot: 'exclude' is for source path or s3, not 'k8s'"),
    "snapshot-token-wrong-source": ("affidavitSnapshot", {
        "source": "docker", "environment": "p", "accessTokenCredentialsId": "gcp"},
        "affidavitSnapshot: 'accessTokenCredentialsId' is for source cloud-run, not 'docker'"),
    "snapshot-assert-string": ("affidavitSnapshot", {"source": "path", "environment": "p",
                                                     "assert": "yes"},
                               "affidavitSnapshot: 'assert' must be true or false, not 'yes'"),
    # checked before the environment is created, not between the step's commands
    "snapshot-comma": ("affidavitSnapshot", {"source": "path", "environment": "p",
                                             "environmentType": "server", "exclude": ["a,b"]},
                       "affidavitSnapshot: 'exclude' item 'a,b' contains a comma; pass it through "
                       "args"),
    "snapshot-unknown": ("affidavitSnapshot", {"source": "path", "environment": "p",
                                               "type": "server"},
                         "affidavitSnapshot: unknown argument 'type' (known: source, environment, "
                         "environmentType, name, path, exclude, pathsFile, file, namespace, "
                         "excludeNamespace, kubeconfig, context, dockerHost, cluster, "
                         "serviceNames, functionNames, bucket, prefix, include, project, region, "
                         "baseUrl, accessTokenCredentialsId, assert, dryRun, ledger, "
                         "credentialsId, summary, args)"),
    "setup-both": ("affidavitSetup", {"version": "0.1.0", "package": "."},
                   "affidavitSetup: give 'package', or 'version'/'repository', not both"),
    "setup-version": ("affidavitSetup", {"version": "1.0 --index-url http://evil"},
                      "affidavitSetup: 'version' must be a version number such as 0.1.0, not "
                      "'1.0 --index-url http://evil'"),
    "setup-unknown": ("affidavitSetup", {"pip": "x"},
                      "affidavitSetup: unknown argument 'pip' (known: version, repository, "
                      "package, venv, cacheDir, python)"),
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every scenario (and error case) through one groovy run: id -> calls, error, result, env."""
    if GROOVY is None:
        pytest.skip(NO_GROOVY)
    cases = [{"id": key, "step": step, "args": args, "env": env, "shFails": fails}
             for key, (step, args, env, fails) in SCENARIOS.items()]
    cases += [{"id": key, "step": step, "args": args, "env": {}, "shFails": False}
              for key, (step, args, _) in ERRORS.items()]
    cases += [{"id": f"jenkinsfile-{key}", "jenkinsfile": str(path), "shFails": False,
               "env": {"WORKSPACE": "/ws", "BUILD_NUMBER": "7", "GIT_COMMIT": "c0ffee" * 6 + "abcd",
                       "BUILD_URL": "https://jenkins.example/job/app/7/"}}
              for key, path in JENKINSFILES.items() if path.is_file()]
    return _harness(cases, tmp_path_factory.mktemp("jenkins"))


def _harness(cases: list[dict[str, Any]], folder: Path,
             env: dict[str, str] | None = None) -> dict[str, Any]:
    """One groovy run of ``cases`` (written to ``folder``); ``env`` is the agent's environment
    (default: this process's), which a scenario with ``run`` hands to its real ``sh``."""
    assert GROOVY, NO_GROOVY
    path = folder / "scenarios.json"
    path.write_text(json.dumps(cases), encoding="utf-8")
    env = dict(os.environ if env is None else env)
    if not env.get("JAVA_HOME"):
        java = shutil.which("java")
        if java:
            env["JAVA_HOME"] = str(Path(os.path.realpath(java)).parents[1])
    proc = subprocess.run([GROOVY, str(HARNESS), str(LIBRARY), str(path)], env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def _calls(recorded: dict[str, Any], key: str, step: str | None = None) -> list[dict[str, Any]]:
    assert recorded[key]["error"] is None or SCENARIOS[key][3], recorded[key]["error"]
    return [c for c in recorded[key]["calls"] if step is None or c["step"] == step]


def _sh(recorded: dict[str, Any], key: str) -> dict[str, Any]:
    (sh,) = _calls(recorded, key, "sh")
    return sh


def _argv(count: int, *words: str) -> list[str]:
    assert len(words) == count
    return [f"AFFIDAVIT_JENKINS_ARGC={count}"] + [
        f"AFFIDAVIT_JENKINS_ARG_{i}={w}" for i, w in enumerate(words)]


# --- mapping --------------------------------------------------------------------------------------


def test_attest_junit_maps_to_env_and_archives_the_summary(recorded: dict[str, Any]) -> None:
    assert [c["step"] for c in _calls(recorded, "attest-junit")] == [
        "withEnv", "sh", "archiveArtifacts"]
    sh = _sh(recorded, "attest-junit")
    assert sh["env"] == [
        "AFFIDAVIT_OUTPUT=markdown",
        "AFFIDAVIT_NAME=unit",
        "AFFIDAVIT_RESULTS_DIR=build/test-results",
        *_argv(2, "attest", "junit"),
        "AFFIDAVIT_JENKINS_SUMMARY=affidavit-attest-junit-unit.md",
    ]
    assert sh["label"] == "affidavit attest junit"
    assert sh["credentials"] == []
    assert _calls(recorded, "attest-junit", "archiveArtifacts") == [
        {"step": "archiveArtifacts", "artifacts": "affidavit-attest-junit-unit.md",
         "allowEmptyArchive": True}]


def test_attest_maps_every_option(recorded: dict[str, Any]) -> None:
    sh = _sh(recorded, "attest-sarif-all")
    assert sh["env"] == [
        "AFFIDAVIT_OUTPUT=markdown",
        "AFFIDAVIT_FLOW=demo",
        "AFFIDAVIT_TRAIL=t1",
        "AFFIDAVIT_NAME=scan",
        "AFFIDAVIT_FINGERPRINT=" + "ab" * 32,
        "AFFIDAVIT_RESULTS=a.sarif,b dir/c.sarif",
        "AFFIDAVIT_SCAN_RESULTS=a.sarif,b dir/c.sarif",
        "AFFIDAVIT_SBOM_FILE=a.sarif,b dir/c.sarif",
        "AFFIDAVIT_REPORT=a.sarif,b dir/c.sarif",
        "AFFIDAVIT_FAIL_ON=medium",
        "AFFIDAVIT_ATTACHMENTS=report.html",
        "AFFIDAVIT_ANNOTATE=team=core,ticket=OPS 1",
        "AFFIDAVIT_ASSERT=false",
        "AFFIDAVIT_DRY_RUN=true",
        "AFFIDAVIT_LEDGER=https://ledger.example/x",
        *_argv(5, "attest", "sarif", "--max-findings", "3", "--new-only"),
        "AFFIDAVIT_JENKINS_SUMMARY=out/scan.md",
    ]
    assert _calls(recorded, "attest-sarif-all", "archiveArtifacts")[0]["artifacts"] == "out/scan.md"


def test_attest_maps_the_evidence_types_options(recorded: dict[str, Any]) -> None:
    """coverage, jira and sonar take their report and their own options by the same
    AFFIDAVIT_* variables; the CLI ignores the variables a command has no flag for."""
    assert _sh(recorded, "attest-coverage")["env"] == [
        "AFFIDAVIT_OUTPUT=markdown",
        "AFFIDAVIT_NAME=cov",
        "AFFIDAVIT_RESULTS=build/lcov.info",
        "AFFIDAVIT_SCAN_RESULTS=build/lcov.info",
        "AFFIDAVIT_SBOM_FILE=build/lcov.info",
        "AFFIDAVIT_REPORT=build/lcov.info",
        "AFFIDAVIT_MIN_LINES=80",
        "AFFIDAVIT_MIN_BRANCHES=62.5",
        *_argv(2, "attest", "coverage"),
        "AFFIDAVIT_JENKINS_SUMMARY=affidavit-attest-coverage-cov.md",
    ]
    assert "AFFIDAVIT_JIRA_BASE_URL=https://acme.atlassian.net" in _sh(
        recorded, "attest-jira")["env"]
    assert "AFFIDAVIT_SONAR_URL=https://sonar.example" in _sh(recorded, "attest-sonar")["env"]


def test_attest_result_files_args_string_and_artifact_path(recorded: dict[str, Any]) -> None:
    env = _sh(recorded, "attest-junit-files")["env"]
    assert "AFFIDAVIT_RESULTS=a.xml,reports/*.xml" in env
    # a String `args` is the core's to split, as the GitHub and GitLab `args` are
    assert env[-5:-1] == [*_argv(2, "attest", "junit"),
                          "AFFIDAVIT_ARGS=--max-failures 1 --annotate 'note=two words'"]
    env = _sh(recorded, "attest-artifact")["env"]
    assert "AFFIDAVIT_ARTIFACT_TYPE=dir" in env
    assert env[-5:] == [*_argv(3, "attest", "artifact", "dist/app 1"),
                        "AFFIDAVIT_JENKINS_SUMMARY=affidavit-attest-artifact-app.md"]
    assert "AFFIDAVIT_TYPE=coverage" in _sh(recorded, "attest-custom")["env"]


def test_credentials_wrap_the_command(recorded: dict[str, Any]) -> None:
    binding = {"type": "string", "credentialsId": "affidavit-token",
               "variable": "AFFIDAVIT_API_TOKEN"}
    calls = _calls(recorded, "attest-sarif-all")
    assert [c["step"] for c in calls] == ["withCredentials", "withEnv", "sh", "archiveArtifacts"]
    assert calls[0]["bindings"] == [binding]
    assert calls[2]["credentials"] == [binding]
    assert _sh(recorded, "begin-e2e")["credentials"][0]["credentialsId"] == "tok"
    assert not any("API_TOKEN" in e for e in _sh(recorded, "attest-sarif-all")["env"])


def test_attest_pullrequest_maps_to_env_and_the_provider_word(recorded: dict[str, Any]) -> None:
    sh = _sh(recorded, "attest-pullrequest")
    assert sh["env"] == [
        "AFFIDAVIT_OUTPUT=markdown",
        "AFFIDAVIT_NAME=pr",
        "AFFIDAVIT_REPOSITORY=acme/shop",
        *_argv(3, "attest", "pullrequest", "github"),
        "AFFIDAVIT_JENKINS_SUMMARY=affidavit-attest-pullrequest-pr.md",
    ]
    assert sh["label"] == "affidavit attest pullrequest"
    assert sh["credentials"] == []
    assert _sh(recorded, "attest-pullrequest-all")["env"] == [
        "AFFIDAVIT_OUTPUT=markdown",
        "AFFIDAVIT_FLOW=demo",
        "AFFIDAVIT_TRAIL=t1",
        "AFFIDAVIT_NAME=mr",
        "AFFIDAVIT_REPOSITORY=acme/shop",
        "AFFIDAVIT_PR=7",
        "AFFIDAVIT_BASE_URL=https://gitlab.example.com",
        "AFFIDAVIT_REQUIRE_APPROVALS=2",
        "AFFIDAVIT_ALLOW_STALE_APPROVALS=true",
        "AFFIDAVIT_MAX_WAIT=0",
        *_argv(3, "attest", "pullrequest", "gitlab"),
        "AFFIDAVIT_JENKINS_SUMMARY=affidavit-attest-pullrequest-mr.md",
    ]


def test_the_provider_credential_wraps_the_command_as_the_cli_token(
        recorded: dict[str, Any]) -> None:
    """providerCredentialsId is bound as AFFIDAVIT_TOKEN (the CLI's --token), around the
    ledger's own credential; neither secret is ever a withEnv entry."""
    provider = {"type": "string", "credentialsId": "gitlab-token", "variable": "AFFIDAVIT_TOKEN"}
    ledger = {"type": "string", "credentialsId": "affidavit-token",
              "variable": "AFFIDAVIT_API_TOKEN"}
    calls = _calls(recorded, "attest-pullrequest-all")
    assert [c["step"] for c in calls] == [
        "withCredentials", "withCredentials", "withEnv", "sh", "archiveArtifacts"]
    assert (calls[0]["bindings"], calls[1]["bindings"]) == ([provider], [ledger])
    assert calls[3]["credentials"] == [provider, ledger]
    assert not any("TOKEN" in e for e in calls[3]["env"])


def test_every_step_runs_one_fixed_script(recorded: dict[str, Any]) -> None:
    scripts = {sh["script"] for key, (step, *_) in SCENARIOS.items() if step != "affidavitSetup"
               for sh in _calls(recorded, key, "sh")}
    assert len(scripts) == 1
    (script,) = scripts
    # Only variables are referenced; the loop counter is the one thing eval ever expands.
    assert 'eval "set -- \\"\\$@\\" \\"\\$AFFIDAVIT_JENKINS_ARG_$i\\""' in script
    assert "demo" not in script and "junit" not in script


def test_begin_trail(recorded: dict[str, Any]) -> None:
    summary = "AFFIDAVIT_JENKINS_SUMMARY=affidavit-trail.md"
    assert _sh(recorded, "begin")["env"] == [
        "AFFIDAVIT_OUTPUT=markdown", "AFFIDAVIT_FLOW=demo", *_argv(2, "begin", "trail"), summary]
    assert _sh(recorded, "begin-e2e")["env"] == [
        "AFFIDAVIT_OUTPUT=markdown", "AFFIDAVIT_FLOW=demo", "AFFIDAVIT_DESCRIPTION=build 7",
        f"AFFIDAVIT_FLOW_TEMPLATE_FILE={FIXTURES / 'flow.yml'}", *_argv(2, "begin", "trail"),
        summary]
    assert _sh(recorded, "begin-create")["env"] == [
        "AFFIDAVIT_OUTPUT=markdown", "AFFIDAVIT_FLOW=demo", "AFFIDAVIT_CREATE_FLOW=true",
        "AFFIDAVIT_FLOW_DESCRIPTION=Demo", *_argv(2, "begin", "trail"), summary]
    assert _sh(recorded, "begin-named")["env"] == [
        "AFFIDAVIT_OUTPUT=markdown", "AFFIDAVIT_FLOW=demo", *_argv(3, "begin", "trail", "t 1"),
        summary]
    assert _calls(recorded, "begin", "archiveArtifacts") == [
        {"step": "archiveArtifacts", "artifacts": "affidavit-trail.md", "allowEmptyArchive": True}]


def test_assert_subjects(recorded: dict[str, Any]) -> None:
    assert _sh(recorded, "assert-trail")["env"] == [
        "AFFIDAVIT_OUTPUT=markdown", "AFFIDAVIT_FLOW=demo", *_argv(2, "assert", "trail"),
        "AFFIDAVIT_JENKINS_SUMMARY=affidavit-assert-trail.md"]
    assert _sh(recorded, "assert-artifact")["env"] == [
        "AFFIDAVIT_OUTPUT=markdown", "AFFIDAVIT_ARTIFACT_TYPE=dir",
        *_argv(3, "assert", "artifact", "dist"),
        "AFFIDAVIT_JENKINS_SUMMARY=affidavit-assert-artifact.md"]
    assert _sh(recorded, "assert-attestation")["env"] == [
        "AFFIDAVIT_OUTPUT=markdown", "AFFIDAVIT_FLOW=demo", "AFFIDAVIT_TRAIL=t1",
        *_argv(3, "assert", "attestation", "unit"),
        "AFFIDAVIT_JENKINS_SUMMARY=affidavit-assert-attestation.md"]


#: The ledger's credential, as affidavitAttest's and every other step's credentialsId binds it.
API_TOKEN_BINDING = {"type": "string", "credentialsId": "affidavit-token",
                     "variable": "AFFIDAVIT_API_TOKEN"}


def test_snapshot_creates_records_and_asserts_in_three_commands(recorded: dict[str, Any]) -> None:
    """environmentType: `create environment ENV` first (AFFIDAVIT_TYPE, no summary); then
    `snapshot path ENV` with the source's options and `args`; with assert, `assert snapshot ENV`
    (markdown, archived); each under the ledger's credential, `args` the snapshot's alone."""
    calls = _calls(recorded, "snapshot-path")
    assert [c["step"] for c in calls] == [
        "withCredentials", "withEnv", "sh",
        "withCredentials", "withEnv", "sh", "archiveArtifacts",
        "withCredentials", "withEnv", "sh", "archiveArtifacts"]
    create, snapshot, gate = _calls(recorded, "snapshot-path", "sh")
    ledger = "AFFIDAVIT_LEDGER=https://ledger.example/x"
    assert create["env"] == ["AFFIDAVIT_OUTPUT=table", "AFFIDAVIT_TYPE=server", ledger,
                             *_argv(3, "create", "environment", "production")]
    assert snapshot["env"] == [
        "AFFIDAVIT_OUTPUT=table", "AFFIDAVIT_NAME=shop", "AFFIDAVIT_PATH=dist/shop 1.tar.gz",
        "AFFIDAVIT_EXCLUDE=cache,*.tmp", ledger, *_argv(3, "snapshot", "path", "production"),
        "AFFIDAVIT_ARGS=--exclude 'two words'",
        "AFFIDAVIT_JENKINS_SUMMARY=affidavit-snapshot-production.md"]
    assert gate["env"] == [
        "AFFIDAVIT_OUTPUT=markdown", ledger, *_argv(3, "assert", "snapshot", "production"),
        "AFFIDAVIT_JENKINS_SUMMARY=affidavit-assert-snapshot-production.md"]
    assert [c["label"] for c in (create, snapshot, gate)] == [
        "affidavit create environment", "affidavit snapshot path", "affidavit assert snapshot"]
    assert all(c["credentials"] == [API_TOKEN_BINDING] for c in (create, snapshot, gate))
    assert [c["artifacts"] for c in calls if c["step"] == "archiveArtifacts"] == [
        "affidavit-snapshot-production.md", "affidavit-assert-snapshot-production.md"]


def test_snapshot_maps_every_source_to_its_flags(recorded: dict[str, Any]) -> None:
    """One command without environmentType and assert; List options joined with commas, s3's
    `exclude` a regular expression kept whole, List `args` one argument each."""
    def env(key: str) -> list[str]:
        (sh,) = _calls(recorded, key, "sh")
        return list(sh["env"])

    assert env("snapshot-k8s") == [
        "AFFIDAVIT_OUTPUT=table", "AFFIDAVIT_NAMESPACE=shop",
        "AFFIDAVIT_EXCLUDE_NAMESPACE=kube-system,monitoring", "AFFIDAVIT_KUBECONFIG=kube/config",
        "AFFIDAVIT_CONTEXT=blue", "AFFIDAVIT_DRY_RUN=true",
        *_argv(5, "snapshot", "k8s", "prod k8s", "--context", "green"),
        "AFFIDAVIT_JENKINS_SUMMARY=out/k8s.md"]
    assert env("snapshot-s3") == [
        "AFFIDAVIT_OUTPUT=table", "AFFIDAVIT_EXCLUDE=^tmp/.{1,3}$", "AFFIDAVIT_BUCKET=www",
        "AFFIDAVIT_PREFIX=public/", r"AFFIDAVIT_INCLUDE=\.html$",
        *_argv(3, "snapshot", "s3", "site"), "AFFIDAVIT_JENKINS_SUMMARY=affidavit-snapshot-site.md"]
    assert env("snapshot-ecs")[1:3] == ["AFFIDAVIT_CLUSTER=prod,prod-eu",
                                        "AFFIDAVIT_SERVICE_NAMES=web"]
    assert env("snapshot-lambda")[1] == "AFFIDAVIT_FUNCTION_NAMES=resize,notify"
    assert env("snapshot-docker")[1] == "AFFIDAVIT_DOCKER_HOST=tcp://docker:2376"
    assert env("snapshot-json")[1] == "AFFIDAVIT_FILE=running.json"
    assert env("snapshot-paths")[1] == "AFFIDAVIT_PATHS_FILE=paths.yml"
    # the environment's name, file-name safe, names the report
    assert env("snapshot-k8s")[-1] == "AFFIDAVIT_JENKINS_SUMMARY=out/k8s.md"
    assert _calls(recorded, "snapshot-k8s", "archiveArtifacts")[0]["artifacts"] == "out/k8s.md"


def test_snapshot_binds_the_cloud_run_token_for_the_snapshot_only(
        recorded: dict[str, Any]) -> None:
    gcp = {"type": "string", "credentialsId": "gcp-token", "variable": "AFFIDAVIT_ACCESS_TOKEN"}
    calls = _calls(recorded, "snapshot-cloud-run")
    assert [c["step"] for c in calls] == ["withCredentials", "withEnv", "sh", "archiveArtifacts"]
    assert calls[0]["bindings"] == [gcp]
    assert calls[2]["credentials"] == [gcp]
    assert calls[2]["env"] == [
        "AFFIDAVIT_OUTPUT=table", "AFFIDAVIT_PROJECT=acme", "AFFIDAVIT_REGION=europe-west1",
        "AFFIDAVIT_BASE_URL=http://127.0.0.1:9", *_argv(3, "snapshot", "cloud-run", "run"),
        "AFFIDAVIT_JENKINS_SUMMARY=affidavit-snapshot-run.md"]


def test_a_failing_snapshot_fails_the_step_archives_and_does_not_assert(
        recorded: dict[str, Any]) -> None:
    assert recorded["snapshot-fails"]["error"] == "script returned exit code 1"
    assert [c["step"] for c in recorded["snapshot-fails"]["calls"]] == [
        "withEnv", "sh", "archiveArtifacts"]


def test_evidence_package_runs_once_and_archives_the_zip(recorded: dict[str, Any]) -> None:
    assert [c["step"] for c in _calls(recorded, "package")] == [
        "withEnv", "sh", "archiveArtifacts"]
    assert _sh(recorded, "package")["env"] == [
        "AFFIDAVIT_FLOW=demo", "AFFIDAVIT_OUT=affidavit-evidence.zip",
        *_argv(2, "evidence", "package")]
    assert _calls(recorded, "package", "archiveArtifacts") == [
        {"step": "archiveArtifacts", "artifacts": "affidavit-evidence.zip", "fingerprint": True}]
    assert _sh(recorded, "package-all")["env"] == [
        "AFFIDAVIT_FLOW=demo", "AFFIDAVIT_TRAIL=t1", "AFFIDAVIT_OUT=out/evidence 1.zip",
        "AFFIDAVIT_LEDGER=sqlite:///x.db", *_argv(2, "evidence", "package"),
        "AFFIDAVIT_ARGS=--output json"]
    assert _sh(recorded, "package-all")["credentials"][0]["credentialsId"] == "tok"
    # nothing to archive when the package was not written
    assert recorded["package-fails"]["error"] == "script returned exit code 1"
    assert [c["step"] for c in recorded["package-fails"]["calls"]] == ["withEnv", "sh"]


@pytest.mark.parametrize("key", ["attest-fails", "assert-fails"])
def test_a_failing_command_fails_the_step_and_still_archives(
        recorded: dict[str, Any], key: str) -> None:
    assert recorded[key]["error"] == "script returned exit code 1"
    assert [c["step"] for c in recorded[key]["calls"]][-2:] == ["sh", "archiveArtifacts"]


def test_setup(recorded: dict[str, Any]) -> None:
    """By default the core of this library's own release, from the project's git repository."""
    sh = _sh(recorded, "setup")
    assert sh["env"] == ["AFFIDAVIT_JENKINS_PYTHON=python3",
                         "AFFIDAVIT_JENKINS_VENV=/ws/.affidavit-venv",
                         "AFFIDAVIT_JENKINS_REQUIREMENT=git+https://github.com/affidavit-dev/"
                         f"affidavit.git@v{VERSION}",
                         "PIP_CACHE_DIR=/ws/.affidavit-pip"]
    assert recorded["setup"]["result"] == "/ws/.affidavit-venv/bin/affidavit"
    assert recorded["setup"]["env"]["AFFIDAVIT_JENKINS_BIN"] == "/ws/.affidavit-venv/bin/affidavit"
    assert "AFFIDAVIT_JENKINS_REQUIREMENT=git+https://git.example/affidavit.git@v0.2.0" in _sh(
        recorded, "setup-release")["env"]
    assert _sh(recorded, "setup-package")["env"] == [
        "AFFIDAVIT_JENKINS_PYTHON=python3.12", "AFFIDAVIT_JENKINS_VENV=/opt/aff",
        "AFFIDAVIT_JENKINS_REQUIREMENT=/src/affidavit-0.1.0-py3-none-any.whl",
        "PIP_CACHE_DIR=/cache/pip"]
    assert "$AFFIDAVIT_JENKINS_REQUIREMENT" in sh["script"] and "0.1.0" not in sh["script"]


def test_release_constant_is_the_projects_version() -> None:
    release = (LIBRARY / "src/affidavit/jenkins/Release.groovy").read_text()
    assert f"static final String VERSION = '{VERSION}'" in release


@pytest.mark.parametrize("key", sorted(ERRORS))
def test_argument_errors(recorded: dict[str, Any], key: str) -> None:
    assert recorded[key]["error"] == ERRORS[key][2]
    steps = [c["step"] for c in recorded[key]["calls"]]
    assert steps == ["error"], "guard clauses come before any step runs"


# --- hostile values -------------------------------------------------------------------------------


def test_hostile_values_are_literal_env_entries(recorded: dict[str, Any]) -> None:
    sh = _sh(recorded, "attest-hostile")
    env = sh["env"]
    assert f"AFFIDAVIT_FLOW={HOSTILE['flow']}" in env
    assert f"AFFIDAVIT_TRAIL={HOSTILE['trail']}" in env
    assert f"AFFIDAVIT_NAME={HOSTILE['name']}" in env
    assert env[-6:-1] == _argv(4, "attest", "generic", *HOSTILE_ARGS)
    assert not any(part in sh["script"] for part in PWNED)
    # The summary file name is derived from the name but keeps only file-name-safe characters.
    assert env[-1] == "AFFIDAVIT_JENKINS_SUMMARY=affidavit-attest-generic-" + re.sub(
        r"[^A-Za-z0-9._-]", "_", HOSTILE["name"]) + ".md"


def _run_sh(call: dict[str, Any], shell: str, cwd: Path, extra: dict[str, str]
            ) -> subprocess.CompletedProcess[str]:
    """Run a recorded sh step the way Jenkins does: the script in a file, `sh -xe file`."""
    script = cwd / "jenkins-step.sh"
    script.write_text(call["script"], encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_JENKINS_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    for entry in call["env"]:
        name, _, value = entry.partition("=")
        env[name] = value
    return subprocess.run([shell, "-xe", str(script)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


SHELLS = [s for s in ("bash", "dash") if shutil.which(s)]

STUB = """\
import json, os, sys
with open(os.environ["STUB_OUT"], "w") as out:
    json.dump({"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items()
                                              if k.startswith("AFFIDAVIT_")}}, out)
print("### stub summary")
"""


@pytest.mark.parametrize("shell", SHELLS)
def test_hostile_values_reach_the_cli_verbatim(
        recorded: dict[str, Any], tmp_path: Path, shell: str) -> None:
    stub = tmp_path / "affidavit-stub"
    stub.write_text(f"#!{sys.executable}\n{STUB}", encoding="utf-8")
    stub.chmod(0o755)
    result = _run_sh(_sh(recorded, "attest-hostile"), shell, tmp_path, {
        "AFFIDAVIT_JENKINS_BIN": str(stub), "STUB_OUT": str(tmp_path / "seen.json")})
    assert result.returncode == 0, result.stderr
    seen = json.loads((tmp_path / "seen.json").read_text(encoding="utf-8"))
    assert seen["argv"] == ["attest", "generic", *HOSTILE_ARGS]
    assert seen["env"]["AFFIDAVIT_FLOW"] == HOSTILE["flow"]
    assert seen["env"]["AFFIDAVIT_TRAIL"] == HOSTILE["trail"]
    assert seen["env"]["AFFIDAVIT_NAME"] == HOSTILE["name"]
    assert not [p for p in PWNED if (tmp_path / p).exists()]
    assert "### stub summary" in result.stdout
    summary = seen["env"]["AFFIDAVIT_JENKINS_SUMMARY"]
    assert (tmp_path / summary).read_text(encoding="utf-8") == "### stub summary\n"


def _jenkins_checkout(folder: Path, build_url: str) -> tuple[str, dict[str, str]]:
    """A git checkout with one commit, and the variables Jenkins would set for its build."""
    git = ["git", "-c", "user.name=Jenkins", "-c", "user.email=jenkins@example.com"]
    subprocess.run([*git, "init", "-q", "."], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "build me"], cwd=folder,
                   check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, check=True,
                            capture_output=True, text=True).stdout.strip()
    return commit, {"JENKINS_URL": "https://jenkins.example/", "GIT_COMMIT": commit,
                    "BUILD_URL": build_url}


# --- end to end with the real CLI -----------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_pipeline_records_into_the_ledger(
        recorded: dict[str, Any], tmp_path: Path, shell: str) -> None:
    """begin trail, attest junit, assert trail, as a Jenkins build of a git checkout runs them:
    the steps pass no trail, commit or build URL; the CLI takes them from Jenkins' variables."""
    cli = str(VENV_BIN / "affidavit")
    commit, jenkins = _jenkins_checkout(tmp_path, "https://jenkins.example/job/app/7/")
    jenkins["AFFIDAVIT_API_TOKEN"] = "secret"
    for key in ("begin-e2e", "attest-junit-e2e", "assert-trail"):  # begin-e2e creates the flow
        result = _run_sh(_sh(recorded, key), shell, tmp_path, jenkins)
        assert result.returncode == 0, (key, result.stdout, result.stderr)
    summary = (tmp_path / "affidavit-attest-junit-unit.md").read_text(encoding="utf-8")
    assert summary.startswith("### ✅ unit (junit): compliant\n")
    assert f"| Trail | {commit} |" in summary
    verdict = (tmp_path / "affidavit-assert-trail.md").read_text(encoding="utf-8")
    assert verdict.startswith(f"### ✅ trail demo/{commit}: COMPLIANT")
    trail = json.loads(subprocess.run(
        [cli, "get", "trail", commit, "--flow", "demo", "--output", "json"],
        check=True, capture_output=True, text=True).stdout)
    assert trail["description"] == "build 7"
    assert [(a["name"], a["type"], a["compliant"]) for a in trail["attestations"]] == [
        ("unit", "junit", True)]
    assert json.dumps(trail).count("https://jenkins.example/job/app/7/") >= 1
    flow = json.loads(subprocess.run([cli, "get", "flow", "demo", "--output", "json"],
                                     check=True, capture_output=True, text=True).stdout)
    assert flow["template"]["trail"]["attestations"] == [{"name": "unit", "type": "junit"}]
    assert subprocess.run([cli, "verify", "ledger"], capture_output=True).returncode == 0


def _has_assert_snapshot() -> bool:
    """`affidavit assert snapshot` is the core's newest gate: what needs it is skipped on a
    core without it."""
    return subprocess.run([str(VENV_BIN / "affidavit"), "assert", "snapshot", "--help"],
                          capture_output=True).returncode == 0


def _attach_policy(environment: str, folder: Path) -> None:
    """``environment`` (a server environment) with a policy: every artifact from a trail."""
    policy = folder / f"{environment}-policy.yml"
    policy.write_text("_schema: https://kosli.com/schemas/policy/environment/v1\n"
                      "artifacts:\n  provenance:\n    required: true\n")
    cli = str(VENV_BIN / "affidavit")
    for args in (("create", "environment", environment, "--type", "server"),
                 ("create", "policy", f"{environment}-provenance", "--file", str(policy)),
                 ("attach", "policy", f"{environment}-provenance", "--environment", environment)):
        subprocess.run([cli, *args], check=True, capture_output=True)


@pytest.mark.skipif(GROOVY is None, reason=NO_GROOVY)
def test_snapshot_step_records_into_the_ledger(tmp_path: Path) -> None:
    """affidavitBeginTrail, affidavitAttest of the artifact and affidavitSnapshot twice, run
    for real by the harness in a Jenkins build: the environment is created once, the snapshot
    recorded once (the second is unchanged), and what runs is joined to the build's trail.
    With the core's `assert snapshot` and a policy attached, the gate passes there, and fails
    (after recording) on an environment running a file no trail reported."""
    cli = str(VENV_BIN / "affidavit")
    gated = _has_assert_snapshot()
    commit, jenkins = _jenkins_checkout(tmp_path, "https://jenkins.example/job/shop/9/")
    (tmp_path / "shop.bin").write_text("shop 1.0\n")
    (tmp_path / "tool.bin").write_text("not reported by any trail\n")
    snapshot = {"source": "path", "environment": "production", "name": "shop",
                "path": "shop.bin"}
    steps = [
        {"step": "affidavitBeginTrail", "args": {"flow": "shop", "createFlow": True}},
        {"step": "affidavitAttest", "args": {"type": "artifact", "flow": "shop", "name": "shop",
                                             "artifact": "shop.bin"}},
        {"step": "affidavitSnapshot", "args": {**snapshot, "environmentType": "server"} | (
            {"assert": True} if gated else {})},
        {"step": "affidavitSnapshot", "args": snapshot},
    ]
    cases = [{"id": "snapshot", "steps": steps, "run": str(tmp_path), "env": jenkins}]
    if gated:
        _attach_policy("production", tmp_path)
        _attach_policy("staging", tmp_path)
        cases.append({"id": "gate-fails", "run": str(tmp_path), "env": jenkins, "steps": [
            {"step": "affidavitSnapshot", "args": {
                "source": "path", "environment": "staging", "environmentType": "server",
                "name": "tool", "path": "tool.bin", "assert": True}}]})
    agent = dict(os.environ)
    agent["PATH"] = f"{VENV_BIN}{os.pathsep}{agent.get('PATH', '')}"
    out = _harness(cases, tmp_path, agent)

    run = out["snapshot"]
    assert run["error"] is None, _sh_logs(run)
    shs = [c for c in run["calls"] if c["step"] == "sh"]
    assert [c["label"] for c in shs] == [
        "affidavit begin trail", "affidavit attest artifact", "affidavit create environment",
        "affidavit snapshot path", *(["affidavit assert snapshot"] if gated else []),
        "affidavit snapshot path"]
    assert "production#1 recorded as entry " in shs[3]["log"]
    assert "production: unchanged since snapshot #1" in shs[-1]["log"]
    got = json.loads(subprocess.run([cli, "get", "snapshot", "production", "--output", "json"],
                                    check=True, capture_output=True, text=True).stdout)
    (shop,) = got["artifacts"]
    assert (got["number"], shop["name"]) == (1, "shop")
    assert (shop["provenance"]["flow"], shop["provenance"]["trail"]) == ("shop", commit)
    kinds = [e["kind"] for e in json.loads(subprocess.run(
        [cli, "log", "ledger", "--output", "json"], check=True, capture_output=True,
        text=True).stdout)]
    assert kinds.count("environment") == (2 if gated else 1)  # production (+ staging, gated)
    assert (tmp_path / "affidavit-snapshot-production.md").read_text().startswith(
        "production: unchanged since snapshot #1")
    if not gated:
        pytest.skip("the core has no `affidavit assert snapshot` yet: the gate is not tested")
    assert "### ✅ snapshot production#1: COMPLIANT" in shs[4]["log"]
    refused = out["gate-fails"]
    assert refused["error"] == "script returned exit code 1", refused["error"]
    assert [c["step"] for c in refused["calls"]][-2:] == ["sh", "archiveArtifacts"]
    verdict = (tmp_path / "affidavit-assert-snapshot-staging.md").read_text()
    assert verdict.startswith("### ❌ snapshot staging#1: NON_COMPLIANT") and (
        "no provenance" in verdict), verdict
    assert json.loads(subprocess.run([cli, "get", "snapshot", "staging", "--output", "json"],
                                     check=True, capture_output=True, text=True).stdout)[
        "number"] == 1  # recorded, then judged


#: The credentials store of the example pipelines: the GitHub token of `github-token`.
GITHUB_SECRET = "ghp_0f0the0jenkins0credential00000000"
SECRETS = {"github-token": GITHUB_SECRET}


def _check_pull_request(env: dict[str, str], commit: str, fake: FakeProvider) -> None:
    """The examples' pull-request attestation, read back with the CLI (``env`` names the
    ledger): pull request #42 of acme/shop found by the build's commit with the credential's
    token, four eyes of its final head asked and met."""
    got = subprocess.run([str(VENV_BIN / "affidavit"), "get", "attestation", "pull-request",
                          "--flow", "shop", "--trail", commit, "--output", "json"], env=env,
                         capture_output=True, text=True, check=True)
    record = json.loads(got.stdout)["record"]
    assert (record["type"], record["compliant"]) == ("pull_request", True)
    predicate = record["statement"]["predicate"]
    assert (predicate["provider"], predicate["repository"], predicate["commit"]) == (
        "github", "acme/shop", commit)
    assert predicate["lookup"] == {"by": "commit", "polls": 1, "waited_seconds": 0.0}
    assert predicate["policy"] == {"require_approvals": 1, "allow_stale_approvals": False}
    assert predicate["pull_requests"] == [recorded_github_pull(commit)]
    assert fake.paths[0] == f"/repos/acme/shop/commits/{commit}/pulls?per_page=100"
    assert {r["headers"].get("authorization") for r in fake.requests} == {
        f"Bearer {GITHUB_SECRET}"}


@pytest.mark.skipif(not SHELLS, reason="no POSIX shell")
def test_example_jenkinsfile_runs_green_and_leaves_a_verified_ledger(
        recorded: dict[str, Any], tmp_path: Path) -> None:
    """Every `sh` of examples/jenkins/Jenkinsfile (the user's and the steps'), replayed in order
    in a Jenkins-like checkout with the real CLI, each with the credentials it binds, and the
    pull request from a fake GitHub (AFFIDAVIT_GITHUB_BASE_URL, as an agent's environment
    could set): the trail ends COMPLIANT, with the pull request, and verifies."""
    cli = str(VENV_BIN / "affidavit")
    commit, jenkins = _jenkins_checkout(tmp_path, "https://jenkins.example/job/shop/7/")
    run = recorded["jenkinsfile-example"]
    assert run["error"] is None
    results: list[str] = []
    with FakeProvider("github", commit, GITHUB_SECRET) as fake:
        jenkins["AFFIDAVIT_GITHUB_BASE_URL"] = fake.base_url
        for call in run["calls"]:
            if call["step"] != "sh" or call.get("label") == "install affidavit":
                continue
            bound = {b["variable"]: SECRETS[b["credentialsId"]] for b in call["credentials"]}
            result = _run_sh({"script": call["script"], "env": call.get("env", [])},
                             SHELLS[0], tmp_path, {**jenkins, **bound})
            assert result.returncode == 0, (call.get("label"), result.stdout, result.stderr)
            results.append(result.stdout)
    assert "deploying shop" in [r for r in results if "deploying" in r][0]
    ledger = dict(os.environ)  # the test's own ledger (AFFIDAVIT_LEDGER), as the steps saw it
    trail = json.loads(subprocess.run(
        [cli, "get", "trail", commit, "--flow", "shop", "--output", "json"], env=ledger,
        check=True, capture_output=True, text=True).stdout)
    assert trail["status"] == "COMPLIANT"
    assert sorted(a["name"] for a in trail["attestations"]) == [
        "pull-request", "sast", "unit-tests"]
    _check_pull_request(ledger, commit, fake)
    summary = (tmp_path / "affidavit-attest-pullrequest-pull-request.md").read_text()
    assert summary.startswith("### ✅ pull-request (pull_request): compliant"), summary
    assert subprocess.run([cli, "verify", "ledger"], env=ledger,
                          capture_output=True).returncode == 0
    # the flow came from begin-trail (createFlow), and post/always packaged the evidence
    flow = json.loads(subprocess.run([cli, "get", "flow", "shop", "--output", "json"], env=ledger,
                                     check=True, capture_output=True, text=True).stdout)
    assert flow["description"] == "Shop delivery"
    with zipfile.ZipFile(tmp_path / "affidavit-evidence.zip") as package:
        scope = json.loads(package.read("manifest.json"))["scope"]
    assert scope == {"flow": "shop", "trail": commit, "fingerprint": None}
    assert [c["artifacts"] for c in run["calls"] if c["step"] == "archiveArtifacts"][-1] == (
        "affidavit-evidence.zip")
    # after the deploy: production runs shop, the artifact of this commit's trail, and the
    # snapshot met production's policy (assert: true)
    snapshot = json.loads(subprocess.run(
        [cli, "get", "snapshot", "production", "--output", "json"], env=ledger, check=True,
        capture_output=True, text=True).stdout)
    (shop,) = snapshot["artifacts"]
    assert (snapshot["number"], shop["name"]) == (1, "shop")
    assert (shop["provenance"]["flow"], shop["provenance"]["trail"]) == ("shop", commit)
    assert shop["provenance"]["trail_status"] == "COMPLIANT"
    verdict = (tmp_path / "affidavit-assert-snapshot-production.md").read_text()
    assert verdict.startswith("### ✅ snapshot production#1: COMPLIANT"), verdict



def _sh_logs(run: dict[str, Any]) -> str:
    return "".join(c.get("log") or "" for c in run["calls"] if c["step"] == "sh")


#: begin trail, attest junit, assert trail: one stage's steps, each given the team ledger.
TEAM_STEPS: list[tuple[str, dict[str, Any]]] = [
    ("affidavitBeginTrail", {"flow": "team", "createFlow": True, "description": "build 7"}),
    ("affidavitAttest", {"type": "junit", "flow": "team", "name": "unit",
                         "resultsDir": str(FIXTURES / "test-results")}),
    ("affidavitAssert", {"flow": "team"}),
]


@pytest.mark.skipif(GROOVY is None, reason=NO_GROOVY)
def test_steps_write_to_a_team_server_with_a_bound_credential(tmp_path: Path) -> None:
    """``ledger`` + ``credentialsId``, run for real by the harness (its ``withCredentials``
    binds the credential's secret, its ``sh`` runs the real CLI) against a real
    ``affidavit server``: with the right secret the three steps land; with a wrong one, or
    with no ``credentialsId``, the first step fails on the server's 401 and nothing lands."""
    cli = str(VENV_BIN / "affidavit")
    with team_server(tmp_path) as team:
        token, ledger = team.token, team.ledger
        cases, commits = [], {}
        for key, store, credential in (("with", {"affidavit-team": token}, "affidavit-team"),
                                       ("wrong", {"affidavit-team": "afv_" + "0" * 40},
                                        "affidavit-team"),
                                       ("absent", {"affidavit-team": token}, None)):
            folder = tmp_path / key
            folder.mkdir()
            commits[key], jenkins = _jenkins_checkout(
                folder, f"https://jenkins.example/job/team-{key}/7/")
            given = {"ledger": ledger} | ({"credentialsId": credential} if credential else {})
            cases.append({"id": key, "credentials": store, "env": jenkins, "run": str(folder),
                          "steps": [{"step": step, "args": args | given}
                                    for step, args in TEAM_STEPS]})
        # the agent's environment: this test's own ledger (which the steps' `ledger` overrides)
        # and client cache, the CLI on PATH, and no token of its own
        agent = {k: v for k, v in os.environ.items() if k != "AFFIDAVIT_API_TOKEN"}
        agent["PATH"] = f"{VENV_BIN}{os.pathsep}{agent.get('PATH', '')}"
        out = _harness(cases, tmp_path, agent)

        run = out["with"]
        assert run["error"] is None, _sh_logs(out["with"])
        assert [c.get("label") for c in run["calls"] if c["step"] == "sh"] == [
            "affidavit begin trail", "affidavit attest junit", "affidavit assert trail"]
        assert all(c["credentials"] == [{"type": "string", "credentialsId": "affidavit-team",
                                         "variable": "AFFIDAVIT_API_TOKEN"}]
                   for c in run["calls"] if c["step"] == "sh")
        assert team.size() == 3  # flow, trail, JUnit
        assert f"trail team/{commits['with']}: COMPLIANT" in _sh_logs(out["with"])
        # the secret is nowhere in what a build shows: no step's log (before Jenkins' own
        # masking), no withEnv entry, no recorded call
        assert token not in json.dumps(out)
        reader = {k: v for k, v in agent.items() if not k.startswith("AFFIDAVIT_")}
        reader.update(AFFIDAVIT_LEDGER=ledger, AFFIDAVIT_API_TOKEN=token,
                      AFFIDAVIT_CACHE_DIR=str(tmp_path / "reader-cache"))
        trail = json.loads(subprocess.run(
            [cli, "get", "trail", commits["with"], "--flow", "team", "--output", "json"],
            env=reader, capture_output=True, text=True, check=True).stdout)
        assert trail["description"] == "build 7"
        assert [(a["name"], a["compliant"]) for a in trail["attestations"]] == [("unit", True)]
        assert "https://jenkins.example/job/team-with/7/" in json.dumps(trail)
        local = subprocess.run([cli, "log", "ledger"], env=agent, capture_output=True,
                               text=True)  # the agent's default ledger: never written
        assert local.returncode == 3 and "nothing was recorded there yet" in local.stderr, local

        for key in ("wrong", "absent"):
            refused = out[key]
            assert refused["error"] is not None and re.fullmatch(
                r"script returned exit code [1-9]\d*", refused["error"]), (key, refused["error"])
            assert [c.get("label") for c in refused["calls"] if c["step"] == "sh"] == [
                "affidavit begin trail"], key  # the build stops at the first step
            assert "a valid API token is needed" in _sh_logs(out[key]), (key, _sh_logs(out[key]))
        assert team.size() == 3


#: A Bitbucket Data Center HTTP access token, the secret of the credential `bitbucket-token`.
BITBUCKET_SECRET = "BBDC-MTIzNDU2Nzg5MDEyOmJpdGJ1Y2tldC1kYy10b2tlbg"


@pytest.mark.skipif(GROOVY is None, reason=NO_GROOVY)
def test_attest_pullrequest_of_a_bitbucket_data_center_repository(tmp_path: Path) -> None:
    """begin trail, attest pullrequest (`provider: 'bitbucket'`, `repository: 'ACME/shop'`,
    `baseUrl` a fake Data Center's root under its context path, `providerCredentialsId` bound
    to its HTTP access token), assert trail, run for real by the harness in a Jenkins build of
    the merge commit: pull request #12 is found by that commit and recorded in full, compliant
    with `requireApprovals: 1` (Grace approved the final head), so the trail is COMPLIANT; every
    request carried the credential's secret as a bearer token, and nothing the build shows
    (the steps' `sh -xe` logs, their withEnv entries) holds it."""
    cli = str(VENV_BIN / "affidavit")
    commit, jenkins = _jenkins_checkout(tmp_path, "https://jenkins.example/job/shop/12/")
    steps = [
        {"step": "affidavitBeginTrail", "args": {"flow": "shop", "createFlow": True}},
        {"step": "affidavitAttest", "args": {
            "type": "pullrequest", "provider": "bitbucket", "flow": "shop",
            "name": "pull-request", "repository": "ACME/shop", "requireApprovals": 1,
            "maxWait": 0, "providerCredentialsId": "bitbucket-token"}},
        {"step": "affidavitAssert", "args": {"flow": "shop"}},
    ]
    agent = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    agent["PATH"] = f"{VENV_BIN}{os.pathsep}{agent.get('PATH', '')}"
    with FakeProvider("bitbucket", commit, BITBUCKET_SECRET, self_hosted=True) as fake:
        steps[1]["args"]["baseUrl"] = fake.base_url
        out = _harness([{"id": "bitbucket", "steps": steps, "run": str(tmp_path),
                         "env": jenkins, "credentials": {"bitbucket-token": BITBUCKET_SECRET}}],
                       tmp_path, agent)
    run = out["bitbucket"]
    assert run["error"] is None, _sh_logs(run)
    (attest,) = [c for c in run["calls"] if c.get("label") == "affidavit attest pullrequest"]
    assert attest["credentials"] == [{"type": "string", "credentialsId": "bitbucket-token",
                                      "variable": "AFFIDAVIT_TOKEN"}]
    assert f"trail shop/{commit}: COMPLIANT" in _sh_logs(run)
    got = subprocess.run([cli, "get", "attestation", "pull-request", "--flow", "shop",
                          "--trail", commit, "--output", "json"], capture_output=True,
                         text=True, check=True)
    record = json.loads(got.stdout)["record"]
    assert (record["type"], record["compliant"]) == ("pull_request", True)
    predicate = record["statement"]["predicate"]
    assert (predicate["provider"], predicate["base_url"]) == ("bitbucket", fake.api_url)
    assert fake.base_url.endswith("/bitbucket")  # the root; the CLI adds /rest/api/1.0
    assert (predicate["repository"], predicate["commit"]) == ("ACME/shop", commit)
    assert predicate["lookup"] == {"by": "commit", "polls": 1, "waited_seconds": 0.0}
    assert predicate["policy"] == {"require_approvals": 1, "allow_stale_approvals": False}
    (pull,) = predicate["pull_requests"]
    assert (pull["number"], pull["state"], pull["head"]["sha"], pull["merge_commit"]) == (
        12, "merged", HEAD, commit)
    assert [(r["reviewer"]["login"], r["state"], r["commit"]) for r in pull["reviews"]] == [
        ("grace", "approved", FIRST), ("grace", "approved", HEAD)]
    assert pull == recorded_bitbucket_pull(commit, self_hosted=True)
    assert fake.paths[0] == ("/bitbucket/rest/api/1.0/projects/ACME/repos/shop/commits/"
                             f"{commit}/pull-requests?limit=100")
    assert {r["headers"].get("authorization") for r in fake.requests} == {
        f"Bearer {BITBUCKET_SECRET}"}
    # the log is the step's (its summary, shown in the build's log), and the secret is not in it
    assert "### ✅ pull-request (pull_request): compliant" in attest["log"]
    assert BITBUCKET_SECRET not in json.dumps(out)


@pytest.mark.skipif(GROOVY is None, reason=NO_GROOVY)
def test_team_example_jenkinsfile_runs_green_on_a_server(tmp_path: Path) -> None:
    """examples/jenkins/Jenkinsfile.team run whole by the harness, every `sh` for real (but
    affidavitSetup's pip install: the workspace's .affidavit-venv is this venv), its ledger URL
    pointed at a real server and its credential in the store: the build passes and its trail
    is on the server, COMPLIANT; with a wrong secret in the credential it fails on the 401."""
    text = JENKINSFILES["team-example"].read_text(encoding="utf-8")
    assert text.count(f"ledger: '{EXAMPLE_LEDGER}'") == 7  # every affidavit step but setup
    cli = str(VENV_BIN / "affidavit")
    with team_server(tmp_path) as team, FakeProvider("github", "", GITHUB_SECRET) as fake:
        cases, commits = [], {}
        for key, secret in (("with", team.token), ("wrong", "afv_" + "0" * 40)):
            folder = tmp_path / key
            folder.mkdir()
            commits[key], jenkins = _jenkins_checkout(
                folder, f"https://jenkins.example/job/shop-{key}/7/")
            (folder / ".affidavit-venv").symlink_to(VENV_BIN.parent)
            jenkinsfile = tmp_path / f"Jenkinsfile.{key}"
            jenkinsfile.write_text(text.replace(EXAMPLE_LEDGER, team.ledger), encoding="utf-8")
            cases.append({"id": key, "jenkinsfile": str(jenkinsfile), "run": str(folder),
                          "credentials": {"affidavit-api-token": secret, **SECRETS},
                          "skip": ["install affidavit"],
                          "env": {**jenkins, "WORKSPACE": str(folder), "BUILD_NUMBER": "7"}})
        fake.serve(commits["with"])  # the "wrong" build stops before its pull request
        agent = {k: v for k, v in os.environ.items() if k != "AFFIDAVIT_API_TOKEN"}
        agent["AFFIDAVIT_GITHUB_BASE_URL"] = fake.base_url
        out = _harness(cases, tmp_path, agent)

        run = out["with"]
        assert run["error"] is None, _sh_logs(run)
        assert "deploying shop" in _sh_logs(run)
        assert team.size() == 6  # flow, trail, the artifact, JUnit, SARIF, the pull request
        assert team.token not in json.dumps(out)
        assert GITHUB_SECRET not in json.dumps(out)
        reader = {k: v for k, v in agent.items() if not k.startswith("AFFIDAVIT_")}
        reader.update(AFFIDAVIT_LEDGER=team.ledger, AFFIDAVIT_API_TOKEN=team.token,
                      AFFIDAVIT_CACHE_DIR=str(tmp_path / "reader-cache"))
        trail = json.loads(subprocess.run(
            [cli, "get", "trail", commits["with"], "--flow", "shop", "--output", "json"],
            env=reader, capture_output=True, text=True, check=True).stdout)
        assert trail["status"] == "COMPLIANT"
        assert sorted(a["name"] for a in trail["attestations"]) == [
            "pull-request", "sast", "unit-tests"]
        _check_pull_request(reader, commits["with"], fake)
        # post/always packaged the evidence from the server; it verifies offline
        key = subprocess.run([cli, "ledger", "public-key"], env=reader, capture_output=True,
                             text=True, check=True).stdout.strip()
        package = tmp_path / "with" / "affidavit-evidence.zip"
        verified = subprocess.run([cli, "verify", "package", str(package), "--public-key", key],
                                  env=reader, capture_output=True, text=True)
        assert verified.returncode == 0, verified.stdout + verified.stderr

        refused = out["wrong"]
        assert refused["error"] is not None and refused["error"].startswith(
            "script returned exit code "), refused["error"]
        assert [c["label"] for c in refused["calls"] if c["step"] == "sh" and c.get("log")] == [
            "affidavit begin trail"]  # install skipped; the build stops at the first step
        assert "a valid API token is needed" in _sh_logs(refused)
        assert team.size() == 6

# --- whole pipelines ------------------------------------------------------------------------------


def test_fixture_jenkinsfile_runs_every_step(recorded: dict[str, Any]) -> None:
    run = recorded["jenkinsfile-fixture"]
    assert run["error"] is None
    calls = run["calls"]
    assert [(c["step"], c["args"].get("type")) for c in calls if c["step"].startswith("affidavit")
            ] == [("affidavitSetup", None), ("affidavitBeginTrail", None),
                  ("affidavitAttest", "artifact"), ("affidavitAttest", "junit"),
                  ("affidavitAttest", "sarif"), ("affidavitAssert", None),
                  ("affidavitSnapshot", None), ("affidavitEvidencePackage", None)]
    assert [c["label"] for c in calls if c["step"] == "sh" and c["label"]] == [
        "install affidavit", "affidavit begin trail", "affidavit attest artifact",
        "affidavit attest junit", "affidavit attest sarif", "affidavit assert trail",
        "affidavit create environment", "affidavit snapshot k8s", "affidavit evidence package"]
    begin = next(c for c in calls if c.get("label") == "affidavit begin trail")
    assert "AFFIDAVIT_DESCRIPTION=build 7" in begin["env"]
    assert "AFFIDAVIT_FLOW_TEMPLATE_FILE=.affidavit/backend.yml" in begin["env"]
    assert [c["artifacts"] for c in calls if c["step"] == "archiveArtifacts"] == [
        "affidavit-trail.md", "affidavit-attest-artifact-app.md",
        "affidavit-attest-junit-unit.md", "affidavit-attest-sarif-scan.md",
        "affidavit-assert-trail.md", "affidavit-snapshot-prod.md", "affidavit-evidence.zip"]


@pytest.mark.skipif(not JENKINSFILES["example"].is_file(),
                    reason="examples/jenkins/Jenkinsfile does not exist yet")
def test_example_jenkinsfile_attests_and_asserts(recorded: dict[str, Any]) -> None:
    run = recorded["jenkinsfile-example"]
    assert run["error"] is None
    steps = [c["step"] for c in run["calls"]]
    assert "affidavitAttest" in steps and "affidavitAssert" in steps
    assert steps.index("affidavitAssert") > steps.index("affidavitAttest")
    # after the gate and the deploy: what production runs, then asserted by its policy
    assert steps.index("affidavitSnapshot") > steps.index("affidavitAssert")
    labels = [c["label"] for c in run["calls"] if c["step"] == "sh"]
    assert labels[labels.index("affidavit assert trail"):][-4:] == [
        "affidavit create environment", "affidavit snapshot path", "affidavit assert snapshot",
        "affidavit evidence package"]



def test_team_example_jenkinsfile_gives_every_step_the_ledger_and_the_credential(
        recorded: dict[str, Any]) -> None:
    run = recorded["jenkinsfile-team-example"]
    assert run["error"] is None
    steps = [c for c in run["calls"] if c["step"] == "sh" and c["label"] != "install affidavit"
             and (c["label"] or "").startswith("affidavit ")]
    assert [c["label"] for c in steps] == [
        "affidavit begin trail", "affidavit attest artifact", "affidavit attest junit",
        "affidavit attest sarif", "affidavit attest pullrequest", "affidavit assert trail",
        "affidavit evidence package"]
    ledger = {"type": "string", "credentialsId": "affidavit-api-token",
              "variable": "AFFIDAVIT_API_TOKEN"}
    github = {"type": "string", "credentialsId": "github-token", "variable": "AFFIDAVIT_TOKEN"}
    for call in steps:
        assert f"AFFIDAVIT_LEDGER={EXAMPLE_LEDGER}" in call["env"], call["label"]
        assert call["credentials"] == (
            [github, ledger] if call["label"] == "affidavit attest pullrequest" else [ledger]
        ), call["label"]

# --- help pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("step", STEPS)
def test_every_argument_is_documented(step: str) -> None:
    source = (LIBRARY / "vars" / f"{step}.groovy").read_text(encoding="utf-8")
    keys = re.findall(r"^ {8}(\w+): [^\n]*//", source, flags=re.MULTILINE)
    assert keys, "the defaults map is commented, one key a line"
    help_page = (LIBRARY / "vars" / f"{step}.txt").read_text(encoding="utf-8")
    assert [k for k in keys if not re.search(rf"\b{k}\b", help_page)] == []
