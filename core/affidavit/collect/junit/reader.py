"""Hardened, streaming XML reading for the JUnit collector: bytes in, handler calls out.

Why expat directly, not ElementTree's iterparse: a results file is only ever *counted*, so no
tree is built at all -- the handler sees start/end events and keeps a few counters, and no
element object is created and cleared for each of 100,000 cases. Memory is bounded by the
nesting depth, the largest single token and the chunk size, not by the number of cases. (One
thing expat keeps per *distinct* element or attribute name, which a crafted file can multiply;
its intern table is emptied as it goes, its own name tables are not within reach. Real
reports use a few dozen names.)

Why not through ``defusedxml``, whose rules these are: its streaming SAX reader
(``defusedxml.expatreader``) adds a Python call and an attributes object per element, and
importing ``xml.sax`` loads ``urllib.request``, ``http.client`` and ``email`` (20-50 ms of every
``attest junit``); with the same counter it was 24% slower on one 100,000-case file and 46%
slower on the same cases in 1,000 files, and ``iterparse`` twice as slow again (the
``-vs-defusedxml`` lines of ``bench/junit.py``). What defusedxml refuses is refused here too,
checked against defusedxml by the tests.

What is refused, and why (the rules of ``defusedxml`` with ``forbid_dtd=True``):

- any document type declaration (``<!DOCTYPE``): JUnit XML never needs one, and a DTD is how
  entity expansion (billion laughs) and external entities (reading local files or URLs) get
  in. It is refused at the declaration, before any entity is defined, so hostile files fail in
  microseconds; entity and external-entity handlers refuse too, as a second line;
- a single token (tag, attribute value, comment) larger than :data:`MAX_TOKEN`: expat has to
  hold a token in memory whole, so this is what bounds memory on hostile input;
- nesting deeper than :data:`MAX_DEPTH` (checked by the handler, which keeps the stack).

Encodings: the byte-order mark or the XML declaration decides, as the XML spec says. UTF-8,
UTF-16, US-ASCII, ISO-8859-1 and every single-byte codec Python knows (ISO-8859-15,
windows-1252, ...) are decoded by expat itself; multi-byte encodings expat lacks (UTF-32,
Shift_JIS, GB18030, ...) are decoded by Python and fed to expat as UTF-8. A declared encoding
Python does not know is an error naming it.

The SHA-256 of the file is computed from the same chunks the parser reads (one pass).
"""

from __future__ import annotations

import codecs
import contextlib
import gc
import pyexpat
import re

from affidavit.digest import sha256_for, size_of
from affidavit.errors import InputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import BinaryIO, Protocol

    class Handler(Protocol):
        """What the reader drives: ``bind`` installs its handlers, ``unbind`` removes them."""

        started: bool

        def bind(self, parser: pyexpat.XMLParserType) -> None: ...
        def unbind(self, parser: pyexpat.XMLParserType) -> None: ...


__all__ = [
    "CHUNK",
    "HEAD",
    "MAX_DEPTH",
    "MAX_TOKEN",
    "NotWellFormed",
    "Undecodable",
    "feed",
    "new_parser",
    "paused_gc",
    "read_xml",
    "repair_codec",
    "sniff_encoding",
]

CHUNK = 1 << 20
#: The first read: enough to sniff the encoding, small enough that a small file costs no
#: 1 MiB allocation (which alone takes longer than parsing a 10 KB report).
HEAD = 64 << 10
#: Deepest element nesting accepted (real reports nest suites a dozen levels at most).
MAX_DEPTH = 256
#: Largest single token (tag with its attributes, comment) accepted, in bytes; text and CDATA
#: are streamed and not limited.
MAX_TOKEN = 8 << 20

_DECL = re.compile(rb"^\s*<\?xml[^>]*?\sencoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._:-]*)[\"']")
_NAMES_MAX = 4096
_EXPAT_NATIVE = {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "ascii", "iso8859-1"}
_NO_ELEMENTS = 3  # XML_ERROR_NO_ELEMENTS: the input ended before the root element did
# ... and the other errors expat only reports when the input ends: unclosed token, partial
# character, unclosed CDATA section
_INPUT_ENDED = frozenset({_NO_ELEMENTS, 5, 6, 20})


class NotWellFormed(Exception):
    """The bytes are not well-formed XML; ``message`` is one line without the file name."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Undecodable(NotWellFormed):
    """The declared encoding cannot even start decoding the bytes: the reason to give, rather
    than the expat error the first reading met."""


def sniff_encoding(head: bytes, shown: str) -> tuple[str | None, str | None]:
    """``(expat_encoding, python_codec)`` for a file starting with ``head``.

    Exactly one is set when the file says something: ``expat_encoding`` when expat decodes it
    natively, ``python_codec`` when Python must transcode it to UTF-8 first. Both are None when
    expat's own detection (UTF-8 default, UTF-16 by BOM or by ``<`` pattern) applies.
    """
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return None, "utf-32"
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None, None
    match = _DECL.match(head[:1024])
    if not match:
        return None, None
    declared = match.group(1).decode("ascii")
    try:
        codec = codecs.lookup(declared).name
    except LookupError:
        raise InputError(f"{shown}: declares an unknown encoding {declared!r}") from None
    if codec in _EXPAT_NATIVE:
        return declared, None
    if len(bytes(range(256)).decode(codec, "replace")) == 256:
        return declared, None  # a single-byte codec: pyexpat decodes it through Python's table
    return None, codec


def read_xml(stream: BinaryIO, shown: str, handler: Handler, *, head: bytes,
             codec: str | None = None, expat_encoding: str | None = None,
             errors: str = "strict", repair: Callable[[str, bool], str] | None = None,
             parser_for: Callable[[str, str | None], pyexpat.XMLParserType] | None = None
             ) -> str:
    """Feed ``head`` and then the rest of ``stream`` to ``handler``; return the hex SHA-256.

    Without ``codec`` the bytes go to expat as they are; with it they are decoded by Python
    (``errors`` as for :func:`codecs.decode`), passed through ``repair`` when given, and fed as
    UTF-8. Raises :class:`NotWellFormed` for malformed input and :class:`InputError` for input
    that is refused on purpose. ``parser_for(shown, encoding)`` makes the parser (default
    :func:`new_parser`; the coverage collector's accepts a DTD-less ``<!DOCTYPE``).
    """
    digest = sha256_for(size_of(stream))
    parser = (parser_for or new_parser)(shown, "UTF-8" if codec else expat_encoding)
    handler.bind(parser)
    chunks = _chunks(stream, head, digest.update)
    if codec:
        chunks = _transcode(chunks, codec, errors, repair)
    try:
        with paused_gc():
            feed(parser, shown, chunks, final=True)
    except pyexpat.ExpatError as exc:
        raise NotWellFormed(_describe(exc, handler.started, _looks_like_xml(head))) from None
    except UnicodeDecodeError as exc:
        raise NotWellFormed(f"is not valid {codec} (byte offset {exc.start} of a chunk)") from None
    finally:
        handler.unbind(parser)
    return digest.hexdigest()


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while parsing.

    Expat hands every element's attributes over in a new dict, freed by reference counting as
    soon as the handler returns; the collector finds nothing among them but still runs every
    700 allocations, which costs about 5% of the parse.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def feed(parser: pyexpat.XMLParserType, shown: str, chunks: Iterable[bytes], *,
         final: bool = False) -> int:
    """Parse ``chunks`` (ending the document when ``final``); return how many bytes were fed.

    Expat errors propagate; a token that grows past :data:`MAX_TOKEN` is refused. The last
    chunk is held back so that a file read in one chunk is parsed in one call (a separate
    empty final call costs more than a small file's whole parse).
    """
    fed = 0
    pending: bytes | None = None
    names = parser.intern
    for chunk in chunks:
        if pending is not None:
            parser.Parse(pending, False)
            fed += len(pending)
            if fed - parser.CurrentByteIndex > MAX_TOKEN:
                raise InputError(f"{shown}: a single XML token is larger than "
                                 f"{MAX_TOKEN >> 20} MiB (line {parser.CurrentLineNumber})")
            if len(names) > _NAMES_MAX:  # expat's cache of element and attribute names would
                names.clear()            # otherwise grow with every distinct name in the file
        pending = chunk
    parser.Parse(pending or b"", final)
    return fed + len(pending or b"")


def repair_codec(head: bytes, shown: str) -> str:
    """The Python codec that decodes a file starting with ``head`` (for the lenient pass)."""
    expat_encoding, codec = sniff_encoding(head, shown)
    if codec:
        return codec
    if expat_encoding:
        return codecs.lookup(expat_encoding).name
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(b"\x00<"):
        return "utf-16-be"
    if head.startswith(b"<\x00"):
        return "utf-16-le"
    return "utf-8"


def new_parser(shown: str, encoding: str | None, *, namespace_separator: str | None = None,
               what: str = "JUnit XML") -> pyexpat.XMLParserType:
    """An expat parser that refuses DTDs and entities, reading ``encoding`` if given;
    ``namespace_separator`` makes element names ``uri<sep>local``, ``what`` names the format
    that never needs a DTD (the SBOM collector reads CycloneDX with it)."""

    def refuse_dtd(*_args: object) -> None:
        raise InputError(f"{shown}: has a DTD (<!DOCTYPE ...>); refused because a DTD can expand "
                         f"entities or read other files, and {what} never needs one")

    def refuse_entity(*_args: object) -> int:
        raise InputError(f"{shown}: declares or references an external entity; refused")

    parser = pyexpat.ParserCreate(encoding, namespace_separator)
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.UnparsedEntityDeclHandler = refuse_dtd
    parser.ExternalEntityRefHandler = refuse_entity
    return parser


def _chunks(stream: BinaryIO, head: bytes, update: Callable[[bytes], None]) -> Iterator[bytes]:
    update(head)
    yield head
    read = stream.read
    size = CHUNK if len(head) >= HEAD else HEAD  # a short head is usually the whole file
    while chunk := read(size):
        update(chunk)
        yield chunk
        size = CHUNK


def _transcode(chunks: Iterator[bytes], codec: str, errors: str,
               repair: Callable[[str, bool], str] | None) -> Iterator[bytes]:
    decoder = codecs.getincrementaldecoder(codec)(errors)
    try:
        for chunk in chunks:
            text = decoder.decode(chunk)
            yield (repair(text, False) if repair else text).encode("utf-8", "surrogatepass")
        text = decoder.decode(b"", True)
    except UnicodeError as exc:
        # Not a byte that fails to decode (``errors`` decides those) but a stream the codec
        # cannot start, e.g. a file declaring UTF-16 whose bytes have no byte order mark.
        raise Undecodable(f"does not decode as its declared {codec} ({exc})") from None
    yield (repair(text, True) if repair else text).encode("utf-8", "surrogatepass")


def _looks_like_xml(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"\x00<", b"<\x00")):
        return True
    return head.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"<")


def _describe(exc: pyexpat.ExpatError, started: bool, looks_xml: bool) -> str:
    where = f"line {exc.lineno}, column {exc.offset + 1}"
    if exc.code == _NO_ELEMENTS and not started:
        return "contains no XML element"
    if exc.code in _INPUT_ENDED and started:
        return f"ends before the XML document is complete ({where})"
    reason = pyexpat.ErrorString(exc.code)
    if not started and not looks_xml:
        return f"is not XML ({reason} at {where})"
    return f"is not well-formed XML ({reason} at {where})"
