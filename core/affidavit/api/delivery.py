"""How a webhook is sent, for environments (``api.webhooks``) and flows (``api.flowhooks``)
alike: one POST of the exact bytes signed, retried with backoff, each try bounded by a timeout.

Each request carries ``X-Affidavit-Event`` (the events, comma-separated),
``X-Affidavit-Delivery`` (a random id, the same on every retry of one delivery) and, when the
webhook names a secret variable and the sender has it, ``X-Affidavit-Signature-256:
sha256=<hex HMAC-SHA256 of the exact body bytes with the secret>`` -- GitHub's scheme, so a
receiver checks it the same way: recompute over the raw body, compare in constant time.

Its own module, below both senders: a write to a trail reaches the flow's sender from
``api.record``, which the environments' sender builds on.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    Record = dict[str, Any]

__all__ = ["ATTEMPTS", "TIMEOUT", "DEADLINE", "sign", "post", "shown_url"]

ATTEMPTS = 3
TIMEOUT = 5.0
"""Seconds each try may take to connect, and again between two reads of the answer."""
DEADLINE = 10.0
"""Seconds a try may take in all, however the receiver trickles its answer (``requests``'
timeout bounds each read, not the whole): a receiver costs a write at most ``ATTEMPTS`` of
these, plus the backoff."""


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Affidavit-Signature-256`` value of ``body``."""
    import hashlib
    import hmac

    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def post(hook: Record, body: bytes, events: list[str], *,
         environ: Mapping[str, str] | None = None,
         sleep: Callable[[float], None] | None = None) -> Record:
    """POST ``body`` (the exact bytes signed) to ``hook``, retried :data:`ATTEMPTS` times with
    backoff, each try bounded by :data:`TIMEOUT`: the one delivery rule of environments and
    flows alike. The result (``ok``, ``status``, ``attempts``, ``error``), never an exception:
    the write it reports on is in the log already, and a receiver cannot undo it."""
    import os
    import secrets
    import time

    import requests

    env = os.environ if environ is None else environ
    wait = time.sleep if sleep is None else sleep
    headers = {"Content-Type": "application/json", "User-Agent": "affidavit",
               "X-Affidavit-Event": ",".join(events),
               "X-Affidavit-Delivery": secrets.token_hex(16)}
    secret = env.get(hook["secret_env"]) if hook.get("secret_env") else None
    if secret:
        headers["X-Affidavit-Signature-256"] = sign(secret.encode(), body)
    result: Record = {"webhook": hook["name"], "url": shown_url(hook), "events": events,
                      "signed": bool(secret), "ok": False, "status": None, "attempts": 0,
                      "error": None}
    unsigned = (f"{hook['secret_env']} is not set: sent unsigned"
                if hook.get("secret_env") and not secret else None)
    result["error"] = unsigned
    url = _url(hook, env)
    if url is None:
        result["error"] = f"{hook.get('url_env')} is not set or not an http(s) URL: not sent"
        return result
    for attempt in range(ATTEMPTS):
        result["attempts"] = attempt + 1
        status, error = _try(requests, url, body, headers)
        result["status"] = status
        if status is not None and 200 <= status < 300:
            result["ok"], result["error"] = True, unsigned  # an earlier try's is over
            break
        result["error"] = error if error is not None else f"HTTP {status}"
        if attempt + 1 < ATTEMPTS:
            wait(0.5 * 2 ** attempt)
    return result


def shown_url(hook: Record) -> str:
    """Where a webhook sends, as outputs and logs may show it: a URL kept in a variable
    (``url_env``) is named by its variable, never printed."""
    return str(hook["url"]) if hook.get("url") else f"${hook.get('url_env')}"


def _url(hook: Record, env: Mapping[str, str]) -> str | None:
    """The URL to POST to: the webhook's own, or its variable's value when that is an
    http(s) URL (what ``create webhook --url`` would have accepted)."""
    if hook.get("url"):
        return str(hook["url"])
    from affidavit.errors import UsageError
    from affidavit.web import checked_url

    value = env.get(str(hook.get("url_env")), "")
    try:
        return checked_url(value, str(hook.get("url_env")), token_hint="the variable") if (
            value) else None
    except UsageError:
        return None


def _try(requests: Any, url: str, body: bytes,
         headers: dict[str, str]) -> tuple[int | None, str | None]:
    """One POST, given up after :data:`DEADLINE` seconds whatever the receiver does: the
    request runs on a daemon thread that is left behind when it overruns (it holds one
    socket, and ends with its own read timeout or with the process)."""
    import threading

    answer: dict[str, Any] = {}

    def send() -> None:
        try:
            with requests.post(url, data=body, headers=headers, timeout=TIMEOUT,
                               allow_redirects=False) as response:
                answer["status"] = response.status_code
        except requests.RequestException as exc:
            answer["error"] = type(exc).__name__
        except Exception as exc:  # noqa: BLE001 - a delivery never raises into the write
            answer["error"] = type(exc).__name__

    thread = threading.Thread(target=send, name="affidavit-webhook", daemon=True)
    thread.start()
    thread.join(DEADLINE)
    if thread.is_alive():
        return None, f"no answer within {DEADLINE:g} s"
    return answer.get("status"), answer.get("error")
