"""Judging a level and reporting: percentiles, the backlog's growth, the real-time verdict, a
level's row, the table (bench.common.table), the summary line and the output files."""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bench.common.table import Column, cell, format_table
from bench.gpu_check.streams import LevelRun, Pace
from bench.gpu_check.transcriber import CPU_THREADS, MAX_BATCH_SIZE

REALTIME_P95_S = 2.0


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


def shown(value: float | None, digits: int = 2) -> str:
    """A number rounded, or "n/a" where there is none."""
    return "n/a" if value is None else cell(value, digits)


def _batch_sizes(row: dict[str, Any]) -> str:
    return " ".join(f"{size}:{count}" for size, count in row["batch_sizes"].items())


LEVELS: list[Column[dict[str, Any]]] = [
    Column("streams", 0, lambda r: str(r["streams"])),
    Column("finals", 0, lambda r: f"{r['finals']}/{r['offered_finals']}"),
    Column("batch mean / max", 0, lambda r: f"{r['mean_batch']:.1f} / {r['max_batch']}"),
    Column("batch sizes (size:count)", 0, _batch_sizes, align="<"),
    Column("final p50 s", 0, lambda r: shown(r["final_p50_s"])),
    Column("final p95 s", 0, lambda r: shown(r["final_p95_s"])),
    Column("decode x real time", 0, lambda r: shown(r["decode_throughput"], 1)),
    Column("offered audio s/s", 0, lambda r: shown(r["offered_audio_per_s"])),
    Column("busy", 0, lambda r: shown(r["busy_share"])),
    Column("verdict", 0, lambda r: r["verdict"], align="<"),
]


def table(levels: Sequence[dict[str, Any]]) -> str:
    """The levels as a Markdown table."""
    return format_table(LEVELS, levels, markdown=True)


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


def write_outputs(report: dict[str, Any], markdown: str, args: argparse.Namespace) -> None:
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"results: {args.json}")
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown + "\n")
