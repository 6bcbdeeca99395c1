"""``snapshot k8s``: the images a Kubernetes cluster runs, read from its pods.

What runs is what the kubelet reports, not what a Deployment asks for: each container status
names the digest the node actually pulled (``imageID``), so a tag moved after the rollout, or a
half-finished rollout running two versions, shows as what it is. One artifact is one (image,
digest): the image as the pod spec names it, the digest as the kubelet saw it; two versions of
one image are two artifacts. A container that has no digest yet (still pulling, or failing to)
is listed with no fingerprint rather than left out, which would read as "not running".

The faults that would make a snapshot lie are each a rule here:

- every page is read: the listing follows ``metadata.continue`` until the server gives none (an
  empty page with a token is not the end), and a token that has expired (410) restarts the
  listing from the first page, since finishing it from a newer state could miss or repeat pods;
- 429 and 5xx are retried with exponential backoff, as long as ``Retry-After`` asks (within
  :data:`MAX_WAIT`), a bounded number of times (``AFFIDAVIT_HTTP_RETRIES``, default 5); then the
  outage is :class:`ProviderError`, never a smaller snapshot;
- 401 and 403 are :class:`ProviderError` with the API server's own message (the Status object);
- a named namespace with no pods is asked about (``GET /api/v1/namespaces/{name}``): a 404 is
  :class:`NotFoundError`, since a mistyped ``--namespace`` would otherwise record "nothing runs";
  credentials that may list pods but not read namespaces cannot tell, and the namespace counts
  as empty.

Memory stays bounded: pods are read a page at a time (:data:`PAGE`, each answer at most
:data:`MAX_BODY`) and only the tally per (image, digest) is kept.
"""

from __future__ import annotations

import json
import os
import re
import time

from affidavit.errors import InputError, NotFoundError, ProviderError, UsageError
from affidavit.web import LOOPBACK, env_number

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

__all__ = ["client_from", "running", "PAGE", "MAX_BODY", "MAX_PAGES", "MAX_WAIT", "MAX_ARTIFACTS"]

PAGE = 500
"""Pods asked for per page: kubectl's own chunk size."""
MAX_BODY = 64 << 20
"""Bytes one page may have: 500 pods of a few KiB to a few tens of KiB each."""
MAX_PAGES = 2000
"""Pages one listing may have (a million pods): past that the server's tokens are looping."""
MAX_WAIT = 60.0
"""Seconds one retry may wait, whatever ``Retry-After`` asks: a longer wait is an outage."""
MAX_ARTIFACTS = 100_000
"""Distinct (image, digest) pairs one snapshot may list, as for ``snapshot json``."""
MAX_RESTARTS = 3
"""Times a listing starts again after its continue token expired (410) before giving up."""

_RETRIED = frozenset((429, 500, 502, 503, 504))
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DIGEST = re.compile(r"sha256:([0-9a-fA-F]{64})$")
_FINISHED = ("Succeeded", "Failed")
_RBAC_HINT = "the credentials need 'list' on pods (and 'get' on namespaces for --namespace)"


def _kubernetes(module: str) -> Any:
    """``kubernetes.<module>``, imported by name: the client ships no type hints, and so is
    typed ``Any`` here rather than through a mypy override; imported late, as it takes a
    second that no other command should pay."""
    import importlib

    try:
        return importlib.import_module(f"kubernetes.{module}")
    except ImportError:
        raise UsageError("snapshot k8s needs the Kubernetes client, which is not installed",
                         remedy="pip install 'affidavit[k8s]'") from None


# -- the client ------------------------------------------------------------------------------


def client_from(kubeconfig: str | None, context: str | None) -> Any:
    """An ``ApiClient`` for the cluster to snapshot.

    ``--kubeconfig`` (or ``--context``, or a ``KUBECONFIG`` the job set) names a kubeconfig, so
    a CI job that runs in one cluster and deploys to another reads the one it deploys to; in a
    pod without any of them, the pod's own service account; else ``~/.kube/config``. A file
    that is missing or cannot be used is one :class:`InputError` naming it. The kubeconfig is
    never written back (the client would otherwise save refreshed tokens into it)."""
    import urllib3

    configuration = _kubernetes("client").Configuration()
    chosen = kubeconfig or os.environ.get("KUBECONFIG") or None
    if chosen is None and context is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        where = "in-cluster config (KUBERNETES_SERVICE_HOST is set)"
        _load_in_cluster(configuration, where)
    else:
        where = chosen or os.path.expanduser(os.path.join("~", ".kube", "config"))
        _load_kubeconfig(configuration, where, context)
    _check_server(str(configuration.host or ""), where)
    # Every retry is this module's, with its bound and its backoff: urllib3 would otherwise
    # retry on its own, and sleep as long as a Retry-After asks.
    configuration.retries = urllib3.util.Retry(total=0, redirect=0, raise_on_redirect=False,
                                               respect_retry_after_header=False)
    return _kubernetes("client").ApiClient(configuration)


def _load_kubeconfig(configuration: Any, where: str, context: str | None) -> None:
    import yaml

    paths = [p for p in where.split(os.pathsep) if p]
    if not any(os.path.isfile(os.path.expanduser(p)) for p in paths):
        raise InputError(f"{where}: no such kubeconfig file",
                         remedy="give --kubeconfig FILE, or set KUBECONFIG")
    kube_config = _kubernetes("config.kube_config")
    try:
        kube_config.load_kube_config(config_file=where, context=context,
                                     client_configuration=configuration,
                                     persist_config=False)
    except (_kubernetes("config").ConfigException, yaml.YAMLError, OSError, ValueError) as exc:
        raise InputError(f"{where}: not a usable kubeconfig ({_one_line(exc)})") from None
    except (TypeError, KeyError, AttributeError):
        raise InputError(f"{where}: not a usable kubeconfig (expected a Config with clusters, "
                         "contexts and users)") from None


def _load_in_cluster(configuration: Any, where: str) -> None:
    config = _kubernetes("config")
    try:
        config.load_incluster_config(client_configuration=configuration)
    except (config.ConfigException, OSError, ValueError) as exc:
        raise InputError(f"{where}: {_one_line(exc)}",
                         remedy="mount the service account token, or give --kubeconfig") from None


def _check_server(host: str, where: str) -> None:
    """A token sent over plain http crosses the network in the clear: http is for a server on
    this machine only, as for every other client here."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(host)
        hostname = parts.hostname
    except ValueError:
        raise InputError(f"{where}: the cluster's server {host!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise InputError(f"{where}: the cluster's server {host!r} is not an http(s) URL")
    if parts.scheme == "http" and hostname not in LOOPBACK:
        raise InputError(f"{where}: the cluster's server {host!r} is plain http, which is only "
                         "for a server on this machine", remedy="use https://")


# -- what runs -------------------------------------------------------------------------------


def running(api: Any, *, namespaces: Sequence[str] = (), exclude_namespaces: Sequence[str] = (),
            sleep: Callable[[float], None] = time.sleep) -> list[dict[str, Any]]:
    """One running artifact per distinct (image, digest) in the selected namespaces' pods
    that have not finished: all namespaces, only ``namespaces``, or all but
    ``exclude_namespaces``. ``sleep`` is how a retry waits."""
    if namespaces and exclude_namespaces:
        raise UsageError("--namespace and --exclude-namespace cannot be used together",
                         remedy="list the namespaces to read, or the ones to leave out")
    for name in (*namespaces, *exclude_namespaces):
        _check_namespace_name(name)
    pods = _Pods(api, sleep)
    tally = _Tally()
    if namespaces:
        for name in dict.fromkeys(namespaces):
            if not tally.merge(pods.listing(name, ())):
                pods.check_namespace(name)
    else:
        tally.merge(pods.listing(None, tuple(dict.fromkeys(exclude_namespaces))))
    return tally.artifacts()


def _check_namespace_name(name: str) -> None:
    if not _NAMESPACE.match(name):
        raise UsageError(f"namespace {name!r} is not a Kubernetes namespace name (lower-case "
                         "letters, digits and '-', at most 63)")


class _Expired(Exception):
    """The continue token is too old (410): the listing has to start again."""


class _Pods:
    """The pods API of one cluster, each call retried as the module says."""

    def __init__(self, api: Any, sleep: Callable[[float], None]) -> None:
        self.core = _kubernetes("client").CoreV1Api(api)
        self.sleep = sleep
        self.timeout = env_number("AFFIDAVIT_HTTP_TIMEOUT", 30.0)
        self.attempts = max(int(env_number("AFFIDAVIT_HTTP_RETRIES", 5.0)), 1)

    def listing(self, namespace: str | None, excluded: tuple[str, ...]) -> _Tally:
        """Every pod of ``namespace`` (None: of every namespace but ``excluded``), tallied;
        started again from the first page when a continue token expires."""
        for _ in range(MAX_RESTARTS + 1):
            try:
                return self._pages(namespace, excluded)
            except _Expired:
                continue
        raise ProviderError(f"kubernetes: {_where(namespace)}: the listing expired "
                            f"{MAX_RESTARTS + 1} times before its last page",
                            remedy="the cluster has too many pods to list in time; rerun, "
                                   "or snapshot fewer namespaces at once")

    def _pages(self, namespace: str | None, excluded: tuple[str, ...]) -> _Tally:
        tally = _Tally()
        selector = ",".join([f"status.phase!={p}" for p in _FINISHED]
                            + [f"metadata.namespace!={n}" for n in excluded])
        token: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            page = self._page(namespace, selector, token)
            for pod in page["items"]:
                if _namespace_of(pod) not in excluded:
                    tally.add_pod(pod)
            token = page["metadata"].get("continue") or None
            if token is None:
                return tally
            if token in seen:
                raise ProviderError(f"kubernetes: {_where(namespace)}: the server gave the "
                                    "same continue token twice")
            seen.add(token)
        raise ProviderError(f"kubernetes: {_where(namespace)}: more than {MAX_PAGES} pages "
                            f"of {PAGE} pods")

    def _page(self, namespace: str | None, selector: str, token: str | None) -> Any:
        args: dict[str, Any] = {"limit": PAGE, "field_selector": selector}
        if token is not None:
            args["_continue"] = token
        if namespace is None:
            body = self._call(self.core.list_pod_for_all_namespaces, _where(None), **args)
        else:
            body = self._call(self.core.list_namespaced_pod, _where(namespace), namespace,
                              **args)
        return _pod_list(body, _where(namespace))

    def check_namespace(self, name: str) -> None:
        """:class:`NotFoundError` when the cluster has no namespace ``name``; nothing when it
        has, or when these credentials may not say."""
        try:
            self._call(self.core.read_namespace, f"namespace {name!r}", name, missing=True)
        except _Missing:
            raise NotFoundError(f"kubernetes: namespace {name!r} does not exist in this "
                                "cluster", remedy="check --namespace and --context") from None
        except _Refused:
            return

    def _call(self, method: Any, what: str, *args: Any, missing: bool = False,
              **kwargs: Any) -> Any:
        """The parsed JSON ``method`` answers, retried as the module says. ``missing``: a 404
        or a refusal is raised as :class:`_Missing` or :class:`_Refused` for the caller."""
        import urllib3

        api_exception = _kubernetes("client").ApiException
        last = ""
        for attempt in range(self.attempts):
            try:
                response = method(*args, _preload_content=False,
                                  _request_timeout=self.timeout, **kwargs)
                return _read(response, what)
            except api_exception as exc:
                if exc.status in _RETRIED:
                    last = f"HTTP {exc.status}{_said(exc.body)}"
                    self._backoff(attempt, _retry_after(exc.headers), what)
                    continue
                if exc.status == 410:
                    raise _Expired() from None
                raise _refused(exc, what, missing) from None
            except urllib3.exceptions.HTTPError as exc:
                reason = getattr(exc, "reason", None) or exc
                if isinstance(reason, urllib3.exceptions.SSLError):
                    raise ProviderError(f"kubernetes: {what}: TLS failed ({_one_line(reason)})",
                                        remedy="check the server URL and certificate-authority "
                                               "in the kubeconfig") from None
                last = _one_line(reason)
                self._backoff(attempt, None, what)
        raise ProviderError(f"kubernetes: {what}: failed after {self.attempts} attempts "
                            f"({last})", remedy="the API server may be down or overloaded; "
                                                "rerun the job later")

    def _backoff(self, attempt: int, asked: float | None, what: str) -> None:
        if attempt + 1 >= self.attempts:
            return
        wait = asked if asked is not None else min(0.5 * 2 ** attempt, MAX_WAIT)
        if wait > MAX_WAIT:
            raise ProviderError(f"kubernetes: {what}: throttled for {wait:.0f} s, longer than "
                                f"{MAX_WAIT:.0f} s", remedy="rerun the job later")
        self.sleep(wait)


class _Missing(Exception):
    """A 404 the caller asked to see."""


class _Refused(Exception):
    """A 401/403 the caller asked to see."""


def _where(namespace: str | None) -> str:
    return "pods in all namespaces" if namespace is None else f"pods in namespace {namespace!r}"


def _read(response: Any, what: str) -> Any:
    """The JSON of an answer the client did not read, read within :data:`MAX_BODY`."""
    try:
        raw = response.read(MAX_BODY + 1)
    finally:
        response.release_conn()
    if len(raw) > MAX_BODY:
        raise ProviderError(f"kubernetes: {what}: the answer is larger than "
                            f"{MAX_BODY >> 20} MiB")
    try:
        return json.loads(raw)
    except ValueError:
        raise ProviderError(f"kubernetes: {what}: the answer is not JSON") from None


def _refused(exc: Any, what: str, missing: bool) -> Exception:
    if missing and exc.status == 404:
        return _Missing()
    if missing and exc.status in (401, 403):
        return _Refused()
    said = _said(exc.body)
    if exc.status in (401, 403):
        return ProviderError(f"kubernetes: {what}: refused (HTTP {exc.status}){said}",
                             remedy=_RBAC_HINT)
    if exc.status == 404:
        return NotFoundError(f"kubernetes: {what}: not found (HTTP 404){said}",
                             remedy="check the kubeconfig's server URL")
    if not exc.status:  # the client's own failure before any answer: TLS, mostly
        return ProviderError(f"kubernetes: {what}: {_one_line(exc.reason)}")
    return ProviderError(f"kubernetes: {what}: HTTP {exc.status}{said}")


def _said(body: Any) -> str:
    """``": <message>"`` from a Status object (or the start of a body that is not one), or
    ``""`` when the answer said nothing."""
    if not body:
        return ""
    if isinstance(body, bytes):
        body = body[:4096].decode("utf-8", "replace")
    try:
        status = json.loads(body)
    except ValueError:
        status = None
    if isinstance(status, dict) and isinstance(status.get("message"), str):
        text = status["message"]
    else:
        text = str(body)[:200]
    text = _one_line(text)
    return f": {text}" if text else ""


def _retry_after(headers: Any) -> float | None:
    """Seconds ``Retry-After`` asks for (a number or an HTTP date), or None."""
    from affidavit.web import retry_after

    return retry_after(headers.get("Retry-After") if headers is not None else None)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


# -- reading pods ----------------------------------------------------------------------------


def _pod_list(body: Any, what: str) -> dict[str, Any]:
    """``body`` when it is a PodList (``items``, ``metadata``); :class:`ProviderError`
    otherwise, since a page that cannot be read is a page missing from the snapshot."""
    if not isinstance(body, dict) or not isinstance(body.get("items", []), list):
        raise ProviderError(f"kubernetes: {what}: the answer is not a PodList")
    metadata = body.get("metadata") or {}
    token = metadata.get("continue") if isinstance(metadata, dict) else None
    if not isinstance(metadata, dict) or not isinstance(token, (str, type(None))):
        raise ProviderError(f"kubernetes: {what}: the PodList's metadata is not a ListMeta")
    items = body.get("items") or []
    if not all(isinstance(pod, dict) for pod in items):
        raise ProviderError(f"kubernetes: {what}: a PodList item is not a Pod")
    return {"items": items, "metadata": metadata}


def _field(value: Any, *keys: str) -> Any:
    """``value[k1][k2]…``, or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _namespace_of(pod: dict[str, Any]) -> str:
    namespace = _field(pod, "metadata", "namespace")
    return namespace if isinstance(namespace, str) else ""


def _containers(pod: dict[str, Any]) -> Iterable[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each container that runs for the pod's life, with its status (None before it has
    one): the app containers and the sidecars (init containers with ``restartPolicy:
    Always``); not the init containers that run to completion first, nor ephemeral debug
    containers, which are no part of what was deployed."""
    spec = _field(pod, "spec") or {}
    status = _field(pod, "status") or {}
    groups = (("containers", "containerStatuses", False),
              ("initContainers", "initContainerStatuses", True))
    for spec_key, status_key, sidecars_only in groups:
        statuses = {s.get("name"): s for s in _list(status, status_key) if isinstance(s, dict)}
        for container in _list(spec, spec_key):
            if not isinstance(container, dict):
                continue
            if sidecars_only and container.get("restartPolicy") != "Always":
                continue
            yield container, statuses.get(container.get("name"))


def _list(value: Any, key: str) -> list[Any]:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, list) else []


def _digest(image_id: Any) -> str | None:
    """The lower-case hex SHA-256 of ``imageID`` in any of the forms runtimes report:
    ``docker-pullable://repo@sha256:…``, ``repo@sha256:…``, ``sha256:…``."""
    if not isinstance(image_id, str):
        return None
    match = _DIGEST.search(image_id.strip())
    return match.group(1).lower() if match else None


def _not_yet(pod: dict[str, Any], status: dict[str, Any] | None) -> tuple[str, str | None]:
    """The state of a container with no digest, and why: its own waiting (or other) state, or
    for one with no status at all, why its pod has not started it."""
    state = _field(status, "state")
    if isinstance(state, dict):
        for name in ("waiting", "running", "terminated"):
            if isinstance(state.get(name), dict):
                reason = state[name].get("reason")
                return name, reason if isinstance(reason, str) and reason else None
    for condition in _list(_field(pod, "status"), "conditions"):
        if (isinstance(condition, dict) and condition.get("type") == "PodScheduled"
                and condition.get("status") == "False"):
            reason = condition.get("reason")
            return "waiting", reason if isinstance(reason, str) and reason else "Unscheduled"
    return "waiting", "NoStatus"


class _Tally:
    """What the pods run, per (image, digest): how many containers, in which namespaces,
    and for those without a digest, in what state and why."""

    def __init__(self) -> None:
        self.instances: dict[tuple[str, str | None], int] = {}
        self.namespaces: dict[tuple[str, str | None], set[str]] = {}
        self.waiting: dict[tuple[str, str | None], tuple[set[str], set[str]]] = {}

    def __len__(self) -> int:
        return len(self.instances)

    def add_pod(self, pod: dict[str, Any]) -> None:
        if _field(pod, "status", "phase") in _FINISHED:
            return
        namespace = _namespace_of(pod)
        for container, status in _containers(pod):
            image = container.get("image") or _field(status, "image")
            if not isinstance(image, str) or not image:
                name = _field(pod, "metadata", "name")
                raise ProviderError(f"kubernetes: pod {namespace}/{name}: container "
                                    f"{container.get('name')!r} names no image")
            image_id = _field(status, "imageID")
            digest = _digest(image_id)
            key = (image, digest)
            self._count(key, (namespace,), 1)
            if digest is None:
                state, reason = _not_yet(pod, status)
                if isinstance(image_id, str) and image_id:
                    reason = "ImageIDWithoutDigest"
                states, reasons = self.waiting.setdefault(key, (set(), set()))
                states.add(state)
                if reason:
                    reasons.add(reason)

    def _count(self, key: tuple[str, str | None], namespaces: Iterable[str], count: int) -> None:
        if key not in self.instances and len(self.instances) >= MAX_ARTIFACTS:
            raise ProviderError(f"kubernetes: more than {MAX_ARTIFACTS} distinct images run, "
                                "more than a snapshot may list")
        self.instances[key] = self.instances.get(key, 0) + count
        self.namespaces.setdefault(key, set()).update(namespaces)

    def merge(self, other: _Tally) -> int:
        """Adds ``other``'s counts to these; how many pairs ``other`` had."""
        for key, count in other.instances.items():
            self._count(key, other.namespaces[key], count)
        for key, (states, reasons) in other.waiting.items():
            mine = self.waiting.setdefault(key, (set(), set()))
            mine[0].update(states)
            mine[1].update(reasons)
        return len(other)

    def artifacts(self) -> list[dict[str, Any]]:
        from affidavit.models.build import running_artifact

        return [running_artifact(name=image, fingerprint=digest, instances=count,
                                 details=self._details((image, digest)))
                for (image, digest), count in self.instances.items()]

    def _details(self, key: tuple[str, str | None]) -> dict[str, Any]:
        namespaces = self.namespaces[key]
        details: dict[str, Any] = ({"namespace": next(iter(namespaces))}
                                   if len(namespaces) == 1 else {"namespaces": len(namespaces)})
        if key in self.waiting:
            states, reasons = self.waiting[key]
            details["state"] = ",".join(sorted(states))
            if reasons:
                details["reason"] = ",".join(sorted(reasons))
        return details
