"""Hostile evidence packages: every member kind inflated past its limit (a zip bomb), given the
wrong JSON type, or nested absurdly deep must fail ``verify package`` with exit 3 and one line
naming the member, in bounded memory, never a traceback.

Packages are built by the real CLI, then corrupted with ``zipfile`` at test time.
"""

from __future__ import annotations

import json
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from affidavit.errors import IntegrityError
from affidavit.verify.package import verify_package
from tests.conftest import FLOW, TRAIL
from tests.helpers import Cli, assert_error, attest_generic, rewrite_zip

KiB, MiB = 1 << 10, 1 << 20
#: The limits docs/evidence-package.md publishes, by member kind.
LIMITS = {"checkpoint": 64 * KiB, "proof": 64 * KiB, "map": 16 * MiB, "entry": 16 * MiB,
          "manifest": 64 * MiB, "readme": 64 * MiB}
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture
def built(cli: Cli, ledger: Any, tmp_path: Path) -> dict[str, Any]:
    """A trail package with one attestation carrying one evidence file."""
    from affidavit.api import record

    report = tmp_path / "report.txt"
    report.write_bytes(b"all good\n")
    record.create_flow(ledger, name=FLOW)
    record.begin_trail(ledger, flow=FLOW, name=TRAIL)
    unit = attest_generic(ledger, flow=FLOW, trail=TRAIL, name="unit",
                          attachments=[str(report)]).entry_index
    out = tmp_path / "p.zip"
    result = cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", out)
    assert result.code == 0, str(result)
    assert cli("verify", "package", out, "--public-key", ledger.verifier_key()).code == 0
    return {"zip": out, "key": ledger.verifier_key(), "unit": unit}


def _members(built: dict[str, Any]) -> dict[str, str]:
    unit = built["unit"]
    return {"checkpoint": "checkpoint", "proof": f"proofs/{unit}.json",
            "map": "proofs/map.json", "entry": f"entries/{unit}.json",
            "manifest": "manifest.json", "readme": "README.md",
            "evidence": "evidence/unit/report.txt"}


def _doc(path: Path, name: str) -> Any:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read(name))


def _check(cli: Cli, built: dict[str, Any], tampered: Path, *needles: str) -> None:
    result = cli("verify", "package", tampered, "--public-key", built["key"])
    assert_error(result, 3, *needles)
    with pytest.raises(IntegrityError):
        verify_package(tampered, built["key"])


def _bomb(size: int) -> bytes:
    """Spaces compress about 1000:1, so the zip stays small while the member is huge."""
    return b" " * size


@pytest.mark.parametrize("kind", sorted(LIMITS))
def test_bomb_is_refused_from_the_directory(
        cli: Cli, built: dict[str, Any], tmp_path: Path, kind: str) -> None:
    member = _members(built)[kind]
    tampered = rewrite_zip(built["zip"], tmp_path / "bomb.zip",
                           replace={member: _bomb(LIMITS[kind] + 1)})
    with zipfile.ZipFile(tampered) as zf:
        assert zf.getinfo(member).compress_size < LIMITS[kind] // 100
    _check(cli, built, tampered, member, str(LIMITS[kind]))


@pytest.mark.parametrize("kind", sorted(LIMITS))
def test_member_at_its_limit_is_read(
        cli: Cli, built: dict[str, Any], tmp_path: Path, kind: str) -> None:
    """The limit itself is allowed: the refusal is about content, not size (no off-by-one)."""
    member = _members(built)[kind]
    tampered = rewrite_zip(built["zip"], tmp_path / "full.zip",
                           replace={member: _bomb(LIMITS[kind])})
    result = cli("verify", "package", tampered, "--public-key", built["key"])
    assert_error(result, 3)
    assert "more than a package member" not in result.err, str(result)


def test_evidence_bomb_is_hashed_in_bounded_memory(
        cli: Cli, built: dict[str, Any], tmp_path: Path) -> None:
    member = _members(built)["evidence"]
    tampered = rewrite_zip(built["zip"], tmp_path / "bomb.zip", replace={member: _bomb(256 * MiB)})
    assert tampered.stat().st_size < 2 * MiB
    tracemalloc.start()
    try:
        with pytest.raises(IntegrityError, match="report.txt does not match its digest"):
            verify_package(tampered, built["key"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * MiB


def _lie_about_size(path: Path, member: str, size: int) -> None:
    """Rewrite the zip in place so that both the local header and the central directory say
    ``member`` inflates to ``size`` bytes (with the CRC of its first ``size`` bytes), while its
    deflate stream still inflates to all of it."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
        crc = zlib.crc32(zf.read(member)[:size])
        start_dir = zf.start_dir  # type: ignore[attr-defined]
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, info.header_offset + 14, crc)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    at = start_dir
    while data[at:at + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, at + 28)
        offset, = struct.unpack_from("<I", data, at + 42)
        if offset == info.header_offset:
            struct.pack_into("<I", data, at + 16, crc)
            struct.pack_into("<I", data, at + 24, size)
            break
        at += 46 + name_len + extra_len + comment_len
    else:
        raise AssertionError(f"{member} not in the central directory")
    path.write_bytes(bytes(data))


def test_directory_lying_about_a_bomb_stops_at_the_limit(
        cli: Cli, built: dict[str, Any], tmp_path: Path) -> None:
    """The directory says 1 KiB, the stream inflates to 1 GiB: reading stops at the stated size
    and the checkpoint (its first KiB of spaces) is refused, in bounded memory."""
    tampered = rewrite_zip(built["zip"], tmp_path / "liar.zip",
                           replace={"checkpoint": _bomb(1 << 30)})
    _lie_about_size(tampered, "checkpoint", KiB)
    with zipfile.ZipFile(tampered) as zf:
        assert zf.getinfo("checkpoint").file_size == KiB
    assert tampered.stat().st_size < 4 * MiB
    tracemalloc.start()
    try:
        _check(cli, built, tampered, "checkpoint")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * MiB


def _wrong_types(built: dict[str, Any]) -> dict[str, tuple[bytes, tuple[str, ...]]]:
    """Per member kind: the member's new bytes and what the one error line must name."""
    members = _members(built)
    manifest = _doc(built["zip"], "manifest.json")
    manifest["checkpoint"]["size"] = str(manifest["checkpoint"]["size"])
    proof = _doc(built["zip"], members["proof"])
    proof["index"] = [proof["index"]]
    mapped = _doc(built["zip"], "proofs/map.json")
    mapped["keys"][0]["count"] = True
    entry = _doc(built["zip"], members["entry"])
    entry["record"] = ["not", "a", "record"]
    return {
        "checkpoint": (b'{"size": "5"}', ("checkpoint",)),
        "manifest": (json.dumps(manifest, indent=2, sort_keys=True).encode(),
                     ("manifest.json", "checkpoint.size")),
        "manifest-array": (b"[]", ("manifest.json",)),
        "proof": (json.dumps(proof).encode(), (members["proof"], "index")),
        "proof-array": (b'["hashes"]', (members["proof"],)),
        "map": (json.dumps(mapped, indent=2).encode(), ("proofs/map.json", "keys.0.count")),
        "map-string": (b'"keys"', ("proofs/map.json",)),
        "entry": (json.dumps(entry).encode(), (members["entry"],)),
        "readme": (b'{"README": 1}', ("README.md",)),
    }


WRONG_TYPE_CASES = ["checkpoint", "manifest", "manifest-array", "proof", "proof-array", "map",
                    "map-string", "entry", "readme"]


@pytest.mark.parametrize("case", WRONG_TYPE_CASES)
def test_wrong_json_type_is_exit_3(
        cli: Cli, built: dict[str, Any], tmp_path: Path, case: str) -> None:
    data, needles = _wrong_types(built)[case]
    member = _members(built)[case.split("-")[0]]
    tampered = rewrite_zip(built["zip"], tmp_path / "typed.zip", replace={member: data})
    _check(cli, built, tampered, *needles)


def test_every_wrong_type_case_is_listed(built: dict[str, Any]) -> None:
    assert sorted(_wrong_types(built)) == sorted(WRONG_TYPE_CASES)


@pytest.mark.parametrize("kind", sorted(LIMITS))
def test_deep_nesting_is_exit_3(
        cli: Cli, built: dict[str, Any], tmp_path: Path, kind: str) -> None:
    member = _members(built)[kind]
    tampered = rewrite_zip(built["zip"], tmp_path / "deep.zip", replace={member: DEEP})
    _check(cli, built, tampered, member)


def test_manifest_schema_is_published(cli: Cli, built: dict[str, Any]) -> None:
    """``affidavit schema package-manifest`` describes the manifest a real package holds."""
    import jsonschema

    result = cli("schema", "package-manifest")
    assert result.code == 0, str(result)
    schema = result.json()
    manifest = _doc(built["zip"], "manifest.json")
    jsonschema.validate(manifest, schema)
    manifest["checkpoint"]["size"] = "5"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(manifest, schema)
    manifest["checkpoint"]["size"] = 5
    manifest["extra"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(manifest, schema)
