"""Tests of affidavit.collect.scans.severity: the CVSS bands, the level mapping and scanners'
severity words (the policy applied to the counts is tested in tests/compliance/test_scan_policy.py).
"""

from __future__ import annotations

import pytest

from affidavit.collect.scans import severity as sev


@pytest.mark.parametrize(("score", "expected"), [
    (10.0, "critical"), (9.0, "critical"), ("9.0", "critical"), (8.99, "high"), (7.0, "high"),
    ("7", "high"), (6.9, "medium"), (4.0, "medium"), (3.9, "low"), (0.1, "low"),
    (0, "none"), ("0.0", "none"), (-1, "none"), (11, "critical"),
])
def test_cvss_bands(score: object, expected: str) -> None:
    assert sev.from_cvss(score) == expected


@pytest.mark.parametrize("score", [None, "", "high", "nan", "inf", True, [9.0], {"v": 9}])
def test_cvss_that_is_not_a_number_gives_none_so_the_level_decides(score: object) -> None:
    assert sev.from_cvss(score) is None


def test_level_mapping() -> None:
    assert [sev.from_level(level) for level in sev.LEVELS] == ["high", "medium", "low", "none"]


@pytest.mark.parametrize(("word", "expected"), [
    ("Critical", "critical"), ("HIGH", "high"), ("moderate", "medium"), ("info", "low"),
    (" low ", "low"), ("none", "none"), ("severe", None), (3, None),
])
def test_severity_words(word: object, expected: str | None) -> None:
    assert sev.from_name(word) == expected
