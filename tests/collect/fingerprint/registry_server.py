"""A registry on pytest-httpserver answering as the OCI distribution specification and the
Docker registry token specification describe (tests/collect/fingerprint/registry/SOURCES.md):
manifests by tag and digest, HEAD without a body, a Bearer challenge and its token service.

Shared by the collector's tests and the CLI's."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from werkzeug import Request, Response

FIXTURES = Path(__file__).parent / "registry"

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"

# sha256sum of each fixture, written down once (the tests check they still match)
INDEX_OCI = "4e452c6f02c2add492a79f7e29d2bdfbe1adb420cbdfa482c7ba4523f33dfb12"
LIST_DOCKER = "d8857f143c3a77128b0f4f73317867f45a54679b43b28847faff05c1f5ae8d92"
MANIFEST_DOCKER = "64c1025f9842ba99e710507d5590ea1716854d49406c0dc8abe3c049308e4d3c"
MANIFEST_OCI = "224eb8e034316ccf7050a5a6247da38579601c44b38bff04e1cf23a600e70dc6"
#: The platform manifests index_oci.json lists (its attestation manifest is not a platform).
AMD64 = "3a4d1c2a2b0f6f4e9a3b1c0d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f"
ARM64 = "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"

TOKEN = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.test-token"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class Registry:
    """Repositories of manifests (tag → (file, media type)); anonymous pulls get a token
    unless ``users`` is set, when the token service wants one of them in Basic auth."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.service = "registry.test"
        self.realm: str | None = None  # the token service, when not this server's /token
        self.tags: dict[tuple[str, str], tuple[str, str]] = {
            ("team/app", "1.2"): ("index_oci.json", OCI_INDEX),
            ("team/app", "1.1"): ("manifest_list_docker.json", DOCKER_LIST),
            ("team/app", "1.0"): ("manifest_docker.json", DOCKER_MANIFEST),
            ("team/tool", "2"): ("manifest_oci.json", OCI_MANIFEST),
        }
        self.challenge: str | None = "bearer"  # or "basic", or None: no auth at all
        self.users: dict[str, str] | None = None
        self.refuse_tokens = False  # the token service issues tokens the registry refuses
        self.omit_digest = False
        self.digest_header: str | None = None  # a Docker-Content-Digest to send instead
        self.content_type = True
        self.failures: list[tuple[int, dict[str, str]]] = []  # answered first, in order
        self.asked: list[dict[str, Any]] = []

    @property
    def host(self) -> str:
        return self.base.split("://", 1)[1]

    def handle(self, request: Request) -> Response:
        self.asked.append({"method": request.method, "path": request.path,
                           "args": list(request.args.items(multi=True)),
                           "authorization": request.headers.get("Authorization"),
                           "accept": request.headers.get("Accept")})
        if self.failures:
            status, headers = self.failures.pop(0)
            return Response(json.dumps({"errors": [{"code": "UNAVAILABLE",
                                                    "message": "try again"}]}),
                            status=status, headers=headers, content_type="application/json")
        if request.path == "/token":
            return self._token(request)
        if request.path.startswith("/v2/"):
            return self._manifest(request)
        return Response("not found", status=404)

    def _token(self, request: Request) -> Response:
        if self.users is not None:
            sent = request.headers.get("Authorization", "")
            decoded = base64.b64decode(sent[6:]).decode() if sent.startswith("Basic ") else ""
            user, _, password = decoded.partition(":")
            if self.users.get(user) != password or not user:
                return Response(json.dumps({"details": "incorrect username or password"}),
                                status=401, content_type="application/json")
        return Response(fixture("token.json"), content_type="application/json")

    def _authorized(self, request: Request) -> bool:
        sent = request.headers.get("Authorization", "")
        if self.challenge is None:
            return True
        if self.challenge == "basic":
            if not sent.startswith("Basic ") or self.users is None:
                return False
            user, _, password = base64.b64decode(sent[6:]).decode().partition(":")
            return self.users.get(user) == password
        return sent == f"Bearer {TOKEN}" and not self.refuse_tokens

    def _manifest(self, request: Request) -> Response:
        name, _, reference = request.path[len("/v2/"):].rpartition("/manifests/")
        if not self._authorized(request):
            realm = self.realm or f"{self.base}/token"
            challenge = (f'Bearer realm="{realm}",service="{self.service}",'
                         f'scope="repository:{name}:pull"' if self.challenge == "bearer"
                         else 'Basic realm="Registry Realm"')
            return Response(fixture("error_unauthorized.json"), status=401,
                            headers={"WWW-Authenticate": challenge},
                            content_type="application/json")
        found = self._find(name, reference)
        if found is None:
            return Response(fixture("error_manifest_unknown.json"), status=404,
                            content_type="application/json")
        body, media_type = found
        headers = {"Docker-Distribution-Api-Version": "registry/2.0"}
        if not self.omit_digest:
            headers["Docker-Content-Digest"] = (self.digest_header or
                                                "sha256:" + hashlib.sha256(body).hexdigest())
        response = Response(body, status=200, headers=headers,
                            content_type=media_type if self.content_type else None)
        if not self.content_type:
            response.headers.pop("Content-Type", None)
        return response

    def _find(self, name: str, reference: str) -> tuple[bytes, str] | None:
        for (repository, tag), (file, media_type) in self.tags.items():
            if repository != name:
                continue
            body = fixture(file)
            if reference in (tag, "sha256:" + hashlib.sha256(body).hexdigest()):
                return body, media_type
        return None

    def manifest_requests(self) -> list[str]:
        return [f"{a['method']} {a['path']}" for a in self.asked if a["path"] != "/token"]
