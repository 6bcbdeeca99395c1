"""Constraints shared by the record builders and the pydantic models."""

from __future__ import annotations

import re

__all__ = [
    "NAME_PATTERN",
    "SHA256_PATTERN",
    "COMMIT_PATTERN",
    "ENTRY_KINDS",
    "ENVIRONMENT_TYPES",
    "check_name",
    "check_sha256",
]

#: Flow, trail, artifact and attestation names: safe in URLs, file names and shell words.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$"
#: A lower-case hex SHA-256 digest.
SHA256_PATTERN = r"^[0-9a-f]{64}$"
#: A git object id (abbreviated ids are not accepted in records: they are ambiguous over time).
COMMIT_PATTERN = r"^[0-9a-f]{40}([0-9a-f]{24})?$"

#: Where artifacts run; ``logical`` is the read-only union of physical environments.
ENVIRONMENT_TYPES = ("server", "k8s", "ecs", "lambda", "s3", "docker", "cloud-run", "logical")

ENTRY_KINDS = ("flow", "trail", "artifact", "attestation", "attestation_type", "environment",
               "snapshot", "allowance", "expectation", "policy", "policy_attachment",
               "webhook")

_name = re.compile(NAME_PATTERN)
_sha256 = re.compile(SHA256_PATTERN)


def check_name(value: str, what: str) -> str:
    """Return ``value`` when it is a valid name, else raise a one-line ``UsageError``."""
    if not _name.match(value):
        from affidavit.errors import UsageError

        raise UsageError(
            f"{what} {value!r} is not a valid name",
            remedy="use letters, digits, '.', '_', '~' or '-', starting with a letter or digit",
        )
    return value


def check_sha256(value: str, what: str) -> str:
    """Return ``value`` lower-cased when it is a hex SHA-256, else raise ``UsageError``."""
    lowered = value.lower()
    if not _sha256.match(lowered):
        from affidavit.errors import UsageError

        raise UsageError(f"{what} {value!r} is not a SHA-256 digest (64 hex characters)")
    return lowered
