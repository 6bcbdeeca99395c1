import affidavit.jenkins.StepArgs

// affidavitAttest(type: 'junit', name: 'unit', resultsDir: 'build/test-results')
// Records one attestation with `affidavit attest <type>` and archives its markdown summary.
// Argument mapping only: options reach the CLI through its own AFFIDAVIT_* variables (withEnv),
// never through shell text. Trail, commit and build URL default from GIT_COMMIT, BUILD_URL, ...
// in the core. The names are the GitHub/GitLab inputs' in camelCase. Help: affidavitAttest.txt.
def call(Map args = [:]) {
    Map defaults = [
        type: null,          // required: the `affidavit attest` noun (junit, sarif, snyk, generic, artifact, ...)
        flow: null,          // --flow (AFFIDAVIT_FLOW)
        trail: null,         // --trail; the core defaults it to the commit
        name: null,          // --name: the attestation's (or artifact's) template name
        artifact: null,      // type 'artifact': the file or directory to fingerprint (PATH)
        artifactType: null,  // type 'artifact': file (default) or dir (--artifact-type)
        fingerprint: null,   // bind to this SHA-256 instead of the trail (--fingerprint)
        results: null,       // report files or globs, a List or a String: junit --results, sarif/snyk --scan-results
        resultsDir: null,    // junit: a directory, every *.xml below it (--results-dir)
        failOn: null,        // sarif/snyk: critical|high|medium|low|any|none (--fail-on)
        customType: null,    // type 'custom': the type name (--type)
        attachments: null,   // evidence files or directories, a List or a String (--attachments)
        annotate: null,      // KEY=VALUE annotations, a List or a String (--annotate)
        assert: null,        // true: fail the step when the attestation is not compliant (--assert)
        dryRun: null,        // true: show what would be recorded, record nothing (--dry-run)
        ledger: null,        // --ledger URL; default .affidavit/ledger.db at the repo root
        credentialsId: null, // secret-text credential, exposed to the CLI as AFFIDAVIT_API_TOKEN
        summary: null,       // markdown summary file; default affidavit-attest-<type>[-<name>].md
        args: null,          // more CLI arguments: a String split like a shell would, or a List (one argument each)
    ]
    Map a = StepArgs.merge(this, 'affidavitAttest', defaults, args)
    if (a.type == null) {
        error("affidavitAttest: 'type' is required (junit, sarif, snyk, generic, artifact, custom, approval, decision)")
    }
    if (!(a.type ==~ /[a-z][a-z0-9-]*/)) {
        error("affidavitAttest: 'type' must be an attest noun such as junit, not '${a.type}'")
    }
    if (a.artifact != null && a.type != 'artifact') {
        error("affidavitAttest: 'artifact' is the path for type 'artifact'; use 'fingerprint' to bind a ${a.type} attestation to an artifact")
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
    entries += StepArgs.option('AFFIDAVIT_RESULTS_DIR', a.resultsDir)
    entries += StepArgs.option('AFFIDAVIT_FAIL_ON', a.failOn)
    entries += StepArgs.option('AFFIDAVIT_TYPE', a.customType)
    entries += StepArgs.list(this, 'affidavitAttest', 'attachments', 'AFFIDAVIT_ATTACHMENTS', a.attachments)
    entries += StepArgs.list(this, 'affidavitAttest', 'annotate', 'AFFIDAVIT_ANNOTATE', a.annotate)
    entries += StepArgs.flag(this, 'affidavitAttest', 'assert', 'AFFIDAVIT_ASSERT', a['assert'])
    entries += StepArgs.flag(this, 'affidavitAttest', 'dryRun', 'AFFIDAVIT_DRY_RUN', a.dryRun)
    entries += StepArgs.option('AFFIDAVIT_LEDGER', a.ledger)
    List words = ['attest', a.type]
    if (a.artifact != null) {
        words.add(a.artifact)
    }
    entries += StepArgs.argv(this, 'affidavitAttest', words, a.args)

    String summary = a.summary ?: "affidavit-attest-${a.type}${a.name == null ? '' : '-' + StepArgs.fileSafe(a.name)}.md"
    StepArgs.run(this, "affidavit attest ${a.type}", entries, a.credentialsId, summary)
}
