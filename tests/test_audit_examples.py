"""The audit-trail examples (docs/audit-trails.md) run end to end, embedded and through a server.

Each script under ``examples/audit-trails/`` is run as a user would run it: a subprocess with
the venv's ``bin`` on PATH (so ``affidavit`` is the one under test), once against the embedded
ledger and once with ``--server``, which starts and stops a local ``affidavit server`` itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "audit-trails"
MODES = [pytest.param([], id="embedded"), pytest.param(["--server"], id="server")]

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="the examples are bash")


def _run(example: str, args: list[str], tmp_path: Path) -> str:
    """Run one example script; return its output (stdout then stderr) after checking it ended
    well: exit 0, no traceback, its work directory gone."""
    env = {**os.environ, "TMPDIR": str(tmp_path),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("AFFIDAVIT", None)
    result = subprocess.run(["bash", str(EXAMPLES / example / "run.sh"), *args], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    assert list(tmp_path.iterdir()) == [], "the script left its work directory behind"
    return result.stdout


def _verified(stdout: str, package: str) -> re.Match[str] | None:
    return re.search(rf"^verified {re.escape(package)}: \d+ entries and \d+ evidence files.*"
                     r"complete for .*included in checkpoint affidavit/\S+ @ \d+", stdout,
                     re.MULTILINE)


@pytest.mark.parametrize("args", MODES)
def test_prod_server_access(args: list[str], tmp_path: Path) -> None:
    stdout = _run("prod-server-access", args, tmp_path)
    session = "ecs-execute-command-07a3f1c9e2b4d6851"
    # the template requires signatures: an unsigned report would fail the trail
    assert f"trail prod-server-access/{session} would be NON_COMPLIANT" in stdout
    assert f"INCOMPLETE: trail prod-server-access/{session}" in stdout
    assert f"COMPLIANT: trail prod-server-access/{session}\n" in stdout
    assert "age-encryption.org/v1" in stdout  # the vault hands out ciphertext
    assert "opened/command-logs/session.log" in stdout
    assert re.search(r"^the decrypted session log is identical to the one recorded",
                     stdout, re.MULTILINE)
    verified = _verified(stdout, "session-package.zip")
    assert verified, stdout
    line = stdout[verified.start():].splitlines()[0]
    assert "(1 opened, each matching its commitment)" in line
    assert "3 attestation(s) signed by trusted keys, 0 unsigned" in line
    # the verify package summary is the end: its line, then the recomputed verdict
    assert stdout.rstrip().splitlines()[-2:] == [
        line, f"COMPLIANT: trail prod-server-access/{session} (recomputed from the package)"]


@pytest.mark.parametrize("args", MODES)
def test_access_provisioning(args: list[str], tmp_path: Path) -> None:
    stdout = _run("access-provisioning", args, tmp_path)
    gate = "$ affidavit assert trail ACCESS-4711 --flow access-provisioning\n"
    answers = [stdout[at + len(gate):].splitlines()[0] for at in
               (m.start() for m in re.finditer(re.escape(gate), stdout))]
    # before approval, and after the requester's own approval: no; after Maria's: yes
    assert len(answers) == 3, stdout
    assert all(re.match(r"(NON_COMPLIANT|INCOMPLETE): trail access-provisioning/ACCESS-4711$",
                        a) for a in answers[:2]), answers
    assert answers[2] == "COMPLIANT: trail access-provisioning/ACCESS-4711"
    before, after = stdout.split(gate + answers[2], 1)
    assert "attested         access-grant" not in before
    assert "recorded attestation 'access-grant'" in after  # granted only after the gate
    assert "PENDING: approval access-provisioning/ACCESS-4711/access-approval" in before
    assert "APPROVED: approval access-provisioning/ACCESS-4711/access-approval" in before
    assert "recorded attestation 'access-revoke'" in after
    verified = _verified(stdout, "access-package.zip")
    assert verified, stdout
    line = stdout[verified.start():].splitlines()[0]
    assert "3 attestation(s) signed by trusted keys" in line
    assert stdout.rstrip().splitlines()[-2:] == [
        line, "COMPLIANT: trail access-provisioning/ACCESS-4711 (recomputed from the package)"]


def test_scripts_refuse_unknown_arguments(tmp_path: Path) -> None:
    for example in ("prod-server-access", "access-provisioning"):
        result = subprocess.run(["bash", str(EXAMPLES / example / "run.sh"), "--nope"],
                                capture_output=True, text=True, timeout=60, cwd=tmp_path,
                                env={**os.environ, "TMPDIR": str(tmp_path)})
        assert result.returncode == 2 and "usage:" in result.stderr
