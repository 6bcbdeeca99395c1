"""The Snyk collector: Snyk JSON (open source, container, IaC; one project or an array) or
Snyk's SARIF (``snyk code test``, ``--sarif`` of the other products) in, the ``snyk``
predicate out.

A file is SARIF when its object's first key is a SARIF log's (``$schema``, ``version``,
``runs``); it is then read by the SARIF collector with Snyk's rule
``properties.problem.severity`` honoured as the severity (falling back to
``security-severity`` and the level), each run becoming one project. Snyk's SARIF already has
one result per issue (paths are not listed), so a run's ``paths`` and ``total`` are both its
results. Snyk JSON is read as :mod:`affidavit.collect.scans.snyk_json` documents.

The verdict (same ``--fail-on`` / ``--max-findings`` as SARIF, judged by
:mod:`affidavit.compliance.judge`) is judged on unique issues: ``actionable`` counts the issues
that are not suppressed.

Predicate: the one scan predicate (``https://affidavit.dev/predicate/snyk/v2``, built by
:mod:`affidavit.collect.scans.predicate`, model ``SnykPredicate`` in ``models/scans.py``): each
project (or SARIF run) is a source, each unique issue a finding (``summary.total`` counts them,
``summary.paths`` the vulnerable paths); ``summary.by_level`` is null; a source's ``extra`` is
``{type, package_manager, target_file, path}``, a finding's ``{package, version, paths}``.
"""

from __future__ import annotations

from affidavit.collect.scans import predicate
from affidavit.collect.scans.jsonstream import JsonStream, read_document
from affidavit.collect.scans.predicate import FINDINGS_CAP, check_cap
from affidavit.collect.scans.sarif_log import read_log
from affidavit.collect.scans.snyk_json import SnykJson
from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping
    from typing import Any

__all__ = ["parse_file", "summarize"]

SARIF_KEYS = frozenset({"$schema", "version", "runs", "inlineExternalProperties"})


def _from_sarif(stream: JsonStream, cap: int) -> dict[str, Any]:
    """A SARIF log read in Snyk mode (rule ``problem.severity`` honoured) as Snyk sources."""
    return predicate.from_sarif_log(read_log(stream, cap=cap, snyk=True), snyk=True)


def _read(stream: JsonStream, cap: int) -> dict[str, Any]:
    first = stream.peek()
    if first == "{" and stream.peek_key() in SARIF_KEYS:
        return _from_sarif(stream, cap)
    reader = SnykJson(stream.shown, cap)
    if first == "{":
        obj = stream.value()
        stream.finish()
        if "runs" in obj and "version" in obj and "vulnerabilities" not in obj:
            return {"format": "sarif-late"}  # SARIF with its keys in an unusual order
        reader.add(obj)
    elif first == "[":
        for index, (_, item) in enumerate(stream.iter_values()):
            reader.add(item, f"item {index}", f"$[{index}]")
        stream.finish()
    elif not first:
        raise InputError(f"{stream.shown}: empty file, not Snyk JSON or SARIF")
    else:
        raise stream.refuse("Snyk JSON or SARIF")
    return {"format": "snyk-json", "sources": reader.sources, "findings": reader.findings()}


def parse_file(path: str | os.PathLike[str], *,
               findings_cap: int = FINDINGS_CAP) -> dict[str, Any]:
    """One Snyk JSON or Snyk SARIF file: its projects and a sample of its issues.

    Raises :class:`InputError` naming the file when it is not JSON, truncated, Snyk's error
    report, or neither Snyk JSON nor SARIF.
    """
    check_cap(findings_cap)
    parsed, digest = read_document(path, lambda stream: _read(stream, findings_cap))
    if parsed["format"] == "sarif-late":
        parsed, digest = read_document(
            path, lambda stream: _from_sarif(stream, findings_cap))
    return {"path": str(path), "sha256": digest, **parsed}


def summarize(files: Iterable[Mapping[str, Any]], *, new_only: bool = False,
              findings_cap: int = FINDINGS_CAP) -> dict[str, Any]:
    """The ``snyk`` predicate of parsed files (see the module docstring); ``findings_cap``
    should not exceed the one the files were parsed with."""
    return predicate.summarize(files, type="snyk", new_only=new_only,
                               findings_cap=findings_cap)
