"""What every outbound HTTP client here shares: a session that reads proxy and CA settings
once, and the rule that plain http goes to this machine only.

The remote ledger and the pull-request providers both talk to one host per process; requests
would otherwise walk ``os.environ`` for proxies on every call (a millisecond a request), and a
token sent over plain http to another host would cross the network in the clear.
"""

from __future__ import annotations

import os

from affidavit.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["session_for", "checked_url", "env_number", "retry_after", "LOOPBACK"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def session_for(url: str) -> Any:
    """A ``requests`` session for requests to ``url``'s host, with the environment's proxy
    (``{}`` when ``NO_PROXY`` says bypass) and CA bundle read now, once."""
    import requests
    from requests.utils import get_environ_proxies

    session = requests.Session()
    session.proxies.update(get_environ_proxies(url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session


def checked_url(url: str, what: str, *, token_hint: str) -> str:
    """``https://host[:port][/prefix]`` or ``http://`` to a loopback address, without its
    trailing ``/``; a :class:`UsageError` naming ``what`` (``ledger URL``, ``--base-url``)
    otherwise. ``token_hint`` says where a token goes instead of the URL."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a port that is not a number
    except ValueError:
        raise UsageError(f"{what} {url!r} is not a URL") from None
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"{what} {url!r} is not an http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(f"{what} {url!r}: query strings, fragments and credentials are "
                         "not supported", remedy=token_hint)
    if not parts.hostname:
        raise UsageError(f"{what} {url!r} names no host")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise UsageError(f"{what} {url!r}: plain http is only for a server on this machine",
                         remedy="use https://")
    return url.rstrip("/")


def env_number(name: str, default: float) -> float:
    """A positive number from environment variable ``name``, else ``default``."""
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"{name}: {value!r} is not a number") from None
    if number <= 0:
        raise UsageError(f"{name}: {value!r} must be greater than 0")
    return number


def retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date), None
    when it says nothing usable: every client here waits out throttling the same way."""
    import email.utils
    import time

    if not value:
        return None
    value = str(value).strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(when - time.time(), 0.0)
