"""Properties of evidence packages of random small ledgers: any single flipped byte of any entry
(and of any evidence file, and of the signed checkpoint) makes verification fail, and so does
removing, duplicating or adding any member: a package proves it is whole."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from affidavit.api import record
from affidavit.api.evidence import package as build_package
from affidavit.errors import IntegrityError
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


def _build(root: Path, trails: int, reports: list[Any],
           also: str | None = None) -> tuple[Path, str]:
    """A ledger with ``trails`` trails and the reports; the package of trail t0 and the key
    (and, with ``also``, the package of that trail too, at the same checkpoint)."""
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
    if also:
        build_package(ledger, flow=FLOW, trail=also, out=root / f"{also}.zip")
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


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(reports=_reports, data=st.data())
def test_removing_duplicating_or_adding_a_member_is_refused(
    tmp_path_factory: pytest.TempPathFactory, reports: list[Any], data: st.DataObject,
) -> None:
    root = tmp_path_factory.mktemp("members")
    package, key = _build(root, 2, reports, also="t1")
    verify_package(package, key)
    with zipfile.ZipFile(package) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    with zipfile.ZipFile(root / "t1.zip") as zf:
        # Genuine entries of the same ledger and checkpoint, from outside t0's scope.
        foreign = {name: zf.read(name) for name in zf.namelist()
                   if name.startswith("entries/") and name not in members}
    name = data.draw(st.sampled_from(sorted(members)), label="member")
    op = data.draw(st.sampled_from(["remove", "duplicate", "copy-as-other-entry", "add"]),
                   label="op")
    target = root / f"{op}.zip"
    if op == "remove":
        rewrite_zip(package, target, drop=(name,))
    elif op == "duplicate":
        with zipfile.ZipFile(package, "a") as zf, pytest.warns(UserWarning):
            zf.writestr(name, members[name])
        target = package
    elif op == "copy-as-other-entry":
        entries = sorted(n for n in members if n.startswith("entries/"))
        source = data.draw(st.sampled_from(entries), label="entry copied")
        position = int(source.split("/")[1].split(".")[0])
        rewrite_zip(package, target, add={
            f"entries/{position + 1000}.json": members[source],
            f"proofs/{position + 1000}.json": members[source.replace("entries", "proofs")]})
    elif foreign:
        entry = data.draw(st.sampled_from(sorted(foreign)), label="foreign entry")
        proof_name = entry.replace("entries/", "proofs/")
        with zipfile.ZipFile(root / "t1.zip") as zf:
            proof_bytes = zf.read(proof_name)
        rewrite_zip(package, target, add={entry: foreign[entry], proof_name: proof_bytes})
    else:
        rewrite_zip(package, target, add={"evidence/extra/added.txt": b"x"})
    with pytest.raises(IntegrityError):
        verify_package(target, key)
