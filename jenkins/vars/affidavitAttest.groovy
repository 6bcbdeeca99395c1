import affidavit.jenkins.StepArgs

// affidavitAttest(type: 'junit', name: 'unit', resultsDir: 'build/test-results')
// affidavitAttest(type: 'pullrequest', provider: 'github', repository: 'acme/shop', name: 'pr',
//                 requireApprovals: 1, providerCredentialsId: 'github-token')
// Records one attestation with `affidavit attest <type>` and archives its markdown summary.
// Argument mapping only: options reach the CLI through its own AFFIDAVIT_* variables (withEnv),
// never through shell text. Trail, commit and build URL default from GIT_COMMIT, BUILD_URL, ...
// in the core. The names are the GitHub/GitLab inputs' in camelCase. Help: affidavitAttest.txt.
def call(Map args = [:]) {
    Map defaults = [
        type: null,          // required: the `affidavit attest` noun (junit, sarif, snyk, vulns, sbom, coverage, jira, sonar, pullrequest, generic, artifact, ...)
        flow: null,          // --flow (AFFIDAVIT_FLOW)
        trail: null,         // --trail; the core defaults it to the commit
        name: null,          // --name: the attestation's (or artifact's) template name
        artifact: null,      // type 'artifact': the file or directory to fingerprint (PATH)
        artifactType: null,  // type 'artifact': file (default), dir, oci (image reference) or docker (local image) (--artifact-type)
        fingerprint: null,   // bind to this SHA-256 instead of the trail (--fingerprint)
        results: null,       // report files or globs, a List or a String: junit --results, sarif/snyk/vulns --scan-results, sbom --sbom-file, coverage --report
        resultsDir: null,    // junit: a directory, every *.xml below it (--results-dir)
        failOn: null,        // sarif/snyk/vulns: critical|high|medium|low|any|none (--fail-on)
        minLines: null,      // coverage: lowest line coverage in percent that is compliant (--min-lines)
        minBranches: null,   // coverage: lowest branch coverage in percent that is compliant (--min-branches)
        jiraBaseUrl: null,   // jira: the Jira site (--jira-base-url); credentials via withCredentials as AFFIDAVIT_JIRA_API_TOKEN / AFFIDAVIT_JIRA_PAT
        sonarUrl: null,      // sonar: the SonarQube server (--sonar-url); the token via withCredentials as AFFIDAVIT_SONAR_TOKEN
        customType: null,    // type 'custom': the type name (--type)
        provider: null,      // type 'pullrequest' (required): github, gitlab, bitbucket or azure (the PROVIDER word)
        repository: null,    // type 'pullrequest': the repository, e.g. 'acme/shop' (--repository; Jenkins gives no default)
        pr: null,            // type 'pullrequest': the pull request number (--pr); default CHANGE_ID (multibranch), else by commit
        baseUrl: null,       // type 'pullrequest': the provider's API root (--base-url), e.g. GitHub Enterprise's https://HOST/api/v3
        requireApprovals: null,    // type 'pullrequest': N approvals of the final head from non-authors (--require-approvals)
        allowStaleApprovals: null, // type 'pullrequest': true: approvals of an older head count too (--allow-stale-approvals)
        maxWait: null,       // type 'pullrequest': seconds to keep asking while no pull request has the commit yet (--max-wait)
        attachments: null,   // evidence files or directories, a List or a String (--attachments)
        annotate: null,      // KEY=VALUE annotations, a List or a String (--annotate)
        assert: null,        // true: fail the step when the attestation is not compliant (--assert)
        dryRun: null,        // true: show what would be recorded, record nothing (--dry-run)
        ledger: null,        // --ledger URL; default .affidavit/ledger.db at the repo root
        credentialsId: null, // secret-text credential, exposed to the CLI as AFFIDAVIT_API_TOKEN
        providerCredentialsId: null, // type 'pullrequest': secret-text credential with the provider's token, as AFFIDAVIT_TOKEN
        summary: null,       // markdown summary file; default affidavit-attest-<type>[-<name>].md
        args: null,          // more CLI arguments: a String split like a shell would, or a List (one argument each)
    ]
    Map a = StepArgs.merge(this, 'affidavitAttest', defaults, args)
    if (a.type == null) {
        error("affidavitAttest: 'type' is required (junit, sarif, snyk, vulns, sbom, coverage, jira, sonar, pullrequest, generic, artifact, custom, approval, decision)")
    }
    if (!(a.type ==~ /[a-z][a-z0-9-]*/)) {
        error("affidavitAttest: 'type' must be an attest noun such as junit, not '${a.type}'")
    }
    if (a.artifact != null && a.type != 'artifact') {
        error("affidavitAttest: 'artifact' is the path for type 'artifact'; use 'fingerprint' to bind a ${a.type} attestation to an artifact")
    }
    List pullRequestKeys = ['provider', 'repository', 'pr', 'baseUrl', 'requireApprovals',
                            'allowStaleApprovals', 'maxWait', 'providerCredentialsId']
    if (a.type == 'pullrequest') {
        if (!(a.provider?.toString() in ['github', 'gitlab', 'bitbucket', 'azure'])) {
            String given = a.provider == null ? '' : ", not '${a.provider}'"
            error("affidavitAttest: type 'pullrequest' needs 'provider': github, gitlab, bitbucket or azure${given}")
        }
        for (String key : ['pr', 'requireApprovals']) {
            if (a[key] != null && !(a[key].toString() ==~ /\d+/)) {
                error("affidavitAttest: '${key}' must be a whole number, not '${a[key]}'")
            }
        }
        if (a.maxWait != null && !(a.maxWait.toString() ==~ /\d+(\.\d+)?/)) {
            error("affidavitAttest: 'maxWait' must be a number of seconds, not '${a.maxWait}'")
        }
    } else {
        for (String key : pullRequestKeys) {
            if (a[key] != null) {
                error("affidavitAttest: '${key}' only goes with type 'pullrequest'")
            }
        }
    }
    if (a.results != null && a.resultsDir != null) {
        error("affidavitAttest: give 'results' (files or globs) or 'resultsDir' (a directory), not both")
    }

    List<String> entries = ['AFFIDAVIT_OUTPUT=markdown']
    entries += StepArgs.option('AFFIDAVIT_FLOW', a.flow)
    entries += StepArgs.option('AFFIDAVIT_TRAIL', a.trail)
    entries += StepArgs.option('AFFIDAVIT_NAME', a.name)
    entries += StepArgs.option('AFFIDAVIT_ARTIFACT_TYPE', a.artifactType)
    entries += StepArgs.option('AFFIDAVIT_FINGERPRINT', a.fingerprint)
    entries += StepArgs.list(this, 'affidavitAttest', 'results', 'AFFIDAVIT_RESULTS', a.results)
    entries += StepArgs.list(this, 'affidavitAttest', 'results', 'AFFIDAVIT_SCAN_RESULTS', a.results)
    entries += StepArgs.list(this, 'affidavitAttest', 'results', 'AFFIDAVIT_SBOM_FILE', a.results)
    entries += StepArgs.list(this, 'affidavitAttest', 'results', 'AFFIDAVIT_REPORT', a.results)
    entries += StepArgs.option('AFFIDAVIT_RESULTS_DIR', a.resultsDir)
    entries += StepArgs.option('AFFIDAVIT_FAIL_ON', a.failOn)
    entries += StepArgs.option('AFFIDAVIT_MIN_LINES', a.minLines)
    entries += StepArgs.option('AFFIDAVIT_MIN_BRANCHES', a.minBranches)
    entries += StepArgs.option('AFFIDAVIT_JIRA_BASE_URL', a.jiraBaseUrl)
    entries += StepArgs.option('AFFIDAVIT_SONAR_URL', a.sonarUrl)
    entries += StepArgs.option('AFFIDAVIT_TYPE', a.customType)
    entries += StepArgs.option('AFFIDAVIT_REPOSITORY', a.repository)
    entries += StepArgs.option('AFFIDAVIT_PR', a.pr)
    entries += StepArgs.option('AFFIDAVIT_BASE_URL', a.baseUrl)
    entries += StepArgs.option('AFFIDAVIT_REQUIRE_APPROVALS', a.requireApprovals)
    entries += StepArgs.flag(this, 'affidavitAttest', 'allowStaleApprovals', 'AFFIDAVIT_ALLOW_STALE_APPROVALS', a.allowStaleApprovals)
    entries += StepArgs.option('AFFIDAVIT_MAX_WAIT', a.maxWait)
    entries += StepArgs.list(this, 'affidavitAttest', 'attachments', 'AFFIDAVIT_ATTACHMENTS', a.attachments)
    entries += StepArgs.list(this, 'affidavitAttest', 'annotate', 'AFFIDAVIT_ANNOTATE', a.annotate)
    entries += StepArgs.flag(this, 'affidavitAttest', 'assert', 'AFFIDAVIT_ASSERT', a['assert'])
    entries += StepArgs.flag(this, 'affidavitAttest', 'dryRun', 'AFFIDAVIT_DRY_RUN', a.dryRun)
    entries += StepArgs.option('AFFIDAVIT_LEDGER', a.ledger)
    List words = ['attest', a.type]
    if (a.provider != null) {
        words.add(a.provider)
    }
    if (a.artifact != null) {
        words.add(a.artifact)
    }
    entries += StepArgs.argv(this, 'affidavitAttest', words, a.args)

    String summary = a.summary ?: "affidavit-attest-${a.type}${a.name == null ? '' : '-' + StepArgs.fileSafe(a.name)}.md"
    String label = "affidavit attest ${a.type}"
    if (a.providerCredentialsId == null) {
        StepArgs.run(this, label, entries, a.credentialsId, summary)
    } else {
        // The provider's token, for this command only, as the CLI's --token (AFFIDAVIT_TOKEN).
        withCredentials([string(credentialsId: a.providerCredentialsId, variable: 'AFFIDAVIT_TOKEN')]) {
            StepArgs.run(this, label, entries, a.credentialsId, summary)
        }
    }
}
