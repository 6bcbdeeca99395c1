"""Cobertura XML (``coverage-04.dtd``; coverage.py's ``coverage xml``, gcovr, Cobertura itself,
coverlet, istanbul's ``cobertura`` reporter), counted from its ``<line>`` elements.

The DTD: ``coverage > packages > package > classes > class > (methods, lines)``, and each
``method`` has its own ``lines`` repeating lines of its class. Counting:

- a line is a ``<line>`` of a class's own ``<lines>`` (never a method's, which repeat them);
  covered when ``hits`` is above 0. ``hits`` must be a whole number: a negative one, one past
  64 bits or a word is an error naming the file and line;
- branches: a line with ``branch="true"`` and ``condition-coverage="50% (1/2)"`` has 2
  branches, 1 covered. A branch line without the ``(covered/total)`` part cannot be counted;
  how many there were is said in ``notes``. coverage.py run without ``--branch`` writes no
  branch lines, and so has no branch data;
- packages are the report's ``<package name>`` elements; two with one name are one package;
- declared: the root's ``lines-covered``, ``lines-valid``, ``branches-covered``,
  ``branches-valid``, ``line-rate`` and ``branch-rate``, and each package's ``line-rate`` and
  ``branch-rate``, recorded and compared with what was counted (a rate within 0.0001 of the
  counted one is the same figure rounded). A declared figure that is not a number is left
  out, never an error: only counts are used.
"""

from __future__ import annotations

import re

from affidavit.collect.coverage.tally import MAX_COUNT, MAX_DEPTH, Tally, rate, too_deep, whole
from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    import pyexpat
    from typing import Any

__all__ = ["Cobertura"]

_CONDITIONS = re.compile(r"\(\s*([0-9]+)\s*/\s*([0-9]+)\s*\)")
_ROOT = {"lines_covered": "lines-covered", "lines_total": "lines-valid",
         "branches_covered": "branches-covered", "branches_total": "branches-valid"}


def _declared_count(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and int(text) <= MAX_COUNT else None


class Cobertura:
    """Counts one Cobertura report; :meth:`start` and :meth:`end` are expat's handlers."""

    def __init__(self, shown: str, parser: pyexpat.XMLParserType) -> None:
        self.shown, self.parser = shown, parser
        self.tally = Tally(shown, "cobertura", "package")
        self.depth = 0
        self.classes = 0  # open <class> elements
        self.methods = 0  # open <method> elements
        self.counts: list[int] | None = None  # the open <package>'s own counts
        self.name = ""
        self.rates: tuple[float | None, float | None] = (None, None)
        self.uncountable = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise too_deep(self.shown, self.parser)
        if name == "line":
            if self.classes and not self.methods:
                self._line(attrs)
        elif name == "class":
            self.classes += 1
        elif name == "method":
            self.methods += 1
        elif name == "package":
            self.counts = [0, 0, 0, 0]
            self.name = attrs.get("name") or "(unnamed)"
            self.rates = (rate(attrs.get("line-rate")), rate(attrs.get("branch-rate")))
        elif name == "coverage" and self.depth == 1:
            declared = self.tally.declared
            for key, attr in _ROOT.items():
                declared[key] = _declared_count(attrs.get(attr))
            declared["line_rate"] = rate(attrs.get("line-rate"))
            declared["branch_rate"] = rate(attrs.get("branch-rate"))

    def end(self, name: str) -> None:
        self.depth -= 1
        if name == "class":
            self.classes -= 1
        elif name == "method":
            self.methods -= 1
        elif name == "package" and self.counts is not None:
            lc, lt, bc, bt = self.counts
            self.tally.check_rate(self.name, "line_rate", self.rates[0], lc, lt)
            self.tally.check_rate(self.name, "branch_rate", self.rates[1], bc, bt)
            into = self.tally.package(self.name)
            for i in range(4):
                into[i] += self.counts[i]
            self.counts = None

    def _line(self, attrs: dict[str, str]) -> None:
        counts = self.counts
        if counts is None:  # a class outside any <package>: not the DTD's, but countable
            counts = self.tally.package("(no package)")
        hits = attrs.get("hits")
        counts[1] += 1
        if hits == "1" or (hits != "0" and self._whole(hits, "hits") > 0):
            counts[0] += 1
        if attrs.get("branch", "false").lower() == "true":
            match = _CONDITIONS.search(attrs.get("condition-coverage", ""))
            if match is None:
                self.uncountable += 1
                return
            covered = self._whole(match.group(1), "condition-coverage covered")
            total = self._whole(match.group(2), "condition-coverage total")
            if covered > total:
                raise InputError(f"{self.shown}: line {self.parser.CurrentLineNumber}: "
                                 f"condition-coverage says {covered} of {total} branches were "
                                 "covered")
            counts[2] += covered
            counts[3] += total

    def _whole(self, text: str | None, what: str) -> int:
        return whole(text, self.shown, f"line {self.parser.CurrentLineNumber}",
                     f"<line> {what}")

    def result(self, sha256: str) -> dict[str, Any]:
        tally = self.tally
        lc, lt, bc, bt = tally.totals()
        declared = tally.declared
        tally.check_count(None, "lines_covered", declared["lines_covered"], lc)
        tally.check_count(None, "lines_total", declared["lines_total"], lt)
        tally.check_count(None, "branches_covered", declared["branches_covered"], bc)
        tally.check_count(None, "branches_total", declared["branches_total"], bt)
        tally.check_rate(None, "line_rate", declared["line_rate"], lc, lt)
        tally.check_rate(None, "branch_rate", declared["branch_rate"], bc, bt)
        if self.uncountable:
            tally.notes.append(f"{self.uncountable} lines say branch=\"true\" without a "
                               "(covered/total) in condition-coverage: their branches are not "
                               "counted")
        return tally.result(sha256)
