"""What the elements of a JUnit report mean: the counting half of the collector.

The reader (:mod:`affidavit.collect.junit.reader`) drives a :class:`CaseCounter` with expat's
start/end events. The counter keeps the nesting depth, one frame per ``<testsuite>`` and the
state of the open ``<testcase>``, nothing per case, so memory does not grow with the file. Its
handlers are closures over local state, with a short path for the common passing case: they
run once per element, and their cost is most of the collector's time. The counting rules are
those of :mod:`affidavit.collect.junit`.
"""

from __future__ import annotations

import math

from affidavit.collect.junit.reader import MAX_DEPTH
from affidavit.collect.junit.tally import (
    CHILDREN,
    NAME,
    TOP,
    E,
    F,
    FileTally,
    K,
    S,
    T,
    declared_of,
    new_frame,
)
from affidavit.errors import InputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import pyexpat
    from typing import Any

__all__ = ["CaseCounter", "MESSAGE_MAX"]

#: Longest failure message kept, in characters.
MESSAGE_MAX = 1000

_SUITES, _SUITE, _CASE = 1, 2, 3
_ERROR, _FAILURE, _SKIPPED, _FLAKY, _RERUN_ERROR, _RERUN_FAILURE = 8, 16, 32, 64, 128, 256
_KINDS: dict[str, int] = {
    "testsuites": _SUITES, "testsuite": _SUITE, "testcase": _CASE,
    "error": _ERROR, "failure": _FAILURE, "skipped": _SKIPPED,
    "flakyFailure": _FLAKY, "flakyError": _FLAKY,
    "rerunFailure": _RERUN_FAILURE, "rerunError": _RERUN_ERROR,
}
_TALLIED = {_FAILURE: 0, _ERROR: 1, _SKIPPED: 2}  # raw result elements, for the mappings
_MESSAGE_KINDS = _ERROR | _FAILURE | _RERUN_ERROR | _RERUN_FAILURE
_RERUNS = _FLAKY | _RERUN_ERROR | _RERUN_FAILURE  # each such child is one more run of its case
_ANY_ERROR, _ANY_FAILURE = _ERROR | _RERUN_ERROR, _FAILURE | _RERUN_FAILURE
_SKIP_STATUS = frozenset({"disabled", "skipped", "ignored", "pending", "notrun", "not run"})
#: a run's bits for folding, by the index of its outcome: passed 1, failed 2, errored 4,
#: skipped 8; a Surefire flaky case is a failed run and a passed one
_FOLD_BITS = (1, 2, 4, 8, 3)


def _outcome(flags: int, attrs: dict[str, str]) -> int:
    """The counts index of a finished case: error > failure > skipped > passed (flaky)."""
    if flags & _ERROR:
        return E
    if flags & _FAILURE:
        return F
    if flags & _SKIPPED:
        return S
    if flags & _RERUN_ERROR:
        return E
    if flags & _RERUN_FAILURE:
        return F
    status = attrs.get("status")
    if status and status.lower() in _SKIP_STATUS:
        return S
    return K if flags & _FLAKY else 0


def _fold_bits(index: int, flags: int, attrs: dict[str, str]) -> int:
    """A run's bits when runs are folded: a case whose ``status`` says it did not run is
    skipped whatever result elements it holds (a disabled test cannot have failed); one
    whose runs failed and errored (a ``<failure>`` and a ``<rerunError>``) counts both."""
    status = attrs.get("status")
    if status and status.lower() in _SKIP_STATUS:
        return 8
    if index == K:
        return 3
    bits = (4 if flags & _ANY_ERROR else 0) | (2 if flags & _ANY_FAILURE else 0)
    return bits or _FOLD_BITS[index]


class CaseCounter(FileTally):
    """Counts the ``<testcase>`` elements of one file; :meth:`result` gives the per-file dict.

    ``fold`` keeps, per test identity, the bits of its runs' outcomes and the first message
    of each kind a failed run gave, for :mod:`affidavit.collect.junit.fold` to merge over
    files: a map entry per distinct test, so memory grows with the file (never beyond it).
    ``details`` adds ``unnamed``, ``failed_but_skipped``, ``skipped_by_status`` and
    ``top_suites``, which only comparisons with other tools ask for.
    """

    def __init__(self, shown: str, failed_cases_cap: int, details: bool = False,
                 fold: bool = False) -> None:
        super().__init__(failed_cases_cap, details, fold)
        self.shown = shown
        self.started = False

    def bind(self, parser: pyexpat.XMLParserType) -> None:
        """Install the handlers on ``parser`` (the first element is checked to be JUnit)."""
        start, end = self._handlers(parser)
        shown = self.shown

        def first(name: str, attrs: dict[str, str]) -> None:
            kind = _KINDS.get(name.rpartition(":")[2])
            if kind not in (_SUITES, _SUITE):
                raise InputError(f"{shown}: not a JUnit XML report (root element <{name}>,"
                                 " expected <testsuites> or <testsuite>)")
            self.started = True
            parser.StartElementHandler = start
            start(name, attrs)

        parser.StartElementHandler = first
        parser.EndElementHandler = end

    @staticmethod
    def unbind(parser: pyexpat.XMLParserType) -> None:
        """Drop the handlers: they and the parser refer to each other, and a cycle would wait
        for the garbage collector instead of being freed at once."""
        parser.StartElementHandler = parser.EndElementHandler = None
        parser.CharacterDataHandler = None

    def _handlers(self, parser: pyexpat.XMLParserType) -> tuple[Any, Any]:
        shown, cap, details = self.shown, self.cap, self.details
        frames, tops, failed = self.frames, self.tops, self.failed
        failed_case, per_test = self._failed_case, self._per_test
        passed = self.passed
        fold_run = self._fold_run if passed is not None else None
        reruns = self.reruns
        message_cap = cap if fold_run is None else math.inf  # a folded run may be the one shown
        kinds = dict(_KINDS)
        depth = 0
        case: dict[str, str] | None = None
        flags = 0
        messages: dict[int, str] | None = None
        outer: list[tuple[dict[str, str], int, dict[int, str] | None]] = []
        root = frames[0]
        stack: list[list[Any]] = []
        cur: list[Any] = root
        text: list[str] = []
        text_depth = -1
        max_depth, inf = MAX_DEPTH, math.inf

        def kind_of(name: str) -> int | None:
            """The kind of a name not seen yet: a prefixed one (``ns:testcase``) or another;
            remembered, up to a point (a file could hold a million distinct names)."""
            kind = _KINDS.get(name.rpartition(":")[2])
            if len(kinds) < 256:
                kinds[name] = kind  # type: ignore[assignment]
            return kind

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal depth, case, flags, messages, cur, text_depth
            depth += 1
            if depth > max_depth:
                raise InputError(f"{shown}: elements nested deeper than {MAX_DEPTH} levels")
            if name != "testcase":
                kind = kinds[name] if name in kinds else kind_of(name)
                if kind is None:
                    return
                if kind >= _ERROR:
                    if case is None:
                        return
                    flags |= kind
                    if kind & _RERUNS:
                        reruns[0] += 1
                    if kind in _TALLIED and cur[TOP] is not None:
                        cur[TOP]["results"][_TALLIED[kind]] += 1
                    if not kind & _MESSAGE_KINDS or len(failed) >= message_cap:
                        return
                    if messages is None:
                        messages = {}
                    if kind in messages:
                        return
                    message = attrs.get("message", "").strip()
                    if message:
                        messages[kind] = message[:MESSAGE_MAX]
                    elif text_depth < 0:
                        text.clear()
                        text_depth = depth
                        parser.CharacterDataHandler = on_text
                    return
                if kind == _SUITE:
                    frame = new_frame(attrs.get("name"), True)
                    if stack:
                        stack[-1][CHILDREN] = True
                        frame[TOP] = stack[0][TOP]
                    else:
                        frame[TOP] = declared_of(attrs)
                        tops.append(frame[TOP])
                    frames.append(frame)
                    stack.append(frame)
                    cur = frame
                    return
                if kind == _SUITES:
                    if len(frames) == 1:
                        root[NAME] = attrs.get("name")
                    return
            if case is not None:  # a <testcase>, or a prefixed one
                outer.append((case, flags, messages))
            case, flags, messages = attrs, 0, None

        def on_text(data: str) -> None:
            if sum(map(len, text)) < MESSAGE_MAX:  # a few pieces at most: the text is cut
                text.append(data)

        def end(name: str) -> None:
            nonlocal depth, case, flags, messages, cur, text_depth
            depth -= 1
            if name != "testcase":
                kind = kinds[name] if name in kinds else kind_of(name)
                if kind is None:
                    return
                if kind >= _ERROR:
                    if text_depth == depth + 1:
                        text_depth = -1
                        parser.CharacterDataHandler = None
                        message = "".join(text).strip()
                        if message and messages is not None:
                            messages.setdefault(kind, message[:MESSAGE_MAX])
                    return
                if kind == _SUITE:
                    stack.pop()
                    cur = stack[-1] if stack else root
                    return
                if kind != _CASE:
                    return
            attrs: Any = case  # a </testcase>, or a prefixed one
            frame = cur
            frame[0] += 1  # literal indexes here: this runs once per case
            if flags or "status" in attrs:
                index = _outcome(flags, attrs)
                if index:
                    frame[index] += 1
                if index in (F, E):
                    failed_case(frame, attrs, index, messages)
                if fold_run is not None:
                    fold_run(frame, attrs, _fold_bits(index, flags, attrs), messages)
            else:
                index = 0
                if passed is not None:  # the common case: a name in its group's set
                    test = attrs.get("name")
                    if test is None:
                        fold_run(frame, attrs, 1, None)  # type: ignore[misc]
                    else:
                        group = (frame[6], attrs.get("classname"), attrs.get("file"))
                        names = passed.get(group)
                        if names is None:
                            names = passed[group] = set()
                        names.add(test)
            seconds = attrs.get("time")
            if seconds:
                try:
                    value = float(seconds)
                except ValueError:
                    value = 0.0
                if 0.0 < value < inf:
                    frame[5] += value
            if details:
                per_test(frame, attrs, index, flags)
            if outer:
                case, flags, messages = outer.pop()
            else:
                case = None

        return start, end

    def _failed_case(self, frame: list[Any], attrs: dict[str, str], index: int,
                     said: dict[int, str] | None) -> None:
        self.failed_total += 1
        if len(self.failed) >= self.cap:
            return
        said = said or {}
        if index == E:
            kind, message = "error", said.get(_ERROR) or said.get(_RERUN_ERROR)
        else:
            kind, message = "failure", said.get(_FAILURE) or said.get(_RERUN_FAILURE)
        self.failed.append({"suite": frame[NAME], "classname": attrs.get("classname"),
                            "name": attrs.get("name"), "kind": kind, "message": message})

    def _fold_run(self, frame: list[Any], attrs: dict[str, str], bits: int,
                  said: dict[int, str] | None) -> None:
        """Fold a run that is not a plain pass (or has no name) into its test's entry, and
        remember the first message of each kind a failed run of that test gave."""
        classname, name = attrs.get("classname"), attrs.get("name")
        key: tuple[Any, ...]
        if name is None and classname is None:  # cannot be told apart: a test of its own
            key = (self.unnamed_key, len(self.runs))
        else:
            key = (frame[NAME], classname, name, attrs.get("file"))
        if bits == 1 and name is not None and self.passed is not None:
            self.passed.setdefault((frame[NAME], classname, attrs.get("file")), set()).add(name)
            return
        runs = self.runs
        runs[key] = runs.get(key, 0) | bits
        if not bits & 6 or bits & 1:
            return
        said = said or {}
        kind = "error" if bits & 4 else "failure"
        message = (said.get(_ERROR) or said.get(_RERUN_ERROR) if kind == "error"
                   else said.get(_FAILURE) or said.get(_RERUN_FAILURE))
        record = self.failing.get(key)
        if record is None:
            record = self.failing[key] = {"suite": frame[NAME], "classname": classname,
                                          "name": name, "messages": {}}
        record["messages"].setdefault(kind, message)

    def _per_test(self, frame: list[Any], attrs: dict[str, str], index: int,
                  flags: int) -> None:
        if index in (F, E) and (flags & _SKIPPED or attrs.get("status") in ("disabled",
                                                                           "ignored")):
            self.failed_but_skipped += 1
        elif index == S and not flags & _SKIPPED:
            status = attrs["status"].lower()
            self.skipped_by_status[status] = self.skipped_by_status.get(status, 0) + 1
        if attrs.get("name") is None and attrs.get("classname") is None:
            self.unnamed[T] += 1
