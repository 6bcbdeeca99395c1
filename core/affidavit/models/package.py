"""The JSON members of an evidence package, as models: ``affidavit schema package-manifest``
publishes the manifest's, and ``verify package`` checks every JSON member against its model
before reading a field, so a wrong type anywhere is a one-line refusal naming the member and
the field rather than a ``KeyError`` or ``TypeError`` deep in the checks.

The models accept exactly what the builder writes (``evidence.layout``): no extra field, no
coercion (``"5"`` or ``5.0`` is not a size, ``true`` is not an index).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PackageManifest", "InclusionProofDoc", "MapProofsDoc"]

Index = Annotated[int, Field(ge=0)]


class _Doc(BaseModel):
    """Frozen, unknown keys refused, no type coercion: a package member has one spelling."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class ManifestLedger(_Doc):
    origin: str
    verifier_key: str


class ManifestCheckpoint(_Doc):
    size: Index
    root: str
    map: str


class ManifestScope(_Doc):
    flow: str | None
    trail: str | None
    fingerprint: str | None


class ManifestTrail(_Doc):
    flow: str
    trail: str
    status: str


class ManifestEvidence(_Doc):
    path: str
    sha256: str
    entry: Index


class PackageManifest(_Doc):
    """``manifest.json`` of an ``affidavit-evidence-package/v2`` (docs/evidence-package.md)."""

    format: Literal["affidavit-evidence-package/v2"]
    ledger: ManifestLedger
    checkpoint: ManifestCheckpoint
    scope: ManifestScope
    keys: list[str]
    trails: list[ManifestTrail]
    entries: list[Index]
    evidence: list[ManifestEvidence]


class InclusionProofDoc(_Doc):
    """``proofs/<i>.json``: an RFC 9162 inclusion proof, hashes in standard base64."""

    index: Index
    tree_size: Index
    hashes: Annotated[list[str], Field(max_length=64)]


class MapItem(_Doc):
    key: str
    count: Index
    last: Index | None
    siblings: Annotated[list[str], Field(max_length=256)]


class MapProofsDoc(_Doc):
    """``proofs/map.json``: the key map proofs of the scope's keys (DESIGN §3.1)."""

    tree_size: Index
    keys: list[MapItem]
