#!/bin/sh
# Install what the Jenkins shared-library tests need: Debian `groovy` (2.4, the Groovy line
# Jenkins bundles). Idempotent: does nothing when `groovy` is already on PATH.
set -eu
if command -v groovy >/dev/null 2>&1; then
    exit 0
fi
. "$(dirname "$0")/../apt_install.sh"
apt_install install-jenkins.sh groovy
