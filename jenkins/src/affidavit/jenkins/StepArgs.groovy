package affidavit.jenkins

/*
 * Argument plumbing shared by the vars/affidavit*.groovy steps: checking a call's Map, turning
 * values into environment entries, and running the one fixed shell script below.
 *
 * No value a user passes is ever part of a shell script. Options travel in the CLI's own
 * AFFIDAVIT_<FLAG> variables (the core reads them, DESIGN §7); positional words and List args travel
 * as AFFIDAVIT_JENKINS_ARG_0..N-1 and the script rebuilds "$@" from them, one argv element per
 * variable, so spaces, quotes, $(...), backticks and newlines arrive as literal text.
 *
 * `steps` is the calling vars script (`this`), through which pipeline steps (error, sh, withEnv,
 * withCredentials, string, archiveArtifacts) are called.
 */
class StepArgs implements Serializable {

    /** Runs `$AFFIDAVIT_JENKINS_BIN "$@"` (default `affidavit` on PATH) with "$@" rebuilt from
     *  AFFIDAVIT_JENKINS_ARG_<i>; with AFFIDAVIT_JENKINS_SUMMARY set, stdout goes to that file and is
     *  then shown in the log. The eval only ever sees the loop counter, never a value. */
    static final String SCRIPT = '''\
set --
i=0
while [ "$i" -lt "$AFFIDAVIT_JENKINS_ARGC" ]; do
    eval "set -- \\"\\$@\\" \\"\\$AFFIDAVIT_JENKINS_ARG_$i\\""
    i=$((i + 1))
done
if [ -z "${AFFIDAVIT_JENKINS_SUMMARY:-}" ]; then
    exec "${AFFIDAVIT_JENKINS_BIN:-affidavit}" "$@"
fi
mkdir -p "$(dirname "$AFFIDAVIT_JENKINS_SUMMARY")"
status=0
"${AFFIDAVIT_JENKINS_BIN:-affidavit}" "$@" > "$AFFIDAVIT_JENKINS_SUMMARY" || status=$?
cat "$AFFIDAVIT_JENKINS_SUMMARY"
exit "$status"
'''

    /** The call's arguments over the step's defaults; unknown keys and blank strings are errors. */
    static Map merge(def steps, String step, Map defaults, Map args) {
        for (def key : args.keySet()) {
            if (!defaults.containsKey(key)) {
                steps.error("${step}: unknown argument '${key}' (known: ${defaults.keySet().join(', ')})")
            }
            def value = args[key]
            if (value instanceof CharSequence && value.toString().trim().isEmpty()) {
                steps.error("${step}: '${key}' is empty")
            }
        }
        Map merged = [:]
        merged.putAll(defaults)
        merged.putAll(args)
        return merged
    }

    /** `NAME=value` for a String option, nothing when unset. */
    static List<String> option(String name, def value) {
        return value == null ? [] : ["${name}=${value}".toString()]
    }

    /** `NAME=true|false` for a boolean option, nothing when unset. */
    static List<String> flag(def steps, String step, String key, String name, def value) {
        if (value == null) {
            return []
        }
        if (!(value instanceof Boolean)) {
            steps.error("${step}: '${key}' must be true or false, not '${value}'")
        }
        return ["${name}=${value}".toString()]
    }

    /** A List (or one String) as the core's comma-separated list variable; items may not hold commas. */
    static List<String> list(def steps, String step, String key, String name, def value) {
        if (value == null) {
            return []
        }
        List items = value instanceof List ? value : [value]
        if (items.isEmpty()) {
            steps.error("${step}: '${key}' is an empty list")
        }
        for (def item : items) {
            if (item == null || item.toString().trim().isEmpty()) {
                steps.error("${step}: '${key}' has an empty item")
            }
            if (item.toString().contains(',')) {
                steps.error("${step}: '${key}' item '${item}' contains a comma; pass it through args")
            }
        }
        return ["${name}=${items.join(',')}".toString()]
    }

    /** AFFIDAVIT_JENKINS_ARGC and one AFFIDAVIT_JENKINS_ARG_<i> per argv element: the step's
     *  words, then `args` when it is a List (each item one argument). `args` as a String goes
     *  to AFFIDAVIT_ARGS, which the core splits like a shell would, as it does for the GitHub
     *  and GitLab wrappers' `args`. */
    static List<String> argv(def steps, String step, List words, def args) {
        List all = []
        all.addAll(words)
        List<String> entries = []
        if (args instanceof CharSequence) {
            entries.add("AFFIDAVIT_ARGS=${args}".toString())
        } else if (args instanceof List) {
            all.addAll(args)
        } else if (args != null) {
            steps.error("${step}: 'args' must be a String (split like a shell would) or a List of strings, one per argument")
        }
        entries.add(0, "AFFIDAVIT_JENKINS_ARGC=${all.size()}".toString())
        for (int i = 0; i < all.size(); i++) {
            if (!(all[i] instanceof CharSequence)) {
                steps.error("${step}: 'args' must hold strings, not ${all[i]}")
            }
            entries.add(i + 1, "AFFIDAVIT_JENKINS_ARG_${i}=${all[i]}".toString())
        }
        return entries
    }

    /** Runs SCRIPT with `env`, inside withCredentials when a credentials id is given; the
     *  summary (when there is one) is archived even when the command fails. */
    static void run(def steps, String label, List<String> env, String credentialsId, String summary) {
        run(steps, label, env, credentialsId, summary, null)
    }

    /** As above; `archive` (a file the command writes, such as an evidence package) is archived
     *  after the command succeeded. */
    static void run(def steps, String label, List<String> env, String credentialsId, String summary,
                    String archive) {
        List<String> all = []
        all.addAll(env)
        if (summary != null) {
            all.add("AFFIDAVIT_JENKINS_SUMMARY=${summary}".toString())
        }
        try {
            if (credentialsId == null) {
                steps.withEnv(all) {
                    steps.sh(script: SCRIPT, label: label)
                }
            } else {
                steps.withCredentials([steps.string(credentialsId: credentialsId, variable: 'AFFIDAVIT_API_TOKEN')]) {
                    steps.withEnv(all) {
                        steps.sh(script: SCRIPT, label: label)
                    }
                }
            }
        } finally {
            if (summary != null) {
                steps.archiveArtifacts(artifacts: summary, allowEmptyArchive: true)
            }
        }
        if (archive != null) {
            steps.archiveArtifacts(artifacts: archive, fingerprint: true)
        }
    }

    /** A file-name-safe form of a value: everything but letters, digits, `.`, `_`, `-` becomes `_`. */
    static String fileSafe(def value) {
        return value.toString().replaceAll('[^A-Za-z0-9._-]', '_')
    }
}
