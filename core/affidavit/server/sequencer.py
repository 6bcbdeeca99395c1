"""One writer thread per ledger, integrating every append that waits in one transaction.

A durable commit costs a disk flush (milliseconds) and a checkpoint a signature; made once per
append, they bound a server to a few hundred appends a second however many writers it has.
So requests do not append: they queue a :class:`~affidavit.ledger.Pending` and wait, and the
sequencer takes everything queued (up to :data:`MAX_BATCH` entries) into one
``append_batch`` -- one transaction, one flush, one signed checkpoint -- while the next batch
gathers behind it. Each request is acknowledged only when the batch holding it has committed.
Several server processes on one PostgreSQL database each run a sequencer; the database's
advisory lock orders their batches into one history.

The thread keeps its own ledger handle (a connection belongs to one thread), shares the
request side's evidence store (the uploads it placed in that store's incoming area are what
the batch renames into the vault), and stops after :data:`IDLE` seconds without work, so an
idle organisation holds no thread or connection.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from concurrent.futures import Future
from typing import Any

from affidavit.errors import AffidavitError
from affidavit.ledger import Appended, Pending

__all__ = ["Sequencer", "MAX_BATCH", "IDLE"]

MAX_BATCH = 2000
"""Most entries integrated in one transaction."""
IDLE = 5.0
"""Seconds without an append after which the writer thread closes its handle and stops."""


class Sequencer:
    """``await asyncio.wrap_future(sequencer.submit(pending))`` appends with whatever else
    is waiting; see the module docstring. ``opener()`` returns a new handle on the ledger."""

    def __init__(self, opener: Any, *, max_batch: int = MAX_BATCH, idle: float = IDLE) -> None:
        self.opener, self.max_batch, self.idle = opener, max_batch, idle
        self._queue: queue.SimpleQueue[tuple[Pending, Future[Appended]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False

    def submit(self, pending: Pending) -> Future[Appended]:
        """Queue ``pending``; the future holds where it went, or the error refusing it."""
        future: Future[Appended] = Future()
        with self._lock:
            self._queue.put((pending, future))
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="affidavit-sequencer",
                                 daemon=True).start()
        return future

    def _run(self) -> None:
        ledger = None
        idle = False
        try:
            while True:
                try:
                    first = self._queue.get(timeout=self.idle)
                except queue.Empty:
                    with self._lock:  # submit() queues under this lock: nothing slips by
                        if self._queue.empty():
                            idle = True
                            self._running = False
                            return
                    continue
                batch = [first]
                count = len(first[0].entries)
                while count < self.max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    batch.append(item)
                    count += len(item[0].entries)
                ledger = self._integrate(ledger, batch)
        finally:
            if not idle:  # an unexpected exit: the next submit starts a new thread
                with self._lock:
                    self._running = False
            if ledger is not None:
                ledger.close()

    def _integrate(self, ledger: Any, batch: list[tuple[Pending, Future[Appended]]]) -> Any:
        """Append ``batch`` and tell each waiting request; the handle to use next."""
        live = [(pending, future) for pending, future in batch
                if future.set_running_or_notify_cancel() or _closed(pending)]
        try:
            if not live:
                return ledger
            try:
                if ledger is None:
                    ledger = self.opener()
                results: list[Appended | AffidavitError] = ledger.append_batch(
                    [pending for pending, _ in live])
            except BaseException as exc:  # noqa: BLE001 - each waiting request hears it
                for pending, future in live:
                    _closed(pending)
                    future.set_exception(exc)
                if ledger is not None and not isinstance(exc, AffidavitError):
                    ledger.close()  # a handle in an unknown state is not used again
                    ledger = None
                return ledger
            for (pending, future), result in zip(live, results, strict=True):
                # Its staged uploads are cleared before the request hears the outcome, so an
                # acknowledged append leaves nothing behind in the store's incoming area.
                _closed(pending)
                if isinstance(result, AffidavitError):
                    future.set_exception(result)
                else:
                    future.set_result(result)
            return ledger
        finally:
            for pending, _ in live:
                _closed(pending)


def _closed(pending: Pending) -> bool:
    """Close ``pending``'s evidence batch (what was not placed is removed); False, so that a
    request given up before its turn is dropped with its uploads."""
    if pending.evidence is not None:
        with contextlib.suppress(OSError):
            pending.evidence.close()
    return False
