"""One grammar for spans of time and for points in time, whichever flag takes them.

A duration is one or more ``<number><unit>`` parts, units ``s``, ``m``, ``h``, ``d`` and ``w``
(``90s``, ``30m``, ``1h30m``, ``7d``, ``1.5h``); the unit is never implied, so ``30`` is refused
rather than read as seconds by one flag and minutes by another. A point in time is a duration
ago or an RFC 3339 UTC time (``2026-01-31``, ``2026-01-31T10:00Z``).
"""

from __future__ import annotations

import re
import time

from affidavit.errors import UsageError

__all__ = ["duration", "point_in_time"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_TIME = re.compile(r"\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?Z?)?")
_EXAMPLES = "like 90s, 30m, 1h30m or 7d"


def duration(text: str, what: str) -> float:
    """Seconds in ``text``; ``what`` (the flag) names it in the error."""
    value = text.strip()
    parts = _PART.findall(value)
    if not value or "".join(n + u for n, u in parts) != value:
        raise UsageError(f"{what} {text!r}: give a duration {_EXAMPLES}")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def point_in_time(text: str, what: str, now: float | None = None) -> str:
    """``text`` as the records spell times (``2026-01-31T10:00:00.000000Z``, or a prefix of it
    for a coarser time, which compares the same way): a duration is that long before ``now``."""
    value = text.strip()
    if _TIME.fullmatch(value):
        return value.rstrip("Z")
    try:
        ago = duration(value, what)
    except UsageError:
        raise UsageError(f"{what} {text!r}: give an age {_EXAMPLES}, or a UTC time like "
                         "2026-01-31T10:00Z") from None
    moment = (time.time() if now is None else now) - ago
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + ".000000Z"
