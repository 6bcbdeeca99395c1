"""The web UI (issue 16, first slice: server side): every page over HTTP on 127.0.0.1 against a
scripted history, every link resolving, hostile report contents inert, the security headers,
the login cookie, organisations, badges, pagination of a 10k-trail flow, ``affidavit ui``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.helpers import SHOP_JUNIT_TEMPLATE, Cli, Home, copy_of_sources, ok, state, stop_process
from tests.server.threaded import ThreadedServer
from tests.ui.crawl import crawl

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
TEMPLATE = SHOP_JUNIT_TEMPLATE
PASSING = b'<testsuite name="s" tests="1"><testcase classname="c" name="ok"/></testsuite>'
HOSTILE = (b'<testsuite name="s" tests="2" failures="1"><testcase classname="c" '
           b'name="&lt;script&gt;alert(1)&lt;/script&gt;"><failure message="&lt;img src=x '
           b'onerror=alert(4)&gt;">boom</failure></testcase>'
           b'<testcase classname="c" name="ok"/></testsuite>')


@pytest.fixture
def history(cli: Cli, tmp_path: Path) -> dict[str, Any]:
    """Flow ``shop`` (a template: a trail-level generic ``review``, artifact ``app`` with a
    JUnit ``unit``): ``c1`` compliant (signed review, evidence), ``c2`` non-compliant (a
    hostile JUnit report, annotation and description), ``c3`` incomplete; flow ``empty``."""
    (tmp_path / "t.yml").write_text(TEMPLATE)
    ok(cli("create", "flow", "shop", "--template-file", tmp_path / "t.yml",
           "--description", "<b>the shop</b>"))
    ok(cli("create", "flow", "empty"))
    ok(cli("key", "generate", "--out", tmp_path / "sign.pem"))
    (tmp_path / "pass.xml").write_bytes(PASSING)
    (tmp_path / "hostile.xml").write_bytes(HOSTILE)
    (tmp_path / "notes.txt").write_text("release notes\n")
    fingerprints = {}
    for trail in ("c1", "c2", "c3"):
        ok(cli("begin", "trail", trail, "--flow", "shop", "--description",
               "<script>alert(3)</script>" if trail == "c2" else f"build {trail}"))
        if trail == "c3":
            continue
        (tmp_path / f"{trail}.bin").write_text(f"the app of {trail}\n")
        out = ok(cli("attest", "artifact", tmp_path / f"{trail}.bin", "--flow", "shop",
                     "--trail", trail, "--name", "app", "--output", "json")).json()
        fp = fingerprints[trail] = out["entry"]["record"]["fingerprint"]
        report = "pass.xml" if trail == "c1" else "hostile.xml"
        cli("attest", "junit", "--flow", "shop", "--trail", trail, "--name", "unit",
            "--fingerprint", fp, "--results", tmp_path / report,
            "--annotate", "note=<img src=x onerror=alert(2)>")
        ok(cli("attest", "generic", "--flow", "shop", "--trail", trail, "--name", "review",
               "--signing-key", tmp_path / "sign.pem", "--attachments", tmp_path / "notes.txt"))
    keyid = json.loads(ok(cli("get", "attestation", "review", "--flow", "shop", "--trail", "c1",
                              "--output", "json")).out)["record"]["signed_by"]["keyid"]
    return {"fingerprints": fingerprints, "keyid": keyid}


@pytest.fixture
def site(home: Home, history: dict[str, Any]) -> Iterator[ThreadedServer]:
    with ThreadedServer(home.url) as running:
        yield running


def _get(url: str, **options: Any) -> requests.Response:
    return requests.get(url, timeout=30, allow_redirects=False, **options)


def _verdict(cli: Cli, trail: str) -> str:
    return str(json.loads(cli("assert", "trail", trail, "--flow", "shop", "--output",
                              "json").out)["status"])


# -- pages -------------------------------------------------------------------------------------

def test_pages_show_the_judges_verdicts(site: ThreadedServer, history: dict[str, Any],
                                        cli: Cli) -> None:
    verdicts = {t: _verdict(cli, t) for t in ("c1", "c2", "c3")}
    assert verdicts == {"c1": "COMPLIANT", "c2": "NON_COMPLIANT", "c3": "INCOMPLETE"}

    flows = _get(site.url + "/")
    assert flows.status_code == 200 and flows.headers["content-type"].startswith("text/html")
    assert 'href="/flows/shop"' in flows.text and 'href="/flows/empty"' in flows.text
    assert 'href="/flows/shop/trails/c3"' in flows.text  # the latest trail
    assert "INCOMPLETE" in flows.text and "no trails yet" in flows.text
    assert "&lt;b&gt;the shop&lt;/b&gt;" in flows.text

    flow = _get(site.url + "/flows/shop")
    assert flow.status_code == 200 and "3 trails" in flow.text
    rows = re.findall(r'href="/flows/shop/trails/(c\d)">', flow.text)
    assert rows == ["c3", "c2", "c1"]  # the latest first
    for trail, status in verdicts.items():
        page = _get(f"{site.url}/flows/shop/trails/{trail}")
        assert page.status_code == 200
        assert f'<span class="status {"ok" if status == "COMPLIANT" else "bad" if status == "NON_COMPLIANT" else "none"}">{status}</span>' in page.text  # noqa: E501
        assert "affidavit evidence package --flow shop --trail " + trail in page.text
    c1 = _get(site.url + "/flows/shop/trails/c1").text
    assert history["keyid"][:16] in c1 and "notes.txt" in c1
    assert "Why it is not compliant" not in c1
    c2 = _get(site.url + "/flows/shop/trails/c2").text
    assert "Why it is not compliant" in c2 and "1 test failed" in c2
    c3 = _get(site.url + "/flows/shop/trails/c3").text
    assert "MISSING" in c3 and "is missing" in c3  # the slots and the gate's reasons

    ledger = _get(site.url + "/ledger")
    key = ok(cli("ledger", "public-key")).out.strip()
    assert ledger.status_code == 200 and key in ledger.text
    assert f"affidavit verify package package.zip --public-key {key}" in ledger.text
    assert f"--ledger {site.url}" in ledger.text  # a client names the server, not its storage


def test_every_link_on_every_page_resolves(site: ThreadedServer) -> None:
    seen = crawl(site.url)
    paths = {urlsplit(u).path for u in seen}
    assert {"/", "/ledger", "/flows/shop", "/flows/shop/trails/c1", "/static/ui.css",
            "/badge/shop/c2.svg"} <= paths
    evidence = [u for u in seen if "/evidence/" in u]
    assert evidence, "the evidence downloads were crawled"
    for url in evidence:
        answer = seen[url]
        assert answer.headers["content-type"] == "application/octet-stream"
        assert answer.headers["content-disposition"].startswith("attachment")
        assert answer.content == b"release notes\n" or answer.content in (PASSING, HOSTILE)


def test_hostile_report_contents_are_inert(site: ThreadedServer) -> None:
    page = _get(site.url + "/flows/shop/trails/c2").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the JUnit test's name
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in page  # the trail's description
    assert "&lt;img src=x onerror=alert(2)&gt;" in page  # the annotation
    assert "&lt;img src=x onerror=alert(4)&gt;" in page  # the failure message
    lowered = page.lower()
    assert "<script" not in lowered and "<img src=x" not in lowered
    assert "onerror=alert" not in lowered.replace("&lt;img src=x onerror=alert", "")


def test_security_headers_on_every_answer(site: ThreadedServer) -> None:
    urls = [*crawl(site.url), site.url + "/flows/nope", site.url + "/nope",
            site.url + "/badge/shop/nope.svg"]
    for url in urls:
        answer = _get(url)
        assert answer.headers["content-security-policy"] == CSP, url
        assert answer.headers["x-content-type-options"] == "nosniff", url
        assert answer.headers["referrer-policy"] == "no-referrer", url
    assert "<script" not in _get(site.url + "/static/ui.css").text


def test_an_internal_error_is_a_page_with_the_headers_and_no_trace(
        site: ThreadedServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A read that fails in a way nobody foresaw still answers as the UI does: its error page,
    the security headers, no traceback or exception text for the visitor (the log has it)."""
    from affidavit.api import browse

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr(browse, "flows", broken)
    answer = _get(site.url + "/")
    assert answer.status_code == 500
    assert answer.headers["content-security-policy"] == CSP
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "Internal error" in answer.text and "secret detail" not in answer.text
    assert "Traceback" not in answer.text
    assert "secret detail of the failure" in capsys.readouterr().err


def test_unknown_names_are_404_pages(site: ThreadedServer) -> None:
    for path in ("/flows/nope", "/flows/shop/trails/nope", "/flows/shop?page=2",
                 "/flows/shop?page=0", "/flows/shop?page=x", "/nope",
                 "/flows/shop/trails/c1/evidence/" + "0" * 64,
                 "/flows/shop/trails/c1/evidence/notadigest"):
        answer = _get(site.url + path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html"), path
        assert "Not found" in answer.text
    api = _get(site.url + "/api/v1/nope")  # the API's own answers stay JSON
    assert api.status_code == 404 and api.json()["error"]["type"] == "NotFoundError"


def test_badges_are_svg_saying_the_status(site: ThreadedServer) -> None:
    ns = {"s": "http://www.w3.org/2000/svg"}
    for trail, label, colour in (("c1", "compliant", "#2e7d32"),
                                 ("c2", "non-compliant", "#c62828"),
                                 ("c3", "incomplete", "#757575")):
        answer = _get(f"{site.url}/badge/shop/{trail}.svg")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("image/svg+xml")
        root = ET.fromstring(answer.content)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert texts == ["affidavit", label]
        assert colour in [r.get("fill") for r in root.findall("s:rect", ns)]
    missing = _get(site.url + "/badge/shop/nope.svg")
    assert missing.status_code == 404 and ET.fromstring(missing.content) is not None


# -- pagination ----------------------------------------------------------------------------------

def _big_flow(home: Home, trails: int) -> None:
    """Flow ``big`` with ``trails`` trails, appended through the library a thousand a batch."""
    from affidavit import canonical
    from affidavit.ledger.sqlite import SQLiteLedger
    from affidavit.models import build

    ledger = SQLiteLedger(home.url, create=True)
    try:
        ledger.init()
        batch = [build.entry("flow", build.flow(name="big", description="many trails"))]
        for t in range(trails):
            batch.append(build.entry("trail", build.trail(flow="big", name=f"t{t:05d}")))
            if len(batch) == 1000:
                ledger.append([canonical.dumps(e) for e in batch], batch)
                batch = []
        if batch:
            ledger.append([canonical.dumps(e) for e in batch], batch)
    finally:
        ledger.close()


def test_a_flow_of_10k_trails_reads_a_page(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    from affidavit.api import query

    _big_flow(home, 10_000)
    read: list[str] = []
    real = query.trail_state

    def counted(source: Any, flow: str, name: str, *rest: Any) -> Any:
        read.append(name)
        return real(source, flow, name, *rest)

    monkeypatch.setattr(query, "trail_state", counted)
    with ThreadedServer(home.url) as running:
        _get(running.url + "/flows/big")  # the ledger's caches read in
        read.clear()
        started = time.perf_counter()
        first = _get(running.url + "/flows/big")
        took = time.perf_counter() - started
        assert first.status_code == 200 and "page 1 of 200" in first.text
        names = re.findall(r'href="/flows/big/trails/(t\d+)">', first.text)
        assert names == [f"t{t:05d}" for t in range(9999, 9949, -1)]
        assert sorted(read) == sorted(names), "only the page's trails are read"
        assert 'rel="next" href="/flows/big?page=2"' in first.text
        last = _get(running.url + "/flows/big?page=200")
        assert re.findall(r'href="/flows/big/trails/(t\d+)">', last.text)[-1] == "t00000"
        assert 'rel="prev" href="/flows/big?page=199"' in last.text
        assert 'rel="next"' not in last.text
        assert _get(running.url + "/flows/big?page=201").status_code == 404
        flows = _get(running.url + "/")
        assert flows.status_code == 200 and 'href="/flows/big/trails/t09999"' in flows.text
    print(f"GET /flows/big (10k trails): {took * 1000:.0f} ms")
    assert took < 5, f"a page of a 10k-trail flow took {took:.2f}s"


# -- login, organisations, public read ------------------------------------------------------------

def _tokens(tmp_path: Path, *grants: tuple[str, str]) -> tuple[str, list[str]]:
    from affidavit.server.tokens import TokenStore

    path = str(tmp_path / "tokens.db")
    store = TokenStore(path)
    try:
        return path, [store.create(org, scope) for org, scope in grants]
    finally:
        store.close()


def test_login_sets_a_strict_cookie_and_refuses_a_bad_token(home: Home, tmp_path: Path,
                                                            history: dict[str, Any]) -> None:
    path, (read_token,) = _tokens(tmp_path, ("default", "read"))
    with ThreadedServer(home.url, tokens=path) as running:
        assert _get(running.url + "/").status_code == 303
        assert _get(running.url + "/").headers["location"] == "/login"
        assert _get(running.url + "/badge/shop/c1.svg").status_code == 303
        form = _get(running.url + "/login")
        assert form.status_code == 200 and 'method="post" action="/login"' in form.text
        assert form.headers["content-security-policy"] == CSP
        # a token in the URL is no login
        assert _get(running.url + "/?token=" + read_token).status_code == 303
        elsewhere = requests.post(running.url + "/login", data={"token": read_token},
                                  headers={"Origin": "https://evil.example"}, timeout=30,
                                  allow_redirects=False)
        assert elsewhere.status_code == 403 and "set-cookie" not in elsewhere.headers
        bad = requests.post(running.url + "/login", data={"token": "afv_wrong"}, timeout=30,
                            allow_redirects=False)
        assert bad.status_code == 401 and "set-cookie" not in bad.headers
        assert "not valid" in bad.text
        good = requests.post(running.url + "/login", data={"token": read_token}, timeout=30,
                             allow_redirects=False)
        assert good.status_code == 303 and good.headers["location"] == "/"
        cookie = good.headers["set-cookie"]
        assert cookie.startswith("affidavit_session=")
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "samesite=strict", "path=/"} <= flags
        assert "secure" not in flags  # plain http here (https: test_secure_cookie_over_https)
        session = requests.Session()
        session.cookies.set("affidavit_session", read_token)
        pages = crawl(running.url, session)
        assert any("/flows/shop/trails/c2" in url for url in pages)
        # the API still wants its Bearer token: the cookie is the UI's only
        assert session.get(running.url + "/api/v1/ledger/lookup?key=x",
                           timeout=30).status_code == 401
        out = session.post(running.url + "/logout", timeout=30, allow_redirects=False)
        assert out.status_code == 303 and "affidavit_session=" in out.headers["set-cookie"]
        assert "max-age=0" in out.headers["set-cookie"].lower()


def test_secure_cookie_over_https(home: Home, tmp_path: Path, history: dict[str, Any]) -> None:
    """Behind a TLS-terminating proxy on this host (uvicorn trusts its X-Forwarded-Proto)."""
    path, (token,) = _tokens(tmp_path, ("default", "read"))
    with ThreadedServer(home.url, tokens=path) as running:
        answer = requests.post(running.url + "/login", data={"token": token}, timeout=30,
                               allow_redirects=False, headers={"X-Forwarded-Proto": "https"})
        assert answer.status_code == 303
        flags = {p.strip().lower() for p in answer.headers["set-cookie"].split(";")}
        assert {"secure", "httponly", "samesite=strict"} <= flags


def test_public_read_needs_no_login_but_the_api_does(home: Home, tmp_path: Path,
                                                     history: dict[str, Any]) -> None:
    path, _ = _tokens(tmp_path, ("default", "read"))
    with ThreadedServer(home.url, tokens=path, public_read=True) as running:
        assert _get(running.url + "/").status_code == 200
        assert _get(running.url + "/badge/shop/c1.svg").status_code == 200
        assert _get(running.url + "/api/v1/ledger/lookup?key=x").status_code == 401


def test_another_organisations_names_are_not_found(cli: Cli, tmp_path: Path) -> None:
    ledgers = tmp_path / "orgs"
    ledgers.mkdir()
    ok(cli("create", "flow", "secret-flow", "--ledger", ledgers / "acme.db"))
    ok(cli("begin", "trail", "t1", "--flow", "secret-flow", "--ledger", ledgers / "acme.db"))
    path, (acme, globex) = _tokens(tmp_path, ("acme", "read"), ("globex", "read"))
    with ThreadedServer(str(ledgers / "{org}.db"), tokens=path) as running:
        mine, theirs = requests.Session(), requests.Session()
        mine.cookies.set("affidavit_session", acme)
        theirs.cookies.set("affidavit_session", globex)
        for url in ("/flows/secret-flow", "/flows/secret-flow/trails/t1",
                    "/badge/secret-flow/t1.svg"):
            assert mine.get(running.url + url, timeout=30).status_code == 200, url
            assert theirs.get(running.url + url, timeout=30).status_code == 404, url
        assert "secret-flow" not in theirs.get(running.url + "/", timeout=30).text
        assert "secret-flow" in mine.get(running.url + "/", timeout=30).text
        crawl(running.url, mine)


# -- affidavit ui, packaging -----------------------------------------------------------------------

def test_affidavit_ui_serves_a_sqlite_ledger_read_only(home: Home, history: dict[str, Any]
                                                       ) -> None:
    from tests.server.conftest import free_port

    before = state(home)
    port = free_port()
    cli = Path(sys.executable).parent / "affidavit"
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [str(cli), "ui", "--ledger", home.url, "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()
            try:
                answer = requests.get(url + "/", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "affidavit ui did not start"
                time.sleep(0.05)
        assert answer.status_code == 200 and 'href="/flows/shop"' in answer.text
        assert answer.headers["content-security-policy"] == CSP
        pages = crawl(url)
        assert any(u.endswith("/ledger") for u in pages)
        assert f"--ledger {home.url}" in requests.get(url + "/ledger", timeout=30).text
        # no API, nothing that appends
        assert requests.get(url + "/api/v1/ledger/state", timeout=30).status_code == 404
        assert requests.post(url + "/api/v1/ledger/append", json={}, timeout=30
                             ).status_code == 404
    finally:
        stop_process(process)
    assert state(home) == before


def test_templates_ship_with_the_package(tmp_path: Path) -> None:
    import zipfile

    source = copy_of_sources(tmp_path / "affidavit")
    out = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "-w", str(out), str(source)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = out.glob("affidavit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    here = Path(__file__).resolve().parents[2] / "core"
    wanted = {str(p.relative_to(here)) for folder in ("templates", "static")
              for p in (here / "affidavit" / "server" / folder).iterdir()}
    assert wanted and wanted <= names, sorted(wanted - names)
