"""The GitHub composite actions under `actions/`, run for real by `act` on this machine.

`act push -P ubuntu-latest=-self-hosted` runs each job's steps on the host (no Docker), with
`--local-repository affidavit-dev/affidavit@v1=<copy of the project's sources>` so the
workflows use the published form `uses: affidavit-dev/affidavit/actions/attest@v1` without the
network, and `actions/setup` installs the core from that copy (`github.action_path/../..`), as it
does from the checkout GitHub makes for `uses:`. `actions/checkout@v4` needs no network either:
act skips it for the repository under test and copies the working tree into the job's workspace.

`actions/upload-artifact@v4` cannot be fetched here, and act fetches every action a workflow
names, even a skipped one: `--local-repository` points it at `github/offline/upload-artifact`,
which fails if it ever runs; the workflows skip the upload and the tests check the zip instead.

act truncates `$GITHUB_STEP_SUMMARY` at the start of every step (composite inner steps too) and
deletes it with the job, so no later step can read what an action wrote there; the summary is
checked by running each action's own `run:` script with bash against a temporary summary file.

Install the tools with `tests/wrappers/install-github.sh`; without `act` the module is skipped.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.helpers import copy_of_sources, read_github_outputs
from tests.wrappers.fake_provider import (
    FIRST,
    HEAD,
    FakeProvider,
    recorded_bitbucket_pull,
    recorded_github_pull,
)

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = ROOT / "actions"
HERE = Path(__file__).resolve().parent / "github"
WORKFLOWS = HERE / "workflows"
FIXTURES = HERE / "fixtures"
OFFLINE_UPLOAD = HERE / "offline" / "upload-artifact"
OWNER_REPO = "affidavit-dev/affidavit@v1"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


ACT = _tool("act")
VENV_AFFIDAVIT = Path(sys.executable).parent / "affidavit"

pytestmark = pytest.mark.skipif(
    ACT is None, reason="act is not installed (run tests/wrappers/install-github.sh)")


def _affidavit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tool("affidavit") or "affidavit", *args],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def core_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The core built once as a wheel, for the `package:` override (a fork's own build)."""
    out = tmp_path_factory.mktemp("wheel")
    source = copy_of_sources(tmp_path_factory.mktemp("source") / "affidavit")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out),
                    str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = out.glob("affidavit-*.whl")
    return wheel


@pytest.fixture(scope="module")
def action_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `affidavit-dev/affidavit@v1` resolves to: the project's sources, as GitHub checks
    them out for `uses:` (without the venv and caches)."""
    return copy_of_sources(tmp_path_factory.mktemp("action-repo") / "affidavit")


def _pip_cache_dir() -> str:
    """The developer's own pip cache, so `actions/setup` downloads nothing it has seen."""
    found = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True,
                           text=True)
    return found.stdout.strip() or str(Path.home() / ".cache/pip")


def _git_repo(folder: Path, origin: str | None = None) -> str:
    """A repository of ``folder`` with one commit (its SHA is returned); act names the
    repository (GITHUB_REPOSITORY) after the ``origin`` remote when there is one."""
    git = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=folder, check=True)
    if origin:
        subprocess.run(["git", "remote", "add", "origin", origin], cwd=folder, check=True)
    subprocess.run(["git", "add", "-A"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-qm", "consumer"], cwd=folder, check=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, check=True,
                          capture_output=True, text=True).stdout.strip()


def _act(repo: Path, workflow: str, base: Path, out: Path, action_repo: Path,
         *env: str, secrets: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith("AFFIDAVIT_")}
    environ["XDG_CACHE_HOME"] = str(base / "cache")  # act's job dirs (~/.cache/act) go to tmp too
    assert ACT is not None
    return subprocess.run(
        [ACT, "push", "-P", "ubuntu-latest=-self-hosted", "-W", f".github/workflows/{workflow}",
         "--local-repository", f"{OWNER_REPO}={action_repo}",
         "--local-repository", f"actions/upload-artifact@v4={OFFLINE_UPLOAD}",
         "--no-cache-server",
         "--env", f"AFFIDAVIT_LEDGER={out / 'ledger.db'}",
         "--env", f"AFFIDAVIT_TEST_OUT={out}",
         "--env", f"AFFIDAVIT_TEST_PIP_CACHE={_pip_cache_dir()}",
         *[arg for pair in env for arg in ("--env", pair)],
         *[arg for pair in secrets for arg in ("-s", pair)]],
        cwd=repo, env=environ, capture_output=True, text=True, timeout=300)


def _consumer(name: str, base: Path, source: Path | None = None,
              origin: str | None = None) -> tuple[Path, Path, str]:
    """A fresh consumer repository holding tests/wrappers/github/workflows/NAME (or
    ``source``), the folder the workflow writes to, and the commit act runs on."""
    consumer, out = base / "consumer", base / "out"
    (consumer / ".github/workflows").mkdir(parents=True)
    out.mkdir()
    shutil.copy(source or WORKFLOWS / name, consumer / ".github/workflows" / name)
    shutil.copytree(FIXTURES, consumer / "fixtures")
    return consumer, out, _git_repo(consumer, origin)


def run_workflow(name: str, base: Path, action_repo: Path, *env: str,
                 source: Path | None = None, secrets: tuple[str, ...] = (),
                 ) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run tests/wrappers/github/workflows/NAME (or ``source``) under act in a fresh consumer
    repository."""
    consumer, out, _ = _consumer(name, base, source)
    return _act(consumer, name, base, out, action_repo, *env, secrets=secrets), out


#: The job's `github.token` under act (act takes it from the GITHUB_TOKEN secret).
JOB_TOKEN = "ghs_job0token0of0this0run0000000000000"


@dataclass
class Run:
    """One act run against a fake GitHub API: the run, its output folder, the commit it
    built, and what the API was asked."""

    result: subprocess.CompletedProcess[str]
    out: Path
    sha: str
    fake: FakeProvider


def run_with_github(name: str, base: Path, action_repo: Path, *env: str,
                    source: Path | None = None, secrets: tuple[str, ...] = (),
                    approved_head: bool = True, token: str = JOB_TOKEN) -> Run:
    """``run_workflow`` in a repository named acme/shop, its commit the merge commit of pull
    request #42 on a fake GitHub (tests/wrappers/fake_provider.py) that only ``token`` may
    read, found by the CLI through AFFIDAVIT_GITHUB_BASE_URL."""
    consumer, out, sha = _consumer(name, base, source, "https://github.com/acme/shop.git")
    with FakeProvider("github", sha, token, approved_head=approved_head) as fake:
        result = _act(consumer, name, base, out, action_repo,
                      f"AFFIDAVIT_GITHUB_BASE_URL={fake.base_url}", *env,
                      secrets=(f"GITHUB_TOKEN={JOB_TOKEN}", *secrets))
    return Run(result, out, sha, fake)


def pull_request_attestation(ledger: Path | str, flow: str, trail: str,
                             name: str = "pull-request", *env: str) -> dict[str, Any]:
    """The ``pull_request`` attestation NAME as the CLI reads it back."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_")}
    environ.update(dict(e.split("=", 1) for e in env))
    got = subprocess.run([str(VENV_AFFIDAVIT), "get", "attestation", name, "--flow", flow,
                          "--trail", trail, "--ledger", str(ledger), "--output", "json"],
                         env=environ, capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    record: dict[str, Any] = json.loads(got.stdout)["record"]
    return record


def read_outputs(out: Path) -> dict[str, str]:
    outputs: dict[str, str] = json.loads((out / "outputs.json").read_text())
    return outputs


@pytest.fixture(scope="module")
def happy(tmp_path_factory: pytest.TempPathFactory,
          action_repo: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    return run_workflow("attest.yml", tmp_path_factory.mktemp("happy"), action_repo)


def test_happy_path_job_succeeds(happy: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, _ = happy
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Job succeeded" in result.stdout


def test_setup_installs_the_core_from_the_actions_own_checkout(
        happy: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """Two levels above `actions/setup` in the checkout of `affidavit-dev/affidavit@v1` (act
    names its copy of that checkout after the action:
    `…/affidavit-dev-affidavit-actions-setup@v1`)."""
    result, out = happy
    assert read_outputs(out)["SETUP_VERSION"] == VERSION
    (source,) = re.findall(rf"installed affidavit {re.escape(VERSION)} from (\S+) into",
                           result.stdout)
    assert source.endswith("/affidavit-dev-affidavit-actions-setup@v1"), source


def test_outputs_of_each_action(happy: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = happy
    outputs = read_outputs(out)
    sha = (out / "sha").read_text().strip()
    assert (outputs["BEGIN_INDEX"], outputs["BEGIN_TRAIL"]) == ("1", sha)  # the flow is entry 0
    assert (outputs["REVIEW_INDEX"], outputs["REVIEW_COMPLIANT"]) == ("2", "true")
    assert (outputs["UNIT_INDEX"], outputs["UNIT_COMPLIANT"]) == ("3", "true")
    assert outputs["UNIT_RESULTS"] == "fixtures/junit-pass.xml"
    assert outputs["APP_INDEX"] == "4"
    app = _affidavit("fingerprint", "--artifact-type", "dir", str(FIXTURES))
    assert app.returncode == 0, app.stderr
    assert outputs["APP_FINGERPRINT"] == app.stdout.strip()
    assert outputs["BOUND_FINGERPRINT"] == app.stdout.strip()
    assert outputs["BOUND_COMPLIANT"] == "true"  # one failure, allowed by --max-failures 1
    assert sorted(outputs["BOUND_RESULTS"].split("\n")) == [
        "fixtures/junit-fail.xml", "fixtures/junit-pass.xml"]
    assert outputs["DRY_INDEX"] == ""
    assert outputs["DRY_COMPLIANT"] == "false"
    assert (outputs["GATE_COMPLIANT"], outputs["GATE_STATUS"]) == ("true", "COMPLIANT")


def test_evidence_package_is_written_and_verifies(
        happy: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """The zip an auditor gets; its upload (actions/upload-artifact) is skipped offline."""
    result, out = happy
    outputs = read_outputs(out)
    assert outputs["EVIDENCE_PACKAGE"] == str(out / "evidence.zip")
    assert outputs["EVIDENCE_ARTIFACT"] == ""
    assert "not reachable offline" not in result.stdout
    with zipfile.ZipFile(out / "evidence.zip") as package:
        scope = json.loads(package.read("manifest.json"))["scope"]
    assert scope == {"flow": "demo", "trail": (out / "sha").read_text().strip(),
                     "fingerprint": None}
    key = _affidavit("ledger", "public-key", "--ledger", str(out / "ledger.db"))
    verified = _affidavit("verify", "package", str(out / "evidence.zip"), "--public-key",
                          key.stdout.strip())
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_ledger_holds_the_trail_named_after_the_commit(
        happy: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = happy
    ledger = str(out / "ledger.db")
    verified = _affidavit("verify", "ledger", "--ledger", ledger)
    assert verified.returncode == 0, verified.stderr
    sha = (out / "sha").read_text().strip()
    entries = json.loads(_affidavit("log", "ledger", "--ledger", ledger, "--output", "json").stdout)
    assert [(e["kind"], e["subject"].split("/")[-1]) for e in entries][:2] == [
        ("flow", "demo"), ("trail", sha)]
    assert len(entries) == 6  # flow, trail, review, unit, app, bound: the dry run wrote nothing
    trail = json.loads(_affidavit("get", "trail", sha, "--flow", "demo", "--ledger", ledger,
                                  "--output", "json").stdout)
    assert trail["status"] == "COMPLIANT"
    assert trail["description"] == 'change under test: "quotes" and $dollars'
    review = json.loads(_affidavit("get", "attestation", "review", "--flow", "demo", "--trail", sha,
                                   "--ledger", ledger, "--output", "json").stdout)
    assert "Ada Lovelace" in json.dumps(review)


def test_failing_assert_fails_the_job(tmp_path: Path, core_wheel: Path,
                                      action_repo: Path) -> None:
    """Also: `package:` installs a wheel instead, and the flow comes from its template."""
    result, out = run_workflow("failing-assert.yml", tmp_path, action_repo,
                               f"AFFIDAVIT_TEST_CORE={core_wheel}")
    assert result.returncode != 0, result.stdout[-4000:]
    assert "Job failed" in result.stdout
    assert f"from {core_wheel} into" in result.stdout
    assert not (out / "reached").exists()
    outputs = read_outputs(out)
    assert outputs["UNIT_COMPLIANT"] == "false"  # recorded first, then failed
    ledger = str(out / "ledger.db")
    verdict = _affidavit("assert", "trail", "failing", "--flow", "demo", "--ledger", ledger)
    assert verdict.returncode == 1
    assert "1 test failed, more than --max-failures 0" in verdict.stdout
    flow = json.loads(_affidavit("get", "flow", "demo", "--ledger", ledger, "--output",
                                 "json").stdout)
    assert flow["template"]["trail"]["attestations"] == [{"name": "unit", "type": "junit"}]


# --- the run: scripts on their own: what they write to $GITHUB_STEP_SUMMARY ----------------------


def run_action_script(action: str, inputs: dict[str, str], tmp_path: Path,
                      env: dict[str, str] | None = None, *,
                      github: dict[str, str] | None = None, bin_dir: Path | None = None,
                      step_id: str | None = None,
                      ) -> tuple[subprocess.CompletedProcess[str], str, dict[str, str]]:
    """Run ACTION's single `run:` step (or the one with id ``step_id``) as the runner would: its
    `env:` with `inputs.*` filled in (a tiny evaluator for `${{ inputs.x }}`,
    `${{ inputs.x || env.Y }}` and `${{ github.x }}` from ``github``, the workflow's context);
    ``env`` is the job's environment, and the CLI the one in ``bin_dir`` (default this venv's).
    A step's `if:` is not evaluated: the caller picks the steps that would run."""
    meta = yaml.safe_load((ACTIONS / action / "action.yml").read_text())
    (step,) = [s for s in meta["runs"]["steps"]
               if "run" in s and (step_id is None or s.get("id") == step_id)]
    defaults = {k: str(v.get("default", "")) for k, v in meta["inputs"].items()}
    values = {**defaults, **inputs}
    base = {**(env or {})}
    step_env = {}
    for key, expr in step.get("env", {}).items():
        if not expr.strip().startswith("${{"):  # a literal value
            step_env[key] = expr
            continue
        body = expr.strip().removeprefix("${{").removesuffix("}}").strip()
        value = ""
        for alternative in (part.strip() for part in body.split("||")):
            kind, _, name = alternative.partition(".")
            context = {"inputs": values, "env": base, "github": github or {}}[kind]
            value = context.get(name, "")
            if value:
                break
        step_env[key] = value
    tmp_path.mkdir(parents=True, exist_ok=True)
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    summary.touch()
    output.touch()
    cli_dir = str(bin_dir or Path(_tool("affidavit") or "affidavit").parent)
    full_env = {**{k: v for k, v in os.environ.items()  # a job has no token unless it sets one
                   if not k.startswith("AFFIDAVIT_") and k != "GITHUB_TOKEN"},
                **base, **step_env, "GITHUB_ACTION_PATH": str(ACTIONS / action),
                "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output),
                "PATH": cli_dir + os.pathsep + os.environ["PATH"]}
    result = subprocess.run(["bash", "-e", "-c", step["run"]], env=full_env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    return result, summary.read_text(), dict(read_github_outputs(output))


@pytest.fixture
def ledger(tmp_path: Path) -> dict[str, str]:
    env = {"AFFIDAVIT_LEDGER": str(tmp_path / "ledger.db")}
    created = subprocess.run([_tool("affidavit") or "affidavit", "create", "flow", "demo"],
                             env={**os.environ, **env}, capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    return env


def test_summaries_written_by_each_action(tmp_path: Path, ledger: dict[str, str]) -> None:
    result, summary, outputs = run_action_script(
        "begin-trail", {"flow": "demo", "trail": "t1"}, tmp_path / "a", ledger)
    assert result.returncode == 0, result.stderr
    assert summary.startswith("### Trail t1")
    assert (outputs["entry-index"], outputs["trail"]) == ("1", "t1")

    result, summary, outputs = run_action_script(
        "attest", {"type": "junit", "flow": "demo", "trail": "t1", "name": "unit",
                   "results": str(FIXTURES / "junit-fail.xml")}, tmp_path / "b", ledger)
    assert result.returncode == 0, result.stderr
    assert summary.startswith("### ❌ unit (junit): not compliant")
    assert "test_div" in summary and "| Ledger entry | 2 |" in summary
    assert outputs == {"entry-index": "2", "flow": "demo", "trail": "t1", "compliant": "false",
                       "fingerprint": "", "results": str(FIXTURES / "junit-fail.xml")}

    result, summary, outputs = run_action_script(
        "assert", {"flow": "demo", "trail": "t1"}, tmp_path / "c", ledger)
    assert result.returncode == 1
    reason = ("trail: attestation 'unit' is not compliant: 1 test failed, more than "
              "--max-failures 0")
    assert summary.startswith(f"### ❌ trail demo/t1: NON_COMPLIANT\n\n- {reason}\n")
    assert outputs == {"compliant": "false", "status": "NON_COMPLIANT",
                       "subject": "trail demo/t1", "reasons": reason}

    result, summary, outputs = run_action_script(
        "assert", {"subject": "attestation", "flow": "demo", "trail": "t1", "name": "unit"},
        tmp_path / "d", ledger)
    assert result.returncode == 1
    assert summary.startswith("### ❌ attestation demo/t1/unit: NON_COMPLIANT")


def test_token_is_masked_and_args_split_like_a_shell(tmp_path: Path,
                                                     ledger: dict[str, str]) -> None:
    run_action_script("begin-trail", {"flow": "demo", "trail": "t1"}, tmp_path / "a", ledger)
    result, summary, outputs = run_action_script(
        "attest", {"type": "generic", "flow": "demo", "trail": "t1", "name": "review",
                   "api-token": "s3cr3t", "dry-run": "true",
                   "args": "--compliant true --annotate 'note=two words; $(touch pwned)'"},
        tmp_path / "b", ledger)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("::add-mask::s3cr3t\n")
    assert "two words; $(touch pwned)" in result.stdout
    assert not (tmp_path / "b" / "pwned").exists()
    assert "dry run: not recorded" in summary
    assert outputs["entry-index"] == "" and outputs["compliant"] == "true"


def test_pullrequest_inputs_reach_the_cli(tmp_path: Path, ledger: dict[str, str]) -> None:
    """Every pull-request input, through the real CLI to a fake GitHub: `provider` defaults
    to github, `provider-token` is what is sent (and masked), `pr` is looked up directly,
    `repository`, `base-url`, `require-approvals`, `allow-stale-approvals` and `max-wait`
    are what the record says. With stale approvals allowed, Grace's approval of the first
    push counts."""
    run_action_script("begin-trail", {"flow": "demo", "trail": "t1"}, tmp_path / "a", ledger)
    merge = "e" * 40
    with FakeProvider("github", merge, "ghp_given0token") as fake:
        result, summary, outputs = run_action_script(
            "attest", {"type": "pullrequest", "flow": "demo", "trail": "t1", "name": "pr",
                       "repository": "acme/shop", "pr": "42", "base-url": fake.base_url,
                       "provider-token": "ghp_given0token", "require-approvals": "1",
                       "allow-stale-approvals": "true", "max-wait": "0"},
            tmp_path / "b", ledger, github={"token": JOB_TOKEN})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("::add-mask::ghp_given0token\n")
    assert {r["headers"]["authorization"] for r in fake.requests} == {"Bearer ghp_given0token"}
    assert fake.paths[0] == "/repos/acme/shop/pulls/42"  # by number: no lookup by commit
    assert (outputs["entry-index"], outputs["compliant"]) == ("2", "true")
    assert "pr (pull_request)" in summary
    record = pull_request_attestation(ledger["AFFIDAVIT_LEDGER"], "demo", "t1", "pr")
    predicate = record["statement"]["predicate"]
    assert (predicate["provider"], predicate["repository"], predicate["base_url"]) == (
        "github", "acme/shop", fake.base_url)
    assert predicate["lookup"] == {"by": "number", "polls": 1, "waited_seconds": 0.0}
    assert predicate["policy"] == {"require_approvals": 1, "allow_stale_approvals": True}
    assert predicate["pull_requests"] == [recorded_github_pull(merge)]


STUB_CLI = """\
import json, os, sys
with open(os.environ["STUB_OUT"], "w") as out:
    json.dump({"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items()
               if k.startswith("AFFIDAVIT_") or k == "GITHUB_TOKEN"}}, out)
"""


@pytest.fixture
def stub_cli(tmp_path: Path) -> tuple[Path, Path]:
    """A stand-in `affidavit` that records its argv and environment: (its folder, the file)."""
    folder = tmp_path / "stub-bin"
    folder.mkdir()
    stub = folder / "affidavit"
    stub.write_text(f"#!{sys.executable}\n{STUB_CLI}")
    stub.chmod(0o755)
    return folder, tmp_path / "seen.json"


@pytest.mark.parametrize(("inputs", "job_env", "argv", "seen_env"), [
    # provider github by default, the job's token as GITHUB_TOKEN (the CLI's last choice)
    ({"type": "pullrequest"}, {},
     ["attest", "pullrequest", "github"], {"GITHUB_TOKEN": JOB_TOKEN}),
    # a token the job sets wins: GITHUB_TOKEN (a PAT, say) is kept, provider-token is --token
    ({"type": "pullrequest", "provider-token": "ghp_pat"}, {"GITHUB_TOKEN": "ghp_job_env"},
     ["attest", "pullrequest", "github"],
     {"GITHUB_TOKEN": "ghp_job_env", "AFFIDAVIT_TOKEN": "ghp_pat"}),
    # another provider never gets the GitHub token; its own comes from the job's env
    ({"type": "pullrequest", "provider": "gitlab", "repository": "acme/shop", "pr": "7",
      "base-url": "https://gitlab.example.com", "require-approvals": "2", "max-wait": "5",
      "allow-stale-approvals": "true"},
     {"AFFIDAVIT_GITLAB_TOKEN": "glpat-x"},
     ["attest", "pullrequest", "gitlab"],
     {"AFFIDAVIT_GITLAB_TOKEN": "glpat-x", "AFFIDAVIT_REPOSITORY": "acme/shop",
      "AFFIDAVIT_PR": "7", "AFFIDAVIT_BASE_URL": "https://gitlab.example.com",
      "AFFIDAVIT_REQUIRE_APPROVALS": "2", "AFFIDAVIT_MAX_WAIT": "5",
      "AFFIDAVIT_ALLOW_STALE_APPROVALS": "true"}),
    # job-level AFFIDAVIT_* still apply when the inputs are left empty
    ({"type": "pullrequest", "provider": "bitbucket"},
     {"AFFIDAVIT_REPOSITORY": "acme/shop", "AFFIDAVIT_REQUIRE_APPROVALS": "1"},
     ["attest", "pullrequest", "bitbucket"],
     {"AFFIDAVIT_REPOSITORY": "acme/shop", "AFFIDAVIT_REQUIRE_APPROVALS": "1"}),
    # other types get no provider word and no token
    ({"type": "junit", "results": "r.xml"}, {}, ["attest", "junit"], {}),
])
def test_pullrequest_inputs_map_to_the_provider_word_and_env(
        tmp_path: Path, stub_cli: tuple[Path, Path], inputs: dict[str, str],
        job_env: dict[str, str], argv: list[str], seen_env: dict[str, str]) -> None:
    folder, seen_file = stub_cli
    result, _, _ = run_action_script("attest", inputs, tmp_path / "run",
                                     {**job_env, "STUB_OUT": str(seen_file)},
                                     github={"token": JOB_TOKEN}, bin_dir=folder)
    assert result.returncode == 0, result.stderr
    seen = json.loads(seen_file.read_text())
    assert seen["argv"][:len(argv)] == argv
    assert seen["argv"][len(argv):] == ["--output", "json", "--summary-file",
                                        str(tmp_path / "run" / "summary.md"), "--outputs-file",
                                        str(tmp_path / "run" / "output.txt")]
    pullrequest_env = {k: v for k, v in seen["env"].items() if k in (
        "GITHUB_TOKEN", "AFFIDAVIT_TOKEN", "AFFIDAVIT_GITLAB_TOKEN", "AFFIDAVIT_REPOSITORY",
        "AFFIDAVIT_PR", "AFFIDAVIT_BASE_URL", "AFFIDAVIT_REQUIRE_APPROVALS",
        "AFFIDAVIT_MAX_WAIT", "AFFIDAVIT_ALLOW_STALE_APPROVALS") and v}
    assert pullrequest_env == seen_env
    assert "AFFIDAVIT_ACTION_GITHUB_TOKEN" not in seen["env"]
    if "AFFIDAVIT_TOKEN" in seen_env:
        assert f"::add-mask::{seen_env['AFFIDAVIT_TOKEN']}" in result.stdout


def test_provider_without_type_pullrequest_is_refused(tmp_path: Path,
                                                      stub_cli: tuple[Path, Path]) -> None:
    folder, seen_file = stub_cli
    result, _, _ = run_action_script("attest", {"type": "junit", "provider": "github"},
                                     tmp_path / "run", {"STUB_OUT": str(seen_file)},
                                     bin_dir=folder)
    assert result.returncode == 2
    assert "::error::provider is for type pullrequest, not junit" in result.stdout
    assert not seen_file.exists()


@pytest.mark.parametrize(("inputs", "job_env", "seen_env"), [
    # coverage: the report is `results`, its minimums are inputs of their own
    ({"type": "coverage", "results": "lcov.info", "min-lines": "80", "min-branches": "62.5"},
     {}, {"AFFIDAVIT_REPORT": "lcov.info", "AFFIDAVIT_MIN_LINES": "80",
          "AFFIDAVIT_MIN_BRANCHES": "62.5"}),
    # sbom and vulns: the SBOM file / the scanner's report is `results` too
    ({"type": "sbom", "results": "bom.json"}, {}, {"AFFIDAVIT_SBOM_FILE": "bom.json"}),
    ({"type": "vulns", "results": "trivy.json", "fail-on": "critical"}, {},
     {"AFFIDAVIT_SCAN_RESULTS": "trivy.json", "AFFIDAVIT_FAIL_ON": "critical"}),
    # jira and sonar: the site is an input, the credentials come from the step's env (masked)
    ({"type": "jira", "jira-base-url": "https://acme.atlassian.net"},
     {"AFFIDAVIT_JIRA_USERNAME": "ada@acme.test", "AFFIDAVIT_JIRA_API_TOKEN": "jira0secret"},
     {"AFFIDAVIT_JIRA_BASE_URL": "https://acme.atlassian.net",
      "AFFIDAVIT_JIRA_USERNAME": "ada@acme.test", "AFFIDAVIT_JIRA_API_TOKEN": "jira0secret"}),
    ({"type": "sonar"}, {"AFFIDAVIT_SONAR_URL": "https://sonar.example",
                         "AFFIDAVIT_SONAR_TOKEN": "squ_secret"},
     {"AFFIDAVIT_SONAR_URL": "https://sonar.example", "AFFIDAVIT_SONAR_TOKEN": "squ_secret"}),
])
def test_evidence_type_inputs_map_to_their_flags(
        tmp_path: Path, stub_cli: tuple[Path, Path], inputs: dict[str, str],
        job_env: dict[str, str], seen_env: dict[str, str]) -> None:
    folder, seen_file = stub_cli
    result, _, _ = run_action_script("attest", inputs, tmp_path / "run",
                                     {**job_env, "STUB_OUT": str(seen_file)}, bin_dir=folder)
    assert result.returncode == 0, result.stderr
    seen = json.loads(seen_file.read_text())
    assert seen["argv"][:2] == ["attest", inputs["type"]]
    assert {k: seen["env"].get(k) for k in seen_env} == seen_env
    for secret in ("AFFIDAVIT_JIRA_API_TOKEN", "AFFIDAVIT_SONAR_TOKEN"):
        if secret in seen_env:
            assert f"::add-mask::{seen_env[secret]}" in result.stdout


def test_evidence_types_record_through_the_attest_action(tmp_path: Path,
                                                         ledger: dict[str, str]) -> None:
    """The real CLI behind `type: coverage|vulns|sbom`: the report reaches it as `results`,
    the verdict and the files read come back as outputs, the summary names the type."""
    reports = HERE.parent / "gitlab" / "reports" / "evidence"
    run_action_script("begin-trail", {"flow": "demo", "trail": "t1"}, tmp_path / "a", ledger)
    cases = [("coverage", "lcov.info", {"min-lines": "70", "min-branches": "60"}, "false"),
             ("vulns", "trivy.json", {"fail-on": "medium"}, "false"),
             ("sbom", "bom.json", {}, "true")]
    for kind, report, extra, compliant in cases:
        result, summary, outputs = run_action_script(
            "attest", {"type": kind, "flow": "demo", "trail": "t1", "name": kind,
                       "results": str(reports / report), **extra}, tmp_path / kind, ledger)
        assert result.returncode == 0, result.stdout + result.stderr
        assert outputs["compliant"] == compliant, (kind, outputs)
        assert outputs["results"] == str(reports / report)
        verdict = "compliant" if compliant == "true" else "not compliant"
        assert f"{kind} ({kind}): {verdict}" in summary, summary


def test_empty_inputs_fall_back_to_job_env(tmp_path: Path, ledger: dict[str, str]) -> None:
    """An input left empty is "not given": a job-level AFFIDAVIT_FLOW still counts."""
    result, summary, _ = run_action_script(
        "begin-trail", {"trail": "t2"}, tmp_path, {**ledger, "AFFIDAVIT_FLOW": "demo"})
    assert result.returncode == 0, result.stderr
    assert "| Flow | demo |" in summary


def test_an_empty_variable_means_the_same_in_a_plain_step(tmp_path: Path,
                                                          ledger: dict[str, str]) -> None:
    """A plain `run: affidavit …` step with an `env:` left empty behaves as the actions do (no
    wrapper unsets anything any more): empty is not given."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_")}, **ledger,
           "AFFIDAVIT_DESCRIPTION": "", "AFFIDAVIT_TEMPLATE_FILE": "", "AFFIDAVIT_DRY_RUN": ""}
    plain = subprocess.run([_tool("affidavit") or "affidavit", "begin", "trail", "t3", "--flow",
                            "demo"], env=env, capture_output=True, text=True)
    assert plain.returncode == 0, plain.stderr
    result, _, outputs = run_action_script(
        "begin-trail", {"flow": "demo", "trail": "t4", "description": "", "dry-run": ""},
        tmp_path, ledger)
    assert result.returncode == 0, result.stderr
    assert outputs["entry-index"] == "2"


# --- schema and lint ------------------------------------------------------------------------------


def _run_tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    tool = _tool(name)
    assert tool is not None, f"{name} is not installed (run tests/wrappers/install-github.sh)"
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120)


def test_action_metadata_matches_the_schema() -> None:
    files = sorted(str(p) for p in ACTIONS.glob("*/action.yml"))
    assert [Path(f).parent.name for f in files] == [
        "assert", "attest", "begin-trail", "evidence-package", "setup", "snapshot"]
    result = _run_tool("check-jsonschema", "--builtin-schema", "vendor.github-actions", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_match_the_schema_and_lint_clean() -> None:
    """The test workflows, the example workflow(s) under examples/github/ and this repository's
    own workflows (the self-test)."""
    paths = [*WORKFLOWS.glob("*.yml"), *(ROOT / "examples/github").glob("*.yml"),
             *(ROOT / ".github/workflows").glob("*.yml")]
    files = sorted(str(p) for p in paths)
    result = _run_tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    result = _run_tool("actionlint", "-no-color", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_expressions_inside_run_scripts() -> None:
    for path in ACTIONS.glob("*/action.yml"):
        for step in yaml.safe_load(path.read_text())["runs"]["steps"]:
            assert "${{" not in step.get("run", ""), path


def _assert_asked_github_with_the_job_token(fake: FakeProvider, sha: str) -> None:
    """By commit (a push build), every page with the job's token, nothing refused."""
    assert fake.paths[0] == f"/repos/acme/shop/commits/{sha}/pulls?per_page=100"
    assert {"/repos/acme/shop/pulls/42", "/repos/acme/shop/pulls/42/reviews?per_page=100",
            "/repos/acme/shop/pulls/42/commits?per_page=100"} <= set(fake.paths)
    assert {r["headers"].get("authorization") for r in fake.requests} == {
        f"Bearer {JOB_TOKEN}"}


def test_example_workflow_runs_green(tmp_path_factory: pytest.TempPathFactory,
                                     action_repo: Path) -> None:
    """examples/github/workflow.yml: bootstrap the flow, build, attest artifact + JUnit + SARIF
    + the pull request of the commit (from a fake GitHub, read with the job's token), assert,
    deploy, package the evidence."""
    base = tmp_path_factory.mktemp("example")
    run = run_with_github("workflow.yml", base, action_repo,
                          source=ROOT / "examples/github/workflow.yml")
    result, out = run.result, run.out
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "deploying shop" in result.stdout
    ledger = out / "ledger.db"  # act's --env wins over the workflow's env
    assert ledger.is_file(), sorted(p.name for p in out.iterdir())
    env = {**os.environ, "AFFIDAVIT_LEDGER": str(ledger),
           "AFFIDAVIT_CACHE_DIR": str(out / "client-cache")}
    flows = subprocess.run([str(VENV_AFFIDAVIT), "list", "trails", "--flow", "shop", "--output",
                            "json"], env=env, capture_output=True, text=True, check=True)
    assert [t["status"] for t in json.loads(flows.stdout)] == ["COMPLIANT"]
    verified = subprocess.run([str(VENV_AFFIDAVIT), "verify", "ledger"], env=env,
                              capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    # act deletes the job's workspace with the job: the zip is seen in the log, and its upload
    # skipped (the offline stand-in for actions/upload-artifact fails if it ever runs)
    assert re.search(r"wrote affidavit-evidence\.zip: 6 entries, 2 evidence files", result.stdout)
    assert "not reachable offline" not in result.stdout

    # after the deploy: production runs shop, the artifact of this commit's trail, and the
    # snapshot met production's policy (assert: true)
    snapshot = json.loads(subprocess.run(
        [str(VENV_AFFIDAVIT), "get", "snapshot", "production", "--output", "json"], env=env,
        capture_output=True, text=True, check=True).stdout)
    (shop,) = snapshot["artifacts"]
    assert (snapshot["number"], shop["name"]) == (1, "shop")
    assert (shop["provenance"]["flow"], shop["provenance"]["trail"]) == ("shop", run.sha)
    assert shop["provenance"]["trail_status"] == "COMPLIANT"
    assert snapshot["without_provenance"] == 0

    record = pull_request_attestation(ledger, "shop", run.sha)
    assert (record["type"], record["compliant"]) == ("pull_request", True)
    predicate = record["statement"]["predicate"]
    assert predicate["provider"] == "github" and predicate["base_url"] == run.fake.base_url
    assert (predicate["repository"], predicate["commit"]) == ("acme/shop", run.sha)
    assert predicate["lookup"] == {"by": "commit", "polls": 1, "waited_seconds": 0.0}
    assert predicate["policy"] == {"require_approvals": 1, "allow_stale_approvals": False}
    assert predicate["pull_requests"] == [recorded_github_pull(run.sha)]
    _assert_asked_github_with_the_job_token(run.fake, run.sha)
    assert JOB_TOKEN not in result.stdout + result.stderr


def test_example_workflow_stops_a_change_without_an_approval_of_its_final_head(
        tmp_path_factory: pytest.TempPathFactory, action_repo: Path) -> None:
    """The same example when Grace approved only the first push (``require-approvals: 1``):
    the pull request is recorded, not compliant, and the gate stops the deploy."""
    base = tmp_path_factory.mktemp("example-stale")
    run = run_with_github("workflow.yml", base, action_repo, approved_head=False,
                          source=ROOT / "examples/github/workflow.yml")
    assert run.result.returncode != 0, run.result.stdout[-4000:]
    assert "Job failed" in run.result.stdout
    assert "deploying shop" not in run.result.stdout
    reason = ("pull request #42 has 0 approvals of its final head 4a5b6c7d8e9f from people "
              "other than its authors, --require-approvals asks 1 (grace approved an older or "
              "unknown head)")
    assert reason in run.result.stdout
    record = pull_request_attestation(run.out / "ledger.db", "shop", run.sha)
    assert record["compliant"] is False
    assert record["statement"]["predicate"]["pull_requests"] == [
        recorded_github_pull(run.sha, approved_head=False)]


#: A Bitbucket Cloud repository access token, as the workflow's secret BITBUCKET_TOKEN.
BITBUCKET_TOKEN = "ATCTT3xFfGN0bitbucket0repository0token"


def test_pullrequest_of_a_bitbucket_cloud_repository(
        tmp_path_factory: pytest.TempPathFactory, action_repo: Path) -> None:
    """workflows/pullrequest-bitbucket.yml: `provider: bitbucket` with `repository`,
    `base-url` (a fake Bitbucket Cloud's /2.0 root) and `provider-token` (a secret): pull
    request #12, whose merge commit the push built, is found by that commit and recorded in
    full, compliant with `require-approvals: 1` (Grace approved the final head), and the gate
    passes; every request carried the secret (never the job's GitHub token), which the log
    never shows."""
    base = tmp_path_factory.mktemp("bitbucket")
    consumer, out, sha = _consumer("pullrequest-bitbucket.yml", base)
    with FakeProvider("bitbucket", sha, BITBUCKET_TOKEN) as fake:
        result = _act(consumer, "pullrequest-bitbucket.yml", base, out, action_repo,
                      f"FAKE_BITBUCKET_API={fake.base_url}",
                      secrets=(f"GITHUB_TOKEN={JOB_TOKEN}", f"BITBUCKET_TOKEN={BITBUCKET_TOKEN}"))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert read_outputs(out) == {"PR_INDEX": "2", "PR_COMPLIANT": "true",
                                 "GATE_STATUS": "COMPLIANT"}
    record = pull_request_attestation(out / "ledger.db", "shop", sha)
    assert (record["type"], record["compliant"]) == ("pull_request", True)
    predicate = record["statement"]["predicate"]
    assert (predicate["provider"], predicate["base_url"]) == ("bitbucket", fake.base_url)
    assert (predicate["repository"], predicate["commit"]) == ("acme/shop", sha)
    assert predicate["lookup"] == {"by": "commit", "polls": 1, "waited_seconds": 0.0}
    assert predicate["policy"] == {"require_approvals": 1, "allow_stale_approvals": False}
    (pull,) = predicate["pull_requests"]
    assert (pull["number"], pull["state"], pull["head"]["sha"], pull["merge_commit"]) == (
        12, "merged", HEAD, sha)
    assert [(r["reviewer"]["name"], r["state"], r["commit"]) for r in pull["reviews"]] == [
        ("Grace Hopper", "approved", FIRST), ("Grace Hopper", "approved", HEAD)]
    assert pull == recorded_bitbucket_pull(sha)
    assert fake.paths[0] == f"/2.0/repositories/acme/shop/commit/{sha}/pullrequests?pagelen=50"
    assert {r["headers"].get("authorization") for r in fake.requests} == {
        f"Bearer {BITBUCKET_TOKEN}"}
    # the log is the step's (its output names the pull request), and the secret is not in it
    assert f"pull requests containing {sha[:12]} in acme/shop: #12" in result.stdout
    assert BITBUCKET_TOKEN not in result.stdout + result.stderr


def test_self_test_workflow_runs_green(tmp_path: Path, action_repo: Path) -> None:
    """.github/workflows/self-test.yml, in a copy of this repository, with `uses: ./actions/…`:
    the setup installs the core from that same checkout."""
    repo, out = copy_of_sources(tmp_path / "repo"), tmp_path / "out"
    out.mkdir()
    _git_repo(repo)
    result = _act(repo, "self-test.yml", tmp_path, out, action_repo)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert f"installed affidavit {VERSION} from " in result.stdout
    assert "verified" in result.stdout
    env = {**os.environ, "AFFIDAVIT_LEDGER": str(out / "ledger.db"),
           "AFFIDAVIT_CACHE_DIR": str(out / "client-cache")}
    trails = subprocess.run([str(VENV_AFFIDAVIT), "list", "trails", "--flow", "self-test",
                             "--output", "json"], env=env, capture_output=True, text=True,
                            check=True)
    assert [t["status"] for t in json.loads(trails.stdout)] == ["COMPLIANT"]


def test_the_actions_write_to_a_team_server_with_a_secret_token(
        tmp_path_factory: pytest.TempPathFactory, action_repo: Path) -> None:
    """`ledger` + `api-token` (from a secret): the evidence lands on the server, and a token
    is needed for it to (the same workflow without the secret fails)."""
    from tests.server.conftest import Server

    base = tmp_path_factory.mktemp("team")
    tokens = base / "tokens.db"
    cli = str(Path(sys.executable).parent / "affidavit")
    token = subprocess.run([cli, "server", "token", "create", "--tokens", str(tokens), "--org",
                            "acme", "--scope", "write"], capture_output=True, text=True,
                           check=True).stdout.strip()
    server = Server(base)
    server.start(f"{base}/{{org}}.db", "--tokens", str(tokens))
    try:
        team = f"TEAM_LEDGER={server.url}/orgs/acme"
        result, _ = run_workflow("team.yml", base / "with", action_repo, team,
                                 secrets=(f"AFFIDAVIT_API_TOKEN={token}",))
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        assert token not in result.stdout  # masked
        state = requests.get(f"{server.url}/api/v1/orgs/acme/ledger/state", timeout=10).json()
        assert state["size"] == 3  # flow, trail, the JUnit attestation
        refused, _ = run_workflow("team.yml", base / "without", action_repo, team)
        assert refused.returncode != 0
        assert "a valid API token is needed" in refused.stdout + refused.stderr
    finally:
        server.stop()


#: The team ledger examples/github/team.yml names (a test points it at its server).
EXAMPLE_LEDGER = "https://affidavit.example.com/orgs/acme"


def test_team_example_workflow_runs_green_on_a_server(
        tmp_path_factory: pytest.TempPathFactory, action_repo: Path) -> None:
    """examples/github/team.yml, its ledger URL pointed at a real server and the token a
    secret, the pull request from a fake GitHub: the job passes, its trail is on the server,
    COMPLIANT, with the pull request, and the token is masked."""
    from tests.wrappers.team import team_server

    text = (ROOT / "examples/github/team.yml").read_text()
    assert text.count(f"ledger: {EXAMPLE_LEDGER}") == 7  # every action but setup
    base = tmp_path_factory.mktemp("team-example")
    with team_server(base) as team:
        source = base / "team.yml"
        source.write_text(text.replace(EXAMPLE_LEDGER, team.ledger))
        run = run_with_github("team.yml", base / "run", action_repo, source=source,
                              secrets=(f"AFFIDAVIT_API_TOKEN={team.token}",))
        result, out = run.result, run.out
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        assert "deploying shop" in result.stdout
        assert team.token not in result.stdout + result.stderr  # masked
        assert team.size() == 6  # flow, trail, the artifact, JUnit, SARIF, the pull request
        assert not (out / "ledger.db").exists()  # act's AFFIDAVIT_LEDGER: overridden by ledger:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_")}
        env.update(AFFIDAVIT_LEDGER=team.ledger, AFFIDAVIT_API_TOKEN=team.token,
                   AFFIDAVIT_CACHE_DIR=str(base / "reader-cache"))
        trails = subprocess.run([str(VENV_AFFIDAVIT), "list", "trails", "--flow", "shop",
                                 "--output", "json"], env=env, capture_output=True, text=True,
                                check=True)
        assert [t["status"] for t in json.loads(trails.stdout)] == ["COMPLIANT"]
        record = pull_request_attestation(
            team.ledger, "shop", run.sha, "pull-request", f"AFFIDAVIT_API_TOKEN={team.token}",
            f"AFFIDAVIT_CACHE_DIR={base / 'reader-cache'}")
        assert record["compliant"] is True
        assert record["statement"]["predicate"]["pull_requests"] == [recorded_github_pull(run.sha)]
        _assert_asked_github_with_the_job_token(run.fake, run.sha)


# --- actions/snapshot -----------------------------------------------------------------------------


@functools.cache
def _has_assert_snapshot() -> bool:
    """`affidavit assert snapshot` is the core's newest gate: what needs it is skipped on a
    core without it."""
    return _affidavit("assert", "snapshot", "--help").returncode == 0


def _needs_assert_snapshot() -> None:
    if not _has_assert_snapshot():
        pytest.skip("the core has no `affidavit assert snapshot` yet")


#: source -> (its inputs, the AFFIDAVIT_* variables they become)
SNAPSHOT_SOURCES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "path": ({"name": "shop", "path": "dist/shop 1.tar.gz", "exclude": "cache,*.tmp"},
             {"AFFIDAVIT_NAME": "shop", "AFFIDAVIT_PATH": "dist/shop 1.tar.gz",
              "AFFIDAVIT_EXCLUDE": "cache,*.tmp"}),
    "paths": ({"paths-file": "deploy/paths.yml"}, {"AFFIDAVIT_PATHS_FILE": "deploy/paths.yml"}),
    "json": ({"file": "running.json"}, {"AFFIDAVIT_FILE": "running.json"}),
    "k8s": ({"namespace": "shop,payments", "exclude-namespace": "kube-system",
             "kubeconfig": "kube/config", "context": "prod"},
            {"AFFIDAVIT_NAMESPACE": "shop,payments", "AFFIDAVIT_EXCLUDE_NAMESPACE": "kube-system",
             "AFFIDAVIT_KUBECONFIG": "kube/config", "AFFIDAVIT_CONTEXT": "prod"}),
    "docker": ({"docker-host": "tcp://docker:2376"}, {"AFFIDAVIT_DOCKER_HOST": "tcp://docker:2376"}),
    "ecs": ({"cluster": "prod,prod-eu", "service-names": "web,api"},
            {"AFFIDAVIT_CLUSTER": "prod,prod-eu", "AFFIDAVIT_SERVICE_NAMES": "web,api"}),
    "lambda": ({"function-names": "resize,notify"}, {"AFFIDAVIT_FUNCTION_NAMES": "resize,notify"}),
    "s3": ({"bucket": "site", "prefix": "www/", "include": r"\.html$", "exclude": "^tmp/"},
           {"AFFIDAVIT_BUCKET": "site", "AFFIDAVIT_PREFIX": "www/",
            "AFFIDAVIT_INCLUDE": r"\.html$", "AFFIDAVIT_EXCLUDE": "^tmp/"}),
    "cloud-run": ({"project": "acme-prod", "region": "europe-west1",
                   "access-token": "ya29.cloud0run0token", "base-url": "http://127.0.0.1:9"},
                  {"AFFIDAVIT_PROJECT": "acme-prod", "AFFIDAVIT_REGION": "europe-west1",
                   "AFFIDAVIT_ACCESS_TOKEN": "ya29.cloud0run0token",
                   "AFFIDAVIT_BASE_URL": "http://127.0.0.1:9"}),
}


def _seen_options(seen: dict[str, Any]) -> dict[str, str]:
    """The AFFIDAVIT_* options the CLI was handed (not the action's own plumbing)."""
    return {k: v for k, v in seen["env"].items()
            if v and not k.startswith("AFFIDAVIT_ACTION_") and k != "GITHUB_TOKEN"}


@pytest.mark.parametrize("source", sorted(SNAPSHOT_SOURCES))
def test_snapshot_inputs_map_to_the_source_and_its_flags(
        tmp_path: Path, stub_cli: tuple[Path, Path], source: str) -> None:
    """`snapshot SOURCE ENV`, every input of the source as its AFFIDAVIT_* variable, the
    tokens masked, `args` as AFFIDAVIT_ARGS; the JSON to the log and the outputs to
    $GITHUB_OUTPUT (the core has no --summary-file for a snapshot)."""
    folder, seen_file = stub_cli
    inputs, variables = SNAPSHOT_SOURCES[source]
    run = tmp_path / "run"
    result, _, _ = run_action_script(
        "snapshot", {"source": source, "environment": "production", "api-token": "s3cr3t",
                     "ledger": "https://ledger.example/orgs/acme", "dry-run": "true",
                     "args": "--output json", **inputs},
        run, {"STUB_OUT": str(seen_file)}, bin_dir=folder, step_id="snapshot")
    assert result.returncode == 0, result.stderr
    seen = json.loads(seen_file.read_text())
    assert seen["argv"] == ["snapshot", source, "production", "--output", "json",
                            "--outputs-file", str(run / "output.txt")]
    assert _seen_options(seen) == {
        **variables, "AFFIDAVIT_API_TOKEN": "s3cr3t", "AFFIDAVIT_DRY_RUN": "true",
        "AFFIDAVIT_LEDGER": "https://ledger.example/orgs/acme", "AFFIDAVIT_ARGS": "--output json"}
    assert "::add-mask::s3cr3t\n" in result.stdout
    if "AFFIDAVIT_ACCESS_TOKEN" in variables:
        assert f"::add-mask::{variables['AFFIDAVIT_ACCESS_TOKEN']}\n" in result.stdout


def test_snapshot_inputs_left_empty_fall_back_to_the_jobs_env(
        tmp_path: Path, stub_cli: tuple[Path, Path]) -> None:
    """A job-level AFFIDAVIT_NAME / AFFIDAVIT_PATH still counts; a job-level AFFIDAVIT_ARGS does
    not (as in every action, `args` is the input's alone)."""
    folder, seen_file = stub_cli
    result, _, _ = run_action_script(
        "snapshot", {"source": "path", "environment": "production"}, tmp_path / "run",
        {"STUB_OUT": str(seen_file), "AFFIDAVIT_NAME": "shop", "AFFIDAVIT_PATH": "bin/shop",
         "AFFIDAVIT_ARGS": "--dry-run"}, bin_dir=folder, step_id="snapshot")
    assert result.returncode == 0, result.stderr
    seen = json.loads(seen_file.read_text())
    assert _seen_options(seen) == {"AFFIDAVIT_NAME": "shop", "AFFIDAVIT_PATH": "bin/shop"}
    assert "::add-mask::" not in result.stdout


def test_snapshot_creates_the_environment_and_asserts_with_their_own_words(
        tmp_path: Path, stub_cli: tuple[Path, Path]) -> None:
    """`environment-type` runs `create environment ENV` first (AFFIDAVIT_TYPE), `assert: true`
    runs `assert snapshot ENV` after (through common.sh's affidavit_run: summary and outputs);
    neither gets the snapshot's flags' `args`, and each step runs only when asked."""
    folder, seen_file = stub_cli
    inputs = {"source": "k8s", "environment": "prod", "environment-type": "k8s",
              "namespace": "shop", "args": "--context blue", "api-token": "s3cr3t",
              "ledger": "https://ledger.example/orgs/acme", "assert": "true"}
    run = tmp_path / "create"
    result, _, outputs = run_action_script("snapshot", inputs, run, {"STUB_OUT": str(seen_file)},
                                           bin_dir=folder, step_id="environment")
    assert result.returncode == 0, result.stderr
    seen = json.loads(seen_file.read_text())
    assert seen["argv"] == ["create", "environment", "prod", "--output", "json"]
    assert _seen_options(seen) == {"AFFIDAVIT_TYPE": "k8s", "AFFIDAVIT_API_TOKEN": "s3cr3t",
                                   "AFFIDAVIT_LEDGER": "https://ledger.example/orgs/acme"}
    assert seen["env"]["AFFIDAVIT_ARGS"] == ""
    assert result.stdout.startswith("::add-mask::s3cr3t\n")
    assert outputs == {}  # the step outputs are the snapshot's

    run = tmp_path / "assert"
    result, _, _ = run_action_script("snapshot", inputs, run, {"STUB_OUT": str(seen_file)},
                                     bin_dir=folder, step_id="assert")
    assert result.returncode == 0, result.stderr
    seen = json.loads(seen_file.read_text())
    assert seen["argv"] == ["assert", "snapshot", "prod", "--output", "json", "--summary-file",
                            str(run / "summary.md"), "--outputs-file", str(run / "output.txt")]
    assert _seen_options(seen) == {"AFFIDAVIT_API_TOKEN": "s3cr3t",
                                   "AFFIDAVIT_LEDGER": "https://ledger.example/orgs/acme"}
    assert seen["env"]["AFFIDAVIT_ARGS"] == ""
    assert result.stdout.startswith("::add-mask::s3cr3t\n")

    steps = {s["id"]: s for s in yaml.safe_load(
        (ACTIONS / "snapshot" / "action.yml").read_text())["runs"]["steps"]}
    assert list(steps) == ["environment", "snapshot", "assert"]
    assert (steps["environment"]["if"], steps["assert"]["if"]) == (
        "inputs.environment-type != ''", "inputs.assert == 'true'")
    assert "if" not in steps["snapshot"]
    assert "common.sh" in steps["assert"]["run"]


def _ledger_cli(ledger: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_")}, **ledger}
    return subprocess.run([str(VENV_AFFIDAVIT), *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_snapshot_records_what_runs_only_when_it_changed(tmp_path: Path,
                                                         ledger: dict[str, str]) -> None:
    """With the real CLI: the environment is created once, the snapshot recorded once, its
    outputs say so, and the running artifact is joined to the trail that reported it; a path
    that is not there is exit 2 with nothing written."""
    shop = tmp_path / "shop.bin"
    shop.write_text("shop 1.0\n")
    run_action_script("begin-trail", {"flow": "demo", "trail": "t1"}, tmp_path / "a", ledger)
    result, _, _ = run_action_script("attest", {"type": "artifact", "flow": "demo", "trail": "t1",
                                                "name": "shop", "artifact": str(shop)},
                                     tmp_path / "b", ledger)
    assert result.returncode == 0, result.stderr
    inputs = {"source": "path", "environment": "production", "environment-type": "server",
              "name": "shop", "path": str(shop)}
    for attempt, (changed, index) in enumerate([("true", "4"), ("false", "")]):
        result, _, outputs = run_action_script("snapshot", inputs, tmp_path / f"env{attempt}",
                                               ledger, step_id="environment")
        assert result.returncode == 0, result.stderr
        assert outputs == {}
        result, summary, outputs = run_action_script("snapshot", inputs, tmp_path / f"s{attempt}",
                                                     ledger, step_id="snapshot")
        assert result.returncode == 0, result.stderr
        assert outputs == {"environment": "production", "snapshot": "1", "changed": changed,
                           "entry-index": index, "running": "1"}
        assert json.loads(result.stdout)["changed"] is (changed == "true")  # the JSON, in the log
        assert summary == ""
    kinds = [e["kind"] for e in json.loads(_ledger_cli(ledger, "log", "ledger", "--output",
                                                       "json").stdout)]
    assert kinds == ["flow", "trail", "artifact", "environment", "snapshot"]
    got = json.loads(_ledger_cli(ledger, "get", "snapshot", "production", "--output",
                                 "json").stdout)
    (artifact,) = got["artifacts"]
    assert artifact["name"] == "shop"
    assert (artifact["provenance"]["flow"], artifact["provenance"]["trail"]) == ("demo", "t1")

    result, _, outputs = run_action_script(
        "snapshot", {**inputs, "path": str(tmp_path / "gone.bin")}, tmp_path / "missing",
        ledger, step_id="snapshot")
    assert result.returncode == 2
    assert "gone.bin" in result.stderr
    assert len(json.loads(_ledger_cli(ledger, "log", "ledger", "--output", "json").stdout)) == 5


def test_snapshot_assert_gates_on_the_environments_policy(tmp_path: Path,
                                                          ledger: dict[str, str]) -> None:
    """`assert: true`: the step fails (exit 1) while what runs has no provenance, as the
    attached policy requires, with the reason in the summary and the outputs; passes once the
    artifact is reported by a trail."""
    _needs_assert_snapshot()
    shop = tmp_path / "shop.bin"
    shop.write_text("shop 1.0\n")
    policy = tmp_path / "policy.yml"
    policy.write_text("_schema: https://kosli.com/schemas/policy/environment/v1\n"
                      "artifacts:\n  provenance:\n    required: true\n")
    inputs = {"source": "path", "environment": "production", "environment-type": "server",
              "name": "shop", "path": str(shop), "assert": "true"}
    result, _, _ = run_action_script("snapshot", inputs, tmp_path / "env", ledger,
                                     step_id="environment")
    assert result.returncode == 0, result.stderr
    for args in (("create", "policy", "needs-provenance", "--file", str(policy)),
                 ("attach", "policy", "needs-provenance", "--environment", "production")):
        done = _ledger_cli(ledger, *args)
        assert done.returncode == 0, done.stderr
    result, _, _ = run_action_script("snapshot", inputs, tmp_path / "s1", ledger,
                                     step_id="snapshot")
    assert result.returncode == 0, result.stderr

    result, summary, outputs = run_action_script("snapshot", inputs, tmp_path / "a1", ledger,
                                                 step_id="assert")
    assert result.returncode == 1, result.stdout + result.stderr
    assert summary.startswith("### ❌ snapshot production#1: NON_COMPLIANT\n"), summary
    assert outputs["compliant"] == "false" and "no provenance" in outputs["reasons"]

    run_action_script("begin-trail", {"flow": "demo", "trail": "t1"}, tmp_path / "b", ledger)
    run_action_script("attest", {"type": "artifact", "flow": "demo", "trail": "t1",
                                 "name": "shop", "artifact": str(shop)}, tmp_path / "c", ledger)
    result, summary, outputs = run_action_script("snapshot", inputs, tmp_path / "a2", ledger,
                                                 step_id="assert")
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary.startswith("### ✅ snapshot production#1: COMPLIANT"), summary
    assert (outputs["compliant"], outputs["reasons"]) == ("true", "")


def test_snapshot_action_under_act(tmp_path: Path, action_repo: Path) -> None:
    """workflows/snapshot.yml: the composite's steps and outputs as a runner runs them; the
    second call records nothing, creates nothing, and (with the core's `assert snapshot`) is
    gated by the policy attached in between."""
    gated = _has_assert_snapshot()
    result, out = run_workflow("snapshot.yml", tmp_path, action_repo,
                               f"AFFIDAVIT_TEST_ASSERT={str(gated).lower()}")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    sha = (out / "sha").read_text().strip()
    assert read_outputs(out) == {
        "FIRST_ENVIRONMENT": "staging", "FIRST_SNAPSHOT": "1", "FIRST_CHANGED": "true",
        "FIRST_INDEX": "4", "FIRST_RUNNING": "1", "FIRST_COMPLIANT": "",
        "AGAIN_SNAPSHOT": "1", "AGAIN_CHANGED": "false", "AGAIN_INDEX": "", "AGAIN_RUNNING": "1",
        "AGAIN_COMPLIANT": "true" if gated else "", "AGAIN_REASONS": ""}
    ledger = {"AFFIDAVIT_LEDGER": str(out / "ledger.db"),
              "AFFIDAVIT_CACHE_DIR": str(tmp_path / "reader-cache")}
    kinds = [e["kind"] for e in json.loads(_ledger_cli(ledger, "log", "ledger", "--output",
                                                       "json").stdout)]
    assert kinds[:5] == ["flow", "trail", "artifact", "environment", "snapshot"]
    assert kinds.count("environment") == 1 and kinds.count("snapshot") == 1
    got = json.loads(_ledger_cli(ledger, "get", "snapshot", "staging", "--output",
                                 "json").stdout)
    (artifact,) = got["artifacts"]
    assert (artifact["name"], artifact["provenance"]["trail"]) == ("app", sha)
