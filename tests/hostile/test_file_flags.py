"""Every flag that takes a file, given what a hostile or careless pipeline gives it (issue 11).

Each flag × each input that could be wrong for it: a FIFO with no writer (would block), a
device that never ends (``/dev/zero``), a directory where a file is expected, a symlink loop,
a file past the size cap, and for the JSON and YAML inputs duplicate keys, a lone surrogate and
a 5000-digit integer. Each case is exit 2 (3 for a package), one stderr line naming the file,
no traceback, and the ledger's rows and vault files unchanged. Unreadable files and
directories are in ``test_unreadable.py`` (they need a user other than root).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FLOW, TRAIL
from tests.helpers import Cli, Home, assert_error, state

ATTEST = ("--flow", FLOW, "--trail", TRAIL, "--name", "unit")
PR = ("--repository", "o/r", "--pr", "1", "--base-url", "http://127.0.0.1:9")

#: flag -> (kind of input, the command with the file in it)
Command = Callable[[str], list[str]]
FLAGS: dict[str, tuple[str, Command]] = {
    "create flow --template-file": (
        "yaml", lambda f: ["create", "flow", "shop", "--template-file", f]),
    "begin trail --template-file": (
        "yaml", lambda f: ["begin", "trail", "t2", "--flow", FLOW, "--template-file", f]),
    "begin trail --flow-template-file": (
        "yaml", lambda f: ["begin", "trail", "t2", "--flow", FLOW, "--flow-template-file", f]),
    "create attestation-type --schema": (
        "json", lambda f: ["create", "attestation-type", "kind", "--schema", f]),
    "attest generic --user-data": (
        "json", lambda f: ["attest", "generic", *ATTEST, "--user-data", f]),
    "attest approval --user-data": (
        "json", lambda f: ["attest", "approval", *ATTEST, "--approver", "a@x", "--user-data", f]),
    "attest custom --attestation-data": (
        "json", lambda f: ["attest", "custom", *ATTEST, "--type", "kind",
                           "--attestation-data", f]),
    "attest sarif --scan-results": (
        "report", lambda f: ["attest", "sarif", *ATTEST, "--scan-results", f]),
    "attest snyk --scan-results": (
        "report", lambda f: ["attest", "snyk", *ATTEST, "--scan-results", f]),
    "attest vulns --scan-results": (
        "report", lambda f: ["attest", "vulns", *ATTEST, "--scan-results", f]),
    "attest coverage --report": (
        "report", lambda f: ["attest", "coverage", *ATTEST, "--report", f]),
    "attest sbom --sbom-file": (
        "report", lambda f: ["attest", "sbom", *ATTEST, "--sbom-file", f]),
    # refused before the server is asked (nothing listens on port 9)
    "attest sonar --report-task": (
        "report", lambda f: ["attest", "sonar", *ATTEST, "--report-task", f,
                             "--sonar-url", "http://127.0.0.1:9"]),
    "attest junit --results": (
        "report", lambda f: ["attest", "junit", *ATTEST, "--results", f]),
    # refused before the provider is asked (nothing listens on port 9)
    "attest pullrequest --user-data": (
        "json", lambda f: ["attest", "pullrequest", "github", *ATTEST, *PR, "--user-data", f]),
    "attest pullrequest --attachments": (
        "evidence", lambda f: ["attest", "pullrequest", "github", *ATTEST, *PR,
                               "--attachments", f]),
    # read before the environment is looked up
    "snapshot json --file": (
        "json", lambda f: ["snapshot", "json", "prod", "--file", f]),
    "snapshot paths --paths-file": (
        "yaml", lambda f: ["snapshot", "paths", "prod", "--paths-file", f]),
    "snapshot path --path": (
        "artifact", lambda f: ["snapshot", "path", "prod", "--name", "app", "--path", f]),
    "create policy --file": (
        "config", lambda f: ["create", "policy", "strict", "--file", f]),
    "evaluate snapshot --policy": (
        "config", lambda f: ["evaluate", "snapshot", "prod", "--policy", f]),
    "evaluate trail --policy": (
        "config", lambda f: ["evaluate", "trail", TRAIL, "--flow", FLOW, "--policy", f]),
    "evaluate trails --policy": (
        "config", lambda f: ["evaluate", "trails", "--flow", FLOW, "--policy", f]),
    "snapshot k8s --kubeconfig": (
        "config", lambda f: ["snapshot", "k8s", "prod", "--kubeconfig", f]),
    "attest generic --attachments": (
        "evidence", lambda f: ["attest", "generic", *ATTEST, "--attachments", f]),
    "attest artifact PATH": (
        "artifact", lambda f: ["attest", "artifact", f, "--artifact-type", "file", *ATTEST]),
    "fingerprint PATH": (
        "artifact", lambda f: ["fingerprint", f, "--artifact-type", "file"]),
    "assert artifact PATH": (
        "artifact", lambda f: ["assert", "artifact", f, "--artifact-type", "file"]),
    "verify package PACKAGE": (
        "package", lambda f: ["verify", "package", f, "--public-key", "{key}"]),
    "server --tokens": (  # refused before the server listens (the ledger is the test's)
        "tokens", lambda f: ["server", "--tokens", f]),
    # key files: read before anything is collected, asked or served
    "attest generic --signing-key": (
        "key", lambda f: ["attest", "generic", *ATTEST, "--signing-key", f]),
    "attest generic --sigstore-bundle": (  # read before sigstore is even imported
        "key", lambda f: ["attest", "generic", *ATTEST, "--sigstore-bundle", f]),
    "evidence get --identity": (
        "key", lambda f: ["evidence", "get", "ab" * 32, "-o", f"{f}-out", "--identity", f]),
    "evidence package --identity": (
        "key", lambda f: ["evidence", "package", "--flow", FLOW, "--trail", TRAIL, "-o",
                          f"{f}-p.zip", "--identity", f]),
    "verify package --trusted-keys": (
        "key", lambda f: ["verify", "package", "missing.zip", "--public-key", "{key}",
                          "--trusted-keys", f]),
    "witness serve --key": (
        "key", lambda f: ["witness", "serve", "--key", f, "--state", f"{f}-state.db",
                          "--log", "o=k"]),
    "witness serve --state": (
        "key", lambda f: ["witness", "serve", "--key", "missing.key", "--state", f,
                          "--log", "o=k"]),
    "server token create --tokens": (
        "tokens", lambda f: ["server", "token", "create", "--tokens", f, "--org", "acme",
                             "--scope", "read"]),
}

#: variant -> (kinds it applies to, what the error says)
NOT_REGULAR = "not a regular file"
VARIANTS: dict[str, tuple[frozenset[str], str]] = {
    "fifo": (frozenset({"yaml", "json", "report", "evidence", "artifact", "package",
                        "tokens", "config", "key"}), NOT_REGULAR),
    "dev-zero": (frozenset({"yaml", "json", "report", "evidence", "artifact", "package",
                            "tokens", "config", "key"}), NOT_REGULAR),
    "symlink-loop": (frozenset({"yaml", "json", "report", "evidence", "artifact", "package",
                                "tokens", "config", "key"}), "symbolic links"),
    "directory": (frozenset({"yaml", "json", "report", "package", "tokens", "config", "key"}),
                  "directory"),
    "oversized": (frozenset({"yaml", "json", "config"}), "larger than 64 MiB"),
    "duplicate-key": (frozenset({"yaml", "json"}), "duplicate key"),
    "lone-surrogate": (frozenset({"json"}), "lone surrogate"),
    "huge-integer": (frozenset({"json"}), "too long"),
}


def _make(variant: str, kind: str, tmp_path: Path) -> str:
    """The hostile input for one variant, as a path."""
    path = tmp_path / f"input-{variant}"
    if variant == "fifo":
        os.mkfifo(path)
    elif variant == "dev-zero":
        return "/dev/zero"
    elif variant == "symlink-loop":
        path.symlink_to(path.name)
    elif variant == "directory":
        path.mkdir()
    elif variant == "oversized":
        with open(path, "wb") as fh:
            fh.truncate((64 << 20) + 1)  # sparse
    elif variant == "duplicate-key":
        path.write_text("version: 1\nversion: 1\n" if kind == "yaml" else '{"a": 1, "a": 1}')
    elif variant == "lone-surrogate":
        path.write_bytes(b'{"type": "object", "title": "\\udc00"}')
    elif variant == "huge-integer":
        path.write_bytes(b'{"type": "object", "maxLength": ' + b"7" * 5000 + b"}")
    return str(path)


CASES = [
    pytest.param(flag, variant, id=f"{flag} × {variant}")
    for flag, (kind, _) in FLAGS.items()
    for variant, (kinds, _) in VARIANTS.items()
    if kind in kinds
]


@pytest.fixture
def kind_type(cli: Cli, trail: None, tmp_path: Path) -> None:
    """The custom type ``kind`` that ``attest custom`` names."""
    schema = tmp_path / "kind.json"
    schema.write_text('{"type": "object"}')
    assert cli("create", "attestation-type", "kind", "--schema", schema).code == 0


@pytest.mark.parametrize("flag, variant", CASES)
def test_hostile_file_is_refused(cli: Cli, home: Home, kind_type: None, tmp_path: Path,
                                 flag: str, variant: str) -> None:
    kind, command = FLAGS[flag]
    path = _make(variant, kind, tmp_path)
    before = state(home)
    code = 3 if kind == "package" and variant not in {"fifo", "dev-zero", "symlink-loop",
                                                      "directory"} else 2
    key = cli("ledger", "public-key").out.strip()  # the package is what gets refused, not it
    args = [key if arg == "{key}" else arg for arg in command(path)]
    line = assert_error(cli(*args), code, path)
    assert VARIANTS[variant][1].lower() in line.lower(), line
    assert state(home) == before


def test_every_file_flag_is_in_the_matrix() -> None:
    """A new file-taking flag must join FLAGS: the CLI reference lists them all."""
    reference = (Path(__file__).parents[2] / "docs" / "cli-reference.md").read_text()
    import re

    taken: set[str] = set()
    command = ""
    for line in reference.splitlines():
        if line.startswith("## `affidavit "):
            command = line[len("## `affidavit "):-1]
        match = re.match(r"- `(--[a-z-]+) (FILE|[A-Z_]*_FILE|PATH|DIR|PACKAGE|FILE_OR_GLOB)\b",
                         line) or re.match(r"- `(PATH|PACKAGE)` ", line)
        if match and match.group(1) not in {"--summary-file", "--outputs-file", "--out"}:
            taken.add(f"{command} {match.group(1)}")
    covered = set(FLAGS) | {f"{c} --attachments" for c in (
        "attest junit", "attest sarif", "attest snyk", "attest custom", "attest approval",
        "attest decision", "request approval", "attest artifact", "attest vulns",
        "attest coverage", "attest jira", "attest sonar", "attest sbom")} | {
        f"{c} --user-data" for c in ("attest junit", "attest sarif", "attest snyk",
                                     "attest custom", "attest decision", "request approval",
                                     "attest artifact", "attest vulns", "attest coverage",
                                     "attest jira", "attest sonar", "attest sbom")} | {
        f"{c} {flag}" for flag in ("--signing-key", "--sigstore-bundle") for c in (
            "attest junit", "attest sarif", "attest snyk", "attest custom", "attest approval",
            "attest decision", "request approval", "attest vulns", "attest coverage",
            "attest jira", "attest sonar", "attest sbom", "attest pullrequest")} | {
        "attest junit --results-dir",  # directories: test_unreadable.py and tests/test_walk.py
        "snapshot path --exclude"}  # patterns, not files
    assert taken <= covered, sorted(taken - covered)


def test_results_declaring_utf16_without_a_bom(cli: Cli, home: Home, trail: None,
                                               tmp_path: Path) -> None:
    report = tmp_path / "TEST-a.xml"
    report.write_bytes(b'<?xml version="1.0" encoding="UTF-16"?>\n'
                       b'<testsuite name="a" tests="1"><testcase name="x"/></testsuite>\n')
    before = state(home)
    assert_error(cli("attest", "junit", *ATTEST, "--results", report), 2, str(report),
                 "does not decode as its declared utf-16", "does not start with BOM")
    assert state(home) == before
