"""The SBOM policy (flags checked and shaped) and its verdict, a function of the predicate."""

from __future__ import annotations

from typing import Any

import pytest

from affidavit.compliance.judge import judge
from affidavit.compliance.sbom import denied_keys, sbom_policy, sbom_verdict
from affidavit.errors import InputError, UsageError


def predicate(policy: dict[str, Any], **summary: Any) -> dict[str, Any]:
    counts = {"components": 10, "with_license": 8, "without_license": 2,
              "missing": {"supplier": 3, "version": 0, "purl": 1}, "denied": 0, **summary}
    return {"summary": counts, "policy": policy,
            "denied_by_license": {"GPL-3.0-only": counts["denied"]} if counts["denied"] else {}}


def test_no_rule_is_compliant() -> None:
    assert sbom_verdict(predicate(sbom_policy())) == (True, [])


def test_each_rule_gives_its_reason() -> None:
    policy = sbom_policy(["GPL-3.0-only"], ["supplier", "version", "purl", "supplier"], 1)
    assert policy == {"deny_license": ["GPL-3.0-only"], "deny_license_ids": ["GPL-3.0-only"],
                      "require_fields": ["supplier", "version", "purl"],
                      "max_components_without_license": 1}
    ok, reasons = judge("sbom", "sbom", predicate(policy, denied=2))
    assert not ok
    assert reasons == [
        "2 components of 10 with a denied licence (GPL-3.0-only 2), --deny-license",
        "3 components of 10 without a supplier, --require-field supplier",
        "1 component of 10 without a purl, --require-field purl",
        "2 components of 10 without a licence, more than --max-components-without-license 1"]
    assert sbom_verdict(predicate(sbom_policy(max_components_without_license=2)))[0]


def test_deny_values_are_spdx_ids_or_expressions() -> None:
    policy = sbom_policy(["gpl-3.0-only OR AGPL-3.0-only", "GPL-2.0+", "LicenseRef-acme"])
    assert policy["deny_license_ids"] == ["AGPL-3.0-only", "GPL-2.0-or-later", "GPL-3.0-only",
                                          "LicenseRef-acme"]
    assert denied_keys(policy)["gpl-2.0-or-later"] == "GPL-2.0-or-later"


@pytest.mark.parametrize(("args", "needle"), [
    ((["GPL3"],), "GPL3 is not on the SPDX licence list"),
    ((["MIT OR"],), "not an SPDX licence identifier or expression"),
    (([" "],), "an empty value"),
    (((), ["licence"]), "'licence' is not one of supplier, version, purl"),
    (((), (), -1), "is not a whole number >= 0"),
])
def test_bad_flags_are_usage_errors(args: tuple[Any, ...], needle: str) -> None:
    with pytest.raises(UsageError) as caught:
        sbom_policy(*args)
    assert needle in caught.value.message


@pytest.mark.parametrize("broken", [
    lambda p: p.pop("policy"),
    lambda p: p["summary"].pop("missing"),
    lambda p: p["summary"].update(components=-1),
    lambda p: p["policy"].update(require_fields=["owner"]),
    lambda p: p["summary"].update(denied=1),  # denied, but the policy denies nothing
    lambda p: p["policy"].update(max_components_without_license="2"),
])
def test_a_predicate_it_cannot_read_is_an_input_error(broken: Any) -> None:
    found = predicate(sbom_policy(max_components_without_license=5))
    broken(found)
    with pytest.raises(InputError) as caught:
        judge("sbom", "sbom", found)
    assert "cannot judge its predicate" in caught.value.message
