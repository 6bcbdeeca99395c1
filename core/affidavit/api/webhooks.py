"""Webhooks: an environment's events, POSTed as signed JSON after each new snapshot; a flow's
(``api.flowhooks``) after each write to one of its trails.

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

from affidavit.api.delivery import ATTEMPTS, post, sign
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

__all__ = ["EVENTS", "FLOW_EVENTS", "FORMATS", "ATTEMPTS", "create_webhook", "webhooks_of",
           "events_of", "deliver", "post", "sign", "notify"]

EVENTS = ("started", "exited", "non-compliant", "allowlisted", "unexpected")
FLOW_EVENTS = ("trail-begun", "attestation-reported", "verdict-changed")
FORMATS = ("json", "slack")
_SECRET_URLS = ("https://hooks.slack.com/services/",)
"""Webhook URLs that are credentials themselves: refused as ``--url`` (``--url-env``)."""


def create_webhook(ledger: Ledger, *, name: str, events: list[str], url: str | None = None,
                   url_env: str | None = None, environment: str | None = None,
                   flow: str | None = None, secret_env: str | None = None,
                   format: str | None = None, dry_run: bool = False) -> Recorded:
    """Send ``environment``'s or ``flow``'s ``events`` to ``url`` (exactly one of the two:
    their events differ); again with the same name there replaces it. ``format`` ``slack``
    (flows only) posts a Slack message in place of the JSON event. ``url_env`` instead of
    ``url``: the variable each sender reads the URL from, for a URL that is itself a secret
    (a Slack incoming webhook's): the log, which every reader reads for ever, never holds
    it."""
    import re

    from affidavit.web import checked_url

    if (environment is None) == (flow is None):
        raise UsageError("create webhook: give --environment ENV or --flow FLOW, not both "
                         "(either may come from AFFIDAVIT_ENVIRONMENT, AFFIDAVIT_FLOW)"
                         if environment else "create webhook: give --environment ENV or "
                         "--flow FLOW")
    check_name(name, "webhook")
    if (url is None) == (url_env is None):
        raise UsageError("create webhook: give --url URL or --url-env VAR (a variable "
                         "holding a URL that is itself a secret), one of the two")
    if url is not None:
        url = checked_url(url, "--url", token_hint="a secret in --secret-env")
        if url.lower().startswith(_SECRET_URLS):
            raise UsageError(f"--url {url.split('/services/')[0]}/services/…: this URL is a "
                             "credential and the log keeps it for ever",
                             remedy="put it in a variable and give --url-env VAR instead")
    elif not re.fullmatch(r"[A-Z_][A-Z0-9_]{0,127}", url_env or ""):
        raise UsageError(f"--url-env {url_env!r}: the name of an environment variable "
                         "(upper case, digits and _)")
    allowed = EVENTS if flow is None else FLOW_EVENTS
    unknown = [e for e in events if e not in allowed]
    if not events or unknown:
        raise UsageError(f"--events {','.join(unknown or events) or '(none)'}: choose from "
                         f"{', '.join(allowed)} (the events of "
                         f"{'an environment' if flow is None else 'a flow'})")
    if format is not None and format not in FORMATS:
        raise UsageError(f"--format {format!r}: choose from {', '.join(FORMATS)}")
    if format == "slack" and flow is None:
        raise UsageError("--format slack is for --flow webhooks; an environment's events "
                         "are sent as JSON")
    if secret_env is not None and not re.fullmatch(r"[A-Z_][A-Z0-9_]{0,127}", secret_env):
        raise UsageError(f"--secret-env {secret_env!r}: the name of an environment variable "
                         "(upper case, digits and _)")
    with _head(ledger) as head:
        if flow is None:
            from affidavit.api.environments import physical_state

            assert environment is not None
            physical_state(head, environment, "send the events of")
        else:
            from affidavit.api.record import require_flow

            require_flow(head, flow)
        if not dry_run:
            head.check_writable()
    record = build.webhook(name=name, environment=environment, flow=flow, url=url,
                           url_env=url_env, events=list(dict.fromkeys(events)),
                           secret_env=secret_env, format=format)
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


def deliver(hooks: list[Record], payload: Record, happened: dict[str, list[Record]], *,
            environ: dict[str, str] | None = None,
            sleep: Callable[[float], None] | None = None) -> list[Record]:
    """POST ``payload`` with the events each webhook asked for; one result per webhook sent
    to (``ok``, ``status``, ``attempts``, ``error``), never an exception."""
    import json

    results = []
    for hook in hooks:
        events = [e for e in hook["events"] if e in happened]
        if not events:
            continue
        body = json.dumps({**payload, "webhook": hook["name"], "events": events,
                           "artifacts": {e: happened[e] for e in events}},
                          sort_keys=True, separators=(",", ":")).encode()
        results.append(post(hook, body, events, environ=environ, sleep=sleep))
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

