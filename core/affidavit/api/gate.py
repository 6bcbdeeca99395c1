"""Circuit breakers: is this trail, artifact or attestation compliant right now, and if not,
why — one reason per line, the same text in the terminal, JSON and the CI summary."""

from __future__ import annotations

from affidavit.api import query
from affidavit.errors import UsageError
from affidavit.verify.proven import Proven, proven

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.ledger.base import Ledger

__all__ = ["assert_trail", "assert_artifact", "assert_attestation", "resolve_fingerprint",
           "outputs", "result", "explained_reasons"]


def result(subject: str, status: str, reasons: list[str], **extra: Any) -> dict[str, Any]:
    """A gate's answer: compliant only when ``status`` is COMPLIANT (anything else, UNKNOWN
    included, fails closed)."""
    return {"subject": subject, "status": status, "compliant": status == "COMPLIANT",
            "reasons": reasons, **extra}


def explained_reasons(view: Proven, issues: list[dict[str, Any]]) -> list[str]:
    """Each issue's reason, and for a non-compliant report what its judge said (``1 test case
    failed, more than --max-failures 0``): a gate's reader should not have to open the record
    to learn why. A generic claim has no reason beyond itself."""
    from affidavit.compliance.judge import judge

    out = []
    for issue in issues:
        why: list[str] = []
        at = issue.get("entry")
        if at is not None:
            record = view.entry(at)["record"]
            if record["type"] != "generic":
                _, why = judge(record["type"], record["name"],
                               record["statement"]["predicate"], view.type_version(at, record))
        out.append(issue["reason"] + (f": {'; '.join(why)}" if why else ""))
    return out


def assert_trail(ledger: Ledger | Proven, flow: str, trail: str) -> dict[str, Any]:
    """The trail's verdict and its reasons (within ``ledger``'s view when it is one)."""
    with proven(ledger) as view:
        state = query.trail_state(view, flow, trail)
        reasons = explained_reasons(view, state["verdict"]["issues"])
    return result(f"trail {flow}/{trail}", state["status"], reasons)


def resolve_fingerprint(value: str, artifact_type: str | None, *,
                        registry_username: str | None = None,
                        registry_password: str | None = None) -> str:
    """A SHA-256 as given, or the fingerprint of the file or directory at that path, or
    with ``artifact_type`` ``oci``/``docker`` the digest of the image ``value`` names."""
    import os
    import re

    from affidavit.api.fingerprints import IMAGE_TYPES

    if artifact_type in IMAGE_TYPES:
        from affidavit.api.fingerprints import fingerprint as image_fingerprint

        return image_fingerprint(value, artifact_type, registry_username=registry_username,
                                 registry_password=registry_password)
    # lexists: a dangling link or a loop is a path (whose fingerprint says what is wrong)
    if re.fullmatch(r"[0-9a-fA-F]{64}", value) and not os.path.lexists(value):
        return value.lower()
    if not os.path.lexists(value):
        raise UsageError(f"{value!r} is neither a SHA-256 fingerprint nor an existing path")
    from affidavit.api.fingerprints import fingerprint

    return fingerprint(value, artifact_type or ("dir" if os.path.isdir(value) else "file"))


def assert_artifact(ledger: Ledger, artifact: str, flow: str | None = None, *,
                    artifact_type: str | None = None, registry_username: str | None = None,
                    registry_password: str | None = None) -> dict[str, Any]:
    """Compliant iff, in every trail that reported it, its own and the trail's required
    attestations are present and compliant. ``artifact`` is a fingerprint, a path or an
    image to fingerprint (see :func:`resolve_fingerprint`)."""
    from affidavit.compliance.verdict import worst

    fingerprint = resolve_fingerprint(artifact, artifact_type,
                                      registry_username=registry_username,
                                      registry_password=registry_password)
    with proven(ledger) as view:
        state = query.artifact_state(view, fingerprint, flow)
        reasons = [f"{t['flow']}/{t['trail']}: {r}" for t in state["trails"]
                   for r in explained_reasons(view, t["issues"])]
    return result(f"artifact {fingerprint}", worst(t["status"] for t in state["trails"]),
                   reasons, trails=state["trails"])


def assert_attestation(ledger: Ledger, flow: str, trail: str, name: str) -> dict[str, Any]:
    """The latest report of an attestation: compliant or not."""
    with proven(ledger) as view:
        state = query.attestation_state(view, flow, trail, name)
        compliant = state["record"]["compliant"]
        reasons = [] if compliant else explained_reasons(view, [{
            "reason": f"attestation {name!r} (entry {state['entry']}) is not compliant",
            "entry": state["entry"]}])
    return result(f"attestation {flow}/{trail}/{name}",
                   "COMPLIANT" if compliant else "NON_COMPLIANT", reasons, entry=state["entry"])


def outputs(result: dict[str, Any]) -> dict[str, str]:
    """A gate's facts as CI step outputs (``--outputs-file``): ``compliant`` (true/false),
    ``status``, ``subject`` and ``reasons`` (one a line)."""
    return {
        "compliant": str(bool(result["compliant"])).lower(),
        "status": str(result["status"]),
        "subject": str(result["subject"]),
        "reasons": "\n".join(result["reasons"]),
    }
