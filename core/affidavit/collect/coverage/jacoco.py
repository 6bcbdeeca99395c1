"""JaCoCo XML (``report.dtd``, ``-//JACOCO//DTD Report 1.1//EN`` and 1.2), from its package
counters.

The DTD: ``report > (group >)* package > (class | sourcefile)``, each level closing with its
``<counter type missed covered>`` elements (INSTRUCTION, BRANCH, LINE, COMPLEXITY, METHOD,
CLASS). Counting:

- a package's figures are its own ``LINE`` and ``BRANCH`` counters (``covered`` of
  ``missed + covered``): JaCoCo's counts, computed by JaCoCo from the class files, so they are
  taken as they are (a counter JaCoCo leaves out, as it leaves out empty ones, is 0 of 0; a
  package of classes built without debug information has no ``LINE`` counter). ``missed`` and
  ``covered`` must be whole numbers: a negative one, one past 64 bits or a word is an error
  naming the file and line;
- packages are the ``<package name>`` elements, in VM notation (``org/example/util``), in any
  group; the same package in two groups (two modules) is one package, the counts summed;
- declared: the report's own ``LINE`` and ``BRANCH`` counters (its totals), recorded and
  compared with the packages' sum.
"""

from __future__ import annotations

from affidavit.collect.coverage.tally import MAX_DEPTH, Tally, too_deep, whole

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    import pyexpat
    from typing import Any

__all__ = ["Jacoco"]

_SLOTS = {"LINE": 0, "BRANCH": 2}  # where a counter's covered goes in [lc, lt, bc, bt]


class Jacoco:
    """Counts one JaCoCo report; :meth:`start` and :meth:`end` are expat's handlers."""

    def __init__(self, shown: str, parser: pyexpat.XMLParserType) -> None:
        self.shown, self.parser = shown, parser
        self.tally = Tally(shown, "jacoco", "package")
        self.stack: list[str] = []
        self.counts: list[int] | None = None
        self.name = ""
        self.report: list[int | None] = [None, None, None, None]

    def start(self, name: str, attrs: dict[str, str]) -> None:
        stack = self.stack
        parent = stack[-1] if stack else None
        stack.append(name)
        if len(stack) > MAX_DEPTH:
            raise too_deep(self.shown, self.parser)
        if name == "counter":
            slot = _SLOTS.get(attrs.get("type", ""))
            if slot is None:
                return
            if parent == "package" and self.counts is not None:
                covered, total = self._counter(attrs)
                self.counts[slot] += covered
                self.counts[slot + 1] += total
            elif parent == "report" and len(stack) == 2:
                covered, total = self._counter(attrs)
                self.report[slot] = covered
                self.report[slot + 1] = total
            return
        if name == "package":
            self.counts = [0, 0, 0, 0]
            self.name = attrs.get("name") or "(unnamed)"

    def end(self, name: str) -> None:
        self.stack.pop()
        if name == "package" and self.counts is not None:
            into = self.tally.package(self.name)
            for i in range(4):
                into[i] += self.counts[i]
            self.counts = None

    def _counter(self, attrs: dict[str, str]) -> tuple[int, int]:
        where = f"line {self.parser.CurrentLineNumber}"
        kind = attrs.get("type")
        missed = whole(attrs.get("missed", "0"), self.shown, where, f"<counter type=\"{kind}\"> "
                       "missed")
        covered = whole(attrs.get("covered", "0"), self.shown, where,
                        f"<counter type=\"{kind}\"> covered")
        return covered, covered + missed

    def result(self, sha256: str) -> dict[str, Any]:
        tally = self.tally
        declared = tally.declared
        declared["lines_covered"], declared["lines_total"] = self.report[0], self.report[1]
        declared["branches_covered"], declared["branches_total"] = self.report[2], self.report[3]
        lc, lt, bc, bt = tally.totals()
        tally.check_count(None, "lines_covered", declared["lines_covered"], lc)
        tally.check_count(None, "lines_total", declared["lines_total"], lt)
        tally.check_count(None, "branches_covered", declared["branches_covered"], bc)
        tally.check_count(None, "branches_total", declared["branches_total"], bt)
        return tally.result(sha256)
