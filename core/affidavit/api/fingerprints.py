"""SHA-256 fingerprints of file and directory artifacts, as Kosli computes them."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Sequence

    from affidavit.api.inputs import PathArg

__all__ = ["fingerprint"]


def fingerprint(path: PathArg, artifact_type: str, exclude: Sequence[str] = ()) -> str:
    """The fingerprint of ``path`` as a ``file`` or a ``dir``; ``exclude`` (globs, Kosli's
    rules) applies to a directory only."""

    from affidavit.collect.fingerprint import fingerprint as compute
    from affidavit.paths import path_text

    # spelled as pathlib would (``./a/`` -> ``a``) in its messages, without importing pathlib
    return compute(path_text(path), artifact_type, tuple(exclude))  # type: ignore[arg-type]
