"""Per stream and per K, as bench.audio_streams measures Glossify, and the per-K table."""

from __future__ import annotations

from typing import Any

from bench.audio_metrics import (
    last_frame_to_final,
    percentile,
    pooled,
    sentence_latencies,
    summary,
    transcript_quality,
)
from bench.common.table import Column, cell, format_table
from bench.peer_whisperlive.clients import PeerRun

REALTIME_FINAL_P95_S = 5.0


def analyse_stream(
    run: PeerRun, script: list[str], regions: list[tuple[float, float]]
) -> dict[str, Any]:
    finals = sorted(run.finals(), key=lambda line: line.start)
    sentences = sentence_latencies(finals, regions)
    texts = [line.text for line in finals]
    last_end = finals[-1].end if finals else 0.0
    pending = run.partial if run.has_pending_partial() else None
    if pending is not None and float(pending["start"]) >= last_end - 0.05:
        texts.append(pending["text"].strip())  # the final partial, never completed
    return {
        "uid": run.uid,
        "finals": len(finals),
        "messages": run.messages,
        "final_latency": [round(line.latency, 3) for line in finals],
        "sentence_latency": sentences,
        "last_frame_to_last_final": last_frame_to_final(
            run.last_frame_at - run.t0, sentences, regions
        ),
        "pending_partial_at_end": pending["text"] if pending is not None else None,
        "send_lag_p95": round(percentile(run.send_lags, 95) or 0.0, 3),
        "send_lag_max": round(max(run.send_lags, default=0.0), 3),
        **transcript_quality(script, " ".join(texts)),
        "transcript": texts,
    }


def analyse_k(
    k: int, streams: list[dict[str, Any]], window: dict[str, Any], n_sentences: int
) -> dict[str, Any]:
    finals = pooled(s["final_latency"] for s in streams)
    sentences = pooled(s["sentence_latency"] for s in streams)
    missing = sum(v is None for s in streams for v in s["sentence_latency"])
    heard_all = all(s["sentences_heard"] == n_sentences for s in streams) and missing == 0
    final_p95 = percentile(finals, 95)
    last = [s["last_frame_to_last_final"] for s in streams]
    last_missing = sum(v is None for v in last)
    return {
        "k": k,
        "final_latency": summary(finals),
        "sentence_latency": summary(sentences),
        "sentences_missing": missing,
        "last_frame_to_last_final": summary(pooled([last])),
        "last_sentence_missing": last_missing,
        "send_lag_p95_worst": max(s["send_lag_p95"] for s in streams),
        "wer_mean": round(sum(s["wer"] for s in streams) / len(streams), 4),
        "wer_worst": max(s["wer"] for s in streams),
        "jargon_right_min": min(len(s["jargon_right"]) for s in streams),
        "jargon_right_mean": round(sum(len(s["jargon_right"]) for s in streams) / k, 2),
        "sentences_heard_min": min(s["sentences_heard"] for s in streams),
        "finals_per_stream": [s["finals"] for s in streams],
        "real_time": heard_all and final_p95 is not None and final_p95 <= REALTIME_FINAL_P95_S,
        "resources": window,
        "streams": streams,
    }


TABLE: list[Column[dict[str, Any]]] = [
    Column("K", 2, lambda r: str(r["k"])),
    Column("final p50", 9, lambda r: cell(r["final_latency"]["p50"])),
    Column("p95", 6, lambda r: cell(r["final_latency"]["p95"])),
    Column("sent p50", 8, lambda r: cell(r["sentence_latency"]["p50"])),
    Column("p95", 6, lambda r: cell(r["sentence_latency"]["p95"])),
    Column("missing", 7, lambda r: str(r["sentences_missing"])),
    Column("last→fin", 8, lambda r: cell(r["last_frame_to_last_final"]["max"])),
    Column("lag p95", 7, lambda r: cell(r["send_lag_p95_worst"])),
    Column("WER", 6, lambda r: f"{r['wer_mean']:.3f}"),
    Column("jargon", 6, lambda r: f"{r['jargon_right_min']:>3}/15"),
    Column("heard", 5, lambda r: f"{r['sentences_heard_min']:>3}/10"),
    Column("CPU%", 5, lambda r: cell(r["resources"]["streaming"]["cpu_mean_pct"], 0)),
    Column("RSS MiB", 7, lambda r: cell(r["resources"]["streaming"]["rss_peak_mib"], 0)),
    Column("other%", 6, lambda r: cell(r["resources"]["streaming"].get("outside_cpu_mean_pct"), 0)),
    Column("RT", 3, lambda r: "yes" if r["real_time"] else "no"),
]


def table(rows: list[dict[str, Any]]) -> str:
    return format_table(TABLE, rows)
