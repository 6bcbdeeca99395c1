"""Environment policies: what the artifacts running in an environment must have.

A policy is a file its author keeps (``load_policy``), in one of two languages that reach
decisions of one shape (``decisions.py``), so one fold decides a snapshot (``snapshot_status``):

- Kosli's environment policy v1, YAML (``yaml_policy.py``): ``provenance``,
  ``trail-compliance`` and required ``attestations``, with exceptions and conditions written in
  Kosli's expression language (``expression.py``, ``conditions.py``);
- Rego, evaluated offline by regopy under a time and memory bound (``rego.py``), with Kosli's
  ``kosli evaluate`` contract (``package policy``, ``allow``, ``violations``) and input
  (``input.py``).

``evaluate`` judges facts, not the ledger: the caller gathers, for each artifact of a snapshot,
its provenance and its judged attestations (:class:`ArtifactFacts`) and records or prints the
decisions. A policy is identified by the SHA-256 of its bytes (``Policy.digest``), so a decision
can name the exact text that made it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from affidavit.compliance.policies.decisions import ArtifactKey, Decision, snapshot_status
from affidavit.compliance.policies.input import (
    ArtifactFacts,
    AttestationFacts,
    FlowFacts,
    ProvenanceFacts,
    TrailFacts,
)
from affidavit.compliance.policies.rego import RegoPolicy, decide_rego, load_rego
from affidavit.compliance.policies.yaml_policy import YamlPolicy, decide_yaml, load_yaml
from affidavit.errors import InputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Literal

__all__ = ["MAX_POLICY_BYTES", "Policy", "load_policy", "evaluate", "snapshot_status",
           "ArtifactFacts", "ProvenanceFacts", "FlowFacts", "TrailFacts", "AttestationFacts",
           "ArtifactKey", "Decision"]

#: A policy is a page or two of rules; a larger file is refused before it is parsed.
MAX_POLICY_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Policy:
    """A loaded policy: ``language`` is ``yaml`` or ``rego``, ``digest`` the SHA-256 (hex) of
    the file's bytes, ``text`` the file as text, ``where`` how errors name it."""

    language: Literal["yaml", "rego"]
    digest: str
    text: str
    where: str
    rules: YamlPolicy | RegoPolicy = field(repr=False, compare=False)


def load_policy(data: bytes, where: str) -> Policy:
    """The policy in ``data``: Rego when its first line of code is ``package ...``, otherwise
    YAML with Kosli's ``_schema``. ``where`` names the file (``policy file prod.yml``) in every
    error: one line, ``InputError``."""
    if len(data) > MAX_POLICY_BYTES:
        raise InputError(f"{where}: larger than {MAX_POLICY_BYTES >> 20} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if "\x00" in text:
        raise InputError(f"{where}: holds a NUL character (not a text file)")
    digest = hashlib.sha256(data).hexdigest()
    if _is_rego(text):
        return Policy("rego", digest, text, where, load_rego(text, where))
    return Policy("yaml", digest, text, where, load_yaml(text, where))


def evaluate(policy: Policy, artifacts: Sequence[ArtifactFacts]) -> list[Decision]:
    """The decisions of ``policy`` on each artifact, artifacts in the order given.

    A YAML policy makes one decision per artifact per rule it requires; a Rego policy one per
    artifact (rule ``policy``). ``InputError`` only when a Rego evaluation is stopped by its
    bounds or its evaluator fails: then no decision is made up.
    """
    if isinstance(policy.rules, RegoPolicy):
        return decide_rego(policy.rules, artifacts)
    return decide_yaml(policy.rules, artifacts)


def _is_rego(text: str) -> bool:
    """Whether the first line that is neither blank nor a comment declares a package."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped.split(maxsplit=1)[0] == "package"
    return False
