"""One grammar for durations and points in time (api.durations), whichever flag takes them."""

from __future__ import annotations

import pytest

from affidavit.api.durations import duration, point_in_time
from affidavit.errors import UsageError


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("30m", 1800), ("2h", 7200), ("7d", 604800), ("1w", 604800),
    ("1h30m", 5400), ("1.5h", 5400), (" 5s ", 5), ("0s", 0), ("1d12h", 129600),
])
def test_durations(text: str, seconds: float) -> None:
    assert duration(text, "--timeout") == seconds


@pytest.mark.parametrize("text", ["30", "", "m", "5 m", "-5m", "5M", "1y", "5m30", "1h 30m",
                                  "1e3s", "five minutes"])
def test_bad_durations_name_the_flag(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        duration(text, "--poll")
    assert caught.value.message.startswith(f"--poll {text!r}: give a duration like")


# 2026-01-31T10:00:00Z, as seconds since the epoch
NOW = 1769853600.0


@pytest.mark.parametrize(("text", "expected"), [
    ("7d", "2026-01-24T10:00:00.000000Z"),
    ("90m", "2026-01-31T08:30:00.000000Z"),
    ("1h30m", "2026-01-31T08:30:00.000000Z"),
    ("2026-01-31T10:00Z", "2026-01-31T10:00"),
    ("2026-01-31", "2026-01-31"),
    ("2026-01-31T10:00:05.5Z", "2026-01-31T10:00:05.5"),
])
def test_points_in_time(text: str, expected: str) -> None:
    assert point_in_time(text, "--since", now=NOW) == expected


def test_a_coarse_time_compares_as_the_records_spell_times() -> None:
    """A record's time is ``…T10:00:00.123456Z``; ``--since 2026-01-31T10:00Z`` includes it."""
    since = point_in_time("2026-01-31T10:00Z", "--since")
    assert "2026-01-31T10:00:00.123456Z" >= since > "2026-01-31T09:59:59.999999Z"


@pytest.mark.parametrize("text", ["yesterday", "2026-1-31", "31/01/2026", "7"])
def test_bad_points_in_time(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        point_in_time(text, "--since")
    assert caught.value.message == (
        f"--since {text!r}: give an age like 90s, 30m, 1h30m or 7d, or a UTC time like "
        "2026-01-31T10:00Z")
