"""Speech-to-text engine: Whisper through faster-whisper/CTranslate2, decoded in batches.

A Transcriber replica serves many live streams at once. Decoding their windows one by one would
run the encoder and then every decoder step once per stream; stacking them runs each step once
for the whole batch. Each decoder step is bound by reading the weights, so batching it saves
everywhere (about 35% of decoder time for 8 windows on 2 CPU cores). The encoder over Whisper's
30 s window is bound by arithmetic on a CPU and costs the same per window batched or not, which
is why `encoder_margin_s` exists. The engine knows nothing about Ray: the deployment only
gathers requests into a list.

Each request is one window of at most 30 s (Whisper's receptive field), decoded without
timestamps: the audio layer has already cut utterances at pauses, so there is nothing to split.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from ctranslate2 import StorageView
from ctranslate2.models import WhisperGenerationResult
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import _LANGUAGE_CODES, Tokenizer

from glossify.transcription.gates import DEFAULT_GATES, GateConfig, compression_ratio, gate
from glossify.transcription.types import (
    MAX_SAMPLES,
    MAX_SECONDS,
    SAMPLE_RATE,
    SpeechRequest,
    SpeechResult,
)

WINDOW_FRAMES = 3000  # the encoder's input as trained: 30 s of 10 ms log-mel frames
_FRAMES_PER_SECOND = 100
# A derailed trimmed window is first decoded again with this much more audio after it.
RETRY_EXTRA_MARGIN_S = 2.0

# Whisper's decoder has 448 positions for prompt and output together; the prompt may use half.
_DECODER_POSITIONS = 448
_MAX_PROMPT_TOKENS = _DECODER_POSITIONS // 2 - 1
# Prompts of different lengths cannot share a decoder call (see `transcribe_batch`); context
# tokens are cut to a multiple of this so that streams' prompts mostly line up.
CONTEXT_TOKEN_STEP = 16
# Output budget per second of audio. Fast speech is ~5 tokens/s in English and up to ~12 in
# Japanese; a window that needs more is looping, and one looping item holds up its whole batch.
_TOKENS_PER_SECOND = 12
_MIN_NEW_TOKENS = 24


def check_audio(audio: np.ndarray) -> np.ndarray:
    """The audio as contiguous float32, or ValueError for what the encoder cannot take."""
    samples = np.ascontiguousarray(audio, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"audio must be mono (1-D), got shape {samples.shape}")
    if samples.size > MAX_SAMPLES:
        raise ValueError(
            f"audio is {samples.size / SAMPLE_RATE:.2f} s long; one request holds at most "
            f"{MAX_SECONDS:.0f} s at {SAMPLE_RATE} Hz"
        )
    if not np.isfinite(samples).all():
        raise ValueError("audio contains NaN or infinite samples")
    return samples


def hotword_text(hotwords: tuple[str, ...], max_chars: int) -> str:
    """The hotwords as one ", "-joined line, keeping whole words in order up to `max_chars`."""
    line = ""
    for word in dict.fromkeys(word.strip() for word in hotwords):
        candidate = f"{line}, {word}" if line else word
        if not word or len(candidate) > max_chars:
            continue  # a cut word would teach Whisper a misspelling
        line = candidate
    return line


def previous_text(
    hint: list[int], context: list[int], *, budget: int = _MAX_PROMPT_TOKENS
) -> list[int]:
    """The previous-text prompt: the hotword tokens, then the newest context tokens that fit.

    The context goes last, next to <|startoftranscript|>, because it is what was said just
    before (faster-whisper orders `hotwords` and `initial_prompt` the same way). A context of
    `CONTEXT_TOKEN_STEP` tokens or more is cut to a whole multiple of it, oldest tokens first:
    streams of one meeting then mostly share a prompt length and so one decoder call.
    """
    hint = hint[:budget]
    room = min(len(context), budget - len(hint))
    if room >= CONTEXT_TOKEN_STEP:
        room -= room % CONTEXT_TOKEN_STEP
    return [*hint, *context[len(context) - room :]] if room > 0 else hint


def average_logprob(score: float, token_count: int) -> float:
    """Mean log-probability per token, end-of-text included, from CTranslate2's score.

    CTranslate2 reports the sum of log-probs divided by length ** length_penalty (1 here); the
    end-of-text token is in the sum but not in the length, hence the + 1, as faster-whisper does.
    """
    return score * token_count / (token_count + 1)


def _max_length(longest_samples: int, prompt_length: int) -> int:
    """Decoder positions for a generate call: its prompt plus an output budget for its audio."""
    budget = _MIN_NEW_TOKENS + math.ceil(longest_samples / SAMPLE_RATE * _TOKENS_PER_SECOND)
    return min(_DECODER_POSITIONS, prompt_length + budget)


def _encoder_frames(longest_samples: int, margin_s: float) -> int:
    seconds = math.ceil(longest_samples / SAMPLE_RATE + margin_s)
    return min(WINDOW_FRAMES, max(1, seconds) * _FRAMES_PER_SECOND)


def _same_length_groups(hints: list[list[int]]) -> list[list[int]]:
    """Request indexes grouped by previous-text prompt length, each group in request order."""
    groups: dict[int, list[int]] = {}
    for index, hint in enumerate(hints):
        groups.setdefault(len(hint), []).append(index)
    return list(groups.values())


def _take(encoded: StorageView, indexes: list[int]) -> StorageView:
    """The encoder output of some batch items, as a new (host) StorageView."""
    return StorageView.from_array(np.ascontiguousarray(np.asarray(encoded)[indexes]))


class SpeechEngine:
    """Whisper loaded once; `transcribe_batch` decodes many windows in shared model calls."""

    def __init__(
        self,
        model_dir: str | Path,
        *,
        device: str = "cpu",
        compute_type: str = "int8",
        cpu_threads: int = 2,
        beam_size: int = 1,
        gates: GateConfig = DEFAULT_GATES,
        max_hotword_chars: int = 400,
        encoder_margin_s: float | None = None,
    ) -> None:
        """`encoder_margin_s`: None feeds the encoder the full 30 s window, as faster-whisper
        does. A number feeds it only the batch's longest audio plus that much padding, rounded
        up to whole seconds: on CPU the encoder is ~80% of the cost and does not get cheaper
        per window in a batch, so this is what makes batching pay there. Whisper never saw a
        short window in training: with no margin it loops; with 1 s, WER on the 10 s dev-meeting
        windows stayed within 0.04 of the full window, but 5 s windows of synthetic speech got
        worse, so it stays opt-in.
        """
        if encoder_margin_s is not None and not 0.0 <= encoder_margin_s <= MAX_SECONDS:
            raise ValueError(f"encoder_margin_s must be within 0..30 s, got {encoder_margin_s}")
        self._model = WhisperModel(
            str(model_dir), device=device, compute_type=compute_type, cpu_threads=cpu_threads
        )
        self._multilingual = self._model.model.is_multilingual
        self._beam_size = beam_size
        self._gates = gates
        self._max_hotword_chars = max_hotword_chars
        self._encoder_margin_s = encoder_margin_s
        self._tokenizers: dict[str, Tokenizer] = {}

    def transcribe_batch(self, requests: list[SpeechRequest]) -> list[SpeechResult]:
        """One result per request, in order.

        The whole batch shares one encoder pass and one language detection. The decoder runs
        once per distinct previous-text length (hotwords plus context): CTranslate2 needs
        <|startoftranscript|> at the same position in every prompt of a generate call, and
        padding the shorter hotword lists to line them up changed what Whisper heard (WER 0.08
        -> 0.15..0.87 on the dev meeting). Streams of one meeting share its hotwords, and their
        contexts are cut to a common step (`previous_text`), so they mostly share one decode.
        """
        if not requests:
            return []
        margin = self._encoder_margin_s
        results = self._transcribe(requests, margin_s=margin)
        if margin is None:
            return results
        # A trimmed encoder window now and then derails the decoder (a long utterance comes
        # back as "The", or as low-confidence text). A few seconds more of window usually
        # mends it at a third of the full window's cost (which four streams retrying at once
        # made a 7.5 s final); what is still derailed gets the full 30 s window.
        for retry_margin in (margin + RETRY_EXTRA_MARGIN_S, None):
            retry = [i for i, result in enumerate(results) if _looks_derailed(result, requests[i])]
            if not retry:
                break
            again = self._transcribe([requests[i] for i in retry], margin_s=retry_margin)
            for i, result in zip(retry, again, strict=True):
                results[i] = result
        return results

    def _transcribe(
        self, requests: list[SpeechRequest], *, margin_s: float | None
    ) -> list[SpeechResult]:
        """`margin_s`: seconds of window after the longest audio; None: the full window."""
        audios = [check_audio(request.audio) for request in requests]
        for request in requests:
            self._check_language(request.language)
        hints = [self._previous_text(request) for request in requests]
        groups = _same_length_groups(hints)
        encoded = self._encode(audios, movable=len(groups) > 1, margin_s=margin_s)
        languages = self._languages(requests, encoded)
        prompts = [
            self._prompt(language, hint) for language, hint in zip(languages, hints, strict=True)
        ]
        results: dict[int, SpeechResult] = {}
        for group in groups:
            subset = encoded if len(groups) == 1 else _take(encoded, group)
            outputs = self._generate(
                subset, [prompts[i] for i in group], max(audios[i].size for i in group)
            )
            for i, output in zip(group, outputs, strict=True):
                results[i] = self._result(output, languages[i], requests[i].hotwords)
        return [results[i] for i in range(len(requests))]

    def _encode(
        self, audios: list[np.ndarray], *, movable: bool, margin_s: float | None
    ) -> StorageView:
        longest = max(audio.size for audio in audios)
        frames = WINDOW_FRAMES if margin_s is None else _encoder_frames(longest, margin_s)
        features = np.stack([self._features(audio, frames) for audio in audios])
        # Splitting the output into groups is done in numpy, so on a GPU it comes back to the
        # host first (a few MB per window, small next to the encoder itself).
        to_cpu = movable and self._model.model.device == "cuda"
        return self._model.model.encode(StorageView.from_array(features), to_cpu=to_cpu)

    def _generate(
        self, encoded: StorageView, prompts: list[list[int]], longest_samples: int
    ) -> list[WhisperGenerationResult]:
        results: list[WhisperGenerationResult] = self._model.model.generate(
            encoded,
            prompts,
            beam_size=self._beam_size,
            max_length=_max_length(longest_samples, len(prompts[0])),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],  # -1: the non-speech symbols listed in the model's config
        )
        return results

    def _check_language(self, language: str | None) -> None:
        if language is not None and language not in _LANGUAGE_CODES:
            raise ValueError(f"unknown language code {language!r} (expected e.g. 'en', 'de')")

    def _features(self, audio: np.ndarray, frames: int) -> np.ndarray:
        # Like faster-whisper's batched pipeline: the log-mel of the window itself (its last
        # frame comes from the extractor's own padding), zero-padded to the encoder's input.
        mel = self._model.feature_extractor(audio)[..., :-1][..., :frames]
        return np.pad(mel, ((0, 0), (0, frames - mel.shape[-1])))

    def _languages(self, requests: list[SpeechRequest], encoded: StorageView) -> list[str]:
        if not self._multilingual:
            return ["en"] * len(requests)
        if all(request.language for request in requests):
            return [request.language or "en" for request in requests]
        # One decoder step for the whole batch; cheaper than slicing out the unknown ones.
        detected = self._model.model.detect_language(encoded)
        return [
            request.language or ranking[0][0].strip("<|>")
            for request, ranking in zip(requests, detected, strict=True)
        ]

    def _tokenizer(self, language: str) -> Tokenizer:
        if language not in self._tokenizers:
            self._tokenizers[language] = Tokenizer(
                self._model.hf_tokenizer,
                self._multilingual,
                task="transcribe",
                language=language,
            )
        return self._tokenizers[language]

    def _hotword_tokens(self, hotwords: tuple[str, ...]) -> list[int]:
        line = hotword_text(hotwords, self._max_hotword_chars)
        if not line:
            return []
        # The tokenizer's vocabulary is the same for every language, so any instance will do.
        tokens: list[int] = self._tokenizer("en").encode(" " + line)
        return tokens[:_MAX_PROMPT_TOKENS]

    def _previous_text(self, request: SpeechRequest) -> list[int]:
        hint = self._hotword_tokens(request.hotwords)
        context = request.context.strip()
        if not context:
            return hint
        return previous_text(hint, self._tokenizer("en").encode(" " + context))

    def _prompt(self, language: str, hint: list[int]) -> list[int]:
        tokenizer = self._tokenizer(language)
        # Text in the "previous context" slot biases spelling without being transcribed.
        context = [tokenizer.sot_prev, *hint] if hint else []
        return [*context, *tokenizer.sot_sequence, tokenizer.no_timestamps]

    def _result(
        self, output: WhisperGenerationResult, language: str, hotwords: tuple[str, ...]
    ) -> SpeechResult:
        tokens = output.sequences_ids[0] if output.sequences_ids else []
        raw = self._tokenizer(language).decode(tokens)
        logprob = average_logprob(output.scores[0], len(tokens)) if output.scores else 0.0
        no_speech = float(output.no_speech_prob)
        text, rejected = gate(raw, logprob, no_speech, self._gates, hotwords)
        return SpeechResult(
            text="" if rejected else text,
            language=language,
            avg_logprob=logprob,
            no_speech_prob=no_speech,
            compression_ratio=compression_ratio(text),
            rejected=rejected,
        )


# Speech runs at 2-3 words a second; under half a word a second over a few seconds of
# audio that the VAD called speech means the decoder stopped early.
_MIN_WORDS_PER_SECOND = 0.5
_MIN_CHECKED_SECONDS = 2.0


def _looks_derailed(result: SpeechResult, request: SpeechRequest) -> bool:
    if result.rejected is not None:
        # Phantom phrases and hotword echoes are what the model hears in noise, trimmed or not.
        return result.rejected in ("low_logprob", "no_speech", "repetitive")
    seconds = request.audio.size / SAMPLE_RATE
    if seconds < _MIN_CHECKED_SECONDS:
        return False
    words = len(result.text.split())
    if words <= 1:
        # Scripts written without spaces (Chinese, Japanese): about four characters a word.
        words = len(result.text.strip()) // 4
    return words < _MIN_WORDS_PER_SECOND * seconds
