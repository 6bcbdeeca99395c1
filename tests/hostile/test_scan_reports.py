"""Scanner reports that used to record compliant must fail closed (issue 11, item 2).

Each input below once produced a compliant record (a failed tool, a result or suppression
that is no object, an unknown level or severity, a repeated key, a lone surrogate, a huge
integer). Every one is now exit 2, through the real CLI, naming the file and where in it,
and writes nothing; the table of choices is in docs/predicates.md.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import FLOW, TRAIL
from tests.helpers import Cli, Home, assert_error, state


def _run(results: str = "[]", extra: str = "") -> str:
    """A SARIF 2.1.0 log of one run, its results (and any more run members) as raw JSON."""
    return ('{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "T"}}' + extra
            + ', "results": ' + results + "}]}")


def _snyk(vuln: str) -> str:
    return '{"projectName": "p", "vulnerabilities": [' + vuln + "]}"


CASES = [
    ("runs-null", "sarif", '{"version": "2.1.0", "runs": null}',
     ["$.runs: expected an array, got null"]),
    ("results-null", "sarif", _run("null"),
     ["$.runs[0].results: expected an array, got null"]),
    ("execution-failed", "sarif",
     _run('[]', ', "invocations": [{"executionSuccessful": true}, '
          '{"executionSuccessful": false}]'),
     ["$.runs[0].invocations[1].executionSuccessful: false, the tool says it failed"]),
    ("result-not-object", "sarif", _run('[{"level": "error"}, "oops"]'),
     ["$.runs[0].results[1]: expected an object, got a string"]),
    ("suppression-not-object", "sarif", _run('[{"level": "error", "suppressions": [true]}]'),
     ["$.runs[0].results[0].suppressions[0]: expected an object, got a boolean"]),
    ("unknown-level", "sarif", _run('[{"level": "severe"}]'),
     ["$.runs[0].results[0].level: unknown level 'severe'"]),
    ("level-not-string", "sarif", _run('[{"level": 3}]'),
     ["$.runs[0].results[0].level: unknown level 3"]),
    ("duplicate-level", "sarif", _run('[{"level": "error", "level": "none"}]'),
     ['duplicate key "level"', "line 1 column 98"]),
    ("duplicate-runs", "sarif", '{"version": "2.1.0", "runs": [], "runs": []}',
     ['duplicate key "runs"', "line 1 column 34"]),
    ("lone-surrogate", "sarif", _run('[{"message": {"text": "\\ud800"}}]'),
     ["lone UTF-16 surrogate", "line 1 column 101"]),
    ("huge-integer", "sarif", _run('[{"rank": ' + "7" * 5000 + "}]"),
     ["integer of more than 4300 digits", "line 1 column 88"]),
    ("snyk-unknown-severity", "snyk", _snyk('{"id": "S1", "severity": "severe"}'),
     ["$.vulnerabilities[0].severity: unknown severity 'severe'"]),
    ("snyk-severity-not-string", "snyk", _snyk('{"id": "S1", "severity": 9}'),
     ["$.vulnerabilities[0].severity: expected a severity word, got 9"]),
    ("snyk-no-severity", "snyk", _snyk('{"id": "S1"}'),
     ["$.vulnerabilities[0]: no severity"]),
    ("snyk-vulnerability-not-object", "snyk", _snyk('{"id": "S1", "severity": "low"}, 4'),
     ["$.vulnerabilities[1]: expected an object"]),
    ("snyk-duplicate-severity", "snyk", _snyk('{"id": "S1", "severity": "high", '
                                               '"severity": "low"}'),
     ['duplicate key "severity"', "line 1 column 75"]),
    ("snyk-lone-surrogate", "snyk", _snyk('{"id": "S1", "severity": "high", '
                                           '"title": "\\udc00"}'),
     ["lone UTF-16 surrogate", "line 1 column 85"]),
]


@pytest.mark.parametrize(("command", "text", "needles"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_hostile_report_is_exit_2_naming_file_and_place(
        cli: Cli, trail: Any, files: Any, home: Home, command: str, text: str,
        needles: list[str]) -> None:
    report = files("scan.json", text)
    before = state(home)
    assert_error(cli("attest", command, "--flow", FLOW, "--trail", TRAIL, "--name", "scan",
                     "--scan-results", report), 2, f"{report}: ", *needles)
    assert state(home) == before


def test_the_same_reports_without_the_fault_record_compliant(
        cli: Cli, trail: Any, files: Any, home: Home) -> None:
    """The control: the shapes above with the fault removed are read and recorded, so each
    case fails for its fault, not for its frame."""
    for command, text in [("sarif", _run('[{"level": "note", "suppressions": [{}]}]',
                                          ', "invocations": [{"executionSuccessful": true}]')),
                          ("snyk", _snyk('{"id": "S1", "severity": "low", "title": '
                                         '"\\ud83d\\ude00"}'))]:
        report = files(f"ok-{command}.json", text)
        result = cli("attest", command, "--flow", FLOW, "--trail", TRAIL, "--name", "scan",
                     "--scan-results", report, "--output", "json")
        assert result.code == 0, str(result)
        assert json.loads(result.out)["entry"]["record"]["compliant"] is True
    assert state(home).entries == 2 + 2  # flow and trail, then the two scans
