"""The CLI's write and read commands end to end: flows, trails, artifacts, generic attestations.

JSON shapes are checked against docs/json-output.md: documented fields must be there (fields may
be added, never removed or renamed).

Commands run in-process through ``affidavit.cli.main.main`` (exit code returned, output
captured); a few run as real processes to check the console entry point and exit codes.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from affidavit.ledger import note
from tests.conftest import FLOW, TRAIL
from tests.helpers import Cli, Home, assert_error, run_subprocess, sha256_hex, state

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

Files = Callable[..., Path]

COMMIT = "0123456789abcdef0123456789abcdef01234567"
FP = "ab" * 32

TEMPLATE = """\
version: 1
trail:
  attestations:
    - name: unit
      type: generic
  artifacts:
    - name: app
      attestations:
        - name: scan
          type: generic
"""

TEMPLATE_CANONICAL = {
    "version": 1,
    "trail": {
        "attestations": [{"name": "unit", "type": "generic"}],
        "artifacts": [{"name": "app", "attestations": [{"name": "scan", "type": "generic"}]}],
    },
}


def _begin(cli: Cli) -> None:
    assert cli("create", "flow", FLOW, "--description", "the demo flow").code == 0
    assert cli("begin", "trail", TRAIL, "--flow", FLOW, "--description", "first").code == 0


def _trail_json(cli: Cli, name: str = TRAIL) -> dict[str, Any]:
    result = cli("get", "trail", name, "--flow", FLOW, "--output", "json")
    assert result.code == 0, str(result)
    return dict(result.json())


# -- create flow -------------------------------------------------------------------------------


def test_create_flow_and_get_it(cli: Cli, home: Home) -> None:
    result = cli("create", "flow", FLOW, "--description", "the demo flow")
    assert result.code == 0, str(result)
    assert result.out == f"recorded flow '{FLOW}' as entry 0 (ledger size 1)\n"
    assert result.err == ""

    shown = cli("get", "flow", FLOW, "--output", "json")
    assert shown.code == 0
    flow = shown.json()
    assert set(flow) >= {"name", "description", "template", "created_at", "updated_at",
                         "entries", "trails"}
    assert flow["name"] == FLOW
    assert flow["description"] == "the demo flow"
    assert flow["template"] is None
    assert flow["entries"] == [0]
    assert flow["trails"] == []
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", flow["created_at"])

    table = cli("get", "flow", FLOW)
    assert table.code == 0
    assert re.search(r"^Name:\s+demo$", table.out, re.M)
    assert re.search(r"^Description:\s+the demo flow$", table.out, re.M)
    assert re.search(r"^Template:\s+none$", table.out, re.M)


def test_create_flow_with_template(cli: Cli, files: Files) -> None:
    template = files("template.yml", TEMPLATE)
    result = cli("create", "flow", FLOW, "--template-file", template, "--output", "json")
    assert result.code == 0, str(result)
    written = result.json()
    assert set(written) >= {"dry_run", "index", "entry", "checkpoint"}
    assert written["dry_run"] is False
    assert written["index"] == 0
    assert written["entry"]["kind"] == "flow"
    assert written["entry"]["record"] == {"name": FLOW, "template": TEMPLATE_CANONICAL}
    assert written["checkpoint"].splitlines()[1] == "1"

    flow = cli("get", "flow", FLOW, "--output", "json").json()
    assert flow["template"] == TEMPLATE_CANONICAL
    assert re.search(r"^Template:\s+yes$", cli("get", "flow", FLOW).out, re.M)

    # A later change of the description keeps the template.
    assert cli("create", "flow", FLOW, "--description", "now described").code == 0
    flow = cli("get", "flow", FLOW, "--output", "json").json()
    assert flow["template"] == TEMPLATE_CANONICAL
    assert flow["description"] == "now described"
    assert flow["entries"] == [0, 1]


def test_template_drives_the_trail_verdict(cli: Cli, files: Files) -> None:
    template = files("template.yml", TEMPLATE)
    assert cli("create", "flow", FLOW, "--template-file", template).code == 0
    assert cli("begin", "trail", TRAIL, "--flow", FLOW).code == 0
    trail = _trail_json(cli)
    assert trail["status"] == "INCOMPLETE"
    assert trail["template_source"] == "flow"
    assert [(s["target"], s["name"], s["state"]) for s in trail["verdict"]["slots"]] == [
        ("trail", "unit", "MISSING"), ("artifact app", "app", "MISSING")]

    base = ("--flow", FLOW, "--trail", TRAIL)
    assert cli("attest", "generic", *base, "--name", "unit").code == 0
    assert cli("attest", "artifact", *base, "--name", "app", "--fingerprint", FP).code == 0
    assert _trail_json(cli)["status"] == "INCOMPLETE"
    assert cli("attest", "generic", *base, "--name", "scan", "--fingerprint", FP).code == 0
    assert _trail_json(cli)["status"] == "COMPLIANT"
    assert cli("attest", "generic", *base, "--name", "extra", "--compliant", "false").code == 0
    trail = _trail_json(cli)
    assert trail["status"] == "NON_COMPLIANT"
    assert trail["verdict"]["unexpected"] == [{"name": "extra", "entry": 5, "compliant": False}]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("version: 1\ntrail: [unclosed\n", "line"),
        ("- just\n- a list\n", "version: 1"),
        ("version: 2\n", "version"),
        ("version: 1\ntrail:\n  attestations:\n    - name: unit\n      type: bogus\n",
         "trail.attestations.0.type"),
        ("version: 1\ntrail:\n  attestations:\n    - name: unit\n",
         "trail.attestations.0.type"),
        ("version: 1\ntrail:\n  attestations: []\n  surprise: true\n", "trail.surprise"),
        ("version: 1\ntrail:\n  artifacts:\n    - name: 'bad name'\n",
         "trail.artifacts.0.name"),
    ],
    ids=["bad-yaml", "not-a-mapping", "wrong-version", "unknown-type", "missing-type",
         "unknown-key", "bad-name"],
)
def test_template_errors_name_file_and_key(
    cli: Cli, files: Files, home: Home, text: str, needle: str
) -> None:
    template = files("flow-template.yml", text)
    result = cli("create", "flow", FLOW, "--template-file", template)
    assert_error(result, 2, str(template), needle)
    assert state(home).entries == 0


def test_template_errors_on_begin_trail_write_nothing(cli: Cli, files: Files, home: Home) -> None:
    _begin(cli)
    before = state(home)
    template = files("trail-template.yml", "version: 1\ntrail:\n  bogus: 1\n")
    result = cli("begin", "trail", TRAIL, "--flow", FLOW, "--template-file", template)
    assert_error(result, 2, str(template), "trail.bogus")
    assert state(home) == before


# -- begin trail -------------------------------------------------------------------------------


def test_begin_trail_is_idempotent_and_keeps_unspecified_fields(
    cli: Cli, files: Files
) -> None:
    assert cli("create", "flow", FLOW).code == 0
    template = files("trail.yml", "version: 1\ntrail:\n  attestations:\n"
                                  "    - {name: unit, type: generic}\n")
    result = cli("begin", "trail", TRAIL, "--flow", FLOW, "--description", "first",
                 "--template-file", template)
    assert result.code == 0, str(result)
    first = _trail_json(cli)
    assert first["description"] == "first"
    assert first["template_source"] == "trail"

    # Again without any field: nothing is wiped, and the state is the same.
    for _ in range(2):
        again = cli("begin", "trail", TRAIL, "--flow", FLOW)
        assert again.code == 0, str(again)
    second = _trail_json(cli)
    volatile = {"updated_at", "entries"}
    assert {k: v for k, v in second.items() if k not in volatile} == {
        k: v for k, v in first.items() if k not in volatile}

    # A new description replaces the old one and keeps the template.
    assert cli("begin", "trail", TRAIL, "--flow", FLOW, "--description", "second").code == 0
    third = _trail_json(cli)
    assert third["description"] == "second"
    assert third["template"] == first["template"]

    listed = cli("list", "trails", "--flow", FLOW, "--output", "json").json()
    assert [t["name"] for t in listed] == [TRAIL]


def test_begin_trail_in_missing_flow_is_exit_2(cli: Cli, home: Home) -> None:
    result = cli("begin", "trail", TRAIL, "--flow", "nope")
    assert_error(result, 2, "flow 'nope' does not exist")
    assert state(home).entries == 0


# -- attest artifact ---------------------------------------------------------------------------


def test_attest_artifact_from_a_file(cli: Cli, files: Files) -> None:
    _begin(cli)
    artifact = files("build/app.tar", b"the artifact bytes")
    result = cli("attest", "artifact", artifact, "--flow", FLOW, "--trail", TRAIL,
                 "--name", "app", "--commit", COMMIT, "--annotate", "stage=build",
                 "--origin-url", "https://ci.example/1", "--output", "json")
    assert result.code == 0, str(result)
    record = result.json()["entry"]["record"]
    assert record == {
        "flow": FLOW, "trail": TRAIL, "name": "app",
        "fingerprint": sha256_hex(b"the artifact bytes"), "artifact_type": "file",
        "filename": "app.tar", "commit": {"sha": COMMIT},
        "origin_url": "https://ci.example/1", "annotations": {"stage": "build"},
    }
    (shown,) = _trail_json(cli)["artifacts"]
    assert shown["fingerprint"] == sha256_hex(b"the artifact bytes")
    assert shown["entry"] == 2


def test_attest_artifact_from_a_directory(cli: Cli, files: Files) -> None:
    _begin(cli)
    files("dist/a.txt", b"a")
    files("dist/sub/b.txt", b"b")
    folder = files("dist/sub/c.txt", b"c").parent.parent
    expected = cli("fingerprint", folder, "--artifact-type", "dir")
    assert expected.code == 0
    result = cli("attest", "artifact", folder, "--artifact-type", "dir", "--flow", FLOW,
                 "--trail", TRAIL, "--name", "dist", "--output", "json")
    assert result.code == 0, str(result)
    record = result.json()["entry"]["record"]
    assert record["fingerprint"] == expected.out.strip()
    assert record["artifact_type"] == "dir"


def test_attest_artifact_by_fingerprint(cli: Cli) -> None:
    _begin(cli)
    result = cli("attest", "artifact", "--fingerprint", FP.upper(), "--flow", FLOW,
                 "--trail", TRAIL, "--name", "image", "--output", "json")
    assert result.code == 0, str(result)
    record = result.json()["entry"]["record"]
    assert record["fingerprint"] == FP
    assert "filename" not in record

    shown = cli("get", "artifact", FP, "--output", "json")
    assert shown.code == 0
    artifact = shown.json()
    assert set(artifact) >= {"fingerprint", "reports", "attestations", "trails", "compliant"}
    assert artifact["fingerprint"] == FP
    assert [(r["entry"], r["flow"], r["trail"], r["name"]) for r in artifact["reports"]] == [
        (2, FLOW, TRAIL, "image")]
    assert [(t["flow"], t["trail"], t["status"], t["trail_status"], t["reasons"])
            for t in artifact["trails"]] == [(FLOW, TRAIL, "COMPLIANT", "COMPLIANT", [])]
    assert artifact["compliant"] is True

    table = cli("get", "artifact", FP)
    assert table.code == 0
    assert re.search(rf"^Fingerprint:\s+{FP}$", table.out, re.M)
    assert "Reported:" in table.out and "Trails:" in table.out


@pytest.mark.parametrize("digest", ["abc", "g" * 64, "a" * 63, "a" * 65, "sha256:" + FP])
def test_attest_artifact_bad_digest(cli: Cli, home: Home, digest: str) -> None:
    _begin(cli)
    before = state(home)
    result = cli("attest", "artifact", "--fingerprint", digest, "--flow", FLOW,
                 "--trail", TRAIL, "--name", "app")
    assert_error(result, 2, "--fingerprint", "SHA-256")
    assert state(home) == before


def test_attest_artifact_needs_path_or_fingerprint(cli: Cli, home: Home) -> None:
    _begin(cli)
    result = cli("attest", "artifact", "--flow", FLOW, "--trail", TRAIL, "--name", "app")
    assert_error(result, 2, "PATH", "--fingerprint")


# -- attest generic ----------------------------------------------------------------------------


@pytest.mark.parametrize(("flag", "compliant", "status"), [
    (None, True, "COMPLIANT"), ("true", True, "COMPLIANT"), ("yes", True, "COMPLIANT"),
    ("false", False, "NON_COMPLIANT"), ("FALSE", False, "NON_COMPLIANT"),
])
def test_attest_generic_compliance(
    cli: Cli, flag: str | None, compliant: bool, status: str
) -> None:
    _begin(cli)
    extra = [] if flag is None else ["--compliant", flag]
    result = cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "review",
                 *extra, "--output", "json")
    assert result.code == 0, str(result)
    record = result.json()["entry"]["record"]
    assert record["compliant"] is compliant
    assert record["statement"]["predicate"] == {"compliant": compliant}
    assert record["target"] == {"kind": "trail"}
    trail = _trail_json(cli)
    assert trail["status"] == status
    if not compliant:
        assert trail["verdict"]["reasons"] == ["trail: attestation 'review' is not compliant"]


def test_latest_report_of_a_name_counts(cli: Cli) -> None:
    _begin(cli)
    base = ("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "review")
    assert cli(*base, "--compliant", "false").code == 0
    assert _trail_json(cli)["status"] == "NON_COMPLIANT"
    assert cli(*base, "--compliant", "true").code == 0
    assert _trail_json(cli)["status"] == "COMPLIANT"
    shown = cli("get", "attestation", "review", "--flow", FLOW, "--trail", TRAIL,
                "--output", "json").json()
    assert shown["entry"] == 3
    assert [(h["entry"], h["compliant"]) for h in shown["history"]] == [(2, False), (3, True)]


def test_attest_generic_with_everything(cli: Cli, files: Files, home: Home) -> None:
    _begin(cli)
    log = files("out/build.log", b"build ok\n")
    files("reports/junit/a.xml", b"<testsuite/>")
    reports = files("reports/junit/deep/b.xml", b"<testsuite name='b'/>").parent.parent
    user_data = files("user.json", '{"ticket": "OPS-1", "count": 3, "nested": {"ok": true}}')
    result = cli(
        "attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "unit",
        "--compliant", "true", "--attachments", log, reports, "--user-data", user_data,
        "--annotate", "team=core", "url=https://x.example/?a=b", "--commit", COMMIT.upper(),
        "--origin-url", "https://ci.example/42", "--output", "json",
    )
    assert result.code == 0, str(result)
    written = result.json()
    record = written["entry"]["record"]
    assert record["evidence"] == [
        {"name": "build.log", "sha256": sha256_hex(b"build ok\n"), "size": 9},
        {"name": "junit/a.xml", "sha256": sha256_hex(b"<testsuite/>"), "size": 12},
        {"name": "junit/deep/b.xml", "sha256": sha256_hex(b"<testsuite name='b'/>"),
         "size": 21},
    ]
    assert record["user_data"] == {"ticket": "OPS-1", "count": 3, "nested": {"ok": True}}
    assert record["annotations"] == {"team": "core", "url": "https://x.example/?a=b"}
    assert record["commit"] == {"sha": COMMIT}
    assert record["origin_url"] == "https://ci.example/42"
    statement = record["statement"]
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"] == [{
        "name": f"trail:{FLOW}/{TRAIL}",
        "digest": {"sha256": sha256_hex(f"trail:{FLOW}/{TRAIL}".encode())}}]

    # The evidence is in the vault, content-addressed.
    stored = state(home).blobs
    for ref in record["evidence"]:
        digest = ref["sha256"]
        assert f"{digest[:2]}/{digest[2:]}" in stored
    assert len(stored) == 3

    # get attestation, both outputs.
    shown = cli("get", "attestation", "unit", "--flow", FLOW, "--trail", TRAIL,
                "--output", "json")
    assert shown.code == 0
    attestation = shown.json()
    assert set(attestation) >= {"entry", "time", "record", "history"}
    assert attestation["entry"] == written["index"] == 2
    assert attestation["record"] == record
    assert attestation["time"] == written["entry"]["time"]
    table = cli("get", "attestation", "unit", "--flow", FLOW, "--trail", TRAIL)
    assert table.code == 0
    assert re.search(r"^Compliant:\s+yes$", table.out, re.M)
    assert re.search(r"^Predicate type:\s+https://affidavit.dev/predicate/generic/v1$",
                     table.out, re.M)
    assert f"build.log ({sha256_hex(b'build ok' + bytes([10]))[:12]})" in table.out

    # get trail shows it in its summary.
    (summary,) = _trail_json(cli)["attestations"]
    assert summary["evidence"] == record["evidence"]
    assert summary["annotations"] == record["annotations"]
    assert summary["commit"] == {"sha": COMMIT}


def test_attest_generic_bound_to_an_artifact(cli: Cli) -> None:
    _begin(cli)
    base = ("--flow", FLOW, "--trail", TRAIL)
    assert cli("attest", "artifact", *base, "--name", "app", "--fingerprint", FP).code == 0
    result = cli("attest", "generic", *base, "--name", "scan", "--fingerprint", FP,
                 "--compliant", "false", "--output", "json")
    assert result.code == 0
    record = result.json()["entry"]["record"]
    assert record["target"] == {"kind": "artifact", "fingerprint": FP}
    assert record["statement"]["subject"] == [{"name": "scan", "digest": {"sha256": FP}}]
    artifact = cli("get", "artifact", FP, "--output", "json").json()
    assert [a["name"] for a in artifact["attestations"]] == ["scan"]
    assert artifact["compliant"] is False


@pytest.mark.parametrize(("args", "needle"), [
    (("--flow", "nope", "--trail", TRAIL), "flow 'nope' does not exist"),
    (("--flow", FLOW, "--trail", "nope"), "trail 'nope' does not exist in flow 'demo'"),
])
def test_attesting_to_a_missing_flow_or_trail_is_exit_2(
    cli: Cli, files: Files, home: Home, args: tuple[str, ...], needle: str
) -> None:
    _begin(cli)
    before = state(home)
    evidence = files("e.txt", b"evidence")
    for command in (
        ("attest", "generic", *args, "--name", "unit", "--attachments", evidence),
        ("attest", "artifact", evidence, *args, "--name", "app"),
        ("attest", "generic", *args, "--name", "unit", "--dry-run"),
    ):
        assert_error(cli(*command), 2, needle)
    assert state(home) == before


# -- reads -------------------------------------------------------------------------------------


def test_get_trail_table_and_json(cli: Cli, files: Files) -> None:
    _begin(cli)
    base = ("--flow", FLOW, "--trail", TRAIL)
    assert cli("attest", "artifact", files("app.bin", b"x"), *base, "--name", "app").code == 0
    assert cli("attest", "generic", *base, "--name", "unit", "--compliant", "false").code == 0
    trail = _trail_json(cli)
    assert set(trail) >= {
        "flow", "name", "description", "template", "template_source", "created_at",
        "updated_at", "status", "verdict", "artifacts", "attestations", "entries"}
    assert (trail["flow"], trail["name"], trail["description"]) == (FLOW, TRAIL, "first")
    assert trail["entries"] == [1, 2, 3]
    assert trail["status"] == "NON_COMPLIANT"
    assert set(trail["verdict"]) >= {"status", "slots", "unexpected", "reasons"}
    assert set(trail["attestations"][0]) >= {
        "entry", "time", "name", "type", "compliant", "target", "evidence", "commit",
        "origin_url", "annotations"}

    table = cli("get", "trail", TRAIL, "--flow", FLOW)
    assert table.code == 0
    assert re.search(r"^Status:\s+NON_COMPLIANT$", table.out, re.M)
    assert "Artifacts:" in table.out and "Attestations:" in table.out
    assert "- trail: attestation 'unit' is not compliant" in table.out


def test_list_flows_and_trails(cli: Cli) -> None:
    assert cli("list", "flows", "--output", "json").code == 3  # no ledger yet
    _begin(cli)
    assert cli("create", "flow", "other").code == 0
    assert cli("begin", "trail", "t2", "--flow", FLOW).code == 0
    flows = cli("list", "flows", "--output", "json").json()
    assert [(f["name"], f["trails"], f["description"]) for f in flows] == [
        (FLOW, 2, "the demo flow"), ("other", 0, None)]
    assert all(set(f) >= {"name", "description", "trails", "created_at"} for f in flows)
    trails = cli("list", "trails", "--flow", FLOW, "--output", "json").json()
    assert [(t["name"], t["status"]) for t in trails] == [(TRAIL, "COMPLIANT"),
                                                          ("t2", "COMPLIANT")]
    assert all(set(t) >= {"name", "status", "created_at", "updated_at"} for t in trails)

    table = cli("list", "flows").out.splitlines()
    assert table[0].split() == ["NAME", "TRAILS", "LAST", "TRAIL", "STATUS", "UPDATED",
                                "DESCRIPTION"]
    assert table[2].split()[:2] == [FLOW, "2"]
    trails_table = cli("list", "trails", "--flow", FLOW).out.splitlines()
    assert trails_table[0].split() == ["NAME", "STATUS", "UPDATED"]
    assert len(trails_table) == 4
    assert_error(cli("list", "trails", "--flow", "nope"), 2, "flow 'nope' does not exist")


def test_search_by_prefix(cli: Cli) -> None:
    _begin(cli)
    base = ("--flow", FLOW, "--trail", TRAIL)
    assert cli("attest", "artifact", *base, "--name", "app", "--fingerprint", FP,
               "--commit", COMMIT).code == 0
    (found,) = cli("search", FP[:6], "--output", "json").json()
    expected = {"match": "fingerprint", "sha": FP, "entry": 2, "kind": "artifact",
                "flow": FLOW, "trail": TRAIL, "name": "app"}
    assert {k: found.get(k) for k in expected} == expected
    by_commit = cli("search", COMMIT[:8].upper(), "--output", "json").json()
    assert [(f["match"], f["sha"]) for f in by_commit] == [("commit", COMMIT)]
    assert cli("search", "ffff", "--output", "json").json() == []
    table = cli("search", FP[:4])
    assert table.code == 0 and FP in table.out
    for bad in ("abc", "zzzz", "12 4"):
        assert_error(cli("search", bad), 2, "search", "4 hex")


def test_log_ledger(cli: Cli) -> None:
    _begin(cli)
    assert cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "u").code == 0
    entries = cli("log", "ledger", "--output", "json").json()
    assert [(e["index"], e["kind"], e["subject"]) for e in entries] == [
        (0, "flow", FLOW), (1, "trail", f"{FLOW}/{TRAIL}"),
        (2, "attestation", f"{FLOW}/{TRAIL}/u")]
    assert all(set(e) >= {"index", "time", "kind", "subject"} for e in entries)
    window = cli("log", "ledger", "--start", "1", "--limit", "1", "--output", "json").json()
    assert [e["index"] for e in window] == [1]
    assert cli("log", "ledger", "--start", "9", "--output", "json").json() == []
    table = cli("log", "ledger").out.splitlines()
    assert table[0].split() == ["INDEX", "TIME", "KIND", "SUBJECT"]
    assert len(table) == 5


def test_ledger_public_key_format(cli: Cli, home: Home) -> None:
    assert cli("ledger", "public-key").code == 3  # no ledger yet: nothing is created by a read
    assert not home.db.exists()
    assert cli("create", "flow", FLOW).code == 0
    result = cli("ledger", "public-key")
    assert result.code == 0
    key = result.out.strip()
    assert result.out == key + "\n"
    match = re.fullmatch(r"([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)", key)
    assert match, key
    material = base64.b64decode(match.group(3), validate=True)
    assert len(material) == 33 and material[0] == 1
    verifier = note.Verifier.from_key(key)
    assert verifier.key_id.hex() == match.group(2)
    assert verifier.name == match.group(1)
    # Stable across calls, and the same one that signs checkpoints.
    assert cli("ledger", "public-key").out == result.out
    _begin(cli)
    from affidavit.ledger.sqlite import SQLiteLedger

    checkpoint = SQLiteLedger(home.url).checkpoint()
    assert checkpoint is not None
    # size 3: the flow created above, then _begin's flow and trail
    assert note.open_note(checkpoint, [verifier]).splitlines()[1] == "3"


@pytest.mark.parametrize("kind", ["entry", "flow", "trail", "artifact", "attestation",
                                  "statement", "template", "checkpoint"])
def test_schema_prints_json_schema(cli: Cli, kind: str) -> None:
    result = cli("schema", kind)
    assert result.code == 0, str(result)
    schema = result.json()
    assert isinstance(schema, dict)
    assert "properties" in schema or "oneOf" in schema or "anyOf" in schema


def test_schema_entry_describes_every_kind(cli: Cli) -> None:
    schema = cli("schema", "entry").json()
    assert {"FlowEntry", "TrailEntry", "ArtifactEntry", "AttestationEntry"} <= set(
        schema["$defs"])
    assert schema["discriminator"]["propertyName"] == "kind"
    attestation = schema["$defs"]["Statement"]["properties"]
    assert "_type" in attestation and "predicateType" in attestation
    assert_error(cli("schema", "nope"), 2, "nope", "entry")


# -- dry run -----------------------------------------------------------------------------------


def test_dry_run_prints_the_entry_and_writes_nothing(
    cli: Cli, files: Files, home: Home
) -> None:
    _begin(cli)
    before = state(home)
    evidence = files("ev/report.txt", b"some evidence")
    user_data = files("u.json", '{"k": 1}')
    base = ("--flow", FLOW, "--trail", TRAIL)
    commands = [
        ("create", "flow", "another", "--description", "x"),
        ("create", "flow", FLOW, "--template-file", files("t.yml", TEMPLATE)),
        ("begin", "trail", "t9", "--flow", FLOW),
        ("attest", "artifact", evidence, *base, "--name", "app"),
        ("attest", "generic", *base, "--name", "unit", "--attachments", evidence.parent,
         "--user-data", user_data, "--annotate", "a=b"),
    ]
    for command in commands:
        result = cli(*command, "--dry-run")
        assert result.code == 0, str(result)
        entry = result.json()
        assert entry["v"] == 1 and entry["kind"] in ("flow", "trail", "artifact",
                                                      "attestation")
        assert result.err.startswith("dry run: ") and "was not recorded" in result.err
        as_json = cli(*command, "--dry-run", "--output", "json").json()
        assert as_json["dry_run"] is True
        assert as_json["index"] is None and as_json["checkpoint"] is None
        assert as_json["entry"]["record"] == entry["record"]
    assert state(home) == before
    # The dry run computed what a real run records (digests included).
    dry = cli("attest", "generic", *base, "--name", "unit", "--attachments", evidence,
              "--dry-run", "--output", "json").json()
    real = cli("attest", "generic", *base, "--name", "unit", "--attachments", evidence,
               "--output", "json").json()
    assert dry["entry"]["record"] == real["entry"]["record"]


def test_dry_run_on_a_new_ledger_records_nothing(cli: Cli, home: Home) -> None:
    result = cli("create", "flow", FLOW, "--dry-run")
    assert result.code == 0
    assert state(home).entries == 0
    assert not home.key.exists()


# -- environment variables and empty values ----------------------------------------------------


def test_flags_from_environment(cli: Cli, monkeypatch: pytest.MonkeyPatch, home: Home) -> None:
    _begin(cli)
    monkeypatch.setenv("AFFIDAVIT_FLOW", FLOW)
    monkeypatch.setenv("AFFIDAVIT_TRAIL", TRAIL)
    monkeypatch.setenv("AFFIDAVIT_NAME", "from-env")
    monkeypatch.setenv("AFFIDAVIT_COMPLIANT", "false")
    monkeypatch.setenv("AFFIDAVIT_ANNOTATE", "a=1,b=2")
    monkeypatch.setenv("AFFIDAVIT_COMMIT", COMMIT)
    monkeypatch.setenv("AFFIDAVIT_ORIGIN_URL", "https://ci.example/9")
    monkeypatch.setenv("AFFIDAVIT_OUTPUT", "json")
    result = cli("attest", "generic")
    assert result.code == 0, str(result)
    record = result.json()["entry"]["record"]
    assert (record["name"], record["compliant"]) == ("from-env", False)
    assert record["annotations"] == {"a": "1", "b": "2"}
    assert record["commit"] == {"sha": COMMIT}
    assert record["origin_url"] == "https://ci.example/9"

    # The command line wins over the environment.
    result = cli("attest", "generic", "--name", "from-cli", "--compliant", "true")
    assert result.code == 0
    assert (result.json()["entry"]["record"]["name"],
            result.json()["entry"]["record"]["compliant"]) == ("from-cli", True)

    # Boolean switches too: AFFIDAVIT_DRY_RUN writes nothing.
    monkeypatch.setenv("AFFIDAVIT_DRY_RUN", "true")
    before = state(home)
    assert cli("attest", "generic").json()["dry_run"] is True
    assert state(home) == before


def test_ledger_from_flag_beats_environment(cli: Cli, tmp_path: Path, home: Home) -> None:
    other = tmp_path / "other.db"
    assert cli("create", "flow", FLOW, "--ledger", f"sqlite:///{other}").code == 0
    assert other.exists()
    assert state(home).entries == 0
    assert cli("list", "flows", "--ledger", f"sqlite:///{other}",
               "--output", "json").json()[0]["name"] == FLOW


@pytest.mark.parametrize("command", [
    ("create", "flow", FLOW, "--description", "{}"),
    ("begin", "trail", TRAIL, "--flow", "{}"),
    ("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "{}"),
    ("attest", "generic", "--flow", FLOW, "--trail", "{}", "--name", "x"),
    ("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x", "--origin-url", "{}"),
    ("attest", "artifact", "--flow", FLOW, "--trail", TRAIL, "--name", "x", "--fingerprint", "{}"),
    ("get", "trail", TRAIL, "--flow", "{}"),
    ("list", "flows", "--ledger", "{}"),
])
@pytest.mark.parametrize("empty", ["", "   "])
def test_empty_value_is_exit_2(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, home: Home, command: tuple[str, ...], empty: str
) -> None:
    _begin(cli)
    before = state(home)
    flag = command[command.index("{}") - 1]
    result = cli(*(empty if part == "{}" else part for part in command))
    assert_error(result, 2, flag, "empty")

    assert state(home) == before


@pytest.mark.parametrize("command", [
    ("begin", "trail", TRAIL, "--flow", "{}"),
    ("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "{}"),
    ("attest", "generic", "--flow", FLOW, "--trail", "{}", "--name", "x"),
])
@pytest.mark.parametrize("empty", ["", "   "])
def test_empty_variable_is_not_set_and_a_required_flag_names_it(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, home: Home, command: tuple[str, ...], empty: str
) -> None:
    """A CI cannot unset a variable, only empty it: empty counts as not given, so a required
    flag fails, saying which variable was empty."""
    _begin(cli)
    before = state(home)
    position = command.index("{}")
    flag = command[position - 1]
    without = command[: position - 1] + command[position + 1:]
    variable = "AFFIDAVIT_" + flag.lstrip("-").upper().replace("-", "_")
    monkeypatch.setenv(variable, empty)
    assert_error(cli(*without), 2, f"{flag} is required ({variable} is empty)")
    assert state(home) == before


def test_empty_variable_leaves_an_optional_flag_unset(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, home: Home
) -> None:
    _begin(cli)
    for variable in ("AFFIDAVIT_ORIGIN_URL", "AFFIDAVIT_FINGERPRINT", "AFFIDAVIT_DRY_RUN",
                     "AFFIDAVIT_ANNOTATE", "AFFIDAVIT_OUTPUT"):
        monkeypatch.setenv(variable, "")
    result = cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x")
    assert result.code == 0, result.err
    assert result.out.startswith("recorded attestation 'x' as entry ")
    record = json.loads(cli("get", "attestation", "x", "--flow", FLOW, "--trail", TRAIL,
                            "--output", "json").out)["record"]
    assert "origin_url" not in record and record["target"] == {"kind": "trail"}


def test_affidavit_args_are_split_like_a_shell(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, home: Home
) -> None:
    _begin(cli)
    monkeypatch.setenv("AFFIDAVIT_ARGS", "--annotate 'note=two words; $(touch x)' --output json")
    result = cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x")
    assert result.code == 0, result.err
    assert result.json()["entry"]["record"]["annotations"] == {"note": "two words; $(touch x)"}
    monkeypatch.setenv("AFFIDAVIT_ARGS", "--annotate 'open")
    assert_error(cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "y"), 2,
                 "AFFIDAVIT_ARGS", "No closing quotation")


@pytest.mark.parametrize("command", [
    ("create", "flow", ""),
    ("begin", "trail", "", "--flow", FLOW),
    ("get", "flow", ""),
    ("search", ""),
])
def test_empty_positional_is_exit_2(cli: Cli, home: Home, command: tuple[str, ...]) -> None:
    _begin(cli)
    before = state(home)
    assert_error(cli(*command), 2)
    assert state(home) == before


def test_missing_required_flag_names_flag_and_variable(cli: Cli) -> None:
    _begin(cli)
    result = cli("attest", "generic", "--flow", FLOW, "--name", "x")
    assert_error(result, 2, "--trail", "AFFIDAVIT_TRAIL")


def test_bad_boolean_from_environment(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    _begin(cli)
    monkeypatch.setenv("AFFIDAVIT_DRY_RUN", "perhaps")
    result = cli("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "x")
    assert_error(result, 2, "--dry-run", "AFFIDAVIT_DRY_RUN", "perhaps")


# -- as a real process -------------------------------------------------------------------------


def test_subprocess_round_trip(files: Files, home: Home) -> None:
    evidence = files("junit.xml", b"<testsuite tests='1'/>")
    steps = [
        ("create", "flow", FLOW),
        ("begin", "trail", TRAIL, "--flow", FLOW),
        ("attest", "generic", "--flow", FLOW, "--trail", TRAIL, "--name", "unit",
         "--attachments", evidence),
    ]
    for step in steps:
        result = run_subprocess(*step)
        assert result.code == 0, str(result)
    shown = run_subprocess("get", "trail", TRAIL, "--flow", FLOW, "--output", "json")
    assert shown.code == 0
    trail = json.loads(shown.out)
    assert trail["status"] == "COMPLIANT"
    assert trail["attestations"][0]["evidence"][0]["sha256"] == sha256_hex(
        b"<testsuite tests='1'/>")
    verified = run_subprocess("verify", "ledger")
    assert verified.code == 0 and verified.out.startswith("verified ledger")


def test_subprocess_exit_codes_and_one_line_errors(home: Home) -> None:
    missing = run_subprocess("attest", "generic", "--flow", FLOW, "--trail", TRAIL,
                             "--name", "x")
    assert_error(missing, 2, "flow 'demo' does not exist")
    usage = run_subprocess("attest", "generic", "--flow", FLOW, "--trail", TRAIL,
                           "--name", "x", "--compliant", "maybe")
    assert_error(usage, 2, "--compliant", "maybe")
    empty = run_subprocess("create", "flow", FLOW, "--description", "")
    assert_error(empty, 2, "--description", "empty")
    unknown = run_subprocess("frobnicate")
    assert unknown.code == 2 and "Traceback" not in unknown.err
    assert state(home).entries == 0
