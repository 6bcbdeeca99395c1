"""What the CI running this process says about the build, and the defaults taken from it.

One place decides them for every command: in a CI build the commit, its URL and the build URL
default from the CI's own variables, and a trail's name defaults to the commit. Whatever the
caller gives explicitly wins. Outside CI there are no defaults, so a missing trail name is an
error, not a guess.
"""

from __future__ import annotations

import os

from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["detect_ci", "CiDefaults", "ci_defaults", "trail_name"]


def detect_ci(env: Mapping[str, str] | None = None) -> dict[str, str | None] | None:
    """The CI provider and what it says about the build (``affidavit ci env``); None outside
    CI. ``env`` defaults to this process's environment."""
    from affidavit.collect.ci import detect

    return detect(os.environ if env is None else env)


class CiDefaults:
    """The values a CI build supplies when the caller gives none (all None outside CI)."""

    __slots__ = ("commit", "commit_url", "origin_url")

    def __init__(self, found: Mapping[str, str | None] | None) -> None:
        found = found if found and found.get("commit") else {}
        self.commit = found.get("commit")
        self.commit_url = found.get("commit_url")
        self.origin_url = found.get("build_url")


def ci_defaults(env: Mapping[str, str] | None = None) -> CiDefaults:
    """The commit, commit URL and build URL the CI gives, for ``--commit``/``--origin-url``."""
    return CiDefaults(detect_ci(env))


def trail_name(given: str | None, command: str, env: Mapping[str, str] | None = None) -> str:
    """``given``, or in CI the commit being built; outside CI a missing name is refused."""
    if given is not None:
        if given.strip() == "":
            raise UsageError(f"{command}: the trail name is empty")
        return given
    commit = ci_defaults(env).commit
    if commit is None:
        raise UsageError(f"{command} needs a trail NAME (outside CI there is no default)")
    return commit
