"""``get``, ``list``, ``search`` and ``log``: map flags onto ``affidavit.api.query``."""

from __future__ import annotations

import argparse
import sys

from affidavit.cli import options as opt
from affidavit.cli.output import emit_json, key_values, table

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's read path avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "get_flow",
    "get_trail",
    "get_artifact",
    "get_attestation",
    "list_flows",
    "list_trails",
    "search",
    "log_ledger",
    "log_trail",
]


def _common(parser: argparse.ArgumentParser) -> None:
    opt.add_ledger(parser)
    opt.add_output(parser)


def get_flow(p: argparse.ArgumentParser) -> None:
    """``get flow NAME``."""
    p.add_argument("name")
    _common(p)
    p.set_defaults(handler=_get_flow)


def get_trail(p: argparse.ArgumentParser) -> None:
    """``get trail NAME --flow F [--explain]``."""
    p.add_argument("name")
    opt.add(p, "--flow", required=True, help="flow name")
    opt.add(p, "--explain", action="store_const", const=True,
            help="for every template slot, the entry that filled it or why none did")
    opt.add(p, "--history", action="store_const", const=True,
            help="also list reports a later one of the same name superseded")
    _common(p)
    p.set_defaults(handler=_get_trail)


def get_artifact(p: argparse.ArgumentParser) -> None:
    """``get artifact FINGERPRINT``."""
    p.add_argument("fingerprint")
    opt.add(p, "--flow", help="only reports in this flow")
    _common(p)
    p.set_defaults(handler=_get_artifact)


def get_attestation(p: argparse.ArgumentParser) -> None:
    """``get attestation NAME --flow F --trail T``."""
    p.add_argument("name")
    opt.add(p, "--flow", required=True, help="flow name")
    opt.add(p, "--trail", required=True, help="trail name")
    _common(p)
    p.set_defaults(handler=_get_attestation)


def list_flows(p: argparse.ArgumentParser) -> None:
    """``list flows [--without-type TYPE]``."""
    opt.add(p, "--without-type", metavar="TYPE",
            help="only flows with no attestation of this type (e.g. sarif, snyk)")
    _common(p)
    p.set_defaults(handler=_list_flows)


def list_trails(p: argparse.ArgumentParser) -> None:
    """``list trails --flow F [--status S] [--since 7d]``."""
    opt.add(p, "--flow", required=True, help="flow name")
    opt.add(p, "--status", choices=("COMPLIANT", "NON_COMPLIANT", "INCOMPLETE"),
            help="only trails with this verdict")
    opt.add(p, "--since", metavar="AGE_OR_TIME",
            help="only trails changed since: 30m, 12h, 7d, or an RFC 3339 UTC time")
    _common(p)
    p.set_defaults(handler=_list_trails)


def log_trail(p: argparse.ArgumentParser) -> None:
    """``log trail NAME --flow F``."""
    p.add_argument("name")
    opt.add(p, "--flow", required=True, help="flow name")
    _common(p)
    p.set_defaults(handler=_log_trail)


def search(p: argparse.ArgumentParser) -> None:
    """``search PREFIX``."""
    p.add_argument("prefix", help="at least 4 hex characters")
    _common(p)
    p.set_defaults(handler=_search)


def log_ledger(p: argparse.ArgumentParser) -> None:
    """``log ledger``."""
    opt.add(p, "--start", type=int, help="first entry index (default 0)")
    opt.add(p, "--limit", type=int, help="at most this many entries")
    _common(p)
    p.set_defaults(handler=_log_ledger)


def _ledger(args: argparse.Namespace) -> Any:
    from affidavit.api.ledgers import open_ledger

    return open_ledger(args.ledger)


def _print(text: str) -> int:
    sys.stdout.write(text + "\n")
    return 0


def _get_flow(args: argparse.Namespace) -> int:
    from affidavit.api import query

    state = query.flow_state(_ledger(args), opt.required(args.name, "flow name"))
    if args.output == "json":
        emit_json(state)
        return 0
    return _print(key_values([
        ("Name", state["name"]), ("Description", state["description"]),
        ("Template", "yes" if state["template"] else "none"),
        ("Tags", ", ".join(f"{k}={v}" for k, v in state["tags"].items()) or "none"),
        ("Created", state["created_at"]), ("Trails", state["trails"]),
    ]))


def _get_trail(args: argparse.Namespace) -> int:
    from affidavit.api import query

    ledger = _ledger(args)
    name = opt.required(args.name, "trail name")
    explained = None
    if args.explain:
        from affidavit.api.explain import explained_state

        state = explained_state(ledger, args.flow, name)
        explained = state.pop("explain")
    else:
        state = query.trail_state(ledger, args.flow, name)
    if args.output == "json":
        emit_json({**state, "explain": explained} if explained is not None else state)
        return 0
    parts = [key_values([
        ("Flow", state["flow"]), ("Trail", state["name"]), ("Description", state["description"]),
        ("Status", state["status"]), ("Created", state["created_at"]),
        ("Updated", state["updated_at"]),
    ])]
    if state["artifacts"]:
        parts.append("\nArtifacts:\n" + table(
            ["entry", "name", "fingerprint", "type", "file"],
            [[a["entry"], a["name"], a["fingerprint"], a["artifact_type"], a.get("filename")]
             for a in state["artifacts"]]))
    shown = [a for a in state["attestations"] if args.history or not a["superseded"]]
    if shown:
        parts.append("\nAttestations:\n" + table(
            ["entry", "name", "type", "compliant", "target", "evidence"]
            + (["superseded"] if args.history else []),
            [[a["entry"], a["name"], a["type"], a["compliant"], _target_label(a["target"]),
              len(a["evidence"])] + ([a["superseded"]] if args.history else [])
             for a in shown]))
    slots = state["verdict"]["slots"]
    if explained is not None:
        parts.append("\nTemplate slots:\n" + table(
            ["target", "name", "type", "state", "why"],
            [[r["target"], r["name"], r["type"], r["state"], r["why"]] for r in explained]))
        slots = []
    if slots:
        parts.append("\nTemplate:\n" + table(
            ["target", "name", "type", "state", "compliant", "entry"],
            [[s["target"], s["name"], s["type"], s["state"], s["compliant"], s["entry"]]
             for s in slots]))
    if state["verdict"]["reasons"]:
        parts.append("\nReasons:\n" + "\n".join(f"- {r}" for r in state["verdict"]["reasons"]))
    return _print("\n".join(parts))


def _target_label(target: dict[str, Any]) -> str:
    if target.get("fingerprint"):
        return str(target["fingerprint"])[:12]
    if target.get("artifact"):
        return f"{target['artifact']}@{str(target['commit'])[:12]}"
    return "trail"


def _get_artifact(args: argparse.Namespace) -> int:
    from affidavit.api import query

    state = query.artifact_state(_ledger(args), args.fingerprint, args.flow)
    if args.output == "json":
        emit_json(state)
        return 0
    return _print("\n".join([
        key_values([("Fingerprint", state["fingerprint"]), ("Compliant", state["compliant"])]),
        "\nReported:\n" + table(["entry", "flow", "trail", "name", "time"],
                               [[r["entry"], r["flow"], r["trail"], r["name"], r["time"]]
                                for r in state["reports"]]),
        "\nTrails:\n" + table(["flow", "trail", "status"],
                             [[t["flow"], t["trail"], t["status"]] for t in state["trails"]]),
    ]))


def _get_attestation(args: argparse.Namespace) -> int:
    from affidavit.api import query

    state = query.attestation_state(_ledger(args), args.flow, args.trail,
                                    opt.required(args.name, "attestation name"))
    if args.output == "json":
        emit_json(state)
        return 0
    record = state["record"]
    return _print("\n".join([
        key_values([
            ("Name", record["name"]), ("Type", record["type"]),
            ("Compliant", record["compliant"]), ("Entry", state["entry"]),
            ("Time", state["time"]), ("Predicate type", record["statement"]["predicateType"]),
            ("Evidence", [f"{e['name']} ({e['sha256'][:12]})" for e in
                          record.get("evidence", [])]),
        ]),
        "\nHistory:\n" + table(["entry", "time", "compliant"],
                              [[h["entry"], h["time"], h["compliant"]] for h in state["history"]]),
    ]))


def _list_flows(args: argparse.Namespace) -> int:
    from affidavit.api import query

    flows = query.list_flows(_ledger(args), without_type=args.without_type)
    if args.output == "json":
        emit_json(flows)
        return 0
    rows = []
    for f in flows:
        last = f["last_trail"] or {}
        rows.append([f["name"], f["trails"], last.get("name"), last.get("status"),
                     last.get("updated_at"), f["description"]])
    return _print(table(["name", "trails", "last trail", "status", "updated", "description"],
                        rows))


def _list_trails(args: argparse.Namespace) -> int:
    from affidavit.api import query

    trails = query.list_trails(_ledger(args), args.flow, status=args.status,
                               since=args.since)
    if args.output == "json":
        emit_json(trails)
        return 0
    return _print(table(["name", "status", "updated"],
                        [[t["name"], t["status"], t["updated_at"]] for t in trails]))


def _search(args: argparse.Namespace) -> int:
    from affidavit.api import query

    found = query.search(_ledger(args), opt.required(args.prefix, "search prefix"))
    if args.output == "json":
        emit_json(found)
        return 0
    return _print(table(["match", "sha", "kind", "flow", "trail", "name", "environment",
                         "entry"],
                        [[f["match"], f["sha"], f["kind"], f["flow"], f["trail"], f["name"],
                          None if f["environment"] is None else
                          f["environment"] + (" (now)" if f["current"] else ""),
                          f["entry"]] for f in found]))


def _log_trail(args: argparse.Namespace) -> int:
    from affidavit.api import query

    events = query.trail_log(_ledger(args), args.flow, opt.required(args.name, "trail name"))
    if args.output == "json":
        emit_json(events)
        return 0
    return _print(table(["entry", "time", "event", "detail"],
                        [[e["entry"], e["time"], e["event"], e["detail"]] for e in events]))


def _log_ledger(args: argparse.Namespace) -> int:
    from affidavit.api import query

    entries = query.log(_ledger(args), args.start or 0, args.limit)
    if args.output == "json":
        emit_json(entries)
        return 0
    return _print(table(["index", "time", "kind", "subject"],
                        [[e["index"], e["time"], e["kind"], e["subject"]] for e in entries]))
