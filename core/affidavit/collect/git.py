"""The git commit a record is about, read from a local checkout.

Reading a commit needs GitPython, whose import alone costs ~80 ms, and the CLI runs dozens of times
per pipeline for the same commit. So GitPython is imported only inside :func:`commit_info`, and
:func:`commit_info_cached` keeps what it read in ``<cache_dir>/commits/<sha>.json``: a commit
never changes, so later calls answer from that file without importing git. Everything else here
(finding the repository, reading ``HEAD``, URLs) is standard-library file and string work.

Decisions, so that every caller records the same thing:

- ``timestamp`` is the **committer** date in UTC (``2026-01-31T10:00:00Z``): when this very
  commit object was made; the author date survives rebases and can predate the SHA by years.
- ``parents`` are the SHAs recorded in the commit object, also in a shallow clone that lacks them.
- ``branch`` is the branch ``HEAD`` is on when that branch's tip is this commit; otherwise
  (detached ``HEAD``, or another commit than the checked-out one) it is absent. A CI checkout is
  usually detached: the caller takes the branch from the CI's variables instead.
- ``repo_url`` is the ``origin`` remote (else the only remote) as an https URL without
  credentials (:func:`normalize_repo_url`); ``url`` is the commit's web page where the host's URL
  scheme is known (github.com, gitlab.com, bitbucket.org, Azure DevOps).
- Redaction replaces a value with ``"REDACTED"`` rather than dropping it, so a record says that a
  value was withheld rather than unknown. ``author`` redacts the committer too (usually the same
  person; Kosli's ``--redact-commit-info author`` has no committer to think of); ``committer``
  redacts only the committer. Values that are absent stay absent.
- The cache holds unredacted values (they are in the repository anyway); redaction is applied
  on the way out. A cache entry is tied to the repository it was read from (a fork has the same
  SHAs and another URL); ``branch`` is never cached but read from ``HEAD`` on every call.
"""

from __future__ import annotations

import json
import os
import re
import time

from affidavit.collect.remote import commit_url, normalize_repo_url
from affidavit.errors import InputError, UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Collection
    from pathlib import Path
    from typing import Any

__all__ = ["REDACTED", "REDACTABLE", "commit_info", "commit_info_cached", "find_repo_root",
           "normalize_repo_url", "commit_url"]

REDACTED = "REDACTED"
#: What ``redact`` may name; ``author`` covers the committer as well.
REDACTABLE = ("author", "committer", "message", "branch")
_ORDER = ("sha", "parents", "author", "committer", "timestamp", "message", "branch", "repo_url",
          "url")
_FULL_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_CACHE_VERSION = 1


def find_repo_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``.git`` (a folder, or the file a
    worktree or submodule has), without GitPython: the CLI asks this on every call."""
    found = _root_of(os.fspath(start))
    if found is None:
        return None
    from pathlib import Path

    return Path(found)


def _root_of(start: str) -> str | None:
    folder = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def commit_info(repo: Path, rev: str = "HEAD", *, redact: Collection[str] = ()) -> dict[str, Any]:
    """What the record says about commit ``rev`` of the checkout at (or above) ``repo``.

    Keys as in ``CommitInfo`` (absent when unknown). Raises :class:`InputError` when ``repo`` is
    not in a git repository or ``rev`` is not a commit there, :class:`UsageError` for an unknown
    ``redact`` field.
    """
    fields = _check_redact(redact)
    return _redacted(_collect(os.fspath(repo), rev), _branch_of(os.fspath(repo)), fields)


def commit_info_cached(
    repo: Path, sha: str, cache_dir: Path, *, redact: Collection[str] = ()
) -> dict[str, Any]:
    """:func:`commit_info` for ``sha`` (a full SHA, or ``HEAD``), answered from
    ``<cache_dir>/commits/<sha>.json`` when an earlier call stored it for this repository, in
    which case GitPython is not imported. Writing the cache is best effort (atomic, never
    half-written); a missing, unreadable or foreign entry is simply read again from git."""
    fields = _check_redact(redact)
    root = os.fspath(repo)
    dirs = _git_dirs(root)
    if dirs is None:
        raise InputError(f"{root}: not a git repository", remedy="run inside a git checkout")
    rev = sha.strip().lower()
    if rev == "head":
        rev = _resolve_head(*dirs)[1] or "HEAD"
    identity = os.path.realpath(dirs[1])
    if _FULL_SHA.match(rev):
        path = os.path.join(os.fspath(cache_dir), "commits", f"{rev}.json")
        cached = _read_cache(path, rev, identity)
        if cached is not None:
            return _redacted(cached, _branch_of(root), fields)
    info = _collect(root, sha)
    _write_cache(os.path.join(os.fspath(cache_dir), "commits", f"{info['sha']}.json"),
                 {"v": _CACHE_VERSION, "repo": identity, "info": info})
    return _redacted(info, _branch_of(root), fields)


def _check_redact(redact: Collection[str]) -> frozenset[str]:
    unknown = sorted(set(redact) - set(REDACTABLE))
    if unknown:
        raise UsageError(f"--redact-commit-info {unknown[0]!r} is not one of "
                         f"{', '.join(REDACTABLE)}")
    return frozenset(redact)


def _collect(root: str, rev: str) -> dict[str, Any]:
    """Read ``rev`` with GitPython: the one place that imports it. No branch, no redaction."""
    try:
        import git
        from git.exc import GitError, ODBError
    except ImportError as exc:  # GitPython missing, or no git executable on PATH
        raise InputError(f"{root}: cannot read the git commit ({exc})".splitlines()[0],
                         remedy="install git and GitPython, or pass the commit's SHA only") from exc
    try:
        repository = git.Repo(root, search_parent_directories=True)
    except (GitError, OSError) as exc:
        raise InputError(f"{root}: not a git repository",
                         remedy="run inside a git checkout") from exc
    with repository:
        try:
            commit = repository.commit(rev)
            message = commit.message
            info: dict[str, Any] = {
                "sha": commit.hexsha,
                "parents": [parent.hexsha for parent in commit.parents],
                "author": f"{commit.author.name or ''} <{commit.author.email or ''}>",
                "committer": f"{commit.committer.name or ''} <{commit.committer.email or ''}>",
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                           time.gmtime(commit.committed_date)),
                "message": (message.decode("utf-8", "replace") if isinstance(message, bytes)
                            else message).rstrip("\n"),
            }
        except (ODBError, ValueError, IndexError) as exc:
            raise InputError(f"{root}: unknown revision {rev!r} (not a commit in this "
                             "repository)") from exc
        except GitError as exc:
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise InputError(f"{root}: git could not read {rev!r}: {detail}") from exc
        remote = _remote_url(repository)
    info["repo_url"] = normalize_repo_url(remote) if remote else None
    return info


def _remote_url(repository: Any) -> str | None:
    """``origin``, else the only remote: with several and no origin there is no good guess."""
    try:
        remotes = {remote.name: remote for remote in repository.remotes}
        if "origin" in remotes:
            return str(remotes["origin"].url)
        return str(next(iter(remotes.values())).url) if len(remotes) == 1 else None
    except Exception:  # a remote without a url, an unreadable config: no URL, not a failure
        return None


def _redacted(info: dict[str, Any], branch: tuple[str | None, str | None],
              fields: frozenset[str]) -> dict[str, Any]:
    """The record: ``info`` plus the branch (when HEAD's tip is this commit), the commit's web
    URL, redaction applied, None values dropped, keys in a fixed order."""
    out = dict(info)
    name, head = branch
    out["branch"] = name if head == info["sha"] else None
    if out.get("repo_url"):
        out["url"] = commit_url(out["repo_url"], info["sha"])
    hidden = set(fields) | ({"committer"} if "author" in fields else set())
    for field in hidden:
        if out.get(field) is not None:
            out[field] = REDACTED
    return {key: out[key] for key in _ORDER if out.get(key) is not None}


# --- the repository's files, read without GitPython ----------------------------------------

def _git_dirs(start: str) -> tuple[str, str] | None:
    """(the checkout's git dir, the common git dir) for the repository at or above ``start``.

    A worktree's or submodule's ``.git`` is a file ``gitdir: <path>``; a worktree's git dir has
    a ``commondir`` file pointing at the main repository's, where branches live."""
    found = _root_of(start)
    if found is None:
        folder = os.path.abspath(start)
        bare = all(os.path.exists(os.path.join(folder, name)) for name in ("HEAD", "objects"))
        return (folder, folder) if bare else None
    dotgit = os.path.join(found, ".git")
    git_dir = dotgit
    if os.path.isfile(dotgit):
        content = _read(dotgit) or ""
        if not content.startswith("gitdir:"):
            return None
        git_dir = os.path.normpath(os.path.join(found, content[7:].strip()))
    common = git_dir
    pointer = _read(os.path.join(git_dir, "commondir"))
    if pointer:
        common = os.path.normpath(os.path.join(git_dir, pointer.strip()))
    return git_dir, common


def _branch_of(start: str) -> tuple[str | None, str | None]:
    """(branch HEAD is on, the SHA it points at); either may be None."""
    dirs = _git_dirs(start)
    return _resolve_head(*dirs) if dirs else (None, None)


def _resolve_head(git_dir: str, common: str) -> tuple[str | None, str | None]:
    head = (_read(os.path.join(git_dir, "HEAD")) or "").strip()
    if not head.startswith("ref:"):
        return None, head.lower() if _FULL_SHA.match(head.lower()) else None
    ref = head[4:].strip()
    branch = ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else None
    for folder in (git_dir, common):
        loose = (_read(os.path.join(folder, *ref.split("/"))) or "").strip().lower()
        if _FULL_SHA.match(loose):
            return branch, loose
    for line in (_read(os.path.join(common, "packed-refs")) or "").splitlines():
        sha, _, name = line.partition(" ")
        if name.strip() == ref and _FULL_SHA.match(sha.lower()):
            return branch, sha.lower()
    return branch, None  # unborn branch, or a ref format (reftable) this reader does not know


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


# --- the cache -----------------------------------------------------------------------------

def _read_cache(path: str, sha: str, identity: str) -> dict[str, Any] | None:
    """The cached info when it is well-formed, for ``sha`` and read from this repository."""
    try:
        with open(path, encoding="utf-8") as fh:
            entry = json.load(fh)
        info = entry["info"]
        if entry["v"] != _CACHE_VERSION or entry["repo"] != identity or info["sha"] != sha:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    fine = isinstance(info, dict) and set(info) <= set(_ORDER) - {"branch", "url"} and all(
        (isinstance(v, list) and all(isinstance(p, str) for p in v)) if k == "parents"
        else v is None or isinstance(v, str) for k, v in info.items())
    return info if fine else None


def _write_cache(path: str, entry: dict[str, Any]) -> None:
    """Write to a unique temporary name, then rename over ``path``: readers see the old entry
    or the new one, never a torn file. Failing to write is not an error."""
    tmp = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(entry, fh, ensure_ascii=False, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        try:  # noqa: SIM105  (contextlib.suppress would cost an import on the write path)
            os.unlink(tmp)
        except OSError:
            pass
