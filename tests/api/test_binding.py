"""Binding attestations to artifacts by template name and commit (`--name app.unit --commit`),
in either order, and `get trail --explain` saying why a slot stays empty."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import SHOP_TEMPLATE as TEMPLATE
from tests.helpers import Cli

C1, C2 = "1" * 40, "2" * 40
FP1, FP2 = "a" * 64, "b" * 64



@pytest.fixture
def shop(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # not a checkout: commits are recorded by SHA only
    (tmp_path / "template.yml").write_text(TEMPLATE)
    assert cli("create", "flow", "shop", "--template-file", "template.yml").code == 0
    assert cli("begin", "trail", "t1", "--flow", "shop").code == 0
    assert cli("attest", "generic", "--flow", "shop", "--trail", "t1", "--name", "review").code == 0
    return cli


def _artifact(cli: Cli, fingerprint: str, commit: str) -> None:
    assert cli("attest", "artifact", "--fingerprint", fingerprint, "--flow", "shop", "--trail",
               "t1", "--name", "app", "--commit", commit).code == 0


def _unit(cli: Cli, commit: str, compliant: bool = True) -> None:
    result = cli("attest", "generic", "--flow", "shop", "--trail", "t1", "--name", "app.unit",
                 "--commit", commit, "--compliant", str(compliant).lower())
    assert result.code == 0, str(result)


def _status(cli: Cli) -> str:
    out: str = json.loads(cli("get", "trail", "t1", "--flow", "shop", "--output", "json").out)[
        "status"]
    return out


@pytest.mark.parametrize("attestation_first", [True, False])
def test_either_order_fills_the_slot(shop: Cli, attestation_first: bool) -> None:
    if attestation_first:
        _unit(shop, C1)
        assert _status(shop) == "INCOMPLETE"  # the artifact is not reported yet
        _artifact(shop, FP1, C1)
    else:
        _artifact(shop, FP1, C1)
        assert _status(shop) == "INCOMPLETE"
        _unit(shop, C1)
    assert _status(shop) == "COMPLIANT"
    assert shop("assert", "artifact", FP1).code == 0


def test_one_report_binds_every_artifact_of_that_name_and_commit(shop: Cli) -> None:
    _artifact(shop, FP1, C1)
    _artifact(shop, FP2, C1)
    _unit(shop, C1)
    assert _status(shop) == "COMPLIANT"
    _unit(shop, C1, compliant=False)  # the latest report wins for both
    assert _status(shop) == "NON_COMPLIANT"
    assert shop("assert", "artifact", FP2).code == 1


def test_a_report_for_another_commit_does_not_count(shop: Cli) -> None:
    _artifact(shop, FP1, C1)
    _unit(shop, C2)
    assert _status(shop) == "INCOMPLETE"
    rows = json.loads(shop("get", "trail", "t1", "--flow", "shop", "--explain", "--output",
                           "json").out)["explain"]
    unit = next(r for r in rows if r["name"] == "unit")
    assert unit["state"] == "MISSING"
    assert f"of commit {C2[:12]}, but this artifact was reported for commit {C1[:12]}" in (
        unit["why"])
    review = next(r for r in rows if r["name"] == "review")
    assert review["why"].startswith("filled by entry ")


def test_explain_names_the_nearest_miss(shop: Cli) -> None:
    _artifact(shop, FP1, C1)
    assert shop("attest", "generic", "--flow", "shop", "--trail", "t1", "--name", "unit").code == 0
    table = shop("get", "trail", "t1", "--flow", "shop", "--explain")
    assert table.code == 0
    assert "is bound to the trail, not to this artifact" in table.out
    assert shop("begin", "trail", "t2", "--flow", "shop").code == 0
    rows = json.loads(shop("get", "trail", "t2", "--flow", "shop", "--explain", "--output",
                           "json").out)["explain"]
    assert next(r for r in rows if r["name"] == "review")["why"] == (
        "reported in other trails of the flow only: t1")
    assert next(r for r in rows if r["name"] == "app")["why"] == (
        "no artifact was reported as 'app' in this trail")


def test_dotted_name_needs_a_commit(shop: Cli) -> None:
    result = shop("attest", "generic", "--flow", "shop", "--trail", "t1", "--name", "app.unit")
    assert result.code == 2 and "--commit" in result.err


# -- the verdict recomputed from a package's entries alone equals the recorded one ----------

_REPORT = st.one_of(
    st.tuples(st.just("artifact"), st.sampled_from([FP1, FP2]), st.sampled_from([C1, C2])),
    st.tuples(st.just("by-fingerprint"), st.sampled_from([FP1, FP2]), st.booleans()),
    st.tuples(st.just("by-name"), st.sampled_from([C1, C2]), st.booleans()),
    st.tuples(st.just("trail"), st.sampled_from(["review", "extra"]), st.booleans()),
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reports=st.lists(_REPORT, max_size=8))
def test_package_verdict_equals_the_ledger_verdict(tmp_path_factory: Any,
                                                   reports: list[tuple[Any, ...]]) -> None:
    from affidavit.api import query, record
    from affidavit.api.evidence import package as build_package
    from affidavit.ledger.sqlite import SQLiteLedger
    from affidavit.verify.package import verify_package

    folder = tmp_path_factory.mktemp("prop")
    (folder / "template.yml").write_text(TEMPLATE)
    ledger = SQLiteLedger(str(folder / "l.db"))
    record.create_flow(ledger, name="shop", template_file=str(folder / "template.yml"))
    record.begin_trail(ledger, flow="shop", name="t1")
    for kind, a, b in reports:
        if kind == "artifact":
            record.attest_artifact(ledger, flow="shop", trail="t1", name="app", fingerprint=a,
                                   commit=b)
        elif kind == "by-fingerprint":
            record.attest_generic(ledger, record.Claim(flow="shop", trail="t1", name="unit",
                                                       fingerprint=a), compliant=b)
        elif kind == "by-name":
            record.attest_generic(ledger, record.Claim(flow="shop", trail="t1", name="app.unit",
                                                       commit=a), compliant=b)
        else:
            record.attest_generic(ledger, record.Claim(flow="shop", trail="t1", name=a),
                                  compliant=b)
    recorded = query.trail_state(ledger, "shop", "t1")["status"]
    out = folder / "p.zip"
    build_package(ledger, flow="shop", trail="t1", out=out)
    result = verify_package(out, ledger.verifier_key())
    assert [{k: t[k] for k in ("flow", "trail", "status")} for t in result["trails"]] == [
        {"flow": "shop", "trail": "t1", "status": recorded}]
    ledger.close()
