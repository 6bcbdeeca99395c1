"""Index keys: a pure function of one log entry, the same on write, in reads and in ``verify``.

A key is ``<namespace>:<value>``; every key an entry is filed under is a key of the key map
(DESIGN §3.1), which proves for each key how many entries it holds and the last of them:

==========================  ====================================================================
``flow:<flow>``             every entry of the flow: its own, its trails', artifacts', attestations'
``trail:<flow>/<trail>``    the trail's begin/change entries and everything reported to it
``artifact:<sha256 hex>``   artifacts reported with that fingerprint, attestations bound to it
``flowdef:<flow>``          the flow's own entries (creation, description and template changes)
``trails:<flow>``           the begin/change entries of every trail of the flow (lists them)
``kind:flow``               every flow entry of the ledger (lists the flows)
``type:<name>``             the versions of a custom attestation type
``commit:<sha>``            artifacts and attestations that name this git commit
``env:<name>``              every entry of an environment: its own and its snapshots
``envdef:<env>``            the environment's own entries (creation, changes, joins)
``snapshots:<env>``         the environment's snapshots only (the n-th is snapshot number n)
``kind:environment``        every environment entry of the ledger (lists the environments)
``running:<sha256 hex>``    snapshots in which an artifact with that fingerprint runs
``allowed:<env>``           the environment's allowlist entries
``expected:<env>``          the deployments pipelines said they were making to it
``policy:<name>``           the versions of an environment policy (the n-th is version n)
``kind:policy``             every policy version of the ledger (lists the policies)
``policies:<env>``          the policies attached to and detached from an environment
``webhooks:<env>``          where the environment's events are sent
``sealed:<sha256 hex>``     attestations naming sealed evidence with that ciphertext digest
``flowhooks:<flow>``        where the flow's events are sent (one key a write reads)
==========================  ====================================================================

Queries look a key up, prove its count and last against the signed map root, read the entries
from the log and call :func:`keys` again on what they read: an index row whose entry does not
produce its key is a contradiction, reported as an integrity failure instead of being believed.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "keys",
    "flow_key",
    "trail_key",
    "artifact_key",
    "flowdef_key",
    "trails_key",
    "FLOWS_KEY",
    "commit_key",
    "type_key",
    "env_key",
    "envdef_key",
    "snapshots_key",
    "ENVIRONMENTS_KEY",
    "running_key",
    "allowed_key",
    "expected_key",
    "policy_key",
    "POLICIES_KEY",
    "attached_key",
    "webhooks_key",
    "sealed_key",
    "flowhooks_key",
]

FLOWS_KEY = "kind:flow"
"""Every flow entry: the set of flows is the set of names these entries carry."""


def flow_key(flow: str) -> str:
    """Every entry of a flow (DESIGN §3.1)."""
    return f"flow:{flow}"


def trail_key(flow: str, trail: str) -> str:
    """The trail and everything reported to it (DESIGN §3.1)."""
    return f"trail:{flow}/{trail}"


def artifact_key(fingerprint: str) -> str:
    """Entries that carry this SHA-256 fingerprint (DESIGN §3.1)."""
    return f"artifact:{fingerprint}"


def flowdef_key(flow: str) -> str:
    """A flow's own entries: reading its template never means reading its trails."""
    return f"flowdef:{flow}"


def trails_key(flow: str) -> str:
    """The begin/change entries of a flow's trails: the set of its trails, provably whole."""
    return f"trails:{flow}"


def type_key(name: str) -> str:
    """Versions of a custom attestation type."""
    return f"type:{name}"


def commit_key(sha: str) -> str:
    """Records that name this git commit."""
    return f"commit:{sha}"


ENVIRONMENTS_KEY = "kind:environment"
"""Every environment entry: the set of environments is the set of names these carry."""


def env_key(name: str) -> str:
    """An environment's own entries and its snapshots."""
    return f"env:{name}"


def envdef_key(name: str) -> str:
    """An environment's own entries: reading its type never means reading its snapshots."""
    return f"envdef:{name}"


def snapshots_key(name: str) -> str:
    """An environment's snapshots: their count is the latest snapshot's number."""
    return f"snapshots:{name}"


def running_key(fingerprint: str) -> str:
    """Snapshots that list this fingerprint as running: where an artifact runs and ran."""
    return f"running:{fingerprint}"


def allowed_key(name: str) -> str:
    """An environment's allowlist: artifacts that may run there without provenance."""
    return f"allowed:{name}"


def expected_key(name: str) -> str:
    """Deployments pipelines announced to an environment."""
    return f"expected:{name}"


POLICIES_KEY = "kind:policy"
"""Every policy version: the set of policies is the set of names these carry."""


def policy_key(name: str) -> str:
    """A policy's versions, oldest first."""
    return f"policy:{name}"


def attached_key(environment: str) -> str:
    """Attachments and detachments of policies to an environment."""
    return f"policies:{environment}"


def webhooks_key(environment: str) -> str:
    """The webhooks of an environment."""
    return f"webhooks:{environment}"


def flowhooks_key(flow: str) -> str:
    """The webhooks of a flow: every write to one of its trails counts them in the read it
    makes anyway, so a flow without any pays for no second read."""
    return f"flowhooks:{flow}"


def sealed_key(digest: str) -> str:
    """The attestations naming sealed evidence whose ciphertext has SHA-256 ``digest``: where
    ``evidence get --identity`` finds the commitment it checks the opened bytes against."""
    return f"sealed:{digest}"


def keys(entry: dict[str, Any]) -> list[str]:
    """Every index key under which ``entry`` (a decoded log entry) is filed, each once."""
    record = entry.get("record", {})
    kind = entry.get("kind")
    out: list[str] = []
    if kind == "flow":
        name = record["name"]
        out += [flow_key(name), flowdef_key(name), FLOWS_KEY]
    elif kind == "attestation_type":
        out.append(type_key(record["name"]))
    elif kind == "environment":
        out += [env_key(record["name"]), envdef_key(record["name"]), ENVIRONMENTS_KEY]
    elif kind == "snapshot":
        name = record["environment"]
        out += [env_key(name), snapshots_key(name)]
        out += [running_key(a["fingerprint"]) for a in record["artifacts"]
                if a.get("fingerprint")]
    elif kind == "allowance":
        out += [env_key(record["environment"]), allowed_key(record["environment"])]
    elif kind == "expectation":
        out += [env_key(record["environment"]), expected_key(record["environment"])]
    elif kind == "policy":
        out += [policy_key(record["name"]), POLICIES_KEY]
    elif kind == "webhook":
        if "flow" in record:
            out += [flow_key(record["flow"]), flowhooks_key(record["flow"])]
        else:
            out += [env_key(record["environment"]), webhooks_key(record["environment"])]
    elif kind == "policy_attachment":
        out += [env_key(record["environment"]), attached_key(record["environment"]),
                policy_key(record["policy"])]
    elif kind in ("trail", "artifact", "attestation"):
        flow = record["flow"]
        trail = record["name"] if kind == "trail" else record["trail"]
        out += [flow_key(flow), trail_key(flow, trail)]
        if kind == "trail":
            out.append(trails_key(flow))
        fingerprint = record.get("fingerprint") or record.get("target", {}).get("fingerprint")
        if fingerprint:
            out.append(artifact_key(fingerprint))
        commit = record.get("commit")
        if commit:
            out.append(commit_key(commit["sha"]))
        if kind == "attestation":
            out += [sealed_key(ref["sha256"]) for ref in record.get("evidence", ())
                    if "sealed" in ref]
    return list(dict.fromkeys(out))
