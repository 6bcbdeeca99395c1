"""Witnesses: getting a ledger's checkpoints cosigned (C2SP tlog-witness, the client side),
checking cosignatures, and setting up a witness of one's own.

A witness remembers the latest checkpoint it cosigned for each log and cosigns a new one only
with a consistency proof from it. Someone holding the ledger's key can sign a rewritten
history, but no witness that saw the old one will cosign it: a checkpoint carrying the
cosignatures a verifier requires is one the log could not have forked behind their back.
"""

from __future__ import annotations

import os

from affidavit.errors import InputError, IntegrityError, ProviderError, UsageError
from affidavit.ledger.cosignature import (
    CosignatureVerifier,
    Cosigner,
    generate_cosigner_key,
    split_note,
    verify_cosignature,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from affidavit.ledger.base import Ledger
    from affidavit.ledger.witness import Witness

__all__ = ["cosign", "cosign_ledger", "generate_key", "open_witness", "parse_witness",
           "verify_cosignature", "WITNESSES_ENV", "configured", "after_write"]

_TIMEOUT = 30.0
_NO_TOKEN = "a witness takes no credentials"


def parse_witness(spec: str) -> tuple[str, str]:
    """``URL=VKEY`` as ``(url, vkey)``, both checked; :class:`UsageError` naming the flag.
    The URL is split off at the first ``=``: witness URLs carry no query string."""
    from affidavit.web import checked_url

    url, sep, vkey = spec.partition("=")
    if not sep or not url or not vkey:
        raise UsageError(f"--witness {spec!r} is not URL=VKEY")
    url = checked_url(url, "--witness URL", token_hint=_NO_TOKEN)
    try:
        CosignatureVerifier.from_key(vkey)
    except InputError as exc:
        raise UsageError(f"--witness {url}: {exc.message}", remedy=exc.remedy) from None
    return url, vkey


def _refusal(answer: Any) -> str:
    """A witness's refusal in a few words, for a message: its status and what it said."""
    text = " ".join(answer.text.split())[:200]
    return f"HTTP {answer.status_code}{': ' + text if text else ''}"


def _reported_size(answer: Any, url: str) -> int:
    """The size in a 409 answer (``text/x.tlog.size``: decimal and a newline)."""
    from affidavit.ledger.witness import SIZE_CONTENT_TYPE

    kind = answer.headers.get("Content-Type", "").split(";")[0].strip()
    body = answer.text
    if kind == SIZE_CONTENT_TYPE and body.endswith("\n") and body[:-1].isdigit() and (
            body[:-1] == "0" or not body.startswith("0")) and len(body) <= 21:
        return int(body[:-1])
    raise IntegrityError(f"witness {url} refused the checkpoint as a conflict: "
                         f"{' '.join(body.split())[:200]!r}",
                         remedy="the witness holds another tree at this size: the log "
                                "forked, or was rolled back")


def cosign(checkpoint_note: bytes | str, witness_url: str, witness_vkey: str, old_size: int,
           consistency_proof: Sequence[bytes], *,
           proof_for: Callable[[int], Sequence[bytes]] | None = None,
           session: Any = None, timeout: float = _TIMEOUT) -> str:
    """The witness's cosignature line on ``checkpoint_note`` (a signed checkpoint), after
    checking it with ``witness_vkey``: a line that does not verify is never returned.

    ``consistency_proof`` proves the checkpoint extends the tree of ``old_size`` entries (empty
    from size 0). When the witness answers 409 with the size it last cosigned,
    ``proof_for(size)`` gives the proof from there and the request is sent once more; a 409
    at the very size sent (another root there), a size beyond the checkpoint's (a rollback),
    a 422 (a proof the witness does not accept) and a bad cosignature are
    :class:`IntegrityError` (exit 3). A witness that does not know the log or its key (404,
    403) or calls the request malformed (400) is an :class:`InputError`; one that cannot be
    reached or fails is a :class:`ProviderError`.
    """
    from affidavit.ledger.checkpoint import Checkpoint
    from affidavit.ledger.witness import encode_request
    from affidavit.web import checked_url, session_for

    signed = checkpoint_note.decode("utf-8") if isinstance(checkpoint_note, bytes) \
        else checkpoint_note
    verifier = CosignatureVerifier.from_key(witness_vkey)
    url = checked_url(witness_url, "witness URL", token_hint=_NO_TOKEN)
    text, _ = split_note(signed)
    size = Checkpoint.parse(text).size
    http = session or session_for(url)
    proof, retried = list(consistency_proof), False
    while True:
        answer = _post(http, url, encode_request(old_size, proof, signed), timeout)
        if answer.status_code != 409:
            break
        reported = _reported_size(answer, url)
        if reported == old_size:
            raise IntegrityError(f"witness {url} has cosigned another tree of size "
                                 f"{reported} than this checkpoint's",
                                 remedy="the log forked: compare the checkpoints")
        if reported > size:
            raise IntegrityError(f"witness {url} has cosigned size {reported}, beyond this "
                                 f"checkpoint's {size}",
                                 remedy="the log was rolled back, or this checkpoint is "
                                        "stale: fetch the latest")
        if retried or proof_for is None:
            raise IntegrityError(f"witness {url} last cosigned size {reported}, not "
                                 f"{old_size}", remedy="send a proof from that size")
        old_size, proof, retried = reported, list(proof_for(reported)) if reported else [], True
    if answer.status_code == 422:
        raise IntegrityError(f"witness {url} did not accept the consistency proof from size "
                             f"{old_size}: {_refusal(answer)}",
                             remedy="the log is not an extension of what the witness "
                                    "cosigned")
    if answer.status_code in (400, 403, 404):
        what = {400: "calls the request malformed",
                403: "does not trust the key that signed this checkpoint",
                404: "does not witness this log's origin"}[answer.status_code]
        raise InputError(f"witness {url} {what}: {_refusal(answer)}",
                         remedy=None if answer.status_code == 400 else
                         "configure the witness with --log ORIGIN=VKEY for this ledger")
    if answer.status_code != 200:
        raise ProviderError(f"witness {url} answered {_refusal(answer)}",
                            remedy="nothing was cosigned; try again")
    return _accepted(answer, url, text, verifier)


def _post(http: Any, url: str, body: bytes, timeout: float) -> Any:
    import requests

    try:
        return http.post(f"{url}/add-checkpoint", data=body, timeout=timeout,
                         headers={"Content-Type": "text/plain; charset=utf-8"})
    except requests.RequestException as exc:
        raise ProviderError(f"cannot reach witness {url}: {type(exc).__name__}",
                            remedy="nothing was cosigned; check the URL and try again") from None


def _accepted(answer: Any, url: str, text: str, verifier: CosignatureVerifier) -> str:
    """The first line of a 200 answer by ``verifier``, verified on ``text``; every line by it
    must verify (the spec's client ignores only other keys' lines)."""
    try:
        lines: list[str] = answer.content.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        raise IntegrityError(f"witness {url} answered with a body that is not UTF-8") from None
    ours: list[str] = []
    for line in lines:
        if not line.endswith("\n"):
            raise IntegrityError(f"witness {url} answered a line without a newline")
        try:
            if verifier.matches(line):
                verifier.verify_line(text, line)
                ours.append(line)
        except IntegrityError as exc:
            raise IntegrityError(f"witness {url}: {exc.message}", remedy=exc.remedy) from None
    if not ours:
        raise IntegrityError(f"witness {url} answered no cosignature by {verifier.name}+"
                             f"{verifier.key_id.hex()}",
                             remedy="check the witness's verifier key")
    return ours[0]


def cosign_ledger(ledger: Ledger, witnesses: Sequence[tuple[str, str]], *,
                  keep: bool = True) -> dict[str, Any]:
    """Have the ledger's latest signed checkpoint cosigned by each ``(url, vkey)``: asked
    first from size 0, as the spec allows a client that does not know the witness's size,
    then once more with a proof from the size the witness says it holds. The checkpoint is
    the one a proven view establishes (signed by the key this client pinned, consistent with
    the one it saw last), never one the ledger merely hands over; with ``keep`` the lines are
    stored beside it (``Ledger.add_cosignatures``), where ``evidence package`` finds them.

    Returns ``{"checkpoint": note with every cosignature line appended, "size": N,
    "cosignatures": [{"witness", "url", "timestamp"}]}``; the first witness that refuses
    stops the run (an error), so a printed note carries every cosignature asked for.
    """
    from affidavit.verify.proven import Proven

    with Proven(ledger) as view:
        assert view.checkpoint is not None and view.note is not None
        signed, size = view.note, view.checkpoint.size

    def proof_for(old: int) -> list[bytes]:
        return ledger.consistency_proof(old, size)

    lines, shown = [], []
    for url, vkey in witnesses:
        line = cosign(signed, url, vkey, 0, [], proof_for=proof_for)
        verifier = CosignatureVerifier.from_key(vkey)
        lines.append(line)
        shown.append({"witness": verifier.key, "url": url,
                      "timestamp": verify_cosignature(signed + line, verifier)})
    if keep and lines:
        ledger.add_cosignatures(size, lines)
    return {"checkpoint": signed + "".join(lines), "size": size, "cosignatures": shown}


WITNESSES_ENV = "AFFIDAVIT_WITNESSES"
"""``URL=VKEY`` of each witness every write has its checkpoint cosigned by, space- or
comma-separated: a ledger configured with witnesses."""


def configured() -> list[tuple[str, str]]:
    """The witnesses ``AFFIDAVIT_WITNESSES`` names (none when unset), each checked."""
    raw = os.environ.get(WITNESSES_ENV, "")
    specs = [s for s in raw.replace(",", " ").split() if s]
    if raw and not specs:
        raise UsageError(f"{WITNESSES_ENV} is set but names no witness (URL=VKEY)")
    return [parse_witness(spec) for spec in specs]


def after_write(ledger: Ledger, witnesses: Sequence[tuple[str, str]],
                entry_index: int) -> list[dict[str, Any]]:
    """Cosign the checkpoint a write just made by every configured witness. The entry stands
    whatever happens here; a witness that refuses the checkpoint (it does not extend what the
    witness saw: a rewritten history) is an integrity failure naming the entry, one that
    cannot be reached is a warning the caller prints."""
    try:
        return list(cosign_ledger(ledger, witnesses)["cosignatures"])
    except IntegrityError as exc:
        raise IntegrityError(f"entry {entry_index} was recorded, but {exc.message}",
                             remedy=exc.remedy) from None


def generate_key(out: str, name: str) -> str:
    """Write a new witness key to file ``out`` (mode 0600, never over an existing file, never
    seen half-written) and return its verifier key, the one logs and verifiers configure."""
    from affidavit.ledger.keyfile import write_key

    key = generate_cosigner_key(name)  # InputError for a bad name, before any file exists
    if os.path.lexists(out):
        raise UsageError(f"--out {out} already exists",
                         remedy="a witness key is never overwritten; choose another file")
    write_key(out, key, exists=lambda: UsageError(
        f"--out {out} already exists",
        remedy="a witness key is never overwritten; choose another file"),
        failed=lambda reason: UsageError(f"--out {out}: {reason}"), make_folder=False)
    return Cosigner.from_key(key).verifier.key


def open_witness(key_file: str, state: str, logs: Sequence[str]) -> Witness:
    """The witness for ``witness serve``: its key from ``key_file``, its state in SQLite file
    ``state``, and the logs it cosigns, each ``ORIGIN=VKEY`` (an origin may be named more
    than once, one per key it is trusted with). Every problem is a :class:`UsageError`."""
    from affidavit.ledger import note
    from affidavit.ledger.witness import Witness
    from affidavit.regular import check_regular_or_absent, read_regular

    try:
        check_regular_or_absent(state, f"--state {state}")
        cosigner = Cosigner.from_key(read_regular(key_file, f"--key {key_file}",
                                                  1 << 16).decode("utf-8"))
    except InputError as exc:
        if exc.message.startswith(("--key ", "--state ")):
            raise UsageError(exc.message) from None
        raise UsageError(f"--key {key_file}: {exc.message}",
                         remedy="make one with affidavit witness key generate") from None
    except UnicodeDecodeError:
        raise UsageError(f"--key {key_file}: not UTF-8",
                         remedy="make one with affidavit witness key generate") from None
    if not logs:
        raise UsageError("witness serve needs at least one --log ORIGIN=VKEY")
    trusted: dict[str, list[note.Verifier]] = {}
    for spec in logs:
        origin, sep, vkey = spec.partition("=")
        if not sep or not origin or not vkey:
            raise UsageError(f"--log {spec!r} is not ORIGIN=VKEY")
        try:
            trusted.setdefault(origin, []).append(note.Verifier.from_key(vkey))
        except InputError as exc:
            raise UsageError(f"--log {origin}: {exc.message}",
                             remedy="the ledger's key: affidavit ledger public-key") from None
    try:
        return Witness(cosigner, trusted, state)
    except InputError as exc:
        raise UsageError(exc.message, remedy=exc.remedy) from None
