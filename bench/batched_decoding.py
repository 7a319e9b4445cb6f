"""Cost of N windows decoded as one `transcribe_batch` call versus N separate calls.

    .venv/bin/python -m bench.batched_decoding [--sizes 1 2 4 8] [--seconds 7] [--hotwords same]

Windows are consecutive slices of the dev-meeting recording, as N live streams would send them.
`--hotwords same` gives every window the meeting's jargon list (one decoder call per batch),
`none` gives none, and `distinct` gives each window a list of a different length, which splits
the decoder into one call per window while the encoder stays batched. Prints, per N, the best
of `--repeats` timings and the ratio separate/batched (above 1: batching pays).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import decode_audio

from bench.audio_metrics import DEFAULT_AUDIO
from bench.common.table import Column, format_table
from glossify.transcription.engine import SpeechEngine
from glossify.transcription.types import SAMPLE_RATE, SpeechRequest
from glossify.transcription.wer import wer
from glossify.weights.whisper import resolve_whisper_dir

MEETING_HOTWORDS = ("Kubernetes", "CPK", "EBITDA", "OAuth", "Jira", "SRE", "Snowflake", "GDPR")


def windows(audio: np.ndarray, count: int, seconds: float) -> list[np.ndarray]:
    """`count` back-to-back slices of `seconds`, wrapping around a short recording."""
    size = int(seconds * SAMPLE_RATE)
    starts = [(i * size) % max(1, audio.size - size) for i in range(count)]
    return [audio[start : start + size] for start in starts]


def hotwords_for(index: int, mode: str) -> tuple[str, ...]:
    if mode == "none":
        return ()
    if mode == "distinct":
        return MEETING_HOTWORDS[: 1 + index % len(MEETING_HOTWORDS)]
    return MEETING_HOTWORDS


def requests_for(audio: list[np.ndarray], mode: str) -> list[SpeechRequest]:
    return [
        SpeechRequest(window, language="en", hotwords=hotwords_for(i, mode))
        for i, window in enumerate(audio)
    ]


class StageTimer:
    """Wraps the CTranslate2 model to add up the seconds spent in each of its calls."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds: dict[str, float] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if name not in ("encode", "detect_language", "generate"):
            return method

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                self.seconds[name] = self.seconds.get(name, 0.0) + spent

        return timed


@dataclass
class Timing:
    seconds: float
    texts: list[str]
    stages: dict[str, float]  # seconds per CTranslate2 call kind within the same run


def best_run(run: Callable[[], list[str]], timer: StageTimer, repeats: int) -> Timing:
    """The fastest of `repeats` runs: other processes on the machine only ever add time."""
    best: Timing | None = None
    for _ in range(repeats):
        timer.seconds = {}
        start = time.perf_counter()
        texts = run()
        elapsed = time.perf_counter() - start
        if best is None or elapsed < best.seconds:
            best = Timing(elapsed, texts, timer.seconds)
    assert best is not None
    return best


@dataclass
class Row:
    size: int
    batched: Timing
    separate: Timing

    @property
    def drift(self) -> float:
        """Worst WER between the batched and the separate transcript of one window."""
        pairs = zip(self.separate.texts, self.batched.texts, strict=True)
        return max(wer(a, b) if a or b else 0.0 for a, b in pairs)


def measure(engine: SpeechEngine, requests: list[SpeechRequest], repeats: int) -> Row:
    timer = StageTimer(engine._model.model)
    engine._model.model = timer  # only to report where the time goes
    try:
        batched = best_run(
            lambda: [r.text for r in engine.transcribe_batch(requests)], timer, repeats
        )
        separate = best_run(
            lambda: [engine.transcribe_batch([request])[0].text for request in requests],
            timer,
            repeats,
        )
    finally:
        engine._model.model = timer.inner
    return Row(len(requests), batched, separate)


def _stages(timing: Timing) -> str:
    return " ".join(f"{name[:3]} {seconds:.2f}" for name, seconds in timing.stages.items())


TABLE: list[Column[Row]] = [
    Column("N", 3, lambda row: str(row.size)),
    Column("batched s", 10, lambda row: f"{row.batched.seconds:.2f}"),
    Column("separate s", 11, lambda row: f"{row.separate.seconds:.2f}"),
    Column("sep/batch", 10, lambda row: f"{row.separate.seconds / row.batched.seconds:.2f}"),
    Column("ms/window", 10, lambda row: f"{1000 * row.batched.seconds / row.size:.0f}"),
    Column("WER drift", 10, lambda row: f"{row.drift:.2f}"),
    Column(
        "stages batched | separate (s)",
        0,
        lambda row: f"{_stages(row.batched)} | {_stages(row.separate)}",
        align="<",
        gap="   ",
    ),
]


def table(rows: list[Row]) -> str:
    return format_table(TABLE, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.batched_decoding", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--audio", type=Path, default=DEFAULT_AUDIO)
    parser.add_argument("--model", default=None, help="CTranslate2 directory (default: packaged)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--seconds", type=float, default=7.0, help="window length, 5-10 s")
    parser.add_argument("--hotwords", choices=["same", "none", "distinct"], default="same")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--encoder-margin",
        type=float,
        default=None,
        help="seconds of padding after the audio for a trimmed encoder input (default: 30 s)",
    )
    args = parser.parse_args(argv)

    engine = SpeechEngine(
        resolve_whisper_dir(args.model),
        device=args.device,
        compute_type=args.compute_type,
        cpu_threads=args.threads,
        encoder_margin_s=args.encoder_margin,
    )
    audio = decode_audio(str(args.audio), sampling_rate=SAMPLE_RATE)
    all_windows = windows(audio, max(args.sizes), args.seconds)
    engine.transcribe_batch(requests_for(all_windows[:1], args.hotwords))  # warm-up

    print(
        f"{args.device}/{args.compute_type}, {args.threads} threads, {args.seconds:g} s windows, "
        f"hotwords={args.hotwords}, encoder margin={args.encoder_margin}, "
        f"best of {args.repeats}"
    )
    rows = [
        measure(engine, requests_for(all_windows[:size], args.hotwords), args.repeats)
        for size in args.sizes
    ]
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
