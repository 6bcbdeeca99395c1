"""(a) Cold start: `affidavit attest generic` as a CI step runs it, vs `python -c pass`.

Both run from the same interpreter; the ledger already holds the flow and trail. Target: ≤ 5×.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from _common import clean_env, median_run, report


def main() -> None:
    quick = "--quick" in sys.argv
    repeat = 7 if quick else 31
    cli = str(Path(sys.executable).parent / "affidavit")
    with tempfile.TemporaryDirectory() as tmp:
        env = clean_env(AFFIDAVIT_LEDGER=f"{tmp}/ledger.db", AFFIDAVIT_CACHE_DIR=f"{tmp}/cache")
        for cmd in (["create", "flow", "bench"], ["begin", "trail", "t1", "--flow", "bench"]):
            subprocess.run([cli, *cmd], check=True, env=env, stdout=subprocess.DEVNULL)
        attest = [cli, "attest", "generic", "--flow", "bench", "--trail", "t1", "--name", "unit"]
        median_run(attest, 2, env)  # bytecode and plugin caches, as on any second call
        ours = median_run(attest, repeat, env)
        anchor = median_run([sys.executable, "-c", "pass"], repeat, env)
    report("coldstart-attest-generic", ours * 1000, anchor * 1000, "ms", note="target ≤ 5")


if __name__ == "__main__":
    main()
