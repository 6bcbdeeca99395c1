"""API tokens: who may read or write which organisation's ledger.

A token is shown once, when it is created, and stored only as its SHA-256: a copy of the token
file gives an attacker no token. Each belongs to one organisation and has one scope:

- ``read``: every read of that organisation's ledger and evidence;
- ``write``: those, and appends;
- ``admin``: those, and whatever administration the server offers.

An organisation exists once a token has been created for it.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import time

from affidavit.errors import LedgerUnavailable, UsageError

__all__ = ["TokenStore", "SCOPES", "ORG_NAME", "allows"]

SCOPES = ("read", "write", "admin")
ORG_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_PREFIX = "afv_"


def allows(scope: str, needed: str) -> bool:
    """Whether a token of ``scope`` may do what needs ``needed``."""
    return SCOPES.index(scope) >= SCOPES.index(needed)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_file(path: str) -> None:
    """A token file is a regular file, or not there yet (then it is created): never a FIFO,
    a device, a directory or a link loop, which SQLite would block on or misread."""
    import errno
    import stat

    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UsageError(f"--tokens {path}: too many levels of symbolic links") from None
        raise UsageError(f"--tokens {path}: {(exc.strerror or str(exc)).lower()}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"--tokens {path}: is a directory, not a token file")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"--tokens {path}: not a regular file")


class TokenStore:
    """Tokens in a SQLite file (``--tokens FILE``)."""

    def __init__(self, path: str) -> None:
        self.path = path
        _check_file(path)
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, "
                            "hash TEXT UNIQUE NOT NULL, org TEXT NOT NULL, scope TEXT NOT NULL, "
                            "created REAL NOT NULL)")
        except sqlite3.Error as exc:
            raise LedgerUnavailable(f"token file {path}: {exc}") from None

    def create(self, org: str, scope: str) -> str:
        """A new token for ``org`` with ``scope``; the only time it is ever seen."""
        if not ORG_NAME.match(org):
            raise UsageError(f"--org {org!r}: lowercase letters, digits and '-', at most 63")
        if scope not in SCOPES:
            raise UsageError(f"--scope {scope!r} is not one of {', '.join(SCOPES)}")
        token = _PREFIX + secrets.token_urlsafe(32)
        ident = secrets.token_hex(8)
        try:
            self.db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?)",
                            (ident, _digest(token), org, scope, time.time()))
        except sqlite3.Error as exc:
            raise LedgerUnavailable(f"token file {self.path}: {exc}") from None
        return token

    def check(self, token: str) -> tuple[str, str, str] | None:
        """``(id, org, scope)`` of a known token, else None."""
        if not token.startswith(_PREFIX):
            return None
        row = self.db.execute("SELECT id, org, scope FROM tokens WHERE hash = ?",
                              (_digest(token),)).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]))

    def has_org(self, org: str) -> bool:
        return self.db.execute("SELECT 1 FROM tokens WHERE org = ? LIMIT 1",
                               (org,)).fetchone() is not None

    def close(self) -> None:
        self.db.close()
