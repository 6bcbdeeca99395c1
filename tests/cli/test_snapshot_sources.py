"""``snapshot k8s|docker|cloud-run`` end to end through the CLI, on every backend, against the
fake Kubernetes API, Docker Engine and Cloud Run Admin API of tests/collect/environments/
(whose fixtures tell what runs): what each finds is recorded once, again is "unchanged", a
source refuses an environment of another type, and a source error writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.collect.environments import test_cloudrun, test_docker, test_ecs, test_k8s, test_lambdas
from tests.collect.environments.aws_server import REGION, aws_env_fixture  # noqa: F401 - fixture
from tests.collect.environments.test_cloudrun import serve_region
from tests.collect.environments.test_docker import Engine
from tests.collect.environments.test_k8s import serve_all, write_kubeconfig
from tests.helpers import Result, assert_error, ok

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

Cli = Callable[..., Result]


@pytest.fixture(autouse=True)
def strict(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    httpserver.no_handler_status_code = 599  # not retried: an unexpected request fails fast
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "DOCKER_HOST", "DOCKER_TLS_VERIFY",
                 "DOCKER_CERT_PATH", "GOOGLE_OAUTH_ACCESS_TOKEN", "CLOUDSDK_AUTH_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    yield


def entries(cli: Cli) -> int:
    return len(ok(cli("log", "ledger", "--output", "json")).json())


def recorded(cli: Cli, env: str) -> list[tuple[str, str | None, int | None]]:
    got = ok(cli("get", "snapshot", env, "--output", "json")).json()
    return [(a["name"], a.get("fingerprint"), a.get("instances")) for a in got["artifacts"]]


def expected(artifacts: list[dict[str, Any]]) -> list[tuple[str, str | None, int | None]]:
    """In the order a snapshot keeps (name, then fingerprint, an unknown one first)."""
    return sorted(((a["name"], a.get("fingerprint"), a.get("instances")) for a in artifacts),
                  key=lambda row: (row[0], row[1] or ""))


def test_snapshot_k8s(cli: Cli, httpserver: HTTPServer, tmp_path: Path) -> None:
    serve_all(httpserver)
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", httpserver.url_for("").rstrip("/"))
    ok(cli("create", "environment", "cluster", "--type", "k8s"))
    made = ok(cli("snapshot", "k8s", "cluster", "--kubeconfig", kubeconfig, "--output", "json"))
    assert (made.json()["number"], made.json()["changed"]) == (1, True)
    # a rollout half done (both versions of web) and a container still pulling, recorded
    assert recorded(cli, "cluster") == expected(
        test_k8s.SHOP + test_k8s.PAYMENTS + test_k8s.KUBE_SYSTEM)
    again = ok(cli("snapshot", "k8s", "cluster", "--kubeconfig", kubeconfig))
    assert "unchanged since snapshot #1" in again.out
    ok(cli("create", "environment", "box", "--type", "docker"))
    assert_error(cli("snapshot", "k8s", "box", "--kubeconfig", kubeconfig), 2,
                 "a docker environment")
    assert_error(cli("snapshot", "k8s", "cluster", "--kubeconfig", tmp_path / "missing"), 2,
                 "missing")
    assert_error(cli("snapshot", "k8s", "cluster", "--kubeconfig", kubeconfig,
                     "--namespace", "shop", "--exclude-namespace", "kube-system"), 2,
                 "cannot be used together")
    assert entries(cli) == 3


def test_snapshot_docker(cli: Cli, httpserver: HTTPServer) -> None:
    engine = Engine()
    url = test_docker.tcp.__wrapped__(httpserver, engine)  # type: ignore[attr-defined]
    ok(cli("create", "environment", "box", "--type", "docker"))
    ok(cli("snapshot", "docker", "box", "--docker-host", url))
    assert recorded(cli, "box") == expected(test_docker.EXPECTED)
    assert "unchanged" in ok(cli("snapshot", "docker", "box", "--docker-host", url)).out
    assert_error(cli("snapshot", "docker", "box", "--docker-host", "tcp://127.0.0.1:9"), 3,
                 "cannot reach the Docker Engine")
    assert entries(cli) == 2


def test_snapshot_cloud_run(cli: Cli, httpserver: HTTPServer,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    serve_region(httpserver)
    base = httpserver.url_for("/")
    ok(cli("create", "environment", "run", "--type", "cloud-run"))
    flags = ("--project", "acme-shop", "--region", "europe-west1", "--base-url", base)
    assert_error(cli("snapshot", "cloud-run", "run", *flags), 2, "needs an access token")
    monkeypatch.setenv("GOOGLE_OAUTH_ACCESS_TOKEN", test_cloudrun.TOKEN)
    ok(cli("snapshot", "cloud-run", "run", *flags))
    assert recorded(cli, "run") == expected(test_cloudrun.EXPECTED)
    assert "unchanged" in ok(cli("snapshot", "cloud-run", "run", *flags)).out
    assert_error(cli("snapshot", "cloud-run", "run", *flags, "--access-token", "wrong"), 3)
    assert entries(cli) == 2


# -- AWS: the sources' replaying endpoints (ECS, Lambda) and moto's server (S3) ----------------

def test_snapshot_ecs(cli: Cli, httpserver: HTTPServer, aws_env: None,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    fake = test_ecs.FakeEcs(httpserver)
    monkeypatch.setenv("AWS_ENDPOINT_URL", fake.url)
    ok(cli("create", "environment", "tasks", "--type", "ecs"))
    ok(cli("snapshot", "ecs", "tasks", "--cluster", test_ecs.CLUSTER))
    assert recorded(cli, "tasks") == expected(test_ecs.WEB + test_ecs.WORKERS)
    assert "unchanged" in ok(cli("snapshot", "ecs", "tasks", "--cluster", test_ecs.CLUSTER)).out
    assert entries(cli) == 2


def test_snapshot_lambda(cli: Cli, httpserver: HTTPServer, aws_env: None,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    fake = test_lambdas.FakeLambda(httpserver)
    monkeypatch.setenv("AWS_ENDPOINT_URL", fake.url)
    ok(cli("create", "environment", "functions", "--type", "lambda"))
    ok(cli("snapshot", "lambda", "functions"))
    assert recorded(cli, "functions") == expected(test_lambdas.EVERY)
    assert_error(cli("snapshot", "lambda", "functions", "--function-names", "nope"), 2, "nope")
    assert entries(cli) == 2


def test_snapshot_s3(cli: Cli, moto_endpoint: str, aws_env: None, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    bucket = f"site-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    files = {"index.html": b"<h1>shop</h1>", "css/site.css": b"body {}", "logs/a.log": b"x"}
    for key, data in files.items():
        client.put_object(Bucket=bucket, Key=key, Body=data)
        (tmp_path / "site" / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "site" / key).write_bytes(data)
    (tmp_path / "site" / "logs" / "a.log").unlink()
    (tmp_path / "site" / "logs").rmdir()
    ok(cli("create", "environment", "static", "--type", "s3"))
    ok(cli("snapshot", "s3", "static", "--bucket", bucket, "--exclude", "^logs/"))
    site = ok(cli("fingerprint", tmp_path / "site", "--artifact-type", "dir")).out.strip()
    assert recorded(cli, "static") == [(bucket, site, None)]
    assert_error(cli("snapshot", "s3", "static", "--bucket", bucket + "-gone"), 2)
    assert entries(cli) == 2
