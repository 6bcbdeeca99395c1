"""Webhooks: an environment's events, POSTed as signed JSON after each new snapshot.

Delivery comes after the snapshot is appended and never decides anything: a receiver that is
down, slow or refusing is retried a few times with backoff, then reported as a note, and the
command still succeeds -- a failing receiver can neither lose a snapshot nor delay the write.

Each request carries ``X-Affidavit-Event`` (the events, comma-separated),
``X-Affidavit-Delivery`` (a random id, the same on every retry of one delivery) and, when the
webhook names a secret variable and the sender has it, ``X-Affidavit-Signature-256:
sha256=<hex HMAC-SHA256 of the exact body bytes with the secret>`` -- GitHub's scheme, so a
receiver checks it the same way: recompute over the raw body, compare in constant time.
"""

from __future__ import annotations

from affidavit.api.record import Recorded, _append, _head
from affidavit.errors import UsageError
from affidavit.ledger import index
from affidavit.models import build
from affidavit.models.fields import check_name
from affidavit.verify.proven import Proven, proven

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from affidavit.ledger.base import Ledger

    Record = dict[str, Any]

__all__ = ["EVENTS", "create_webhook", "webhooks_of", "events_of", "deliver", "sign", "notify"]

EVENTS = ("started", "exited", "non-compliant", "allowlisted", "unexpected")
ATTEMPTS = 3
TIMEOUT = 5.0


def create_webhook(ledger: Ledger, *, name: str, environment: str, url: str,
                   events: list[str], secret_env: str | None = None,
                   dry_run: bool = False) -> Recorded:
    """Send ``environment``'s ``events`` to ``url``; again with the same name replaces it."""
    import re

    from affidavit.api.environments import physical_state
    from affidavit.web import checked_url

    check_name(name, "webhook")
    url = checked_url(url, "--url", token_hint="a secret in --secret-env")
    unknown = [e for e in events if e not in EVENTS]
    if not events or unknown:
        raise UsageError(f"--events {','.join(unknown or events) or '(none)'}: choose from "
                         f"{', '.join(EVENTS)}")
    if secret_env is not None and not re.fullmatch(r"[A-Z_][A-Z0-9_]{0,127}", secret_env):
        raise UsageError(f"--secret-env {secret_env!r}: the name of an environment variable "
                         "(upper case, digits and _)")
    with _head(ledger) as head:
        physical_state(head, environment, "send the events of")
        if not dry_run:
            head.check_writable()
    record = build.webhook(name=name, environment=environment, url=url,
                           events=list(dict.fromkeys(events)), secret_env=secret_env)
    return _append(ledger, build.entry("webhook", record), dry_run, head)


def webhooks_of(source: Ledger | Proven, environment: str) -> list[Record]:
    """The environment's webhooks, the latest entry of each name."""
    with proven(source) as view:
        latest = {e["record"]["name"]: e["record"]
                  for _, e in view.under(index.webhooks_key(environment))}
    return [latest[name] for name in sorted(latest)]


def events_of(found: Record, changes: Record) -> dict[str, list[Record]]:
    """What happened in the snapshot ``found`` (from ``policies.snapshot_compliance``), by
    event: the artifacts each concerns; ``changes`` names what ``started`` (a name running
    with a fingerprint it did not run with before) and ``exited``."""
    artifacts = found["artifacts"]
    compliance = found.get("compliance") or {}
    failing = {(d["artifact"]["name"], d["artifact"]["fingerprint"])
               for d in compliance.get("decisions", []) if not d["compliant"]}

    def brief(a: Record) -> Record:
        return {"name": a["name"], "fingerprint": a.get("fingerprint")}

    out = {
        "started": [brief(a) for a in artifacts if a["name"] in changes["started"]],
        "exited": [{"name": n} for n in changes["exited"]],
        "non-compliant": [brief(a) for a in artifacts
                          if (a["name"], a.get("fingerprint")) in failing],
        "allowlisted": [brief(a) for a in artifacts
                        if a.get("provenance") is None and a.get("allowed")],
        "unexpected": list(found.get("unexpected", [])),
    }
    return {event: items for event, items in out.items() if items}


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Affidavit-Signature-256`` value of ``body``."""
    import hashlib
    import hmac

    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def deliver(hooks: list[Record], payload: Record, happened: dict[str, list[Record]], *,
            environ: dict[str, str] | None = None,
            sleep: Callable[[float], None] | None = None) -> list[Record]:
    """POST ``payload`` with the events each webhook asked for; one result per webhook sent
    to (``ok``, ``status``, ``attempts``, ``error``), never an exception."""
    import json
    import os
    import secrets
    import time

    import requests

    env = os.environ if environ is None else environ
    wait = time.sleep if sleep is None else sleep
    results = []
    for hook in hooks:
        events = [e for e in hook["events"] if e in happened]
        if not events:
            continue
        body = json.dumps({**payload, "webhook": hook["name"], "events": events,
                           "artifacts": {e: happened[e] for e in events}},
                          sort_keys=True, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "affidavit",
                   "X-Affidavit-Event": ",".join(events),
                   "X-Affidavit-Delivery": secrets.token_hex(16)}
        secret = env.get(hook["secret_env"]) if hook.get("secret_env") else None
        if secret:
            headers["X-Affidavit-Signature-256"] = sign(secret.encode(), body)
        result: Record = {"webhook": hook["name"], "url": hook["url"], "events": events,
                          "signed": bool(secret), "ok": False, "status": None, "attempts": 0,
                          "error": None}
        if hook.get("secret_env") and not secret:
            result["error"] = f"{hook['secret_env']} is not set: sent unsigned"
        for attempt in range(ATTEMPTS):
            result["attempts"] = attempt + 1
            try:
                response = requests.post(hook["url"], data=body, headers=headers,
                                         timeout=TIMEOUT, allow_redirects=False)
                result["status"] = response.status_code
                if 200 <= response.status_code < 300:
                    result["ok"] = True
                    break
                result["error"] = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                result["error"] = type(exc).__name__
            if attempt + 1 < ATTEMPTS:
                wait(0.5 * 2 ** attempt)
        results.append(result)
    return results


def notify(ledger: Ledger, done: Any, *, sleep: Callable[[float], None] | None = None
           ) -> list[Record]:
    """Send the events of the snapshot ``done`` (``environments.record_snapshot``) recorded
    to its environment's webhooks; nothing for an unchanged set or a dry run."""
    if done.recorded is None or done.recorded.dry_run:
        return []
    hooks = webhooks_of(ledger, done.environment)
    if not hooks:
        return []
    from affidavit.api.environments import running_by_name
    from affidavit.api.policies import snapshot_compliance

    found = snapshot_compliance(ledger, done.environment)
    before, after = running_by_name(done.before), running_by_name(done.record["artifacts"])
    changes = {"started": {n for n, f in after.items() if f - before.get(n, set())},
               "exited": sorted(n for n in before if n not in after)}
    payload = {"environment": done.environment, "snapshot": found["number"],
               "entry": found["entry"], "time": found["time"],
               "compliance": (found.get("compliance") or {}).get("status")}
    done.deliveries = deliver(hooks, payload, events_of(found, changes), sleep=sleep)
    return list(done.deliveries)

