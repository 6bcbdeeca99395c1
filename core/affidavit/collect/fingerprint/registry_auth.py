"""What a registry client presents: credentials from the flags or ``docker login``, and the
``WWW-Authenticate`` challenge it answers with them.

``docker login`` keeps credentials in ``config.json`` (``$DOCKER_CONFIG``, else ``~/.docker``)
under ``auths``, keyed by registry host (``https://index.docker.io/v1/`` for Docker Hub), as
``auth`` (base64 of ``user:password``) or ``username``/``password``. Entries kept by a
credential helper (``credsStore``, ``credHelpers``) or as an ``identitytoken`` are not read:
running a helper is not this module's to do.
"""

from __future__ import annotations

import base64
import json
import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Credentials", "basic", "docker_login", "parse_challenge"]

Credentials = tuple[str, str]
"""A user name and a password (or token)."""

_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """The scheme (lowercase) and parameters of a ``WWW-Authenticate`` value (RFC 9110
    auth-params, quoted or not; a quoted scope may hold commas)."""
    scheme, _, rest = header.strip().partition(" ")
    params = {}
    for match in _PARAM.finditer(rest):
        value = match.group(2)
        value = re.sub(r"\\(.)", r"\1", value) if value is not None else match.group(3)
        params[match.group(1).lower()] = value
    return scheme.lower(), params


def basic(credentials: Credentials) -> str:
    """The ``Basic`` credentials of an ``Authorization`` header."""
    return base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode("ascii")


_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io",
             "registry-1.docker.io")


def docker_login(endpoint: str) -> Credentials | None:
    """The docker CLI's stored ``auth`` for ``endpoint`` (``docker login``), if any."""
    folder = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"),
                                                             ".docker")
    try:
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return None
    auths = config.get("auths") if isinstance(config, dict) else None
    if not isinstance(auths, dict):
        return None
    hub = endpoint == "registry-1.docker.io"
    for key, entry in auths.items():
        name = str(key).split("://", 1)[-1].split("/", 1)[0].lower()
        if (name == endpoint.lower() or (hub and (key in _HUB_KEYS or name in _HUB_KEYS))) \
                and isinstance(entry, dict):
            found = _entry_credentials(entry)
            if found:
                return found
    return None


def _entry_credentials(entry: dict[str, Any]) -> Credentials | None:
    if isinstance(entry.get("auth"), str) and entry["auth"]:
        try:
            user, colon, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except ValueError:
            return None
        return (user, password) if colon and user else None
    name, secret = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(secret, str) and name:
        return name, secret
    return None
