"""Circuit breakers: is this trail, artifact or attestation compliant right now, and if not,
why — one reason per line, the same text in the terminal, JSON and the CI summary."""

from __future__ import annotations

from affidavit.api import query
from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

    from affidavit.ledger.base import Ledger

__all__ = ["assert_trail", "assert_artifact", "assert_attestation", "resolve_fingerprint",
           "outputs"]


def _result(subject: str, status: str, reasons: list[str], **extra: Any) -> dict[str, Any]:
    return {"subject": subject, "status": status, "compliant": status == "COMPLIANT",
            "reasons": reasons, **extra}


def assert_trail(ledger: Ledger, flow: str, trail: str) -> dict[str, Any]:
    """The trail's verdict and its reasons."""
    state = query.trail_state(ledger, flow, trail)
    return _result(f"trail {flow}/{trail}", state["status"], state["verdict"]["reasons"])


def resolve_fingerprint(value: str, artifact_type: str | None) -> str:
    """A SHA-256 as given, or the fingerprint of the file or directory at that path."""
    import os
    import re

    if re.fullmatch(r"[0-9a-fA-F]{64}", value) and not os.path.exists(value):
        return value.lower()
    if not os.path.exists(value):
        raise UsageError(f"{value!r} is neither a SHA-256 fingerprint nor an existing path")
    from affidavit.collect.fingerprint import fingerprint

    kind = artifact_type or ("dir" if os.path.isdir(value) else "file")
    return fingerprint(value, kind)  # type: ignore[arg-type]


def assert_artifact(ledger: Ledger, fingerprint: str, flow: str | None = None) -> dict[str, Any]:
    """Compliant iff, in every trail that reported it, its own and the trail's required
    attestations are present and compliant."""
    state = query.artifact_state(ledger, fingerprint, flow)
    reasons = [f"{t['flow']}/{t['trail']}: {r}" for t in state["trails"] for r in t["reasons"]]
    statuses = {t["status"] for t in state["trails"]}
    status = ("NON_COMPLIANT" if "NON_COMPLIANT" in statuses else
              "INCOMPLETE" if "INCOMPLETE" in statuses else "COMPLIANT")
    return _result(f"artifact {fingerprint}", status, reasons, trails=state["trails"])


def assert_attestation(ledger: Ledger, flow: str, trail: str, name: str) -> dict[str, Any]:
    """The latest report of an attestation: compliant or not."""
    state = query.attestation_state(ledger, flow, trail, name)
    compliant = state["record"]["compliant"]
    reasons = [] if compliant else [f"attestation {name!r} (entry {state['entry']}) is not "
                                    "compliant"]
    return _result(f"attestation {flow}/{trail}/{name}",
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
