# Shared by the composite actions' run steps (sourced, not executed). Only plumbing: the inputs
# arrive as AFFIDAVIT_* variables (the core treats an empty one as not set, and splits
# AFFIDAVIT_ARGS itself), the tokens are masked, and the CLI runs once, writing the job summary
# (--summary-file) and the step outputs (--outputs-file) itself.

# affidavit_run ARGS...: `affidavit ARGS... --output json`, the record's JSON in the log; exit
# status kept.
affidavit_run() {
  # the ledger's token (api-token), a pull-request provider's (provider-token), Jira's, Sonar's
  if [[ -n "${AFFIDAVIT_API_TOKEN:-}" ]]; then
    echo "::add-mask::$AFFIDAVIT_API_TOKEN"
  fi
  local secret
  for secret in AFFIDAVIT_TOKEN AFFIDAVIT_JIRA_API_TOKEN AFFIDAVIT_JIRA_PAT AFFIDAVIT_SONAR_TOKEN; do
    if [[ -n "${!secret:-}" ]]; then
      echo "::add-mask::${!secret}"
    fi
  done
  affidavit "$@" --output json --summary-file "$GITHUB_STEP_SUMMARY" \
    --outputs-file "$GITHUB_OUTPUT"
}
