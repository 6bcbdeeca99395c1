"""Fingerprints of artifacts: a file's or a directory's SHA-256 as Kosli computes it, or a
container image's manifest digest, from its registry (``oci``) or the local Docker Engine
(``docker``). Every fingerprint is 64 lowercase hex digits, without ``sha256:``."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from affidavit.api.inputs import PathArg

__all__ = ["ARTIFACT_TYPES", "IMAGE_TYPES", "fingerprint", "describe"]

ARTIFACT_TYPES = ("file", "dir", "oci", "docker")
"""What ``--artifact-type`` may say."""
IMAGE_TYPES = ("oci", "docker")
"""The artifact types whose name is an image reference rather than a path."""


def fingerprint(path: PathArg, artifact_type: str, exclude: Sequence[str] = (), *,
                registry_username: str | None = None,
                registry_password: str | None = None) -> str:
    """The fingerprint of ``path`` as a ``file`` or a ``dir`` (``exclude``: globs, Kosli's
    rules, for a directory only), or of the image ``path`` names as ``oci`` or ``docker``."""
    if artifact_type in IMAGE_TYPES:
        return describe(path, artifact_type, exclude, registry_username=registry_username,
                        registry_password=registry_password)[0]
    from affidavit.collect.fingerprint import fingerprint as compute
    from affidavit.paths import path_text

    # spelled as pathlib would (``./a/`` -> ``a``) in its messages, without importing pathlib
    return compute(path_text(path), artifact_type, tuple(exclude))  # type: ignore[arg-type]


def describe(path: PathArg, artifact_type: str, exclude: Sequence[str] = (), *,
             registry_username: str | None = None,
             registry_password: str | None = None) -> tuple[str, dict[str, Any] | None]:
    """:func:`fingerprint`, and for an image what an artifact record keeps beside it
    (``{"reference", "media_type"?, "platforms"?}``; None for a file or a directory)."""
    if artifact_type not in IMAGE_TYPES:
        return fingerprint(path, artifact_type, exclude), None
    from affidavit.errors import UsageError

    if exclude:
        raise UsageError(f"exclude patterns apply only to a dir artifact, not to image {path}")
    if (registry_username is None) != (registry_password is None):
        raise UsageError("--registry-username and --registry-password go together")
    name = str(path)
    if artifact_type == "oci":
        from affidavit.collect.fingerprint.oci import registry_digest

        credentials = None
        if registry_username is not None and registry_password is not None:
            credentials = (registry_username, registry_password)
        found = registry_digest(name, credentials=credentials)
    else:
        from affidavit.collect.fingerprint.docker_image import engine_digest

        if registry_username is not None:
            raise UsageError("--registry-username and --registry-password are for "
                             "--artifact-type oci: the Engine's images are local")
        found = engine_digest(name)
    return found.fingerprint, found.details()
