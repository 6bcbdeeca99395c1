"""Recompute an attestation's own verdict from its recorded predicate, with the open code that
decided it — what `verify package` does so a doctored `compliant` flag cannot pass."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = ["recompute"]


def recompute(record: Mapping[str, Any], types: Mapping[int, Mapping[str, Any]]) -> bool | None:
    """The verdict the record's predicate yields, or None when it cannot be recomputed here
    (a type this version does not know, or a custom type whose version is not at hand)."""
    kind = record["type"]
    predicate = record["statement"]["predicate"]
    if kind in ("generic", "decision"):
        return bool(predicate.get("compliant"))
    if kind == "approval":
        return bool(predicate.get("approved"))
    if kind == "approval-request":
        return True
    if kind == "junit":
        from affidavit.collect import junit

        policy = predicate.get("policy") or {"max_failures": 0, "max_errors": 0}
        return junit.verdict(dict(predicate), max_failures=policy["max_failures"],
                             max_errors=policy["max_errors"])[0]
    if kind in ("sarif", "snyk"):
        from affidavit.collect import severity

        return severity.verdict(predicate)[0]
    if kind.startswith("custom:"):
        version = types.get(predicate.get("type_entry", -1))
        if version is None:
            return None
        from affidavit.compliance.rules import evaluate_all, parse

        return evaluate_all([parse(text) for text in version.get("rules", [])],
                            predicate["data"])[0]
    return None
