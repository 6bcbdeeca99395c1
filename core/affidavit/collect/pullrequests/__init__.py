"""Pull (merge) requests that contain a commit, from GitHub, GitLab, Bitbucket and Azure DevOps.

One module per provider, each with the same four names, so the API layer has no provider cases:

- ``DEFAULT_BASE_URL``: the cloud API root;
- ``connect(base_url, token, username) -> Api``: the session with the provider's auth header;
- ``for_commit(api, repository, sha) -> list[int] | None``: the numbers of the pull requests
  that contain ``sha``, through the provider's immediately consistent endpoint (never a search
  index, which lags behind a merge); ``[]`` when there are none yet and ``None`` when the
  provider says it is still indexing (Bitbucket's 202): both mean "ask again" to the poller;
  an unknown repository is a :class:`~affidavit.errors.NotFoundError` (exit 2);
- ``get(api, repository, number) -> Record``: one pull request with every review and commit,
  in the shape of :mod:`affidavit.collect.pullrequests.shape`.

What reaches a module is JSON from its provider's documented REST API; what leaves is the shape.
"""

from __future__ import annotations

import time

from affidavit.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

    from affidavit.collect.pullrequests.http import Api

    Record = dict[str, Any]

__all__ = ["PROVIDERS", "provider_module", "Found", "find"]

PROVIDERS = ("github", "gitlab", "bitbucket", "azure")


def provider_module(name: str) -> ModuleType:
    """The module of provider ``name`` (imported on use: one command needs one provider)."""
    import importlib

    if name not in PROVIDERS:
        raise UsageError(f"provider {name!r} is not one of {', '.join(PROVIDERS)}")
    return importlib.import_module(f"affidavit.collect.pullrequests.{name}")


class Found:
    """What a lookup found: the pull requests, and how long and how often it asked."""

    def __init__(self, pull_requests: list[Record], waited: float, polls: int) -> None:
        self.pull_requests = pull_requests
        self.waited = waited
        self.polls = polls


def find(module: Any, api: Api, repository: str, *, commit: str | None, number: int | None,
         max_wait: float, sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic) -> Found:
    """The pull request ``number``, or those containing ``commit``.

    A commit merged seconds ago may not be linked to its pull request yet: while the answer is
    "none" (or "still indexing") the provider is asked again, 1, 2, 4, then every 5 seconds,
    until ``max_wait`` seconds have passed. Only then is the answer "no pull request"."""
    if number is not None:
        return Found([module.get(api, repository, number)], 0.0, 1)
    if commit is None:
        raise UsageError("a pull request lookup needs --commit or --pr")
    start = clock()
    polls = 0
    pause = 1.0
    while True:
        polls += 1
        asked = clock()  # what was waited is the time before the answer, not the answer's own
        numbers = module.for_commit(api, repository, commit)
        if numbers:
            unique = sorted(set(numbers))
            return Found([module.get(api, repository, n) for n in unique],
                         round(asked - start, 1), polls)
        left = max_wait - (clock() - start)
        if left <= 0:
            return Found([], round(clock() - start, 1), polls)
        sleep(min(pause, left))
        pause = min(pause * 2, 5.0)
