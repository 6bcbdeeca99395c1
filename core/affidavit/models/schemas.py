"""Every record shape ``affidavit schema NAME`` publishes, predicates included.

Kept apart from ``records`` so that the predicate models (which build on ``records``) are not
imported back by it: the models form a tree, not a cycle.
"""

from __future__ import annotations

from typing import Any

from affidavit.models.coverage import CoveragePredicate
from affidavit.models.jira import JiraPredicate
from affidavit.models.junit import JUnitPredicate
from affidavit.models.package import PackageManifest
from affidavit.models.pullrequests import PullRequestPredicate
from affidavit.models.records import SCHEMAS
from affidavit.models.sbom import SbomPredicate
from affidavit.models.scans import SarifPredicate, SnykPredicate
from affidavit.models.sonar import SonarPredicate
from affidavit.models.vulns import VulnsPredicate

__all__ = ["SCHEMA_NAMES", "schema_model"]

_PREDICATES: dict[str, Any] = {
    "junit": JUnitPredicate, "sarif": SarifPredicate, "snyk": SnykPredicate,
    "pull_request": PullRequestPredicate, "sonar": SonarPredicate, "jira": JiraPredicate,
    "vulns": VulnsPredicate, "coverage": CoveragePredicate, "sbom": SbomPredicate}

#: Shapes of files affidavit writes that are not records (an evidence package's manifest).
_FILES: dict[str, Any] = {"package-manifest": PackageManifest}

#: Every name ``affidavit schema`` accepts.
SCHEMA_NAMES = (*SCHEMAS, *_PREDICATES, *_FILES)


def schema_model(name: str) -> Any:
    """The model (or type adapter) behind ``name``; None for a name not in SCHEMA_NAMES."""
    return SCHEMAS.get(name) or _PREDICATES.get(name) or _FILES.get(name)
