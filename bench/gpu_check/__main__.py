"""GPU check: how many live streams one GPU transcribes in real time (CUDA float16, Whisper base).

On an NVIDIA machine, in one call (it installs what it needs, then runs this module):

    bash bench/gpu_check.sh                     # table on stdout, $OUT/gpu_check.json

The workplace's device machine reaches no package index and takes 64 MiB per call, so the
pinned wheels (~230 MB) travel in parts first; `bash bench/gpu_check.sh prepare` (here) stages
them and prints the calls, which are:

    run(command="bash bench/gpu_check.sh receive", carry=[".gpu-carry/1"])   # 2, 3 alike
    run(command="bash bench/gpu_check.sh", carry=[".gpu-carry/4"], timeout_s=540)

back to back (a machine idle for 30 s goes back with the parts). Where the project's venv is:

    .venv/bin/python -m bench.gpu_check [--streams 1,4,8,16,32] [--seconds 30] [--json PATH]

With no CUDA device it prints "no GPU: <why>", decodes a few seconds on the CPU as a sanity
check and exits 0 (so CI and the tests run it); `--cpu` runs the whole stream check on the CPU.

What it does on a GPU: loads `SpeechEngine` on cuda/float16 with the packaged Whisper base, then
for each stream count K plays K live streams at real-time pace. Each stream closes an utterance
of 2-6 s of the sample meeting after a 0.5-2 s pause, like the segmenter does at a pause; the
closed windows queue for the decoder and are taken the way the Transcriber's `@serve.batch`
takes them (one batch at a time, up to max_batch_size, a partial batch held batch_wait_s for
more). Per level it reports the batch sizes seen, final latency (utterance closed -> text)
p50/p95, decode throughput (audio seconds per second of decoding) and whether K is real time:
p95 <= 2 s and no growing backlog. Partials are not simulated: the Transcriber starts them only
when no final waits (FinalsFirst) and drops stale ones, so they use spare time; a final that
arrives during a partial's decode waits for it, which this check does not count. The VAD's
closing silence (min_silence_s) comes before "utterance closed" and is not in these latencies.

Imports only the standard library, numpy and glossify, and CTranslate2 to count CUDA devices.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import wave
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from glossify.transcription.types import SAMPLE_RATE, SpeechRequest

# The Transcriber as serve_config.yaml deploys it (tests/bench/test_gpu_check.py keeps these in
# step with serve_config.yaml and TranscriberConfig; glossify.config needs pydantic, which the
# device machine lacks, so they are repeated here rather than read).
MAX_BATCH_SIZE = 16
BATCH_WAIT_S = 0.02
ENCODER_MARGIN_S = 1.0
CPU_THREADS = 2
REALTIME_P95_S = 2.0
DEFAULT_STREAMS = (1, 4, 8, 16, 32, 64, 128)
DEFAULT_SECONDS = 30.0
# Levels are not started past this many seconds of the run, so the one-call script ends in time.
DEFAULT_BUDGET_S = 330.0
MEETING_HOTWORDS = ("Kubernetes", "CPK", "EBITDA", "OAuth", "Jira", "SRE", "Snowflake", "GDPR")
SAMPLE_WAV = "sample-meeting.wav"
NVIDIA_SMI_TIMEOUT_S = 10.0


# --- the streams -------------------------------------------------------------------------------


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


# --- judging it --------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), interpolated between ranks as numpy's default does."""
    if not values:
        return None
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def backlog_growth(backlog: Sequence[tuple[float, int]], settle_s: float, end_s: float) -> float:
    """Mean windows left waiting in the second half of [settle_s, end_s] minus the first half.

    A GPU that keeps up leaves about nothing behind each batch all along; one that does not
    leaves more and more. The ramp before every stream has started (settle_s) is left out, and
    so is the drain after the last arrival.
    """
    middle = (settle_s + end_s) / 2
    first = [left for at, left in backlog if settle_s <= at < middle]
    second = [left for at, left in backlog if middle <= at <= end_s]
    if not first or not second:
        return 0.0
    return sum(second) / len(second) - sum(first) / len(first)


def verdict(
    p95_s: float | None,
    growth: float,
    complete: bool,
    *,
    max_batch_size: int = MAX_BATCH_SIZE,
    limit_s: float = REALTIME_P95_S,
) -> tuple[bool, str]:
    """(real time?, why): p95 final latency within `limit_s` and no growing backlog.

    "Growing" is more than one full batch more left waiting late than early: less than that is
    what a batch's worth of streams closing together leaves, even on a GPU that keeps up.
    """
    if not complete:
        return False, "fell behind: the level did not drain in time"
    if p95_s is None:
        return False, "no finals decoded"  # none offered either: play() decodes all it is given
    if p95_s > limit_s:
        return False, f"p95 {p95_s:.2f} s > {limit_s:g} s"
    if growth > max_batch_size:
        return False, f"backlog growing (+{growth:.1f} windows)"
    return True, "real time"


def summarize(run: LevelRun, *, pace: Pace, max_batch_size: int) -> dict[str, Any]:
    """The level's row of the report, as JSON-ready values."""
    p50 = percentile(run.latencies, 50)
    p95 = percentile(run.latencies, 95)
    growth = backlog_growth(run.backlog, min(pace.stagger_s, run.seconds / 2), run.seconds)
    realtime, reason = verdict(p95, growth, run.complete, max_batch_size=max_batch_size)
    sizes = Counter(run.batch_sizes)
    return {
        "streams": run.streams,
        "offered_finals": run.offered,
        "finals": len(run.latencies),
        "batches": len(run.batch_sizes),
        "batch_sizes": {str(size): sizes[size] for size in sorted(sizes)},
        "mean_batch": round(len(run.latencies) / len(run.batch_sizes), 2) if sizes else 0.0,
        "max_batch": max(sizes, default=0),
        "final_p50_s": _round(p50),
        "final_p95_s": _round(p95),
        "final_max_s": _round(max(run.latencies, default=None)),
        "audio_s": round(run.audio_s, 1),
        "decode_s": round(run.decode_s, 2),
        "wall_s": round(run.wall_s, 2),
        # audio seconds per second spent decoding: how many streams' worth the GPU can do
        "decode_throughput": round(run.audio_s / run.decode_s, 1) if run.decode_s else None,
        "offered_audio_per_s": round(run.audio_s / run.seconds, 2) if run.seconds else None,
        "busy_share": round(run.decode_s / run.wall_s, 2) if run.wall_s else None,
        "backlog_growth": round(growth, 2),
        "complete": run.complete,
        "realtime": realtime,
        "verdict": reason,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def realtime_streams(levels: Sequence[dict[str, Any]]) -> int | None:
    """The largest K that is real time with every smaller K real time too; None if K=min fails."""
    best = None
    for level in sorted(levels, key=lambda row: row["streams"]):
        if not level["realtime"]:
            break
        best = level["streams"]
    return best


def throughput_ceiling(levels: Sequence[dict[str, Any]], pace: Pace) -> int | None:
    """Streams the best measured decode throughput could carry if latency did not matter."""
    rates = [level["decode_throughput"] for level in levels if level["decode_throughput"]]
    return math.floor(max(rates) / pace.speech_share) if rates else None


def table(levels: Sequence[dict[str, Any]]) -> str:
    """The levels as a Markdown table."""
    lines = [
        "| streams | finals | batch mean / max | batch sizes (size:count) | final p50 s "
        "| final p95 s | decode x real time | offered audio s/s | busy | verdict |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in levels:
        sizes = " ".join(f"{size}:{count}" for size, count in row["batch_sizes"].items())
        lines.append(
            f"| {row['streams']} | {row['finals']}/{row['offered_finals']} "
            f"| {row['mean_batch']:.1f} / {row['max_batch']} | {sizes} "
            f"| {_cell(row['final_p50_s'])} | {_cell(row['final_p95_s'])} "
            f"| {_cell(row['decode_throughput'], '.1f')} | {_cell(row['offered_audio_per_s'])} "
            f"| {_cell(row['busy_share'])} | {row['verdict']} |"
        )
    return "\n".join(lines)


def _cell(value: float | None, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def parse_streams(text: str) -> list[int]:
    """`1,4,8` -> [1, 4, 8]: positive, ascending, no repeats."""
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"--streams wants numbers like 1,4,8, got {text!r}"
        ) from error
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError(f"--streams wants positive counts, got {text!r}")
    return counts


# --- the machine -------------------------------------------------------------------------------


def cuda_devices() -> tuple[int, str]:
    """(CUDA devices CTranslate2 sees, why none when 0)."""
    try:
        import ctranslate2
    except ImportError as error:  # the engine could not run at all: a broken install
        raise SystemExit(f"gpu_check: CTranslate2 is not installed ({error})") from error
    try:
        count = ctranslate2.get_cuda_device_count()
    except RuntimeError as error:  # a driver that cannot be loaded reads as no GPU
        return 0, f"CTranslate2 cannot query CUDA ({error})"
    if count == 0:
        where = "no NVIDIA driver" if shutil.which("nvidia-smi") is None else "driver present"
        return 0, f"CTranslate2 {ctranslate2.__version__} sees no CUDA device ({where})"
    return count, ""


def _smi_index() -> str:
    # nvidia-smi ignores CUDA_VISIBLE_DEVICES; CTranslate2 uses the first visible device.
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
    return visible if visible.isdigit() else "0"


def nvidia_smi(query: str) -> list[str] | None:
    """One `nvidia-smi --query-gpu` row for the GPU in use, or None without nvidia-smi."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        answer = subprocess.run(
            [
                "nvidia-smi",
                f"--query-gpu={query}",
                "--format=csv,noheader,nounits",
                f"--id={_smi_index()}",
            ],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT_S,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    rows = answer.stdout.strip().splitlines()
    return [cell.strip() for cell in rows[0].split(",")] if rows else None


def gpu_info() -> dict[str, Any] | None:
    row = nvidia_smi("name,memory.total,driver_version")
    if row is None or len(row) < 3:
        return None
    name, total, driver = row[:3]
    return {"name": name, "memory_total_mib": _int(total), "driver": driver}


def _int(text: str) -> int | None:
    try:
        return int(float(text))
    except ValueError:
        return None


class MemoryPeak:
    """The GPU's used memory, sampled from nvidia-smi while the check runs.

    CTranslate2 has no memory statistics of its own; the whole card is read, so what other
    processes hold counts too (nothing else runs on the device machine).
    """

    def __init__(self, interval_s: float = 0.5) -> None:
        self.baseline_mib = self._read()
        self.peak_mib = self.baseline_mib
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _read() -> int | None:
        row = nvidia_smi("memory.used")
        return _int(row[0]) if row else None

    def _sample(self) -> None:
        while not self._stop.wait(self._interval_s):
            used = self._read()
            if used is not None:
                self.peak_mib = max(self.peak_mib or 0, used)

    def __enter__(self) -> MemoryPeak:
        if self.baseline_mib is not None:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def report(self) -> dict[str, int | None]:
        added = None
        if self.peak_mib is not None and self.baseline_mib is not None:
            added = self.peak_mib - self.baseline_mib
        return {"baseline_mib": self.baseline_mib, "peak_mib": self.peak_mib, "added_mib": added}


# --- the engine --------------------------------------------------------------------------------


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


# --- the run -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gpu_check", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--streams", type=parse_streams, default=list(DEFAULT_STREAMS))
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="per level")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--markdown", type=Path, default=None, help="write the table here")
    parser.add_argument("--cpu", action="store_true", help="run the stream check on the CPU")
    parser.add_argument("--model", default=None, help="CTranslate2 directory (default: packaged)")
    parser.add_argument("--compute-type", default=None, help="default float16 (GPU), int8 (CPU)")
    parser.add_argument("--max-batch-size", type=int, default=MAX_BATCH_SIZE)
    parser.add_argument("--batch-wait", type=float, default=BATCH_WAIT_S)
    parser.add_argument(
        "--encoder-margin",
        type=float,
        default=ENCODER_MARGIN_S,
        help="seconds after the audio the encoder sees; <= 0: the full 30 s window",
    )
    parser.add_argument("--hotwords", choices=["distinct", "same", "none"], default="distinct")
    parser.add_argument("--detect-language", action="store_true", help="default: language en")
    parser.add_argument("--budget-s", type=float, default=DEFAULT_BUDGET_S)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--all-levels", action="store_true", help="go on after a level fails")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.max_batch_size < 1:
        parser.error("--seconds must be > 0 and --max-batch-size >= 1")
    return args


def write_outputs(report: dict[str, Any], markdown: str, args: argparse.Namespace) -> None:
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"results: {args.json}")
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown + "\n")


def run_levels(
    args: argparse.Namespace,
    decode: Callable[[Sequence[Window]], list[str]],
    source_samples: int,
    pace: Pace,
    began: float,
) -> list[dict[str, Any]]:
    levels: list[dict[str, Any]] = []
    # A level that falls behind is cut off this long after its last arrival.
    drain_s = max(10.0, args.seconds / 2)
    for streams in args.streams:
        if time.perf_counter() - began + args.seconds + drain_s > args.budget_s:
            print(f"K={streams}: skipped, past the time budget of {args.budget_s:g} s")
            break
        windows = schedule(streams, args.seconds, source_samples, pace=pace, seed=args.seed)
        run = play(
            windows,
            decode,
            streams=streams,
            seconds=args.seconds,
            max_batch_size=args.max_batch_size,
            batch_wait_s=args.batch_wait,
            deadline_s=args.seconds + drain_s,
        )
        row = summarize(run, pace=pace, max_batch_size=args.max_batch_size)
        levels.append(row)
        print(
            f"K={streams}: {row['finals']} finals, p50 {_cell(row['final_p50_s'])} s, "
            f"p95 {_cell(row['final_p95_s'])} s, batch mean {row['mean_batch']}, "
            f"{row['verdict']}",
            flush=True,
        )
        if not row["realtime"] and not args.all_levels:
            break  # more streams only fall further behind; save the device time
    return levels


def no_gpu(args: argparse.Namespace, audio: np.ndarray, why: str, report: dict[str, Any]) -> int:
    """Say there is no GPU, check the CPU decodes, exit 0 (5: a GPU CTranslate2 cannot use)."""
    # A card nvidia-smi shows but CTranslate2 cannot use is a broken setup, not "no GPU".
    unusable = gpu_info()
    if unusable:
        why += f", though nvidia-smi lists {unusable['name']}"
    print(f"no GPU: {why}")
    sanity = cpu_sanity(args.model, audio)
    line = (
        f"CPU sanity decode: {sanity['audio_s']:g} s of the sample in "
        f"{sanity['decode_s']:.2f} s (model load {sanity['load_s']:.2f} s): {sanity['text']!r}"
    )
    print(line)
    report.update(gpu=None, no_gpu_reason=why, cpu_sanity=sanity)
    write_outputs(report, f"GPU check: no GPU: {why}\n\n{line}", args)
    if unusable:
        return 5
    return 0 if sanity["text"] else 1


def summary_line(levels: Sequence[dict[str, Any]], pace: Pace, device: str) -> str:
    best = realtime_streams(levels)
    tested = max((row["streams"] for row in levels), default=0)
    per = "GPU" if device == "cuda" else f"CPU replica ({CPU_THREADS} threads)"
    if best is None:
        line = f"real-time streams per {per}: none (the smallest level missed real time)"
    elif best == tested:
        line = f"real-time streams per {per}: >= {best} (every level tested kept real time)"
    else:
        line = f"real-time streams per {per}: {best}"
    ceiling = throughput_ceiling(levels, pace)
    if ceiling:
        line += f"; decode throughput ceiling ~{ceiling} streams at {pace.speech_share:.0%} speech"
    return line


def stream_check(
    args: argparse.Namespace,
    audio: np.ndarray,
    device: str,
    compute_type: str,
    report: dict[str, Any],
    began: float,
) -> int:
    """Load the engine, warm it up, play the levels, report."""
    gpu = gpu_info() if device == "cuda" else None
    margin = args.encoder_margin if args.encoder_margin > 0 else None
    language = None if args.detect_language else "en"
    pace = Pace()
    cublas_note = os.environ.get("GPU_CHECK_CUBLAS_NOTE")  # set by gpu_check.sh
    print(
        f"device {device}/{compute_type}"
        + (f" on {gpu['name']} ({gpu['memory_total_mib']} MiB)" if gpu else "")
        + f"; max_batch_size {args.max_batch_size}, batch wait {args.batch_wait:g} s, "
        f"encoder margin {margin}, hotwords {args.hotwords}, language {language or 'detect'}"
        + (f"; cuBLAS: {cublas_note}" if cublas_note else ""),
        flush=True,
    )
    with MemoryPeak() if device == "cuda" else _NoMemory() as memory:
        loading = time.perf_counter()
        try:
            engine = load_engine(args.model, device, compute_type, margin)
            decode = decoder(engine, audio, args.hotwords, language)
            load_s = time.perf_counter() - loading
            # A full batch on a CPU would take longer than a short level; one window will do.
            warm_batch = args.max_batch_size if device == "cuda" else 1
            warmup_s, warmup_text = warm_up(decode, warm_batch)
        except RuntimeError as error:
            # The usual one: "Library libcublas.so.12 is not found or cannot be loaded".
            print(f"gpu_check: the engine failed on {device}: {error}", file=sys.stderr)
            print("gpu_check: bench/gpu_check.sh finds cuBLAS for it", file=sys.stderr)
            return 3
        print(f"model load {load_s:.1f} s, warm-up {warmup_s:.1f} s: {warmup_text!r}", flush=True)
        levels = run_levels(args, decode, audio.size, pace, began)
    summary = summary_line(levels, pace, device)
    heading = (
        f"GPU check: {device}/{compute_type}"
        + (f", {gpu['name']}" if gpu else ("" if device == "cuda" else " (not a GPU result)"))
        + f", Whisper base, {args.seconds:g} s per level, real time = p95 final <= "
        f"{REALTIME_P95_S:g} s and no growing backlog"
    )
    parts = [heading, table(levels), summary]
    peak = memory.report()
    if peak["peak_mib"] is not None:
        total = gpu["memory_total_mib"] if gpu else None
        parts.append(
            f"GPU memory: peak {peak['peak_mib']} of {total} MiB used, "
            f"+{peak['added_mib']} MiB by the check (nvidia-smi, sampled every 0.5 s)"
        )
    markdown = "\n\n".join(parts)
    print()
    print(markdown)
    report.update(
        device=device,
        compute_type=compute_type,
        gpu=gpu,
        gpu_memory=peak,
        cublas=cublas_note,
        config={
            "max_batch_size": args.max_batch_size,
            "batch_wait_s": args.batch_wait,
            "encoder_margin_s": margin,
            "hotwords": args.hotwords,
            "language": language,
            "seconds_per_level": args.seconds,
            "pace": asdict(pace),
            "seed": args.seed,
            "realtime_p95_s": REALTIME_P95_S,
        },
        model_load_s=round(load_s, 2),
        warmup_s=round(warmup_s, 2),
        warmup_text=warmup_text,
        levels=levels,
        realtime_streams=realtime_streams(levels),
        throughput_ceiling_streams=throughput_ceiling(levels, pace),
        summary=summary,
    )
    write_outputs(report, markdown, args)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    audio = load_sample()
    devices, why = cuda_devices()
    report: dict[str, Any] = {"check": "gpu_check", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if devices == 0 and not args.cpu:
        return no_gpu(args, audio, why, report)
    if devices == 0:
        print(f"no GPU: {why}")
    if args.cpu:
        return stream_check(args, audio, "cpu", args.compute_type or "int8", report, began)
    return stream_check(args, audio, "cuda", args.compute_type or "float16", report, began)


class _NoMemory:
    """MemoryPeak's stand-in on the CPU."""

    def __enter__(self) -> _NoMemory:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def report(self) -> dict[str, int | None]:
        return {"baseline_mib": None, "peak_mib": None, "added_mib": None}


if __name__ == "__main__":
    raise SystemExit(main())
