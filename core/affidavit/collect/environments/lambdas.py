"""``snapshot lambda``: the functions an AWS account runs in one region.

A function's fingerprint is what Lambda runs: for a Zip package the SHA-256 of the deployment
package (Lambda's ``CodeSha256``, which is base64, turned into the hex every other fingerprint
is), so the zip a build attested matches byte for byte; for an Image package the digest of
the image Lambda resolved the function's image reference to (``ResolvedImageUri``), since a
tag may since point elsewhere. ``ListFunctions`` describes each function's ``$LATEST``; a
published version reached through an alias is not listed, so the version read is kept as a
detail.
"""

from __future__ import annotations

from affidavit.collect.environments.aws import translated
from affidavit.errors import ProviderError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

__all__ = ["PAGE_SIZE", "running"]

PAGE_SIZE = 50
"""Functions per ``ListFunctions`` page: the most Lambda returns."""


def running(client: Any, *, functions: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Every function of the account and region, or only ``functions`` (names or ARNs; one
    that is not there is :class:`NotFoundError`), as running artifacts."""
    if isinstance(functions, str):
        raise TypeError("functions: expected a sequence of names, not one string")
    names = list(dict.fromkeys(functions))
    if any(not name.strip() for name in names):
        raise UsageError("snapshot lambda: --function-names must not be empty")
    if names:
        return [_named(client, name) for name in names]
    out = []
    with translated("Lambda functions"):
        for config in _all_functions(client):
            code = _code_of_listed(client, config)
            if code is not None:
                out.append(_artifact(config, code))
    return out


def _named(client: Any, name: str) -> dict[str, Any]:
    with translated(f"Lambda function {name!r}"):
        answer = client.get_function(FunctionName=name)
    return _artifact(answer.get("Configuration") or {}, answer.get("Code") or {})


def _all_functions(client: Any) -> Iterable[dict[str, Any]]:
    paginator = client.get_paginator("list_functions")
    for page in paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE}):
        yield from page.get("Functions") or ()


def _code_of_listed(client: Any, config: dict[str, Any]) -> dict[str, Any] | None:
    """Where a listed function's code is: needed only for an Image function, whose resolved
    digest only ``GetFunction`` gives; None for one deleted since it was listed, which no
    longer runs."""
    if config.get("PackageType") != "Image":
        return {}
    from botocore.exceptions import ClientError

    name = str(config.get("FunctionName") or "")
    with translated(f"Lambda function {name!r}"):
        try:
            answer = client.get_function(FunctionName=name)
        except ClientError as exc:
            if (exc.response.get("Error") or {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
    code: dict[str, Any] = answer.get("Code") or {}
    return code


def _artifact(config: dict[str, Any], code: dict[str, Any]) -> dict[str, Any]:
    """One function, from its configuration and (for an Image function) its code."""
    name = config.get("FunctionName")
    if not isinstance(name, str) or not name:
        raise ProviderError("Lambda: a function without a name in AWS's answer")
    where = f"Lambda function {name!r}"
    package_type = str(config.get("PackageType") or "Zip")
    if package_type == "Image":
        fingerprint = _image_digest(code.get("ResolvedImageUri"), where)
    else:
        fingerprint = _code_sha256(config.get("CodeSha256"), where)
    details: dict[str, Any] = {"package_type": package_type,
                               "version": config.get("Version") or "$LATEST"}
    if config.get("Runtime"):
        details["runtime"] = str(config["Runtime"])
    return {"name": name, "fingerprint": fingerprint, "details": details}


def _code_sha256(value: Any, where: str) -> str:
    """Lambda's base64 ``CodeSha256`` as hex."""
    import base64
    import binascii

    try:
        raw = base64.b64decode(str(value or ""), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ProviderError(f"{where}: CodeSha256 {value!r} is not a base64 SHA-256")
    return raw.hex()


def _image_digest(uri: Any, where: str) -> str | None:
    """The hex digest of ``repository@sha256:<hex>``; None while Lambda has not resolved
    the image yet (a function still being created)."""
    if not uri:
        return None
    _, at, digest = str(uri).rpartition("@sha256:")
    digest = digest.lower()
    if not at or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ProviderError(f"{where}: ResolvedImageUri {uri!r} names no sha256 digest")
    return digest
