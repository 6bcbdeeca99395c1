"""``affidavit server``: the ledger protocol over HTTP, for clients that believe none of it.

Every endpoint under ``/api/v1/ledger`` is one method of :class:`affidavit.ledger.base.Ledger`,
so the remote backend (:mod:`affidavit.ledger.http`) runs the whole library face -- every CLI
command, with its flags, outputs and exit codes -- against a shared ledger, and the client's
own proofs (``verify.proven``) check every answer: the server is not trusted to say anything
true, only to be caught when it does not.

What the server does decide is what it writes: every entry it is sent passes the checks every
reader applies (:func:`affidavit.verify.proven.admit`: the shape, and an attestation's
``compliant`` flag recomputed by the one judge) before it is appended, and every evidence file
an entry names must arrive with it or be in the vault already. A retried append (a timeout, a
lost connection) does not append twice: an append whose very entries are already in the log
after the size it proved is answered with where they went (checked inside the write
transaction, so a retry that reaches another server process is caught too).

Appends are integrated in batches by one writer thread per ledger (``server/sequencer.py``):
one transaction, one durable commit and one signed checkpoint for every append waiting. An
append's answer carries the consistency proof from the head its writer proved and the
inclusion proofs of its entries, which the writer checks: no further round trips. Reads run
on the event loop's thread with a handle of their own; ``--workers N`` runs N processes on
one database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from affidavit import canonical
from affidavit.errors import (
    AffidavitError,
    InputError,
    IntegrityError,
    LedgerUnavailable,
    NotFoundError,
    UsageError,
)
from affidavit.ledger import Pending, wire
from affidavit.server import schemas as sc
from affidavit.server.sequencer import Sequencer

__all__ = ["create_app", "MAX_REQUEST", "MAX_ENTRIES", "MAX_RANGE"]

MAX_REQUEST = 256 << 20
"""Largest request body accepted (an append with its evidence files), in bytes."""
MAX_ENTRIES = 100
"""Most entries one append may carry."""
FEATURES = ["read-since", "read-prefixes", "append-requires", "paged-audit", "read-held",
            "append-also"]
"""What the state answers this server takes beyond the first v1 protocol (``sc.State``): a
client of a newer version sends them only to a server that lists them."""
MAX_RANGE = sc.MAX_RANGE
_DIGEST = r"^[0-9a-f]{64}$"

_STATUS = ((NotFoundError, 404), (IntegrityError, 409), (LedgerUnavailable, 503),
           (UsageError, 400), (InputError, 400))


def _error(exc: AffidavitError) -> JSONResponse:
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
    return JSONResponse({"error": {"type": type(exc).__name__, "message": exc.message,
                                   "remedy": exc.remedy}}, status_code=status)


def _refuse(message: str) -> InputError:
    return InputError(message)


class _BodyLimit:
    """Refuse a request body over ``limit`` bytes, counted as it arrives (a chunked upload
    has no Content-Length to refuse it by)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(self.limit)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(self.limit)(scope, receive, send)


class _TooLarge(Exception):
    pass


class _Logged:
    """One log record per request (its id, echoed in ``x-request-id``, method, path, status,
    milliseconds); plain ASGI, as every layer of Starlette's ``BaseHTTPMiddleware`` costs a
    task and a stream per request."""

    def __init__(self, app: Any, log: Any) -> None:
        self.app, self.log = app, log

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = dict(scope.get("headers") or []).get(b"x-request-id")
        request_id = given.decode("latin-1")[:200] if given else uuid.uuid4().hex
        status = 500
        sent = False

        async def tagged(message: Any) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status, sent = message["status"], True
                message = {**message, "headers": [*message.get("headers", ()),
                                                   (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        except AffidavitError as exc:
            if sent:
                raise
            await _error(exc)(scope, receive, tagged)
        self.log({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": "info",
                  "request_id": request_id, "method": scope.get("method"),
                  "path": scope["path"], "status": status,
                  "ms": round((time.perf_counter() - started) * 1000, 2)})


def _json(body: Any) -> Response:
    """``body`` as JSON, sent as it is: the hot endpoints' answers are built from the store in
    the shape their ``response_model`` documents (the schemathesis test holds them to it), so
    validating each again is only cost."""
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")


def _page(rows: Iterator[Any], limit: int | None) -> list[Any]:
    """The first ``limit`` of ``rows``; without a limit (a client that does not page), all of
    them up to :data:`sc.MAX_UNPAGED`, and a refusal beyond, not an answer of any size."""
    import itertools

    try:
        page = list(itertools.islice(rows, limit if limit is not None else sc.MAX_UNPAGED + 1))
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()
    if limit is None and len(page) > sc.MAX_UNPAGED:
        raise UsageError(f"more than {sc.MAX_UNPAGED} rows for one answer",
                         remedy="use an affidavit client that asks a page at a time")
    return page


def _b64_query(value: str, name: str) -> bytes:
    try:
        return wire.unb64(value, name)
    except wire.Malformed as exc:  # the client's request, not a server's answer: bad input
        raise InputError(exc.message) from None


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"error": {"type": "InputError", "message":
                                   f"request body over {limit} bytes", "remedy": None}},
                        status_code=413)


def _log(record: dict[str, Any]) -> None:
    """One JSON line per event on stderr: what a log shipper ingests without a parser."""
    sys.stderr.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stderr.flush()


def create_app(ledger_url: str, *, max_request: int = MAX_REQUEST, log: Any = _log,
               tokens: str | None = None, rate: float = 100.0,
               evidence: str | None = None, opened: Callable[[], None] | None = None,
               eager: bool = False, ui: bool = True, public_read: bool = False) -> Any:
    """The ASGI application serving the ledger at ``ledger_url`` (created when missing), or
    one ledger per organisation when the URL holds ``{org}``; ``tokens`` (a token file) turns
    authentication on (server/gate.py); ``log`` takes one dict per request (JSON lines on
    stderr by default); ``evidence`` (``s3://bucket/prefix`` or ``file:///dir``, ``{org}``
    filled in like the ledger's) is where evidence goes instead of the backend's own vault;
    ``opened()`` is called after a ledger was opened and its caches read in (the server
    process moves them out of the collector's sight: ``server/asgi.py``); ``eager`` opens
    the one ledger now rather than at the first request (a large one reads its caches in
    for a second or so), unless it cannot be opened yet: then its first request tries.
    ``ui`` serves the read-only web UI at ``/`` (``server/ui.py``), which ``public_read``
    opens to anyone without a token (the organisation ``default``)."""
    from affidavit.ledger.registry import open_ledger
    from affidavit.server.gate import DEFAULT_ORG, ORG, Gate, may_write
    from affidavit.server.tokens import TokenStore

    multi = "{org}" in ledger_url
    if multi and tokens is None:
        raise UsageError(f"--ledger {ledger_url}: a ledger per organisation needs --tokens "
                         "FILE (organisations are made by creating their tokens)")
    storage = _per_organisation(ledger_url, evidence, multi)
    store = TokenStore(tokens) if tokens is not None else None

    app = FastAPI(title="affidavit", version="1", openapi_url="/api/v1/openapi.json",
                  docs_url=None, redoc_url=None, responses=sc.ERRORS)  # type: ignore[arg-type]
    state: dict[str, Any] = {}
    writers: dict[str, Sequencer] = {}

    def ledger() -> Any:
        """This request's organisation's ledger (the gate admitted the organisation)."""
        org = ORG.get()
        if org not in state:  # opened on the loop's thread, which every read runs on
            url = ledger_url.replace("{org}", org) if multi else ledger_url
            options = storage(org)
            handle = open_ledger(url, create=True, **options)
            handle.init()
            if hasattr(handle, "cache_subtrees"):  # a long-lived reader: see StoredTree
                handle.cache_subtrees()
            state[org] = handle
            if opened is not None:
                opened()
            same = {**options, "blobs": handle.blobs}  # the writer's: the same store
            writers[org] = Sequencer(lambda: open_ledger(url, create=True, **same))
        return state[org]

    def _writable(led: Any) -> bool:
        """Whether this request's token could append now (see ``gate.may_write``)."""
        if not may_write():
            return False
        try:
            led.check_writable()
        except AffidavitError:
            return False
        return True

    from affidavit.server.queries import add_queries

    add_queries(app, ledger, _json)
    if ui:
        from affidavit.server.ui import ui_router
        from affidavit.server.ui_site import PerThread

        def reader(org: str) -> Any:
            """A worker thread's own handle on the organisation's ledger, which the loop's
            ``ledger()`` opened (made) first: the UI's reads are not the loop's."""
            url = ledger_url.replace("{org}", org) if multi else ledger_url
            handle = open_ledger(url, **storage(org))
            if hasattr(handle, "cache_subtrees"):
                handle.cache_subtrees()
            return handle

        app.include_router(ui_router(ledger, tokens=store, public_read=public_read,
                                     multi=multi, reads=PerThread(reader)))

    @app.exception_handler(AffidavitError)
    async def refused(request: Request, exc: AffidavitError) -> JSONResponse:
        return _error(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Routing and parsing refusals (unknown path, a body that is not JSON) in the same
        error body as every other refusal."""
        if ui and not request.url.path.startswith("/api/"):
            from affidavit.server.ui_site import refused

            return refused(request, exc.status_code, str(exc.detail)  # type: ignore[return-value]
                           if exc.status_code != 404 else "")
        kind: type[AffidavitError] = NotFoundError if exc.status_code == 404 else InputError
        answer = _error(kind(f"{request.url.path}: {exc.detail}"))
        answer.status_code = exc.status_code if exc.status_code < 500 else 503
        return answer

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> JSONResponse:
        """A request of the wrong shape is bad input like any other: the same error body."""
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(InputError(f"{request.url.path}: {where}: {first.get('msg', 'invalid')}"))

    @app.get("/healthz", response_model=sc.Health)
    async def healthz() -> dict[str, str]:
        """The process answers."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=sc.Ready, responses={503: {"model": sc.Ready}})
    async def readyz() -> JSONResponse:
        """The ledger opens and has a signed checkpoint: ready to serve. With a ledger per
        organisation, the token file opens (each organisation's ledger is opened, or made,
        by its first request; on PostgreSQL its database is the operator's to create)."""
        if multi and store is not None:
            try:
                store.has_org(DEFAULT_ORG)
            except Exception as exc:  # noqa: BLE001 - a token file that cannot be read
                return JSONResponse({"status": "unavailable", "reason": f"tokens: {exc}"},
                                    status_code=503)
            return JSONResponse({"status": "ready"})
        try:
            signed = ledger().checkpoint()
        except AffidavitError as exc:
            return JSONResponse({"status": "unavailable", "reason": exc.message},
                                status_code=503)
        return JSONResponse({"status": "ready" if signed else "unavailable"},
                            status_code=200 if signed else 503)

    @app.get("/api/v1/checkpoint", response_class=PlainTextResponse)
    async def checkpoint() -> str:
        """The latest signed checkpoint, a C2SP signed note (public: anyone may audit)."""
        signed = ledger().checkpoint()
        if signed is None:
            raise LedgerUnavailable("the ledger has no signed checkpoint yet")
        return str(signed)

    @app.get("/api/v1/ledger/state", response_model=sc.State)
    async def state_of() -> Response:
        """Size, latest checkpoint, origin and verifier key, read in one snapshot, and whether
        this request's token could append now (so a writer needs no request to learn it)."""
        led = ledger()
        writable = _writable(led)
        with led.snapshot():
            return _json({"size": led.size(), "checkpoint": led.checkpoint(),
                          "origin": led.origin(), "verifier_key": led.verifier_key(),
                          "writable": writable, "features": FEATURES})

    @app.post("/api/v1/ledger/heartbeat", response_model=sc.Recorded)
    async def record_heartbeat(body: sc.HeartbeatReport) -> dict[str, bool]:
        """An environment reported its running set unchanged (write scope): remembered beside
        the log, not in it -- no entry, no checkpoint, nothing a client could prove."""
        led = ledger()
        if body.size > led.size():
            raise InputError(f"heartbeat: size {body.size} is beyond the log's {led.size()}")
        led.record_heartbeat(body.environment, body.at, body.size)
        return {"recorded": True}

    @app.post("/api/v1/ledger/cosignatures", response_model=sc.Recorded)
    async def add_cosignatures(body: sc.CosignatureReport) -> dict[str, bool]:
        """Witness cosignatures of a checkpoint (write scope), kept beside the log: the server
        does not know the witnesses' keys, so it checks only their form and the size; every
        reader verifies them with the keys it trusts (``verify package --witness``)."""
        ledger().add_cosignatures(body.size, body.lines)
        return {"recorded": True}

    @app.get("/api/v1/ledger/cosignatures", response_model=sc.CosignatureAnswer)
    async def cosignatures(size: Annotated[int, Query(ge=0, le=2**63 - 1)]) -> dict[str, Any]:
        """The cosignature lines kept for the checkpoint of ``size`` (none: an empty list)."""
        return {"lines": ledger().cosignatures(size)}

    @app.get("/api/v1/ledger/heartbeat", response_model=sc.HeartbeatAnswer)
    async def heartbeat(environment: str) -> dict[str, Any]:
        """The latest heartbeat of ``environment``, or null."""
        found = ledger().heartbeat(environment)
        return {"heartbeat": None if found is None else {"at": found[0], "size": found[1]}}

    @app.get("/api/v1/ledger/writable", response_model=sc.Writable)
    async def writable() -> dict[str, bool]:
        """Whether an append could be signed now (the server's key is at hand)."""
        ledger().check_writable()
        return {"writable": True}

    @app.get("/api/v1/ledger/checkpoints", response_model=sc.CheckpointList)
    async def checkpoints(start: Annotated[int, Query(ge=0)] = 0,
                          limit: Annotated[int, Query(ge=1, le=MAX_RANGE)] = MAX_RANGE,
                          ) -> dict[str, Any]:
        """Stored checkpoints of size >= ``start``, in order of size, a page at a time."""
        return {"checkpoints": [[size, signed] for size, signed
                                in _page(ledger().checkpoints(start), limit)]}

    @app.get("/api/v1/ledger/entries", response_model=sc.EntryList)
    async def entries(start: Annotated[int, Query(ge=0)],
                      end: Annotated[int, Query(ge=0)]) -> dict[str, Any]:
        """Entries ``[start, end)``, at most :data:`MAX_RANGE` of them (a page: ask again from
        where it ended)."""
        end = min(end, start + MAX_RANGE)
        if end <= start:
            return {"entries": []}
        return {"entries": [[i, wire.b64(data)] for i, data in ledger().read(start, end)]}

    @app.post("/api/v1/ledger/entries-at", response_model=sc.EntryMap)
    async def entries_at(body: sc.Positions) -> dict[str, Any]:
        led = ledger()
        with led.snapshot():
            size = led.size()
            beyond = [p for p in body.positions if p >= size]
            if beyond:
                raise NotFoundError(f"the ledger has {size} entries: no entry {beyond[0]}")
            found = led.entries_at(body.positions)
        return {"entries": {str(i): wire.b64(data) for i, data in found.items()}}

    @app.get("/api/v1/ledger/lookup", response_model=sc.PositionList)
    async def lookup(key: str) -> dict[str, Any]:
        return {"positions": ledger().lookup(key)}

    @app.post("/api/v1/ledger/read-many", response_model=sc.KeyedAnswer)
    async def read_many(body: sc.KeysAt) -> Response:
        """What a reader needs about ``keys`` at the latest state, with its checkpoint (the
        reader proves it extends the one it read at, when the log moved on); ``with_state``:
        with the rest of the state too, so that a writer reads the head and what its write
        depends on in one request; ``since``: with the consistency proof from the checkpoint
        the reader saw last, which it would otherwise ask for next; ``prefixes``: with the
        keys under each (``listed``), read along when they are few -- ``search`` in one
        request."""
        led = ledger()
        writable = body.with_state and _writable(led)
        with led.snapshot():
            size = led.size()
            keys, listed = body.keys, None
            if body.prefixes:
                listed = led.keys_many(body.prefixes)
                under = [key for keys_of in listed.values() for key in keys_of]
                if len(under) <= sc.MAX_LISTED_READ:
                    keys = [*keys, *under]
            read = led.read_many(keys, size, entries=body.entries,
                                 held=wire.Runs(body.held) if body.held else ())
            signed = led.checkpoint()
            answer = wire.keyed_json(read, signed)
            if listed is not None:
                answer["listed"] = listed
            if body.since is not None and 0 < body.since < size:
                answer["consistency"] = [wire.b64(h)
                                         for h in led.consistency_proof(body.since, size)]
            if body.with_state:
                answer.update(origin=led.origin(), verifier_key=led.verifier_key(),
                              writable=writable, features=FEATURES)
        return _json(answer)

    @app.get("/api/v1/ledger/lookup-prefix", response_model=sc.RowList)
    async def lookup_prefix(prefix: str) -> dict[str, Any]:
        return {"rows": [[key, i] for key, i in ledger().lookup_prefix(prefix)]}

    @app.get("/api/v1/ledger/keys", response_model=sc.KeyList)
    async def keys(prefix: str) -> dict[str, Any]:
        return {"keys": ledger().keys(prefix)}

    @app.post("/api/v1/ledger/keys-many", response_model=sc.KeysByPrefix)
    async def keys_many(body: sc.Prefixes) -> Response:
        """``keys`` of each prefix, in one state (what ``search`` lists in its namespaces)."""
        return _json({"keys": ledger().keys_many(body.prefixes)})

    @app.get("/api/v1/ledger/index-rows", response_model=sc.RowList)
    async def index_rows(after_entry: Annotated[int, Query(ge=-1)] = -1, after_key: str = "",
                         limit: Annotated[int | None, Query(ge=1, le=MAX_RANGE)] = None,
                         ) -> Response:
        """Index rows by entry then key, those after ``(after_entry, after_key)``, ``limit``
        of them (a page: ask again from the last). Without ``limit`` (a client from before
        pages, feature ``paged-audit``): all of them, if there are not too many."""
        rows = ledger().index_rows((after_entry, after_key) if after_entry >= 0 else None)
        return _json({"rows": [[key, i] for key, i in _page(rows, limit)]})

    @app.get("/api/v1/ledger/map-proof", response_model=sc.ProofAnswer)
    async def map_proof(key: str) -> dict[str, Any]:
        """The key map's proof for ``key`` (DESIGN §3.1), with the checkpoint whose map root
        it is checked against."""
        led = ledger()
        with led.snapshot():
            return {"proof": wire.proof_json(led.map_proof(key)), "checkpoint": led.checkpoint()}

    @app.get("/api/v1/ledger/map-leaves", response_model=sc.MapLeaves)
    async def map_leaves(after: sc.B64 | None = None,
                         limit: Annotated[int, Query(ge=1, le=MAX_RANGE)] = MAX_RANGE,
                         ) -> Response:
        """Stored key-map leaves in key-hash order, those after the key hash ``after``, a page
        at a time (what ``verify ledger`` compares with the map it rebuilds)."""
        start = _b64_query(after, "after") if after is not None else None
        return _json({"leaves": [[wire.b64(k), key, c, last] for k, key, c, last
                                 in _page(ledger().map_leaves(start), limit)]})

    @app.get("/api/v1/ledger/map-nodes", response_model=sc.MapNodes)
    async def map_nodes(after_depth: Annotated[int, Query(ge=-1)] = -1,
                        after_prefix: sc.B64 = "",
                        limit: Annotated[int, Query(ge=1, le=MAX_RANGE)] = MAX_RANGE,
                        ) -> Response:
        """Stored key-map nodes by depth then prefix, those after ``(after_depth,
        after_prefix)``, a page at a time."""
        start = ((after_depth, _b64_query(after_prefix, "after_prefix"))
                 if after_depth >= 0 else None)
        return _json({"nodes": [[depth, wire.b64(prefix), wire.b64(h)] for depth, prefix, h
                                in _page(ledger().map_nodes(start), limit)]})

    @app.get("/api/v1/ledger/map-rows", response_model=sc.MapRows)
    async def map_rows() -> Response:
        """Every stored leaf and node at once, for a client from before ``map-leaves`` and
        ``map-nodes`` (feature ``paged-audit``), if there are not too many."""
        led = ledger()
        return _json({
            "leaves": [[wire.b64(k), key, c, last] for k, key, c, last
                       in _page(led.map_leaves(), None)],
            "nodes": [[depth, wire.b64(prefix), wire.b64(h)] for depth, prefix, h
                      in _page(led.map_nodes(), None)]})

    @app.get("/api/v1/ledger/root", response_model=sc.Root)
    async def root(size: Annotated[int, Query(ge=0)]) -> dict[str, str]:
        return {"root": wire.b64(ledger().root(size))}

    @app.get("/api/v1/ledger/inclusion-proof", response_model=sc.Hashes)
    async def inclusion_proof(index: Annotated[int, Query(ge=0)],
                              size: Annotated[int, Query(ge=0)]) -> dict[str, Any]:
        """RFC 6962 audit path of entry ``index`` in the tree of ``size`` entries."""
        return {"hashes": [wire.b64(h) for h in ledger().inclusion_proof(index, size)]}

    @app.post("/api/v1/ledger/inclusion-proofs", response_model=sc.ProofMap)
    async def inclusion_proofs(body: sc.PositionsAt) -> dict[str, Any]:
        found = ledger().inclusion_proofs(body.positions, body.size)
        return {"proofs": wire.paths_json(found)}

    @app.get("/api/v1/ledger/consistency-proof", response_model=sc.Hashes)
    async def consistency_proof(first: Annotated[int, Query(ge=0)],
                                second: Annotated[int, Query(ge=0)]) -> dict[str, Any]:
        """RFC 6962 proof that the tree of ``first`` entries is a prefix of ``second``'s."""
        return {"hashes": [wire.b64(h) for h in ledger().consistency_proof(first, second)]}

    @app.get("/api/v1/evidence/{digest}/exists", response_model=sc.Exists)
    async def evidence_exists(digest: Annotated[str, Path(pattern=_DIGEST)]) -> dict[str, bool]:
        return {"exists": ledger().blobs.has(digest)}

    @app.get("/api/v1/evidence/{digest}", response_class=StreamingResponse,
             responses={200: {"content": {"application/octet-stream": {}}}})
    async def evidence_file(digest: Annotated[str, Path(pattern=_DIGEST)]) -> StreamingResponse:
        """An evidence file by its SHA-256 (the client checks the bytes against it)."""
        stream = ledger().blobs.open(digest)

        def chunks() -> Any:
            with stream:
                while chunk := stream.read(1 << 20):
                    yield chunk

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    request_doc = {"type": "object", "required": ["entries"], "properties": {
        "entries": {"type": "array", "items": {"type": "string", "format": "byte"}},
        "after": {"anyOf": [{"type": "null"}, {"type": "object", "required": ["size", "root"],
                                                "properties": {"size": {"type": "integer"},
                                                               "root": {"type": "string"}}}]},
        "requires": {"type": "array", "maxItems": MAX_REQUIRES,
                     "items": {"type": "string", "minLength": 1, "maxLength": 1000},
                     "description": "instead of after: keys that must each file an entry at "
                                    "the head the server appends after (none: any head)"},
        "since": {"type": "integer", "minimum": 0,
                  "description": "with requires: the size of the checkpoint the writer saw "
                                 "last"},
        "also": {"type": "array", "maxItems": MAX_REQUIRES,
                 "items": {"type": "string", "minLength": 1, "maxLength": 1000},
                 "description": "with requires: keys whose map proofs the head carries too, "
                                "which need not file anything (a writer's optional reads)"}}}

    @app.post("/api/v1/ledger/append", response_model=sc.AppendAnswer, responses={
        412: {"model": sc.Unmet, "description": "a required key files nothing at the head"}},
        openapi_extra={
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": request_doc},
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["request"], "properties": {
                    "request": {"type": "string", "description": "JSON: {entries: [base64], "
                                                                 "after: {size, root} | null, "
                                                                 "requires, since}"},
                    "evidence": {"type": "array",
                                 "items": {"type": "string", "format": "binary"}}}}}}}})
    async def append(request: Request) -> Response:
        """Append entries: a JSON body ``{entries, after}``, or, with the evidence files the
        entries name, a multipart form of a ``request`` part holding that JSON and the files;
        see the module docstring. With ``requires`` instead of ``after``, the server reads
        the head the append goes after and answers with it (a writer's one request), or
        refuses with it (412) when a required key files nothing there."""
        try:
            return _json(await _appended(request))
        except _Unmet as unmet:
            return JSONResponse({"error": {
                "type": "NotFoundError", "remedy": None,
                "message": f"append: nothing is filed under {', '.join(unmet.keys)}"},
                "head": unmet.head}, status_code=412)

    async def _appended(request: Request) -> dict[str, Any]:
        kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if kind == "application/json":  # no evidence: no form to parse, on either side
            data = (await request.body()).decode("utf-8", "replace")
            return await _append(ledger(), writers[ORG.get()], data, [])
        try:
            form = await request.form(max_files=MAX_ENTRIES * 10, max_fields=8,
                                      max_part_size=max_request)
        except Exception as exc:  # noqa: BLE001 - a body that is not a form, however broken
            if isinstance(exc, _TooLarge):
                raise
            raise _refuse("append: the body is neither JSON nor multipart/form-data") from None
        try:
            raw = form.get("request")
            if raw is None:
                raise _refuse("append: the request part is missing")
            data = raw if isinstance(raw, str) else (await raw.read()).decode("utf-8", "replace")
            uploads = [part for key, part in form.multi_items()
                       if key == "evidence" and not isinstance(part, str)]
            return await _append(ledger(), writers[ORG.get()], data, uploads)
        finally:
            await form.close()

    if eager and not multi:
        # storage not reachable yet: readyz says so, and the first request tries again
        with contextlib.suppress(AffidavitError):
            ledger()
    served = _BodyLimit(Gate(_Logged(app, log), store, multi=multi, rate=rate, log=log, ui=ui),
                        max_request)
    if ui:  # outermost: the body limit's and the gate's refusals on UI paths carry them too
        from affidavit.server.ui_site import SecurityHeaders

        return SecurityHeaders(served)
    return served


def _per_organisation(ledger_url: str, evidence: str | None, multi: bool) -> Any:
    """``storage(org)``: the options each organisation's ledger is opened with -- its
    evidence store, and on PostgreSQL its signing key file -- refused at start-up when one
    ledger per organisation would share another's: a shared vault serves one organisation's
    evidence to another, and a shared key file cannot start a second ledger."""
    from affidavit.ledger.blobs import FileBlobStore
    from affidavit.ledger.blobstores import open_blobs
    from affidavit.ledger.pg_support import EVIDENCE_ENV, KEY_FILE_ENV

    postgres = ledger_url.startswith(("postgresql://", "postgres://"))
    key = os.environ.get(KEY_FILE_ENV) if postgres else None
    vault = os.environ.get(EVIDENCE_ENV) if postgres and evidence is None else None
    if multi:
        for what, value in (("--evidence", evidence), (KEY_FILE_ENV, key),
                            (EVIDENCE_ENV, vault)):
            if value and "{org}" not in value:
                raise UsageError(f"{what} {value}: with a ledger per organisation it must hold "
                                 "{org} too, or the organisations would share it")

    def storage(org: str) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if evidence is not None:
            options["blobs"] = open_blobs(evidence.replace("{org}", org))
        elif vault:
            options["blobs"] = FileBlobStore(vault.replace("{org}", org))
        if key:
            options["key_file"] = key.replace("{org}", org)
        return options

    return storage


def _stage(batch: Any, uploads: list[Any],
           keep: frozenset[str] = frozenset()) -> tuple[set[str], dict[str, bytes]]:
    """Stage the uploaded evidence files in ``batch``; their digests, and the bytes of those
    in ``keep`` (Sigstore bundles, re-verified on ingest; small by their own limit)."""
    from affidavit.verify.sigstore_bundles import BUNDLE_LIMIT

    added: set[str] = set()
    kept: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="affidavit-upload-") as folder:
        for n, upload in enumerate(uploads):
            path = os.path.join(folder, str(n))
            with open(path, "wb") as out:
                while chunk := upload.file.read(1 << 20):
                    out.write(chunk)
            digest = batch.add(path)[0]  # staged: the folder may go
            added.add(digest)
            if digest in keep and os.path.getsize(path) <= BUNDLE_LIMIT:
                with open(path, "rb") as fh:
                    kept[digest] = fh.read()
    return added, kept


def _bundles_of(decoded: list[dict[str, Any]]) -> frozenset[str]:
    """The digests of the Sigstore bundles the entries record (``record.sigstore.bundle``)."""
    out = set()
    for entry in decoded:
        found = (entry.get("record") or {}).get("sigstore")
        if isinstance(found, dict) and isinstance(found.get("bundle"), str):
            out.add(found["bundle"])
    return frozenset(out)


def _reverify_bundles(led: Any, decoded: list[dict[str, Any]], kept: dict[str, bytes]) -> None:
    """"Verified on ingest with sigstore where present": every Sigstore bundle an entry
    records is verified again here, from the bytes just uploaded (or the vault's), when the
    server has sigstore; one that does not verify, or to other facts than recorded, refuses
    the whole append (409, an integrity failure). Without sigstore the client's check stands,
    and ``verify package`` checks again wherever sigstore is."""
    from affidavit.verify.sigstore_bundles import BUNDLE_LIMIT, installed, reverify

    if not installed():
        return

    def member(position: int, digest: str) -> tuple[str, bytes]:
        if digest in kept:
            return f"the uploaded bundle {digest[:16]}", kept[digest]
        with led.blobs.open(digest) as fh:
            return f"the stored bundle {digest[:16]}", fh.read(BUNDLE_LIMIT + 1)

    reverify(dict(enumerate(decoded)), member)


def _after(value: Any) -> tuple[int, bytes] | None:
    """The ``after`` of an append request: the ``(size, root)`` of the head its writer proved."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _refuse("append: after must be {size, root}")
    return (wire.count(value.get("size"), "after.size"),
            wire.unb64(value.get("root"), "after.root"))


async def _append(led: Any, writer: Sequencer, text: str, uploads: list[Any]) -> dict[str, Any]:
    from affidavit.verify.proven import admit

    try:
        body = json.loads(text)
    except ValueError:
        raise _refuse("append: the request part is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("entries"), list):
        raise _refuse("append: entries must be a list")
    try:
        posted = [wire.unb64(e, "entries[]") for e in body["entries"]]
        after = _after(body.get("after"))
        requires, since = _requires(body)
        also = _also(body) if requires is not None else []
    except wire.Malformed as exc:  # the client's request, not a server's answer: bad input
        raise _refuse(f"append: {exc.message}") from None
    if requires is not None and after is not None:
        raise _refuse("append: give after or requires, not both")
    if not 0 < len(posted) <= MAX_ENTRIES:
        raise _refuse(f"append: between 1 and {MAX_ENTRIES} entries")
    decoded: list[dict[str, Any]] = []
    for i, data in enumerate(posted):
        try:
            entry = canonical.loads(data)
        except (ValueError, InputError):
            raise _refuse(f"append: entry {i} is not JSON") from None
        if not isinstance(entry, dict) or canonical.dumps(entry) != data:
            raise _refuse(f"append: entry {i} is not canonical JSON")
        decoded.append(entry)
    admit(led, decoded)
    batch = led.blobs.incoming()
    try:
        bundles = _bundles_of(decoded)
        added, kept = _stage(batch, uploads, bundles) if uploads else (set(), {})
        for i, entry in enumerate(decoded):
            for ref in (entry.get("record") or {}).get("evidence") or []:
                digest = ref.get("sha256") if isinstance(ref, dict) else None
                if not isinstance(digest, str) or not (digest in added or led.blobs.has(digest)):
                    raise _refuse(f"append: entry {i} names evidence {digest!r}, which was "
                                  "neither sent nor stored")
        if bundles:
            _reverify_bundles(led, decoded, kept)
        head = None
        if requires is not None:
            head, after = _head_for(led, requires, since, also)
    except BaseException:
        batch.close()
        raise
    # From here the sequencer owns the batch: it closes it once the append is decided.
    appended = await asyncio.wrap_future(writer.submit(Pending(
        posted, decoded, after=after, evidence=batch, once=True, since=since)))
    places = list(range(appended.first, appended.first + len(posted)))
    start = after[0] if after is not None else 0
    consistency, inclusion = led.append_proofs(start, places, appended.size)
    answer = {"first": appended.first, "size": appended.size,
              "checkpoint": appended.checkpoint,
              "consistency": [wire.b64(h) for h in consistency],
              "inclusion": wire.paths_json(inclusion)}
    if head is not None:
        answer["head"] = head
    return answer


MAX_REQUIRES = 100
"""Most keys one append may require."""


class _Unmet(Exception):
    """An append's ``requires`` key files nothing at the head: refused with that head."""

    def __init__(self, head: dict[str, Any], keys: list[str]) -> None:
        super().__init__(keys)
        self.head, self.keys = head, keys


def _requires(body: dict[str, Any]) -> tuple[list[str] | None, int | None]:
    """An append's ``requires`` (keys that must each file an entry at the head the server
    appends after: what the write depends on, read by the server for a writer that sends its
    append without reading first) and ``since`` (the size of the checkpoint that writer saw
    last)."""
    requires, since = body.get("requires"), body.get("since")
    if requires is not None and not (
            isinstance(requires, list) and len(requires) <= MAX_REQUIRES
            and all(isinstance(k, str) and 0 < len(k) <= 1000 for k in requires)):
        raise wire.Malformed(f"requires must be a list of at most {MAX_REQUIRES} keys")
    return requires, None if since is None else wire.count(since, "since")


def _also(body: dict[str, Any]) -> list[str]:
    """An append's ``also``: keys whose map proofs the head it answers with carries beside
    those of ``requires``, but which need not file anything there (a flow's webhook key,
    which a write to its trails counts)."""
    also = body.get("also", [])
    if not (isinstance(also, list) and len(also) <= MAX_REQUIRES
            and all(isinstance(k, str) and 0 < len(k) <= 1000 for k in also)):
        raise wire.Malformed(f"also must be a list of at most {MAX_REQUIRES} keys")
    return also


def _head_for(led: Any, requires: list[str], since: int | None, also: list[str],
              ) -> tuple[dict[str, Any], tuple[int, bytes]]:
    """The head an append with ``requires`` goes after, read as ``read-many`` with ``since``
    reads it: its checkpoint, the map proofs (no entries) of the required keys and of
    ``also``, and the consistency proof from ``since``; and that head as the append's
    ``after``. Keys only ever gain entries, so what the head files the append's own tree
    files too."""
    from affidavit.ledger import note
    from affidavit.ledger.checkpoint import Checkpoint

    with led.snapshot():
        size = led.size()
        read = led.read_many(list(dict.fromkeys([*requires, *also])), size, entries=False)
        signed = led.checkpoint()
        head = wire.keyed_json(read, signed)
        if since is not None and 0 < since < size:
            head["consistency"] = [wire.b64(h) for h in led.consistency_proof(since, size)]
        head.update(origin=led.origin(), verifier_key=led.verifier_key(), writable=True,
                    features=FEATURES)
    # the root the head signs, not one read again: the border nodes of a log that grows by
    # every write are in no cache
    checkpoint = Checkpoint.parse(note.open_note(
        signed or "", [note.Verifier.from_key(head["verifier_key"])]))
    if checkpoint.size != size:
        raise IntegrityError(f"ledger {led.where}: its latest checkpoint is for size "
                             f"{checkpoint.size}, not {size}")
    root = checkpoint.root
    unmet = [key for key in requires if not read.proofs[key].count]
    if unmet:
        raise _Unmet(head, unmet)
    return head, (size, root)
