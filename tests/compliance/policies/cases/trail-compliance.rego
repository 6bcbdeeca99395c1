package policy

import rego.v1

default allow := false

waived if input.flow.name in {"sandbox", "playground"}

waived if {
	input.flow.tags.tier == "experimental"
	input.flow.name != "web"
}

allow if input.trail.compliance_status.is_compliant

allow if waived

violations contains "trail-compliance: no provenance, so no trail" if input.trail == null

violations contains msg if {
	not input.trail.compliance_status.is_compliant
	not waived
	msg := sprintf("trail-compliance: trail %s of flow %s is %s", [
		input.trail.name, input.flow.name, input.trail.compliance_status.status,
	])
}
