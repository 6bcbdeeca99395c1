"""lcov tracefiles (``lcov.info``), read record by record with bounded memory.

The format is geninfo(1)'s "TRACEFILE FORMAT" (lcov 1.x, and 2.x's additions): an optional
``TN:<test name>``, then per source file a record ``SF:<path>`` … ``end_of_record`` holding
``DA:<line>,<count>[,<checksum>]`` per instrumented line, ``BRDA:<line>,[e][f][U]<block>,
<branch>,<taken>`` per branch (``<taken>`` is ``-`` when its block never ran; ``<branch>``
may be an expression holding commas), the summaries ``LF``/``LH``/``BRF``/``BRH``, and function
records (``FN``, ``FNDA``, ``FNF``, ``FNH``, ``FNL``, ``FNA``), ``VER`` and MC/DC records
(``MCDC``, ``MCF``, ``MCH``) that are not counted here; ``#`` starts a comment.

Counting, as lcov itself merges data:

- a line is one ``DA`` line number of a source file; it is covered when a count for it is
  above 0. A number written twice in a record is one line;
- a branch is one ``(line, block, branch)`` of a source file; covered when ``<taken>`` is a
  number above 0 (``-`` and ``0`` are not covered). A branch flagged ``U`` (unreachable) is
  left out, as lcov leaves it out of ``BRF``;
- records for the same ``SF`` (geninfo's tracefiles of several tests concatenated, one
  ``TN`` each) are one source file: a line or branch covered in any of them is covered. Such
  files are read a second time, for those source files only;
- the package of a source file is the directory of its ``SF`` path as written (``src/util``
  for ``src/util/str.c``; ``.`` for a bare file name): lcov has no packages;
- ``LF``/``LH``/``BRF``/``BRH`` are the record's *declared* figures, summed over the records;
  recorded, never used, and each record whose declared figure differs from the counted one is
  listed (``mismatches``, scope the ``SF`` path).

Refused, each with the line it is on: a malformed record (``DA:x``, a ``DA`` without its
count, a ``BRDA`` with fewer than four fields), a negative count or one past 64 bits, data
before any ``SF``, an ``SF`` inside another record, a line that is no record at all, and a file
that ends inside a record (no ``end_of_record``: truncated). A line of an upper-case record
type this reader does not know (a later lcov's) is skipped and counted in ``notes``.

Speed: a record is first matched whole against one regular expression of the common record
lines (no duplicate line numbers, no unknown types), and then counted with ``bytes.count``
and ``findall``; any record that does not match -- an error, a duplicate, an unknown type --
is read line by line, which gives the same counts or the error with its line number. Memory
is bounded by the largest record (at most :data:`MAX_RECORD`) and the names of the source
files; a source file written in several records also keeps its lines until it is merged.
"""

from __future__ import annotations

import re

from affidavit.collect.coverage.tally import MAX_COUNT, Tally, whole
from affidavit.digest import sha256_for, size_of
from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, BinaryIO

__all__ = ["MAX_RECORD", "read_lcov", "looks_like_lcov"]

#: Largest single record (one source file's data) accepted, in bytes.
MAX_RECORD = 64 << 20
_CHUNK = 1 << 20
_MARK = b"\nend_of_record"
_N = r"(?:0|[1-9][0-9]{0,18})"  # a canonical count below 10**19: fits 64 bits
_RECORD = re.compile((  # one whole record of common lines; anything else is read line by line
    r"[ \t\r]*(?:\n(?>TN:[^\n]*|#[^\n]*|[ \t\r]*(?=\n)))*+"
    r"\nSF:[ \t]*[^\s][^\n]*"
    r"(?:\n(?>DA:<N>,<N>(?:,[^\n]*)?\r?|BRDA:<N>,[ef]{0,2}U?<N>,[^\n]*,(?:-|<N>)\r?"
    r"|(?:LF|LH|BRF|BRH|FNF|FNH|MCF|MCH):<N>\r?|(?:FN|FNDA|FNL|FNA|VER|MCDC|TN):[^\n]*"
    r"|#[^\n]*|[ \t\r]*(?=\n|\Z)))*+").replace("<N>", _N).encode("ascii"))
_DA_LINE = re.compile(rb"\nDA:([0-9]+),")
_DA_ZERO = re.compile(rb"\nDA:[0-9]+,0(?=[,\r\n]|\Z)")
_BRDA_KEY = re.compile(rb"\nBRDA:([^\n]*),(?:-|[0-9]+)\r?$", re.M)
_BRDA_OUT = re.compile(rb"\nBRDA:[0-9]+,[ef]{0,2}U")
_BRDA_MISS = re.compile(rb"\nBRDA:[0-9]+,[ef]{0,2}[0-9][^\n]*,(?:-|0)\r?$", re.M)
_DECLARED = re.compile(rb"\n(LF|LH|BRF|BRH):([0-9]+)")
_TAG = re.compile(rb"[A-Z][A-Z0-9_]*")
_DECLARED_KEYS = {b"LF": 0, b"LH": 1, b"BRF": 2, b"BRH": 3}
_FIELD = ("lines_total", "lines_covered", "branches_total", "branches_covered")
_CHECKED = frozenset({b"FNF", b"FNH", b"MCF", b"MCH"})
_SKIPPED = frozenset({b"FN", b"FNDA", b"FNL", b"FNA", b"VER", b"MCDC", b"TN"})
_FIRST = re.compile(rb"(?:[A-Z][A-Z0-9_]*:|end_of_record\s|#)")


def looks_like_lcov(head: bytes) -> bool:
    """Whether a file starting with ``head`` reads as a tracefile: its first line that is not
    blank is a record (``TN:``, ``SF:``, …) or a comment."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return bool(_FIRST.match(text + b"\n"))


class _Record:
    """One record read line by line: its source file, lines and branches, declared figures."""

    __slots__ = ("sf", "sf_line", "lines", "branches", "declared")

    def __init__(self) -> None:
        self.sf: bytes | None = None
        self.sf_line = 0
        self.lines: dict[int, bool] = {}
        self.branches: dict[tuple[int, bytes, bytes], bool] = {}
        self.declared: list[int | None] = [None, None, None, None]  # LF, LH, BRF, BRH

    def counts(self) -> list[int]:
        """[lines covered, lines, branches covered, branches]."""
        lines, branches = self.lines.values(), self.branches.values()
        return [sum(lines), len(lines), sum(branches), len(branches)]


def read_lcov(stream: BinaryIO, shown: str, head: bytes) -> dict[str, Any]:
    """Count the tracefile ``shown`` read from ``stream`` (``head`` already read from it):
    the per-file dict of :class:`~affidavit.collect.coverage.tally.Tally`."""
    start = stream.tell() - len(head) if stream.seekable() else None
    digest = sha256_for(size_of(stream))
    tally = Tally(shown, "lcov", "directory")
    files: dict[bytes, list[int]] = {}
    repeated: set[bytes] = set()
    unknown: dict[bytes, int] = {}
    declared: list[int | None] = [0, 0, 0, 0]  # summed; None once a record leaves one out
    for piece, base, last in _pieces(_chunks(stream, head, digest.update), shown):
        if last:
            _trailer(piece, base, shown, unknown)
            break
        sf, counts, said = _count(piece, base, shown, unknown)
        if sf in files:
            repeated.add(sf)
            old = files[sf]
            for i in range(4):
                old[i] += counts[i]
        else:
            files[sf] = counts
        for i, value in enumerate(said):
            if value is None:
                declared[i] = None
                continue
            total = declared[i]
            declared[i] = None if total is None else total + value
            _check_record(tally, sf, i, value, counts)
    if repeated:
        _merge_repeated(stream, start, shown, head, files, repeated, tally)
    for sf, counts in files.items():
        package = tally.package(_directory(sf))
        for i in range(4):
            package[i] += counts[i]
    for i, value in enumerate(declared):
        tally.declared[_FIELD[i]] = value if files else None
    lc, lt, bc, bt = tally.totals()
    for field, counted in (("lines_total", lt), ("lines_covered", lc),
                           ("branches_total", bt), ("branches_covered", bc)):
        tally.check_count(None, field, tally.declared[field], counted)
    if unknown:
        kinds = ", ".join(tag.decode("ascii") for tag in sorted(unknown))
        tally.notes.append(f"{sum(unknown.values())} lines of record types this reader does not "
                           f"know were skipped ({kinds})")
    if not files:
        tally.notes.append("the tracefile holds no SF record: nothing was measured")
    return tally.result(digest.hexdigest())


def _check_record(tally: Tally, sf: bytes, i: int, value: int, counts: list[int]) -> None:
    counted = (counts[1], counts[0], counts[3], counts[2])[i]
    if value != counted:
        tally.differs(_text(sf), _FIELD[i], value, counted)


def _chunks(stream: BinaryIO, head: bytes, update: Callable[[bytes], None] | None
            ) -> Iterator[bytes]:
    if update is not None:
        update(head)
    yield head
    while chunk := stream.read(_CHUNK):
        if update is not None:
            update(chunk)
        yield chunk


def _pieces(chunks: Iterator[bytes], shown: str) -> Iterator[tuple[bytes, int, bool]]:
    """``(piece, base, last)``: the text before each ``\\nend_of_record`` (a record, with the
    test name and comments before it), then (``last``) whatever follows the last one. ``base``
    is the number of the line a piece starts on (its first line break ends that line)."""
    pending: list[bytes] = []
    size = 0
    carry = b"\n"  # a line break before line 1, so that every line follows one
    base = 0
    first = True
    for chunk in chunks:
        if first:
            chunk = chunk.removeprefix(b"\xef\xbb\xbf")
            first = False
        cut = chunk.rfind(b"\n")
        if cut == -1:
            carry += chunk
            block = b""
        else:
            block, carry = carry + chunk[:cut], chunk[cut:]
        mark = block.rfind(_MARK)
        if mark == -1:
            pending.append(block)
            size += len(block)
            if size + len(carry) > MAX_RECORD:
                raise InputError(f"{shown}: a record starting at line {base + 1} runs past "
                                 f"{MAX_RECORD >> 20} MiB without its end_of_record")
            continue
        pieces = block[:mark].split(_MARK)
        if pending:
            pending.append(pieces[0])
            pieces[0] = b"".join(pending)
        for piece in pieces:
            yield piece, base, False
            base += piece.count(b"\n") + 1
        pending = [block[mark + len(_MARK):]]
        size = len(pending[0])
    rest = b"".join([*pending, carry])  # the file's last line may end it without a newline
    mark = rest.rfind(_MARK)
    if mark != -1:
        for piece in rest[:mark].split(_MARK):
            yield piece, base, False
            base += piece.count(b"\n") + 1
        rest = rest[mark + len(_MARK):]
    yield rest, base, True


def _count(piece: bytes, base: int, shown: str, unknown: dict[bytes, int]
           ) -> tuple[bytes, list[int], list[int | None]]:
    """The source file of one record, its four counts and its declared LF, LH, BRF, BRH."""
    if _RECORD.fullmatch(piece):
        at = piece.find(b"\nSF:") + 4
        end = piece.find(b"\n", at)
        sf = (piece[at:] if end == -1 else piece[at:end]).strip()
        numbers = _DA_LINE.findall(piece)
        if len(set(numbers)) == len(numbers):
            lines = len(numbers)
            covered = lines - len(_DA_ZERO.findall(piece))
            branches = branches_covered = 0
            duplicate = False
            if b"\nBRDA:" in piece:
                keys = _BRDA_KEY.findall(piece)
                duplicate = len(set(keys)) != len(keys)
                excluded = len(_BRDA_OUT.findall(piece))
                branches = len(keys) - excluded
                branches_covered = branches - len(_BRDA_MISS.findall(piece))
            if not duplicate:
                said: list[int | None] = [None, None, None, None]
                for tag, value in _DECLARED.findall(piece):
                    i = _DECLARED_KEYS[tag]
                    said[i] = (said[i] or 0) + int(value)
                return sf, [covered, lines, branches_covered, branches], said
    record = _read_record(piece, base, shown, unknown)
    if record.sf is None:
        line = base + piece.count(b"\n") + 1
        raise InputError(f"{shown}: line {line}: end_of_record without an SF: line before it")
    return record.sf, record.counts(), record.declared


def _read_record(piece: bytes, base: int, shown: str, unknown: dict[bytes, int]) -> _Record:
    """One record read line by line (the slow path: exact errors, duplicates merged)."""
    record = _Record()
    lines = piece.split(b"\n")
    if lines[0].strip():
        raise InputError(f"{shown}: line {base}: end_of_record followed by "
                         f"{_text(lines[0].strip())[:40]!r} on its line")
    for j in range(1, len(lines)):
        raw = lines[j].strip()
        if not raw or raw.startswith(b"#"):
            continue
        n = base + j
        tag, sep, value = raw.partition(b":")
        if not sep or not _TAG.fullmatch(tag):
            raise InputError(f"{shown}: line {n}: {_text(raw)[:40]!r} is not an lcov record "
                             "(TAG:value or end_of_record)")
        if tag == b"TN":
            continue
        if tag == b"SF":
            if record.sf is not None:
                raise InputError(f"{shown}: line {n}: SF: inside the record of the SF: on line "
                                 f"{record.sf_line} (its end_of_record is missing)")
            if not value.strip():
                raise InputError(f"{shown}: line {n}: SF: names no source file")
            record.sf, record.sf_line = value.strip(), n
            continue
        if record.sf is None and (tag in _DECLARED_KEYS or tag in (b"DA", b"BRDA")
                                  or tag in _CHECKED or tag in _SKIPPED):
            raise InputError(f"{shown}: line {n}: {tag.decode()}: outside a record (no SF: "
                             "line before it)")
        where = f"line {n}"
        if tag == b"DA":
            fields = value.split(b",")
            if len(fields) < 2:
                raise InputError(f"{shown}: {where}: DA needs <line>,<count>, not "
                                 f"{_text(value)[:40]!r}")
            number = whole(_text(fields[0]), shown, where, "the DA line number")
            hits = whole(_text(fields[1]), shown, where, "the DA execution count")
            record.lines[number] = record.lines.get(number, False) or hits > 0
        elif tag == b"BRDA":
            fields = value.split(b",")
            if len(fields) < 4:
                raise InputError(f"{shown}: {where}: BRDA needs <line>,<block>,<branch>,<taken>,"
                                 f" not {_text(value)[:40]!r}")
            number = whole(_text(fields[0]), shown, where, "the BRDA line number")
            block = fields[1]
            flags = block[:len(block) - len(block.lstrip(b"efU"))]
            whole(_text(block[len(flags):]), shown, where, "the BRDA block number")
            taken = fields[-1]
            hit = taken != b"-" and whole(_text(taken), shown, where, "the BRDA taken count") > 0
            if b"U" in flags:
                continue  # unreachable: not a branch to cover, as lcov leaves it out of BRF
            key = (number, block, b",".join(fields[2:-1]))
            record.branches[key] = record.branches.get(key, False) or hit
        elif tag in _DECLARED_KEYS:
            i = _DECLARED_KEYS[tag]
            value_int = whole(_text(value), shown, where, f"{tag.decode()}")
            record.declared[i] = (record.declared[i] or 0) + value_int
        elif tag in _CHECKED:
            whole(_text(value), shown, where, f"{tag.decode()}")
        elif tag not in _SKIPPED:
            unknown[tag] = unknown.get(tag, 0) + 1
    return record


def _trailer(piece: bytes, base: int, shown: str, unknown: dict[bytes, int]) -> None:
    """What follows the last end_of_record: test names, comments and blank lines only."""
    at = piece.find(b"\nSF:")
    if at != -1:  # read no further: its last line may be cut anywhere
        end = piece.find(b"\n", at + 1)
        sf = (piece[at + 4:] if end == -1 else piece[at + 4:end]).strip()
        line = base + piece.count(b"\n", 0, at + 1)
        raise InputError(f"{shown}: ends inside the record of SF: {_text(sf)[:200]} (line "
                         f"{line}) without its end_of_record: the file is truncated")
    _read_record(piece, base, shown, unknown)


def _merge_repeated(stream: BinaryIO, start: int | None, shown: str, head: bytes,
                    files: dict[bytes, list[int]], repeated: set[bytes], tally: Tally) -> None:
    """Read the file again, merging the records of the source files written more than once
    line by line (a line or branch covered in any record is covered)."""
    if start is None:
        tally.notes.append(f"{_files(len(repeated))} several records, and the stream cannot "
                           "be read twice: their counts are summed, not merged")
        return
    stream.seek(start)
    again = stream.read(len(head))
    merged: dict[bytes, _Record] = {}
    ignored: dict[bytes, int] = {}
    for piece, base, last in _pieces(_chunks(stream, again, None), shown):
        if last:
            break
        at = piece.find(b"\nSF:")
        if at == -1:
            continue
        end = piece.find(b"\n", at + 4)
        if (piece[at + 4:] if end == -1 else piece[at + 4:end]).strip() not in repeated:
            continue
        record = _read_record(piece, base, shown, ignored)
        assert record.sf is not None
        into = merged.get(record.sf)
        if into is None:
            merged[record.sf] = record
            continue
        for number, hit in record.lines.items():
            into.lines[number] = into.lines.get(number, False) or hit
        for key, hit in record.branches.items():
            into.branches[key] = into.branches.get(key, False) or hit
    for sf, record in merged.items():
        files[sf] = record.counts()
    tally.notes.append(f"{_files(len(repeated))} several records (tests concatenated): "
                       "merged into one each, as lcov merges them")


def _files(n: int) -> str:
    return "1 source file has" if n == 1 else f"{n} source files have"


def _directory(sf: bytes) -> str:
    """The package of a source file: the directory of its path as written."""
    cut = max(sf.rfind(b"/"), sf.rfind(b"\\"))
    if cut == -1:
        return "."
    return _text(sf[:cut]) if cut else _text(sf[:1])


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


assert MAX_COUNT < 10 ** 20  # _N's 19 digits stay below it; 20 digits go the slow way
