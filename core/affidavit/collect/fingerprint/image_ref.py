"""Container image references, parsed as ``docker`` and ``crane`` parse them.

The grammar is that of the distribution project's reference package (``reference.go``): an
optional registry host (a first component with a ``.`` or a ``:``, or ``localhost``), a
repository path of lowercase components, then an optional ``:tag`` and an optional
``@sha256:…`` digest. Docker Hub's defaults apply: no registry is ``docker.io``, reached at
``registry-1.docker.io``, and a one-component name there is an official image under
``library/``; no tag and no digest is ``:latest``. A digest, when given, is what is asked for
(a tag beside it is only a label, as ``docker pull`` treats it).
"""

from __future__ import annotations

import re

from affidavit.errors import UsageError

__all__ = ["DOCKER_HUB", "ImageRef", "parse"]

DOCKER_HUB = "docker.io"
"""The registry of a reference that names none, as references spell it."""
_HUB_HOSTS = frozenset(("docker.io", "index.docker.io", "registry-1.docker.io"))
_HUB_ENDPOINT = "registry-1.docker.io"
_MAX_NAME = 255

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN = re.compile(
    r"(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
    r"(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*"
    r"|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")


class ImageRef:
    """One parsed reference: where to ask (``registry``, ``repository``) and what for
    (``digest``, hex, when pinned; else ``tag``)."""

    __slots__ = ("given", "registry", "repository", "tag", "digest")

    def __init__(self, given: str, registry: str, repository: str, tag: str | None,
                 digest: str | None) -> None:
        self.given = given
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest

    @property
    def endpoint(self) -> str:
        """The host (and port) the registry API answers on."""
        return _HUB_ENDPOINT if self.registry == DOCKER_HUB else self.registry

    @property
    def wanted(self) -> str:
        """The ``<reference>`` of ``/v2/<name>/manifests/<reference>``."""
        return f"sha256:{self.digest}" if self.digest else str(self.tag)

    def canonical(self) -> str:
        """The full reference: ``docker.io/library/nginx:1.27``, ``…/app@sha256:…``."""
        name = f"{self.registry}/{self.repository}"
        return f"{name}@sha256:{self.digest}" if self.digest else f"{name}:{self.tag}"

    def __repr__(self) -> str:
        return f"ImageRef({self.canonical()!r})"


def parse(reference: str) -> ImageRef:
    """``reference`` parsed, or a :class:`UsageError` saying what is wrong with it."""
    text = reference.strip()
    if not text or text != reference:
        raise _bad(reference, "it is empty or has spaces around it")
    rest, at, digest_text = text.partition("@")
    digest = None
    if at:
        found = _DIGEST.fullmatch(digest_text)
        if not found:
            raise _bad(reference, "a digest is sha256: and 64 lowercase hex digits")
        digest = found.group(1)
    name, tag = _split_tag(rest)
    if tag is not None and not _TAG.fullmatch(tag):
        raise _bad(reference, f"{tag!r} is not a tag (letters, digits, _ . -; at most 128)")
    registry, path = _split_registry(name, reference)
    components = path.split("/")
    for component in components:
        if not _COMPONENT.fullmatch(component):
            problem = ("a repository name is lowercase" if component.lower() != component
                       else f"{component!r} is not a repository path component")
            raise _bad(reference, problem)
    if registry == DOCKER_HUB and len(components) == 1:
        path = f"library/{path}"
    if len(f"{registry}/{path}") > _MAX_NAME:
        raise _bad(reference, f"the name is longer than {_MAX_NAME} characters")
    if tag is None and digest is None:
        tag = "latest"
    return ImageRef(text, registry, path, tag, digest)


def _split_tag(rest: str) -> tuple[str, str | None]:
    """``name:tag`` → (name, tag); a ``:`` before the last ``/`` is a registry's port."""
    colon, slash = rest.rfind(":"), rest.rfind("/")
    if colon > slash:
        return rest[:colon], rest[colon + 1:]
    return rest, None


def _split_registry(name: str, reference: str) -> tuple[str, str]:
    first, slash, path = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"
                  or first.startswith("[")):
        if not _DOMAIN.fullmatch(first):
            raise _bad(reference, f"{first!r} is not a registry host")
        registry = DOCKER_HUB if first.lower() in _HUB_HOSTS else first
        return registry, path
    return DOCKER_HUB, name


def _bad(reference: str, problem: str) -> UsageError:
    return UsageError(f"{reference!r} is not an image reference: {problem}",
                      remedy="name it as [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. "
                             "registry.example.com/team/app:1.2")
