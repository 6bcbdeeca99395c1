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
    "check_tags",
    "TAG_KEY_PATTERN",
    "TAG_VALUE_MAX",
    "check_sha256",
]

#: Flow, trail, artifact and attestation names: safe in URLs, file names and shell words.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$"
#: A flow tag's key: a name (what a policy's ``flow.tags.<key>`` can spell). Values are text of
#: at most TAG_VALUE_MAX characters, without control characters.
TAG_KEY_PATTERN = NAME_PATTERN
TAG_VALUE_MAX = 256
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


def check_tags(tags: dict[str, str | None], what: str = "--tag") -> dict[str, str | None]:
    """``tags`` (a value None removes the tag) when every key is a name and every value short
    text without control characters, else a one-line ``UsageError`` naming the first bad one."""
    from affidavit.errors import UsageError

    for key, value in tags.items():
        if not isinstance(key, str) or not _name.match(key):
            raise UsageError(f"{what} {key!r}: a tag key is a name (letters, digits, ._~-, "
                             "starting with a letter or digit)")
        if value is not None and (not isinstance(value, str) or len(value) > TAG_VALUE_MAX
                                  or any(ord(ch) < 32 or ord(ch) == 127 for ch in value)):
            raise UsageError(f"{what} {key}: a tag value is text of at most {TAG_VALUE_MAX} "
                             "characters, without control characters")
    return tags
