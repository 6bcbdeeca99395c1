# shellcheck shell=bash
# Shared by the audit-trail examples (sourced, not run): a throwaway work directory, a ledger
# (the embedded SQLite file, or with --server a local `affidavit server` started here and
# stopped on exit), and helpers that print each command before running it, like a tutorial.
#
# The scripts that source this set `set -euo pipefail` first and define EXAMPLE (their name).
# They run the `affidavit` on PATH, or "$AFFIDAVIT" when it is set.

AFFIDAVIT=${AFFIDAVIT:-affidavit}
# shellcheck disable=SC2034  # used by the scripts that source this
EXAMPLE_DIR=$(cd "$(dirname "$0")" && pwd)
MODE=embedded
STEP=0
SERVER_PID=
KEEP=

usage() {
    cat <<EOF
usage: $0 [--server] [--keep]

Runs the '$EXAMPLE' audit trail from start to a verified evidence package, in a new
temporary directory, printing every command and its output.

  --server  run the same steps through a local 'affidavit server' on 127.0.0.1 (a free
            port), started here with API tokens and stopped on exit
  --keep    keep the temporary directory (the ledger, keys and package) and print its path

Uses the affidavit on PATH (after 'make demo': . .venv/bin/activate), or \$AFFIDAVIT.
EOF
}

for arg in "$@"; do
    case $arg in
        --server) MODE=server ;;
        --keep) KEEP=1 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done

if ! command -v "$AFFIDAVIT" >/dev/null 2>&1; then
    echo "$0: '$AFFIDAVIT' not found: put affidavit on PATH (. .venv/bin/activate after" \
        "'make demo') or set AFFIDAVIT=/path/to/affidavit" >&2
    exit 2
fi
# python3 picks a free port and waits for the server; the affidavit beside it is the best bet
PYTHON=$(dirname "$(command -v "$AFFIDAVIT")")/python3
[ -x "$PYTHON" ] || PYTHON=python3

# Nothing from the caller's environment steers these commands: no AFFIDAVIT_FLOW, _OUTPUT…
for name in $(env | sed -n 's/^\(AFFIDAVIT_[A-Za-z0-9_]*\)=.*/\1/p'); do
    unset "$name"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/affidavit-$EXAMPLE.XXXXXX")
cd "$WORK" || exit 1
# the seen-checkpoint memory and key pins of this run stay here, away from your own
export AFFIDAVIT_CACHE_DIR="$WORK/cache"

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}

cleanup() {
    status=$?
    stop_server
    if [ "$status" -ne 0 ] && [ -s "$WORK/server.log" ]; then
        echo "--- last lines of the server's log ---" >&2
        tail -n 20 "$WORK/server.log" >&2
    fi
    if [ -n "$KEEP" ]; then
        echo "kept $WORK"
    else
        cd / && rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() {
    STEP=$((STEP + 1))
    printf '\n== Step %d: %s\n' "$STEP" "$1"
}

say() {
    printf '%s\n' "$*" | fold -s -w 92 | sed 's/ *$//'
}

# show a command as a user would type it, then run it (in the work directory, where every
# path it names is relative); a failing command stops the example (set -e)
show() {
    local shown=
    local arg
    for arg in "$@"; do
        case $arg in
            *[[:space:]\'\"\$\&\;\|\<\>\(\)\*\?]* | '') shown="$shown '$arg'" ;;
            *) shown="$shown $arg" ;;
        esac
    done
    printf '$%s\n' "$shown"
}

run() {
    show affidavit "$@"
    "$AFFIDAVIT" "$@" 2>&1
}

# run a command whose stdout is a document too long for a tutorial (--dry-run prints the
# record it would write): show only what it says on stderr
run_quiet() {
    show affidavit "$@" '>/dev/null'
    { "$AFFIDAVIT" "$@" >/dev/null; } 2>&1
}

# run a command as the auditor: on a server with the read-only token, and always with the
# auditor's own memory of the checkpoints it has seen (another machine, in real life)
run_as_auditor() {
    if [ -n "$READ_TOKEN" ]; then
        echo "(as the auditor: AFFIDAVIT_API_TOKEN is the read-only token)"
    fi
    show affidavit "$@"
    if [ -n "$READ_TOKEN" ]; then
        AFFIDAVIT_API_TOKEN=$READ_TOKEN AFFIDAVIT_CACHE_DIR="$WORK/auditor-cache" \
            "$AFFIDAVIT" "$@" 2>&1
    else
        AFFIDAVIT_CACHE_DIR="$WORK/auditor-cache" "$AFFIDAVIT" "$@" 2>&1
    fi
}

# a command that must exit 1 (a gate that says no); any other exit stops the example
run_refused() {
    show affidavit "$@"
    local code=0
    "$AFFIDAVIT" "$@" 2>&1 || code=$?
    if [ "$code" -ne 1 ]; then
        echo "$0: expected exit 1 (not compliant), got $code" >&2
        exit 1
    fi
    echo "(exit 1)"
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() {
    "$PYTHON" - "$1" <<'EOF'
import sys, time, urllib.request
for _ in range(600):
    try:
        with urllib.request.urlopen(f"{sys.argv[1]}/readyz", timeout=1) as answer:
            if answer.status == 200:
                sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

# The embedded ledger is one SQLite file; --server puts a local team server in front of one.
# Sets AFFIDAVIT_LEDGER (and AFFIDAVIT_API_TOKEN, a write token, for the server), LEDGER_STORE
# (the files the ledger keeps everything in) and READ_TOKEN (a read-only token, or empty).
open_ledger() {
    READ_TOKEN=
    if [ "$MODE" = embedded ]; then
        step "Open an embedded ledger (one SQLite file, no server)"
        printf '$ export AFFIDAVIT_LEDGER=sqlite:///ledger.db\n'
        export AFFIDAVIT_LEDGER=sqlite:///ledger.db  # sqlite:/// a relative path, //// absolute
        run ledger init
        LEDGER_STORE=(ledger.db*)  # the database, its -wal, its key, its vault ledger.db.blobs/
        return
    fi
    step "Start a local team server, with API tokens"
    say "The server keeps the ledger (its log, signing key and evidence vault) under server/." \
        "Writers get a 'write' token, the auditor a 'read' one. The client trusts no server:" \
        "every answer is proven against the ledger's signed checkpoints."
    mkdir server
    LEDGER_STORE=(server/)
    show affidavit server token create --tokens server/tokens.db --org default --scope write
    AFFIDAVIT_API_TOKEN=$("$AFFIDAVIT" server token create --tokens server/tokens.db \
        --org default --scope write)
    echo "afv_… (printed once, stored only as its hash: the writers' token)"
    show affidavit server token create --tokens server/tokens.db --org default --scope read
    READ_TOKEN=$("$AFFIDAVIT" server token create --tokens server/tokens.db \
        --org default --scope read)
    echo "afv_… (the auditor's token)"
    local port
    port=$(free_port)
    printf '$ affidavit server --ledger server/ledger.db --tokens server/tokens.db'
    printf ' --host 127.0.0.1 --port %s 2>server.log &\n' "$port"
    AFFIDAVIT_CACHE_DIR="$WORK/server/cache" "$AFFIDAVIT" server --ledger server/ledger.db \
        --tokens server/tokens.db --host 127.0.0.1 --port "$port" 2>server.log >/dev/null &
    SERVER_PID=$!
    if ! wait_ready "http://127.0.0.1:$port"; then
        echo "$0: the server did not start on port $port" >&2
        exit 1
    fi
    echo "(server ready, pid $SERVER_PID)"
    printf '$ export AFFIDAVIT_LEDGER=http://127.0.0.1:%s AFFIDAVIT_API_TOKEN=afv_…\n' "$port"
    export AFFIDAVIT_LEDGER="http://127.0.0.1:$port" AFFIDAVIT_API_TOKEN
}

# KEY: the ledger's verifier key, which an auditor gets from the ledger's operator (never
# from a package)
ledger_key() {
    show affidavit ledger public-key
    KEY=$("$AFFIDAVIT" ledger public-key)
    printf '%s\n' "$KEY"
}

# the sha256 of evidence file $2 of the latest attestation $1 of trail $3 in flow $4
evidence_digest() {
    "$AFFIDAVIT" get attestation "$1" --trail "$3" --flow "$4" --output json | "$PYTHON" -c '
import json, sys
found = [e["sha256"] for e in json.load(sys.stdin)["record"]["evidence"] if e["name"] == sys.argv[1]]
print(found[0])' "$2"
}

# the first long line of file $1 is nowhere in the ledger's storage (its database files and
# evidence vault)
assert_no_plaintext() {
    local line
    line=$(grep -m 1 -E '.{40,}' "$1")
    local found=0
    grep -r -q -a -F -e "$line" "${LEDGER_STORE[@]}" || found=$?
    if [ "$found" -ne 1 ]; then  # 0: found, 2: could not read
        echo "$0: plaintext of $1 found in the ledger's storage (or grep failed)" >&2
        exit 1
    fi
}
