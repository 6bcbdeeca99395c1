#!/bin/sh
# Install what the Jenkins shared-library tests need: Debian `groovy` (2.4, the Groovy line
# Jenkins bundles). Idempotent: does nothing when `groovy` is already on PATH.
set -eu
if command -v groovy >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-jenkins.sh: groovy missing and not root; run: apt-get install -y groovy" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends groovy
