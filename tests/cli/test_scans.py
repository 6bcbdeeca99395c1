"""`attest junit|sarif|snyk` end to end: collector, verdict, evidence, outputs and bad input.

The collectors' own counting rules are tested in tests/collect; here the CLI's mapping is.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FLOW, TRAIL
from tests.helpers import Cli, Home, Result, assert_error, state

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="calc" tests="3" failures="1" errors="0" skipped="1">
  <testcase classname="calc.Add" name="test_one"/>
  <testcase classname="calc.Add" name="test_two"><failure message="2 != 3">trace</failure>
  </testcase>
  <testcase classname="calc.Add" name="test_three"><skipped/></testcase>
</testsuite>
"""


def _sarif(*results: tuple[str, str]) -> str:
    """A SARIF 2.1.0 log with one result per (rule, level)."""
    rules = sorted({rule for rule, _ in results})
    return json.dumps({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "scanner", "version": "1.2",
                            "rules": [{"id": r} for r in rules]}},
        "results": [{"ruleId": rule, "level": level, "message": {"text": f"{rule} found"},
                     "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"},
                                                         "region": {"startLine": 3}}}]}
                    for rule, level in results]}]})


SNYK = json.dumps({"projectName": "shop", "packageManager": "npm", "displayTargetFile":
                   "package-lock.json", "ok": False, "vulnerabilities": [
                       {"id": "SNYK-JS-1", "title": "Prototype pollution", "severity": "high",
                        "packageName": "lodash", "version": "4.17.0",
                        "from": ["shop@1.0.0", "lodash@4.17.0"]},
                       {"id": "SNYK-JS-1", "title": "Prototype pollution", "severity": "high",
                        "packageName": "lodash", "version": "4.17.0",
                        "from": ["shop@1.0.0", "a@1", "lodash@4.17.0"]},
                       {"id": "SNYK-JS-2", "title": "ReDoS", "severity": "low",
                        "packageName": "ms", "version": "0.7.0",
                        "from": ["shop@1.0.0", "ms@0.7.0"]}]})


def _json(result: Result) -> dict[str, Any]:
    assert result.code == 0, str(result)
    out: dict[str, Any] = json.loads(result.out)
    return out


def _trail_args(name: str) -> tuple[str, ...]:
    return ("--flow", FLOW, "--trail", TRAIL, "--name", name)


def test_junit_counts_verdict_and_raw_files_as_evidence(cli: Cli, trail: Any, files: Any) -> None:
    report = files("results/sub/TEST-calc.xml", JUNIT)
    out = _json(cli("attest", "junit", *_trail_args("unit"), "--results-dir",
                    report.parent.parent, "--output", "json"))
    record = out["entry"]["record"]
    summary = record["statement"]["predicate"]["summary"]
    assert (summary["tests"], summary["passed"], summary["failed"], summary["skipped"],
            summary["runs"]) == (3, 1, 1, 1, 3)
    assert record["compliant"] is False
    assert out["reasons"] == ["1 test failed, more than --max-failures 0"]
    assert [e["name"] for e in record["evidence"]] == ["sub/TEST-calc.xml"]
    assert record["statement"]["predicateType"] == "https://affidavit.dev/predicate/junit/v2"
    assert record["statement"]["predicate"]["policy"] == {
        "max_failures": 0, "max_errors": 0, "max_flaky": None, "retries": "fold"}
    allowed = _json(cli("attest", "junit", *_trail_args("unit"), "--results", str(report),
                        "--max-failures", "1", "--no-attach", "--output", "json"))
    assert allowed["entry"]["record"]["compliant"] is True
    assert "evidence" not in allowed["entry"]["record"]


def test_attach_is_read_from_affidavit_attach(cli: Cli, trail: Any, files: Any, home: Home,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """``--attach/--no-attach`` reads AFFIDAVIT_ATTACH, and a bad value names ``--attach``."""
    report = files("results/TEST-calc.xml", JUNIT)
    args = ("attest", "junit", *_trail_args("unit"), "--results", str(report),
            "--max-failures", "1", "--output", "json")
    monkeypatch.setenv("AFFIDAVIT_ATTACH", "false")
    assert "evidence" not in _json(cli(*args))["entry"]["record"]
    monkeypatch.setenv("AFFIDAVIT_ATTACH", "maybe")
    before = state(home)
    assert_error(cli(*args), 2, "--attach (from AFFIDAVIT_ATTACH): expected true or false")
    assert state(home) == before


def test_junit_markdown_summary(cli: Cli, trail: Any, files: Any) -> None:
    report = files("TEST-calc.xml", JUNIT)
    result = cli("attest", "junit", *_trail_args("unit"), "--results", report,
                 "--output", "markdown")
    assert result.code == 0
    assert result.out.startswith("### ❌ unit (junit): not compliant\n")
    assert "| Tests | Passed | Flaky | Failed | Errors | Skipped | Runs |" in result.out
    assert "| 3 | 1 | 0 | 1 | 0 | 1 | 3 |" in result.out
    assert "| calc | calc.Add.test_two | failure | 2 != 3 |" in result.out


RETRIED = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="pkg" tests="4" failures="2">
    <testcase classname="pkg" name="TestFlaky" time="0.1"><failure message="timed out"/></testcase>
    <testcase classname="pkg" name="TestStable" time="0.1"/>
    <testcase classname="pkg" name="TestFlaky" time="0.1"/>
    <testcase classname="pkg" name="TestBroken" time="0.1"><failure message="no"/></testcase>
  </testsuite>
</testsuites>
"""


def test_junit_retries_fold_count_and_max_flaky(cli: Cli, trail: Any, files: Any,
                                                home: Home) -> None:
    """A retried test that passed is flaky, not failed; --retries count is the old reading;
    --max-flaky limits the flaky ones; the policy is in the record."""
    report = files("results/TEST-pkg.xml", RETRIED)

    def attest(*flags: str) -> dict[str, Any]:
        return _json(cli("attest", "junit", *_trail_args("unit"), "--results", str(report),
                         "--max-failures", "1", *flags, "--output", "json"))

    folded = attest()
    record = folded["entry"]["record"]
    predicate = record["statement"]["predicate"]
    assert {k: predicate["summary"][k] for k in ("tests", "passed", "flaky", "failed", "runs")} \
        == {"tests": 3, "passed": 1, "flaky": 1, "failed": 1, "runs": 4}
    assert [c["name"] for c in predicate["failed_cases"]] == ["TestBroken"]
    assert record["compliant"] is True
    counted = attest("--retries", "count")
    summary = counted["entry"]["record"]["statement"]["predicate"]["summary"]
    assert (summary["tests"], summary["failed"], summary["flaky"]) == (4, 2, 0)
    assert counted["reasons"] == ["2 test cases failed, more than --max-failures 1"]
    limited = attest("--max-flaky", "0")
    assert limited["entry"]["record"]["statement"]["predicate"]["policy"]["max_flaky"] == 0
    assert limited["reasons"] == [
        "1 test was flaky (failed on one run, passed on another), more than --max-flaky 0"]
    before = state(home)
    for flags, problem in ((("--retries", "twice"), "--retries"),
                           (("--max-flaky", "-1"), "--max-flaky")):
        assert_error(cli("attest", "junit", *_trail_args("unit"), "--results", str(report),
                         *flags), 2, problem)
        assert state(home) == before


def test_junit_needs_an_explicit_location(cli: Cli, trail: Any, home: Home) -> None:
    before = state(home)
    result = cli("attest", "junit", *_trail_args("unit"))
    assert_error(result, 2, "--results-dir")
    assert state(home) == before


def test_junit_bad_file_is_exit_2_naming_it(cli: Cli, trail: Any, files: Any,
                                             home: Home) -> None:
    bad = files("TEST-bad.xml", "<testsuite><testcase name='x'>")
    before = state(home)
    assert_error(cli("attest", "junit", *_trail_args("unit"), "--results", bad), 2, str(bad))
    assert state(home) == before


def test_sarif_thresholds(cli: Cli, trail: Any, files: Any,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    log = files("scan.sarif", _sarif(("R1", "error"), ("R2", "note")))
    failed = _json(cli("attest", "sarif", *_trail_args("sast"), "--scan-results", log,
                       "--output", "json"))
    predicate = failed["entry"]["record"]["statement"]["predicate"]
    assert predicate["summary"]["by_severity"]["high"] == 1
    assert predicate["summary"]["by_severity"]["low"] == 1
    assert failed["entry"]["record"]["compliant"] is False
    assert failed["entry"]["record"]["statement"]["predicateType"] == (
        "https://affidavit.dev/predicate/sarif/v2")
    assert failed["reasons"] == ["1 finding at or above high (1 high), --fail-on high"]
    monkeypatch.setenv("AFFIDAVIT_FAIL_ON", "critical")
    passed = _json(cli("attest", "sarif", *_trail_args("sast"), "--scan-results", log,
                       "--output", "json"))
    assert passed["entry"]["record"]["compliant"] is True
    assert passed["entry"]["record"]["statement"]["predicate"]["policy"]["fail_on"] == "critical"
    capped = _json(cli("attest", "sarif", *_trail_args("sast"), "--scan-results", log,
                       "--max-findings", "1", "--output", "json"))
    assert capped["entry"]["record"]["compliant"] is False


def test_sarif_markdown_lists_findings(cli: Cli, trail: Any, files: Any) -> None:
    log = files("scan.sarif", _sarif(("R1", "error")))
    result = cli("attest", "sarif", *_trail_args("sast"), "--scan-results", log,
                 "--output", "markdown")
    assert result.code == 0
    assert "**First findings**" in result.out
    assert "| high | R1 | R1 found | a.py:3 |" in result.out


def test_a_ledger_with_v1_scan_records_still_reads_and_verifies(
        cli: Cli, trail: Any, ledger: Any, files: Any, tmp_path: Path) -> None:
    """Records written before the scan predicates shared one shape stay in ledgers: every read,
    ``verify ledger`` and ``verify package`` judge them (and v2 records beside them) alike."""
    from affidavit.api import record
    from affidavit.models.predicates import SCAN_V1
    from tests.compliance.test_scan_versions import SARIF_V1, SNYK_V1

    claim = record.Claim(flow=FLOW, trail=TRAIL, name="sast-old")
    old_sarif = record.attest(ledger, claim, type="sarif", predicate=SARIF_V1,
                              predicate_type=SCAN_V1["sarif"])
    relaxed = {**SNYK_V1, "policy": {"fail_on": "critical", "max_findings": None,
                                     "new_only": False}}
    old_snyk = record.attest(ledger, record.Claim(flow=FLOW, trail=TRAIL, name="deps-old"),
                             type="snyk", predicate=relaxed, predicate_type=SCAN_V1["snyk"])
    assert (old_sarif.entry["record"]["compliant"], old_snyk.entry["record"]["compliant"]) == (
        False, True)
    assert old_sarif.reasons == ["1 finding at or above high (1 high), --fail-on high"]
    log = files("scan.sarif", _sarif(("R1", "note")))
    _json(cli("attest", "sarif", *_trail_args("sast"), "--scan-results", log, "--output",
              "json"))
    got = _json(cli("get", "attestation", "sast-old", "--flow", FLOW, "--trail", TRAIL,
                    "--output", "json"))
    assert got["record"]["statement"]["predicateType"] == SCAN_V1["sarif"]
    states = {a["name"]: a["compliant"] for a in _json(cli(
        "get", "trail", TRAIL, "--flow", FLOW, "--output", "json"))["attestations"]}
    assert states == {"sast-old": False, "deps-old": True, "sast": True}
    assert cli("verify", "ledger").code == 0
    package = tmp_path / "t1.zip"
    assert cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", package).code == 0
    verified = cli("verify", "package", package, "--public-key", ledger.verifier_key())
    assert verified.code == 0, str(verified)


JUNIT_V1_PREDICATE: dict[str, Any] = {  # as the v1 collector wrote it: per element, no runs
    "summary": {"tests": 3, "passed": 1, "failures": 1, "errors": 0, "skipped": 1, "flaky": 0,
                "duration_s": 0.5},
    "declared": {"tests": 3, "failures": 1, "errors": 0, "skipped": 1},
    "suites": [{"name": "calc", "file": "TEST-calc.xml", "tests": 3, "failures": 1,
                "errors": 0, "skipped": 1, "duration_s": 0.5}],
    "failed_cases": [{"suite": "calc", "classname": "calc.Add", "name": "test_two",
                      "kind": "failure", "message": "2 != 3"}],
    "failed_cases_total": 1, "failed_cases_cap": 50,
    "files": [{"path": "TEST-calc.xml", "sha256": "cd" * 32}],
    "policy": {"max_failures": 0, "max_errors": 0},
}


def test_a_ledger_with_v1_junit_records_still_reads_and_verifies(
        cli: Cli, trail: Any, ledger: Any, files: Any, tmp_path: Path) -> None:
    """JUnit records written before retries were folded (``junit/v1``: ``failures``, a policy
    without ``retries``, or none) are judged as they were written, beside v2 records."""
    from affidavit.api import record
    from affidavit.models.predicates import JUNIT_V1

    old = record.attest(ledger, record.Claim(flow=FLOW, trail=TRAIL, name="unit-old"),
                        type="junit", predicate=JUNIT_V1_PREDICATE, predicate_type=JUNIT_V1)
    assert old.entry["record"]["compliant"] is False
    assert old.reasons == ["1 test case failed, more than --max-failures 0"]
    no_policy = {k: v for k, v in JUNIT_V1_PREDICATE.items() if k != "policy"}
    older = record.attest(ledger, record.Claim(flow=FLOW, trail=TRAIL, name="unit-older"),
                          type="junit", predicate=no_policy, predicate_type=JUNIT_V1)
    assert older.entry["record"]["compliant"] is False
    report = files("results/TEST-pkg.xml", RETRIED)
    _json(cli("attest", "junit", *_trail_args("unit"), "--results", str(report),
              "--max-failures", "1", "--output", "json"))
    states = {a["name"]: a["compliant"] for a in _json(cli(
        "get", "trail", TRAIL, "--flow", FLOW, "--output", "json"))["attestations"]}
    assert states == {"unit-old": False, "unit-older": False, "unit": True}
    assert cli("verify", "ledger").code == 0
    package = tmp_path / "t1.zip"
    assert cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", package).code == 0
    verified = cli("verify", "package", package, "--public-key", ledger.verifier_key())
    assert verified.code == 0, str(verified)


def test_snyk_json(cli: Cli, trail: Any, files: Any) -> None:
    report = files("snyk.json", SNYK)
    out = _json(cli("attest", "snyk", *_trail_args("deps"), "--scan-results", report,
                    "--fail-on", "critical", "--output", "json"))
    predicate = out["entry"]["record"]["statement"]["predicate"]
    assert (predicate["summary"]["paths"], predicate["summary"]["total"]) == (3, 2)
    assert [f["location"] for f in predicate["findings"]] == ["lodash@4.17.0", "ms@0.7.0"]
    assert out["entry"]["record"]["statement"]["predicateType"] == (
        "https://affidavit.dev/predicate/snyk/v2")
    assert out["entry"]["record"]["compliant"] is True
    failing = _json(cli("attest", "snyk", *_trail_args("deps"), "--scan-results", report,
                        "--output", "json"))
    assert failing["entry"]["record"]["compliant"] is False
    assert failing["reasons"] == ["1 issue at or above high (1 high), --fail-on high"]


def test_snyk_markdown_says_issues(cli: Cli, trail: Any, files: Any) -> None:
    report = files("snyk.json", SNYK)
    result = cli("attest", "snyk", *_trail_args("deps"), "--scan-results", report,
                 "--output", "markdown")
    assert result.code == 0
    assert "| 0 | 1 | 0 | 1 | 0 |" in result.out
    assert "**First issues**" in result.out
    assert "| high | SNYK-JS-1 | Prototype pollution | lodash@4.17.0 |" in result.out
    assert "- 1 issue at or above high (1 high), --fail-on high" in result.out


@pytest.mark.parametrize("command", ["sarif", "snyk"])
def test_scan_bad_input_is_exit_2_and_writes_nothing(cli: Cli, trail: Any, files: Any,
                                                     home: Home, command: str) -> None:
    truncated = files("cut.json", '{"version": "2.1.0", "runs": [')
    before = state(home)
    assert_error(cli("attest", command, *_trail_args("scan"), "--scan-results", truncated), 2,
                 str(truncated))
    assert_error(cli("attest", command, *_trail_args("scan"), "--scan-results",
                     str(truncated) + ".missing"), 2, "missing")
    assert_error(cli("attest", command, *_trail_args("scan"), "--scan-results", truncated,
                     "--fail-on", "severe"), 2, "--fail-on")
    assert state(home) == before


# -- every corpus file through the CLI: good ones record, bad ones are exit 2 in one line ---

def _corpus_rows() -> list[dict[str, str]]:
    root = os.environ.get("AFFIDAVIT_CORPUS")
    if not root:
        return []
    with open(Path(root) / "MANIFEST.tsv", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


_COMMANDS = {"junit": ("junit", "--results"), "sarif": ("sarif", "--scan-results"),
             "snyk-code-sarif": ("snyk", "--scan-results"),
             "snyk-json": ("snyk", "--scan-results")}


@pytest.mark.skipif(not os.environ.get("AFFIDAVIT_CORPUS"),
                    reason="AFFIDAVIT_CORPUS is not set (make test sets it to ../shared/corpus)")
@pytest.mark.parametrize("row", _corpus_rows(), ids=lambda row: row["local_path"])
def test_corpus_file_through_the_cli(cli: Cli, trail: Any, row: dict[str, str]) -> None:
    from affidavit.collect import junit
    from affidavit.collect.scans import sarif, snyk
    from affidavit.errors import InputError

    path = str(Path(os.environ["AFFIDAVIT_CORPUS"]) / row["local_path"])
    command, flag = _COMMANDS[row["format"]]
    collector: Any = {"junit": junit, "sarif": sarif, "snyk": snyk}[command]
    try:
        collector.parse_file(path)
        expected_bad = False
    except InputError:
        expected_bad = True
    result = cli("attest", command, *_trail_args("corpus"), flag, path, "--dry-run",
                 "--output", "json")
    if expected_bad:
        assert_error(result, 2, row["local_path"].rsplit("/", 1)[-1])
    else:
        assert result.code == 0, str(result)
        assert json.loads(result.out)["dry_run"] is True


def test_schema_of_both_scan_types_is_the_one_shape(cli: Cli) -> None:
    sarif, snyk = cli("schema", "sarif").json(), cli("schema", "snyk").json()
    assert (sarif["title"], snyk["title"]) == ("SarifPredicate", "SnykPredicate")
    assert sarif["properties"].keys() == snyk["properties"].keys() == {
        "summary", "actionable", "sources", "findings", "findings_total", "findings_cap",
        "policy", "files"}
    for part in ("Source", "Finding"):
        mine, theirs = sarif["$defs"][f"Sarif{part}"], snyk["$defs"][f"Snyk{part}"]
        assert mine["properties"].keys() == theirs["properties"].keys()
        assert mine["properties"]["extra"] == {"title": "Extra", "type": "null"}
        assert theirs["properties"]["extra"] == {"$ref": f"#/$defs/Snyk{part}Extra"}
