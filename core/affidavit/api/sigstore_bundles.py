"""``--sigstore-bundle FILE``: a Sigstore bundle verified before an attestation is written,
attached to it as an evidence file, and what it was verified to say recorded in it.

The verification itself is ``verify.sigstore_bundles`` (``verify package`` runs it again);
this module reads the file, hands over the verified bytes to be staged, never the file again
(it could change in between), and fills in the digest the evidence file was stored under.
"""

from __future__ import annotations

import contextlib
import os

from affidavit.errors import IntegrityError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from affidavit.api.inputs import PathArg

__all__ = ["check_bundle", "staged_copy", "recorded_bundle"]


def check_bundle(path: PathArg, *, identity: str | None = None, issuer: str | None = None,
                 artifact: str | None = None) -> tuple[tuple[str, bytes], dict[str, Any]]:
    """Read the bundle at ``path`` (a regular file only) and verify it: its certificate must
    carry ``identity`` and ``issuer`` when given; ``artifact`` is the attestation's
    fingerprint (what a message signature that names no digest signs). Returns the file's
    name and bytes, and the ``sigstore`` record (``verify.sigstore_bundles.verify_bundle``).
    Exit 3 when it does not verify, 2 when it is malformed or sigstore is not installed."""
    from affidavit.verify.sigstore_bundles import read_bundle, verify_bundle

    label = f"--sigstore-bundle {os.fspath(path)}"
    data = read_bundle(path)
    record = verify_bundle(data, label=label, identity=identity or None,
                           issuer=issuer or None, artifact=artifact)
    return (os.path.basename(os.fspath(path)) or "bundle.sigstore.json", data), record


@contextlib.contextmanager
def staged_copy(name: str, data: bytes) -> Iterator[tuple[str, str]]:
    """``(name, path)`` of a private copy of the verified bytes, for ``store_evidence``, kept
    until the append that sends it is done."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="affidavit-bundle-") as folder:
        path = os.path.join(folder, "bundle")
        with open(path, "xb") as fh:
            fh.write(data)
        yield name, path


def recorded_bundle(verified: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    """The ``sigstore`` record, its ``bundle`` the digest of the evidence file ``ref`` as
    stored: the bundle's own, or its ciphertext's when sealed (so a sealed bundle's plaintext
    digest is not disclosed, as no sealed file's is)."""
    if "sealed" not in ref and ref["sha256"] != verified["bundle"]:
        raise IntegrityError("the Sigstore bundle staged is not the one verified")
    return {**verified, "bundle": ref["sha256"]}
