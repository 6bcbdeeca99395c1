"""Tests of the SARIF collector (collect/scans/sarif.py, sarif_rules.py, sarif_log.py,
jsonstream.py) on small logs written here, one rule of the level / severity / suppression /
baseline mapping per test, plus every way a file can be wrong."""

from __future__ import annotations

import io
import json
import random
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from affidavit.collect.scans import sarif
from affidavit.collect.scans.jsonstream import JsonStream
from affidavit.collect.scans.sarif_log import read_log
from affidavit.compliance.judge import scan_policy
from affidavit.compliance.judge import scan_verdict as verdict
from affidavit.errors import InputError
from affidavit.models.scans import SarifPredicate


def rule(rule_id: str, level: str | None = None, cvss: object = None,
         **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rule_id, **extra}
    if level is not None:
        out["defaultConfiguration"] = {"level": level}
    if cvss is not None:
        out["properties"] = {"security-severity": cvss}
    return out


def run(results: list[dict[str, Any]], rules: list[dict[str, Any]] | None = None,
        name: str = "Scanner", **tool: Any) -> dict[str, Any]:
    driver: dict[str, Any] = {"name": name, "version": "1.0", "rules": rules or []}
    return {"tool": {"driver": driver, **tool}, "results": results}


def log(*runs: dict[str, Any], version: str = "2.1.0") -> dict[str, Any]:
    return {"version": version, "runs": list(runs)}


@pytest.fixture
def write(tmp_path: Path) -> Any:
    counter = iter(range(10**6))

    def _write(doc: object, name: str | None = None) -> Path:
        path = tmp_path / (name or f"scan{next(counter)}.sarif")
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def judge(write: Any) -> Any:
    """Write each log, parse it, summarize them; the predicate, validated by its model."""

    def _judge(*docs: object, fail_on: str = "high", max_findings: int | None = None,
               new_only: bool = False, **options: Any) -> dict[str, Any]:
        parsed = [sarif.parse_file(write(doc)) for doc in docs]
        pred = sarif.summarize(parsed, new_only=new_only, **options)
        assert "policy" not in pred  # counts only: the policy is the judge's
        pred["policy"] = scan_policy(fail_on, max_findings, new_only)
        # the builder writes exactly the model's fields: nothing coerced, dropped or defaulted
        assert SarifPredicate.model_validate(pred).model_dump(mode="json") == pred
        return pred

    return _judge


def one(judge: Any, result: dict[str, Any], rules: list[dict[str, Any]] | None = None,
        **policy: Any) -> dict[str, Any]:
    """The single finding of a one-result log."""
    pred = judge(log(run([result], rules)), **policy)
    assert pred["summary"]["total"] == 1
    return dict(pred["findings"][0])


# ---------------------------------------------------------------------------------- level


def test_result_level_wins_over_the_rule(judge: Any) -> None:
    found = one(judge, {"ruleId": "R1", "level": "note"}, [rule("R1", "error")])
    assert (found["level"], found["severity"]) == ("note", "low")


def test_rule_default_level_by_rule_id(judge: Any) -> None:
    found = one(judge, {"ruleId": "R2"}, [rule("R1", "note"), rule("R2", "error")])
    assert (found["level"], found["severity"]) == ("error", "high")


def test_rule_default_level_by_rule_index(judge: Any) -> None:
    found = one(judge, {"ruleIndex": 1}, [rule("R1", "note"), rule("R2", "error")])
    assert found["level"] == "error"
    assert found["rule_id"] == "R2"


def test_rule_index_wins_over_a_mismatched_rule_id(judge: Any) -> None:
    found = one(judge, {"ruleId": "R1", "ruleIndex": 1}, [rule("R1", "note"),
                                                         rule("R2", "error")])
    assert found["level"] == "error"


def test_rule_default_level_by_rule_reference_object(judge: Any) -> None:
    found = one(judge, {"rule": {"index": 0}}, [rule("R1", "note")])
    assert found["level"] == "note"
    found = one(judge, {"rule": {"id": "R1"}}, [rule("R1", "error")])
    assert found["level"] == "error"


def test_rule_in_an_extension(judge: Any) -> None:
    extensions = [{"name": "pack-a", "rules": [rule("X1", "note")]},
                  {"name": "pack-b", "rules": [rule("X1", "error"), rule("X2", "note")]}]
    doc = log(run([{"rule": {"index": 0, "toolComponent": {"index": 1}}},
                   {"rule": {"id": "X2", "toolComponent": {"name": "pack-b"}}},
                   {"ruleId": "X1"}],  # by id alone: the first rule with that id (pack-a)
                  [], extensions=extensions))
    pred = judge(doc)
    assert pred["summary"]["by_level"] == {"error": 1, "warning": 0, "note": 2, "none": 0}


def test_hierarchical_rule_id_falls_back_to_its_parent(judge: Any) -> None:
    assert one(judge, {"ruleId": "CA2101/1"}, [rule("CA2101", "error")])["level"] == "error"


def test_no_level_anywhere_is_warning(judge: Any) -> None:
    found = one(judge, {"ruleId": "unknown"}, [rule("R1", "error")])
    assert (found["level"], found["severity"]) == ("warning", "medium")
    assert one(judge, {"message": {"text": "no rule at all"}})["level"] == "warning"


def test_kind_other_than_fail_defaults_the_level_to_none(judge: Any) -> None:
    found = one(judge, {"ruleId": "R1", "kind": "review"}, [rule("R1", "error")])
    assert (found["level"], found["severity"], found["kind"]) == ("none", "none", "review")
    assert found["actionable"]  # review asks for attention
    passed = one(judge, {"ruleId": "R1", "kind": "pass"}, [rule("R1", "error")])
    assert not passed["actionable"]


def test_producer_severity_words_used_as_levels(judge: Any) -> None:
    assert one(judge, {"level": "High"})["level"] == "error"
    assert one(judge, {"level": "info"})["level"] == "note"

def test_an_unknown_level_is_refused(write: Any) -> None:
    path = write(log({"results": [{"level": "error"}, {"level": "bogus"}]}))
    with pytest.raises(InputError, match=r"\$\.runs\[0\]\.results\[1\]\.level: unknown "
                       "level 'bogus'"):
        sarif.parse_file(path)


# ------------------------------------------------------------------------------- severity


def test_security_severity_of_the_result_wins_over_the_rule(judge: Any) -> None:
    found = one(judge, {"ruleId": "R1", "properties": {"security-severity": "9.8"}},
                [rule("R1", "note", "2.0")])
    assert (found["level"], found["severity"]) == ("note", "critical")


def test_security_severity_of_the_rule(judge: Any) -> None:
    found = one(judge, {"ruleId": "R1", "level": "note"}, [rule("R1", "note", 7.5)])
    assert found["severity"] == "high"


def test_security_severity_zero_is_none_and_garbage_falls_back(judge: Any) -> None:
    assert one(judge, {"ruleId": "R1"}, [rule("R1", "error", "0.0")])["severity"] == "none"
    assert one(judge, {"ruleId": "R1"}, [rule("R1", "error", "n/a")])["severity"] == "high"


def test_problem_severity_is_ignored_outside_snyk(judge: Any) -> None:
    found = one(judge, {"ruleId": "R1"},
                [rule("R1", "warning", properties={"problem": {"severity": "low"}})])
    assert found["severity"] == "medium"


# ------------------------------------------------------------------------------- fail-on

MIXED = log(run([{"ruleId": "C"}, {"ruleId": "H"}, {"ruleId": "M"}, {"ruleId": "L"},
                 {"ruleId": "N", "kind": "open"}],
                [rule("C", "error", 9.1), rule("H", "error"), rule("M", "warning"),
                 rule("L", "note"), rule("N")]))


@pytest.mark.parametrize(("fail_on", "failing"), [
    ("critical", 1), ("high", 2), ("medium", 3), ("low", 4), ("any", 5), ("none", 0)])
def test_every_fail_on_value(judge: Any, fail_on: str, failing: int) -> None:
    pred = judge(MIXED, fail_on=fail_on)
    assert pred["actionable"] == {"critical": 1, "high": 1, "medium": 1, "low": 1, "none": 1}
    ok, reasons = verdict("sarif", pred)
    assert ok is (failing == 0)
    if failing:
        assert reasons[0].startswith(f"{failing} finding")


def test_default_fail_on_is_high_and_max_findings(judge: Any) -> None:
    pred = judge(MIXED)
    assert pred["policy"] == {"fail_on": "high", "max_findings": None, "new_only": False}
    assert verdict("sarif", judge(MIXED, fail_on="none", max_findings=5))[0]
    ok, reasons = verdict("sarif", judge(MIXED, fail_on="none", max_findings=4))
    assert not ok and "more than --max-findings 4" in reasons[0]


# --------------------------------------------------------------------------- suppressions


@pytest.mark.parametrize(("suppressions", "hidden"), [
    ([{"kind": "inSource"}], True),
    ([{"kind": "external", "status": "accepted"}], True),
    ([{"kind": "external", "state": "accepted"}], True),  # draft spelling (spec appendix K)
    ([{"kind": "external", "status": "rejected"}], False),
    ([{"kind": "external", "status": "underReview"}], False),
    ([{"kind": "inSource"}, {"kind": "external", "status": "rejected"}], False),
    ([], False),
])
def test_suppressions(judge: Any, suppressions: list[Any], hidden: bool) -> None:
    pred = judge(log(run([{"ruleId": "R", "level": "error", "suppressions": suppressions}])))
    assert pred["summary"]["suppressed"] == int(hidden)
    assert pred["summary"]["by_level"]["error"] == 1  # counted either way
    assert pred["actionable"]["high"] == int(not hidden)
    assert verdict("sarif", pred)[0] is hidden


@pytest.mark.parametrize(("states", "hidden"), [
    (["suppressedInSource"], True), (["suppressedExternally"], True), ([], False),
])
def test_v2_suppression_states(judge: Any, states: list[str], hidden: bool) -> None:
    doc = {"version": "2.0.0", "runs": [{"tool": {"name": "Old"}, "results": [
        {"ruleId": "R", "level": "error", "suppressionStates": states}]}]}
    pred = judge(doc)
    assert pred["summary"]["suppressed"] == int(hidden)
    assert pred["findings"][0]["suppressed"] is hidden


# ------------------------------------------------------------------------------- baseline

BASELINED = log(run([{"ruleId": "R", "level": "error", "baselineState": state}
                     for state in ("new", "unchanged", "updated", "absent")]
                    + [{"ruleId": "R", "level": "error"}]))


def test_baseline_without_new_only(judge: Any) -> None:
    pred = judge(BASELINED)
    assert pred["summary"]["total"] == 5
    assert pred["actionable"]["high"] == 4  # absent results are gone, never actionable
    assert not verdict("sarif", pred)[0]


def test_baseline_with_new_only(judge: Any) -> None:
    pred = judge(BASELINED, new_only=True)
    assert pred["actionable"]["high"] == 2  # new, and no baseline state at all
    states = [(f["baseline_state"], f["actionable"]) for f in pred["findings"]]
    assert states[:2] == [("new", True), (None, True)]
    assert sorted(states[2:], key=str) == [("absent", False), ("unchanged", False),
                                           ("updated", False)]


def test_new_only_passes_when_every_finding_is_known(judge: Any) -> None:
    doc = log(run([{"ruleId": "R", "level": "error", "baselineState": "unchanged"}]))
    assert not verdict("sarif", judge(doc))[0]
    assert verdict("sarif", judge(doc, new_only=True))[0]


def test_v2_existing_is_unchanged(judge: Any) -> None:
    doc = {"version": "2.0.0", "runs": [{"tool": {"name": "Old"}, "results": [
        {"ruleId": "R", "level": "error", "baselineState": "existing"}]}]}
    assert judge(doc)["findings"][0]["baseline_state"] == "unchanged"
    assert verdict("sarif", judge(doc, new_only=True))[0]


# ------------------------------------------------------------------------- runs and files


def test_multi_run_counts_per_run_and_in_total(judge: Any) -> None:
    doc = log(run([{"level": "error"}, {"level": "note"}], name="A"),
              run([{"level": "warning", "suppressions": [{"kind": "inSource"}]}], name="B"),
              run([], name="C"))
    pred = judge(doc)
    assert [(r["tool"], r["total"], r["suppressed"]) for r in pred["sources"]] == [
        ("A", 2, 0), ("B", 1, 1), ("C", 0, 0)]
    assert pred["sources"][0]["by_level"] == {"error": 1, "warning": 0, "note": 1, "none": 0}
    assert pred["summary"]["total"] == 3
    assert pred["summary"]["by_severity"] == {"critical": 0, "high": 1, "medium": 1, "low": 1,
                                              "none": 0}
    assert {f["tool"] for f in pred["findings"]} == {"A", "B"}


def test_several_files_are_listed_with_their_digests(write: Any) -> None:
    first, second = write(log(run([{"level": "error"}]))), write(log(run([])))
    pred = sarif.summarize([sarif.parse_file(first), sarif.parse_file(second)])
    import hashlib
    assert pred["files"] == [
        {"path": str(p), "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
         "format": "sarif"} for p in (first, second)]
    assert [r["file"] for r in pred["sources"]] == [str(first), str(second)]


def test_runs_empty_is_read_and_null_is_refused(judge: Any, write: Any) -> None:
    assert judge({"version": "2.1.0", "runs": []})["summary"]["total"] == 0
    with pytest.raises(InputError, match=r"\$\.runs: expected an array, got null"):
        sarif.parse_file(write({"version": "2.1.0", "runs": None}))
    with pytest.raises(InputError, match=r"\$\.runs\[0\]\.results: expected an array, got null"):
        sarif.parse_file(write(log({"tool": {"driver": {"name": "T"}}, "results": None})))


# -------------------------------------------------------------------------- old versions

V1 = {
    "$schema": "http://json.schemastore.org/sarif-1.0.0", "version": "1.0.0",
    "runs": [{
        "tool": {"name": "BinScan", "version": "1.3.3.0", "semanticVersion": "1.3.3"},
        "results": [
            {"ruleId": "B1", "level": "pass", "formattedRuleMessage": {
                "formatId": "Pass", "arguments": ["app.exe"]}},
            {"ruleId": "B1", "level": "notApplicable"},
            {"ruleId": "B1", "level": "error", "message": "plain v1 message",
             "locations": [{"resultFile": {"uri": "file:///src/a.c",
                                           "region": {"startLine": 3}}}]},
            {"ruleId": "B2", "formattedRuleMessage": {"formatId": "Error",
                                                      "arguments": ["app.exe", "x"]},
             "locations": [{"analysisTarget": {"uri": "file:///bin/app.exe"}}]},
        ],
        "rules": {
            "B1": {"id": "B1", "defaultLevel": "warning",
                   "messageFormats": {"Pass": "'{0}' passes."}},
            "B2": {"id": "B2", "defaultLevel": "error",
                   "messageFormats": {"Error": "'{0}' fails {1}."}},
        },
    }],
}


def test_sarif_1_0(judge: Any) -> None:
    pred = judge(V1, fail_on="any")
    assert pred["sources"][0]["tool"] == "BinScan"
    assert pred["sources"][0]["version"] == "1.3.3.0"
    assert pred["summary"]["by_level"] == {"error": 2, "warning": 0, "note": 0, "none": 2}
    assert pred["actionable"] == {"critical": 0, "high": 2, "medium": 0, "low": 0, "none": 0}
    by_message = {f["message"]: f for f in pred["findings"]}
    assert by_message["'app.exe' passes."]["kind"] == "pass"
    assert not by_message["'app.exe' passes."]["actionable"]
    assert by_message["'app.exe' fails x."]["locations"] == [
        {"uri": "file:///bin/app.exe", "start_line": None, "end_line": None}]
    assert by_message["plain v1 message"]["locations"][0]["start_line"] == 3
    kinds = sorted(f["kind"] for f in pred["findings"])
    assert kinds == ["fail", "fail", "notApplicable", "pass"]


V2_PRERELEASE = {
    "version": "2.0.0-csd.2.beta.2018-10-10",
    "runs": [{
        "tool": {"name": "CodeScanner", "semanticVersion": "2.1.0"},
        "results": [
            {"ruleId": "C1", "message": {"messageId": "a", "arguments": ["x.c"]},
             "locations": [{"physicalLocation": {"fileLocation": {"uri": "x.c"},
                                                 "region": {"startLine": 4, "endLine": 6}}}]},
            {"ruleId": "C2", "suppressionStates": ["suppressedInSource"],
             "baselineState": "existing"},
        ],
        # rules after the results, as the 2.0 pre-releases write them
        "resources": {"rules": {
            "C1": {"configuration": {"defaultLevel": "error"},
                   "messageStrings": {"a": "Review {0}."}},
            "C2": {"configuration": {"defaultLevel": "note"}}}},
    }],
}


def test_sarif_2_0_prerelease_with_rules_after_results(judge: Any) -> None:
    pred = judge(V2_PRERELEASE)
    assert pred["summary"]["by_level"] == {"error": 1, "warning": 0, "note": 1, "none": 0}
    first = pred["findings"][0]
    assert first["message"] == "Review x.c."
    assert first["locations"] == [{"uri": "x.c", "start_line": 4, "end_line": 6}]
    second = pred["findings"][1]
    assert (second["suppressed"], second["baseline_state"]) == (True, "unchanged")


def test_2019_prerelease_rule_descriptors(judge: Any) -> None:
    doc = {"version": "2.0.0-csd.2.beta.2019-01-24", "runs": [{
        "tool": {"driver": {"name": "T", "ruleDescriptors": [rule("D1", "note")]}},
        "results": [{"ruleIndex": 0}, {"ruleId": "D1"}]}]}
    assert judge(doc)["summary"]["by_level"]["note"] == 2


def test_rules_after_results_in_2_1_0(judge: Any) -> None:
    doc = {"runs": [{"results": [{"ruleId": "R", "message": {"id": "m"}}],
                     "tool": {"driver": {"name": "Late", "rules": [
                         rule("R", "error", messageStrings={"m": {"text": "late rule"}})]}}}],
           "version": "2.1.0"}
    found = judge(doc)["findings"][0]
    assert (found["level"], found["message"]) == ("error", "late rule")


# ------------------------------------------------------------------------------ findings


def test_findings_show_the_most_severe_actionable_first_and_state_the_cap(judge: Any) -> None:
    results = [{"ruleId": "R", "level": "note", "message": {"text": f"n{i}"}}
               for i in range(5)]
    results.insert(3, {"ruleId": "R", "level": "error", "message": {"text": "bad"}})
    results.insert(0, {"ruleId": "R", "level": "error", "message": {"text": "hidden"},
                       "suppressions": [{"kind": "inSource"}]})
    pred = judge(log(run(results)), findings_cap=3)
    assert (pred["findings_total"], pred["findings_cap"]) == (7, 3)
    assert [f["message"] for f in pred["findings"]] == ["bad", "n0", "n1"]


def test_whole_predicate_of_a_small_log(write: Any) -> None:
    """The one scan predicate, every field written out by hand for two files: one with two
    runs (an automation id names the first; the second is named by its tool), one empty."""
    import hashlib

    first = write(log(
        {"tool": {"driver": {"name": "Lint", "version": "2.0",
                             "rules": [rule("E1", "error"), rule("W1", "warning", "9.3")]}},
         "automationDetails": {"id": "lint/nightly"},
         "results": [
             {"ruleId": "W1", "message": {"text": "w"},
              "partialFingerprints": {"h": "1"},
              "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"},
                                                  "region": {"startLine": 2}}}]},
             {"ruleId": "E1", "message": {"text": "e"}, "baselineState": "unchanged",
              "suppressions": [{"kind": "inSource"}]}]},
        {"tool": {"driver": {"name": "Sec"}},
         "results": [{"kind": "pass", "message": {"text": "ok"}}]}))
    second = write(log(run([], name="Empty")))
    pred = sarif.summarize([sarif.parse_file(first), sarif.parse_file(second)], new_only=True)
    digest = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (first, second)}
    assert pred == {
        "summary": {"total": 3, "suppressed": 1,
                    "by_severity": {"critical": 1, "high": 1, "medium": 0, "low": 0,
                                    "none": 1},
                    "by_level": {"error": 1, "warning": 1, "note": 0, "none": 1},
                    "paths": None},
        "actionable": {"critical": 1, "high": 0, "medium": 0, "low": 0, "none": 0},
        "sources": [
            {"file": str(first), "name": "lint/nightly", "tool": "Lint", "version": "2.0",
             "total": 2, "suppressed": 1,
             "by_severity": {"critical": 1, "high": 1, "medium": 0, "low": 0, "none": 0},
             "by_level": {"error": 1, "warning": 1, "note": 0, "none": 0}, "paths": None,
             "extra": None},
            {"file": str(first), "name": "Sec", "tool": "Sec", "version": None,
             "total": 1, "suppressed": 0,
             "by_severity": {"critical": 0, "high": 0, "medium": 0, "low": 0, "none": 1},
             "by_level": {"error": 0, "warning": 0, "note": 0, "none": 1}, "paths": None,
             "extra": None},
            {"file": str(second), "name": "Empty", "tool": "Empty", "version": "1.0",
             "total": 0, "suppressed": 0,
             "by_severity": {"critical": 0, "high": 0, "medium": 0, "low": 0, "none": 0},
             "by_level": {"error": 0, "warning": 0, "note": 0, "none": 0}, "paths": None,
             "extra": None}],
        "findings": [
            {"source": 0, "tool": "Lint", "rule_id": "W1", "severity": "critical",
             "level": "warning", "kind": "fail", "message": "w", "location": "a.py:2",
             "locations": [{"uri": "a.py", "start_line": 2, "end_line": 2}],
             "location_count": 1, "fingerprints": {"h": "1"}, "suppressed": False,
             "baseline_state": None, "actionable": True, "extra": None},
            {"source": 0, "tool": "Lint", "rule_id": "E1", "severity": "high",
             "level": "error", "kind": "fail", "message": "e", "location": None,
             "locations": [], "location_count": 0, "fingerprints": {}, "suppressed": True,
             "baseline_state": "unchanged", "actionable": False, "extra": None},
            {"source": 1, "tool": "Sec", "rule_id": None, "severity": "none",
             "level": "none", "kind": "pass", "message": "ok", "location": None,
             "locations": [], "location_count": 0, "fingerprints": {}, "suppressed": False,
             "baseline_state": None, "actionable": False, "extra": None}],
        "findings_total": 3, "findings_cap": 100,
        "files": [{"path": str(first), "sha256": digest[first], "format": "sarif"},
                  {"path": str(second), "sha256": digest[second], "format": "sarif"}]}
    SarifPredicate.model_validate({**pred, "policy": scan_policy("high", None, True)})


def test_finding_fields(judge: Any) -> None:
    result = {"ruleId": "R", "level": "warning",
              "message": {"text": "Use of {0} in {1}", "arguments": ["eval", "f"]},
              "partialFingerprints": {"primaryLocationLineHash": "abc:1", "bad": 3},
              "locations": [{"physicalLocation": {
                  "artifactLocation": {"uri": f"src/{i}.py"},
                  "region": {"startLine": i + 1}}} for i in range(12)]}
    found = one(judge, result)
    assert found["message"] == "Use of eval in f"
    assert found["fingerprints"] == {"primaryLocationLineHash": "abc:1"}
    assert found["location_count"] == 12
    assert len(found["locations"]) == 10
    assert found["locations"][1] == {"uri": "src/1.py", "start_line": 2, "end_line": 2}


def test_long_messages_are_cut(judge: Any) -> None:
    found = one(judge, {"message": {"text": "x" * 5000}})
    assert len(found["message"]) == 1000 and found["message"].endswith("…")


def test_message_falls_back_to_the_rule(judge: Any) -> None:
    found = one(judge, {"ruleId": "R"}, [rule("R", shortDescription={"text": "Short."})])
    assert found["message"] == "Short."


# ---------------------------------------------------------------------------- bad input


def test_bom_and_utf16(write: Any, tmp_path: Path) -> None:
    text = json.dumps(log(run([{"level": "error"}])))
    for data in (b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16")):
        path = tmp_path / "bom.sarif"
        path.write_bytes(data)
        assert sarif.parse_file(path)["sources"][0]["total"] == 1


@pytest.mark.parametrize("cut", [1, 10, 40, 60, 75, 90, 99])
def test_truncated_json(write: Any, cut: int) -> None:
    text = json.dumps(log(run([{"ruleId": "R", "level": "error",
                                "message": {"text": "some text " * 3}}] * 3)), indent=1)
    path = write(text[: len(text) * cut // 100])
    with pytest.raises(InputError) as err:
        sarif.parse_file(path)
    assert err.value.message.startswith(f"{path}: ")
    assert "truncated" in err.value.message
    assert "\n" not in err.value.diagnostics()


@pytest.mark.parametrize(("text", "problem"), [
    ("Scan finished with 3 issues", "not JSON"),
    ('{"version": "2.1.0", "runs": [}', "invalid JSON"),
    ('{"version": "2.1.0", "runs": []} trailing', "extra data"),
    ('{"version": "2.1.0" "runs": []}', "invalid JSON"),
    ("", "empty file"),
    ("  \n ", "empty file"),
])
def test_not_json(write: Any, text: str, problem: str) -> None:
    path = write(text)
    with pytest.raises(InputError) as err:
        sarif.parse_file(path)
    assert err.value.message.startswith(f"{path}: ")
    assert problem in err.value.message


def test_errors_say_line_and_column(write: Any) -> None:
    path = write('{\n  "version": "2.1.0",\n  "runs": [\n    {"results": [{} {}]}]}')
    with pytest.raises(InputError, match=r"expected ',' or '\]'.* at line 4 column 21$"):
        sarif.parse_file(path)
    path = write('{\n  "version": "2.1.0",\n  "runs": [\n    {"results": [{}, 7]}]}')
    with pytest.raises(InputError, match=r"\$\.runs\[0\]\.results\[1\]: expected an object, "
                       "got a number at line 4 column 22$"):
        sarif.parse_file(path)


@pytest.mark.parametrize("version", ["2.2.0", "3.0.0", "1.0", "2.1", "2.1.0-beta", 2.1, None,
                                     "2.0.0-rc.1"])
def test_wrong_version(write: Any, version: object) -> None:
    with pytest.raises(InputError, match="unsupported SARIF version"):
        sarif.parse_file(write({"version": version, "runs": []}))


@pytest.mark.parametrize("version", ["1.0.0", "2.0.0", "2.0.0-csd.2.beta.2019-04-03",
                                     "2.1.0", "2.1.0-rtm.5"])
def test_versions_read(write: Any, version: str) -> None:
    assert sarif.parse_file(write({"version": version, "runs": []}))["version"] == version


@pytest.mark.parametrize(("doc", "problem"), [
    ([], "is an array"),
    ("a string", "not a SARIF log: the document is a string"),
    ({"runs": []}, 'no "version"'),
    ({"version": "2.1.0"}, 'no "runs"'),
    ({"this": "is not a valid SARIF log file."}, 'no "version"'),
    ({"version": "2.1.0", "runs": {}}, "$.runs: expected an array, got an object"),
    ({"version": "2.1.0", "runs": [3]}, "run is not an object"),
    ({"version": "2.1.0", "runs": [{"results": ["x"]}]},
     "$.runs[0].results[0]: expected an object, got a string"),
])
def test_not_sarif(write: Any, doc: object, problem: str) -> None:
    path = write(json.dumps(doc) if not isinstance(doc, str) else json.dumps(doc))
    with pytest.raises(InputError) as err:
        sarif.parse_file(path)
    assert problem in err.value.message and str(path) in err.value.message


def test_snyk_json_is_refused_with_a_remedy(write: Any) -> None:
    for doc in ({"vulnerabilities": [], "ok": True}, [{"vulnerabilities": []}]):
        with pytest.raises(InputError) as err:
            sarif.parse_file(write(doc))
        assert "attest snyk" in err.value.diagnostics()


def test_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        sarif.parse_file(tmp_path / "missing.sarif")
    with pytest.raises(InputError, match="not a regular file|directory"):
        sarif.parse_file(tmp_path)
    (tmp_path / "latin1.sarif").write_bytes(b'{"version": "2.1.0", "runs": [], "x": "\xe9"}')
    with pytest.raises(InputError, match="not UTF-8"):
        sarif.parse_file(tmp_path / "latin1.sarif")


# ----------------------------------------------------------------------- streaming proper


def _big_log(results: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    rules = [rule(f"R{i}", rng.choice(["error", "warning", "note"]),
                  rng.choice([None, "9.5", 7.1, "3.0"])) for i in range(20)]
    rows = []
    for i in range(results):
        row: dict[str, Any] = {"ruleId": f"R{rng.randrange(20)}", "message": {"text": "m" * 50},
                               "locations": [{"physicalLocation": {
                                   "artifactLocation": {"uri": f"f{i}.py"},
                                   "region": {"startLine": i + 1}}}]}
        if i % 3 == 0:
            row["level"] = rng.choice(["error", "warning", "note", "none"])
        if i % 7 == 0:
            row["suppressions"] = [{"kind": "inSource"}]
        if i % 5 == 0:
            row["baselineState"] = rng.choice(["new", "unchanged", "updated", "absent"])
        rows.append(row)
    order = [("results", rows), ("tool", {"driver": {"name": "T", "rules": rules}})]
    if seed % 2:
        order.reverse()
    return json.dumps({"version": "2.1.0", "runs": [dict(order)]}, indent=seed % 3)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 4096])
@pytest.mark.parametrize("seed", [1, 2])
def test_any_chunk_size_gives_the_same_answer(chunk: int, seed: int) -> None:
    text = _big_log(300, seed)
    expected = read_log(JsonStream(io.BytesIO(text.encode()), "x"), cap=20)
    stream = JsonStream(io.BytesIO(text.encode()), "x", chunk=chunk)
    assert read_log(stream, cap=20) == expected
    assert expected["results"] == 300


@pytest.mark.parametrize("chunk", [1, 3, 16, 1 << 20])
def test_error_positions_do_not_depend_on_the_chunk(chunk: int) -> None:
    cases = [
        ('{\n "version": "2.1.0",\n "runs": [{"results": [{}, {},\n  7]}]}',
         "$.runs[0].results[2]: expected an object, got a number at line 4 column 3"),
        ('{\n "version": "2.1.0",\n "runs": [{"results": [{}, {"a": 1,\n  "a": 2}]}]}',
         'duplicate key "a" in an object (the last one would silently win) at line 4 column 3'),
        ('{\n "version": "2.1.0",\n "runs": [{"results": [{},\n  {"a": "x\\udfff"}]}]}',
         "a lone UTF-16 surrogate escape (no character) in a string at line 4 column 11"),
        ('{\n "version": "2.1.0",\n "runs": [{"results": [{},\n  {"a": ' + "9" * 5000 + "}]}]}",
         "an integer of more than 4300 digits at line 4 column 9"),
        ('{\n "version": "2.1.0",\n "runs": [],\n "runs": []}',
         'duplicate key "runs" in an object (the last one would silently win) at line 4 column 2'),
        ('{\n "version": "2.1.0",\n "runs": [{"results": [{}, {}\n  {}]}]}',
         "invalid JSON: expected ',' or ']', found '{' at line 4 column 3"),
        ('{\n "version": "2.1.0",\n "runs": [{"results": [{"a": [1, 2,\n ]}]}]}',
         "invalid JSON: Expecting value at line 4 column 2"),
    ]
    for text, message in cases:
        stream = JsonStream(io.BytesIO(text.encode()), "pos.sarif", chunk=chunk)
        with pytest.raises(InputError) as err:
            read_log(stream, cap=5)
        assert err.value.message == f"pos.sarif: {message}"


@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
def test_truncation_at_every_chunk_size_is_an_input_error(chunk: int) -> None:
    text = _big_log(20).encode()
    for cut in range(0, len(text) - 1, max(1, len(text) // 97)):
        stream = JsonStream(io.BytesIO(text[:cut]), "cut.sarif", chunk=chunk)
        with pytest.raises(InputError, match="cut.sarif: "):
            read_log(stream, cap=5)


def _peak(path: Path) -> int:
    tracemalloc.start()
    try:
        sarif.summarize([sarif.parse_file(path)])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file(write: Any) -> None:
    """json.load would hold several times the file; the stream holds about one read buffer."""
    small, large = write(_big_log(10_000)), write(_big_log(40_000))
    size = large.stat().st_size
    assert size > 12 << 20
    peak_small, peak_large = _peak(small), _peak(large)
    assert peak_large < peak_small + (1 << 20), (peak_small, peak_large)
    assert peak_large < size * 2 // 3, (peak_large, size)


def test_predicate_counts_agree_with_a_naive_reading(write: Any) -> None:
    """The counts of the streaming reader equal a json.load re-statement of the rules."""
    text = _big_log(2000, seed=3)
    pred = sarif.summarize([sarif.parse_file(write(text))])
    doc = json.loads(text)
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    by_level = {"error": 0, "warning": 0, "note": 0, "none": 0}
    hidden = 0
    for res in doc["runs"][0]["results"]:
        r = rules.get(res["ruleId"], {})
        by_level[res.get("level") or r.get("defaultConfiguration", {}).get("level",
                                                                          "warning")] += 1
        hidden += bool(res.get("suppressions"))
    assert pred["summary"]["by_level"] == by_level
    assert pred["summary"]["suppressed"] == hidden
