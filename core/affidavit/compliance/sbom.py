"""The SBOM verdict, and the policy it applies (``--deny-license``, ``--require-field``,
``--max-components-without-license``).

Compliant iff, for each rule the policy sets:

- ``deny_license``: no component has a denied licence. Each ``--deny-license`` value is an
  SPDX identifier or expression; every identifier it names is denied (``"GPL-3.0-only OR
  AGPL-3.0-only"`` denies both). A component is denied when one of its licences *includes* a
  denied identifier: an identifier equal to it, an expression naming it whatever its
  operators (``MIT OR GPL-3.0-only`` is denied with GPL-3.0-only: the choice it offers is not
  recorded as made), a licence name that *is* it. Identifiers compare ignoring case, deprecated
  ones as their replacements (:mod:`affidavit.models.licenses`); an identifier the SPDX list
  does not hold is refused, unless it is a ``LicenseRef-``, so a typo cannot deny nothing;
- ``require_fields``: every component has each field (``supplier``, ``version``, ``purl``);
- ``max_components_without_license`` N: at most N components have no licence.

With no rule the SBOM is recorded and compliant. The collector counts
(:mod:`affidavit.collect.sbom`: components without each field, without a licence, denied
against ``deny_license_ids``); :func:`sbom_verdict` applies the policy recorded beside those
counts, to the predicate alone, for every reader and verifier.
"""

from __future__ import annotations

from affidavit.compliance.judge import Malformed
from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

__all__ = ["FIELDS", "sbom_policy", "sbom_verdict", "denied_keys"]

FIELDS = ("supplier", "version", "purl")
"""What ``--require-field`` can ask of every component."""

_NOUNS = {"supplier": "a supplier", "version": "a version", "purl": "a purl"}


def sbom_policy(deny_license: Sequence[str] = (), require_fields: Sequence[str] = (),
                max_components_without_license: int | None = None) -> dict[str, Any]:
    """The ``policy`` an SBOM predicate records, after checking the flags."""
    from affidavit.models.licenses import license_keys

    ids: dict[str, str] = {}
    for value in deny_license:
        if not isinstance(value, str) or not value.strip():
            raise UsageError("--deny-license: an empty value")
        found = license_keys(value)
        if found.error is not None:
            raise UsageError(f"--deny-license {value!r}: not an SPDX licence identifier or "
                             f"expression ({found.error})")
        if found.unknown:
            raise UsageError(f"--deny-license {value!r}: {', '.join(found.unknown)} is not on "
                             "the SPDX licence list",
                             remedy="use the list's identifier (e.g. GPL-3.0-only), or a "
                                    "LicenseRef- as the SBOM spells it")
        for name in found.names:
            ids.setdefault(name.lower(), name)
    fields: list[str] = []
    for field in require_fields:
        if field not in FIELDS:
            raise UsageError(f"--require-field: {field!r} is not one of {', '.join(FIELDS)}")
        if field not in fields:
            fields.append(field)
    limit = max_components_without_license
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 0):
        raise UsageError(f"--max-components-without-license: {limit!r} is not a whole number "
                         ">= 0")
    return {"deny_license": [value.strip() for value in deny_license],
            "deny_license_ids": sorted(ids.values(), key=str.lower),
            "require_fields": fields, "max_components_without_license": limit}


def denied_keys(policy: Mapping[str, Any]) -> dict[str, str]:
    """The collector's view of the denied identifiers: lower-cased key -> spelling."""
    return {name.lower(): name for name in policy["deny_license_ids"]}


def _count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Malformed(f"{field} is not a whole number >= 0")
    return value


def _many(n: int) -> str:
    return f"{n:,} component" if n == 1 else f"{n:,} components"


def sbom_verdict(predicate: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """Compliant iff the counts meet every rule of the recorded ``policy``; one reason per
    rule broken."""
    policy = predicate.get("policy")
    summary = predicate.get("summary")
    if not isinstance(policy, dict) or not isinstance(summary, dict):
        raise Malformed("policy or summary is not an object")
    missing = summary.get("missing")
    if not isinstance(missing, dict):
        raise Malformed("summary.missing is not an object")
    total = _count(summary.get("components"), "summary.components")
    denied_ids = policy.get("deny_license_ids")
    fields = policy.get("require_fields")
    if not isinstance(denied_ids, list) or not all(isinstance(i, str) for i in denied_ids):
        raise Malformed("policy.deny_license_ids is not a list of identifiers")
    if not isinstance(fields, list) or not all(f in FIELDS for f in fields):
        raise Malformed(f"policy.require_fields is not a list of {', '.join(FIELDS)}")
    denied = _count(summary.get("denied"), "summary.denied")
    if denied and not denied_ids:
        raise Malformed("summary.denied counts components but the policy denies no licence")
    reasons = []
    if denied:
        by = predicate.get("denied_by_license")
        if not isinstance(by, dict):
            raise Malformed("denied_by_license is not an object")
        breakdown = ", ".join(f"{name} {_count(n, 'denied_by_license')}"
                              for name, n in sorted(by.items()))
        reasons.append(f"{_many(denied)} of {total:,} with a denied licence ({breakdown}), "
                       "--deny-license")
    for field in fields:
        lacking = _count(missing.get(field), f"summary.missing.{field}")
        if lacking:
            reasons.append(f"{_many(lacking)} of {total:,} without {_NOUNS[field]}, "
                           f"--require-field {field}")
    limit = policy.get("max_components_without_license")
    if limit is not None:
        limit = _count(limit, "policy.max_components_without_license")
        without = _count(summary.get("without_license"), "summary.without_license")
        if without > limit:
            reasons.append(f"{_many(without)} of {total:,} without a licence, more than "
                           f"--max-components-without-license {limit}")
    return not reasons, reasons
