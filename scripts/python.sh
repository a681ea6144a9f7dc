#!/usr/bin/env bash
# Print the path of a working Python of one of the versions given (in the order given),
# or nothing and exit 1. Looks for pythonX.Y on PATH, then in pyenv's versions folder
# (${PYENV_ROOT:-~/.pyenv}/versions/X.Y.*: these machines install 3.11 and 3.13 there),
# then at python3 on PATH if its version is one of them. A pyenv shim of a version that
# is not installed does not count (it is on PATH but does not run).
set -u
for v in "$@"; do
  if p=$(command -v "python$v" 2>/dev/null) && "$p" -c "" >/dev/null 2>&1; then
    echo "$p"; exit 0
  fi
  for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python"$v"; do
    if [ -x "$p" ] && "$p" -c "" >/dev/null 2>&1; then echo "$p"; exit 0; fi
  done
done
if p=$(command -v python3 2>/dev/null); then
  have=$("$p" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
  for v in "$@"; do
    if [ "$have" = "$v" ]; then echo "$p"; exit 0; fi
  done
fi
exit 1
