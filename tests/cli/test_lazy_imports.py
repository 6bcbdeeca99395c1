"""A pipeline runs the CLI dozens of times, so no command may load a heavy module it does not need.

This does not time anything (bench/coldstart.py does, against ``python -c pass`` and Kosli's
CLI); it checks which modules each command a pipeline runs leaves in ``sys.modules``, on the
same small inputs the benchmark uses, so a stray top-level import shows up here rather than as
a slower pipeline. Modules are named as the standard library and PyPI name them, never by
affidavit's internal module paths, so moving code between modules cannot break these tests.

What each command may load, and why:

- ``hashlib`` loads OpenSSL (3 ms). Allowed where hashing a file *is* the job: the reports
  ``attest junit|sarif|snyk`` keep as evidence (OpenSSL is 8x faster than the built-in SHA-256
  on a large report), ``attest artifact``, ``assert artifact PATH`` and ``fingerprint``. Every
  other command hashes only a few hundred bytes of entries, with the built-in SHA-256.
- Never: ``pydantic``, ``typing`` (models and annotations only), ``pathlib`` (4 ms; paths are
  spelled as pathlib spells them by ``affidavit.paths``), ``yaml`` (templates only),
  ``cryptography.hazmat.primitives`` (signing goes through the lean binding),
  ``importlib.metadata`` (plugin discovery only when a ledger URL needs it), ``zipfile``,
  ``shutil`` and ``tempfile`` (packages and the vault's temporary file need none of them),
  ``logging`` and ``concurrent.futures`` (5 ms: a thread pool only for a large tree),
  ``multiprocessing``, and ``jsonschema`` (80 ms: ``attest custom`` answers a plain schema
  itself and asks jsonschema only about anything else), and ``sigstore`` (only with
  ``--sigstore-bundle``, or a package that holds a bundle).
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from affidavit.paths import path_text

PROBE = """
import json, sys
from affidavit.cli.main import main
codes = [main(args) for args in json.loads(sys.argv[1])]
print(json.dumps({"codes": codes, "modules": sorted(sys.modules)}), file=sys.stderr)
"""

NEVER = ["pydantic", "typing", "pathlib", "yaml", "cryptography.hazmat.primitives",
         "importlib.metadata", "zipfile", "shutil", "tempfile", "logging", "concurrent.futures",
         "multiprocessing", "jsonschema", "dataclasses", "sigstore"]
HEAVY = ["hashlib", *NEVER]  # for the commands that hash no file

ON = ["--flow", "f", "--trail", "t"]
COMMANDS: dict[str, tuple[list[str], list[str]]] = {
    "attest generic": (["attest", "generic", *ON, "--name", "unit"], HEAVY),
    "attest junit": (["attest", "junit", *ON, "--name", "tests", "--results-dir", "results"],
                     NEVER),
    "attest sarif": (["attest", "sarif", *ON, "--name", "sast", "--scan-results", "scan.sarif"],
                     NEVER),
    "attest snyk": (["attest", "snyk", *ON, "--name", "snyk", "--scan-results", "snyk.json"],
                    NEVER),
    "attest artifact": (["attest", "artifact", "app.bin", "--artifact-type", "file", *ON,
                         "--name", "app"], NEVER),
    "attest custom": (["attest", "custom", *ON, "--name", "cov", "--type", "coverage",
                       "--attestation-data", "coverage.json"], HEAVY),
    "attest approval": (["attest", "approval", *ON, "--name", "release", "--approver", "alice"],
                        HEAVY),
    "begin trail": (["begin", "trail", "t2", "--flow", "f"], HEAVY),
    "get trail": (["get", "trail", "t", "--flow", "f"], HEAVY),
    "assert trail": (["assert", "trail", "t", "--flow", "f"], HEAVY),
    "assert artifact": (["assert", "artifact", "app.bin", "--artifact-type", "file", "--flow",
                         "f"], NEVER),
    "fingerprint": (["fingerprint", "app.bin", "--artifact-type", "file"], NEVER),
}

JUNIT = ('<testsuite name="s" tests="1" failures="0" errors="0">'
         '<testcase classname="c" name="t" time="0.01"/></testsuite>')
SARIF = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "demo", "rules": [
    {"id": "R1", "defaultConfiguration": {"level": "note"}}]}}, "results": [
    {"ruleId": "R1", "message": {"text": "x"}, "locations": [{"physicalLocation": {
        "artifactLocation": {"uri": "a.py"}, "region": {"startLine": 1}}}]}]}]}
SNYK = {"ok": True, "vulnerabilities": [], "projectName": "demo", "packageManager": "pip",
        "dependencyCount": 1}
SCHEMA = {"type": "object", "required": ["coverage"],
          "properties": {"coverage": {"type": "number", "minimum": 0, "maximum": 100}}}


def _env(state: Path) -> dict[str, str]:
    return {"AFFIDAVIT_LEDGER": str(state / "l.db"), "AFFIDAVIT_CACHE_DIR": str(state / "cache"),
            "PATH": "/usr/bin:/bin"}


def _run(commands: list[list[str]], cwd: Path, state: Path) -> tuple[list[int], set[str]]:
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(commands)], cwd=cwd,
                            env=_env(state), capture_output=True, text=True, check=True)
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return report["codes"], set(report["modules"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small inputs and a ledger holding a flow, its trail, a custom type and an artifact."""
    root = tmp_path_factory.mktemp("lazy")
    (root / "results").mkdir()
    (root / "results" / "junit.xml").write_text(JUNIT)
    (root / "scan.sarif").write_text(json.dumps(SARIF))
    (root / "snyk.json").write_text(json.dumps(SNYK))
    (root / "coverage.schema.json").write_text(json.dumps(SCHEMA))
    (root / "coverage.json").write_text(json.dumps({"coverage": 91}))
    (root / "app.bin").write_bytes(b"artifact bytes\n" * 100)
    codes, _ = _run([["create", "flow", "f"], ["begin", "trail", "t", "--flow", "f"],
                     ["create", "attestation-type", "coverage", "--schema",
                      "coverage.schema.json", "--rule", "coverage >= 80"],
                     ["attest", "artifact", "app.bin", "--artifact-type", "file", *ON,
                      "--name", "app"]], root, root / "state")
    assert codes == [0, 0, 0, 0]
    return root


@pytest.mark.parametrize("command", list(COMMANDS))
def test_pipeline_command_loads_no_heavy_module(command: str, world: Path,
                                                tmp_path: Path) -> None:
    argv, unwanted = COMMANDS[command]
    state = tmp_path / "state"
    shutil.copytree(world / "state", state)  # each command on the same small ledger
    codes, modules = _run([argv], world, state)
    assert codes == [0], f"{command} failed"
    loaded = [name for name in unwanted if name in modules]
    assert loaded == [], f"`affidavit {command}` imported {loaded}"


def test_gating_reads_load_no_heavy_module(world: Path, tmp_path: Path) -> None:
    """Reads verify the checkpoint's signature and load no more than signing does,
    also after a dry run in the same process (as the library is used from a wrapper)."""
    state = tmp_path / "state"
    shutil.copytree(world / "state", state)
    codes, modules = _run([[*COMMANDS["attest generic"][0], "--dry-run"],
                           COMMANDS["assert trail"][0]], world, state)
    assert codes == [0, 0]
    loaded = [name for name in HEAVY if name in modules]
    assert loaded == [], f"a gating read imported {loaded}"


def test_attest_custom_asks_jsonschema_only_beyond_the_plain_subset(world: Path,
                                                                    tmp_path: Path) -> None:
    """The quick check is one-sided: data it cannot vouch for goes to jsonschema, whose
    message the user sees."""
    state = tmp_path / "state"
    shutil.copytree(world / "state", state)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"coverage": "high"}))
    codes, modules = _run([["attest", "custom", *ON, "--name", "cov", "--type", "coverage",
                            "--attestation-data", str(bad)]], world, state)
    assert codes == [2]
    assert "jsonschema" in modules


def test_paths_are_spelled_exactly_as_pathlib_spells_them() -> None:
    """``affidavit.paths.path_text`` stands in for ``str(Path(p))`` in recorded paths."""
    pieces = ["/", ".", "..", "a", "b/", "//", "./", "x y"]
    for size in range(6):
        for combo in itertools.product(pieces, repeat=size):
            text = "".join(combo)
            assert path_text(text) == str(Path(text)), text
