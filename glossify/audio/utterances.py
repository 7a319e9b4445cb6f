"""Streaming speech segmentation: 16 kHz samples → partial snapshots and final utterances.

Each 512-sample window (32 ms) gets a Silero speech probability (``glossify.audio.vad``). A
window at or above ``speech_threshold`` opens an utterance; a run of windows below a lower threshold
(hysteresis, as in Silero's own ``get_speech_timestamps``) lasting ``min_silence_s`` closes it.
All times are stream time, counted in samples, so results do not depend on how the audio was
chunked or how fast it arrived. Only the open utterance and a short pre-roll are kept in memory.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from glossify.audio.vad import SAMPLE_RATE, WINDOW, StreamingVad, VadModel

# Silero's default: once speech has started, it takes a clearly lower probability to count as
# silence, so a word's soft ending does not flicker the utterance open and shut.
_HYSTERESIS = 0.15
# How far back from the limit a long utterance looks for its quietest window to cut at.
_CUT_SEARCH_S = 2.0


@dataclass(frozen=True)
class Utterance:
    audio: np.ndarray  # 16 kHz float32 covering exactly [start, end), pre-roll included
    start: float  # seconds of stream time
    end: float
    final: bool


@dataclass(frozen=True)
class SegmenterConfig:
    speech_threshold: float = 0.5
    min_silence_s: float = 0.5  # a pause this long ends an utterance → final
    max_utterance_s: float = 15.0  # longer speech is cut (at a quiet window) → final
    min_speech_s: float = 0.25  # shorter blips are dropped (no final)
    pre_roll_s: float = 0.2  # audio kept before the first speech window (VAD onset lags)
    partial_interval_s: float = 1.0  # a partial snapshot after this much new utterance audio
    # Audio kept after the last speech window, so a final's soft last phoneme is not clipped.
    post_roll_s: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 < self.speech_threshold < 1.0:
            raise ValueError("speech_threshold must be in (0, 1)")
        if self.min_silence_s <= 0 or self.max_utterance_s <= 0 or self.partial_interval_s <= 0:
            raise ValueError("min_silence_s, max_utterance_s, partial_interval_s must be > 0")
        if self.min_speech_s < 0 or self.pre_roll_s < 0 or self.post_roll_s < 0:
            raise ValueError("min_speech_s, pre_roll_s, post_roll_s must be >= 0")


def _samples(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE)


class _SampleBuffer:
    """Stream samples [start, end) by absolute index: appended at the end, dropped at the front.

    A preallocated array that doubles when full keeps appends amortised O(chunk) instead of
    re-concatenating the whole utterance for every small push.
    """

    def __init__(self, capacity: int = 4 * SAMPLE_RATE) -> None:
        self._data = np.zeros(capacity, dtype=np.float32)
        self._offset = 0  # where `start` lives in _data
        self._length = 0
        self.start = 0

    @property
    def end(self) -> int:
        return self.start + self._length

    def append(self, samples: np.ndarray) -> None:
        needed = self._length + len(samples)
        if self._offset + needed > len(self._data):
            kept = self._data[self._offset : self._offset + self._length]
            if needed > len(self._data):
                grown = np.zeros(max(needed, 2 * len(self._data)), dtype=np.float32)
                grown[: self._length] = kept
                self._data = grown
            else:
                self._data[: self._length] = kept  # overlapping copy is fine: moving left
            self._offset = 0
        self._data[self._offset + self._length : self._offset + needed] = samples
        self._length = needed

    def drop_before(self, index: int) -> None:
        dropped = min(max(index - self.start, 0), self._length)
        self._offset += dropped
        self._length -= dropped
        self.start += dropped

    def copy(self, begin: int, end: int) -> np.ndarray:
        if not self.start <= begin <= end <= self.end:
            raise IndexError(f"[{begin}, {end}) is outside [{self.start}, {self.end})")
        return self._data[
            self._offset + begin - self.start : self._offset + end - self.start
        ].copy()


@dataclass
class _Open:
    """The utterance being collected; positions are absolute sample indices."""

    audio_start: int  # speech_start less the pre-roll (never before the previous final's end)
    speech_start: int
    snapshot: int  # end of the last partial (or speech_start): measures "new audio"
    silence_start: int | None = None  # first window of the current silence run, if any
    # (window start, probability) of the last ~2 s: where a too-long utterance is cut.
    recent: deque[tuple[int, float]] = field(default_factory=deque)


class UtteranceSegmenter:
    """One stream's segmentation. The VAD model may be shared; all per-stream state lives here."""

    def __init__(
        self, config: SegmenterConfig = SegmenterConfig(), vad: VadModel | None = None
    ) -> None:
        self._config = config
        self._vad = StreamingVad(vad)
        self._threshold = config.speech_threshold
        self._neg_threshold = max(config.speech_threshold - _HYSTERESIS, 0.01)
        self._min_silence = _samples(config.min_silence_s)
        self._max_utterance = _samples(config.max_utterance_s)
        self._min_speech = _samples(config.min_speech_s)
        self._pre_roll = _samples(config.pre_roll_s)
        self._post_roll = _samples(config.post_roll_s)
        self._partial_interval = _samples(config.partial_interval_s)
        search = min(_samples(_CUT_SEARCH_S), self._max_utterance // 2)
        self._cut_windows = max(1, search // WINDOW)
        self._buffer = _SampleBuffer()
        self._vad_pos = 0  # stream index of the next window the VAD will score
        self._floor = 0  # no utterance may reach back before this (the previous final's end)
        self._open: _Open | None = None

    @property
    def stream_time(self) -> float:
        """Seconds of audio pushed so far."""
        return self._buffer.end / SAMPLE_RATE

    @property
    def buffered_s(self) -> float:
        """Seconds of audio held in memory: the open utterance, or just the next pre-roll."""
        return (self._buffer.end - self._buffer.start) / SAMPLE_RATE

    def push(self, samples: np.ndarray) -> list[Utterance]:
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self._buffer.append(samples)
        out: list[Utterance] = []
        for prob in self._vad.probabilities(samples):
            self._on_window(self._vad_pos, float(prob), out)
            self._vad_pos += WINDOW
        self._trim()
        return out

    def flush(self) -> list[Utterance]:
        """End of audio: close the open utterance; the unscored tail counts as its last state."""
        out: list[Utterance] = []
        if self._open is not None:
            utterance = self._open
            end = self._buffer.end
            speech_end = end if utterance.silence_start is None else utterance.silence_start
            self._finish(speech_end, end, out)
        # The next push, if any, starts a fresh recording at the current stream time.
        self._vad.reset()
        self._vad_pos = self._buffer.end
        self._trim()
        return out

    def _on_window(self, pos: int, prob: float, out: list[Utterance]) -> None:
        utterance = self._open
        if utterance is None:
            if prob < self._threshold:
                return
            audio_start = max(pos - self._pre_roll, self._floor, self._buffer.start)
            utterance = self._open = _Open(audio_start, pos, snapshot=pos)
        elif prob >= self._threshold:
            utterance.silence_start = None
        elif prob < self._neg_threshold and utterance.silence_start is None:
            utterance.silence_start = pos
        utterance.recent.append((pos, prob))
        if len(utterance.recent) > self._cut_windows:
            utterance.recent.popleft()

        end = pos + WINDOW
        if (
            utterance.silence_start is not None
            and end - utterance.silence_start >= self._min_silence
        ):
            self._finish(utterance.silence_start, end, out)
        elif end - utterance.speech_start >= self._max_utterance:
            self._cut(out)
        elif (
            utterance.silence_start is None  # a snapshot in a pause is about to be superseded
            and end - utterance.snapshot >= self._partial_interval
            and end - utterance.speech_start >= self._min_speech
        ):
            out.append(self._utterance(utterance.audio_start, end, final=False))
            utterance.snapshot = end

    def _finish(self, speech_end: int, limit: int, out: list[Utterance]) -> None:
        """Close the open utterance at ``speech_end``; ``limit`` is the last sample scored."""
        utterance = self._open
        assert utterance is not None
        self._open = None
        if speech_end - utterance.speech_start < self._min_speech:
            return  # a blip (cough, click): not worth a transcription
        end = min(speech_end + self._post_roll, utterance.speech_start + self._max_utterance, limit)
        out.append(self._utterance(utterance.audio_start, end, final=True))
        self._floor = end

    def _cut(self, out: list[Utterance]) -> None:
        """Too long: end a final in the middle of the quietest recent window, continue after."""
        utterance = self._open
        assert utterance is not None
        # min() keeps the earliest of equally quiet windows: the shorter final stays in bounds.
        quiet_pos, _ = min(utterance.recent, key=lambda item: item[1])
        cut = quiet_pos + WINDOW // 2
        out.append(self._utterance(utterance.audio_start, cut, final=True))
        self._floor = cut
        # The rest is the start of the next utterance: no pre-roll, it would overlap this final.
        rest = _Open(cut, cut, snapshot=cut, silence_start=utterance.silence_start)
        rest.recent.extend(item for item in utterance.recent if item[0] >= cut)
        self._open = rest

    def _utterance(self, begin: int, end: int, *, final: bool) -> Utterance:
        return Utterance(
            audio=self._buffer.copy(begin, end),
            start=begin / SAMPLE_RATE,
            end=end / SAMPLE_RATE,
            final=final,
        )

    def _trim(self) -> None:
        # Keep the open utterance, or else just enough for the next one's pre-roll.
        if self._open is not None:
            self._buffer.drop_before(self._open.audio_start)
        else:
            self._buffer.drop_before(max(self._floor, self._vad_pos - self._pre_roll))
