"""``snapshot ecs`` (and the AWS client every AWS source shares) against real boto3 calls:
moto's server for what it models (clusters, tasks, batches of DescribeTasks, missing
clusters), and a local server replaying ECS's documented JSON (aws/, see SOURCES.md) for what
moto does not: pages of ListTasks, the serviceName filter, image digests, throttling and
refused credentials.

Expected values are written by hand from the fixture."""

from __future__ import annotations

import copy
import json
import socket
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from affidavit.collect.environments import aws as aws_clients
from affidavit.collect.environments import ecs
from affidavit.errors import NotFoundError, ProviderError, UsageError
from tests.collect.environments.aws_server import (  # noqa: F401 - fixtures
    REGION,
    Account,
    aws_env_fixture,
    aws_fixture,
    fixture,
    json_error,
)

CLUSTER = "shop-prod"
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
WEB_14 = "cd8c8063e1ece780d8881a24978c0be61d45b606683427e59f36c8d3790cb8a6"
WEB_15 = "cd24d5836fa94d7ff0ce1e4c39674cf18ac229c6d4f93594221c1cd67015d6f1"
WORKER = "8081ff16d0bbfe1ff96bf17147c74e1306e6edeba53ae5db46079ba285632f99"
FLUENT = "f93602b7ff17edef63290366653f94c2c56cf92cddb255545902fc18dff48a26"
FLUENT_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0"

WEB = [
    {"name": f"{REGISTRY}/web:1.4", "fingerprint": WEB_14, "instances": 2},
    {"name": f"{REGISTRY}/web:1.5", "fingerprint": WEB_15, "instances": 1},
    {"name": f"{REGISTRY}/web:1.5", "fingerprint": None, "instances": 1,
     "details": {"state": "PENDING"}},
    {"name": FLUENT_IMAGE, "fingerprint": FLUENT, "instances": 3},
    {"name": FLUENT_IMAGE, "fingerprint": None, "instances": 1, "details": {"state": "PENDING"}},
]
WORKERS = [{"name": f"{REGISTRY}/worker:2.0", "fingerprint": WORKER, "instances": 1}]


def ordered(artifacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(artifacts, key=lambda a: (a["name"], a["fingerprint"] or ""))


@pytest.fixture(autouse=True)
def strict_server(httpserver: HTTPServer) -> Any:
    """A request no test expects fails fast (599 is not retried) and fails the test."""
    httpserver.no_handler_status_code = 599
    yield
    httpserver.check_assertions()


# -- a replaying ECS endpoint -----------------------------------------------------------------


class FakeEcs:
    """ECS's ListTasks and DescribeTasks over the fixture's tasks, paged as asked, every
    request kept; ``throttle`` answers that many requests with ThrottlingException first."""

    def __init__(self, httpserver: HTTPServer, *, vanished: tuple[str, ...] = (),
                 throttle: int = 0, failure: str = "MISSING") -> None:
        self.tasks = fixture("ecs_describe_tasks.json")["tasks"]
        self.vanished = list(vanished)
        self.throttle = throttle
        self.failure = failure
        self.calls: list[tuple[str, dict[str, Any]]] = []
        httpserver.expect_request("/", method="POST").respond_with_handler(self.handle)
        self.url = httpserver.url_for("/")

    def handle(self, request: Request) -> Response:
        action = request.headers["X-Amz-Target"].rpartition(".")[2]
        body = json.loads(request.get_data())
        self.calls.append((action, body))
        if self.throttle:
            self.throttle -= 1
            return self.error("ThrottlingException", "Rate exceeded")
        if body.get("cluster") != CLUSTER:
            return self.error("ClusterNotFoundException", "Cluster not found.")
        if action == "ListTasks":
            return self.list_tasks(body)
        if action == "DescribeTasks":
            return self.describe_tasks(body)
        return self.error("InvalidAction", action)

    def list_tasks(self, body: dict[str, Any]) -> Response:
        service = body.get("serviceName")
        if service not in (None, "web", "worker"):
            return self.error("ServiceNotFoundException", "Service not found.")
        arns = [t["taskArn"] for t in self.tasks
                if service is None or t["group"] == f"service:{service}"] + self.vanished
        start = int(str(body.get("nextToken") or "tok-0").removeprefix("tok-"))
        end = start + int(body.get("maxResults") or 100)
        page: dict[str, Any] = {"taskArns": arns[start:end]}
        if end < len(arns):
            page["nextToken"] = f"tok-{end}"
        return self.answer(page)

    def describe_tasks(self, body: dict[str, Any]) -> Response:
        wanted = body["tasks"]
        assert 1 <= len(wanted) <= 100
        tasks = [copy.deepcopy(t) for t in self.tasks if t["taskArn"] in wanted]
        failures = [{"arn": arn, "reason": self.failure} for arn in wanted
                    if arn in self.vanished]
        return self.answer({"tasks": tasks, "failures": failures})

    def answer(self, body: dict[str, Any]) -> Response:
        return Response(json.dumps(body), content_type="application/x-amz-json-1.1")

    def error(self, code: str, message: str) -> Response:
        return Response(json_error(code, message), status=400,
                        content_type="application/x-amz-json-1.1")

    def actions(self) -> list[str]:
        return [action for action, _ in self.calls]


@pytest.fixture
def replay(httpserver: HTTPServer, aws_env: None) -> Any:
    def make(**kwargs: Any) -> tuple[FakeEcs, Any]:
        fake = FakeEcs(httpserver, **kwargs)
        return fake, aws_clients.client("ecs", endpoint_url=fake.url)
    return make


def test_every_running_image_is_counted_across_pages(replay: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ecs, "PAGE_SIZE", 2)
    fake, client = replay()
    assert ordered(ecs.running(client, clusters=[CLUSTER])) == ordered(WEB + WORKERS)
    lists = [body for action, body in fake.calls if action == "ListTasks"]
    assert [body.get("nextToken") for body in lists] == [None, "tok-2", "tok-4"]
    assert all(body["maxResults"] == 2 and body["desiredStatus"] == "RUNNING"
               and "serviceName" not in body for body in lists)
    described = [body["tasks"] for action, body in fake.calls if action == "DescribeTasks"]
    assert [len(batch) for batch in described] == [2, 2, 1]


def test_two_versions_of_one_image_are_two_artifacts(replay: Any) -> None:
    _, client = replay()
    found = ecs.running(client, clusters=[CLUSTER], services=["web"])
    versions = {(a["name"], a["fingerprint"]) for a in found if "/web:" in a["name"]}
    assert versions == {(f"{REGISTRY}/web:1.4", WEB_14), (f"{REGISTRY}/web:1.5", WEB_15),
                        (f"{REGISTRY}/web:1.5", None)}


def test_services_select_their_tasks_only(replay: Any) -> None:
    fake, client = replay()
    assert ecs.running(client, clusters=[CLUSTER], services=["worker"]) == WORKERS
    assert [body.get("serviceName") for action, body in fake.calls
            if action == "ListTasks"] == ["worker"]
    fake.calls.clear()
    found = ecs.running(client, clusters=[CLUSTER], services=["worker", "web", "worker"])
    assert ordered(found) == ordered(WEB + WORKERS)
    assert [body.get("serviceName") for action, body in fake.calls
            if action == "ListTasks"] == ["worker", "web"]


def test_an_unknown_service_is_not_found(replay: Any) -> None:
    _, client = replay()
    with pytest.raises(NotFoundError, match="service 'cart'.*ServiceNotFoundException"):
        ecs.running(client, clusters=[CLUSTER], services=["cart"])


def test_a_task_gone_since_it_was_listed_has_stopped(replay: Any) -> None:
    gone = f"arn:aws:ecs:{REGION}:123456789012:task/{CLUSTER}/5e6f7a8b9cad4bc4ae5f6a7b8c9daebf"
    _, client = replay(vanished=(gone,))
    assert ordered(ecs.running(client, clusters=[CLUSTER])) == ordered(WEB + WORKERS)


def test_any_other_describe_failure_leaves_the_listing_incomplete(replay: Any) -> None:
    odd = f"arn:aws:ecs:{REGION}:123456789012:task/{CLUSTER}/6f7a8b9cadbe4cd5bf6a7b8c9daebfc0"
    _, client = replay(vanished=(odd,), failure="INTERNAL_ERROR")
    with pytest.raises(ProviderError, match=f"task {odd} could not be described: INTERNAL"):
        ecs.running(client, clusters=[CLUSTER])


def test_throttling_is_backed_off_and_retried(httpserver: HTTPServer, aws_env: None) -> None:
    fake = FakeEcs(httpserver, throttle=2)
    client = aws_clients.client("ecs", endpoint_url=fake.url)
    assert ordered(ecs.running(client, clusters=[CLUSTER])) == ordered(WEB + WORKERS)
    assert fake.actions()[:3] == ["ListTasks"] * 3


def test_throttling_that_never_ends_is_a_provider_error(httpserver: HTTPServer,
                                                        aws_env: None) -> None:
    fake = FakeEcs(httpserver, throttle=1000)
    client = aws_clients.client("ecs", endpoint_url=fake.url, max_attempts=2)
    with pytest.raises(ProviderError, match="throttled the requests after 2 attempts: "
                                            "ThrottlingException: Rate exceeded") as caught:
        ecs.running(client, clusters=[CLUSTER])
    assert caught.value.exit_code == 3
    assert fake.actions() == ["ListTasks"] * 2


@pytest.mark.parametrize("code", ["UnrecognizedClientException", "AccessDeniedException"])
def test_refused_credentials_are_a_provider_error_with_aws_message(
        httpserver: HTTPServer, aws_env: None, code: str) -> None:
    message = "The security token included in the request is invalid."
    httpserver.expect_request("/", method="POST").respond_with_response(Response(
        json_error(code, message), status=400, content_type="application/x-amz-json-1.1"))
    client = aws_clients.client("ecs", endpoint_url=httpserver.url_for("/"))
    with pytest.raises(ProviderError) as caught:
        ecs.running(client, clusters=[CLUSTER])
    assert caught.value.exit_code == 3
    assert caught.value.message == (f"ECS cluster 'shop-prod': AWS refused the credentials: "
                                    f"{code}: {message}")


# -- against moto ------------------------------------------------------------------------------


def start_tasks(client: Any, cluster: str, image: str, count: int) -> None:
    client.create_cluster(clusterName=cluster)
    client.register_task_definition(
        family="web", networkMode="bridge",
        containerDefinitions=[{"name": "web", "image": image, "memory": 128}])
    while count:
        batch = min(count, 10)  # the most one RunTask starts
        client.run_task(cluster=cluster, taskDefinition="web", count=batch,
                        launchType="FARGATE")
        count -= batch


def test_more_tasks_than_one_describe_takes(aws: Account) -> None:
    client = aws.client("ecs")
    start_tasks(client, "batch", "registry.example/web:3", 105)
    described: list[int] = []
    client.meta.events.register(
        "provide-client-params.ecs.DescribeTasks",
        lambda params, **_: described.append(len(params["tasks"])))
    # moto starts no container: no digest yet, reported with its state rather than dropped
    assert ecs.running(client, clusters=["batch"]) == [
        {"name": "registry.example/web:3", "fingerprint": None, "instances": 105,
         "details": {"state": "PENDING"}}]
    assert described == [100, 5]


def test_several_clusters_are_added_up(aws: Account) -> None:
    client = aws.client("ecs")
    start_tasks(client, "blue", "registry.example/web:3", 2)
    start_tasks(client, "green", "registry.example/web:3", 3)
    client.create_cluster(clusterName="empty")
    assert ecs.running(client, clusters=["blue", "green", "empty", "blue"]) == [
        {"name": "registry.example/web:3", "fingerprint": None, "instances": 5,
         "details": {"state": "PENDING"}}]


def test_an_unknown_cluster_is_not_found(aws: Account) -> None:
    with pytest.raises(NotFoundError) as caught:
        ecs.running(aws.client("ecs"), clusters=["nowhere"])
    assert caught.value.message == ("ECS cluster 'nowhere': ClusterNotFoundException: "
                                    "Cluster not found.")


def test_no_credentials_is_a_provider_error(aws: Account,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ProviderError, match="ECS cluster 'c': no usable AWS credentials: "
                                            "Unable to locate credentials") as caught:
        ecs.running(aws_clients.client("ecs"), clusters=["c"])
    assert caught.value.exit_code == 3


@pytest.mark.parametrize(("clusters", "services", "message"), [
    ([], [], "give at least one --cluster"),
    (["a", ""], [], "--cluster must not be empty"),
    (["a", "b"], ["web"], "--service-names applies to one --cluster at a time"),
])
def test_flags_are_checked_before_any_call(clusters: list[str], services: list[str],
                                           message: str) -> None:
    with pytest.raises(UsageError, match=message):
        ecs.running(object(), clusters=clusters, services=services)


# -- the client every AWS source shares ---------------------------------------------------------


def test_the_client_retries_in_standard_mode_where_the_environment_says(
        aws: Account) -> None:
    client = aws_clients.client("ecs")
    assert client.meta.config.retries == {"mode": "standard",
                                          "total_max_attempts": aws_clients.MAX_ATTEMPTS}
    assert client.meta.region_name == REGION
    assert client.meta.endpoint_url == aws.endpoint


def test_the_region_falls_back_to_aws_default_region(
        aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    assert aws_clients.client("lambda").meta.region_name == "ap-southeast-2"
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:2")
    assert aws_clients.client("lambda").meta.endpoint_url == "http://127.0.0.1:1"
    assert aws_clients.client("ecs").meta.endpoint_url == "http://127.0.0.1:2"


def test_no_region_is_a_usage_error(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    with pytest.raises(UsageError, match="no AWS region configured"):
        aws_clients.client("ecs")


def test_an_unreachable_endpoint_is_a_provider_error_after_retries(aws_env: None) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = aws_clients.client("ecs", endpoint_url=f"http://127.0.0.1:{port}", max_attempts=2)
    with pytest.raises(ProviderError, match=f"ECS cluster 'c': AWS could not be reached: "
                                            f".*127.0.0.1:{port}") as caught:
        ecs.running(client, clusters=["c"])
    assert caught.value.exit_code == 3
