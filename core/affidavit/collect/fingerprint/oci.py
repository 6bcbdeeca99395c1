"""``--artifact-type oci``: an image's manifest digest, from its registry.

This is the digest ``crane digest`` and ``docker buildx imagetools inspect`` print, the one
``docker push`` reports and a pull by digest names: the SHA-256 of the manifest bytes the
registry holds for the reference, asked with ``HEAD /v2/<name>/manifests/<reference>`` (the
OCI distribution specification's manifest pull, which Docker Hub does not count against its
pull limit) and an ``Accept`` of the four manifest media types, so that a multi-platform
image answers with its index rather than one platform's manifest.

The registry names the digest in ``Docker-Content-Digest``, which the specification makes
optional; without it, or when the answer is an index (whose platform manifests are recorded
beside its digest), the manifest is fetched and its bytes hashed, and a header that disagrees
with them is refused. The digest of a reference pinned ``@sha256:…`` must be that digest.
Fingerprints are hex, as for files: ``sha256:`` is left off.

Index entries that are build attestations (BuildKit's ``vnd.docker.reference.type:
attestation-manifest``, platform ``unknown/unknown``) are not platforms and are left out.
"""

from __future__ import annotations

import hashlib
import json

from affidavit.collect.fingerprint.image_ref import parse
from affidavit.collect.fingerprint.registry import Registry, registry_words
from affidavit.errors import IntegrityError, NotFoundError, ProviderError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from affidavit.collect.fingerprint.image_ref import ImageRef
    from affidavit.collect.fingerprint.registry import Reply
    from affidavit.collect.fingerprint.registry_auth import Credentials

__all__ = ["ImageDigest", "INDEX_TYPES", "MANIFEST_TYPES", "registry_digest"]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
"""Media types of a manifest that lists one manifest per platform."""
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json")
ACCEPT = ", ".join((*INDEX_TYPES, *MANIFEST_TYPES))
_ATTESTATION = "attestation-manifest"


class ImageDigest:
    """An image's fingerprint (hex) and what the record keeps beside it: the reference it
    was resolved from, the manifest's media type, and for an index its platforms'
    fingerprints."""

    __slots__ = ("fingerprint", "reference", "media_type", "platforms")

    def __init__(self, fingerprint: str, reference: str, media_type: str | None = None,
                 platforms: list[dict[str, str]] | None = None) -> None:
        self.fingerprint = fingerprint
        self.reference = reference
        self.media_type = media_type
        self.platforms = platforms

    def details(self) -> dict[str, Any]:
        """The ``image`` object of an artifact record (fields that are unknown left out)."""
        out: dict[str, Any] = {"reference": self.reference}
        if self.media_type:
            out["media_type"] = self.media_type
        if self.platforms is not None:
            out["platforms"] = self.platforms
        return out


def registry_digest(reference: str, *, credentials: Credentials | None = None,
                    sleep: Callable[[float], None] | None = None) -> ImageDigest:
    """The manifest digest the registry of ``reference`` holds for it."""
    ref = parse(reference)
    options: dict[str, Any] = {"credentials": credentials}
    if sleep is not None:
        options["sleep"] = sleep
    registry = Registry(ref.endpoint, ref.repository, **options)
    try:
        return _resolve(registry, ref)
    finally:
        registry.close()


def _resolve(registry: Registry, ref: ImageRef) -> ImageDigest:
    path = f"/v2/{ref.repository}/manifests/{ref.wanted}"
    head = _manifest(registry, ref, "HEAD", path)
    digest = _header_digest(head, ref)
    media_type = _media_type(head)
    body = None
    if digest is None or media_type is None or media_type in INDEX_TYPES:
        got = _manifest(registry, ref, "GET", path)
        digest = _body_digest(got, ref)
        body = _json(got.body, ref)
        media_type = _media_type(got) or _declared(body)
    if ref.digest and digest != ref.digest:
        raise IntegrityError(f"registry {ref.endpoint}: {ref.given} answered a manifest of "
                             f"digest {digest}, not the one the reference pins")
    platforms = _platforms(body, ref) if media_type in INDEX_TYPES else None
    return ImageDigest(digest, ref.canonical(), media_type, platforms)


def _manifest(registry: Registry, ref: ImageRef, method: str, path: str) -> Reply:
    reply = registry.request(method, path, {"Accept": ACCEPT})
    if reply.status == 200:
        return reply
    words = registry_words(reply.body)
    if reply.status == 404:
        raise NotFoundError(f"registry {ref.endpoint}: no image {ref.given} (HTTP 404: "
                            f"{ref.wanted} is not in {ref.repository}){words}",
                            remedy="check the repository and the tag, and that it was pushed")
    if reply.status == 403:
        raise UsageError(f"registry {ref.endpoint}: pulling {ref.repository} was denied "
                         f"(HTTP 403){words}",
                         remedy="check that the credentials may pull this repository")
    if 400 <= reply.status < 500:
        raise UsageError(f"registry {ref.endpoint}: {method} {path} was refused (HTTP "
                         f"{reply.status}){words}")
    raise ProviderError(f"registry {ref.endpoint}: {method} {path} answered HTTP "
                        f"{reply.status}{words}")


def _header_digest(reply: Reply, ref: ImageRef) -> str | None:
    """The hex of ``Docker-Content-Digest``, None when absent; another algorithm than
    sha256, or a malformed value, is refused: a fingerprint is a SHA-256."""
    value = (reply.headers.get("Docker-Content-Digest") or "").strip()
    if not value:
        return None
    algorithm, _, hexdigits = value.partition(":")
    if algorithm != "sha256" or len(hexdigits) != 64 or not _is_hex(hexdigits):
        raise ProviderError(f"registry {ref.endpoint}: Docker-Content-Digest {value[:80]!r} "
                            "is not a sha256 digest",
                            remedy="fingerprints are SHA-256; give --fingerprint instead")
    return hexdigits.lower()


def _body_digest(reply: Reply, ref: ImageRef) -> str:
    digest = hashlib.sha256(reply.body).hexdigest()
    said = _header_digest(reply, ref)
    if said is not None and said != digest:
        raise IntegrityError(f"registry {ref.endpoint}: the manifest of {ref.given} hashes to "
                             f"{digest}, not the {said} its Docker-Content-Digest says")
    return digest


def _media_type(reply: Reply) -> str | None:
    value = (reply.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    return value if value and value not in ("application/json", "text/plain") else None


def _json(body: bytes, ref: ImageRef) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise ProviderError(f"registry {ref.endpoint}: the manifest of {ref.given} is not "
                            "JSON") from None


def _declared(body: Any) -> str | None:
    """The manifest's own ``mediaType`` (an index without one is still an index when it
    lists ``manifests``, as the OCI image spec allows)."""
    if not isinstance(body, dict):
        return None
    declared = body.get("mediaType")
    if isinstance(declared, str) and declared:
        return declared
    return OCI_INDEX if isinstance(body.get("manifests"), list) else None


def _platforms(body: Any, ref: ImageRef) -> list[dict[str, str]]:
    """``[{"platform": "linux/arm64/v8", "fingerprint": hex}, …]`` in the index's order."""
    entries = body.get("manifests") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise ProviderError(f"registry {ref.endpoint}: the index of {ref.given} lists no "
                            "manifests")
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ProviderError(f"registry {ref.endpoint}: the index of {ref.given} has an "
                                "entry that is not an object")
        annotations = entry.get("annotations")
        if isinstance(annotations, dict) and annotations.get(
                "vnd.docker.reference.type") == _ATTESTATION:
            continue
        digest = entry.get("digest")
        algorithm, _, hexdigits = digest.partition(":") if isinstance(digest, str) else ("",
                                                                                          "", "")
        if algorithm != "sha256" or len(hexdigits) != 64 or not _is_hex(hexdigits):
            raise ProviderError(f"registry {ref.endpoint}: the index of {ref.given} names a "
                                f"manifest by {str(digest)[:80]!r}, not a sha256 digest")
        out.append({"platform": _platform(entry.get("platform")),
                    "fingerprint": hexdigits.lower()})
    return out


def _platform(platform: Any) -> str:
    """``os/architecture[/variant]``, as ``docker`` and ``crane`` write a platform."""
    if not isinstance(platform, dict):
        return "unknown"
    parts = [platform.get("os"), platform.get("architecture"), platform.get("variant")]
    shown = [str(p) for p in parts if isinstance(p, str) and p]
    return "/".join(shown) or "unknown"


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)
