"""Several writer processes on one SQLite ledger, and a writer killed with SIGKILL mid-append.

The writers are real processes running the library (``SQLiteLedger(url).append``), started
together behind a file barrier so that they also race to initialise the ledger and its key.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from affidavit import canonical
from affidavit.ledger import note
from affidavit.ledger.checkpoint import Checkpoint
from affidavit.ledger.sqlite import SQLiteLedger
from tests.helpers import Cli, Home

WRITERS = 4
APPENDS = 500

_WRITER = textwrap.dedent("""
    import os, sys, time
    from affidavit import canonical
    from affidavit.ledger.sqlite import SQLiteLedger

    url, worker, count, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    while not os.path.exists(go):
        time.sleep(0.001)
    ledger = SQLiteLedger(url)
    for n in range(count):
        entry = {"v": 1, "kind": "note", "time": "2026-01-01T00:00:00Z",
                 "record": {"worker": worker, "n": n}}
        ledger.append([canonical.dumps(entry)])
    ledger.close()
""")

_LOOPING_WRITER = textwrap.dedent("""
    import sys
    from affidavit import canonical
    from affidavit.ledger.sqlite import SQLiteLedger

    url, run = sys.argv[1], int(sys.argv[2])
    ledger = SQLiteLedger(url)
    batch = 0
    while True:
        entries = [canonical.dumps({"v": 1, "kind": "note", "time": "2026-01-01T00:00:00Z",
                                    "record": {"run": run, "batch": batch, "j": j}})
                   for j in range(1 + batch % 40)]
        appended = ledger.append(entries)
        print(appended.first, appended.size, batch, flush=True)
        batch += 1
""")


def _env(home: Home) -> dict[str, str]:
    env = dict(os.environ)
    env["AFFIDAVIT_CACHE_DIR"] = str(home.cache)
    return env


def test_four_processes_append_500_each(cli: Cli, home: Home, tmp_path: Path) -> None:
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, home.url, str(worker), str(APPENDS), str(go)],
            env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for worker in range(WRITERS)
    ]
    go.touch()
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err

    ledger = SQLiteLedger(home.url)
    assert ledger.size() == WRITERS * APPENDS
    seen: dict[int, list[int]] = {worker: [] for worker in range(WRITERS)}
    for _, data in ledger.read(0, ledger.size()):
        entry = canonical.loads(data)
        seen[entry["record"]["worker"]].append(entry["record"]["n"])
    # Nothing lost, nothing doubled, and each writer's appends in the order it made them.
    assert seen == {worker: list(range(APPENDS)) for worker in range(WRITERS)}

    verifier = note.Verifier.from_key(ledger.verifier_key())
    sizes = [Checkpoint.parse(note.open_note(signed, [verifier])).size
             for _, signed in ledger.checkpoints()]
    assert sizes == list(range(0, WRITERS * APPENDS + 1))
    ledger.close()
    # One key, created by whichever writer came first.
    assert [p.name for p in home.dir.iterdir() if "key" in p.name] == ["l.db.key"]

    result = cli("verify", "ledger")
    assert result.code == 0, str(result)
    assert f"{WRITERS * APPENDS} entries" in result.out


def _kill_after(home: Home, run: int, acks: int, delay: float) -> list[tuple[int, int, int]]:
    """Start a looping writer, SIGKILL it after ``acks`` acknowledged appends and ``delay``
    seconds more; return every acknowledgement it printed in full."""
    writer = subprocess.Popen(
        [sys.executable, "-c", _LOOPING_WRITER, home.url, str(run)],
        env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert writer.stdout is not None
    lines: list[bytes] = []
    deadline = time.monotonic() + 60
    while len(lines) < acks and time.monotonic() < deadline:
        line = writer.stdout.readline()
        if not line:
            break
        lines.append(line)
    time.sleep(delay)
    os.kill(writer.pid, signal.SIGKILL)
    rest, err = writer.communicate(timeout=30)
    assert writer.returncode == -signal.SIGKILL, err.decode()
    lines += rest.splitlines(keepends=True)
    complete = [line for line in lines if line.endswith(b"\n")]
    assert len(complete) >= acks, err.decode()
    out = []
    for line in complete:
        first, size, batch = map(int, line.split())
        out.append((first, size, batch))
    return out


def test_writer_killed_mid_append_loses_nothing_it_acknowledged(cli: Cli, home: Home) -> None:
    acknowledged: dict[int, tuple[int, int]] = {}
    for run, delay in enumerate((0.0, 0.013, 0.031)):
        for first, size, batch in _kill_after(home, run, acks=25 + 10 * run, delay=delay):
            for position in range(first, size):
                acknowledged[position] = (run, batch)

        result = cli("verify", "ledger", "--output", "json")
        assert result.code == 0, str(result)
        assert result.json()["size"] >= max(acknowledged) + 1

        ledger = SQLiteLedger(home.url)
        stored = {position: canonical.loads(data)["record"]
                  for position, data in ledger.read(0, ledger.size())}
        ledger.close()
        for position, (run_, batch) in acknowledged.items():
            assert (stored[position]["run"], stored[position]["batch"]) == (run_, batch)
        # What the ledger holds is whole batches: an append is all or nothing.
        batches: dict[tuple[int, int], list[int]] = {}
        for record in stored.values():
            batches.setdefault((record["run"], record["batch"]), []).append(record["j"])
        for (_, batch), js in batches.items():
            assert js == list(range(1 + batch % 40)), json.dumps(js)

    # And the survivor is an ordinary ledger: appends and audits carry on.
    ledger = SQLiteLedger(home.url)
    size = ledger.size()
    ledger.append([canonical.dumps({"v": 1, "kind": "note", "time": "2026-01-01T00:00:00Z",
                                    "record": {"after": True}})])
    ledger.close()
    result = cli("verify", "ledger")
    assert result.code == 0, str(result)
    assert f"{size + 1} entries" in result.out
