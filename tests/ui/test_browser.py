"""The web UI in a real browser (issue 16): Debian's chromium driven by Playwright against a
scripted history (``tests/ui/browser_history.py``) served on 127.0.0.1.

One crawl from ``/`` follows every same-origin link (and every GET form, filled with a
fingerprint prefix), so pages added later are covered as soon as something links to them. What
is not HTML (evidence, packages, badges, the stylesheet) is fetched, never rendered. On what
the crawl saw: every page loads clean (200, no console error, no page error, no failed or
foreign request), every link resolves, hostile report contents stay inert. Then the pages
again: axe-core's serious and critical violations, full-page screenshots in
``tests/ui/shots/``, the same content with JavaScript off; and the click path an auditor takes
to the trail ``affidavit assert trail`` fails on, down to the evidence file's bytes.

One browser, one history and one server per module (per xdist worker). Playwright never
downloads a browser here: ``make test`` installs Debian's (``tests/ui/install-chromium.sh``).
"""

from __future__ import annotations

import json
import os
import re
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect, sync_playwright

from tests.helpers import Cli, Result, clear_environment, run_cli
from tests.server.threaded import ThreadedServer
from tests.ui import browser_history
from tests.ui.browser_history import History

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent / "shots"
WIDTH = 1280

expect.set_options(timeout=3000)  # static pages on 127.0.0.1: a missing thing fails fast

# skipped on a developer's machine without chromium; in CI (`make test` installs it) its
# absence is a failure, never a silent skip
pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK) and not os.environ.get("CI"),
    reason=f"no {CHROMIUM}: `make browser-deps` (tests/ui/install-chromium.sh) installs it")

_LINKS_JS = """() => {
  const out = [];
  for (const e of document.querySelectorAll('a[href]'))
    out.push({kind: 'a', url: e.href, raw: e.getAttribute('href')});
  for (const e of document.querySelectorAll('link[href]'))
    out.push({kind: 'link', url: e.href, raw: e.getAttribute('href')});
  for (const e of document.querySelectorAll('img[src], source[src], iframe[src], object[data]'))
    out.push({kind: e.tagName.toLowerCase(), url: e.src || e.data,
              raw: e.getAttribute('src') || e.getAttribute('data')});
  return out;
}"""
_FORMS_JS = """() => Array.from(document.forms).map(f => ({
  method: (f.getAttribute('method') || 'get').toLowerCase(), action: f.action,
  fields: Array.from(f.elements).filter(e => e.name).map(e => ({
    name: e.name, type: (e.type || '').toLowerCase(), value: e.value,
    placeholder: e.getAttribute('placeholder') || '',
    options: e.options ? Array.from(e.options).map(o => o.value) : []}))}))"""
_DOM_JS = """() => ({
  ids: Array.from(document.querySelectorAll('[id], a[name]')).map(e => e.id || e.name),
  scripts: document.querySelectorAll('script').length,
  handlers: Array.from(document.querySelectorAll('*')).flatMap(e =>
      Array.from(e.attributes).filter(a => a.name.startsWith('on'))
          .map(a => e.tagName.toLowerCase() + '[' + a.name + ']')),
  xss: typeof window.__xss,
  h1: Array.from(document.querySelectorAll('h1')).map(e => e.textContent.trim()),
  text: document.body ? document.body.innerText : ''})"""


# -- the history, the server, the browser ----------------------------------------------------------

@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    from affidavit.models import build

    folder = tmp_path_factory.mktemp("browser-history")
    with pytest.MonkeyPatch.context() as patch:
        clear_environment(patch)
        url = f"sqlite:///{folder / 'ledger.db'}"
        patch.setenv("AFFIDAVIT_LEDGER", url)
        patch.setenv("AFFIDAVIT_CACHE_DIR", str(folder / "cache"))
        patch.chdir(folder)  # the history's scratch repository, not this checkout
        clock = browser_history.Clock(time.time())
        patch.setattr(build, "_time", clock)
        return browser_history.build(run_cli, folder, url, clock)


@pytest.fixture(scope="module")
def site(history: History) -> Iterator[ThreadedServer]:
    with ThreadedServer(history.url) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-background-networking"])
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport={"width": WIDTH, "height": 800})
    yield made
    made.close()


def _verdict(cli: Cli, history: History, trail: str) -> Result:
    """``affidavit assert trail`` on the module's ledger (not the test's own empty one)."""
    return cli("assert", "trail", trail, "--flow", history.flow, "--ledger", history.url)


# -- the crawl -------------------------------------------------------------------------------------

@dataclass
class Link:
    on: str  # the page it is on
    kind: str  # a, link, img, form
    url: str  # absolute, with its fragment
    raw: str


@dataclass
class Fetched:
    """A same-origin target, as a plain GET (no redirect followed) answered it."""

    status: int
    content_type: str
    disposition: str
    body: bytes


@dataclass
class Visit:
    """A page, as the browser loaded it."""

    url: str
    status: int | None = None
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    scripts: int = 0
    handlers: list[str] = field(default_factory=list)
    xss: str = ""
    h1: list[str] = field(default_factory=list)
    text: str = ""


@dataclass
class Crawl:
    base: str
    visits: dict[str, Visit] = field(default_factory=dict)  # HTML pages, by URL
    fetched: dict[str, Fetched] = field(default_factory=dict)  # every same-origin target
    links: list[Link] = field(default_factory=list)

    def path(self, url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def pages(self) -> list[str]:
        return sorted(self.visits)


def _same_origin(url: str, base: str) -> bool:
    return urlsplit(url).netloc == urlsplit(base).netloc and urlsplit(url).scheme in (
        "http", "https")


def _form_urls(page: Page, probe: str) -> list[str]:
    """Each GET form's URL: a search field filled with ``probe``, another text field with its
    placeholder's example, a choice as it stands (or its first)."""
    urls = []
    for form in page.evaluate(_FORMS_JS):
        if form["method"] != "get":
            continue
        query = []
        for f in form["fields"]:
            if f["type"] in ("submit", "button", "reset", "image", "file"):
                continue
            if f["type"] in ("checkbox", "radio"):
                continue
            value = f["value"]
            if f["type"] in ("text", "search", "") and not value:  # "e.g. sarif": sarif
                value = probe if f["name"] == "q" or not f["placeholder"] else (
                    f["placeholder"].split()[-1])
            if f["type"].startswith("select") and f["options"]:
                value = value or f["options"][0]
            query.append((f["name"], value))
        urls.append(form["action"].split("?")[0] + "?" + urlencode(query))
    return urls


def _crawl(context: BrowserContext, base: str, probe: str) -> Crawl:
    crawl = Crawl(base)
    page = context.new_page()
    current: list[Visit] = []

    def now() -> Visit | None:
        return current[-1] if current else None

    def on_console(message: Any) -> None:
        if message.type == "error" and (v := now()):
            v.console_errors.append(f"{message.text} @ {message.location}")

    def on_page_error(error: Any) -> None:
        if v := now():
            v.page_errors.append(str(error))

    def on_failed(request: Any) -> None:
        if v := now():
            v.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def on_response(response: Any) -> None:
        if response.status >= 400 and (v := now()):
            v.failed_requests.append(f"{response.request.method} {response.url}: "
                                     f"{response.status}")

    def on_request(request: Any) -> None:
        if not request.url.startswith(("data:", "about:")) and not _same_origin(
                request.url, base) and (v := now()):
            v.foreign_requests.append(request.url)

    def on_dialog(dialog: Any) -> None:
        if v := now():
            v.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    page.on("request", on_request)
    page.on("dialog", on_dialog)

    todo = [base + "/"]
    while todo:
        url = todo.pop(0)
        if url in crawl.fetched:
            continue
        answer = context.request.get(url, max_redirects=0)
        crawl.fetched[url] = Fetched(answer.status, answer.headers.get("content-type", ""),
                                     answer.headers.get("content-disposition", ""),
                                     answer.body())
        if not crawl.fetched[url].content_type.startswith("text/html") or (
                answer.status != 200):
            continue
        visit = Visit(url)
        current.append(visit)
        crawl.visits[url] = visit
        loaded = page.goto(url, wait_until="load")
        visit.status = loaded.status if loaded else None
        dom = page.evaluate(_DOM_JS)
        visit.ids, visit.scripts, visit.handlers = set(dom["ids"]), dom["scripts"], dom["handlers"]
        visit.xss, visit.h1, visit.text = dom["xss"], dom["h1"], dom["text"]
        found = [Link(url, e["kind"], e["url"], e["raw"] or "")
                 for e in page.evaluate(_LINKS_JS)]
        found += [Link(url, "form", u, u) for u in _form_urls(page, probe)]
        crawl.links += found
        for link in found:
            target = link.url.split("#")[0]
            if _same_origin(target, base) and target not in crawl.fetched:
                todo.append(target)
    current.clear()
    page.close()
    for visit in crawl.visits.values():  # one the next page's navigation cancelled is no failure
        aborted = [m for m in visit.failed_requests if m.endswith(": net::ERR_ABORTED")]
        for message in aborted:
            method, url = message.split(": ")[0].split(" ", 1)
            if method == "GET" and context.request.get(url, max_redirects=0).status == 200:
                visit.failed_requests.remove(message)
    return crawl


@pytest.fixture(scope="module")
def crawl(browser: Browser, site: ThreadedServer, history: History) -> Crawl:
    made = browser.new_context(viewport={"width": WIDTH, "height": 800})
    try:
        return _crawl(made, site.url, history.fingerprints["v1"][:10])
    finally:
        made.close()


def _problems(lines: list[str]) -> str:
    return "\n".join(["", *lines])


# -- 1. every page loads clean ---------------------------------------------------------------------

def test_every_page_loads_without_an_error(crawl: Crawl, history: History) -> None:
    paths = {crawl.path(u) for u in crawl.visits}
    flow = history.flow
    assert {"/", "/ledger", f"/flows/{flow}", "/flows/empty", f"/flows/{flow}/trails/v1",
            f"/flows/{flow}/trails/v2", f"/flows/{flow}/trails/v3"} <= paths, sorted(paths)
    problems = [f"{crawl.path(url)}: {got.status}" for url, got in sorted(crawl.fetched.items())
                if got.content_type.startswith("text/html") and got.status != 200]
    for url, visit in sorted(crawl.visits.items()):
        where = crawl.path(url)
        if visit.status != 200:
            problems.append(f"{where}: loaded with status {visit.status}")
        problems += [f"{where}: console error: {m}" for m in visit.console_errors]
        problems += [f"{where}: page error: {m}" for m in visit.page_errors]
        problems += [f"{where}: failed request: {m}" for m in visit.failed_requests]
        problems += [f"{where}: request elsewhere: {m}" for m in visit.foreign_requests]
    assert not problems, _problems(problems)
    print(f"{len(crawl.visits)} pages:", *sorted(paths), sep="\n  ")


def _kind(path: str) -> str:
    if "/evidence/" in path:
        return "evidence"
    if path.endswith(".zip"):
        return "package"
    if path.endswith(".svg"):
        return "svg"  # a badge, the icon
    if path.endswith(".css"):
        return "stylesheet"
    return "other"


def test_downloads_badges_and_styles_answer_with_their_types(crawl: Crawl,
                                                             history: History) -> None:
    """What the crawl fetched but did not render (not HTML): 200, each with its content type;
    evidence as attachments holding the bytes attested to that trail."""
    wanted = {"evidence": "application/octet-stream", "package": "application/zip",
              "svg": "image/svg+xml", "stylesheet": "text/css"}
    others = {u: f for u, f in crawl.fetched.items()
              if not f.content_type.startswith("text/html")}
    kinds = {_kind(urlsplit(u).path) for u in others}
    assert {"evidence", "svg", "stylesheet"} <= kinds, sorted(others)
    problems = []
    for url, got in sorted(others.items()):
        path, kind = urlsplit(url).path, _kind(urlsplit(url).path)
        if got.status != 200:
            problems.append(f"{path}: {got.status}")
            continue
        if kind == "other":
            problems.append(f"{path}: neither a page nor a known download ({got.content_type})")
            continue
        if not got.content_type.startswith(wanted[kind]):
            problems.append(f"{path}: {got.content_type}, not {wanted[kind]}")
        if kind in ("evidence", "package") and not got.disposition.startswith("attachment"):
            problems.append(f"{path}: not an attachment ({got.disposition!r})")
        if kind == "evidence":
            trail = unquote(path.split("/trails/")[1].split("/")[0])
            if got.body not in history.evidence.get(trail, {}).values():
                problems.append(f"{path}: not a file attested to trail {trail}")
        if kind == "package" and not got.body.startswith(b"PK"):
            problems.append(f"{path}: not a zip")
        if kind == "svg" and b"<svg" not in got.body:
            problems.append(f"{path}: not an SVG")
    assert not problems, _problems(problems)
    evidence = {f.body for u, f in others.items() if _kind(urlsplit(u).path) == "evidence"}
    attested = {data for files in history.evidence.values() for data in files.values()}
    assert evidence == attested, "every attested file is offered for download, once a digest"


# -- 2. every link resolves ------------------------------------------------------------------------

def test_every_link_on_every_page_resolves(crawl: Crawl) -> None:
    assert len(crawl.links) > len(crawl.visits)
    problems = []
    for link in crawl.links:
        target, _, fragment = link.url.partition("#")
        if not _same_origin(target, crawl.base):
            continue  # nothing leaves 127.0.0.1 here
        got = crawl.fetched[target]
        where = f"{crawl.path(link.on)}: <{link.kind}> {link.raw!r}"
        if got.status != 200:
            problems.append(f"{where} -> {got.status}")
        elif fragment and target in crawl.visits and unquote(fragment) not in (
                crawl.visits[target].ids):
            problems.append(f"{where} -> no #{fragment} on that page")
    assert not problems, _problems(problems)


# -- 3. the auditor's click path -------------------------------------------------------------------

@pytest.mark.parametrize("trail", ["v2", "v3"])
def test_click_from_the_flows_to_why_a_trail_fails_and_its_evidence(
        cli: Cli, history: History, site: ThreadedServer, context: BrowserContext,
        trail: str) -> None:
    verdict = _verdict(cli, history, trail)
    assert verdict.code == 1, str(verdict)  # the gate fails this trail
    status = verdict.out.split(":")[0]
    reasons = [line[4:] for line in verdict.out.splitlines() if line.startswith("  - ")]
    assert status in ("NON_COMPLIANT", "INCOMPLETE") and reasons, str(verdict)
    slots = {m for r in reasons for m in re.findall(r"attestation '([^']+)'", r)}
    assert slots, reasons

    page = context.new_page()
    page.goto(site.url + "/")
    page.get_by_role("link", name=history.flow, exact=True).first.click()
    expect(page).to_have_url(f"{site.url}/flows/{history.flow}")
    page.get_by_role("link", name=trail, exact=True).first.click()
    expect(page).to_have_url(f"{site.url}/flows/{history.flow}/trails/{trail}")
    expect(page.locator("main")).to_contain_text(status)
    for reason in reasons:  # word for word what the gate said
        expect(page.get_by_text(reason, exact=True).first).to_be_visible()

    table = page.locator("table", has=page.get_by_role("columnheader", name="State",
                                                       exact=True))
    expect(table).to_have_count(1)
    headers = [h.strip() for h in table.get_by_role("columnheader").all_inner_texts()]
    for slot in slots:
        row = table.locator("tbody tr", has=page.get_by_role("cell", name=slot, exact=True))
        expect(row).to_be_visible()
        cells = row.get_by_role("cell")
        state = cells.nth(headers.index("State")).inner_text().strip()
        compliant = cells.nth(headers.index("Compliant")).inner_text().strip()
        if status == "INCOMPLETE":
            assert state == "MISSING", (slot, state)
        else:
            assert (state, compliant) == ("COMPLETE", "no"), (slot, state, compliant)

    for name, data in history.evidence[trail].items():
        link = page.get_by_role("link", name=name, exact=True)
        expect(link).to_have_count(1)
        with page.expect_download() as info:
            link.click()
        download = info.value
        assert download.failure() is None
        assert Path(download.path()).read_bytes() == data, name
        assert download.suggested_filename == name
    page.close()


def test_click_from_a_trail_to_its_artifacts_provenance(
        cli: Cli, history: History, site: ThreadedServer, context: BrowserContext) -> None:
    """The artifact's page gives the reasons ``affidavit assert artifact`` gives, and where it
    ran; its snapshot's page shows it running."""
    fingerprint = history.fingerprints["v2"]
    verdict = cli("assert", "artifact", fingerprint, "--ledger", history.url)
    assert verdict.code == 1, str(verdict)
    prefix = f"  - {history.flow}/v2: "
    reasons = [line.removeprefix(prefix) for line in verdict.out.splitlines()
               if line.startswith(prefix)]
    assert reasons, str(verdict)
    ran = [n for n, running in history.snapshots.items() if fingerprint in running.values()]
    assert ran == [2]

    page = context.new_page()
    page.goto(f"{site.url}/flows/{history.flow}/trails/v2")
    page.get_by_role("link", name=fingerprint, exact=True).first.click()
    expect(page).to_have_url(f"{site.url}/artifacts/{fingerprint}")
    expect(page.locator("main")).to_contain_text(fingerprint)
    for reason in reasons:  # word for word what the gate said
        expect(page.get_by_text(reason, exact=True).first).to_be_visible()
    snapshot = page.locator(f'main a[href="/environments/{history.environment}/snapshots/2"]')
    expect(snapshot.first).to_be_visible()
    snapshot.first.click()
    expect(page).to_have_url(f"{site.url}/environments/{history.environment}/snapshots/2")
    for name in history.snapshots[2]:
        expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()
    page.close()


# -- 4. hostile contents are inert -----------------------------------------------------------------

def test_hostile_report_contents_are_inert_and_shown_as_text(
        crawl: Crawl, history: History, site: ThreadedServer, context: BrowserContext) -> None:
    problems = []
    for url, visit in sorted(crawl.visits.items()):
        where = crawl.path(url)
        if visit.xss != "undefined":
            problems.append(f"{where}: window.__xss is {visit.xss}")
        problems += [f"{where}: a dialog opened: {d}" for d in visit.dialogs]
        if visit.scripts:
            problems.append(f"{where}: {visit.scripts} <script> elements")
        problems += [f"{where}: an event handler attribute: {h}" for h in visit.handlers]
    assert not problems, _problems(problems)

    page = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(f"{site.url}/flows/{history.flow}/trails/v2")
    for summary in page.locator("details > summary").all():
        summary.click()  # the failed test cases are folded away
    for hostile in (browser_history.XSS_TEST_NAME, browser_history.XSS_MESSAGE,
                    browser_history.XSS_ANNOTATION, browser_history.XSS_DESCRIPTION):
        expect(page.get_by_text(hostile).first).to_be_visible()
    assert page.evaluate("typeof window.__xss") == "undefined" and not dialogs
    page.close()

    shown = "\n".join(v.text for v in crawl.visits.values())
    if any(crawl.path(u).startswith("/environments") for u in crawl.visits):
        for hostile in (browser_history.XSS_ENVIRONMENT, browser_history.XSS_ARTIFACT):
            assert hostile in shown, f"{hostile!r} is on no environment page as text"


# -- 5. accessibility ------------------------------------------------------------------------------

def test_no_serious_accessibility_violations(crawl: Crawl, browser: Browser) -> None:
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    axe = Axe()
    made = browser.new_context(viewport={"width": WIDTH, "height": 800})
    page = made.new_page()
    found, lesser = [], []
    try:
        for url in crawl.pages():
            page.goto(url)
            for v in axe.run(page).response["violations"]:
                if v.get("impact") not in ("serious", "critical"):
                    lesser.append(f"{crawl.path(url)}: {v['id']} ({v.get('impact')}), "
                                  f"{len(v['nodes'])} element(s)")
                else:
                    targets = [" ".join(map(str, n["target"])) for n in v["nodes"]][:5]
                    found.append(f"{crawl.path(url)}: {v['id']} ({v['impact']}): {v['help']}; "
                                 f"{len(v['nodes'])} element(s): {targets}")
    finally:
        made.close()
    print("axe, below serious:", *lesser or ["none"], sep="\n  ")
    assert not found, _problems(found)


# -- 6. screenshots --------------------------------------------------------------------------------

def _slug(path: str) -> str:
    parts = urlsplit(path)
    name = parts.path.strip("/") or "flows"
    if parts.query:
        name += "_" + "_".join(f"{k}-{v[0]}" for k, v in sorted(parse_qs(parts.query).items()))
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:120]


def test_full_page_screenshots(crawl: Crawl, context: BrowserContext) -> None:
    SHOTS.mkdir(exist_ok=True)
    page = context.new_page()
    problems = []
    for url in crawl.pages():
        path = crawl.path(url)
        page.goto(url)
        shot = SHOTS / f"{_slug(path)}.png"
        page.screenshot(path=str(shot), full_page=True)
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", shot
        width, height = struct.unpack(">II", data[16:24])
        if width != WIDTH or height < 100:
            problems.append(f"{path}: a {width}x{height} page")
        wider = page.evaluate("document.documentElement.scrollWidth")
        if wider > WIDTH:
            problems.append(f"{path}: {wider}px wide in a {WIDTH}px window (scrolls sideways)")
    page.close()
    assert not problems, _problems(problems)


# -- 7. without JavaScript -------------------------------------------------------------------------

def _key_texts(path: str, history: History, statuses: dict[str, str]) -> list[str]:
    """What a page must show, from the history and the CLI (empty for a page not known
    here: then only its heading is compared)."""
    flow, env = history.flow, history.environment
    trail = re.fullmatch(rf"/flows/{flow}/trails/(v\d)", path)
    snapshot = re.fullmatch(rf"/environments/{env}/snapshots/(\d+)", path)
    artifact = re.fullmatch(r"/artifacts/([0-9a-f]{64})", path)
    if path == "/":
        return [flow, "empty", "the web shop"]
    if path == f"/flows/{flow}":
        return ["v1", "v2", "v3", "the web shop"]
    if path == "/flows/empty":
        return ["nothing begun yet"]
    if trail:
        name = trail.group(1)
        return [statuses[name], "review", "unit", history.fingerprints[name],
                *history.evidence[name]]
    if path == "/ledger":
        return [history.public_key]
    if path in ("/environments", f"/environments/{env}"):
        return [env]
    if snapshot:
        return list(history.snapshots[int(snapshot.group(1))])
    if artifact:
        made = [t for t, fp in history.fingerprints.items() if fp == artifact.group(1)]
        return made
    return []


def test_pages_show_their_content_without_javascript(
        crawl: Crawl, browser: Browser, history: History, cli: Cli) -> None:
    statuses = {t: json.loads(cli("assert", "trail", t, "--flow", history.flow, "--ledger",
                                  history.url, "--output", "json").out)["status"]
                for t in history.fingerprints}
    assert statuses == {"v1": "COMPLIANT", "v2": "NON_COMPLIANT", "v3": "INCOMPLETE"}
    made = browser.new_context(java_script_enabled=False,
                               viewport={"width": WIDTH, "height": 800})
    page = made.new_page()
    problems, checked = [], 0
    try:
        for url in crawl.pages():
            path = crawl.path(url)
            answer = page.goto(url)
            if answer is None or answer.status != 200:
                problems.append(f"{path}: {answer and answer.status}")
                continue
            main = page.locator("main").inner_text() if page.locator("main").count() else ""
            headings = [h.strip() for h in page.locator("h1").all_text_contents()]
            if headings != crawl.visits[url].h1 or not headings:
                problems.append(f"{path}: headings {headings} (with JavaScript: "
                                f"{crawl.visits[url].h1})")
            keys = _key_texts(urlsplit(path).path, history, statuses)
            checked += bool(keys)
            problems += [f"{path}: {key!r} not shown" for key in keys if key not in main]
            if not main.strip():
                problems.append(f"{path}: an empty <main>")
    finally:
        made.close()
    assert not problems, _problems(problems)
    assert checked >= 7, "the flows, the trails and the ledger were all checked"

