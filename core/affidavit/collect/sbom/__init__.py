"""The SBOM collector: one CycloneDX (JSON or XML, 1.4-1.6) or SPDX (2.2/2.3, JSON or
tag-value) file in, the ``sbom`` predicate's facts out.

A pure collector, streaming: the format and version come from the content
(:mod:`~affidavit.collect.sbom.detect`); the document is validated -- CycloneDX against the
official schemas :mod:`~affidavit.collect.sbom.schemas` applies item by item, SPDX by
:mod:`~affidavit.collect.sbom.spdx`'s checks -- and each component is counted by
:class:`~affidavit.collect.sbom.summary.Tally` and forgotten, so memory is bounded by the
largest single component, not by the file. It does not decide whether the SBOM passes: that
is :mod:`affidavit.compliance.sbom`, from the counts recorded here (the denied licences
counted against the keys the policy names).
"""

from __future__ import annotations

from affidavit.collect.sbom.detect import parse_file

__all__ = ["parse_file"]
