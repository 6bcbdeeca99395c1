"""Pull-request evidence: find the pull requests of a commit at its provider, judge, record.

The lookup is the same for ``attest pullrequest`` and ``assert pullrequest``; what the CI says
(the pull request being built, the repository, the API root, its job token) fills what the
caller leaves out, and what the caller gives wins.
"""

from __future__ import annotations

import os

from affidavit.api.record import CheckedClaim, Claim, Recorded, attest, check_claim
from affidavit.collect.pullrequests import PROVIDERS
from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from affidavit.ledger.base import Ledger

__all__ = ["PROVIDERS", "Lookup", "find_pull_requests", "attest_pullrequest",
           "assert_pullrequest"]



class Lookup:
    """Where and how to look: what the caller gave, completed from the CI."""

    __slots__ = ("provider", "repository", "number", "commit", "base_url", "token",
                 "username", "max_wait")

    def __init__(self, provider: str, *, repository: str | None = None,
                 number: int | None = None, commit: str | None = None,
                 base_url: str | None = None, token: str | None = None,
                 username: str | None = None, max_wait: float = 30.0,
                 env: Mapping[str, str] | None = None) -> None:
        from affidavit.collect.pullrequests import ci

        env = os.environ if env is None else env
        if provider not in PROVIDERS:
            raise UsageError(f"provider {provider!r} is not one of {', '.join(PROVIDERS)}")
        if number is not None and number < 0:
            raise UsageError(f"--pr {number} is not a pull request number")
        if max_wait < 0:
            raise UsageError(f"--max-wait {max_wait:g} is negative")
        self.provider = provider
        found_repository = repository or ci.repository(provider, env)
        if not found_repository or not found_repository.strip("/"):
            raise UsageError(f"the pull requests of {provider} need --repository (outside its "
                             "CI there is no default)")
        self.repository: str = found_repository.strip("/")
        self.number = number if number is not None else ci.pull_request_number(provider, env)
        self.commit = commit
        prefix = f"AFFIDAVIT_{provider.upper()}_"
        self.base_url = base_url or env.get(prefix + "BASE_URL") or ci.base_url(provider, env)
        found_token, found_user = ci.token(provider, env)
        self.token = token or found_token
        self.username = username or (found_user if not token else None)
        self.max_wait = max_wait


def find_pull_requests(lookup: Lookup) -> dict[str, Any]:
    """The predicate's facts (everything but its policy): the pull requests of
    ``lookup.number``, else those containing ``lookup.commit``, and how they were found."""
    from affidavit.collect.pullrequests import find, provider_module

    module = provider_module(lookup.provider)
    if lookup.number is None and not lookup.commit:
        raise UsageError("attest pullrequest needs --commit (outside CI there is no default) "
                         "or --pr")
    api = module.connect(lookup.base_url, lookup.token, lookup.username)
    try:
        found = find(module, api, lookup.repository, commit=lookup.commit, number=lookup.number,
                     max_wait=lookup.max_wait)
    finally:
        api.close()
    return {"provider": lookup.provider, "base_url": api.base_url,
            "repository": lookup.repository, "commit": lookup.commit,
            "lookup": {"by": "commit" if lookup.number is None else "number",
                       "polls": found.polls, "waited_seconds": found.waited},
            "pull_requests": found.pull_requests}


def _notes(predicate: Mapping[str, Any]) -> list[str]:
    found = predicate["lookup"]
    numbers = ", ".join(f"#{p['number']}" for p in predicate["pull_requests"]) or "none"
    if found["by"] == "number":
        return [f"pull request {numbers} of {predicate['repository']}"]
    waited = (f" after {found['waited_seconds']:g} s and {found['polls']} lookups"
              if found["polls"] > 1 else "")
    return [f"pull requests containing {str(predicate['commit'])[:12]} in "
            f"{predicate['repository']}: {numbers}{waited}"]


def attest_pullrequest(ledger: Ledger, claim: Claim | CheckedClaim, lookup: Lookup, *,
                       require_approvals: int | None = None,
                       allow_stale_approvals: bool = False) -> Recorded:
    """Record the pull requests of the claim's commit (or of ``lookup.number``), with every
    review and commit, judged by the four-eyes rule when ``require_approvals`` is given."""
    from affidavit.compliance.judge import pull_request_policy
    from affidavit.models.predicates import PULL_REQUEST

    policy = pull_request_policy(require_approvals, allow_stale_approvals)
    claim = check_claim(claim)
    if lookup.commit is None and claim.commit is not None:
        lookup.commit = str(claim.commit["sha"])
    predicate = find_pull_requests(lookup)
    predicate["policy"] = policy
    recorded = attest(ledger, claim, type="pull_request", predicate=predicate,
                      predicate_type=PULL_REQUEST)
    recorded.notes = _notes(predicate)
    return recorded


def assert_pullrequest(lookup: Lookup, *, require_approvals: int | None = None,
                       allow_stale_approvals: bool = False) -> dict[str, Any]:
    """Whether a pull request contains the commit (and has the approvals asked for), without
    recording anything: ``{compliant, reasons, notes, predicate}``, judged by the same judge
    an attestation of it would be."""
    from affidavit.compliance.judge import judge, pull_request_policy

    policy = pull_request_policy(require_approvals, allow_stale_approvals)
    predicate = find_pull_requests(lookup)
    predicate["policy"] = policy
    compliant, reasons = judge("pull_request", "pullrequest", predicate)
    return {"compliant": compliant, "reasons": reasons, "notes": _notes(predicate),
            "predicate": predicate}
