"""``snapshot docker`` through the Docker SDK against a local Engine API: over TCP
(pytest-httpserver) and over a real unix socket, the SDK's default transport, both answering
JSON written from the Engine API reference (tests/collect/environments/docker/SOURCES.md).

Expected values are written by hand from the fixtures."""

from __future__ import annotations

import http.server
import json
import re
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from affidavit.collect.environments import docker
from affidavit.errors import ProviderError, UsageError

FIXTURES = Path(__file__).parent / "docker"

WEB = "5a915d8b7f6b270856c0624bec67783b58ebb9cba72d6c134afb39a31c2405d5"
REDIS = "c8989d3fb90e5590f6db5e8b0da850b182a08db52e403ff4aba0776059082f6c"
NGINX = "bde0ba04b964a251c997880114992618b221b3b5e0e6255b0ac3ef53dc8b8c5a"
MIGRATE = "785240aae72fe2ec90c2f782c1fda6852fb465200bd84ad0b407c0112a5f97d4"
API_ID = "657ba30d0a4ae183529290ba7e4e78163444223a20ac76941665db29b9b2b097"
OLD_ID = "ecea6b2d37d8cba634d1489e176681e1c2afa1bb20d52cd1b54124f0e150419d"

EXPECTED = [
    {"name": "docker.io/library/nginx:1.27", "fingerprint": NGINX, "instances": 1,
     "details": {"digest_source": "repo"}},
    {"name": "redis:7.2", "fingerprint": REDIS, "instances": 1,
     "details": {"digest_source": "repo"}},
    {"name": f"registry.example.com/shop/migrate@sha256:{MIGRATE}", "fingerprint": MIGRATE,
     "instances": 1, "details": {"digest_source": "repo"}},
    {"name": "registry.example.com/shop/web:1.3.9", "fingerprint": OLD_ID, "instances": 1,
     "details": {"digest_source": "id"}},
    {"name": "registry.example.com/shop/web:1.4.2", "fingerprint": WEB, "instances": 2,
     "details": {"digest_source": "repo"}},
    {"name": "shop-api:dev", "fingerprint": API_ID, "instances": 1,
     "details": {"digest_source": "id"}},
]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class Engine:
    """The Engine API as the fixtures describe one host: ``/version``, the running
    containers, each container's and image's inspection, and the Engine's 404s (the container
    ``gone`` exited after the list; the image of ``legacy`` was removed while it runs)."""

    def __init__(self) -> None:
        self.containers = {c["Id"]: c for c in map(fixture, _names("container_*.json"))}
        self.images = {i["Id"]: i for i in map(fixture, _names("image_*.json"))}
        self.overrides: dict[str, tuple[int, Any]] = {}
        self.asked: list[str] = []

    def answer(self, method: str, target: str) -> tuple[int, Any]:
        self.asked.append(f"{method} {target}")
        path = re.sub(r"^/v\d+\.\d+(?=/)", "", target.split("?", 1)[0])
        if path in self.overrides:
            return self.overrides[path]
        if method != "GET":
            return 405, {"message": f"{method} is not served here"}
        if path == "/version":
            return 200, fixture("version.json")
        if path == "/containers/json":
            return 200, fixture("containers.json")
        if found := re.fullmatch(r"/containers/([0-9a-f]+)/json", path):
            body = self.containers.get(found.group(1))
            return (200, body) if body else (404, {
                "message": f"No such container: {found.group(1)}"})
        if found := re.fullmatch(r"/images/([^/]+)/json", path):
            body = self.images.get(found.group(1))
            return (200, body) if body else (404, {"message": f"No such image: {found.group(1)}"})
        return 404, {"message": "page not found"}


def _names(pattern: str) -> list[str]:
    return sorted(p.name for p in FIXTURES.glob(pattern))


@pytest.fixture(autouse=True)
def no_docker_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The machine's own Docker settings (host, TLS, ~/.docker/config.json) stay out."""
    for name in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))


@pytest.fixture
def engine() -> Engine:
    return Engine()


@pytest.fixture
def tcp(httpserver: HTTPServer, engine: Engine) -> str:
    """``tcp://127.0.0.1:PORT`` of the Engine API served over TCP."""
    def handle(request: Request) -> Response:
        target = request.path + (f"?{request.query_string.decode()}"
                                 if request.query_string else "")
        status, body = engine.answer(request.method, target)
        return Response(json.dumps(body), status=status, content_type="application/json")

    httpserver.expect_request(re.compile(".*")).respond_with_handler(handle)
    return f"tcp://127.0.0.1:{httpserver.port}"


class _UnixEngine(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    engine: Engine


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _UnixEngine

    def do_GET(self) -> None:
        status, body = self.server.engine.answer("GET", self.path)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def address_string(self) -> str:
        return "unix"  # a unix socket's peer has no address

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


@pytest.fixture
def unix(tmp_path: Path, engine: Engine) -> Iterator[str]:
    """``unix:///…/engine.sock``: the Engine API on a unix socket, as dockerd serves it."""
    path = tmp_path / "engine.sock"
    server = _UnixEngine(str(path), _Handler)
    server.engine = engine
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"unix://{path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def by_name(artifacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(artifacts, key=lambda a: a["name"])


def test_running_over_tcp(tcp: str, engine: Engine) -> None:
    assert by_name(docker.running(tcp)) == EXPECTED
    assert engine.asked[0] == "GET /version"  # the SDK's API version negotiation
    listed = [a for a in engine.asked if a.startswith("GET /v1.47/containers/json")]
    assert len(listed) == 1 and "all=0" in listed[0]  # running containers only
    # each image is read once, however many containers run it
    web = [a for a in engine.asked if "/images/sha256:83aedf28" in a]
    assert len(web) == 1


def test_running_over_a_unix_socket(unix: str) -> None:
    assert by_name(docker.running(unix)) == EXPECTED


def test_docker_host_names_the_engine(unix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", unix)
    assert by_name(docker.running()) == EXPECTED


def test_no_running_containers(tcp: str, engine: Engine) -> None:
    engine.overrides["/containers/json"] = (200, [])
    assert docker.running(tcp) == []


def test_a_socket_nobody_listens_on(tmp_path: Path) -> None:
    where = f"unix://{tmp_path}/missing.sock"
    with pytest.raises(ProviderError) as caught:
        docker.running(where)
    message = caught.value.diagnostics()
    assert message.startswith(f"Docker: cannot reach the Docker Engine at {where} (")
    assert "no such file or directory" in message and "\n" not in message


def test_a_socket_refusing_connections(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))  # bound, never listening: connections are refused
    try:
        with pytest.raises(ProviderError, match=r"cannot reach .*dead\.sock \(connection "
                                                r"refused\)"):
            docker.running(f"unix://{path}")
    finally:
        dead.close()


def test_a_tcp_port_nobody_listens_on() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ProviderError, match=rf"cannot reach the Docker Engine at "
                                            rf"tcp://127\.0\.0\.1:{port} "):
        docker.running(f"tcp://127.0.0.1:{port}")


def test_the_daemons_error_is_its_own_words(tcp: str, engine: Engine) -> None:
    engine.overrides["/containers/json"] = (500, fixture("error_500.json"))
    with pytest.raises(ProviderError) as caught:
        docker.running(tcp)
    assert caught.value.message == (
        f"Docker: the Engine at {tcp} refused the container list (HTTP 500): error during "
        "connect: containerd: context deadline exceeded")


def test_an_error_answering_the_version(unix: str, engine: Engine) -> None:
    engine.overrides["/version"] = (500, fixture("error_500.json"))
    with pytest.raises(ProviderError, match=r"refused GET /version \(HTTP 500\): error during "
                                            r"connect"):
        docker.running(unix)


def test_an_image_inspection_error_fails_the_snapshot(tcp: str, engine: Engine) -> None:
    engine.overrides["/images/sha256:83aedf28197ea477b9b02e8ebb42a7e1e20c7225874f57eea38a2d63"
                     "c7d71fbd/json"] = (500, {"message": "layer store is locked"})
    with pytest.raises(ProviderError, match=r"\(HTTP 500\): layer store is locked$"):
        docker.running(tcp)


def test_a_container_without_an_image_id(tcp: str, engine: Engine) -> None:
    web = next(k for k, c in engine.containers.items() if c["Name"] == "/web-1")
    engine.containers[web] = {**engine.containers[web], "Image": ""}
    with pytest.raises(ProviderError, match=r"container '/web-1' without a sha256 image ID"):
        docker.running(tcp)


@pytest.mark.parametrize("where", ["ftp://engine.example", "tcp://host:port"])
def test_an_address_that_is_not_an_engines(where: str) -> None:
    with pytest.raises(UsageError, match="is not a Docker Engine address"):
        docker.running(where)
