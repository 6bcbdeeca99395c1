import affidavit.jenkins.StepArgs

// affidavitSnapshot(source: 'path', environment: 'production', environmentType: 'server',
//                   name: 'shop', path: '/srv/shop/shop.tar.gz', assert: true)
// affidavitSnapshot(source: 'k8s', environment: 'prod-k8s', namespace: ['shop', 'payments'])
// Records what an environment runs with `affidavit snapshot <source> ENV` (a new snapshot only
// when the running set changed) and archives its report. With environmentType,
// `affidavit create environment ENV --type T` runs first (the first build creates it, later ones
// record nothing); with assert: true, `affidavit assert snapshot ENV` runs after it and fails the
// step unless the snapshot meets the environment's policies. Argument mapping only: options
// reach the CLI through its own AFFIDAVIT_* variables (withEnv), never through shell text. The
// names are the GitHub/GitLab inputs' in camelCase. Help: affidavitSnapshot.txt.
def call(Map args = [:]) {
    Map defaults = [
        source: null,           // required: path, paths, json, k8s, docker, ecs, lambda, s3 or cloud-run (the `snapshot` noun)
        environment: null,      // required: the environment's name (ENV)
        environmentType: null,  // server, k8s, ecs, lambda, s3, docker or cloud-run: create the environment first (--type)
        name: null,             // source 'path': the artifact's name (--name)
        path: null,             // source 'path': the file or directory that runs (--path)
        exclude: null,          // source 'path': files left out of a directory, a List or a String; 's3': a regular expression (--exclude)
        pathsFile: null,        // source 'paths': the YAML file of every artifact and its path (--paths-file)
        file: null,             // source 'json': the JSON list of running artifacts (--file)
        namespace: null,        // source 'k8s': only these namespaces, a List or a String (--namespace)
        excludeNamespace: null, // source 'k8s': every namespace but these, a List or a String (--exclude-namespace)
        kubeconfig: null,       // source 'k8s': the cluster's kubeconfig (--kubeconfig)
        context: null,          // source 'k8s': the kubeconfig context (--context)
        dockerHost: null,       // source 'docker': the Docker Engine, e.g. tcp://host:2376 (--docker-host)
        cluster: null,          // source 'ecs': cluster names or ARNs, a List or a String (--cluster)
        serviceNames: null,     // source 'ecs': only these services' tasks, a List or a String (--service-names)
        functionNames: null,    // source 'lambda': only these functions, a List or a String (--function-names)
        bucket: null,           // source 's3': the bucket (--bucket)
        prefix: null,           // source 's3': only this folder of it (--prefix)
        include: null,          // source 's3': only keys matching this regular expression (--include)
        project: null,          // source 'cloud-run': the Google Cloud project id (--project)
        region: null,           // source 'cloud-run': the region, e.g. europe-west1 (--region)
        baseUrl: null,          // source 'cloud-run': the Admin API root (--base-url)
        accessTokenCredentialsId: null, // source 'cloud-run': secret-text credential with an OAuth access token, as AFFIDAVIT_ACCESS_TOKEN
        assert: null,           // true: then `affidavit assert snapshot ENV`; the step fails unless the snapshot meets the policies
        dryRun: null,           // true: show what would be recorded, record nothing (--dry-run)
        ledger: null,           // --ledger URL; default .affidavit/ledger.db at the repo root
        credentialsId: null,    // secret-text credential, exposed to the CLI as AFFIDAVIT_API_TOKEN
        summary: null,          // the snapshot's report file; default affidavit-snapshot-<environment>.md
        args: null,             // more arguments of the snapshot command: a String split like a shell would, or a List (one argument each)
    ]
    Map a = StepArgs.merge(this, 'affidavitSnapshot', defaults, args)
    // Each source's own arguments; another source's are an error, never silently unread.
    List sources = ['path', 'paths', 'json', 'k8s', 'docker', 'ecs', 'lambda', 's3', 'cloud-run']
    Map sourceKeys = [
        'path': ['name', 'path', 'exclude'],
        'paths': ['pathsFile'],
        'json': ['file'],
        'k8s': ['namespace', 'excludeNamespace', 'kubeconfig', 'context'],
        'docker': ['dockerHost'],
        'ecs': ['cluster', 'serviceNames'],
        'lambda': ['functionNames'],
        's3': ['bucket', 'prefix', 'include', 'exclude'],
        'cloud-run': ['project', 'region', 'baseUrl', 'accessTokenCredentialsId'],
    ]
    if (a.source == null) {
        error("affidavitSnapshot: 'source' is required (${sources.join(', ')})")
    }
    if (!(a.source.toString() in sources)) {
        error("affidavitSnapshot: 'source' must be one of ${sources.join(', ')}, not '${a.source}'")
    }
    if (a.environment == null) {
        error("affidavitSnapshot: 'environment' is required")
    }
    List types = ['server', 'k8s', 'ecs', 'lambda', 's3', 'docker', 'cloud-run']
    if (a.environmentType != null && !(a.environmentType.toString() in types)) {
        error("affidavitSnapshot: 'environmentType' must be ${types.join(', ')}, not '${a.environmentType}'")
    }
    for (String src : sources) {
        for (String key : sourceKeys[src]) {
            if (a[key] != null && !(key in sourceKeys[a.source.toString()])) {
                List owners = []
                for (String owner : sources) {
                    if (key in sourceKeys[owner]) {
                        owners.add(owner)
                    }
                }
                error("affidavitSnapshot: '${key}' is for source ${owners.join(' or ')}, not '${a.source}'")
            }
        }
    }
    for (String key : ['assert', 'dryRun']) {
        if (a[key] != null && !(a[key] instanceof Boolean)) {
            error("affidavitSnapshot: '${key}' must be true or false, not '${a[key]}'")
        }
    }

    // The snapshot's options, checked (like every argument) before anything runs.
    List<String> entries = ['AFFIDAVIT_OUTPUT=table']
    entries += StepArgs.option('AFFIDAVIT_NAME', a.name)
    entries += StepArgs.option('AFFIDAVIT_PATH', a.path)
    if (a.source == 'path') {
        entries += StepArgs.list(this, 'affidavitSnapshot', 'exclude', 'AFFIDAVIT_EXCLUDE', a.exclude)
    } else {
        entries += StepArgs.option('AFFIDAVIT_EXCLUDE', a.exclude)  // s3: one regular expression
    }
    entries += StepArgs.option('AFFIDAVIT_PATHS_FILE', a.pathsFile)
    entries += StepArgs.option('AFFIDAVIT_FILE', a.file)
    entries += StepArgs.list(this, 'affidavitSnapshot', 'namespace', 'AFFIDAVIT_NAMESPACE', a.namespace)
    entries += StepArgs.list(this, 'affidavitSnapshot', 'excludeNamespace', 'AFFIDAVIT_EXCLUDE_NAMESPACE', a.excludeNamespace)
    entries += StepArgs.option('AFFIDAVIT_KUBECONFIG', a.kubeconfig)
    entries += StepArgs.option('AFFIDAVIT_CONTEXT', a.context)
    entries += StepArgs.option('AFFIDAVIT_DOCKER_HOST', a.dockerHost)
    entries += StepArgs.list(this, 'affidavitSnapshot', 'cluster', 'AFFIDAVIT_CLUSTER', a.cluster)
    entries += StepArgs.list(this, 'affidavitSnapshot', 'serviceNames', 'AFFIDAVIT_SERVICE_NAMES', a.serviceNames)
    entries += StepArgs.list(this, 'affidavitSnapshot', 'functionNames', 'AFFIDAVIT_FUNCTION_NAMES', a.functionNames)
    entries += StepArgs.option('AFFIDAVIT_BUCKET', a.bucket)
    entries += StepArgs.option('AFFIDAVIT_PREFIX', a.prefix)
    entries += StepArgs.option('AFFIDAVIT_INCLUDE', a.include)
    entries += StepArgs.option('AFFIDAVIT_PROJECT', a.project)
    entries += StepArgs.option('AFFIDAVIT_REGION', a.region)
    entries += StepArgs.option('AFFIDAVIT_BASE_URL', a.baseUrl)
    entries += StepArgs.flag(this, 'affidavitSnapshot', 'dryRun', 'AFFIDAVIT_DRY_RUN', a.dryRun)
    entries += StepArgs.option('AFFIDAVIT_LEDGER', a.ledger)
    entries += StepArgs.argv(this, 'affidavitSnapshot', ['snapshot', a.source, a.environment], a.args)

    // The environment first, when its type is given: idempotent, so every build may ask.
    if (a.environmentType != null) {
        List<String> create = ['AFFIDAVIT_OUTPUT=table', "AFFIDAVIT_TYPE=${a.environmentType}".toString()]
        create += StepArgs.flag(this, 'affidavitSnapshot', 'dryRun', 'AFFIDAVIT_DRY_RUN', a.dryRun)
        create += StepArgs.option('AFFIDAVIT_LEDGER', a.ledger)
        create += StepArgs.argv(this, 'affidavitSnapshot', ['create', 'environment', a.environment], null)
        StepArgs.run(this, 'affidavit create environment', create, a.credentialsId, null)
    }

    // Then the snapshot: recorded only when what runs changed.
    String envSafe = StepArgs.fileSafe(a.environment)
    String summary = a.summary ?: "affidavit-snapshot-${envSafe}.md"
    String label = "affidavit snapshot ${a.source}"
    if (a.accessTokenCredentialsId == null) {
        StepArgs.run(this, label, entries, a.credentialsId, summary)
    } else {
        // Cloud Run's access token, for this command only, as the CLI's --access-token.
        withCredentials([string(credentialsId: a.accessTokenCredentialsId, variable: 'AFFIDAVIT_ACCESS_TOKEN')]) {
            StepArgs.run(this, label, entries, a.credentialsId, summary)
        }
    }

    // Last the gate, when asked: exit 1 (a failed step) when the snapshot does not meet the
    // policies attached to the environment, one reason a line in the archived verdict.
    if (a['assert']) {
        List<String> gate = ['AFFIDAVIT_OUTPUT=markdown']
        gate += StepArgs.option('AFFIDAVIT_LEDGER', a.ledger)
        gate += StepArgs.argv(this, 'affidavitSnapshot', ['assert', 'snapshot', a.environment], null)
        StepArgs.run(this, 'affidavit assert snapshot', gate, a.credentialsId, "affidavit-assert-snapshot-${envSafe}.md")
    }
}
