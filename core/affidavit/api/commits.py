"""The commit a record is about: from the local checkout when there is one, else just its SHA.

Reading a commit needs GitPython (80 ms to import); the git collector caches what it read per
SHA under the user cache dir, so only the first command of a pipeline pays for it.
"""

from __future__ import annotations

import re
import sys

from affidavit.errors import InputError, UsageError
from affidavit.models.fields import COMMIT_PATTERN

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Collection
    from typing import Any

__all__ = ["commit_record", "split_fields"]

_ABBREVIATED = re.compile(r"^[0-9a-f]{7,39}$")


def split_fields(values: Collection[str]) -> tuple[str, ...]:
    """``--redact-commit-info author,message branch`` -> the field names, in order."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def commit_record(
    sha: str | None, *, url: str | None = None, redact: Collection[str] = ()
) -> dict[str, Any] | None:
    """The ``commit`` field of a record for ``sha`` (None when no commit is known).

    An abbreviated SHA (Bitbucket's variables give one) is expanded through the local checkout;
    without a checkout only a full SHA can be recorded.
    """
    if sha is None:
        return None
    lowered = sha.lower()
    full = re.match(COMMIT_PATTERN, lowered) is not None
    if not full and not _ABBREVIATED.match(lowered):
        raise UsageError(f"--commit {sha!r} is not a git commit SHA")
    from pathlib import Path

    from affidavit.collect import git
    from affidavit.ledger.registry import cache_dir

    fields = split_fields(redact)
    unknown = [f for f in fields if f not in git.REDACTABLE]
    if unknown:
        raise UsageError(
            f"--redact-commit-info {unknown[0]!r} is not one of {', '.join(git.REDACTABLE)}"
        )
    root = git.find_repo_root(Path.cwd())
    info: dict[str, Any] = {"sha": lowered}
    if root is not None:
        try:
            info = git.commit_info_cached(root, lowered, Path(cache_dir()), redact=fields)
        except InputError as exc:
            if not full:
                raise UsageError(f"--commit {sha!r}: {exc.message}") from None
            sys.stderr.write(f"affidavit: warning: {exc.message}; recording the SHA only\n")
    elif not full:
        raise UsageError(
            f"--commit {sha!r} is abbreviated and there is no git checkout here to expand it"
        )
    if url and "url" not in info:
        info["url"] = url
    return info
