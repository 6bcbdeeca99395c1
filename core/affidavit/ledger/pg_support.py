"""Pieces of the PostgreSQL ledger that need no database: how URLs and errors are shown, the
adapter that lets the key map's SQL run on psycopg, the vault of a ledger given none, and the
signing key file's variable (the file itself: ``ledger.keyfile``)."""

from __future__ import annotations

from affidavit.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import psycopg

__all__ = ["KEY_FILE_ENV", "EVIDENCE_ENV", "redacted", "one_line", "Qmark", "MissingBlobs"]

KEY_FILE_ENV = "AFFIDAVIT_SIGNING_KEY_FILE"
EVIDENCE_ENV = "AFFIDAVIT_EVIDENCE_DIR"


def redacted(url: str) -> str:
    """The URL without its password, for messages: they end up in CI logs."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
    except ValueError:
        return "postgresql://…"


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


class Qmark:
    """A psycopg connection seen through the ``?`` placeholders ``ledger.sqlite_map`` writes
    (the map's SQL is the same on both databases; none of it holds a literal ``?`` or ``%``)."""

    __slots__ = ("conn",)

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        rows = list(parameters)
        if rows:
            with self.conn.cursor() as cursor:
                cursor.executemany(sql.replace("?", "%s"), rows)


class MissingBlobs:
    """The vault of a ledger opened without one: any use says what to configure."""

    root = None

    def __init__(self, url: str) -> None:
        self.url = url

    def _refuse(self) -> UsageError:
        return UsageError(f"ledger {self.url} needs evidence storage",
                          remedy=f"set {EVIDENCE_ENV} to a folder for the evidence vault")

    def incoming(self) -> Any:
        raise self._refuse()

    def has(self, digest: str) -> bool:
        raise self._refuse()

    def open(self, digest: str) -> Any:
        raise self._refuse()
