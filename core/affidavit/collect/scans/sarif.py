"""The SARIF collector: any producer's SARIF 1.0.0, 2.0.0 (and pre-releases) or 2.1.0 log in,
the ``sarif`` predicate out.

``parse_file`` reads one file in a single streaming pass (its SHA-256 computed on the way);
``summarize`` merges files into the predicate's counts and findings; the ``policy`` the verdict
is judged by is added beside them by the caller
(:func:`affidavit.compliance.judge.scan_policy`). How a result's level, severity, suppression
and baseline state are read is documented in :mod:`affidavit.collect.scans.sarif_rules`; how
memory stays bounded in :mod:`affidavit.collect.scans.sarif_log`.

Predicate: the one scan predicate (``https://affidavit.dev/predicate/sarif/v2``, built by
:mod:`affidavit.collect.scans.predicate`, model ``SarifPredicate`` in ``models/scans.py``):
each run is a source, each result a finding; ``summary.by_level`` counts SARIF levels,
``summary.paths`` and every ``extra`` are null.
"""

from __future__ import annotations

from affidavit.collect.scans import predicate
from affidavit.collect.scans.jsonstream import read_document
from affidavit.collect.scans.predicate import FINDINGS_CAP, check_cap
from affidavit.collect.scans.sarif_log import read_log

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping
    from typing import Any

__all__ = ["parse_file", "summarize", "FINDINGS_CAP"]


def parse_file(path: str | os.PathLike[str], *,
               findings_cap: int = FINDINGS_CAP) -> dict[str, Any]:
    """One SARIF file: its runs as sources and a sample of findings large enough for
    ``summarize`` with the same ``findings_cap``.

    Raises :class:`InputError` naming the file for unreadable, non-JSON, truncated or non-SARIF
    input (with the line and column when the JSON itself is at fault).
    """
    check_cap(findings_cap)
    log, digest = read_document(path, lambda stream: read_log(stream, cap=findings_cap))
    return {"path": str(path), "sha256": digest, "version": log["version"],
            **predicate.from_sarif_log(log, snyk=False)}


def summarize(files: Iterable[Mapping[str, Any]], *, new_only: bool = False,
              findings_cap: int = FINDINGS_CAP) -> dict[str, Any]:
    """The ``sarif`` predicate of parsed files (see the module docstring).

    ``findings_cap`` should not exceed the one the files were parsed with: each file keeps only
    what that cap can show.
    """
    return predicate.summarize(files, type="sarif", new_only=new_only,
                               findings_cap=findings_cap)
