#!/usr/bin/env bash
# Quick start: set up .venv/ and run the linters, the type checker and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

# The browser tests (tests/serve/test_browser_*.py) drive Debian's chromium, and Korean text
# needs fonts-noto-cjk. Installed here when missing and we may (root, apt); Playwright's own
# browser download (`playwright install`) is never used.
browser_packages=(chromium fonts-noto-cjk)
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
{ command -v fc-list >/dev/null && fc-list : family | grep -ci "Noto Sans CJK" >/dev/null; } || missing+=(fonts-noto-cjk)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${missing[*]} for the browser tests..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q --no-install-recommends "${browser_packages[@]}"
  else
    echo "Missing for the browser tests: ${missing[*]} (they will fail). As root, run:" >&2
    echo "  apt-get install -y --no-install-recommends ${browser_packages[*]}" >&2
  fi
fi

export RAY_AUTH_MODE=disabled
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m mypy
.venv/bin/pytest -q -p no:cacheprovider "$@"
