"""Spreading JUnit parsing over CPU cores: whole files, or the parts of one large file.

Why: counting is bound by expat's per-element callbacks into Python (about 1.7 us per test case
all told), so a 100,000-case report takes ~0.18 s on one core however lean the handlers are.
The only further speed-up is more cores, as :mod:`affidavit.collect.hashing` does for
fingerprints: children are forked, each parses its share, and sends back plain data through a
pipe; results are combined in document order, so the outcome is identical to a sequential read.

A large file is cut right after a ``</testsuite>`` found near each cut target. Such a cut is
only *assumed* to lie between two top-level suites of a ``<testsuites>`` root (not inside a
nested suite, a comment or a CDATA section): each part after the first is parsed behind a
synthetic ``<testsuites>`` start tag, and every part but the last must end exactly between two
top-level suites with no token pending, which its own parser checks. Any surprise -- a cut in
the wrong place, any error at all -- abandons the parallel reading for the plain sequential one,
which then reports errors as usual. Without ``fork`` (Windows) or with one core, everything is
sequential.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys

from affidavit.collect.junit_cases import CaseCounter
from affidavit.collect.junit_xml import CHUNK, feed, new_parser, paused_gc, sniff_encoding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from typing import Any, TypeVar

    T = TypeVar("T")

__all__ = ["SPLIT_MIN", "jobs", "fork_map", "parse_parts"]

#: Files smaller than this are read by one process (forking costs about a millisecond).
SPLIT_MIN = 4 << 20
_WINDOW = 1 << 20  # how far past a cut target to look for "</testsuite>"
_CUT = b"</testsuite>"
_FIRST_SUITE = rb"<testsuites[\s>].*?(<testsuite[\s/>])"


def jobs() -> int:
    """How many processes may parse at once: the CPUs this process may run on, at most 8; one
    where forking is impossible or unsafe (another thread could hold a lock the child needs)."""
    if not _can_fork():
        return 1
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS
        count = os.cpu_count() or 1
    return max(1, min(count, 8))


def _can_fork() -> bool:
    threading = sys.modules.get("threading")
    return hasattr(os, "fork") and (threading is None or threading.active_count() == 1)


def fork_map(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """``[task() for task in tasks]``, the first task here and each other in a forked child.

    Results come back in order; if tasks raise, the exception of the first failing task (in
    task order) is raised here. Children are always reaped, even when this process is
    interrupted.
    """
    if len(tasks) < 2 or not _can_fork():
        return [task() for task in tasks]
    import pickle  # 2 ms, here: a single results file (the common case) never forks

    children: list[tuple[int, int]] = []
    outcomes: list[tuple[bool, Any]] = []
    try:
        for task in tasks[1:]:
            children.append(_spawn(task, [fd for _pid, fd in children]))
        try:
            outcomes.append((True, tasks[0]()))
        except Exception as exc:
            outcomes.append((False, exc))
        while children:
            pid, fd = children.pop(0)
            with os.fdopen(fd, "rb") as pipe:
                data = pipe.read()
            os.waitpid(pid, 0)
            outcomes.append(pickle.loads(data) if data else
                            (False, RuntimeError("a parsing worker exited without an answer")))
    finally:
        for pid, fd in children:  # only when interrupted: stop waiting for them
            os.close(fd)
            os.waitpid(pid, 0)
    for ok, value in outcomes:
        if not ok:
            raise value
    return [value for _ok, value in outcomes]


def _spawn(task: Callable[[], Any], inherited: list[int]) -> tuple[int, int]:
    import pickle  # already loaded by fork_map, the only caller

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_fd)
        return pid, read_fd
    try:  # pragma: no cover - runs in the child, which coverage does not follow
        for fd in [read_fd, *inherited]:  # so that only the parent can read (or stop reading)
            os.close(fd)
        try:
            payload = pickle.dumps((True, task()), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            payload = pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(0)


class _Misaligned(Exception):
    """A cut did not fall between two top-level suites: read the file sequentially."""


def parse_parts(path: str, size: int, workers: int, cap: int) -> tuple[CaseCounter, str] | None:
    """Count ``path`` in up to ``workers`` parts read in parallel; None when it cannot be cut.

    Returns the combined counter and the file's SHA-256 (hashed whole by this process).
    """
    with open(path, "rb") as stream:
        head = stream.read(CHUNK)
        try:
            expat_encoding, codec = sniff_encoding(head, path)
        except Exception:
            return None
        if codec or not _root_is_testsuites(head, path, expat_encoding):
            return None
        cuts = _cuts(stream, head, size, workers)
    if len(cuts) < 3:
        return None
    tasks = [_part_task(path, cuts[i], cuts[i + 1], expat_encoding, cap, first=i == 0,
                        last=i == len(cuts) - 2) for i in range(len(cuts) - 1)]
    try:
        parts = fork_map(tasks)
    except Exception:
        return None
    counter, sha256 = parts[0]
    if any(snapshot["frames"][0][0] for snapshot, _ in parts[1:]):
        return None  # cases outside any suite in several parts: their seconds would be added
        # up in another order than a sequential read adds them, so read it sequentially
    for snapshot, _ in parts[1:]:
        counter.absorb(snapshot)
    return counter, sha256


def _root_is_testsuites(head: bytes, path: str, encoding: str | None) -> bool:
    parser = new_parser(path, encoding)
    names: list[str] = []

    def first(name: str, _attrs: dict[str, str]) -> None:
        names.append(name)
        raise _Misaligned

    parser.StartElementHandler = first
    with contextlib.suppress(Exception):
        parser.Parse(head, False)
    return names == ["testsuites"]


def _cuts(stream: Any, head: bytes, size: int, workers: int) -> list[int]:
    """Offsets just after a ``</testsuite>`` near each ``size * i / workers``, with 0 and size.

    In a pretty-printed file the end tags of top-level suites are those indented like the
    first top-level suite's start tag, so only those are taken; in any other file the first
    ``</testsuite>`` is, and the parts' own checks catch a cut inside a nested suite.
    """
    marker = _CUT
    first = re.search(_FIRST_SUITE, head, re.DOTALL)
    if first is not None:
        line = head.rfind(b"\n", 0, first.start(1)) + 1
        indent = head[line:first.start(1)]
        if line and not indent.strip():
            marker = b"\n" + indent + _CUT
    cuts = [0]
    for i in range(1, workers):
        target = max(size * i // workers, cuts[-1])
        stream.seek(target)
        at = stream.read(_WINDOW).find(marker)
        if at >= 0 and target + at + len(marker) < size:
            cuts.append(target + at + len(marker))
    return [*cuts, size]


def _part_task(path: str, start: int, end: int, encoding: str | None, cap: int, *,
               first: bool, last: bool) -> Callable[[], tuple[Any, str]]:
    def run() -> tuple[Any, str]:
        counter = CaseCounter(path, cap)
        parser = new_parser(path, encoding)
        counter.bind(parser)
        digest = hashlib.sha256()
        update = digest.update if first else _ignore
        with open(path, "rb") as stream:
            stream.seek(start)
            try:
                with paused_gc():
                    fed = 0 if first else feed(parser, path, [b"<testsuites>"])
                    fed += feed(parser, path, _read(stream, end - start, update), final=last)
            finally:
                counter.unbind(parser)
            if not last and (not counter.between_suites() or parser.CurrentByteIndex != fed):
                raise _Misaligned
            if first:  # the SHA-256 is of the whole file: hash the parts the others parse
                for _chunk in _read(stream, os.fstat(stream.fileno()).st_size - end,
                                    digest.update):
                    pass
        return (counter if first else counter.snapshot()), digest.hexdigest()

    return run


def _ignore(_chunk: bytes) -> None:
    pass


def _read(stream: Any, length: int, update: Callable[[bytes], None]) -> Iterator[bytes]:
    while length > 0:
        chunk = stream.read(min(CHUNK, length))
        if not chunk:
            return
        update(chunk)
        length -= len(chunk)
        yield chunk
