"""``metrics ENV`` end to end: a scripted history on a clock the test sets (every entry's time
comes from ``affidavit.models.build``'s clock), with the answers worked out by hand."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from affidavit.models import build
from tests.helpers import Clock, Result, assert_error, commit_at, ok

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

Cli = Callable[..., Result]
T0 = 1_780_000_000  # 2026-05-28T20:26:40Z
H = 3600


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(T0)
    monkeypatch.setattr(build, "_time", fake)
    return fake


def fp(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A checkout whose one commit was authored at T0."""
    work = tmp_path / "repo"
    sha = commit_at(work, T0)
    monkeypatch.chdir(work)
    return sha


def test_metrics_of_a_scripted_history(cli: Cli, clock: Clock, repo: str,
                                       tmp_path: Path) -> None:
    template = tmp_path / "flow.yml"
    template.write_text("version: 1\ntrail:\n  artifacts:\n    - name: app\n      attestations:"
                        "\n        - {name: unit, type: generic}\n")
    ok(cli("create", "flow", "shop", "--template-file", template))
    ok(cli("create", "environment", "prod", "--type", "server"))

    def at(hours: float, *args: Any) -> None:
        clock.now = T0 + hours * H
        ok(cli(*args))

    def running(hours: float, version: str) -> None:
        listing = tmp_path / f"run-{hours}.json"
        listing.write_text(json.dumps([{"name": "app", "fingerprint": fp(version)}]))
        at(hours, "snapshot", "json", "prod", "--file", listing)

    at(1, "begin", "trail", "v1", "--flow", "shop")
    at(1, "attest", "artifact", "--fingerprint", fp("v1"), "--flow", "shop", "--trail", "v1",
       "--name", "app", "--commit", repo)
    at(1, "attest", "generic", "--flow", "shop", "--trail", "v1", "--name", "unit",
       "--fingerprint", fp("v1"), "--compliant", "true")
    running(2, "v1")  # arrives compliant, 2 h after its commit
    at(3, "begin", "trail", "v2", "--flow", "shop")
    at(3, "attest", "artifact", "--fingerprint", fp("v2"), "--flow", "shop", "--trail", "v2",
       "--name", "app", "--commit", repo)
    running(4, "v2")  # arrives without its unit tests: not compliant on arrival
    # attested later: the trail is compliant now, but was not when v2 arrived
    at(4.5, "attest", "generic", "--flow", "shop", "--trail", "v2", "--name", "unit",
       "--fingerprint", fp("v2"), "--compliant", "true")
    running(5, "v1")  # rolled back: restored 1 h after v2 arrived

    clock.now = T0
    since = "2026-05-28T00:00Z"
    found = ok(cli("metrics", "prod", "--since", since, "--output", "json")).json()
    assert found["deployments"] == 3 and found["snapshots"] == 3
    assert [(d["fingerprint"], d["compliant_on_arrival"], d["rollback"], d["failed_because"])
            for d in found["per_deployment"]] == [
        (fp("v1"), True, False, None), (fp("v2"), False, False, "not compliant on arrival"),
        (fp("v1"), True, True, None)]
    assert found["lead_time"] == {"median_seconds": 4 * H, "p90_seconds": 5 * H,
                                  "measured": 3}
    assert found["change_failure_rate"] == pytest.approx(1 / 3)
    assert found["time_to_restore"] == {"median_seconds": 1 * H, "restored": 1,
                                        "unrestored": 0}
    table = ok(cli("metrics", "prod", "--since", since)).out
    assert "Change failure rate:" in table and "33%" in table and "4.0 h" in table
    report = tmp_path / "report.html"
    assert ok(cli("metrics", "prod", "--since", since, "--output", "html", report)).out == (
        f"wrote {report}\n")
    page = report.read_text()
    assert page.startswith("<!doctype html>") and page.count("<svg") == 2
    assert "not compliant on arrival" in page and "<script" not in page
    assert "| Deployments | 3 |" in ok(cli("metrics", "prod", "--since", since, "--output",
                                          "markdown")).out


def test_metrics_refuses_what_it_cannot_measure(cli: Cli, tmp_path: Path) -> None:
    ok(cli("create", "environment", "live", "--type", "logical"))
    assert_error(cli("metrics", "nowhere"), 2, "'nowhere' does not exist")
    assert_error(cli("metrics", "live"), 2, "is logical")
    ok(cli("create", "environment", "prod", "--type", "server"))
    assert_error(cli("metrics", "prod", "--output", "html"), 2, "needs the file")
    assert_error(cli("metrics", "prod", "--output", "json", "x"), 2, "takes no file")
    assert_error(cli("metrics", "prod", "--since", "soon"), 2, "--since")
    assert_error(cli("metrics", "prod", "--output", "html", tmp_path / "no" / "r.html"), 2,
                 "r.html")
    empty = ok(cli("metrics", "prod", "--output", "json")).json()
    assert (empty["deployments"], empty["change_failure_rate"]) == (0, None)
