#!/usr/bin/env bash
# What the browser tests (tests/browser) need: Debian's headless-capable Chromium and the
# PyPI `playwright` package in the virtualenv. Idempotent: nothing is done when both are
# there. Playwright drives /usr/bin/chromium through its bundled driver; it never
# downloads a browser (`playwright install` is not run, and must not be).
#
#   bash scripts/browser-tools.sh [VENV]      (VENV defaults to .venv)
set -euo pipefail

VENV=${1:-.venv}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# A CJK font too (the pages are in Chinese; without one the screenshots show boxes).
missing=""
[ -x "$CHROMIUM" ] || missing=" chromium"
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || \
    fc-list :lang=zh 2>/dev/null | grep -q . || missing="$missing fonts-wqy-microhei"

if [ -n "$missing" ]; then
    # shellcheck disable=SC2086
    bash "$(dirname "$0")/apt-install.sh" browser-tools $missing
    [ -x "$CHROMIUM" ] || {
        echo "browser-tools: $CHROMIUM still missing after apt-get" >&2; exit 1; }
fi

if [ -x "$VENV/bin/python" ]; then
    if ! "$VENV/bin/python" -c "import playwright.sync_api" 2>/dev/null; then
        echo "browser-tools: installing the playwright package into $VENV (no browsers)"
        "$VENV/bin/pip" install --quiet playwright
    fi
else
    echo "browser-tools: no virtualenv at $VENV: \`make venv\` installs playwright" >&2
fi

# (Debian's launcher script can complain about /dev/shm on stderr; that is harmless)
"$CHROMIUM" --version 2>/dev/null || "$CHROMIUM" --version
