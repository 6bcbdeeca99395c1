"""Choose a ledger backend by URL scheme from the ``affidavit.ledgers`` entry point group.

Scanning installed distributions costs tens of milliseconds, which the CLI cannot pay on every
call, so the scan's result is cached under the user cache dir, keyed by the modification times
of ``sys.path``: installing or removing a package changes its site-packages directory and
invalidates the cache. ``AFFIDAVIT_NO_PLUGIN_CACHE=1`` always scans.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["GROUP", "backends", "open_ledger", "default_url", "cache_dir"]

GROUP = "affidavit.ledgers"

#: Backends this package ships: chosen without the plugin cache, so nothing written in the cache
#: folder can redirect the default ledger to other code.
BUILT_IN = {"sqlite": "affidavit.ledger.sqlite:SQLiteLedger",
            "http": "affidavit.ledger.http:HttpLedger",
            "https": "affidavit.ledger.http:HttpLedger",
            "postgresql": "affidavit.ledger.postgres:PostgresLedger",
            "postgres": "affidavit.ledger.postgres:PostgresLedger"}


def cache_dir() -> str:
    """``$XDG_CACHE_HOME/affidavit`` (``~/.cache/affidavit``), or ``AFFIDAVIT_CACHE_DIR``."""
    explicit = os.environ.get("AFFIDAVIT_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "affidavit")


def _path_stamp() -> list[Any]:
    """Modification times of the import path, without ``sys.path[0]``: that is the script's
    folder or the working directory, which changes all the time and never holds plugins."""
    stamp: list[Any] = []
    for entry in sys.path[1:]:
        try:
            stamp.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            stamp.append([entry, None])
    return stamp


def _scan() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def backends() -> dict[str, str]:
    """Scheme -> ``module:attribute`` of every registered backend."""
    if os.environ.get("AFFIDAVIT_NO_PLUGIN_CACHE"):
        return _scan()
    from affidavit.digest import sha256

    environment = sha256(sys.prefix.encode()).hexdigest()[:16]
    cache = os.path.join(cache_dir(), f"plugins-{environment}.json")
    stamp = _path_stamp()
    try:
        with open(cache, encoding="utf-8") as fh:
            cached = json.load(fh)
        if cached.get("stamp") == stamp:
            return dict(cached["ledgers"])
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    found = _scan()
    try:
        from affidavit.atomic import temp_beside

        os.makedirs(os.path.dirname(cache), exist_ok=True)
        tmp, handle = temp_beside(cache)
        with os.fdopen(handle, "w", encoding="utf-8") as fh:
            json.dump({"stamp": stamp, "ledgers": found}, fh)
        os.replace(tmp, cache)
    except OSError:
        pass
    return found


def default_url() -> str:
    """``.affidavit/ledger.db`` at the root of the enclosing git checkout, else in the cwd."""
    here = folder = os.getcwd()
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return os.path.join(folder, ".affidavit", "ledger.db")
        parent = os.path.dirname(folder)
        if parent == folder:
            return os.path.join(here, ".affidavit", "ledger.db")
        folder = parent


def open_ledger(url: str | None = None, *, create: bool = True, **options: Any) -> Any:
    """Open the ledger at ``url`` (``--ledger``/``AFFIDAVIT_LEDGER``; default: see above).

    Backends are constructed as ``Backend(url, create=create, **options)``; ``create=False``
    (every read and verify command) makes a missing ledger an error rather than a new, empty
    one; ``options`` are the server's (``blobs=``: where evidence goes).
    """
    url = url or os.environ.get("AFFIDAVIT_LEDGER") or default_url()
    scheme = url.split("://", 1)[0] if "://" in url else "sqlite"
    target = BUILT_IN.get(scheme)
    registered: dict[str, str] = {}
    if target is None:
        registered = {**backends(), **BUILT_IN}
        target = registered.get(scheme)
    if target is None:
        known = ", ".join(sorted(registered)) or "none"
        raise UsageError(f"no ledger backend for {scheme}:// (installed: {known})")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)(url, create=create, **options)
