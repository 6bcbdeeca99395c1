"""The CLI runs dozens of times per pipeline, so its write path must not load heavy modules.

This does not time anything (bench/coldstart.py does); it checks which modules an
`attest generic` run leaves in ``sys.modules``, so a stray top-level import shows up here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
from affidavit.cli.main import main
codes = [main(args) for args in json.loads(sys.argv[1])]
print(json.dumps({"codes": codes, "modules": sorted(sys.modules)}), file=sys.stderr)
"""

# Not listed, because every write signs a checkpoint and every read verifies one through public
# APIs only: ``hashlib`` (SHA-256) and ``cryptography.hazmat.primitives`` (Ed25519), which
# imports ``typing``; together a few milliseconds (bench/coldstart.py keeps the total in check).
HEAVY = ["pydantic", "pathlib", "yaml", "importlib.metadata", "zipfile", "shutil", "tempfile"]


def _modules_after(commands: list[list[str]], tmp_path: Path) -> tuple[list[int], set[str]]:
    env = {"AFFIDAVIT_LEDGER": str(tmp_path / "l.db"),
           "AFFIDAVIT_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", PROBE, json.dumps(
        [["create", "flow", "f"], ["begin", "trail", "t", "--flow", "f"]])],
        env=env, check=True, capture_output=True)
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(commands)], env=env,
                            capture_output=True, text=True, check=True)
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return report["codes"], set(report["modules"])


def test_attest_generic_loads_no_heavy_module(tmp_path: Path) -> None:
    codes, modules = _modules_after(
        [["attest", "generic", "--flow", "f", "--trail", "t", "--name", "unit"]], tmp_path)
    assert codes == [0]
    loaded = [name for name in HEAVY if name in modules]
    assert loaded == [], f"the write path imported {loaded}"


def test_gating_reads_load_no_heavy_module(tmp_path: Path) -> None:
    """Reads verify the checkpoint's signature, and load no more than signing does."""
    codes, modules = _modules_after(
        [["attest", "generic", "--flow", "f", "--trail", "t", "--name", "unit", "--dry-run"],
         ["assert", "trail", "t", "--flow", "f"]], tmp_path)
    assert codes == [0, 0]
    loaded = [name for name in HEAVY if name in modules]
    assert loaded == [], f"a gating read imported {loaded}"
