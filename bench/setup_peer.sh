#!/usr/bin/env bash
# Creates bench/.peer-venv with the peer speech server, WhisperLive 0.10.0, for
# `bench/.peer-venv/bin/python -m bench.peer_whisperlive` (run from the repository root). A plain
# `pip install whisper-live` pulls CUDA torch, openvino and openai-whisper (GBs); this installs
# the CPU torch wheel and only what its faster-whisper backend imports, then whisper-live itself
# without its declared dependencies.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3.11}"
VENV=.peer-venv
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/pip" install --disable-pip-version-check --quiet)
"${PIP[@]}" torch==2.13.0
"${PIP[@]}" faster-whisper websockets scipy av fastapi uvicorn python-multipart onnxruntime \
    soundfile psutil numpy "tokenizers==0.20.3"
"${PIP[@]}" --no-deps whisper-live==0.10.0
"$VENV/bin/python" -c "import whisper_live.server, faster_whisper; print('peer venv ready')"
