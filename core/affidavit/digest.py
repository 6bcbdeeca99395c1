"""SHA-256 for small inputs without paying for OpenSSL's start-up.

``hashlib`` loads OpenSSL (about 3 ms), which the CLI's write path would pay on every call just
to hash a few hundred bytes. CPython's built-in SHA-256 module gives identical digests; large
inputs (evidence files, fingerprints) still go through ``hashlib`` where OpenSSL is faster.
The private module is tried first and the public one is the fallback, so a release that moves
it costs speed, never correctness; ``bench/coldstart.py`` (``coldstart-crypto-imports``) keeps
the measured reason, with ``ledger.note``'s use of cryptography's binding.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it

__all__ = ["sha256", "sha256_for", "size_of", "SMALL"]

if TYPE_CHECKING:
    from hashlib import _Hash, sha256
    from typing import Any
else:
    try:
        from _sha2 import sha256  # CPython >= 3.12
    except ImportError:
        try:
            from _sha256 import sha256  # CPython 3.11
        except ImportError:  # other interpreters
            from hashlib import sha256


#: Below this many bytes a file is hashed with the built-in SHA-256 (about 2.9 ms a MiB here,
#: against OpenSSL's 0.5 ms a MiB after its 1.8 ms start-up): a report is hashed twice by a
#: write (read, then stored), so the built-in one wins up to some 400 KiB.
SMALL = 256 << 10


def sha256_for(size: int | None) -> _Hash:
    """A SHA-256 hasher for ``size`` bytes (None: unknown, taken as large): the built-in one
    for a small input, OpenSSL's otherwise (see :data:`SMALL`)."""
    if size is not None and size < SMALL:
        return sha256()
    import hashlib

    return hashlib.sha256()


def size_of(stream: Any) -> int | None:
    """The size of the file behind ``stream``, None when it is not a regular file."""
    import os
    import stat

    try:
        info = os.fstat(stream if isinstance(stream, int) else stream.fileno())
    except (OSError, AttributeError, ValueError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None
