"""`python -m bench.gpu_check`: the command line (see bench/gpu_check/__init__.py)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bench import gpu_check as package
from bench.gpu_check.device import MemoryPeak, NoMemory, cuda_devices, gpu_info
from bench.gpu_check.engine import cpu_sanity, decoder, load_engine, load_sample, warm_up
from bench.gpu_check.report import (
    REALTIME_P95_S,
    realtime_streams,
    shown,
    summarize,
    summary_line,
    table,
    throughput_ceiling,
    write_outputs,
)
from bench.gpu_check.streams import Pace, Window, play, schedule
from bench.gpu_check.transcriber import BATCH_WAIT_S, ENCODER_MARGIN_S, MAX_BATCH_SIZE

DEFAULT_STREAMS = (1, 4, 8, 16, 32, 64, 128)
DEFAULT_SECONDS = 30.0
# Levels are not started past this many seconds of the run, so the one-call script ends in time.
DEFAULT_BUDGET_S = 330.0


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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gpu_check", description=(package.__doc__ or "").splitlines()[0]
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
            f"K={streams}: {row['finals']} finals, p50 {shown(row['final_p50_s'])} s, "
            f"p95 {shown(row['final_p95_s'])} s, batch mean {row['mean_batch']}, "
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
    with MemoryPeak() if device == "cuda" else NoMemory() as memory:
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


if __name__ == "__main__":
    raise SystemExit(main())
