import affidavit.jenkins.StepArgs

// affidavitAssert(flow: 'backend')                       -- is this commit's trail compliant?
// affidavitAssert(what: 'artifact', artifact: 'dist/app.tar.gz')
// affidavitAssert(what: 'attestation', name: 'unit')
// Fails the build unless the ledger says compliant (`affidavit assert <what>`); archives the
// markdown verdict either way. Help: affidavitAssert.txt.
def call(Map args = [:]) {
    Map defaults = [
        what: 'trail',       // trail | artifact | attestation
        flow: null,          // --flow (AFFIDAVIT_FLOW)
        trail: null,         // trail: its name (TRAIL); attestation: --trail. The core defaults it to the commit
        artifact: null,      // what 'artifact': a SHA-256, or a file or directory to fingerprint (required)
        name: null,          // what 'attestation': the attestation's name (required)
        ledger: null,        // --ledger URL; default .affidavit/ledger.db at the repo root
        credentialsId: null, // secret-text credential, exposed to the CLI as AFFIDAVIT_API_TOKEN
        summary: null,       // markdown verdict file; default affidavit-assert-<what>.md
        extraArgs: [],       // more CLI arguments: a List of strings, each one argv element
    ]
    Map a = StepArgs.merge(this, 'affidavitAssert', defaults, args)
    if (!(a.what in ['trail', 'artifact', 'attestation'])) {
        error("affidavitAssert: 'what' must be trail, artifact or attestation, not '${a.what}'")
    }
    if (a.what == 'artifact' && a.artifact == null) {
        error("affidavitAssert: 'artifact' is required with what: 'artifact'")
    }
    if (a.what == 'attestation' && a.name == null) {
        error("affidavitAssert: 'name' is required with what: 'attestation'")
    }
    if (a.what != 'artifact' && a.artifact != null) {
        error("affidavitAssert: 'artifact' only goes with what: 'artifact'")
    }
    if (a.what != 'attestation' && a.name != null) {
        error("affidavitAssert: 'name' only goes with what: 'attestation'")
    }
    if (a.what == 'artifact' && a.trail != null) {
        error("affidavitAssert: 'trail' does not go with what: 'artifact' (it checks every trail of the artifact)")
    }

    List<String> entries = ['AFFIDAVIT_OUTPUT=markdown']
    entries += StepArgs.option('AFFIDAVIT_FLOW', a.flow)
    entries += StepArgs.option('AFFIDAVIT_LEDGER', a.ledger)
    List words = ['assert', a.what]
    if (a.what == 'trail' && a.trail != null) {
        words.add(a.trail)
    }
    if (a.what == 'attestation') {
        entries += StepArgs.option('AFFIDAVIT_TRAIL', a.trail)
        words.add(a.name)
    }
    if (a.what == 'artifact') {
        words.add(a.artifact)
    }
    entries += StepArgs.argv(this, 'affidavitAssert', words, a.extraArgs)

    StepArgs.run(this, "affidavit assert ${a.what}", entries, a.credentialsId, a.summary ?: "affidavit-assert-${a.what}.md")
}
