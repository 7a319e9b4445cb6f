"""A step's numbers from its records: line → transcript and line → terms latency (matched by
text), summaries, errors, the stop check, what the meetings cost in memory, and the knee.
Pure: unit-tested in tests/bench/test_load.py."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from bench.audio_metrics import percentile
from bench.load.records import MeetingRun, SentLine

# ---------------------------------------------------------------- latencies


def stats(values: Sequence[float], digits: int = 4) -> dict[str, float | int | None]:
    """n, mean, p50/p90/p95/p99 and max, without the values (runs have thousands)."""

    def r(value: float | None) -> float | None:
        return None if value is None else round(value, digits)

    return {
        "n": len(values),
        "mean": r(sum(values) / len(values)) if values else None,
        "p50": r(percentile(values, 50)),
        "p90": r(percentile(values, 90)),
        "p95": r(percentile(values, 95)),
        "p99": r(percentile(values, 99)),
        "max": r(max(values)) if values else None,
    }


_WORD = re.compile(r"[\w/]+")


def _words(text: str) -> str:
    return " " + " ".join(_WORD.findall(text.casefold())) + " "


def transcript_latencies(
    lines: Sequence[SentLine], events: Iterable[tuple[float, Mapping[str, Any]]]
) -> tuple[list[float], int]:
    """Arrival of each final `transcript` event − when its line was posted; and how many
    transcript events matched no posted line."""
    sent = {line.text.strip(): line.sent_at for line in lines}
    latencies: list[float] = []
    unmatched = 0
    for arrival, event in events:
        if event.get("type") != "transcript" or not event.get("is_final"):
            continue
        at = sent.get(str(event.get("text", "")).strip())
        if at is None:
            unmatched += 1
        else:
            latencies.append(arrival - at)
    return latencies, unmatched


def term_latencies(
    lines: Sequence[SentLine], events: Iterable[tuple[float, Mapping[str, Any]]]
) -> dict[str, Any]:
    """For each `terms` event: arrival − posting of the first line that contains the term
    (terms are deduplicated within a meeting, so that line is the one that asked for it).
    Explained terms (`local`, `foundry`, `openai`) and glossary answers are kept apart."""
    ordered = sorted(lines, key=lambda line: line.sent_at)
    folded = [(_words(line.text), line.sent_at) for line in ordered]
    explained: list[float] = []
    glossary: list[float] = []
    sources: dict[str, int] = {}
    unmatched = 0
    for arrival, event in events:
        if event.get("type") != "terms":
            continue
        source = str(event.get("source"))
        sources[source] = sources.get(source, 0) + 1
        entity = _words(str(event.get("entity", "")))
        at = next((sent for text, sent in folded if entity.strip() and entity in text), None)
        if at is None:
            unmatched += 1
        elif source in ("glossary", "external"):
            glossary.append(arrival - at)
        else:
            explained.append(arrival - at)
    return {
        "explained": explained,
        "glossary": glossary,
        "sources": sources,
        "unmatched": unmatched,
    }


# ---------------------------------------------------------------- one step


def analyse_step(
    runs: list[MeetingRun], step: tuple[int, float], args: argparse.Namespace
) -> dict[str, Any]:
    meetings, rate = step
    records = [r for run in runs for r in run.lines]
    ok = [r for r in records if r.ok]
    http = [r.done_at - r.sent_at for r in ok if r.done_at is not None]
    transcripts: list[float] = []
    explained: list[float] = []
    answered: list[float] = []
    sources: dict[str, int] = {}
    missing = unmatched_terms = distinct_terms = 0
    for run in runs:
        sent = run.sent()
        for listener in run.listeners:
            latencies, _ = transcript_latencies(sent, listener.events)
            transcripts.extend(latencies)
            missing += max(0, len(sent) - len(latencies)) if not listener.connect_error else 0
            terms = term_latencies(sent, listener.events)
            explained.extend(terms["explained"])
            answered.extend(terms["glossary"])
            unmatched_terms += terms["unmatched"]
            for source, n in terms["sources"].items():
                sources[source] = sources.get(source, 0) + n
        if run.listeners:
            first = run.listeners[0].events
            distinct_terms += sum(e.get("type") == "terms" for _, e in first)
    term_stats = stats(explained)
    return {
        "meetings": meetings,
        "rate": rate,
        "listeners": args.listeners,
        "duration_s": args.duration,
        "offered_lines_per_s": round(meetings * rate, 3),
        "lines_sent": len(records),
        "lines_ok": len(ok),
        "duplicates": sum(r.duplicate for r in ok),
        "achieved_rps": round(len(ok) / args.duration, 2),
        "send_lag": stats([r.sent_at - r.due for r in records]),
        "http_latency": stats(http),
        "transcript_latency": stats(transcripts),
        "transcripts_missing": missing,
        "term_latency": term_stats,
        "term_p50": term_stats["p50"],
        "term_p95": term_stats["p95"],
        "glossary_latency": stats(answered),
        "terms": distinct_terms,
        "terms_per_line": round(distinct_terms / len(ok), 3) if ok else None,
        "term_sources": sources,
        "terms_unmatched": unmatched_terms,
        "errors": step_errors(runs),
    }


def step_errors(runs: list[MeetingRun]) -> dict[str, Any]:
    records = [r for run in runs for r in run.lines]
    listeners = [listener for run in runs for listener in run.listeners]
    error_events = [
        e for listener in listeners for _, e in listener.events if e.get("type") == "error"
    ]
    counts: dict[str, Any] = {
        "http_status": _count(str(r.status) for r in records if r.status and not r.ok),
        "http_exceptions": _count(r.error for r in records if r.error),
        "listeners_not_connected": sum(bool(lst.connect_error) for lst in listeners),
        "socket_errors": sum(bool(lst.socket_error) for lst in listeners),
        "closed_by_server": sum(lst.closed_by_server is not None for lst in listeners),
        "error_events": len(error_events),
    }
    total = (
        sum(counts["http_status"].values())
        + sum(counts["http_exceptions"].values())
        + counts["listeners_not_connected"]
        + counts["socket_errors"]
        + counts["closed_by_server"]
        + counts["error_events"]
    )
    examples = [lst.connect_error or lst.socket_error for lst in listeners]
    return {
        **counts,
        "total": total,
        "examples": [e for e in examples if e][:5] + [json.dumps(e) for e in error_events[:5]],
    }


def stop_summary(runs: list[MeetingRun], waited_s: float) -> dict[str, Any]:
    """Stop statuses, rows upserted, and whether each glossary holds what its listeners saw.

    A term shown after the meeting's upsert_done (its line was still in the pipeline when
    meetings.stop_drain_s ran out) is not in the upserted glossary: `terms_after_upsert`."""
    mismatched = []
    after_upsert = 0
    for run in runs:
        before, after = upsert_split(run)
        after_upsert += after
        upserted = (run.stop_status or {}).get("upserted")
        # Rows are (term, domain) pairs; listeners saw one event per explained pair.
        if run.listeners and upserted is not None and upserted != before:
            mismatched.append({"meeting": run.meeting_id, "upserted": upserted, "shown": before})
    return {
        "seconds": round(waited_s, 1),
        "stop_http": _count(str(run.stop_http) for run in runs),
        "status": _count(str((run.stop_status or {}).get("status")) for run in runs),
        "all_done": all((run.stop_status or {}).get("status") == "done" for run in runs),
        "upserted_rows": sum(int((run.stop_status or {}).get("upserted") or 0) for run in runs),
        "upsert_events_seen": sum(
            any(listener.upsert_event() for listener in run.listeners) for run in runs
        ),
        "terms_after_upsert": after_upsert,
        "upserted_vs_shown_mismatch": mismatched[:20],
    }


def upsert_split(run: MeetingRun) -> tuple[int, int]:
    """Distinct (term, domain) pairs the first listener saw before and after the upsert."""
    if not run.listeners:
        return 0, 0
    upsert = run.listeners[0].upsert_event()
    cut = upsert["seq"] if upsert else float("inf")
    before: set[tuple[str, str]] = set()
    after: set[tuple[str, str]] = set()
    for _, event in run.listeners[0].events:
        if event.get("type") == "terms":
            key = (str(event.get("entity", "")).casefold(), str(event.get("domain")))
            (before if event.get("seq", 0) < cut else after).add(key)
    return len(before), len(after - before)


def _count(values: Iterator[str] | list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


# Process kinds of autoscaled replicas (processes.memory_snapshot names them
# "ray::ServeReplica:<app>:<deployment>").
SCALED_KINDS = (":TermDetector", ":TermExplainer", ":Transcriber")


def memory_rows(
    before: dict[str, Any], loaded: dict[str, Any], after: dict[str, Any], meetings: int
) -> dict[str, Any]:
    """Snapshots and what the meetings cost. Replicas the autoscaler added while loaded are
    not the meetings' memory: `per_meeting_pss_mib` leaves the scaled backends out
    (`per_meeting_pss_mib_all` keeps them)."""

    def brief(snap: dict[str, Any]) -> dict[str, Any]:
        return {k: snap[k] for k in ("processes", "rss_mib", "pss_mib", "by_kind")}

    delta = {
        kind: round(row["pss_mib"] - before["by_kind"].get(kind, {}).get("pss_mib", 0.0), 1)
        for kind, row in loaded["by_kind"].items()
    }
    meetings_only = sum(v for kind, v in delta.items() if not kind.endswith(SCALED_KINDS))
    return {
        "before": brief(before),
        "loaded": brief(loaded),
        "after_stop": brief(after),
        "loaded_minus_before_pss_mib_by_kind": delta,
        "per_meeting_pss_mib": round(meetings_only / meetings, 2),
        "per_meeting_pss_mib_all": round((loaded["pss_mib"] - before["pss_mib"]) / meetings, 2),
        "per_meeting_rss_mib_all": round((loaded["rss_mib"] - before["rss_mib"]) / meetings, 2),
        "after_stop_minus_before_pss_mib": round(after["pss_mib"] - before["pss_mib"], 1),
    }


# ---------------------------------------------------------------- knee


def find_knee(
    steps: Sequence[Mapping[str, Any]],
    factor: float = 2.0,
    metric: str = "term_p95",
    load: str = "offered_lines_per_s",
) -> dict[str, Any]:
    """The lightest step whose `metric` is at least `factor` × the lightest measured step's.

    Steps are ordered by `load`; steps without the metric (no term arrived) are skipped for
    the baseline and count as past the knee after it. Returns the baseline, the knee step
    (None when latency never doubled), and the heaviest step before the knee."""
    ordered = sorted(steps, key=lambda step: float(step[load]))
    base = next((s for s in ordered if s.get(metric) is not None), None)
    result: dict[str, Any] = {
        "metric": metric,
        "factor": factor,
        "baseline": _brief(base, metric, load),
        "knee": None,
        "last_good": None,
    }
    if base is None:
        return result
    threshold = factor * float(base[metric])
    result["threshold"] = round(threshold, 4)
    for step in ordered[ordered.index(base) :]:
        value = step.get(metric)
        if value is None or float(value) >= threshold:
            result["knee"] = _brief(step, metric, load)
            break
        result["last_good"] = _brief(step, metric, load)
    return result


def _brief(step: Mapping[str, Any] | None, metric: str, load: str) -> dict[str, Any] | None:
    if step is None:
        return None
    keys = ("meetings", "rate", load, metric)
    return {key: step.get(key) for key in keys}
