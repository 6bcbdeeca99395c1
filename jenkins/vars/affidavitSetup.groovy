import affidavit.jenkins.Release

// affidavitSetup()                              -- the core of this library's own release
// affidavitSetup(package: 'dist/affidavit-0.1.0-py3-none-any.whl')
// Installs the affidavit CLI with pip into a virtualenv in the workspace, from its own source:
// the project's git repository at tag v<version> (default: the release this library belongs
// to), and points the other affidavit* steps at it (env.AFFIDAVIT_JENKINS_BIN). Returns the path
// of the `affidavit` command. Help: affidavitSetup.txt.
def call(Map args = [:]) {
    Map defaults = [
        version: null,     // the release to install, tag v<version>; default: this library's (Release.VERSION)
        repository: null,  // the project's git repository (a mirror, say); default Release.REPOSITORY
        package: null,     // instead: a local path, wheel file or URL pip accepts (git+URL@<branch or SHA>)
        venv: null,        // where the virtualenv goes; default $WORKSPACE/.affidavit-venv
        cacheDir: null,    // pip's cache; default $WORKSPACE/.affidavit-pip (kept between builds)
        python: 'python3', // the interpreter that creates the virtualenv
    ]
    for (def key : args.keySet()) {
        if (!defaults.containsKey(key)) {
            error("affidavitSetup: unknown argument '${key}' (known: ${defaults.keySet().join(', ')})")
        }
    }
    Map a = defaults + args
    if (a['package'] != null && (a.version != null || a.repository != null)) {
        error("affidavitSetup: give 'package', or 'version'/'repository', not both")
    }
    if (a.version != null && !(a.version ==~ /[0-9][0-9A-Za-z.+!-]*/)) {
        error("affidavitSetup: 'version' must be a version number such as 0.1.0, not '${a.version}'")
    }
    String workspace = env.WORKSPACE ?: '.'
    String venv = a.venv ?: "${workspace}/.affidavit-venv"
    String requirement = a['package'] ?: "git+${a.repository ?: Release.REPOSITORY}@v${a.version ?: Release.VERSION}"

    withEnv([
        "AFFIDAVIT_JENKINS_PYTHON=${a.python}",
        "AFFIDAVIT_JENKINS_VENV=${venv}",
        "AFFIDAVIT_JENKINS_REQUIREMENT=${requirement}",
        "PIP_CACHE_DIR=${a.cacheDir ?: "${workspace}/.affidavit-pip"}",
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
