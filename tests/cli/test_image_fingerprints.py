"""Container images through the CLI: ``fingerprint IMAGE``, ``attest artifact IMAGE`` and
``assert artifact IMAGE`` with ``--artifact-type oci`` (the registry of
tests/collect/fingerprint/registry_server.py) and ``--artifact-type docker`` (the fake Engine
of tests/collect/fingerprint/test_docker_image.py), and their exit codes."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.collect.fingerprint.registry_server import (
    AMD64,
    ARM64,
    INDEX_OCI,
    MANIFEST_OCI,
    OCI_INDEX,
    Registry,
)
from tests.collect.fingerprint.test_docker_image import WEB, Images
from tests.conftest import FLOW, TRAIL
from tests.helpers import Cli, Home, assert_error, ok, state

TEMPLATE = """\
version: 1
trail:
  artifacts:
    - name: app
      attestations:
        - name: scan
          type: generic
"""


@pytest.fixture(autouse=True)
def quiet_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setenv("AFFIDAVIT_HTTP_RETRIES", "1")
    for name in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def registry(httpserver: HTTPServer) -> Registry:
    fake = Registry(f"http://127.0.0.1:{httpserver.port}")
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    return fake


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Images]:
    import threading

    from tests.collect.environments.test_docker import _Handler, _UnixEngine

    images = Images()
    path = tmp_path / "engine.sock"
    server = _UnixEngine(str(path), _Handler)
    server.engine = images  # type: ignore[assignment]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    try:
        yield images
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _flow(cli: Cli, tmp_path: Path) -> None:
    template = tmp_path / "template.yml"
    template.write_text(TEMPLATE)
    ok(cli("create", "flow", FLOW, "--template-file", template))
    ok(cli("begin", "trail", TRAIL, "--flow", FLOW))


# -- fingerprint -----------------------------------------------------------------------------


def test_fingerprint_prints_the_hex_digest(cli: Cli, registry: Registry) -> None:
    image = f"{registry.host}/team/app:1.2"
    assert ok(cli("fingerprint", image, "--artifact-type", "oci")).out == INDEX_OCI + "\n"
    shown = ok(cli("fingerprint", image, "--artifact-type", "oci", "--output", "json")).json()
    assert shown == {"fingerprint": INDEX_OCI, "artifact_type": "oci", "image": {
        "reference": image, "media_type": OCI_INDEX,
        "platforms": [{"platform": "linux/amd64", "fingerprint": AMD64},
                      {"platform": "linux/arm64/v8", "fingerprint": ARM64}]}}


def test_fingerprint_of_a_local_image(cli: Cli, engine: Images) -> None:
    out = ok(cli("fingerprint", "registry.example.com/shop/web:1.4.2", "--artifact-type",
                 "docker")).out
    assert out == WEB + "\n"


def test_file_fingerprints_print_as_before(cli: Cli, tmp_path: Path) -> None:
    artifact = tmp_path / "a.bin"
    artifact.write_bytes(b"x")
    shown = ok(cli("fingerprint", artifact, "--artifact-type", "file", "--output", "json"))
    assert shown.json() == {"artifact_type": "file", "fingerprint":
                            "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"}


def test_registry_credentials_from_the_environment(cli: Cli, registry: Registry,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    registry.users = {"ci": "token-123"}
    image = f"{registry.host}/team/tool:2"
    assert_error(cli("fingerprint", image, "--artifact-type", "oci"), 2,
                 "refused an anonymous client (HTTP 401)")
    monkeypatch.setenv("AFFIDAVIT_REGISTRY_USERNAME", "ci")
    monkeypatch.setenv("AFFIDAVIT_REGISTRY_PASSWORD", "token-123")
    assert ok(cli("fingerprint", image, "--artifact-type", "oci")).out == MANIFEST_OCI + "\n"


@pytest.mark.parametrize(("image", "code", "needle"), [
    ("Team/App:1", 2, "a repository name is lowercase"),
    ("{host}/team/app:9.9", 2, "no image {host}/team/app:9.9 (HTTP 404"),
])
def test_fingerprint_exit_codes(cli: Cli, registry: Registry, image: str, code: int,
                                needle: str) -> None:
    result = cli("fingerprint", image.format(host=registry.host), "--artifact-type", "oci")
    assert_error(result, code, needle.format(host=registry.host))


def test_a_registry_that_is_not_there_is_exit_3(cli: Cli) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli("fingerprint", f"127.0.0.1:{port}/team/app:1.2", "--artifact-type", "oci")
    assert_error(result, 3, "failed after 1 attempts (connection refused)")


def test_usage_errors(cli: Cli, registry: Registry, engine: Images) -> None:
    image = f"{registry.host}/team/tool:2"
    assert_error(cli("fingerprint", image, "--artifact-type", "oci", "--exclude", "x"), 2,
                 "exclude patterns apply only to a dir artifact")
    assert_error(cli("fingerprint", image, "--artifact-type", "oci", "--registry-username",
                     "ci"), 2, "--registry-username and --registry-password go together")
    assert_error(cli("fingerprint", "shop-api:dev", "--artifact-type", "docker"), 2,
                 "has no repo digest: it was never pushed")
    assert_error(cli("fingerprint", "nginx:1.27", "--artifact-type", "docker",
                     "--registry-username", "a", "--registry-password", "b"), 2,
                 "are for --artifact-type oci")


# -- attest artifact and assert artifact -------------------------------------------------------


@pytest.mark.remote
def test_attest_and_assert_an_image_from_its_registry(cli: Cli, registry: Registry,
                                                      tmp_path: Path) -> None:
    _flow(cli, tmp_path)
    image = f"{registry.host}/team/app:1.2"
    result = ok(cli("attest", "artifact", image, "--artifact-type", "oci", "--flow", FLOW,
                    "--trail", TRAIL, "--name", "app", "--output", "json"))
    record = result.json()["entry"]["record"]
    assert record == {
        "flow": FLOW, "trail": TRAIL, "name": "app", "fingerprint": INDEX_OCI,
        "artifact_type": "oci", "filename": image,
        "image": {"reference": image, "media_type": OCI_INDEX, "platforms": [
            {"platform": "linux/amd64", "fingerprint": AMD64},
            {"platform": "linux/arm64/v8", "fingerprint": ARM64}]}}
    (shown,) = ok(cli("get", "trail", TRAIL, "--flow", FLOW, "--output", "json")).json()[
        "artifacts"]
    assert shown["image"] == record["image"]

    pending = cli("assert", "artifact", image, "--artifact-type", "oci", "--flow", FLOW)
    assert pending.code == 1 and pending.out.startswith(f"INCOMPLETE: artifact {INDEX_OCI}")
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "scan",
           "--fingerprint", INDEX_OCI))
    done = cli("assert", "artifact", image, "--artifact-type", "oci")
    assert (done.code, done.out) == (0, f"COMPLIANT: artifact {INDEX_OCI}\n")
    # the same image by its digest, and the same digest as a bare fingerprint
    pinned = f"{registry.host}/team/app@sha256:{INDEX_OCI}"
    assert ok(cli("assert", "artifact", pinned, "--artifact-type", "oci")).code == 0
    assert ok(cli("assert", "artifact", INDEX_OCI)).code == 0


def test_attest_a_local_image(cli: Cli, engine: Images, tmp_path: Path) -> None:
    _flow(cli, tmp_path)
    result = ok(cli("attest", "artifact", "registry.example.com/shop/web:1.4.2",
                    "--artifact-type", "docker", "--flow", FLOW, "--trail", TRAIL,
                    "--name", "app", "--output", "json"))
    record = result.json()["entry"]["record"]
    assert (record["fingerprint"], record["artifact_type"], record["filename"]) == (
        WEB, "docker", "registry.example.com/shop/web:1.4.2")
    assert record["image"] == {"reference": f"registry.example.com/shop/web@sha256:{WEB}"}
    done = cli("assert", "artifact", "registry.example.com/shop/web:1.4.2", "--artifact-type",
               "docker")
    assert done.code == 1 and done.out.startswith(f"INCOMPLETE: artifact {WEB}")


def test_an_image_by_fingerprint_keeps_its_name(cli: Cli, tmp_path: Path) -> None:
    _flow(cli, tmp_path)
    record = ok(cli("attest", "artifact", "registry.example.com/team/app:1.2",
                    "--artifact-type", "oci", "--fingerprint", INDEX_OCI, "--flow", FLOW,
                    "--trail", TRAIL, "--name", "app", "--output", "json")).json()["entry"][
        "record"]
    assert (record["filename"], record["artifact_type"]) == ("registry.example.com/team/app:1.2",
                                                             "oci")
    assert "image" not in record  # nothing was asked of a registry


def test_a_failed_lookup_records_nothing(cli: Cli, registry: Registry, tmp_path: Path,
                                         home: Home) -> None:
    _flow(cli, tmp_path)
    before = state(home)
    result = cli("attest", "artifact", f"{registry.host}/team/app:9.9", "--artifact-type", "oci",
                 "--flow", FLOW, "--trail", TRAIL, "--name", "app")
    assert_error(result, 2, "HTTP 404")
    assert state(home) == before
    registry.refuse_tokens = True
    gate = cli("assert", "artifact", f"{registry.host}/team/app:1.2", "--artifact-type", "oci")
    assert_error(gate, 2, "(HTTP 401)")


def test_artifact_type_from_the_environment(cli: Cli, registry: Registry,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFIDAVIT_ARTIFACT_TYPE", "oci")
    assert ok(cli("fingerprint", f"{registry.host}/team/tool:2")).out == MANIFEST_OCI + "\n"
    monkeypatch.setenv("AFFIDAVIT_ARTIFACT_TYPE", "image")
    assert_error(cli("fingerprint", f"{registry.host}/team/tool:2"), 2,
                 "'image' is not one of file, dir, oci, docker")
