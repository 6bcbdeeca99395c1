"""Environments and snapshots end to end through the CLI, on every backend: a snapshot only
when the running set changes, every addressing form, the log and the diff of a scripted
history, the provenance join, logical environments, and nothing written on bad input."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Home, Result, assert_error, ok

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

Cli = Callable[..., Result]


def fp(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def entries(cli: Cli) -> int:
    return len(ok(cli("log", "ledger", "--output", "json")).json())


@pytest.fixture
def prod(cli: Cli) -> str:
    ok(cli("create", "environment", "prod", "--type", "server", "--description", "production"))
    return "prod"


def listing(files: Callable[..., Path], name: str, items: list[dict[str, Any]]) -> Path:
    return files(name, json.dumps(items))


def test_create_environment_is_idempotent_and_keeps_its_type(cli: Cli) -> None:
    first = ok(cli("create", "environment", "prod", "--type", "server", "--output", "json"))
    assert first.json()["changed"] is True
    again = ok(cli("create", "environment", "prod", "--type", "server"))
    assert again.out == "environment 'prod': unchanged, nothing recorded\n"
    ok(cli("create", "environment", "prod", "--type", "server", "--description", "live"))
    assert entries(cli) == 2
    assert_error(cli("create", "environment", "prod", "--type", "k8s"), 2,
                 "'prod' is a server environment, not k8s")
    assert_error(cli("create", "environment", "prod~1", "--type", "k8s"), 2, "'~'")
    shown = ok(cli("get", "environment", "prod", "--output", "json")).json()
    assert (shown["type"], shown["description"], shown["snapshots"]) == ("server", "live", 0)
    assert entries(cli) == 2


def test_the_same_set_twice_is_one_snapshot(cli: Cli, prod: str,
                                            files: Callable[..., Path]) -> None:
    app = files("srv/app.bin", "v1")
    made = ok(cli("snapshot", "path", prod, "--name", "app", "--path", app, "--output", "json"))
    assert (made.json()["number"], made.json()["changed"]) == (1, True)
    same = ok(cli("snapshot", "path", prod, "--name", "app", "--path", app))
    assert same.out.startswith("prod: unchanged since snapshot #1 (1 running")
    assert entries(cli) == 2
    app.write_text("v2")
    changed = ok(cli("snapshot", "path", prod, "--name", "app", "--path", app))
    assert changed.out.startswith("prod#2 recorded as entry 2 (1 running: 0 started, "
                                  "1 changed, 0 exited)")
    got = ok(cli("get", "snapshot", prod, "--output", "json")).json()
    assert got["number"] == 2
    assert got["artifacts"] == [{"name": "app", "fingerprint": fp("v2"), "provenance": None,
                                 "allowed": None}]


def test_an_unchanged_set_is_remembered_as_a_heartbeat(cli: Cli, prod: str,
                                                      files: Callable[..., Path]) -> None:
    """The reporter ran again and found the same set: no entry, but `get snapshot` says when
    it last reported -- marked a heartbeat, which nothing proves -- until the set changes."""
    app = files("srv/app.bin", "v1")
    ok(cli("snapshot", "path", prod, "--name", "app", "--path", app))
    first = ok(cli("get", "snapshot", prod, "--output", "json")).json()
    assert first["reported"] == {"time": first["time"], "heartbeat": False}
    same = ok(cli("snapshot", "path", prod, "--name", "app", "--path", app, "--output", "json"))
    assert same.json()["changed"] is False and same.json()["heartbeat"] > first["time"]
    assert "; heartbeat at 20" in ok(cli("snapshot", "path", prod, "--name", "app",
                                         "--path", app)).out
    dry = ok(cli("snapshot", "path", prod, "--name", "app", "--path", app, "--dry-run",
                 "--output", "json")).json()
    assert dry["heartbeat"] is None  # a dry run remembers nothing
    assert entries(cli) == 2
    got = ok(cli("get", "snapshot", prod, "--output", "json")).json()
    assert got["reported"]["heartbeat"] is True and got["reported"]["time"] > first["time"]
    assert got["number"] == 1 and got["time"] == first["time"]
    assert "(heartbeat: beside the log, not proven)" in ok(cli("get", "snapshot", prod)).out
    assert ok(cli("get", "snapshot", f"{prod}#1", "--output", "json")).json()["reported"][
        "heartbeat"] is True  # #1 is the latest
    app.write_text("v2")
    ok(cli("snapshot", "path", prod, "--name", "app", "--path", app))
    changed = ok(cli("get", "snapshot", prod, "--output", "json")).json()
    assert changed["reported"] == {"time": changed["time"], "heartbeat": False}
    assert ok(cli("get", "snapshot", f"{prod}#1", "--output", "json")).json()["reported"] \
        is None  # no longer the latest: it says nothing of later reports


def test_order_of_a_listing_does_not_make_a_new_snapshot(cli: Cli, prod: str,
                                                         files: Callable[..., Path]) -> None:
    items = [{"name": "api", "fingerprint": fp("a")}, {"name": "web", "fingerprint": fp("w"),
                                                       "image": "web:1", "instances": 3}]
    ok(cli("snapshot", "json", prod, "--file", listing(files, "one.json", items)))
    reordered = listing(files, "two.json", list(reversed(items)))
    again = ok(cli("snapshot", "json", prod, "--file", reordered, "--output", "json")).json()
    assert (again["changed"], again["number"], again["index"]) == (False, 1, None)
    got = ok(cli("get", "snapshot", prod, "--output", "json")).json()
    assert got["artifacts"][1] == {"name": "web", "fingerprint": fp("w"), "instances": 3,
                                   "details": {"image": "web:1"}, "provenance": None,
                                   "allowed": None}


def test_paths_file_in_kosli_form(cli: Cli, prod: str, files: Callable[..., Path]) -> None:
    files("srv/site/index.html", "<h1>shop</h1>")
    files("srv/site/cache/tmp", "scratch")
    files("srv/bin/shop", "binary")
    spec = files("srv/paths.yml", "version: 1\nartifacts:\n  site:\n    path: site\n"
                 "    exclude: [cache]\n  shop:\n    path: bin/shop\n")
    ok(cli("snapshot", "paths", prod, "--paths-file", spec))
    site = ok(cli("fingerprint", spec.parent / "site", "--artifact-type", "dir", "--exclude",
                  "cache")).out.strip()
    got = ok(cli("get", "snapshot", prod, "--output", "json")).json()
    assert [(a["name"], a["fingerprint"]) for a in got["artifacts"]] == [
        ("shop", fp("binary")), ("site", site)]
    files("srv/site/cache/tmp", "other scratch")  # excluded: no change
    assert "unchanged since snapshot #1" in ok(
        cli("snapshot", "paths", prod, "--paths-file", spec)).out


@pytest.mark.parametrize(("body", "needle"), [
    ('{"name": "x"}', "expected a JSON list"),
    ('[{"name": "x", "fingerprint": "abc"}]', "item 0 (x): 'fingerprint' must be a hex SHA-256"),
    ('[{"fingerprint": "' + "a" * 64 + '"}]', "item 0: 'name' must be a string"),
    ('[{"name": "x", "fingerprint": "' + "a" * 64 + '", "labels": {"a": 1}}]',
     "'labels' is not a string, number, boolean or null"),
    ('[{"name": "x", "name": "y", "fingerprint": "' + "a" * 64 + '"}]', "duplicate key 'name'"),
    ('[{"name": "x", "fingerprint": "' + "a" * 64 + '"}, {"name": "x", "fingerprint": "'
     + "a" * 64 + '"}]', "listed twice"),
    ("[{", "invalid JSON at line 1"),
    ('[{"name": "x", "fingerprint": "' + "a" * 64 + '", "instances": -1}]',
     "'instances' must be a whole number"),
])
def test_a_bad_listing_is_refused_and_nothing_is_written(
        cli: Cli, prod: str, files: Callable[..., Path], body: str, needle: str) -> None:
    path = files("bad.json", body)
    assert_error(cli("snapshot", "json", prod, "--file", path), 2, needle)
    assert entries(cli) == 1


def test_a_missing_path_is_an_error_never_a_smaller_snapshot(
        cli: Cli, prod: str, files: Callable[..., Path], tmp_path: Path) -> None:
    assert_error(cli("snapshot", "path", prod, "--name", "app", "--path", tmp_path / "gone"),
                 2, "no such file or directory (artifact 'app')")
    spec = files("paths.yml", "version: 1\nartifacts:\n  app:\n    path: nowhere\n")
    assert_error(cli("snapshot", "paths", prod, "--paths-file", spec), 2, "nowhere")
    bad = files("bad.yml", "version: 2\n")
    assert_error(cli("snapshot", "paths", prod, "--paths-file", bad), 2, "bad.yml",
                 "version: 1")
    assert entries(cli) == 1


def test_a_snapshot_needs_an_environment_of_its_kind(cli: Cli,
                                                     files: Callable[..., Path]) -> None:
    app = files("app.bin", "v1")
    assert_error(cli("snapshot", "path", "prod", "--name", "app", "--path", app), 2,
                 "environment 'prod' does not exist")
    ok(cli("create", "environment", "cluster", "--type", "k8s"))
    assert_error(cli("snapshot", "path", "cluster", "--name", "app", "--path", app), 2,
                 "a k8s environment", "server")
    assert entries(cli) == 1


def _history(cli: Cli, files: Callable[..., Path]) -> None:
    """#1 api:a; #2 api:a web:w; #3 api:b web:w (api changed); #4 api:b (web exited)."""
    states = [[("api", "a")], [("api", "a"), ("web", "w")], [("api", "b"), ("web", "w")],
              [("api", "b")]]
    for n, state in enumerate(states):
        items = [{"name": name, "fingerprint": fp(v)} for name, v in state]
        ok(cli("snapshot", "json", "prod", "--file", listing(files, f"s{n}.json", items)))


def test_log_and_every_address_form(cli: Cli, prod: str, files: Callable[..., Path]) -> None:
    _history(cli, files)
    log = ok(cli("log", "environment", prod, "--output", "json")).json()
    assert [(r["number"], r["running"], r["started"], r["changed"], r["exited"]) for r in log] == [
        (1, 1, 1, 0, 0), (2, 2, 1, 0, 0), (3, 2, 0, 1, 0), (4, 1, 0, 0, 1)]

    def number(address: str) -> int:
        return int(ok(cli("get", "snapshot", address, "--output", "json")).json()["number"])

    assert [number(a) for a in ("prod", "prod#2", "prod~0", "prod~3")] == [4, 2, 4, 1]
    third = log[2]["time"]
    assert number("prod@{" + third + "}") == 3
    assert number("prod@{0.seconds.ago}") == 4
    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert number("prod@{" + later + "}") == 4
    assert_error(cli("get", "snapshot", "prod@{1.hours.ago}"), 2,
                 "nothing was recorded in 'prod' before its first snapshot")
    assert_error(cli("get", "snapshot", "prod#5"), 2, "'prod' has snapshots 1 to 4")
    assert_error(cli("get", "snapshot", "prod~4"), 2, "does not exist")
    assert_error(cli("get", "snapshot", "prod#0"), 2, "numbered from 1")
    # numbers no int() should be asked to read are refused as what they are, not a crash
    assert_error(cli("get", "snapshot", "prod#" + "9" * 5000), 2, "that many snapshots")
    assert_error(cli("get", "snapshot", "prod~" + "9" * 5000), 2, "that many snapshots")
    assert_error(cli("get", "snapshot", "prod@{" + "9" * 5000 + ".weeks.ago}"), 2,
                 "before any ledger")
    assert_error(cli("get", "snapshot", "prod@{yesterday}"), 2, "neither an ISO-8601 time")
    assert_error(cli("get", "snapshot", "prod#x"), 2, "expected ENV, ENV#N")
    assert_error(cli("get", "snapshot", "staging"), 2, "environment 'staging' does not exist")


def test_diff_names_added_removed_and_changed(cli: Cli, prod: str,
                                              files: Callable[..., Path]) -> None:
    _history(cli, files)
    diff = ok(cli("diff", "snapshots", "prod#1", "prod#3", "--output", "json")).json()
    assert [a["name"] for a in diff["added"]] == ["web"]
    assert diff["removed"] == []
    (change,) = diff["changed"]
    assert (change["name"], [a["fingerprint"] for a in change["from"]],
            [a["fingerprint"] for a in change["to"]]) == ("api", [fp("a")], [fp("b")])
    back = ok(cli("diff", "snapshots", "prod~0", "prod~1", "--output", "json")).json()
    assert [a["name"] for a in back["added"]] == ["web"] and back["changed"] == []
    assert (back["first"]["number"], back["second"]["number"]) == (4, 3)
    table = ok(cli("diff", "snapshots", "prod#1", "prod#3")).out
    assert "changed from  api" in table and "added" in table
    assert ok(cli("diff", "snapshots", "prod#2", "prod#2")).out == "no difference\n"


def test_running_artifacts_are_joined_to_their_provenance(cli: Cli, prod: str,
                                                          files: Callable[..., Path]) -> None:
    template = files("flow.yml", "version: 1\ntrail:\n  artifacts:\n    - name: app\n"
                     "      attestations:\n        - {name: unit, type: generic}\n")
    ok(cli("create", "flow", "shop", "--template-file", template))
    ok(cli("begin", "trail", "t1", "--flow", "shop"))
    app = files("app.bin", "v1")
    ok(cli("attest", "artifact", app, "--flow", "shop", "--trail", "t1", "--name", "app"))
    items = [{"name": "app", "fingerprint": fp("v1")}, {"name": "sidecar",
                                                        "fingerprint": fp("s")}]
    ok(cli("snapshot", "json", prod, "--file", listing(files, "run.json", items)))
    got = ok(cli("get", "snapshot", prod, "--output", "json")).json()
    app_row, sidecar = got["artifacts"]
    assert app_row["provenance"]["flow"] == "shop" and app_row["provenance"]["trail"] == "t1"
    assert app_row["provenance"]["compliant"] is False  # its unit tests are missing
    assert sidecar["provenance"] is None and got["without_provenance"] == 1
    ok(cli("attest", "generic", "--flow", "shop", "--trail", "t1", "--name", "unit",
           "--fingerprint", fp("v1"), "--compliant", "true"))
    got = ok(cli("get", "snapshot", prod, "--output", "json")).json()
    assert got["artifacts"][0]["provenance"]["compliant"] is True
    shown = ok(cli("get", "snapshot", prod)).out
    assert "shop/t1" in shown and "COMPLIANT" in shown and "no provenance" in shown


def test_a_logical_environment_is_the_union_of_its_members(cli: Cli, prod: str,
                                                           files: Callable[..., Path]) -> None:
    ok(cli("create", "environment", "eu", "--type", "server"))
    ok(cli("create", "environment", "live", "--type", "logical"))
    assert_error(cli("join", "environment", "prod", "--physical", "eu"), 2,
                 "only a logical one joins")
    assert_error(cli("join", "environment", "live", "--physical", "live"), 2,
                 "'live' is logical")
    assert_error(cli("join", "environment", "live", "--physical", "nowhere"), 2,
                 "'nowhere' does not exist")
    ok(cli("join", "environment", "live", "--physical", "prod,eu"))
    assert "unchanged" in ok(cli("join", "environment", "live", "--physical", "eu")).out
    on_prod = listing(files, "p.json", [{"name": "api", "fingerprint": fp("a")}])
    ok(cli("snapshot", "json", "prod", "--file", on_prod))
    ok(cli("snapshot", "json", "eu", "--file", listing(
        files, "e.json", [{"name": "api", "fingerprint": fp("b")}])))
    got = ok(cli("get", "snapshot", "live", "--output", "json")).json()
    assert sorted((a["environment"], a["fingerprint"]) for a in got["artifacts"]) == sorted(
        [("prod", fp("a")), ("eu", fp("b"))])
    assert_error(cli("snapshot", "json", "live", "--file", on_prod), 2,
                 "a logical environment")
    assert_error(cli("get", "snapshot", "live#1"), 2, "no numbered snapshots")
    listed = ok(cli("list", "environments", "--output", "json")).json()
    assert [(e["name"], e["type"], e["snapshots"]) for e in listed] == [
        ("prod", "server", 1), ("eu", "server", 1), ("live", "logical", 0)]
    assert ok(cli("get", "environment", "live", "--output", "json")).json()["physical"] == [
        "eu", "prod"]


def test_a_dry_run_writes_nothing(cli: Cli, prod: str, files: Callable[..., Path]) -> None:
    app = files("app.bin", "v1")
    shown = ok(cli("snapshot", "path", prod, "--name", "app", "--path", app, "--dry-run"))
    assert shown.out.startswith("dry run: prod#1 would be recorded")
    assert_error(cli("get", "snapshot", prod), 2, "has no snapshot yet")
    assert entries(cli) == 1


def test_outputs_file_gives_a_wrapper_the_snapshot(cli: Cli, prod: str, tmp_path: Path,
                                                   files: Callable[..., Path]) -> None:
    app = files("app.bin", "v1")
    out = tmp_path / "outputs"
    for _ in range(2):
        ok(cli("snapshot", "path", prod, "--name", "app", "--path", app, "--outputs-file", out))
    assert out.read_text().splitlines() == [
        "environment=prod", "snapshot=1", "changed=true", "entry-index=1", "running=1",
        "environment=prod", "snapshot=1", "changed=false", "entry-index=", "running=1"]


def test_an_index_that_hides_a_snapshot_is_an_integrity_error(
        cli: Cli, prod: str, files: Callable[..., Path], home: Home, backend: str) -> None:
    if backend == "http-postgresql-s3":
        pytest.skip("the index to doctor is the SQLite file")
    _history(cli, files)
    db = sqlite3.connect(home.db)
    with db:
        db.execute("DELETE FROM idx WHERE key = ? AND entry = ?", ("snapshots:prod", 2))
    db.close()
    assert_error(cli("log", "environment", "prod"), 3, "snapshots:prod")
    assert_error(cli("get", "snapshot", "prod#2"), 3, "snapshots:prod")


def test_an_allowlisted_artifact_runs_without_provenance(cli: Cli, prod: str,
                                                         files: Callable[..., Path]) -> None:
    items = [{"name": "vendor", "fingerprint": fp("v")}, {"name": "odd", "fingerprint": fp("o")}]
    ok(cli("snapshot", "json", prod, "--file", listing(files, "run.json", items)))
    assert_error(cli("allow", "artifact", fp("v"), "--environment", prod, "--reason", " "), 2,
                 "--reason")
    assert_error(cli("allow", "artifact", "abc", "--environment", prod, "--reason", "x"), 2,
                 "fingerprint")
    assert_error(cli("allow", "artifact", fp("v"), "--environment", "nowhere", "--reason",
                     "x"), 2, "'nowhere' does not exist")
    ok(cli("allow", "artifact", fp("v"), "--environment", prod, "--reason", "vendor image"))
    # an allowance counts from the snapshot after it: the recorded state stays what it was
    before = ok(cli("get", "snapshot", prod, "--output", "json")).json()
    assert [a["allowed"] for a in before["artifacts"]] == [None, None]
    ok(cli("snapshot", "json", prod, "--file", listing(files, "run2.json", items[:1])))
    got = ok(cli("get", "snapshot", prod, "--output", "json")).json()
    (vendor,) = got["artifacts"]
    assert vendor["allowed"]["reason"] == "vendor image" and vendor["provenance"] is None
    assert got["without_provenance"] == 0
    assert "allowed: vendor image" in ok(cli("get", "snapshot", prod)).out


def test_expected_deployments_that_never_arrive_and_ones_nobody_announced(
        cli: Cli, prod: str, files: Callable[..., Path]) -> None:
    ok(cli("create", "flow", "shop"))
    ok(cli("begin", "trail", "t1", "--flow", "shop"))
    ok(cli("expect", "deployment", fp("a"), "--environment", prod, "--flow", "shop",
           "--trail", "t1"))
    ok(cli("expect", "deployment", fp("b"), "--environment", prod))
    assert_error(cli("expect", "deployment", fp("b"), "--environment", prod, "--flow", "shop"),
                 2, "--flow and --trail together")
    assert_error(cli("expect", "deployment", fp("b"), "--environment", prod, "--flow", "shop",
                     "--trail", "t9"), 2, "t9")
    items = [{"name": "api", "fingerprint": fp("a")}, {"name": "side", "fingerprint": fp("s")}]
    ok(cli("snapshot", "json", prod, "--file", listing(files, "s1.json", items)))
    got = ok(cli("get", "snapshot", prod, "--grace", "0", "--output", "json")).json()
    assert [m["fingerprint"] for m in got["expected_missing"]] == [fp("b")]
    assert got["unexpected"] == [{"name": "side", "fingerprint": fp("s")}]
    # within the grace period a deployment is not missing yet
    patient = ok(cli("get", "snapshot", prod, "--output", "json")).json()
    assert patient["expected_missing"] == []
    # once it arrived it was delivered, even after it was replaced
    ok(cli("snapshot", "json", prod, "--file", listing(
        files, "s2.json", [{"name": "api", "fingerprint": fp("b")}])))
    ok(cli("snapshot", "json", prod, "--file", listing(
        files, "s3.json", [{"name": "api", "fingerprint": fp("c")}])))
    got = ok(cli("get", "snapshot", prod, "--grace", "0", "--output", "json")).json()
    assert got["expected_missing"] == []
    assert got["unexpected"] == [{"name": "api", "fingerprint": fp("c")}]
    table = ok(cli("get", "snapshot", "prod#1", "--grace", "0")).out
    assert "Expected but not running:" in table and "Running but not expected:" in table


def test_search_finds_where_an_artifact_runs_and_ran(cli: Cli, prod: str,
                                                     files: Callable[..., Path]) -> None:
    ok(cli("create", "environment", "staging", "--type", "server"))
    ok(cli("snapshot", "json", "staging", "--file", listing(
        files, "st.json", [{"name": "api", "fingerprint": fp("a")}])))
    ok(cli("snapshot", "json", prod, "--file", listing(
        files, "p1.json", [{"name": "api", "fingerprint": fp("a")}])))
    ok(cli("snapshot", "json", prod, "--file", listing(
        files, "p2.json", [{"name": "api", "fingerprint": fp("b")}])))
    hits = ok(cli("search", fp("a"), "--output", "json")).json()
    assert [(h["match"], h["environment"], h["current"], h["name"]) for h in hits] == [
        ("running", "staging", True, "api"), ("running", "prod", False, "api")]
    assert "staging (now)" in ok(cli("search", fp("a")[:8])).out
    assert ok(cli("search", fp("z"), "--output", "json")).json() == []


@pytest.mark.parametrize(("scaling", "snapshots"), [(False, 1), (True, 2)])
def test_a_change_of_instances_counts_only_with_include_scaling(
        cli: Cli, files: Callable[..., Path], scaling: bool, snapshots: int) -> None:
    ok(cli("create", "environment", "prod", "--type", "k8s",
           *(["--include-scaling"] if scaling else [])))
    for n, count in enumerate((2, 5)):
        ok(cli("snapshot", "json", "prod", "--file", listing(
            files, f"s{n}.json", [{"name": "web", "fingerprint": fp("w"), "instances": count}])))
    assert ok(cli("get", "environment", "prod", "--output", "json")).json()["snapshots"] == (
        snapshots)
