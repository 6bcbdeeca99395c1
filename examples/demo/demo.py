"""End-to-end demo on the embedded ledger: `make demo` runs this.

It builds a throwaway git repository with a tiny "build", then drives the real `affidavit` CLI
the way a pipeline would: create a flow with a template, begin a trail for the commit, report the
artifact, attest its JUnit results and a security review with evidence files, package the trail's
evidence, verify the package offline with only the public key, audit the ledger, and print the
trail. Every command and its output is shown.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = """\
version: 1
trail:
  attestations:
    - name: security-review
      type: generic
  artifacts:
    - name: app
      attestations:
        - name: unit-tests
          type: junit
"""

JUNIT = """\
<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="app" tests="2" failures="0" errors="0" skipped="0" time="0.01">
  <testcase classname="app" name="test_greeting" time="0.004"/>
  <testcase classname="app" name="test_exit_code" time="0.006"/>
</testsuite>
"""


def run(*args: str, cwd: Path, env: dict[str, str], capture: bool = False) -> str:
    """Show a command, run it, show its output; stop the demo if it fails."""
    shown = " ".join(shlex.quote(a) for a in args)
    print(f"\n$ {shown}", flush=True)
    result = subprocess.run(args, cwd=cwd, env=env, text=True, capture_output=True)
    output = (result.stdout + result.stderr).rstrip()
    if output and not capture:
        print(output, flush=True)
    if result.returncode != 0:
        print(output)
        sys.exit(f"demo: `{shown}` exited {result.returncode}")
    return result.stdout.strip()


def main() -> None:
    cli = str(Path(sys.executable).parent / "affidavit")
    with tempfile.TemporaryDirectory(prefix="affidavit-demo-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        env = {**os.environ, "AFFIDAVIT_CACHE_DIR": f"{tmp}/cache",
               "GIT_AUTHOR_NAME": "Demo Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
               "GIT_COMMITTER_NAME": "Demo Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}
        env.pop("AFFIDAVIT_LEDGER", None)
        (repo / "app.py").write_text("print('hello from the demo')\n")
        (repo / "template.yml").write_text(TEMPLATE)
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
        subprocess.run(["git", "add", "."], cwd=repo, check=True, env=env)
        subprocess.run(["git", "commit", "-q", "-m", "Demo app"], cwd=repo, check=True, env=env)
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, text=True,
                                capture_output=True).stdout.strip()
        print(f"Throwaway repository {repo} at commit {commit}")

        # The "build": a tarball-like artifact and test results.
        dist = repo / "dist"
        dist.mkdir()
        (dist / "app.py").write_text((repo / "app.py").read_text())
        (dist / "VERSION").write_text("1.0.0\n")
        (repo / "TEST-app.xml").write_text(JUNIT)
        (repo / "review.md").write_text("Threat model reviewed; no new external inputs.\n")

        trail = commit
        run(cli, "create", "flow", "demo-app", "--description", "Demo delivery pipeline",
            "--template-file", "template.yml", cwd=repo, env=env)
        run(cli, "begin", "trail", trail, "--flow", "demo-app", "--description",
            "Demo commit", cwd=repo, env=env)
        run(cli, "get", "trail", trail, "--flow", "demo-app", cwd=repo, env=env)
        fingerprint = run(cli, "fingerprint", "dist", "--artifact-type", "dir", cwd=repo, env=env)
        run(cli, "attest", "artifact", "dist", "--artifact-type", "dir", "--flow", "demo-app",
            "--trail", trail, "--name", "app", "--commit", commit, cwd=repo, env=env)
        run(cli, "attest", "junit", "--flow", "demo-app", "--trail", trail, "--name",
            "unit-tests", "--fingerprint", fingerprint, "--results", "TEST-app.xml",
            "--annotate", "runner=demo", "--output", "markdown", cwd=repo, env=env)
        run(cli, "attest", "generic", "--flow", "demo-app", "--trail", trail, "--name",
            "security-review", "--attachments", "review.md", "--commit", commit,
            cwd=repo, env=env)
        run(cli, "evidence", "package", "--flow", "demo-app", "--trail", trail,
            "-o", f"{tmp}/evidence.zip", cwd=repo, env=env)
        key = run(cli, "ledger", "public-key", cwd=repo, env=env)
        run(cli, "verify", "package", f"{tmp}/evidence.zip", "--public-key", key,
            cwd=Path(tmp), env=env)
        run(cli, "verify", "ledger", cwd=repo, env=env)
        run(cli, "get", "trail", trail, "--flow", "demo-app", cwd=repo, env=env)
        print("\nPart 1 complete: the trail above is COMPLIANT and its evidence package "
              "verified.")
        team(cli, Path(tmp), env)
        print("\nDemo complete: both parts verified.")


def team(cli: str, tmp: Path, env: dict[str, str]) -> None:
    """Part 2: a team ledger. A local `affidavit server` on SQLite; two CI "jobs", each with
    its own machine state (cache), attest to one trail through it; the evidence package is
    then verified offline, with the server stopped, by its public key alone."""
    import socket
    import urllib.request

    print("\n--- Part 2: a shared team ledger behind `affidavit server` ---")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server_env = {**env, "AFFIDAVIT_CACHE_DIR": str(tmp / "server-cache")}
    print(f"\n$ affidavit server --ledger {tmp}/team.db --port {port} &", flush=True)
    server = subprocess.Popen([cli, "server", "--ledger", str(tmp / "team.db"), "--port",
                               str(port)], env=server_env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("demo: the server did not start")
        jobs = []
        for name in ("build-job", "test-job"):
            folder = tmp / name
            folder.mkdir()
            jobs.append((folder, {**env, "AFFIDAVIT_LEDGER": url,
                                  "AFFIDAVIT_CACHE_DIR": str(folder / "cache")}))
        (build, build_env), (tests, tests_env) = jobs
        (tests / "TEST-app.xml").write_text(JUNIT)
        run(cli, "create", "flow", "team-app", cwd=build, env=build_env)
        run(cli, "begin", "trail", "release-1", "--flow", "team-app", cwd=build, env=build_env)
        run(cli, "attest", "generic", "--flow", "team-app", "--trail", "release-1", "--name",
            "build", "--compliant", "true", cwd=build, env=build_env)
        run(cli, "attest", "junit", "--flow", "team-app", "--trail", "release-1", "--name",
            "unit-tests", "--results", "TEST-app.xml", cwd=tests, env=tests_env)
        run(cli, "assert", "trail", "release-1", "--flow", "team-app", cwd=tests, env=tests_env)
        run(cli, "evidence", "package", "--flow", "team-app", "--trail", "release-1", "-o",
            str(tmp / "team.zip"), cwd=build, env=build_env)
        key = run(cli, "ledger", "public-key", cwd=build, env=build_env)
    finally:
        server.terminate()
        server.wait()
    print("\n(the server is stopped: what follows needs only the package and the key)")
    run(cli, "verify", "package", str(tmp / "team.zip"), "--public-key", key, cwd=tmp, env=env)


if __name__ == "__main__":
    main()
