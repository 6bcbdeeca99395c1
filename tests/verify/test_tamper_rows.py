"""Property: one edit to any row of any table, made below affidavit, never changes an answer.

For ledgers of random flows, trails, artifacts and attestations, every gating read and
``verify ledger`` is run on the honest database, then again after a single edit (delete, insert
or update of a row of ``entries``, ``nodes``, ``checkpoints``, ``idx``, ``map_leaves``,
``map_nodes`` or ``meta``): each must give the honest answer or exit 3, never another answer.
Both runs start from the same seen memory (the one the writes left), as the same client would.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from affidavit.api import approvals, record
from affidavit.ledger.sqlite import SQLiteLedger
from tests.helpers import Cli

TABLES = ("entries", "nodes", "checkpoints", "idx", "map_leaves", "map_nodes", "meta")
_TEMPLATE = {"version": 1, "trail": {"attestations": [{"name": "review", "type": "generic"}],
                                     "artifacts": [{"name": "app", "attestations": [
                                         {"name": "unit", "type": "*"}]}]}}

#: One report: (trail, kind, name, compliant, bound to an artifact).
_reports = st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["generic", "approval"]),
                              st.sampled_from(["unit", "review", "scan"]), st.booleans(),
                              st.booleans()), min_size=1, max_size=8)


class World:
    """A ledger built from a random plan, and the reads that gate on it."""

    def __init__(self, root: Path, templated: bool, reports: list[Any]) -> None:
        self.root = root
        self.db = root / "l.db"
        self.url = f"sqlite:///{self.db}"
        self.cache = root / "cache"
        self.trails = [("f0", "t0"), ("f0", "t1"), ("f1", "t0"), ("f1", "t2")]
        self.fps = [f"{n:02x}" * 32 for n in (10, 11)]
        self.commit = "c0" * 20
        ledger = SQLiteLedger(self.url)
        template = root / "template.yml"
        template.write_text(json.dumps(_TEMPLATE))
        for flow in ("f0", "f1"):
            record.create_flow(ledger, name=flow, template_file=template if templated else None)
        for n, (flow, trail) in enumerate(self.trails):
            record.begin_trail(ledger, flow=flow, name=trail)
            record.attest_artifact(ledger, flow=flow, trail=trail, name="app",
                                   fingerprint=self.fps[n % 2], commit=None)
        for trail_no, kind, name, compliant, bound in reports:
            flow, trail = self.trails[trail_no]
            fingerprint = self.fps[trail_no % 2] if bound and kind == "generic" else None
            claim = record.Claim(flow=flow, trail=trail, name=name, fingerprint=fingerprint)
            if kind == "approval":
                approvals.attest_approval(ledger, claim, approver="ann", approved=compliant)
            else:
                record.attest_generic(ledger, claim, compliant=compliant)
        ledger.close()

    def reads(self, out: Path) -> list[list[str]]:
        reads = [["list", "flows", "--output", "json"], ["verify", "ledger", "--output", "json"]]
        for flow, trail in self.trails:
            reads += [["assert", "trail", trail, "--flow", flow, "--output", "json"],
                      ["get", "trail", trail, "--flow", flow, "--output", "json"]]
        for flow in ("f0", "f1"):
            reads += [["list", "trails", "--flow", flow, "--output", "json"],
                      ["get", "flow", flow, "--output", "json"]]
        for fp in self.fps:
            reads += [["assert", "artifact", fp, "--output", "json"],
                      ["get", "artifact", fp, "--output", "json"],
                      ["search", fp, "--output", "json"]]
        reads += [["log", "trail", "t0", "--flow", "f0", "--output", "json"],
                  ["get", "attestation", "unit", "--flow", "f1", "--trail", "t0", "--output",
                   "json"],
                  ["evidence", "package", "--flow", "f0", "--trail", "t1", "-o", str(out)],
                  ["evidence", "package", "--fingerprint", self.fps[0], "-o", str(out)]]
        return [[*argv, "--ledger", self.url] for argv in reads]


def _answer(cli: Cli, argv: list[str], out: Path) -> tuple[int, Any]:
    """What a read answered: its exit code and output (a package's zip members; for
    ``verify ledger`` the verified size and roots, not its count of checkpoints)."""
    out.unlink(missing_ok=True)
    result = cli(*argv)
    if result.code != 0 and result.code != 1:
        assert result.code == 3 or "does not exist" in result.err or "not been" in result.err, (
            argv, str(result))
        return result.code, None
    if argv[0] == "evidence":
        with zipfile.ZipFile(out) as zf:
            return result.code, {name: zf.read(name) for name in zf.namelist()}
    if argv[:2] == ["verify", "ledger"]:
        doc = result.json()
        return result.code, (doc["size"], doc["root"], doc["map_root"], doc["keys"])
    return result.code, result.out


def _rows(db: sqlite3.Connection, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = db.execute(f"SELECT * FROM {table}")
    return [c[0] for c in cursor.description], cursor.fetchall()


_KEYS = {"entries": ("idx",), "nodes": ("level", "idx"), "checkpoints": ("size",),
         "idx": ("key", "entry"), "map_leaves": ("khash",), "map_nodes": ("depth", "prefix"),
         "meta": ("key",)}


def _mutate(value: Any, others: list[Any], pick: Callable[[int], int]) -> Any:
    """Another value of the same column: one from another row, or this one nudged."""
    choices = [o for o in others if o != value]
    if choices and pick(2) == 0:
        return choices[pick(len(choices))]
    if isinstance(value, int):
        return value + (1 if pick(2) else -1)
    raw = bytearray(value.encode() if isinstance(value, str) else value)
    if not raw:
        return b"x" if isinstance(value, bytes) else "x"
    at = pick(len(raw))
    raw[at] ^= 1 << pick(8)
    if isinstance(value, str):
        return raw.decode("utf-8", "replace")
    return bytes(raw)


def _edit(db_path: Path, table: str, op: str, pick: Callable[[int], int]) -> str | None:
    """Apply one edit; return what it did (None when the table offers no such edit)."""
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        columns, rows = _rows(db, table)
        if not rows:
            return None
        row = rows[pick(len(rows))]
        keys = _KEYS[table]
        where = " AND ".join(f"{k} = ?" for k in keys)
        key_values = [row[columns.index(k)] for k in keys]
        if op == "delete":
            db.execute(f"DELETE FROM {table} WHERE {where}", key_values)
            return f"delete {table} {key_values}"
        column = columns[pick(len(columns))]
        value = row[columns.index(column)]
        new = _mutate(value, [r[columns.index(column)] for r in rows], pick)
        if op == "update":
            try:
                db.execute(f"UPDATE {table} SET {column} = ? WHERE {where}", [new, *key_values])
            except sqlite3.IntegrityError:
                return None
            return f"update {table} {key_values} {column}"
        copy = list(row)
        copy[columns.index(column)] = new
        try:
            db.execute(f"INSERT INTO {table} VALUES ({','.join('?' * len(copy))})", copy)
        except sqlite3.IntegrityError:
            return None
        return f"insert {table} like {key_values} with {column} changed"
    finally:
        db.close()


def _honest(cli: Cli, world: World, monkeypatch: pytest.MonkeyPatch,
            reads: list[list[str]], out: Path) -> list[tuple[int, Any]]:
    base = world.root / "cache-base"
    if not base.exists():
        shutil.copytree(world.cache, base)
    run_cache = world.root / "cache-run"
    shutil.rmtree(run_cache, ignore_errors=True)
    shutil.copytree(base, run_cache)
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(run_cache))
    return [_answer(cli, argv, out) for argv in reads]


def _check(cli: Cli, world: World, monkeypatch: pytest.MonkeyPatch, table: str, op: str,
           pick: Callable[[int], int]) -> None:
    out = world.root / "p.zip"
    reads = world.reads(out)
    honest = _honest(cli, world, monkeypatch, reads, out)
    pristine = world.root / "pristine.db"
    shutil.copyfile(world.db, pristine)
    what = _edit(world.db, table, op, pick)
    if what is None:
        return
    after = _honest(cli, world, monkeypatch, reads, out)
    for argv, (code, answer), truth in zip(reads, after, honest, strict=True):
        assert code == 3 or (code, answer) == truth, (
            f"after `{what}`, `affidavit {' '.join(argv[:-2])}` gave another answer (exit "
            f"{code}; the honest answer exits {truth[0]}) instead of exit 3")
    shutil.copyfile(pristine, world.db)


def _build(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
           templated: bool, reports: list[Any]) -> World:
    root = tmp_path_factory.mktemp("rows")
    monkeypatch.setenv("AFFIDAVIT_CACHE_DIR", str(root / "cache"))
    return World(root, templated, reports)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(templated=st.booleans(), reports=_reports, table=st.sampled_from(TABLES),
       op=st.sampled_from(["delete", "update", "insert"]), data=st.data())
def test_one_row_edit_is_the_honest_answer_or_exit_3(
    cli: Cli, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
    templated: bool, reports: list[Any], table: str, op: str, data: st.DataObject,
) -> None:
    world = _build(tmp_path_factory, monkeypatch, templated, reports)
    _check(cli, world, monkeypatch, table, op,
           lambda n: data.draw(st.integers(0, n - 1)) if n > 1 else 0)


@pytest.mark.parametrize("table", TABLES)
def test_deleting_each_row_is_the_honest_answer_or_exit_3(
    cli: Cli, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
    table: str,
) -> None:
    """Every row of the table, deleted in turn from one fixed ledger."""
    world = _build(tmp_path_factory, monkeypatch, True,
                   [(0, "generic", "review", True, False), (1, "generic", "unit", False, True),
                    (2, "approval", "review", False, False), (3, "generic", "scan", True, True)])
    db = sqlite3.connect(world.db)
    count = len(_rows(db, table)[1])
    db.close()
    step = max(1, count // 12)  # at most a dozen rows per table keeps this under a minute
    for n in range(0, count, step):
        _check(cli, world, monkeypatch, table, "delete", lambda size, n=n: n % size)
