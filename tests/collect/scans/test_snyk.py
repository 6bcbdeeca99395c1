"""Tests of the Snyk collector (collect/scans/snyk.py, snyk_json.py) on small Snyk JSON and Snyk
SARIF documents written here: paths vs unique issues, container applications, IaC, Snyk's
problem severity in SARIF, the shared thresholds, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from affidavit.collect.scans import sarif, snyk
from affidavit.compliance.judge import scan_policy
from affidavit.compliance.judge import scan_verdict as verdict
from affidavit.errors import InputError
from affidavit.models.scans import SnykPredicate


def vuln(ident: str, severity: str = "high", package: str = "lodash", **extra: Any
         ) -> dict[str, Any]:
    return {"id": ident, "title": f"Issue {ident}", "severity": severity,
            "packageName": package, "version": "1.0.0", "from": ["app@1", f"{package}@1"],
            **extra}


def project(*vulns: dict[str, Any], name: str = "app", **extra: Any) -> dict[str, Any]:
    return {"vulnerabilities": list(vulns), "ok": not vulns, "packageManager": "npm",
            "projectName": name, "displayTargetFile": "package.json", "path": "/src",
            "dependencyCount": 10, **extra}


@pytest.fixture
def judge(tmp_path: Path) -> Any:
    counter = iter(range(10**6))

    def _judge(*docs: object, fail_on: str = "high", max_findings: int | None = None,
               new_only: bool = False, **options: Any) -> dict[str, Any]:
        paths = []
        for doc in docs:
            path = tmp_path / f"snyk{next(counter)}.json"
            path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
            paths.append(path)
        pred = snyk.summarize([snyk.parse_file(p) for p in paths], new_only=new_only, **options)
        assert "policy" not in pred  # counts only: the policy is the judge's
        pred["policy"] = scan_policy(fail_on, max_findings, new_only)
        # the builder writes exactly the model's fields: nothing coerced, dropped or defaulted
        assert SnykPredicate.model_validate(pred).model_dump(mode="json") == pred
        return pred

    return _judge


def test_open_source_paths_versus_unique_issues(judge: Any) -> None:
    pred = judge(project(vuln("A"), vuln("A", from_=["x"]), vuln("A"), vuln("B", "low")))
    (proj,) = pred["sources"]
    assert (proj["name"], proj["extra"]["type"], proj["extra"]["package_manager"]) == (
        "app", "open-source", "npm")
    assert (proj["extra"]["target_file"], proj["extra"]["path"]) == ("package.json", "/src")
    assert (proj["paths"], proj["total"]) == (4, 2)
    assert proj["by_severity"] == {"critical": 0, "high": 1, "medium": 0, "low": 1, "none": 0}
    first = pred["findings"][0]
    assert (first["rule_id"], first["extra"]["paths"], first["extra"]["package"]) == (
        "A", 3, "lodash")
    assert first["location"] == "lodash@1.0.0"
    assert pred["files"][0]["format"] == "snyk-json"


def test_unique_issue_takes_its_highest_severity(judge: Any) -> None:
    pred = judge(project(vuln("A", "low"), vuln("A", "critical"), vuln("A", "medium")))
    assert pred["summary"]["by_severity"]["critical"] == 1
    assert pred["findings"][0]["severity"] == "critical"


def test_severity_with_critical_of_old_clis(judge: Any) -> None:
    pred = judge(project(vuln("A", "high", severityWithCritical="critical")))
    assert pred["actionable"]["critical"] == 1


def test_all_projects_array(judge: Any) -> None:
    pred = judge([project(vuln("A"), name="one"), project(name="two"),
                  project(vuln("A"), vuln("C", "medium"), name="three")])
    assert [p["name"] for p in pred["sources"]] == ["one", "two", "three"]
    assert pred["summary"] == {"total": 3, "paths": 3, "suppressed": 0, "by_level": None,
                               "by_severity": {"critical": 0, "high": 2, "medium": 1, "low": 0,
                                               "none": 0}}
    assert judge([])["sources"] == []


def test_container_applications_are_projects_of_their_own(judge: Any) -> None:
    image = project(vuln("OS-1", "low", "zlib"), vuln("OS-1", "low", "zlib"),
                    name="docker-image|shop", packageManager="deb", docker={"baseImage": "x"},
                    applications=[project(vuln("JS-1", "critical"), name="shop-ui",
                                          displayTargetFile="/app/package.json")])
    pred = judge(image)
    kinds = [(p["name"], p["extra"]["type"], p["paths"], p["total"]) for p in pred["sources"]]
    assert kinds == [("docker-image|shop", "container", 2, 1),
                     ("shop-ui", "container-app", 1, 1)]
    assert not verdict("snyk", pred)[0]  # the application's critical issue counts
    assert pred["sources"][pred["findings"][0]["source"]]["name"] == "shop-ui"


def test_iac_issues(judge: Any) -> None:
    def issue(ident: str, severity: str, path: list[str], **extra: Any) -> dict[str, Any]:
        return {"id": ident, "title": f"IaC {ident}", "severity": severity, "path": path,
                "lineNumber": 7, **extra}

    doc = [{"projectType": "k8sconfig", "targetFile": "deploy.yaml", "projectName": "infra",
            "vulnerabilities": [], "infrastructureAsCodeIssues": [
                issue("K1", "high", ["spec", "a"]), issue("K1", "high", ["spec", "b"]),
                issue("K1", "high", ["spec", "a"]),
                issue("K2", "medium", ["spec", "c"], isIgnored=True)]}]
    pred = judge(doc, fail_on="medium")
    (proj,) = pred["sources"]
    assert (proj["extra"]["type"], proj["paths"], proj["total"]) == ("iac", 4, 3)
    assert proj["suppressed"] == 1
    assert pred["actionable"] == {"critical": 0, "high": 2, "medium": 0, "low": 0, "none": 0}
    assert pred["findings"][0]["location"] == "deploy.yaml:7 spec.a"
    assert pred["findings"][0]["locations"] == [
        {"uri": "deploy.yaml", "start_line": 7, "end_line": 7}]
    assert pred["findings"][-1]["suppressed"] and not pred["findings"][-1]["actionable"]


@pytest.mark.parametrize(("fail_on", "ok"), [
    ("critical", True), ("high", False), ("medium", False), ("low", False), ("any", False),
    ("none", True)])
def test_thresholds_are_judged_on_unique_issues(judge: Any, fail_on: str, ok: bool) -> None:
    pred = judge(project(*[vuln("A", "high")] * 5), fail_on=fail_on)
    assert verdict("snyk", pred)[0] is ok
    if not ok:
        assert verdict("snyk", pred)[1][0].startswith("1 issue ")


def test_max_findings_counts_unique_issues(judge: Any) -> None:
    doc = project(*[vuln("A", "low")] * 5, vuln("B", "low"))
    assert verdict("snyk", judge(doc, fail_on="none", max_findings=2))[0]
    assert not verdict("snyk", judge(doc, fail_on="none", max_findings=1))[0]


def test_findings_cap(judge: Any) -> None:
    doc = project(*[vuln(f"V{i}", "low") for i in range(10)], vuln("X", "critical"))
    pred = judge(doc, findings_cap=4)
    assert (pred["findings_total"], pred["findings_cap"], len(pred["findings"])) == (11, 4, 4)
    assert [f["rule_id"] for f in pred["findings"]] == ["X", "V0", "V1", "V2"]


# ----------------------------------------------------------------------------- Snyk SARIF


def snyk_sarif(results: list[dict[str, Any]], rules: list[dict[str, Any]],
               tool: str = "Snyk IaC") -> dict[str, Any]:
    return {"$schema": "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/"
                       "Schemata/sarif-schema-2.1.0.json",
            "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": tool, "version": "1.0", "rules": rules}},
                      "automationDetails": {"id": "snyk-iac"}, "results": results}]}


def srule(ident: str, level: str, problem: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": ident, "defaultConfiguration": {"level": level}}
    if problem:
        out["properties"] = {"problem": {"severity": problem}}
    return out


def test_snyk_sarif_honours_problem_severity(judge: Any) -> None:
    doc = snyk_sarif(
        [{"ruleId": "L", "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": "main.tf"}, "region": {"startLine": 3}}}]},
         {"ruleId": "C"}, {"ruleId": "P"}],
        [srule("L", "warning", "low"), srule("C", "warning", "critical"), srule("P", "error")])
    pred = judge(doc)
    (proj,) = pred["sources"]
    assert (proj["name"], proj["extra"]["type"]) == ("snyk-iac", "iac")
    assert (proj["paths"], proj["total"]) == (3, 3)
    assert proj["by_severity"] == {"critical": 1, "high": 1, "medium": 0, "low": 1, "none": 0}
    assert pred["files"][0]["format"] == "sarif"
    by_id = {f["rule_id"]: f for f in pred["findings"]}
    assert by_id["L"]["location"] == "main.tf:3"
    # the SARIF collector reads the same file by level only
    generic = sarif.summarize([sarif.parse_file(Path(pred["files"][0]["path"]))])
    assert generic["summary"]["by_severity"]["medium"] == 2


def test_snyk_code_sarif_falls_back_to_levels_and_honours_suppressions(judge: Any) -> None:
    doc = snyk_sarif([{"ruleId": "js/XSS", "level": "error"},
                      {"ruleId": "js/XSS", "level": "error",
                       "suppressions": [{"kind": "external", "status": "accepted"}]},
                      {"ruleId": "js/Info", "level": "note"}],
                     [srule("js/XSS", "warning"), srule("js/Info", "note")], tool="SnykCode")
    doc["runs"][0].pop("automationDetails")
    pred = judge(doc)
    assert (pred["sources"][0]["name"], pred["sources"][0]["extra"]["type"]) == (
        "SnykCode", "code")
    assert pred["summary"]["suppressed"] == 1
    assert pred["actionable"] == {"critical": 0, "high": 1, "medium": 0, "low": 1, "none": 0}


def test_sarif_with_its_keys_in_an_unusual_order(judge: Any) -> None:
    doc = snyk_sarif([{"ruleId": "C"}], [srule("C", "note", "critical")])
    reordered = {"runs": doc["runs"], "version": "2.1.0"}
    reordered = {"properties": {"x": 1}, **reordered}
    pred = judge(reordered)
    assert pred["actionable"]["critical"] == 1
    assert pred["files"][0]["format"] == "sarif"


def test_several_runs_are_several_projects(judge: Any) -> None:
    doc = snyk_sarif([], [], tool="Snyk Container")
    doc["runs"].append({"tool": {"driver": {"name": "Snyk Open Source", "rules": [
        srule("X", "error")]}}, "results": [{"ruleId": "X"}]})
    pred = judge(doc)
    assert [(p["name"], p["extra"]["type"], p["total"]) for p in pred["sources"]] == [
        ("snyk-iac", "container", 0), ("Snyk Open Source", "open-source", 1)]
    assert pred["findings"][0]["source"] == 1


def test_whole_predicate_of_snyk_json_and_snyk_sarif(tmp_path: Path) -> None:
    """The one scan predicate, every field written out by hand: a Snyk JSON project (two paths
    to one issue) and a Snyk SARIF run, in two files; the second file's sources follow the
    first's, and its finding points at its own source."""
    import hashlib

    deps, code = tmp_path / "deps.json", tmp_path / "code.sarif"
    deps.write_text(json.dumps(project(vuln("A", "medium"), vuln("A", "high"))),
                    encoding="utf-8")
    code.write_text(json.dumps(snyk_sarif(
        [{"ruleId": "js/X", "message": {"text": "XSS"},
          "suppressions": [{"kind": "external", "status": "accepted"}],
          "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.js"},
                                              "region": {"startLine": 9}}}]}],
        [srule("js/X", "warning", "high")], tool="SnykCode")), encoding="utf-8")
    pred = snyk.summarize([snyk.parse_file(deps), snyk.parse_file(code)])
    digest = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (deps, code)}
    assert pred == {
        "summary": {"total": 2, "suppressed": 1,
                    "by_severity": {"critical": 0, "high": 2, "medium": 0, "low": 0,
                                    "none": 0},
                    "by_level": None, "paths": 3},
        "actionable": {"critical": 0, "high": 1, "medium": 0, "low": 0, "none": 0},
        "sources": [
            {"file": str(deps), "name": "app", "tool": None, "version": None, "total": 1,
             "suppressed": 0,
             "by_severity": {"critical": 0, "high": 1, "medium": 0, "low": 0, "none": 0},
             "by_level": None, "paths": 2,
             "extra": {"type": "open-source", "package_manager": "npm",
                       "target_file": "package.json", "path": "/src"}},
            {"file": str(code), "name": "snyk-iac", "tool": "SnykCode", "version": "1.0",
             "total": 1, "suppressed": 1,
             "by_severity": {"critical": 0, "high": 1, "medium": 0, "low": 0, "none": 0},
             "by_level": None, "paths": 1,
             "extra": {"type": "code", "package_manager": None, "target_file": None,
                       "path": None}}],
        "findings": [
            {"source": 0, "tool": None, "rule_id": "A", "severity": "high", "level": None,
             "kind": "fail", "message": "Issue A", "location": "lodash@1.0.0",
             "locations": [], "location_count": 0, "fingerprints": {}, "suppressed": False,
             "baseline_state": None, "actionable": True,
             "extra": {"package": "lodash", "version": "1.0.0", "paths": 2}},
            {"source": 1, "tool": "SnykCode", "rule_id": "js/X", "severity": "high",
             "level": "warning", "kind": "fail", "message": "XSS", "location": "a.js:9",
             "locations": [{"uri": "a.js", "start_line": 9, "end_line": 9}],
             "location_count": 1, "fingerprints": {}, "suppressed": True,
             "baseline_state": None, "actionable": False,
             "extra": {"package": None, "version": None, "paths": 1}}],
        "findings_total": 2, "findings_cap": 100,
        "files": [{"path": str(deps), "sha256": digest[deps], "format": "snyk-json"},
                  {"path": str(code), "sha256": digest[code], "format": "sarif"}]}
    SnykPredicate.model_validate({**pred, "policy": scan_policy("high", None, False)})


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("text", "problem"), [
    ("Testing /src...\n\nTested 10 dependencies, found 2 issues", "not JSON"),
    ('{"vulnerabilities": [', "truncated"),
    ('[{"vulnerabilities": []}, {"vulnerab', "truncated"),
    ("", "empty file"),
    ('{"ok": false, "error": "Could not detect supported target files in /src\\nmore",'
     ' "path": "/src"}', "Snyk reported an error: Could not detect supported target files"),
    ('[{"vulnerabilities": []}, {"ok": false, "error": "auth failed"}]',
     "Snyk reported an error in item 1: auth failed"),
    ('{"this": "is not a valid SARIF log file."}', 'no "vulnerabilities"'),
    ('[{"vulnerabilities": []}, 3]', "item 1 is not an object"),
    ('{"vulnerabilities": {}}', '"vulnerabilities" is not an array'),
    ('"text"', "not Snyk JSON or SARIF: the document is a string"),
    ("null", "the document is null"),
    ('{"version": "9.9.9", "runs": []}', "unsupported SARIF version"),
])
def test_bad_input(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "scan.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        snyk.parse_file(path)
    assert err.value.message.startswith(f"{path}: ")
    assert problem in err.value.message
    assert "\n" not in err.value.diagnostics()
