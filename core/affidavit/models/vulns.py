"""Pydantic model of the ``vulns`` predicate (``attest vulns``: Trivy or Grype JSON), built by
collect/scans/vulns.py and documented in docs/predicates.md.

It is the one scan predicate of ``models/scans.py`` -- the same ``summary``, ``actionable``,
``sources``, ``findings``, ``files`` and ``policy`` fields, so every reader of a ``sarif`` or
``snyk`` record reads this one -- with what is truly this type's own in the named places:

- ``extra`` of a source: the scanner, the scanned artifact and, for Trivy, the result target's
  class and type (and the misconfigurations and secrets it also listed, counted, not judged);
- ``extra`` of a finding: the package, its installed version, the fixed-in versions, the
  scanner's fix state, whether it is ``fixable``, the package paths, and the scanner's own
  severity word;
- ``policy.ignore_unfixed`` (``--ignore-unfixed``) beside the scan policy's fields;
- ``files[].format``: ``trivy-json`` or ``grype-json``.

``summary.paths`` counts every entry the reports list (each ``Vulnerabilities[]`` item of
Trivy, each ``matches[]`` / ``ignoredMatches[]`` item of Grype); ``summary.total`` the unique
vulnerabilities per package of each source; ``summary.by_level`` is null.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from affidavit.models.predicates import VULNS
from affidavit.models.records import Model, Sha256
from affidavit.models.scans import Policy, ScanFinding, ScanPredicate, ScanSource

__all__ = [
    "VULNS",
    "VulnsPolicy",
    "VulnsFile",
    "VulnsSourceExtra",
    "VulnsFindingExtra",
    "VulnsSource",
    "VulnsFinding",
    "VulnsPredicate",
]


class VulnsPolicy(Policy):
    """The scan policy, and whether findings without a fix were left out of the verdict."""

    #: ``--ignore-unfixed``: a finding that is not ``fixable`` is counted but never actionable.
    ignore_unfixed: bool


class VulnsFile(Model):
    """A report as the user named it, the SHA-256 of its bytes, and which scanner wrote it."""

    path: str
    sha256: Sha256
    format: Literal["trivy-json", "grype-json"]


class VulnsSourceExtra(Model):
    """What the report says of what was scanned."""

    scanner: Literal["trivy", "grype"]
    #: Trivy ``ArtifactName``; Grype's source target (an image's ``userInput``, a path, a purl).
    artifact: str | None
    #: Trivy ``ArtifactType`` (``container_image``, ``filesystem``, ...); Grype ``source.type``.
    artifact_type: str | None
    #: Trivy ``Results[].Class`` (``os-pkgs``, ``lang-pkgs``, ...); null for Grype.
    target_class: str | None
    #: Trivy ``Results[].Type`` (``alpine``, ``jar``, ``npm``, ...); null for Grype.
    target_type: str | None
    #: The operating system the scanner found: Trivy ``Metadata.OS``, Grype ``distro``.
    os: str | None
    #: Trivy: failed misconfigurations and secrets the target also listed (recorded, never
    #: judged by this type); null for Grype, which reports neither.
    misconfigurations: int | None = Field(ge=0)
    secrets: int | None = Field(ge=0)


class VulnsFindingExtra(Model):
    """One vulnerability of one package, however many places the package was found in."""

    package: str
    #: The installed version (null when the report gives none).
    version: str | None
    #: The package's ecosystem: Trivy's target type, Grype's ``artifact.type``.
    package_type: str | None
    purl: str | None
    #: Trivy ``FixedVersion`` (split at commas), Grype ``fix.versions``; every entry's, in order.
    fixed_versions: list[str]
    #: The scanner's word: Trivy ``Status`` (``fixed``, ``affected``, ``will_not_fix``, ...),
    #: Grype ``fix.state`` (``fixed``, ``not-fixed``, ``wont-fix``, ``unknown``); null if none.
    fix_state: str | None
    #: A fixed-in version is named and the scanner does not say the fix is withheld.
    fixable: bool
    #: Where the package was found (Trivy ``PkgPath``, Grype ``artifact.locations[].path``),
    #: at most 10; ``location_count`` says how many there were.
    package_paths: list[str]
    #: How many report entries are this finding (one per place the package was found).
    entries: int = Field(ge=1)
    #: The scanner's severity word before mapping (``UNKNOWN``, ``Negligible``, ...).
    scanner_severity: str
    #: Trivy ``PrimaryURL``; Grype ``dataSource`` (else its first ``urls``).
    url: str | None
    #: Trivy ``VendorIDs``; Grype ``relatedVulnerabilities[].id`` (at most 10).
    related: list[str]


class VulnsSource(ScanSource[VulnsSourceExtra]):
    """A Trivy result target, or the one thing Grype scanned."""


class VulnsFinding(ScanFinding[VulnsFindingExtra]):
    """A unique vulnerability of a package in one source (entries sharing the vulnerability id,
    the package name and version -- and for Grype its type -- are one finding, at the highest
    severity of its entries, suppressed only when every entry is)."""


class VulnsPredicate(ScanPredicate[VulnsSource, VulnsFinding]):
    """Predicate of ``attest vulns`` (:data:`VULNS`)."""

    policy: VulnsPolicy
    #: The scanners' own formats, not ``ScanFile``'s ``sarif``/``snyk-json``: pydantic validates
    #: this list, mypy sees an override of another item type (the shape is the same).
    files: list[VulnsFile]  # type: ignore[assignment]
