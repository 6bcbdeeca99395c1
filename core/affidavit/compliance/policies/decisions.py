"""The one result shape of both policy languages, and the one fold of it.

Whatever the policy's language, evaluating it yields decisions — one per artifact per rule, each
saying whether the artifact meets the rule and why — so one function decides a snapshot's
status and one printer shows it, and a YAML policy and its Rego translation can be compared
decision by decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from affidavit.compliance.verdict import COMPLIANT, NON_COMPLIANT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["ArtifactKey", "Decision", "snapshot_status"]


@dataclass(frozen=True, slots=True, order=True)
class ArtifactKey:
    """An artifact of a snapshot: its name and fingerprint (None: not known yet)."""

    name: str
    fingerprint: str | None


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether ``artifact`` meets ``rule``, and the fact that decided it.

    ``rule`` names the rule as the policy states it: ``provenance``, ``trail-compliance``,
    ``attestation unit-tests of type junit`` (``*`` where the policy says ``*``), or ``policy``
    for a Rego policy, whose ``allow`` is one rule.
    """

    artifact: ArtifactKey
    rule: str
    compliant: bool
    reason: str

    def as_dict(self) -> dict[str, object]:
        """The decision as JSON: what a record or ``--output json`` holds."""
        return {"artifact": {"name": self.artifact.name,
                             "fingerprint": self.artifact.fingerprint},
                "rule": self.rule, "compliant": self.compliant, "reason": self.reason}


def snapshot_status(decisions: Iterable[Decision]) -> str:
    """``NON_COMPLIANT`` when any decision is not compliant, else ``COMPLIANT`` (also for a
    snapshot with no artifacts, or a policy that requires nothing). Without a policy there are
    no decisions to fold and the status is ``UNKNOWN``: that is the caller's to say."""
    return NON_COMPLIANT if any(not d.compliant for d in decisions) else COMPLIANT
