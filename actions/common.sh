# Shared by the composite actions' run steps (sourced, not executed). Only plumbing: drop empty
# inputs, mask the token, split the free `args` input, run the CLI once with --output json (the
# core writes the markdown job summary) and turn its result into step outputs.

affidavit_prepare() {
  local name
  if [[ -n "${AFFIDAVIT_API_TOKEN:-}" ]]; then
    echo "::add-mask::$AFFIDAVIT_API_TOKEN"
  fi
  # An empty AFFIDAVIT_* value is a usage error for the CLI: an input left empty means "not given".
  for name in $(compgen -e); do
    if [[ "$name" == AFFIDAVIT_* && "$name" != AFFIDAVIT_ACTION_* && -z "${!name}" ]]; then
      unset "$name"
    fi
  done
  AFFIDAVIT_EXTRA_ARGS=()
  if [[ -n "${AFFIDAVIT_ACTION_ARGS:-}" ]]; then
    mapfile -d '' AFFIDAVIT_EXTRA_ARGS < <("$(affidavit_python)" -c 'import shlex, sys
sys.stdout.write("".join(a + "\0" for a in shlex.split(sys.argv[1])))' "$AFFIDAVIT_ACTION_ARGS")
  fi
  unset AFFIDAVIT_ACTION_ARGS
}

# affidavit_run ARGS...: `affidavit ARGS... --output json`, the core appending its markdown
# summary to the job summary itself (--summary-file); exit status kept.
affidavit_run() {
  local result status=0 summary=()
  result="$(mktemp)"
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    summary=(--summary-file "$GITHUB_STEP_SUMMARY")
  fi
  affidavit "$@" --output json "${summary[@]}" > "$result" || status=$?
  cat "$result"
  if [[ -s "$result" ]]; then
    "$(affidavit_python)" "$GITHUB_ACTION_PATH/../outputs.py" "$result"
  fi
  rm -f "$result"
  return "$status"
}

# The interpreter of the venv that holds the affidavit on PATH.
affidavit_python() {
  local bin
  bin="$(command -v affidavit)"
  echo "$(dirname "$(readlink -f "$bin")")/python"
}
