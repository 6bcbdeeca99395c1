"""SHA-256 for the ledger's small inputs, in one place.

``hashlib`` is the public interface to CPython's hashes; it loads OpenSSL (a few milliseconds of
the CLI's start-up), which CPython's private built-in ``_sha256``/``_sha2`` modules would avoid,
but private modules move between releases (3.12 renamed ``_sha256`` to ``_sha2``), so the
ledger does not depend on them.
"""

from __future__ import annotations

from hashlib import sha256

__all__ = ["sha256"]
