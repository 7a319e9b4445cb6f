"""The synthetic live streams (when each closes an utterance, and its audio) and playing them
through a batcher that takes them as the Transcriber's `@serve.batch` does."""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from bench.gpu_check.transcriber import BATCH_WAIT_S, MAX_BATCH_SIZE
from glossify.transcription.types import SAMPLE_RATE

MEETING_HOTWORDS = ("Kubernetes", "CPK", "EBITDA", "OAuth", "Jira", "SRE", "Snowflake", "GDPR")


@dataclass(frozen=True)
class Pace:
    """How one live stream speaks: utterances the segmenter closes at pauses."""

    min_utterance_s: float = 2.0
    max_utterance_s: float = 6.0
    # At least the segmenter's min_silence_s (0.5 s): a shorter pause would not close a window.
    min_pause_s: float = 0.5
    max_pause_s: float = 2.0

    @property
    def stagger_s(self) -> float:
        """Streams start within one longest cycle of each other, so the load starts ramped."""
        return self.max_utterance_s + self.max_pause_s

    @property
    def speech_share(self) -> float:
        """Seconds of audio a stream sends per second of wall time, on average."""
        speech = (self.min_utterance_s + self.max_utterance_s) / 2
        pause = (self.min_pause_s + self.max_pause_s) / 2
        return speech / (speech + pause)


@dataclass(frozen=True)
class Window:
    """One closed utterance of one stream, ready for the decoder at `ready_at`."""

    stream: int
    ready_at: float  # seconds from the level's start
    start: int  # first sample in the source recording (wrapping around its end)
    samples: int

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE


def schedule(
    streams: int, seconds: float, source_samples: int, *, pace: Pace = Pace(), seed: int = 0
) -> list[Window]:
    """Every window K streams close within `seconds`, in the order they become ready.

    Each stream reads the recording on from its own random point, pause included, as a live
    speaker would; random but fixed by `seed`, so two runs offer the same load.
    """
    if source_samples < pace.max_utterance_s * SAMPLE_RATE:
        raise ValueError("the source recording is shorter than the longest utterance")
    rng = random.Random(seed)
    # In a level shorter than the stagger, start each stream early enough to close one window.
    stagger = min(pace.stagger_s, max(0.0, seconds - pace.max_utterance_s))
    windows: list[Window] = []
    for stream in range(streams):
        clock = rng.uniform(0.0, stagger)
        cursor = rng.randrange(source_samples)
        while True:
            length = rng.uniform(pace.min_utterance_s, pace.max_utterance_s)
            closed = clock + length
            if closed > seconds:
                break
            samples = round(length * SAMPLE_RATE)
            windows.append(Window(stream, closed, cursor % source_samples, samples))
            pause = rng.uniform(pace.min_pause_s, pace.max_pause_s)
            cursor += samples + round(pause * SAMPLE_RATE)
            clock = closed + pause
    windows.sort(key=lambda w: (w.ready_at, w.stream))
    return windows


def cut(audio: np.ndarray, window: Window) -> np.ndarray:
    """The window's audio, wrapping around the end of the recording."""
    end = window.start + window.samples
    if end <= audio.size:
        return audio[window.start : end]
    return np.concatenate([audio[window.start :], audio[: end - audio.size]])


def hotwords_for(stream: int, mode: str) -> tuple[str, ...]:
    """`distinct`: lists of up to 8 lengths, as different meetings have (one decoder call per
    prompt length in a batch); `same`: one meeting's list for all; `none`: no hotwords."""
    if mode == "none":
        return ()
    if mode == "distinct":
        return MEETING_HOTWORDS[: 1 + stream % len(MEETING_HOTWORDS)]
    return MEETING_HOTWORDS


# --- playing one level -------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class WallClock:
    def now(self) -> float:
        return time.perf_counter()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass
class LevelRun:
    """What happened when one level was played."""

    streams: int
    seconds: float  # span in which windows arrived
    offered: int  # windows scheduled
    latencies: list[float] = field(default_factory=list)  # per decoded final
    batch_sizes: list[int] = field(default_factory=list)
    # (time, windows left waiting for a later batch) each time a batch is taken
    backlog: list[tuple[float, int]] = field(default_factory=list)
    decode_s: float = 0.0
    audio_s: float = 0.0
    wall_s: float = 0.0
    complete: bool = True


def play(
    windows: Sequence[Window],
    decode: Callable[[Sequence[Window]], object],
    *,
    streams: int,
    seconds: float,
    max_batch_size: int = MAX_BATCH_SIZE,
    batch_wait_s: float = BATCH_WAIT_S,
    deadline_s: float = math.inf,
    clock: Clock | None = None,
) -> LevelRun:
    """Feed `windows` at their ready times to `decode`, batched as the Transcriber batches.

    One batch at a time (Serve runs one batch of a method at a time, and FinalsFirst serialises
    finals and partials): whatever became ready during a decode is taken next, up to
    `max_batch_size`; a batch smaller than that waits `batch_wait_s` for more, as
    `@serve.batch(batch_wait_timeout_s)` does. Stops at `deadline_s` with the rest undecoded.
    """
    clock = clock or WallClock()
    run = LevelRun(streams=streams, seconds=seconds, offered=len(windows))
    pending: deque[Window] = deque()
    arrived = 0
    begin = clock.now()

    def elapsed() -> float:
        return clock.now() - begin

    def admit() -> None:
        nonlocal arrived
        now = elapsed()
        while arrived < len(windows) and windows[arrived].ready_at <= now:
            pending.append(windows[arrived])
            arrived += 1

    def next_arrival() -> float:
        return windows[arrived].ready_at if arrived < len(windows) else math.inf

    while arrived < len(windows) or pending:
        if elapsed() > deadline_s:
            run.complete = False
            break
        admit()
        if not pending:
            clock.sleep(min(next_arrival(), deadline_s) - elapsed())
            continue
        hold_until = elapsed() + batch_wait_s
        while len(pending) < max_batch_size and elapsed() < hold_until:
            clock.sleep(min(next_arrival(), hold_until) - elapsed())
            admit()
        batch = [pending.popleft() for _ in range(min(max_batch_size, len(pending)))]
        run.backlog.append((elapsed(), len(pending)))
        started = clock.now()
        decode(batch)
        run.decode_s += clock.now() - started
        done = elapsed()
        run.latencies.extend(done - window.ready_at for window in batch)
        run.batch_sizes.append(len(batch))
        run.audio_s += sum(window.seconds for window in batch)
    run.wall_s = elapsed()
    return run
