"""Unreadable inputs, for real: files and directories with mode 000, and the CLI run without
the two capabilities that let root read through any mode (``setpriv`` from util-linux drops
``CAP_DAC_OVERRIDE`` and ``CAP_DAC_READ_SEARCH``). CI runs as root, where ``chmod`` alone
proves nothing; another uid would not do either, as the interpreter may live under ``/root``.

The headline case of issue 11: ``chmod 000 results/sub`` with a failing report inside used to
be skipped and recorded COMPLIANT. Each case is exit 2, one line naming what could not be
read, and nothing written to the ledger.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Result, assert_error

#: Root, less the capabilities that bypass file modes.
NO_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
          "--bounding-set=-dac_override,-dac_read_search"]
FAILING = """<?xml version="1.0"?>
<testsuite name="b" tests="1" failures="1"><testcase classname="b" name="breaks">
<failure message="boom"/></testcase></testsuite>
"""
PASSING = """<?xml version="1.0"?>
<testsuite name="a" tests="1"><testcase classname="a" name="works"/></testsuite>
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                                reason="mode 000 stops a plain user already (tests/test_walk.py)")


class Sandbox:
    """A directory with a ledger, and a way to run the CLI that mode 000 stops."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.db = root / "l.db"

    def run(self, *args: str | Path) -> Result:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root),
               "XDG_CACHE_HOME": str(self.root / "cache"), "LANG": "C.UTF-8",
               "AFFIDAVIT_LEDGER": f"sqlite:///{self.db}"}
        proc = subprocess.run(
            [*NO_DAC, sys.executable, "-m", "affidavit", *map(str, args)], cwd=self.root,
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def entries(self) -> int:
        db = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])
        finally:
            db.close()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path)
    probe = box.run("ledger", "init")
    assert probe.code == 0, str(probe)
    for args in (["create", "flow", "demo"], ["begin", "trail", "t1", "--flow", "demo"]):
        assert box.run(*args).code == 0, args
    yield box
    for folder, dirs, files in os.walk(tmp_path):  # let pytest clean up
        for name in dirs + files:
            if not os.path.islink(os.path.join(folder, name)):
                os.chmod(os.path.join(folder, name), 0o755)


ATTEST = ("--flow", "demo", "--trail", "t1", "--name", "unit")


def _unreadable(path: Path) -> Path:
    os.chmod(path, 0)
    return path


def test_unreadable_results_subdirectory_is_refused_not_skipped(sandbox: Sandbox) -> None:
    sandbox.write("results/TEST-a.xml", PASSING)
    sandbox.write("results/sub/TEST-b.xml", FAILING)
    _unreadable(sandbox.root / "results" / "sub")
    before = sandbox.entries()
    result = sandbox.run("attest", "junit", *ATTEST, "--results-dir", "results")
    assert_error(result, 2, "--results-dir results: results/sub cannot be read",
                 "permission denied", "refused rather than skipped")
    assert sandbox.entries() == before
    # and through a glob that has to list it
    result = sandbox.run("attest", "junit", *ATTEST, "--results", "results/**/*.xml")
    assert_error(result, 2, "results/sub cannot be read")
    assert sandbox.entries() == before


@pytest.mark.parametrize("case", ["results-file", "scan-results", "user-data", "schema",
                                  "template", "attachment-file", "attachment-dir",
                                  "fingerprint-dir", "fingerprint-file", "package"])
def test_unreadable_input_is_one_line(sandbox: Sandbox, case: str) -> None:
    box = sandbox
    if case == "results-file":
        path = _unreadable(box.write("TEST-a.xml", PASSING))
        args: list[str | Path] = ["attest", "junit", *ATTEST, "--results", path.name]
    elif case == "scan-results":
        path = _unreadable(box.write("scan.sarif", '{"version": "2.1.0", "runs": []}'))
        args = ["attest", "sarif", *ATTEST, "--scan-results", path.name]
    elif case == "user-data":
        path = _unreadable(box.write("data.json", "{}"))
        args = ["attest", "generic", *ATTEST, "--user-data", path.name]
    elif case == "schema":
        path = _unreadable(box.write("schema.json", '{"type": "object"}'))
        args = ["create", "attestation-type", "kind", "--schema", path.name]
    elif case == "template":
        path = _unreadable(box.write("template.yml", "version: 1\n"))
        args = ["create", "flow", "shop", "--template-file", path.name]
    elif case == "attachment-file":
        path = _unreadable(box.write("log.txt", "secret"))
        args = ["attest", "generic", *ATTEST, "--attachments", path.name]
    elif case == "attachment-dir":
        box.write("logs/a.txt", "a")
        box.write("logs/deep/b.txt", "b")
        path = _unreadable(box.root / "logs" / "deep")
        args = ["attest", "generic", *ATTEST, "--attachments", "logs"]
    elif case == "fingerprint-dir":
        box.write("dist/a.bin", "a")
        box.write("dist/deep/b.bin", "b")
        path = _unreadable(box.root / "dist" / "deep")
        args = ["attest", "artifact", "dist", "--artifact-type", "dir", *ATTEST]
    elif case == "fingerprint-file":
        box.write("dist/a.bin", "a")
        path = _unreadable(box.write("dist/secret.bin", "b"))
        args = ["fingerprint", "dist", "--artifact-type", "dir"]
    else:
        path = _unreadable(box.write("pkg.zip", "PK"))
        key = box.run("ledger", "public-key").out.strip()
        args = ["verify", "package", path.name, "--public-key", key]
    before = box.entries()
    line = assert_error(box.run(*args), 2, path.name)
    assert "permission denied" in line.lower(), line
    assert box.entries() == before


def test_unwritable_cache_dir_fails_before_appending(sandbox: Sandbox) -> None:
    """The cache holds the last checkpoint seen (rollback detection): a write that cannot
    remember it is refused before it appends, rather than recorded unwatched."""
    cache = sandbox.root / "cache"
    for folder, dirs, _ in os.walk(cache):
        for name in [".", *dirs]:
            os.chmod(os.path.join(folder, name), 0o555)
    before = sandbox.entries()
    result = sandbox.run("begin", "trail", "t2", "--flow", "demo")
    assert_error(result, 2, str(cache), "permission denied", "AFFIDAVIT_CACHE_DIR")
    assert sandbox.entries() == before
