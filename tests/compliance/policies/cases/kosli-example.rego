package policy

import rego.v1

default allow := false

exempt if regex.match("^datadog:.*", input.artifact.name)

statuses := input.trail.compliance_status.attestations_statuses

attested(name, type) if {
	statuses[name].attestation_type == type
	statuses[name].is_compliant
}

default high_risk := false

high_risk if input.flow.tags["risk-level"] == "high"

pull_request_met if not high_risk

pull_request_met if attested("pull-request", "pull_request")

allow if {
	input.trail.compliance_status.is_compliant
	attested("image-scan", "snyk")
	pull_request_met
	attested("coverage", "custom:coverage-metrics")
}

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

violations contains "trail-compliance: no provenance, so no trail" if input.trail == null

violations contains msg if {
	input.trail.compliance_status.status != "COMPLIANT"
	msg := sprintf("trail-compliance: trail %s of flow %s is %s", [
		input.trail.name, input.flow.name, input.trail.compliance_status.status,
	])
}

required := [
	["image-scan", "snyk", true],
	["pull-request", "pull_request", high_risk],
	["coverage", "custom:coverage-metrics", true],
]

violations contains msg if {
	input.trail == null
	some rule in required
	rule[2] == true
	msg := concat("", ["attestation ", rule[0], " of type ", rule[1], ": no provenance, so no attestations"])
}

violations contains msg if {
	some rule in required
	rule[2] == true
	not statuses[rule[0]].attestation_type == rule[1]
	input.trail != null
	msg := concat("", ["attestation ", rule[0], " of type ", rule[1], ": no attestation ", rule[0], " of type ", rule[1]])
}

violations contains msg if {
	some rule in required
	rule[2] == true
	statuses[rule[0]].attestation_type == rule[1]
	not statuses[rule[0]].is_compliant
	msg := concat("", ["attestation ", rule[0], " of type ", rule[1], ": ", rule[0], " (", rule[1], ") is not compliant"])
}
