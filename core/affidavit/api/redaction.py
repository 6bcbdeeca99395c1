"""``--redact /json/pointer…``: fields taken out of an attestation before it is hashed.

A pointer (RFC 6901) addresses the attestation's two free-form parts as one document,
``{"user_data": …, "predicate": …}``: ``/user_data/ticket/reporter`` or ``/predicate/data/host``.
What it names is removed before the one judge and the hash see the record, so the verdict is the
judge's verdict of what was kept (a field the judge needs cannot be redacted: the attestation is
refused, exit 2), and nothing removed ever reaches the ledger. The entry lists the pointers in
``redacted`` so a reader knows what is withheld, not what it was.

A pointer that names nothing is an error rather than a no-op: a misspelt pointer would otherwise
leave the very field it was meant to withhold in the ledger for good.
"""

from __future__ import annotations

import re

from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = ["ROOTS", "check_pointers", "redact"]

ROOTS = ("user_data", "predicate")
"""The parts of an attestation a pointer may reach into."""


def _parts(pointer: str) -> list[str]:
    from jsonpointer import JsonPointer, JsonPointerException

    try:
        parts: list[str] = JsonPointer(pointer).parts
    except JsonPointerException as exc:
        raise UsageError(f"--redact {pointer!r}: not a JSON pointer ({exc})",
                         remedy="a pointer starts with / (RFC 6901), e.g. /user_data/token"
                         ) from None
    if len(parts) < 2 or parts[0] not in ROOTS:
        raise UsageError(f"--redact {pointer!r}: must point inside /user_data or /predicate",
                         remedy="e.g. --redact /user_data/token /predicate/data/host")
    return parts


def check_pointers(pointers: Sequence[str]) -> None:
    """Refuse a pointer that is malformed or outside the two parts, before anything runs."""
    for pointer in pointers:
        _parts(pointer)


def redact(pointers: Sequence[str], predicate: dict[str, Any],
           user_data: Any) -> tuple[dict[str, Any], Any]:
    """Copies of ``predicate`` and ``user_data`` without what ``pointers`` name, in the order
    given (a later pointer addresses the document as the earlier ones left it, as a JSON Patch
    of ``remove`` operations would)."""
    document: Any = {"user_data": user_data, "predicate": predicate}
    for pointer in pointers:
        parts = _parts(pointer)
        # copy only the containers on the pointer's path (never the whole document: deep
        # nesting would overflow a recursive copy), so the caller's data stays as it was
        document = dict(document)
        parent: Any = document
        for depth, part in enumerate(parts[:-1]):
            child = _step(parent, part, pointer, parts[: depth + 1])
            child = dict(child) if isinstance(child, dict) else list(child) if isinstance(
                child, list) else child
            key: Any = _index(part, len(parent)) if isinstance(parent, list) else part
            parent[key] = child
            parent = child
        last = parts[-1]
        if isinstance(parent, dict) and last in parent:
            del parent[last]
        elif isinstance(parent, list) and _index(last, len(parent)) is not None:
            del parent[_index(last, len(parent))]  # type: ignore[arg-type]
        else:
            raise UsageError(f"--redact {pointer!r}: the attestation has no such field",
                             remedy="nothing was recorded; check the pointer against the data")
    return document["predicate"], document["user_data"]


def _index(part: str, length: int) -> int | None:
    """An array index as RFC 6901 spells one: ASCII digits, no leading zero (``str.isdigit``
    takes ``²`` and ``١`` too)."""
    if re.fullmatch(r"0|[1-9][0-9]*", part) and int(part) < length:
        return int(part)
    return None


def _step(node: Any, part: str, pointer: str, seen: list[str]) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list):
        at = _index(part, len(node))
        if at is not None:
            return node[at]
    raise UsageError(f"--redact {pointer!r}: the attestation has no /{'/'.join(seen)}",
                     remedy="nothing was recorded; check the pointer against the data")
