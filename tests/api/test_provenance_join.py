"""The provenance join's filing of a trail's attestations by target (``api.environments``),
against the definition it replaced: an attestation counts for an artifact when it targets the
trail, the artifact's fingerprint, or its template name with no fingerprint."""

from __future__ import annotations

import random
from typing import Any

from affidavit.api.environments import _attested


def _attestation(n: int, target: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return n, {"kind": "attestation", "record": {
        "name": f"a{n}", "type": "generic", "compliant": n % 3 != 0, "target": target}}


def _defined(entries: list[tuple[int, dict[str, Any]]], fingerprint: str,
             name: str) -> list[dict[str, Any]]:
    out = []
    for _, entry in entries:
        if entry["kind"] != "attestation":
            continue
        record, target = entry["record"], entry["record"]["target"]
        fp = target.get("fingerprint")
        if target["kind"] == "trail" or fp == fingerprint or (
                fp is None and target.get("artifact") == name):
            out.append({"name": record["name"], "type": record["type"],
                        "compliant": record["compliant"]})
    return out


def test_each_artifact_gets_what_targets_it_oldest_first() -> None:
    rng = random.Random(5)
    fingerprints, names = ["aa", "bb", "cc"], ["app", "db", None]
    entries: list[tuple[int, dict[str, Any]]] = [(0, {"kind": "trail", "record": {}})]
    for n in range(1, 300):
        kind = rng.choice(["trail", "artifact", "artifact"])
        target: dict[str, Any] = {"kind": kind}
        if kind == "artifact":
            fp = rng.choice([*fingerprints, None, None, []])  # [] only a record written
            if fp is not None:                                 # around the writer holds
                target["fingerprint"] = fp
            target["artifact"] = rng.choice(names)
        entries.append(_attestation(n, target))
    cache: dict[int, Any] = {}
    for fingerprint in [*fingerprints, "dd"]:
        for name in ["app", "db", "web"]:
            expected = _defined(entries, fingerprint, name)
            assert _attested(entries, fingerprint, name, cache) == expected
            assert _attested(entries, fingerprint, name) == expected
