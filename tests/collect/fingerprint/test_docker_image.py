"""``--artifact-type docker``: a local image's repo digest through the Docker SDK, against a
fake Engine API on a real unix socket (the server of tests/collect/environments/test_docker.py)
answering the image inspections of tests/collect/environments/docker/ (see its SOURCES.md).

Expected values are written by hand from those fixtures."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from affidavit.collect.fingerprint.docker_image import engine_digest
from affidavit.errors import NotFoundError, ProviderError, UsageError
from tests.collect.environments.test_docker import _Handler, _UnixEngine

ENGINE_FIXTURES = Path(__file__).parents[1] / "environments" / "docker"

WEB = "5a915d8b7f6b270856c0624bec67783b58ebb9cba72d6c134afb39a31c2405d5"
REDIS = "c8989d3fb90e5590f6db5e8b0da850b182a08db52e403ff4aba0776059082f6c"
MIRROR = "b006e5ed60a3adf54c5fa8e3fd1e793c7d06c28359a350ef25ecd6787879358d"
NGINX = "bde0ba04b964a251c997880114992618b221b3b5e0e6255b0ac3ef53dc8b8c5a"
MIGRATE = "785240aae72fe2ec90c2f782c1fda6852fb465200bd84ad0b407c0112a5f97d4"
MIGRATE_OLD = "59c4ccdb3e1c2c74842706b55dd3271fad371d0a891d605e0919b036a7576f11"
WEB_ID = "83aedf28197ea477b9b02e8ebb42a7e1e20c7225874f57eea38a2d63c7d71fbd"
NGINX_ID = "71ffb785fad47b6fa6fb8bc0f794a4f72171592d8e406f450beb76771a8d1bae"
REDIS_ID = "595ebecdafdcf33c98c1892c08bce76e59572898f44ef2645c54cf92dc22a7fc"


def _fixture(name: str) -> Any:
    return json.loads((ENGINE_FIXTURES / name).read_text(encoding="utf-8"))


class Images:
    """``GET /version`` and ``GET /images/{name}/json`` of an Engine holding the fixtures'
    images, found as the Engine finds them: by ID (or a prefix of it), by a tag, by a repo
    digest; else the Engine's 404."""

    def __init__(self) -> None:
        self.images = [_fixture(p.name) for p in sorted(ENGINE_FIXTURES.glob("image_*.json"))]
        self.overrides: dict[str, tuple[int, Any]] = {}
        self.asked: list[str] = []

    def answer(self, method: str, target: str) -> tuple[int, Any]:
        self.asked.append(f"{method} {target}")
        path = re.sub(r"^/v\d+\.\d+(?=/)", "", target.split("?", 1)[0])
        if path in self.overrides:
            return self.overrides[path]
        if path == "/version":
            return 200, _fixture("version.json")
        found = re.fullmatch(r"/images/(.+)/json", path)
        if not found:
            return 404, {"message": "page not found"}
        name = urllib.parse.unquote(found.group(1))
        for image in self.images:
            names = [*image["RepoTags"], *(image["RepoDigests"] or [])]
            if name in names or (len(name) >= 12 and image["Id"].removeprefix(
                    "sha256:").startswith(name.removeprefix("sha256:"))):
                return 200, image
            if ":" not in name.rpartition("/")[2] and f"{name}:latest" in names:
                return 200, image
        return 404, {"message": f"No such image: {name}"}


@pytest.fixture(autouse=True)
def no_docker_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))


@pytest.fixture
def images() -> Images:
    return Images()


@pytest.fixture
def engine(tmp_path: Path, images: Images, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``unix:///…/engine.sock``, also in ``DOCKER_HOST``."""
    path = tmp_path / "engine.sock"
    server = _UnixEngine(str(path), _Handler)
    server.engine = images  # type: ignore[assignment]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    try:
        yield f"unix://{path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_pushed_image_by_its_name(engine: str, images: Images) -> None:
    found = engine_digest("registry.example.com/shop/web:1.4.2")
    assert found.fingerprint == WEB
    assert found.details() == {"reference": f"registry.example.com/shop/web@sha256:{WEB}"}
    assert images.asked[-1] == "GET /v1.47/images/registry.example.com/shop/web:1.4.2/json"


def test_docker_hub_names_as_the_engine_lists_them(engine: str) -> None:
    assert engine_digest("nginx:1.27").fingerprint == NGINX
    assert engine_digest("redis:7.2").fingerprint == REDIS  # not the mirror's digest


def test_the_repository_named_decides_among_several(engine: str) -> None:
    assert engine_digest("mirror.example.com/library/redis:7.2").fingerprint == MIRROR


def test_by_image_id(engine: str) -> None:
    assert engine_digest(f"sha256:{WEB_ID}").fingerprint == WEB
    assert engine_digest(NGINX_ID[:12]).fingerprint == NGINX


def test_an_id_whose_repo_digests_differ_is_ambiguous(engine: str) -> None:
    with pytest.raises(UsageError, match=r"has repo digests that differ \(mirror\.example"):
        engine_digest(REDIS_ID[:12])


def test_a_pinned_digest(engine: str) -> None:
    pinned = f"registry.example.com/shop/migrate@sha256:{MIGRATE_OLD}"
    assert engine_digest(pinned).fingerprint == MIGRATE_OLD
    found = engine_digest(f"registry.example.com/shop/migrate@sha256:{MIGRATE}")
    assert found.reference == f"registry.example.com/shop/migrate@sha256:{MIGRATE}"


def test_two_digests_of_one_repository_are_ambiguous(engine: str, images: Images) -> None:
    migrate = next(i for i in images.images if i["RepoDigests"] and "migrate" in
                   i["RepoDigests"][0])
    migrate["RepoTags"] = ["registry.example.com/shop/migrate:1"]
    with pytest.raises(UsageError, match="repo digests that differ"):
        engine_digest("registry.example.com/shop/migrate:1")


def test_an_image_never_pushed_has_no_repo_digest(engine: str) -> None:
    with pytest.raises(UsageError) as caught:
        engine_digest("shop-api:dev")
    assert caught.value.exit_code == 2
    assert caught.value.message == ("Docker: image 'shop-api:dev' has no repo digest: it was "
                                    "never pushed to or pulled from a registry")


def test_null_repo_digests_are_none(engine: str, images: Images) -> None:
    api = next(i for i in images.images if i["RepoTags"] == ["shop-api:dev"])
    api["RepoDigests"] = None  # some Engines (moby/moby#45556)
    with pytest.raises(UsageError, match="has no repo digest"):
        engine_digest("shop-api:dev")


def test_a_local_tag_of_a_pulled_image(engine: str, images: Images) -> None:
    web = next(i for i in images.images if i["Id"] == f"sha256:{WEB_ID}")
    web["RepoTags"].append("web:local")
    with pytest.raises(UsageError, match=r"no repo digest for web \(it has registry\.example"):
        engine_digest("web:local")


def test_no_such_image(engine: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        engine_digest("registry.example.com/shop/web:9.9")
    assert caught.value.exit_code == 2
    assert "no image 'registry.example.com/shop/web:9.9' in the Engine at unix://" in \
        caught.value.message


def test_the_engines_error_is_exit_3(engine: str, images: Images) -> None:
    images.overrides["/images/nginx:1.27/json"] = (500, {"message": "layer store is locked"})
    with pytest.raises(ProviderError) as caught:
        engine_digest("nginx:1.27")
    assert caught.value.exit_code == 3
    assert caught.value.message.endswith("refused GET /images/nginx:1.27/json (HTTP 500): "
                                         "layer store is locked")


def test_no_engine_is_exit_3(tmp_path: Path) -> None:
    where = f"unix://{tmp_path}/missing.sock"
    with pytest.raises(ProviderError, match=r"cannot reach the Docker Engine at .*missing\.sock"):
        engine_digest("nginx:1.27", where)


@pytest.mark.parametrize("name", ["", " nginx"])
def test_an_empty_name(name: str) -> None:
    with pytest.raises(UsageError, match="is not an image name"):
        engine_digest(name)
