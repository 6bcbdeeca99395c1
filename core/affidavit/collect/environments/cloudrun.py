"""``snapshot cloud-run``: the images the services of one Cloud Run region serve, by digest.

What runs in Cloud Run is what its traffic reaches: a service routes its requests to one or
more revisions (a rollout splits them, a tag makes a revision reachable at its own URL), and
a revision that no traffic reaches runs nothing. So each service's observed routing
(``trafficStatuses``; the requested ``traffic`` until the first rollout has been observed) is
read, ``LATEST`` stands for the service's ``latestReadyRevision`` (a service that never became
ready has none and serves nothing), and each serving revision is read for its containers'
images. A revision is immutable and its image is pinned by the digest Cloud Run resolved when
the revision was created: that digest is the fingerprint. An image that names only a tag is
reported running with no fingerprint (``state: unresolved``) rather than left out.

Every page of services is read to the last (``nextPageToken``), throttling and outages are
retried by :class:`~affidavit.collect.pullrequests.http.Api`, and a refusal is an error: a
listing that cannot be read completely never becomes a smaller snapshot.
"""

from __future__ import annotations

import re

from affidavit.collect.pullrequests.http import MAX_PAGES, Answer, Api, provider_words
from affidavit.errors import NotFoundError, ProviderError, UsageError
from affidavit.web import checked_url

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

__all__ = ["BASE_URL", "TOKEN_HINT", "connect", "running", "serving"]

BASE_URL = "https://run.googleapis.com"
PROVIDER = "Cloud Run"
TOKEN_HINT = ("give an OAuth access token (gcloud auth print-access-token) in --access-token, "
              "GOOGLE_OAUTH_ACCESS_TOKEN or CLOUDSDK_AUTH_ACCESS_TOKEN")
PAGE_SIZE = 100

_LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:_-]{0,99}$")
_TOKEN = re.compile(r"^[\x21-\x7e]+$")
_REVISION = re.compile(r"^projects/[^/?#%]+/locations/[^/?#%]+/services/[^/?#%]+"
                       r"/revisions/[^/?#%]+$")
_DIGEST = re.compile(r"^sha256:([0-9a-fA-F]{64})$")
_ANSWERED = (400, 401, 403, 404)


def running(project: str, region: str, *, token: str,
            base_url: str = BASE_URL) -> list[dict[str, Any]]:
    """One artifact per image the services of ``project`` in ``region`` serve."""
    api = connect(base_url, token)
    try:
        return serving(api, project, region)
    finally:
        api.close()


def connect(base_url: str, token: str) -> Api:
    """The Cloud Run Admin API at ``base_url``, called with the OAuth access ``token``."""
    if not token:
        raise UsageError("Cloud Run: no access token", remedy=TOKEN_HINT)
    if not _TOKEN.match(token):
        # never echoed: a header requests refuses would put the token in the message
        raise UsageError("Cloud Run: the access token contains spaces or control characters",
                         remedy=TOKEN_HINT)
    url = checked_url(base_url, "--base-url", token_hint=TOKEN_HINT)
    return Api(PROVIDER, url, {"Authorization": f"Bearer {token}"})


def serving(api: Api, project: str, region: str) -> list[dict[str, Any]]:
    """The artifacts the services of ``project`` in ``region`` serve, through ``api``."""
    parent = f"projects/{_segment(project, 'project')}/locations/{_segment(region, 'region')}"
    found: dict[tuple[str, str | None], dict[str, Any]] = {}
    for service in _services(api, parent):
        short = service["name"].rsplit("/", 1)[-1]
        for revision, percent, tags in _serving_revisions(service):
            for image in _images(api, revision):
                _add(found, short, revision.rsplit("/", 1)[-1], image, percent, tags)
    return [_artifact(entry) for entry in found.values()]


def _segment(value: str, what: str) -> str:
    """``value`` as one segment of a resource name; never a path of its own."""
    if not _SEGMENT.match(value):
        raise UsageError(f"Cloud Run: {what} {value!r} is not a Google Cloud {what} ID")
    return value


# -- reading ---------------------------------------------------------------------------------


def _services(api: Api, parent: str) -> Iterator[dict[str, Any]]:
    """Every service below ``parent``, page after page; Google omits ``services`` from an
    empty page and ``nextPageToken`` from the last. A page naming locations it could not
    reach (``unreachable``, in Google's list responses) is a partial list: refused."""
    query: dict[str, Any] = {"pageSize": PAGE_SIZE}
    tokens: set[str] = set()
    for _ in range(MAX_PAGES):
        body = _get(api, f"/v2/{parent}/services", parent, query, missing=NotFoundError)
        if body.get("unreachable"):
            raise ProviderError(f"Cloud Run: {parent}/services could not be listed completely "
                                f"(unreachable: {_first(body['unreachable'])})",
                                remedy="rerun the job later")
        services = body.get("services", [])
        if not isinstance(services, list):
            raise ProviderError(f"Cloud Run: {parent}/services did not answer a list")
        for service in services:
            if not isinstance(service, dict) or not isinstance(service.get("name"), str):
                raise ProviderError(f"Cloud Run: {parent}/services listed a service "
                                    "without a name")
            yield service
        following = body.get("nextPageToken")
        if not following:
            return
        if not isinstance(following, str) or following in tokens:
            raise ProviderError(f"Cloud Run: {parent}/services pages loop; refusing a list "
                                "that may never end")
        tokens.add(following)
        query = {"pageSize": PAGE_SIZE, "pageToken": following}
    raise ProviderError(f"Cloud Run: {parent}/services has more than {MAX_PAGES} pages; "
                        "refusing a list that may never end")


def _first(unreachable: Any) -> str:
    """What an ``unreachable`` list names first (Google lists the locations it could not
    read), for a message of one line."""
    first = unreachable[0] if isinstance(unreachable, list) and unreachable else unreachable
    return " ".join(str(first).split())[:200]


def _images(api: Api, revision: str) -> list[str]:
    """The images of ``revision``'s containers (a main container and its sidecars)."""
    body = _get(api, f"/v2/{revision}", revision, None, missing=ProviderError)
    containers = body.get("containers")
    if not isinstance(containers, list) or not containers:
        raise ProviderError(f"Cloud Run: revision {revision} lists no containers")
    images = [c.get("image") if isinstance(c, dict) else None for c in containers]
    if not all(isinstance(image, str) and image for image in images):
        raise ProviderError(f"Cloud Run: revision {revision} has a container without an image")
    return [str(image) for image in images]


def _get(api: Api, path: str, where: str, params: dict[str, Any] | None, *,
         missing: type[NotFoundError] | type[ProviderError]) -> dict[str, Any]:
    """The JSON object at ``path``; a refusal in Google's own words. ``missing``: what a 404
    is (an unknown project or region is the caller's mistake; a serving revision that is not
    there is a listing that changed under us)."""
    answer = api.request("GET", path, params=params, statuses=_ANSWERED)
    assert answer is not None  # only with missing=True
    if answer.status >= 300:
        raise _refused(answer, where, missing)
    if not isinstance(answer.body, dict):
        raise ProviderError(f"Cloud Run: {where} did not answer a JSON object")
    return answer.body


def _refused(answer: Answer, where: str,
             missing: type[NotFoundError] | type[ProviderError]) -> Exception:
    said = provider_words(answer.body)
    if answer.status in (401, 403):
        return ProviderError(f"Cloud Run: the access token was refused for {where} "
                             f"(HTTP {answer.status}){said}",
                             remedy="check that the token has not expired and may read Cloud "
                                    f"Run services (roles/run.viewer); {TOKEN_HINT}")
    if answer.status == 404:
        return missing(f"Cloud Run: {where} was not found (HTTP 404){said}",
                       remedy="check the project and the region")
    return UsageError(f"Cloud Run: {where} was refused (HTTP {answer.status}){said}",
                      remedy="check the project and the region")


# -- which revisions serve -------------------------------------------------------------------


def _serving_revisions(service: dict[str, Any]) -> list[tuple[str, int, set[str]]]:
    """``(revision resource name, percent of traffic, tags)`` of each revision traffic
    reaches: a percentage or a tag; targets naming the same revision are added up."""
    targets = service.get("trafficStatuses") or service.get("traffic") or []
    if not isinstance(targets, list):
        raise ProviderError(f"Cloud Run: service {service['name']} has a malformed traffic list")
    found: dict[str, tuple[int, set[str]]] = {}
    for target in targets:
        if not isinstance(target, dict):
            raise ProviderError(f"Cloud Run: service {service['name']} has a malformed "
                                "traffic target")
        percent, tag = _percent(service, target), target.get("tag")
        if percent == 0 and not tag:
            continue
        revision = _revision_of(service, target)
        if revision is None:
            continue
        total, tags = found.get(revision, (0, set()))
        found[revision] = (total + percent, tags | ({str(tag)} if tag else set()))
    return [(name, total, tags) for name, (total, tags) in found.items()]


def _percent(service: dict[str, Any], target: dict[str, Any]) -> int:
    percent = target.get("percent", 0)  # proto3 JSON leaves a zero out
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise ProviderError(f"Cloud Run: service {service['name']}: traffic percent "
                            f"{percent!r} is not 0 to 100")
    return percent


def _revision_of(service: dict[str, Any], target: dict[str, Any]) -> str | None:
    """The resource name of the revision ``target`` sends traffic to; None for ``LATEST``
    in a service that has no ready revision yet (nothing serves)."""
    short = target.get("revision")
    if short:
        name = f"{service['name']}/revisions/{short}"
    elif target.get("type") == _LATEST:
        name = service.get("latestReadyRevision") or ""
        if not name:
            return None
    else:
        raise ProviderError(f"Cloud Run: service {service['name']} sends traffic to no "
                            "named revision")
    if (not isinstance(name, str) or not _REVISION.match(name)
            or any(part in (".", "..") for part in name.split("/"))):
        raise ProviderError(f"Cloud Run: service {service['name']} names revision "
                            f"{name!r}, which is not a revision of a service")
    return name


# -- the artifacts ---------------------------------------------------------------------------


def _add(found: dict[tuple[str, str | None], dict[str, Any]], service: str, revision: str,
         image: str, percent: int, tags: set[str]) -> None:
    """One more revision serving ``image``: the same bytes in two revisions (a configuration
    change without a new image) are one artifact serving both revisions' traffic."""
    name = f"{service}/{_repository(image)}"
    fingerprint = _digest(image)
    entry = found.setdefault((name, fingerprint), {
        "name": name, "fingerprint": fingerprint, "service": service, "revisions": set(),
        "images": set(), "tags": set(), "percent": 0})
    entry["revisions"].add(revision)
    entry["images"].add(image)
    entry["tags"] |= tags
    entry["percent"] += percent


def _artifact(entry: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {"service": entry["service"],
                               "revision": ",".join(sorted(entry["revisions"])),
                               "traffic_percent": entry["percent"],
                               "image": ",".join(sorted(entry["images"]))}
    if entry["tags"]:
        details["tag"] = ",".join(sorted(entry["tags"]))
    if entry["fingerprint"] is None:
        details["state"] = "unresolved"
    return {"name": entry["name"], "fingerprint": entry["fingerprint"], "details": details}


def _digest(image: str) -> str | None:
    """The hex SHA-256 an image reference pins (``…@sha256:…``), or None for a tag only."""
    _, at, digest = image.rpartition("@")
    match = _DIGEST.match(digest) if at else None
    return match.group(1).lower() if match else None


def _repository(image: str) -> str:
    """The image without its digest and tag, so a new version of a service's image is the
    same name with another fingerprint: ``eu.gcr.io/p/web:1.4@sha256:…`` → ``eu.gcr.io/p/web``."""
    name = image.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    return name[:colon] if colon > slash else name
