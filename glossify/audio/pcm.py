"""Client audio frames (raw little-endian PCM, mono) → 16 kHz float32 mono samples.

Pure and synchronous: one ``PcmStream`` per sending connection. Every frame is checked before it
touches the resampler, so a bad frame is answered with an error and the stream carries on as if
it had never been sent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

TARGET_RATE = 16000
SUPPORTED_RATES: tuple[int, ...] = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
SUPPORTED_ENCODINGS = ("pcm_s16le", "pcm_f32le")

# Explicit little-endian dtypes: the wire format is LE whatever the host is.
_DTYPES: dict[str, np.dtype[Any]] = {"pcm_s16le": np.dtype("<i2"), "pcm_f32le": np.dtype("<f4")}
# PyAV sample format names of the packed (interleaved) layouts matching the wire encodings.
_AV_FORMATS = {"pcm_s16le": "s16", "pcm_f32le": "flt"}
_EMPTY = np.zeros(0, dtype=np.float32)


class AudioFormatError(ValueError):
    """A bad ``audio_start`` or frame; ``code`` and ``message`` make the ``error`` event."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class AudioFormat:
    sample_rate: int = TARGET_RATE
    encoding: str = "pcm_s16le"

    @property
    def bytes_per_sample(self) -> int:
        return _DTYPES[self.encoding].itemsize


def check_format(sample_rate: object, encoding: object) -> AudioFormat:
    # bool is an int subclass and 16000.0 == 16000: both would slip through a plain `in` test,
    # so insist on a real int.
    if type(sample_rate) is not int or sample_rate not in SUPPORTED_RATES:
        raise AudioFormatError(
            "unsupported_sample_rate",
            f"sample_rate must be one of {', '.join(map(str, SUPPORTED_RATES))}",
        )
    if not isinstance(encoding, str) or encoding not in SUPPORTED_ENCODINGS:
        raise AudioFormatError(
            "unsupported_encoding", f"encoding must be one of {', '.join(SUPPORTED_ENCODINGS)}"
        )
    return AudioFormat(sample_rate=sample_rate, encoding=encoding)


def decode_frame(fmt: AudioFormat, frame: bytes, max_samples: int) -> np.ndarray:
    """The frame's samples in the wire dtype, or AudioFormatError; nothing is changed."""
    if not frame:
        raise AudioFormatError("empty_frame", "an audio frame must not be empty")
    width = fmt.bytes_per_sample
    if len(frame) % width:
        raise AudioFormatError(
            "odd_length_pcm", f"{fmt.encoding} frames must be a multiple of {width} bytes"
        )
    if len(frame) // width > max_samples:
        raise AudioFormatError(
            "frame_too_large", f"a frame may hold at most {max_samples} samples at this rate"
        )
    samples = np.frombuffer(frame, dtype=_DTYPES[fmt.encoding])
    if fmt.encoding == "pcm_f32le" and not np.isfinite(samples).all():
        raise AudioFormatError("invalid_samples", "pcm_f32le frames must not contain NaN or inf")
    return np.asarray(samples)


def to_float32(samples: np.ndarray) -> np.ndarray:
    """Wire samples → float32 in [-1, 1) (int16 scaled by 1/32768, as Whisper expects)."""
    if samples.dtype.kind == "i":
        return samples.astype(np.float32) / np.float32(32768.0)
    return samples.astype(np.float32)  # also a copy: frombuffer arrays are read-only views


def pcm16(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] → the wire's 16-bit little-endian PCM (what a client sends)."""
    return bytes((np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes())


class _Resampler:
    """Streaming libswresample: its filter state spans frames, so boundaries add no clicks."""

    def __init__(self, fmt: AudioFormat) -> None:
        self._fmt = fmt
        self._av_format = _AV_FORMATS[fmt.encoding]
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=TARGET_RATE)

    def feed(self, samples: np.ndarray) -> np.ndarray:
        # Packed mono frames are shaped (1, samples) in PyAV; the native-endian copy is what
        # from_ndarray wants on any host.
        native = samples.astype(samples.dtype.newbyteorder("="), copy=False)
        frame = av.AudioFrame.from_ndarray(
            native.reshape(1, -1), format=self._av_format, layout="mono"
        )
        frame.sample_rate = self._fmt.sample_rate
        return _collect(self._resampler.resample(frame))

    def flush(self) -> np.ndarray:
        return _collect(self._resampler.resample(None))


def _collect(frames: list[av.AudioFrame]) -> np.ndarray:
    if not frames:
        return _EMPTY.copy()
    return np.concatenate([frame.to_ndarray().reshape(-1) for frame in frames]).astype(
        np.float32, copy=False
    )


class PcmStream:
    """One client's frames in the announced format → 16 kHz float32 mono."""

    def __init__(self, fmt: AudioFormat, max_frame_seconds: float = 1.0) -> None:
        self._fmt = fmt
        self._max_samples = math.floor(max_frame_seconds * fmt.sample_rate)
        # 16 kHz needs no filter: passing it through keeps samples bit-exact and costs nothing.
        self._resampler = None if fmt.sample_rate == TARGET_RATE else _Resampler(fmt)
        self._flushed = False

    @property
    def format(self) -> AudioFormat:
        return self._fmt

    def feed(self, frame: bytes) -> np.ndarray:
        samples = decode_frame(self._fmt, frame, self._max_samples)
        if self._resampler is None:
            return to_float32(samples)
        if self._flushed:
            # libswresample cannot take input after a flush; start a fresh filter instead.
            self._resampler = _Resampler(self._fmt)
            self._flushed = False
        return self._resampler.feed(samples)

    def flush(self) -> np.ndarray:
        if self._resampler is None or self._flushed:
            return _EMPTY.copy()
        self._flushed = True
        return self._resampler.flush()
