#!/usr/bin/env bash
# What printing a case file as PDF needs of the system (adapters/web/printing.py renders it
# with WeasyPrint, the PyPI package in the virtualenv): the Pango and HarfBuzz libraries,
# which WeasyPrint loads at run time, and a CJK font, without which the Chinese text is
# printed as empty boxes. `make run` and `make test` run it. Idempotent: nothing is done
# when all of it is there.
#
#   bash scripts/pdf-tools.sh
set -euo pipefail

LIBRARIES=$("$(command -v ldconfig || echo /sbin/ldconfig)" -p 2>/dev/null || true)
has_library() { grep -q "$1" <<<"$LIBRARIES"; }

# WeasyPrint's documented Debian packages, and the CJK font the browser tests use too.
missing=""
has_library 'libpango-1\.0\.so\.0' || missing="$missing libpango-1.0-0"
has_library 'libpangoft2-1\.0\.so\.0' || missing="$missing libpangoft2-1.0-0"
has_library 'libharfbuzz-subset\.so\.0' || missing="$missing libharfbuzz-subset0"
command -v fc-list >/dev/null || missing="$missing fontconfig"
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || \
    [ -n "$(fc-list :lang=zh 2>/dev/null || true)" ] || missing="$missing fonts-wqy-microhei"

# shellcheck disable=SC2086
bash "$(dirname "$0")/apt-install.sh" pdf-tools $missing
