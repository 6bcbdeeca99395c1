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

__all__ = ["sha256"]

if TYPE_CHECKING:
    from hashlib import sha256
else:
    try:
        from _sha2 import sha256  # CPython >= 3.12
    except ImportError:
        try:
            from _sha256 import sha256  # CPython 3.11
        except ImportError:  # other interpreters
            from hashlib import sha256
