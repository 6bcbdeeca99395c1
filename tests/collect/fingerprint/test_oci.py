"""``--artifact-type oci``: manifest digests from a registry on pytest-httpserver that replays
the OCI distribution API and the Docker token dance (registry_server.py; the fixtures and the
documents they follow are in registry/SOURCES.md). Expected digests are the fixtures'
sha256sum, written down in registry_server.py."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from affidavit.collect.fingerprint.image_ref import parse
from affidavit.collect.fingerprint.oci import ACCEPT, registry_digest
from affidavit.collect.fingerprint.registry_auth import parse_challenge
from affidavit.errors import IntegrityError, NotFoundError, ProviderError, UsageError
from tests.collect.fingerprint.registry_server import (
    AMD64,
    ARM64,
    DOCKER_LIST,
    FIXTURES,
    INDEX_OCI,
    LIST_DOCKER,
    MANIFEST_DOCKER,
    MANIFEST_OCI,
    OCI_INDEX,
    TOKEN,
    Registry,
)


@pytest.fixture(autouse=True)
def no_docker_login(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The machine's own ``docker login`` stays out; retries are few and quick."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setenv("AFFIDAVIT_HTTP_RETRIES", "3")
    monkeypatch.delenv("AFFIDAVIT_REGISTRY_INSECURE", raising=False)


@pytest.fixture
def registry(httpserver: HTTPServer) -> Registry:
    fake = Registry(f"http://127.0.0.1:{httpserver.port}")
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    return fake


class Naps:
    def __init__(self) -> None:
        self.taken: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


def test_the_fixtures_are_the_digests_written_down() -> None:
    for name, digest in [("index_oci.json", INDEX_OCI), ("manifest_list_docker.json",
                                                         LIST_DOCKER),
                         ("manifest_docker.json", MANIFEST_DOCKER),
                         ("manifest_oci.json", MANIFEST_OCI)]:
        assert hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest() == digest


# -- the token dance and an index ----------------------------------------------------------


def test_an_index_behind_a_token_challenge(registry: Registry) -> None:
    found = registry_digest(f"{registry.host}/team/app:1.2")
    assert found.fingerprint == INDEX_OCI
    assert found.details() == {
        "reference": f"{registry.host}/team/app:1.2", "media_type": OCI_INDEX,
        "platforms": [{"platform": "linux/amd64", "fingerprint": AMD64},
                      {"platform": "linux/arm64/v8", "fingerprint": ARM64}]}
    head, token, authorized, body = registry.asked
    assert (head["method"], head["authorization"]) == ("HEAD", None)
    assert head["path"] == "/v2/team/app/manifests/1.2"
    assert token["path"] == "/token" and token["authorization"] is None  # anonymous
    assert token["args"] == [("service", "registry.test"), ("scope", "repository:team/app:pull")]
    assert (authorized["method"], authorized["authorization"]) == ("HEAD", f"Bearer {TOKEN}")
    # an index is fetched for its platforms, with the token already had
    assert (body["method"], body["authorization"]) == ("GET", f"Bearer {TOKEN}")


def test_every_manifest_media_type_is_accepted(registry: Registry) -> None:
    registry_digest(f"{registry.host}/team/app:1.2")
    accepted = {part.strip() for part in registry.asked[0]["accept"].split(",")}
    assert accepted == {OCI_INDEX, DOCKER_LIST, "application/vnd.oci.image.manifest.v1+json",
                        "application/vnd.docker.distribution.manifest.v2+json"}
    assert registry.asked[0]["accept"] == ACCEPT


def test_a_docker_manifest_list(registry: Registry) -> None:
    found = registry_digest(f"{registry.host}/team/app:1.1")
    assert found.fingerprint == LIST_DOCKER
    assert found.media_type == DOCKER_LIST
    assert found.platforms == [
        {"platform": "linux/ppc64le", "fingerprint":
         "e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f"},
        {"platform": "linux/arm/v7", "fingerprint":
         "5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270"}]


def test_one_platforms_manifest_needs_only_head(registry: Registry) -> None:
    found = registry_digest(f"{registry.host}/team/app:1.0")
    assert found.fingerprint == MANIFEST_DOCKER
    assert found.details() == {"reference": f"{registry.host}/team/app:1.0",
                               "media_type": "application/vnd.docker.distribution.manifest.v2+json"}
    assert registry.manifest_requests() == ["HEAD /v2/team/app/manifests/1.0"] * 2


def test_a_registry_without_auth(registry: Registry) -> None:
    registry.challenge = None
    assert registry_digest(f"{registry.host}/team/tool:2").fingerprint == MANIFEST_OCI
    assert registry.manifest_requests() == ["HEAD /v2/team/tool/manifests/2"]


def test_a_pinned_digest_is_asked_by_digest(registry: Registry) -> None:
    found = registry_digest(f"{registry.host}/team/tool:2@sha256:{MANIFEST_OCI}")
    assert found.fingerprint == MANIFEST_OCI
    assert found.reference == f"{registry.host}/team/tool@sha256:{MANIFEST_OCI}"
    assert registry.manifest_requests()[-1] == f"HEAD /v2/team/tool/manifests/sha256:{MANIFEST_OCI}"


def test_a_pinned_digest_answered_with_another_is_refused(registry: Registry) -> None:
    registry.digest_header = "sha256:" + "0" * 64
    with pytest.raises(IntegrityError) as caught:
        registry_digest(f"{registry.host}/team/tool@sha256:{MANIFEST_OCI}")
    assert caught.value.exit_code == 3


# -- Docker-Content-Digest -----------------------------------------------------------------


def test_without_docker_content_digest_the_manifest_is_hashed(registry: Registry) -> None:
    registry.omit_digest = True
    found = registry_digest(f"{registry.host}/team/tool:2")
    assert found.fingerprint == MANIFEST_OCI
    assert registry.manifest_requests()[-2:] == ["HEAD /v2/team/tool/manifests/2",
                                                 "GET /v2/team/tool/manifests/2"]


def test_without_a_content_type_the_manifest_says_what_it_is(registry: Registry) -> None:
    registry.omit_digest = True
    registry.content_type = False
    found = registry_digest(f"{registry.host}/team/app:1.2")
    assert (found.fingerprint, found.media_type) == (INDEX_OCI, OCI_INDEX)
    assert [p["fingerprint"] for p in found.platforms or []] == [AMD64, ARM64]


def test_a_header_that_disagrees_with_the_bytes_is_refused(registry: Registry) -> None:
    registry.digest_header = "sha256:" + "1" * 64
    with pytest.raises(IntegrityError, match=r"hashes to 4e452c6f.*not the 1111"):
        registry_digest(f"{registry.host}/team/app:1.2")  # an index: its bytes are read


def test_a_digest_that_is_not_sha256_is_refused(registry: Registry) -> None:
    registry.digest_header = "sha512:" + "a" * 128
    with pytest.raises(ProviderError, match="is not a sha256 digest"):
        registry_digest(f"{registry.host}/team/tool:2")


# -- refusals: 404, 401, 403 -----------------------------------------------------------------


def test_a_missing_tag_is_not_found(registry: Registry) -> None:
    with pytest.raises(NotFoundError) as caught:
        registry_digest(f"{registry.host}/team/app:9.9")
    assert caught.value.exit_code == 2
    assert caught.value.message == (f"registry {registry.host}: no image {registry.host}/team/"
                                    "app:9.9 (HTTP 404: 9.9 is not in team/app)")


def test_a_token_the_registry_refuses_is_exit_2(registry: Registry) -> None:
    registry.refuse_tokens = True
    with pytest.raises(UsageError) as caught:
        registry_digest(f"{registry.host}/team/app:1.2")
    assert caught.value.exit_code == 2
    assert caught.value.message == (
        f"registry {registry.host}: HEAD /v2/team/app/manifests/1.2 was refused to an "
        "anonymous client (HTTP 401)")  # a HEAD answer has no body to quote
    assert "--registry-username" in str(caught.value.remedy)
    assert len([a for a in registry.asked if a["path"] == "/token"]) == 1  # no loop


def test_credentials_go_to_the_token_service(registry: Registry) -> None:
    registry.users = {"alice": "s3cret"}
    found = registry_digest(f"{registry.host}/team/tool:2", credentials=("alice", "s3cret"))
    assert found.fingerprint == MANIFEST_OCI
    token = next(a for a in registry.asked if a["path"] == "/token")
    assert token["authorization"] == "Basic " + base64.b64encode(b"alice:s3cret").decode()
    # and never to the registry itself, which gets the token
    assert all(a["authorization"] in (None, f"Bearer {TOKEN}") for a in registry.asked
               if a["path"] != "/token")


def test_wrong_credentials_are_exit_2_in_the_token_services_words(registry: Registry) -> None:
    registry.users = {"alice": "s3cret"}
    with pytest.raises(UsageError) as caught:
        registry_digest(f"{registry.host}/team/tool:2", credentials=("alice", "wrong"))
    assert caught.value.message == (
        f"registry {registry.host}: the token service {registry.base} refused user 'alice' "
        "(HTTP 401): incorrect username or password")


def test_docker_logins_credentials(registry: Registry, tmp_path: Path) -> None:
    registry.users = {"bob": "hunter2"}
    config = tmp_path / "docker-config" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"auths": {
        "other.example.com": {"auth": base64.b64encode(b"eve:nope").decode()},
        f"http://{registry.host}": {"auth": base64.b64encode(b"bob:hunter2").decode()}}}))
    assert registry_digest(f"{registry.host}/team/tool:2").fingerprint == MANIFEST_OCI


def test_a_basic_challenge(registry: Registry) -> None:
    registry.challenge = "basic"
    registry.users = {"alice": "s3cret"}
    found = registry_digest(f"{registry.host}/team/tool:2", credentials=("alice", "s3cret"))
    assert found.fingerprint == MANIFEST_OCI
    with pytest.raises(UsageError, match=r"wants a user name and password \(HTTP 401, Basic\)"):
        registry_digest(f"{registry.host}/team/tool:2")


def test_a_realm_over_plain_http_to_another_host_is_refused(registry: Registry) -> None:
    registry.realm = "http://auth.example.com/token"  # refused before it is asked
    with pytest.raises(ProviderError, match=r"realm http://auth\.example\.com is plain http"):
        registry_digest(f"{registry.host}/team/tool:2", credentials=("alice", "s3cret"))


# -- outages: retried, then exit 3 ---------------------------------------------------------


def test_503_and_429_are_retried(registry: Registry) -> None:
    registry.failures = [(503, {}), (429, {"Retry-After": "2"})]
    naps = Naps()
    assert registry_digest(f"{registry.host}/team/tool:2", sleep=naps).fingerprint == \
        MANIFEST_OCI
    assert naps.taken == [0.5, 2.0]


def test_a_registry_that_stays_down_is_exit_3(registry: Registry) -> None:
    registry.failures = [(502, {})] * 3
    with pytest.raises(ProviderError) as caught:
        registry_digest(f"{registry.host}/team/tool:2", sleep=Naps())
    assert caught.value.exit_code == 3
    assert "failed after 3 attempts (HTTP 502)" in caught.value.message  # HEAD: no body


def test_a_registry_nobody_listens_on_is_exit_3() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ProviderError) as caught:
        registry_digest(f"127.0.0.1:{port}/team/app:1.2", sleep=Naps())
    assert caught.value.exit_code == 3
    assert caught.value.message == (
        f"registry 127.0.0.1:{port}: HEAD http://127.0.0.1:{port}/v2/team/app/manifests/1.2 "
        "failed after 3 attempts (connection refused)")


def test_a_rate_limit_longer_than_a_minute_is_an_outage(registry: Registry) -> None:
    registry.failures = [(429, {"Retry-After": "3600"})]
    with pytest.raises(ProviderError, match="rate limited for 3600 s"):
        registry_digest(f"{registry.host}/team/tool:2", sleep=Naps())


# -- plain http and references -------------------------------------------------------------


def test_plain_http_only_on_this_machine_or_when_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    from affidavit.collect.fingerprint.registry import Registry as Client

    assert Client("registry.example.com", "a").base == "https://registry.example.com"
    assert Client("localhost:5000", "a").base == "http://localhost:5000"
    assert Client("[::1]:5000", "a").base == "http://[::1]:5000"
    monkeypatch.setenv("AFFIDAVIT_REGISTRY_INSECURE", "registry.lan:5000, other.lan")
    assert Client("registry.lan:5000", "a").base == "http://registry.lan:5000"
    assert Client("registry.lan", "a").base == "https://registry.lan"  # the port is listed


@pytest.mark.parametrize(("given", "endpoint", "repository", "wanted", "canonical"), [
    ("nginx", "registry-1.docker.io", "library/nginx", "latest",
     "docker.io/library/nginx:latest"),
    ("nginx:1.27", "registry-1.docker.io", "library/nginx", "1.27",
     "docker.io/library/nginx:1.27"),
    ("docker.io/bitnami/redis:7.2", "registry-1.docker.io", "bitnami/redis", "7.2",
     "docker.io/bitnami/redis:7.2"),
    ("index.docker.io/library/alpine:3", "registry-1.docker.io", "library/alpine", "3",
     "docker.io/library/alpine:3"),
    ("registry.example.com/team/app:1.2", "registry.example.com", "team/app", "1.2",
     "registry.example.com/team/app:1.2"),
    ("registry.example.com:5000/team/sub/app", "registry.example.com:5000", "team/sub/app",
     "latest", "registry.example.com:5000/team/sub/app:latest"),
    ("localhost/app:dev", "localhost", "app", "dev", "localhost/app:dev"),
    (f"ghcr.io/o/app:1@sha256:{'a' * 64}", "ghcr.io", "o/app", f"sha256:{'a' * 64}",
     f"ghcr.io/o/app@sha256:{'a' * 64}"),
    ("team/app_x-y.z:v1.2.3-rc_1", "registry-1.docker.io", "team/app_x-y.z", "v1.2.3-rc_1",
     "docker.io/team/app_x-y.z:v1.2.3-rc_1"),
])
def test_references(given: str, endpoint: str, repository: str, wanted: str,
                    canonical: str) -> None:
    ref = parse(given)
    assert (ref.endpoint, ref.repository, ref.wanted, ref.canonical()) == (
        endpoint, repository, wanted, canonical)


@pytest.mark.parametrize(("given", "problem"), [
    ("", "empty"),
    (" nginx", "spaces"),
    ("Team/App:1", "a repository name is lowercase"),
    ("registry.example.com/team/app:-bad", "is not a tag"),
    ("app@sha256:abc", "64 lowercase hex"),
    (f"app@sha512:{'a' * 128}", "64 lowercase hex"),
    ("team//app", "is not a repository path component"),
    ("team/app/", "is not a repository path component"),
    ("bad_host.example.com:x/app", "is not a registry host"),
    ("a" * 250 + "/b" * 5, "longer than 255"),
])
def test_malformed_references_are_exit_2(given: str, problem: str) -> None:
    with pytest.raises(UsageError) as caught:
        registry_digest(given)
    assert problem in caught.value.message
    assert caught.value.exit_code == 2


def test_challenges_are_parsed_with_quoted_commas() -> None:
    scheme, params = parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:samalba/my-app:pull,push"')
    assert scheme == "bearer"
    assert params == {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                      "scope": "repository:samalba/my-app:pull,push"}
    assert parse_challenge('Basic realm="Registry Realm"') == ("basic",
                                                               {"realm": "Registry Realm"})
