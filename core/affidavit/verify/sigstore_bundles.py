"""Sigstore bundles (GitHub artifact attestations, ``cosign``/``sigstore sign`` output): verified
with sigstore-python, offline, before an attestation that carries one is written, and again by
``verify package``.

A bundle (``application/vnd.dev.sigstore.bundle*+json``, format v0.1 to v0.3) holds a short-lived
signing certificate, a signature -- a DSSE envelope of an in-toto Statement, or a plain
signature over an artifact's SHA-256 -- and the transparency log entry that proves it was
logged while the certificate was valid. Verification, all by sigstore's ``Verifier``:

1. the certificate chains to a CA of the trust root at the log's signed time, and carries an
   SCT from one of its CT logs;
2. the log entry's inclusion proof reaches a checkpoint signed by one of its transparency
   logs (and its signed entry timestamp checks);
3. the signature checks with the certificate's key, and the log entry is of that signature;
4. with an identity or an OIDC issuer to require, the certificate's SAN and issuer are those
   (sigstore's ``Identity`` / ``OIDCIssuer`` policies); without, they are recorded as found.

The trust root is Sigstore's production one, as sigstore-python ships it (no network), or the
``trustroot.v1.TrustedRoot`` JSON file ``AFFIDAVIT_SIGSTORE_TRUSTED_ROOT`` names (a private
Sigstore deployment, the tests).

What was verified is recorded in the attestation as ``sigstore`` (:func:`verify_bundle`); the
bundle itself is one of its evidence files. sigstore is an optional extra: imported only when
a bundle is met, and its absence named with the remedy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os

from affidavit.errors import InputError, IntegrityError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from typing import Any

    Record = dict[str, Any]

__all__ = ["TRUSTED_ROOT_ENV", "BUNDLE_LIMIT", "read_bundle", "verify_bundle", "verifier",
           "installed", "reverify", "Reverified"]

TRUSTED_ROOT_ENV = "AFFIDAVIT_SIGSTORE_TRUSTED_ROOT"
"""The environment variable naming a trust root file to use instead of the production one."""

BUNDLE_LIMIT = 1 << 24
"""Largest bundle read (a real one is a few KiB; a DSSE payload rarely more than a MiB)."""

_EXTRA = "pip install 'affidavit[sigstore]'"
_IN_TOTO = "application/vnd.in-toto+json"
_STATEMENTS = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")
_SAN_OTHERNAME = "1.3.6.1.4.1.57264.1.7"
_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"
_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"


def installed() -> bool:
    """Whether sigstore-python can be imported."""
    try:
        import sigstore.verify  # noqa: F401
    except ImportError:
        return False
    return True


def _require() -> None:
    if not installed():
        raise UsageError("verifying a Sigstore bundle needs sigstore-python, which is not "
                         "installed", remedy=_EXTRA)


def read_bundle(path: str | os.PathLike[str], label: str = "--sigstore-bundle") -> bytes:
    """The bytes of the bundle file at ``path``, read as a regular file only (a FIFO or
    ``/dev/zero`` is refused, exit 2)."""
    from affidavit.regular import read_regular

    return read_regular(path, f"{label} {os.fspath(path)}", BUNDLE_LIMIT)


_VERIFIERS: dict[str, Any] = {}


def verifier() -> Any:
    """sigstore's ``Verifier`` for the trust root in force (one per process and root)."""
    _require()
    path = os.environ.get(TRUSTED_ROOT_ENV, "")
    if path in _VERIFIERS:
        return _VERIFIERS[path]
    from sigstore.errors import Error
    from sigstore.verify import Verifier

    if not path:
        try:
            with _quiet():
                made = Verifier.production(offline=True)
        except (Error, OSError, ValueError) as exc:
            raise InputError(f"the Sigstore production trust root cannot be loaded ({exc})",
                             remedy=f"reinstall sigstore, or set {TRUSTED_ROOT_ENV}") from None
    else:
        from pydantic import ValidationError
        from sigstore.models import TrustedRoot
        from sigstore_models.trustroot import v1 as trustroot

        data = read_bundle(path, TRUSTED_ROOT_ENV)
        try:
            with _quiet():
                made = Verifier(trusted_root=TrustedRoot(
                    trustroot.TrustedRoot.from_json(data)))
        except (Error, ValidationError, ValueError) as exc:
            raise InputError(f"{TRUSTED_ROOT_ENV} {path}: not a Sigstore trusted root "
                             f"({_first_line(exc)})") from None
    _VERIFIERS[path] = made
    return made


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _json(data: bytes, label: str) -> Record:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InputError(f"{label}: not JSON, so not a Sigstore bundle") from None
    if not isinstance(doc, dict):
        raise InputError(f"{label}: not a Sigstore bundle (a JSON object)")
    return doc


def _der_utf8(raw: bytes) -> str | None:
    """The text of a DER UTF8String with a short or long length, or None."""
    if len(raw) < 2 or raw[0] != 0x0C:
        return None
    length, start = raw[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, start = int.from_bytes(raw[2:2 + count], "big"), 2 + count
    body = raw[start:start + length]
    return body.decode("utf-8", "replace") if len(body) == length else None


def _found(cert: Any) -> tuple[str | None, str | None]:
    """The certificate's identity (its first email, URI or Sigstore other-name SAN) and its
    OIDC issuer (Fulcio's extension, either encoding)."""
    from cryptography import x509

    identity = None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [*san.get_values_for_type(x509.RFC822Name),
                 *san.get_values_for_type(x509.UniformResourceIdentifier),
                 *(o.value.decode("utf-8", "replace")
                   for o in san.get_values_for_type(x509.OtherName)
                   if o.type_id.dotted_string == _SAN_OTHERNAME)]
        identity = names[0] if names else None
    except x509.ExtensionNotFound:
        pass
    issuer = None
    for ext in cert.extensions:
        if ext.oid.dotted_string == _ISSUER_V1 and issuer is None:
            issuer = bytes(ext.value.value).decode("utf-8", "replace")
        elif ext.oid.dotted_string == _ISSUER_V2:
            issuer = _der_utf8(bytes(ext.value.value)) or issuer
    return identity, issuer


class _Recorded:
    """The policy when no identity is asked for: any certificate the trust root's CA issued
    passes, and its identity is recorded as found (:func:`_found`) for whoever reads the
    attestation to judge. sigstore's ``UnsafeNoOp`` does the same, with a warning on stderr
    every time; this is it without the warning."""

    def verify(self, cert: Any) -> None:
        return None


def _policy(identity: str | None, issuer: str | None) -> Any:
    from sigstore.verify import policy

    if identity:
        return policy.Identity(identity=identity, issuer=issuer or None)
    if issuer:
        return policy.OIDCIssuer(issuer)
    return _Recorded()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """sigstore's warnings (an offline trust root, a trust root key it skips) kept off
    stderr while it runs: what matters reaches the caller as an error or not at all."""
    logger = logging.getLogger("sigstore")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _statement(payload_type: str, payload: bytes, label: str) -> tuple[list[Any], str]:
    """The subjects and predicate type of a verified DSSE payload, an in-toto Statement."""
    if payload_type != _IN_TOTO:
        raise InputError(f"{label}: its DSSE envelope holds {payload_type!r}, not an in-toto "
                         "Statement")
    doc = _json(payload, f"{label}: its DSSE payload")
    subjects, predicate_type = doc.get("subject"), doc.get("predicateType")
    if doc.get("_type") not in _STATEMENTS or not isinstance(subjects, list) or not all(
            isinstance(s, dict) and isinstance(s.get("digest"), dict) for s in subjects) or (
            not isinstance(predicate_type, str)):
        raise InputError(f"{label}: its DSSE payload is not an in-toto Statement")
    return [{k: s[k] for k in ("name", "digest") if k in s} for s in subjects], predicate_type


def verify_bundle(data: bytes, *, label: str, identity: str | None = None,
                  issuer: str | None = None, artifact: str | None = None) -> Record:
    """Verify the bundle ``data`` (steps above) and return what the attestation records of it:
    ``{"bundle": <SHA-256 of data>, "kind": "dsse" | "message_signature", "identity",
    "issuer", "subjects", "predicateType" (dsse), "log_index", "integrated_time"}``.

    ``identity`` / ``issuer``: what the certificate must carry. ``artifact``: the SHA-256 a
    message signature is over, when its bundle does not say. A malformed bundle is an
    :class:`InputError` (exit 2), one that does not verify an :class:`IntegrityError`
    (exit 3), sigstore missing a :class:`UsageError` naming the extra. ``label`` begins every
    message (the flag and file, or the package member)."""
    _json(data, label)
    _require()
    from sigstore.errors import Error
    from sigstore.models import Bundle
    from sigstore_models.bundle.v1 import Bundle as BundleDoc

    try:
        doc = BundleDoc.from_json(data)  # its fields, as the protobuf JSON mapping reads them
        with _quiet():
            bundle = Bundle.from_json(data)
    except (Error, ValueError, TypeError, KeyError) as exc:
        raise InputError(f"{label}: not a valid Sigstore bundle ({_first_line(exc)})") from None
    check = verifier()
    policy = _policy(identity, issuer)
    kind = "dsse" if doc.dsse_envelope is not None else "message_signature"
    predicate_type = None
    if kind == "message_signature":
        signed = _message_digest(doc, artifact, label)
        subjects = [{"digest": {"sha256": signed}}]
    try:
        with _quiet():
            if kind == "dsse":
                payload_type, payload = check.verify_dsse(bundle, policy)
            else:
                check.verify_artifact(_hashed(signed), bundle, policy)
    except (Error, ValueError, TypeError) as exc:
        raise IntegrityError(f"{label}: the Sigstore bundle does not verify "
                             f"({_first_line(exc)})",
                             remedy="it is not the bundle its signer made, or not under "
                             + (f"the trust root {TRUSTED_ROOT_ENV} names"
                                if os.environ.get(TRUSTED_ROOT_ENV)
                                else "Sigstore's production trust root")
                             + (", or not by the identity asked for" if identity or issuer
                                else "")) from None
    if kind == "dsse":
        subjects, predicate_type = _statement(payload_type, payload, label)
    found_identity, found_issuer = _found(bundle.signing_certificate)
    entry = doc.verification_material.tlog_entries[0]
    record: Record = {
        "bundle": hashlib.sha256(data).hexdigest(),
        "kind": kind,
        "identity": found_identity,
        "issuer": found_issuer,
        "subjects": subjects,
        "predicateType": predicate_type,
        "log_index": entry.log_index,
        "integrated_time": entry.integrated_time or None,
    }
    return {k: v for k, v in record.items() if v is not None}


def _hashed(hex_digest: str) -> Any:
    from sigstore.hashes import Hashed
    from sigstore_models.common.v1 import HashAlgorithm

    return Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(hex_digest))


def _message_digest(doc: Any, artifact: str | None, label: str) -> str:
    """The SHA-256 (hex) a message-signature bundle signs: the one it names, else
    ``artifact``."""
    from sigstore_models.common.v1 import HashAlgorithm

    signature = doc.message_signature
    digest = None if signature is None else signature.message_digest
    if digest is not None and digest.digest:
        if digest.algorithm != HashAlgorithm.SHA2_256 or len(digest.digest) != 32:
            raise InputError(f"{label}: its message digest is not a SHA-256 (only SHA2_256 "
                             "is supported)")
        return bytes(digest.digest).hex()
    if artifact is None:
        raise InputError(f"{label}: the bundle does not say which digest it signs",
                         remedy="give the artifact's --fingerprint")
    return artifact


class Reverified:
    """What :func:`reverify` found: how many bundles, re-verified or not and why."""

    __slots__ = ("bundles", "reverified", "sealed", "installed")

    def __init__(self) -> None:
        self.bundles = 0
        self.reverified = 0
        self.sealed = 0
        #: None until a bundle needed sigstore (it is imported only then).
        self.installed: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return {"bundles": self.bundles, "reverified": self.reverified, "sealed": self.sealed,
                "sigstore_installed": self.installed}

    def text(self) -> str:
        """The summary's clause ("" with no bundle)."""
        if not self.bundles:
            return ""
        if self.installed is False:
            return (f"; {self.bundles} Sigstore bundle(s) not re-verified: sigstore is not "
                    f"installed ({_EXTRA})")
        sealed = f", {self.sealed} sealed and not re-verified" if self.sealed else ""
        return f"; {self.reverified} Sigstore bundle(s) re-verified{sealed}"


def reverify(entries: Mapping[int, Record], member: Callable[[int, str], tuple[str, bytes]]
             ) -> Reverified:
    """Verify again every bundle the attestations of ``entries`` recorded (``sigstore``),
    from the evidence file the entry names by the bundle's digest; ``member(position,
    sha256)`` returns that file's label and bytes. The record must be what verifying the
    bundle now yields, its identity and issuer required: a bundle that does not verify, or
    verifies to other facts, is an :class:`IntegrityError` naming the entry. Without sigstore
    installed nothing is verified, and the result says so. A sealed bundle (``--encrypt-for``)
    cannot be read without its key: counted, not verified."""
    done = Reverified()
    for position, entry in sorted(entries.items()):
        recorded = entry["record"].get("sigstore") if entry["kind"] == "attestation" else None
        if recorded is None:
            continue
        done.bundles += 1
        digest = recorded["bundle"]
        refs = [r for r in entry["record"].get("evidence") or () if r["sha256"] == digest]
        if not refs:
            raise IntegrityError(f"entry {position} records a Sigstore bundle ({digest[:16]}) "
                                 "that is none of its evidence files")
        if any("sealed" in r for r in refs):
            done.sealed += 1
            continue
        if done.installed is None:  # imported only when a bundle is met
            done.installed = installed()
        if not done.installed:
            continue
        label, data = member(position, digest)
        if hashlib.sha256(data).hexdigest() != digest:
            raise IntegrityError(f"{label} is not the Sigstore bundle entry {position} recorded")
        try:
            now = verify_bundle(data, label=label, identity=recorded.get("identity"),
                                issuer=recorded.get("issuer"),
                                artifact=_artifact(entry["record"]))
        except InputError as exc:
            raise IntegrityError(f"entry {position}: {exc.message}") from None
        except IntegrityError as exc:
            raise IntegrityError(f"entry {position}: {exc.message}") from None
        if now != recorded:
            wrong = sorted(k for k in set(now) | set(recorded) if now.get(k) != recorded.get(k))
            raise IntegrityError(f"entry {position} records its Sigstore bundle as other than "
                                 f"it verifies ({', '.join(wrong)})")
        done.reverified += 1
    return done


def _artifact(record: Mapping[str, Any]) -> str | None:
    target = record.get("target") or {}
    fingerprint = target.get("fingerprint")
    return fingerprint if isinstance(fingerprint, str) else None
