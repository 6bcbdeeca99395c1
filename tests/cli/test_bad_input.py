"""Bad input to every flag that takes a file or a value: exit 2, one line, nothing written.

Each case runs against a ledger that already holds a flow, a trail and an attestation with
evidence, and checks that the command failed with exit code 2, printed exactly one line on
stderr (``affidavit: error: ...``) naming the file or flag, printed no traceback and nothing on
stdout, and left the log, the checkpoints, the index and the evidence vault as they were.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from affidavit.api.evidence import package as build_package
from tests.conftest import FLOW, TRAIL
from tests.helpers import Cli, Home, assert_error, attest_generic, run_subprocess, state

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

FP = "cd" * 32
UNKNOWN = "ef" * 32
TRAIL_FLAGS = ("--flow", FLOW, "--trail", TRAIL)


@pytest.fixture
def paths(tmp_path: Path, ledger: Any, trail: tuple[str, str]) -> dict[str, str]:
    """The files the cases refer to, and a ledger holding evidence already."""
    def write(name: str, data: bytes) -> str:
        path = tmp_path / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return str(path)

    good = write("good.txt", b"good evidence\n")
    recorded = attest_generic(ledger, flow=FLOW, trail=TRAIL, name="unit",
                                     attachments=[good])
    digest = recorded.entry["record"]["evidence"][0]["sha256"]
    package = tmp_path / "in" / "package.zip"
    build_package(ledger, flow=FLOW, trail=TRAIL, out=package)
    folder = tmp_path / "in" / "a-directory"
    (folder / "inner").mkdir(parents=True)
    (tmp_path / "out").mkdir()  # -o is checked first: its folder must exist for other errors
    return {
        "good": good,
        "digest": digest,
        "key": ledger.verifier_key(),
        "zip": str(package),
        "dir": str(folder),
        "missing": str(tmp_path / "in" / "no-such-file.json"),
        "out": str(tmp_path / "out" / "result.bin"),
        "out_in_missing_dir": str(tmp_path / "nowhere" / "deeper" / "result.bin"),
        "truncated": write("truncated.json", b'{"ticket": "OPS-1", "items": [1, 2'),
        "not_utf8": write("latin1.json", '{"name": "Jos\u00e9"}'.encode("latin-1")),
        "nan": write("nan.json", b'{"ratio": NaN}'),
        "infinite": write("infinite.json", b'{"ratio": 1e999}'),
        "deep": write("deep.json", b"[" * 100_000 + b"]" * 100_000),
        "bad_yaml": write("bad.yml", b"version: 1\ntrail: {attestations: [\n"),
        "deep_yaml": write("deep.yml", b"version: 1\ntrail: " + b"[" * 50_000),
        "cyclic_yaml": write("cyclic.yml", b"version: 1\ntrail: &a\n  artifacts: [*a]\n"),
        "bad_template": write("bad-template.yml", b"version: 1\ntrail:\n  attestations:\n"
                                                  b"    - {name: unit, type: nonsense}\n"),
        "not_a_zip": write("not-a-zip.zip", b"PK\x03\x04 but not really a zip file"),
    }


# (command, needles): "{name}" refers to the paths above; needles must appear in the one line.
CASES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    # create flow
    (("create", "flow", "demo2", "--template-file", "{missing}"), ("{missing}", "no such file")),
    (("create", "flow", "demo2", "--template-file", "{dir}"), ("{dir}",)),
    (("create", "flow", "demo2", "--template-file", ""), ("--template-file", "empty")),
    (("create", "flow", "demo2", "--template-file", "{bad_yaml}"), ("{bad_yaml}", "line")),
    (("create", "flow", "demo2", "--template-file", "{bad_template}"),
     ("{bad_template}", "trail.attestations.0.type")),
    (("create", "flow", "demo2", "--template-file", "{deep_yaml}"), ("{deep_yaml}",)),
    (("create", "flow", "demo2", "--template-file", "{cyclic_yaml}"), ("{cyclic_yaml}",)),
    (("create", "flow", "demo2", "--template-file", "{good}"), ("{good}", "mapping")),
    (("create", "flow", "bad name"), ("'bad name'", "not a valid name")),
    (("create", "flow", "demo2", "--description", " "), ("--description", "empty")),
    (("create", "flow", "demo2", "--output", "yaml"), ("--output", "yaml")),
    # begin trail
    (("begin", "trail", "t2", "--flow", FLOW, "--template-file", "{missing}"), ("{missing}",)),
    (("begin", "trail", "t2", "--flow", FLOW, "--template-file", "{dir}"), ("{dir}",)),
    (("begin", "trail", "../t2", "--flow", FLOW), ("'../t2'",)),
    (("begin", "trail", "t2", "--flow", "no-flow"), ("'no-flow'", "does not exist")),
    # attest artifact
    (("attest", "artifact", "{missing}", *TRAIL_FLAGS, "--name", "app"), ("{missing}",)),
    (("attest", "artifact", "{dir}", *TRAIL_FLAGS, "--name", "app"), ("{dir}", "directory")),
    (("attest", "artifact", "{good}", "--artifact-type", "dir", *TRAIL_FLAGS, "--name", "app"),
     ("{good}",)),
    (("attest", "artifact", "{good}", "--artifact-type", "tarball", *TRAIL_FLAGS,
      "--name", "app"), ("--artifact-type", "tarball")),
    (("attest", "artifact", "--fingerprint", "xyz", *TRAIL_FLAGS, "--name", "app"),
     ("--fingerprint", "'xyz'")),
    (("attest", "artifact", "--fingerprint", "", *TRAIL_FLAGS, "--name", "app"),
     ("--fingerprint", "empty")),
    (("attest", "artifact", "{good}", "--commit", "abc123", *TRAIL_FLAGS, "--name", "app"),
     ("--commit", "abc123")),
    (("attest", "artifact", "{good}", "--annotate", "novalue", *TRAIL_FLAGS, "--name", "app"),
     ("--annotate", "novalue")),
    (("attest", "artifact", "{dir}", "--artifact-type", "dir", "--exclude", "",
      *TRAIL_FLAGS, "--name", "app"), ("--exclude",)),
    (("attest", "artifact", "{good}", *TRAIL_FLAGS, "--name", "bad/name"), ("'bad/name'",)),
    (("attest", "artifact", "", "--artifact-type", "dir", *TRAIL_FLAGS, "--name", "app"),
     ("PATH", "empty")),
    # attest generic
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--user-data", "{missing}"),
     ("{missing}", "no such file")),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--user-data", "{dir}"),
     ("{dir}", "directory")),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--user-data", ""),
     ("--user-data", "empty")),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--user-data", "{truncated}",
      "--attachments", "{good}"), ("{truncated}", "invalid JSON", "line 1")),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--user-data", "{not_utf8}"),
     ("{not_utf8}", "UTF-8")),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--user-data", "{nan}"),
     ("{nan}", "NaN")),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--user-data", "{infinite}"),
     ("{infinite}",)),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--user-data", "{deep}"),
     ("{deep}",)),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--attachments", "{good}",
      "{missing}"), ("{missing}", "no such file")),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--attachments", ""),
     ("--attachments",)),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--attachments", "{good}", " "),
     ("--attachments",)),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--compliant", "maybe"),
     ("--compliant", "maybe")),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--compliant", ""), ("--compliant",)),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--fingerprint", "12345"),
     ("--fingerprint", "12345")),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--commit", "a" * 39),
     ("--commit", "a" * 39)),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--commit", "g" * 40),
     ("--commit",)),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--annotate", "=value"),
     ("--annotate", "=value")),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--origin-url", ""),
     ("--origin-url", "empty")),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "has space"), ("'has space'",)),
    (("attest", "generic", *TRAIL_FLAGS, "--name", "x", "--output", "xml"),
     ("--output", "xml")),
    (("attest", "generic", "--flow", FLOW, "--name", "x"), ("--trail", "AFFIDAVIT_TRAIL")),
    # reads
    (("get", "artifact", "nothex"), ("'nothex'", "SHA-256")),
    (("get", "artifact", UNKNOWN), (UNKNOWN, "not been reported")),
    (("get", "trail", TRAIL, "--flow", FLOW, "--output", "yaml"), ("--output", "yaml")),
    (("get", "trail", "nope", "--flow", FLOW), ("'nope'",)),
    (("get", "attestation", "nope", *TRAIL_FLAGS), ("'nope'",)),
    (("log", "ledger", "--start", "abc"), ("--start", "abc")),
    (("log", "ledger", "--start", "-1"), ("--start",)),
    (("log", "ledger", "--limit", "-5"), ("--limit",)),
    (("search", "xyz!"), ("'xyz!'",)),
    (("list", "flows", "--ledger", "ftp://example.com/ledger"), ("ftp://",)),
    (("schema", "nope"), ("'nope'",)),
    (("fingerprint", "{missing}", "--artifact-type", "file"), ("{missing}",)),
    (("fingerprint", "{good}", "--artifact-type", "blob"), ("--artifact-type", "blob")),
    (("fingerprint", "", "--artifact-type", "dir"), ("PATH|IMAGE", "empty")),
    # evidence
    (("evidence", "get", "nothex", "-o", "{out}"), ("'nothex'",)),
    (("evidence", "get", UNKNOWN, "-o", "{out}"), (UNKNOWN,)),
    (("evidence", "get", "{digest}", "-o", "{dir}"), ("{dir}", "directory")),
    (("evidence", "get", "{digest}", "-o", "{out_in_missing_dir}"),
     ("{out_in_missing_dir}",)),
    (("evidence", "get", "{digest}", "-o", ""), ("--out", "empty")),
    (("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", ""), ("--out", "empty")),
    (("evidence", "package", "--flow", FLOW, "-o", "{out}"), ("--trail", "--fingerprint")),
    (("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "--fingerprint", FP,
      "-o", "{out}"), ("--trail", "--fingerprint")),
    (("evidence", "package", "--flow", FLOW, "--trail", "nope", "-o", "{out}"), ("'nope'",)),
    (("evidence", "package", "--flow", "nope", "--trail", TRAIL, "-o", "{out}"), ("'nope'",)),
    (("evidence", "package", "--flow", FLOW, "--fingerprint", "bad", "-o", "{out}"),
     ("--fingerprint", "'bad'")),
    (("evidence", "package", "--flow", FLOW, "--fingerprint", UNKNOWN, "-o", "{out}"),
     (UNKNOWN,)),
    (("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", "{dir}"),
     ("{dir}", "directory")),
    (("evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o", "{out_in_missing_dir}"),
     ("{out_in_missing_dir}",)),
    # verify
    (("verify", "package", "{missing}", "--public-key", "{key}"), ("{missing}", "no such file")),
    (("verify", "package", "{dir}", "--public-key", "{key}"), ("{dir}",)),
    (("verify", "package", "{not_a_zip}", "--public-key", "{key}"),
     ("{not_a_zip}", "not a zip")),
    (("verify", "package", "{good}", "--public-key", "{key}"), ("{good}", "not a zip")),
    (("verify", "package", "{zip}", "--public-key", "garbage"), ("--public-key",)),
    (("verify", "package", "{zip}", "--public-key", "a+12345678+AAAA"), ("--public-key",)),
    (("verify", "package", "{zip}", "--public-key", ""), ("--public-key", "empty")),
    (("verify", "package", "{zip}"), ("--public-key", "AFFIDAVIT_PUBLIC_KEY")),
    (("verify", "package", "", "--public-key", "{key}"), ("package", "empty")),
]


def _ids() -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for command, _ in CASES:
        words = [w for w in command if w.startswith("--") or w.startswith("{")]
        base = "-".join([*command[:2], *(w.strip("{}-") for w in words[-2:])]) or "case"
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return out


@pytest.mark.parametrize(("command", "needles"), CASES, ids=_ids())
def test_bad_input(
    cli: Cli, home: Home, paths: dict[str, str], command: tuple[str, ...],
    needles: tuple[str, ...],
) -> None:
    before = state(home)
    assert before.entries == 3 and len(before.blobs) == 1
    argv = [part.format(**paths) if "{" in part else part for part in command]
    result = cli(*argv)
    assert_error(result, 2, *(n.format(**paths) if "{" in n else n for n in needles))
    assert state(home) == before
    for leftover in (paths["out"], paths["out_in_missing_dir"]):
        assert not Path(leftover).exists()
    assert not any(p.name.endswith(".partial") for p in Path(paths["out"]).parent.parent.rglob(
        "*"))


@pytest.mark.parametrize(("name", "needle"), [
    ("missing", "no such file"), ("truncated", "invalid JSON"), ("dir", "directory")])
def test_bad_user_data_in_a_real_process(
    home: Home, paths: dict[str, str], name: str, needle: str
) -> None:
    before = state(home)
    result = run_subprocess("attest", "generic", *TRAIL_FLAGS, "--name", "x",
                            "--attachments", paths["good"], "--user-data", paths[name])
    assert_error(result, 2, paths[name], needle)
    assert state(home) == before


@pytest.mark.parametrize(("variable", "value", "needle"), [
    ("AFFIDAVIT_USER_DATA", "{missing}", "{missing}"),
    ("AFFIDAVIT_ATTACHMENTS", "{good},", "AFFIDAVIT_ATTACHMENTS"),
    ("AFFIDAVIT_ATTACHMENTS", "{good},{missing}", "{missing}"),
    ("AFFIDAVIT_COMPLIANT", "sometimes", "AFFIDAVIT_COMPLIANT"),
    ("AFFIDAVIT_FINGERPRINT", "0xdeadbeef", "0xdeadbeef"),
    ("AFFIDAVIT_OUTPUT", "html", "AFFIDAVIT_OUTPUT"),
])
def test_bad_values_from_the_environment(
    cli: Cli, home: Home, paths: dict[str, str], monkeypatch: pytest.MonkeyPatch,
    variable: str, value: str, needle: str,
) -> None:
    before = state(home)
    monkeypatch.setenv(variable, value.format(**paths))
    result = cli("attest", "generic", *TRAIL_FLAGS, "--name", "x")
    assert_error(result, 2, needle.format(**paths))
    assert state(home) == before
