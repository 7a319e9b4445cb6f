"""Per stream and per K: final, sentence and term latency, WER, jargon, sentences heard,
and whether K streams ran in real time."""

from __future__ import annotations

from typing import Any

from bench.audio_metrics import (
    last_frame_to_final,
    percentile,
    pooled,
    quality_per_k,
    sentence_latencies,
    summary,
    transcript_quality,
)
from bench.audio_streams.streaming import StreamRun
from glossify.transcription.wer import words

REALTIME_SEND_LAG_P95_S = 0.5


REALTIME_FINAL_P95_S = 5.0


def term_latencies(run: StreamRun) -> tuple[list[float], int]:
    """Term arrival − end of the first final line that contains the term; and the unmatched."""
    finals = sorted(run.finals(), key=lambda line: line.arrival)
    latencies: list[float] = []
    unmatched = 0
    for arrival, event in run.terms():
        entity = " ".join(words(event["entity"]))
        line = next((f for f in finals if entity and entity in " ".join(words(f.text))), None)
        if line is None:
            unmatched += 1
        else:
            latencies.append(arrival - line.end)
    return latencies, unmatched


def analyse_stream(
    run: StreamRun, script: list[str], regions: list[tuple[float, float]]
) -> dict[str, Any]:
    finals = sorted(run.finals(), key=lambda line: line.start)
    sentences = sentence_latencies(finals, regions)
    hypothesis = " ".join(line.text for line in finals)
    terms, unmatched = term_latencies(run)
    return {
        "meeting_id": run.meeting_id,
        "finals": len(finals),
        "partials": run.partials(),
        "final_latency": [round(line.latency, 3) for line in finals],
        "sentence_latency": sentences,
        "term_latency": [round(t, 3) for t in terms],
        "terms": [e["entity"] for _, e in run.terms()],
        "term_arrivals": [round(at, 2) for at, _ in run.terms()],
        "term_sources": [e.get("source") for _, e in run.terms()],
        "terms_unmatched": unmatched,
        "last_frame_to_last_final": last_frame_to_final(
            run.last_frame_at - run.t0, sentences, regions
        ),
        "send_lag_p95": round(percentile(run.send_lags, 95) or 0.0, 3),
        "send_lag_max": round(max(run.send_lags, default=0.0), 3),
        "errors": run.errors,
        **transcript_quality(script, hypothesis),
        "transcript": [line.text for line in finals],
    }


def explained_per_min(streams: list[dict[str, Any]]) -> float | None:
    """Terms explained per minute over the span in which they arrived: the explainer's
    throughput while a backlog of terms waits for it."""
    arrivals = sorted(at for s in streams for at in s["term_arrivals"])
    if len(arrivals) < 2 or arrivals[-1] <= arrivals[0]:
        return None
    return round(60 * (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]), 1)


def analyse_k(
    k: int, streams: list[dict[str, Any]], window: dict[str, Any], n_sentences: int
) -> dict[str, Any]:
    finals = pooled(s["final_latency"] for s in streams)
    sentences = pooled(s["sentence_latency"] for s in streams)
    missing = sum(v is None for s in streams for v in s["sentence_latency"])
    terms = pooled(s["term_latency"] for s in streams)
    lag_p95 = max(s["send_lag_p95"] for s in streams)
    heard_all = all(s["sentences_heard"] == n_sentences for s in streams) and missing == 0
    final_p95 = percentile(finals, 95)
    realtime = (
        lag_p95 < REALTIME_SEND_LAG_P95_S
        and heard_all
        and final_p95 is not None
        and final_p95 <= REALTIME_FINAL_P95_S
    )
    last = [s["last_frame_to_last_final"] for s in streams]
    last_missing = sum(v is None for v in last)
    return {
        "k": k,
        "final_latency": summary(finals),
        "sentence_latency": summary(sentences),
        "sentences_missing": missing,
        "term_latency": summary(terms),
        "terms_per_stream": [len(s["terms"]) for s in streams],
        "explained_per_min": explained_per_min(streams),
        "last_frame_to_last_final": summary(pooled([last])),
        "last_sentence_missing": last_missing,
        "send_lag_p95_worst": lag_p95,
        "send_lag_max": max(s["send_lag_max"] for s in streams),
        **quality_per_k(streams),
        "real_time": realtime,
        "resources": window,
        "streams": streams,
    }
