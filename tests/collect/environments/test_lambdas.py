"""``snapshot lambda`` against real boto3 calls: moto's server for Zip and Image functions
(moto creates both without docker: only invoking runs a container, and an Image function's
ECR image is stubbed, its digest being the SHA-256 of its image URI), and a local server
replaying Lambda's documented JSON (aws/, see SOURCES.md) for pages of ListFunctions, which
moto answers in one.

Expected values are written by hand from the fixtures."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from affidavit.collect.environments import aws as aws_clients
from affidavit.collect.environments import lambdas
from affidavit.errors import NotFoundError, ProviderError, UsageError
from tests.collect.environments.aws_server import (  # noqa: F401 - fixtures
    Account,
    aws_env_fixture,
    aws_fixture,
    fixture,
    json_error,
)

CHECKOUT = "178f797bc5cedf1f0eb4f276655f0354bcd5874fdb8121d7a3b5399242306d5f"
EMAIL = "01798914a1186026706e27ff66c9da9c95f8190a5091af0c14a3313e64c14daf"
REPORT = "726c2a3cbce11ac40d53efe7aeb4da80e7b7da603c177c4677d7b322d6d629ea"
PDF = "b48f603eb0e6674dc22f3391e7b86e2f656f42104280c8a13dcac9f79fce2bdb"
THUMB = "f5a94d6467934f03d512face06166bc5839130ce6178f497b9db60ad489fc1ec"


def zipped(name: str, fingerprint: str, runtime: str) -> dict[str, Any]:
    return {"name": name, "fingerprint": fingerprint,
            "details": {"package_type": "Zip", "version": "$LATEST", "runtime": runtime}}


def image(name: str, fingerprint: str | None) -> dict[str, Any]:
    return {"name": name, "fingerprint": fingerprint,
            "details": {"package_type": "Image", "version": "$LATEST"}}


EVERY = [
    zipped("checkout-api", CHECKOUT, "python3.12"),
    image("pdf-renderer", PDF),
    zipped("email-sender", EMAIL, "nodejs20.x"),
    zipped("nightly-report", REPORT, "python3.11"),
    image("thumbnailer", THUMB),
]


@pytest.fixture(autouse=True)
def strict_server(httpserver: HTTPServer) -> Any:
    """A request no test expects fails fast (599 is not retried) and fails the test."""
    httpserver.no_handler_status_code = 599
    yield
    httpserver.check_assertions()


# -- a replaying Lambda endpoint ----------------------------------------------------------------


class FakeLambda:
    """Lambda's ListFunctions (paged by MaxItems and Marker) and GetFunction over the
    fixtures, every request kept."""

    def __init__(self, httpserver: HTTPServer) -> None:
        self.functions = fixture("lambda_list_functions.json")["Functions"]
        self.code = fixture("lambda_get_function.json")
        self.calls: list[tuple[str, dict[str, str]]] = []
        httpserver.expect_request("/2015-03-31/functions", method="GET").respond_with_handler(
            self.list_functions)
        httpserver.expect_request(re.compile(r"^/2015-03-31/functions/[^/]+$"), method="GET"
                                  ).respond_with_handler(self.get_function)
        self.url = httpserver.url_for("/")

    def list_functions(self, request: Request) -> Response:
        query = dict(request.args)
        self.calls.append(("ListFunctions", query))
        start = int(query.get("Marker", "0").removeprefix("marker-"))
        end = start + int(query.get("MaxItems", "50"))
        page: dict[str, Any] = {"Functions": self.functions[start:end]}
        if end < len(self.functions):
            page["NextMarker"] = f"marker-{end}"
        return Response(json.dumps(page), content_type="application/json")

    def get_function(self, request: Request) -> Response:
        name = request.path.rpartition("/")[2]
        self.calls.append(("GetFunction", {"FunctionName": name}))
        if name in self.code:
            return Response(json.dumps(self.code[name]), content_type="application/json")
        config = next((c for c in self.functions if c["FunctionName"] == name), None)
        if config is None or config["PackageType"] == "Image":
            arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{name}"
            return Response(json.dumps({"Type": "User", "Message": f"Function not found: {arn}"}),
                            status=404, content_type="application/json",
                            headers={"x-amzn-ErrorType": "ResourceNotFoundException"})
        body = {"Configuration": config, "Code": {"RepositoryType": "S3", "Location":
                f"https://awslambda-eu-west-1-tasks.s3.eu-west-1.amazonaws.com/snapshots/{name}"}}
        return Response(json.dumps(body), content_type="application/json")


@pytest.fixture
def fake(httpserver: HTTPServer, aws_env: None) -> FakeLambda:
    return FakeLambda(httpserver)


def test_every_function_across_pages(fake: FakeLambda, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambdas, "PAGE_SIZE", 2)
    client = aws_clients.client("lambda", endpoint_url=fake.url)
    assert lambdas.running(client) == EVERY
    assert [query for action, query in fake.calls if action == "ListFunctions"] == [
        {"MaxItems": "2"}, {"MaxItems": "2", "Marker": "marker-2"},
        {"MaxItems": "2", "Marker": "marker-4"}]
    # an Image function's digest is the resolved image's, which only GetFunction gives
    assert [query["FunctionName"] for action, query in fake.calls
            if action == "GetFunction"] == ["pdf-renderer", "thumbnailer"]


def test_named_functions_only(fake: FakeLambda) -> None:
    client = aws_clients.client("lambda", endpoint_url=fake.url)
    found = lambdas.running(client, functions=["thumbnailer", "email-sender", "thumbnailer"])
    assert found == [image("thumbnailer", THUMB), zipped("email-sender", EMAIL, "nodejs20.x")]
    assert [action for action, _ in fake.calls] == ["GetFunction", "GetFunction"]


def test_a_function_deleted_since_it_was_listed_no_longer_runs(fake: FakeLambda) -> None:
    del fake.code["thumbnailer"]
    fake.functions[-1]["FunctionName"] = "deleted"  # GetFunction answers 404 for it
    client = aws_clients.client("lambda", endpoint_url=fake.url)
    assert lambdas.running(client) == EVERY[:-1]


def test_an_image_not_resolved_yet_has_no_fingerprint(fake: FakeLambda) -> None:
    del fake.code["pdf-renderer"]["Code"]["ResolvedImageUri"]
    client = aws_clients.client("lambda", endpoint_url=fake.url)
    assert lambdas.running(client, functions=["pdf-renderer"]) == [image("pdf-renderer", None)]


@pytest.mark.parametrize("value", ["not base64!", "c2hvcnQ=", ""])
def test_a_code_sha256_that_is_no_sha256_is_refused(fake: FakeLambda, value: str) -> None:
    fake.functions[0]["CodeSha256"] = value
    client = aws_clients.client("lambda", endpoint_url=fake.url)
    with pytest.raises(ProviderError, match="Lambda function 'checkout-api': CodeSha256"):
        lambdas.running(client)


def test_throttling_is_retried(httpserver: HTTPServer, aws_env: None) -> None:
    answers = iter([Response(json_error("TooManyRequestsException", "Rate exceeded"),
                             status=429, content_type="application/json",
                             headers={"x-amzn-ErrorType": "TooManyRequestsException"}),
                    Response(json.dumps({"Functions": []}), content_type="application/json")])
    httpserver.expect_request("/2015-03-31/functions").respond_with_handler(
        lambda request: next(answers))
    client = aws_clients.client("lambda", endpoint_url=httpserver.url_for("/"))
    assert lambdas.running(client) == []
    assert len(httpserver.log) == 2


# -- against moto --------------------------------------------------------------------------------


def role(aws: Account) -> str:
    iam = aws.client("iam")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]})
    return str(iam.create_role(RoleName="runner", AssumeRolePolicyDocument=policy
                               )["Role"]["Arn"])


def test_zip_and_image_functions(aws: Account) -> None:
    client = aws.client("lambda")
    runner = role(aws)
    package = zip_of("def handler(event, context):\n    return 1\n")
    client.create_function(FunctionName="api", Runtime="python3.12", Role=runner,
                           Handler="app.handler", Code={"ZipFile": package})
    uri = f"{aws.id}.dkr.ecr.eu-west-1.amazonaws.com/renderer:v7"
    client.create_function(FunctionName="renderer", Role=runner, PackageType="Image",
                           Code={"ImageUri": uri})
    api = zipped("api", hashlib.sha256(package).hexdigest(), "python3.12")
    renderer = image("renderer", hashlib.sha256(uri.encode()).hexdigest())  # moto's stub
    assert lambdas.running(client) == [api, renderer]
    assert lambdas.running(client, functions=["renderer"]) == [renderer]
    assert lambdas.running(client, functions=[f"arn:aws:lambda:eu-west-1:{aws.id}:function:api"]
                           ) == [api]

    newer = zip_of("def handler(event, context):\n    return 2\n")
    client.update_function_code(FunctionName="api", ZipFile=newer)
    assert lambdas.running(client, functions=["api"]) == [
        zipped("api", hashlib.sha256(newer).hexdigest(), "python3.12")]


def test_an_account_without_functions_runs_none(aws: Account) -> None:
    assert lambdas.running(aws.client("lambda")) == []


def test_an_unknown_function_is_not_found(aws: Account) -> None:
    with pytest.raises(NotFoundError) as caught:
        lambdas.running(aws.client("lambda"), functions=["ghost"])
    assert caught.value.exit_code == 2
    assert caught.value.message == (
        f"Lambda function 'ghost': ResourceNotFoundException: Function not found: "
        f"arn:aws:lambda:eu-west-1:{aws.id}:function:ghost")


def test_no_credentials_is_a_provider_error(aws: Account,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ProviderError, match="Lambda functions: no usable AWS credentials"):
        lambdas.running(aws_clients.client("lambda"))


def test_an_empty_name_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--function-names must not be empty"):
        lambdas.running(object(), functions=["api", " "])


def zip_of(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("app.py", (2026, 1, 1, 0, 0, 0)), source)
    return buffer.getvalue()
