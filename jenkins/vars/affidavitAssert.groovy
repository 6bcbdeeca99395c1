import affidavit.jenkins.StepArgs

// affidavitAssert(flow: 'backend')                       -- is this commit's trail compliant?
// affidavitAssert(subject: 'artifact', artifact: 'dist/app.tar.gz')
// affidavitAssert(subject: 'attestation', name: 'unit')
// Fails the build unless the ledger says compliant (`affidavit assert <subject>`); archives the
// markdown verdict, one line per reason, either way. Help: affidavitAssert.txt.
def call(Map args = [:]) {
    Map defaults = [
        subject: 'trail',    // trail | artifact | attestation
        flow: null,          // --flow (AFFIDAVIT_FLOW)
        trail: null,         // trail: its name (TRAIL); attestation: --trail. The core defaults it to the commit
        artifact: null,      // subject 'artifact': a SHA-256, or a file or directory to fingerprint (required)
        artifactType: null,  // subject 'artifact' given as a path: file or dir, or an image: oci or docker (--artifact-type)
        name: null,          // subject 'attestation': the attestation's name (required)
        ledger: null,        // --ledger URL; default .affidavit/ledger.db at the repo root
        credentialsId: null, // secret-text credential, exposed to the CLI as AFFIDAVIT_API_TOKEN
        summary: null,       // markdown verdict file; default affidavit-assert-<subject>.md
        args: null,          // more CLI arguments: a String split like a shell would, or a List (one argument each)
    ]
    Map a = StepArgs.merge(this, 'affidavitAssert', defaults, args)
    if (!(a.subject in ['trail', 'artifact', 'attestation'])) {
        error("affidavitAssert: 'subject' must be trail, artifact or attestation, not '${a.subject}'")
    }
    if (a.subject == 'artifact' && a.artifact == null) {
        error("affidavitAssert: 'artifact' is required with subject: 'artifact'")
    }
    if (a.subject == 'attestation' && a.name == null) {
        error("affidavitAssert: 'name' is required with subject: 'attestation'")
    }
    if (a.subject != 'artifact' && (a.artifact != null || a.artifactType != null)) {
        error("affidavitAssert: 'artifact' and 'artifactType' only go with subject: 'artifact'")
    }
    if (a.subject != 'attestation' && a.name != null) {
        error("affidavitAssert: 'name' only goes with subject: 'attestation'")
    }
    if (a.subject == 'artifact' && a.trail != null) {
        error("affidavitAssert: 'trail' does not go with subject: 'artifact' (it checks every trail of the artifact)")
    }

    List<String> entries = ['AFFIDAVIT_OUTPUT=markdown']
    entries += StepArgs.option('AFFIDAVIT_FLOW', a.flow)
    entries += StepArgs.option('AFFIDAVIT_ARTIFACT_TYPE', a.artifactType)
    entries += StepArgs.option('AFFIDAVIT_LEDGER', a.ledger)
    List words = ['assert', a.subject]
    if (a.subject == 'trail' && a.trail != null) {
        words.add(a.trail)
    }
    if (a.subject == 'attestation') {
        entries += StepArgs.option('AFFIDAVIT_TRAIL', a.trail)
        words.add(a.name)
    }
    if (a.subject == 'artifact') {
        words.add(a.artifact)
    }
    entries += StepArgs.argv(this, 'affidavitAssert', words, a.args)

    StepArgs.run(this, "affidavit assert ${a.subject}", entries, a.credentialsId, a.summary ?: "affidavit-assert-${a.subject}.md")
}
