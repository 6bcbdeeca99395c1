"""Plain helpers shared by the CLI, ledger and package tests (fixtures live in conftest.py)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Home",
    "Result",
    "State",
    "assert_error",
    "ok",
    "read_github_outputs",
    "rewrite_zip",
    "run_subprocess",
    "sha256_hex",
    "stop_process",
    "state",
]


@dataclass(frozen=True)
class Home:
    """Where one test's ledger, its key, its evidence vault and its client cache live."""

    dir: Path
    cache: Path

    @property
    def db(self) -> Path:
        return self.dir / "l.db"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.db}"

    @property
    def key(self) -> Path:
        return self.dir / "l.db.key"

    @property
    def blobs(self) -> Path:
        return self.dir / "l.db.blobs"


@dataclass(frozen=True)
class Result:
    """Exit code and output of one CLI call."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def __str__(self) -> str:  # shown by pytest when an assertion about a result fails
        return f"exit {self.code}\n--- stdout\n{self.out}--- stderr\n{self.err}"


#: The ``cli`` fixture: run ``affidavit ARGS`` in-process, return its :class:`Result`.
Cli = Callable[..., Result]


@dataclass(frozen=True)
class State:
    """What a command may change: log entries, checkpoints, index rows and vault files."""

    entries: int
    checkpoints: int
    index_rows: int
    blobs: tuple[str, ...]


def _count(db: sqlite3.Connection, table: str) -> int:
    try:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:  # the table was never created
        return 0


def state(home: Home) -> State:
    """Read the ledger's files without going through affidavit (and without creating them)."""
    blobs = tuple(sorted(
        str(p.relative_to(home.blobs)) for p in home.blobs.rglob("*") if p.is_file()
    )) if home.blobs.exists() else ()
    if not home.db.exists():
        return State(0, 0, 0, blobs)
    db = sqlite3.connect(f"file:{home.db}?mode=ro", uri=True)
    try:
        return State(_count(db, "entries"), _count(db, "checkpoints"), _count(db, "idx"), blobs)
    finally:
        db.close()


def ok(result: Result) -> Result:
    """``result``, after asserting the command succeeded (exit 0)."""
    assert result.code == 0, str(result)
    return result


def assert_error(result: Result, code: int, *needles: str) -> str:
    """One line on stderr, ``affidavit: error: ...`` naming every needle; nothing on stdout."""
    assert result.code == code, str(result)
    assert "Traceback" not in result.err, str(result)
    lines = result.err.splitlines()
    assert len(lines) == 1, str(result)
    assert lines[0].startswith("affidavit: error: "), str(result)
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    assert result.out == "", str(result)
    return lines[0]


def run_subprocess(
    *args: str | os.PathLike[str], env: Mapping[str, str] | None = None, timeout: float = 60
) -> Result:
    """``python -m affidavit ARGS`` in a real process, with this test's environment."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "affidavit", *map(str, args)],
        capture_output=True, text=True, env=full_env, timeout=timeout, check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def stop_process(process: subprocess.Popen[Any] | None) -> None:
    """Terminate a server a test started, and wait for it (killed when it does not go)."""
    if process is None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rewrite_zip(
    source: Path,
    target: Path,
    *,
    replace: Mapping[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    add: Mapping[str, bytes] | None = None,
) -> Path:
    """Copy a zip member by member, replacing, dropping or adding members by name."""
    replace = dict(replace or {})
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            dst.writestr(info, replace.pop(info.filename, src.read(info.filename)))
        for name, data in {**replace, **(add or {})}.items():
            dst.writestr(name, data)
    return target


def attest_generic(ledger: Any, *, compliant: bool = True, **claim: Any) -> Any:
    """``record.attest_generic`` with the claim's fields as keywords, for brevity in tests."""
    from affidavit.api import record

    return record.attest_generic(ledger, record.Claim(**claim), compliant=compliant)


#: A flow needing a trail-level review and, for artifact ``app``, a unit attestation.
SHOP_TEMPLATE = """\
version: 1
trail:
  attestations:
    - {name: review, type: generic}
  artifacts:
    - name: app
      attestations:
        - {name: unit, type: generic}
"""


#: :data:`SHOP_TEMPLATE` with a JUnit ``unit``: a report whose failed cases a page shows.
SHOP_JUNIT_TEMPLATE = SHOP_TEMPLATE.replace("{name: unit, type: generic}",
                                            "{name: unit, type: junit}")


class Clock:
    """``time`` for the entries' times (``monkeypatch.setattr(build, "_time", clock)``),
    ``now`` seconds since the epoch: the test moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time_ns(self) -> int:
        return int(self.now * 1e9)

    def __getattr__(self, name: str) -> Any:
        import time

        return getattr(time, name)


#: Variables the test run itself is configured with; every other AFFIDAVIT_* is cleared.
KEEP = {"AFFIDAVIT_VECTORS", "AFFIDAVIT_CORPUS"}
#: A CI's own variables would change the CLI's defaults (trail, commit, origin URL): tests that
#: want a CI set its variables themselves.
CI_PREFIXES = ("GITHUB_", "GITLAB_", "CI_", "BITBUCKET_", "TF_BUILD", "SYSTEM_", "BUILD_",
               "CIRCLE", "CODEBUILD_", "TEAMCITY_", "JENKINS_", "GIT_COMMIT", "GIT_URL",
               "GIT_BRANCH", "CHANGE_")


def clear_environment(patch: Any) -> None:
    """Delete (through ``patch``, a ``MonkeyPatch``) every AFFIDAVIT_* but :data:`KEEP` and
    every CI's variable, so that nothing but what a test sets changes the CLI's defaults."""
    for name in list(os.environ):
        if (name.startswith("AFFIDAVIT_") and name not in KEEP) or name.startswith(
                CI_PREFIXES):
            patch.delenv(name)


def run_cli(*args: Any) -> Result:
    """``affidavit ARGS`` in this process, its output captured: the ``cli`` fixture's run for
    a module- or session-scoped fixture, which cannot use a per-test one."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from affidavit.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return Result(code, out.getvalue(), err.getvalue())


def commit_at(folder: Path, when: float, message: str = "shop 1") -> str:
    """An empty commit by Ada authored and committed at ``when`` (POSIX seconds) in the git
    repository at ``folder`` (made when missing); its SHA: a commit time a test knows."""
    stamp = f"@{int(when)} +0000"
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp,
           "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"}
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / ".git").exists():
        subprocess.run(["git", "init", "-q"], cwd=folder, env=env, check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", message], cwd=folder,
                   env=env, check=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True,
                          text=True, check=True).stdout.strip()


def append_entries(home: Home, *entries: dict[str, Any]) -> None:
    """Append ``entries`` (``models.build`` entries) to the home's SQLite ledger through the
    library, made when missing: a history faster than the CLI makes it."""
    from affidavit import canonical
    from affidavit.ledger.sqlite import SQLiteLedger

    ledger = SQLiteLedger(home.url, create=True)
    try:
        ledger.append([canonical.dumps(e) for e in entries], list(entries))
    finally:
        ledger.close()


def counted_loads(monkeypatch: Any) -> list[int]:
    """The positions every ``Proven`` loads from the log from now on (``Proven.picked`` and
    ``Proven.entries``), appended as they are read: what a remembered read did not read."""
    from affidavit.verify.proven import Proven

    loaded: list[int] = []
    real = Proven._load

    def counted(view: Proven, positions: Any) -> None:
        loaded.extend(positions)
        real(view, positions)

    monkeypatch.setattr(Proven, "_load", counted)
    return loaded


def copy_of_sources(dest: Path) -> Path:
    """This checkout's sources without caches and venvs, for tests that pip-build the core:
    setuptools writes build/ and *.egg-info into the tree it builds, and parallel workers
    building the checkout itself would trip over each other."""
    import shutil

    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns(
        ".venv", ".git", ".tools", "build", "*.egg-info", "__pycache__", ".affidavit",
        ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis"))
    return dest


def read_github_outputs(path: Path) -> list[tuple[str, str]]:
    """Each (name, value) in file order, as the runner parses ``$GITHUB_OUTPUT``."""
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "", "the file ends with a newline"
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(lines) - 1:
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            out.append((name, "\n".join(lines[i + 1:end])))
            i = end + 1
        else:
            name, value = line.split("=", 1)
            out.append((name, value))
            i += 1
    return out
