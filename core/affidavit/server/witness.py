"""``affidavit witness serve``: C2SP tlog-witness's ``POST /add-checkpoint`` over HTTP.

FastAPI under uvicorn, like ``affidavit server``, rather than the standard library's
``http.server``: a witness is meant to run off-site and face the network, which the standard
library's server says it is not built for (only basic security checks, no limits on slow
clients); uvicorn is already what the project serves with and tests against, keeps
connections alive as the spec asks, and costs nothing more to install beyond
``affidavit[server]``. Every decision is :class:`affidavit.ledger.witness.Witness`'s; this
module only reads the body (bounded) and maps a :class:`~affidavit.ledger.witness.Refused`
onto its status.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from affidavit.ledger.witness import SIZE_CONTENT_TYPE, Refused, Witness

__all__ = ["MAX_BODY", "create_witness_app"]

MAX_BODY = 1 << 20
"""Largest request body read: 63 proof lines and a checkpoint with many signatures (even
post-quantum ones) fit well inside; anything larger is refused before it is all read."""

_TEXT = "text/plain; charset=utf-8"


def create_witness_app(witness: Witness, *, max_body: int = MAX_BODY) -> Any:
    """The ASGI app serving ``witness`` at ``/add-checkpoint`` (the submission prefix is the
    server's root) and nothing else."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body:
                return Response(f"request body larger than {max_body} bytes\n",
                                status_code=413, media_type=_TEXT)
        try:
            # the signature check, the proof and the SQLite transaction block: off the loop
            lines = await run_in_threadpool(witness.add_checkpoint, bytes(body))
        except Refused as refusal:
            if refusal.status == 409 and refusal.size is not None:
                return Response(f"{refusal.size}\n", status_code=409,
                                media_type=SIZE_CONTENT_TYPE)
            return Response(refusal.message + "\n", status_code=refusal.status,
                            media_type=_TEXT)
        return Response(lines, status_code=200, media_type=_TEXT)

    return app
