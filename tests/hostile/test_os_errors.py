"""Everything the operating system can refuse becomes one line, exit 2 or 3, and writes nothing
(issue 11, item 5).

Each refusal is produced for real wherever the kernel can be made to produce it:

- permissions (EACCES, a database opened read-only): the command runs in a process that has
  dropped the capabilities which let root ignore file modes (CAP_DAC_OVERRIDE and
  CAP_DAC_READ_SEARCH, from its bounding set before exec), so ``chmod`` binds it as it binds
  any user; run as another user than root, ``chmod`` binds already;
- a read-only file system (EROFS) and a full disk (ENOSPC): the command runs in a private
  mount namespace (``unshare -m``) with the ledger's folder bind-mounted read-only, or a small
  tmpfs mounted over it; skipped where no mount namespace can be made;
- a file size limit (EFBIG, what a quota looks like): ``RLIMIT_FSIZE`` in the child (Python
  ignores SIGXFSZ, so the write fails instead of killing it); with a reader keeping the
  database's ``-shm`` open, the limit hits the commit itself, after the evidence was placed;
- ELOOP and EISDIR: symbolic link loops and directories where files belong;
- where no mechanism reaches the exact call (a rename or a sync failing with ENOSPC), the call
  is made to fail in-process.

Every case checks the exit code, exactly one line on stderr without a traceback, and that the
log's rows and the vault's whole tree (files and folders) are what they were; reads of a
read-only copy also create no file at all beside it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import gc
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FLOW, TRAIL
from tests.helpers import Cli, Home, Result, assert_error, attest_generic, ok

ROOT = os.geteuid() == 0
#: ``prctl(PR_CAPBSET_DROP, cap)`` and the capabilities that let root ignore file modes.
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2
SQLITE_SIDE = ("l.db-wal", "l.db-shm")  # SQLite's own, created and removed around a connection


def _attest(*extra: Any) -> tuple[Any, ...]:
    return ("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "review", *extra)


# -- what a command may not change -----------------------------------------------------------


def _tree(root: Path) -> tuple[str, ...]:
    if not os.path.lexists(root):
        return ()
    below = [str(p.relative_to(root)) for p in root.rglob("*")] if root.is_dir() else []
    return tuple(sorted([".", *below]))


def _rows(db: Path) -> tuple[int, ...]:
    """Row counts of the log, read without creating anything: immutable while no ``-wal``
    holds changes (nothing is writing when a test looks), through the log otherwise."""
    wal = Path(f"{db}-wal")
    busy = wal.exists() and wal.stat().st_size > 0
    uri = f"file:{db}?mode=ro" + ("" if busy else "&immutable=1")
    conn = sqlite3.connect(uri, uri=True)
    try:
        return tuple(int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                     for table in ("entries", "checkpoints", "idx", "map_leaves"))
    finally:
        conn.close()


@dataclass(frozen=True)
class Snapshot:
    """The log's rows, the vault's tree, and every other name in the ledger's folder."""

    rows: tuple[int, ...]
    vault: tuple[str, ...]
    files: tuple[str, ...]
    sqlite_files: tuple[str, ...]


def snapshot(home: Home) -> Snapshot:
    names = _tree(home.dir)  # before the rows are read: reading them must change nothing
    return Snapshot(rows=_rows(home.db), vault=_tree(home.blobs),
                    files=tuple(n for n in names if n not in SQLITE_SIDE and n != ".filler"),
                    sqlite_files=tuple(n for n in names if n in SQLITE_SIDE))


def refused(result: Result, code: int, home: Home, before: Snapshot, *needles: str,
            strict: bool = False) -> str:
    """One line, ``code``, naming ``needles``; the log, the vault and the folder unchanged
    (``strict``: SQLite's ``-wal``/``-shm`` too)."""
    line = assert_error(result, code, *needles)
    after = snapshot(home)
    assert after.rows == before.rows, line
    assert after.vault == before.vault, line
    assert after.files == before.files, line
    if strict:
        assert after.sqlite_files == before.sqlite_files, line
    return line


# -- how the refusals are produced -----------------------------------------------------------


def _drop_file_privileges() -> None:
    """``preexec_fn``: leave root, in the command about to be run, no way around file modes."""
    if not ROOT:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _limit_file_size(limit: int) -> Callable[[], None]:
    def preexec() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


#: ``python -c`` program: the CLI, with each call of ``Incoming.place``/``undo`` noted in the
#: file ``$AFFIDAVIT_TEST_TRACE``, to show where inside the write a real refusal struck.
TRACED = """
import os, sys
from affidavit.ledger import blobs

def traced(name):
    real = getattr(blobs.Incoming, name)
    def call(self, *args):
        with open(os.environ["AFFIDAVIT_TEST_TRACE"], "a") as fh:
            fh.write(f"{name} {len(self._staged)} staged {len(self._placed)} placed\\n")
        return real(self, *args)
    setattr(blobs.Incoming, name, call)

traced("place")
traced("undo")
from affidavit.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@functools.cache
def _modes_bind() -> str:
    """Why file modes would not bind a child here ("" when they do): root that cannot give up
    its capabilities (no CAP_SETPCAP in this container) would write through any ``chmod``."""
    folder = Path(tempfile.mkdtemp())
    try:
        (folder / "f").write_text("")
        (folder / "f").chmod(0o444)
        probe = subprocess.run([sys.executable, "-c", f"open({str(folder / 'f')!r}, 'a')"],
                               preexec_fn=_drop_file_privileges, capture_output=True, text=True,
                               check=False)
    except subprocess.SubprocessError as exc:
        return f"cannot drop root's file capabilities here ({exc})"
    finally:
        shutil.rmtree(folder)
    return "" if "Permission denied" in probe.stderr else "file modes do not bind a child here"


def affidavit(*args: Any, preexec: Callable[[], None] | None = _drop_file_privileges,
              wrap: Sequence[str] = (), trace: Path | None = None) -> Result:
    """``python -m affidavit ARGS`` in a child process (this test's environment), by default
    without root's power over file modes (the test is skipped where that cannot be had);
    ``wrap`` runs it inside another command, ``trace`` notes the vault's steps there
    (:data:`TRACED`)."""
    if preexec is _drop_file_privileges and _modes_bind():
        pytest.skip(_modes_bind())
    program = ["-c", TRACED] if trace else ["-m", "affidavit"]
    env = dict(os.environ, AFFIDAVIT_TEST_TRACE=str(trace)) if trace else None
    proc = subprocess.run([*wrap, sys.executable, *program, *map(str, args)], env=env,
                          capture_output=True, text=True, preexec_fn=preexec, timeout=120,
                          check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _unshare() -> list[str]:
    return ["unshare", "-m", "--propagation", "private", *([] if ROOT else ["-r"])]


_RO_MOUNT = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
_FULL_DISK = """
set -e
dir=$0; source=$1; back=$2; free=$3; shift 3
mount -t tmpfs -o size=1m tmpfs "$dir"
cp -a "$source"/. "$dir"/
dd if=/dev/zero of="$dir/.filler" bs=4k 2>/dev/null || true
truncate -s "-${free}K" "$dir/.filler"
set +e
"$@"
code=$?
cp -a "$dir"/. "$back"/
exit $code
"""


@pytest.fixture(scope="session")
def mounts(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Skip unless this machine lets a test mount file systems in a namespace of its own."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) here: read-only and full file systems cannot be made")
    point = tmp_path_factory.mktemp("mount-probe")
    probe = subprocess.run([*_unshare(), "sh", "-c", 'mount -t tmpfs tmpfs "$0"', point],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"no mount namespace here ({probe.stderr.strip()})")


def read_only(folder: Path) -> list[str]:
    """``wrap`` for :func:`affidavit`: ``folder`` mounted read-only for that command only."""
    return [*_unshare(), "sh", "-c", _RO_MOUNT, str(folder)]


# -- the ledger under test -------------------------------------------------------------------


@pytest.fixture
def attachment(tmp_path: Path) -> Path:
    path = tmp_path / "inputs" / "review.txt"
    path.parent.mkdir()
    path.write_text("what the reviewer saw\n")
    return path


@pytest.fixture
def recorded(ledger: Any, trail: tuple[str, str], tmp_path: Path) -> Iterator[str]:
    """A flow, a trail and one attestation keeping evidence; no connection left open (so no
    ``-wal`` file). Yields the evidence digest; every mode is given back at the end."""
    kept = tmp_path / "kept.txt"
    kept.write_text("evidence already in the vault\n")
    done = attest_generic(ledger, flow=FLOW, trail=TRAIL, name="unit", attachments=[kept])
    ledger.close()
    gc.collect()
    yield done.entry["record"]["evidence"][0]["sha256"]
    for path in [tmp_path, *tmp_path.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)


@pytest.fixture
def closed(recorded: str, home: Home) -> Iterator[Home]:
    """:func:`recorded`, for tests that need only the home; the home's modes are restored."""
    yield home
    for path in [home.dir, *home.dir.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


def _digest_of(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- outputs: refused before anything is recorded (exit 2) ------------------------------------

COMMANDS = {
    "attest": lambda a: _attest("--attachments", a),
    "begin-trail": lambda a: ("begin", "trail", "t2", "--flow", FLOW),
    "create-flow": lambda a: ("create", "flow", "another"),
    "assert-trail": lambda a: ("assert", "trail", TRAIL, "--flow", FLOW),
}


def _bad_targets(tmp_path: Path) -> dict[str, tuple[Path | str, str]]:
    loop = tmp_path / "loop.md"
    loop.symlink_to(loop)
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    (tmp_path / "a-dir").mkdir()
    (tmp_path / "a-file").write_text("")
    return {
        "directory": (tmp_path / "a-dir", "is a directory"),
        "link-loop": (loop, "too many levels of symbolic links"),
        "fifo": (fifo, "not a regular file"),
        "device": ("/dev/full" if os.path.exists("/dev/full") else os.devnull,
                   "not a regular file"),
        "missing-folder": (tmp_path / "nowhere" / "s.md", "its directory does not exist"),
        "folder-is-a-file": (tmp_path / "a-file" / "s.md", "not a directory"),
    }


@pytest.mark.parametrize("flag", ["--summary-file", "--outputs-file"])
@pytest.mark.parametrize("target", ["directory", "link-loop", "fifo", "device", "missing-folder",
                                    "folder-is-a-file"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_output_that_cannot_be_written_is_refused_first(
    cli: Cli, closed: Home, tmp_path: Path, attachment: Path, flag: str, target: str,
    command: str
) -> None:
    path, why = _bad_targets(tmp_path)[target]
    before = snapshot(closed)
    refused(cli(*COMMANDS[command](attachment), flag, path), 2, closed, before, flag, why)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_output_folder_without_write_permission_is_refused_first(
    closed: Home, tmp_path: Path, attachment: Path, command: str
) -> None:
    folder = tmp_path / "summaries"
    folder.mkdir()
    (folder / "old.md").write_text("a summary that may not be appended to\n")
    (folder / "old.md").chmod(0o444)
    folder.chmod(0o555)
    before = snapshot(closed)
    refused(affidavit(*COMMANDS[command](attachment), "--summary-file", folder / "new.md"), 2,
            closed, before, "--summary-file", "its directory is not writable")
    refused(affidavit(*COMMANDS[command](attachment), "--outputs-file", folder / "old.md"), 2,
            closed, before, "--outputs-file", "permission denied")
    assert sorted(p.name for p in folder.iterdir()) == ["old.md"]


def test_an_output_on_a_read_only_file_system_is_refused_first(
    mounts: None, closed: Home, tmp_path: Path, attachment: Path
) -> None:
    folder = tmp_path / "mounted"
    folder.mkdir()
    (folder / "summary.md").write_text("")
    before = snapshot(closed)
    for target, why in ((folder / "new.md", "its directory is on a read-only file system"),
                        (folder / "summary.md", "read-only file system")):
        refused(affidavit(*_attest("--attachments", attachment), "--summary-file", target,
                          preexec=None, wrap=read_only(folder)),
                2, closed, before, "--summary-file", why)
    refused(affidavit("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o",
                      folder / "p.zip", preexec=None, wrap=read_only(folder)),
            2, closed, before, "-o", "read-only file system")


def test_evidence_outputs_that_cannot_be_written_are_refused(
    cli: Cli, closed: Home, recorded: str, tmp_path: Path
) -> None:
    loop = tmp_path / "loop.zip"
    loop.symlink_to(loop)
    barred = tmp_path / "barred"
    barred.mkdir()
    barred.chmod(0o555)
    before = snapshot(closed)
    package = ("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o")
    get = ("evidence", "get", recorded, "-o")
    for command in (package, get):
        refused(cli(*command, loop), 2, closed, before, "-o", "symbolic link")
        refused(cli(*command, tmp_path / "nowhere" / "x"), 2, closed, before, "-o",
                "its directory does not exist")
        refused(affidavit(*command, barred / "x"), 2, closed, before, "-o",
                "its directory is not writable")
    assert list(barred.iterdir()) == []


def test_a_summary_that_fails_after_the_append_names_the_entry(
    closed: Home, tmp_path: Path, attachment: Path
) -> None:
    """A file size limit reached by the summary itself: checked writable, then full."""
    summary = tmp_path / "summary.md"
    summary.write_text("x" * (1 << 20))  # the limit: what the ledger writes stays below it
    result = affidavit(*_attest("--attachments", attachment), "--summary-file", summary,
                       preexec=_limit_file_size(1 << 20))
    line = assert_error(result, 2, "--summary-file", "after entry 3 was recorded")
    assert "too large" in line.lower()


# -- the ledger cannot be written (exit 3), and nothing is -----------------------------------


def test_a_read_only_copy_refuses_writes_and_serves_every_read(
    closed: Home, recorded: str, tmp_path: Path, attachment: Path
) -> None:
    """An auditor's copy: the database, its folder and the vault without write permission.
    Reads answer, and create nothing beside it: no ``-wal``, no ``-shm``, no vault folder."""
    for path in [closed.dir, *closed.dir.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    before = snapshot(closed)
    refused(affidavit(*_attest("--attachments", attachment)), 3, closed, before, str(closed.db),
            "read-only", strict=True)
    refused(affidavit("create", "flow", "other"), 3, closed, before, "read-only", strict=True)
    refused(affidavit("ledger", "reindex"), 3, closed, before, "read-only", strict=True)
    out = tmp_path / "out"
    out.mkdir()
    reads = [
        ("get", "trail", TRAIL, "--flow", FLOW), ("get", "flow", FLOW), ("list", "flows"),
        ("list", "trails", "--flow", FLOW), ("log", "ledger"), ("log", "trail", TRAIL, "--flow",
                                                                 FLOW),
        ("get", "attestation", "unit", "--flow", FLOW, "--trail", TRAIL),
        ("assert", "trail", TRAIL, "--flow", FLOW),
        ("verify", "ledger", "--deep"), ("ledger", "public-key"),
        ("evidence", "get", recorded, "-o", out / "unit.txt"),
        ("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", out / "p.zip"),
        _attest("--attachments", attachment, "--dry-run"),
    ]
    for command in reads:
        result = affidavit(*command)
        assert result.code in (0, 1), f"{command}: {result}"
        assert snapshot(closed) == before, command
    assert (out / "unit.txt").read_text() == "evidence already in the vault\n"


def test_a_read_only_database_in_a_writable_folder_is_refused_before_it_is_read(
    closed: Home, attachment: Path
) -> None:
    """Read-only SQLite would read it through ``-wal``/``-shm`` files it then cannot remove:
    the writer stops before opening it, and readers open it immutable."""
    closed.db.chmod(0o444)
    before = snapshot(closed)
    refused(affidavit(*_attest("--attachments", attachment)), 3, closed, before,
            f"ledger {closed.db} is read-only", "nothing was recorded", strict=True)
    ok(affidavit("get", "trail", TRAIL, "--flow", FLOW))
    assert snapshot(closed) == before


def test_a_read_only_folder_with_a_writable_database(closed: Home, attachment: Path) -> None:
    """SQLite cannot create ``-shm`` there: a writer is refused by SQLite itself, before any
    evidence is staged; a reader, with no one able to write, opens it immutable."""
    closed.blobs.chmod(0o555)
    closed.dir.chmod(0o555)
    before = snapshot(closed)
    refused(affidavit(*_attest("--attachments", attachment)), 3, closed, before,
            str(closed.db), "read-only", strict=True)
    ok(affidavit("verify", "ledger", "--deep"))
    assert snapshot(closed) == before


def test_a_vault_that_cannot_be_written_stops_the_write(closed: Home, attachment: Path) -> None:
    closed.blobs.chmod(0o555)
    before = snapshot(closed)
    refused(affidavit(*_attest("--attachments", attachment)), 3, closed, before,
            f"evidence vault {closed.blobs}", "permission denied", "nothing was recorded")


def test_a_vault_folder_refusing_the_rename_takes_everything_back(
    closed: Home, attachment: Path, tmp_path: Path
) -> None:
    """The evidence is staged, the rows written; the rename into ``ab/`` fails just before
    the commit: rolled back, and the staged file removed."""
    digest = _digest_of(attachment)
    (closed.blobs / digest[:2]).mkdir(exist_ok=True)
    (closed.blobs / digest[:2]).chmod(0o555)
    before = snapshot(closed)
    trace = tmp_path / "trace"
    refused(affidavit(*_attest("--attachments", attachment), trace=trace), 3, closed, before,
            "evidence vault", "permission denied")
    assert trace.read_text().splitlines() == ["place 1 staged 0 placed", "undo 1 staged 0 placed"]


def test_an_unreadable_key_stops_the_write(closed: Home, attachment: Path) -> None:
    closed.key.chmod(0o000)
    before = snapshot(closed)
    refused(affidavit(*_attest("--attachments", attachment)), 3, closed, before,
            f"cannot read the ledger key {closed.key}", "permission denied")


def test_an_unreadable_attachment_is_the_callers_error(closed: Home, attachment: Path) -> None:
    attachment.chmod(0o000)
    before = snapshot(closed)
    for dry_run in ((), ("--dry-run",)):  # hashed only, or copied into the vault
        refused(affidavit(*_attest("--attachments", attachment, *dry_run)), 2, closed, before,
                f"--attachments {attachment}", "permission denied")


def test_a_new_ledger_in_a_read_only_folder_is_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    folder.chmod(0o555)
    monkeypatch.setenv("AFFIDAVIT_LEDGER", str(folder / "l.db"))
    for command in (("ledger", "init"), ("create", "flow", FLOW)):
        assert_error(affidavit(*command), 3, str(folder / "l.db"))
    assert list(folder.iterdir()) == []


def test_a_read_only_file_system(mounts: None, closed: Home, attachment: Path) -> None:
    before = snapshot(closed)
    line = refused(affidavit(*_attest("--attachments", attachment), preexec=None,
                             wrap=read_only(closed.dir)), 3, closed, before, "read-only",
                   strict=True)
    assert "file system" in line
    for command in (("get", "trail", TRAIL, "--flow", FLOW), ("verify", "ledger", "--deep"),
                    _attest("--attachments", attachment, "--dry-run")):
        ok(affidavit(*command, preexec=None, wrap=read_only(closed.dir)))
    assert snapshot(closed) == before


def _on_a_full_disk(home: Home, tmp_path: Path, free_kib: int, *args: Any) -> Result:
    """Run the command with the ledger's folder on a 1 MiB tmpfs filled up but for
    ``free_kib``; the folder as the command left it is copied back over the original."""
    source, back = tmp_path / "disk-before", tmp_path / "disk-after"
    shutil.copytree(home.dir, source, symlinks=True)
    back.mkdir()
    script = [*_unshare(), "sh", "-c", _FULL_DISK, str(home.dir), str(source), str(back),
              str(free_kib)]
    result = affidavit(*args, preexec=None, wrap=script)
    shutil.rmtree(home.dir)
    shutil.copytree(back, home.dir, symlinks=True)
    return result


@pytest.mark.parametrize("free_kib", [0, 64])
def test_a_full_disk(mounts: None, closed: Home, tmp_path: Path, free_kib: int) -> None:
    """No room at all (the ``-shm`` file SQLite needs cannot grow), or room for the database's
    journals but not for the evidence: exit 3, and the staged part of it is gone."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(2 << 20))
    before = snapshot(closed)
    result = _on_a_full_disk(closed, tmp_path, free_kib, *_attest("--attachments", big))
    refused(result, 3, closed, before, str(closed.dir))
    if free_kib:
        assert "no space left on device" in result.err


@contextlib.contextmanager
def held_open(db: Path) -> Iterator[None]:
    """A reader holding the database open: its ``-wal`` and full-size ``-shm`` stay there, so a
    writer under a small file size limit gets past reading the ledger."""
    reader = sqlite3.connect(db)
    try:
        reader.execute("SELECT count(*) FROM entries").fetchone()
        yield
    finally:
        reader.close()


def test_a_file_size_limit_while_staging(closed: Home, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(64 << 10))
    before = snapshot(closed)
    with held_open(closed.db):
        result = affidavit(*_attest("--attachments", big), preexec=_limit_file_size(16 << 10))
    refused(result, 3, closed, before, f"evidence vault {closed.blobs}", "file too large")


def test_a_commit_that_cannot_be_written_takes_the_evidence_back(
    closed: Home, attachment: Path, tmp_path: Path
) -> None:
    """The writer reads, stages and places the evidence within the limit, and the commit's
    frames go past it. The evidence was in the vault for a moment; it is not now."""
    before = snapshot(closed)
    trace = tmp_path / "trace"
    with held_open(closed.db):
        result = affidavit(*_attest("--attachments", attachment),
                           preexec=_limit_file_size(8 << 10), trace=trace)
    refused(result, 3, closed, before, str(closed.db), "nothing was recorded")
    assert "cannot rollback" not in result.err
    # placed (nothing left staged), then taken back: the commit is what failed
    assert trace.read_text().splitlines() == ["place 1 staged 0 placed", "undo 0 staged 1 placed"]


# -- loops and directories where files belong ------------------------------------------------


def _loop(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    path.symlink_to(path)


@pytest.mark.parametrize("what", ["vault", "key"])
def test_a_link_loop_beside_the_database(
    cli: Cli, closed: Home, attachment: Path, what: str
) -> None:
    _loop(closed.blobs if what == "vault" else closed.key)
    before = snapshot(closed)
    refused(cli(*_attest("--attachments", attachment)), 3, closed, before,
            "too many levels of symbolic links")


def test_a_link_loop_for_the_database(cli: Cli, home: Home, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "loop.db"
    db.symlink_to(db)
    monkeypatch.setenv("AFFIDAVIT_LEDGER", str(db))
    assert_error(cli("create", "flow", FLOW), 3, str(db))
    assert_error(cli("get", "flow", FLOW), 3, str(db))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop.db"]


def test_a_link_loop_for_an_attachment(cli: Cli, closed: Home, tmp_path: Path) -> None:
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    before = snapshot(closed)
    refused(cli(*_attest("--attachments", loop)), 2, closed, before, str(loop))


def test_a_directory_for_the_key(cli: Cli, closed: Home, attachment: Path) -> None:
    closed.key.unlink()
    closed.key.mkdir()
    before = snapshot(closed)
    refused(cli(*_attest("--attachments", attachment)), 3, closed, before,
            f"cannot read the ledger key {closed.key}", "is a directory")


def test_a_directory_where_the_evidence_goes(cli: Cli, closed: Home, attachment: Path) -> None:
    """Found only when the staged file is renamed, inside the transaction: all undone."""
    digest = _digest_of(attachment)
    (closed.blobs / digest[:2] / digest[2:]).mkdir(parents=True)
    before = snapshot(closed)
    refused(cli(*_attest("--attachments", attachment)), 3, closed, before,
            f"evidence vault {closed.blobs}", "directory")


def test_a_directory_for_the_database(cli: Cli, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "l.db"
    db.mkdir()
    monkeypatch.setenv("AFFIDAVIT_LEDGER", str(db))
    assert_error(cli("create", "flow", FLOW), 3, str(db))
    assert_error(cli("list", "flows"), 3, str(db))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.db"]


# -- calls no mechanism reaches: made to fail in-process -------------------------------------


def _failing(name: str, code: int, when: Callable[..., bool]) -> Callable[..., Any]:
    real = getattr(os, name)

    def fake(*args: Any, **kwargs: Any) -> Any:
        if when(*args):
            raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)

    return fake


def test_a_full_disk_at_the_rename(cli: Cli, closed: Home, attachment: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "replace", _failing(
        "replace", errno.ENOSPC, lambda src, dst: ".incoming-" in str(src)))
    before = snapshot(closed)
    refused(cli(*_attest("--attachments", attachment)), 3, closed, before,
            "evidence vault", "no space left on device")


def test_a_full_disk_at_the_folder_sync(cli: Cli, closed: Home, attachment: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The file is under its digest when the folder sync fails: it is taken back."""
    real = os.fsync

    def fsync(fd: int) -> None:
        import stat

        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    before = snapshot(closed)
    refused(cli(*_attest("--attachments", attachment)), 3, closed, before,
            "evidence vault", "input/output error")


def test_a_write_refused_after_the_evidence_was_staged(
    cli: Cli, closed: Home, attachment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation failing once the files are copied (here: the record builder) leaves no
    staged file behind."""
    from affidavit.errors import InputError
    from affidavit.models import build

    def refuse(**record: Any) -> None:
        assert record["evidence"], "the evidence was staged first"
        raise InputError("the record does not validate")

    monkeypatch.setattr(build, "attestation", refuse)
    before = snapshot(closed)
    refused(cli(*_attest("--attachments", attachment)), 2, closed, before, "does not validate")


def test_a_head_that_moved_during_the_write(
    cli: Cli, closed: Home, attachment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from affidavit.errors import IntegrityError
    from affidavit.ledger.sqlite import SQLiteLedger

    def moved(self: Any, after: Any, head: Any) -> None:
        raise IntegrityError("history was rewritten; nothing was signed")

    monkeypatch.setattr(SQLiteLedger, "_check_extends", moved)
    before = snapshot(closed)
    refused(cli(*_attest("--attachments", attachment)), 3, closed, before, "nothing was signed")
