"""The git collector against real throwaway repositories built with the git CLI.

Author and committer identities and dates are fixed through ``GIT_AUTHOR_*``/``GIT_COMMITTER_*``
so the expected values are exact; git reads no user or system configuration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from affidavit.collect.git import (
    commit_info,
    commit_info_cached,
    find_repo_root,
    normalize_repo_url,
)
from affidavit.errors import InputError, UsageError
from affidavit.models.records import CommitInfo

AUTHOR = "Ada Lovelace <ada@example.org>"
COMMITTER = "Grace Hopper <grace@example.org>"


def _env(home: Path, when: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"], "HOME": str(home), "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1", "LANG": "C",
        "GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.org",
        "GIT_AUTHOR_DATE": f"{when} +0200",
        "GIT_COMMITTER_NAME": "Grace Hopper", "GIT_COMMITTER_EMAIL": "grace@example.org",
        "GIT_COMMITTER_DATE": f"{when} +0200",
    }


class Git:
    """Runs git in a folder with a fixed identity; each commit is one day after the last."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.day = 0

    def __call__(self, cwd: Path, *args: str) -> str:
        when = f"2026-01-{10 + self.day:02d}T12:00:00"
        done = subprocess.run(["git", *args], cwd=cwd, env=_env(self.home, when), check=True,
                              capture_output=True, text=True)
        return done.stdout.strip()

    def commit(self, cwd: Path, message: str, name: str = "file.txt") -> str:
        self.day += 1
        (cwd / name).write_text(message + "\n")
        self(cwd, "add", name)
        self(cwd, "commit", "-q", "-m", message)
        return self(cwd, "rev-parse", "HEAD")


@pytest.fixture
def git(tmp_path: Path) -> Git:
    return Git(tmp_path)


@pytest.fixture
def repo(tmp_path: Path, git: Git) -> Path:
    """``main`` with two commits and an ssh ``origin``."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "remote", "add", "origin", "git@github.com:acme/widgets.git")
    git.commit(path, "first")
    git.commit(path, "second\n\nwith a body")
    return path


def _sha(git: Git, repo: Path, rev: str = "HEAD") -> str:
    return git(repo, "rev-parse", rev)


def test_normal_commit(repo: Path, git: Git) -> None:
    sha, parent = _sha(git, repo), _sha(git, repo, "HEAD~1")
    info = commit_info(repo)
    assert info == {
        "sha": sha,
        "parents": [parent],
        "author": AUTHOR,
        "committer": COMMITTER,
        "timestamp": "2026-01-12T10:00:00Z",  # committer date, in UTC
        "message": "second\n\nwith a body",
        "branch": "main",
        "repo_url": "https://github.com/acme/widgets",
        "url": f"https://github.com/acme/widgets/commit/{sha}",
    }
    assert CommitInfo.model_validate(info).canonical() == info


def test_older_commit_has_no_branch_and_subdirectory_finds_the_repo(repo: Path, git: Git) -> None:
    (repo / "sub").mkdir()
    info = commit_info(repo / "sub", "HEAD~1")
    assert info["sha"] == _sha(git, repo, "HEAD~1")
    assert info["parents"] == []
    assert info["message"] == "first"
    assert "branch" not in info  # HEAD's branch is somewhere else


def test_merge_commit_has_both_parents_in_order(repo: Path, git: Git) -> None:
    git(repo, "checkout", "-q", "-b", "feature", "HEAD~1")
    theirs = git.commit(repo, "feature work", name="other.txt")
    git(repo, "checkout", "-q", "main")
    ours = _sha(git, repo)
    git.day += 1
    git(repo, "merge", "-q", "--no-ff", "-m", "merge feature", "feature")
    info = commit_info(repo)
    assert info["parents"] == [ours, theirs]
    assert info["message"] == "merge feature"
    assert info["branch"] == "main"


def test_worktree(repo: Path, git: Git, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "topic", str(wt))
    sha = git.commit(wt, "in the worktree")
    assert (wt / ".git").is_file()
    (wt / "deep" / "er").mkdir(parents=True)
    assert find_repo_root(wt / "deep" / "er") == wt
    info = commit_info(wt)
    assert (info["sha"], info["branch"]) == (sha, "topic")
    assert info["repo_url"] == "https://github.com/acme/widgets"  # config shared with main
    assert commit_info(repo)["branch"] == "main"


def test_detached_head(repo: Path, git: Git, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    info = commit_info(repo)
    assert info["sha"] == _sha(git, repo)
    assert "branch" not in info
    wt = tmp_path / "detached-wt"
    git(repo, "worktree", "add", "-q", "--detach", str(wt), "main")
    assert "branch" not in commit_info(wt)


def test_shallow_clone_reports_parents_it_does_not_have(repo: Path, git: Git,
                                                        tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    assert (clone / ".git" / "shallow").exists()
    parent = _sha(git, repo, "HEAD~1")
    missing = subprocess.run(["git", "cat-file", "-e", parent], cwd=clone,
                             env=_env(tmp_path, "2026-01-01T00:00:00"), capture_output=True)
    assert missing.returncode != 0
    info = commit_info(clone)
    assert info["sha"] == _sha(git, repo)
    assert info["parents"] == [parent]
    assert info["branch"] == "main"
    assert "repo_url" not in info  # origin is a file:// URL: no web page


@pytest.mark.parametrize(("fields", "expected"), [
    ({"author"}, {"author": "REDACTED", "committer": "REDACTED"}),
    ({"committer"}, {"committer": "REDACTED"}),
    ({"message"}, {"message": "REDACTED"}),
    ({"branch"}, {"branch": "REDACTED"}),
    ({"author", "message", "branch"}, {"author": "REDACTED", "committer": "REDACTED",
                                       "message": "REDACTED", "branch": "REDACTED"}),
])
def test_redaction(repo: Path, fields: set[str], expected: dict[str, str]) -> None:
    plain = commit_info(repo)
    assert commit_info(repo, redact=fields) == {**plain, **expected}


def test_redacting_an_absent_branch_keeps_it_absent(repo: Path, git: Git) -> None:
    git(repo, "checkout", "-q", "--detach")
    assert "branch" not in commit_info(repo, redact=["branch"])


def test_unknown_redaction_field(repo: Path) -> None:
    with pytest.raises(UsageError, match="'email' is not one of author, committer"):
        commit_info(repo, redact=["email"])


def test_not_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert find_repo_root(plain) is None
    with pytest.raises(InputError) as direct:
        commit_info(plain)
    with pytest.raises(InputError) as cached:
        commit_info_cached(plain, "a" * 40, tmp_path / "cache")
    for caught in (direct, cached):
        assert caught.value.exit_code == 2
        assert caught.value.message == f"{plain}: not a git repository"


@pytest.mark.parametrize("rev", ["no-such-branch", "0" * 40, "HEAD~9", "HEAD:file.txt"])
def test_unknown_revision(repo: Path, rev: str) -> None:
    with pytest.raises(InputError) as caught:
        commit_info(repo, rev)
    assert str(repo) in caught.value.message and repr(rev) in caught.value.message
    assert "\n" not in caught.value.message


def test_empty_repository_has_no_head_commit(tmp_path: Path, git: Git) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main")
    with pytest.raises(InputError, match="unknown revision 'HEAD'"):
        commit_info(empty)


# --- the cache -----------------------------------------------------------------------------

PROBE = """
import json, sys
from pathlib import Path
from affidavit.collect.git import commit_info_cached
info = commit_info_cached(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]),
                          redact=json.loads(sys.argv[4]))
print(json.dumps({"info": info, "git_loaded": "git" in sys.modules}))
"""


def _probe(repo: Path, rev: str, cache: Path, redact: list[str] | None = None) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, str(repo), rev, str(cache),
                           json.dumps(redact or [])], capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_cached_call_does_not_import_git_and_returns_the_same(repo: Path, git: Git,
                                                               tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    sha = _sha(git, repo)
    first = _probe(repo, sha, cache)
    assert first["git_loaded"] is True
    assert (cache / "commits" / f"{sha}.json").is_file()
    second = _probe(repo, sha, cache)
    assert second == {"info": first["info"], "git_loaded": False}
    assert second["info"] == commit_info(repo)
    assert _probe(repo, "HEAD", cache) == second  # HEAD is resolved without git too


def test_cache_holds_unredacted_values_and_redacts_on_the_way_out(repo: Path, git: Git,
                                                                 tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    sha = _sha(git, repo)
    commit_info_cached(repo, sha, cache, redact=["author", "message"])
    stored = json.loads((cache / "commits" / f"{sha}.json").read_text())
    assert stored["info"]["author"] == AUTHOR and stored["info"]["message"].startswith("second")
    out = _probe(repo, sha, cache, ["author", "message"])
    assert out["git_loaded"] is False
    assert out["info"] == commit_info(repo, redact=["author", "message"])


def test_cached_branch_follows_head(repo: Path, git: Git, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    sha = _sha(git, repo)
    assert commit_info_cached(repo, sha, cache)["branch"] == "main"
    git(repo, "checkout", "-q", "--detach")
    out = _probe(repo, sha, cache)
    assert out["git_loaded"] is False
    assert "branch" not in out["info"]  # type: ignore[operator]
    git(repo, "checkout", "-q", "-b", "renamed")
    git(repo, "pack-refs", "--all")  # branch tips now only in packed-refs
    assert _probe(repo, sha, cache)["info"]["branch"] == "renamed"  # type: ignore[index]


def test_cached_worktree_reads_its_own_head(repo: Path, git: Git, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "topic", str(wt))
    sha = git.commit(wt, "in the worktree")
    first = _probe(wt, "HEAD", cache)
    second = _probe(wt, "HEAD", cache)
    assert second == {"info": first["info"], "git_loaded": False}
    assert second["info"]["sha"] == sha and second["info"]["branch"] == "topic"  # type: ignore[index]
    main = _probe(repo, sha, cache)  # same repository, so the same entry; main's HEAD is elsewhere
    assert main["git_loaded"] is False and "branch" not in main["info"]  # type: ignore[operator]


def test_cache_is_per_repository_and_corrupt_entries_are_reread(repo: Path, git: Git,
                                                               tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    sha = _sha(git, repo)
    commit_info_cached(repo, sha, cache)
    fork = tmp_path / "fork"
    git(tmp_path, "clone", "-q", str(repo), str(fork))
    git(fork, "remote", "set-url", "origin", "https://gitlab.com/someone/widgets.git")
    assert commit_info_cached(fork, sha, cache)["repo_url"] == "https://gitlab.com/someone/widgets"
    entry = cache / "commits" / f"{sha}.json"
    entry.write_text('{"v": 1, "repo": "x", "info": ')
    assert commit_info_cached(repo, sha, cache) == commit_info(repo)
    assert json.loads(entry.read_text())["info"]["sha"] == sha
    leftovers = [p.name for p in entry.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_cache_write_failure_is_not_an_error(repo: Path, git: Git, tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    assert commit_info_cached(repo, _sha(git, repo), blocked) == commit_info(repo)


def test_cached_unknown_commit_is_an_input_error(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown revision"):
        commit_info_cached(repo, "b" * 40, tmp_path / "cache")


def test_modules_import_no_heavy_dependency() -> None:
    code = ("import sys, affidavit.collect.git, affidavit.collect.ci; print(sorted(m for m in "
            "('git', 'typing', 'pathlib', 'urllib.parse', 'datetime') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- remote URLs ---------------------------------------------------------------------------

@pytest.mark.parametrize(("remote", "expected"), [
    ("git@github.com:acme/widgets.git", "https://github.com/acme/widgets"),
    ("git@github.com:acme/widgets", "https://github.com/acme/widgets"),
    ("ssh://git@github.com/acme/widgets.git", "https://github.com/acme/widgets"),
    ("ssh://git@host.example:22/org/repo.git", "https://host.example/org/repo"),
    ("ssh://git@ssh.github.com:443/acme/widgets.git", "https://github.com/acme/widgets"),
    ("git+ssh://git@github.com/acme/widgets.git", "https://github.com/acme/widgets"),
    ("git://github.com/acme/widgets.git", "https://github.com/acme/widgets"),
    ("https://github.com/acme/widgets.git", "https://github.com/acme/widgets"),
    ("https://github.com/acme/widgets/", "https://github.com/acme/widgets"),
    ("HTTPS://GitHub.COM/Acme/Widgets.git", "https://github.com/Acme/Widgets"),
    # credentials are never kept
    ("https://user:s3cr3t@github.com/acme/widgets.git", "https://github.com/acme/widgets"),
    ("https://x-access-token:ghs_abc@github.com/acme/widgets", "https://github.com/acme/widgets"),
    ("https://gitlab-ci-token:[MASKED]@gitlab.example.com/g/p.git", "https://gitlab.example.com/g/p"),
    ("https://oauth2:glpat-x@gitlab.com/group/sub/project.git",
     "https://gitlab.com/group/sub/project"),
    ("https://user:pa/ss@host/org/repo.git", None),  # unencoded "/" in a password: refuse
    # GitLab subgroups
    ("git@gitlab.com:group/subgroup/deeper/project.git",
     "https://gitlab.com/group/subgroup/deeper/project"),
    ("ssh://git@gitlab.example.com:2222/group/sub/project.git",
     "https://gitlab.example.com/group/sub/project"),
    # Bitbucket Cloud and Server
    ("git@bitbucket.org:workspace/repo.git", "https://bitbucket.org/workspace/repo"),
    ("http://bitbucket.org/workspace/repo", "https://bitbucket.org/workspace/repo"),
    ("https://jdoe@bitbucket.org/workspace/repo.git", "https://bitbucket.org/workspace/repo"),
    ("ssh://git@bitbucket.example.com:7999/proj/repo.git", "https://bitbucket.example.com/proj/repo"),
    ("https://bitbucket.example.com:8443/scm/proj/repo.git",
     "https://bitbucket.example.com:8443/scm/proj/repo"),
    ("http://git.internal:80/org/repo", "http://git.internal/org/repo"),
    # Azure DevOps
    ("git@ssh.dev.azure.com:v3/org/project/repo", "https://dev.azure.com/org/project/_git/repo"),
    ("ssh://git@ssh.dev.azure.com/v3/org/My%20Project/repo",
     "https://dev.azure.com/org/My%20Project/_git/repo"),
    ("https://org@dev.azure.com/org/project/_git/repo",
     "https://dev.azure.com/org/project/_git/repo"),
    ("org@vs-ssh.visualstudio.com:v3/org/project/repo",
     "https://org.visualstudio.com/project/_git/repo"),
    ("git@ssh.dev.azure.com:v3/org/project", None),
    # local paths and other non-web remotes
    ("file:///srv/git/repo.git", None),
    ("/srv/git/repo.git", None),
    ("../sibling", None),
    ("./repo:with-colon", None),
    ("C:\\src\\repo", None),
    ("C:/src/repo", None),
    ("s3://bucket/source.zip", None),
    ("", None),
    ("https://github.com", None),
])
def test_normalize_repo_url(remote: str, expected: str | None) -> None:
    assert normalize_repo_url(remote) == expected
