"""``attest <type> --sigstore-bundle`` and ``verify package`` re-verifying bundles (issue 15,
item 2's last sentence), against a Sigstore instance the tests make (``instance.py``) and
sigstore-python's verifier, offline."""

from __future__ import annotations

import base64
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FLOW, TRAIL
from tests.helpers import Cli, Home, assert_error, ok, rewrite_zip, sha256_hex, state
from tests.sigstore.instance import IDENTITY, ISSUER, LOG_INDEX, Instance, statement

ARTIFACT = "5d" * 32


def _trail(cli: Cli) -> None:
    ok(cli("create", "flow", FLOW))
    ok(cli("begin", "trail", TRAIL, "--flow", FLOW))


def _write(path: Path, bundle: dict[str, Any] | bytes) -> Path:
    path.write_bytes(bundle if isinstance(bundle, bytes) else json.dumps(bundle).encode())
    return path


def _attest(cli: Cli, bundle: Path, *extra: Any, name: str = "provenance") -> Any:
    return cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", name,
               "--sigstore-bundle", bundle, "--output", "json", *extra)


def _package(cli: Cli, tmp_path: Path) -> tuple[Path, str]:
    zip_path = tmp_path / "p.zip"
    ok(cli("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", zip_path))
    return zip_path, ok(cli("ledger", "public-key")).out.strip()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- on ingest -------------------------------------------------------------------------------

def test_a_github_style_attestation_bundle_is_verified_and_recorded(
        cli: Cli, trust_root: Path, instance: Instance, tmp_path: Path) -> None:
    _trail(cli)
    bundle = _write(tmp_path / "shop.sigstore.json", instance.dsse_bundle(statement(ARTIFACT)))
    record = ok(_attest(cli, bundle, "--certificate-identity", IDENTITY,
                        "--certificate-oidc-issuer", ISSUER)).json()["entry"]["record"]
    digest = sha256_hex(bundle.read_bytes())
    assert record["evidence"] == [{"name": "shop.sigstore.json", "sha256": digest,
                                   "size": bundle.stat().st_size}]
    found = record["sigstore"]
    assert found.pop("integrated_time") > 1_700_000_000
    assert found == {"bundle": digest, "kind": "dsse", "identity": IDENTITY, "issuer": ISSUER,
                     "subjects": [{"name": "shop.tar.gz", "digest": {"sha256": ARTIFACT}}],
                     "predicateType": "https://slsa.dev/provenance/v1", "log_index": LOG_INDEX}
    # the bundle is in the vault as the evidence file, byte for byte
    out = tmp_path / "copy.json"
    ok(cli("evidence", "get", digest, "-o", out))
    assert out.read_bytes() == bundle.read_bytes()
    ok(cli("verify", "ledger"))


def test_without_an_identity_to_require_the_one_found_is_recorded(
        cli: Cli, trust_root: Path, instance: Instance, tmp_path: Path) -> None:
    _trail(cli)
    bundle = _write(tmp_path / "b.json", instance.dsse_bundle(
        statement(), identity="release-bot@acme.example", issuer="https://accounts.example"))
    result = _attest(cli, bundle)
    assert result.err == ""  # no warning from sigstore about an unchecked identity
    found = ok(result).json()["entry"]["record"]["sigstore"]
    assert (found["identity"], found["issuer"]) == ("release-bot@acme.example",
                                                    "https://accounts.example")


def test_a_message_signature_bundle_records_the_digest_it_signs(
        cli: Cli, trust_root: Path, instance: Instance, tmp_path: Path) -> None:
    _trail(cli)
    artifact = b"shop release 1.2.3\n"
    bundle = _write(tmp_path / "b.json", instance.message_bundle(artifact))
    found = ok(_attest(cli, bundle, "--certificate-oidc-issuer", ISSUER)
               ).json()["entry"]["record"]["sigstore"]
    assert found["kind"] == "message_signature" and "predicateType" not in found
    assert found["subjects"] == [{"digest": {"sha256": sha256_hex(artifact)}}]


def test_a_dry_run_verifies_and_writes_nothing(cli: Cli, trust_root: Path, home: Home,
                                               instance: Instance, tmp_path: Path) -> None:
    _trail(cli)
    before = state(home)
    good = _write(tmp_path / "good.json", instance.dsse_bundle(statement()))
    assert ok(_attest(cli, good, "--dry-run")).json()["entry"]["record"]["sigstore"]
    bad = _write(tmp_path / "bad.json", instance.dsse_bundle(statement(), identity="x@y.z"))
    assert_error(_attest(cli, bad, "--dry-run", "--certificate-identity", IDENTITY), 3)
    assert state(home) == before


def _flip_signature(bundle: dict[str, Any]) -> None:
    signature = bundle["dsseEnvelope"]["signatures"][0]
    raw = bytearray(base64.b64decode(signature["sig"]))
    raw[-1] ^= 1
    signature["sig"] = _b64(bytes(raw))


def _tamper_statement(bundle: dict[str, Any]) -> None:
    envelope = bundle["dsseEnvelope"]
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["subject"][0]["digest"]["sha256"] = "66" * 32
    envelope["payload"] = _b64(json.dumps(payload, separators=(",", ":")).encode())


def _not_in_the_log(bundle: dict[str, Any]) -> None:
    proof = bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    first = bytearray(base64.b64decode(proof["hashes"][0]))
    first[0] ^= 1
    proof["hashes"][0] = _b64(bytes(first))


def _forged_checkpoint(bundle: dict[str, Any]) -> None:
    proof = bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    proof["checkpoint"]["envelope"] = proof["checkpoint"]["envelope"].replace(
        "\n8\n", "\n9\n", 1)


@pytest.mark.parametrize("tamper, says", [
    (_flip_signature, "DSSE: invalid signature"),
    (_tamper_statement, "DSSE: invalid signature"),
    (_not_in_the_log, "inclusion proof"),
    (_forged_checkpoint, "checkpoint"),
], ids=["flipped signature byte", "tampered statement", "entry not in the log",
        "checkpoint not the log's"])
def test_a_bundle_that_does_not_verify_is_exit_3_and_nothing_is_written(
        cli: Cli, trust_root: Path, home: Home, instance: Instance, tmp_path: Path,
        tamper: Any, says: str) -> None:
    _trail(cli)
    bundle = instance.dsse_bundle(statement())
    tamper(bundle)
    path = _write(tmp_path / "b.json", bundle)
    before = state(home)
    assert_error(_attest(cli, path), 3, str(path), "does not verify", says)
    assert state(home) == before


def test_a_certificate_from_another_ca_is_exit_3(cli: Cli, trust_root: Path, home: Home,
                                                 tmp_path: Path) -> None:
    _trail(cli)
    other = Instance("elsewhere")
    path = _write(tmp_path / "b.json", other.dsse_bundle(statement()))
    before = state(home)
    assert_error(_attest(cli, path), 3, "does not verify", "certificate chain")
    assert state(home) == before


def test_without_a_trust_root_file_the_production_root_is_used(
        cli: Cli, home: Home, instance: Instance, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Sigstore's production trust root, as sigstore-python ships it (no network): a bundle
    of the tests' instance is not one of its CA's."""
    for variable in ("HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):  # sigstore's cache of it
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    _trail(cli)
    path = _write(tmp_path / "b.json", instance.dsse_bundle(statement()))
    before = state(home)
    assert_error(_attest(cli, path), 3, "does not verify", "production trust root")
    assert state(home) == before


@pytest.mark.parametrize("identity, issuer", [
    ("https://github.com/mallory/fork/.github/workflows/release.yml@refs/heads/main", None),
    (IDENTITY, "https://accounts.google.com"),
    (None, "https://accounts.google.com"),
], ids=["wrong identity", "wrong issuer with identity", "wrong issuer"])
def test_a_certificate_of_another_identity_is_exit_3(
        cli: Cli, trust_root: Path, home: Home, instance: Instance, tmp_path: Path,
        identity: str | None, issuer: str | None) -> None:
    _trail(cli)
    path = _write(tmp_path / "b.json", instance.dsse_bundle(statement()))
    flags = [*(["--certificate-identity", identity] if identity else []),
             *(["--certificate-oidc-issuer", issuer] if issuer else [])]
    before = state(home)
    assert_error(_attest(cli, path, *flags), 3, "does not verify", "identity asked for")
    assert state(home) == before


@pytest.mark.parametrize("content, says", [
    (b"{not json", "not JSON"),
    (b"[]", "a JSON object"),
    (b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}',
     "not a valid Sigstore bundle"),
], ids=["not json", "not an object", "not a bundle"])
def test_a_malformed_bundle_is_exit_2(cli: Cli, trust_root: Path, home: Home,
                                      tmp_path: Path, content: bytes, says: str) -> None:
    _trail(cli)
    path = _write(tmp_path / "b.json", content)
    before = state(home)
    assert_error(_attest(cli, path), 2, str(path), says)
    assert state(home) == before


def test_a_dsse_bundle_of_something_other_than_a_statement_is_exit_2(
        cli: Cli, trust_root: Path, instance: Instance, tmp_path: Path) -> None:
    _trail(cli)
    path = _write(tmp_path / "b.json", instance.dsse_bundle(
        statement(), payload_type="application/vnd.example+json"))
    assert_error(_attest(cli, path), 2, "not an in-toto Statement")


def test_an_identity_without_a_bundle_is_exit_2(cli: Cli) -> None:
    _trail(cli)
    assert_error(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x",
                     "--certificate-identity", IDENTITY), 2, "--sigstore-bundle")


def test_sigstore_not_installed_is_exit_2_naming_the_extra(
        cli: Cli, trust_root: Path, home: Home, instance: Instance, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _trail(cli)
    path = _write(tmp_path / "b.json", instance.dsse_bundle(statement()))
    monkeypatch.setitem(sys.modules, "sigstore.verify", None)  # `import` of it fails
    before = state(home)
    assert_error(_attest(cli, path), 2, "sigstore", "pip install 'affidavit[sigstore]'")
    assert state(home) == before


# -- in a package ----------------------------------------------------------------------------

def test_verify_package_verifies_every_bundle_again(cli: Cli, trust_root: Path,
                                                    instance: Instance,
                                                    tmp_path: Path) -> None:
    _trail(cli)
    ok(_attest(cli, _write(tmp_path / "a.json", instance.dsse_bundle(statement()))))
    ok(_attest(cli, _write(tmp_path / "m.json", instance.message_bundle(b"x")), name="sig"))
    ok(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "plain"))
    zip_path, key = _package(cli, tmp_path)
    checked = ok(cli("verify", "package", zip_path, "--public-key", key, "--output", "json"))
    assert checked.json()["sigstore"] == {"bundles": 2, "reverified": 2, "sealed": 0,
                                          "sigstore_installed": True}
    assert "2 Sigstore bundle(s) re-verified" in checked.json()["summary"]


def test_a_swapped_bundle_file_fails_the_package(cli: Cli, trust_root: Path,
                                                 instance: Instance, tmp_path: Path) -> None:
    _trail(cli)
    ok(_attest(cli, _write(tmp_path / "a.json", instance.dsse_bundle(statement()))))
    zip_path, key = _package(cli, tmp_path)
    with zipfile.ZipFile(zip_path) as zf:
        member = next(n for n in zf.namelist() if n.endswith("/a.json"))
    other = json.dumps(instance.dsse_bundle(statement("77" * 32))).encode()  # verifies too
    bad = rewrite_zip(zip_path, tmp_path / "bad.zip", replace={member: other})
    assert_error(cli("verify", "package", bad, "--public-key", key), 3, member)


def test_a_bundle_recorded_as_other_than_it_verifies_fails_the_package(
        cli: Cli, trust_root: Path, instance: Instance, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer that went around the check on ingest (here: one whose verifier said what it
    liked) is caught by the re-verification: the recorded identity is required again."""
    from affidavit.verify import sigstore_bundles

    _trail(cli)
    real = sigstore_bundles.verify_bundle

    def lying(data: bytes, **kwargs: Any) -> dict[str, Any]:
        return {**real(data, **kwargs), "identity": "https://github.com/acme/shop/other.yml"}

    monkeypatch.setattr(sigstore_bundles, "verify_bundle", lying)
    ok(_attest(cli, _write(tmp_path / "a.json", instance.dsse_bundle(statement()))))
    monkeypatch.setattr(sigstore_bundles, "verify_bundle", real)
    zip_path, key = _package(cli, tmp_path)
    assert_error(cli("verify", "package", zip_path, "--public-key", key), 3,
                 "does not verify", "SANs do not match https://github.com/acme/shop/other.yml")


def test_a_package_under_another_trust_root_fails(cli: Cli, trust_root: Path,
                                                  instance: Instance, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _trail(cli)
    ok(_attest(cli, _write(tmp_path / "a.json", instance.dsse_bundle(statement()))))
    zip_path, key = _package(cli, tmp_path)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps(Instance("elsewhere").trusted_root()))
    monkeypatch.setenv("AFFIDAVIT_SIGSTORE_TRUSTED_ROOT", str(elsewhere))
    assert_error(cli("verify", "package", zip_path, "--public-key", key), 3,
                 "does not verify")


def test_without_sigstore_a_package_verifies_and_says_its_bundles_were_not(
        cli: Cli, trust_root: Path, instance: Instance, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _trail(cli)
    ok(_attest(cli, _write(tmp_path / "a.json", instance.dsse_bundle(statement()))))
    zip_path, key = _package(cli, tmp_path)
    monkeypatch.setitem(sys.modules, "sigstore.verify", None)
    checked = ok(cli("verify", "package", zip_path, "--public-key", key, "--output", "json"))
    assert checked.json()["sigstore"] == {"bundles": 1, "reverified": 0, "sealed": 0,
                                          "sigstore_installed": False}
    assert "1 Sigstore bundle(s) not re-verified: sigstore is not installed" in (
        checked.json()["summary"])


def test_a_sealed_bundle_is_recorded_by_its_ciphertext_and_not_reverified(
        cli: Cli, trust_root: Path, instance: Instance, tmp_path: Path) -> None:
    pytest.importorskip("pyrage")
    _trail(cli)
    made = ok(cli("key", "generate", "--encryption", "--out", tmp_path / "id.txt",
                  "--output", "json")).json()
    bundle = _write(tmp_path / "a.json", instance.dsse_bundle(statement()))
    record = ok(_attest(cli, bundle, "--encrypt-for", made["recipient"])
                ).json()["entry"]["record"]
    [ref] = record["evidence"]
    assert "sealed" in ref and record["sigstore"]["bundle"] == ref["sha256"]
    assert sha256_hex(bundle.read_bytes()) not in json.dumps(record)  # no plaintext digest
    zip_path, key = _package(cli, tmp_path)
    checked = ok(cli("verify", "package", zip_path, "--public-key", key, "--output", "json"))
    assert checked.json()["sigstore"]["sealed"] == 1


def test_a_server_verifies_every_bundle_again_on_ingest(
        cli: Cli, trust_root: Path, instance: Instance, tmp_path: Path, home: Home,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """"Verified on ingest with sigstore where present": a server with sigstore verifies the
    uploaded bundle itself, so a writer whose own check said what it liked (here: a client
    check that records another identity) is refused (exit 3) and nothing is written; an
    honest one is taken."""
    from affidavit.api import sigstore_bundles as client_side
    from tests.server.threaded import ThreadedServer

    _trail(cli)
    with ThreadedServer(home.url) as running:
        monkeypatch.setenv("AFFIDAVIT_LEDGER", running.url)
        honest = _write(tmp_path / "a.json", instance.dsse_bundle(statement(ARTIFACT)))
        ok(_attest(cli, honest, "--certificate-identity", IDENTITY))
        real = client_side.check_bundle

        def lying(path: Any, **kwargs: Any) -> Any:
            found, record = real(path, **kwargs)
            return found, {**record, "identity": "https://github.com/acme/shop/other.yml"}

        monkeypatch.setattr(client_side, "check_bundle", lying)
        before = state(home)
        forged = _write(tmp_path / "b.json", instance.dsse_bundle(statement(ARTIFACT)))
        result = _attest(cli, forged, name="forged")
        assert result.code == 3 and "Traceback" not in result.err, str(result)
        assert "does not verify" in result.err or "other than it verifies" in result.err
        assert state(home).entries == before.entries


def test_verify_ledger_verifies_every_bundle_again(cli: Cli, trust_root: Path,
                                                   instance: Instance, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The full audit verifies every recorded bundle from the vault too; one recorded as other
    than it verifies (a writer around the check) fails it, exit 3."""
    from affidavit.api import sigstore_bundles as client_side

    _trail(cli)
    ok(_attest(cli, _write(tmp_path / "a.json", instance.dsse_bundle(statement()))))
    audit = ok(cli("verify", "ledger", "--output", "json")).json()
    assert audit["sigstore"] == {"bundles": 1, "reverified": 1, "sealed": 0,
                                 "sigstore_installed": True}
    assert "1 Sigstore bundle(s) re-verified" in audit["summary"]
    real = client_side.check_bundle

    def lying(path: Any, **kwargs: Any) -> Any:
        found, record = real(path, **kwargs)
        return found, {**record, "log_index": record["log_index"] + 1}

    monkeypatch.setattr(client_side, "check_bundle", lying)
    ok(_attest(cli, _write(tmp_path / "b.json", instance.dsse_bundle(statement())), name="b"))
    assert_error(cli("verify", "ledger"), 3, "other than it verifies", "log_index")
