"""The one judge: an attestation's verdict as a function of its type and predicate alone.

Every place that needs to know whether an attestation is compliant asks this function: the
write path (a record whose ``compliant`` disagrees is refused), every read (a stored flag that
disagrees is an integrity failure), ``verify package`` offline, and later the server. The
recorded flag is a cache of this answer, never a second opinion.

Per type:

- ``generic``, ``decision``: the claim's own ``compliant``;
- ``approval``: ``approved`` (a denial is not compliant); ``approval-request``: always
  compliant, it asks for a claim and makes none (the trail's approval rule is in
  ``compliance.approval``);
- ``junit``: failed tests, errored tests and flaky tests within the recorded ``policy`` limits
  (``max_failures``, ``max_errors``, ``max_flaky``; a v2 policy names how runs were counted,
  ``retries``); a ``junit/v1`` predicate, whose policy has no ``retries``, is judged as it
  was written: ``summary.failures`` and ``errors`` within limits that default to 0 and 0;
- ``sarif``, ``snyk``, ``vulns``: the recorded ``policy`` (``fail_on``, ``max_findings``)
  applied to the ``actionable`` counts per severity -- the two fields every scan predicate has
  had, the v1 shapes (``sarif/v1``: ``summary``/``runs``; ``snyk/v1``: ``totals``/``projects``)
  and the one v2 shape alike, so records already in ledgers are judged by the same function
  (a ``vulns`` policy also says ``ignore_unfixed``: its ``actionable`` counts then leave out
  findings with no fix, and its reasons say so);
- ``pull_request``: at least one pull request contains the commit, and with a policy
  ``require_approvals`` N, the deciding one has N approvals under the four-eyes rule of
  ``compliance.pullrequests`` (other people than its authors, of its final head unless
  ``allow_stale_approvals``, each reviewer's last word);
- ``custom:<name>``: every rule of the type version the predicate names holds on its data.

The limits themselves (``--max-failures``/``--max-errors``, ``--fail-on``/``--max-findings``)
are checked and shaped here too (:func:`junit_policy`, :func:`scan_policy`): the collectors only
count, and the policy recorded beside their counts is the one this module applies.

Scan policy, as documented for users:

- ``--fail-on critical|high|medium|low``: non-compliant when any actionable finding has that
  severity or a higher one (default ``high``).
- ``--fail-on any``: non-compliant when there is any actionable finding at all, *including*
  severity ``none`` (e.g. a SARIF result of level ``none`` that still says it is a problem, or a
  ``security-severity`` of 0). Results that say they are not a problem (SARIF kind ``pass``,
  ``notApplicable``, ``informational``; v1 levels ``pass`` / ``notApplicable``) are never
  actionable, so ``any`` does not fail a clean BinSkim log full of passes.
- ``--fail-on none``: severity never fails the verdict.
- ``--max-findings N``: independently of ``--fail-on``, non-compliant when there are more than
  ``N`` actionable findings of any severity (``none`` included). Unset: no limit.
- ``--ignore-unfixed`` (``vulns``): a vulnerability no fixed-in version is known for (not
  ``fixable``: see collect/scans/trivy.py, grype.py) is recorded but not actionable, so neither
  threshold counts it; the policy records the choice and the reasons name it.

A predicate this function cannot read, or a type it does not know, is an :class:`InputError`:
there is no verdict to give, and no caller may fall back to the stored flag.
"""

from __future__ import annotations

from affidavit.errors import InputError, UsageError
from affidavit.models.severities import FAIL_ON, RANK, SEVERITIES

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    EntryAt = Callable[[int], Mapping[str, Any] | None]

__all__ = ["judge", "check_recorded", "type_version_of", "junit_verdict", "scan_verdict",
           "custom_verdict", "pull_request_verdict", "junit_policy", "scan_policy",
           "pull_request_policy", "KNOWN_TYPES"]

KNOWN_TYPES = ("generic", "decision", "approval", "approval-request", "junit", "sarif", "snyk",
               "pull_request", "sbom", "coverage", "vulns", "jira", "sonar")
"""Types judged here, besides ``custom:<name>``."""


_OTHERS = frozenset({"sbom", "coverage", "jira", "sonar"})
"""Types whose verdict lives in its own module, ``compliance/<type>.py``, as ``<type>_verdict``
(a function of the predicate alone, raising :class:`Malformed` for what it cannot read)."""


class _Malformed(InputError):
    """A predicate lacks what its type's verdict reads."""


Malformed = _Malformed
"""For the verdict modules of :data:`_OTHERS`: raise it for a predicate they cannot read."""


def _bool(predicate: Mapping[str, Any], field: str) -> bool:
    value = predicate.get(field)
    if not isinstance(value, bool):
        raise _Malformed(f"{field} is not true or false")
    return value


def _count(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Malformed(f"{field} is not a whole number >= 0")
    return value


def _limit(value: object, flag: str) -> int:
    """A user's limit: a whole number >= 0, else a usage error (exit 2) naming the flag."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"{flag}: {value!r} is not a whole number >= 0")
    return value


RETRIES = ("fold", "count")
"""How a JUnit attestation counts a retried test (``--retries``): see collect/junit/fold.py."""


def junit_policy(max_failures: int, max_errors: int, max_flaky: int | None = None,
                 retries: str = "fold") -> dict[str, Any]:
    """The ``policy`` a JUnit predicate records, after checking the limits."""
    if retries not in RETRIES:
        raise UsageError(f"--retries: {retries!r} is not one of {', '.join(RETRIES)}")
    return {"max_failures": _limit(max_failures, "--max-failures"),
            "max_errors": _limit(max_errors, "--max-errors"),
            "max_flaky": None if max_flaky is None else _limit(max_flaky, "--max-flaky"),
            "retries": retries}


def scan_policy(fail_on: str, max_findings: int | None, new_only: bool) -> dict[str, Any]:
    """The ``policy`` a SARIF or Snyk predicate records, after checking it."""
    if fail_on not in FAIL_ON:
        raise UsageError(f"--fail-on: {fail_on!r} is not one of {', '.join(FAIL_ON)}")
    if max_findings is not None:
        _limit(max_findings, "--max-findings")
    return {"fail_on": fail_on, "max_findings": max_findings, "new_only": bool(new_only)}


def pull_request_policy(require_approvals: int | None,
                        allow_stale_approvals: bool) -> dict[str, Any]:
    """The ``policy`` a pull-request predicate records, after checking it."""
    if require_approvals is not None and (_limit(require_approvals, "--require-approvals")
                                          < 1):
        raise UsageError("--require-approvals: 0 asks for nothing; leave the flag out")
    return {"require_approvals": require_approvals,
            "allow_stale_approvals": bool(allow_stale_approvals)}


def pull_request_verdict(predicate: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """Compliant iff a pull request contains the commit and, when the policy asks, the
    deciding one has enough approvals that count (``compliance.pullrequests``)."""
    from affidavit.compliance.pullrequests import shortfall

    found = predicate.get("pull_requests")
    policy = predicate.get("policy")
    if not isinstance(found, list) or not all(isinstance(p, dict) for p in found):
        raise _Malformed("pull_requests is not a list of objects")
    if not isinstance(policy, dict):
        raise _Malformed("policy is not an object")
    need = policy.get("require_approvals")
    if need is not None and (_count(need, "policy.require_approvals") < 1):
        raise _Malformed("policy.require_approvals is below 1")
    stale = _bool(policy, "allow_stale_approvals")
    for pull in found:
        if not isinstance(pull.get("reviews"), list) or not isinstance(pull.get("commits"),
                                                                      list):
            raise _Malformed(f"pull request {pull.get('number')!r} has no reviews or commits "
                             "list")
    if not found:
        commit = predicate.get("commit")
        lookup = predicate.get("lookup")
        waited = lookup.get("waited_seconds") if isinstance(lookup, dict) else None
        what = f"commit {str(commit)[:12]}" if commit else "the commit"
        after = f" (looked for {waited:g} s)" if isinstance(waited, (int, float)) and waited else ""
        return False, [f"no pull request contains {what}{after}"]
    if need is None:
        return True, []
    why = shortfall(found, need, allow_stale=stale, asked_by="--require-approvals")
    return why is None, [] if why is None else [why]


def _many(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def junit_verdict(predicate: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """Compliant iff failed, errored and flaky tests are within the predicate's ``policy``."""
    policy = predicate.get("policy")
    if policy is None and "runs" not in (predicate.get("summary") or {}):
        policy = {"max_failures": 0, "max_errors": 0}  # a v1 record written without one
    if not isinstance(policy, dict) or not isinstance(predicate.get("summary"), dict):
        raise _Malformed("policy or summary is not an object")
    summary = predicate["summary"]
    max_failures = _count(policy.get("max_failures"), "policy.max_failures")
    max_errors = _count(policy.get("max_errors"), "policy.max_errors")
    v2 = "retries" in policy
    if v2 and policy["retries"] not in RETRIES:
        raise _Malformed(f"policy.retries {policy['retries']!r} is not one of "
                         f"{', '.join(RETRIES)}")
    failed_key = "failed" if v2 else "failures"
    failures = _count(summary.get(failed_key), f"summary.{failed_key}")
    errors = _count(summary.get("errors"), "summary.errors")
    kind = "test" if v2 and policy["retries"] == "fold" else "test case"
    reasons = []
    if failures > max_failures:
        reasons.append(f"{_many(failures, kind)} failed, more than --max-failures {max_failures}")
    if errors > max_errors:
        reasons.append(f"{_many(errors, kind)} had an error, more than --max-errors {max_errors}")
    if v2 and policy.get("max_flaky") is not None:
        max_flaky = _count(policy["max_flaky"], "policy.max_flaky")
        flaky = _count(summary.get("flaky"), "summary.flaky")
        if flaky > max_flaky:
            were = "was" if flaky == 1 else "were"
            reasons.append(f"{_many(flaky, kind)} {were} flaky (failed on one run, passed on "
                           f"another), more than --max-flaky {max_flaky}")
    elif v2 and "max_flaky" not in policy:
        raise _Malformed("policy.max_flaky is missing")
    return not reasons, reasons


def _breakdown(counts: Mapping[str, int], severities: tuple[str, ...]) -> str:
    return ", ".join(f"{counts[s]} {s}" for s in severities if counts.get(s))


def _plural(total: int, noun: str) -> str:
    if total == 1:
        return noun
    return noun[:-1] + "ies" if noun.endswith("y") else noun + "s"


_NOUNS = {"sarif": "finding", "snyk": "issue", "vulns": "vulnerability"}
"""What a reason calls one counted thing: the type says it (a Snyk finding is a unique issue)."""


def scan_verdict(kind: str, predicate: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """The recorded ``policy`` applied to the ``actionable`` counts of a ``sarif``, ``snyk`` or
    ``vulns`` (``kind``) predicate; one reason per threshold crossed.

    Reads only ``policy`` and ``actionable``, which both shapes ever recorded (v1 and v2) hold,
    so there is one rule for every record, whatever shape it was written in. A ``vulns``
    policy's ``ignore_unfixed`` changes no count (``actionable`` already leaves unfixed
    findings out), only the words: "fixable vulnerabilities", "with --ignore-unfixed"."""
    rules = predicate.get("policy")
    counts = predicate.get("actionable")
    if not isinstance(rules, dict) or not isinstance(counts, dict):
        raise _Malformed("policy or actionable is not an object")
    fail_on = rules.get("fail_on")
    if fail_on not in FAIL_ON:
        raise _Malformed(f"policy.fail_on {fail_on!r} is not one of {', '.join(FAIL_ON)}")
    max_findings = rules.get("max_findings")
    if max_findings is not None:
        _count(max_findings, "policy.max_findings")
    for severity, value in counts.items():
        if severity not in RANK:
            raise _Malformed(f"actionable has an unknown severity {severity!r}")
        _count(value, f"actionable.{severity}")
    noun = _NOUNS[kind]
    new = "new " if rules.get("new_only") else ""
    flag = ""
    if kind == "vulns":
        if not isinstance(rules.get("ignore_unfixed"), bool):
            raise _Malformed("policy.ignore_unfixed is not true or false")
        if rules["ignore_unfixed"]:
            new, flag = "fixable ", " with --ignore-unfixed"
    reasons: list[str] = []
    if fail_on != "none":
        floor = 0 if fail_on == "any" else RANK[fail_on]
        hit = tuple(s for s in SEVERITIES if RANK[s] >= floor)
        total = sum(counts.get(s, 0) for s in hit)
        if total:
            where = "of any severity" if fail_on == "any" else f"at or above {fail_on}"
            reasons.append(f"{total} {new}{_plural(total, noun)} {where} "
                           f"({_breakdown(counts, hit)}), --fail-on {fail_on}{flag}")
    if max_findings is not None:
        total = sum(counts.get(s, 0) for s in SEVERITIES)
        if total > max_findings:
            reasons.append(f"{total} {new}{_plural(total, noun)} "
                           f"({_breakdown(counts, SEVERITIES)}), "
                           f"more than --max-findings {max_findings}{flag}")
    return not reasons, reasons


def custom_verdict(predicate: Mapping[str, Any],
                   type_version: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """Every rule of the type version holds on the predicate's data."""
    from affidavit.compliance.rules import parse
    from affidavit.errors import UsageError

    rules = type_version.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        raise _Malformed("the type version's rules are not a list of texts")
    if "data" not in predicate:
        raise _Malformed("data is missing")
    reasons = []
    for text in rules:
        try:
            rule = parse(text)
        except UsageError as exc:
            raise _Malformed(f"the type version's rule does not parse ({exc.message})") from None
        holds, reason = rule.evaluate(predicate["data"])
        if not holds:
            reasons.append(f"rule {text!r} does not hold: {reason}")
    return not reasons, reasons


def judge(kind: str, name: str, predicate: Mapping[str, Any],
          type_version: Mapping[str, Any] | None = None) -> tuple[bool, list[str]]:
    """Compliant or not, and one line per reason it is not, for an attestation of type
    ``kind`` named ``name``; ``type_version`` is the custom type's version record for
    ``custom:<name>`` types (the one ``predicate["type_entry"]`` points at)."""
    if not isinstance(predicate, dict):
        raise InputError(f"attestation {name!r}: its predicate is not an object")
    try:
        if kind == "generic":
            ok = _bool(predicate, "compliant")
            return ok, [] if ok else [f"attestation {name!r} is reported not compliant"]
        if kind == "decision":
            ok = _bool(predicate, "compliant")
            return ok, [] if ok else [f"control {predicate.get('control')!r} decided not "
                                      f"compliant: {predicate.get('reason')}"]
        if kind == "approval":
            ok = _bool(predicate, "approved")
            if not isinstance(predicate.get("approver"), str) or not predicate["approver"]:
                raise _Malformed("approver is not a name")
            return ok, [] if ok else [f"{predicate.get('approver')} denied {name!r}"]
        if kind == "approval-request":
            approvers = predicate.get("approvers")
            if not isinstance(approvers, list) or not approvers or not all(
                    isinstance(a, str) and a for a in approvers):
                raise _Malformed("approvers is not a list of names")
            if not isinstance(predicate.get("requester", "x"), str) or not predicate.get(
                    "requester", "x"):
                raise _Malformed("requester is not a name")
            return True, []
        if kind == "junit":
            return junit_verdict(predicate)
        if kind in ("sarif", "snyk", "vulns"):
            return scan_verdict(kind, predicate)
        if kind == "pull_request":
            return pull_request_verdict(predicate)
        if kind in _OTHERS:
            from importlib import import_module

            verdict: Callable[[Mapping[str, Any]], tuple[bool, list[str]]] = getattr(
                import_module(f"affidavit.compliance.{kind}"), f"{kind}_verdict")
            return verdict(predicate)
        if kind.startswith("custom:"):
            if type_version is None:
                raise _Malformed("the version of its type is not at hand")
            return custom_verdict(predicate, type_version)
    except _Malformed as exc:
        raise InputError(f"attestation {name!r} ({kind}): cannot judge its predicate: "
                         f"{exc.message}") from None
    raise InputError(f"attestation {name!r} has type {kind!r}, which this version of "
                     "affidavit cannot judge", remedy="upgrade affidavit")


def type_version_of(record: Mapping[str, Any], entry_at: EntryAt,
                    holder: str) -> Mapping[str, Any] | None:
    """The version record of the custom type a ``custom:<name>`` attestation was judged by
    (the ``attestation_type`` entry its predicate names, found with ``entry_at``), or None for
    other types; an :class:`InputError` when ``holder`` (the log, the package) does not hold
    such a version of that type there."""
    kind = str(record["type"])
    predicate = record["statement"].get("predicate")
    if not kind.startswith("custom:") or not isinstance(predicate, dict):
        return None
    at = predicate.get("type_entry")
    found = entry_at(at) if isinstance(at, int) and not isinstance(at, bool) else None
    if (found is None or found.get("kind") != "attestation_type"
            or f"custom:{found['record'].get('name')}" != kind):
        raise InputError(f"was judged by a version of {kind} (entry {at}) {holder} does not "
                         "hold")
    version: Mapping[str, Any] = found["record"]
    return version


def check_recorded(record: Mapping[str, Any], entry_at: EntryAt, holder: str) -> None:
    """Raise :class:`InputError` unless a recorded attestation's own ``compliant`` is the
    judge's verdict of its predicate: what every reader and verifier checks, so that the flag is
    only ever a cache of this answer. A signed one's envelope must be whole too
    (``models.dsse.check_signed``: an :class:`IntegrityError`, since no honest writer makes a
    bad signature). The message continues "entry N ..."."""
    from affidavit.models.dsse import check_signed

    check_signed(record)
    version = type_version_of(record, entry_at, holder)
    try:
        compliant, _ = judge(record["type"], record["name"], record["statement"].get("predicate"),
                             version)
    except InputError as exc:
        raise InputError(f"cannot be judged: {exc.message}") from None
    if compliant != record["compliant"]:
        raise InputError(f"records compliant={record['compliant']} but its predicate yields "
                         f"{compliant}")
