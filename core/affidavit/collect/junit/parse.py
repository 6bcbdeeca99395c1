"""JUnit XML results: count the test cases of result files, and add the counts up.

A pure collector: paths or byte streams in, plain dicts out (the predicate of
:data:`affidavit.models.junit.JUNIT`, validated by :class:`affidavit.models.junit.JUnitPredicate`).

Counting rules (the same for every producer; the corpus tests state how each other tool's
numbers map onto these):

- **Every ``<testcase>`` element counts once** in the per-file dict, wherever it is: under
  ``<testsuites>`` or a bare ``<testsuite>`` root, in suites nested at any depth, or directly
  under the root. A test written twice (a rerun as a second element) is two cases there; the
  predicate folds them into one test with two runs unless ``retries="count"``
  (:mod:`~affidavit.collect.junit.fold` has those rules).
- **One outcome per case**, by priority: ``<error>`` > ``<failure>`` > ``<skipped>`` >
  passed, however many result elements a case holds. Surefire's ``<rerunError>`` /
  ``<rerunFailure>`` without a primary result still mean error / failure (every rerun
  failed); ``<flakyError>`` / ``<flakyFailure>`` alone mean the case passed on a rerun: it is
  *passed* and also counted in ``flaky``. A case without result elements whose ``status`` is
  ``disabled``, ``skipped``, ``ignored``, ``pending`` or ``notrun`` is skipped. Result elements
  outside any ``<testcase>`` are not cases and are not counted.
- **Declared totals** are recorded, never trusted: ``declared`` sums the ``tests``,
  ``failures``, ``errors`` and ``skipped`` attributes of the *top-level* ``<testsuite>``
  elements (the root itself when it is a ``<testsuite>``; ``<testsuites>``' own attributes are
  an aggregate and are ignored). ``skipped`` falls back to ``skips`` and adds ``disabled``. A
  key is null when no top-level suite declares it.
- **Lenient numbers**: a count or time that is missing, negative or not a number
  (``time="<<computed>>"``) is absent / 0, never an error.
- ``suites`` lists the suites that hold test cases directly, plus leaf suites without any
  (an empty suite is worth seeing), each with the counts of its *direct* cases, so the suites'
  counts add up to the summary. ``failed_cases`` lists failed and errored cases in document
  order, at most ``failed_cases_cap``, with the message of the first ``<error>``/``<failure>``
  (its ``message`` attribute, else its text, at most 1000 characters).

Input handling (:mod:`~affidavit.collect.junit.reader`, :mod:`~affidavit.collect.junit.repair`):
streamed through expat in chunks, never a tree; DTDs and entities refused (defusedxml's rules,
``forbid_dtd`` included); nesting over 256 levels refused; BOMs and declared encodings honoured
(ISO-8859-x, windows-125x, Shift_JIS, UTF-16/32 are decoded, not refused); an empty file, a
file that is not XML or not JUnit, and a truncated file are errors naming the file.

Lenient reading, decided here: a file that is *almost* XML -- a raw ``<`` or ``&`` in an
attribute value (mikepenz's ``time="<<computed>>"``), an undefined entity such as ``&nbsp;``,
control characters, bytes that do not decode -- is read a second time through a repairing
tokenizer that escapes exactly those characters and cannot add, move or remove an element;
the per-file dict then says ``repaired: true`` (and its SHA-256 is still of the raw bytes). A
raw ``<`` inside a quoted attribute value is invalid XML, but escaping it is the only reading
anyone gives it and it cannot change what is counted, so it is accepted; a ``<`` that leaves a
tag unclosed, a missing quote, or mismatched tags are not guessed at and stay errors.
"""

from __future__ import annotations

import math
import os

from affidavit.collect.junit.counter import CaseCounter
from affidavit.collect.junit.reader import (
    HEAD,
    NotWellFormed,
    Undecodable,
    read_xml,
    repair_codec,
    sniff_encoding,
)
from affidavit.errors import InputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, BinaryIO

__all__ = ["parse_file", "parse_files", "parse_stream", "summarize"]

_COUNTS = ("tests", "passed", "failures", "errors", "skipped", "flaky")
_DECLARED = ("tests", "failures", "errors", "skipped")


def parse_files(paths: Sequence[str | os.PathLike[str]], *, failed_cases_cap: int = 50,
                details: bool = False, retries: str = "fold") -> list[dict[str, Any]]:
    """:func:`parse_file` for each path, in order; the first bad file's error is raised."""
    return [parse_file(path, failed_cases_cap=failed_cases_cap, details=details,
                       retries=retries) for path in paths]


def parse_file(path: str | os.PathLike[str], *, failed_cases_cap: int = 50,
               details: bool = False, retries: str = "fold") -> dict[str, Any]:
    """Count the test cases of one results file; see :func:`parse_stream`."""
    shown = os.fspath(path)
    try:
        stream = open(shown, "rb")  # noqa: SIM115 - closed below, errors mapped separately
    except OSError as exc:
        raise _os_error(shown, exc) from None
    with stream:
        try:
            return parse_stream(stream, shown, failed_cases_cap=failed_cases_cap,
                                details=details, retries=retries)
        except OSError as exc:
            raise _os_error(shown, exc) from None


def parse_stream(stream: BinaryIO, path: str, *, failed_cases_cap: int = 50,
                 details: bool = False, retries: str = "fold") -> dict[str, Any]:
    """Count the test cases of the results file ``path`` read from ``stream``.

    Returns ``{path, sha256, repaired, summary, declared, suites, failed_cases,
    failed_cases_total, runs}`` -- the per-file parts of the predicate, shaped like it, with
    each element counted as a test (the ``count`` reading); ``retries="fold"`` adds what
    :func:`summarize` folds retried tests with, over every file (private keys ``_tests``
    and ``_failing``: a map entry per distinct test). ``details`` adds, for comparisons
    with other tools: ``unnamed`` (cases with neither name nor classname),
    ``failed_but_skipped`` (failed or errored cases also marked skipped or
    ``status="disabled|ignored"``, which some tools count as skipped), ``skipped_by_status``
    (cases skipped only by their ``status``, per status, which some tools count as passed)
    and ``top_suites`` (each top-level suite's declared attributes, its counted cases and its
    raw number of ``<failure>``/``<error>``/``<skipped>`` elements).
    The lenient second reading needs a seekable stream; otherwise the first error stands.
    """
    start = stream.tell() if stream.seekable() else None
    head = stream.read(HEAD)
    if not head:
        raise InputError(f"{path}: file is empty")
    expat_encoding, codec = sniff_encoding(head, path)
    fold = _fold(retries)
    counter = CaseCounter(path, failed_cases_cap, details, fold)
    try:
        sha256 = read_xml(stream, path, counter, head=head, codec=codec,
                          expat_encoding=expat_encoding)
        return counter.result(path, sha256)
    except NotWellFormed as first:
        if start is None:
            raise InputError(f"{path}: {first.message}") from None
        from affidavit.collect.junit.repair import Repairer  # only for almost-XML files

        stream.seek(start)
        head = stream.read(HEAD)
        counter = CaseCounter(path, failed_cases_cap, details, fold)
        try:
            sha256 = read_xml(stream, path, counter, head=head, codec=repair_codec(head, path),
                              errors="replace", repair=Repairer())
        except Undecodable as exc:
            raise InputError(f"{path}: {exc.message}") from None
        except NotWellFormed:
            raise InputError(f"{path}: {first.message}") from None
        return {**counter.result(path, sha256), "repaired": True}


def summarize(files: Sequence[dict[str, Any]], *, failed_cases_cap: int = 50,
              retries: str = "fold") -> dict[str, Any]:
    """The JUnit predicate (``junit/v2``, without its ``policy``) for the per-file results
    ``files`` (in the order given), retried tests folded (``retries="fold"``, the files parsed
    so too) or each element counted as a test (``"count"``).

    ``failed_cases`` keeps the first ``failed_cases_cap`` failed tests over all files (give
    :func:`parse_file` the same cap); ``failed_cases_total`` says how many there were.
    """
    if _fold(retries):
        from affidavit.collect.junit.fold import fold

        counts, failed, failed_total = fold(files, failed_cases_cap)
        summary: dict[str, Any] = dict(counts)
    else:
        counted = {key: sum(f["summary"][key] for f in files) for key in _COUNTS}
        summary = {"tests": counted["tests"], "passed": counted["passed"] - counted["flaky"],
                   "flaky": counted["flaky"], "failed": counted["failures"],
                   "errors": counted["errors"], "skipped": counted["skipped"]}
        failed = []
        for f in files:
            failed += f["failed_cases"][:failed_cases_cap - len(failed)]
        failed_total = sum(f["failed_cases_total"] for f in files)
    summary["runs"] = sum(f["runs"] for f in files)
    summary["duration_s"] = round(math.fsum(f["summary"]["duration_s"] for f in files), 6)
    declared: dict[str, int | None] = {}
    for key in _DECLARED:
        values = [f["declared"][key] for f in files if f["declared"][key] is not None]
        declared[key] = sum(values) if values else None
    return {
        "summary": summary,
        "declared": declared,
        "suites": [suite for f in files for suite in f["suites"]],
        "failed_cases": failed,
        "failed_cases_total": failed_total,
        "failed_cases_cap": failed_cases_cap,
        "files": [{"path": f["path"], "sha256": f["sha256"]} for f in files],
    }


def _fold(retries: str) -> bool:
    if retries not in ("fold", "count"):
        raise ValueError(f"retries must be 'fold' or 'count', not {retries!r}")
    return retries == "fold"


def _os_error(shown: str, exc: OSError) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{shown}: no such file")
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{shown}: is a directory, not a results file")
    return InputError(f"{shown}: {(exc.strerror or str(exc)).lower()}")
