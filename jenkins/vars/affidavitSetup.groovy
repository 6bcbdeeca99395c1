// affidavitSetup(version: '0.1.0')
// Installs the affidavit CLI with pip into a virtualenv in the workspace and points the other
// affidavit* steps at it (env.AFFIDAVIT_JENKINS_BIN). Returns the path of the `affidavit` command.
// Help: affidavitSetup.txt.
def call(Map args = [:]) {
    Map defaults = [
        version: null,   // a released version, e.g. '0.1.0'; default: the latest
        source: null,    // instead of the index: a local path, wheel file or URL pip accepts
        venv: null,      // where the virtualenv goes; default $WORKSPACE/.affidavit-venv
        python: 'python3', // the interpreter that creates the virtualenv
    ]
    for (def key : args.keySet()) {
        if (!defaults.containsKey(key)) {
            error("affidavitSetup: unknown argument '${key}' (known: ${defaults.keySet().join(', ')})")
        }
    }
    Map a = defaults + args
    if (a.version != null && a.source != null) {
        error("affidavitSetup: give 'version' or 'source', not both")
    }
    if (a.version != null && !(a.version ==~ /[0-9][0-9A-Za-z.+!-]*/)) {
        error("affidavitSetup: 'version' must be a version number such as 0.1.0, not '${a.version}'")
    }
    String venv = a.venv ?: (env.WORKSPACE ? "${env.WORKSPACE}/.affidavit-venv" : '.affidavit-venv')
    String requirement = a.source ?: (a.version ? "affidavit==${a.version}" : 'affidavit')

    withEnv([
        "AFFIDAVIT_JENKINS_PYTHON=${a.python}",
        "AFFIDAVIT_JENKINS_VENV=${venv}",
        "AFFIDAVIT_JENKINS_REQUIREMENT=${requirement}",
    ]) {
        sh(label: 'install affidavit', script: '''\
"$AFFIDAVIT_JENKINS_PYTHON" -m venv "$AFFIDAVIT_JENKINS_VENV"
"$AFFIDAVIT_JENKINS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$AFFIDAVIT_JENKINS_REQUIREMENT"
"$AFFIDAVIT_JENKINS_VENV/bin/affidavit" --version
''')
    }
    env.AFFIDAVIT_JENKINS_BIN = "${venv}/bin/affidavit".toString()
    return env.AFFIDAVIT_JENKINS_BIN
}
