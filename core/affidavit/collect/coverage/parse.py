"""Coverage reports in, the ``coverage`` predicate's counts out.

A pure collector: paths or byte streams in, plain dicts out (the predicate of
:data:`affidavit.models.predicates.COVERAGE`, validated by
:class:`affidavit.models.coverage.CoveragePredicate`). The format is found from the content,
never from the file name: XML whose root is ``<coverage>`` is Cobertura
(:mod:`~affidavit.collect.coverage.cobertura`), ``<report>`` JaCoCo
(:mod:`~affidavit.collect.coverage.jacoco`); text whose first line is a ``TAG:`` record is an
lcov tracefile (:mod:`~affidavit.collect.coverage.lcov`). Each module documents how it counts.

Every figure is a count -- lines covered of lines, branches covered of branches -- and a
percentage is computed from them (two decimals, only for showing; the verdict compares the
counts). Several reports merge by package: a package's counts are summed over the reports
that hold it, and so are the totals. Reports that measure the *same* code twice (unit and
integration runs over one module) are therefore counted twice; give one merged report
(``lcov -a``, JaCoCo's ``merge``, ``coverage combine``) for those.
"""

from __future__ import annotations

import os

from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, BinaryIO

__all__ = ["parse_file", "parse_files", "parse_stream", "summarize", "percent",
           "PACKAGES_CAP"]

#: Packages listed in the predicate; when there are more, the least covered are kept.
PACKAGES_CAP = 1000
_HEAD = 64 << 10


def parse_files(paths: Sequence[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """:func:`parse_file` for each path, in order; the first bad file's error is raised."""
    return [parse_file(path) for path in paths]


def parse_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Count one coverage report; see :func:`parse_stream`."""
    from affidavit.regular import open_regular

    shown = os.fspath(path)
    # opened without blocking and checked on the descriptor: a FIFO with no writer, a device
    # or a directory is refused in one line instead of hanging or reading without end
    with os.fdopen(open_regular(path, shown), "rb") as stream:
        try:
            return parse_stream(stream, shown)
        except OSError as exc:
            raise _os_error(shown, exc) from None


def parse_stream(stream: BinaryIO, path: str) -> dict[str, Any]:
    """Count the report ``path`` read from ``stream``: ``{path, sha256, format,
    packages_from, lines, branches, declared, mismatches, mismatches_total, notes}`` (the
    predicate's ``reports[]`` item) and the private ``_packages`` :func:`summarize` folds."""
    head = stream.read(_HEAD)
    if not head:
        raise InputError(f"{path}: file is empty")
    if _looks_like_xml(head):
        from affidavit.collect.coverage.xmlsafe import CoverageXml, new_parser
        from affidavit.collect.junit.reader import NotWellFormed, read_xml, sniff_encoding

        expat_encoding, codec = sniff_encoding(head, path)
        handler = CoverageXml(path)
        try:
            sha256 = read_xml(stream, path, handler, head=head, codec=codec,
                              expat_encoding=expat_encoding, parser_for=new_parser)
        except NotWellFormed as exc:
            raise InputError(f"{path}: {exc.message}") from None
        return handler.result(sha256)
    from affidavit.collect.coverage.lcov import looks_like_lcov, read_lcov

    if not looks_like_lcov(head):
        raise InputError(f"{path}: is neither a coverage XML report (Cobertura, JaCoCo) nor an "
                         "lcov tracefile (its first line is no TN:, SF: or other record)")
    return read_lcov(stream, path, head)


def percent(covered: int, total: int) -> float | None:
    """``covered`` of ``total`` in percent, two decimals; None when there is nothing."""
    return round(covered * 100 / total, 2) if total else None


def _figures(covered: int, total: int) -> dict[str, Any]:
    return {"covered": covered, "total": total, "percent": percent(covered, total)}


def summarize(files: Sequence[dict[str, Any]], *,
              packages_cap: int = PACKAGES_CAP) -> dict[str, Any]:
    """The coverage predicate (without its ``policy``) for the per-file results ``files``:
    the totals, the packages merged over every report (sorted by name; at most
    ``packages_cap``, the least covered when there are more), and each report."""
    merged: dict[str, list[int]] = {}
    for f in files:
        for name, counts in f["_packages"].items():
            into = merged.setdefault(name, [0, 0, 0, 0])
            for i in range(4):
                into[i] += counts[i]
    totals = [sum(counts[i] for counts in merged.values()) for i in range(4)]
    names = sorted(merged)
    if len(names) > packages_cap:
        def lowest(name: str) -> tuple[float, str]:
            lc, lt = merged[name][0], merged[name][1]
            return (lc / lt if lt else 2.0), name

        names = sorted(sorted(names, key=lowest)[:packages_cap])
    return {
        "summary": {"lines": _figures(totals[0], totals[1]),
                    "branches": _figures(totals[2], totals[3])},
        "packages": [{"name": name, "lines": _figures(merged[name][0], merged[name][1]),
                      "branches": _figures(merged[name][2], merged[name][3])}
                     for name in names],
        "packages_total": len(merged),
        "packages_cap": packages_cap,
        "reports": [{key: (_figures(value["covered"], value["total"])
                           if key in ("lines", "branches") else value)
                     for key, value in f.items() if key != "_packages"} for f in files],
    }


def _looks_like_xml(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00<", b"<\x00")):
        return True
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<")


def _os_error(shown: str, exc: OSError) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{shown}: no such file")
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{shown}: is a directory, not a coverage report")
    return InputError(f"{shown}: {(exc.strerror or str(exc)).lower()}")
