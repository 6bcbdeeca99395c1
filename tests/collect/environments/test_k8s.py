"""``snapshot k8s`` against a local server answering the Kubernetes API's pod endpoints with
PodList JSON of the documented shape (tests/collect/environments/k8s/, see its SOURCES.md),
through the real ``kubernetes`` client and a kubeconfig each test writes.

Expected values are written by hand from the fixtures: in all namespaces, two pods of the web
image's old digest (each with the log-shipper sidecar, an init container that has finished, and
one with an ephemeral debug container), one of its new digest under the same tag, coredns in
kube-system, the payments API at 3.0 and two pods still pulling 3.1, and two finished jobs."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from affidavit.collect.environments import k8s
from affidavit.errors import InputError, NotFoundError, ProviderError, UsageError
from affidavit.models.build import snapshot
from affidavit.models.records import Snapshot

FIXTURES = Path(__file__).parent / "k8s"
TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6InNob3AtY2kifQ.c25hcHNob3R0ZXI.c2lnbmF0dXJl"
ALL = "/api/v1/pods"
LIVE = "status.phase!=Succeeded,status.phase!=Failed"

WEB = "registry.example.com/shop/web:1.4"
SHIP = "registry.example.com/tools/log-shipper:2.1"
API30 = "registry.example.com/payments/api:3.0"
API31 = "registry.example.com/payments/api:3.1"
CORE = "registry.k8s.io/coredns/coredns:v1.11.1"
WEB_OLD = "6fe55abf422c852e8074a504e585acfb64868c617ef3ecb728808e9b5986f558"
WEB_NEW = "da7ec4ec7f2cea9e6c4556b77ba70f06f308a527be49de022352c820d14e5f48"
SHIP_D = "f3e66282dcf1d93027f9f5856af709542f08a2c2a6805c221698a463b78c4d05"
API30_D = "6a798f1c70f36255538950f21608748e1cbb1efa8bad5f6bd29dfd861b204e17"
CORE_D = "93cf793ad44839594db937c0a59f4129d915285e503971dbdc81f70f2a9f4b1a"

SHOP = [
    {"name": SHIP, "fingerprint": SHIP_D, "instances": 2, "details": {"namespace": "shop"}},
    {"name": WEB, "fingerprint": WEB_OLD, "instances": 2, "details": {"namespace": "shop"}},
    {"name": WEB, "fingerprint": WEB_NEW, "instances": 1, "details": {"namespace": "shop"}},
]
PAYMENTS = [
    {"name": API30, "fingerprint": API30_D, "instances": 1, "details": {"namespace": "payments"}},
    {"name": API31, "fingerprint": None, "instances": 2,
     "details": {"namespace": "payments", "state": "waiting",
                 "reason": "ContainerCreating,ImagePullBackOff"}},
]
KUBE_SYSTEM = [
    {"name": CORE, "fingerprint": CORE_D, "instances": 1, "details": {"namespace": "kube-system"}},
]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def token_of(name: str) -> str:
    token = fixture(name)["metadata"]["continue"]
    assert isinstance(token, str)
    return token


def ordered(artifacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """In the snapshot's own order, each with every field (None where the source said none)."""
    full = [{"fingerprint": None, "instances": None, "details": None, **a} for a in artifacts]
    return sorted(full, key=lambda a: (a["name"], a["fingerprint"] or "", repr(sorted(a.items()))))


def query(token: str | None = None, selector: str = LIVE) -> dict[str, str]:
    params = {"limit": "500", "fieldSelector": selector}
    if token is not None:
        params["continue"] = token
    return params


@pytest.fixture(autouse=True)
def strict_server(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A request no test expects fails fast (599 is not retried) and fails the test; no
    kubeconfig or in-cluster setting of the machine running the tests is read."""
    httpserver.no_handler_status_code = 599
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    yield
    httpserver.check_assertions()


def write_kubeconfig(path: Path, server: str, *, token: str = TOKEN) -> Path:
    """Two clusters: the test server (current context) and one nothing listens on, so that a
    test choosing the wrong context fails."""
    path.write_text(f"""\
apiVersion: v1
kind: Config
clusters:
- name: shop-prod
  cluster:
    server: {server}
- name: shop-staging
  cluster:
    server: http://127.0.0.1:9
contexts:
- name: ci@shop-staging
  context:
    cluster: shop-staging
    user: ci
- name: ci@shop-prod
  context:
    cluster: shop-prod
    user: ci
    namespace: shop
current-context: ci@shop-prod
preferences: {{}}
users:
- name: ci
  user:
    token: {token}
""")
    return path


@pytest.fixture
def kubeconfig(tmp_path: Path, httpserver: HTTPServer) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", httpserver.url_for("").rstrip("/"))


@pytest.fixture
def waits() -> list[float]:
    return []


def run(kubeconfig: Path, waits: list[float], **selection: Any) -> list[dict[str, Any]]:
    api = k8s.client_from(str(kubeconfig), None)
    return ordered(k8s.running(api, sleep=waits.append, **selection))


def expect(httpserver: HTTPServer, path: str, body: Any, params: dict[str, str],
           *, status: int = 200, oneshot: bool = False, headers: dict[str, str] | None = None
           ) -> None:
    expected = {"Authorization": f"Bearer {TOKEN}"}
    matcher = httpserver.expect_oneshot_request if oneshot else httpserver.expect_request
    matcher(path, method="GET", query_string=params, headers=expected).respond_with_json(
        body, status=status, headers=headers)


def serve_all(httpserver: HTTPServer, selector: str = LIVE) -> None:
    """The three pages of every namespace, each answered only for its own continue token."""
    expect(httpserver, ALL, fixture("pods_all_page1.json"), query(None, selector))
    expect(httpserver, ALL, fixture("pods_all_page2.json"),
           query(token_of("pods_all_page1.json"), selector))
    expect(httpserver, ALL, fixture("pods_all_page3.json"),
           query(token_of("pods_all_page2.json"), selector))


# -- what runs -------------------------------------------------------------------------------


def test_every_page_of_every_namespace(httpserver: HTTPServer, kubeconfig: Path,
                                       waits: list[float]) -> None:
    """The second page is empty but has a token: only a page without one is the last. Pods
    with the same image and digest are one artifact counted per container; the same tag at
    two digests (a rollout half done) is two; finished jobs, regular init containers and
    ephemeral containers are not running."""
    serve_all(httpserver)
    got = run(kubeconfig, waits)
    assert got == ordered(SHOP + PAYMENTS + KUBE_SYSTEM)
    assert len(httpserver.log) == 3
    assert waits == []


def test_two_versions_of_one_deployment_are_two_artifacts(httpserver: HTTPServer,
                                                          kubeconfig: Path,
                                                          waits: list[float]) -> None:
    serve_all(httpserver)
    web = [a for a in run(kubeconfig, waits) if a["name"] == WEB]
    assert [(a["fingerprint"], a["instances"]) for a in web] == [(WEB_OLD, 2), (WEB_NEW, 1)]


def test_the_result_is_a_valid_snapshot(httpserver: HTTPServer, kubeconfig: Path,
                                        waits: list[float]) -> None:
    serve_all(httpserver)
    api = k8s.client_from(str(kubeconfig), None)
    record = snapshot(environment="prod", source="k8s", artifacts=k8s.running(api))
    Snapshot.model_validate(record)
    assert [a.get("fingerprint") for a in record["artifacts"]] == [
        a["fingerprint"] for a in ordered(SHOP + PAYMENTS + KUBE_SYSTEM)]


def test_only_the_namespaces_named(httpserver: HTTPServer, kubeconfig: Path,
                                   waits: list[float]) -> None:
    """Each named namespace is listed on its own, every page of it; a pod not yet scheduled
    runs the web image at no known digest yet, and says why."""
    shop = "/api/v1/namespaces/shop/pods"
    expect(httpserver, shop, fixture("pods_shop_page1.json"), query())
    expect(httpserver, shop, fixture("pods_shop_page2.json"),
           query(token_of("pods_shop_page1.json")))
    expect(httpserver, "/api/v1/namespaces/payments/pods", fixture("pods_payments.json"),
           query())
    got = run(kubeconfig, waits, namespaces=["shop", "payments", "shop"])
    unscheduled = {"name": WEB, "fingerprint": None, "instances": 1,
                   "details": {"namespace": "shop", "state": "waiting",
                               "reason": "Unschedulable"}}
    assert got == ordered(SHOP + PAYMENTS + [unscheduled])
    assert [r.path for r, _ in httpserver.log] == [shop, shop, "/api/v1/namespaces/payments/pods"]


def test_all_but_the_namespaces_excluded(httpserver: HTTPServer, kubeconfig: Path,
                                         waits: list[float]) -> None:
    """The server is asked to leave them out, and what it sends anyway is left out here."""
    serve_all(httpserver, LIVE + ",metadata.namespace!=kube-system")
    assert run(kubeconfig, waits, exclude_namespaces=["kube-system"]) == ordered(SHOP + PAYMENTS)


def test_one_image_in_two_namespaces_counts_them(httpserver: HTTPServer, kubeconfig: Path,
                                                 waits: list[float]) -> None:
    page = fixture("pods_payments.json")
    moved = json.loads(json.dumps(page["items"][0]))
    moved["metadata"]["namespace"] = "payments-canary"
    page["items"].append(moved)
    expect(httpserver, ALL, page, query())
    got = [a for a in run(kubeconfig, waits) if a["name"] == API30]
    assert got == ordered([{"name": API30, "fingerprint": API30_D, "instances": 2,
                            "details": {"namespaces": 2}}])


def test_namespace_and_exclude_together_is_a_usage_error(kubeconfig: Path,
                                                         waits: list[float]) -> None:
    with pytest.raises(UsageError, match="--namespace and --exclude-namespace"):
        run(kubeconfig, waits, namespaces=["shop"], exclude_namespaces=["kube-system"])


@pytest.mark.parametrize("name", ["Shop", "../secrets", "", "a" * 64])
def test_a_namespace_that_cannot_exist_is_a_usage_error(kubeconfig: Path, waits: list[float],
                                                        name: str) -> None:
    with pytest.raises(UsageError, match="not a Kubernetes namespace name"):
        run(kubeconfig, waits, namespaces=[name])


# -- a namespace with no pods ----------------------------------------------------------------


def test_an_unknown_namespace_is_not_found(httpserver: HTTPServer, kubeconfig: Path,
                                           waits: list[float]) -> None:
    """Kubernetes lists no pods for a namespace that does not exist; reading the namespace
    tells a typo from an empty one."""
    expect(httpserver, "/api/v1/namespaces/shpo/pods", fixture("pods_empty.json"), query())
    expect(httpserver, "/api/v1/namespaces/shpo", fixture("status_404_namespace.json"), {},
           status=404)
    with pytest.raises(NotFoundError, match="namespace 'shpo' does not exist"):
        run(kubeconfig, waits, namespaces=["shpo"])


def test_an_empty_namespace_is_empty(httpserver: HTTPServer, kubeconfig: Path,
                                     waits: list[float]) -> None:
    expect(httpserver, "/api/v1/namespaces/staging/pods", fixture("pods_empty.json"), query())
    expect(httpserver, "/api/v1/namespaces/staging", fixture("namespace_staging.json"), {})
    assert run(kubeconfig, waits, namespaces=["staging"]) == []


def test_credentials_that_cannot_read_namespaces_take_it_as_empty(
        httpserver: HTTPServer, kubeconfig: Path, waits: list[float]) -> None:
    expect(httpserver, "/api/v1/namespaces/staging/pods", fixture("pods_empty.json"), query())
    expect(httpserver, "/api/v1/namespaces/staging", fixture("status_403_namespace.json"), {},
           status=403)
    assert run(kubeconfig, waits, namespaces=["staging"]) == []


# -- retries and refusals --------------------------------------------------------------------


def test_429_waits_as_long_as_retry_after_asks(httpserver: HTTPServer, kubeconfig: Path,
                                               waits: list[float]) -> None:
    expect(httpserver, ALL, fixture("status_429.json"), query(), status=429, oneshot=True,
           headers={"Retry-After": "3"})
    serve_all(httpserver)
    assert run(kubeconfig, waits) == ordered(SHOP + PAYMENTS + KUBE_SYSTEM)
    assert waits == [3.0]


def test_a_500_mid_listing_is_retried_with_backoff(httpserver: HTTPServer, kubeconfig: Path,
                                                   waits: list[float]) -> None:
    expect(httpserver, ALL, fixture("status_500.json"), query(token_of("pods_all_page1.json")),
           status=500, oneshot=True)
    expect(httpserver, ALL, fixture("status_500.json"), query(token_of("pods_all_page1.json")),
           status=503, oneshot=True)
    serve_all(httpserver)
    assert run(kubeconfig, waits) == ordered(SHOP + PAYMENTS + KUBE_SYSTEM)
    assert waits == [0.5, 1.0]


def test_an_outage_is_a_provider_error_never_a_smaller_snapshot(
        httpserver: HTTPServer, kubeconfig: Path, waits: list[float],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFIDAVIT_HTTP_RETRIES", "3")
    expect(httpserver, ALL, fixture("pods_all_page1.json"), query())
    expect(httpserver, ALL, fixture("status_500.json"), query(token_of("pods_all_page1.json")),
           status=500)
    with pytest.raises(ProviderError) as caught:
        run(kubeconfig, waits)
    assert caught.value.message == (
        "kubernetes: pods in all namespaces: failed after 3 attempts (HTTP 500: Internal "
        "error occurred: etcdserver: request timed out)")
    assert caught.value.exit_code == 3
    assert waits == [0.5, 1.0]


def test_a_retry_after_longer_than_a_minute_is_an_outage(httpserver: HTTPServer,
                                                         kubeconfig: Path,
                                                         waits: list[float]) -> None:
    expect(httpserver, ALL, fixture("status_429.json"), query(), status=429,
           headers={"Retry-After": "600"})
    with pytest.raises(ProviderError, match="throttled for 600 s"):
        run(kubeconfig, waits)
    assert waits == []


def test_a_server_that_is_not_there(tmp_path: Path, waits: list[float],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFIDAVIT_HTTP_RETRIES", "2")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{port}")
    with pytest.raises(ProviderError, match="failed after 2 attempts") as caught:
        run(config, waits)
    assert "\n" not in caught.value.message
    assert waits == [0.5]


def test_403_is_a_provider_error_with_the_api_servers_message(
        httpserver: HTTPServer, kubeconfig: Path, waits: list[float]) -> None:
    expect(httpserver, ALL, fixture("status_403.json"), query(), status=403)
    with pytest.raises(ProviderError) as caught:
        run(kubeconfig, waits)
    assert caught.value.message == (
        'kubernetes: pods in all namespaces: refused (HTTP 403): pods is forbidden: User '
        '"system:serviceaccount:ci:snapshotter" cannot list resource "pods" in API group "" '
        'at the cluster scope')
    assert caught.value.exit_code == 3
    assert waits == []


def test_401_is_a_provider_error(httpserver: HTTPServer, kubeconfig: Path,
                                 waits: list[float]) -> None:
    expect(httpserver, "/api/v1/namespaces/shop/pods", fixture("status_401.json"), query(),
           status=401)
    with pytest.raises(ProviderError, match=r"namespace 'shop': refused \(HTTP 401\): "
                                            r"Unauthorized$"):
        run(kubeconfig, waits, namespaces=["shop"])


def test_an_expired_continue_token_starts_the_listing_again(
        httpserver: HTTPServer, kubeconfig: Path, waits: list[float]) -> None:
    """Nothing of the first try is counted twice, and the 410's own token (which would finish
    the list from a newer state) is not used."""
    expect(httpserver, ALL, fixture("status_410_expired.json"),
           query(token_of("pods_all_page1.json")), status=410, oneshot=True)
    serve_all(httpserver)
    assert run(kubeconfig, waits) == ordered(SHOP + PAYMENTS + KUBE_SYSTEM)
    assert [r.args.get("continue") for r, _ in httpserver.log] == [
        None, token_of("pods_all_page1.json"), None, token_of("pods_all_page1.json"),
        token_of("pods_all_page2.json")]


def test_a_continue_token_that_loops_is_refused(httpserver: HTTPServer, kubeconfig: Path,
                                                waits: list[float]) -> None:
    looping = fixture("pods_all_page2.json")
    looping["metadata"]["continue"] = token_of("pods_all_page1.json")
    expect(httpserver, ALL, fixture("pods_all_page1.json"), query())
    expect(httpserver, ALL, looping, query(token_of("pods_all_page1.json")))
    with pytest.raises(ProviderError, match="same continue token twice"):
        run(kubeconfig, waits)


def test_an_answer_that_is_not_a_pod_list(httpserver: HTTPServer, kubeconfig: Path,
                                          waits: list[float]) -> None:
    httpserver.expect_request(ALL).respond_with_data("<html>proxy login</html>",
                                                     content_type="text/html")
    with pytest.raises(ProviderError, match="not JSON"):
        run(kubeconfig, waits)


# -- the kubeconfig --------------------------------------------------------------------------


def test_a_missing_kubeconfig_is_an_input_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(InputError) as caught:
        k8s.client_from(str(missing), None)
    assert caught.value.message == f"{missing}: no such kubeconfig file"


@pytest.mark.parametrize("text", [
    "clusters: [unclosed\n",
    "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
    "- just\n- a list\n",
])
def test_a_broken_kubeconfig_is_one_line_naming_it(tmp_path: Path, text: str) -> None:
    broken = tmp_path / "kubeconfig"
    broken.write_text(text)
    with pytest.raises(InputError) as caught:
        k8s.client_from(str(broken), None)
    assert caught.value.message.startswith(f"{broken}: not a usable kubeconfig (")
    assert "\n" not in caught.value.message


def test_an_unknown_context_names_the_file(kubeconfig: Path) -> None:
    with pytest.raises(InputError, match=f"^{kubeconfig}: not a usable kubeconfig .*nowhere"):
        k8s.client_from(str(kubeconfig), "nowhere")


def test_the_context_chosen_is_the_cluster_asked(httpserver: HTTPServer, kubeconfig: Path,
                                                 waits: list[float]) -> None:
    """The current context is the test server; the other one's port has nothing on it."""
    api = k8s.client_from(str(kubeconfig), "ci@shop-staging")
    assert api.configuration.host == "http://127.0.0.1:9"
    assert k8s.client_from(str(kubeconfig), "ci@shop-prod").configuration.host == (
        httpserver.url_for("").rstrip("/"))


def test_plain_http_to_another_host_is_refused(tmp_path: Path) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", "http://cluster.example.com:8080")
    with pytest.raises(InputError, match="plain http, which is only for a server on this"):
        k8s.client_from(str(config), None)


def test_kubeconfig_variable_and_default_file(httpserver: HTTPServer, tmp_path: Path,
                                              waits: list[float],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --kubeconfig: KUBECONFIG, even in a pod (a job that deploys elsewhere), else
    ~/.kube/config."""
    serve_all(httpserver)
    server = httpserver.url_for("").rstrip("/")
    config = write_kubeconfig(tmp_path / "from-env", server)
    monkeypatch.setenv("KUBECONFIG", str(config))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    assert k8s.client_from(None, None).configuration.host == server
    monkeypatch.delenv("KUBECONFIG")
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".kube").mkdir()
    write_kubeconfig(tmp_path / ".kube" / "config", server)
    assert ordered(k8s.running(k8s.client_from(None, None))) == ordered(
        SHOP + PAYMENTS + KUBE_SYSTEM)


def test_no_default_kubeconfig_names_where_it_looked(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(InputError, match=r"\.kube/config: no such kubeconfig file"):
        k8s.client_from(None, None)


def test_in_cluster_without_a_service_account_is_an_input_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    if Path("/var/run/secrets/kubernetes.io/serviceaccount/token").exists():
        pytest.skip("this machine is a pod with a service account")
    with pytest.raises(InputError, match="^in-cluster config .*token file does not exist"):
        k8s.client_from(None, None)


def test_an_image_id_without_a_sha256_is_reported_not_dropped(
        httpserver: HTTPServer, kubeconfig: Path, waits: list[float]) -> None:
    page = fixture("pods_payments.json")
    page["items"][0]["status"]["containerStatuses"][0]["imageID"] = (
        "registry.example.com/payments/api@sha512:" + "ab" * 64)
    expect(httpserver, ALL, page, query())
    got = [a for a in run(kubeconfig, waits) if a["name"] == API30]
    assert got == ordered([{"name": API30, "fingerprint": None, "instances": 1,
                            "details": {"namespace": "payments", "state": "running",
                                        "reason": "ImageIDWithoutDigest"}}])


def test_a_redirect_is_not_followed(httpserver: HTTPServer, kubeconfig: Path,
                                    waits: list[float]) -> None:
    httpserver.expect_request(ALL).respond_with_data(
        "", status=302, headers={"Location": "https://login.example.com/"})
    with pytest.raises(ProviderError, match=r"pods in all namespaces: HTTP 302$"):
        run(kubeconfig, waits)


def test_tls_to_a_server_that_speaks_none_fails_at_once(httpserver: HTTPServer, tmp_path: Path,
                                                        waits: list[float]) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig",
                              httpserver.url_for("").rstrip("/").replace("http:", "https:"))
    with pytest.raises(ProviderError, match="TLS failed") as caught:
        run(config, waits)
    assert "\n" not in caught.value.message
    assert waits == []


def test_without_the_kubernetes_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("kubernetes", "kubernetes.client", "kubernetes.config"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(UsageError, match="needs the Kubernetes client") as caught:
        k8s.client_from(str(tmp_path / "kubeconfig"), None)
    assert caught.value.remedy == "pip install 'affidavit[k8s]'"


def test_a_listing_that_always_expires_is_an_outage(httpserver: HTTPServer, kubeconfig: Path,
                                                    waits: list[float]) -> None:
    expect(httpserver, ALL, fixture("pods_all_page1.json"), query())
    expect(httpserver, ALL, fixture("status_410_expired.json"),
           query(token_of("pods_all_page1.json")), status=410)
    with pytest.raises(ProviderError, match="the listing expired 4 times before its last page"):
        run(kubeconfig, waits)
    assert len(httpserver.log) == 8
