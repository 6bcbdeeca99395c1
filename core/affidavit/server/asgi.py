"""The ASGI factory uvicorn imports in each worker process (``affidavit server``)."""

from __future__ import annotations

import gc
import os
from typing import Any

from affidavit.server.app import create_app

__all__ = ["make"]


def _settle() -> None:
    """What the process holds now lives as long as it: out of the cyclic collector's walks."""
    gc.collect()
    gc.freeze()


def make() -> Any:
    """The app for the ledger ``affidavit server`` was started on (passed by environment,
    the only channel uvicorn's worker processes share).

    What exists once the app is built (modules, routes, schemas) lives as long as the process,
    so it is frozen out of the cyclic collector: every full collection walked it again, some
    60,000 objects, stalling one request in a hundred or so by 10-20 ms. For the same reason
    the older generations are collected ten times less often than Python's default: a read of
    a trail allocates thousands of short-lived containers, freed by their reference counts
    (the answers hold no cycles), and the default thresholds had the middle and oldest
    generations -- the ledgers' subtree caches among them -- walked every few requests, for
    a p99 a third above the median (bench/server_reads.py). A ledger's caches, read in when
    it is opened (here, before the first request; per organisation, at its first), are
    frozen out the same way (``_settle``): a full collection walking a 1M-entry ledger's
    blocks and subtrees took a read's p99 from 4 to 7 ms."""
    app = create_app(os.environ["AFFIDAVIT_SERVER_LEDGER"],
                     max_request=int(os.environ.get("AFFIDAVIT_SERVER_MAX_REQUEST",
                                                    str(256 << 20))),
                     tokens=os.environ.get("AFFIDAVIT_SERVER_TOKENS") or None,
                     rate=float(os.environ.get("AFFIDAVIT_SERVER_RATE", "100")),
                     evidence=os.environ.get("AFFIDAVIT_SERVER_EVIDENCE") or None,
                     opened=_settle, eager=True,
                     public_read=bool(os.environ.get("AFFIDAVIT_SERVER_PUBLIC_READ")))
    _settle()
    young, _, _ = gc.get_threshold()
    gc.set_threshold(young, 100, 100)
    return app
