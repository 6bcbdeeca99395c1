"""``attest pullrequest`` and ``assert pullrequest`` end to end for GitLab, Bitbucket (Cloud and
Data Center) and Azure DevOps (Services and Server): the CLI against a local server answering
each provider's REST endpoints with the fixtures of tests/collect/pullrequests/ (served by the
helpers of the module tests beside them), insisting on the provider's auth header, and nothing
written on any error.

Each test runs once per provider form of :data:`SITES`, a table of what each fixture story
says; every expected value in it is written by hand from the fixtures."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer, RequestMatcher
from werkzeug import Request

from affidavit.collect.pullrequests import azure
from affidavit.models.pullrequests import PullRequestPredicate
from tests.collect.pullrequests import test_azure as az
from tests.collect.pullrequests import test_bitbucket as bb
from tests.collect.pullrequests import test_gitlab as gl
from tests.helpers import Result, assert_error, ok

pytestmark = pytest.mark.remote  # also over HTTP (tests/conftest.py)

Serve = Callable[[HTTPServer], None]


@dataclass(frozen=True)
class Site:
    """One provider form and its fixture story."""

    provider: str  # the CLI's PROVIDER word
    base: str  # the path of --base-url on the local server
    api: str  # the path of the API root the predicate records for it
    repository: str
    token: str  # in AFFIDAVIT_<PROVIDER>_TOKEN
    refused: Any  # the provider's 401 body for a request without the token's header
    refused_words: str
    # the pull request of the story, by number
    pr: int
    serve_pr: Serve
    state: str
    head: str
    url: str
    reviews: list[tuple[str | None, str]]  # (reviewer's display name, state), in order
    commits: list[str]  # oldest first
    short_of: int  # --require-approvals one more than its approvals that count
    why_short: str
    # another one, without an approval that counts
    unapproved: int
    serve_unapproved: Serve
    why_unapproved: str
    # the pull requests containing a commit
    commit: str
    serve_commit: Serve
    found: list[tuple[int, str, str]]  # (number, state, head)
    # a repository the provider does not know
    missing: str
    serve_missing: Serve
    missing_words: str
    cloud_host: bool = False  # Azure: the local server's host stands in for dev.azure.com

    @property
    def env(self) -> str:
        return f"AFFIDAVIT_{self.provider.upper()}_"

    @property
    def header(self) -> tuple[str, str]:
        """The auth header the token makes, which the server insists on."""
        if self.provider == "gitlab":
            return "PRIVATE-TOKEN", self.token
        if self.provider == "bitbucket":
            return "Authorization", f"Bearer {self.token}"
        return "Authorization", "Basic " + base64.b64encode(f":{self.token}".encode()).decode()


# -- GitLab, self-managed: project 4211 (acme/platform/payments) below http://HOST/ ----------

def _gitlab_9(httpserver: HTTPServer) -> None:
    gl.serve_mr(httpserver, 9, commits=[gl.fixture("merge_request_9_commits.json")],
                notes=[[]], versions=gl.fixture("merge_request_9_versions.json"),
                approvals=gl.fixture("merge_request_9_approvals.json"), reviewers=[])


def _gitlab_12(httpserver: HTTPServer) -> None:
    gl.serve_mr(httpserver, 12, commits=[gl.fixture("merge_request_12_commits.json")],
                notes=[gl.fixture("merge_request_12_notes.json")],
                versions=gl.fixture("merge_request_12_versions.json"),
                approvals=gl.fixture("merge_request_12_approvals.json"),
                reviewers=gl.fixture("merge_request_12_reviewers.json"))


def _gitlab_commit(httpserver: HTTPServer) -> None:
    gl.pages(httpserver, f"{gl.PROJECT}/repository/commits/{gl.C3}/merge_requests",
             [gl.fixture("commit_merge_requests_page1.json"),
              gl.fixture("commit_merge_requests_page2.json")])
    gl.serve_mr7(httpserver)
    _gitlab_9(httpserver)
    _gitlab_12(httpserver)


def _gitlab_missing(httpserver: HTTPServer) -> None:
    missing = "/api/v4/projects/acme/platform/nope"  # the server decodes the %2F
    for path in (f"{missing}/repository/commits/{gl.C3}/merge_requests", missing):
        httpserver.expect_request(path).respond_with_json(
            gl.fixture("error_404_project.json"), status=404)


GITLAB = Site(
    provider="gitlab", base="/", api="/api/v4", repository="4211",
    token="glpat-sekrit", refused=gl.fixture("error_401.json"),
    refused_words="401 Unauthorized",
    pr=7, serve_pr=gl.serve_mr7, state="merged", head=gl.C3,
    url="https://gitlab.example.com/acme/platform/payments/-/merge_requests/7",
    reviews=[("Alice Chen", "approved"), ("Bob Wright", "approved"),
             ("Bob Wright", "changes_requested"), ("Carol Diaz", "approved"),
             ("Carol Diaz", "dismissed"), ("Dave Novak", "approved"),
             ("Erin Okafor", "approved"), ("Frank Müller", "changes_requested")],
    commits=[gl.A1, gl.B2, gl.C3],
    short_of=2,
    why_short="pull request #7 has 1 approval of its final head c3d2e5fb1d46 from people "
              "other than its authors (dnovak), --require-approvals asks 2 (eokafor approved an "
              "older or unknown head; achen authored it or one of its commits; bwright, cdiaz "
              "withdrew or had dismissed an approval)",
    unapproved=12, serve_unapproved=_gitlab_12,
    why_unapproved="pull request #12 has 0 approvals of its final head c3d2e5fb1d46 from "
                   "people other than its authors, --require-approvals asks 1 (bwright withdrew "
                   "or had dismissed an approval)",
    commit=gl.C3, serve_commit=_gitlab_commit,
    found=[(7, "merged", gl.C3), (9, "draft", gl.F6), (12, "closed", gl.C3)],
    missing="acme/platform/nope", serve_missing=_gitlab_missing,
    missing_words="gitlab: unknown repository 'acme/platform/nope'")


# -- Bitbucket Cloud: northwind/billing-service below http://HOST/2.0 --------------------------

def _cloud_commit(httpserver: HTTPServer) -> None:
    bb.serve_cloud_commit(httpserver)
    bb.serve_cloud_42(httpserver)
    bb.serve_cloud_pull(httpserver, 43)
    bb.serve_cloud_pull(httpserver, 44)


def _cloud_missing(httpserver: HTTPServer) -> None:
    missing = "/2.0/repositories/northwind/billing-archive"
    for path in (f"{missing}/commit/{bb.C3}/pullrequests", missing):
        httpserver.expect_request(path).respond_with_json(
            bb.fixture("cloud_error_404_repository.json"), status=404)


BITBUCKET_CLOUD = Site(
    provider="bitbucket", base="/2.0", api="/2.0", repository=bb.REPOSITORY,
    token="ATCTT3xFfGN0-repository-token",
    refused=bb.fixture("cloud_error_401.json"),
    refused_words="Token is invalid, expired, or not supported for this endpoint.",
    pr=42, serve_pr=bb.serve_cloud_42, state="merged", head=bb.C3,
    url="https://bitbucket.org/northwind/billing-service/pull-requests/42",
    reviews=[("Tomás Herrera", "approved"), (None, "approved"), ("Mei Lin", "approved"),
             ("Mei Lin", "changes_requested"), ("Olu Adeyemi", "approved"),
             ("Sam Keller", "approved"), ("Sam Keller", "dismissed"),
             ("Nadia Petrova", "approved")],
    commits=[bb.C1, bb.C2, bb.C3],
    short_of=3,
    why_short=f"pull request #42 has 2 approvals of its final head c5d83e1fa20b from people "
              f"other than its authors ({bb.OLU['login']}, {bb.NADIA['login']}), "
              f"--require-approvals asks 3 ({bb.TOMAS['login']} approved an older or unknown "
              f"head; {bb.MEI['login']}, {bb.SAM['login']} withdrew or had dismissed an "
              "approval)",
    unapproved=43, serve_unapproved=lambda server: bb.serve_cloud_pull(server, 43),
    why_unapproved="pull request #43 has 0 approvals of its final head d9c46f2b3e81 from "
                   "people other than its authors, --require-approvals asks 1",
    commit=bb.C3, serve_commit=_cloud_commit,
    found=[(42, "merged", bb.C3), (43, "draft", bb.C4), (44, "closed", bb.C5)],
    missing="northwind/billing-archive", serve_missing=_cloud_missing,
    missing_words="bitbucket: unknown repository 'northwind/billing-archive'")


# -- Bitbucket Data Center: PAY/ledger at the root http://HOST/bitbucket ------------------------

def _dc_commit(httpserver: HTTPServer) -> None:
    bb.dc_pages(httpserver, f"{bb.DC}/commits/{bb.D3}/pull-requests",
                ["dc_commit_pull_requests_page1.json", "dc_commit_pull_requests_page2.json"])
    bb.serve_dc_7(httpserver)
    bb.serve_dc_pull(httpserver, 8)
    bb.serve_dc_pull(httpserver, 9)


def _dc_missing(httpserver: HTTPServer) -> None:
    missing = f"{bb.CONTEXT}/rest/api/1.0/projects/PAY/repos/ledger-archive"
    for path in (f"{missing}/commits/{bb.D3}/pull-requests", missing):
        httpserver.expect_request(path).respond_with_json(
            bb.fixture("dc_error_404_repository.json"), status=404)


BITBUCKET_DC = Site(
    provider="bitbucket", base=bb.CONTEXT, api=f"{bb.CONTEXT}/rest/api/1.0",
    repository=bb.PROJECT_REPO, token="BBDC-NzE4MDEwMDAwMDAwOmh0dHA",
    refused=bb.fixture("dc_error_401.json"),
    refused_words="Authentication failed. Please check your credentials and try again.",
    pr=7, serve_pr=bb.serve_dc_7, state="merged", head=bb.D3,
    url="https://git.example.com/bitbucket/projects/PAY/repos/ledger/pull-requests/7",
    reviews=[("Ravi Kumar", "approved"), ("Dana Weiss", "approved"), ("Ana Sousa", "approved"),
             ("Ana Sousa", "changes_requested"), ("Léo Martin", "approved"),
             ("Kim Park", "approved"), ("Kim Park", "dismissed"), ("Dana Weiss", "dismissed")],
    commits=[bb.D1, bb.D2, bb.D3],
    short_of=2,
    why_short="pull request #7 has 1 approval of its final head 3c4d5e6f7081 from people "
              "other than its authors (lmartin), --require-approvals asks 2 (rkumar approved an "
              "older or unknown head; asousa, dweiss, kpark withdrew or had dismissed an "
              "approval)",
    unapproved=8, serve_unapproved=lambda server: bb.serve_dc_pull(server, 8),
    why_unapproved="pull request #8 has 0 approvals of its final head 4d5e6f708192 from "
                   "people other than its authors, --require-approvals asks 1",
    commit=bb.D3, serve_commit=_dc_commit,
    found=[(7, "merged", bb.D3), (8, "draft", bb.D4), (9, "closed", bb.D5)],
    missing="PAY/ledger-archive", serve_missing=_dc_missing,
    missing_words="bitbucket: unknown repository 'PAY/ledger-archive'")


# -- Azure DevOps: Fabrikam Fiber/payments-api, in organization fabrikam below http://HOST/
#    (Services, api-version 7.1) or in the collection http://HOST/tfs/DefaultCollection
#    (Server, api-version 7.0) ----------------------------------------------------------------

def _azure_form(organization: str, repository: str, version: str) -> az.Form:
    """Where the module tests' helpers serve a repository (they read the prefix and the
    api-version only)."""
    return az.Form("served", "", repository,
                   f"{organization}/Fabrikam Fiber/_apis/git/repositories/{repository}", version)


def _azure_site(organization: str, version: str, repository: str, **more: Any) -> Site:
    form = _azure_form(organization, "payments-api", version)
    legacy = _azure_form(organization, "payments-legacy", version)

    def serve_commit(httpserver: HTTPServer) -> None:
        az.serve_query(httpserver, form, az.MERGE, az.fixture("pullrequestquery_merge_commit.json"))
        az.serve_2417(httpserver, form)

    def serve_missing(httpserver: HTTPServer) -> None:
        az.serve_query(httpserver, legacy, az.MERGE, az.fixture("error_404_repository.json"),
                       status=404)

    missing = repository.replace("payments-api", "payments-legacy")
    return Site(
        provider="azure", repository=repository, token=az.PAT,
        refused=az.fixture("error_401.json"),
        refused_words="TF400813: The user 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' is not "
                      "authorized to access this resource.",
        pr=2417, serve_pr=lambda server: az.serve_2417(server, form), state="merged",
        head=az.C3,
        url="https://dev.azure.com/fabrikam/Fabrikam%20Fiber/_git/payments-api/pullrequest/2417",
        reviews=[("Ben Okoro", "approved"), ("Farid Haddad", "changes_requested"),
                 ("Emma Schulz", "approved"), ("Emma Schulz", "dismissed"),
                 ("Chloé Martin", "approved"), ("Dev Patel", "approved_with_suggestions"),
                 ("Chloé Martin", "changes_requested"), ("Farid Haddad", "approved"),
                 ("Ana Silva", "approved")],
        commits=[az.C1, az.C2, az.C3],
        short_of=3,
        why_short="pull request #2417 has 2 approvals of its final head c5d3e7f9a1b4 from "
                  "people other than its authors (dev.patel@fabrikam.example, "
                  "farid.haddad@fabrikam.example), --require-approvals asks 3 "
                  "(ben.okoro@fabrikam.example approved an older or unknown head; "
                  "ana.silva@fabrikam.example authored it or one of its commits; "
                  "chloe.martin@fabrikam.example, emma.schulz@fabrikam.example withdrew or had "
                  "dismissed an approval)",
        unapproved=2421, serve_unapproved=lambda server: az.serve_pull(server, form, 2421),
        why_unapproved="pull request #2421 has 0 approvals of its final head 0a9b7c1f3e5d from "
                       "people other than its authors, --require-approvals asks 1 "
                       "(ben.okoro@fabrikam.example withdrew or had dismissed an approval)",
        commit=az.MERGE, serve_commit=serve_commit, found=[(2417, "merged", az.C3)],
        missing=missing, serve_missing=serve_missing,
        missing_words=f"azure: unknown repository '{missing}': TF401019", **more)


AZURE_SERVICES = _azure_site("/fabrikam", "7.1", f"fabrikam/{az.PROJECT_REPO}", base="/",
                             api="/", cloud_host=True)
AZURE_SERVER = _azure_site("/tfs/DefaultCollection", "7.0", az.PROJECT_REPO,
                           base="/tfs/DefaultCollection", api="/tfs/DefaultCollection")

SITES = {"gitlab": GITLAB, "bitbucket-cloud": BITBUCKET_CLOUD, "bitbucket-dc": BITBUCKET_DC,
         "azure-services": AZURE_SERVICES, "azure-server": AZURE_SERVER}


# -- the local server, the ledger, the commands ------------------------------------------------

class _WrongToken(RequestMatcher):
    """Any request without the token's auth header: answered 401 before any other handler."""

    def __init__(self, header: tuple[str, str]) -> None:
        super().__init__("/")
        self.name, self.value = header

    def match(self, request: Request) -> bool:
        return request.headers.get(self.name) != self.value


def _url(httpserver: HTTPServer, path: str) -> str:
    return httpserver.url_for(path).rstrip("/")


@pytest.fixture(params=list(SITES), ids=list(SITES))
def site(request: pytest.FixtureRequest, httpserver: HTTPServer,
         monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Site:
    """One provider form: its token in AFFIDAVIT_<PROVIDER>_TOKEN, and a server that refuses
    any request without the header that token makes."""
    chosen = SITES[str(request.param)]
    monkeypatch.chdir(tmp_path)  # the commits are the provider's, not this checkout's
    httpserver.no_handler_status_code = 599  # an unexpected request fails fast, unretried
    if chosen.cloud_host:
        monkeypatch.setattr(azure, "CLOUD_HOSTS", ("dev.azure.com", "localhost"))
    monkeypatch.setenv(chosen.env + "TOKEN", chosen.token)
    httpserver.expect(_WrongToken(chosen.header)).respond_with_json(chosen.refused, status=401)
    return chosen


@pytest.fixture
def attest(cli: Callable[..., Result], site: Site,
           httpserver: HTTPServer) -> Callable[..., Result]:
    """Flow ``demo`` and trail ``t1``; returns ``attest pullrequest PROVIDER`` with the trail's
    flags, the repository and the base URL."""
    ok(cli("create", "flow", "demo"))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))

    def run(*args: Any) -> Result:
        return cli("attest", "pullrequest", site.provider, "--flow", "demo", "--trail", "t1",
                   "--name", "review", "--repository", site.repository, "--base-url",
                   httpserver.url_for(site.base), *args)

    return run


def _gate(cli: Callable[..., Result], site: Site, httpserver: HTTPServer,
          *args: Any) -> Result:
    return cli("assert", "pullrequest", site.provider, "--repository", site.repository,
               "--base-url", httpserver.url_for(site.base), *args)


def _recorded(cli: Callable[..., Result]) -> dict[str, Any]:
    shown = ok(cli("get", "attestation", "review", "--flow", "demo", "--trail", "t1",
                   "--output", "json")).json()
    record: dict[str, Any] = shown["record"] if "record" in shown else shown["entry"]["record"]
    return record


def _entries(cli: Callable[..., Result]) -> int:
    return len(ok(cli("log", "ledger", "--output", "json")).json())


def _reviews(pull: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(r["reviewer"] and r["reviewer"]["name"], r["state"]) for r in pull["reviews"]]


# -- what is recorded --------------------------------------------------------------------------

def test_a_pull_request_by_number_is_recorded_whole(
        attest: Callable[..., Result], site: Site, httpserver: HTTPServer,
        cli: Callable[..., Result]) -> None:
    site.serve_pr(httpserver)
    result = ok(attest("--pr", site.pr, "--output", "json")).json()
    assert result["notes"] == [f"pull request #{site.pr} of {site.repository}"]
    record = result["entry"]["record"]
    assert record["type"] == "pull_request" and record["compliant"] is True
    assert record["statement"]["predicateType"] == (
        "https://affidavit.dev/predicate/pull-request/v1")
    predicate = record["statement"]["predicate"]
    PullRequestPredicate.model_validate(predicate)
    assert (predicate["provider"], predicate["base_url"], predicate["repository"],
            predicate["commit"]) == (site.provider, _url(httpserver, site.api),
                                     site.repository, None)
    assert predicate["lookup"] == {"by": "number", "polls": 1, "waited_seconds": 0.0}
    assert predicate["policy"] == {"require_approvals": None, "allow_stale_approvals": False}
    (pull,) = predicate["pull_requests"]
    assert (pull["provider"], pull["number"], pull["state"], pull["head"]["sha"],
            pull["url"]) == (site.provider, site.pr, site.state, site.head, site.url)
    assert _reviews(pull) == site.reviews
    assert [c["sha"] for c in pull["commits"]] == site.commits
    stored = _recorded(cli)
    assert stored["statement"]["predicate"] == predicate


def test_the_pull_requests_of_a_commit_are_recorded(
        attest: Callable[..., Result], site: Site, httpserver: HTTPServer,
        cli: Callable[..., Result]) -> None:
    site.serve_commit(httpserver)
    result = ok(attest("--commit", site.commit, "--max-wait", "0", "--output", "json")).json()
    numbers = ", ".join(f"#{number}" for number, _, _ in site.found)
    assert result["notes"] == [
        f"pull requests containing {site.commit[:12]} in {site.repository}: {numbers}"]
    predicate = result["entry"]["record"]["statement"]["predicate"]
    PullRequestPredicate.model_validate(predicate)
    assert (predicate["commit"], predicate["lookup"]) == (
        site.commit, {"by": "commit", "polls": 1, "waited_seconds": 0.0})
    assert [(p["number"], p["state"], p["head"]["sha"])
            for p in predicate["pull_requests"]] == site.found
    merged = next(p for p in predicate["pull_requests"] if p["number"] == site.pr)
    assert _reviews(merged) == site.reviews
    stored = _recorded(cli)
    assert [p["number"] for p in stored["statement"]["predicate"]["pull_requests"]] == [
        number for number, _, _ in site.found]


# -- the four-eyes rule ------------------------------------------------------------------------

def test_one_approval_of_the_final_head_is_compliant(
        attest: Callable[..., Result], site: Site, httpserver: HTTPServer,
        cli: Callable[..., Result]) -> None:
    site.serve_commit(httpserver)
    result = ok(attest("--pr", site.pr, "--require-approvals", "1", "--assert"))
    assert ": compliant" in result.out
    assert _recorded(cli)["statement"]["predicate"]["policy"] == {
        "require_approvals": 1, "allow_stale_approvals": False}
    gate = ok(_gate(cli, site, httpserver, "--commit", site.commit, "--max-wait", "0",
                    "--require-approvals", "1", "--output", "json")).json()
    assert (gate["compliant"], gate["reasons"]) == (True, [])
    assert [p["number"] for p in gate["pull_requests"]] == [n for n, _, _ in site.found]


def test_one_approval_short_is_not_compliant_and_says_whose_do_not_count(
        attest: Callable[..., Result], site: Site, httpserver: HTTPServer,
        cli: Callable[..., Result]) -> None:
    site.serve_pr(httpserver)
    result = attest("--pr", site.pr, "--require-approvals", site.short_of, "--assert")
    assert result.code == 1, str(result)
    assert ": NOT compliant" in result.out
    assert f"  - {site.why_short}" in result.out.splitlines()
    gate = _gate(cli, site, httpserver, "--pr", site.pr, "--require-approvals", site.short_of)
    assert gate.code == 1, str(gate)
    assert gate.out.splitlines()[-2:] == [
        f"NON_COMPLIANT: pull request of {site.provider} {site.repository}",
        f"  - {site.why_short}"]
    # each story has one approval of an older head, which counts when stale ones may
    ok(_gate(cli, site, httpserver, "--pr", site.pr, "--require-approvals", site.short_of,
             "--allow-stale-approvals"))


def test_a_pull_request_without_an_approval_that_counts_is_not_compliant(
        attest: Callable[..., Result], site: Site, httpserver: HTTPServer,
        cli: Callable[..., Result]) -> None:
    site.serve_unapproved(httpserver)
    result = attest("--pr", site.unapproved, "--require-approvals", "1", "--output", "json")
    shown = ok(result).json()
    assert shown["entry"]["record"]["compliant"] is False
    assert shown["reasons"] == [site.why_unapproved]
    gate = _gate(cli, site, httpserver, "--pr", site.unapproved, "--require-approvals", "1",
                 "--output", "json")
    assert gate.code == 1, str(gate)
    assert (gate.json()["compliant"], gate.json()["reasons"]) == (False, [site.why_unapproved])


# -- errors write nothing ----------------------------------------------------------------------

def test_a_bad_token_is_exit_3_with_the_providers_words_and_writes_nothing(
        attest: Callable[..., Result], site: Site, httpserver: HTTPServer,
        cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    site.serve_pr(httpserver)
    monkeypatch.setenv(site.env + "TOKEN", "expired-token")
    before = _entries(cli)
    assert_error(attest("--pr", site.pr), 3, f"{site.provider}: the token was refused",
                 "(HTTP 401)", site.refused_words)
    assert _entries(cli) == before
    assert_error(_gate(cli, site, httpserver, "--pr", site.pr), 3, site.refused_words)


def test_an_unknown_repository_is_exit_2_and_writes_nothing(
        attest: Callable[..., Result], site: Site, httpserver: HTTPServer,
        cli: Callable[..., Result]) -> None:
    site.serve_missing(httpserver)
    before = _entries(cli)
    assert_error(attest("--repository", site.missing, "--commit", site.commit, "--max-wait",
                        "0"), 2, site.missing_words)
    assert _entries(cli) == before


# -- the environment ---------------------------------------------------------------------------

def test_the_token_and_the_base_url_come_from_the_environment(
        cli: Callable[..., Result], site: Site, httpserver: HTTPServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    site.serve_pr(httpserver)
    ok(cli("create", "flow", "demo"))
    ok(cli("begin", "trail", "t1", "--flow", "demo"))
    monkeypatch.setenv(site.env + "BASE_URL", httpserver.url_for(site.base))
    result = ok(cli("attest", "pullrequest", site.provider, "--flow", "demo", "--trail", "t1",
                    "--name", "review", "--repository", site.repository, "--pr", site.pr,
                    "--output", "json")).json()
    predicate = result["entry"]["record"]["statement"]["predicate"]
    assert predicate["base_url"] == _url(httpserver, site.api)
    assert [p["number"] for p in predicate["pull_requests"]] == [site.pr]
    name, value = site.header
    assert httpserver.log and all(request.headers.get(name) == value
                                  for request, _ in httpserver.log)
    gate = ("assert", "pullrequest", site.provider, "--repository", site.repository, "--pr",
            site.pr)
    ok(cli(*gate))
    monkeypatch.delenv(site.env + "TOKEN")
    assert_error(cli(*gate), 3, "token was refused", site.refused_words)
