"""Every statement and predicate type URI affidavit writes, in one place (docs/predicates.md).

In-toto's own predicate types are used where one fits; the rest are the project's URIs.
"""

from __future__ import annotations

__all__ = [
    "STATEMENT_TYPE",
    "GENERIC",
    "ARTIFACT",
    "JUNIT",
    "JUNIT_V1",
    "SARIF",
    "SNYK",
    "SCAN_V1",
    "CUSTOM",
    "APPROVAL",
    "DECISION",
    "APPROVAL_REQUEST",
    "PULL_REQUEST",
    "SBOM",
    "COVERAGE",
    "VULNS",
    "JIRA",
    "SONAR",
    "PREDICATE_TYPES",
    "SIGNED_ATTESTATION",
]

#: in-toto Statement v1.
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"

#: What a signed attestation's DSSE envelope carries (``models.dsse``): a Statement about the
#: attestation's own subject whose predicate is the whole attestation record as recorded (its
#: name, target, statement, evidence with their commitments, annotations, user data, what was
#: redacted), so that the signature covers everything a verdict or an auditor relies on.
SIGNED_ATTESTATION = "https://affidavit.dev/predicate/signed-attestation/v1"

#: A generic yes/no claim (`attest generic`): predicate ``{"compliant": bool}``.
GENERIC = "https://affidavit.dev/predicate/generic/v1"
#: An artifact reported to a trail (`attest artifact`): predicate ``{"artifact_type", "filename"}``.
ARTIFACT = "https://affidavit.dev/predicate/artifact/v1"

#: JUnit XML test results (`attest junit`): counts, failing cases, files; see docs/predicates.md.
#: in-toto's test-result/v0.1 predicate has no room for counts or declared totals, hence ours.
#: v2 since retried tests are folded (summary ``failed``, ``flaky`` apart from ``passed``,
#: ``runs``; policy ``max_flaky``, ``retries``); v1 records stay readable and judged.
JUNIT = "https://affidavit.dev/predicate/junit/v2"
#: The JUnit predicate type before folding: never written any more, judged as before.
JUNIT_V1 = "https://affidavit.dev/predicate/junit/v1"
#: SARIF scan results from any producer (`attest sarif`): the one scan predicate (summary with
#: counts by severity and level, sources = runs, findings); see docs/predicates.md.
#: in-toto's vulns/v0.1 describes package vulnerabilities only, not code-scanning results.
#: v2 since the scan predicates share one shape; v1 records (``summary``/``runs``) stay
#: readable and are judged alike (both carry ``policy`` and ``actionable``).
SARIF = "https://affidavit.dev/predicate/sarif/v2"
#: Snyk results (`attest snyk`): the same scan predicate (summary with unique issues and paths,
#: sources = projects, findings = unique issues). v1 (``totals``/``projects``) as for SARIF.
SNYK = "https://affidavit.dev/predicate/snyk/v2"
#: The scan predicate types of earlier versions, still found in ledgers: Attestation type name
#: -> URI. Never written any more; judged as v2 is (compliance/judge.py).
SCAN_V1 = {"sarif": "https://affidavit.dev/predicate/sarif/v1",
           "snyk": "https://affidavit.dev/predicate/snyk/v1"}

#: Data of a user-defined type (`attest custom --type NAME`): the data, the type version it was
#: checked against, and each rule's outcome.
CUSTOM = "https://affidavit.dev/predicate/custom/v1"

#: A person's sign-off or refusal (`attest approval`): ``{approver, approved, reason?}``.
APPROVAL = "https://affidavit.dev/predicate/approval/v1"
#: A control's manual decision (`attest decision`): ``{control, compliant, reason}``.
DECISION = "https://affidavit.dev/predicate/decision/v1"
#: A pending request for approval (`request approval`): ``{approvers, reason?, requester?}``.
APPROVAL_REQUEST = "https://affidavit.dev/predicate/approval-request/v1"

#: The pull requests containing a commit, with every review and commit
#: (`attest pullrequest PROVIDER`): see collect/pullrequests/shape.py and docs/predicates.md.
PULL_REQUEST = "https://affidavit.dev/predicate/pull-request/v1"

#: A software bill of materials (`attest sbom`): CycloneDX or SPDX, its format and version,
#: component and licence counts, the licence policy; see collect/sbom and docs/predicates.md.
SBOM = "https://affidavit.dev/predicate/sbom/v1"
#: Code coverage (`attest coverage`): Cobertura, JaCoCo or lcov line and branch percentages,
#: per package, with the minimums asked; see collect/coverage and docs/predicates.md.
COVERAGE = "https://affidavit.dev/predicate/coverage/v1"
#: Trivy or Grype vulnerability reports in their own JSON (`attest vulns`): the one scan
#: predicate, each finding with its package, installed and fixed-in versions.
VULNS = "https://affidavit.dev/predicate/vulns/v1"
#: Jira issues named by the commit message or branch (`attest jira`), as Jira's REST API
#: reported them: key, summary, status, type.
JIRA = "https://affidavit.dev/predicate/jira/v1"
#: The SonarQube / SonarCloud quality gate of this commit's analysis (`attest sonar`).
SONAR = "https://affidavit.dev/predicate/sonar/v1"

#: Attestation type name -> predicate type URI.
PREDICATE_TYPES: dict[str, str] = {
    "generic": GENERIC,
    "artifact": ARTIFACT,
    "junit": JUNIT,
    "sarif": SARIF,
    "snyk": SNYK,
    "approval": APPROVAL,
    "decision": DECISION,
    "approval-request": APPROVAL_REQUEST,
    "pull_request": PULL_REQUEST,
    "sbom": SBOM,
    "coverage": COVERAGE,
    "vulns": VULNS,
    "jira": JIRA,
    "sonar": SONAR,
}
