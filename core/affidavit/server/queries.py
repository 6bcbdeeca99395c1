"""The library's read face over HTTP: one endpoint per read of ``api/`` (what ``get``,
``list``, ``log``, ``search``, ``assert`` and ``approval status`` print with ``--output json``).

These are for what cannot check proofs -- a dashboard, a script, a chat bot: the server
answers from a view it proved of its own storage (``verify.proven``: every entry included,
every index read checked against the signed key map), and names the checkpoint it answered
under, so any answer can be checked later with the CLI against that checkpoint. The CLI
itself never uses them: it runs the same functions on its own side over the ledger protocol
(``server/app.py``), believing nothing it did not prove.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Path, Query, Response

from affidavit.errors import UsageError
from affidavit.server import schemas as sc

__all__ = ["add_queries", "MAX_LOG"]

MAX_LOG = 1000
"""Most entries one log page holds."""
_FINGERPRINT = r"^[0-9a-fA-F]{64}$"

Name = Annotated[str, Path(min_length=1, max_length=500)]


def add_queries(app: FastAPI, ledger: Callable[[], Any],
                answer: Callable[[Any], Response]) -> None:
    """Register the query endpoints on ``app``; ``ledger()`` is the request's ledger and
    ``answer(body)`` the JSON response."""
    from affidavit.api import approvals, explain, gate, query
    from affidavit.verify.proven import Proven

    route = functools.partial(app.get, response_model=sc.QueryAnswer, tags=["queries"])

    def proven_answer(read: Any) -> Response:
        with Proven(ledger()) as view:
            result = read(view)
            return answer({"checkpoint": view.note, "result": result})


    @route("/api/v1/flows")
    async def flows(without_type: str | None = None) -> Response:
        """``list flows [--without-type T]``."""
        return proven_answer(lambda v: query.list_flows(v, without_type=without_type))

    @route("/api/v1/flows/{flow}")
    async def flow(flow: Name) -> Response:
        """``get flow F``."""
        return proven_answer(lambda v: query.flow_state(v, flow))

    @route("/api/v1/flows/{flow}/trails")
    async def trails(flow: Name, status: Literal["COMPLIANT", "NON_COMPLIANT",
                                                 "INCOMPLETE"] | None = None,
                     since: str | None = None) -> Response:
        """``list trails --flow F [--status S] [--since T]``."""
        return proven_answer(lambda v: query.list_trails(v, flow, status=status, since=since))

    @route("/api/v1/flows/{flow}/trails/{trail}")
    async def trail(flow: Name, trail: Name, explained: Annotated[
            bool, Query(alias="explain")] = False) -> Response:
        """``get trail T --flow F [--explain]``."""
        def read(view: Any) -> Any:
            if not explained:
                return query.trail_state(view, flow, trail)
            return explain.explained_state(view, flow, trail)
        return proven_answer(read)

    @route("/api/v1/flows/{flow}/trails/{trail}/log")
    async def trail_log(flow: Name, trail: Name) -> Response:
        """``log trail T --flow F``."""
        return proven_answer(lambda v: query.trail_log(v, flow, trail))

    @route("/api/v1/flows/{flow}/trails/{trail}/assert")
    async def assert_trail(flow: Name, trail: Name) -> Response:
        """``assert trail T --flow F``: the verdict and its reasons (an answer, not a gate:
        a pipeline gates with the CLI, which proves it)."""
        return proven_answer(lambda v: gate.assert_trail(v, flow, trail))

    @route("/api/v1/flows/{flow}/trails/{trail}/attestations/{name}")
    async def attestation(flow: Name, trail: Name, name: Name) -> Response:
        """``get attestation N --flow F --trail T``."""
        return proven_answer(lambda v: query.attestation_state(v, flow, trail, name))

    @route("/api/v1/flows/{flow}/trails/{trail}/approvals/{name}")
    async def approval(flow: Name, trail: Name, name: Name) -> Response:
        """``approval status N --flow F --trail T``."""
        return proven_answer(lambda v: approvals.approval_status(v, flow, trail, name))

    @route("/api/v1/artifacts/{fingerprint}")
    async def artifact(fingerprint: Annotated[str, Path(pattern=_FINGERPRINT)],
                       flow: str | None = None) -> Response:
        """``get artifact FINGERPRINT [--flow F]``."""
        return proven_answer(lambda v: query.artifact_state(v, fingerprint.lower(), flow))

    @route("/api/v1/artifacts/{fingerprint}/assert")
    async def assert_artifact(fingerprint: Annotated[str, Path(pattern=_FINGERPRINT)],
                              flow: str | None = None) -> Response:
        """``assert artifact FINGERPRINT [--flow F]`` (a fingerprint only: the server never
        fingerprints a path of its own)."""
        return proven_answer(lambda v: gate.assert_artifact(v, fingerprint.lower(), flow))

    @route("/api/v1/search")
    async def search(prefix: Annotated[str, Query(min_length=1, max_length=200)]) -> Response:
        """``search PREFIX``: commits and fingerprints starting with it."""
        return proven_answer(lambda v: query.search(v, prefix))

    @route("/api/v1/log")
    async def log(start: Annotated[int, Query(ge=0)] = 0,
                  limit: Annotated[int, Query(ge=1, le=MAX_LOG)] = MAX_LOG) -> Response:
        """``log ledger [--start N] [--limit N]``, a page at a time."""
        def read(view: Any) -> Any:
            if start > view.size:
                raise UsageError(f"start {start} is past the end of the log ({view.size})")
            return query.log(view, start, limit)
        return proven_answer(read)
