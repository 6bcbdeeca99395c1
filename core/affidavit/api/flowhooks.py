"""A flow's webhooks: its trails' events, POSTed after each write to one of them.

A write to a trail (``begin trail``, ``attest …``) counts the flow's webhooks in the proven read
it makes anyway (``record._Hooks``: the ``flowhooks:<flow>`` key beside the flow and trail
keys), so a flow without any pays one key more and nothing else. Only when there are some (or
the write's head could not say: a server that predates ``also``) does it come here, after the
entry is appended: the webhooks are read, the trail's status before and after the entry is
worked out only if one of them asks for ``verdict-changed``, and each event is POSTed with the
environments' rule (``delivery.post``: signed, retried with backoff, bounded by a timeout,
never an exception). A receiver that is down costs this write one round of
retries, not one per event, and can neither lose nor undo the entry.

Events: ``trail-begun`` (the trail's first entry), ``attestation-reported`` (an attestation
entry), ``verdict-changed`` (the trail's status after the entry differs from its status just
before it; a new trail has no status before it). One POST per webhook and event, in that order;
the body is the JSON event (:func:`event_body`) or, with ``format: slack``, a Slack
incoming-webhook message (:func:`slack_body`), HMAC-signed alike.
"""

from __future__ import annotations

from affidavit.ledger import index
from affidavit.verify.proven import proven

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from affidavit.ledger.base import Ledger
    from affidavit.verify.proven import Proven

    Record = dict[str, Any]

__all__ = ["flow_webhooks", "statuses", "happened", "event_body", "slack_body", "notify"]


def flow_webhooks(source: Ledger | Proven, flow: str) -> list[Record]:
    """The flow's webhooks, the latest entry of each name."""
    with proven(source, [index.flowhooks_key(flow)]) as view:
        latest = {e["record"]["name"]: e["record"]
                  for _, e in view.under(index.flowhooks_key(flow))}
    return [latest[name] for name in sorted(latest)]


def _subject(entry: Record) -> tuple[str, str]:
    record = entry["record"]
    return record["flow"], record["name"] if entry["kind"] == "trail" else record["trail"]


def statuses(view: Proven, flow: str, trail: str, position: int) -> Record:
    """The trail's status just before entry ``position`` and with it (``before`` is None for
    a trail it begins): the one verdict (``compliance.verdict.judge_trail``) of the flow's and
    the trail's entries up to there, so a write that lands after others is judged where it
    went, not as the log stands when the hooks run."""
    from affidavit.compliance.verdict import judge_trail

    keys = [index.flowdef_key(flow), index.trail_key(flow, trail)]
    found = view.under_all(keys)
    own, entries = found[keys[0]], found[keys[1]]

    def at(end: int) -> str | None:
        upto = [(i, e) for i, e in entries if i < end]
        if not any(e["kind"] == "trail" for _, e in upto):
            return None
        return str(judge_trail([(i, e) for i, e in own if i < end], upto)[1]["status"])

    return {"before": at(position), "after": at(position + 1)}


def happened(entry: Record, *, new_trail: bool, status: Record | None) -> list[str]:
    """The events entry ``entry`` is, in the order they are sent."""
    events = []
    if entry["kind"] == "trail" and new_trail:
        events.append("trail-begun")
    if entry["kind"] == "attestation":
        events.append("attestation-reported")
    if status is not None and status["before"] is not None and (
            status["before"] != status["after"]):
        events.append("verdict-changed")
    return events


def event_body(hook: Record, event: str, entry: Record, position: int,
               status: Record | None) -> Record:
    """The JSON event ``hook`` is sent; ``status`` only for a webhook that asks for
    ``verdict-changed`` (the only ones for which it was worked out)."""
    record = entry["record"]
    flow, trail = _subject(entry)
    attestation = None
    if entry["kind"] == "attestation":
        attestation = {"name": record["name"], "type": record["type"],
                       "compliant": record["compliant"]}
        target = record.get("target") or {}
        if target.get("fingerprint") or target.get("artifact"):
            attestation["artifact"] = target.get("fingerprint") or target.get("artifact")
    artifact = ({"name": record["name"], "fingerprint": record["fingerprint"]}
                if entry["kind"] == "artifact" else None)
    return {"event": event, "webhook": hook["name"], "flow": flow, "trail": trail,
            "entry": position, "time": entry["time"], "kind": entry["kind"],
            "attestation": attestation, "artifact": artifact,
            "origin_url": record.get("origin_url"),
            "status": status if "verdict-changed" in hook["events"] else None}


def _escaped(text: object) -> str:
    """Slack reads ``&``, ``<`` and ``>`` as markup (``<!channel>`` would ping everyone)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(event: Record) -> Record:
    """:func:`event_body` as a Slack incoming-webhook message: ``text`` (what a notification
    shows) and the same in ``blocks`` (a ``section`` of mrkdwn, then a ``context`` line naming
    the entry), every value from the ledger escaped."""
    where = f"{event['flow']}/{event['trail']}"
    status = event["status"] or {}
    if event["event"] == "trail-begun":
        line = f"trail {where} begun"
        rich = f"Trail *{_escaped(where)}* begun"
    elif event["event"] == "attestation-reported":
        att = event["attestation"]
        verdict = "compliant" if att["compliant"] else "NOT compliant"
        line = f"{where}: {att['name']} ({att['type']}) reported, {verdict}"
        rich = (f"*{_escaped(where)}*: attestation *{_escaped(att['name'])}* "
                f"({_escaped(att['type'])}) reported, "
                f"{'compliant' if att['compliant'] else '*NOT compliant*'}")
    else:
        line = f"{where} is now {status.get('after')} (was {status.get('before')})"
        rich = (f"*{_escaped(where)}* is now *{_escaped(status.get('after'))}* "
                f"(was {_escaped(status.get('before'))})")
    if event["event"] != "verdict-changed" and status.get("after"):
        rich += f"; trail {_escaped(status['after'])}"
    if event["origin_url"]:
        rich += f" <{_escaped(event['origin_url'])}|build>"
    context = (f"affidavit {_escaped(event['event'])} · entry {event['entry']} · "
               f"{_escaped(event['time'])} · webhook {_escaped(event['webhook'])}")
    return {"text": _escaped(line)[:3000], "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": rich[:3000]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context[:3000]}]}]}


def notify(ledger: Ledger, recorded: Any, *, new_trail: bool | None,
           sleep: Callable[[float], None] | None = None) -> list[Record]:
    """Send the events of the entry ``recorded`` appended (an ``api.record.Recorded``: typed
    loosely, as that module imports this one) to its flow's webhooks, and put the results in
    ``recorded.deliveries`` (a failed one also as a note). Never raises: the entry stands
    whatever a receiver or the read of the webhooks does. ``new_trail``: whether a trail
    entry began its trail, as the write's head said (None: that head did not say, and the
    trail's entries before this one are read to tell)."""
    if recorded.dry_run or recorded.entry_index is None:
        return []
    try:
        results = _send(ledger, recorded, new_trail=new_trail, sleep=sleep)
    except Exception as exc:  # noqa: BLE001 - after the append nothing may fail the write
        message = getattr(exc, "message", None) or type(exc).__name__
        recorded.notes.append(f"webhooks of flow {_subject(recorded.entry)[0]!r} not sent "
                              f"({message}); the entry is recorded")
        return []
    recorded.deliveries = results
    for sent in results:
        if not sent["ok"] or sent["error"]:
            recorded.notes.append(
                f"webhook {sent['webhook']} ({sent['url']}) {','.join(sent['events'])}: "
                f"{sent['error']} after {sent['attempts']} attempt(s); the entry is recorded")
    return results


def _send(ledger: Ledger, recorded: Any, *, new_trail: bool | None,
          sleep: Callable[[float], None] | None) -> list[Record]:
    import json

    from affidavit.api.delivery import post, shown_url

    entry, position = recorded.entry, recorded.entry_index
    assert position is not None
    flow, trail = _subject(entry)
    with proven(ledger, [index.flowhooks_key(flow)]) as view:
        hooks = flow_webhooks(view, flow)
        if not hooks:
            return []
        status = (statuses(view, flow, trail, position)
                  if any("verdict-changed" in h["events"] for h in hooks) else None)
        if new_trail is None and entry["kind"] == "trail":
            new_trail = not any(i < position for i, _ in
                                view.under(index.trail_key(flow, trail)))
    events = happened(entry, new_trail=bool(new_trail), status=status)
    results = []
    for hook in hooks:
        failed = False
        for event in (e for e in events if e in hook["events"]):
            if failed:  # a receiver that just failed every try is not tried again this write
                results.append({"webhook": hook["name"], "url": shown_url(hook),
                                "events": [event],
                                "signed": False, "ok": False, "status": None, "attempts": 0,
                                "error": "not sent: the receiver failed this write's "
                                         "earlier event"})
                continue
            body = event_body(hook, event, entry, position, status)
            if hook.get("format") == "slack":
                body = slack_body(body)
            data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
            sent = post(hook, data, [event], sleep=sleep)
            failed = not sent["ok"]
            results.append(sent)
    return results
