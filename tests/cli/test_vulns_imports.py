"""`attest vulns` loads no heavy module: what tests/cli/test_lazy_imports.py asks of
`attest sarif|snyk`, for the vulnerability reports (a pipeline runs it once per image)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_lazy_imports import NEVER, _run

FIXTURES = Path(__file__).resolve().parents[1] / "collect" / "scans" / "fixtures" / "vulns"


def test_attest_vulns_loads_no_heavy_module(tmp_path: Path) -> None:
    state = tmp_path / "state"
    codes, _ = _run([["create", "flow", "f"], ["begin", "trail", "t", "--flow", "f"]],
                    tmp_path, state)
    assert codes == [0, 0]
    for report in ("trivy-image.json", "grype-image.json"):
        codes, modules = _run([["attest", "vulns", "--flow", "f", "--trail", "t", "--name", "v",
                                "--scan-results", str(FIXTURES / report)]], tmp_path, state)
        assert codes == [0]
        assert [name for name in NEVER if name in modules] == [], report
