"""A template's signing rule, the one reading of it for attestation slots, approval slots and
the template floor (``compliance.verdict``, ``compliance.approval``).

A slot's ``require_signed`` and ``signers`` win over its template's ``trail:`` ones; ``signers``
implies a signature is required. The signature itself was checked by every reader
(``models.dsse.check_signed``): this decides only whether the key is one the template accepts.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs 3 ms to import; every gating read comes through here
if TYPE_CHECKING:
    from typing import Any

    Record = dict[str, Any]

__all__ = ["FIELDS", "signing_rule", "rule_of", "demands", "shortfall"]

FIELDS = ("require_signed", "signers")


def signing_rule(template: Record | None) -> Record:
    """The template-wide ``require_signed``/``signers`` (its ``trail:``), as slot fields."""
    trail_spec = (template or {}).get("trail", {})
    return {k: trail_spec[k] for k in FIELDS if k in trail_spec}


def rule_of(template: Record | None, slot: Record) -> Record:
    """The signing rule in force for ``slot``: its own fields over the template's."""
    return {**signing_rule(template), **{k: slot[k] for k in FIELDS if k in slot}}


def demands(rule: Record) -> tuple[bool, frozenset[str]]:
    """``(a signature is required, the keys allowed or none)`` of a folded rule."""
    signers = frozenset(rule.get("signers") or ())
    return bool(rule.get("require_signed")) or bool(signers), signers


def shortfall(rule: Record, record: Record) -> str | None:
    """Why ``record`` does not meet the folded ``rule``, or None."""
    required, signers = demands(rule)
    if not required:
        return None
    from affidavit.models.dsse import signer_of

    keyid = signer_of(record)
    if keyid is None:
        return "is not signed, and the template requires a signature"
    if signers and keyid not in signers:
        return f"is signed by key {keyid[:16]}, which the template does not allow"
    return None
