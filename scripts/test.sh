#!/usr/bin/env bash
# Quick start: set up .venv/ and run the linters and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export RAY_AUTH_MODE=disabled
.venv/bin/ruff check .
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
