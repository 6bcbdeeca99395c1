"""The one judge on both shapes a scan predicate was ever recorded in.

``sarif/v1`` and ``snyk/v1`` records (``summary``/``runs`` and ``totals``/``projects``) stay in
ledgers after v2 gave both types one shape; ``verify``, every read and the write path judge them
with the same function as v2 records, which reads only what both shapes have (``policy`` and
``actionable``). The predicates below are literals as the v1 and v2 collectors wrote them, not
built by the code under test; so are the verdicts.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from affidavit.compliance.judge import check_recorded, judge
from affidavit.errors import InputError
from affidavit.models.predicates import SARIF, SCAN_V1, SNYK
from affidavit.models.scans import SarifPredicate, SnykPredicate

DIGEST = "ab" * 32

SARIF_V1: dict[str, Any] = {
    "summary": {"results": 2, "suppressed": 1,
                "by_level": {"error": 2, "warning": 0, "note": 0, "none": 0},
                "by_severity": {"critical": 0, "high": 2, "medium": 0, "low": 0, "none": 0}},
    "actionable": {"critical": 0, "high": 1, "medium": 0, "low": 0, "none": 0},
    "runs": [{"file": "scan.sarif", "tool": "scanner", "version": "1.2", "results": 2,
              "suppressed": 1, "by_level": {"error": 2, "warning": 0, "note": 0, "none": 0},
              "by_severity": {"critical": 0, "high": 2, "medium": 0, "low": 0, "none": 0}}],
    "findings": [
        {"tool": "scanner", "rule_id": "R1", "level": "error", "severity": "high",
         "kind": "fail", "message": "R1 found",
         "locations": [{"uri": "a.py", "start_line": 3, "end_line": 3}], "location_count": 1,
         "partial_fingerprints": {}, "suppressed": False, "baseline_state": None,
         "actionable": True},
        {"tool": "scanner", "rule_id": "R2", "level": "error", "severity": "high",
         "kind": "fail", "message": "R2 found", "locations": [], "location_count": 0,
         "partial_fingerprints": {}, "suppressed": True, "baseline_state": None,
         "actionable": False}],
    "findings_total": 2, "findings_cap": 100,
    "policy": {"fail_on": "high", "max_findings": None, "new_only": False},
    "files": [{"path": "scan.sarif", "sha256": DIGEST}],
}

SARIF_V2: dict[str, Any] = {
    "summary": {"total": 2, "suppressed": 1,
                "by_severity": {"critical": 0, "high": 2, "medium": 0, "low": 0, "none": 0},
                "by_level": {"error": 2, "warning": 0, "note": 0, "none": 0}, "paths": None},
    "actionable": {"critical": 0, "high": 1, "medium": 0, "low": 0, "none": 0},
    "sources": [{"file": "scan.sarif", "name": "scanner", "tool": "scanner", "version": "1.2",
                 "total": 2, "suppressed": 1,
                 "by_severity": {"critical": 0, "high": 2, "medium": 0, "low": 0, "none": 0},
                 "by_level": {"error": 2, "warning": 0, "note": 0, "none": 0}, "paths": None,
                 "extra": None}],
    "findings": [
        {"source": 0, "tool": "scanner", "rule_id": "R1", "severity": "high", "level": "error",
         "kind": "fail", "message": "R1 found", "location": "a.py:3",
         "locations": [{"uri": "a.py", "start_line": 3, "end_line": 3}], "location_count": 1,
         "fingerprints": {}, "suppressed": False, "baseline_state": None, "actionable": True,
         "extra": None},
        {"source": 0, "tool": "scanner", "rule_id": "R2", "severity": "high", "level": "error",
         "kind": "fail", "message": "R2 found", "location": None, "locations": [],
         "location_count": 0, "fingerprints": {}, "suppressed": True, "baseline_state": None,
         "actionable": False, "extra": None}],
    "findings_total": 2, "findings_cap": 100,
    "policy": {"fail_on": "high", "max_findings": None, "new_only": False},
    "files": [{"path": "scan.sarif", "sha256": DIGEST, "format": "sarif"}],
}

SNYK_V1: dict[str, Any] = {
    "projects": [{"file": "snyk.json", "name": "shop", "type": "open-source",
                  "package_manager": "npm", "target_file": "package-lock.json", "path": None,
                  "path_entries": 3, "unique_issues": 2, "suppressed": 0,
                  "by_severity": {"critical": 0, "high": 1, "medium": 0, "low": 1,
                                  "none": 0}}],
    "totals": {"projects": 1, "path_entries": 3, "unique_issues": 2, "suppressed": 0,
               "by_severity": {"critical": 0, "high": 1, "medium": 0, "low": 1, "none": 0}},
    "actionable": {"critical": 0, "high": 1, "medium": 0, "low": 1, "none": 0},
    "findings": [
        {"project": "shop", "target_file": "package-lock.json", "id": "SNYK-JS-1",
         "title": "Prototype pollution", "severity": "high", "package": "lodash",
         "version": "4.17.0", "paths": 2, "location": None, "suppressed": False,
         "actionable": True},
        {"project": "shop", "target_file": "package-lock.json", "id": "SNYK-JS-2",
         "title": "ReDoS", "severity": "low", "package": "ms", "version": "0.7.0", "paths": 1,
         "location": None, "suppressed": False, "actionable": True}],
    "findings_total": 2, "findings_cap": 100,
    "policy": {"fail_on": "low", "max_findings": 1, "new_only": False},
    "files": [{"path": "snyk.json", "sha256": DIGEST, "format": "snyk-json"}],
}

SNYK_V2: dict[str, Any] = {
    "summary": {"total": 2, "suppressed": 0,
                "by_severity": {"critical": 0, "high": 1, "medium": 0, "low": 1, "none": 0},
                "by_level": None, "paths": 3},
    "actionable": {"critical": 0, "high": 1, "medium": 0, "low": 1, "none": 0},
    "sources": [{"file": "snyk.json", "name": "shop", "tool": None, "version": None,
                 "total": 2, "suppressed": 0,
                 "by_severity": {"critical": 0, "high": 1, "medium": 0, "low": 1, "none": 0},
                 "by_level": None, "paths": 3,
                 "extra": {"type": "open-source", "package_manager": "npm",
                           "target_file": "package-lock.json", "path": None}}],
    "findings": [
        {"source": 0, "tool": None, "rule_id": "SNYK-JS-1", "severity": "high", "level": None,
         "kind": "fail", "message": "Prototype pollution", "location": "lodash@4.17.0",
         "locations": [], "location_count": 0, "fingerprints": {}, "suppressed": False,
         "baseline_state": None, "actionable": True,
         "extra": {"package": "lodash", "version": "4.17.0", "paths": 2}},
        {"source": 0, "tool": None, "rule_id": "SNYK-JS-2", "severity": "low", "level": None,
         "kind": "fail", "message": "ReDoS", "location": "ms@0.7.0", "locations": [],
         "location_count": 0, "fingerprints": {}, "suppressed": False, "baseline_state": None,
         "actionable": True, "extra": {"package": "ms", "version": "0.7.0", "paths": 1}}],
    "findings_total": 2, "findings_cap": 100,
    "policy": {"fail_on": "low", "max_findings": 1, "new_only": False},
    "files": [{"path": "snyk.json", "sha256": DIGEST, "format": "snyk-json"}],
}

SARIF_REASONS = ["1 finding at or above high (1 high), --fail-on high"]
SNYK_REASONS = ["2 issues at or above low (1 high, 1 low), --fail-on low",
                "2 issues (1 high, 1 low), more than --max-findings 1"]


@pytest.mark.parametrize(("kind", "predicate", "reasons"), [
    pytest.param("sarif", SARIF_V1, SARIF_REASONS, id="sarif-v1"),
    pytest.param("sarif", SARIF_V2, SARIF_REASONS, id="sarif-v2"),
    pytest.param("snyk", SNYK_V1, SNYK_REASONS, id="snyk-v1"),
    pytest.param("snyk", SNYK_V2, SNYK_REASONS, id="snyk-v2"),
])
def test_both_shapes_are_judged_alike(kind: str, predicate: dict[str, Any],
                                      reasons: list[str]) -> None:
    assert judge(kind, "scan", predicate) == (False, reasons)
    relaxed = {**predicate, "policy": {"fail_on": "critical", "max_findings": None,
                                       "new_only": False}}
    assert judge(kind, "scan", relaxed) == (True, [])


@pytest.mark.parametrize(("kind", "predicate", "uri"), [
    pytest.param("sarif", SARIF_V1, "https://affidavit.dev/predicate/sarif/v1", id="sarif-v1"),
    pytest.param("snyk", SNYK_V1, "https://affidavit.dev/predicate/snyk/v1", id="snyk-v1"),
    pytest.param("sarif", SARIF_V2, "https://affidavit.dev/predicate/sarif/v2", id="sarif-v2"),
    pytest.param("snyk", SNYK_V2, "https://affidavit.dev/predicate/snyk/v2", id="snyk-v2"),
])
def test_recorded_flag_is_checked_against_either_shape(kind: str, predicate: dict[str, Any],
                                                       uri: str) -> None:
    """What every read and ``verify`` do with a stored record: the flag must be the verdict."""
    record = {"type": kind, "name": "scan", "compliant": False,
              "statement": {"predicateType": uri, "predicate": predicate}}
    check_recorded(record, lambda index: None, "the ledger")
    with pytest.raises(InputError, match="records compliant=True but its predicate yields "
                                         "False"):
        check_recorded({**record, "compliant": True}, lambda index: None, "the ledger")


def test_the_uris_say_which_shape() -> None:
    assert (SARIF, SNYK) == ("https://affidavit.dev/predicate/sarif/v2",
                             "https://affidavit.dev/predicate/snyk/v2")
    assert SCAN_V1 == {"sarif": "https://affidavit.dev/predicate/sarif/v1",
                       "snyk": "https://affidavit.dev/predicate/snyk/v1"}


def test_the_models_describe_v2_only() -> None:
    """``affidavit schema sarif|snyk`` is the v2 shape: a v1 predicate is judged, not
    validated by it."""
    assert SarifPredicate.model_validate(SARIF_V2).model_dump(mode="json") == SARIF_V2
    assert SnykPredicate.model_validate(SNYK_V2).model_dump(mode="json") == SNYK_V2
    for model, old in ((SarifPredicate, SARIF_V1), (SnykPredicate, SNYK_V1)):
        with pytest.raises(ValidationError):
            model.model_validate(old)


def test_each_type_keeps_its_own_extra() -> None:
    """A Snyk source in a SARIF predicate (or the reverse) is not the scan predicate."""
    with pytest.raises(ValidationError):
        SarifPredicate.model_validate({**SARIF_V2, "sources": SNYK_V2["sources"]})
    with pytest.raises(ValidationError):
        SnykPredicate.model_validate({**SNYK_V2, "findings": SARIF_V2["findings"]})
