"""``--outputs-file PATH``: a write or assert command's facts as ``$GITHUB_OUTPUT`` lines.

The file is read back here the way GitHub's runner reads it (its documented format: ``key=value``
lines, and ``key<<DELIMITER`` … ``DELIMITER`` for a value with line breaks), by a reader written
for the test, so the expectations are the runner's view, not the writer's.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.helpers import Cli, Home, assert_error, read_github_outputs, state

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

PASSING = b'<testsuite tests="1"><testcase classname="a" name="ok"/></testsuite>'
FAILING = (b'<testsuite tests="1"><testcase classname="a" name="bad">'
           b'<failure message="no"/></testcase></testsuite>')


@pytest.fixture
def flow(cli: Cli) -> None:
    assert cli("create", "flow", "demo").code == 0
    assert cli("begin", "trail", "t1", "--flow", "demo").code == 0


def test_attest_junit_lists_the_files_it_read(cli: Cli, flow: None, tmp_path: Path) -> None:
    results = tmp_path / "results"
    (results / "nested").mkdir(parents=True)
    (results / "TEST-a.xml").write_bytes(PASSING)
    (results / "nested" / "TEST-b.xml").write_bytes(FAILING)
    outputs = tmp_path / "outputs"
    done = cli("attest", "junit", "--flow", "demo", "--trail", "t1", "--name", "unit",
               "--results-dir", results, "--outputs-file", outputs)
    assert done.code == 0, done.err
    got = dict(read_github_outputs(outputs))
    assert got["entry-index"] == "2"  # flow 0, trail 1
    assert (got["flow"], got["trail"], got["compliant"]) == ("demo", "t1", "false")
    assert got["fingerprint"] == ""
    assert sorted(got["results"].split("\n")) == [
        str(results / "TEST-a.xml"), str(results / "nested" / "TEST-b.xml")]
    assert "results<<AFFIDAVIT_EOF\n" in outputs.read_text()


def test_values_that_look_like_a_delimiter_cannot_end_the_value(
        cli: Cli, flow: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A report file named like the delimiter must not cut the list short (nor forge keys)."""
    monkeypatch.chdir(tmp_path)
    for name in ("AFFIDAVIT_EOF", "compliant=true"):
        (tmp_path / name).write_bytes(PASSING)
    outputs = tmp_path / "o"
    assert cli("attest", "junit", "--flow", "demo", "--trail", "t1", "--name", "unit",
               "--results", "AFFIDAVIT_EOF", "compliant=true", "--outputs-file", outputs).code == 0
    pairs = read_github_outputs(outputs)
    assert [k for k, _ in pairs] == ["entry-index", "flow", "trail", "compliant", "fingerprint",
                                     "results"]
    assert dict(pairs)["results"] == "AFFIDAVIT_EOF\ncompliant=true"


def test_artifact_dry_run_and_appending(cli: Cli, flow: None, tmp_path: Path,
                                        home: Home) -> None:
    artifact = tmp_path / "app.bin"
    artifact.write_bytes(b"the app\n")
    outputs = tmp_path / "outputs"
    outputs.write_text("earlier=kept\n")
    before = state(home)
    assert cli("attest", "artifact", artifact, "--flow", "demo", "--trail", "t1", "--name", "app",
               "--dry-run", "--outputs-file", outputs).code == 0
    assert state(home) == before
    assert cli("attest", "artifact", artifact, "--flow", "demo", "--trail", "t1", "--name", "app",
               "--outputs-file", outputs).code == 0
    pairs = read_github_outputs(outputs)
    assert pairs[0] == ("earlier", "kept")
    digest = hashlib.sha256(b"the app\n").hexdigest()
    dry, real = dict(pairs[1:7]), dict(pairs[7:])
    assert dry == {"entry-index": "", "flow": "demo", "trail": "t1", "compliant": "",
                   "fingerprint": digest, "results": ""}
    assert real == {**dry, "entry-index": "2"}


def test_assert_outputs_the_verdict_and_reasons(cli: Cli, flow: None, tmp_path: Path) -> None:
    for name in ("review", "sign-off"):
        assert cli("attest", "generic", "--flow", "demo", "--trail", "t1", "--name", name,
                   "--compliant", "false").code == 0
    outputs = tmp_path / "outputs"
    gate = cli("assert", "trail", "t1", "--flow", "demo", "--outputs-file", outputs)
    assert gate.code == 1
    assert dict(read_github_outputs(outputs)) == {
        "compliant": "false", "status": "NON_COMPLIANT", "subject": "trail demo/t1",
        "reasons": "trail: attestation 'review' is not compliant\n"
                   "trail: attestation 'sign-off' is not compliant"}


def test_an_unwritable_outputs_file_is_refused_before_recording(
        cli: Cli, flow: None, tmp_path: Path, home: Home) -> None:
    before = state(home)
    done = cli("attest", "generic", "--flow", "demo", "--trail", "t1", "--name", "x",
               "--outputs-file", tmp_path / "missing" / "out")
    assert_error(done, 2, "--outputs-file", "its directory does not exist")
    assert state(home) == before


def test_outputs_file_from_the_environment(cli: Cli, flow: None, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("AFFIDAVIT_OUTPUTS_FILE", str(outputs))
    assert cli("assert", "trail", "t1", "--flow", "demo").code == 0
    assert dict(read_github_outputs(outputs))["compliant"] == "true"
