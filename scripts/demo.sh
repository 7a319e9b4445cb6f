#!/usr/bin/env bash
# Quick start: set up .venv/ and run the demo: the local stack (Ray + Serve + embedded
# PostgreSQL) hears a sample jargon meeting live, explains its terms, and upserts the glossary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --models
exec .venv/bin/glossify demo "$@"
