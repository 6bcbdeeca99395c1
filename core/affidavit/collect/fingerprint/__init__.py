"""Artifact fingerprints: SHA-256 of a file, or of a directory exactly as Kosli CLI computes it.

:mod:`~affidavit.collect.fingerprint.artifact` is the entry point (file or dir);
:mod:`~affidavit.collect.fingerprint.dirsha` the directory walk, with
:mod:`~affidavit.collect.fingerprint.goglob` (Go's globbing) and
:mod:`~affidavit.collect.fingerprint.kosli_ignore` (the ignore file) deciding exclusions, and
:mod:`~affidavit.collect.fingerprint.hashing` reading the files' contents.
"""

from __future__ import annotations

from affidavit.collect.fingerprint.artifact import ArtifactType, fingerprint, fingerprint_file
from affidavit.collect.fingerprint.dirsha import IGNORE_FILE_NAME, fingerprint_dir

__all__ = ["IGNORE_FILE_NAME", "ArtifactType", "fingerprint", "fingerprint_dir",
           "fingerprint_file"]
