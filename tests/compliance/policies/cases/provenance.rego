# The same rule as provenance.yml, written against the input of `kosli evaluate`.
package policy

import rego.v1

default allow := false

exempt if regex.match("^datadog:", input.artifact.name)

allow if input.flow != null

allow if exempt

violations contains "provenance: no provenance" if {
	input.flow == null
	input.artifact.fingerprint != null
	not exempt
}

violations contains "provenance: no provenance (its fingerprint is not known yet)" if {
	input.flow == null
	input.artifact.fingerprint == null
	not exempt
}
