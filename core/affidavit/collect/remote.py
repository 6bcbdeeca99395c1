"""Repository and commit web URLs from git remote URLs, without credentials.

Shared by the git collector (the ``origin`` remote) and CI detection (the CI's repository
variables), so both record the same URL for the same repository. String work only: no urllib,
which would cost the CLI's start-up.
"""

from __future__ import annotations

import re

__all__ = ["normalize_repo_url", "commit_url"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", re.DOTALL)
_SCP = re.compile(r"^(?:[^@/]+@)?(\[[^\]/]+\]|[^:/\[\]]+):(.*)$", re.DOTALL)
_REMOTE_SCHEMES = {"http", "https", "ssh", "git", "git+ssh", "ssh+git"}
#: Hosts serving the web only over https, and ssh endpoints that stand for a web host.
_HTTPS_ONLY = {"github.com", "gitlab.com", "bitbucket.org", "dev.azure.com"}
_ALIASES = {"ssh.github.com": "github.com", "altssh.gitlab.com": "gitlab.com",
            "altssh.bitbucket.org": "bitbucket.org"}


def normalize_repo_url(remote: str) -> str | None:
    """The repository's web URL for a git remote URL; None for local paths, ``file://`` and
    anything not a hosted repository.

    ssh (``git@host:org/repo.git``, ``ssh://git@host:22/org/repo.git``) becomes
    ``https://host/org/repo``; credentials (``https://user:token@host/…``) are dropped so a token
    never reaches a record; a trailing ``.git`` or ``/`` goes; Azure DevOps ssh
    (``git@ssh.dev.azure.com:v3/org/proj/repo``) becomes ``https://dev.azure.com/org/proj/_git/
    repo``. Paths keep their case."""
    text = remote.strip()
    match = _SCHEME.match(text)
    port = ""
    if match:
        scheme, rest = match.group(1).lower(), match.group(2)
        if scheme not in _REMOTE_SCHEMES:
            return None
        authority, _, path = rest.partition("/")
        path = re.split(r"[?#]", path, maxsplit=1)[0]
        host = authority.rpartition("@")[2]
        port_match = re.match(r"^(\[[^\]]*\]|[^:]*)(?::(\d*))?$", host)
        if port_match is None:
            return None
        host, port = port_match.group(1), port_match.group(2) or ""
        if scheme not in ("http", "https"):
            scheme, port = "https", ""  # the ssh/git port says nothing about the web server's
        elif port == ("443" if scheme == "https" else "80"):
            port = ""
    else:
        match = _SCP.match(text)
        if match is None or len(match.group(1)) == 1:  # no host, or a Windows drive letter
            return None
        scheme, host, path = "https", match.group(1), match.group(2)
    host = _ALIASES.get(host.lower(), host.lower())
    path = path.strip("/")
    path = path[:-4].rstrip("/") if path.endswith(".git") else path
    if not host or not path:
        return None
    if host in ("ssh.dev.azure.com", "vs-ssh.visualstudio.com") and path.startswith("v3/"):
        parts = path.split("/")
        if len(parts) != 4:
            return None
        _, org, project, name = parts
        if host == "ssh.dev.azure.com":
            return f"https://dev.azure.com/{org}/{project}/_git/{name}"
        return f"https://{org}.visualstudio.com/{project}/_git/{name}"
    if host in _HTTPS_ONLY:
        scheme = "https"
    return f"{scheme}://{host}{':' + port if port else ''}/{path}"


def commit_url(repo_url: str, sha: str) -> str | None:
    """The web page of commit ``sha`` in ``repo_url`` (as :func:`normalize_repo_url` returns
    it) where the host's URL scheme is known; None for other hosts rather than a guess."""
    host = repo_url.split("://", 1)[-1].split("/", 1)[0]
    if host == "dev.azure.com" or host.endswith(".visualstudio.com"):
        return f"{repo_url}/commit/{sha}" if "/_git/" in repo_url else None
    page = {"github.com": "commit", "gitlab.com": "-/commit", "bitbucket.org": "commits"}.get(host)
    return f"{repo_url}/{page}/{sha}" if page else None
