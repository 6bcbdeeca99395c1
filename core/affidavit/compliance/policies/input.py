"""What a policy is told about one running artifact, and the two documents made from it.

:class:`ArtifactFacts` is what the caller gathers from the ledger for each artifact of a
snapshot: its name and fingerprint as the snapshot recorded them and, when some trail reported
that fingerprint, its provenance (flow, trail and the trail's verdict, and the attestations that
count for the artifact, each already judged). Both policy languages see exactly these facts, so
the same policy written in either reaches the same decisions.

The YAML language reads :func:`expression_context` — Kosli's expression contexts::

    {"flow": {"name": str, "tags": {str: str}} | null,
     "artifact": {"name": str, "fingerprint": str | null}}

A Rego policy is given :func:`rego_input` as ``input``, one artifact at a time. It is the
document ``kosli evaluate trail`` gives a policy (``input.trail``, with ``attestations_statuses``
already a map keyed by attestation name, as Kosli's CLI reshapes it), plus the two contexts of
Kosli's environment policies, so a policy written for either keeps its field names::

    {"artifact": {"name": str, "fingerprint": str | null},
     "flow": {"name": str, "tags": {str: str}} | null,          # null: no provenance
     "trail": {                                                  # null: no provenance
       "name": str,
       "compliance_status": {
         "status": "COMPLIANT" | "NON_COMPLIANT" | "INCOMPLETE",
         "is_compliant": bool,
         "attestations_statuses": {
           NAME: {"attestation_name": NAME, "attestation_type": TYPE,
                  "status": "COMPLETE", "is_compliant": bool}}}} | null}

Differences from Kosli's document, each because affidavit does not have the fact rather than by
choice: only attestations that were reported are listed (Kosli also lists a template's missing
ones, with ``status: "MISSING"``); the trail's own and the artifact's attestations are one map
(Kosli keeps the artifact's under ``compliance_status.artifacts_statuses``); there is no
``data.params``. ``status`` uses affidavit's verdicts (``NON_COMPLIANT``, ``INCOMPLETE``).

Attestation names are unique in both documents: when the facts list a name twice the later
entry wins, as the latest report of a name wins everywhere else in affidavit.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from affidavit.compliance.verdict import COMPLIANT

__all__ = ["FlowFacts", "TrailFacts", "AttestationFacts", "ProvenanceFacts", "ArtifactFacts",
           "latest_attestations", "expression_context", "rego_input"]


class FlowFacts(TypedDict):
    name: str
    tags: dict[str, str]


class TrailFacts(TypedDict):
    name: str
    compliance: Literal["COMPLIANT", "NON_COMPLIANT", "INCOMPLETE"]


class AttestationFacts(TypedDict):
    name: str
    #: As a template spells it: ``junit``, ``pull_request``, ``custom:NAME``...
    type: str
    compliant: bool


class ProvenanceFacts(TypedDict):
    flow: FlowFacts
    trail: TrailFacts
    attestations: list[AttestationFacts]


class ArtifactFacts(TypedDict):
    name: str
    #: None when the snapshot's source could not tell yet (a container still pulling).
    fingerprint: str | None
    #: None when no trail reported this fingerprint.
    provenance: ProvenanceFacts | None


def latest_attestations(provenance: ProvenanceFacts) -> list[AttestationFacts]:
    """One attestation per name, the later entry winning, in name order."""
    latest = {attestation["name"]: attestation for attestation in provenance["attestations"]}
    return [latest[name] for name in sorted(latest)]


def expression_context(facts: ArtifactFacts) -> dict[str, object]:
    provenance = facts["provenance"]
    flow = None if provenance is None else {"name": provenance["flow"]["name"],
                                            "tags": dict(provenance["flow"]["tags"])}
    return {"flow": flow,
            "artifact": {"name": facts["name"], "fingerprint": facts["fingerprint"]}}


def rego_input(facts: ArtifactFacts) -> dict[str, object]:
    document = expression_context(facts)
    provenance = facts["provenance"]
    document["trail"] = None if provenance is None else _trail(provenance)
    return document


def _trail(provenance: ProvenanceFacts) -> dict[str, object]:
    statuses = {
        attestation["name"]: {"attestation_name": attestation["name"],
                              "attestation_type": attestation["type"],
                              "status": "COMPLETE",
                              "is_compliant": attestation["compliant"]}
        for attestation in latest_attestations(provenance)}
    status = provenance["trail"]["compliance"]
    return {"name": provenance["trail"]["name"],
            "compliance_status": {"status": status, "is_compliant": status == COMPLIANT,
                                  "attestations_statuses": statuses}}
