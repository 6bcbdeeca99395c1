"""One JSON document read in chunks, one value at a time, its bytes hashed as they pass.

Scan reports reach hundreds of megabytes and ``json.load`` holds a whole document as Python
objects, several times the file's size. The collectors need only the outer structure, so they
step through objects and arrays here and decode the values they keep -- one SARIF result, one
rule table -- with the C scanner behind ``json`` (``json.scanner.make_scanner``). Memory is then
bounded by the largest single value plus one read buffer, and the SHA-256 recorded with the
predicate costs no second read.

A value cut by the end of the buffer cannot be told from a malformed one by the decoder, so a
failure or a value ending exactly at the buffer's end near its tail is retried after reading
more (each refill at least doubles what is buffered, so a huge value is decoded O(1) times on
average); a failure well inside the buffer, or at the end of the file, is the file's fault and
becomes an :class:`InputError` naming the file, the problem, and its line and column.

Three things ``json`` accepts are refused here, because each lets a report say something other
than what a reader of the file sees: a key repeated in one object (``json`` keeps the last one,
so ``{"level": "error", "level": "none"}`` would read as no problem), a lone UTF-16 surrogate
escape (``"\\ud800"``: no character, and it cannot be written back as UTF-8), and an integer
longer than Python's conversion limit (4300 digits; ``int`` refuses it, without a position).
Repeats are caught by the decoder's ``object_pairs_hook`` (one ``dict`` built per object, as
before, and a length compared); surrogates by one regular-expression search over each decoded
span for the rare ``\\uD8..``-``\\uDF..`` escapes. Only once one is found is the value walked
again, slowly, to find where.

Why not ``ijson``: its C backend builds objects fast for a single prefix only (the results, but
not which run each belongs to, nor the run's tool and rules); reading several in one pass means
taking every parse event through Python, several times slower than this cursor on the 100,000-
result benchmark (the ``-vs-ijson`` line of ``bench/sarif.py``), and a second pass per prefix
would read the file again without being able to tell runs apart.
"""

from __future__ import annotations

import codecs
import json
import json.scanner
import os
import re
import stat
import sys
from json.decoder import scanstring  # type: ignore[attr-defined]

from affidavit.digest import sha256_for, size_of
from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, BinaryIO, TypeVar

    T = TypeVar("T")

__all__ = ["JsonStream", "CHUNK", "read_document", "open_regular"]

CHUNK = 1 << 20
_WS = re.compile(r"[ \t\n\r]*")
_KEY = re.compile(r'\{[ \t\n\r]*"((?:[^"\\]|\\.)*)"')
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_ESCAPE = re.compile(r"(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})")
_TAIL = 8  # a decode error this close to the buffer's end may be a value cut by the buffer
_O_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


class _Repeated(Exception):
    """A key repeated in one object, raised by :func:`_pairs` out of the C decoder."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _Found(Exception):
    """Where :meth:`JsonStream._locate` found the problem the decoder raised."""

    def __init__(self, problem: str, at: int) -> None:
        super().__init__(problem)
        self.problem, self.at = problem, at


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The decoder's object hook: the object, unless a key is repeated (the last would win)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Repeated(key)
            seen.add(key)
    return obj


def _lone_surrogate(buf: str, start: int, end: int) -> int | None:
    """The offset of the first escape of a lone surrogate in ``buf[start:end]``, or None.

    An escape is a run of an odd number of backslashes before ``u`` (an even run is escaped
    backslashes and text); a high surrogate followed at once by a low one is a pair.
    """
    paired = -1
    for match in _ESCAPE.finditer(buf, start, end):
        if len(match[1]) % 2 == 0:
            continue
        at = match.end(1) - 1
        if at == paired:
            continue
        if int(match[2], 16) < 0xDC00:
            low = buf[match.end():match.end() + 6]
            if len(low) == 6 and low[:3] in ("\\ud", "\\uD") and low[3] in "cdefCDEF":
                paired = match.end()
                continue
        return at
    return None


class JsonStream:
    """A cursor over one JSON document; ``shown`` is the path as the user wrote it."""

    def __init__(self, source: BinaryIO, shown: str, *, chunk: int = CHUNK) -> None:
        self.shown = shown
        self._source = source
        self._chunk = chunk
        self._sha = sha256_for(size_of(source))
        self._decoder: codecs.IncrementalDecoder | None = None
        self._scan = json.scanner.make_scanner(
            json.JSONDecoder(object_pairs_hook=_pairs))  # type: ignore[arg-type]
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._bytes = 0
        self._dropped = 0  # characters already dropped from the front of the buffer
        self._lines = 0  # newlines in the text already dropped from the buffer
        self._column = 0  # characters after the last dropped newline

    # ------------------------------------------------------------------ buffer

    def _fill(self) -> None:
        """Drop what was consumed and read at least as much again as is left."""
        if self._pos:
            gone = self._buf[: self._pos]
            newlines = gone.count("\n")
            if newlines:
                self._lines += newlines
                self._column = len(gone) - gone.rfind("\n") - 1
            else:
                self._column += len(gone)
            self._buf = self._buf[self._pos:]
            self._dropped += self._pos
            self._pos = 0
        data = self._source.read(max(self._chunk, len(self._buf)))
        self._sha.update(data)
        if self._decoder is None:
            encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
            self._decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise InputError(f"{self.shown}: not UTF-8 text (byte {self._bytes + exc.start})",
                             remedy="JSON reports must be UTF-8") from None
        self._bytes += len(data)
        self._buf += text
        if not data:
            self._eof = True

    def _where(self, offset: int) -> str:
        pos = max(0, offset - self._dropped)
        line = self._lines + self._buf.count("\n", 0, pos) + 1
        last = self._buf.rfind("\n", 0, pos)
        column = pos - last if last >= 0 else self._column + pos + 1
        return f"line {line} column {column}"

    def position(self) -> int:
        """The offset of the next value in the document, for an :meth:`error` about it after
        it has been consumed."""
        self.peek()
        return self._dropped + self._pos

    def error(self, problem: str, offset: int | None = None, *,
              remedy: str | None = None) -> InputError:
        """``problem`` at ``offset`` (from :meth:`position`; default: the cursor) as a
        one-line InputError with its line and column."""
        where = self._where(self._dropped + self._pos if offset is None else offset)
        return InputError(f"{self.shown}: {problem} at {where}", remedy=remedy)

    # ------------------------------------------------------------------ reading

    def peek(self) -> str:
        """The next character that is not white space, '' at the end of the document."""
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if self._eof:
                return ""
            self._fill()

    def peek_key(self) -> str | None:
        """The first key of the object at the cursor, without consuming anything.

        Only looks at the buffer, so it answers ``None`` when the cursor is not on an object or
        the key does not fit in what has been read (callers then take the general path).
        """
        if self.peek() != "{":
            return None
        match = _KEY.match(self._buf, self._pos)
        if match is None:
            return None
        try:
            key = json.loads(f'"{match.group(1)}"')
        except ValueError:
            return None
        return key if isinstance(key, str) else None

    def value(self) -> Any:
        """Decode the next value whole."""
        self.peek()
        return self._decode()

    def _decode(self) -> Any:
        """Decode the value at the cursor (white space already skipped).

        Only the message and position of a decoding error are kept: an exception object held in
        a local would tie this frame, and so the old buffer, into a reference cycle.
        """
        while True:
            size = len(self._buf)
            try:
                obj, end = self._scan(self._buf, self._pos)
            except StopIteration as stop:
                msg, pos = "Expecting value", int(stop.value)
            except json.JSONDecodeError as exc:
                msg, pos = exc.msg, exc.pos
            except RecursionError:
                raise self.error("JSON nested too deeply") from None
            except (_Repeated, ValueError):  # a repeated key, or an integer too long for int
                raise self._locate() from None
            else:
                if end < size or self._eof:
                    start, self._pos = self._pos, end
                    if _SURROGATE.search(self._buf, start, end):
                        lone = _lone_surrogate(self._buf, start, end)
                        if lone is not None:
                            raise self.error("a lone UTF-16 surrogate escape (no character) "
                                             "in a string", self._dropped + lone)
                    return obj
                self._fill()  # a number or literal may continue in the next chunk
                continue
            unterminated = msg.startswith("Unterminated")
            if not self._eof and (unterminated or pos >= size - _TAIL):
                self._fill()  # the value may only be cut by the end of the buffer
                continue
            at = self._dropped + pos
            if unterminated or pos >= len(self._buf.rstrip()):
                raise self.error(f"the document ends early (truncated?): {msg}", at)
            raise self.error(f"invalid JSON: {msg}", at)

    def _locate(self) -> InputError:
        """The error for the value at the cursor, which the decoder refused for a repeated key
        or a too long integer: walked again in Python to say which and where."""
        try:
            self._walk(self._pos)
        except _Found as found:
            return self.error(found.problem, self._dropped + found.at)
        except (RecursionError, IndexError, ValueError):
            pass
        return self.error("a repeated key or an integer of more than "
                          f"{sys.get_int_max_str_digits()} digits in the value")

    def _walk(self, pos: int) -> int:
        """The end of the value at ``pos``; raises :class:`_Found` at the first repeated key
        or integer ``int`` refuses. Slow: only run after the decoder has met one."""
        buf = self._buf
        pos = _WS.match(buf, pos).end()  # type: ignore[union-attr]
        first = buf[pos]
        if first in "{[":
            close, seen = ("}" if first == "{" else "]"), set()
            pos = _WS.match(buf, pos + 1).end()  # type: ignore[union-attr]
            if buf[pos] == close:
                return pos + 1
            while True:
                if first == "{":
                    at = pos
                    key, pos = scanstring(buf, pos + 1)
                    if key in seen:
                        raise _Found(f"duplicate key {json.dumps(key)} in an object "
                                     "(the last one would silently win)", at)
                    seen.add(key)
                    pos = _WS.match(buf, pos).end() + 1  # type: ignore[union-attr]  # ':'
                pos = _WS.match(buf, self._walk(pos)).end()  # type: ignore[union-attr]
                if buf[pos] == close:
                    return pos + 1
                pos = _WS.match(buf, pos + 1).end()  # type: ignore[union-attr]  # ','
        try:
            return int(self._scan(buf, pos)[1])
        except ValueError:
            if first == '"':
                raise
            raise _Found(f"an integer of more than {sys.get_int_max_str_digits()} digits",
                         pos) from None

    def refuse(self, expected: str) -> InputError:
        """The error for a document that is not ``expected`` (not JSON, or a bare value)."""
        where = self.position()
        try:
            found = self.value()
        except InputError:
            return self.error(f"not JSON: expected {expected}", where)
        kind = {str: "a string", bool: "a boolean", type(None): "null"}.get(type(found),
                                                                             "a number")
        return self.error(f"not {expected}: the document is {kind}", where)

    def expect(self, char: str, what: str) -> None:
        """Consume ``char`` or fail saying ``what`` was expected."""
        found = self.peek()
        if found != char:
            if not found:
                raise self.error(f"the document ends early (truncated?), expected {what}")
            raise self.error(f"expected {what}, found {found!r}")
        self._pos += 1

    def iter_array(self) -> Iterator[int]:
        """Consume ``[``; yield the index of each element, which the caller must consume."""
        self.expect("[", "an array")
        if self.peek() == "]":
            self._pos += 1
            return
        index = 0
        while True:
            self.peek()  # the cursor on the element, for errors about it
            yield index
            index += 1
            if self._closes("]", "an array"):
                return

    def iter_values(self) -> Iterator[tuple[int, Any]]:
        """Consume an array; yield ``(offset, element)`` for each element, decoded whole.

        The fast path for long arrays of results or vulnerabilities: one look for the separator
        and one for the next element, the offset serving errors about the element.
        """
        self.expect("[", "an array")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            yield self._dropped + self._pos, self._decode()
            if self._closes("]", "an array"):
                return
            self.peek()

    def _closes(self, close: str, inside: str) -> bool:
        """Consume the ``,`` after an item (False) or the closing bracket (True)."""
        found = self.peek()
        if found == ",":
            self._pos += 1
            return False
        if found == close:
            self._pos += 1
            return True
        if not found:
            raise self.error(f"the document ends early (truncated?) inside {inside}")
        raise self.error(f"invalid JSON: expected ',' or '{close}', found {found!r}")

    def iter_object(self) -> Iterator[str]:
        """Consume ``{``; yield each key, whose value the caller must consume; a key repeated
        is an error (``json`` would keep the last one)."""
        self.expect("{", "an object")
        if self.peek() == "}":
            self._pos += 1
            return
        seen: set[str] = set()
        while True:
            if self.peek() != '"':
                self.expect('"', "a property name in double quotes")
            at = self._dropped + self._pos
            key = self.value()
            if key in seen:
                raise self.error(f"duplicate key {json.dumps(key)} in an object (the last one "
                                 "would silently win)", at)
            seen.add(key)
            self.expect(":", "':'")
            yield key
            if self._closes("}", "an object"):
                return

    def skip(self) -> None:
        """Consume the next value, decoding big containers one element at a time."""
        found = self.peek()
        if found == "[":
            for _ in self.iter_values():
                pass
        elif found == "{":
            for _ in self.iter_object():
                self.value()
        else:
            self.value()

    def finish(self) -> None:
        """Check nothing but white space follows the document (and so hash every byte)."""
        found = self.peek()
        if found:
            raise self.error(f"invalid JSON: extra data after the document ({found!r})")

    def hexdigest(self) -> str:
        """SHA-256 of the bytes read so far (all of them after :meth:`finish`)."""
        return self._sha.hexdigest()


def _os_error(shown: str, exc: OSError) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{shown}: no such file")
    return InputError(f"{shown}: {(exc.strerror or str(exc)).lower()}")


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """The file at ``path`` opened for reading (unbuffered), refused unless it is a regular
    file: opened non-blocking, so that a FIFO cannot hang the run. Errors name the file."""
    shown = os.fspath(path)
    try:
        fd = os.open(shown, _O_READ)
    except OSError as exc:
        raise _os_error(shown, exc) from None
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError as exc:
        os.close(fd)
        raise _os_error(shown, exc) from None
    if not regular:
        os.close(fd)
        raise InputError(f"{shown}: not a regular file")
    return os.fdopen(fd, "rb", buffering=0)


def read_document(path: str | os.PathLike[str], reader: Callable[[JsonStream], T]) -> tuple[T, str]:
    """``reader`` applied to a stream over the file, and the file's hex SHA-256.

    The file is opened by :func:`open_regular`; the reader must consume the whole document
    (``JsonStream.finish``).
    """
    shown = os.fspath(path)
    with open_regular(shown) as source:
        try:
            stream = JsonStream(source, shown)
            return reader(stream), stream.hexdigest()
        except OSError as exc:
            raise _os_error(shown, exc) from None
