"""The engine: the sample meeting, SpeechEngine on a device, a decoder for windows, the CPU
sanity decode and the warm-up."""

from __future__ import annotations

import time
import wave
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from bench.gpu_check.streams import MEETING_HOTWORDS, Window, cut, hotwords_for
from bench.gpu_check.transcriber import CPU_THREADS, ENCODER_MARGIN_S
from glossify.transcription.types import SAMPLE_RATE, SpeechRequest

SAMPLE_WAV = "sample-meeting.wav"


def load_sample(path: Path | None = None) -> np.ndarray:
    """The sample meeting (16 kHz mono 16-bit WAV) as float32, read with the standard library:
    the decoders faster-whisper brings (PyAV) are not needed for a WAV file."""
    source = resources.files("glossify") / "assets" / SAMPLE_WAV if path is None else path
    with resources.as_file(source) as wav_path, wave.open(str(wav_path), "rb") as wav:
        if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (SAMPLE_RATE, 1, 2):
            raise ValueError(f"{wav_path}: want {SAMPLE_RATE} Hz mono 16-bit PCM")
        frames = wav.readframes(wav.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0


def load_engine(model: str | None, device: str, compute_type: str, margin: float | None) -> Any:
    # Imported here: CTranslate2 and faster-whisper are only needed once there is work to do.
    from glossify.transcription.engine import SpeechEngine
    from glossify.weights.whisper import resolve_whisper_dir

    return SpeechEngine(
        resolve_whisper_dir(model),
        device=device,
        compute_type=compute_type,
        cpu_threads=CPU_THREADS,
        encoder_margin_s=margin,
    )


def decoder(
    engine: Any, audio: np.ndarray, hotwords: str, language: str | None
) -> Callable[[Sequence[Window]], list[str]]:
    def decode(batch: Sequence[Window]) -> list[str]:
        requests = [
            SpeechRequest(
                cut(audio, w), language=language, hotwords=hotwords_for(w.stream, hotwords)
            )
            for w in batch
        ]
        return [result.text for result in engine.transcribe_batch(requests)]

    return decode


def cpu_sanity(model: str | None, audio: np.ndarray, seconds: float = 4.0) -> dict[str, Any]:
    """Decode the sample's first seconds on the CPU: the install and the model work here."""
    started = time.perf_counter()
    engine = load_engine(model, "cpu", "int8", ENCODER_MARGIN_S)
    loaded = time.perf_counter()
    window = audio[: round(seconds * SAMPLE_RATE)]
    (result,) = engine.transcribe_batch(
        [SpeechRequest(window, language="en", hotwords=MEETING_HOTWORDS)]
    )
    done = time.perf_counter()
    return {
        "audio_s": seconds,
        "load_s": round(loaded - started, 2),
        "decode_s": round(done - loaded, 2),
        "text": result.text,
    }


def warm_up(decode: Callable[[Sequence[Window]], list[str]], batch: int) -> tuple[float, str]:
    """First decodes pay for loading kernels (and compiling PTX for a GPU the wheel was not
    built for) and growing CTranslate2's allocator; time them apart from the levels."""
    started = time.perf_counter()
    texts = decode([Window(0, 0.0, 0, 4 * SAMPLE_RATE)])
    if batch > 1:
        decode([Window(i, 0.0, i * 5 * SAMPLE_RATE, 4 * SAMPLE_RATE) for i in range(batch)])
    return time.perf_counter() - started, texts[0]
