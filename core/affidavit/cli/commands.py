"""The command tree as data, so that a call builds only the parser of the command it runs.

``TABLE[verb] = (help, {noun: (module:function, help)})``; a verb without nouns has the single
noun ``None``. The function adds the command's arguments and its ``handler``.
"""

from __future__ import annotations

__all__ = ["TABLE"]

Nouns = dict[str | None, tuple[str, str]]

TABLE: dict[str, tuple[str, Nouns]] = {
    "create": ("create a flow, an environment, a policy or an attestation type", {
        "flow": ("write:create_flow", "create a flow, or change its description or template"),
        "environment": ("environments:create_environment",
                        "create an environment (server, k8s, ..., logical)"),
        "policy": ("policies:create_policy", "a new version of an environment policy"),
        "webhook": ("environments:create_webhook",
                    "POST an environment's or a flow's events (signed JSON or Slack) "
                    "after each snapshot or trail write"),
        "attestation-type": ("custom:create_attestation_type",
                             "a custom type: JSON Schema of its data and compliance rules"),
    }),
    "join": ("join physical environments into a logical one", {
        "environment": ("environments:join_environment",
                        "add --physical environments to a logical one"),
    }),
    "snapshot": ("record what runs in an environment (only when it changed)", {
        "path": ("environments:snapshot_path", "one file or directory on a server"),
        "paths": ("environments:snapshot_paths", "the artifacts a paths file names"),
        "json": ("environments:snapshot_json", "a JSON list of {name, fingerprint} from any tool"),
        "k8s": ("environments:snapshot_k8s", "the images a Kubernetes cluster's pods run"),
        "docker": ("environments:snapshot_docker", "the images a Docker Engine runs"),
        "cloud-run": ("environments:snapshot_cloud_run",
                      "the images a Cloud Run region's services serve"),
        "ecs": ("environments:snapshot_ecs", "the images an ECS cluster's running tasks run"),
        "lambda": ("environments:snapshot_lambda", "every Lambda function, by code digest"),
        "s3": ("environments:snapshot_s3", "a bucket (or folder) as one artifact"),
    }),
    "attach": ("apply a policy to an environment", {
        "policy": ("policies:attach_policy", "the policy applies to --environment from now on"),
    }),
    "detach": ("stop applying a policy to an environment", {
        "policy": ("policies:detach_policy", "the policy no longer applies to --environment"),
    }),
    "evaluate": ("try a policy on what runs or on trails, recording nothing", {
        "snapshot": ("policies:evaluate_snapshot",
                     "the latest snapshot, or every one --since (what-if)"),
        "trail": ("policies:evaluate_trail", "one trail, by a policy file (exit 1: not allowed)"),
        "trails": ("policies:evaluate_trails", "every trail of a flow (or those named)"),
    }),
    "allow": ("let an artifact run in an environment without provenance", {
        "artifact": ("environments:allow_artifact", "allowlist a fingerprint, with a reason"),
    }),
    "expect": ("announce a deployment, from the pipeline making it", {
        "deployment": ("environments:expect_deployment",
                       "this fingerprint is being deployed to --environment"),
    }),
    "begin": ("begin a trail", {
        "trail": ("write:begin_trail", "begin a trail (idempotent; keeps fields not given)"),
    }),
    "attest": ("report an artifact or an attestation to a trail", {
        "artifact": ("write:attest_artifact", "report an artifact by its fingerprint"),
        "generic": ("write:attest_generic", "record a yes/no claim with evidence"),
        "junit": ("scans:attest_junit", "record JUnit XML test results"),
        "sarif": ("scans:attest_sarif", "record SARIF scan results from any scanner"),
        "snyk": ("scans:attest_snyk", "record Snyk scan results (JSON or Snyk Code SARIF)"),
        "vulns": ("vulns:attest_vulns",
                  "record a Trivy or Grype vulnerability report (their own JSON)"),
        "sbom": ("sbom:attest_sbom", "record a CycloneDX or SPDX SBOM: components, licences"),
        "coverage": ("coverage:attest_coverage",
                     "record code coverage (Cobertura, JaCoCo or lcov) against minimums"),
        "jira": ("jira:attest_jira", "record the Jira issues the commit message or branch names"),
        "sonar": ("sonar:attest_sonar", "record the SonarQube quality gate of this commit"),
        "pullrequest": ("pullrequests:attest_pullrequest",
                        "record the pull requests of a commit: reviews, commits, four eyes"),
        "custom": ("custom:attest_custom", "record data of a custom type, judged by its rules"),
        "approval": ("approvals:attest_approval", "a person approves (or --deny) the trail"),
        "decision": ("approvals:attest_decision", "a person's decision on a control, with why"),
    }),
    "get": ("show one flow, trail, artifact, attestation, environment or snapshot", {
        "flow": ("read:get_flow", "a flow and its trails"),
        "trail": ("read:get_trail", "a trail, its artifacts, attestations and verdict"),
        "artifact": ("read:get_artifact", "an artifact by fingerprint"),
        "attestation": ("read:get_attestation", "the latest report of an attestation"),
        "environment": ("environments:get_environment", "an environment and its snapshot count"),
        "policy": ("policies:get_policy", "a policy version's text"),
        "snapshot": ("environments:get_snapshot",
                     "what runs (ENV, ENV#N, ENV~N, ENV@{time}), with provenance"),
    }),
    "list": ("list flows, trails or environments", {
        "flows": ("read:list_flows", "every flow"),
        "environments": ("environments:list_environments", "every environment"),
        "policies": ("policies:list_policies", "every policy"),
        "trails": ("read:list_trails", "every trail of a flow, with its verdict"),
    }),
    "search": ("find artifacts and commits by SHA prefix", {None: ("read:search", "")}),
    "log": ("entries in log order", {
        "ledger": ("read:log_ledger", "every entry of the ledger"),
        "trail": ("read:log_trail", "a trail's history, with every change of its verdict"),
        "environment": ("environments:log_environment",
                        "an environment's snapshots: started, changed, exited"),
    }),
    "metrics": ("deployment frequency, lead time, change failure rate, time to restore",
                {None: ("metrics:metrics", "")}),
    "diff": ("compare two snapshots", {
        "snapshots": ("environments:diff_snapshots", "added, removed and changed artifacts"),
    }),
    "assert": ("exit 0 when compliant, 1 when not, with the reasons", {
        "trail": ("gate:assert_trail", "is the trail compliant?"),
        "artifact": ("gate:assert_artifact", "is the artifact compliant in its trails?"),
        "attestation": ("gate:assert_attestation", "is the latest report compliant?"),
        "approval": ("approvals:assert_approval", "approved? --wait blocks until decided"),
        "snapshot": ("policies:assert_snapshot",
                     "does what runs meet the environment's policies?"),
        "pullrequest": ("pullrequests:assert_pullrequest",
                        "does a pull request contain the commit (with the approvals asked)?"),
    }),
    "request": ("ask for something from inside a pipeline", {
        "approval": ("approvals:request_approval", "ask named people to approve the trail"),
    }),
    "fingerprint": ("print the SHA-256 fingerprint of an artifact",
                    {None: ("audit:fingerprint", "")}),
    "evidence": ("evidence vault and packages", {
        "get": ("audit:evidence_get", "copy an evidence file out of the vault"),
        "package": ("audit:evidence_package", "zip a trail's evidence with its proofs"),
    }),
    "verify": ("verify a package or a ledger", {
        "package": ("audit:verify_package", "verify an evidence package offline"),
        "ledger": ("audit:verify_ledger", "audit the whole ledger and its history"),
    }),
    "ledger": ("ledger key and indexes", {
        "init": ("audit:ledger_init", "create the ledger (a fresh origin; --reuse-key)"),
        "public-key": ("audit:ledger_public_key", "print the checkpoint verifier key"),
        "reindex": ("audit:ledger_reindex", "rebuild the indexes from the log"),
    }),
    "key": ("keys for signing attestations and sealing evidence", {
        "generate": ("keys:key_generate",
                     "an Ed25519 signing key, or with --encryption an age key"),
    }),
    "schema": ("print the JSON Schema of a record type", {None: ("audit:schema", "")}),
    "server": ("serve a ledger over HTTP to remote clients (pip install 'affidavit[server]')",
               {None: ("affidavit.server.command:serve", "")}),
    "ui": ("a local, read-only web viewer of a ledger (pip install 'affidavit[server]')",
           {None: ("affidavit.server.ui_command:serve", "")}),
    "witness": ("cosign checkpoints (C2SP tlog-witness), or get a ledger's cosigned", {
        "serve": ("affidavit.server.witness_command:serve",
                  "run a witness: cosign checkpoints that extend the last one it cosigned"),
        "add": ("witness:witness_add", "get the ledger's latest checkpoint cosigned"),
        "key": ("witness:witness_key", "generate: a new witness key, and its verifier key"),
    }),
    "mirror": ("copy a ledger to another backend and prove the copy consistent",
               {None: ("mirror:mirror", "")}),
    "ci": ("what the CI detection sees", {
        "env": ("ci:ci_env", "the provider, commit, build URL... detected from the environment"),
    }),
}
