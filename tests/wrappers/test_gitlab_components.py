"""GitLab CI/CD components (``gitlab/templates/*.yml``): inputs, jobs, ledger and summaries.

Each consumer pipeline under ``tests/wrappers/gitlab/pipelines/`` includes the components the way
a project would, ``component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/<name>@$CI_COMMIT_SHA``, and runs
under ``gitlab-ci-local`` in a throwaway git repository (with an ``origin`` remote) that holds a
copy of the component tree at ``templates/``. gitlab-ci-local reads such an include from the
working tree when its project path and SHA are the repository's own (as GitLab does for a
project's self-test). Jobs run with the shell executor (``--shell-executor-no-image
--force-shell-executor``; ``--shell-isolation`` gives each job its own build dir) and
``install: false`` with the core on PATH, except ``install.gitlab-ci.yml``, which pip installs the
core from this checkout into a venv as the ``package`` input allows. GitLab itself is simulated
only through its documented variables: gitlab-ci-local sets ``GITLAB_CI=false``, so the tests set
it to ``true`` (``--ignore-predefined-vars GITLAB_CI --variable GITLAB_CI=true``, as the README
tells a user to); the ledger is ``AFFIDAVIT_LEDGER``, passed through as a pipeline variable.
``install-from-git.gitlab-ci.yml`` installs the core the default way, from a git repository
(a local one with the release tag, standing in for the project's) at ``v<version>``, and
``local.gitlab-ci.yml`` includes the templates as ``local:`` files rather than components.
``team.gitlab-ci.yml`` writes to a real ``affidavit server`` on 127.0.0.1 through the ``ledger``
input, with the token as the project's CI/CD variable ``AFFIDAVIT_API_TOKEN`` (gitlab-ci-local's
home ``variables.yml``).

Every document of every component is also checked against the ``vendor.gitlab-ci`` schema.

Needs gitlab-ci-local and rsync (``tests/wrappers/install-gitlab.sh``); skipped without them.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import Home, Result, copy_of_sources
from tests.wrappers.fake_provider import (
    FIRST,
    HEAD,
    FakeProvider,
    recorded_azure_pull,
    recorded_gitlab_merge_request,
)
from tests.wrappers.team import Team, team_server

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "gitlab" / "templates"
FIXTURES = Path(__file__).parent / "gitlab"
EXAMPLES = ROOT / "examples" / "gitlab"
#: The team ledger examples/gitlab/team.gitlab-ci.yml names (a test points it at its server).
EXAMPLE_LEDGER = "https://affidavit.example.com/orgs/acme"
COMPONENTS = ("attest", "begin-trail", "assert", "evidence-package", "snapshot")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
VENV_BIN = Path(sys.executable).parent
ORIGIN = "git@gitlab.example.com:affidavit/affidavit.git"
#: ORIGIN as gitlab-ci-local's home variables.yml names a project.
PROJECT = "gitlab.example.com/affidavit/affidavit.git"

GCL = shutil.which("gitlab-ci-local", path=str(ROOT / ".tools" / "node" / "bin")) or shutil.which(
    "gitlab-ci-local")
CHECK_JSONSCHEMA = shutil.which("check-jsonschema", path=str(VENV_BIN)) or shutil.which(
    "check-jsonschema")
needs_gcl = pytest.mark.skipif(
    GCL is None or shutil.which("rsync") is None,
    reason="gitlab-ci-local or rsync is not installed (run tests/wrappers/install-gitlab.sh)",
)


@dataclass(frozen=True)
class Pipeline:
    """One gitlab-ci-local run: its exit code, output, each job's verdict, and its repo."""

    code: int
    output: str
    jobs: dict[str, str]
    repo: Path
    sha: str

    def artifact(self, job: str, path: str) -> str:
        """A file a job kept as an artifact (gitlab-ci-local encodes some characters of the
        job's name in its folder name, so a name with spaces is found by the file it kept)."""
        artifacts = self.repo / ".gitlab-ci-local" / "artifacts"
        found = [artifacts / job] if (artifacts / job).is_dir() else [
            folder for folder in artifacts.iterdir() if (folder / path).is_file()]
        assert len(found) == 1, (job, path, sorted(p.name for p in artifacts.iterdir()))
        return (found[0] / path).read_text()

    def build(self, job: str) -> Path:
        return self.repo / ".gitlab-ci-local" / "builds" / job


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=CI", "-c", "user.email=ci@example.com", *args],
        cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def pipeline(tmp_path: Path, home: Home, cli: Callable[..., Result]) -> Callable[..., Pipeline]:
    """Run ``pipelines/<name>.gitlab-ci.yml`` against flow ``demo`` (template: ``flow.yml``)."""
    assert cli("create", "flow", "demo", "--template-file", FIXTURES / "flow.yml").code == 0

    runs = 0

    def run(name: str, *variables: str, source: Path | None = None,
            project_variables: dict[str, str] | None = None,
            on_commit: Callable[[str], None] | None = None) -> Pipeline:
        """``variables`` are ``--variable`` pipeline variables; ``project_variables`` are the
        project's CI/CD variables (Settings > CI/CD > Variables), which gitlab-ci-local reads
        from its home ``variables.yml`` for the repository whose remote is ``ORIGIN``;
        ``on_commit`` is told the pipeline's commit before the pipeline runs."""
        nonlocal runs
        runs += 1
        repo = tmp_path / ("repo" if runs == 1 else f"repo-{runs}")
        gcl_home = tmp_path / ("gcl-home" if runs == 1 else f"gcl-home-{runs}")
        if project_variables:
            (gcl_home / ".gitlab-ci-local").mkdir(parents=True)
            (gcl_home / ".gitlab-ci-local" / "variables.yml").write_text(yaml.safe_dump(
                {"project": {PROJECT: project_variables}}))
        shutil.copytree(TEMPLATES, repo / "templates")
        shutil.copytree(FIXTURES / "reports", repo / "reports")
        shutil.copy(FIXTURES / "flow.yml", repo / "flow.yml")
        shutil.copy(source or FIXTURES / "pipelines" / f"{name}.gitlab-ci.yml",
                    repo / ".gitlab-ci.yml")
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "remote", "add", "origin", ORIGIN)
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", f"pipeline {name}")
        if on_commit is not None:
            on_commit(_git(repo, "rev-parse", "HEAD"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_")}
        env.update(PATH=f"{VENV_BIN}{os.pathsep}{env['PATH']}", NO_COLOR="1", FORCE_COLOR="0")
        passed = [f"AFFIDAVIT_LEDGER={home.url}", f"AFFIDAVIT_CACHE_DIR={home.cache}",
                  "GITLAB_CI=true", *variables]
        done = subprocess.run(
            [GCL, "--home", str(gcl_home),
             "--shell-executor-no-image", "--force-shell-executor", "--shell-isolation",
             "--ignore-predefined-vars", "GITLAB_CI", "--no-timestamps",
             *[arg for v in passed for arg in ("--variable", v)]],
            cwd=repo, env=env, capture_output=True, text=True, timeout=120)
        output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
        # the closing lines: " PASS  <job>", " WARN  <job>  <failed step>", " FAIL  <job>"
        jobs = {re.split(r"\s{2,}", m[2].strip())[0]: m[1] for m in re.finditer(
            r"^ (PASS|FAIL|WARN) +(.+)$", output, re.MULTILINE)}
        return Pipeline(done.returncode, output, jobs, repo, _git(repo, "rev-parse", "HEAD"))

    return run


def _attestation(cli: Callable[..., Result], trail: str, name: str,
                 flow: str = "demo") -> dict[str, Any]:
    got = cli("get", "attestation", name, "--flow", flow, "--trail", trail, "--output", "json")
    assert got.code == 0, got.err
    record: dict[str, Any] = json.loads(got.out)["record"]
    return record


@needs_gcl
def test_defaults(pipeline: Callable[..., Pipeline], cli: Callable[..., Result]) -> None:
    """Only required inputs: trail = the commit, origin = the job URL, default names, stages,
    summary files, the files the core read under artifacts:reports:junit, and the evidence
    package kept as the last job's artifact."""
    run = pipeline("defaults")
    assert run.jobs == {"affidavit-begin-trail": "PASS", "affidavit-attest": "PASS",
                        "affidavit-assert": "PASS", "affidavit-evidence-package": "PASS"}, (
        run.output)
    assert run.code == 0

    record = _attestation(cli, run.sha, "unit")
    assert record["compliant"] is True
    assert record["commit"]["sha"] == run.sha
    assert record["commit"]["repo_url"] == "https://gitlab.example.com/affidavit/affidavit"
    assert re.fullmatch(r"https://gitlab\.example\.com/affidavit/affidavit/-/jobs/\d+",
                        record["origin_url"])
    assert cli("assert", "trail", run.sha, "--flow", "demo").code == 0
    assert cli("verify", "ledger").code == 0

    trail = run.artifact("affidavit-begin-trail", "affidavit-trail.md")
    assert trail.startswith(f"### Trail {run.sha}\n")
    summary = run.artifact("affidavit-attest", "affidavit-summary.md")
    assert "unit (junit): compliant" in summary and f"| Trail | {run.sha} |" in summary
    assert "COMPLIANT" in run.artifact("affidavit-assert", "affidavit-assert.md")

    expanded = yaml.safe_load((run.repo / ".gitlab-ci-local" / "expanded-gitlab-ci.yml")
                              .read_text())
    assert [expanded[job]["stage"] for job in run.jobs] == [".pre", "test", "deploy", ".post"]
    assert expanded["affidavit-attest"]["artifacts"] == {
        "when": "always", "paths": ["affidavit-summary.md"],
        "reports": {"junit": ".affidavit-junit/*.xml"}}
    copied = sorted(p.name for p in (run.build("affidavit-attest") / ".affidavit-junit").iterdir())
    assert copied == ["1-passing.xml"]

    package = run.repo / ".gitlab-ci-local" / "artifacts" / "affidavit-evidence-package" / (
        "affidavit-evidence.zip")
    with zipfile.ZipFile(package) as opened:
        scope = json.loads(opened.read("manifest.json"))["scope"]
    assert scope == {"flow": "demo", "trail": run.sha, "fingerprint": None}
    key = cli("ledger", "public-key").out.strip()
    assert cli("verify", "package", package, "--public-key", key).code == 0
    assert expanded["affidavit-evidence-package"]["artifacts"]["expire_in"] == "30 days"


@needs_gcl
def test_evidence_types_record_through_the_attest_component(
        pipeline: Callable[..., Pipeline], cli: Callable[..., Result]) -> None:
    """coverage, vulns and sbom through `type:`: the report is `results` (as --report,
    --scan-results, --sbom-file), coverage's `min-lines` and `min-branches` become its policy,
    `fail-on` the vulnerability threshold."""
    run = pipeline("evidence-types")
    assert run.jobs == {"affidavit-begin-trail": "PASS", "attest-coverage": "PASS",
                        "attest-vulns": "PASS", "attest-sbom": "PASS"}, run.output
    coverage = _attestation(cli, run.sha, "coverage")
    assert (coverage["type"], coverage["compliant"]) == ("coverage", False)  # 1 of 2 branches
    predicate = coverage["statement"]["predicate"]
    assert predicate["policy"] == {"min_lines": 70, "min_branches": 60}
    assert predicate["summary"]["lines"] == {"covered": 3, "total": 4, "percent": 75.0}
    vulns = _attestation(cli, run.sha, "vulns")
    assert (vulns["type"], vulns["compliant"]) == ("vulns", True)  # one medium, --fail-on critical
    assert vulns["statement"]["predicate"]["policy"]["fail_on"] == "critical"
    sbom = _attestation(cli, run.sha, "sbom")
    assert (sbom["type"], sbom["compliant"]) == ("sbom", True)
    assert sbom["statement"]["predicate"]["summary"]["components"] == 2
    assert "coverage (coverage): not compliant" in run.artifact("attest-coverage", "coverage.md")
    assert cli("verify", "ledger").code == 0


@needs_gcl
def test_inputs_are_interpolated(pipeline: Callable[..., Pipeline],
                                 cli: Callable[..., Result]) -> None:
    """Job names, stages, rules, a named trail from a CI variable, results-dir, annotations,
    free arguments and the summary path all reach the job and the CLI."""
    run = pipeline("interpolation")
    assert run.jobs == {"open trail": "PASS", "unit tests": "PASS", "gate": "PASS"}, run.output
    assert "never runs" not in run.output

    record = _attestation(cli, "release-42", "unit")
    assert record["compliant"] is True  # one failure, allowed by --max-failures 1
    assert record["statement"]["predicate"]["policy"]["max_failures"] == 1
    assert record["statement"]["predicate"]["files"][0]["path"] == "reports/flaky/unit.xml"
    assert "team" in json.dumps(record) and "OPS-1" in json.dumps(record)
    begun = cli("get", "trail", "release-42", "--flow", "demo", "--output", "json")
    # inputs reach the CLI through variables, never through the script's text: quotes and
    # shell syntax stay literal, only $VAR is expanded (by the runner, as in any variable)
    assert begun.code == 0, begun.err
    assert """it's \\"the 42nd\\" release; $(touch pwned) `touch pwned` * release-42""" in begun.out
    assert not list(run.repo.rglob("pwned"))

    assert "unit (junit): compliant" in run.artifact("unit-tests", "out/unit.md")
    assert run.artifact("gate", "out/gate.md").strip()
    expanded = yaml.safe_load((run.repo / ".gitlab-ci-local" / "expanded-gitlab-ci.yml")
                              .read_text())
    assert expanded["unit tests"]["stage"] == "verify"
    assert expanded["unit tests"]["rules"] == [{"if": '$CI_COMMIT_BRANCH == "main"'}]
    assert expanded["never runs"]["rules"] == [{"when": "never"}]
    assert expanded["unit tests"]["variables"]["AFFIDAVIT_INPUT_ARGS"] == "--max-failures 1"


@needs_gcl
def test_missing_required_input(pipeline: Callable[..., Pipeline],
                                cli: Callable[..., Result]) -> None:
    """attest without ``name``: the pipeline does not start, and says which input is missing."""
    run = pipeline("missing-input")
    assert run.code != 0
    assert run.jobs == {}
    assert re.search(r"`name` input: required value has not been provided", run.output), run.output
    assert json.loads(cli("log", "ledger", "--output", "json").out)[-1]["kind"] == "flow"


@needs_gcl
def test_failing_assert_fails_the_job(pipeline: Callable[..., Pipeline],
                                      cli: Callable[..., Result]) -> None:
    """assert: true records the non-compliant attestation, then fails its job; the assert
    component fails on the trail; both summaries are kept."""
    run = pipeline("failing-assert")
    assert run.jobs == {"affidavit-begin-trail": "PASS", "affidavit-attest": "WARN",
                        "affidavit-assert": "FAIL"}, run.output
    assert run.code != 0

    record = _attestation(cli, run.sha, "unit")
    assert record["compliant"] is False
    assert "unit (junit): not compliant" in run.artifact(
        "affidavit-attest", "affidavit-summary.md").lower().replace("**", "")
    assert "NOT COMPLIANT" in run.artifact("affidavit-assert", "affidavit-assert.md").upper()
    assert cli("assert", "trail", run.sha, "--flow", "demo").code == 1


@needs_gcl
def test_install_from_a_path(pipeline: Callable[..., Pipeline], cli: Callable[..., Result],
                             tmp_path_factory: pytest.TempPathFactory) -> None:
    """install: true pip installs ``package`` (here this checkout) into a fresh venv."""
    core = copy_of_sources(tmp_path_factory.mktemp("core") / "affidavit")
    run = pipeline("install", f"AFFIDAVIT_TEST_CORE={core}")
    assert run.jobs == {"affidavit-begin-trail": "PASS", "affidavit-attest": "PASS"}, run.output
    assert re.search(r"affidavit-attest +> affidavit \d+\.\d+", run.output)
    assert "review" in run.artifact("affidavit-attest", "affidavit-summary.md")
    assert _attestation(cli, run.sha, "review")["compliant"] is True


@needs_gcl
def test_install_from_the_projects_git_at_the_release_tag(
        pipeline: Callable[..., Pipeline], cli: Callable[..., Result],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """By default the core comes from the project's git repository at tag v<version>: here a
    local repository holding this checkout, tagged like a release, with a later commit on top
    that must not be the one installed."""
    source = copy_of_sources(tmp_path_factory.mktemp("git") / "affidavit")
    _git(source, "init", "-q", "-b", "main")
    _git(source, "add", "-A")
    _git(source, "commit", "-q", "-m", "release")
    _git(source, "tag", f"v{VERSION}")
    (source / "core" / "affidavit" / "__init__.py").write_text("raise SystemExit('not the tag')\n")
    _git(source, "commit", "-q", "-am", "after the release")
    run = pipeline("install-from-git", f"AFFIDAVIT_TEST_REPO=file://{source}")
    assert run.jobs == {"affidavit-begin-trail": "PASS"}, run.output
    assert f"affidavit-begin-trail > affidavit {VERSION}" in run.output
    flow = json.loads(cli("get", "flow", "bootstrapped", "--output", "json").out)
    assert flow["trails"] == [run.sha]


@needs_gcl
def test_templates_included_as_local_files(pipeline: Callable[..., Pipeline],
                                           cli: Callable[..., Result]) -> None:
    """``include: local:`` works (no ``component.version``); begin-trail creates the flow with
    its template; ``args`` is split by the core like a shell would."""
    run = pipeline("local")
    assert run.jobs == {"affidavit-begin-trail": "PASS", "affidavit-attest": "PASS"}, run.output
    flow = json.loads(cli("get", "flow", "local", "--output", "json").out)
    assert flow["description"] == "Included locally"
    assert flow["template"]["trail"]["attestations"] == [{"name": "unit", "type": "junit"}]
    record = json.loads(cli("get", "attestation", "unit", "--flow", "local", "--trail", run.sha,
                            "--output", "json").out)["record"]
    assert record["annotations"] == {"note": "two words"}
    assert record["compliant"] is True  # one failure, allowed by --max-failures 1
    assert cli("assert", "trail", run.sha, "--flow", "local").code == 0



@needs_gcl
def test_the_components_write_to_a_team_server_with_a_masked_variable(
        pipeline: Callable[..., Pipeline], cli: Callable[..., Result],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """``ledger`` input + the project's CI/CD variable AFFIDAVIT_API_TOKEN: the evidence lands on
    a real ``affidavit server`` (not in the pipeline's default ledger), the token never shows in
    a job's log, and without it every job that talks to the server fails on its 401."""
    with team_server(tmp_path_factory.mktemp("team")) as team:
        run = pipeline("team", f"TEAM_LEDGER={team.ledger}",
                       project_variables={"AFFIDAVIT_API_TOKEN": team.token})
        assert run.jobs == {"affidavit-begin-trail": "PASS", "affidavit-attest": "PASS",
                            "affidavit-assert": "PASS", "affidavit-evidence-package": "PASS"}, (
            run.output)
        assert run.code == 0
        assert team.size() == 3  # flow, trail, the JUnit attestation
        _assert_token_not_logged(run, team.token)
        # what landed is the run's: read back from the server with the token, as a client would
        trail = _team_trail(team, tmp_path_factory.mktemp("reader"), run.sha, "team")
        assert [(a["name"], a["compliant"]) for a in trail["attestations"]] == [("unit", True)]
        # and nothing went to the pipeline's own AFFIDAVIT_LEDGER (the test's SQLite file)
        assert [e["kind"] for e in json.loads(cli("log", "ledger", "--output", "json").out)] == [
            "flow"]

        refused = pipeline("team", f"TEAM_LEDGER={team.ledger}")
        assert refused.code != 0
        assert refused.jobs["affidavit-begin-trail"] == "FAIL", refused.output
        assert "a valid API token is needed" in refused.output
        assert team.size() == 3


def _assert_token_not_logged(run: Pipeline, token: str) -> None:
    """gitlab-ci-local masks nothing: the token is in neither its output nor any job's log."""
    logs = [p.read_text() for p in (run.repo / ".gitlab-ci-local").rglob("*.log")]
    assert logs and not [text for text in [run.output, *logs] if token in text]


def _team_trail(team: Team, cache: Path, trail: str, flow: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_")}
    env.update(AFFIDAVIT_LEDGER=team.ledger, AFFIDAVIT_API_TOKEN=team.token,
               AFFIDAVIT_CACHE_DIR=str(cache))
    got: dict[str, Any] = json.loads(subprocess.run(
        [str(VENV_BIN / "affidavit"), "get", "trail", trail, "--flow", flow, "--output", "json"],
        env=env, capture_output=True, text=True, check=True).stdout)
    return got


def test_no_template_traces_or_handles_the_token() -> None:
    """gitlab-ci-local masks nothing, so the log check above is the job's own output; GitLab
    masks AFFIDAVIT_API_TOKEN when the variable is masked. Either way the templates stay out
    of it: no shell tracing that would print expanded commands, and the token is only ever
    read by the core from the environment, never by a script."""
    for component in COMPONENTS:
        text = (TEMPLATES / f"{component}.yml").read_text()
        _, jobs = _documents(component)
        (job,) = jobs.values()
        script = "\n".join(job["script"])
        assert not re.search(r"set -[a-wyz]*x|set -o xtrace|bash -x|sh -x", script), component
        assert "TOKEN" not in script and "TOKEN" not in json.dumps(job["variables"]), component
        assert "printenv\n" not in script and not re.search(r"^\s*(env|set)\s*$", script,
                                                             re.MULTILINE), component
        assert "api-token" not in text, component  # a secret is a CI/CD variable, not an input

# --- the snapshot component ----------------------------------------------------------------------


def _has_assert_snapshot(cli: Callable[..., Result]) -> bool:
    """`affidavit assert snapshot` is the core's newest gate: what needs it is skipped on a
    core without it."""
    try:
        return cli("assert", "snapshot", "--help").code == 0
    except SystemExit as exit_:  # argparse: --help exits 0, an unknown noun 2
        return exit_.code == 0


def _snapshot(cli: Callable[..., Result], environment: str) -> dict[str, Any]:
    got = cli("get", "snapshot", environment, "--output", "json")
    assert got.code == 0, got.err
    snapshot: dict[str, Any] = json.loads(got.out)
    return snapshot


@needs_gcl
def test_snapshot_records_what_runs_only_when_it_changed(
        pipeline: Callable[..., Pipeline], cli: Callable[..., Result]) -> None:
    """pipelines/snapshot.gitlab-ci.yml: `record` creates the environment and records what runs
    (the artifact the trail reported, with its provenance), `again` records nothing; each
    report is kept; the k8s job's inputs reach a stub CLI as the words and AFFIDAVIT_*
    variables of create environment, snapshot k8s and assert snapshot."""
    run = pipeline("snapshot")
    assert run.jobs == {"affidavit-begin-trail": "PASS", "attest-app": "PASS", "record": "PASS",
                        "again": "PASS", "snapshot-k8s": "PASS"}, run.output
    kinds = [e["kind"] for e in json.loads(cli("log", "ledger", "--output", "json").out)]
    assert kinds == ["flow", "trail", "artifact", "environment", "snapshot"]
    snapshot = _snapshot(cli, "staging")
    (app,) = snapshot["artifacts"]
    assert (snapshot["number"], app["name"]) == (1, "app")
    assert (app["provenance"]["flow"], app["provenance"]["trail"]) == ("demo", run.sha)
    assert run.artifact("record", "out/record.md").startswith("staging#1 recorded as entry 4")
    assert run.artifact("again", "out/again.md").startswith(
        "staging: unchanged since snapshot #1")

    calls = [json.loads(line) for line in
             (run.build("snapshot-k8s") / "stub" / "calls.jsonl").read_text().splitlines()]
    assert [c["argv"] for c in calls] == [
        ["--version"], ["create", "environment", "prod-k8s"], ["snapshot", "k8s", "prod-k8s"],
        ["assert", "snapshot", "prod-k8s", "--output", "markdown"]]
    mapped = [{k: v for k, v in c["env"].items() if not k.startswith(
        ("AFFIDAVIT_COMPONENT_", "AFFIDAVIT_INPUT_", "AFFIDAVIT_CACHE_DIR"))} for c in calls]
    options = {"AFFIDAVIT_NAMESPACE": "shop,payments", "AFFIDAVIT_EXCLUDE_NAMESPACE": "kube-system",
               "AFFIDAVIT_KUBECONFIG": "kube/config",
               "AFFIDAVIT_CONTEXT": """it's "prod"; $(touch pwned)""",
               "AFFIDAVIT_LEDGER": "https://ledger.example/orgs/acme", "AFFIDAVIT_DRY_RUN": "true"}
    # `args` is the snapshot's: create environment and assert snapshot have it empty
    assert mapped[1] == {**options, "AFFIDAVIT_TYPE": "k8s", "AFFIDAVIT_ARGS": ""}
    assert mapped[2] == {**options, "AFFIDAVIT_ARGS": "--kubeconfig 'kube/other config'"}
    assert mapped[3] == {**options, "AFFIDAVIT_ARGS": ""}
    assert not list(run.repo.rglob("pwned"))


@needs_gcl
def test_snapshot_assert_gates_on_the_environments_policy(
        pipeline: Callable[..., Pipeline], cli: Callable[..., Result], tmp_path: Path) -> None:
    """The same pipeline with `assert: true` and a policy on staging (every artifact from a
    trail): `record` passes (the app has its trail) with the verdict in its report; `again`,
    here a file no trail reported, records it and fails the job with the reason."""
    if not _has_assert_snapshot(cli):
        pytest.skip("the core has no `affidavit assert snapshot` yet")
    policy = tmp_path / "policy.yml"
    policy.write_text("_schema: https://kosli.com/schemas/policy/environment/v1\n"
                      "artifacts:\n  provenance:\n    required: true\n")
    for args in (("create", "environment", "staging", "--type", "server"),
                 ("create", "policy", "needs-provenance", "--file", policy),
                 ("attach", "policy", "needs-provenance", "--environment", "staging")):
        assert cli(*args).code == 0
    source = tmp_path / "snapshot-assert.gitlab-ci.yml"
    source.write_text((FIXTURES / "pipelines" / "snapshot.gitlab-ci.yml").read_text()
                      .replace("assert: false", "assert: true")
                      .replace("path: ./reports/passing.xml", "path: reports/failing.xml"))
    run = pipeline("snapshot-assert", source=source)
    assert (run.jobs["record"], run.jobs["again"]) == ("PASS", "FAIL"), run.output
    assert run.code != 0
    record = run.artifact("record", "out/record.md")
    assert "### ✅ snapshot staging#1: COMPLIANT" in record, record
    again = run.artifact("again", "out/again.md")
    assert again.startswith("staging#2 recorded as entry "), again
    assert "### ❌ snapshot staging#2: NON_COMPLIANT" in again and "no provenance" in again
    assert _snapshot(cli, "staging")["number"] == 2  # recorded first, then judged


# --- schema -------------------------------------------------------------------------------------


def _check_jsonschema(*paths: str) -> None:
    """``check-jsonschema --builtin-schema vendor.gitlab-ci`` (installed with gitlab-ci-local by
    ``tests/wrappers/install-gitlab.sh``, so these tests skip with the pipelines, never alone)."""
    assert CHECK_JSONSCHEMA, "check-jsonschema is missing: run tests/wrappers/install-gitlab.sh"
    done = subprocess.run([CHECK_JSONSCHEMA, "--builtin-schema", "vendor.gitlab-ci", *paths],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def _documents(component: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, jobs = yaml.safe_load_all((TEMPLATES / f"{component}.yml").read_text())
    return header, jobs


def _render(component: str) -> dict[str, Any]:
    """The jobs document as GitLab would see it with every input at its default (required ones
    get a placeholder, or their first option): `$[[ ... ]]` only becomes YAML GitLab accepts
    after interpolation (``rules: $[[ inputs.rules ]]`` is a list only then)."""
    header, _ = _documents(component)
    text = (TEMPLATES / f"{component}.yml").read_text().split("\n---\n", 1)[1]
    inputs = header["spec"]["inputs"]

    def value(match: re.Match[str]) -> str:
        spec = inputs[match[1]]
        got = spec.get("default", spec.get("options", [f"x-{match[1]}"])[0])
        if isinstance(got, bool):
            return str(got).lower()
        return got if isinstance(got, str) else json.dumps(got)

    rendered = re.sub(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", value, text)
    jobs: dict[str, Any] = yaml.safe_load(rendered)
    return jobs


@needs_gcl
@pytest.mark.parametrize("component", COMPONENTS)
def test_component_documents_match_the_gitlab_ci_schema(component: str, tmp_path: Path) -> None:
    """The header (``spec:``) is a valid document on its own (the schema has ``spec``); the jobs
    document is validated after interpolating the defaults, as GitLab does before validating."""
    header, jobs = _documents(component)
    assert set(header) == {"spec"}
    assert all("description" in spec for spec in header["spec"]["inputs"].values())
    rendered = _render(component)
    assert list(rendered) == [f"affidavit-{component}"]
    paths = []
    for part, doc in (("header", header), ("jobs", rendered)):
        path = tmp_path / f"{component}.{part}.json"
        path.write_text(json.dumps(doc))
        paths.append(str(path))
    _check_jsonschema(*paths)
    assert jobs  # the raw jobs document parses too


def test_inputs_map_to_one_cli_flag_each() -> None:
    """Every input is used in the jobs document (no dead inputs), and the closed sets carry
    ``options:``."""
    for component in COMPONENTS:
        header, _ = _documents(component)
        body = (TEMPLATES / f"{component}.yml").read_text().split("\n---\n", 1)[1]
        for key in header["spec"]["inputs"]:
            assert re.search(rf"\$\[\[ inputs\.{re.escape(key)} \]\]", body), (component, key)
    assert "options" in _documents("attest")[0]["spec"]["inputs"]["type"]
    assert "options" in _documents("assert")[0]["spec"]["inputs"]["subject"]


def test_every_template_installs_the_core_the_same_way_at_its_own_version() -> None:
    """One install step, word for word, in every template; its version is the project's (so a
    release tags both), and nothing refers to ``component.version``, which GitLab refuses in a
    ``local:`` include."""
    steps = set()
    for component in COMPONENTS:
        text = (TEMPLATES / f"{component}.yml").read_text()
        assert "component." not in text, component
        header, jobs = _documents(component)
        assert header["spec"]["inputs"]["version"]["default"] == VERSION
        (job,) = jobs.values()
        steps.add(job["script"][0])
    assert len(steps) == 1
    (step,) = steps
    assert "git+$AFFIDAVIT_COMPONENT_REPOSITORY@v$AFFIDAVIT_COMPONENT_VERSION" in step


@needs_gcl
def test_consumer_pipelines_match_the_gitlab_ci_schema() -> None:
    """The consumer pipelines (the way a project includes the components) are valid too."""
    examples = sorted(EXAMPLES.glob("*.gitlab-ci.yml"))  # `*` matches nothing too: .gitlab-ci.yml
    assert [p.name for p in examples] == [".gitlab-ci.yml", "team.gitlab-ci.yml"]
    _check_jsonschema(*sorted(str(p) for p in (FIXTURES / "pipelines").glob("*.gitlab-ci.yml")),
                      *map(str, examples))


#: The project's access token for reading its merge requests (a masked CI/CD variable).
GITLAB_TOKEN = "glpat-read0api0of0the0project"
#: The project gitlab-ci-local names after ORIGIN (CI_PROJECT_PATH).
PROJECT_PATH = "affidavit/affidavit"
def _check_merge_request(record: dict[str, Any], fake: FakeProvider, sha: str) -> None:
    """The example's merge-request attestation: found by the pipeline's commit in the
    pipeline's project, every request with the project's token (never the job token)."""
    assert (record["type"], record["compliant"]) == ("pull_request", True)
    predicate = record["statement"]["predicate"]
    assert (predicate["provider"], predicate["base_url"]) == ("gitlab", fake.base_url)
    assert (predicate["repository"], predicate["commit"]) == (PROJECT_PATH, sha)
    assert predicate["lookup"] == {"by": "commit", "polls": 1, "waited_seconds": 0.0}
    assert predicate["policy"] == {"require_approvals": 1, "allow_stale_approvals": False}
    assert predicate["pull_requests"] == [recorded_gitlab_merge_request(PROJECT_PATH, sha)]
    project = "/api/v4/projects/affidavit%2Faffidavit"
    assert fake.paths[0] == (f"{project}/repository/commits/{sha}/merge_requests?per_page=100")
    assert f"{project}/merge_requests/7/approvals" in fake.paths
    assert [r["headers"] for r in fake.requests if r["headers"].get("private-token") !=
            GITLAB_TOKEN or "job-token" in r["headers"]] == []


@needs_gcl
def test_example_pipeline_runs_green(pipeline: Callable[..., Pipeline],
                                     cli: Callable[..., Result]) -> None:
    """examples/gitlab/.gitlab-ci.yml: build, attest artifact + JUnit + SARIF + the merge
    request of the commit (from a fake GitLab, read with the project's masked variable
    AFFIDAVIT_GITLAB_TOKEN), gate, deploy."""
    example = Path(__file__).resolve().parents[2] / "examples" / "gitlab" / ".gitlab-ci.yml"
    with FakeProvider("gitlab", "", GITLAB_TOKEN, repository=PROJECT_PATH) as fake:
        run = pipeline("example", f"AFFIDAVIT_GITLAB_BASE_URL={fake.base_url}", source=example,
                       project_variables={"AFFIDAVIT_GITLAB_TOKEN": GITLAB_TOKEN},
                       on_commit=fake.serve)
    assert run.code == 0, run.output
    assert run.jobs.get("deploy") == "PASS", run.output
    assert run.jobs.get("attest-merge-request") == "PASS", run.output
    assert cli("assert", "trail", run.sha, "--flow", "shop").code == 0
    assert cli("verify", "ledger").code == 0
    kinds = json.loads(cli("get", "trail", run.sha, "--flow", "shop", "--output", "json").out)
    assert sorted(a["name"] for a in kinds["attestations"]) == [
        "merge-request", "sast", "unit-tests"]
    assert [a["name"] for a in kinds["artifacts"]] == ["shop"]
    flow = json.loads(cli("get", "flow", "shop", "--output", "json").out)
    assert flow["description"] == "Shop delivery" and len(flow["entries"]) == 1
    assert run.jobs.get("affidavit-evidence-package") == "PASS", run.output
    _check_merge_request(_attestation(cli, run.sha, "merge-request", "shop"), fake, run.sha)
    summary = run.artifact("attest-merge-request", "summary-merge-request.md")
    assert summary.startswith("### ✅ merge-request (pull_request): compliant"), summary
    _assert_token_not_logged(run, GITLAB_TOKEN)
    # after the deploy: production runs shop, the artifact of this commit's trail, and the
    # snapshot met production's policy (assert: true)
    assert run.jobs.get("production-policy") == "PASS", run.output
    assert run.jobs.get("snapshot-production") == "PASS", run.output
    snapshot = json.loads(cli("get", "snapshot", "production", "--output", "json").out)
    (shop,) = snapshot["artifacts"]
    assert (snapshot["number"], shop["name"]) == (1, "shop")
    assert (shop["provenance"]["flow"], shop["provenance"]["trail"]) == ("shop", run.sha)
    assert shop["provenance"]["trail_status"] == "COMPLIANT"
    report = run.artifact("snapshot-production", "affidavit-snapshot.md")
    assert report.startswith("production#1 recorded as entry "), report
    assert "### ✅ snapshot production#1: COMPLIANT" in report, report


@needs_gcl
def test_pullrequest_inputs_reach_the_cli(pipeline: Callable[..., Pipeline],
                                          cli: Callable[..., Result]) -> None:
    """pipelines/pullrequest.gitlab-ci.yml: provider, pr-repository, pr, base-url,
    require-approvals, allow-stale-approvals and max-wait each reach the CLI, here for a
    GitHub pull request read with the project's AFFIDAVIT_GITHUB_TOKEN."""
    token = "github_pat_0f0the0project"
    with FakeProvider("github", "c" * 40, token) as fake:
        run = pipeline("pullrequest", f"FAKE_GITHUB_API={fake.base_url}",
                       project_variables={"AFFIDAVIT_GITHUB_TOKEN": token})
    assert run.jobs == {"affidavit-begin-trail": "PASS", "pull request": "PASS"}, run.output
    expanded = yaml.safe_load((run.repo / ".gitlab-ci-local" / "expanded-gitlab-ci.yml")
                              .read_text())
    variables = expanded["pull request"]["variables"]
    assert {k: str(variables[k]) for k in (
        "AFFIDAVIT_COMPONENT_TYPE", "AFFIDAVIT_COMPONENT_PROVIDER",
        "AFFIDAVIT_COMPONENT_REQUIRE_APPROVALS", "AFFIDAVIT_INPUT_REPOSITORY",
        "AFFIDAVIT_INPUT_PR", "AFFIDAVIT_INPUT_BASE_URL", "AFFIDAVIT_INPUT_ALLOW_STALE_APPROVALS",
        "AFFIDAVIT_INPUT_MAX_WAIT")} == {
        "AFFIDAVIT_COMPONENT_TYPE": "pullrequest", "AFFIDAVIT_COMPONENT_PROVIDER": "github",
        "AFFIDAVIT_COMPONENT_REQUIRE_APPROVALS": "1", "AFFIDAVIT_INPUT_REPOSITORY": "acme/shop",
        "AFFIDAVIT_INPUT_PR": "42", "AFFIDAVIT_INPUT_BASE_URL": "$FAKE_GITHUB_API",
        "AFFIDAVIT_INPUT_ALLOW_STALE_APPROVALS": "true", "AFFIDAVIT_INPUT_MAX_WAIT": "0"}
    # by number (no lookup by commit), at the expanded base-url, with the project's token
    assert fake.paths[0] == "/repos/acme/shop/pulls/42"
    assert {r["headers"]["authorization"] for r in fake.requests} == {f"Bearer {token}"}
    record = _attestation(cli, "pr-42", "review")
    assert (record["type"], record["compliant"]) == ("pull_request", True)
    predicate = record["statement"]["predicate"]
    assert (predicate["provider"], predicate["repository"], predicate["base_url"]) == (
        "github", "acme/shop", fake.base_url)
    assert predicate["lookup"] == {"by": "number", "polls": 1, "waited_seconds": 0.0}
    assert predicate["policy"] == {"require_approvals": 1, "allow_stale_approvals": True}
    assert [p["number"] for p in predicate["pull_requests"]] == [42]
    assert [(r["reviewer"]["login"], r["state"], r["commit"])
            for r in predicate["pull_requests"][0]["reviews"]] == [
        ("linus", "commented", FIRST), ("grace", "approved", FIRST), ("grace", "approved", HEAD)]
    assert "review (pull_request): compliant" in run.artifact("pull request", "out/review.md")
    _assert_token_not_logged(run, token)


#: An Azure DevOps Server personal access token (the project's masked AFFIDAVIT_AZURE_TOKEN).
AZURE_TOKEN = "4kq7wz2n5xv3c8b6m1l9j0h2g4f6d8s0a3p5o7i9u1y3t5r7e9w2"


@needs_gcl
def test_pullrequest_of_an_azure_devops_server_repository(
        pipeline: Callable[..., Pipeline], cli: Callable[..., Result]) -> None:
    """pipelines/pullrequest-azure.gitlab-ci.yml: `provider: azure` with `pr-repository`
    (PROJECT/REPO) and `base-url` (a fake Azure DevOps Server's collection, api-version 7.0),
    the token the project's variable AFFIDAVIT_AZURE_TOKEN: pull request 31, whose merge commit
    the pipeline builds, is found by that commit and recorded in full, compliant with
    `require-approvals: 1` (Grace voted 10 on the final head); every request carried the
    token as Basic auth with an empty username, and no log shows it."""
    with FakeProvider("azure", "", AZURE_TOKEN, self_hosted=True) as fake:
        run = pipeline("pullrequest-azure", f"FAKE_AZURE_API={fake.base_url}",
                       project_variables={"AFFIDAVIT_AZURE_TOKEN": AZURE_TOKEN},
                       on_commit=fake.serve)
    assert run.jobs == {"affidavit-begin-trail": "PASS", "azure pull request": "PASS"}, (
        run.output)
    record = _attestation(cli, run.sha, "review")
    assert (record["type"], record["compliant"]) == ("pull_request", True)
    predicate = record["statement"]["predicate"]
    assert (predicate["provider"], predicate["base_url"]) == ("azure", fake.base_url)
    assert fake.base_url.endswith("/tfs/DefaultCollection")
    assert (predicate["repository"], predicate["commit"]) == ("Shop/shop", run.sha)
    assert predicate["lookup"] == {"by": "commit", "polls": 1, "waited_seconds": 0.0}
    assert predicate["policy"] == {"require_approvals": 1, "allow_stale_approvals": False}
    (pull,) = predicate["pull_requests"]
    assert (pull["number"], pull["state"], pull["head"]["sha"], pull["merge_commit"]) == (
        31, "merged", HEAD, run.sha)
    assert [(r["reviewer"]["login"], r["state"], r["commit"]) for r in pull["reviews"]] == [
        ("ACME\\grace", "approved", FIRST), ("ACME\\grace", "approved", HEAD)]
    assert pull == recorded_azure_pull(run.sha, self_hosted=True)
    repo = "/tfs/DefaultCollection/Shop/_apis/git/repositories/shop"
    assert fake.paths[0] == f"{repo}/pullrequestquery?api-version=7.0"
    assert fake.requests[0]["json"] == {"queries": [
        {"type": "lastMergeCommit", "items": [run.sha]}, {"type": "commit", "items": [run.sha]}]}
    basic = "Basic " + base64.b64encode(f":{AZURE_TOKEN}".encode()).decode()
    assert {r["headers"].get("authorization") for r in fake.requests} == {basic}
    assert "review (pull_request): compliant" in run.artifact("azure pull request",
                                                              "out/review.md")
    _assert_token_not_logged(run, AZURE_TOKEN)
    _assert_token_not_logged(run, basic.removeprefix("Basic "))


def test_pullrequest_inputs_are_typed() -> None:
    """The closed set and the numbers are GitLab's to check before a job starts; the provider
    word follows `type: pullrequest` only, and require-approvals 0 (asking none) leaves the
    flag out rather than handing the CLI a 0 it refuses."""
    inputs = _documents("attest")[0]["spec"]["inputs"]
    assert inputs["provider"] == {"options": ["gitlab", "github", "bitbucket", "azure"],
                                  "default": "gitlab",
                                  "description": inputs["provider"]["description"]}
    assert (inputs["require-approvals"]["type"], inputs["require-approvals"]["default"]) == (
        "number", 0)
    assert (inputs["max-wait"]["type"], inputs["max-wait"]["default"]) == ("number", 30)
    assert (inputs["allow-stale-approvals"]["type"],
            inputs["allow-stale-approvals"]["default"]) == ("boolean", False)
    assert inputs["pr"]["regex"] == "^([0-9]+)?$"
    assert "pullrequest" in inputs["type"]["options"]
    (job,) = _documents("attest")[1].values()
    script = "\n".join(job["script"])
    assert ('[ "$AFFIDAVIT_COMPONENT_TYPE" != pullrequest ] || set -- "$@" '
            '"$AFFIDAVIT_COMPONENT_PROVIDER"') in script
    assert 'if [ "$AFFIDAVIT_COMPONENT_REQUIRE_APPROVALS" != 0 ]; then' in script


@needs_gcl
def test_a_pull_request_number_that_is_not_one_stops_the_pipeline(
        pipeline: Callable[..., Pipeline], tmp_path: Path) -> None:
    """`pr: "#42"` does not match the input's regex: GitLab refuses the pipeline."""
    source = tmp_path / "bad-pr.gitlab-ci.yml"
    source.write_text((FIXTURES / "pipelines" / "pullrequest.gitlab-ci.yml").read_text()
                      .replace('pr: "42"', 'pr: "#42"'))
    run = pipeline("bad-pr", source=source)
    assert run.code != 0 and run.jobs == {}
    assert "`pr` input: `#42` does not match required regex: ^([0-9]+)?$" in run.output, (
        run.output)


@needs_gcl
def test_team_example_pipeline_runs_green_on_a_server(
        pipeline: Callable[..., Pipeline], tmp_path_factory: pytest.TempPathFactory) -> None:
    """examples/gitlab/team.gitlab-ci.yml, its ledger URL pointed at a real server and the token
    a project variable, the merge request from a fake GitLab: the whole pipeline passes and its
    trail is on the server, compliant, with the merge request."""
    text = (EXAMPLES / "team.gitlab-ci.yml").read_text()
    assert text.count(f"ledger: {EXAMPLE_LEDGER}") == 7  # every component's job
    folder = tmp_path_factory.mktemp("team")
    with team_server(folder) as team, FakeProvider("gitlab", "", GITLAB_TOKEN,
                                                   repository=PROJECT_PATH) as fake:
        source = folder / "team.gitlab-ci.yml"
        source.write_text(text.replace(EXAMPLE_LEDGER, team.ledger))
        run = pipeline("team-example", f"AFFIDAVIT_GITLAB_BASE_URL={fake.base_url}",
                       source=source, on_commit=fake.serve,
                       project_variables={"AFFIDAVIT_API_TOKEN": team.token,
                                          "AFFIDAVIT_GITLAB_TOKEN": GITLAB_TOKEN})
        assert run.code == 0, run.output
        assert run.jobs.get("deploy") == "PASS" and run.jobs.get(
            "affidavit-evidence-package") == "PASS", run.output
        assert team.size() == 6  # flow, trail, the artifact, JUnit, SARIF, the merge request
        _assert_token_not_logged(run, team.token)
        _assert_token_not_logged(run, GITLAB_TOKEN)
        trail = _team_trail(team, folder / "reader", run.sha, "shop")
        assert trail["status"] == "COMPLIANT"
        assert sorted(a["name"] for a in trail["attestations"]) == [
            "merge-request", "sast", "unit-tests"]
        assert [a["name"] for a in trail["artifacts"]] == ["shop"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_")}
        env.update(AFFIDAVIT_LEDGER=team.ledger, AFFIDAVIT_API_TOKEN=team.token,
                   AFFIDAVIT_CACHE_DIR=str(folder / "reader"))
        got = subprocess.run(
            [str(VENV_BIN / "affidavit"), "get", "attestation", "merge-request", "--flow",
             "shop", "--trail", run.sha, "--output", "json"], env=env, capture_output=True,
            text=True, check=True)
        _check_merge_request(json.loads(got.stdout)["record"], fake, run.sha)
