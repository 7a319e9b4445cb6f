"""Per stream and per K, as bench.audio_streams measures Glossify, and the per-K table."""

from __future__ import annotations

from typing import Any

from bench.audio_metrics import (
    LAST_FINAL_COLUMN,
    LATENCY_COLUMNS,
    QUALITY_COLUMNS,
    KRow,
    last_frame_to_final,
    percentile,
    pooled,
    quality_per_k,
    sentence_latencies,
    summary,
    transcript_quality,
)
from bench.common.table import Column, format_table
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
        **quality_per_k(streams),
        "real_time": heard_all and final_p95 is not None and final_p95 <= REALTIME_FINAL_P95_S,
        "resources": window,
        "streams": streams,
    }


TABLE: list[Column[KRow]] = [
    *LATENCY_COLUMNS,
    Column("missing", 7, lambda r: str(r["sentences_missing"])),
    LAST_FINAL_COLUMN,
    *QUALITY_COLUMNS,
]


def table(rows: list[dict[str, Any]]) -> str:
    return format_table(TABLE, rows)
