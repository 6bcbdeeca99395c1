"""Tests of the Trivy and Grype collector (collect/scans/vulns.py, trivy.py, grype.py,
vuln_entry.py): the fixtures in fixtures/vulns/ (SOURCES.md says which documented output each
follows), each scanner's quirks written inline, format detection, unique vulnerabilities per
package, fixed-in versions and ``--ignore-unfixed``, the verdict, and input that fails closed."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from affidavit.collect.scans import vulns
from affidavit.collect.scans.jsonstream import JsonStream
from affidavit.compliance.judge import scan_policy, scan_verdict
from affidavit.errors import InputError, UsageError
from affidavit.models.scans import SnykPredicate
from affidavit.models.vulns import VulnsPredicate
from tests.collect.scans.test_predicate_doc import _model_paths

FIXTURES = Path(__file__).parent / "fixtures" / "vulns"


def _policy(fail_on: str = "high", max_findings: int | None = None,
            ignore_unfixed: bool = False) -> dict[str, Any]:
    return {**scan_policy(fail_on, max_findings, False), "ignore_unfixed": ignore_unfixed}


def predicate(*paths: Path, fail_on: str = "high", max_findings: int | None = None,
              ignore_unfixed: bool = False, format: str | None = None,
              **options: Any) -> dict[str, Any]:
    pred = vulns.summarize([vulns.parse_file(p, format=format) for p in paths],
                           ignore_unfixed=ignore_unfixed, **options)
    assert "policy" not in pred  # counts only: the policy is the caller's
    pred["policy"] = _policy(fail_on, max_findings, ignore_unfixed)
    # the builder writes exactly the model's fields: nothing coerced, dropped or defaulted
    assert VulnsPredicate.model_validate(pred).model_dump(mode="json") == pred
    return pred


@pytest.fixture
def doc(tmp_path: Path) -> Any:
    """Write a document (an object, or raw text) to a file of its own; its path."""
    counter = iter(range(10**6))

    def _write(content: object) -> Path:
        path = tmp_path / f"report{next(counter)}.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content),
                        encoding="utf-8")
        return path

    return _write


def trivy_vuln(ident: str = "CVE-2024-0001", package: str = "openssl",
               severity: str = "HIGH", **extra: Any) -> dict[str, Any]:
    return {"VulnerabilityID": ident, "PkgName": package, "InstalledVersion": "1.0.0",
            "FixedVersion": "1.0.1", "Status": "fixed", "Severity": severity,
            "Title": f"{package}: {ident}", **extra}


def trivy(*results: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"SchemaVersion": 2, "ArtifactName": "app:1", "ArtifactType": "container_image",
            "Results": list(results), **top}


def result(*vulnerabilities: dict[str, Any], target: str = "app:1 (alpine 3.19.1)",
           **extra: Any) -> dict[str, Any]:
    return {"Target": target, "Class": "os-pkgs", "Type": "alpine",
            "Vulnerabilities": list(vulnerabilities), **extra}


def match(ident: str = "CVE-2024-0001", package: str = "openssl", severity: str = "High",
          versions: tuple[str, ...] = ("1.0.1",), state: str = "fixed",
          paths: tuple[str, ...] = ("/lib/apk/db/installed",), **extra: Any) -> dict[str, Any]:
    return {"vulnerability": {"id": ident, "dataSource": f"https://example.test/{ident}",
                              "severity": severity, "urls": [],
                              "fix": {"versions": list(versions), "state": state}},
            "relatedVulnerabilities": [], "matchDetails": [],
            "artifact": {"id": "x", "name": package, "version": "1.0.0", "type": "apk",
                         "locations": [{"path": p} for p in paths], "purl": "", **extra}}


def grype(*matches: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"matches": list(matches), "source": {"type": "image", "target": {
        "userInput": "app:1"}}, "distro": {"name": "alpine", "version": "3.19.1"},
        "descriptor": {"name": "grype", "version": "0.79.0"}, **top}


# ------------------------------------------------------------------ the fixtures


def test_trivy_image_report() -> None:
    pred = predicate(FIXTURES / "trivy-image.json")
    assert [(s["name"], s["total"], s["paths"]) for s in pred["sources"]] == [
        ("registry.example.com/shop/api:1.4.2 (debian 12.5)", 4, 4), ("Java", 2, 3),
        ("app/api.jar/BOOT-INF/classes/application.yml", 0, 0)]
    os_pkgs, java, secret = (s["extra"] for s in pred["sources"])
    assert os_pkgs == {"scanner": "trivy", "artifact": "registry.example.com/shop/api:1.4.2",
                       "artifact_type": "container_image", "target_class": "os-pkgs",
                       "target_type": "debian", "os": "debian 12.5", "misconfigurations": 0,
                       "secrets": 0}
    assert (java["target_class"], java["target_type"]) == ("lang-pkgs", "jar")
    assert (secret["target_class"], secret["secrets"]) == ("secret", 1)  # counted, not judged
    assert pred["summary"] == {"total": 6, "suppressed": 0, "paths": 7, "by_level": None,
                               "by_severity": {"critical": 1, "high": 2, "medium": 1, "low": 1,
                                               "none": 1}}
    assert {s["tool"] for s in pred["sources"]} == {"Trivy"}
    assert pred["files"][0]["format"] == "trivy-json"

    log4j = pred["findings"][0]  # the most severe first
    assert (log4j["rule_id"], log4j["severity"], log4j["location"]) == (
        "CVE-2021-44228", "critical", "org.apache.logging.log4j:log4j-core@2.14.1")
    assert pred["sources"][log4j["source"]]["name"] == "Java"
    assert log4j["extra"] == {
        "package": "org.apache.logging.log4j:log4j-core", "version": "2.14.1",
        "package_type": "jar", "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        "fixed_versions": ["2.15.0", "2.12.2"], "fix_state": "fixed", "fixable": True,
        "package_paths": ["app/api.jar/BOOT-INF/lib/log4j-core-2.14.1.jar",
                          "opt/agent/agent.jar/lib/log4j-core-2.14.1.jar"],
        "entries": 2, "scanner_severity": "CRITICAL",
        "url": "https://avd.aquasec.com/nvd/cve-2021-44228", "related": []}
    assert log4j["location_count"] == 2
    assert log4j["locations"][1] == {"uri": "opt/agent/agent.jar/lib/log4j-core-2.14.1.jar",
                                     "start_line": None, "end_line": None}
    by_id = {f["rule_id"]: f for f in pred["findings"]}
    glibc = by_id["CVE-2024-2961"]
    assert (glibc["extra"]["related"], glibc["extra"]["package_type"]) == (["DSA-5673-1"],
                                                                           "debian")
    assert (glibc["locations"], glibc["location_count"]) == ([], 0)  # OS packages: no path
    jackson = by_id["CVE-2022-42003"]["extra"]["fixed_versions"]
    assert jackson == ["2.14.0-rc1", "2.13.4.1", "2.12.7.1"]
    for ident, state in (("CVE-2019-18276", "affected"), ("CVE-2023-4039", "will_not_fix")):
        extra = by_id[ident]["extra"]
        assert (extra["fix_state"], extra["fixed_versions"], extra["fixable"]) == (
            state, [], False)
    unknown = by_id["CVE-2024-26458"]
    assert (unknown["severity"], unknown["extra"]["scanner_severity"]) == ("none", "UNKNOWN")


def test_grype_image_report() -> None:
    pred = predicate(FIXTURES / "grype-image.json")
    (source,) = pred["sources"]
    assert (source["name"], source["tool"], source["version"]) == (
        "registry.example.com/shop/api:1.4.2", "Grype", "0.74.7")
    assert source["extra"] == {
        "scanner": "grype", "artifact": "registry.example.com/shop/api:1.4.2",
        "artifact_type": "image", "target_class": None, "target_type": None, "os": "debian 12",
        "misconfigurations": None, "secrets": None}
    assert (source["total"], source["paths"]) == (4, 5)
    assert pred["summary"]["by_severity"] == {"critical": 1, "high": 1, "medium": 0, "low": 0,
                                              "none": 2}
    log4j = pred["findings"][0]
    assert (log4j["rule_id"], log4j["location"], log4j["location_count"]) == (
        "GHSA-jfh8-c2jp-5v3q", "log4j-core@2.14.1", 2)
    assert log4j["extra"]["package_paths"] == ["/app/api.jar", "/opt/agent/agent.jar"]
    assert (log4j["extra"]["related"], log4j["extra"]["package_type"]) == (
        ["CVE-2021-44228"], "java-archive")
    assert log4j["message"] == "Remote code injection in Log4j"
    by_id = {f["rule_id"]: f for f in pred["findings"]}
    gcc = by_id["CVE-2023-4039"]
    assert (gcc["severity"], gcc["extra"]["scanner_severity"], gcc["extra"]["fix_state"],
            gcc["extra"]["fixable"]) == ("none", "Negligible", "wont-fix", False)
    assert gcc["message"].startswith("A failure in the -fstack-protector")  # the related one's
    assert gcc["location_count"] == 2  # one match, found through two files
    krb = by_id["CVE-2024-26458"]["extra"]
    assert (krb["scanner_severity"], krb["fix_state"], krb["fixable"]) == (
        "Unknown", "not-fixed", False)
    assert pred["files"][0]["format"] == "grype-json"


def test_grype_directory_report_with_ignored_matches() -> None:
    pred = predicate(FIXTURES / "grype-dir.json", fail_on="medium")
    (source,) = pred["sources"]
    assert (source["name"], source["extra"]["artifact_type"], source["extra"]["os"]) == (
        "/web", "directory", None)
    assert (source["total"], source["suppressed"], source["paths"]) == (3, 1, 3)
    assert pred["actionable"] == {"critical": 0, "high": 2, "medium": 0, "low": 0, "none": 0}
    ignored = pred["findings"][-1]
    assert (ignored["rule_id"], ignored["suppressed"], ignored["actionable"]) == (
        "GHSA-29mw-wpgm-hmr9", True, False)


def test_trivy_fs_report_targets_modified_findings_and_misconfigurations() -> None:
    pred = predicate(FIXTURES / "trivy-fs.json")
    names = [(s["name"], s["total"], s["suppressed"], s["paths"]) for s in pred["sources"]]
    assert names == [("web/package-lock.json", 2, 0, 2), ("admin/package-lock.json", 2, 1, 2),
                     ("requirements.txt", 0, 0, 0), ("Dockerfile", 0, 0, 0)]
    # the same vulnerability of the same package in two lock files: a finding of each
    assert [f["source"] for f in pred["findings"] if f["rule_id"] == "CVE-2020-8203"] == [0, 1]
    assert pred["sources"][3]["extra"]["misconfigurations"] == 1
    assert pred["sources"][0]["extra"]["os"] is None
    assert pred["actionable"]["high"] == 3
    verdict = scan_verdict("vulns", pred)
    assert verdict == (False, ["3 vulnerabilities at or above high (3 high), --fail-on high"])


# ------------------------------------------------------------------ quirks


def test_clean_targets_in_every_spelling(doc: Any) -> None:
    for report in (trivy(result(target="a"), {"Target": "b", "Vulnerabilities": None}),
                   {"SchemaVersion": 2, "ArtifactName": "."},  # trivy fs found nothing
                   trivy(), {"SchemaVersion": 2, "Results": None}):
        pred = predicate(doc(report))
        assert (pred["summary"]["total"], pred["actionable"]["critical"]) == (0, 0)
        assert scan_verdict("vulns", pred) == (True, [])
    assert [s["name"] for s in predicate(doc(trivy(result(target="a"), {
        "Vulnerabilities": None})))["sources"]] == ["a", "result 1"]
    for report in (grype(), grype(matches=None), {"matches": []}):
        pred = predicate(doc(report))
        assert len(pred["sources"]) == 1 and pred["summary"]["total"] == 0


def test_grype_source_of_every_shape(doc: Any) -> None:
    def name(source: object) -> str:
        out: str = predicate(doc(grype(match(), source=source)))["sources"][0]["name"]
        return out

    assert name({"type": "directory", "target": "/src"}) == "/src"
    assert name({"type": "sbom-file", "target": "sbom.spdx.json"}) == "sbom.spdx.json"
    assert name({"type": "image", "target": {"userInput": "alpine:3"}}) == "alpine:3"
    assert name({"type": "unknown", "target": "unknown"}) == "unknown"
    assert name(None) == "(unknown)"


def test_one_finding_per_vulnerability_of_a_package(doc: Any) -> None:
    """Entries sharing id, package and version are one finding at their highest severity;
    another version of the package, or another vulnerability, is another finding."""
    pred = predicate(doc(trivy(result(
        trivy_vuln(severity="LOW", PkgPath="a/x.jar"),
        trivy_vuln(severity="CRITICAL", PkgPath="b/x.jar"),
        trivy_vuln(severity="MEDIUM", PkgPath="a/x.jar"),  # a repeat of a path kept
        trivy_vuln(InstalledVersion="1.0.2"), trivy_vuln("CVE-2024-0002")))))
    assert pred["summary"]["total"] == 3 and pred["summary"]["paths"] == 5
    first = pred["findings"][0]
    assert (first["severity"], first["extra"]["entries"], first["location_count"]) == (
        "critical", 3, 2)
    assert first["extra"]["scanner_severity"] == "CRITICAL"
    many = predicate(doc(trivy(result(*(trivy_vuln(PkgPath=f"lib/{n}.jar")
                                        for n in range(25))))))
    (finding,) = many["findings"]
    assert (finding["location_count"], len(finding["locations"]),
            len(finding["extra"]["package_paths"])) == (25, 10, 10)
    grype_pred = predicate(doc(grype(match(paths=("/a",)), match(paths=("/b", "/c")),
                                     match(type="npm"))))
    assert [f["location_count"] for f in grype_pred["findings"]] == [3, 1]  # type apart


def test_suppressed_only_when_every_entry_is(doc: Any) -> None:
    ignored = dict(match("CVE-1"), appliedIgnoreRules=[{"vulnerability": "CVE-1"}])
    pred = predicate(doc(grype(match("CVE-1", paths=("/b",)), ignoredMatches=[ignored])))
    assert (pred["summary"]["suppressed"], pred["actionable"]["high"]) == (0, 1)
    only = predicate(doc(grype(ignoredMatches=[ignored])))
    assert (only["summary"]["suppressed"], only["actionable"]["high"]) == (1, 0)
    assert scan_verdict("vulns", only) == (True, [])
    modified = {"Type": "vulnerability", "Status": "ignored", "Source": ".trivyignore",
                "Finding": trivy_vuln()}
    other = {"Type": "misconfiguration", "Status": "ignored", "Finding": {"ID": "DS002"}}
    pred = predicate(doc(trivy(result(ExperimentalModifiedFindings=[modified, other]))))
    assert (pred["summary"]["total"], pred["summary"]["suppressed"]) == (1, 1)


@pytest.mark.parametrize(("entry", "fixable"), [
    (trivy_vuln(), True),
    (trivy_vuln(FixedVersion=None, Status=None), False),  # missing FixedVersion
    (trivy_vuln(FixedVersion="", Status="affected"), False),
    (trivy_vuln(Status="will_not_fix", FixedVersion=None), False),
    (trivy_vuln(Status="fix_deferred"), False),
    (trivy_vuln(Status="end_of_life"), False),
    (trivy_vuln(Status=None), True),  # older Trivy writes no Status
    (trivy_vuln(FixedVersion=">=4.17.11"), True),
])
def test_trivy_fixable(doc: Any, entry: dict[str, Any], fixable: bool) -> None:
    (finding,) = predicate(doc(trivy(result(entry))))["findings"]
    assert finding["extra"]["fixable"] is fixable


@pytest.mark.parametrize(("versions", "state", "fixable"), [
    (("1.0.1",), "fixed", True), ((), "not-fixed", False), ((), "wont-fix", False),
    (("9.9.9",), "wont-fix", False), ((), "unknown", False), ((), "", False),
    (("1.0.1",), "unknown", True),
])
def test_grype_fixable(doc: Any, versions: tuple[str, ...], state: str, fixable: bool) -> None:
    (finding,) = predicate(doc(grype(match(versions=versions, state=state))))["findings"]
    assert finding["extra"]["fixable"] is fixable
    assert finding["extra"]["fix_state"] == (state or None)


def test_ignore_unfixed_leaves_unfixed_findings_out_of_the_verdict(doc: Any) -> None:
    report = doc(trivy(result(trivy_vuln("CVE-1", severity="CRITICAL", FixedVersion=None,
                                         Status="affected"),
                              trivy_vuln("CVE-2", severity="LOW"))))
    plain = predicate(report)
    assert plain["actionable"]["critical"] == 1
    assert scan_verdict("vulns", plain) == (
        False, ["1 vulnerability at or above high (1 critical), --fail-on high"])
    ignoring = predicate(report, ignore_unfixed=True)
    assert ignoring["summary"] == plain["summary"]  # counted all the same
    assert ignoring["actionable"] == {"critical": 0, "high": 0, "medium": 0, "low": 1, "none": 0}
    assert ignoring["policy"]["ignore_unfixed"] is True
    assert scan_verdict("vulns", ignoring) == (True, [])
    assert [(f["rule_id"], f["actionable"]) for f in ignoring["findings"]] == [
        ("CVE-2", True), ("CVE-1", False)]  # actionable first
    strict = predicate(report, fail_on="low", max_findings=0, ignore_unfixed=True)
    assert scan_verdict("vulns", strict)[1] == [
        "1 fixable vulnerability at or above low (1 low), --fail-on low with --ignore-unfixed",
        "1 fixable vulnerability (1 low), more than --max-findings 0 with --ignore-unfixed"]


def test_severities(doc: Any) -> None:
    words = {"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low",
             "UNKNOWN": "none", "high": "high"}
    for word, expected in words.items():
        (found,) = predicate(doc(trivy(result(trivy_vuln(severity=word)))))["findings"]
        assert (found["severity"], found["extra"]["scanner_severity"]) == (expected, word)
    (found,) = predicate(doc(trivy(result(trivy_vuln(severity=None)))))["findings"]
    assert (found["severity"], found["extra"]["scanner_severity"]) == ("none", "UNKNOWN")
    grype_words = {"Critical": "critical", "High": "high", "Medium": "medium", "Low": "low",
                   "Negligible": "none", "Unknown": "none", "": "none"}
    for word, expected in grype_words.items():
        (found,) = predicate(doc(grype(match(severity=word))))["findings"]
        assert found["severity"] == expected
    negligible = predicate(doc(grype(match(severity="Negligible"))), fail_on="low")
    assert scan_verdict("vulns", negligible) == (True, [])  # below low, as Grype ranks it
    assert not scan_verdict("vulns", {**negligible, "policy": _policy("any")})[0]


def test_files_of_both_scanners_together(doc: Any) -> None:
    pred = predicate(doc(trivy(result(trivy_vuln()))), doc(grype(match())))
    assert [s["extra"]["scanner"] for s in pred["sources"]] == ["trivy", "grype"]
    assert [f["format"] for f in pred["files"]] == ["trivy-json", "grype-json"]
    assert [f["source"] for f in pred["findings"]] == [0, 1]


def test_the_sample_is_capped_after_the_order(doc: Any) -> None:
    unfixed = [trivy_vuln(f"CVE-U{n}", severity="CRITICAL", FixedVersion=None)
               for n in range(30)]
    fixed = [trivy_vuln(f"CVE-F{n}", severity="LOW") for n in range(30)]
    report = doc(trivy(result(*unfixed, *fixed)))
    parsed = vulns.parse_file(report, findings_cap=5)
    plain = vulns.summarize([parsed], findings_cap=5)
    assert [f["rule_id"] for f in plain["findings"]] == [f"CVE-U{n}" for n in range(5)]
    ignoring = vulns.summarize([parsed], ignore_unfixed=True, findings_cap=5)
    assert [f["rule_id"] for f in ignoring["findings"]] == [f"CVE-F{n}" for n in range(5)]
    assert ignoring["findings_total"] == 60


def test_one_shape_with_sarif_and_snyk() -> None:
    assert _model_paths(VulnsPredicate) == _model_paths(SnykPredicate)


# ------------------------------------------------------------------ format detection


def test_format_is_detected_and_checked(doc: Any) -> None:
    trivy_file, grype_file = doc(trivy(result(trivy_vuln()))), doc(grype(match()))
    assert vulns.parse_file(trivy_file)["format"] == "trivy-json"
    assert vulns.parse_file(grype_file, format="grype")["format"] == "grype-json"
    with pytest.raises(InputError) as err:
        vulns.parse_file(trivy_file, format="grype")
    assert err.value.message == (f"{trivy_file}: --format grype, but this is Trivy JSON (it has "
                                 "Trivy's key 'SchemaVersion')")
    assert err.value.remedy == "use --format trivy, or leave --format out"
    with pytest.raises(InputError, match="--format trivy, but this is Grype JSON"):
        vulns.parse_file(grype_file, format="trivy")
    with pytest.raises(UsageError, match="--format: 'snyk' is not one of trivy, grype"):
        vulns.parse_file(grype_file, format="snyk")
    # detection by any key only one scanner writes, wherever it comes
    late = doc('{"extra": 1, "descriptor": {"name": "grype"}, "matches": []}')
    assert vulns.parse_file(late)["format"] == "grype-json"


@pytest.mark.parametrize(("text", "problem"), [
    ("", "empty file, not Trivy or Grype JSON"),
    ("[]", "the document is an array (Trivy before 0.20 wrote one"),
    ('"report"', "not Trivy or Grype JSON (an object): the document is a string"),
    ('{"runs": []}', "not Trivy or Grype JSON: no SchemaVersion or Results"),
    ('{"SchemaVersion": 2, "matches": []}', "both Trivy's key 'SchemaVersion' and Grype's key "
                                            "'matches': not one scanner's report"),
    ('{"SchemaVersion": 1, "Results": []}', "$.SchemaVersion: 1, only Trivy's schema 2"),
    ('{"Results": []}', "not Trivy's JSON report: no SchemaVersion"),
    ('{"source": {"type": "image"}}', 'not Grype\'s JSON report: no "matches"'),
])
def test_not_a_report(doc: Any, text: str, problem: str) -> None:
    path = doc(text)
    with pytest.raises(InputError) as err:
        vulns.parse_file(path)
    assert err.value.message.startswith(f"{path}: ")
    assert problem in err.value.message


# ------------------------------------------------------------------ input that fails closed

BAD = [
    (trivy(result(trivy_vuln(Severity="SEVERE"))),
     "$.Results[0].Vulnerabilities[0].Severity: unknown severity 'SEVERE'"),
    (trivy(result(trivy_vuln(FixedVersion=2))),
     "$.Results[0].Vulnerabilities[0].FixedVersion: expected a string, got a number"),
    (trivy(result(trivy_vuln(Status=True))),
     "$.Results[0].Vulnerabilities[0].Status: expected a string, got a boolean"),
    (trivy(result(trivy_vuln(Severity=["HIGH"]))),
     "$.Results[0].Vulnerabilities[0].Severity: expected a string, got an array"),
    (trivy(result(trivy_vuln(PkgName=None))), "$.Results[0].Vulnerabilities[0]: no PkgName"),
    (trivy(result(trivy_vuln(VulnerabilityID=""))),
     "$.Results[0].Vulnerabilities[0]: no VulnerabilityID"),
    (trivy(result(trivy_vuln(), "CVE-1")),
     "$.Results[0].Vulnerabilities[1]: expected an object, got a string"),
    (trivy(result(), 3), "$.Results[1]: expected an object, got a number"),
    (trivy(result(Vulnerabilities={})),
     "$.Results[0].Vulnerabilities: expected an array, got an object"),
    ({"SchemaVersion": 2, "Results": {}}, "$.Results: expected an array, got an object"),
    (trivy(result(ExperimentalModifiedFindings=[{"Type": "vulnerability"}])),
     "$.Results[0].ExperimentalModifiedFindings[0].Finding: expected an object, got null"),
    (grype(match(severity="Severe")), "$.matches[0].vulnerability.severity: unknown severity"),
    (grype(match(versions=(3,))),
     "$.matches[0].vulnerability.fix.versions[0]: expected a string, got a number"),
    (grype({"vulnerability": {"id": "CVE-1"}}),
     "$.matches[0].artifact: expected an object, got null"),
    (grype({"vulnerability": {"severity": "High"}, "artifact": {"name": "x"}}),
     "$.matches[0].vulnerability: no id"),
    (grype(match(name=None)), "$.matches[0].artifact: no name"),
    (grype(match(locations={"path": "/x"})),
     "$.matches[0].artifact.locations: expected an array, got an object"),
    (grype(match(), "m"), "$.matches[1]: expected an object, got a string"),
    ({"matches": {}}, "$.matches: expected an array, got an object"),
    (grype(descriptor="grype"), "$.descriptor: expected an object, got a string"),
    (grype(ignoredMatches=[match(severity=7)]),
     "$.ignoredMatches[0].vulnerability.severity: expected a string, got a number"),
]


@pytest.mark.parametrize(("report", "problem"), BAD, ids=[p for _, p in BAD])
def test_malformed_entries_fail_closed(doc: Any, report: object, problem: str) -> None:
    path = doc(report)
    with pytest.raises(InputError) as err:
        vulns.parse_file(path)
    assert err.value.message.startswith(f"{path}: {problem}")
    assert " at line 1 column " in err.value.message  # and where


@pytest.mark.parametrize("text", [
    '{"SchemaVersion": 2, "Results": [{"Target": "a", "Vulnerabilities": [{"VulnerabilityID": "C',
    '{"matches": [], "matches": []}',
    '{"SchemaVersion": 2, "Results": [{"Target": "a", "Target": "b"}]}',
    '{"matches": [{"vulnerability": {"id": "CVE-1", "id": "CVE-2"}}]}',
    '{"matches": []} trailing',
])
def test_hostile_json_fails_closed(doc: Any, text: str) -> None:
    path = doc(text)
    with pytest.raises(InputError, match=f"^{path}: "):
        vulns.parse_file(path)


def test_truncation_anywhere_is_an_input_error() -> None:
    text = (FIXTURES / "trivy-image.json").read_bytes()
    other = (FIXTURES / "grype-image.json").read_bytes()
    from affidavit.collect.scans.vulns import _read

    for data in (text, other):
        for cut in range(0, len(data) - 1, max(1, len(data) // 211)):
            stream = JsonStream(io.BytesIO(data[:cut]), "cut.json", chunk=97)
            with pytest.raises(InputError, match="^cut.json: "):
                _read(stream, None, 10)


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_any_chunk_size_gives_the_same_answer(chunk: int) -> None:
    from affidavit.collect.scans.vulns import _read

    for name in ("trivy-image.json", "grype-image.json", "trivy-fs.json", "grype-dir.json"):
        data = (FIXTURES / name).read_bytes()
        whole = _read(JsonStream(io.BytesIO(data), name), None, 100)
        assert _read(JsonStream(io.BytesIO(data), name, chunk=chunk), None, 100) == whole


# ------------------------------------------------------------------ memory


def _big_trivy(packages: int, targets: int = 20, per_target: int = 40) -> str:
    """A Trivy report whose size is mostly ``Packages`` (``--list-all-pkgs``), which is skipped."""
    results = []
    for t in range(targets):
        results.append({
            "Target": f"t{t}/package-lock.json", "Class": "lang-pkgs", "Type": "npm",
            "Packages": [{"ID": f"p{n}@1.0.{n}", "Name": f"p{n}", "Version": f"1.0.{n}",
                          "Licenses": ["MIT"], "Layer": {}} for n in range(packages)],
            "Vulnerabilities": [trivy_vuln(f"CVE-2024-{n:05d}", f"pkg{n % 7}",
                                           ["LOW", "HIGH", "CRITICAL"][n % 3],
                                           Description="d" * 300) for n in range(per_target)]})
    return json.dumps(trivy(*results))


def _peak(path: Path) -> int:
    tracemalloc.start()
    try:
        vulns.summarize([vulns.parse_file(path)])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file(doc: Any) -> None:
    """json.load would hold several times the file; the stream holds about one read buffer
    and the unique vulnerabilities of one target."""
    small, large = doc(_big_trivy(2000)), doc(_big_trivy(8000))
    size = large.stat().st_size
    assert size > 12 << 20
    peak_small, peak_large = _peak(small), _peak(large)
    assert peak_large < peak_small + (2 << 20), (peak_small, peak_large)
    assert peak_large < size // 2, (peak_large, size)
