"""Property: in an evidence package of a random small ledger, any single flipped byte of any
entry (and of any evidence file, and of the signed checkpoint) makes verification fail."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from affidavit.api import record
from affidavit.errors import IntegrityError
from affidavit.evidence.package import build_package
from affidavit.ledger.sqlite import SQLiteLedger
from affidavit.verify.package import verify_package
from tests.helpers import attest_generic, rewrite_zip

FLOW = "prop"

#: One report: (trail number, attestation name, compliant, bound to the artifact, attachments).
_reports = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.sampled_from(["unit", "lint", "scan"]),
        st.booleans(),
        st.booleans(),
        st.lists(st.binary(min_size=1, max_size=40), max_size=2),
    ),
    max_size=5,
)


def _build(root: Path, trails: int, reports: list[Any]) -> tuple[Path, str]:
    """A ledger with ``trails`` trails and the reports; the package of trail t0 and the key."""
    ledger = SQLiteLedger(f"sqlite:///{root}/l.db")
    record.create_flow(ledger, name=FLOW, description="property")
    fingerprints = []
    for n in range(trails):
        record.begin_trail(ledger, flow=FLOW, name=f"t{n}")
        fingerprints.append(f"{n:02x}" * 32)
        record.attest_artifact(ledger, flow=FLOW, trail=f"t{n}", name="app",
                               fingerprint=fingerprints[-1])
    for i, (trail, name, compliant, bound, attachments) in enumerate(reports):
        trail %= trails
        paths = []
        for j, data in enumerate(attachments):
            path = root / "files" / str(i) / f"file{j}.bin"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            paths.append(path)
        attest_generic(ledger, flow=FLOW, trail=f"t{trail}", name=name,
                              compliant=compliant, attachments=paths,
                              fingerprint=fingerprints[trail] if bound else None)
    out = root / "t0.zip"
    build_package(ledger, flow=FLOW, trail="t0", out=out)
    key = ledger.verifier_key()
    ledger.close()
    return out, key


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(trails=st.integers(1, 3), reports=_reports, data=st.data())
def test_any_flipped_byte_is_detected(
    tmp_path_factory: pytest.TempPathFactory, trails: int, reports: list[Any],
    data: st.DataObject,
) -> None:
    root = tmp_path_factory.mktemp("prop")
    package, key = _build(root, trails, reports)
    verify_package(package, key)  # the untouched package verifies

    with zipfile.ZipFile(package) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    entries = sorted(n for n in members if n.startswith("entries/"))
    others = sorted(n for n in members if n.startswith("evidence/")) + ["checkpoint"]
    targets = [data.draw(st.sampled_from(entries), label="entry")]
    targets.append(data.draw(st.sampled_from(entries + others), label="member"))
    for number, name in enumerate(targets):
        content = members[name]
        offset = data.draw(st.integers(0, len(content) - 1), label=f"offset in {name}")
        mask = data.draw(st.integers(1, 255), label="xor mask")
        flipped = content[:offset] + bytes([content[offset] ^ mask]) + content[offset + 1:]
        tampered = rewrite_zip(package, root / f"tampered-{number}.zip",
                               replace={name: flipped})
        with pytest.raises(IntegrityError):
            verify_package(tampered, key)
