#!/bin/sh
# Install Debian's chromium for the web UI's browser tests when missing (Playwright drives
# /usr/bin/chromium; its own browser download is never used). Idempotent and quick when present.
set -eu

if [ ! -x /usr/bin/chromium ]; then
    . "$(dirname "$0")/../apt_install.sh"
    apt_install install-chromium.sh chromium
fi
[ -x /usr/bin/chromium ]
