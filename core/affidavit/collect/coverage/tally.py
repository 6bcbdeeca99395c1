"""What every coverage reader shares: strict counts, a report's tally, and its per-file dict.

A reader keeps, per package, four whole numbers -- lines covered, lines in total, branches
covered, branches in total -- and beside them what the report *declares* (Cobertura's
``line-rate``, ``lines-valid``…, JaCoCo's report-level counters, lcov's ``LF``/``LH``/``BRF``/
``BRH``). The figures come from the counts; a declared figure is recorded, never used, and
where it differs from the one counted the difference is listed (``mismatches``), as the JUnit
collector records declared beside counted totals.
"""

from __future__ import annotations

from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    import pyexpat
    from typing import Any

__all__ = ["MAX_COUNT", "MAX_DEPTH", "MISMATCHES_CAP", "Tally", "whole", "rate", "too_deep"]

#: Deepest element nesting accepted in an XML report (the JUnit reader's limit).
MAX_DEPTH = 256

#: The largest count accepted: gcov's and JaCoCo's counters are 64-bit, so anything larger is
#: an overflowed or forged number, not a measurement.
MAX_COUNT = (1 << 64) - 1
#: Differences between declared and counted figures kept per report (all are counted).
MISMATCHES_CAP = 50
#: How far a declared rate (0..1) may sit from the counted one and still be the same figure
#: rounded: coverage.py writes 4 significant digits, gcovr and Cobertura more.
_RATE_SLACK = 1e-4

_DIGITS = frozenset("0123456789")


def whole(text: str | None, shown: str, where: str, what: str) -> int:
    """``text`` as a count (ASCII digits only, at most :data:`MAX_COUNT`), else an
    :class:`InputError` naming the file, the place and the value."""
    if text is None:
        raise InputError(f"{shown}: {where}: {what} is missing")
    if text and _DIGITS.issuperset(text):
        value = int(text)
        if value <= MAX_COUNT:
            return value
        raise InputError(f"{shown}: {where}: {what} {text[:40]} overflows a 64-bit count")
    shown_value = text if len(text) <= 40 else text[:40] + "…"
    if text.startswith("-") and len(text) > 1 and _DIGITS.issuperset(text[1:]):
        raise InputError(f"{shown}: {where}: {what} {shown_value} is negative")
    raise InputError(f"{shown}: {where}: {what} {shown_value!r} is not a whole number")


def too_deep(shown: str, parser: pyexpat.XMLParserType) -> InputError:
    """The error for XML nesting past :data:`MAX_DEPTH`."""
    return InputError(f"{shown}: line {parser.CurrentLineNumber}: elements nest deeper than "
                      f"{MAX_DEPTH} levels; refused")


def rate(text: str | None) -> float | None:
    """A declared rate (``0.8571``), or None when it is missing or not a number in 0..1:
    a declared figure is only ever recorded, so a strange one is left out, not an error."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


class Tally:
    """One report's counts per package, and what it declares."""

    __slots__ = ("shown", "format", "packages_from", "packages", "declared", "mismatches",
                 "mismatches_total", "notes")

    def __init__(self, shown: str, format: str, packages_from: str) -> None:
        self.shown, self.format, self.packages_from = shown, format, packages_from
        #: package name -> [lines covered, lines total, branches covered, branches total]
        self.packages: dict[str, list[int]] = {}
        self.declared: dict[str, Any] = {
            "lines_covered": None, "lines_total": None, "branches_covered": None,
            "branches_total": None, "line_rate": None, "branch_rate": None}
        self.mismatches: list[dict[str, Any]] = []
        self.mismatches_total = 0
        self.notes: list[str] = []

    def package(self, name: str) -> list[int]:
        """The counts of package ``name``, started at zero when new."""
        counts = self.packages.get(name)
        if counts is None:
            counts = self.packages[name] = [0, 0, 0, 0]
        return counts

    def differs(self, scope: str | None, field: str, declared: int | float,
                counted: int | float) -> None:
        """Record that the report declares ``field`` (its own spelling) as ``declared`` where
        ``counted`` was counted, at ``scope`` (a package or source file; None: the report)."""
        self.mismatches_total += 1
        if len(self.mismatches) < MISMATCHES_CAP:
            self.mismatches.append({"scope": scope, "field": field, "declared": declared,
                                    "counted": counted})

    def check_rate(self, scope: str | None, field: str, declared: float | None,
                   covered: int, total: int) -> None:
        """Compare a declared rate with ``covered / total`` (nothing to compare when 0)."""
        if declared is None or total == 0:
            return
        counted = covered / total
        if abs(declared - counted) > _RATE_SLACK:
            self.differs(scope, field, declared, round(counted, 6))

    def check_count(self, scope: str | None, field: str, declared: int | None,
                    counted: int) -> None:
        """Compare a declared count with the one counted."""
        if declared is not None and declared != counted:
            self.differs(scope, field, declared, counted)

    def totals(self) -> list[int]:
        """The four counts summed over every package."""
        out = [0, 0, 0, 0]
        for counts in self.packages.values():
            for i in range(4):
                out[i] += counts[i]
        return out

    def result(self, sha256: str) -> dict[str, Any]:
        """The per-file dict :func:`affidavit.collect.coverage.summarize` folds (its
        ``_packages`` key is private: summarize turns it into the predicate's packages)."""
        lc, lt, bc, bt = self.totals()
        return {
            "path": self.shown,
            "sha256": sha256,
            "format": self.format,
            "packages_from": self.packages_from,
            "lines": {"covered": lc, "total": lt},
            "branches": {"covered": bc, "total": bt},
            "declared": dict(self.declared),
            "mismatches": list(self.mismatches),
            "mismatches_total": self.mismatches_total,
            "notes": list(self.notes),
            "_packages": self.packages,
        }
