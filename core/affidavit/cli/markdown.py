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
    """The scan types record the one scan predicate (docs/predicates.md); only the word for a
    finding is the type's ("issue" for Snyk, whose findings are unique issues), and findings
    that name fixed-in versions (``vulns``) show them."""
    by_severity = predicate["summary"]["by_severity"]
    keys = ["critical", "high", "medium", "low", "none"]
    out = table([k.capitalize() for k in keys], [[by_severity[k] for k in keys]])
    findings = predicate["findings"][:_SHOWN]
    if findings:
        nouns = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
        fixes = [(f.get("extra") or {}).get("fixed_versions") for f in findings]
        if all(fixed is None for fixed in fixes):
            out += f"\n**First {nouns}**\n\n" + table(
                ["Severity", "Rule", "Message", "Location"],
                [[f["severity"], f["rule_id"], f["message"][:120], f["location"]]
                 for f in findings])
        else:
            out += f"\n**First {nouns}**\n\n" + table(
                ["Severity", "Rule", "Message", "Location", "Fixed in"],
                [[f["severity"], f["rule_id"], f["message"][:120], f["location"],
                  ", ".join(fixed or []) or None] for f, fixed in zip(findings, fixes,
                                                                       strict=True)])
    return out


def _jira(predicate: Record) -> str:
    """Each issue looked up: where its key was found and what Jira said of it."""
    issues = predicate["issues"]
    if not issues:
        return ""
    rows = []
    for issue in issues[:_SHOWN * 2]:
        status = issue["status"] or {}
        rows.append([issue["key"], ", ".join(issue["found_in"]),
                     (issue["summary"] or "")[:120] if issue["found"] else "not found",
                     status.get("name"), issue["issue_type"]])
    more = len(issues) - len(rows)
    return table(["Issue", "Found in", "Summary", "Status", "Type"], rows) + (
        f"\n{more} more issues\n" if more > 0 else "")


def _sonar(predicate: Record) -> str:
    """The gate's status and where it came from, then every condition as the server judged it."""
    analysis = predicate.get("analysis") or {}
    gate = predicate.get("quality_gate")
    lookup = predicate["lookup"]
    status = gate["status"] if gate else f"none (task {lookup.get('task_status') or 'not found'})"
    scope = predicate.get("pull_request") and f"pull request {predicate['pull_request']}"
    rows = [["Quality gate", status], ["Project", predicate["project_key"]],
            ["Branch", scope or predicate.get("branch")], ["Analysis", analysis.get("id")],
            ["Revision", analysis.get("revision")], ["Waited", f"{lookup['waited_seconds']:g} s"],
            ["Dashboard", predicate.get("dashboard_url")]]
    out = table(["", ""], [row for row in rows if row[1] is not None])
    conditions = (gate or {}).get("conditions") or []
    if conditions:
        out += "\n" + table(
            ["Metric", "Comparator", "Threshold", "Actual", "Status"],
            [[c["metric_key"], c["comparator"], c["error_threshold"], c["actual_value"],
              c["status"]] for c in conditions])
    return out


def _coverage(predicate: Record) -> str:
    """Lines and branches as covered of total, the minimums asked, then the least covered
    packages (every package when there are few)."""

    def shown(figures: Record) -> str:
        if not figures["total"]:
            return "no data"
        return f"{figures['percent']:.2f}% ({figures['covered']:,} of {figures['total']:,})"

    summary, policy = predicate["summary"], predicate.get("policy") or {}
    minimums = [f"{policy[k]:g}%" if policy.get(k) is not None else None
                for k in ("min_lines", "min_branches")]
    out = table(["", "Lines", "Branches"],
                [["Covered", shown(summary["lines"]), shown(summary["branches"])],
                 ["Minimum", *minimums]])
    packages = sorted(predicate["packages"], key=lambda p: (
        p["lines"]["covered"] / p["lines"]["total"] if p["lines"]["total"] else 2.0, p["name"]))
    if len(packages) > 1:
        title = ("Packages" if len(packages) <= _SHOWN else
                 f"Least covered packages ({_SHOWN} of {predicate['packages_total']:,})")
        out += f"\n**{title}**\n\n" + table(
            ["Package", "Lines", "Branches"],
            [[p["name"], shown(p["lines"]), shown(p["branches"])]
             for p in packages[:_SHOWN]])
    return out


def _sbom(predicate: Record) -> str:
    """The counts the policy reads, what the SBOM describes, the first denied components and
    the most used licences."""
    summary = predicate["summary"]
    missing = summary["missing"]
    out = table(["Components", "Without licence", "Without supplier", "Without version",
                 "Without purl", "Denied"],
                [[summary["components"], summary["without_license"], missing["supplier"],
                  missing["version"], missing["purl"], summary["denied"]]])
    kind = {"cyclonedx": "CycloneDX", "spdx": "SPDX"}.get(predicate["format"], "")
    subject = predicate.get("describes") or {}
    about = subject.get("name") or subject.get("ref")
    if subject.get("sha256"):
        about = f"{about or ''} sha256:{subject['sha256']}".strip()  # the title says if bound
    facts: list[list[object]] = [
        ["Format", f"{kind} {predicate['spec_version']} ({predicate['encoding']})"],
        ["Describes", about], ["Validated against", predicate.get("validation")]]
    out += "\n" + table(["", ""], [row for row in facts if row[1]])
    denied = predicate["denied"][:_SHOWN]
    if denied:
        out += "\n**First components with a denied licence**\n\n" + table(
            ["Component", "Version", "Licences", "Denied"],
            [[d["name"], d["version"], " / ".join(d["licenses"])[:120], ", ".join(d["matched"])]
             for d in denied])
    licenses = predicate["licenses"][:_SHOWN]
    if licenses:
        out += "\n**Licences**\n\n" + table(
            ["Licence", "Components"], [[item["license"][:120], item["components"]]
                                        for item in licenses])
    return out


_BODIES: dict[str, Callable[[Record], str]] = {
    "coverage": _coverage,
    "jira": _jira,
    "junit": _junit,
    "sbom": _sbom,
    "sonar": _sonar,
    "sarif": lambda predicate: _scan(predicate, "finding"),
    "snyk": lambda predicate: _scan(predicate, "issue"),
    "vulns": lambda predicate: _scan(predicate, "vulnerability"),
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
