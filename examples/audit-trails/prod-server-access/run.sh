#!/usr/bin/env bash
# Production shell access as an audit trail: one trail per ECS Exec session, holding who opened
# it (user-identity), into what (service-identity) and what was typed (command-logs), each
# signed by the session recorder's key; the session log sealed for the auditors before it
# leaves the recorder. An auditor then opens the evidence package with the auditors' key and
# verifies it offline. Walkthrough: docs/audit-trails.md.
#
#   examples/audit-trails/prod-server-access/run.sh            # embedded ledger
#   examples/audit-trails/prod-server-access/run.sh --server   # through a local server
set -euo pipefail
EXAMPLE=prod-server-access
# shellcheck source=examples/audit-trails/lib.sh
. "$(dirname "$0")/../lib.sh"

FLOW=prod-server-access
SESSION=ecs-execute-command-07a3f1c9e2b4d6851
TICKET=INC-20931

cp "$EXAMPLE_DIR"/template.yml "$EXAMPLE_DIR"/user-identity.json \
    "$EXAMPLE_DIR"/service-identity.json "$EXAMPLE_DIR"/session.log .
say "Working in $WORK ($MODE ledger). It holds the example's files: template.yml," \
    "user-identity.json, service-identity.json and session.log."

open_ledger

step "Make the two keys: the session recorder's signing key, the auditors' encryption key"
say "recorder.pem stays on the bastion that records sessions: it signs every attestation." \
    "auditor.txt stays with the audit team; only its public recipient (auditor.txt.pub) is" \
    "given to the recorder, which can seal logs for the auditors but never open them."
show affidavit key generate --out recorder.pem
generated=$("$AFFIDAVIT" key generate --out recorder.pem)
printf '%s\n' "$generated"
RECORDER_KEYID=$(printf '%s\n' "$generated" | sed -n 's/^key id *//p')
run key generate --encryption --out auditor.txt
AUDITOR=$(cat auditor.txt.pub)

step "Create the flow, its template naming the one key allowed to sign"
sed "/^  require_signed: true/a\\
  signers: [$RECORDER_KEYID]" template.yml >flow-template.yml
grep -v '^#' flow-template.yml
run create flow "$FLOW" --description "Interactive shell sessions in production (ECS Exec)" \
    --template-file flow-template.yml

step "A session starts: begin its trail, named after the ECS Exec session id"
run begin trail "$SESSION" --flow "$FLOW" \
    --description "alice.martin@example.com on prod-payments/payments-api for $TICKET"

step "Record who opened the session (user-identity), signed"
say "First a dry run without --signing-key: the report itself is fine, but the template" \
    "requires a signature, so the trail would be NON_COMPLIANT. Nothing is written."
run_quiet attest generic --flow "$FLOW" --trail "$SESSION" --name user-identity \
    --attachments user-identity.json --annotate ticket="$TICKET" --dry-run
run attest generic --flow "$FLOW" --trail "$SESSION" --name user-identity \
    --attachments user-identity.json --annotate ticket="$TICKET" --signing-key recorder.pem

step "Record what the session was opened into (service-identity), signed"
run attest generic --flow "$FLOW" --trail "$SESSION" --name service-identity \
    --attachments service-identity.json --annotate ticket="$TICKET" \
    --signing-key recorder.pem
say "While the session is open its trail is INCOMPLETE: the command log is missing."
run_refused assert trail "$SESSION" --flow "$FLOW"

step "The session ends: seal its log for the auditors and record it (command-logs), signed"
say "--encrypt-for seals session.log here, in the age format; the ledger and any server" \
    "receive and hash only the ciphertext, plus a salted commitment to the plaintext."
run attest generic --flow "$FLOW" --trail "$SESSION" --name command-logs \
    --attachments session.log --encrypt-for "$AUDITOR" --annotate ticket="$TICKET" \
    --signing-key recorder.pem
run assert trail "$SESSION" --flow "$FLOW"

step "The ledger holds only ciphertext of the log"
DIGEST=$(evidence_digest command-logs session.log "$SESSION" "$FLOW")
run evidence get "$DIGEST" -o sealed-session.log
say "Without a key, what comes out of the vault is the age file as stored. Its first line:"
head -n 1 sealed-session.log
assert_no_plaintext session.log
say "No line of session.log appears anywhere in the ledger's storage (${LEDGER_STORE[*]})."

step "The auditor packages the trail, opening the sealed log with the auditors' key"
run_as_auditor evidence package --flow "$FLOW" --trail "$SESSION" -o session-package.zip \
    --identity auditor.txt
show python3 -m zipfile -l session-package.zip
"$PYTHON" -m zipfile -l session-package.zip
ledger_key
stop_server
if [ "$MODE" = server ]; then
    say "(the server is stopped: what follows needs only the package and the keys)"
fi

step "The auditor reads the opened log"
say "opened/command-logs/session.log is the plaintext, beside the ciphertext under evidence/."
"$PYTHON" -m zipfile -e session-package.zip opened-package
if cmp -s opened-package/opened/command-logs/session.log session.log; then
    echo "the decrypted session log is identical to the one recorded" \
        "($(wc -c <session.log | tr -d ' ') bytes)"
else
    echo "$0: the opened session log differs from session.log" >&2
    exit 1
fi
head -n 7 opened-package/opened/command-logs/session.log

step "The auditor verifies the package offline: the ledger's key, the recorder's key"
say "--public-key is the ledger's verifier key, obtained from its operator (never from the" \
    "package); --trusted-keys holds the one key allowed to sign these attestations."
run verify package session-package.zip --public-key "$KEY" --trusted-keys recorder.pem.pub
