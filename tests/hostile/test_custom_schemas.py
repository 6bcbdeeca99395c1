"""Hostile custom-type schemas and data fail closed: exit 2, one line, nothing written.

A schema is written by whoever runs ``create attestation-type`` and its data by every pipeline,
so neither may make affidavit fetch a URL or a file, hang on a backtracking regex, or recurse
until Python's stack gives out. Each case is refused when the type is created (the schema file
and the offending ``$ref`` or pattern named), and again at ``attest custom`` if a stored type
somehow holds it (the log is shared; a type may predate the check).
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Cli, Home, Result, assert_error, ok, state


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every GET with a schema that would accept anything, and remembers the path."""

    seen: list[str] = []  # noqa: RUF012  (reset per test by the fixture)

    def do_GET(self) -> None:  # noqa: N802  (the name http.server calls)
        type(self).seen.append(self.path)
        body = b'{"type": "object"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/schema+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """A schema server on 127.0.0.1: its URL and the paths requested from it."""
    _Recorder.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", _Recorder.seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _create(cli: Cli, tmp_path: Path, schema: object, name: str = "t") -> Result:
    path = tmp_path / "schema.json"
    path.write_text(schema if isinstance(schema, str) else json.dumps(schema))
    return cli("create", "attestation-type", name, "--schema", path)


def _refused(cli: Cli, home: Home, tmp_path: Path, schema: object, *needles: str) -> None:
    before = state(home)
    assert_error(_create(cli, tmp_path, schema), 2, str(tmp_path / "schema.json"), *needles)
    assert state(home) == before


def test_the_proof_server_answers(server: tuple[str, list[str]]) -> None:
    """The server the remote-ref test relies on does record a request when one is made."""
    import urllib.request

    url, seen = server
    with urllib.request.urlopen(f"{url}/probe.json") as response:  # noqa: S310
        assert json.loads(response.read()) == {"type": "object"}
    assert seen == ["/probe.json"]


def test_a_remote_ref_is_refused_and_never_fetched(
        cli: Cli, home: Home, tmp_path: Path, server: tuple[str, list[str]]) -> None:
    url, seen = server
    ref = f"{url}/remote.json"
    _refused(cli, home, tmp_path, {"properties": {"x": {"$ref": ref}}}, f"$ref '{ref}'")
    assert seen == []


def test_a_file_ref_is_refused(cli: Cli, home: Home, tmp_path: Path) -> None:
    target = tmp_path / "other.json"
    target.write_text('{"type": "object"}')  # exists and is valid: still never read
    ref = target.as_uri()
    _refused(cli, home, tmp_path, {"$ref": ref}, f"$ref '{ref}'", "does not resolve")
    _refused(cli, home, tmp_path, {"$ref": "other.json"}, "$ref 'other.json'")


def test_an_unresolvable_local_ref_is_refused(cli: Cli, home: Home, tmp_path: Path) -> None:
    schema = {"$defs": {"a": {"type": "integer"}},
              "properties": {"x": {"$ref": "#/$defs/missing"}}}
    _refused(cli, home, tmp_path, schema, "$ref '#/$defs/missing'", "does not resolve")


def test_a_ref_cycle_is_refused(cli: Cli, home: Home, tmp_path: Path) -> None:
    _refused(cli, home, tmp_path, {"$ref": "#"}, "$ref '#'", "cycle")
    schema = {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}},
              "properties": {"x": {"$ref": "#/$defs/a"}}}
    _refused(cli, home, tmp_path, schema, "$ref '#/$defs/", "cycle")


def test_recursion_through_data_is_not_a_cycle(cli: Cli, tmp_path: Path, trail: Any) -> None:
    """A tree schema refers to itself under ``items``: each step consumes data, so it is fine."""
    ok(_create(cli, tmp_path, {"type": "array", "items": {"$ref": "#"}}, name="tree"))
    data = tmp_path / "d.json"
    data.write_text("[[], [[]]]")
    ok(cli("attest", "custom", "--flow", trail[0], "--trail", trail[1], "--name", "n",
           "--type", "tree", "--attestation-data", data))
    data.write_text("[[], [1]]")
    assert_error(cli("attest", "custom", "--flow", trail[0], "--trail", trail[1], "--name",
                     "n", "--type", "tree", "--attestation-data", data), 2, "1/0")


def test_a_backtracking_only_pattern_is_refused(cli: Cli, home: Home, tmp_path: Path) -> None:
    _refused(cli, home, tmp_path, {"pattern": "^(a)\\1$"}, "pattern '^(a)\\\\1$'", "RE2")
    _refused(cli, home, tmp_path, {"patternProperties": {"(?=x)": True}}, "(?=x)", "RE2")


def _attest(cli: Cli, trail: Any, data: Path, type_name: str = "redos") -> Result:
    return cli("attest", "custom", "--flow", trail[0], "--trail", trail[1], "--name", "n",
               "--type", type_name, "--attestation-data", data)


def test_a_redos_pattern_is_checked_in_linear_time(
        cli: Cli, home: Home, tmp_path: Path, trail: Any) -> None:
    """``^(a+)+$`` against 50k ``a`` and a ``!`` would backtrack for ever in Python's re: RE2
    answers, and answers right (no match: exit 2; a matching string: recorded)."""
    schema = {"type": "object", "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}},
              "patternProperties": {"^(b+)+$": {"type": "integer"}},
              "additionalProperties": False}
    ok(_create(cli, tmp_path, schema, name="redos"))
    data = tmp_path / "d.json"
    before = state(home)
    data.write_text(json.dumps({"s": "a" * 50_000 + "!"}))
    assert_error(_attest(cli, trail, data), 2, "does not match '^(a+)+$'")
    data.write_text(json.dumps({"b" * 50_000 + "!": 1}))
    assert_error(_attest(cli, trail, data), 2, "not match any of the regexes")
    assert state(home) == before
    data.write_text(json.dumps({"s": "a" * 50_000, "b" * 50_000: 1}))
    ok(_attest(cli, trail, data))
    assert state(home).entries == before.entries + 1


def test_unevaluated_properties_beside_pattern_properties_is_refused(
        cli: Cli, home: Home, tmp_path: Path) -> None:
    schema = {"allOf": [{"patternProperties": {"^x": True}}], "unevaluatedProperties": False}
    _refused(cli, home, tmp_path, schema, "unevaluatedProperties", "patternProperties")


def test_deep_nesting_is_exit_2(cli: Cli, home: Home, tmp_path: Path, trail: Any) -> None:
    _refused(cli, home, tmp_path, _nested(100_000), "nested too deeply")
    deep_schema = '{"items": ' * 2_000 + "true" + "}" * 2_000  # parses; too deep to check
    _refused(cli, home, tmp_path, deep_schema, "nested too deeply")
    ok(_create(cli, tmp_path, {"items": {"$ref": "#"}}, name="tree"))
    data = tmp_path / "d.json"
    before = state(home)
    data.write_text(_nested(100_000))
    assert_error(_attest(cli, trail, data, "tree"), 2, "nested too deeply")
    data.write_text(_nested(900))  # parses, but the recursive schema outruns the stack
    assert_error(_attest(cli, trail, data, "tree"), 2, "nested too deeply")
    assert state(home) == before


@pytest.mark.parametrize(("schema", "needle"), [
    ({"$ref": "http://127.0.0.1:9/x.json"}, "$ref 'http://127.0.0.1:9/x.json'"),
    ({"$ref": "#"}, "cycle"),
    ({"pattern": "(?<=a)b"}, "RE2"),
])
def test_a_stored_type_is_checked_again_at_attest(
        cli: Cli, home: Home, tmp_path: Path, trail: Any, ledger: Any, schema: dict[str, Any],
        needle: str) -> None:
    """A type recorded without the creation check (an older release, another writer) is
    refused at ``attest custom`` too: defense in depth."""
    from affidavit.api.record import _append
    from affidavit.models import build

    record = build.attestation_type(name="old", schema=schema, rules=[], description=None)
    _append(ledger, build.entry("attestation_type", record), False)
    data = tmp_path / "d.json"
    data.write_text('"b"')
    before = state(home)
    assert_error(_attest(cli, trail, data, "old"), 2, needle)
    assert state(home) == before
