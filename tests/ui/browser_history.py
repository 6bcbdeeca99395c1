"""A scripted history for the web UI's browser tests (``tests/ui/test_browser.py``), made with
the real CLI: whatever runs ``affidavit ARGS`` in-process (the ``cli`` fixture, or the module's
own runner of the same ``main``) builds it in a second or two.

- flow ``shop`` (a template: a trail-level generic ``review``; artifact ``app`` with a JUnit
  ``unit``) and flow ``empty`` (no trails);
- trail ``v1``: compliant (passing tests, a signed review with an attachment);
- trail ``v2``: non-compliant; its JUnit report names a test ``<script>window.__xss=1</script>``
  whose failure message is an ``<img onerror>``, the attestation carries an ``<img onerror>``
  annotation and the trail's description is a ``<script>``;
- trail ``v3``: incomplete: its artifact has no ``unit`` (a missing slot), its signed review an
  attachment;
- environment ``prod`` (a hostile description): snapshot #1 runs v1, #2 runs v2 beside an
  artifact with a hostile name and no provenance, #3 is v1 again (a rollback); v1's and v2's
  deployments were expected first, so the metrics have deployments, failures and a restore.

The entries' times come from a :class:`Clock` the builder moves (``affidavit.models.build``'s,
as ``tests/cli/test_metrics.py`` sets it): the history spans the last two weeks, a day or so
between releases, and each artifact names a commit of a scratch repository (in ``folder``, the
working directory while it is built) authored a day before, so every metric has a value.

Every expectation a test checks comes from here (the files, the names) or from the CLI's own
answers (fingerprints, key id, verdicts), never from the UI's code.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import SHOP_JUNIT_TEMPLATE, Cli, Clock, Result, commit_at
from tests.helpers import ok as _ok

__all__ = ["Clock", "History", "build", "XSS_TEST_NAME", "XSS_MESSAGE", "XSS_ANNOTATION",
           "XSS_DESCRIPTION", "XSS_ENVIRONMENT", "XSS_ARTIFACT"]

FLOW = "shop"
ENVIRONMENT = "prod"
TEMPLATE = SHOP_JUNIT_TEMPLATE
XSS_TEST_NAME = "<script>window.__xss=1</script>"
XSS_MESSAGE = "<img src=x onerror=window.__xss=2>"
XSS_ANNOTATION = "<img src=x onerror=alert(3)>"
XSS_DESCRIPTION = "<script>window.__xss=4</script>"
XSS_ENVIRONMENT = "<svg onload=window.__xss=5>"
XSS_ARTIFACT = "<img src=x onerror=window.__xss=6>"


def _xml(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


PASSING = b'<testsuite name="s" tests="1"><testcase classname="c" name="ok"/></testsuite>\n'
HOSTILE = (f'<testsuite name="s" tests="2" failures="1"><testcase classname="c" '
           f'name="{_xml(XSS_TEST_NAME)}"><failure message="{_xml(XSS_MESSAGE)}">boom</failure>'
           f'</testcase><testcase classname="c" name="ok"/></testsuite>\n').encode()


DAY = 86_400


@dataclass
class History:
    """What the browser tests expect to find, and where the ledger is."""

    url: str
    folder: Path
    flow: str = FLOW
    environment: str = ENVIRONMENT
    #: trail -> the artifact ``app``'s fingerprint (as ``attest artifact`` answered)
    fingerprints: dict[str, str] = field(default_factory=dict)
    #: trail -> {evidence file name: its bytes}, every file attested to the trail
    evidence: dict[str, dict[str, bytes]] = field(default_factory=dict)
    #: snapshot number -> {artifact name: fingerprint} running in it
    snapshots: dict[int, dict[str, str]] = field(default_factory=dict)
    keyid: str = ""
    public_key: str = ""

    def fingerprint_of(self, data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()


def build(cli: Cli, folder: Path, ledger_url: str, clock: Clock) -> History:
    """Record the history in the ledger at ``ledger_url`` (the CLI's ``AFFIDAVIT_LEDGER``),
    with its files in ``folder`` (the working directory), the entries timed by ``clock``:
    day 0 the flows and the environment, v1 on day 1 (running from day 2), v2 on day 4
    (running from day 5, failed on arrival), the rollback to v1 on day 6, v3 on day 7."""
    history = History(url=ledger_url, folder=folder)
    start = clock.now = time.time() - 14 * DAY

    def at(days: float) -> None:
        clock.now = start + days * DAY

    def ok(result: Result) -> Result:
        clock.now += 60  # a minute a command
        return _ok(result)

    (folder / "template.yml").write_text(TEMPLATE)
    ok(cli("create", "flow", FLOW, "--template-file", folder / "template.yml",
           "--description", "the web shop"))
    ok(cli("create", "flow", "empty", "--description", "nothing begun yet"))
    ok(cli("create", "environment", ENVIRONMENT, "--type", "server", "--description",
           XSS_ENVIRONMENT))
    made = ok(cli("key", "generate", "--out", folder / "sign.pem")).out
    history.keyid = next(line.split()[-1] for line in made.splitlines()
                         if line.startswith("key id"))

    def release(trail: str, day: float) -> None:
        commit = commit_at(folder, start + (day - 1) * DAY, f"release at day {day}")
        at(day)
        ok(cli("begin", "trail", trail, "--flow", FLOW, "--description",
               XSS_DESCRIPTION if trail == "v2" else f"release {trail}"))
        binary = folder / f"app-{trail}.bin"
        binary.write_text(f"the app, {trail}\n")
        out = ok(cli("attest", "artifact", binary, "--flow", FLOW, "--trail", trail,
                     "--name", "app", "--commit", commit, "--output", "json")).json()
        fingerprint = history.fingerprints[trail] = out["entry"]["record"]["fingerprint"]
        evidence = history.evidence[trail] = {}
        report = {"v1": ("pass.xml", PASSING), "v2": ("hostile.xml", HOSTILE)}.get(trail)
        if report:  # v3 never reports its tests: the missing slot
            name, data = report
            (folder / name).write_bytes(data)
            evidence[name] = data
            ok(cli("attest", "junit", "--flow", FLOW, "--trail", trail, "--name", "unit",
                   "--fingerprint", fingerprint, "--results", folder / name,
                   "--annotate", f"note={XSS_ANNOTATION}"))
        notes = f"notes-{trail}.txt"
        (folder / notes).write_text(f"release notes of {trail}\n")
        evidence[notes] = (folder / notes).read_bytes()
        ok(cli("attest", "generic", "--flow", FLOW, "--trail", trail, "--name", "review",
               "--signing-key", folder / "sign.pem", "--attachments", folder / notes))

    def deploy(number: int, day: float, running: dict[str, str], expected: str | None) -> None:
        """Snapshot ``number``: ``running`` (artifact name -> file), announced first when
        ``expected`` names the trail deploying it."""
        at(day - 0.01)
        if expected:
            ok(cli("expect", "deployment", history.fingerprints[expected], "--environment",
                   ENVIRONMENT, "--flow", FLOW, "--trail", expected))
        at(day)
        spec = folder / f"paths-{number}.yml"
        spec.write_text(json.dumps({"version": 1, "artifacts": {
            name: {"path": str(folder / file)} for name, file in running.items()}}))
        out = ok(cli("snapshot", "paths", ENVIRONMENT, "--paths-file", spec)).out
        assert out.startswith(f"{ENVIRONMENT}#{number} "), out
        history.snapshots[number] = {name: history.fingerprint_of((folder / file).read_bytes())
                                     for name, file in running.items()}

    (folder / "stray.bin").write_text("nobody attested this\n")
    release("v1", 1)
    deploy(1, 2, {"app": "app-v1.bin"}, "v1")
    release("v2", 4)
    deploy(2, 5, {"app": "app-v2.bin", XSS_ARTIFACT: "stray.bin"}, "v2")
    deploy(3, 6, {"app": "app-v1.bin"}, None)  # the rollback, unannounced
    release("v3", 7)
    clock.now = time.time()
    history.public_key = ok(cli("ledger", "public-key")).out.strip()
    return history
