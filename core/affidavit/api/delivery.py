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

__all__ = ["ATTEMPTS", "TIMEOUT", "sign", "post"]

ATTEMPTS = 3
TIMEOUT = 5.0
"""Seconds each try may take to connect, and again to answer: a receiver that hangs costs a
write at most ``ATTEMPTS`` of these, plus the backoff."""


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
    result: Record = {"webhook": hook["name"], "url": hook["url"], "events": events,
                      "signed": bool(secret), "ok": False, "status": None, "attempts": 0,
                      "error": None}
    unsigned = (f"{hook['secret_env']} is not set: sent unsigned"
                if hook.get("secret_env") and not secret else None)
    result["error"] = unsigned
    for attempt in range(ATTEMPTS):
        result["attempts"] = attempt + 1
        try:
            response = requests.post(hook["url"], data=body, headers=headers,
                                     timeout=TIMEOUT, allow_redirects=False)
            result["status"] = response.status_code
            if 200 <= response.status_code < 300:
                result["ok"], result["error"] = True, unsigned  # an earlier try's is over
                break
            result["error"] = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            result["error"] = type(exc).__name__
        if attempt + 1 < ATTEMPTS:
            wait(0.5 * 2 ** attempt)
    return result
