"""The web UI's pages beyond flows and trails (issue 16): an artifact's provenance from commit to
every environment it ran in, environments (snapshot timeline, a snapshot with provenance and
policy decisions, the diff of two), the DORA metrics charted week by week, search, a trail's
slots with ``--explain``'s reasons, its verdict-change log and its evidence package, the
environment badge. Each page is checked against the scripted history's facts and against what
the CLI says of the same ledger (the UI may not have a verdict of its own)."""

from __future__ import annotations

import hashlib
import html
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from affidavit.models import build
from tests.helpers import SHOP_TEMPLATE, Cli, Clock, Home, commit_at, ok
from tests.server.threaded import ThreadedServer

T0 = 1_780_000_000  # 2026-05-28T20:26:40Z, a Thursday
H, DAY = 3600, 86400
UNTIL = "2026-06-24"  # the metrics page's last week ends with this day
POLICY = """\
_schema: https://kosli.com/schemas/policy/environment/v1
artifacts:
  provenance:
    required: true
  trail-compliance:
    required: true
"""


def fp(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def story(cli: Cli, home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Flow ``shop``: trail ``v1`` compliant (commit authored at T0, review with evidence),
    ``v2`` missing its review. Environment ``prod`` (a policy wanting provenance and compliant
    trails): v1 from T0+1d, v2 replaces it at T0+14d with an unknown ``cache`` beside it, v1
    back at T0+15d (a rollback). Logical ``all`` joins ``prod``."""
    clock = Clock(T0)
    monkeypatch.setattr(build, "_time", clock)
    work = tmp_path / "repo"
    sha = commit_at(work, T0)
    monkeypatch.chdir(work)

    def at(hours: float, *args: Any) -> Any:
        clock.now = T0 + hours * H
        return ok(cli(*args))

    def running(hours: float, *apps: tuple[str, str]) -> None:
        listing = tmp_path / f"run-{hours}.json"
        listing.write_text(json.dumps([{"name": n, "fingerprint": f} for n, f in apps]))
        at(hours, "snapshot", "json", "prod", "--file", listing)

    (tmp_path / "t.yml").write_text(SHOP_TEMPLATE)
    (tmp_path / "policy.yml").write_text(POLICY)
    (tmp_path / "notes.txt").write_text("reviewed by Ada\n")
    at(0.5, "create", "flow", "shop", "--template-file", tmp_path / "t.yml")
    for trail in ("v1", "v2"):
        at(0.6, "begin", "trail", trail, "--flow", "shop")
        at(0.7, "attest", "artifact", "--fingerprint", fp(trail), "--flow", "shop", "--trail",
           trail, "--name", "app", "--commit", sha)
        at(0.8, "attest", "generic", "--flow", "shop", "--trail", trail, "--name", "unit",
           "--fingerprint", fp(trail), "--compliant", "true")
    at(0.9, "attest", "generic", "--flow", "shop", "--trail", "v1", "--name", "review",
       "--attachments", tmp_path / "notes.txt")
    at(0.95, "create", "environment", "prod", "--type", "server", "--description", "production")
    at(0.96, "create", "policy", "strict", "--file", tmp_path / "policy.yml")
    at(0.97, "attach", "policy", "strict", "--environment", "prod")
    running(24, ("app", fp("v1")))
    running(14 * 24, ("app", fp("v2")), ("cache", fp("cache")))
    running(15 * 24, ("app", fp("v1")))
    at(15 * 24 + 1, "create", "environment", "all", "--type", "logical")
    at(15 * 24 + 1, "join", "environment", "all", "--physical", "prod")
    return {"sha": sha, "notes": tmp_path / "notes.txt"}


@pytest.fixture
def site(home: Home, story: dict[str, Any]) -> Iterator[ThreadedServer]:
    with ThreadedServer(home.url) as running:
        yield running


def _get(url: str) -> requests.Response:
    answer = requests.get(url, timeout=30, allow_redirects=False)
    assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text[:300]}"
    return answer


def _text(page: str) -> str:
    """The page's visible text, tags dropped and entities decoded, spaces folded."""
    no_tags = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(no_tags))


def _table(page: str, heading: str) -> list[list[str]]:
    """The cells' text of each body row of the first table after ``heading``."""
    section = page.split(heading, 1)[1]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[_text(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in body.split("</tr>") if row.strip()]


def _rows(page: str, heading: str) -> list[str]:
    """The text of each body row of the first table after ``heading``."""
    return [" ".join(cell for cell in row if cell) for row in _table(page, heading)]


def test_the_artifact_page_is_its_provenance_from_commit_to_environments(
        site: ThreadedServer, story: dict[str, Any]) -> None:
    page = _get(f"{site.url}/artifacts/{fp('v2')}").text
    timeline = page.split("<h2>Timeline</h2>", 1)[1]
    events = re.findall(r"<strong>([a-z ]+)</strong>", timeline)
    assert events == ["committed", "built", "attested", "started running", "stopped running"]
    text = _text(timeline)
    assert story["sha"] in text and "Ada" in text
    assert "started running in prod #2" in text and "stopped running in prod #3" in text
    assert "unit (generic): compliant" in text
    runs = _rows(page, "<h2>Where it ran</h2>")
    assert len(runs) == 1 and runs[0].startswith("prod app #2") and runs[0].endswith("no")
    trails = _rows(page, "<h2>Trails</h2>")
    assert trails == [t for t in trails if t.startswith("shop v2")] and len(trails) == 1
    assert "INCOMPLETE" in trails[0] and "'review' (generic) is missing" in trails[0]
    # v1 runs now: the page says where
    v1 = _text(_get(f"{site.url}/artifacts/{fp('v1')}").text)
    assert "Runs in prod" in v1
    assert "stopped running" not in v1  # it came back: one run, from #1 to #3, still running


def test_an_artifact_never_reported_is_a_404_page(site: ThreadedServer) -> None:
    answer = requests.get(f"{site.url}/artifacts/{fp('nothing')}", timeout=30)
    assert answer.status_code == 404 and "has not been reported" in answer.text
    assert requests.get(f"{site.url}/artifacts/xyz", timeout=30).status_code == 404


def test_the_environment_page_is_its_snapshot_timeline(site: ThreadedServer) -> None:
    page = _get(f"{site.url}/environments/prod").text
    rows = _table(page, "Snapshots, the latest first")
    assert [row[0] for row in rows] == ["#3", "#2", "#1"]
    # running, started, changed, exited: #2 starts cache and changes app; #3 changes app back
    # and stops cache
    assert [row[3:7] for row in rows] == [["1", "0", "1", "1"], ["2", "1", "1", "0"],
                                          ["1", "1", "0", "0"]]
    assert [row[7] for row in rows] == ["from #2", "from #1", ""]
    assert 'href="/environments/prod/diff?from=2&amp;to=3"' in page
    listing = _rows(_get(f"{site.url}/environments").text, "<h1>Environments</h1>")
    assert [row.split()[0] for row in listing] == ["prod", "all"]
    assert "production" in listing[0] and listing[0].endswith("3")
    logical = _text(_get(f"{site.url}/environments/all").text)
    assert "Joins prod" in logical


def test_a_snapshot_shows_provenance_and_the_policy_decisions(cli: Cli,
                                                               site: ThreadedServer) -> None:
    page = _get(f"{site.url}/environments/prod/snapshots/2").text
    artifacts = _rows(page, "<h2>Artifacts")
    assert len(artifacts) == 2
    app = next(row for row in artifacts if row.startswith("app"))
    cache = next(row for row in artifacts if row.startswith("cache"))
    assert "shop/v2" in app and "no provenance" in cache
    decisions = _text(page.split("<h2>Policy decisions</h2>", 1)[1])
    assert "strict#1" in decisions
    assert "NON_COMPLIANT" in _text(page.split("<h2>Policies", 1)[1].split("</h2>", 1)[0])
    # the latest (#3: v1 alone, compliant) is what assert snapshot decides, and the badge says
    gate = cli("assert", "snapshot", "prod", "--output", "json")
    assert gate.code == 0 and json.loads(gate.out)["status"] == "COMPLIANT"
    latest = _get(f"{site.url}/environments/prod/snapshots/latest").text
    assert "Snapshot prod #3" in latest and "COMPLIANT" in latest
    assert ">compliant</text>" in _get(f"{site.url}/badge/prod.svg").text
    union = _text(_get(f"{site.url}/environments/all/snapshots/latest").text)
    assert re.search(r"The union of prod \( ?#3 ?\)", union)
    assert ">compliant</text>" in _get(f"{site.url}/badge/all.svg").text
    missing = requests.get(f"{site.url}/badge/nowhere.svg", timeout=30)
    assert missing.status_code == 404 and missing.headers["content-type"] == "image/svg+xml"
    assert requests.get(f"{site.url}/environments/prod/snapshots/9", timeout=30
                        ).status_code == 404


def test_the_diff_of_two_snapshots(site: ThreadedServer) -> None:
    page = _get(f"{site.url}/environments/prod/diff?from=1&to=2").text
    changed = _rows(page, "<h2>Changed</h2>")
    assert len(changed) == 1 and changed[0].startswith("app")
    assert fp("v1")[:12] in changed[0] and fp("v2")[:12] in changed[0]
    assert changed[0].index(fp("v1")[:12]) < changed[0].index(fp("v2")[:12])
    started = _rows(page, "<h2>Started</h2>")
    assert len(started) == 1 and started[0].startswith("cache") and "no provenance" in started[0]
    assert "<h2>Stopped</h2>" not in page
    back = _get(f"{site.url}/environments/prod/diff?from=2&to=3").text
    assert _rows(back, "<h2>Stopped</h2>")[0].startswith("cache")
    same = _get(f"{site.url}/environments/prod/diff?from=3&to=3").text
    assert "The same artifacts run in both." in same
    assert requests.get(f"{site.url}/environments/prod/diff?from=1", timeout=30
                        ).status_code == 400


def _chart(page: str, key: str) -> list[str]:
    """The numbers table under one chart: each week's value as the page says it."""
    section = page.split(f'id="{key}"', 1)[1].split("</section>", 1)[0]
    assert "<svg" in section and section.count("<rect") == 4
    return [row[1] if row[1] != "not measured" else "-" for row in _table(section, "The numbers")]


def test_the_metrics_page_charts_the_four_measures_week_by_week(
        cli: Cli, site: ThreadedServer) -> None:
    page = _get(f"{site.url}/environments/prod/metrics?weeks=4&until={UNTIL}").text
    # the weeks end 06-04, 06-11, 06-18 and 06-25 (00:00Z): v1 arrives on 05-29 (week 1), a
    # day after its commit; v2 and cache on 06-11 and v1 again on 06-12 (week 3)
    frequency = _chart(page, "deployment_frequency_per_day")
    assert frequency == ["0.14", "0", "0.43", "0"]  # 1 and 3 deployments in 7 days
    # week 3: v2 lacks its review and cache has no provenance; v1 arrives compliant
    assert _chart(page, "change_failure_rate") == ["0%", "-", "67%", "-"]
    # nearest-rank median of v2 (14 d after its commit) and v1 again (15 d); cache has none
    assert _chart(page, "lead_time") == ["1.0 d", "-", "14.0 d", "-"]
    # v2 restored by the rollback a day later; cache never (it stopped, nothing replaced it)
    assert _chart(page, "time_to_restore") == ["-", "-", "1.0 d", "-"]
    # the four weeks as one: 4 deployments, 2 failed; the median lead time of 1, 14, 15 days
    headline = _text(page.split('class="facts headline"', 1)[1].split("</dl>", 1)[0])
    assert "Deployments 4 (0.14 a day) from 2026-05-28 to 2026-06-25" in headline
    assert "Change failure rate 50% (2 of 4)" in headline
    assert "median 14.0 d, 90th percentile 15.0 d (3 measured)" in headline
    assert "Time to restore median 1.0 d 1 not restored" in headline
    week3 = json.loads(ok(cli("metrics", "prod", "--since", "2026-06-11T00:00Z", "--output",
                              "json")).out)  # to now: nothing later happened
    assert week3["deployments"] == 3 and week3["failures"] == 2
    assert requests.get(f"{site.url}/environments/prod/metrics?until=june", timeout=30
                        ).status_code == 400
    assert requests.get(f"{site.url}/environments/all/metrics", timeout=30).status_code == 400


def test_search_finds_commits_and_fingerprints(site: ThreadedServer, story: dict[str, Any]
                                               ) -> None:
    by_commit = _get(f"{site.url}/search?q={story['sha'][:8]}").text
    hits = _rows(by_commit, "<table>")
    assert len(hits) == 2 and all(row.startswith("commit") for row in hits)  # v1's and v2's app
    assert {row.split()[-2] for row in hits} == {"shop/v1", "shop/v2"}
    by_fp = _get(f"{site.url}/search?q={fp('v1')[:10]}").text
    kinds = sorted(row.split()[0] for row in _rows(by_fp, "<table>"))
    assert kinds == ["fingerprint", "fingerprint", "running", "running"]
    assert f'href="/artifacts/{fp("v1")}"' in by_fp and "running now" in by_fp
    none = _get(f"{site.url}/search?q={'0' * 64}").text
    assert "Nothing has this SHA" in none and "proven absent" in none
    bad = requests.get(f"{site.url}/search?q=<script>", timeout=30)
    assert bad.status_code == 400 and "<script>" not in bad.text
    assert _get(f"{site.url}/search").status_code == 200


def test_the_trail_page_gives_the_explain_reasons_the_log_and_the_package(
        cli: Cli, site: ThreadedServer, tmp_path: Path) -> None:
    page = _get(f"{site.url}/flows/shop/trails/v2").text
    explained = json.loads(ok(cli("get", "trail", "v2", "--flow", "shop", "--explain",
                                  "--output", "json")).out)
    cells = re.findall(r'<td class="why">(?:<a [^>]*>)?(.*?)(?:</a>)?</td>', page)
    why = [html.unescape(cell) for cell in cells]
    assert why == [row["why"] for row in explained["explain"]]
    assert any("reported in other trails of the flow only: v1" in w for w in why)
    log = _get(f"{site.url}/flows/shop/trails/v1/log").text
    said = json.loads(ok(cli("log", "trail", "v1", "--flow", "shop", "--output", "json")).out)
    changes = [e["detail"] for e in said if e["event"] == "verdict changed"]
    shown = [row[3] for row in _table(log, "<table>") if row[2] == "verdict changed"]
    assert [s.replace(" → ", " -> ") for s in shown] == changes
    assert changes[-1].endswith("COMPLIANT") and "NON" not in changes[-1]
    package = requests.get(f"{site.url}/flows/shop/trails/v1/package.zip", timeout=30)
    assert package.status_code == 200 and package.headers["content-type"] == "application/zip"
    assert "attachment" in package.headers["content-disposition"]
    saved = tmp_path / "v1.zip"
    saved.write_bytes(package.content)
    assert zipfile.is_zipfile(saved)
    key = ok(cli("ledger", "public-key")).out.strip()
    ok(cli("verify", "package", saved, "--public-key", key))


def test_flows_without_an_attestation_type(site: ThreadedServer, cli: Cli) -> None:
    ok(cli("create", "flow", "docs"))
    ok(cli("begin", "trail", "d1", "--flow", "docs"))
    page = _get(f"{site.url}/?without=generic").text
    assert re.findall(r'<td><a href="/flows/([a-z]+)">', page) == ["docs"]
    assert re.findall(r'<td><a href="/flows/([a-z]+)">', _get(f"{site.url}/?without=sarif").text
                      ) == ["docs", "shop"]
    assert requests.get(f"{site.url}/?without=%3Cb%3E", timeout=30).status_code == 400


def test_a_flows_trails_filtered_by_status(site: ThreadedServer, cli: Cli, home: Home,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from affidavit.api import browse
    from affidavit.ledger.sqlite import SQLiteLedger

    page = _get(f"{site.url}/flows/shop?status=INCOMPLETE").text
    assert re.findall(r'href="/flows/shop/trails/(v\d)">', page) == ["v2"]
    page = _get(f"{site.url}/flows/shop?status=COMPLIANT").text
    assert re.findall(r'href="/flows/shop/trails/(v\d)">', page) == ["v1"]
    none = _get(f"{site.url}/flows/shop?status=NON_COMPLIANT").text
    assert "No NON_COMPLIANT trail" in none
    assert requests.get(f"{site.url}/flows/shop?status=GREEN", timeout=30).status_code == 400
    # a page at a time, the latest first, knowing only whether another follows
    for name in ("v3", "v4", "v5"):
        ok(cli("begin", "trail", name, "--flow", "shop"))
    ledger = SQLiteLedger(home.url)
    try:
        first = browse.trails_page(ledger, "shop", size=2, status="INCOMPLETE")
        second = browse.trails_page(ledger, "shop", size=2, status="INCOMPLETE",
                                    start=first["next"])
        monkeypatch.setattr(browse, "SCAN", 2)  # v1, the oldest, is all a third looks at
        third = browse.trails_page(ledger, "shop", size=2, status="INCOMPLETE",
                                   start=second["next"])
        capped = browse.trails_page(ledger, "shop", size=5, status="COMPLIANT")
    finally:
        ledger.close()
    assert [t["name"] for t in first["trails"]] == ["v5", "v4"] and first["next"] == 2
    assert [t["name"] for t in second["trails"]] == ["v3", "v2"] and second["next"] == 4
    assert third["trails"] == [] and third["next"] is None and third["scanned"] == 1
    # a rare status is looked for SCAN trails a page: v5 and v4 are not it, v1 is further
    assert capped["trails"] == [] and capped["next"] == 2 and capped["scanned"] == 2
    assert first["pages"] is None and first["count"] == 5
    page = _get(f"{site.url}/flows/shop?status=INCOMPLETE&start=2").text
    assert re.findall(r'href="/flows/shop/trails/(v\d)">', page) == ["v3", "v2"]
    assert 'href="/flows/shop?status=INCOMPLETE">' in page
