"""Streaming segmentation with the real Silero VAD on real speech (no Ray, no Whisper)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pytest
from faster_whisper import decode_audio
from faster_whisper.vad import get_vad_model

from glossify.audio.utterances import SegmenterConfig, Utterance, UtteranceSegmenter
from glossify.audio.vad import WINDOW, StreamingVad, load_vad_model
from tests.paths import SHARED_AUDIO

AUDIO = SHARED_AUDIO
RATE = 16000
DEFAULT = SegmenterConfig()


@dataclass(frozen=True)
class Emitted:
    utterance: Utterance
    at: float  # stream time when push()/flush() returned it


def segment(
    samples: np.ndarray, chunk_s: float = 0.1, config: SegmenterConfig = DEFAULT
) -> list[Emitted]:
    segmenter = UtteranceSegmenter(config, vad=load_vad_model())
    step = round(chunk_s * RATE)
    out: list[Emitted] = []
    for i in range(0, len(samples), step):
        found = segmenter.push(samples[i : i + step])
        out += [Emitted(u, segmenter.stream_time) for u in found]
    out += [Emitted(u, segmenter.stream_time) for u in segmenter.flush()]
    return out


def finals(emitted: list[Emitted]) -> list[Utterance]:
    return [e.utterance for e in emitted if e.utterance.final]


@pytest.fixture(scope="module")
def hibari() -> np.ndarray:
    return decode_audio(str(AUDIO / "dev-meeting-hibari.wav"), sampling_rate=RATE)


@pytest.fixture(scope="module")
def hibari_run(hibari: np.ndarray) -> list[Emitted]:
    return segment(hibari)


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    return decode_audio(str(AUDIO / "jfk.flac"), sampling_rate=RATE)


def check_finals(found: list[Utterance], duration: float, config: SegmenterConfig) -> None:
    previous_end = 0.0
    for utterance in found:
        assert previous_end <= utterance.start < utterance.end <= duration + 1e-9
        assert utterance.audio.dtype == np.float32
        assert len(utterance.audio) == round((utterance.end - utterance.start) * RATE)
        assert utterance.end - utterance.start <= config.max_utterance_s + config.pre_roll_s
        previous_end = utterance.end


def test_streaming_vad_matches_whole_recording_scoring(hibari: np.ndarray) -> None:
    audio = hibari[: 300 * WINDOW]
    # faster-whisper's own loader and whole-recording scoring are the reference.
    whole = np.asarray(get_vad_model()(audio)).reshape(-1)
    vad = StreamingVad(load_vad_model())
    sizes = np.random.default_rng(3).integers(1, 3000, 400)
    bounds = np.minimum(np.cumsum(np.concatenate([[0], sizes])), len(audio))
    pieces = [vad.probabilities(audio[a:b]) for a, b in pairwise(bounds)]
    streamed = np.concatenate(pieces)
    assert len(streamed) == 300
    np.testing.assert_allclose(streamed, whole, atol=1e-5)
    assert vad.pending == 0


def test_hibari_gives_about_one_final_per_sentence(hibari: np.ndarray, hibari_run) -> None:
    found = finals(hibari_run)
    assert 8 <= len(found) <= 14
    check_finals(found, len(hibari) / RATE, DEFAULT)


def test_partials_grow_before_their_final(hibari_run: list[Emitted]) -> None:
    pending: list[Utterance] = []
    with_partials = 0
    for emitted in hibari_run:
        utterance = emitted.utterance
        if not utterance.final:
            if pending:
                assert utterance.start == pending[-1].start
                assert utterance.end > pending[-1].end
            pending.append(utterance)
            continue
        for partial in pending:
            assert partial.start == utterance.start
            assert partial.end <= utterance.end
            np.testing.assert_array_equal(partial.audio, utterance.audio[: len(partial.audio)])
        with_partials += bool(pending)
        pending = []
    assert not pending
    # The sentences all run 4–7 s: each should have shown a partial before its final.
    assert with_partials == len(finals(hibari_run))


def test_finals_come_shortly_after_speech_ends(hibari_run: list[Emitted]) -> None:
    for emitted in hibari_run:
        utterance = emitted.utterance
        if utterance.final:
            speech_end = utterance.end - DEFAULT.post_roll_s
            delay = emitted.at - speech_end
            assert DEFAULT.min_silence_s <= delay <= DEFAULT.min_silence_s + 0.2


def test_jfk_gives_a_few_finals_covering_the_speech(jfk: np.ndarray) -> None:
    emitted = segment(jfk)
    found = finals(emitted)
    assert 1 <= len(found) <= 4
    check_finals(found, len(jfk) / RATE, DEFAULT)
    assert found[0].start < 1.0
    assert found[-1].end > 10.0
    assert sum(u.end - u.start for u in found) > 7.5


@pytest.mark.parametrize(
    "noise",
    [np.zeros(10 * RATE, dtype=np.float32), np.random.default_rng(0).normal(0, 0.05, 10 * RATE)],
    ids=["silence", "white-noise"],
)
def test_silence_and_noise_give_nothing_and_hold_only_the_pre_roll(noise: np.ndarray) -> None:
    segmenter = UtteranceSegmenter(vad=load_vad_model())
    for i in range(0, len(noise), 1600):
        assert segmenter.push(noise[i : i + 1600].astype(np.float32)) == []
        assert segmenter.buffered_s <= DEFAULT.pre_roll_s + WINDOW / RATE
    assert segmenter.flush() == []
    assert segmenter.stream_time == pytest.approx(10.0)


def test_continuous_speech_is_cut_at_max_utterance(hibari_run: list[Emitted]) -> None:
    # The sentences back to back, pauses removed: over 50 s without a 0.5 s silence.
    speech = np.concatenate([u.audio for u in finals(hibari_run)])
    found = finals(segment(speech))
    assert len(found) >= 3
    check_finals(found, len(speech) / RATE, DEFAULT)
    for cut, following in pairwise(found):
        # Cut near the limit (at the quietest window of its last 2 s) and continued seamlessly.
        assert DEFAULT.max_utterance_s - 2.1 <= cut.end - cut.start <= DEFAULT.max_utterance_s
        assert following.start == cut.end
    assert found[0].start == 0.0
    assert found[-1].end == pytest.approx(len(speech) / RATE)


def test_flush_emits_the_open_utterance(hibari: np.ndarray) -> None:
    segmenter = UtteranceSegmenter(vad=load_vad_model())
    pushed = [u for i in range(0, 5 * RATE, 1600) for u in segmenter.push(hibari[i : i + 1600])]
    assert pushed and not any(u.final for u in pushed)  # mid-sentence: partials only
    (final,) = segmenter.flush()
    assert final.final
    assert final.start == pushed[0].start
    assert final.end == pytest.approx(5.0)
    assert len(final.audio) == round((final.end - final.start) * RATE)
    assert segmenter.flush() == []


def test_utterances_shorter_than_min_speech_are_dropped(hibari: np.ndarray) -> None:
    # The first sentence (about 7 s of speech, then a pause) is a "blip" when 10 s are required.
    config = SegmenterConfig(min_speech_s=10.0, max_utterance_s=20.0)
    assert segment(hibari[: 8 * RATE], config=config) == []


@pytest.mark.parametrize("chunk_s", [0.02, 0.5])
def test_chunk_size_does_not_change_the_finals(
    hibari: np.ndarray, hibari_run: list[Emitted], chunk_s: float
) -> None:
    reference = finals(hibari_run)
    found = finals(segment(hibari, chunk_s=chunk_s))
    assert len(found) == len(reference)
    for a, b in zip(found, reference, strict=True):
        assert abs(a.start - b.start) <= 0.1
        assert abs(a.end - b.end) <= 0.1


def test_config_is_checked() -> None:
    with pytest.raises(ValueError):
        SegmenterConfig(speech_threshold=1.5)
    with pytest.raises(ValueError):
        SegmenterConfig(min_silence_s=0)
    with pytest.raises(ValueError):
        SegmenterConfig(pre_roll_s=-0.1)
