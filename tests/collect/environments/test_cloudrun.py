"""``snapshot cloud-run`` against a local server answering the Cloud Run Admin API v2 with JSON
written from its reference (tests/collect/environments/cloudrun/SOURCES.md).

Expected values are written by hand from the fixtures. The region has three pages of services:
``checkout`` splits traffic 90/10 between two revisions (the second also tagged), ``catalog``
sends all of it to its latest ready revision (a main container and a sidecar), ``search`` runs
an image named by tag only, ``ledger`` splits it between two revisions of the same image and
tags a third revision with no traffic, and ``broken`` never became ready."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from affidavit.collect.environments import cloudrun
from affidavit.collect.pullrequests.http import Api
from affidavit.errors import NotFoundError, ProviderError, UsageError

FIXTURES = Path(__file__).parent / "cloudrun"
TOKEN = "ya29.a0AfB_byC3k9QmZr7Xn2LwVt5Hs8Pd1Ge6Jf4Ku0Oi"
PARENT = "/v2/projects/acme-shop/locations/europe-west1"
SERVICES = f"{PARENT}/services"
AR = "europe-west1-docker.pkg.dev/acme-shop"
PAGE2, PAGE3 = "CgdjYXRhbG9nEAI", "CgZsZWRnZXIQBA"

CHECKOUT_12 = "4e69437e70538b38f10798a76a4f3b379e43d599185bf700c07b46b75d3202f9"
CHECKOUT_13 = "0e90883631c288e141cc2e3b1f5bbe67af905cb12414fd3fb5ca571e1b6544c3"
CATALOG = "b19653e91507e33953f9129b96a65dfce1bf0b9c81f4feac4da24559bb1a19b1"
OTEL = "e1ab113bcf7e142108418e29f6ad0e781df89012c3367bb47e5b5e3a631290a9"
LEDGER = "d3d8ae4f8e80cbb9d7d73c846600072d53c6af588fc8aa9b772a26fdc17a05d1"
LEDGER_9 = "53b93d97da1296806980c899bbda30b037c97004299c08c2b2e208952cb78ad7"

EXPECTED = [
    {"name": f"catalog/{AR}/apps/catalog", "fingerprint": CATALOG,
     "details": {"service": "catalog", "revision": "catalog-00004-kip", "traffic_percent": 100,
                 "image": f"{AR}/apps/catalog@sha256:{CATALOG}"}},
    {"name": f"catalog/{AR}/infra/otel-collector", "fingerprint": OTEL,
     "details": {"service": "catalog", "revision": "catalog-00004-kip", "traffic_percent": 100,
                 "image": f"{AR}/infra/otel-collector@sha256:{OTEL}"}},
    {"name": f"checkout/{AR}/apps/checkout", "fingerprint": CHECKOUT_13,
     "details": {"service": "checkout", "revision": "checkout-00013-dab", "traffic_percent": 10,
                 "image": f"{AR}/apps/checkout@sha256:{CHECKOUT_13}", "tag": "canary"}},
    {"name": f"checkout/{AR}/apps/checkout", "fingerprint": CHECKOUT_12,
     "details": {"service": "checkout", "revision": "checkout-00012-xom", "traffic_percent": 90,
                 "image": f"{AR}/apps/checkout@sha256:{CHECKOUT_12}"}},
    {"name": f"ledger/{AR}/apps/ledger", "fingerprint": LEDGER_9,
     "details": {"service": "ledger", "revision": "ledger-00009-mop", "traffic_percent": 0,
                 "image": f"{AR}/apps/ledger@sha256:{LEDGER_9}", "tag": "preview"}},
    {"name": f"ledger/{AR}/apps/ledger", "fingerprint": LEDGER,
     "details": {"service": "ledger", "revision": "ledger-00007-hen,ledger-00008-far",
                 "traffic_percent": 100, "image": f"{AR}/apps/ledger@sha256:{LEDGER}"}},
    {"name": "search/docker.io/acmeshop/search", "fingerprint": None,
     "details": {"service": "search", "revision": "search-00031-vup", "traffic_percent": 100,
                 "image": "docker.io/acmeshop/search:2.8.0", "state": "unresolved"}},
]
REVISIONS = ["checkout-00012-xom", "checkout-00013-dab", "catalog-00004-kip",
             "search-00031-vup", "ledger-00007-hen", "ledger-00008-far", "ledger-00009-mop"]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers,
                    content_type="application/json")


@pytest.fixture(autouse=True)
def strict_server(httpserver: HTTPServer) -> Any:
    """A request no test expects fails fast (599 is not retried) and fails the test."""
    httpserver.no_handler_status_code = 599
    yield
    httpserver.check_assertions()


@pytest.fixture
def base(httpserver: HTTPServer) -> str:
    return httpserver.url_for("/")


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def api(base: str, waits: list[float]) -> Api:
    """The API as ``running`` makes it, waiting into ``waits`` instead of sleeping."""
    made = cloudrun.connect(base, TOKEN)
    made.sleep = waits.append
    return made


def serve_region(httpserver: HTTPServer, *, first: Callable[[Request], Response] | None = None
                 ) -> None:
    """The three pages of services (the first answered by ``first`` when given) and every
    serving revision, each asked with the token."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    page1 = httpserver.expect_request(SERVICES, query_string="pageSize=100",
                                              headers=auth)
    if first is None:
        page1.respond_with_json(fixture("services_page1.json"))
    else:
        page1.respond_with_handler(first)
    httpserver.expect_request(
        SERVICES, query_string=f"pageSize=100&pageToken={PAGE2}", headers=auth
    ).respond_with_json(fixture("services_page2.json"))
    httpserver.expect_request(
        SERVICES, query_string=f"pageSize=100&pageToken={PAGE3}", headers=auth
    ).respond_with_json(fixture("services_page3.json"))
    for revision in REVISIONS:
        service = revision.split("-", 1)[0]
        httpserver.expect_request(f"{SERVICES}/{service}/revisions/{revision}", headers=auth
                                  ).respond_with_json(fixture(f"revision_{revision}.json"))


def flaky(*answers: Response, then: Any) -> Callable[[Request], Response]:
    """A handler answering ``answers`` in turn, then ``then`` (JSON) for good."""
    queue = list(answers)

    def handle(request: Request) -> Response:
        return queue.pop(0) if queue else _json(then)

    return handle


def ordered(artifacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(artifacts, key=lambda a: (a["name"], a["details"]["revision"]))


def test_every_page_and_every_serving_revision(httpserver: HTTPServer, base: str) -> None:
    serve_region(httpserver)
    found = cloudrun.running("acme-shop", "europe-west1", token=TOKEN, base_url=base)
    assert ordered(found) == ordered(EXPECTED)
    asked = [request.path for request, _ in httpserver.log]
    assert len(asked) == len(REVISIONS) + 3  # each revision read once, none that serves nothing
    assert not any("broken" in path for path in asked)


def test_retry_after_is_honoured_on_429(httpserver: HTTPServer, api: Api,
                                        waits: list[float]) -> None:
    serve_region(httpserver, first=flaky(
        _json(fixture("error_429.json"), 429, {"Retry-After": "7"}),
        then=fixture("services_page1.json")))
    assert ordered(cloudrun.serving(api, "acme-shop", "europe-west1")) == ordered(EXPECTED)
    assert waits == [7.0]


def test_a_500_is_retried(httpserver: HTTPServer, api: Api, waits: list[float]) -> None:
    serve_region(httpserver, first=flaky(_json(fixture("error_500.json"), 500),
                                         then=fixture("services_page1.json")))
    assert ordered(cloudrun.serving(api, "acme-shop", "europe-west1")) == ordered(EXPECTED)
    assert waits == [0.5]


def test_an_outage_after_the_retries_is_an_error(httpserver: HTTPServer, base: str,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 waits: list[float]) -> None:
    monkeypatch.setenv("AFFIDAVIT_HTTP_RETRIES", "3")
    api = cloudrun.connect(base, TOKEN)
    api.sleep = waits.append
    httpserver.expect_request(SERVICES).respond_with_json(fixture("error_500.json"), status=503)
    with pytest.raises(ProviderError, match=r"failed after 3 attempts \(HTTP 503: Internal "
                                            r"error encountered\.\)"):
        cloudrun.serving(api, "acme-shop", "europe-west1")
    assert waits == [0.5, 1.0]


def test_403_is_the_token_refused_in_googles_words(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request(SERVICES).respond_with_json(fixture("error_403.json"), status=403)
    with pytest.raises(ProviderError) as caught:
        cloudrun.running("acme-shop", "europe-west1", token=TOKEN, base_url=base)
    assert caught.value.exit_code == 3
    assert caught.value.message == (
        "Cloud Run: the access token was refused for projects/acme-shop/locations/europe-west1 "
        "(HTTP 403): Permission 'run.services.list' denied on resource "
        "'projects/acme-shop/locations/europe-west1' (or resource may not exist).")
    assert TOKEN not in caught.value.diagnostics()
    assert "\n" not in caught.value.diagnostics()


def test_401_an_expired_token(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request(SERVICES).respond_with_json(fixture("error_401.json"), status=401)
    with pytest.raises(ProviderError, match=r"\(HTTP 401\): Request had invalid authentication "
                                            r"credentials"):
        cloudrun.running("acme-shop", "europe-west1", token=TOKEN, base_url=base)


def test_404_an_unknown_region(httpserver: HTTPServer, base: str) -> None:
    where = "/v2/projects/acme-shop/locations/europe-north9/services"
    httpserver.expect_request(where).respond_with_json(fixture("error_404.json"), status=404)
    with pytest.raises(NotFoundError) as caught:
        cloudrun.running("acme-shop", "europe-north9", token=TOKEN, base_url=base)
    assert caught.value.exit_code == 2
    assert caught.value.message == (
        "Cloud Run: projects/acme-shop/locations/europe-north9 was not found (HTTP 404): "
        "Location europe-north9 is not found or access is unauthorized.")


def test_a_region_without_services(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request(SERVICES).respond_with_json(fixture("services_empty.json"))
    assert cloudrun.running("acme-shop", "europe-west1", token=TOKEN, base_url=base) == []


def test_a_serving_revision_that_is_gone_fails_the_snapshot(httpserver: HTTPServer,
                                                            base: str) -> None:
    page = fixture("services_page1.json")
    httpserver.expect_request(SERVICES).respond_with_json({"services": page["services"][:1]})
    httpserver.expect_request(f"{SERVICES}/checkout/revisions/checkout-00012-xom"
                              ).respond_with_json({"error": {"code": 404, "message":
                                                   "Resource not found.", "status":
                                                   "NOT_FOUND"}}, status=404)
    with pytest.raises(ProviderError, match=r"checkout-00012-xom was not found \(HTTP 404\): "
                                            r"Resource not found\."):
        cloudrun.running("acme-shop", "europe-west1", token=TOKEN, base_url=base)


def test_pages_that_loop_are_refused(httpserver: HTTPServer, base: str) -> None:
    httpserver.expect_request(SERVICES).respond_with_json({"nextPageToken": "again"})
    with pytest.raises(ProviderError, match="pages loop"):
        cloudrun.running("acme-shop", "europe-west1", token=TOKEN, base_url=base)


def test_a_page_with_unreachable_locations_is_refused(httpserver: HTTPServer,
                                                      base: str) -> None:
    httpserver.expect_request(SERVICES).respond_with_json(
        {"services": [], "unreachable": ["projects/acme-shop/locations/europe-west1"]})
    with pytest.raises(ProviderError, match=r"could not be listed completely \(unreachable: "
                                            r"projects/acme-shop/locations/europe-west1\)"):
        cloudrun.running("acme-shop", "europe-west1", token=TOKEN, base_url=base)


def test_a_revision_name_leading_elsewhere_is_refused(httpserver: HTTPServer,
                                                      base: str) -> None:
    service = fixture("services_page1.json")["services"][1]
    service["latestReadyRevision"] = "projects/acme-shop/locations/europe-west1/services/x/../y"
    httpserver.expect_request(SERVICES).respond_with_json({"services": [service]})
    with pytest.raises(ProviderError, match="not a revision of a service"):
        cloudrun.running("acme-shop", "europe-west1", token=TOKEN, base_url=base)


@pytest.mark.parametrize(("project", "region"), [("acme/../other", "europe-west1"),
                                                 ("acme-shop", "europe-west1?x=1"),
                                                 ("", "europe-west1")])
def test_project_and_region_are_one_segment_each(project: str, region: str) -> None:
    with pytest.raises(UsageError, match="is not a Google Cloud"):
        cloudrun.running(project, region, token=TOKEN, base_url="https://run.googleapis.com")


def test_a_token_is_required_and_never_echoed() -> None:
    with pytest.raises(UsageError, match="no access token"):
        cloudrun.running("acme-shop", "europe-west1", token="")
    with pytest.raises(UsageError) as caught:
        cloudrun.running("acme-shop", "europe-west1", token="ya29.secret\nX-Injected: 1")
    assert "secret" not in caught.value.diagnostics()


def test_plain_http_only_to_this_machine() -> None:
    with pytest.raises(UsageError, match="plain http is only for a server on this machine"):
        cloudrun.running("acme-shop", "europe-west1", token=TOKEN,
                         base_url="http://run.example.com")
