"""An SBOM as an attestation: run the collector, judge against the licence policy, record.

The SBOM file is attached as evidence by default, so an auditor holding the evidence package
can re-run the (open) collector on the very bytes that were judged. What the SBOM describes
(an image digest, often) is recorded as ``describes`` and said in a note; it is bound only when
asked: ``--fingerprint`` binds to a digest the caller knows, ``--bind-described`` to the one the
SBOM names (a digest read from the evidence itself is the caller's choice to trust, never a
default; docs/predicates.md, ``sbom``).
"""

from __future__ import annotations

import os

from affidavit.api.record import CheckedClaim, Claim, Recorded, attest, check_claim

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from affidavit.ledger.base import Ledger

__all__ = ["attest_sbom"]


def _notes(predicate: Mapping[str, Any], fingerprint: str | None) -> list[str]:
    summary = predicate["summary"]
    kind = {"cyclonedx": "CycloneDX", "spdx": "SPDX"}[predicate["format"]]
    notes = [f"{kind} {predicate['spec_version']} {predicate['encoding']}: "
             f"{summary['components']:,} components, {summary['without_license']:,} without a "
             f"licence, {predicate['licenses_total']:,} distinct licences"]
    subject = predicate["describes"]
    digest = subject["sha256"] if subject else None
    if digest and fingerprint == digest:
        return notes
    if digest and fingerprint is None:
        notes.append(f"it describes {subject['name'] or subject['ref'] or 'an artifact'} "
                     f"sha256:{digest}; not bound to it: pass --fingerprint {digest} to "
                     "attest that artifact")
    elif digest and fingerprint != digest:
        notes.append(f"it describes sha256:{digest}, not the --fingerprint given")
    return notes


def attest_sbom(
    ledger: Ledger,
    claim: Claim | CheckedClaim,
    *,
    sbom_file: str,
    deny_license: Sequence[str] = (),
    require_fields: Sequence[str] = (),
    max_components_without_license: int | None = None,
    bind_described: bool = False,
    attach: bool = True,
) -> Recorded:
    """Record a CycloneDX or SPDX SBOM (format and version found from its content): its
    components and licences, and the verdict against the policy (``deny_license`` SPDX
    identifiers or expressions, ``require_fields`` of every component, at most
    ``max_components_without_license`` without a licence; none given: compliant).
    ``bind_described`` binds the attestation to the sha256 digest the SBOM says it describes
    (an :class:`InputError` when it names none)."""
    from affidavit.collect import sbom
    from affidavit.compliance.sbom import denied_keys, sbom_policy
    from affidavit.errors import InputError, UsageError
    from affidavit.models.predicates import SBOM
    from affidavit.paths import path_text

    policy = sbom_policy(deny_license, require_fields, max_components_without_license)
    claim = check_claim(claim)
    if not sbom_file:
        raise UsageError("--sbom-file: empty value")
    path = path_text(sbom_file)
    predicate = sbom.parse_file(path, denied=denied_keys(policy))
    predicate["policy"] = policy
    if bind_described:
        if claim.fingerprint is not None or claim.artifact is not None:
            raise UsageError("--bind-described binds the SBOM to the artifact it describes: "
                             "give it without --fingerprint and without an artifact in --name")
        subject = predicate["describes"]
        if not subject or not subject["sha256"]:
            raise InputError(f"{path}: --bind-described: the SBOM names no sha256 digest of "
                             "what it describes", remedy="give --fingerprint instead")
        claim.fingerprint = subject["sha256"]
    recorded = attest(ledger, claim, type="sbom", predicate=predicate, predicate_type=SBOM,
                      raw_files=[(os.path.basename(path), path)] if attach else None)
    recorded.files_read = [path]
    recorded.notes = _notes(predicate, claim.fingerprint)
    return recorded
