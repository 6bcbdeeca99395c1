"""The predicate of an SBOM attestation (``attest sbom``), as ``affidavit schema sbom`` shows it.

:func:`affidavit.collect.sbom.parse_file` builds it as plain dicts (the write path does not
import pydantic); these models validate it wherever it is read back, and publish its schema.
What is read and counted is in :mod:`affidavit.collect.sbom`; the verdict in
:mod:`affidavit.compliance.sbom`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import NonNegativeInt, model_validator

from affidavit.models.predicates import SBOM
from affidavit.models.records import Model, Sha256

__all__ = ["SBOM", "SbomDocument", "SbomSubject", "SbomMissing", "SbomSummary", "SbomLicense",
           "SbomExamples", "SbomDenied", "SbomFile", "SbomPolicy", "SbomPredicate"]

Field3 = Literal["supplier", "version", "purl"]


class SbomDocument(Model):
    """The document: ``id`` (CycloneDX ``serialNumber``, SPDX ``documentNamespace``),
    ``name`` (SPDX), ``created`` (CycloneDX ``metadata.timestamp``, SPDX
    ``creationInfo.created``), ``tools`` (CycloneDX ``metadata.tools``, SPDX ``Tool:``
    creators; at most 20)."""

    id: str | None
    name: str | None
    created: str | None
    tools: list[str]


class SbomSubject(Model):
    """What the SBOM says it describes (CycloneDX ``metadata.component``, SPDX's described
    package): its SHA-256 from its first SHA-256 hash or checksum (``sha256_from: hash``) or
    the digest its purl pins (``purl``). Recorded; bound only with ``--bind-described`` or
    ``--fingerprint``."""

    name: str | None
    version: str | None
    type: str | None
    purl: str | None
    ref: str | None
    sha256: Sha256 | None
    sha256_from: Literal["hash", "purl"] | None


class SbomMissing(Model):
    """Components without each field ``--require-field`` can ask for."""

    supplier: NonNegativeInt
    version: NonNegativeInt
    purl: NonNegativeInt


class SbomSummary(Model):
    """The counts the verdict reads."""

    components: NonNegativeInt
    with_license: NonNegativeInt
    without_license: NonNegativeInt
    missing: SbomMissing
    denied: NonNegativeInt

    @model_validator(mode="after")
    def _adds_up(self) -> SbomSummary:
        if self.with_license + self.without_license != self.components:
            raise ValueError("with_license + without_license must be components")
        if self.denied > self.with_license:
            raise ValueError("denied cannot exceed with_license")
        return self


class SbomLicense(Model):
    """One licence as written and how many components carry it."""

    license: str
    kind: Literal["id", "name", "expression"]
    components: NonNegativeInt


class SbomExamples(Model):
    """The first names (at most 10) of the components lacking each field."""

    supplier: list[str]
    version: list[str]
    purl: list[str]


class SbomDenied(Model):
    """A component with a denied licence: its licences as written, the denied identifiers
    they include."""

    name: str
    version: str | None
    purl: str | None
    licenses: list[str]
    matched: list[str]


class SbomFile(Model):
    """The SBOM file read (attached as evidence by default)."""

    path: str
    sha256: Sha256


class SbomPolicy(Model):
    """What the verdict was judged by: ``deny_license`` as given, the identifiers it names
    (``deny_license_ids``, as the SPDX list spells them), ``require_fields``,
    ``max_components_without_license``."""

    deny_license: list[str]
    deny_license_ids: list[str]
    require_fields: list[Field3]
    max_components_without_license: NonNegativeInt | None


class SbomPredicate(Model):
    """The predicate of an ``sbom`` attestation."""

    format: Literal["cyclonedx", "spdx"]
    encoding: Literal["json", "xml", "tag-value"]
    spec_version: str
    validation: str
    document: SbomDocument
    describes: SbomSubject | None
    summary: SbomSummary
    licenses: list[SbomLicense]
    licenses_total: NonNegativeInt
    licenses_untracked: NonNegativeInt
    missing_examples: SbomExamples
    denied: list[SbomDenied]
    denied_by_license: dict[str, NonNegativeInt]
    file: SbomFile
    policy: SbomPolicy
