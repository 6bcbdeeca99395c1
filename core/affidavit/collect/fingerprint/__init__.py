"""Artifact fingerprints: SHA-256 of a file, or of a directory exactly as Kosli CLI computes it.

:mod:`~affidavit.collect.fingerprint.artifact` is the entry point (file or dir);
:mod:`~affidavit.collect.fingerprint.dirsha` the directory walk, with
:mod:`~affidavit.collect.fingerprint.goglob` (Go's globbing) and
:mod:`~affidavit.collect.fingerprint.kosli_ignore` (the ignore file) deciding exclusions, and
:mod:`~affidavit.collect.fingerprint.hashing` reading the files' contents.
"""

from __future__ import annotations

from affidavit.collect.fingerprint.artifact import ArtifactType, fingerprint, fingerprint_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from affidavit.collect.fingerprint.dirsha import IGNORE_FILE_NAME, fingerprint_dir


def __getattr__(name: str) -> object:
    """The directory walk's names, imported when asked: fingerprinting one file (the CLI's
    ``fingerprint``, ``attest artifact``) never loads the walk, its hashing threads or
    OpenSSL."""
    if name in ("IGNORE_FILE_NAME", "fingerprint_dir"):
        from affidavit.collect.fingerprint import dirsha

        return getattr(dirsha, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["IGNORE_FILE_NAME", "ArtifactType", "fingerprint", "fingerprint_dir",
           "fingerprint_file"]
