import affidavit.jenkins.StepArgs

// affidavitEvidencePackage(flow: 'backend')
// An auditor's copy: `affidavit evidence package` zips the trail's entries, their proofs, the
// signed checkpoint and the evidence files, and the build archives the zip (archiveArtifacts).
// The core packages this build's trail (GIT_COMMIT) unless 'trail' or 'fingerprint' is given.
// Help: affidavitEvidencePackage.txt.
def call(Map args = [:]) {
    Map defaults = [
        flow: null,          // --flow (AFFIDAVIT_FLOW)
        trail: null,         // --trail: the trail to package; the core defaults it to the commit
        fingerprint: null,   // --fingerprint: package this artifact with its trails instead
        out: null,           // --out: the zip file; default affidavit-evidence.zip
        ledger: null,        // --ledger URL; default .affidavit/ledger.db at the repo root
        credentialsId: null, // secret-text credential, exposed to the CLI as AFFIDAVIT_API_TOKEN
        args: null,          // more CLI arguments: a String split like a shell would, or a List (one argument each)
    ]
    Map a = StepArgs.merge(this, 'affidavitEvidencePackage', defaults, args)
    String out = a.out ?: 'affidavit-evidence.zip'

    List<String> entries = []
    entries += StepArgs.option('AFFIDAVIT_FLOW', a.flow)
    entries += StepArgs.option('AFFIDAVIT_TRAIL', a.trail)
    entries += StepArgs.option('AFFIDAVIT_FINGERPRINT', a.fingerprint)
    entries += StepArgs.option('AFFIDAVIT_OUT', out)
    entries += StepArgs.option('AFFIDAVIT_LEDGER', a.ledger)
    entries += StepArgs.argv(this, 'affidavitEvidencePackage', ['evidence', 'package'], a.args)

    StepArgs.run(this, 'affidavit evidence package', entries, a.credentialsId, null, out)
}
