#!/usr/bin/env bash
# Quick start: set up .venv/ and run the local stack (Ray + Serve + embedded PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --models
exec .venv/bin/glossify up "$@"
