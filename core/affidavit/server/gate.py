"""Which organisation a request is for, and whether its token may do it: checked before any
route runs, so no endpoint can forget to.

``/api/v1/orgs/ORG/...`` is ``/api/v1/...`` of organisation ORG (``/api/v1/...`` alone is the
organisation ``default``, the one a single-ledger server serves). With a token file, every
request but the public ones needs ``Authorization: Bearer TOKEN`` of that organisation:

- public (anyone may audit): health, readiness, the OpenAPI document, the latest checkpoint,
  the state (size, checkpoint, origin, key), roots, inclusion and consistency proofs;
- ``write``: appends and heartbeats; ``read``: everything else.

No token, or an unknown one: 401. Another organisation's token, or an organisation that does
not exist: 404, the same answer, so names cannot be probed. A token without the scope: 403.
Each token may make ``rate`` requests a second on average (bursts of twice that): 429 beyond.
"""

from __future__ import annotations

import contextvars
import json
import time
from typing import Any

from affidavit.server.tokens import ORG_NAME, TokenStore, allows

__all__ = ["Gate", "ORG", "DEFAULT_ORG", "may_write"]

DEFAULT_ORG = "default"
ORG: contextvars.ContextVar[str] = contextvars.ContextVar("affidavit_org", default=DEFAULT_ORG)
_WRITER: contextvars.ContextVar[bool] = contextvars.ContextVar("affidavit_writer", default=False)

_PUBLIC = {"/healthz", "/readyz", "/api/v1/openapi.json", "/api/v1/checkpoint",
           "/api/v1/ledger/state", "/api/v1/ledger/root", "/api/v1/ledger/inclusion-proof",
           "/api/v1/ledger/inclusion-proofs", "/api/v1/ledger/consistency-proof"}
_WRITE = {"/api/v1/ledger/append", "/api/v1/ledger/writable"}
_WRITE_BY = {("POST", "/api/v1/ledger/heartbeat"), ("POST", "/api/v1/ledger/cosignatures")}
"""Writes that share their path with a read of another method."""
_STATED = {"/api/v1/ledger/state", "/api/v1/ledger/read-many"}
"""The answers that may carry the state, and with it whether the token could append."""


def _answer(status: int, kind: str, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": {"type": kind, "message": message,
                                         "remedy": None}}).encode()


class Gate:
    """ASGI middleware: route by organisation, then authenticate, authorise and rate-limit."""

    def __init__(self, app: Any, tokens: TokenStore | None, *, multi: bool,
                 rate: float = 100.0, log: Any = None, ui: bool = False) -> None:
        self.app, self.tokens, self.multi, self.rate = app, tokens, multi, rate
        self.ui = ui  # paths outside /api/ are the web UI's: its own login (server/ui.py)
        self.log = log
        self.buckets: dict[str, tuple[float, float]] = {}  # token id -> (allowance, at)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        org = DEFAULT_ORG
        if path.startswith("/api/v1/orgs/"):
            org, _, rest = path[len("/api/v1/orgs/"):].partition("/")
            path = f"/api/v1/{rest}"
            scope = {**scope, "path": path, "raw_path": path.encode()}
        refused = self._refused(scope, org, path)
        if refused is not None:
            status, body = refused
            if self.log is not None:
                self.log({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                          "level": "warning", "method": scope.get("method"),
                          "path": scope["path"], "org": org, "status": status})
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        token = ORG.set(org)
        writer = _WRITER.set(path in _STATED and self._may_write(scope, org))
        try:
            await self.app(scope, receive, send)
        finally:
            _WRITER.reset(writer)
            ORG.reset(token)

    def _may_write(self, scope: Any, org: str) -> bool:
        """Whether this request's token could append (asked on the state, so that a writer
        learns it with the head it reads, not in a request of its own)."""
        if self.tokens is None:
            return True
        known = self._known(scope)
        return known is not None and known[1] == org and allows(known[2], "write")

    def _known(self, scope: Any) -> tuple[str, str, str] | None:
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"authorization", b"").decode("latin-1")
        return self.tokens.check(given[7:]) if self.tokens is not None and given.startswith(
            "Bearer ") else None

    def _refused(self, scope: Any, org: str, path: str) -> tuple[int, bytes] | None:
        missing = _answer(404, "NotFoundError", f"no organisation {org!r} here")
        if not ORG_NAME.match(org):
            return missing
        if path in ("/healthz", "/readyz", "/api/v1/openapi.json"):
            return None
        if self.ui and not path.startswith("/api/"):
            return None  # the UI's routes check its session cookie themselves
        if self.multi:
            if self.tokens is None or not self.tokens.has_org(org):
                return missing
        elif org != DEFAULT_ORG:
            return missing
        if self.tokens is None or path in _PUBLIC:
            return None
        known = self._known(scope)
        if known is None:
            return _answer(401, "UsageError", "a valid API token is needed "
                           "(Authorization: Bearer TOKEN; the CLI sends AFFIDAVIT_API_TOKEN)")
        ident, token_org, token_scope = known
        if token_org != org:
            return missing
        needed = "write" if path in _WRITE or (scope.get("method"), path) in _WRITE_BY else (
            "read")
        if not allows(token_scope, needed):
            return _answer(403, "UsageError", f"this token's scope is {token_scope}; "
                           f"{path} needs {needed}")
        return self._limited(ident)

    def _limited(self, ident: str) -> tuple[int, bytes] | None:
        now = time.monotonic()
        allowance, at = self.buckets.get(ident, (2 * self.rate, now))
        allowance = min(2 * self.rate, allowance + (now - at) * self.rate)
        if allowance < 1:
            self.buckets[ident] = (allowance, now)
            return _answer(429, "LedgerUnavailable",
                           f"more than {self.rate:g} requests a second with this token")
        self.buckets[ident] = (allowance - 1, now)
        return None


def may_write() -> bool:
    """Whether the current state request's token may append (see ``Gate._may_write``)."""
    return _WRITER.get()
