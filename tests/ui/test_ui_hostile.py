"""The web UI under attack, over real HTTP on 127.0.0.1: hostile values everywhere a report
can carry them (descriptions, annotations, JUnit names, evidence file names, commit messages
and authors, running artifacts' names, allowlist reasons) on every page, badge and download;
the shell commands a page shows; one organisation's reader against another's new pages; the
login's CSRF guard, cookie and token; bad query parameters; the security headers on every
kind of answer; and the work a request's parameters can make the server do.

Each property that holds has a test that keeps it held; each that does not is a strict
``xfail`` naming the defect, so the file stays green until the defect is fixed (and then
fails, to have the mark removed).
"""

from __future__ import annotations

import glob
import hashlib
import html
import json
import os
import re
import shlex
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests

from tests.helpers import (
    SHOP_JUNIT_TEMPLATE,
    Cli,
    Home,
    Result,
    clear_environment,
    counted_loads,
    run_cli,
)
from tests.server.threaded import ThreadedApp, ThreadedServer
from tests.ui.crawl import crawl

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
CORE = ('<script>alert(1)</script>"><img src=x onerror=alert(2)> javascript:alert(3) '
        "../%2F")
"""The hostile text every free-text field carries (with a newline and an RTL override)."""
HOSTILE = CORE + "\n\u202eRTL"
ONE_LINE = HOSTILE.replace("\n", " ")
SECRET = "acme-secret-6f1d2b"
"""In every description of organisation acme: never in an answer to another organisation."""
FLOW = "f.x~-_" + "a" * 100  # every punctuation a name allows, and long
TRAIL = "t~.-_"
EVIDENCE_NAME = 'a"b;c\r\nSet-Cookie: x=1 <script> é ü.txt'
TEMPLATE = SHOP_JUNIT_TEMPLATE
POLICY = """\
_schema: https://kosli.com/schemas/policy/environment/v1
artifacts:
  provenance:
    required: true
"""


def fp(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


APP, VENDOR, LONG_NAMED = fp("app"), fp("vendor"), fp("long")


# -- the hostile history ---------------------------------------------------------------------

@dataclass(frozen=True)
class History:
    folder: Path
    orgs: Path
    """``{org}.db`` ledgers: ``acme`` (the hostile history), ``default`` (one flow)."""
    sha: str
    weird: Path
    """A ledger whose path a shell would read as code (``affidavit ui --ledger``)."""

    @property
    def url(self) -> str:
        return f"sqlite:///{self.orgs / 'acme.db'}"

    @property
    def per_org(self) -> str:
        return f"sqlite:///{self.orgs}/{{org}}.db"


def _run(*args: Any) -> Result:
    """``affidavit ARGS`` in this process, which must succeed."""
    result = run_cli(*args)
    assert result.code == 0, result
    return result


def _git_repo(folder: Path) -> str:
    """A repository whose one commit has a hostile message and author: its SHA."""
    folder.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": ONE_LINE,
           "GIT_AUTHOR_EMAIL": "a@example.com", "GIT_COMMITTER_NAME": "c",
           "GIT_COMMITTER_EMAIL": "c@example.com", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m",
                                  f"{HOSTILE}\n\nbody {HOSTILE}"]):
        subprocess.run(["git", *args], cwd=folder, env=env, check=True)  # noqa: S607
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True,  # noqa: S607
                          text=True, check=True).stdout.strip()


def _record(folder: Path, sha: str) -> None:
    """Organisation acme's history: every free-text field hostile."""
    (folder / "t.yml").write_text(TEMPLATE)
    (folder / "p.yml").write_text(POLICY)
    escaped = html.escape(HOSTILE, quote=True)
    (folder / "j.xml").write_text(
        f'<testsuite name="s" tests="2" failures="1"><testcase classname="{escaped}" '
        f'name="{escaped}"><failure message="{escaped}">{escaped}</failure></testcase>'
        '<testcase classname="c" name="ok"/></testsuite>')
    evidence = folder / "evidence"
    evidence.mkdir()
    (evidence / EVIDENCE_NAME).write_text("evidence\n")
    _run("create", "flow", FLOW, "--description", f"{SECRET} {HOSTILE}", "--template-file",
         folder / "t.yml")
    _run("begin", "trail", TRAIL, "--flow", FLOW, "--description",
         "A" * 20_000 + f"{SECRET} {HOSTILE}")
    _run("attest", "artifact", "--fingerprint", APP, "--flow", FLOW, "--trail", TRAIL,
         "--name", "app", "--commit", sha, "--origin-url", "javascript:alert(5)",
         "--annotate", f"k<b>={HOSTILE}")
    _run("attest", "junit", "--flow", FLOW, "--trail", TRAIL, "--name", "unit",
         "--fingerprint", APP, "--results", folder / "j.xml", "--annotate",
         f"note={HOSTILE}", "--attachments", evidence / EVIDENCE_NAME)
    _run("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "review",
         "--compliant", "false", "--origin-url", "javascript:alert(6)", "--commit", sha)
    _run("create", "environment", "prod", "--type", "server", "--description",
         f"{SECRET} {HOSTILE}")
    _run("create", "policy", "pol", "--file", folder / "p.yml", "--description", HOSTILE)
    _run("attach", "policy", "pol", "--environment", "prod")
    _run("allow", "artifact", VENDOR, "--environment", "prod", "--reason", HOSTILE)
    running = [{"name": HOSTILE, "fingerprint": APP},
               {"name": "../../" + CORE, "fingerprint": VENDOR},
               {"name": "c" * 1024, "fingerprint": LONG_NAMED}]
    (folder / "s1.json").write_text(json.dumps(running))
    _run("snapshot", "json", "prod", "--file", folder / "s1.json")
    (folder / "s2.json").write_text(json.dumps([{"name": HOSTILE, "fingerprint": VENDOR}]))
    _run("snapshot", "json", "prod", "--file", folder / "s2.json")
    _run("create", "environment", "all", "--type", "logical", "--description",
         f"{SECRET} {HOSTILE}")
    _run("join", "environment", "all", "--physical", "prod")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    folder = tmp_path_factory.mktemp("hostile")
    orgs = folder / "orgs"
    orgs.mkdir()
    weird = folder / "we ird'$(touch PWNED);`touch PWNED2`\"" / "l.db"
    weird.parent.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        clear_environment(patch)
        patch.setenv("AFFIDAVIT_CACHE_DIR", str(folder / "cache"))
        sha = _git_repo(folder / "repo")
        patch.chdir(folder / "repo")  # --commit reads the commit from the checkout here
        patch.setenv("AFFIDAVIT_LEDGER", f"sqlite:///{orgs / 'acme.db'}")
        _record(folder, sha)
        patch.setenv("AFFIDAVIT_LEDGER", f"sqlite:///{orgs / 'default.db'}")
        _run("create", "flow", "public-flow")
        _run("begin", "trail", "p1", "--flow", "public-flow")
        _run("create", "flow", "weird-flow", "--ledger", weird)
    return History(folder=folder, orgs=orgs, sha=sha, weird=weird)


@pytest.fixture(scope="module")
def site(history: History) -> Iterator[ThreadedServer]:
    with ThreadedServer(history.url) as running:
        yield running


def _tokens(folder: Path, *grants: tuple[str, str]) -> tuple[str, list[str]]:
    from affidavit.server.tokens import TokenStore

    path = str(folder / f"tokens-{os.urandom(4).hex()}.db")
    store = TokenStore(path)
    try:
        return path, [store.create(org, scope) for org, scope in grants]
    finally:
        store.close()


def _get(url: str, **options: Any) -> requests.Response:
    return requests.get(url, timeout=60, allow_redirects=False, **options)


def _session(token: str) -> requests.Session:
    session = requests.Session()
    session.cookies.set("affidavit_session", token)
    return session


@pytest.fixture
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn does not log the traceback of an exception a route raised: Python 3.11 formats
    one with ``ast.parse``, which is not safe beside pytest's own in the test's thread
    (``SystemError: AST constructor recursion depth mismatch``)."""
    import logging

    monkeypatch.setattr(logging.getLogger("uvicorn.error"), "disabled", True)


# -- reading what a page is made of ----------------------------------------------------------

_TAGS = {"html", "head", "meta", "title", "link", "body", "header", "nav", "a", "form",
         "label", "input", "button", "main", "h1", "h2", "p", "code", "dl", "dt", "dd",
         "span", "table", "thead", "tbody", "tr", "th", "td", "ul", "ol", "li", "img",
         "details", "summary", "pre", "section", "strong", "em", "time", "svg", "line",
         "text", "rect", "select", "option", "footer", "div", "br"}
"""Every element the templates make: anything else on a page came from a value."""


class _Page(HTMLParser):
    """A page's elements, attributes, links and visible text (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.links: list[str] = []
        """Where the page's links and images go (a form's action is not fetched bare)."""
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append(value)

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(body: str) -> _Page:
    page = _Page()
    page.feed(body)
    page.close()
    return page


def _inert(url: str, body: str) -> _Page:
    """``body`` holds only the templates' elements, no handler, no script URL, no link away."""
    page = _parse(body)
    for tag, attrs in page.tags:
        assert tag in _TAGS, f"{url}: a <{tag}> element"
        for name, value in attrs:
            assert not name.startswith("on") and name != "style", f"{url}: <{tag} {name}=>"
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                assert value is not None and (value.startswith("#") or (
                    value.startswith("/") and not value.startswith("//"))), (
                    f"{url}: <{tag} {name}={value!r}>")
    return page


def _secure(answer: requests.Response, what: str) -> None:
    assert answer.headers.get("content-security-policy") == CSP, what
    assert answer.headers.get("x-content-type-options") == "nosniff", what
    assert answer.headers.get("referrer-policy") == "no-referrer", what


def _error_page(answer: requests.Response, what: str, longest: int = 300) -> None:
    """A 4xx page of the UI: HTML, the headers, one short line saying why, no trace."""
    assert 400 <= answer.status_code < 500, f"{what}: {answer.status_code}"
    assert answer.headers["content-type"].startswith("text/html"), what
    _secure(answer, what)
    assert "Traceback" not in answer.text and "Error:" not in answer.text, what
    _inert(what, answer.text)
    messages = re.findall(r'<p class="message[^"]*"[^>]*>(.*?)</p>', answer.text, re.S)
    assert len(messages) == 1, what
    assert "\n" not in messages[0], what
    assert len(html.unescape(messages[0])) < longest, (what, len(messages[0]))


# -- 1. hostile values ---------------------------------------------------------------------------

def test_hostile_values_are_text_on_every_page(site: ThreadedServer, history: History) -> None:
    """Every page reached from ``/`` holds only the templates' markup, and each hostile value
    is on it as text, whole: escaped, not dropped."""
    seen = crawl(site.url)
    texts: dict[str, str] = {}
    for url, answer in seen.items():
        if answer.headers["content-type"].startswith("text/html"):
            texts[urlsplit(url).path + ("?" + urlsplit(url).query if urlsplit(url).query
                                        else "")] = "".join(_inert(url, answer.text).text)
    flow, trail = quote(FLOW, safe=""), quote(TRAIL, safe="")
    shown_on = {
        "/": [CORE],  # the flow's description
        f"/flows/{flow}": [CORE],
        f"/flows/{flow}/trails/{trail}": [
            "A" * 20_000 + f"{SECRET} {CORE}",  # the trail's description, whole
            f"note{HOSTILE}",  # an annotation (a <dt> and its <dd>)
            # a failed JUnit case's class name, name and message (XML reads a newline in an
            # attribute as a space)
            " ".join([ONE_LINE, ONE_LINE + ":", ONE_LINE]),
            EVIDENCE_NAME],  # an evidence file's name, the link's text
        # the commit and its message (git drops <> from the author); the running name
        f"/artifacts/{APP}": [history.sha, f"{HOSTILE}\n\nbody <script>", HOSTILE],
        "/environments": [CORE],
        "/environments/prod": [CORE],
        "/environments/prod/snapshots/1": [HOSTILE, "../../" + CORE, "c" * 1024,
                                           f"allowlisted: {HOSTILE}"],
        "/environments/prod/diff?from=1&to=2": [HOSTILE],
    }
    for path, values in shown_on.items():
        assert path in texts, f"the crawl did not reach {path}"
        for value in values:
            assert value in texts[path], f"{path}: {value[:60]!r} is not shown as text"
    assert {p for p in texts if p.startswith("/environments/prod/metrics")}


_NAMES = [CORE, '"><img src=x onerror=alert(2)>', "javascript:alert(1)", "../../etc",
          "..%2F..%2Fetc", "a\nb", "a\r\nSet-Cookie: x=1", "x\u202ey", "A" * 5000, "%00", "\x00",
          "prod#1#2", "é"]
_ROUTES = ["/flows/{x}", "/flows/{x}/trails/{x}", "/flows/{x}/trails/{x}/log",
           "/flows/{x}/trails/{x}/package.zip", "/flows/{x}/trails/{x}/evidence/" + "0" * 64,
           "/artifacts/{x}", "/environments/{x}", "/environments/{x}/snapshots/latest",
           "/environments/{x}/snapshots/1", "/environments/{x}/diff?from=1&to=2",
           "/environments/{x}/metrics", "/badge/{x}.svg", "/badge/{x}/{x}.svg"]


@pytest.mark.parametrize("route", _ROUTES)
def test_a_hostile_name_in_the_path_is_a_4xx_page(site: ThreadedServer, route: str) -> None:
    """Names no report could have (the UI never links to them) are refused as not found or
    bad, with the page's headers, and what is echoed of them is text."""
    for name in _NAMES:
        url = site.url + route.replace("{x}", quote(name, safe=""))
        answer = _get(url)
        if answer.headers["content-type"].startswith("image/svg+xml"):
            assert answer.status_code == 404 and b"not found" in answer.content, url
            _secure(answer, url)
        else:
            _error_page(answer, url, longest=12_000 if "A" * 5000 in name else 300)


@pytest.mark.parametrize("route", [r for r in _ROUTES if "badge" not in r and "artifacts" not in r])
def test_a_404_page_does_not_repeat_a_long_name_whole(site: ThreadedServer, route: str) -> None:
    url = site.url + route.replace("{x}", "A" * 5000)
    _error_page(_get(url), url)


def test_badges_are_svg_documents_of_fixed_words(site: ThreadedServer) -> None:
    """A badge is an SVG document: only its own elements, no script, no link, no handler,
    and no value from a report (a name in the path is never echoed into it)."""
    ns = "{http://www.w3.org/2000/svg}"
    words = {"affidavit", "compliant", "non-compliant", "incomplete", "no policy",
             "not found"}
    badges = [u for u in crawl(site.url) if "/badge/" in u]
    assert len(badges) >= 3
    names = [quote(n, safe="") for n in (CORE, HOSTILE, "a" * 2000, "..", "%2F")]
    badges += [f"{site.url}/badge/{n}.svg" for n in names]
    badges += [f"{site.url}/badge/{quote(FLOW, safe='')}/{n}.svg" for n in names]
    for url in badges:
        answer = _get(url)
        assert answer.status_code in (200, 404), url
        if answer.headers["content-type"].startswith("text/html"):  # "/" in it: no badge
            _error_page(answer, url)
            continue
        assert answer.headers["content-type"].startswith("image/svg+xml"), url
        _secure(answer, url)
        root = ET.fromstring(answer.content)
        assert root.tag == ns + "svg", url
        for element in root.iter():
            assert element.tag in {ns + t for t in ("svg", "title", "rect", "g", "text")}, url
            for attribute in element.attrib:
                assert not attribute.lower().startswith("on") and "href" not in attribute, url
        said = {t.text for t in root.iter(ns + "text")}
        assert said <= words, (url, said)
        assert "script" not in answer.text.lower() and "onerror" not in answer.text, url


def test_download_names_cannot_inject_a_header(site: ThreadedServer) -> None:
    """The evidence file named ``a"b;c\\r\\nSet-Cookie: …`` and the package of a trail with
    every punctuation a name allows download under plain ASCII names, in one header."""
    downloads = [u for u in crawl(site.url) if "/evidence/" in u or u.endswith(".zip")]
    assert len(downloads) >= 2
    for url in downloads:
        answer = _get(url)
        disposition = answer.headers["content-disposition"]
        assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]{1,204}"', disposition), (
            disposition)
        assert "set-cookie" not in answer.headers, url
        assert answer.headers["content-type"] in ("application/octet-stream",
                                                  "application/zip"), url
        _secure(answer, url)


def _commands(body: str) -> list[list[str]]:
    """Each line of each ``<pre class="cmd">`` as a shell would split it."""
    blocks = re.findall(r'<pre class="cmd">(.*?)</pre>', body, re.S)
    assert blocks
    return [shlex.split(line) for block in blocks for line in html.unescape(block).splitlines()]


def _run_as_printf(command: list[str], cwd: Path) -> list[str]:
    """What ``sh`` passes to the command the page shows (its program swapped for printf)."""
    line = "printf '[%s]\\n' " + shlex.join(command[1:])
    out = subprocess.run(["sh", "-c", line], cwd=cwd, capture_output=True, text=True,  # noqa: S607
                         check=True).stdout
    return re.findall(r"\[(.*?)\]\n", out, re.S)


def test_the_commands_a_page_shows_are_shell_words(site: ThreadedServer, history: History,
                                                   tmp_path: Path) -> None:
    """Copied into a shell, the trail page's and the ledger page's commands pass the names,
    the file name and the ledger URL as the words they are, even when the ledger's path or
    the request's Host is made to read as shell code."""
    trail = _get(f"{site.url}/flows/{quote(FLOW, safe='')}/trails/{quote(TRAIL, safe='')}")
    (command,) = _commands(trail.text)
    assert command == ["affidavit", "evidence", "package", "--flow", FLOW, "--trail", TRAIL,
                       "-o", f"{FLOW}-{TRAIL}.zip", "--ledger", site.url]
    hostile_host = "x'$(id);y"  # what Starlette takes of a Host header that is shell code
    ledger = _get(site.url + "/ledger", headers={"Host": hostile_host})
    assert ledger.status_code == 200
    for command in _commands(ledger.text):
        if "--ledger" in command:
            assert command[command.index("--ledger") + 1] == f"http://{hostile_host}"
            assert _run_as_printf(command, tmp_path)[-1] == f"http://{hostile_host}"
    from affidavit.server.ui_command import create_ui_app

    with ThreadedApp(create_ui_app(str(history.weird))) as viewer:
        page = _get(viewer.url + "/ledger")
        assert page.status_code == 200
        for command in _commands(page.text):
            if "--ledger" in command:
                assert command[command.index("--ledger") + 1] == str(history.weird)
                assert _run_as_printf(command, tmp_path)[-1] == str(history.weird)
    assert not list(tmp_path.glob("PWNED*"))


# -- 2. organisations ----------------------------------------------------------------------------

def _new_routes() -> list[str]:
    flow, trail = quote(FLOW, safe=""), quote(TRAIL, safe="")
    return [f"/artifacts/{APP}", f"/artifacts/{VENDOR}", "/environments/prod",
            "/environments/all", "/environments/prod/snapshots/1",
            "/environments/prod/snapshots/latest", "/environments/all/snapshots/latest",
            "/environments/prod/diff?from=1&to=2", "/environments/prod/metrics",
            f"/flows/{flow}", f"/flows/{flow}/trails/{trail}", f"/flows/{flow}/trails/{trail}/log",
            f"/flows/{flow}/trails/{trail}/package.zip", "/badge/prod.svg", "/badge/all.svg",
            f"/badge/{flow}/{trail}.svg"]


def test_another_organisations_new_pages_are_not_found(history: History,
                                                       tmp_path: Path) -> None:
    """Globex's reader gets a 404 for every page of acme's names (the answer a name that does
    not exist gets), and the listings and search show it nothing of acme's."""
    tokens, (acme, globex) = _tokens(tmp_path, ("acme", "read"), ("globex", "read"))
    evidence = hashlib.sha256(b"evidence\n").hexdigest()
    flow, trail = quote(FLOW, safe=""), quote(TRAIL, safe="")
    with ThreadedServer(history.per_org, tokens=tokens) as running:
        mine, theirs = _session(acme), _session(globex)
        routes = [*_new_routes(), f"/flows/{flow}/trails/{trail}/evidence/{evidence}"]
        for route in routes:
            assert mine.get(running.url + route, timeout=60).status_code == 200, route
            answer = theirs.get(running.url + route, timeout=60, allow_redirects=False)
            assert answer.status_code == 404, route
            assert SECRET not in answer.text and history.sha not in answer.text, route
        for route in ("/", "/environments", f"/search?q={APP[:8]}", f"/search?q={APP}",
                      f"/search?q={history.sha}", f"/search?q={VENDOR[:6]}", "/ledger"):
            answer = theirs.get(running.url + route, timeout=60)
            assert answer.status_code == 200, route
            for secret in (SECRET, FLOW, "prod", "/artifacts/", "/flows/"):
                assert secret not in answer.text, (route, secret)
            if route.startswith("/search"):
                assert "Nothing has" in answer.text and "<table>" not in answer.text, route
        assert SECRET in mine.get(running.url + "/environments", timeout=60).text


def test_a_token_of_another_organisation_reads_nothing_on_a_single_ledger_server(
        history: History, tmp_path: Path) -> None:
    tokens, (other,) = _tokens(tmp_path, ("globex", "read"))
    with ThreadedServer(history.url, tokens=tokens) as running:
        api = _get(running.url + "/api/v1/ledger/lookup?key=x",
                   headers={"Authorization": f"Bearer {other}"})
        assert api.status_code == 404  # the API: not this organisation's server
        login = requests.post(running.url + "/login", data={"token": other}, timeout=60,
                              allow_redirects=False)
        page = _session(other).get(running.url + "/environments", timeout=60,
                                   allow_redirects=False)
        assert login.status_code == 401 and "set-cookie" not in login.headers
        assert page.status_code != 200 and SECRET not in page.text


# -- 3. login, cookie, token, public read --------------------------------------------------------

def test_login_and_logout_refuse_other_sites_and_the_token_stays_in_its_cookie(
        history: History, tmp_path: Path) -> None:
    tokens, (token,) = _tokens(tmp_path, ("acme", "read"))
    with ThreadedServer(history.per_org, tokens=tokens) as running:
        for origin in ("https://evil.example", "null", f"http://127.0.0.1:{running.port + 1}",
                       f"http://127.0.0.1:{running.port}.evil.example"):
            refused = requests.post(running.url + "/login", data={"token": token},
                                    headers={"Origin": origin}, timeout=60,
                                    allow_redirects=False)
            assert refused.status_code == 403 and "set-cookie" not in refused.headers, origin
            _error_page(refused, origin)
            forced = _session(token).post(running.url + "/logout", headers={"Origin": origin},
                                          timeout=60, allow_redirects=False)
            assert forced.status_code == 403 and "set-cookie" not in forced.headers, origin
        login = requests.post(running.url + "/login", data={"token": f"  {token}\n"},
                              headers={"Origin": running.url}, timeout=60,
                              allow_redirects=False)
        assert login.status_code == 303 and login.headers["location"] == "/"
        flags = {part.strip().lower() for part in login.headers["set-cookie"].split(";")}
        assert {"httponly", "samesite=strict", "path=/"} <= flags and "secure" not in flags
        assert not any(f.startswith(("domain=", "expires=", "max-age=")) for f in flags)
        form = _get(running.url + "/login")
        fields = {dict(attrs).get("name"): dict(attrs) for tag, attrs in _parse(form.text).tags
                  if tag == "input"}
        assert fields["token"]["type"] == "password" and fields["token"]["autocomplete"] == "off"
        assert 'method="post" action="/login"' in form.text
        # the token is in no URL, no page, no header of any answer (but the cookie it set)
        session = _session(token)
        for url, answer in crawl(running.url, session).items():
            assert token not in url and token not in answer.headers.get("location", "")
            if "zip" not in answer.headers["content-type"]:
                assert token not in answer.text, url
            assert "set-cookie" not in answer.headers, url
        assert _get(f"{running.url}/?token={token}").status_code == 303  # no login by URL
        out = session.post(running.url + "/logout", timeout=60, allow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert "max-age=0" in out.headers["set-cookie"].lower()
        _secure(out, "logout")


def test_a_revoked_token_stops_reading_at_once(history: History, tmp_path: Path) -> None:
    tokens, (token,) = _tokens(tmp_path, ("acme", "read"))
    with ThreadedServer(history.per_org, tokens=tokens) as running:
        session = _session(token)
        assert session.get(running.url + "/environments", timeout=60).status_code == 200
        with sqlite3.connect(tokens) as db:
            db.execute("DELETE FROM tokens")
        gone = session.get(running.url + "/environments/prod", timeout=60,
                           allow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"] == "/login"
        _secure(gone, "revoked")


def test_public_read_shows_the_default_organisation_only(history: History,
                                                         tmp_path: Path) -> None:
    tokens, _ = _tokens(tmp_path, ("acme", "read"), ("default", "read"))
    with ThreadedServer(history.per_org, tokens=tokens, public_read=True) as running:
        page = _get(running.url + "/")
        assert page.status_code == 200 and "public-flow" in page.text
        for route in _new_routes():
            answer = _get(running.url + route)
            assert answer.status_code == 404, route
            assert SECRET not in answer.text and history.sha not in answer.text, route
        for route in ("/orgs/acme/", "/orgs/acme/environments", "/api/v1/orgs/acme/flows"):
            answer = _get(running.url + route)
            assert answer.status_code in (401, 404) and SECRET not in answer.text, route
        assert _get(running.url + "/api/v1/flows").status_code == 401  # the API wants tokens
    only, _ = _tokens(tmp_path, ("acme", "read"))
    with ThreadedServer(history.per_org, tokens=only, public_read=True) as running:
        # no organisation default among the tokens': public read shows nothing, asks to log in
        for route in ("/", *_new_routes()):
            answer = _get(running.url + route)
            assert answer.status_code == 303 and answer.headers["location"] == "/login", route


# -- 4. bad query parameters ---------------------------------------------------------------------

_F = quote(FLOW, safe="")
REFUSED = [
    f"/flows/{_F}?page=0", f"/flows/{_F}?page=-1", f"/flows/{_F}?page=x", f"/flows/{_F}?page=",
    f"/flows/{_F}?page=1.5", f"/flows/{_F}?page=99999999999", f"/flows/{_F}?page=2",
    "/environments/prod/metrics?weeks=0", "/environments/prod/metrics?weeks=105",
    "/environments/prod/metrics?weeks=-1", "/environments/prod/metrics?weeks=",
    "/environments/prod/metrics?weeks=99999999999999999999", "/environments/prod/metrics?weeks=1e3",
    "/environments/prod/metrics?until=2026-02-29", "/environments/prod/metrics?until=2026-13-01",
    "/environments/prod/metrics?until=0000-01-01", "/environments/prod/metrics?until=2026-1-1",
    "/environments/prod/metrics?until=2026-02-28T00:00Z", "/environments/prod/metrics?until=x",
    "/environments/prod/metrics?until=" + "9" * 5000,
    "/environments/prod/diff", "/environments/prod/diff?from=1", "/environments/prod/diff?to=1",
    "/environments/prod/diff?from=&to=", "/environments/prod/diff?from=-1&to=2",
    "/environments/prod/diff?from=1&to=99999999999", "/environments/prod/diff?from=x&to=1",
    "/environments/prod/diff?from=1&to=2147483647", "/environments/all/diff?from=1&to=1",
    "/environments/prod/snapshots/0", "/environments/prod/snapshots/-1",
    "/environments/prod/snapshots/x", "/environments/prod/snapshots/3",
    "/environments/prod/snapshots/99999999999",
    "/search?q=" + "a" * 10_000, "/search?q=zzzz", "/search?q=abc", "/search?q=%EF%BC%A1BCD",
    "/search?q=%00%00%00%00", "/search?q=%C4%B0%C4%B0%C4%B0%C4%B0", "/search?q=" + quote(CORE),
    "/?without=" + "a" * 10_000, "/?without=" + quote(CORE), "/?without=a%0D%0Ab",
    "/?without=a%E2%80%AE", "/?without=..%2F..%2Fx", "/?without=-x",
    f"/artifacts/{APP.upper()}", f"/artifacts/{APP[:63]}", f"/artifacts/{APP}0",
    f"/artifacts/{fp('never')}", "/flows/x/trails/y/evidence/" + "A" * 64,
    "/environments/prod%231/diff?from=1&to=2",
]


@pytest.mark.parametrize("path", REFUSED)
def test_a_bad_parameter_is_a_4xx_page(site: ThreadedServer, path: str) -> None:
    started = time.perf_counter()
    answer = _get(site.url + path)
    assert time.perf_counter() - started < 10, path
    _error_page(answer, path)


@pytest.mark.parametrize("path", [
    "/environments/prod/metrics?until=0001-01-01", "/environments/prod/metrics?until=9999-12-31",
    "/environments/prod/metrics?weeks=104&until=0001-01-20",
    "/environments/prod/metrics?weeks=104&until=9999-12-31",
    "/environments/prod/diff?from=2&to=1", "/search?q=ABCD", "/search?q=%20abcd%20",
    "/environments/prod@%7B99999999999999.weeks.ago%7D/snapshots/latest",
])
def test_an_odd_but_valid_parameter_is_answered(site: ThreadedServer, path: str) -> None:
    answer = _get(site.url + path)
    assert answer.status_code in (200, 404), path
    _secure(answer, path)
    _inert(path, answer.text)


@pytest.mark.parametrize("path", [
    f"/flows/{_F}?page=%C2%B2", f"/flows/{_F}?page=" + "1" * 5000,
    "/environments/prod/metrics?weeks=%C2%B2", "/environments/prod/metrics?weeks=" + "9" * 5000,
    "/environments/prod/diff?from=%C2%B2&to=1", "/environments/prod/diff?from=1&to=" + "1" * 5000,
    "/environments/prod/snapshots/%C2%B2", "/environments/prod/snapshots/" + "1" * 5000,
])
def test_digits_int_cannot_read_are_a_4xx_page(site: ThreadedServer, path: str,
                                               quiet: None) -> None:
    answer = _get(site.url + path)
    _get(site.url + "/healthz")  # the server is done with the request (and its log)
    _error_page(answer, path)


@pytest.mark.parametrize("path", [
    "/environments/prod%23" + "1" * 5000 + "/snapshots/latest",
    "/environments/prod@%7B" + "9" * 5000 + ".weeks.ago%7D/snapshots/latest",
])
def test_an_address_in_the_environment_name_is_refused(site: ThreadedServer, path: str) -> None:
    _error_page(_get(site.url + path), path)


def test_latest_of_a_name_that_is_not_an_environment_is_not_found(site: ThreadedServer) -> None:
    assert _get(site.url + "/environments/prod~1").status_code == 404
    for name in ("prod~1", "prod%231"):
        answer = _get(f"{site.url}/environments/{name}/snapshots/latest")
        assert answer.status_code == 404, name


# -- 5. the security headers on every answer -----------------------------------------------------

def test_every_kind_of_answer_carries_the_security_headers(
        site: ThreadedServer, history: History, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {url: answer for url, answer in crawl(site.url).items()}
    kinds = {a.headers.get("content-type", "").split(";")[0] for a in answers.values()}
    assert {"text/html", "image/svg+xml", "text/css", "application/zip",
            "application/octet-stream"} <= kinds
    for path in ("/nope", "/flows/nope", "/badge/nope.svg", "/badge/x/nope.svg",
                 "/search?q=zz", "/environments/prod/diff", "/login"):
        answers[path] = _get(site.url + path)
    from affidavit.api import environments

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("unforeseen")

    monkeypatch.setattr(environments, "list_environments", broken)
    answers["500"] = _get(site.url + "/environments")
    assert answers["500"].status_code == 500 and "unforeseen" not in answers["500"].text
    tokens, (token,) = _tokens(tmp_path, ("default", "read"))
    with ThreadedServer(history.url, tokens=tokens) as guarded:
        answers["to login"] = _get(guarded.url + "/environments")
        answers["badge to login"] = _get(guarded.url + "/badge/prod.svg")
        answers["login 401"] = requests.post(guarded.url + "/login", data={"token": "afv_x"},
                                             timeout=60, allow_redirects=False)
        answers["login 303"] = requests.post(guarded.url + "/login", data={"token": token},
                                             timeout=60, allow_redirects=False)
        answers["logout 303"] = requests.post(guarded.url + "/logout", timeout=60,
                                              allow_redirects=False)
    assert answers["to login"].status_code == 303
    for what, answer in answers.items():
        _secure(answer, what)
        if answer.headers.get("content-type", "").startswith("text/html"):
            assert answer.headers.get("cache-control") == "no-store", what


def test_a_trailing_slash_redirect_carries_the_headers(site: ThreadedServer) -> None:
    for path in ("/environments/", "/environments/prod/", f"/flows/{_F}/"):
        answer = _get(site.url + path)
        _secure(answer, path)


def test_other_refusals_on_ui_paths_are_ui_pages(history: History, tmp_path: Path) -> None:
    tokens, _ = _tokens(tmp_path, ("default", "read"))
    with ThreadedServer(history.url, tokens=tokens) as running:
        answers = [requests.post(running.url + "/", timeout=60),
                   requests.get(running.url + "/logout", timeout=60, allow_redirects=False),
                   requests.delete(running.url + "/login", timeout=60),
                   requests.post(running.url + "/login", files={"token": ("t", b"x")},
                                 timeout=60),
                   requests.post(running.url + "/login", timeout=60,
                                 data={f"k{n}": "v" for n in range(10)})]
        for answer in answers:
            _error_page(answer, f"{answer.request.method} {answer.request.url}")


def test_downloads_are_not_cached(site: ThreadedServer) -> None:
    downloads = [u for u in crawl(site.url) if "/evidence/" in u or u.endswith(".zip")]
    for url in downloads:
        assert "no-store" in _get(url).headers.get("cache-control", ""), url


def test_the_local_viewer_refuses_a_foreign_host(history: History) -> None:
    from affidavit.server.ui_command import create_ui_app

    with ThreadedApp(create_ui_app(history.url)) as viewer:
        assert _get(viewer.url + "/environments").status_code == 200
        rebound = _get(viewer.url + "/environments", headers={"Host": "attacker.example"})
        assert rebound.status_code in (400, 403, 421) and SECRET not in rebound.text


# -- 6. resource use -----------------------------------------------------------------------------

def _environment_of(home: Home, snapshots: int) -> None:
    """Environment ``prod`` with ``snapshots`` snapshots an hour apart, three artifacts each."""
    from affidavit import canonical
    from affidavit.ledger.sqlite import SQLiteLedger
    from affidavit.models import build

    ledger = SQLiteLedger(home.url, create=True)
    try:
        ledger.init()
        batch = [build.entry("environment", build.environment(name="prod", type="server"))]
        end = time.time()
        for k in range(snapshots):
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end - (snapshots - k) * 3600))
            artifacts = [build.running_artifact(name=f"app{j}", fingerprint=fp(f"{k}-{j}"))
                         for j in range(3)]
            batch.append(build.entry("snapshot", build.snapshot(
                environment="prod", source="json", artifacts=artifacts), time=stamp))
        ledger.append([canonical.dumps(e) for e in batch], batch)
    finally:
        ledger.close()


def test_the_widest_metrics_chart_is_bounded_work(home: Home) -> None:
    """104 weeks (the most) over 600 snapshots: one read of the history, in well under the
    time a page may take; the parameters allow nothing wider."""
    _environment_of(home, 600)
    with ThreadedServer(home.url) as running:
        started = time.perf_counter()
        answer = _get(running.url + "/environments/prod/metrics?weeks=104")
        took = time.perf_counter() - started
        assert answer.status_code == 200 and answer.text.count("<rect") == 4 * 104
        assert took < 10, f"weeks=104 over 600 snapshots took {took:.1f}s"
        for wider in ("105", "1000", "366"):
            assert _get(f"{running.url}/environments/prod/metrics?weeks={wider}"
                        ).status_code == 404


def test_an_abandoned_download_leaves_no_copy_behind(cli: Cli, tmp_path: Path,
                                                     home: Home,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Evidence and packages are copied to a temporary folder to be sent: a client that
    hangs up after the first bytes leaves none of them on the server's disk."""
    scratch = tmp_path / "server-tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(8 << 20))
    for args in (("create", "flow", "f"), ("begin", "trail", "t", "--flow", "f"),
                 ("attest", "generic", "--flow", "f", "--trail", "t", "--name", "g",
                  "--attachments", big)):
        assert cli(*args).code == 0
    digest = hashlib.sha256(big.read_bytes()).hexdigest()
    with ThreadedServer(home.url) as running:
        for path in (f"/flows/f/trails/t/evidence/{digest}", "/flows/f/trails/t/package.zip"):
            for _ in range(3):
                with socket.create_connection(("127.0.0.1", running.port), timeout=30) as sock:
                    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                    assert sock.recv(100).startswith(b"HTTP/1.1 200")
        deadline = time.monotonic() + 10
        while glob.glob(str(scratch / "affidavit-ui-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not glob.glob(str(scratch / "affidavit-ui-*"))
        complete = _get(running.url + f"/flows/f/trails/t/evidence/{digest}")
        assert complete.content == big.read_bytes()
    assert not glob.glob(str(scratch / "affidavit-ui-*"))
    shutil.rmtree(scratch)


def _flow_of(home: Home, trails: int) -> None:
    from affidavit import canonical
    from affidavit.ledger.sqlite import SQLiteLedger
    from affidavit.models import build

    ledger = SQLiteLedger(home.url, create=True)
    try:
        ledger.init()
        batch = [build.entry("flow", build.flow(name="big"))]
        batch += [build.entry("trail", build.trail(flow="big", name=f"t{t:05d}"))
                  for t in range(trails)]
        ledger.append([canonical.dumps(e) for e in batch], batch)
    finally:
        ledger.close()


def test_a_filtered_listing_asked_again_reads_no_entry_again(
        home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """``/?without=TYPE`` reads every entry of every flow (the answer is about all of them),
    on the loop every read runs on: asked again and again (anonymously, with --public-read),
    it must cost what the flows page costs -- the entries proven once, not each time."""
    _flow_of(home, 5000)
    loaded = counted_loads(monkeypatch)
    with ThreadedServer(home.url) as running:
        assert _get(running.url + "/?without=sarif").status_code == 200
        assert len(loaded) >= 5000  # the first time: every trail's entry
        loaded.clear()
        for kind in ("sarif", "junit", "snyk"):
            assert _get(running.url + f"/?without={kind}").status_code == 200
        assert loaded == [], f"{len(loaded)} entries read again"


def test_a_page_that_reads_long_holds_up_neither_the_api_nor_other_pages(
        home: Home, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The UI's reads run in worker threads with their own handles: while one page is
    still reading (held here until the rest has answered), the API appends, other pages
    answer and the server says it is alive. On the loop, they would wait for it."""
    from affidavit.api import browse

    ok = cli("create", "flow", "held")
    assert ok.code == 0, str(ok)
    release = threading.Event()
    real = browse.flows

    def slow(source: Any) -> Any:
        assert release.wait(30), "never released"
        return real(source)

    monkeypatch.setattr(browse, "flows", slow)
    with ThreadedServer(home.url) as running:
        answers: dict[str, int] = {}
        held = threading.Thread(target=lambda: answers.update(
            held=requests.get(running.url + "/", timeout=60).status_code))
        held.start()
        try:
            assert requests.get(running.url + "/healthz", timeout=5).status_code == 200
            assert requests.get(running.url + "/flows/held", timeout=5).status_code == 200
            wrote = cli("begin", "trail", "t1", "--flow", "held", "--ledger", running.url)
            assert wrote.code == 0, str(wrote)
            assert held.is_alive(), "the held page answered before it was released"
        finally:
            release.set()
            held.join(30)
        assert answers == {"held": 200}
