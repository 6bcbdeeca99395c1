"""``--artifact-type docker``: a local image's repo digest, from the Docker Engine.

The Engine keeps, for each repository an image was pulled from or pushed to, the manifest
digest the registry holds (``RepoDigests`` of ``GET /images/<name>/json``, ``repo@sha256:…``):
the digest ``docker images --digests`` shows and ``docker push`` printed, and the one an
``oci`` fingerprint of the same reference reads from the registry. The digest of the named
repository is the fingerprint (the one the name pins, when it pins one); an image named by its
ID has one when all its repo digests agree. An image that was built here and never pushed has
no repo digest, and that is an error: its image ID would match no registry's digest.

The Engine is reached as ``snapshot docker`` reaches it (``DOCKER_HOST``, else the local
socket; ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``), through
:mod:`affidavit.collect.docker_engine`.
"""

from __future__ import annotations

import os

from affidavit.collect.docker_engine import (
    DEFAULT_HOST,
    connect,
    engine_failure,
    repo_digests,
    repository_of,
)
from affidavit.collect.fingerprint.oci import ImageDigest
from affidavit.errors import InputError, NotFoundError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["engine_digest"]


def engine_digest(name: str, base_url: str | None = None) -> ImageDigest:
    """The repo digest of the image ``name`` (a reference or an image ID) in the Engine at
    ``base_url`` (else ``DOCKER_HOST``, else the local socket)."""
    if not name or name.strip() != name:
        raise UsageError(f"{name!r} is not an image name (it is empty or has spaces)")
    try:
        import docker  # type: ignore[import-untyped]  # noqa: F401 - the optional extra
    except ImportError:
        raise UsageError("--artifact-type docker needs the Docker SDK",
                         remedy="pip install 'affidavit[docker]'") from None
    where = base_url or os.environ.get("DOCKER_HOST") or DEFAULT_HOST
    client = connect(where)
    try:
        image = _inspect(client, where, name)
    finally:
        client.close()
    return _choose(name, image)


def _inspect(client: Any, where: str, name: str) -> dict[str, Any]:
    from docker.errors import DockerException, NotFound  # type: ignore[import-untyped]
    from requests import RequestException

    try:
        image = client.api.inspect_image(name)
    except NotFound:
        raise NotFoundError(f"Docker: no image {name!r} in the Engine at {where}",
                            remedy="build or pull it first, or name it as docker images "
                                   "lists it") from None
    except (DockerException, RequestException) as exc:
        raise engine_failure(where, f"GET /images/{name}/json", exc) from None
    if not isinstance(image, dict):
        raise InputError(f"Docker: the Engine at {where} answered image {name!r} with "
                         "something that is not an object")
    return image


def _choose(name: str, image: dict[str, Any]) -> ImageDigest:
    """The repo digest ``name`` means, as an :class:`ImageDigest` naming the entry it came
    from (``repo@sha256:…``)."""
    repository, pinned = repository_of(name)
    if _is_id(name, image):
        found = sorted(set(repo_digests(image, None)))
    else:
        found = sorted(set(repo_digests(image, repository)))
        if pinned is not None:
            found = [pinned] if pinned in found else []
    if len(found) == 1:
        entry = _entry(image, found[0])
        return ImageDigest(found[0], entry)
    every = sorted(e for e in image.get("RepoDigests") or [] if isinstance(e, str))
    if not found and not every:
        raise UsageError(f"Docker: image {name!r} has no repo digest: it was never pushed to "
                         "or pulled from a registry",
                         remedy="push it first (the digest is the registry's), or use "
                                "--artifact-type oci once it is pushed")
    if not found:
        raise UsageError(f"Docker: image {name!r} has no repo digest for {repository} (it has "
                         f"{', '.join(every)})",
                         remedy="push it under this name, or name it by a repository it "
                                "was pushed to")
    raise UsageError(f"Docker: image {name!r} has repo digests that differ "
                     f"({', '.join(every)})",
                     remedy="name the image by one repository, or by repo@sha256:DIGEST")


def _is_id(name: str, image: dict[str, Any]) -> bool:
    """Whether ``name`` is the image's ID (``sha256:…``, or a prefix of its hex)."""
    image_id = str(image.get("Id") or "")
    bare = image_id.partition(":")[2] or image_id
    given = name.partition("sha256:")[2] if name.startswith("sha256:") else name
    return len(given) >= 12 and bare.startswith(given.lower()) and all(
        c in "0123456789abcdef" for c in given.lower())


def _entry(image: dict[str, Any], digest: str) -> str:
    """The ``RepoDigests`` entry that gave ``digest`` (the first, as the Engine lists them)."""
    for entry in image.get("RepoDigests") or []:
        if isinstance(entry, str) and entry.lower().endswith(f"@sha256:{digest}"):
            return entry
    return f"sha256:{digest}"
