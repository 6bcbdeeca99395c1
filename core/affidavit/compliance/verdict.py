"""Trail and artifact verdicts: a pure function of the records in the log.

The same function runs when a command prints a trail, when ``--dry-run`` shows what a report
would change, and when ``verify package`` recomputes verdicts from a package's entries alone.

Rules: the latest report of a name for a target wins. Without a template a trail is the AND of
what was reported. With one, every required slot is ``COMPLETE`` or ``MISSING``; anything not
asked for is ``unexpected`` (reported, still judged). A present, non-compliant attestation makes
the trail ``NON_COMPLIANT``; otherwise a missing one makes it ``INCOMPLETE``. Approvals of the
trail are decided by the one approval rule (``compliance.approval``) whether or not the template
asks for them: a denied one is not compliant, a requested one not yet given is missing.

The records' ``compliant`` flags are trusted here only because every reader has checked each
against the one judge (``compliance.judge``) before handing the records over.
"""

from __future__ import annotations

from affidavit.compliance import signing
from affidavit.compliance.approval import (
    APPROVED,
    DENIED,
    approval_names,
    approval_state,
    commit_authors,
)

__all__ = [
    "COMPLIANT",
    "NON_COMPLIANT",
    "INCOMPLETE",
    "worst",
    "trail_verdict",
    "judge_trail",
    "artifact_verdict",
    "artifact_verdicts",
    "artifact_issues",
    "latest_attestations",
]

COMPLIANT = "COMPLIANT"
NON_COMPLIANT = "NON_COMPLIANT"
INCOMPLETE = "INCOMPLETE"


def worst(statuses: Iterable[str]) -> str:
    """The one fold of statuses: NON_COMPLIANT over INCOMPLETE over COMPLIANT (none: COMPLIANT).
    A trail folds its issues, an artifact its trails, a gate what it asserts."""
    found = set(statuses)
    return NON_COMPLIANT if NON_COMPLIANT in found else INCOMPLETE if INCOMPLETE in found else (
        COMPLIANT)


def _status(issues: Sequence[Record]) -> str:
    return worst(NON_COMPLIANT if i["kind"] == "not_compliant" else INCOMPLETE for i in issues
                 if i["kind"] in ("not_compliant", "missing"))

TYPE_CHECKING = False  # typing costs 3 ms to import; every gating read comes through here
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

    Record = dict[str, Any]


def _target(record: Record) -> str | None:
    """The fingerprint an attestation is bound to, ``@<artifact>@<commit>`` when it is bound by
    template name and commit, or None for the trail."""
    target = record.get("target", {})
    if target.get("kind") != "artifact":
        return None
    return target.get("fingerprint") or f"@{target['artifact']}@{target['commit']}"


def _artifact_label(target: str) -> str:
    """How a reason names an attestation's artifact: by fingerprint, or by the name and commit
    it was bound to when no such artifact has been reported yet."""
    if target.startswith("@"):
        artifact, _, commit = target[1:].partition("@")
        return f"artifact {artifact} of commit {commit[:12]}"
    return f"artifact {target[:12]}"


def name_binding(artifact: str, commit: str) -> str:
    """The key of attestations bound to artifact ``artifact`` of commit ``commit`` by name."""
    return f"@{artifact}@{commit}"


if TYPE_CHECKING:
    Slot = tuple[str | None, str]


def resolved_targets(artifacts: list[tuple[int, Record]]) -> dict[str, list[str]]:
    """Name bindings (``@<artifact>@<commit>``) -> the fingerprints the trail reported under
    that name for that commit: whoever came first, a report bound by name is about them."""
    out: dict[str, list[str]] = {}
    for _, record in artifacts:
        sha = (record.get("commit") or {}).get("sha")
        if sha:
            found = out.setdefault(name_binding(record["name"], sha), [])
            if record["fingerprint"] not in found:
                found.append(record["fingerprint"])
    return out


def latest_attestations(attestations: list[tuple[int, Record]],
                        artifacts: Sequence[tuple[int, Record]] = ()) -> dict[
                            Slot, tuple[int, Record]]:
    """``(fingerprint or None, name) -> (entry index, record)`` of the latest report of each.

    A report bound by name and commit counts for every artifact of ``artifacts`` reported under
    that name for that commit, so the latest report wins whichever way each was bound; until
    such an artifact is reported it stays under its name binding."""
    bindings = resolved_targets(list(artifacts))
    latest: dict[tuple[str | None, str], tuple[int, Record]] = {}
    for position, record in sorted(attestations, key=lambda pair: pair[0]):
        if record["type"] == "approval-request":
            continue  # a request asks for a claim; it does not make one
        target = _target(record)
        if record["type"] == "approval" and target is None:
            continue  # trail approvals are decided by the approval rule, not the latest word
        for resolved in bindings.get(target, [target]) if target else [target]:
            latest[(resolved, record["name"])] = (position, record)
    return latest


def _type_fits(wanted: str, actual: str) -> bool:
    return wanted in ("*", actual)


def _too_few_reviews(wanted: Record, record: Record) -> str | None:
    """Why a ``pull_request`` report falls short of its slot's ``min_approvers`` (the
    four-eyes rule of ``compliance.pullrequests``, the one the judge applies to the report's own
    ``--require-approvals``), or None."""
    need = wanted.get("min_approvers")
    if wanted["type"] != "pull_request" or not need or record["type"] != "pull_request":
        return None
    from affidavit.compliance.pullrequests import shortfall

    predicate = record["statement"]["predicate"]
    return shortfall(predicate["pull_requests"], need,
                     allow_stale=predicate["policy"]["allow_stale_approvals"],
                     asked_by="the template")


def _without_replays(attestations: list[tuple[int, Record]]) -> tuple[
        list[tuple[int, Record]], list[tuple[int, int, str]]]:
    """``attestations`` less the signed ones whose signature an earlier one carries, and
    those replays as ``(entry, entry first signed, name)``."""
    if not any("envelope" in record for _, record in attestations):
        return attestations, []  # nothing signed (nothing more imported on a gating read)
    from affidavit.models.dsse import signature_of

    seen: dict[str, int] = {}
    kept, replays = [], []
    for position, record in sorted(attestations, key=lambda pair: pair[0]):
        signature = signature_of(record) if "envelope" in record else None
        if signature is not None and signature in seen:
            replays.append((position, seen[signature], str(record.get("name"))))
            continue
        if signature is not None:
            seen[signature] = position
        kept.append((position, record))
    return kept, replays


def trail_verdict(
    template: Record | None,
    artifacts: list[tuple[int, Record]],
    attestations: list[tuple[int, Record]],
) -> Record:
    """The trail's status, each template slot's state, unexpected reports, and the reasons.

    A signed report appended again (its signature already on an earlier entry of the trail:
    every signing signs a fresh nonce, so only a copy repeats one) counts for nothing, and
    makes the trail ``NON_COMPLIANT``: otherwise whoever can write could bring back an old
    compliant report over a newer failing one, without the key that signed it."""
    attestations, replays = _without_replays(attestations)
    latest = latest_attestations(attestations, artifacts)
    used: set[tuple[str | None, str]] = set()
    decided: set[str] = set()
    slots: list[Record] = []
    issues: list[Record] = []
    unexpected: list[Record] = []

    def issue(scope: str, fingerprint: str | None, reason: str, *, missing: bool,
              entry: int | None = None) -> None:
        # ``entry``: the non-compliant report, so a gate can say why its judge said no
        issues.append({"scope": scope, "fingerprint": fingerprint, "reason": reason,
                       "kind": "missing" if missing else "not_compliant", "entry": entry})

    for position, first, name in replays:
        issue("trail", None, f"trail: entry {position} ({name!r}) repeats the signed report "
              f"of entry {first}: a replay, not counted", missing=False, entry=position)

    authors = commit_authors(artifacts, attestations)

    def fill(fingerprint: str | None, wanted: Record, where: str) -> None:
        if fingerprint is None and (wanted["type"] == "approval" or (
                wanted["type"] == "*" and wanted["name"] in approval_names(attestations))):
            fill_approval(wanted)
            return
        # Reports bound by template name and commit are already resolved to this fingerprint
        # (``latest_attestations``): whichever way it was bound, the latest report fills it.
        keys = [(fingerprint, wanted["name"])]
        found = latest.get(keys[0])
        slot: Record = {"target": where, "fingerprint": fingerprint, "name": wanted["name"],
                        "type": wanted["type"]}
        scope = "trail" if fingerprint is None else "artifact"
        if found is not None and _type_fits(wanted["type"], found[1]["type"]):
            used.update(k for k in keys if k in latest)
            short = _too_few_reviews(wanted, found[1]) or signing.shortfall(
                signing.rule_of(template, wanted), found[1])
            compliant = found[1]["compliant"] and short is None
            slot.update(state="COMPLETE", compliant=compliant, entry=found[0])
            if not found[1]["compliant"]:
                issue(scope, fingerprint,
                      f"{where}: attestation {wanted['name']!r} is not compliant", missing=False,
                      entry=found[0])
            elif short is not None:
                colon = ":" if not short.startswith(("is ", "was ")) else ""
                issue(scope, fingerprint, f"{where}: attestation {wanted['name']!r}{colon} "
                      f"{short}", missing=False, entry=found[0])
        else:
            slot.update(state="MISSING", compliant=None, entry=None)
            why = "has the wrong type" if found is not None else "is missing"
            issue(scope, fingerprint,
                  f"{where}: attestation {wanted['name']!r} ({wanted['type']}) {why}",
                  missing=True)
        slots.append(slot)

    def fill_approval(wanted: Record, *, required: bool = True) -> None:
        if required:  # the template's signing rule, unless the slot says its own
            wanted = {**signing.signing_rule(template), **wanted}
        state = approval_state(attestations, wanted, authors)
        decided.add(wanted["name"])
        if state["status"] == DENIED:
            issue("trail", None, f"trail: approval {wanted['name']!r} {state['why']}",
                  missing=False)
        elif state["status"] != APPROVED:
            issue("trail", None, f"trail: approval {wanted['name']!r} {state['why']}",
                  missing=True)
        compliant = None if state["status"] not in (APPROVED, DENIED) else (
            state["status"] == APPROVED)
        if not required:
            if template is not None:
                unexpected.append({"name": wanted["name"], "entry": state["entry"],
                                   "compliant": compliant})
            return
        slot: Record = {"target": "trail", "fingerprint": None, "name": wanted["name"],
                        "type": "approval"}
        if compliant is None:
            slot.update(state="MISSING", compliant=None, entry=None)
        else:
            slot.update(state="COMPLETE", compliant=compliant, entry=state["entry"])
        slots.append(slot)

    trail_spec = (template or {}).get("trail", {})
    for wanted in trail_spec.get("attestations", []):
        fill(None, wanted, "trail")
    for spec in trail_spec.get("artifacts", []):
        reported = sorted({r["fingerprint"] for _, r in artifacts if r["name"] == spec["name"]})
        if not reported:
            slots.append(
                {"target": f"artifact {spec['name']}", "fingerprint": None, "name": spec["name"],
                 "type": "artifact", "state": "MISSING", "compliant": None, "entry": None}
            )
            issue("unreported", None, f"artifact {spec['name']!r} has not been reported",
                  missing=True)
        for fingerprint in reported:
            for wanted in spec.get("attestations", []):
                fill(fingerprint, wanted, f"artifact {spec['name']}@{fingerprint[:12]}")

    for name in approval_names(attestations):  # approvals no template slot asked for
        if name not in decided:
            fill_approval({"name": name, "type": "approval"}, required=False)
    for key, (position, record) in sorted(latest.items(), key=lambda kv: kv[1][0]):
        if key in used:
            continue
        if template is not None:
            unexpected.append({"name": record["name"], "entry": position,
                               "compliant": record["compliant"]})
        if not record["compliant"]:
            where = "trail" if key[0] is None else _artifact_label(key[0])
            issue("trail" if key[0] is None else "artifact", key[0],
                  f"{where}: attestation {record['name']!r} is not compliant", missing=False,
                  entry=position)

    return {"status": _status(issues), "slots": slots, "unexpected": unexpected,
            "reasons": [i["reason"] for i in issues], "issues": issues}


def artifact_issues(verdict: Record, fingerprint: str) -> list[Record]:
    """The issues of a trail verdict that count for one artifact: the trail's and its own."""
    return _issues_of(verdict, [fingerprint])[fingerprint]


def _issues_of(verdict: Record, fingerprints: Iterable[str]) -> dict[str, list[Record]]:
    """:func:`artifact_issues` of each of ``fingerprints``, the verdict's issues gone through
    once (a trail of a hundred artifacts, each asked on its own, went through them a hundred
    times), each artifact's in the verdict's order."""
    trail: list[tuple[int, Record]] = []
    own: dict[str, list[tuple[int, Record]]] = {}
    for n, found in enumerate(verdict["issues"]):
        if found["scope"] == "trail":
            trail.append((n, found))
        elif found["scope"] == "artifact":
            own.setdefault(found["fingerprint"], []).append((n, found))
    return {fp: [i for _, i in sorted(trail + own[fp], key=lambda row: row[0])] if fp in own else
            [i for _, i in trail] for fp in fingerprints}


def artifact_verdict(verdict: Record, fingerprint: str) -> Record:
    """One artifact's share of a trail verdict: compliant iff its own and the trail's required
    attestations are present and compliant (other artifacts of the trail do not count)."""
    return artifact_verdicts(verdict, [fingerprint])[fingerprint]


def artifact_verdicts(verdict: Record, fingerprints: Iterable[str]) -> dict[str, Record]:
    """:func:`artifact_verdict` of each of ``fingerprints``."""
    return {fp: {"status": _status(mine), "reasons": [i["reason"] for i in mine]}
            for fp, mine in _issues_of(verdict, fingerprints).items()}


def judge_trail(flow_entries: list[tuple[int, Record]],
                trail_entries: list[tuple[int, Record]]) -> tuple[Record | None, Record]:
    """The template in force and the verdict of a trail, from its log entries and its flow's,
    as the ledger and ``verify package`` both compute them: the latest trail template if any,
    else the latest flow template; the verdict's ``template_entry`` names its entry."""
    def latest_template(entries: list[tuple[int, Record]], kind: str) -> tuple[int, Record] | None:
        found = [(i, e["record"]["template"]) for i, e in entries
                 if e["kind"] == kind and "template" in e["record"]]
        return max(found, key=lambda pair: pair[0]) if found else None

    chosen = latest_template(trail_entries, "trail") or latest_template(flow_entries, "flow")
    artifacts = [(i, e["record"]) for i, e in trail_entries if e["kind"] == "artifact"]
    attestations = [(i, e["record"]) for i, e in trail_entries if e["kind"] == "attestation"]
    verdict = trail_verdict(chosen[1] if chosen else None, artifacts, attestations)
    verdict["template_entry"] = chosen[0] if chosen else None
    if chosen is not None:
        floor = [t for t in (latest_template(flow_entries, "flow"),) if t is not None] + [
            (i, e["record"]["template"]) for i, e in trail_entries
            if e["kind"] == "trail" and "template" in e["record"] and i < chosen[0]]
        loosened = _loosened(chosen, [t for t in floor if t[0] != chosen[0]])
        if loosened:
            for reason in loosened:
                verdict["issues"].append({"scope": "trail", "fingerprint": None,
                                          "reason": reason, "kind": "not_compliant",
                                          "entry": chosen[0]})
            verdict["reasons"] = [i["reason"] for i in verdict["issues"]]
            verdict["status"] = _status(verdict["issues"])
    return (chosen[1] if chosen else None), verdict


def _signing_of(template: Record) -> dict[tuple[str | None, str], tuple[bool, frozenset[str]]]:
    """``(artifact or None, slot) -> (signature required, allowed keys or none)`` of a
    template, its ``trail:`` rule folded into each slot as the verdict folds it."""
    trail = template.get("trail", {}) if isinstance(template, dict) else {}
    slots = [(None, s) for s in trail.get("attestations", [])] + [
        (a.get("name"), s) for a in trail.get("artifacts", []) for s in a.get("attestations", [])]
    return {(artifact, slot["name"]): signing.demands(signing.rule_of(template, slot))
            for artifact, slot in slots}


def _loosened(chosen: tuple[int, Record], floor: list[tuple[int, Record]]) -> list[str]:
    """Why a trail's own template (``chosen``) is not compliant: for every slot the flow's
    template or an earlier template of the trail requires signed (by which keys), it must
    too (by no other keys). Any writer can begin a trail with a template of their own, and a
    signing rule a trail template could drop would bind nobody; a flow's own template changes
    stay the way to change the rule (it is the floor)."""
    have = _signing_of(chosen[1])
    reasons = []
    for position, template in floor:
        for (artifact, name), (required, signers) in _signing_of(template).items():
            if not required:
                continue
            mine = have.get((artifact, name))
            ok = mine is not None and mine[0] and (not signers or (mine[1] and mine[1] <= signers))
            if not ok:
                where = f"artifact {artifact}: " if artifact else ""
                reasons.append(f"trail: template entry {chosen[0]} drops the signing rule "
                               f"template entry {position} sets for {where}{name!r}")
    return list(dict.fromkeys(reasons))
