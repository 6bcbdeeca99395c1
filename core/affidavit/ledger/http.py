"""The remote backend: ``--ledger http(s)://host`` talks to ``affidavit server``.

Each :class:`~affidavit.ledger.base.Ledger` method is one request (``server/app.py`` lists
them), so every command runs unchanged against a shared ledger, and nothing the server says is
believed: the readers in ``verify.proven`` check each answer against the signed checkpoint and
the key they pinned or remembered, every evidence file is checked against its digest as it
arrives, and an append is proven included in the checkpoint it returns (``remote``).

Requests time out (``AFFIDAVIT_HTTP_TIMEOUT`` seconds, default 30) and are retried with
backoff on a lost connection, a timeout or a 502/503/504 (``AFFIDAVIT_HTTP_RETRIES``, default
4 attempts). Retrying an append is safe: the server answers a retry whose entries are already
in the log with where they went, so an append that timed out after it landed is not made
twice. ``AFFIDAVIT_API_TOKEN`` is sent as a bearer token.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import uuid
from contextlib import contextmanager

from affidavit.errors import (
    AffidavitError,
    InputError,
    IntegrityError,
    LedgerUnavailable,
    NotFoundError,
    UsageError,
)
from affidavit.ledger import Appended, KeyedRead, Unmet, wire
from affidavit.ledger.blobs import hash_file
from affidavit.ledger.paging import paged
from affidavit.web import checked_url, env_number, session_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Sequence
    from typing import Any, BinaryIO

    from affidavit.ledger.keymap import MapProof

__all__ = ["HttpLedger"]

_ERRORS: dict[str, type[AffidavitError]] = {
    "UsageError": UsageError, "InputError": InputError, "NotFoundError": NotFoundError,
    "IntegrityError": IntegrityError, "LedgerUnavailable": LedgerUnavailable,
    "RootMismatch": IntegrityError}
_RETRIED = (429, 502, 503, 504)
_PAGE = 1000
_HELD_RUNS = 4096  # runs of held entries a read-many names (the server takes 10,000)
_PREFIXES = 100  # prefixes per keys-many request (the server's limit)
_AHEAD_PREFIXES = 16  # prefixes a read-many lists along (the server's limit)


class _Uploads:
    """Evidence for one append: hashed here, sent with the append itself, so a failed append
    leaves nothing on the server (it stores them in its own vault in the same commit)."""

    def __init__(self) -> None:
        self.files: list[tuple[str, str]] = []  # (digest, path)
        self.size = 0  # bytes to send

    def add(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        digest, size = hash_file(path)
        self.files.append((digest, os.fspath(path)))
        self.size += size
        return digest, size

    def close(self) -> None:
        self.files.clear()
        self.size = 0


class _RemoteBlobs:
    """The server's vault, read through checks: a file that does not hash to its name is an
    integrity error, never evidence."""

    def __init__(self, ledger: HttpLedger) -> None:
        self.ledger = ledger

    def incoming(self) -> _Uploads:
        return _Uploads()

    def has(self, digest: str) -> bool:
        return bool(self.ledger._get(f"/api/v1/evidence/{digest}/exists").get("exists"))

    def open(self, digest: str) -> BinaryIO:
        response = self.ledger._request("GET", f"/api/v1/evidence/{digest}", stream=True)
        spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - returned
        hasher = hashlib.sha256()
        import requests

        try:
            for chunk in response.iter_content(1 << 20):
                hasher.update(chunk)
                spool.write(chunk)
        except (OSError, requests.RequestException) as exc:  # a connection lost mid-file
            spool.close()
            raise LedgerUnavailable(f"ledger {self.ledger.url}: evidence {digest}: {exc}") from None
        finally:
            response.close()
        if hasher.hexdigest() != digest:
            spool.close()
            raise IntegrityError(f"ledger {self.ledger.url}: evidence {digest} as served does "
                                 "not match its digest")
        spool.seek(0)
        return spool  # type: ignore[return-value]


class HttpLedger:
    """A client of ``affidavit server`` at ``url``; see the module docstring."""

    remote = True

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = checked_url(url, "ledger URL",
                               token_hint="give the token in AFFIDAVIT_API_TOKEN")
        # https://host[/prefix]/orgs/ORG is organisation ORG's ledger on that server
        base, marker, org = self.url.rpartition("/orgs/")
        self.api = (f"{base}/api/v1/orgs/{org}" if marker and org and "/" not in org
                    else f"{self.url}/api/v1")
        self.create = create
        self.session = session_for(self.api)
        token = os.environ.get("AFFIDAVIT_API_TOKEN")
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.timeout = env_number("AFFIDAVIT_HTTP_TIMEOUT", 30.0)
        self.attempts = int(env_number("AFFIDAVIT_HTTP_RETRIES", 4.0))
        self.blobs = _RemoteBlobs(self)
        self._pinned: dict[str, Any] | None = None  # the state a snapshot reads at
        self._identity: dict[str, Any] | None = None
        # what the next snapshot reads: keys, with entries or not, and the size seen last
        self._ahead: tuple[list[str], bool, int | None, list[str]] | None = None
        self._listed: dict[str, list[str]] | None = None  # keys by prefix, read with it
        self._consistency: tuple[int, int, list[bytes]] | None = None  # read with the state
        self._head: tuple[dict[str, Any], KeyedRead, set[str]] | None = None  # an append's
        self._read: tuple[KeyedRead, bool] | None = None  # what it read, with entries or not

    # -- transport -------------------------------------------------------------------------

    def _request(self, method: str, path: str, parts: Any = None, *,
                 answered: tuple[int, ...] = (), **kwargs: Any) -> Any:
        """``parts``, when given, makes each attempt's ``files`` afresh (uploads rewound);
        a status in ``answered`` is returned like a success, for the caller to read."""
        import requests

        kwargs.setdefault("timeout", self.timeout)
        last = ""
        for attempt in range(max(self.attempts, 1)):
            if attempt:
                time.sleep(min(0.2 * 2 ** (attempt - 1), 5.0))
            try:
                if parts is not None:
                    kwargs["files"] = parts()
                response = self.session.request(method, self.api + path[len("/api/v1"):],
                                                **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = type(exc).__name__.replace("Error", " error").lower()
                continue
            except requests.RequestException as exc:
                raise LedgerUnavailable(f"ledger {self.url}: {exc}") from None
            if response.status_code in _RETRIED:
                last = f"HTTP {response.status_code}"
                if attempt + 1 < self.attempts:
                    response.close()
                    continue
            if response.status_code >= 400 and response.status_code not in answered:
                raise self._refused(response)
            return response
        raise LedgerUnavailable(f"ledger {self.url} cannot be reached ({last} after "
                                f"{self.attempts} attempts)")

    def _refused(self, response: Any) -> AffidavitError:
        """The server's error as the same error here (same message, same exit code)."""
        try:
            error = response.json()["error"]
            kind = _ERRORS.get(error["type"], LedgerUnavailable)
            return kind(str(error["message"]), remedy=error.get("remedy"))
        except (ValueError, KeyError, TypeError):
            return LedgerUnavailable(f"ledger {self.url} answered HTTP {response.status_code}")

    def _json(self, response: Any) -> Any:
        try:
            return response.json()
        except ValueError:
            raise IntegrityError(f"ledger {self.url} answered {response.request.path_url} "
                                 "with something that is not JSON") from None

    def _get(self, path: str, **params: Any) -> Any:
        return self._json(self._request("GET", path, params=params or None))

    def _post(self, path: str, body: Any) -> Any:
        return self._json(self._request("POST", path, json=body))

    def _field(self, answer: Any, field: str) -> Any:
        if not isinstance(answer, dict) or field not in answer:
            raise IntegrityError(f"ledger {self.url}: its answer lacks {field!r}")
        return answer[field]

    # -- state -----------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        if self._pinned is not None:
            return self._pinned
        answer = self._get("/api/v1/ledger/state")
        if not isinstance(answer, dict):
            raise IntegrityError(f"ledger {self.url}: its state is not an object")
        self._identity = answer
        return answer

    def _identity_state(self) -> dict[str, Any]:
        """The origin and key as last fetched: they do not change under a ledger (and when a
        server changes them, the pin and the checkpoints' signatures say so), so asking for
        them does not cost a request of its own."""
        return self._identity if self._identity is not None else self._state()

    def _supports(self, feature: str) -> bool:
        """Whether the server's state lists ``feature`` (``server/app.py``'s ``FEATURES``):
        an older server refuses a field it does not know."""
        features = self._identity_state().get("features")
        return isinstance(features, list) and feature in features

    def one_request_writes(self) -> bool:
        """Whether a write may be one request (:meth:`append_requiring`) on this server."""
        return self._supports("append-requires")

    def read_ahead(self, keys: Sequence[str], *, entries: bool = True,
                   since: int | None = None, prefixes: Sequence[str] = ()) -> None:
        """Have the next snapshot read ``keys`` (with their entries or not) with the state, in
        the same request: the head and what a write depends on in one round trip (the next
        :meth:`read_many` of those keys at that size is answered from it). ``since``, the size
        the reader saw last: the consistency proof from it comes along too (the next
        :meth:`consistency_proof` from ``since`` to that size is answered from it).
        ``prefixes``: the keys under each are listed too (the next :meth:`keys_many` of them
        is answered from it) and read along when they are few: a search in one round trip."""
        self._ahead = (list(keys), entries, since, list(prefixes))

    def _state_ahead(self, keys: list[str], entries: bool, since: int | None,
                     prefixes: list[str]) -> dict[str, Any]:
        body: dict[str, Any] = {"keys": keys, "with_state": True, "entries": entries}
        if since is not None and self._supports("read-since"):
            body["since"] = since
        prefixes = list(dict.fromkeys(prefixes))[:_AHEAD_PREFIXES]
        if prefixes and self._supports("read-prefixes"):
            body["prefixes"] = prefixes
        answer = self._post("/api/v1/ledger/read-many", body)
        state, read = self._keyed_state(answer, since)
        self._read = (read, entries)
        if "prefixes" in body:
            self._listed = _listing(answer.get("listed"), prefixes, self.url)
        return state

    def _keyed_state(self, answer: Any, since: int | None) -> tuple[dict[str, Any], KeyedRead]:
        """The state and keyed read of a ``read-many`` answer with its state (or of the head an
        append answered with); its consistency proof from ``since`` is kept for the reader
        (unchecked here: the reader proves all of it)."""
        read, signed = wire.keyed_from(answer)
        read.checkpoint = signed
        proof = answer.get("consistency")
        if since is not None and proof is not None:
            self._consistency = (since, read.size, wire.hashes(proof, "consistency"))
        state = {"size": read.size, "checkpoint": signed, "origin": answer.get("origin"),
                 "verifier_key": answer.get("verifier_key"),
                 "writable": answer.get("writable"), "features": answer.get("features")}
        if not all(isinstance(state[field], str) for field in ("origin", "verifier_key")):
            raise IntegrityError(f"ledger {self.url}: its state lacks its origin or key")
        self._identity = state
        return state, read

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        outer = self._pinned
        if outer is None:
            ahead, self._ahead, self._read = self._ahead, None, None
            head, self._head = self._head, None
            if head is not None and (ahead is None or not ahead[1] and (
                    set(ahead[0]) <= head[2])):  # the view of the head an append went after
                self._pinned, self._read = head[0], (head[1], False)
            else:
                self._pinned = self._state_ahead(*ahead) if ahead else self._state()
        try:
            yield
        finally:
            self._pinned = outer
            if outer is None:
                self._read = self._consistency = self._listed = None

    def snapshot(self) -> Any:
        """Pins the size and checkpoint every read inside sees; a keyed read that the server
        answers at a newer size carries that size's checkpoint, which the reader proves."""
        return self._snapshot()

    def init(self, *, reuse_key: bool = False) -> str:
        return self.origin()

    def check_writable(self) -> None:
        """Answered by the state last read when it says so (a writer reads it to prove the
        head anyway); otherwise asked, so that a refusal comes with the server's reason."""
        if self._identity is not None and self._identity.get("writable") is True:
            return
        self._get("/api/v1/ledger/writable")

    def size(self) -> int:
        return wire.count(self._field(self._state(), "size"), "size")

    def checkpoint(self) -> str | None:
        signed = self._field(self._state(), "checkpoint")
        if signed is not None and not isinstance(signed, str):
            raise IntegrityError(f"ledger {self.url}: its checkpoint is not text")
        return signed

    def origin(self) -> str:
        return str(self._field(self._identity_state(), "origin"))

    def verifier_key(self) -> str:
        return str(self._field(self._identity_state(), "verifier_key"))

    def checkpoints(self, start: int = 0) -> Iterator[tuple[int, str]]:
        while True:
            page = self._field(self._get("/api/v1/ledger/checkpoints", start=start,
                                         limit=_PAGE), "checkpoints")
            if not isinstance(page, list):
                raise IntegrityError(f"ledger {self.url}: checkpoints is not a list")
            for item in page:
                if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], str)):
                    raise IntegrityError(f"ledger {self.url}: a checkpoint of the wrong shape")
                size = wire.count(item[0], "checkpoint size")
                if size < start:
                    raise _out_of_order(self.url, "checkpoints")
                yield size, item[1]
                start = size + 1
            if len(page) < _PAGE:
                return

    # -- entries ---------------------------------------------------------------------------

    def read(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        expected = start
        for first in range(start, end, _PAGE):
            page = self._field(self._get("/api/v1/ledger/entries", start=first,
                                         end=min(first + _PAGE, end)), "entries")
            for item in page if isinstance(page, list) else []:
                if not (isinstance(item, list) and len(item) == 2) or item[0] != expected:
                    raise IntegrityError(f"ledger {self.url} has no entry {expected}")
                yield expected, wire.unb64(item[1], f"entry {expected}")
                expected += 1
        if expected < end:
            raise IntegrityError(f"ledger {self.url} has no entry {expected}")

    def entries_at(self, positions: Sequence[int]) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        wanted = sorted(set(positions))
        for first in range(0, len(wanted), _PAGE):
            page = self._field(self._post("/api/v1/ledger/entries-at",
                                          {"positions": wanted[first:first + _PAGE]}),
                               "entries")
            if not isinstance(page, dict):
                raise IntegrityError(f"ledger {self.url}: entries is not an object")
            for key, value in page.items():
                out[wire.count(int(key) if str(key).isdigit() else -1, "entry index")] = (
                    wire.unb64(value, f"entry {key}"))
        missing = [p for p in wanted if p not in out]
        if missing:
            raise IntegrityError(f"ledger {self.url} has no entry {missing[0]}")
        return out

    def lookup(self, key: str) -> list[int]:
        return [wire.count(p, "position") for p in self._field(
            self._get("/api/v1/ledger/lookup", key=key), "positions")]

    def read_many(self, keys: Sequence[str], size: int, *, entries: bool = True,
                  held: Collection[int] = ()) -> KeyedRead:
        ahead, self._read = self._read, None
        if ahead is not None and ahead[0].size == size and (ahead[1] or not entries) and (
                set(keys) <= set(ahead[0].positions)):
            return ahead[0]
        body: dict[str, Any] = {"keys": list(keys), "size": size, "entries": entries}
        if entries and held and self._supports("read-held"):
            body["held"] = wire.runs_json(held, _HELD_RUNS)
        read, signed = wire.keyed_from(self._post("/api/v1/ledger/read-many", body))
        read.checkpoint = signed
        return read

    def lookup_prefix(self, prefix: str) -> list[tuple[str, int]]:
        rows = self._field(self._get("/api/v1/ledger/lookup-prefix", prefix=prefix), "rows")
        return [(str(k), wire.count(i, "entry index")) for k, i in rows]

    def keys(self, prefix: str) -> list[str]:
        return [str(k) for k in self._field(self._get("/api/v1/ledger/keys", prefix=prefix),
                                            "keys")]

    def keys_many(self, prefixes: Sequence[str]) -> dict[str, list[str]]:
        wanted = list(dict.fromkeys(prefixes))
        listed = self._listed
        if listed is not None and all(prefix in listed for prefix in wanted):
            return {prefix: list(listed[prefix]) for prefix in wanted}
        out: dict[str, list[str]] = {}
        for first in range(0, len(wanted), _PREFIXES):
            chunk = wanted[first:first + _PREFIXES]
            page = self._field(self._post("/api/v1/ledger/keys-many", {"prefixes": chunk}),
                               "keys")
            out.update(_listing(page, chunk, self.url))
        return out

    def index_rows(self, after: tuple[int, str] | None = None) -> Iterator[tuple[str, int]]:
        paged = self._supports("paged-audit")
        last = after if after is not None else (-1, "")
        while True:
            params: dict[str, Any] = {"after_entry": last[0], "after_key": last[1]}
            page = self._field(self._get("/api/v1/ledger/index-rows",
                                         **params, **({"limit": _PAGE} if paged else {})),
                               "rows")
            if not isinstance(page, list):
                raise IntegrityError(f"ledger {self.url}: its index rows are not a list")
            for row in page:
                if not (isinstance(row, list) and len(row) == 2 and isinstance(row[0], str)):
                    raise IntegrityError(f"ledger {self.url}: an index row of the wrong shape")
                here = wire.count(row[1], "entry index"), row[0]
                if here <= last:
                    if not paged:  # an older server answers all rows, asked from where or not
                        continue
                    raise _out_of_order(self.url, "index rows")
                last = here
                yield row[0], here[0]
            if not paged or len(page) < _PAGE:
                return

    def map_proof(self, key: str) -> MapProof:
        return wire.proof_from(self._field(self._get("/api/v1/ledger/map-proof", key=key),
                                           "proof"), "proof")

    def map_leaves(self, after: bytes | None = None) -> Iterator[tuple[bytes, str, int, int]]:
        if not self._supports("paged-audit"):
            return (row for row in self._map_rows("leaves") if after is None or row[0] > after)

        def fetch(last: bytes | None) -> list[tuple[bytes, str, int, int]]:
            rows = self._map_leaf_rows(self._field(self._get(
                "/api/v1/ledger/map-leaves", limit=_PAGE,
                **({"after": wire.b64(last)} if last is not None else {})), "leaves"))
            _ascending(self.url, "key map leaves", [row[0] for row in rows], last)
            return rows
        return paged(fetch, after, _PAGE, lambda row: row[0])

    def map_nodes(self, after: tuple[int, bytes] | None = None
                  ) -> Iterator[tuple[int, bytes, bytes]]:
        if not self._supports("paged-audit"):
            return (row for row in self._map_rows("nodes") if after is None or row[:2] > after)

        def fetch(last: tuple[int, bytes] | None) -> list[tuple[int, bytes, bytes]]:
            rows = self._map_node_rows(self._field(self._get(
                "/api/v1/ledger/map-nodes", limit=_PAGE,
                **({"after_depth": last[0], "after_prefix": wire.b64(last[1])}
                   if last is not None else {})), "nodes"))
            _ascending(self.url, "key map nodes", [row[:2] for row in rows], last)
            return rows
        return paged(fetch, after, _PAGE, lambda row: row[:2])

    def _map_rows(self, part: str) -> Any:
        """``map-rows``, all at once: a server from before ``paged-audit``."""
        answer = self._get("/api/v1/ledger/map-rows")
        field = self._field(answer, part)
        return self._map_leaf_rows(field) if part == "leaves" else self._map_node_rows(field)

    def _map_leaf_rows(self, page: Any) -> list[tuple[bytes, str, int, int]]:
        if not isinstance(page, list) or not all(
                isinstance(row, list) and len(row) == 4 and isinstance(row[1], str)
                for row in page):
            raise IntegrityError(f"ledger {self.url}: its key map leaves are of the wrong shape")
        return [(wire.unb64(k, "leaf key hash"), key, wire.count(c, "count"),
                 wire.count(last, "last")) for k, key, c, last in page]

    def _map_node_rows(self, page: Any) -> list[tuple[int, bytes, bytes]]:
        if not isinstance(page, list) or not all(
                isinstance(row, list) and len(row) == 3 for row in page):
            raise IntegrityError(f"ledger {self.url}: its key map nodes are of the wrong shape")
        return [(wire.count(d, "depth"), wire.unb64(p, "prefix"), wire.unb64(h, "hash"))
                for d, p, h in page]

    # -- proofs ----------------------------------------------------------------------------

    def root(self, size: int) -> bytes:
        return wire.unb64(self._field(self._get("/api/v1/ledger/root", size=size), "root"),
                          "root")

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return wire.hashes(self._field(self._get("/api/v1/ledger/inclusion-proof", index=index,
                                                 size=size), "hashes"), "hashes")

    def inclusion_proofs(self, positions: Sequence[int], size: int) -> dict[int, list[bytes]]:
        out: dict[int, list[bytes]] = {}
        wanted = sorted(set(positions))
        for first in range(0, len(wanted), _PAGE):
            out.update(wire.paths_from(self._field(self._post(
                "/api/v1/ledger/inclusion-proofs", {"positions": wanted[first:first + _PAGE],
                                                    "size": size}), "proofs"), "proofs"))
        return out

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        ahead, self._consistency = self._consistency, None
        if ahead is not None and ahead[:2] == (size1, size2):
            return ahead[2]
        return wire.hashes(self._field(self._get("/api/v1/ledger/consistency-proof",
                                                 first=size1, second=size2), "hashes"),
                           "hashes")

    # -- writing ---------------------------------------------------------------------------

    def append(
        self, entries: Sequence[bytes], decoded: Sequence[dict[str, Any]] | None = None,
        *, after: tuple[int, bytes] | None = None, evidence: Any = None,
    ) -> Appended:
        """One request: the entries, the head they extend, and the evidence they name. Safe to
        retry (see the module docstring); what it returns is proven by the caller."""
        return self._appended(self._send_append({
            "entries": [wire.b64(e) for e in entries],
            "after": None if after is None else {"size": after[0], "root": wire.b64(after[1])}},
            evidence))

    def append_requiring(self, entries: Sequence[bytes], *, requires: Sequence[str],
                         since: int | None, evidence: Any = None,
                         also: Sequence[str] = ()) -> Appended:
        """Append ``entries`` after the head the server reads, refused unless each of
        ``requires`` files an entry there: a write and the read it depends on in one request.
        The head comes back with the answer (with its proofs, the consistency proof from
        ``since``, the size this writer saw last, among them) and the next snapshot that reads
        no more than ``requires`` is that head: the caller proves it, and checks what the
        write depends on, as on its own read. A refusal raises :class:`Unmet` with the head
        kept the same way, for the caller to prove the refusal. ``also``: keys the head
        carries the proofs of without requiring them (:meth:`head_carries`)."""
        floor = since if since is not None else (self._identity or {}).get("size")
        body: dict[str, Any] = {"entries": [wire.b64(e) for e in entries],
                                "requires": list(requires)}
        if isinstance(floor, int):  # where a retry of this very request would look for it
            body["since"] = floor
        if also and self._supports("append-also"):
            body["also"] = list(also)
        answer = self._send_append(body, evidence, answered=(412,))
        head = answer.get("head") if isinstance(answer, dict) else None
        if head is None:
            raise IntegrityError(f"ledger {self.url}: its answer to an append with requires "
                                 "lacks the head it went after")
        state, read = self._keyed_state(head, since)
        self._head = (state, read, {*requires, *(key for key in also if key in read.positions)})
        if "error" in answer:
            raise Unmet(str(answer["error"].get("message")) if isinstance(
                answer["error"], dict) else "the append was refused")
        return self._appended(answer)

    def head_carries(self, key: str) -> bool:
        """Whether the head the last :meth:`append_requiring` answered with (until a snapshot
        takes it) carries ``key``'s proof: asked for as ``also``, which a server that predates
        it leaves out."""
        return self._head is not None and key in self._head[2]

    def _send_append(self, body: dict[str, Any], evidence: Any,
                     answered: tuple[int, ...] = ()) -> Any:
        """POST ``body`` to the append endpoint, with ``evidence``'s files when there are any;
        the answer as JSON."""
        files = list(evidence.files) if isinstance(evidence, _Uploads) else []
        handles = []
        try:
            for digest, path in files:
                handles.append((digest, open(path, "rb")))  # noqa: SIM115 - closed below

            def parts() -> list[tuple[str, Any]]:
                out: list[tuple[str, Any]] = [("request", (None, json.dumps(body),
                                                           "application/json"))]
                for digest, handle in handles:
                    handle.seek(0)
                    out.append(("evidence", (digest, handle, "application/octet-stream")))
                return out

            once = {"Idempotency-Key": uuid.uuid4().hex}
            return self._json(  # without evidence, plain JSON: no form to build or parse
                self._request("POST", "/api/v1/ledger/append", parts, headers=once,
                              answered=answered)
                if handles else self._request("POST", "/api/v1/ledger/append", json=body,
                                              headers=once, answered=answered))
        except OSError as exc:
            raise InputError(f"evidence: {exc.strerror or exc}") from None
        finally:
            for _, handle in handles:
                handle.close()

    def _appended(self, answer: Any) -> Appended:
        consistency = answer.get("consistency") if isinstance(answer, dict) else None
        inclusion = answer.get("inclusion") if isinstance(answer, dict) else None
        return Appended(first=wire.count(self._field(answer, "first"), "first"),
                        size=wire.count(self._field(answer, "size"), "size"),
                        checkpoint=str(self._field(answer, "checkpoint")),
                        consistency=None if consistency is None else wire.hashes(
                            consistency, "consistency"),
                        inclusion=None if inclusion is None else wire.paths_from(
                            inclusion, "the append's inclusion"))

    def record_heartbeat(self, environment: str, at: str, size: int) -> None:
        self._post("/api/v1/ledger/heartbeat", {"environment": environment, "at": at,
                                                "size": size})

    def add_cosignatures(self, size: int, lines: Sequence[str]) -> None:
        from affidavit.ledger.base import check_cosignature_lines

        self._post("/api/v1/ledger/cosignatures",
                   {"size": size, "lines": check_cosignature_lines(lines)})

    def cosignatures(self, size: int) -> list[str]:
        """As the server tells it: not believed (``Ledger.add_cosignatures``), so only the
        shape is checked here; a reader verifies each line with its witness keys."""
        from affidavit.ledger.base import check_cosignature_lines

        found = self._field(self._get("/api/v1/ledger/cosignatures", size=size), "lines")
        if not isinstance(found, list) or not all(isinstance(x, str) for x in found):
            raise IntegrityError(f"ledger {self.url}: cosignatures of the wrong shape")
        try:
            return check_cosignature_lines(found)
        except InputError as exc:
            raise IntegrityError(f"ledger {self.url}: {exc.message}") from None

    def heartbeat(self, environment: str) -> tuple[str, int] | None:
        """As the server tells it: a heartbeat is not proven (``Ledger.record_heartbeat``),
        so only its shape is checked."""
        found = self._field(self._get("/api/v1/ledger/heartbeat", environment=environment),
                            "heartbeat")
        if found is None:
            return None
        if not (isinstance(found, dict) and isinstance(found.get("at"), str)):
            raise IntegrityError(f"ledger {self.url}: a heartbeat of the wrong shape")
        return found["at"], wire.count(found.get("size"), "heartbeat size")

    def reindex(self) -> int:
        raise UsageError(f"ledger {self.url}: reindexing is done on the server, not by a client",
                         remedy="run `affidavit ledger reindex --ledger` with the server's "
                                "storage URL")

    def local_files(self) -> list[str]:
        return []

    def close(self) -> None:
        self.session.close()


def _listing(page: Any, prefixes: list[str], url: str) -> dict[str, list[str]]:
    """A server's keys by prefix, shaped as asked: one list of keys for each prefix (whether
    each key starts with its prefix is the reader's check, ``Proven.keys_many``)."""
    if not isinstance(page, dict) or set(page) != set(prefixes) or not all(
            isinstance(v, list) and all(isinstance(k, str) for k in v) for v in page.values()):
        raise IntegrityError(f"ledger {url}: its keys by prefix do not answer each prefix")
    return {prefix: list(page[prefix]) for prefix in prefixes}


def _out_of_order(url: str, what: str) -> IntegrityError:
    """A page that does not follow where the last ended: an answer to trust no further (and,
    believed, one that could send a client around the same pages for ever)."""
    return IntegrityError(f"ledger {url}: its {what} are not in order, each after the last")


def _ascending(url: str, what: str, names: list[Any], after: Any) -> None:
    for name in names:
        if after is not None and name <= after:
            raise _out_of_order(url, what)
        after = name
