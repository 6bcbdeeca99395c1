// Runs the shared library's vars/*.groovy steps against recording stand-ins for the pipeline steps
// they use (sh, withEnv, withCredentials, string, archiveArtifacts, error, env) and prints, as JSON,
// what each scenario called. JenkinsPipelineUnit is not available here; this is its small core.
//
//   groovy harness.groovy <library dir> <scenarios.json>
//
// scenarios.json: [{"id": ..., "step": "affidavitAttest", "args": {...}, "env": {...},
//                   "shFails": false}, ...]
//   or, to run a whole Jenkinsfile against the same stand-ins, {"id": ..., "jenkinsfile": "<path>"}:
//   the library's steps run for real (each call is also recorded as {"step": "affidavitAttest",
//   "args": ...}); any other DSL method (pipeline, stage, steps, post, echo, junit, ...) is
//   recorded and its closure run, so every block, post conditions included, is executed once.
//   or, to run several steps in order as one stage would (stopping at the first failure),
//   {"id": ..., "steps": [{"step": "affidavitBeginTrail", "args": {...}}, ...]}.
// Optional, for any scenario:
//   "credentials": {"<id>": "<secret text>"}: the Jenkins credentials store. withCredentials then
//     binds each string(credentialsId:, variable:) to its secret for the body, and fails as
//     Jenkins does ("Could not find credentials entry with ID '<id>'") for an id not in it.
//   "run": "<dir>": sh runs for real, as Jenkins' durable task does: the script in a file,
//     `sh -xe FILE` in <dir>, with this process's environment + the scenario's env (the build's
//     variables) + the withEnv entries and credential bindings in force; its output is the
//     call's "log", and a non-zero exit fails the step ("script returned exit code N"). The
//     build's variables are the live `env`, so what a step sets there (env.AFFIDAVIT_JENKINS_BIN)
//     reaches later steps, as in Jenkins.
//   "skip": ["<label>", ...]: sh calls with these labels are recorded but not run (the agent
//     already has what `install affidavit` would install, say).
// output: {"<id>": {"calls": [...], "error": "<message>" | null, "result": ..., "env": {...}}}
// Every recorded sh call carries the withEnv entries and credential bindings in force around it.

import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.runtime.InvokerHelper

class PipelineError extends RuntimeException {
    PipelineError(String message) { super(message) }
}

Object plain(Object value) {
    if (value instanceof CharSequence) return value.toString()
    if (value instanceof Map) return value.collectEntries { k, v -> [(k.toString()): plain(v)] }
    if (value instanceof Collection) return value.collect { plain(it) }
    return value
}

/** Base class of a Jenkinsfile under test: binding closures first, then record-and-run. */
abstract class PipelineScript extends Script {
    def methodMissing(String name, def args) {
        def stub = binding.hasVariable(name) ? binding.getVariable(name) : null
        if (stub instanceof Closure) {
            return stub.call(*args)
        }
        List plain = args.findAll { !(it instanceof Closure) }
        binding.getVariable('_calls') << [step: name, args: plain]
        if (args && args[-1] instanceof Closure) {
            Closure body = args[-1]
            body.resolveStrategy = Closure.OWNER_FIRST
            return body.call()
        }
        return null
    }

    def propertyMissing(String name) {
        return name  // `agent any`, `label`, ...
    }
}

/** Runs `sh -xe FILE` in `dir` with the agent's environment, the build's variables and `entries`
 *  (NAME=value, later ones win); records the combined output as the call's "log". */
int runSh(String script, File dir, Map buildEnv, List entries, Map call) {
    File file = File.createTempFile('jenkins-step', '.sh', dir)
    try {
        file.text = script
        ProcessBuilder pb = new ProcessBuilder('sh', '-xe', file.path).directory(dir).redirectErrorStream(true)
        Map<String, String> env = pb.environment()
        buildEnv.each { k, v -> env.put(k.toString(), v.toString()) }
        for (def entry : entries) {
            String text = entry.toString()
            int eq = text.indexOf('=')
            env.put(text.substring(0, eq), text.substring(eq + 1))
        }
        Process process = pb.start()
        process.outputStream.close()
        call.log = process.inputStream.getText('UTF-8')
        return process.waitFor()
    } finally {
        file.delete()
    }
}

String libraryDir = args[0]
List scenarios = new JsonSlurper().parse(new File(args[1]))

GroovyClassLoader loader = new GroovyClassLoader(this.class.classLoader)
loader.addClasspath(new File(libraryDir, 'src').path)
Map classes = [:]

Map out = [:]
for (Map scenario : scenarios) {
    List calls = []
    List envStack = []
    List credStack = []
    List liveEnv = []  // withEnv entries and bound secrets, innermost last: what a real sh sees
    Map env = new LinkedHashMap(scenario.env ?: [:])
    Binding binding = new Binding()
    binding.setVariable('env', env)
    binding.setVariable('error', { String message ->
        calls << [step: 'error', message: message]
        throw new PipelineError(message)
    })
    binding.setVariable('sh', { def spec ->
        Map m = spec instanceof Map ? spec : [script: spec]
        Map call = [step: 'sh', script: m.script, label: m.label,
                    env: envStack.flatten(), credentials: credStack.flatten()]
        calls << call
        if (scenario.shFails) {
            throw new PipelineError('script returned exit code 1')
        }
        if (scenario.run && !(m.label in (scenario.skip ?: []))) {
            int code = runSh(m.script.toString(), new File(scenario.run.toString()), env,
                             liveEnv.flatten(), call)
            if (code != 0) {
                throw new PipelineError("script returned exit code ${code}")
            }
        }
        return null
    })
    binding.setVariable('withEnv', { List entries, Closure body ->
        calls << [step: 'withEnv', entries: entries]
        envStack.push(entries)
        liveEnv.push(entries)
        try { return body() } finally { envStack.pop(); liveEnv.pop() }
    })
    binding.setVariable('string', { Map m -> [type: 'string'] + m })
    binding.setVariable('withCredentials', { List bindings, Closure body ->
        calls << [step: 'withCredentials', bindings: bindings]
        List bound = []
        if (scenario.credentials != null) {
            for (Map b : bindings) {
                if (!scenario.credentials.containsKey(b.credentialsId)) {
                    throw new PipelineError("Could not find credentials entry with ID '${b.credentialsId}'")
                }
                bound << "${b.variable}=${scenario.credentials[b.credentialsId]}".toString()
            }
        }
        credStack.push(bindings)
        liveEnv.push(bound)
        try { return body() } finally { credStack.pop(); liveEnv.pop() }
    })
    binding.setVariable('archiveArtifacts', { def spec ->
        calls << [step: 'archiveArtifacts'] + (spec instanceof Map ? spec : [artifacts: spec])
    })

    Closure load = { String step ->
        if (!classes.containsKey(step)) {
            classes[step] = loader.parseClass(new File(libraryDir, "vars/${step}.groovy"))
        }
        return InvokerHelper.createScript(classes[step], binding)
    }
    String error = null
    Object result = null
    try {
        if (scenario.jenkinsfile) {
            binding.setVariable('_calls', calls)
            new File(libraryDir, 'vars').eachFileMatch(~/.*\.groovy/) { File f ->
                String step = f.name - '.groovy'
                binding.setVariable(step, { Map stepArgs = [:] ->
                    calls << [step: step, args: stepArgs]
                    return load(step).invokeMethod('call', stepArgs)
                })
            }
            CompilerConfiguration config = new CompilerConfiguration()
            config.scriptBaseClass = PipelineScript.name
            GroovyShell shell = new GroovyShell(loader, binding, config)
            String text = new File(scenario.jenkinsfile).text.replaceAll(/(?m)^\s*@Library\(.*$/, '')
            result = shell.evaluate(text, 'Jenkinsfile')
        } else if (scenario.steps) {
            result = scenario.steps.collect { Map one -> load(one.step).invokeMethod('call', one.args ?: [:]) }
        } else {
            result = load(scenario.step).invokeMethod('call', scenario.args ?: [:])
        }
    } catch (PipelineError e) {
        error = e.message
    }
    out[scenario.id] = plain([calls: calls, error: error, result: result, env: env])
}
println JsonOutput.prettyPrint(JsonOutput.toJson(out))
