#!/bin/sh
# Install what the PostgreSQL ledger tests need, when missing: Debian `postgresql` (the tests
# start a throwaway cluster of their own with pg_ctl, see tests/pg_cluster.py; Debian keeps
# pg_ctl under /usr/lib/postgresql/<major>/bin, off PATH). Idempotent and quick when present.
set -eu

have_pg_ctl() {
    command -v pg_ctl >/dev/null 2>&1 && return 0
    for candidate in /usr/lib/postgresql/*/bin/pg_ctl; do
        [ -x "$candidate" ] && return 0
    done
    return 1
}

if ! have_pg_ctl; then
    . "$(dirname "$0")/../apt_install.sh"
    apt_install install-postgresql.sh postgresql
fi
have_pg_ctl
