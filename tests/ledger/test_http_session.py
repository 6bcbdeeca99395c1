"""The remote backend's session takes the proxy and CA settings from the environment once,
as requests would on every call: a proxy for the ledger's host is used, one NO_PROXY names is
bypassed, and a CA bundle from REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE is what TLS checks against."""

from __future__ import annotations

import pytest

from affidavit.ledger.http import HttpLedger


def test_the_environments_proxy_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = HttpLedger("https://ledger.example.com").session
    assert session.proxies.get("https") == "http://proxy.internal:3128"
    assert session.trust_env is False


def test_no_proxy_bypasses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "example.com")
    assert HttpLedger("https://ledger.example.com").session.proxies == {}


def test_a_ca_bundle_from_the_environment_is_verified_against(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/corporate.pem")
    assert HttpLedger("https://ledger.example.com").session.verify == "/etc/ssl/corporate.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/other.pem")
    assert HttpLedger("https://ledger.example.com").session.verify == "/etc/ssl/other.pem"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE")
    assert HttpLedger("https://ledger.example.com").session.verify is True
