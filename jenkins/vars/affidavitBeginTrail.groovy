import affidavit.jenkins.StepArgs

// affidavitBeginTrail(flow: 'backend')
// Starts (or updates) a trail with `affidavit begin trail [TRAIL]`. The core names the trail after
// the commit (GIT_COMMIT) unless 'trail' is given. Help: affidavitBeginTrail.txt.
def call(Map args = [:]) {
    Map defaults = [
        flow: null,          // --flow (AFFIDAVIT_FLOW)
        trail: null,         // the trail's name (TRAIL); the core defaults it to the commit
        description: null,   // --description: what the trail is about
        templateFile: null,  // --template-file: a template overriding the flow's
        dryRun: null,        // true: show what would be recorded, record nothing (--dry-run)
        ledger: null,        // --ledger URL; default .affidavit/ledger.db at the repo root
        credentialsId: null, // secret-text credential, exposed to the CLI as AFFIDAVIT_API_TOKEN
        extraArgs: [],       // more CLI arguments: a List of strings, each one argv element
    ]
    Map a = StepArgs.merge(this, 'affidavitBeginTrail', defaults, args)

    List<String> entries = []
    entries += StepArgs.option('AFFIDAVIT_FLOW', a.flow)
    entries += StepArgs.option('AFFIDAVIT_DESCRIPTION', a.description)
    entries += StepArgs.option('AFFIDAVIT_TEMPLATE_FILE', a.templateFile)
    entries += StepArgs.flag(this, 'affidavitBeginTrail', 'dryRun', 'AFFIDAVIT_DRY_RUN', a.dryRun)
    entries += StepArgs.option('AFFIDAVIT_LEDGER', a.ledger)
    List words = ['begin', 'trail']
    if (a.trail != null) {
        words.add(a.trail)
    }
    entries += StepArgs.argv(this, 'affidavitBeginTrail', words, a.extraArgs)

    StepArgs.run(this, 'affidavit begin trail', entries, a.credentialsId, null)
}
