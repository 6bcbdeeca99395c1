"""The GitHub composite actions under `actions/`, run for real by `act` on this machine.

`act push -P ubuntu-latest=-self-hosted` runs each job's steps on the host (no Docker), with
`--local-repository affidavit-dev/affidavit@v1=<copy of actions/>` so the workflows use the
published form `uses: affidavit-dev/affidavit/actions/attest@v1` without the network.
`actions/checkout@v4` needs no network either: act skips it for the repository under test and
copies the working tree into the job's workspace (unless `--no-skip-checkout`).

act truncates `$GITHUB_STEP_SUMMARY` at the start of every step (composite inner steps too) and
deletes it with the job, so no later step can read what an action wrote there; the summary is
checked by running each action's own `run:` script with bash against a temporary summary file.

Install the tools with `tests/wrappers/install-github.sh`; without `act` the module is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import copy_of_sources

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = ROOT / "actions"
HERE = Path(__file__).resolve().parent / "github"
WORKFLOWS = HERE / "workflows"
FIXTURES = HERE / "fixtures"
OWNER_REPO = "affidavit-dev/affidavit@v1"


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
    """The core built once as a wheel; `actions/setup` installs it with `path:`."""
    out = tmp_path_factory.mktemp("wheel")
    source = copy_of_sources(tmp_path_factory.mktemp("source") / "affidavit")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out),
                    str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = out.glob("affidavit-*.whl")
    return wheel


@pytest.fixture(scope="module")
def action_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `affidavit-dev/affidavit@v1` resolves to: a copy of `actions/` (not the 400 MB tree)."""
    repo = tmp_path_factory.mktemp("action-repo")
    shutil.copytree(ACTIONS, repo / "actions")
    return repo


def _pip_cache_dir() -> str:
    """The developer's own pip cache, so `actions/setup` downloads nothing it has seen."""
    found = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True,
                           text=True)
    return found.stdout.strip() or str(Path.home() / ".cache/pip")


def run_workflow(name: str, base: Path, wheel: Path, action_repo: Path,
                 source: Path | None = None) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run tests/wrappers/github/workflows/NAME (or ``source``) under act in a fresh consumer
    repository."""
    consumer, out = base / "consumer", base / "out"
    (consumer / ".github/workflows").mkdir(parents=True)
    out.mkdir()
    shutil.copy(source or WORKFLOWS / name, consumer / ".github/workflows" / name)
    shutil.copytree(FIXTURES, consumer / "fixtures")
    git = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=consumer, check=True)
    subprocess.run(["git", "add", "-A"], cwd=consumer, check=True)
    subprocess.run([*git, "commit", "-qm", "consumer"], cwd=consumer, check=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("AFFIDAVIT_")}
    env["XDG_CACHE_HOME"] = str(base / "cache")  # act's job dirs (~/.cache/act) go to tmp too
    assert ACT is not None
    result = subprocess.run(
        [ACT, "push", "-P", "ubuntu-latest=-self-hosted", "-W", f".github/workflows/{name}",
         "--local-repository", f"{OWNER_REPO}={action_repo}", "--no-cache-server",
         "--env", f"AFFIDAVIT_LEDGER={out / 'ledger.db'}",
         "--env", f"AFFIDAVIT_TEST_CORE={wheel}",
         "--env", f"AFFIDAVIT_CORE_PATH={wheel}",
         "--env", f"AFFIDAVIT_TEST_OUT={out}",
         "--env", f"AFFIDAVIT_TEST_PIP_CACHE={_pip_cache_dir()}"],
        cwd=consumer, env=env, capture_output=True, text=True, timeout=300)
    return result, out


def read_outputs(out: Path) -> dict[str, str]:
    lines = (out / "outputs.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture(scope="module")
def happy(tmp_path_factory: pytest.TempPathFactory, core_wheel: Path,
          action_repo: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    return run_workflow("attest.yml", tmp_path_factory.mktemp("happy"), core_wheel, action_repo)


def test_happy_path_job_succeeds(happy: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, _ = happy
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Job succeeded" in result.stdout


def test_outputs_of_each_action(happy: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = happy
    outputs = read_outputs(out)
    assert outputs["SETUP_VERSION"] == "0.1.0"
    assert outputs["BEGIN_INDEX"] == "1"
    assert (outputs["REVIEW_INDEX"], outputs["REVIEW_COMPLIANT"]) == ("2", "true")
    assert (outputs["UNIT_INDEX"], outputs["UNIT_COMPLIANT"]) == ("3", "true")
    assert outputs["APP_INDEX"] == "4"
    app = _affidavit("fingerprint", "--artifact-type", "file", str(FIXTURES / "app.txt"))
    assert outputs["APP_FINGERPRINT"] in app.stdout
    assert outputs.get("DRY_INDEX", "") == ""
    assert outputs["DRY_COMPLIANT"] == "false"
    assert outputs["GATE_COMPLIANT"] == "true"


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
    assert len(entries) == 5  # flow, trail, review, unit, app: the dry run wrote nothing
    trail = json.loads(_affidavit("get", "trail", sha, "--flow", "demo", "--ledger", ledger,
                                  "--output", "json").stdout)
    assert trail["status"] == "COMPLIANT"
    assert trail["description"] == 'change under test: "quotes" and $dollars'
    review = json.loads(_affidavit("get", "attestation", "review", "--flow", "demo", "--trail", sha,
                                   "--ledger", ledger, "--output", "json").stdout)
    assert "Ada Lovelace" in json.dumps(review)


def test_failing_assert_fails_the_job(tmp_path: Path, core_wheel: Path,
                                      action_repo: Path) -> None:
    result, out = run_workflow("failing-assert.yml", tmp_path, core_wheel, action_repo)
    assert result.returncode != 0, result.stdout[-4000:]
    assert "Job failed" in result.stdout
    assert not (out / "reached").exists()
    outputs = read_outputs(out)
    assert outputs["UNIT_COMPLIANT"] == "false"  # recorded first, then failed
    ledger = str(out / "ledger.db")
    verdict = _affidavit("assert", "trail", "failing", "--flow", "demo", "--ledger", ledger)
    assert verdict.returncode == 1


# --- the run: scripts on their own: what they write to $GITHUB_STEP_SUMMARY ----------------------


def run_action_script(action: str, inputs: dict[str, str], tmp_path: Path,
                      env: dict[str, str] | None = None) -> tuple[
                          subprocess.CompletedProcess[str], str, dict[str, str]]:
    """Run ACTION's single `run:` step as the runner would: its `env:` with `inputs.*` filled in
    (a tiny evaluator for `${{ inputs.x }}` and `${{ inputs.x || env.Y }}` only)."""
    meta = yaml.safe_load((ACTIONS / action / "action.yml").read_text())
    (step,) = [s for s in meta["runs"]["steps"] if "run" in s]
    defaults = {k: str(v.get("default", "")) for k, v in meta["inputs"].items()}
    values = {**defaults, **inputs}
    base = {**(env or {})}
    step_env = {}
    for key, expr in step.get("env", {}).items():
        body = expr.strip().removeprefix("${{").removesuffix("}}").strip()
        value = ""
        for alternative in (part.strip() for part in body.split("||")):
            kind, _, name = alternative.partition(".")
            value = values.get(name, "") if kind == "inputs" else base.get(name, "")
            if value:
                break
        step_env[key] = value
    tmp_path.mkdir(parents=True, exist_ok=True)
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    summary.touch()
    output.touch()
    bin_dir = str(Path(_tool("affidavit") or "affidavit").parent)
    full_env = {**{k: v for k, v in os.environ.items() if not k.startswith("AFFIDAVIT_")},
                **base, **step_env, "GITHUB_ACTION_PATH": str(ACTIONS / action),
                "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output),
                "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    result = subprocess.run(["bash", "-e", "-c", step["run"]], env=full_env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return result, summary.read_text(), outputs


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
    assert outputs["entry-index"] == "1"

    result, summary, outputs = run_action_script(
        "attest", {"type": "junit", "flow": "demo", "trail": "t1", "name": "unit",
                   "results": str(FIXTURES / "junit-fail.xml")}, tmp_path / "b", ledger)
    assert result.returncode == 0, result.stderr
    assert summary.startswith("### ❌ unit (junit): not compliant")
    assert "test_div" in summary and "| Ledger entry | 2 |" in summary
    assert outputs == {"entry-index": "2", "compliant": "false", "fingerprint": ""}

    result, summary, outputs = run_action_script(
        "assert", {"flow": "demo", "target": "t1"}, tmp_path / "c", ledger)
    assert result.returncode == 1
    assert summary.startswith("### ❌ trail demo/t1: NON_COMPLIANT")
    assert outputs == {"compliant": "false"}


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


def test_empty_inputs_fall_back_to_job_env(tmp_path: Path, ledger: dict[str, str]) -> None:
    """An input left empty is "not given": a job-level AFFIDAVIT_FLOW still counts."""
    result, summary, _ = run_action_script(
        "begin-trail", {"trail": "t2"}, tmp_path, {**ledger, "AFFIDAVIT_FLOW": "demo"})
    assert result.returncode == 0, result.stderr
    assert "| Flow | demo |" in summary


# --- schema and lint ------------------------------------------------------------------------------


def _run_tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    tool = _tool(name)
    assert tool is not None, f"{name} is not installed (run tests/wrappers/install-github.sh)"
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120)


def test_action_metadata_matches_the_schema() -> None:
    files = sorted(str(p) for p in ACTIONS.glob("*/action.yml"))
    assert len(files) == 4
    result = _run_tool("check-jsonschema", "--builtin-schema", "vendor.github-actions", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_match_the_schema_and_lint_clean() -> None:
    """The test workflows and, once there, the example workflow(s) under examples/github/."""
    paths = [*WORKFLOWS.glob("*.yml"), *(ROOT / "examples/github").glob("*.yml")]
    files = sorted(str(p) for p in paths)
    result = _run_tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    result = _run_tool("actionlint", "-no-color", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_expressions_inside_run_scripts() -> None:
    for path in ACTIONS.glob("*/action.yml"):
        for step in yaml.safe_load(path.read_text())["runs"]["steps"]:
            assert "${{" not in step.get("run", ""), path


def test_example_workflow_runs_green(tmp_path_factory: pytest.TempPathFactory, core_wheel: Path,
                                     action_repo: Path) -> None:
    """examples/github/workflow.yml: build, attest artifact + JUnit + SARIF, assert, deploy."""
    result, out = run_workflow("workflow.yml", tmp_path_factory.mktemp("example"), core_wheel,
                               action_repo, source=ROOT / "examples/github/workflow.yml")
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
