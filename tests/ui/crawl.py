"""A small crawler of the web UI over HTTP: every same-origin page reachable from ``/``."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

__all__ = ["crawl", "links"]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def links(html: str) -> list[str]:
    """Every href and src of ``html``, as written."""
    parser = _Links()
    parser.feed(html)
    return parser.links


def crawl(base: str, session: requests.Session | None = None) -> dict[str, requests.Response]:
    """Every same-origin URL reachable from ``/`` by href or src, each fetched once, each
    asserted to answer 200."""
    get = (session or requests.Session()).get
    seen: dict[str, requests.Response] = {}
    todo = [base + "/"]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        answer = seen[url] = get(url, timeout=60, allow_redirects=False)
        assert answer.status_code == 200, f"{url}: {answer.status_code}"
        if answer.headers["content-type"].startswith("text/html"):
            for link in links(answer.text):
                target = urljoin(url, link).split("#")[0]
                if urlsplit(target).netloc == urlsplit(base).netloc:
                    todo.append(target)
    return seen
