"""Every statement and predicate type URI affidavit writes, in one place (docs/predicates.md).

In-toto's own predicate types are used where one fits; the rest are the project's URIs.
"""

from __future__ import annotations

__all__ = [
    "STATEMENT_TYPE",
    "GENERIC",
    "ARTIFACT",
    "PREDICATE_TYPES",
]

#: in-toto Statement v1.
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"

#: A generic yes/no claim (`attest generic`): predicate ``{"compliant": bool}``.
GENERIC = "https://affidavit.dev/predicate/generic/v1"
#: An artifact reported to a trail (`attest artifact`): predicate ``{"artifact_type", "filename"}``.
ARTIFACT = "https://affidavit.dev/predicate/artifact/v1"

#: Attestation type name -> predicate type URI.
PREDICATE_TYPES: dict[str, str] = {
    "generic": GENERIC,
    "artifact": ARTIFACT,
}
