# Sourced by the tests' install scripts: `apt_install SCRIPT PACKAGE` installs a Debian package
# the tests need, as root (CI containers, `make test`); anyone else is told the one command to
# run, and the script stops.
apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "$1: $2 missing and not root; run: apt-get install -y $2" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "$2"
}
