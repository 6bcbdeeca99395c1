#!/usr/bin/env bash
# Access provisioning as an audit trail: request -> approval (four eyes) -> grant -> revoke,
# each step an attestation on one trail named after the ticket, each carrying the ticket id
# (--annotate ticket=...). `assert trail` is the gate the provisioning job runs before it
# grants: it fails until an approver other than the requester has approved. Ends with the
# trail's evidence package verified offline. Walkthrough: docs/audit-trails.md.
#
#   examples/audit-trails/access-provisioning/run.sh            # embedded ledger
#   examples/audit-trails/access-provisioning/run.sh --server   # through a local server
set -euo pipefail
EXAMPLE=access-provisioning
# shellcheck source=examples/audit-trails/lib.sh
. "$(dirname "$0")/../lib.sh"

FLOW=access-provisioning
TICKET=ACCESS-4711
REQUESTER=j.doe@example.com
APPROVERS=m.smith@example.com,p.nair@example.com  # the data owner and her deputy

cp "$EXAMPLE_DIR"/template.yml "$EXAMPLE_DIR"/access-request.json "$EXAMPLE_DIR"/grant.json \
    "$EXAMPLE_DIR"/revoke.json .
say "Working in $WORK ($MODE ledger). It holds the example's files: template.yml," \
    "access-request.json, grant.json and revoke.json."

open_ledger

step "Keys: the approver signs her decision, the provisioning job signs what it changes"
run key generate --out m.smith.pem
run key generate --out iam-provisioner.pem
cat m.smith.pem.pub iam-provisioner.pem.pub >trusted-keys.pub

step "Create the flow: its template is what must hold before access is granted"
grep -v '^#' template.yml
run create flow "$FLOW" --template-file template.yml \
    --description "Access to production systems: request, approval, grant, revoke"

step "Jordan asks for access: begin the trail for the ticket, record the request"
run begin trail "$TICKET" --flow "$FLOW" \
    --description "payments_readonly on payments-db for $REQUESTER, 7 days"
say "--user-data records the request form in the entry; --redact leaves the requester's" \
    "phone number out before anything is hashed (the entry lists the pointer, not the value)."
run attest generic --flow "$FLOW" --trail "$TICKET" --name access-request \
    --user-data access-request.json --redact /user_data/requester/phone \
    --annotate ticket="$TICKET" requester="$REQUESTER"
say "The request names who may approve it: the data owner or her deputy, and who asks: Jordan."
run request approval --flow "$FLOW" --trail "$TICKET" --name access-approval \
    --approvers "$APPROVERS" --requester "$REQUESTER" \
    --reason "payments_readonly on payments-db for 7 days" --annotate ticket="$TICKET"

step "The provisioning job's gate, before any approval: it must say no"
run_refused assert trail "$TICKET" --flow "$FLOW"

step "Four eyes: Jordan approves his own request, and it does not count"
run attest approval --flow "$FLOW" --trail "$TICKET" --name access-approval \
    --approver "$REQUESTER" --reason "urgent for the close" --annotate ticket="$TICKET"
say "The record is in the log for good (an auditor sees the attempt), but only the" \
    "approvers the request named count:"
run_refused assert approval --flow "$FLOW" --trail "$TICKET" --name access-approval
run_refused assert trail "$TICKET" --flow "$FLOW"

step "Maria Smith, the data owner, approves (signed with her key)"
run attest approval --flow "$FLOW" --trail "$TICKET" --name access-approval \
    --approver m.smith@example.com --reason "read-only, time-boxed, matches FIN-882" \
    --annotate ticket="$TICKET" --signing-key m.smith.pem
run assert approval --flow "$FLOW" --trail "$TICKET" --name access-approval

step "The gate again, then the grant: the job grants only when the trail is COMPLIANT"
say "In the provisioning job this is: affidavit assert trail ... && terraform apply && affidavit attest ..."
run assert trail "$TICKET" --flow "$FLOW"
run attest generic --flow "$FLOW" --trail "$TICKET" --name access-grant \
    --user-data grant.json --annotate ticket="$TICKET" change=terraform-run-8841 \
    --signing-key iam-provisioner.pem

step "Seven days later the grant expires: record the revoke"
run attest generic --flow "$FLOW" --trail "$TICKET" --name access-revoke \
    --user-data revoke.json --annotate ticket="$TICKET" change=terraform-run-9017 \
    --signing-key iam-provisioner.pem
run log trail "$TICKET" --flow "$FLOW"

step "The auditor packages the trail"
run_as_auditor evidence package --flow "$FLOW" --trail "$TICKET" -o access-package.zip
show python3 -m zipfile -l access-package.zip
"$PYTHON" -m zipfile -l access-package.zip
ledger_key
stop_server
if [ "$MODE" = server ]; then
    say "(the server is stopped: what follows needs only the package and the keys)"
fi

step "The auditor verifies the package offline"
say "--trusted-keys holds the approver's and the provisioner's public keys: every signed" \
    "attestation in the package must be signed by one of them."
run verify package access-package.zip --public-key "$KEY" --trusted-keys trusted-keys.pub
