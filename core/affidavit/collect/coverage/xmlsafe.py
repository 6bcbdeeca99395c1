"""Coverage XML read safely: the JUnit collector's streaming expat reader, with a doctype.

Cobertura writes ``<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/
coverage-04.dtd">`` (gcovr, lcov_cobertura and others copy it) and JaCoCo ``<!DOCTYPE report
PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">``: a declaration naming an *external* DTD
is what real reports hold, so it is accepted -- and the DTD is never fetched nor read
(parameter entities are off and no external entity is ever resolved), so no file or URL is
opened. What a DTD could do to the counts or to memory is refused, each with a line naming the
file (``defusedxml``'s rules: ``forbid_entities``, ``forbid_external``; the tests check each
case against defusedxml):

- an *internal* subset (``<!DOCTYPE coverage [ … ]>``): entity definitions (billion laughs)
  live there, and so do attribute defaults (``<!ATTLIST line hits CDATA "1">`` would make
  every line covered). No coverage tool writes one;
- any entity declaration or external entity reference, as a second line;
- a reference to an entity no DTD here defines (``&foo;`` in a document whose DTD is
  external): it is refused rather than dropped.

The rest is the JUnit reader's (:mod:`affidavit.collect.junit.reader`): streamed in chunks
through expat, no tree built (so nothing to clear); a token larger than 8 MiB, a file that is
not XML or ends early, each an error; encodings by BOM or declaration; the SHA-256 computed
from the chunks parsed. The counters refuse nesting deeper than 256 levels.
"""

from __future__ import annotations

import pyexpat

from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["new_parser", "CoverageXml"]


def new_parser(shown: str, encoding: str | None) -> pyexpat.XMLParserType:
    """An expat parser that accepts a doctype naming an external DTD (never read) and refuses
    internal subsets, entity declarations and entity references."""

    def doctype(_name: str, _system: str | None, _public: str | None, internal: int) -> None:
        if internal:
            raise InputError(f"{shown}: line {parser.CurrentLineNumber}: has an internal DTD "
                             "subset (<!DOCTYPE … [ … ]>); refused because it can define "
                             "entities or attribute defaults, and coverage reports never need "
                             "one")

    def entity(*_args: object) -> None:
        raise InputError(f"{shown}: line {parser.CurrentLineNumber}: declares an entity; "
                         "refused")

    def external(*_args: object) -> int:
        raise InputError(f"{shown}: line {parser.CurrentLineNumber}: references an external "
                         "entity; refused")

    def skipped(name: str, _is_parameter: int) -> None:
        raise InputError(f"{shown}: line {parser.CurrentLineNumber}: references the entity "
                         f"&{name[:40]}; that no DTD here defines (the DTD is never read); "
                         "refused")

    parser = pyexpat.ParserCreate(encoding)
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = external
    parser.SkippedEntityHandler = skipped
    return parser


class CoverageXml:
    """The handler :func:`~affidavit.collect.junit.reader.read_xml` drives: the root element
    says the format (``<coverage>`` Cobertura, ``<report>`` JaCoCo), whose counter then reads
    the rest."""

    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.started = False
        self.counter: Any = None
        self._parser: pyexpat.XMLParserType | None = None

    def bind(self, parser: pyexpat.XMLParserType) -> None:
        self._parser = parser
        parser.StartElementHandler = self._root

    def unbind(self, parser: pyexpat.XMLParserType) -> None:
        parser.StartElementHandler = None
        parser.EndElementHandler = None
        self._parser = None

    def _root(self, name: str, attrs: dict[str, str]) -> None:
        self.started = True
        parser = self._parser
        assert parser is not None
        if name == "coverage":
            if "clover" in attrs:
                raise InputError(f"{self.shown}: is a Clover XML report (<coverage clover=…>), "
                                 "not Cobertura: convert it, or report Cobertura, JaCoCo or "
                                 "lcov")
            from affidavit.collect.coverage.cobertura import Cobertura

            self.counter = Cobertura(self.shown, parser)
        elif name == "report":
            from affidavit.collect.coverage.jacoco import Jacoco

            self.counter = Jacoco(self.shown, parser)
        else:
            raise InputError(f"{self.shown}: is XML but not a coverage report: its root is "
                             f"<{name[:40]}>, not Cobertura's <coverage> nor JaCoCo's <report>")
        parser.StartElementHandler = self.counter.start
        parser.EndElementHandler = self.counter.end
        self.counter.start(name, attrs)

    def result(self, sha256: str) -> dict[str, Any]:
        """The per-file dict of the report read."""
        assert self.counter is not None
        out: dict[str, Any] = self.counter.result(sha256)
        return out

