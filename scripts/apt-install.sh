#!/usr/bin/env bash
# Install the Debian packages a set-up script of the project found missing, with apt-get
# (as root, or with sudo). The first argument names the script, for its messages.
#
#   bash scripts/apt-install.sh WHO PACKAGE...
set -euo pipefail

who=$1
shift
[ $# -gt 0 ] || exit 0
command -v apt-get >/dev/null || {
    echo "$who: no apt-get: install $* by hand" >&2; exit 1; }
SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null && SUDO="sudo" || {
        echo "$who: need root (or sudo) to apt-get install $*" >&2; exit 1; }
fi
echo "$who: installing $* (apt-get)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
