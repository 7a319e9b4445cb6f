"""Client PCM frames → 16 kHz float32 mono: passthrough, streaming resampling, frame checks."""

from __future__ import annotations

import numpy as np
import pytest

from glossify.audio.pcm import (
    SUPPORTED_ENCODINGS,
    SUPPORTED_RATES,
    AudioFormat,
    AudioFormatError,
    PcmStream,
    check_format,
)

TONE_HZ = 440.0
AMPLITUDE = 0.5


def sine(rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return AMPLITUDE * np.sin(2 * np.pi * TONE_HZ * t)


def encode(samples: np.ndarray, encoding: str) -> bytes:
    if encoding == "pcm_s16le":
        return np.round(samples * 32767).astype("<i2").tobytes()
    return samples.astype("<f4").tobytes()


def frames_of(samples: np.ndarray, rate: int, encoding: str, seconds: float = 0.1) -> list[bytes]:
    step = round(rate * seconds)
    return [encode(samples[i : i + step], encoding) for i in range(0, len(samples), step)]


def run(stream: PcmStream, frames: list[bytes]) -> np.ndarray:
    return np.concatenate([stream.feed(frame) for frame in frames] + [stream.flush()])


def error_code(call) -> str:
    with pytest.raises(AudioFormatError) as info:
        call()
    assert info.value.message
    return info.value.code


def test_check_format_accepts_every_supported_pair() -> None:
    for rate in SUPPORTED_RATES:
        for encoding in SUPPORTED_ENCODINGS:
            assert check_format(rate, encoding) == AudioFormat(rate, encoding)


@pytest.mark.parametrize("rate", [12345, 0, -16000, 16000.0, True, "16000", None])
def test_check_format_rejects_rates(rate: object) -> None:
    assert error_code(lambda: check_format(rate, "pcm_s16le")) == "unsupported_sample_rate"


@pytest.mark.parametrize("encoding", ["pcm_u8", "PCM_S16LE", "", None, 16])
def test_check_format_rejects_encodings(encoding: object) -> None:
    assert error_code(lambda: check_format(16000, encoding)) == "unsupported_encoding"


def test_audio_format_error_is_a_value_error() -> None:
    error = AudioFormatError("empty_frame", "nothing in it")
    assert isinstance(error, ValueError)
    assert (error.code, error.message, str(error)) == (
        "empty_frame",
        "nothing in it",
        "nothing in it",
    )


def test_16k_s16_passes_through_exactly() -> None:
    ints = np.random.default_rng(1).integers(-32768, 32768, 4000).astype("<i2")
    stream = PcmStream(AudioFormat(16000, "pcm_s16le"))
    out = stream.feed(ints.tobytes())
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, ints.astype(np.float32) / 32768)
    assert stream.flush().size == 0


def test_16k_f32_passes_through_exactly() -> None:
    floats = np.random.default_rng(2).uniform(-1, 1, 1000).astype("<f4")
    out = PcmStream(AudioFormat(16000, "pcm_f32le")).feed(floats.tobytes())
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, floats)
    out[0] = 5.0  # the result is the caller's own array, not a read-only view of the frame


@pytest.mark.parametrize("encoding", SUPPORTED_ENCODINGS)
@pytest.mark.parametrize("rate", [48000, 44100, 22050, 8000])
def test_resampled_sine_keeps_length_pitch_and_continuity(rate: int, encoding: str) -> None:
    out = run(PcmStream(AudioFormat(rate, encoding)), frames_of(sine(rate), rate, encoding))
    assert out.dtype == np.float32
    assert abs(len(out) - 16000) <= 160

    spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out))))
    peak_hz = np.argmax(spectrum) * 16000 / len(out)
    assert abs(peak_hz - TONE_HZ) < 2

    # A clean sine through a streaming filter is still a sine (up to a phase shift); a click at
    # a 100 ms frame boundary would show up as a large residual from the best-fitting sine.
    steady = out[200:-200]
    t = (np.arange(len(steady)) + 200) / 16000
    basis = np.stack([np.sin(2 * np.pi * TONE_HZ * t), np.cos(2 * np.pi * TONE_HZ * t)], axis=1)
    fit, *_ = np.linalg.lstsq(basis, steady, rcond=None)
    assert abs(np.hypot(*fit) - AMPLITUDE) < 0.02
    residual = steady - basis @ fit
    assert np.max(np.abs(residual)) < 1e-3
    max_step = 2 * np.pi * TONE_HZ / 16000 * AMPLITUDE
    assert np.max(np.abs(np.diff(steady))) < 1.05 * max_step


def test_frame_size_mismatch_is_odd_length() -> None:
    s16 = PcmStream(AudioFormat(16000, "pcm_s16le"))
    assert error_code(lambda: s16.feed(b"\x00\x01\x02")) == "odd_length_pcm"
    f32 = PcmStream(AudioFormat(48000, "pcm_f32le"))
    assert error_code(lambda: f32.feed(b"\x00" * 6)) == "odd_length_pcm"


def test_empty_frame() -> None:
    stream = PcmStream(AudioFormat(44100, "pcm_s16le"))
    assert error_code(lambda: stream.feed(b"")) == "empty_frame"


def test_frame_too_large_is_measured_at_the_announced_rate() -> None:
    stream = PcmStream(AudioFormat(8000, "pcm_s16le"), max_frame_seconds=0.5)
    assert stream.feed(b"\x00\x00" * 4000).size > 0  # exactly 0.5 s is allowed
    assert error_code(lambda: stream.feed(b"\x00\x00" * 4001)) == "frame_too_large"


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_float_samples(bad: float) -> None:
    samples = np.zeros(160, dtype="<f4")
    samples[77] = bad
    stream = PcmStream(AudioFormat(16000, "pcm_f32le"))
    assert error_code(lambda: stream.feed(samples.tobytes())) == "invalid_samples"


@pytest.mark.parametrize("encoding", SUPPORTED_ENCODINGS)
def test_bad_frames_between_good_ones_change_nothing(encoding: str) -> None:
    frames = frames_of(sine(48000), 48000, encoding)
    clean = run(PcmStream(AudioFormat(48000, encoding)), frames)

    stream = PcmStream(AudioFormat(48000, encoding), max_frame_seconds=0.2)
    width = 2 if encoding == "pcm_s16le" else 4
    bad_frames = [b"", b"\x00" * (width * 100 + 1), b"\x00" * (width * 9601)]
    if encoding == "pcm_f32le":
        bad_frames.append(np.full(100, np.nan, dtype="<f4").tobytes())
    pieces = [stream.feed(frame) for frame in frames[:5]]
    for frame in bad_frames:
        with pytest.raises(AudioFormatError):
            stream.feed(frame)
    pieces += [stream.feed(frame) for frame in frames[5:]] + [stream.flush()]
    np.testing.assert_array_equal(np.concatenate(pieces), clean)


def test_feeding_after_flush_starts_a_fresh_resampler() -> None:
    stream = PcmStream(AudioFormat(24000, "pcm_s16le"))
    first = run(stream, frames_of(sine(24000, 0.3), 24000, "pcm_s16le"))
    again = run(stream, frames_of(sine(24000, 0.3), 24000, "pcm_s16le"))
    np.testing.assert_array_equal(first, again)
    assert stream.flush().size == 0
