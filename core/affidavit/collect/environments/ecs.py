"""``snapshot ecs``: the container images an ECS cluster runs.

What runs is read from the tasks, not from the task definitions or services: a service mid
deployment runs two versions at once, and a task definition names a tag, which may since
point elsewhere. Each container reports the digest of the image it actually pulled
(``imageDigest``), and that digest is the artifact's fingerprint, so a build attested by its
image digest is matched to what runs.

Every task ECS wants running (``desiredStatus`` RUNNING, so also those still starting) is
counted, grouped by image reference and digest: two versions of one image are two artifacts,
each with its number of running containers. A container that has not pulled its image yet
has no digest; it is reported with fingerprint None and its state rather than dropped, which
would read as "it stopped running".
"""

from __future__ import annotations

from affidavit.collect.environments.aws import translated
from affidavit.errors import ProviderError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

__all__ = ["PAGE_SIZE", "running"]

PAGE_SIZE = 100
"""Task ARNs per ``ListTasks`` page, and tasks per ``DescribeTasks`` call: the most either
accepts."""

_Key = tuple[str, str | None]  # image reference, digest


class _Tally:
    """Running containers per (image, digest), and the states of those without a digest."""

    def __init__(self) -> None:
        self.count: dict[_Key, int] = {}
        self.states: dict[_Key, set[str]] = {}

    def add(self, container: dict[str, Any], where: str) -> None:
        image = container.get("image")
        if not isinstance(image, str) or not image:
            raise ProviderError(f"{where}: container {container.get('name')!r} has no image")
        digest = _digest(container.get("imageDigest"), where, image)
        key = (image, digest)
        self.count[key] = self.count.get(key, 0) + 1
        if digest is None:
            self.states.setdefault(key, set()).add(str(container.get("lastStatus") or "UNKNOWN"))

    def artifacts(self) -> list[dict[str, Any]]:
        out = []
        for (image, digest), count in self.count.items():
            artifact: dict[str, Any] = {"name": image, "fingerprint": digest, "instances": count}
            if digest is None:
                artifact["details"] = {"state": ",".join(sorted(self.states[(image, digest)]))}
            out.append(artifact)
        return out


def running(client: Any, *, clusters: Sequence[str],
            services: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The images running in ``clusters`` (names or ARNs), or only in the tasks of
    ``services`` (of the one cluster given), as running artifacts."""
    clusters = _distinct(clusters, "--cluster")
    services = _distinct(services, "--service-names") if services else []
    if not clusters:
        raise UsageError("snapshot ecs: give at least one --cluster")
    if services and len(clusters) > 1:
        raise UsageError("snapshot ecs: --service-names applies to one --cluster at a time")
    tally = _Tally()
    for cluster in clusters:
        if services:
            for service in services:
                _count(client, tally, cluster, service)
        else:
            _count(client, tally, cluster, None)
    return tally.artifacts()


def _count(client: Any, tally: _Tally, cluster: str, service: str | None) -> None:
    """Add the containers of every task of ``cluster`` (of ``service``) to ``tally``, one
    page of task ARNs at a time, so memory holds a page, not the cluster."""
    where = f"ECS cluster {cluster!r}" + (f" service {service!r}" if service else "")
    with translated(where):
        for arns in _task_pages(client, cluster, service):
            for batch in _chunks(arns, PAGE_SIZE):
                for task in _describe(client, cluster, batch, where):
                    for container in task.get("containers") or ():
                        tally.add(container, f"{where} task {task.get('taskArn')}")


def _distinct(names: Sequence[str], flag: str) -> list[str]:
    if isinstance(names, str):
        raise TypeError(f"{flag}: expected a sequence of names, not one string")
    out: list[str] = []
    for name in names:
        if not name or not name.strip():
            raise UsageError(f"snapshot ecs: {flag} must not be empty")
        if name not in out:
            out.append(name)
    return out


def _task_pages(client: Any, cluster: str, service: str | None) -> Iterable[list[str]]:
    """The ARNs of the tasks ECS wants running, one page at a time, to the last page."""
    kwargs: dict[str, Any] = {"cluster": cluster, "desiredStatus": "RUNNING",
                              "PaginationConfig": {"PageSize": PAGE_SIZE}}
    if service is not None:
        kwargs["serviceName"] = service
    for page in client.get_paginator("list_tasks").paginate(**kwargs):
        yield list(page.get("taskArns") or ())


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _describe(client: Any, cluster: str, arns: list[str], where: str) -> list[dict[str, Any]]:
    """The tasks ``arns`` as ECS describes them. A task that has gone since it was listed
    (reason MISSING) stopped running and is left out; any other failure leaves the listing
    incomplete, which is an error."""
    answer = client.describe_tasks(cluster=cluster, tasks=arns)
    for failure in answer.get("failures") or ():
        if failure.get("reason") != "MISSING":
            detail = " ".join(str(failure.get(k) or "") for k in ("reason", "detail")).strip()
            raise ProviderError(f"{where}: task {failure.get('arn')} could not be described: "
                                f"{detail or 'no reason given'}")
    return list(answer.get("tasks") or ())


def _digest(value: Any, where: str, image: str) -> str | None:
    """The hex SHA-256 of ``sha256:<hex>``; None while the image is not pulled yet."""
    if value is None or value == "":
        return None
    text = str(value)
    algorithm, _, hexdigest = text.partition(":")
    hexdigest = hexdigest.lower()
    if algorithm != "sha256" or len(hexdigest) != 64 or \
            any(c not in "0123456789abcdef" for c in hexdigest):
        raise ProviderError(f"{where}: image {image}: digest {text!r} is not a sha256 digest")
    return hexdigest
