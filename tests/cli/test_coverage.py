"""``attest coverage`` end to end: collector, verdict, evidence, outputs, templates, bad input.

The collector's counting rules are tested in tests/collect/coverage, hostile reports in
tests/hostile/test_coverage_reports.py; here the CLI's mapping is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from affidavit.models.coverage import CoveragePredicate
from tests.conftest import FLOW, TRAIL
from tests.helpers import Cli, Home, Result, assert_error, state

FIXTURES = Path(__file__).resolve().parents[1] / "collect" / "coverage" / "fixtures"
LCOV = FIXTURES / "geninfo.info"  # 6 of 10 lines, 1 of 4 branches
JACOCO = FIXTURES / "jacoco.xml"  # 10 of 17 lines, 3 of 4 branches
NO_BRANCHES = FIXTURES / "coveragepy-no-branch.xml"  # 2 of 3 lines, no branch data


def _json(result: Result) -> dict[str, Any]:
    assert result.code == 0, str(result)
    out: dict[str, Any] = json.loads(result.out)
    return out


def _attest(cli: Cli, *args: Any, name: str = "cov") -> Result:
    return cli("attest", "coverage", "--flow", FLOW, "--trail", TRAIL, "--name", name, *args)


@pytest.mark.remote  # also over HTTP (tests/conftest.py)
def test_counts_verdict_and_reports_as_evidence(cli: Cli, trail: Any) -> None:
    out = _json(_attest(cli, "--report", LCOV, JACOCO, "--min-lines", "70", "--min-branches",
                        "50", "--output", "json"))
    record = out["entry"]["record"]
    statement = record["statement"]
    assert statement["predicateType"] == "https://affidavit.dev/predicate/coverage/v1"
    predicate = statement["predicate"]
    CoveragePredicate.model_validate(predicate)
    assert predicate["summary"] == {
        "lines": {"covered": 16, "total": 27, "percent": 59.26},
        "branches": {"covered": 4, "total": 8, "percent": 50.0}}
    assert predicate["policy"] == {"min_lines": 70, "min_branches": 50}
    assert [r["format"] for r in predicate["reports"]] == ["lcov", "jacoco"]
    assert predicate["packages_total"] == 4
    assert record["compliant"] is False
    assert out["reasons"] == ["line coverage 59.25% (16 of 27 lines) is below --min-lines 70"]
    assert [e["name"] for e in record["evidence"]] == ["geninfo.info", "jacoco.xml"]
    assert out["files_read"] == [str(LCOV), str(JACOCO)]
    met = _json(_attest(cli, "--report", JACOCO, "--min-lines", "58.8", "--no-attach",
                        "--output", "json"))
    assert met["entry"]["record"]["compliant"] is True and met["reasons"] == []
    assert "evidence" not in met["entry"]["record"]


def test_no_minimum_records_the_figures_and_is_compliant(cli: Cli, trail: Any) -> None:
    out = _json(_attest(cli, "--report", NO_BRANCHES, "--output", "json"))
    assert out["entry"]["record"]["compliant"] is True
    assert out["entry"]["record"]["statement"]["predicate"]["policy"] == {
        "min_lines": None, "min_branches": None}


def test_branch_minimum_without_branch_data_is_not_compliant(cli: Cli, trail: Any) -> None:
    result = _attest(cli, "--report", NO_BRANCHES, "--min-lines", "60", "--min-branches", "1",
                     "--assert")
    assert result.code == 1, str(result)
    assert "NOT compliant" in result.out
    assert ("the reports have no branch data (0 branches: measured without branch coverage?), "
            "so --min-branches 1 cannot be met") in result.out


def test_markdown_summary(cli: Cli, trail: Any) -> None:
    result = _attest(cli, "--report", LCOV, JACOCO, "--min-lines", "50", "--output",
                     "markdown")
    assert result.code == 0, str(result)
    assert result.out.startswith("### ✅ cov (coverage): compliant\n")
    assert "| Covered | 59.26% (16 of 27) | 50.00% (4 of 8) |" in result.out
    assert "| Minimum | 50% | - |" in result.out
    assert "**Packages**" in result.out
    assert "| org/example/util | 0.00% (0 of 5) | no data |" in result.out
    assert "| Evidence | geninfo.info, jacoco.xml |" in result.out


def test_minimums_from_the_environment_and_bad_values(cli: Cli, trail: Any, home: Home,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFIDAVIT_MIN_LINES", "99.5")
    out = _json(_attest(cli, "--report", LCOV, "--output", "json"))
    assert out["entry"]["record"]["statement"]["predicate"]["policy"]["min_lines"] == 99.5
    before = state(home)
    monkeypatch.setenv("AFFIDAVIT_MIN_LINES", "most")
    assert_error(_attest(cli, "--report", LCOV), 2, "--min-lines (from AFFIDAVIT_MIN_LINES)",
                 "expected a percentage from 0 to 100, not 'most'")
    monkeypatch.delenv("AFFIDAVIT_MIN_LINES")
    for bad in ("101", "-1", "nan", "inf"):
        assert_error(_attest(cli, "--report", LCOV, "--min-branches", bad), 2, "--min-branches",
                     "percentage")
    assert_error(_attest(cli), 2, "--report")
    assert_error(_attest(cli, "--report", FIXTURES / "missing.info"), 2, "missing.info",
                 "no such file")
    assert_error(_attest(cli, "--report", FIXTURES), 2, str(FIXTURES), "directory")
    assert state(home) == before


def test_template_with_a_coverage_slot(cli: Cli, tmp_path: Path) -> None:
    template = tmp_path / "template.yml"
    template.write_text("version: 1\ntrail:\n  attestations:\n    - name: coverage\n"
                        "      type: coverage\n")
    assert cli("create", "flow", FLOW, "--template-file", template).code == 0
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0

    def status() -> tuple[str, list[tuple[str, str]]]:
        trail = _json(cli("get", "trail", TRAIL, "--flow", FLOW, "--output", "json"))
        return trail["status"], [(s["name"], s["state"]) for s in trail["verdict"]["slots"]]

    assert status() == ("INCOMPLETE", [("coverage", "MISSING")])
    assert _attest(cli, "--report", LCOV, "--min-lines", "80", name="coverage").code == 0
    assert status() == ("NON_COMPLIANT", [("coverage", "COMPLETE")])
    assert _attest(cli, "--report", LCOV, "--min-lines", "60", name="coverage").code == 0
    assert status() == ("COMPLIANT", [("coverage", "COMPLETE")])
    assert cli("assert", "trail", TRAIL, "--flow", FLOW).code == 0


def test_package_verifies_offline_and_rejudges_the_verdict(cli: Cli, trail: Any, ledger: Any,
                                                           tmp_path: Path) -> None:
    assert _attest(cli, "--report", JACOCO, "--min-branches", "80").code == 0
    package = tmp_path / "t1.zip"
    assert cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", package).code == 0
    verified = cli("verify", "package", package, "--public-key", ledger.verifier_key())
    assert verified.code == 0, str(verified)


def test_schema_is_published(cli: Cli) -> None:
    result = cli("schema", "coverage")
    assert result.code == 0, str(result)
    schema = json.loads(result.out)
    assert set(schema["required"]) == {"summary", "packages", "packages_total", "packages_cap",
                                       "reports", "policy"}


PROBE = """
import json, sys
from affidavit.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


@pytest.mark.parametrize("report", [LCOV, JACOCO])
def test_attest_coverage_loads_no_heavy_module(report: Path, tmp_path: Path) -> None:
    """As ``tests/cli/test_lazy_imports.py`` asks of every command a pipeline runs."""
    env = {"AFFIDAVIT_LEDGER": str(tmp_path / "l.db"), "AFFIDAVIT_CACHE_DIR": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    for argv in (["create", "flow", "f"], ["begin", "trail", "t", "--flow", "f"],
                 ["attest", "coverage", "--flow", "f", "--trail", "t", "--name", "cov",
                  "--report", str(report), "--min-lines", "10.5"]):
        done = subprocess.run([sys.executable, "-c", PROBE, *argv], env=env, cwd=tmp_path,
                              capture_output=True, text=True, check=True)
        probe = json.loads(done.stderr.strip().splitlines()[-1])
        assert probe["code"] == 0
    never = ["pydantic", "typing", "pathlib", "yaml", "zipfile", "shutil", "tempfile",
             "logging", "concurrent.futures", "multiprocessing", "jsonschema", "dataclasses",
             "xml.sax", "xml.etree", "defusedxml"]
    assert [name for name in never if name in probe["modules"]] == []


def test_package_names_reach_the_summary_as_text(cli: Cli, trail: Any, tmp_path: Path) -> None:
    report = tmp_path / "lcov.info"
    report.write_text('SF:<img src=x onerror="alert(1)">|x/a.c\nDA:1,1\nend_of_record\n'
                      "SF:b/c.c\nDA:1,0\nend_of_record\n")
    result = _attest(cli, "--report", report, "--output", "markdown")
    assert result.code == 0, str(result)
    assert "<img" not in result.out
    assert '| &lt;img src=x onerror="alert(1)"&gt;\\|x | 100.00% (1 of 1) | no data |' in result.out


def test_the_docs_name_every_field_of_the_predicate() -> None:
    from affidavit.models.coverage import CoverageDeclared, CoverageMismatch, CoverageReport

    docs = (Path(__file__).resolve().parents[2] / "docs" / "predicates.md").read_text()
    section = docs[docs.index("\n## `coverage`"):]
    section = section[:section.find("\n## ", 1) if "\n## " in section[1:] else None]
    for model in (CoveragePredicate, CoverageReport, CoverageDeclared, CoverageMismatch):
        for field in model.model_fields:
            assert field in section, f"{model.__name__}.{field} is not in docs/predicates.md"
