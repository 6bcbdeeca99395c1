"""``affidavit.digest``: the built-in SHA-256 for small inputs and OpenSSL's for large ones give
the same digests (checked against ``hashlib``), and the size that picks one is the file's."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from affidavit.digest import SMALL, sha256_for, size_of


@pytest.mark.parametrize("size", [0, 1, SMALL - 1, SMALL, SMALL + 1, 3 * SMALL, None])
def test_either_hasher_gives_the_same_digest(size: int | None) -> None:
    data = os.urandom(size if size is not None else 1000)
    hasher = sha256_for(size)
    for start in range(0, len(data), 4096):
        hasher.update(data[start:start + 4096])
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()


def test_the_size_is_the_regular_files(tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    path.write_bytes(b"x" * 1234)
    with path.open("rb") as stream:
        assert size_of(stream) == 1234
        assert size_of(stream.fileno()) == 1234
    read, write = os.pipe()
    try:
        assert size_of(read) is None  # a pipe: unknown, hashed as large
    finally:
        os.close(read)
        os.close(write)
    assert size_of(object()) is None


def test_a_small_report_is_recorded_without_loading_openssls_hashlib(tmp_path: Path) -> None:
    """What the threshold is for: ``attest junit`` on a small report never imports
    ``hashlib`` (1.8 ms of OpenSSL start-up, bench/coldstart.py)."""
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "TEST-a.xml").write_text(
        '<testsuite name="s" tests="1"><testcase classname="c" name="t"/></testsuite>\n')
    env = {**os.environ, "AFFIDAVIT_LEDGER": str(tmp_path / "l.db"),
           "AFFIDAVIT_CACHE_DIR": str(tmp_path / "cache")}
    program = (
        "import sys\n"
        "from affidavit.cli.main import main\n"
        "for args in (['create', 'flow', 'f'], ['begin', 'trail', 't', '--flow', 'f']):\n"
        "    assert main(args) == 0\n"
        "sys.modules.pop('hashlib', None); sys.modules.pop('_hashlib', None)\n"
        "code = main(['attest', 'junit', '--flow', 'f', '--trail', 't', '--name', 'u',\n"
        "             '--results-dir', sys.argv[1]])\n"
        "print(code, '_hashlib' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", program, str(tmp_path / "results")], env=env,
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.stdout.split()[-2:] == ["0", "False"], done.stdout + done.stderr
