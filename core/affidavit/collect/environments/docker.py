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

from affidavit.errors import ProviderError, UsageError
from affidavit.web import env_number

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

__all__ = ["DEFAULT_HOST", "running"]

DEFAULT_HOST = "unix:///var/run/docker.sock"
"""Where the Engine listens when neither the caller nor ``DOCKER_HOST`` says otherwise."""

_DIGEST = re.compile(r"^sha256:([0-9a-fA-F]{64})$")
_HUB_PREFIXES = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")


def running(base_url: str | None = None) -> list[dict[str, Any]]:
    """One artifact per image the Engine at ``base_url`` (else ``DOCKER_HOST``, else the local
    socket) runs in a container, with the number of containers running it."""
    where = base_url or os.environ.get("DOCKER_HOST") or DEFAULT_HOST
    client = _connect(where)
    try:
        return _artifacts(client, where)
    finally:
        client.close()


# -- the connection --------------------------------------------------------------------------


def _connect(where: str) -> Any:
    """A client of the Engine at ``where``, which has already answered ``/version`` (the SDK
    asks it for the API version to speak, so an Engine that is not there fails here). TLS
    settings come from ``DOCKER_TLS_VERIFY`` and ``DOCKER_CERT_PATH``, as for the docker CLI."""
    import docker  # type: ignore[import-untyped]
    from docker.errors import DockerException  # type: ignore[import-untyped]

    try:
        params = docker.utils.kwargs_from_env()
    except DockerException as exc:
        raise UsageError(f"Docker: DOCKER_TLS_VERIFY/DOCKER_CERT_PATH: {_words(exc)}") from None
    params["base_url"] = where
    try:
        docker.utils.parse_host(where, False, tls=bool(params.get("tls")))
    except (DockerException, ValueError):
        raise UsageError(f"Docker: {where!r} is not a Docker Engine address",
                         remedy="use unix:///path/to/docker.sock or tcp://HOST:PORT") from None
    timeout = env_number("AFFIDAVIT_HTTP_TIMEOUT", 30.0)
    try:
        return docker.DockerClient(timeout=timeout, **params)
    except DockerException as exc:
        raise _failure(where, "GET /version", exc) from None


def _failure(where: str, what: str, exc: BaseException) -> ProviderError:
    """The one-line error for ``exc``: the daemon's own message when it answered, else why
    the Engine could not be reached."""
    from docker.errors import APIError

    for cause in _chain(exc):
        if isinstance(cause, APIError):
            status = getattr(cause.response, "status_code", None)
            said = " ".join(str(cause.explanation or cause).split())[:300]
            return ProviderError(f"Docker: the Engine at {where} refused {what} (HTTP "
                                 f"{status}): {said}")
    return ProviderError(f"Docker: cannot reach the Docker Engine at {where} ({_reason(exc)})",
                         remedy="start Docker, or give its address in DOCKER_HOST")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: causes, and exceptions carried as arguments (urllib3 keeps
    the socket's ``OSError`` in its ``ProtocolError``'s arguments)."""
    todo, seen = [exc], 0
    while todo and seen < 20:
        current = todo.pop(0)
        seen += 1
        yield current
        todo.extend(a for a in current.args if isinstance(a, BaseException))
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _reason(exc: BaseException) -> str:
    for cause in _chain(exc):
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower()
    return _words(exc)


def _words(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


# -- the artifacts ---------------------------------------------------------------------------


def _artifacts(client: Any, where: str) -> list[dict[str, Any]]:
    """The running containers grouped by (image reference, fingerprint)."""
    from docker.errors import DockerException
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
        raise _failure(where, "the container list", exc) from None
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
    repository, pinned = _repository(reference)
    digests = sorted(_repo_digests(image, repository))
    if pinned in digests:
        return pinned, "repo"
    if digests:
        return digests[0], "repo"
    match = _DIGEST.match(image_id)
    assert match is not None  # checked by _image_of
    return match.group(1).lower(), "id"


def _repo_digests(image: dict[str, Any] | None, repository: str) -> Iterator[str]:
    """The hex digests ``RepoDigests`` (``repo@sha256:…``; null on some Engines when empty)
    gives for ``repository``."""
    for entry in (image or {}).get("RepoDigests") or []:
        if not isinstance(entry, str) or "@" not in entry:
            continue
        repo, _, digest = entry.partition("@")
        match = _DIGEST.match(digest)
        if match and _familiar(repo) == repository:
            yield match.group(1).lower()


def _repository(reference: str) -> tuple[str, str | None]:
    """The repository a reference names, as ``RepoDigests`` spells it, and the hex digest
    the reference pins, if any: ``docker.io/library/redis:7@sha256:…`` → ``redis``."""
    name, _, digest = reference.partition("@")
    match = _DIGEST.match(digest)
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        name = name[:colon]  # a tag, not a registry's port
    return _familiar(name), match.group(1).lower() if match else None


def _familiar(name: str) -> str:
    """Docker Hub's repositories as the Engine lists them: without ``docker.io/``, and
    without ``library/`` for official images."""
    for prefix in _HUB_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    first, _, rest = name.partition("/")
    if first == "library" and rest and "/" not in rest:
        return rest
    return name
