"""``snapshot docker``: the images a Docker Engine's running containers run.

A snapshot must name an image by the digest the pipeline attested, or "running" and "built"
never meet. An image pulled from a registry is known there by its manifest digest, the one
``docker push`` printed and an OCI attestation records: the Engine keeps it in the image's
``RepoDigests``, one per repository, so the digest of the repository the container was started
from is the fingerprint. An image built on this host was never pushed and has no such digest;
its image ID (the SHA-256 of its config) is then all there is, and the artifact says so
(``digest_source: id``), since it will match only an attestation of that ID.

Containers running the same image under the same reference are one artifact with a count:
replicas are scaling, not another artifact. A container that exits between the list and its
inspection no longer runs and is left out; an Engine that cannot be reached, or answers an
error, fails the snapshot instead of shrinking it.
"""

from __future__ import annotations

import os
import re

from affidavit.collect.docker_engine import (
    DEFAULT_HOST,
    connect,
    engine_failure,
    repo_digests,
    repository_of,
)
from affidavit.errors import ProviderError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["DEFAULT_HOST", "running"]

_DIGEST = re.compile(r"^sha256:([0-9a-fA-F]{64})$")


def running(base_url: str | None = None) -> list[dict[str, Any]]:
    """One artifact per image the Engine at ``base_url`` (else ``DOCKER_HOST``, else the local
    socket) runs in a container, with the number of containers running it."""
    where = base_url or os.environ.get("DOCKER_HOST") or DEFAULT_HOST
    client = connect(where)
    try:
        return _artifacts(client, where)
    finally:
        client.close()


# -- the artifacts ---------------------------------------------------------------------------


def _artifacts(client: Any, where: str) -> list[dict[str, Any]]:
    """The running containers grouped by (image reference, fingerprint)."""
    from docker.errors import DockerException  # type: ignore[import-untyped]
    from requests import RequestException

    found: dict[tuple[str, str], dict[str, Any]] = {}
    images: dict[str, dict[str, Any] | None] = {}
    try:
        containers = client.containers.list(ignore_removed=True)
        for container in containers:
            reference, image_id = _image_of(container.attrs, where)
            if image_id not in images:
                images[image_id] = _inspect_image(client, image_id)
            fingerprint, source = _fingerprint(reference, image_id, images[image_id])
            artifact = found.setdefault((reference, fingerprint), {
                "name": reference, "fingerprint": fingerprint, "instances": 0,
                "details": {"digest_source": source}})
            artifact["instances"] += 1
    except (DockerException, RequestException) as exc:
        raise engine_failure(where, "the container list", exc) from None
    return list(found.values())


def _image_of(attrs: Any, where: str) -> tuple[str, str]:
    """The reference a container was started from (``Config.Image``, as the user gave it, even
    when the tag has since moved) and the ID of the image it runs."""
    image_id = attrs.get("Image") if isinstance(attrs, dict) else None
    if not isinstance(image_id, str) or not _DIGEST.match(image_id):
        name = attrs.get("Name") if isinstance(attrs, dict) else None
        raise ProviderError(f"Docker: the Engine at {where} answered container {name!r} "
                            "without a sha256 image ID")
    config = attrs.get("Config")
    reference = config.get("Image") if isinstance(config, dict) else None
    if not isinstance(reference, str) or not reference:
        reference = image_id
    return reference, image_id


def _inspect_image(client: Any, image_id: str) -> dict[str, Any] | None:
    """The image's inspection, or None when it was removed while a container still runs it
    (``docker rmi -f``): its ID is still what runs."""
    from docker.errors import NotFound

    try:
        attrs = client.images.get(image_id).attrs
    except NotFound:
        return None
    return attrs if isinstance(attrs, dict) else None


def _fingerprint(reference: str, image_id: str,
                 image: dict[str, Any] | None) -> tuple[str, str]:
    """The registry digest of the reference's repository when the Engine knows one (the one
    the reference pins, if it pins one), else the image ID; and which of the two it is."""
    repository, pinned = repository_of(reference)
    digests = sorted(repo_digests(image, repository))
    if pinned in digests:
        return pinned, "repo"
    if digests:
        return digests[0], "repo"
    match = _DIGEST.match(image_id)
    assert match is not None  # checked by _image_of
    return match.group(1).lower(), "id"
