# The rules of attestations.yml. Each rule is a name, a type ("*": any) and when it applies;
# the helpers below say, for one rule, whether the artifact meets it and why not. Messages are
# built with concat: rego-cpp 1.5.2's sprintf("%s") quotes a string a function returned.
package policy

import rego.v1

default allow := false

rules := [
	{"name": "unit-test", "type": "junit", "applies": true},
	{"name": "pull-request", "type": "pull_request", "applies": high_risk},
	{"name": "*", "type": "snyk", "applies": true},
	{"name": "coverage", "type": "*", "applies": not_legacy},
]

default high_risk := false

high_risk if input.flow.tags["risk-level"] == "high"

default not_legacy := true

not_legacy := false if regex.match("^legacy-", input.artifact.name)

matching(rule) := [a |
	some a in input.trail.compliance_status.attestations_statuses
	rule.name in {"*", a.attestation_name}
	rule.type in {"*", a.attestation_type}
]

met(rule) if not rule.applies

met(rule) if {
	found := matching(rule)
	count(found) > 0
	every a in found {
		a.is_compliant
	}
}

allow if {
	input.trail != null
	every rule in rules {
		met(rule)
	}
}

allow if {
	input.trail == null
	every rule in rules {
		met(rule)
	}
}

verb(n) := "is" if n == 1

verb(n) := "are" if n > 1

reason(rule) := "no provenance, so no attestations" if input.trail == null

reason(rule) := concat(" ", ["no attestation", rule.name, "of type", rule.type]) if {
	input.trail != null
	count(matching(rule)) == 0
}

reason(rule) := concat(" ", [concat(", ", shown), verb(count(shown)), "not compliant"]) if {
	shown := sort([sprintf("%s (%s)", [a.attestation_name, a.attestation_type]) |
		some a in matching(rule)
		not a.is_compliant
	])
	count(shown) > 0
}

violations contains msg if {
	some rule in rules
	not met(rule)
	msg := concat("", ["attestation ", rule.name, " of type ", rule.type, ": ", reason(rule)])
}
