#!/bin/sh
# Install what the GitLab component tests need, each only when missing:
#   - Debian `rsync` (gitlab-ci-local copies the project into .gitlab-ci-local/builds with it);
#   - `gitlab-ci-local@4.73.0` (the last release that runs on Node 20) into the project-local
#     npm prefix .tools/node (binary: .tools/node/bin/gitlab-ci-local);
#   - `check-jsonschema` into the project venv.
# Idempotent and quick when everything is present. Run from anywhere.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GCL_VERSION=4.73.0
PREFIX="$ROOT/.tools/node"
VENV="${VENV:-$ROOT/.venv}"

if ! command -v rsync >/dev/null 2>&1; then
    . "$ROOT/tests/apt_install.sh"
    apt_install install-gitlab.sh rsync
fi

have_gcl() {
    [ -x "$PREFIX/bin/gitlab-ci-local" ] &&
        [ "$("$PREFIX/bin/gitlab-ci-local" --version 2>/dev/null)" = "$GCL_VERSION" ]
}
if ! have_gcl; then
    command -v npm >/dev/null 2>&1 || { echo "install-gitlab.sh: npm (Node 20) is needed" >&2; exit 1; }
    npm install --global --prefix "$PREFIX" --no-audit --no-fund --loglevel=error \
        "gitlab-ci-local@$GCL_VERSION"
fi

if [ ! -x "$VENV/bin/check-jsonschema" ]; then
    "$VENV/bin/pip" install --disable-pip-version-check -q check-jsonschema
fi
