"""The Docker Engine API over its socket, as ``snapshot docker`` and ``--artifact-type docker``
reach it: the address (``DOCKER_HOST``, else the local socket), TLS from ``DOCKER_TLS_VERIFY``
and ``DOCKER_CERT_PATH``, one-line errors in the daemon's own words, and the repositories of an
image's ``RepoDigests`` spelled as the Engine spells them.
"""

from __future__ import annotations

import re

from affidavit.errors import ProviderError, UsageError
from affidavit.web import env_number

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

__all__ = ["DEFAULT_HOST", "connect", "engine_failure", "repo_digests", "repository_of"]

DEFAULT_HOST = "unix:///var/run/docker.sock"
"""Where the Engine listens when neither the caller nor ``DOCKER_HOST`` says otherwise."""

_DIGEST = re.compile(r"^sha256:([0-9a-fA-F]{64})$")
_HUB_PREFIXES = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")


def connect(where: str) -> Any:
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
        raise engine_failure(where, "GET /version", exc) from None


def engine_failure(where: str, what: str, exc: BaseException) -> ProviderError:
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


def repo_digests(image: dict[str, Any] | None, repository: str | None) -> Iterator[str]:
    """The hex digests ``RepoDigests`` (``repo@sha256:…``; null on some Engines when empty)
    gives for ``repository`` (for every repository when None)."""
    for entry in (image or {}).get("RepoDigests") or []:
        if not isinstance(entry, str) or "@" not in entry:
            continue
        repo, _, digest = entry.partition("@")
        match = _DIGEST.match(digest)
        if match and (repository is None or _familiar(repo) == repository):
            yield match.group(1).lower()


def repository_of(reference: str) -> tuple[str, str | None]:
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
