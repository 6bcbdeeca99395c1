"""A hand-written table of trail verdicts (compliance/verdict.py and compliance/approval.py).

Each case is a template (or none) and the records of one trail in log order, and the verdict
the module docstrings promise for them: the status, every template slot, the unexpected reports
and the reasons, all written out literally. None of them is computed by the code under test, so
a change of behaviour shows up as a failing row rather than as a silently updated expectation.

A record's entry index is its position in the case's list of records (artifacts and attestations
share one log, as they do in the ledger). Rows marked ``xfail`` are documented behaviour the code
does not have yet; they are strict, so fixing the code makes them fail until the mark is removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from affidavit.compliance.verdict import artifact_verdict, judge_trail, trail_verdict, worst
from affidavit.models import build

Record = dict[str, Any]

FLOW = "backend-ci"
TRAIL = "t1"
#: Fingerprints of reported artifacts; targets name the first 12 characters.
APP = "a" * 64
APP_2 = "e" * 64
LIB = "b" * 64
#: The commit the trail is about, and another one.
SHA = "c" * 40
OTHER_SHA = "d" * 40
#: The trail's commit, with an author (who may not approve when four eyes are asked for).
AUTHORED = {"sha": SHA, "author": "Carol Coder <carol@example.com>"}


# --- record builders: the shapes of core/affidavit/models/build.py ------------------------------


def claim(name: str, compliant: bool = True, type: str = "generic", *,
          fingerprint: str | None = None, artifact: str | None = None,
          commit: str | None = None) -> Record:
    """An attestation of ``type`` about the trail, about the artifact ``fingerprint``, or, given
    ``artifact`` and ``commit``, about whichever artifact of that template name the trail
    reports for that commit (the ``--name app.unit --commit SHA`` form)."""
    predicate: Record = {"compliant": compliant}
    if type == "junit":
        predicate = {"summary": {"tests": 3, "failures": 0 if compliant else 1, "errors": 0}}
    return build.attestation(flow=FLOW, trail=TRAIL, name=name, type=type, compliant=compliant,
                             predicate=predicate, fingerprint=fingerprint, artifact=artifact,
                             commit={"sha": commit} if commit else None)


def approve(name: str, approver: str, approved: bool = True) -> Record:
    """``approver``'s word on the trail's approval ``name``: a sign-off or, if not ``approved``,
    a denial."""
    return build.attestation(flow=FLOW, trail=TRAIL, name=name, type="approval",
                             compliant=approved,
                             predicate={"approver": approver, "approved": approved})


def deny(name: str, approver: str) -> Record:
    """``approver`` refuses the trail's approval ``name``."""
    return approve(name, approver, approved=False)


def request(name: str, *approvers: str) -> Record:
    """A request for approval ``name`` naming who may decide it."""
    return build.attestation(flow=FLOW, trail=TRAIL, name=name, type="approval-request",
                             compliant=True, predicate={"approvers": list(approvers)})


def report(name: str, fingerprint: str, commit: Record | None = None) -> Record:
    """Artifact ``fingerprint`` reported to the trail under template name ``name``."""
    return build.artifact(flow=FLOW, trail=TRAIL, name=name, fingerprint=fingerprint,
                          artifact_type="file", commit=commit or {"sha": SHA})


def numbered(records: list[Record]) -> tuple[list[tuple[int, Record]], list[tuple[int, Record]]]:
    """The artifacts and the attestations of ``records``, each with its entry index."""
    artifacts = [(i, r) for i, r in enumerate(records) if "artifact_type" in r]
    attestations = [(i, r) for i, r in enumerate(records) if "artifact_type" not in r]
    return artifacts, attestations


# --- expectation builders: literal values, spelled shorter --------------------------------------


def template(*trail: Record, artifacts: dict[str, list[Record]] | None = None) -> Record:
    """A ``version: 1`` template asking for ``trail`` attestations and ``artifacts``."""
    return {"version": 1, "trail": {
        "attestations": list(trail),
        "artifacts": [{"name": n, "attestations": a} for n, a in (artifacts or {}).items()]}}


def want(name: str, type: str = "generic", **approval: Any) -> Record:
    """One template slot (``min_approvers`` / ``distinct_from_author`` for approvals)."""
    return {"name": name, "type": type, **approval}


def slot(target: str, name: str, type: str, state: str, compliant: bool | None,
         entry: int | None, fingerprint: str | None = None) -> Record:
    """A slot of the verdict as ``trail_verdict`` reports it."""
    return {"target": target, "fingerprint": fingerprint, "name": name, "type": type,
            "state": state, "compliant": compliant, "entry": entry}


def extra(name: str, entry: int | None, compliant: bool | None) -> Record:
    """A report no template slot asked for."""
    return {"name": name, "entry": entry, "compliant": compliant}


@dataclass(frozen=True)
class Case:
    """One row: a template and a trail's records, and the verdict they must give."""

    id: str
    template: Record | None
    records: list[Record]
    status: str
    reasons: list[str]
    slots: list[Record] = field(default_factory=list)
    unexpected: list[Record] = field(default_factory=list)
    xfail: str | None = None


def params(cases: list[Case]) -> list[Any]:
    """``cases`` as pytest parameters named by their ids, xfail rows marked strict."""
    return [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)]
                         if c.xfail else []) for c in cases]


UNIT = [want("unit", "junit")]
FOUR_EYES = want("release", "approval", min_approvers=2, distinct_from_author=True)
APP_TARGET = "artifact app@aaaaaaaaaaaa"

NO_TEMPLATE = [
    Case("nothing-reported", None, [], "COMPLIANT", []),
    Case("all-compliant", None, [claim("lint"), claim("unit", type="junit")], "COMPLIANT", []),
    Case("one-not-compliant", None, [claim("lint"), claim("unit", False, "junit")],
         "NON_COMPLIANT", ["trail: attestation 'unit' is not compliant"]),
    Case("latest-report-wins-fixed", None, [claim("lint", False), claim("lint", True)],
         "COMPLIANT", []),
    Case("latest-report-wins-broken", None, [claim("lint", True), claim("lint", False)],
         "NON_COMPLIANT", ["trail: attestation 'lint' is not compliant"]),
    Case("artifact-bound-not-compliant", None,
         [report("app", APP), claim("unit", False, "junit", fingerprint=APP)],
         "NON_COMPLIANT", ["artifact aaaaaaaaaaaa: attestation 'unit' is not compliant"]),
    # A report bound by name and commit is about the artifact reported under that name for that
    # commit (DESIGN §1), so the reason names that artifact...
    Case("name-bound-not-compliant", None,
         [report("app", APP), claim("unit", False, "junit", artifact="app", commit=SHA)],
         "NON_COMPLIANT", ["artifact aaaaaaaaaaaa: attestation 'unit' is not compliant"]),
    # ...and, before any such artifact is reported, the name and commit it is bound to.
    Case("name-bound-not-compliant-unreported", None,
         [claim("unit", False, "junit", artifact="app", commit=SHA)],
         "NON_COMPLIANT", ["artifact app of commit cccccccccccc: attestation 'unit' is not "
                           "compliant"]),
    Case("latest-report-wins-across-binding-forms", None,
         [report("app", APP), claim("unit", False, "junit", fingerprint=APP),
          claim("unit", True, "junit", artifact="app", commit=SHA)],
         "COMPLIANT", []),
]

TRAIL_SLOTS = [
    Case("slot-complete", template(want("review")), [claim("review")], "COMPLIANT", [],
         [slot("trail", "review", "generic", "COMPLETE", True, 0)]),
    Case("slot-missing", template(want("review")), [], "INCOMPLETE",
         ["trail: attestation 'review' (generic) is missing"],
         [slot("trail", "review", "generic", "MISSING", None, None)]),
    Case("slot-not-compliant", template(want("review")), [claim("review", False)],
         "NON_COMPLIANT", ["trail: attestation 'review' is not compliant"],
         [slot("trail", "review", "generic", "COMPLETE", False, 0)]),
    Case("not-compliant-beats-missing", template(want("review"), want("lint")),
         [claim("lint", False)], "NON_COMPLIANT",
         ["trail: attestation 'review' (generic) is missing",
          "trail: attestation 'lint' is not compliant"],
         [slot("trail", "review", "generic", "MISSING", None, None),
          slot("trail", "lint", "generic", "COMPLETE", False, 0)]),
    Case("slot-latest-report-wins", template(want("review")),
         [claim("review", False), claim("review", True)], "COMPLIANT", [],
         [slot("trail", "review", "generic", "COMPLETE", True, 1)]),
    # A report of the right name and the wrong type does not fill the slot, and is unexpected.
    Case("slot-wrong-type", template(want("tests", "junit")), [claim("tests")], "INCOMPLETE",
         ["trail: attestation 'tests' (junit) has the wrong type"],
         [slot("trail", "tests", "junit", "MISSING", None, None)],
         [extra("tests", 0, True)]),
    Case("slot-any-type", template(want("tests", "*")), [claim("tests", True, "junit")],
         "COMPLIANT", [], [slot("trail", "tests", "*", "COMPLETE", True, 0)]),
    Case("unexpected-compliant", template(want("review")), [claim("review"), claim("extra")],
         "COMPLIANT", [], [slot("trail", "review", "generic", "COMPLETE", True, 0)],
         [extra("extra", 1, True)]),
    Case("unexpected-still-judged", template(want("review")),
         [claim("review"), claim("extra", False)], "NON_COMPLIANT",
         ["trail: attestation 'extra' is not compliant"],
         [slot("trail", "review", "generic", "COMPLETE", True, 0)],
         [extra("extra", 1, False)]),
]

ARTIFACT_SLOTS = [
    Case("bound-by-fingerprint", template(artifacts={"app": UNIT}),
         [report("app", APP), claim("unit", True, "junit", fingerprint=APP)], "COMPLIANT", [],
         [slot(APP_TARGET, "unit", "junit", "COMPLETE", True, 1, APP)]),
    Case("bound-by-fingerprint-not-compliant", template(artifacts={"app": UNIT}),
         [report("app", APP), claim("unit", False, "junit", fingerprint=APP)], "NON_COMPLIANT",
         ["artifact app@aaaaaaaaaaaa: attestation 'unit' is not compliant"],
         [slot(APP_TARGET, "unit", "junit", "COMPLETE", False, 1, APP)]),
    Case("bound-by-name-after-report", template(artifacts={"app": UNIT}),
         [report("app", APP), claim("unit", True, "junit", artifact="app", commit=SHA)],
         "COMPLIANT", [], [slot(APP_TARGET, "unit", "junit", "COMPLETE", True, 1, APP)]),
    Case("bound-by-name-before-report", template(artifacts={"app": UNIT}),
         [claim("unit", True, "junit", artifact="app", commit=SHA), report("app", APP)],
         "COMPLIANT", [], [slot(APP_TARGET, "unit", "junit", "COMPLETE", True, 0, APP)]),
    Case("bound-by-name-other-commit", template(artifacts={"app": UNIT}),
         [report("app", APP), claim("unit", True, "junit", artifact="app", commit=OTHER_SHA)],
         "INCOMPLETE", ["artifact app@aaaaaaaaaaaa: attestation 'unit' (junit) is missing"],
         [slot(APP_TARGET, "unit", "junit", "MISSING", None, None, APP)],
         [extra("unit", 1, True)]),
    Case("name-bound-later-beats-fingerprint", template(artifacts={"app": UNIT}),
         [report("app", APP), claim("unit", False, "junit", fingerprint=APP),
          claim("unit", True, "junit", artifact="app", commit=SHA)],
         "COMPLIANT", [], [slot(APP_TARGET, "unit", "junit", "COMPLETE", True, 2, APP)]),
    Case("fingerprint-later-beats-name-bound", template(artifacts={"app": UNIT}),
         [report("app", APP), claim("unit", True, "junit", artifact="app", commit=SHA),
          claim("unit", False, "junit", fingerprint=APP)],
         "NON_COMPLIANT", ["artifact app@aaaaaaaaaaaa: attestation 'unit' is not compliant"],
         [slot(APP_TARGET, "unit", "junit", "COMPLETE", False, 2, APP)]),
    Case("artifact-not-reported", template(artifacts={"app": UNIT}), [], "INCOMPLETE",
         ["artifact 'app' has not been reported"],
         [slot("artifact app", "app", "artifact", "MISSING", None, None)]),
    Case("artifact-attestation-missing", template(artifacts={"app": UNIT}), [report("app", APP)],
         "INCOMPLETE", ["artifact app@aaaaaaaaaaaa: attestation 'unit' (junit) is missing"],
         [slot(APP_TARGET, "unit", "junit", "MISSING", None, None, APP)]),
    # Two fingerprints under one name: each must carry the slot's attestations (sorted order).
    Case("two-fingerprints-one-name", template(artifacts={"app": UNIT}),
         [report("app", APP_2), report("app", APP),
          claim("unit", True, "junit", fingerprint=APP_2)],
         "INCOMPLETE", ["artifact app@aaaaaaaaaaaa: attestation 'unit' (junit) is missing"],
         [slot(APP_TARGET, "unit", "junit", "MISSING", None, None, APP),
          slot("artifact app@eeeeeeeeeeee", "unit", "junit", "COMPLETE", True, 2, APP_2)]),
]

APPROVALS_WITH_TEMPLATE = [
    Case("four-eyes-two-approvers", template(FOUR_EYES),
         [report("app", APP, AUTHORED), approve("release", "bob"), approve("release", "dave")],
         "COMPLIANT", [], [slot("trail", "release", "approval", "COMPLETE", True, 2)]),
    # Carol wrote the commit: her sign-off does not count, whatever case her name is in. (Her
    # name is the commit's whole author name: "Carol" alone would not be recognised.)
    Case("four-eyes-author-excluded", template(FOUR_EYES),
         [report("app", APP, AUTHORED), approve("release", "CAROL CODER"),
          approve("release", "bob")],
         "INCOMPLETE",
         ["trail: approval 'release' needs 2 approvers other than the commit author, "
          "has 1 (bob); CAROL CODER authored the commit"],
         [slot("trail", "release", "approval", "MISSING", None, None)]),
    Case("four-eyes-author-excluded-by-email", template(FOUR_EYES),
         [report("app", APP, AUTHORED), approve("release", "carol@example.com"),
          approve("release", "bob")],
         "INCOMPLETE",
         ["trail: approval 'release' needs 2 approvers other than the commit author, "
          "has 1 (bob); carol@example.com authored the commit"],
         [slot("trail", "release", "approval", "MISSING", None, None)]),
    Case("latest-word-counts-denial-withdrawn", template(FOUR_EYES),
         [report("app", APP, AUTHORED), deny("release", "bob"), approve("release", "bob"),
          approve("release", "dave")],
         "COMPLIANT", [], [slot("trail", "release", "approval", "COMPLETE", True, 3)]),
    Case("latest-word-counts-approval-withdrawn", template(FOUR_EYES),
         [report("app", APP, AUTHORED), approve("release", "bob"), approve("release", "dave"),
          deny("release", "bob")],
         "NON_COMPLIANT", ["trail: approval 'release' was denied by bob"],
         [slot("trail", "release", "approval", "COMPLETE", False, 3)]),
    Case("standing-denial-beats-enough-approvals", template(FOUR_EYES),
         [report("app", APP, AUTHORED), approve("release", "bob"), approve("release", "dave"),
          deny("release", "erin")],
         "NON_COMPLIANT", ["trail: approval 'release' was denied by erin"],
         [slot("trail", "release", "approval", "COMPLETE", False, 3)]),
    # Bob and BOB are one approver: his latest word counts once.
    Case("one-approver-in-two-cases", template(FOUR_EYES),
         [report("app", APP, AUTHORED), approve("release", "bob"), approve("release", "BOB")],
         "INCOMPLETE",
         ["trail: approval 'release' needs 2 approvers other than the commit author, "
          "has 1 (BOB)"],
         [slot("trail", "release", "approval", "MISSING", None, None)]),
    Case("approval-slot-nobody-asked", template(want("release", "approval")), [], "INCOMPLETE",
         ["trail: approval 'release' needs 1 approver, has 0"],
         [slot("trail", "release", "approval", "MISSING", None, None)]),
    Case("request-other-approver-does-not-count", template(want("release", "approval")),
         [request("release", "alice"), approve("release", "mallory")], "INCOMPLETE",
         ["trail: approval 'release' needs 1 approver of alice, has 0"],
         [slot("trail", "release", "approval", "MISSING", None, None)]),
    Case("request-named-approver-approves", template(want("release", "approval")),
         [request("release", "alice"), approve("release", "mallory"), approve("release", "alice")],
         "COMPLIANT", [], [slot("trail", "release", "approval", "COMPLETE", True, 2)]),
    Case("request-outsider-denial-ignored", template(want("release", "approval")),
         [request("release", "alice"), deny("release", "mallory"), approve("release", "alice")],
         "COMPLIANT", [], [slot("trail", "release", "approval", "COMPLETE", True, 2)]),
    Case("request-names-compare-case-insensitively", template(want("release", "approval")),
         [request("release", "Alice"), approve("release", "ALICE")],
         "COMPLIANT", [], [slot("trail", "release", "approval", "COMPLETE", True, 1)]),
    Case("latest-request-names-the-approvers", template(want("release", "approval")),
         [request("release", "alice"), request("release", "bob"), approve("release", "alice")],
         "INCOMPLETE", ["trail: approval 'release' needs 1 approver of bob, has 0"],
         [slot("trail", "release", "approval", "MISSING", None, None)]),
    Case("request-and-four-eyes", template(FOUR_EYES),
         [report("app", APP, AUTHORED), request("release", "alice", "carol"),
          approve("release", "alice")],
         "INCOMPLETE",
         ["trail: approval 'release' needs 2 approvers of alice, carol other than the commit "
          "author, has 1 (alice)"],
         [slot("trail", "release", "approval", "MISSING", None, None)]),
    # A "*" slot of an approval's name is decided by the approval rule, not the latest word.
    Case("any-type-slot-holding-an-approval", template(want("release", "*")),
         [approve("release", "bob"), deny("release", "dave")], "NON_COMPLIANT",
         ["trail: approval 'release' was denied by dave"],
         [slot("trail", "release", "approval", "COMPLETE", False, 1)]),
    # Approvals no slot asked for are still decided by the rule, and listed as unexpected.
    Case("unasked-approval-given", template(want("review")),
         [claim("review"), approve("release", "bob")], "COMPLIANT", [],
         [slot("trail", "review", "generic", "COMPLETE", True, 0)],
         [extra("release", 1, True)]),
    Case("unasked-approval-denied", template(want("review")),
         [claim("review"), deny("release", "bob")], "NON_COMPLIANT",
         ["trail: approval 'release' was denied by bob"],
         [slot("trail", "review", "generic", "COMPLETE", True, 0)],
         [extra("release", 1, False)]),
    Case("unasked-approval-requested", template(want("review")),
         [claim("review"), request("release", "alice")], "INCOMPLETE",
         ["trail: approval 'release' needs 1 approver of alice, has 0"],
         [slot("trail", "review", "generic", "COMPLETE", True, 0)],
         [extra("release", None, None)]),
]

APPROVALS_WITHOUT_TEMPLATE = [
    Case("given-without-request", None, [approve("release", "bob")], "COMPLIANT", []),
    Case("denied", None, [deny("release", "bob")], "NON_COMPLIANT",
         ["trail: approval 'release' was denied by bob"]),
    Case("denial-withdrawn", None, [deny("release", "bob"), approve("release", "Bob")],
         "COMPLIANT", []),
    Case("requested-not-given", None, [request("release", "alice")], "INCOMPLETE",
         ["trail: approval 'release' needs 1 approver of alice, has 0"]),
    Case("requested-given-by-someone-else", None,
         [request("release", "alice"), approve("release", "mallory")], "INCOMPLETE",
         ["trail: approval 'release' needs 1 approver of alice, has 0"]),
    Case("requested-then-given", None,
         [request("release", "alice"), approve("release", "mallory"), approve("release", "alice")],
         "COMPLIANT", []),
    Case("requested-then-denied", None,
         [request("release", "alice", "bob"), approve("release", "bob"), deny("release", "Alice")],
         "NON_COMPLIANT", ["trail: approval 'release' was denied by Alice"]),
    Case("requested-names-case-insensitive", None,
         [request("release", "ALICE"), approve("release", "alice")], "COMPLIANT", []),
    # No template means no four-eyes rule: the author's own sign-off is enough.
    Case("author-may-approve-without-template", None,
         [report("app", APP, AUTHORED), approve("release", "carol")], "COMPLIANT", []),
]


def _prefixed(prefix: str, cases: list[Case]) -> list[Case]:
    return [Case(**{**c.__dict__, "id": f"{prefix}/{c.id}"}) for c in cases]


CASES = [
    *_prefixed("no-template", NO_TEMPLATE),
    *_prefixed("trail-slots", TRAIL_SLOTS),
    *_prefixed("artifact-slots", ARTIFACT_SLOTS),
    *_prefixed("approval", APPROVALS_WITH_TEMPLATE),
    *_prefixed("approval-no-template", APPROVALS_WITHOUT_TEMPLATE),
]


@pytest.mark.parametrize("case", params(CASES))
def test_trail_verdict(case: Case) -> None:
    artifacts, attestations = numbered(case.records)
    got = trail_verdict(case.template, artifacts, attestations)
    assert got["status"] == case.status
    assert got["reasons"] == case.reasons
    assert got["slots"] == case.slots
    assert got["unexpected"] == case.unexpected


def test_case_ids_are_unique() -> None:
    """A duplicated id would make pytest rename one row and hide which one failed."""
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


# --- judge_trail: which template is in force --------------------------------------------------

T_FLOW = template(want("review"))
T_FLOW_NEW = template(want("review"), want("lint"))
T_TRAIL = template(want("deploy"))
T_TRAIL_NEW = template(want("security"))
TIME = "2026-01-31T10:00:00.000000Z"


def flow_entry(template: Record | None = None) -> Record:
    """The flow was created or changed (with a new template when one is given)."""
    return build.entry("flow", build.flow(name=FLOW, template=template), time=TIME)


def trail_entry(template: Record | None = None) -> Record:
    """The trail was begun or changed (with its own template when one is given)."""
    return build.entry("trail", build.trail(flow=FLOW, name=TRAIL, template=template), time=TIME)


def entry_of(record: Record) -> Record:
    """An artifact or attestation record as the log entry holding it."""
    kind = "artifact" if "artifact_type" in record else "attestation"
    return build.entry(kind, record, time=TIME)


@dataclass(frozen=True)
class TrailCase:
    """Log entries of a flow and of one of its trails (with their log indexes), and the template
    and verdict they must give."""

    id: str
    flow: list[tuple[int, Record]]
    trail: list[tuple[int, Record]]
    template: Record | None
    template_entry: int | None
    status: str
    reasons: list[str]


TRAIL_CASES = [
    TrailCase("no-template-anywhere", [(0, flow_entry())],
              [(1, trail_entry()), (2, entry_of(claim("lint", False)))],
              None, None, "NON_COMPLIANT", ["trail: attestation 'lint' is not compliant"]),
    TrailCase("flow-template", [(0, flow_entry(T_FLOW))], [(1, trail_entry())],
              T_FLOW, 0, "INCOMPLETE", ["trail: attestation 'review' (generic) is missing"]),
    TrailCase("latest-flow-template", [(0, flow_entry(T_FLOW)), (3, flow_entry(T_FLOW_NEW))],
              [(1, trail_entry()), (2, entry_of(claim("review")))],
              T_FLOW_NEW, 3, "INCOMPLETE", ["trail: attestation 'lint' (generic) is missing"]),
    TrailCase("flow-change-without-template-keeps-it",
              [(0, flow_entry(T_FLOW)), (3, flow_entry())],
              [(1, trail_entry()), (2, entry_of(claim("review")))],
              T_FLOW, 0, "COMPLIANT", []),
    # The trail's own template overrides the flow's, even one the flow got later.
    TrailCase("trail-template-beats-later-flow-template",
              [(0, flow_entry(T_FLOW)), (5, flow_entry(T_FLOW_NEW))],
              [(1, trail_entry(T_TRAIL)), (2, entry_of(claim("deploy")))],
              T_TRAIL, 1, "COMPLIANT", []),
    TrailCase("latest-trail-template",
              [(0, flow_entry(T_FLOW))],
              [(1, trail_entry(T_TRAIL)), (2, entry_of(claim("deploy"))),
               (4, trail_entry(T_TRAIL_NEW))],
              T_TRAIL_NEW, 4, "INCOMPLETE",
              ["trail: attestation 'security' (generic) is missing"]),
    TrailCase("trail-rebegun-without-template-keeps-it",
              [(0, flow_entry(T_FLOW))],
              [(1, trail_entry(T_TRAIL)), (2, trail_entry()), (3, entry_of(claim("deploy")))],
              T_TRAIL, 1, "COMPLIANT", []),
    # Artifacts and attestations keep their log indexes, so the later report wins.
    TrailCase("entries-judged-by-log-index",
              [(0, flow_entry(template(artifacts={"app": UNIT})))],
              [(1, trail_entry()), (7, entry_of(claim("unit", True, "junit", artifact="app",
                                                      commit=SHA))),
               (4, entry_of(report("app", APP))),
               (5, entry_of(claim("unit", False, "junit", fingerprint=APP)))],
              template(artifacts={"app": UNIT}), 0, "COMPLIANT", []),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in TRAIL_CASES])
def test_judge_trail(case: TrailCase) -> None:
    chosen, verdict = judge_trail(case.flow, case.trail)
    assert chosen == case.template
    assert verdict["template_entry"] == case.template_entry
    assert verdict["status"] == case.status
    assert verdict["reasons"] == case.reasons


# --- artifact_verdict: one artifact's share of the trail's verdict ------------------------------


@dataclass(frozen=True)
class ArtifactCase:
    """A trail, one of its artifacts, and that artifact's status and reasons."""

    id: str
    template: Record | None
    records: list[Record]
    fingerprint: str
    status: str
    reasons: list[str]
    xfail: str | None = None


TWO_ARTIFACTS = template(artifacts={"app": UNIT, "lib": UNIT})

ARTIFACT_CASES = [
    ArtifactCase("own-attestation-present", TWO_ARTIFACTS,
                 [report("app", APP), report("lib", LIB),
                  claim("unit", True, "junit", fingerprint=APP)],
                 APP, "COMPLIANT", []),
    ArtifactCase("other-artifact-missing-attestation", TWO_ARTIFACTS,
                 [report("app", APP), report("lib", LIB),
                  claim("unit", True, "junit", fingerprint=APP)],
                 LIB, "INCOMPLETE",
                 ["artifact lib@bbbbbbbbbbbb: attestation 'unit' (junit) is missing"]),
    ArtifactCase("other-artifact-not-compliant", TWO_ARTIFACTS,
                 [report("app", APP), report("lib", LIB),
                  claim("unit", True, "junit", fingerprint=APP),
                  claim("unit", False, "junit", fingerprint=LIB)],
                 APP, "COMPLIANT", []),
    ArtifactCase("other-artifact-not-reported", TWO_ARTIFACTS,
                 [report("app", APP), claim("unit", True, "junit", fingerprint=APP)],
                 APP, "COMPLIANT", []),
    ArtifactCase("own-attestation-bound-by-name", TWO_ARTIFACTS,
                 [claim("unit", False, "junit", artifact="app", commit=SHA),
                  report("app", APP), report("lib", LIB)],
                 APP, "NON_COMPLIANT",
                 ["artifact app@aaaaaaaaaaaa: attestation 'unit' is not compliant"]),
    ArtifactCase("trail-slot-missing-counts",
                 template(want("review"), artifacts={"app": UNIT}),
                 [report("app", APP), claim("unit", True, "junit", fingerprint=APP)],
                 APP, "INCOMPLETE", ["trail: attestation 'review' (generic) is missing"]),
    ArtifactCase("trail-attestation-not-compliant-counts",
                 template(want("review"), artifacts={"app": UNIT}),
                 [report("app", APP), claim("unit", True, "junit", fingerprint=APP),
                  claim("review", False)],
                 APP, "NON_COMPLIANT", ["trail: attestation 'review' is not compliant"]),
    ArtifactCase("trail-approval-denied-counts", template(artifacts={"app": UNIT}),
                 [report("app", APP), claim("unit", True, "junit", fingerprint=APP),
                  deny("release", "bob")],
                 APP, "NON_COMPLIANT", ["trail: approval 'release' was denied by bob"]),
    ArtifactCase("unexpected-own-attestation-counts", None,
                 [report("app", APP), claim("sbom", False, fingerprint=APP)],
                 APP, "NON_COMPLIANT",
                 ["artifact aaaaaaaaaaaa: attestation 'sbom' is not compliant"]),
    ArtifactCase("unexpected-own-attestation-bound-by-name-counts", None,
                 [report("app", APP), claim("sbom", False, artifact="app", commit=SHA)],
                 APP, "NON_COMPLIANT",
                 ["artifact aaaaaaaaaaaa: attestation 'sbom' is not compliant"]),
]


@pytest.mark.parametrize("case", [
    pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)]
                 if c.xfail else []) for c in ARTIFACT_CASES])
def test_artifact_verdict(case: ArtifactCase) -> None:
    artifacts, attestations = numbered(case.records)
    got = artifact_verdict(trail_verdict(case.template, artifacts, attestations),
                           case.fingerprint)
    assert got == {"status": case.status, "reasons": case.reasons}


@pytest.mark.parametrize(("statuses", "expected"), [
    ([], "COMPLIANT"),
    (["COMPLIANT"], "COMPLIANT"),
    (["COMPLIANT", "INCOMPLETE"], "INCOMPLETE"),
    (["INCOMPLETE", "NON_COMPLIANT", "COMPLIANT"], "NON_COMPLIANT"),
    (["NON_COMPLIANT"], "NON_COMPLIANT"),
])
def test_worst_is_the_one_fold(statuses: list[str], expected: str) -> None:
    assert worst(statuses) == expected
