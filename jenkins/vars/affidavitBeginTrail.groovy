import affidavit.jenkins.StepArgs

// affidavitBeginTrail(flow: 'backend', flowTemplateFile: '.affidavit/backend.yml')
// Starts (or updates) a trail with `affidavit begin trail [TRAIL]`, and with createFlow or
// flowTemplateFile creates or updates the flow too, idempotently, so a pipeline needs no manual
// first step. The core names the trail after the commit (GIT_COMMIT) unless 'trail' is given.
// Archives its markdown summary. Help: affidavitBeginTrail.txt.
def call(Map args = [:]) {
    Map defaults = [
        flow: null,             // --flow (AFFIDAVIT_FLOW)
        trail: null,            // the trail's name (TRAIL); the core defaults it to the commit
        description: null,      // --description: what the trail is about
        templateFile: null,     // --template-file: a template for this trail only, overriding the flow's
        createFlow: null,       // true: create the flow when it does not exist (--create-flow)
        flowTemplateFile: null, // --flow-template-file: the flow's template, recorded when it differs
        flowDescription: null,  // --flow-description: the flow's description, likewise
        dryRun: null,           // true: show what would be recorded, record nothing (--dry-run)
        ledger: null,           // --ledger URL; default .affidavit/ledger.db at the repo root
        credentialsId: null,    // secret-text credential, exposed to the CLI as AFFIDAVIT_API_TOKEN
        summary: null,          // markdown summary file; default affidavit-trail.md
        args: null,             // more CLI arguments: a String split like a shell would, or a List (one argument each)
    ]
    Map a = StepArgs.merge(this, 'affidavitBeginTrail', defaults, args)

    List<String> entries = ['AFFIDAVIT_OUTPUT=markdown']
    entries += StepArgs.option('AFFIDAVIT_FLOW', a.flow)
    entries += StepArgs.option('AFFIDAVIT_DESCRIPTION', a.description)
    entries += StepArgs.option('AFFIDAVIT_TEMPLATE_FILE', a.templateFile)
    entries += StepArgs.flag(this, 'affidavitBeginTrail', 'createFlow', 'AFFIDAVIT_CREATE_FLOW', a.createFlow)
    entries += StepArgs.option('AFFIDAVIT_FLOW_TEMPLATE_FILE', a.flowTemplateFile)
    entries += StepArgs.option('AFFIDAVIT_FLOW_DESCRIPTION', a.flowDescription)
    entries += StepArgs.flag(this, 'affidavitBeginTrail', 'dryRun', 'AFFIDAVIT_DRY_RUN', a.dryRun)
    entries += StepArgs.option('AFFIDAVIT_LEDGER', a.ledger)
    List words = ['begin', 'trail']
    if (a.trail != null) {
        words.add(a.trail)
    }
    entries += StepArgs.argv(this, 'affidavitBeginTrail', words, a.args)

    StepArgs.run(this, 'affidavit begin trail', entries, a.credentialsId, a.summary ?: 'affidavit-trail.md')
}
