"""Streaming Silero VAD: speech probabilities for 16 kHz audio pushed in arbitrary chunks.

faster-whisper ships the Silero ONNX model and scores a whole recording at once. The model
takes a batch of 512-sample windows, each prefixed with the last 64 samples of the window before
it, and runs its LSTM across that batch (the batch axis is time), returning the final ``h``/``c``.
So a recording can be scored a few windows at a time, exactly as if it had been scored whole, by
carrying the 64-sample context and ``h``/``c`` from one call to the next. That is what
``StreamingVad`` does; the loaded model itself holds no per-stream state and can be shared.

The model file is read from faster-whisper's package folder without importing faster-whisper:
this runs in the ingress, which must not load CTranslate2 (the Transcriber's job).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime

SAMPLE_RATE = 16000
WINDOW = 512  # samples per probability: 32 ms
CONTEXT = 64  # samples of the previous window the model sees in front of each window
# Bounds one ONNX call's input for a very large push (faster-whisper batches the same way).
_MAX_WINDOWS_PER_CALL = 10000


# onnxruntime ships no type information: the session is typed by what we call on it.
VadModel = Any
_MODEL_FILE = "silero_vad_v6.onnx"


def vad_model_path() -> Path:
    """faster-whisper's bundled Silero model, found without running faster-whisper's imports."""
    spec = importlib.util.find_spec("faster_whisper")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("faster-whisper is not installed: it ships the Silero VAD model")
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / _MODEL_FILE


@cache
def load_vad_model() -> VadModel:
    """The process-wide Silero model: load it once, share it (one thread: many streams share a
    replica's cores, and one window is too small to split)."""
    options = onnxruntime.SessionOptions()
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    options.enable_cpu_mem_arena = False
    options.log_severity_level = 4
    return onnxruntime.InferenceSession(
        str(vad_model_path()), providers=["CPUExecutionProvider"], sess_options=options
    )


class StreamingVad:
    """One stream's VAD state; ``probabilities`` scores each completed 512-sample window once."""

    def __init__(self, model: VadModel | None = None) -> None:
        self._model = model if model is not None else load_vad_model()
        self._pending = np.zeros(0, dtype=np.float32)
        self.reset()

    def reset(self) -> None:
        """Forget the stream: the next window is scored as the first of a recording."""
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    @property
    def pending(self) -> int:
        """Samples received but not yet scored (fewer than one window)."""
        return len(self._pending)

    def probabilities(self, samples: np.ndarray) -> np.ndarray:
        """Speech probability of every window completed by ``samples`` (may be empty)."""
        buffered = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        count = len(buffered) // WINDOW
        self._pending = buffered[count * WINDOW :]
        if count == 0:
            return np.zeros(0, dtype=np.float32)
        windows = buffered[: count * WINDOW].reshape(count, WINDOW)
        return np.concatenate(
            [
                self._score(windows[i : i + _MAX_WINDOWS_PER_CALL])
                for i in range(0, count, _MAX_WINDOWS_PER_CALL)
            ]
        )

    def _score(self, windows: np.ndarray) -> np.ndarray:
        contexts = np.concatenate([self._context[None, :], windows[:-1, -CONTEXT:]])
        batch = np.concatenate([contexts, windows], axis=1)
        probs, self._h, self._c = self._model.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = windows[-1, -CONTEXT:].copy()
        return np.asarray(probs, dtype=np.float32).reshape(-1)
