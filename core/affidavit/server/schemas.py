"""The shapes of the server's requests and answers, as the OpenAPI document publishes them.

The client (``ledger/http.py`` through ``ledger/wire.py``) checks every answer itself; these
models are for everyone else -- a ``curl`` user, a dashboard, schemathesis -- so that what the
document says is what the server does: every body and answer is described, every error too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from affidavit.models.fields import NAME_PATTERN

__all__ = ["ErrorBody", "ERRORS", "Positions", "KeysAt", "PositionsAt", "State", "Health",
           "Ready", "Writable", "CheckpointList", "EntryList", "EntryMap", "PositionList",
           "KeyList", "RowList", "ProofAnswer", "MapRows", "MapLeaves", "MapNodes", "Root",
           "Hashes", "ProofMap", "Exists", "AppendAnswer", "KeyedAnswer", "Digest", "Count",
           "MAX_RANGE", "MAX_LISTED_READ", "MAX_UNPAGED"]

MAX_RANGE = 1000
"""Most entries, positions or keys one request may name; clients page."""
MAX_UNPAGED = 100_000
"""Most rows a listing answers at once to a client that does not page (``paged-audit``)."""
MAX_LISTED_READ = 100
"""Most listed keys a read-many with ``prefixes`` reads along."""
MAX_HELD_RUNS = 10_000
"""Most runs of held positions a read-many names."""

Count = Annotated[int, Field(ge=0)]
Position = Annotated[int, Field(ge=0, le=2**63 - 1)]
"""An entry's place in a log, as the stores' 64-bit columns hold it."""
B64 = Annotated[str, Field(description="standard base64")]
Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256, lowercase hex")]


Pair = Annotated[list[int | str], Field(min_length=2, max_length=2,
                                          description="[number, text] or [text, number]")]
Row = Annotated[list[int | str], Field(min_length=3, max_length=4)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Error(_Model):
    type: Literal["UsageError", "InputError", "NotFoundError", "IntegrityError", "RootMismatch",
                  "LedgerUnavailable"]
    message: str
    remedy: str | None


class ErrorBody(_Model):
    """Every refusal: the same error the client raises, so the CLI prints the same line."""

    error: _Error


ERRORS = {code: {"model": ErrorBody, "description": what} for code, what in (
    (400, "bad input"), (401, "no valid API token"), (403, "the token's scope does not allow it"),
    (404, "not in the ledger, or no such organisation"), (409, "an integrity failure"),
    (413, "request body over the limit"), (429, "over the token's rate limit"),
    (503, "the ledger is unavailable"))}


class Positions(_Model):
    positions: Annotated[list[Count], Field(max_length=MAX_RANGE)]


class PositionsAt(Positions):
    size: Count


class KeysAt(_Model):
    keys: Annotated[list[str], Field(max_length=MAX_RANGE)]
    size: Count | None = None
    with_state: bool = Field(False, description="answer with the state too (origin, verifier "
                                                "key, writable): a writer's one read")
    entries: bool = Field(True, description="false: positions and map proofs only, for a "
                                            "reader that needs only how many are filed")
    since: Count | None = Field(None, description="the size of the checkpoint the reader saw "
                                                  "last: the answer carries the consistency "
                                                  "proof from it, saving a request")
    held: Annotated[list[tuple[Position, Position]],
                    Field(max_length=MAX_HELD_RUNS)] | None = Field(
        None, description="`[first, end)` runs of positions whose entries the reader holds, "
                          "proven already: their bytes and inclusion proofs are left out of "
                          "the answer (their positions are still listed)")
    prefixes: Annotated[list[Annotated[str, Field(min_length=1, max_length=1000)]],
                        Field(max_length=16)] | None = Field(
        None, description="list the keys under each prefix (as keys-many does) in the same "
                          "snapshot, answered in `listed`, and read them with `keys` when "
                          f"they are {MAX_LISTED_READ} or fewer: a search in one request")


class Prefixes(_Model):
    prefixes: Annotated[list[Annotated[str, Field(max_length=1000)]],
                        Field(min_length=1, max_length=100)]


class KeysByPrefix(_Model):
    keys: dict[str, list[str]] = Field(description="each prefix's distinct keys, sorted")


class Health(_Model):
    status: Literal["ok"]


class Ready(_Model):
    status: Literal["ready", "unavailable"]
    reason: str | None = None


FEATURES_DOC = ("what this server takes beyond the first v1 protocol: `read-since` "
                "(read-many's `since`), `read-prefixes` (read-many's `prefixes`), "
                "`append-requires` (append's `requires` and `since`), `paged-audit` (the "
                "audit listings' cursors and `limit`), `read-held` (read-many's `held`) and "
                "`append-also` (append's `also`, beside `requires`); a client sends none of "
                "them to a server that does not list it")


class State(_Model):
    size: Count
    checkpoint: str | None
    origin: str
    verifier_key: str
    writable: bool = Field(description="whether this request's token could append now")
    features: list[str] = Field(default_factory=list, description=FEATURES_DOC)


class HeartbeatReport(_Model):
    environment: Annotated[str, Field(pattern=NAME_PATTERN)]
    at: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$",
                             description="RFC 3339 UTC with microseconds, as entries carry")]
    size: Count = Field(description="the log's size the unchanged set was compared at")


class Heartbeat(_Model):
    at: str
    size: Count


class HeartbeatAnswer(_Model):
    heartbeat: Heartbeat | None = Field(description="beside the log: neither signed nor proven")


class CosignatureReport(_Model):
    size: Count = Field(description="the size of the checkpoint the lines cosign")
    lines: list[Annotated[str, Field(max_length=1000)]] = Field(
        min_length=1, max_length=32, description="C2SP tlog-cosignature signature lines")


class CosignatureAnswer(_Model):
    lines: list[str] = Field(description="beside the log: a reader checks each with the "
                                         "witness keys it trusts")


class Recorded(_Model):
    recorded: Literal[True]


class Writable(_Model):
    writable: bool


class CheckpointList(_Model):
    checkpoints: list[Pair]


class EntryList(_Model):
    entries: list[Pair]


class EntryMap(_Model):
    entries: dict[str, B64]


class PositionList(_Model):
    positions: list[Count]


class KeyList(_Model):
    keys: list[str]


class RowList(_Model):
    rows: list[Pair]


class _Other(_Model):
    key_hash: B64
    count: Count
    last: Count


class MapProofBody(_Model):
    key: str
    count: Count
    last: Count | None
    siblings: list[B64]
    other: _Other | None


class ProofAnswer(_Model):
    proof: MapProofBody
    checkpoint: str | None


class MapRows(_Model):
    leaves: list[Row]
    nodes: list[Row]


class MapLeaves(_Model):
    leaves: list[Row]


class MapNodes(_Model):
    nodes: list[Row]


class Root(_Model):
    root: B64


class Hashes(_Model):
    hashes: list[B64]


AuditPath = Annotated[str, Field(description="an RFC 6962 audit path, bottom up: its 32-byte "
                                       "hashes one after the other, in standard base64")]


class ProofMap(_Model):
    proofs: dict[str, AuditPath]


class Exists(_Model):
    exists: bool


class QueryAnswer(_Model):
    checkpoint: str | None = Field(description="the signed checkpoint the answer was read "
                                               "under (a C2SP signed note)")
    result: Any = Field(description="what the CLI prints for the same read with "
                                    "`--output json`")


class KeyedAnswer(_Model):
    size: Count
    checkpoint: str | None
    positions: dict[str, list[Count]]
    proofs: dict[str, MapProofBody]
    entries: dict[str, B64]
    inclusion: dict[str, AuditPath]
    origin: str | None = Field(None, description="with_state: as the state answers it")
    verifier_key: str | None = Field(None, description="with_state: as the state answers it")
    writable: bool | None = Field(None, description="with_state: as the state answers it")
    features: list[str] | None = Field(None, description="with_state: " + FEATURES_DOC)
    consistency: list[B64] | None = Field(
        None, description="with `since` below `size`: the RFC 6962 consistency proof from "
                          "`since` to `size`")
    listed: dict[str, list[str]] | None = Field(
        None, description="with `prefixes`: each prefix's distinct keys, sorted (a listing, "
                          "not a proof: the reader reads each key it uses)")


class AppendAnswer(_Model):
    first: Count
    size: Count
    checkpoint: str
    consistency: list[B64] = Field(
        description="RFC 6962 consistency proof from the size the append named in `after` "
                    "(with `requires`: from `head.size`) to `size` (empty when that size was 0 "
                    "or absent)")
    inclusion: dict[str, AuditPath] = Field(
        description="each appended entry's audit path in the tree of `size`, by position")
    head: KeyedAnswer | None = Field(
        None, description="with `requires`: the state the append was checked against -- its "
                          "checkpoint, the required keys' map proofs and the consistency proof "
                          "from `since` -- which `consistency` then extends to `size`")


class Unmet(_Model):
    """A ``requires`` key files no entry at the head: nothing was appended, and the head
    shows it (the client proves the refusal, and words it, as it would on its own read)."""

    error: _Error
    head: KeyedAnswer
