"""The error types every layer raises and the CLI maps to exit codes.

Errors carry a one-line message naming the file or flag and the problem, and an optional remedy,
so that the CLI, the server and the CI wrappers all show the same text.
"""

from __future__ import annotations

__all__ = [
    "AffidavitError",
    "UsageError",
    "InputError",
    "NotFoundError",
    "IntegrityError",
    "RootMismatch",
    "LedgerUnavailable",
    "ProviderError",
]


class AffidavitError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with."""

    exit_code = 2

    def __init__(self, message: str, *, remedy: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy

    def diagnostics(self) -> str:
        """The message and, when known, what the user can do about it."""
        if self.remedy:
            return f"{self.message} ({self.remedy})"
        return self.message


class UsageError(AffidavitError):
    """A flag is missing, empty or malformed."""


class InputError(AffidavitError):
    """A file given by the user cannot be read or does not have the expected shape."""


class NotFoundError(AffidavitError):
    """The flow, trail, artifact or entry asked for is not in the ledger."""


class IntegrityError(AffidavitError):
    """Something that should verify does not: a signature, a proof, a digest, a rewritten log."""

    exit_code = 3


class RootMismatch(IntegrityError):
    """A Merkle root computed from a proof differs from the expected one."""


class LedgerUnavailable(AffidavitError):
    """The ledger cannot be opened or reached."""

    exit_code = 3


class ProviderError(AffidavitError):
    """A CI or code-hosting provider's API refused the token or failed after its retries: the
    answer is unknown, so it is never taken for "nothing there"."""

    exit_code = 3
