"""The vulnerability-report collector: Trivy's or Grype's own JSON in, the ``vulns`` predicate
out. Their native reports carry what their SARIF drops: the package, its installed version, the
versions that fix it, whether a fix exists at all, and where the package was found.

``parse_file`` reads one file in a single streaming pass (its SHA-256 computed on the way), the
top-level object key by key: the first key only one scanner writes decides the format
(Trivy: ``SchemaVersion``, ``Results``, ``ArtifactName`` ...; Grype: ``matches``, ``source``,
``descriptor`` ...), so ``--format`` may be left out. When it is given and the file is the
other scanner's, or a file has both scanners' keys, or neither, the file is refused. Values are
decoded one result, one vulnerability, one match at a time (memory does not grow with the
file); how each scanner's fields are read is in :mod:`~affidavit.collect.scans.trivy` and
:mod:`~affidavit.collect.scans.grype`, how entries become unique vulnerabilities per package in
:mod:`~affidavit.collect.scans.vuln_entry`.

``summarize`` merges files into the predicate with the one scan builder
(:func:`affidavit.collect.scans.predicate.summarize`); with ``ignore_unfixed`` a finding that is
not ``fixable`` is counted but not actionable. The ``policy`` (the scan policy and
``ignore_unfixed``) is added by the caller.

Predicate: the one scan predicate (``https://affidavit.dev/predicate/vulns/v1``, model
``VulnsPredicate`` in ``models/vulns.py``): each Trivy result target, or the one thing Grype
scanned, is a source; each unique vulnerability of a package a finding (``summary.total``),
each report entry a path (``summary.paths``); ``summary.by_level`` is null.
"""

from __future__ import annotations

from affidavit.collect.scans import grype, predicate, trivy
from affidavit.collect.scans.jsonstream import read_document
from affidavit.collect.scans.predicate import FINDINGS_CAP, check_cap
from affidavit.errors import InputError, UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping
    from typing import Any

    from affidavit.collect.scans.jsonstream import JsonStream

__all__ = ["parse_file", "summarize", "detect", "FORMATS", "FINDINGS_CAP"]

FORMATS = ("trivy", "grype")
_NAMES = {"trivy": "Trivy", "grype": "Grype"}


def detect(key: str) -> str | None:
    """Which scanner writes top-level ``key`` (``trivy``, ``grype``), or None for neither."""
    if key in trivy.KEYS:
        return "trivy"
    if key in grype.KEYS:
        return "grype"
    return None


def _read(stream: JsonStream, asked: str | None, cap: int) -> dict[str, Any]:
    first = stream.peek()
    if not first:
        raise InputError(f"{stream.shown}: empty file, not Trivy or Grype JSON")
    if first == "[":
        raise stream.error("not Trivy or Grype JSON: the document is an array (Trivy before "
                           "0.20 wrote one; write schema 2 with a newer Trivy)")
    if first != "{":
        raise stream.refuse("Trivy or Grype JSON (an object)")
    reader: trivy.TrivyReport | grype.GrypeReport | None = None
    decided_by = ""
    for key in stream.iter_object():
        kind = detect(key)
        if kind is None:
            stream.skip()
            continue
        if reader is None:
            if asked is not None and asked != kind:
                raise InputError(f"{stream.shown}: --format {asked}, but this is "
                                 f"{_NAMES[kind]} JSON (it has {_NAMES[kind]}'s key {key!r})",
                                 remedy=f"use --format {kind}, or leave --format out")
            reader = (trivy.TrivyReport if kind == "trivy" else grype.GrypeReport)(stream, cap)
            decided_by = key
        elif reader.kind != kind:
            first_kind = _NAMES[reader.kind]
            raise stream.error(f"both {first_kind}'s key {decided_by!r} and "
                               f"{_NAMES[kind]}'s key {key!r}: not one scanner's report")
        reader.read(key)
    stream.finish()
    if reader is None:
        raise InputError(f"{stream.shown}: not Trivy or Grype JSON: no SchemaVersion or Results "
                         '(trivy --format json) and no "matches" (grype -o json)')
    return reader.finish()


def parse_file(path: str | os.PathLike[str], *, format: str | None = None,
               findings_cap: int = FINDINGS_CAP) -> dict[str, Any]:
    """One Trivy or Grype JSON file (``format`` ``trivy``, ``grype``, or None to detect it):
    its sources and a sample of findings large enough for ``summarize`` with the same cap.

    Raises :class:`InputError` naming the file for unreadable, non-JSON, truncated or
    malformed input, or a report of the other scanner than ``format`` names.
    """
    if format is not None and format not in FORMATS:
        raise UsageError(f"--format: {format!r} is not one of {', '.join(FORMATS)}")
    check_cap(findings_cap)
    parsed, digest = read_document(path, lambda stream: _read(stream, format, findings_cap))
    return {"path": str(path), "sha256": digest, **parsed}


def summarize(files: Iterable[Mapping[str, Any]], *, ignore_unfixed: bool = False,
              findings_cap: int = FINDINGS_CAP) -> dict[str, Any]:
    """The ``vulns`` predicate of parsed files (see the module docstring), without its
    ``policy``; ``findings_cap`` should not exceed the one the files were parsed with."""
    return predicate.summarize(files, type="vulns", ignore_unfixed=ignore_unfixed,
                               findings_cap=findings_cap)
