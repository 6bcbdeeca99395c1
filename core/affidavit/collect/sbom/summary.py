"""What every SBOM reader reports, one component at a time: counts, licences, denials.

A reader (CycloneDX JSON or XML, SPDX JSON or tag-value) hands each component it finds to
:meth:`Tally.add` with the few facts the predicate keeps -- name, version, purl, whether a
supplier is named, its licences as written -- and forgets it. Memory is then one counter per
distinct licence (at most :data:`DISTINCT_MAX`; past that, further new licences are counted in
``licenses_untracked``), the sample of denied components and the few names kept per missing
field, never the components themselves.

A licence is ``(kind, text)``: ``kind`` is ``id`` (an SPDX identifier, CycloneDX
``license.id``), ``name`` (free text, CycloneDX ``license.name``) or ``expression`` (an SPDX
licence expression: CycloneDX ``expression``, SPDX ``licenseConcluded``/``licenseDeclared``).
A component is *denied* when the keys of one of its licences meet the policy's denied keys
(:func:`affidavit.models.licenses.license_keys`, both sides); a ``name`` is free text, so it
matches only when it *is* a denied identifier, ignoring case (``name: "MIT"`` is MIT, ``name:
"The MIT License"`` is no identifier and matches nothing).
"""

from __future__ import annotations

from affidavit.models.licenses import license_keys

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = ["Tally", "FIELDS", "LICENSES_CAP", "DENIED_CAP", "EXAMPLES_CAP", "DISTINCT_MAX",
           "digest_of_purl", "sha256_hex", "subject"]

#: The fields ``--require-field`` can ask every component for.
FIELDS = ("supplier", "version", "purl")
#: Licences listed in the predicate, the most used first.
LICENSES_CAP = 100
#: Denied components listed in the predicate (all are counted).
DENIED_CAP = 50
#: Names kept of the components lacking each field.
EXAMPLES_CAP = 10
#: Distinct licences counted one by one.
DISTINCT_MAX = 10_000

_HEX = frozenset("0123456789abcdef")


def sha256_hex(value: object) -> str | None:
    """``value`` as a lower-case SHA-256 hex digest (``sha256:`` prefix allowed), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower().removeprefix("sha256:")
    return text if len(text) == 64 and _HEX.issuperset(text) else None


def digest_of_purl(purl: object) -> str | None:
    """The SHA-256 a package URL pins as its version (``pkg:oci/app@sha256%3A<hex>``,
    ``pkg:docker/app@sha256:<hex>``), or None."""
    if not isinstance(purl, str) or "@" not in purl:
        return None
    version = purl.rsplit("@", 1)[1].split("?", 1)[0].split("#", 1)[0]
    return sha256_hex(version.replace("%3A", ":").replace("%3a", ":"))


def subject(name: str | None, version: str | None, kind: str | None, purl: str | None,
            ref: str | None, sha256s: list[object]) -> dict[str, Any]:
    """The predicate's ``describes``: what the SBOM says it is about (CycloneDX
    ``metadata.component``, SPDX's described package), with the SHA-256 that identifies it --
    its first SHA-256 hash or checksum, else the digest its purl pins -- and where that came
    from (``sha256_from``: ``hash``, ``purl`` or null)."""
    digest = next((found for found in map(sha256_hex, sha256s) if found), None)
    source = "hash" if digest else None
    if digest is None and (digest := digest_of_purl(purl)) is not None:
        source = "purl"
    return {"name": name, "version": version, "type": kind, "purl": purl, "ref": ref,
            "sha256": digest, "sha256_from": source}


class Tally:
    """The counts of one SBOM; ``denied`` maps the policy's denied keys (lower-cased) to the
    identifiers as it spells them."""

    def __init__(self, denied: Mapping[str, str] | None = None) -> None:
        self.denied = dict(denied or {})
        self.components = 0
        self.with_license = 0
        self.missing = dict.fromkeys(FIELDS, 0)
        self.examples: dict[str, list[str]] = {field: [] for field in FIELDS}
        self.licenses: dict[tuple[str, str], int] = {}
        self.untracked = 0
        self.denied_count = 0
        self.denied_by: dict[str, int] = {}
        self.denied_sample: list[dict[str, Any]] = []

    def add(self, name: str | None, version: str | None, purl: str | None, supplier: bool,
            licenses: list[tuple[str, str]]) -> None:
        """One component: its name, version and purl (None when absent or empty), whether it
        names a supplier, and its licences as ``(kind, text)``."""
        self.components += 1
        shown = name or purl or "(unnamed)"
        for field, present in (("supplier", supplier), ("version", version), ("purl", purl)):
            if not present:
                self.missing[field] += 1
                if len(self.examples[field]) < EXAMPLES_CAP:
                    self.examples[field].append(shown)
        if not licenses:
            return
        self.with_license += 1
        counted = self.licenses
        for licence in licenses:
            if licence in counted:
                counted[licence] += 1
            elif len(counted) < DISTINCT_MAX:
                counted[licence] = 1
            else:
                self.untracked += 1
        if self.denied:
            self._deny(shown, version, purl, licenses)

    def _deny(self, shown: str, version: str | None, purl: str | None,
              licenses: list[tuple[str, str]]) -> None:
        denied = self.denied
        matched: set[str] = set()
        for kind, text in licenses:
            if kind == "name":
                key = text.strip().lower()
                if key in denied:
                    matched.add(denied[key])
                continue
            matched.update(denied[key] for key in license_keys(text).keys if key in denied)
        if not matched:
            return
        self.denied_count += 1
        for key in matched:
            self.denied_by[key] = self.denied_by.get(key, 0) + 1
        if len(self.denied_sample) < DENIED_CAP:
            self.denied_sample.append({
                "name": shown, "version": version, "purl": purl,
                "licenses": [text for _, text in licenses], "matched": sorted(matched)})

    def result(self) -> dict[str, Any]:
        """The predicate's counting part (see ``docs/predicates.md``)."""
        ranked = sorted(self.licenses.items(), key=lambda item: (-item[1], item[0]))
        return {
            "summary": {"components": self.components, "with_license": self.with_license,
                        "without_license": self.components - self.with_license,
                        "missing": dict(self.missing), "denied": self.denied_count},
            "licenses": [{"license": text, "kind": kind, "components": n}
                         for (kind, text), n in ranked[:LICENSES_CAP]],
            "licenses_total": len(ranked),
            "licenses_untracked": self.untracked,
            "missing_examples": {field: list(names) for field, names in self.examples.items()},
            "denied": self.denied_sample,
            "denied_by_license": dict(sorted(self.denied_by.items())),
        }
