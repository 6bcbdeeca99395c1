"""``--output markdown``: the short summary a CI job shows on its summary page.

One heading with the verdict, the counts that matter for the type, the first failing tests or
findings, and where the record went. The GitHub action, GitLab component and Jenkins step all
publish this same text.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Record = dict[str, Any]

__all__ = ["render", "table", "escape"]

_SHOWN = 10


def escape(text: str) -> str:
    """Report contents (test names, messages, rule ids) as text, never as markup: a summary
    page renders HTML, so ``<img src=x onerror=…>`` in a failure message must arrive as
    characters. Line breaks become spaces so one value stays on its line."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", " ").replace("\n", " "))


def _cell(value: object) -> str:
    text = "-" if value is None else str(value)
    return escape(text).replace("|", "\\|")


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _junit(predicate: Record) -> str:
    summary = predicate.get("summary", {})
    if "runs" in summary:  # junit/v2: flaky apart from passed, and every run counted
        keys = ["tests", "passed", "flaky", "failed", "errors", "skipped", "runs"]
    else:
        keys = ["tests", "passed", "failures", "errors", "skipped", "flaky"]
    out = table([k.capitalize() for k in keys], [[summary.get(k) for k in keys]])
    failed = predicate.get("failed_cases", [])[:_SHOWN]
    if failed:
        out += "\n**First failing tests**\n\n" + table(
            ["Suite", "Test", "Kind", "Message"],
            [[c.get("suite"), f"{c.get('classname') or ''}.{c.get('name')}".lstrip("."),
              c.get("kind"), (c.get("message") or "")[:120]] for c in failed])
    return out


def _scan(predicate: Record, noun: str) -> str:
    """Both scan types record the one scan predicate (docs/predicates.md); only the word for a
    finding is the type's ("issue" for Snyk, whose findings are unique issues)."""
    by_severity = predicate["summary"]["by_severity"]
    keys = ["critical", "high", "medium", "low", "none"]
    out = table([k.capitalize() for k in keys], [[by_severity[k] for k in keys]])
    findings = predicate["findings"][:_SHOWN]
    if findings:
        out += f"\n**First {noun}s**\n\n" + table(
            ["Severity", "Rule", "Message", "Location"],
            [[f["severity"], f["rule_id"], f["message"][:120], f["location"]]
             for f in findings])
    return out


_BODIES: dict[str, Callable[[Record], str]] = {
    "junit": _junit,
    "sarif": lambda predicate: _scan(predicate, "finding"),
    "snyk": lambda predicate: _scan(predicate, "issue"),
}


def _subject(target: Record) -> str:
    """What an attestation is about: the trail, one artifact by fingerprint, or (bound by
    ``--name artifact.attestation`` and the commit) whichever artifact of that name the trail
    reports for the commit, which may not be reported yet."""
    if target.get("fingerprint"):
        return str(target["fingerprint"])
    if target.get("artifact"):
        return f"artifact {target['artifact']} of commit {str(target.get('commit'))[:12]}"
    return "trail"


def render(recorded: Any) -> str:
    """The markdown summary of a write command's result."""
    entry = recorded.entry
    record = entry["record"]
    kind = entry["kind"]
    if kind == "attestation":
        mark = "✅" if record["compliant"] else "❌"
        verdict = "compliant" if record["compliant"] else "not compliant"
        title = f"### {mark} {record['name']} ({record['type']}): {verdict}\n\n"
    else:
        title = f"### {kind.capitalize()} {record['name']}\n\n"
    body = ""
    if kind == "attestation":
        renderer = _BODIES.get(record["type"])
        if renderer is not None:
            body = renderer(record["statement"]["predicate"]) + "\n"
    if recorded.reasons:
        body += "".join(f"- {escape(reason)}\n" for reason in recorded.reasons) + "\n"
    target = record.get("target", {})
    facts = [
        ["Flow", record.get("flow", record["name"])],
        ["Trail", record.get("trail", record["name"] if kind == "trail" else None)],
        ["Subject", _subject(target) if target else record.get("fingerprint")],
        ["Commit", (record.get("commit") or {}).get("sha")],
        ["Evidence", ", ".join(e["name"] for e in record.get("evidence", [])) or None],
        ["Ledger entry", "dry run: not recorded" if recorded.dry_run else recorded.entry_index],
    ]
    if getattr(recorded, "flow_change", None) is not None:
        change = recorded.flow_change
        facts.insert(1, ["Flow entry", "dry run: not recorded" if change.dry_run else
                         f"{change.entry_index} (created or changed)"])
    return title + body + table(["", ""], [row for row in facts if row[1] is not None])
