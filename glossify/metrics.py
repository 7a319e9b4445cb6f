"""Glossify's own metrics, each defined once here; docs/metrics.md says what each tells.

Ray exports them on every node's metrics port with a ``ray_`` prefix (``glossify_lines_total``
is scraped as ``ray_glossify_lines_total``). Metrics recorded in Serve replicas use
``ray.serve.metrics``, which adds the ``application``, ``deployment`` and ``replica`` labels;
the meeting hosts are plain actors and use ``ray.util.metrics``, labelled with their
application by ``label_meeting_host``.

Instruments are created on first use in each process: a Serve metric made at import time
would miss its replica's labels, and unit tests of pure logic need no Ray at all. Outside a
connected Ray process a record is checked and then dropped.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

Kind = Literal["counter", "gauge", "histogram"]

# Prometheus adds this prefix to every metric that Ray exports.
EXPORT_PREFIX = "ray_"

# Sub-second work with a long tail: NER, transcript lines, database writes.
FAST_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Generation by a language model: seconds, up to the explainer's deadline and beyond.
SLOW_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 60.0)
# Decode time over audio time: under 1 keeps up with live speech.
RATIOS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0)
BATCH_SIZES = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
PER_MEETING = (1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 10000.0)


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Kind
    description: str
    tags: tuple[str, ...] = ()
    boundaries: tuple[float, ...] = ()
    # True where it is recorded in Serve replicas; False in the meeting-host actors.
    serve: bool = True

    def inc(self, value: float = 1.0, **tags: str) -> None:
        assert self.kind == "counter", self.name
        # Ray refuses a zero increment; "nothing happened" is simply not recorded.
        if value > 0:
            self._record("inc", value, tags)

    def set(self, value: float, **tags: str) -> None:
        assert self.kind == "gauge", self.name
        self._record("set", value, tags)

    def observe(self, value: float, **tags: str) -> None:
        assert self.kind == "histogram", self.name
        self._record("observe", value, tags)

    def _record(self, method: str, value: float, tags: dict[str, str]) -> None:
        # Checked everywhere, so that a unit test catches a wrong label at a call site.
        if tags.keys() != set(self.tags):
            raise ValueError(f"{self.name} takes labels {self.tags}, got {tuple(tags)}")
        instrument = _instrument(self) if _ray_connected() else None
        if instrument is not None:
            if not self.serve:
                tags = {**tags, **_host_labels}
            getattr(instrument, method)(value, tags=tags or None)


# What Serve adds to a replica's metrics, a meeting host sets for itself (empty elsewhere).
_host_labels: dict[str, str] = {"application": ""}


def label_meeting_host(application: str) -> None:
    """Label this process's meeting-host metrics with its Serve application, as Serve would."""
    _host_labels["application"] = application


def _ray_connected() -> bool:
    # Without an import: a process that never imported Ray is certainly not a Ray worker.
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


@cache
def _instrument(metric: Metric) -> Any:
    if metric.serve:
        from ray.serve import metrics as serve_metrics

        module: Any = serve_metrics
    else:
        from ray.util import metrics as util_metrics

        module = util_metrics
    tag_keys = (metric.tags if metric.serve else metric.tags + tuple(_host_labels)) or None
    if metric.kind == "counter":
        return module.Counter(metric.name, description=metric.description, tag_keys=tag_keys)
    if metric.kind == "gauge":
        return module.Gauge(metric.name, description=metric.description, tag_keys=tag_keys)
    return module.Histogram(
        metric.name,
        description=metric.description,
        boundaries=list(metric.boundaries),
        tag_keys=tag_keys,
    )


# -- audio and transcription (ingress and Transcriber replicas) ---------------------------------

AUDIO_RECEIVED = Metric(
    "glossify_audio_received_seconds_total",
    "counter",
    "Seconds of audio received from WebSocket audio clients.",
)
AUDIO_TRANSCRIBED = Metric(
    "glossify_audio_transcribed_seconds_total",
    "counter",
    "Seconds of audio decoded by the Transcriber, by kind (final|partial).",
    ("kind",),
)
TRANSCRIBE_DURATION = Metric(
    "glossify_transcribe_duration_seconds",
    "histogram",
    "Wall time of one batched Whisper decode, by kind (final|partial).",
    ("kind",),
    FAST_SECONDS,
)
REAL_TIME_FACTOR = Metric(
    "glossify_transcribe_real_time_factor",
    "histogram",
    "Decode seconds per second of audio in one batch (under 1 keeps up with speech).",
    ("kind",),
    RATIOS,
)
TRANSCRIBE_BATCH_SIZE = Metric(
    "glossify_transcribe_batch_size",
    "histogram",
    "Utterance windows decoded together in one batch, by kind (final|partial).",
    ("kind",),
    BATCH_SIZES,
)
TRANSCRIPT_LATENCY = Metric(
    "glossify_transcript_latency_seconds",
    "histogram",
    "End of an utterance (or partial snapshot) to its line accepted by the meeting, by kind.",
    ("kind",),
    FAST_SECONDS,
)
PARTIALS_DROPPED = Metric(
    "glossify_partials_dropped_total",
    "counter",
    "Partial previews not shown, by reason (skipped: one already in flight or a final "
    "waiting; stale: waited too long at the Transcriber; late: its final came first).",
    ("reason",),
)
AUDIO_BACKPRESSURE = Metric(
    "glossify_audio_backpressure_seconds_total",
    "counter",
    "Seconds audio sockets stopped reading: their queue of finals was full, or the sender ran "
    "ahead of audio.max_speed times real time.",
)
AUDIO_FRAMES_REFUSED = Metric(
    "glossify_audio_frames_refused_total",
    "counter",
    "Audio frames refused with an error event, by reason (the error code).",
    ("reason",),
)
WEBSOCKETS_OPEN = Metric(
    "glossify_websockets_open", "gauge", "WebSocket connections open on this ingress replica."
)
AUDIO_STREAMS_OPEN = Metric(
    "glossify_audio_streams_open",
    "gauge",
    "WebSocket connections currently sending audio on this ingress replica.",
)

# -- term detection and explanation (TermDetector and TermExplainer replicas) -------------------

NER_LATENCY = Metric(
    "glossify_ner_latency_seconds",
    "histogram",
    "Term detection time per line, failures included, by backend.",
    ("backend",),
    FAST_SECONDS,
)
NER_ERRORS = Metric(
    "glossify_ner_errors_total",
    "counter",
    "Term detection calls that failed, by backend and exception type.",
    ("backend", "error"),
)
AGENT_LATENCY = Metric(
    "glossify_agent_latency_seconds",
    "histogram",
    "Explanation time per term, failures included, by backend.",
    ("backend",),
    SLOW_SECONDS,
)
AGENT_ERRORS = Metric(
    "glossify_agent_errors_total",
    "counter",
    "Explanation calls that failed, by backend and exception type.",
    ("backend", "error"),
)
EXPLAINER_SLOT_WAIT = Metric(
    "glossify_explainer_slot_wait_seconds",
    "histogram",
    "Time a term waited for a free slot of the local model before generation.",
    (),
    SLOW_SECONDS,
)
EXPLAINER_CACHE = Metric(
    "glossify_explainer_cache_total",
    "counter",
    "Terms asked of the explainer deployment, by result: reference (answered from the packaged "
    "reference glossary), hit (answered from its cache of recent explanations), shared (joined "
    "a generation already running for another meeting), miss (generated).",
    ("result",),
)

# -- meetings (meeting-host actors) -------------------------------------------------------------

MEETINGS_OPEN = Metric(
    "glossify_meetings_open",
    "gauge",
    "Meetings loaded in a meeting host, by shard.",
    ("shard",),
    serve=False,
)
LINES = Metric(
    "glossify_lines_total",
    "counter",
    "Transcript lines entered into meetings, by kind (final|partial|duplicate).",
    ("kind",),
    serve=False,
)
TERMS = Metric(
    "glossify_terms_total",
    "counter",
    "Explained terms shown to meetings, by source (a backend, glossary or external).",
    ("source",),
    serve=False,
)
MEETING_QUOTA_REFUSALS = Metric(
    "glossify_meeting_quota_refusals_total",
    "counter",
    "Lines, terms and meetings a meeting host refused by a quota (429 or an error event).",
    ("quota",),
    serve=False,
)
MEETING_LINES = Metric(
    "glossify_meeting_lines",
    "histogram",
    "Final lines per meeting, observed when the meeting stops.",
    (),
    PER_MEETING,
    serve=False,
)
MEETING_TERMS = Metric(
    "glossify_meeting_terms",
    "histogram",
    "Glossary entries per meeting, observed when the meeting stops.",
    (),
    PER_MEETING,
    serve=False,
)
LINE_QUEUE_DEPTH = Metric(
    "glossify_line_queue_depth",
    "gauge",
    "Final lines queued for or inside NER and the agent, summed over a host's meetings.",
    ("shard",),
    serve=False,
)
LINE_QUEUE_OVERFLOW = Metric(
    "glossify_line_queue_overflow_total",
    "counter",
    "Final lines that found their meeting's queue full and wait in the journal instead.",
    serve=False,
)
CACHE_HITS = Metric(
    "glossify_explanation_cache_hits_total",
    "counter",
    "Terms explained without the agent, by cache (glossary: the PostgreSQL term table; "
    "meeting: already shown or being explained in this meeting).",
    ("cache",),
    serve=False,
)
CACHE_MISSES = Metric(
    "glossify_explanation_cache_misses_total",
    "counter",
    "Terms sent to the agent because no cache knew them.",
    serve=False,
)
UPSERT_DURATION = Metric(
    "glossify_upsert_duration_seconds",
    "histogram",
    "Time of a meeting's final glossary upsert into PostgreSQL, failures included.",
    (),
    FAST_SECONDS,
    serve=False,
)
UPSERT_ROWS = Metric(
    "glossify_upsert_rows_total",
    "counter",
    "Glossary rows inserted or updated by final upserts.",
    serve=False,
)
UPSERT_ERRORS = Metric(
    "glossify_upsert_errors_total",
    "counter",
    "Final glossary upserts that failed, by exception type.",
    ("error",),
    serve=False,
)

ALL: tuple[Metric, ...] = tuple(v for v in list(globals().values()) if isinstance(v, Metric))


# -- helpers for the call sites -----------------------------------------------------------------


@contextmanager
def timed(latency: Metric, errors: Metric | None = None, **tags: str) -> Iterator[None]:
    """Observes the block's duration; a failure also counts in ``errors`` by exception type.

    Cancellation counts as an error too: it is how a caller's deadline shows up here."""
    started = time.perf_counter()
    try:
        yield
    except BaseException as exc:
        if errors is not None:
            errors.inc(1.0, error=type(exc).__name__, **tags)
        raise
    finally:
        latency.observe(time.perf_counter() - started, **tags)


# Ray's agent drops a gauge series that was not reported again within two export intervals
# (~10 s each): a count that stays the same must still be set again, or it vanishes from
# Prometheus while sockets stay open.
GAUGE_REFRESH_S = 5.0
_open_counts: list[OpenCount] = []
_refresher: asyncio.Task[None] | None = None


class OpenCount:
    """A process-wide count of open things (sockets, streams), mirrored into a gauge."""

    def __init__(self, gauge: Metric) -> None:
        self._gauge = gauge
        self.value = 0
        _open_counts.append(self)

    def add(self, delta: int) -> None:
        self.value += delta
        self.publish()
        _keep_open_counts_fresh()

    def publish(self) -> None:
        self._gauge.set(self.value)

    @contextmanager
    def held(self) -> Iterator[None]:
        self.add(1)
        try:
            yield
        finally:
            self.add(-1)


def _keep_open_counts_fresh() -> None:
    global _refresher
    if _refresher is not None and not _refresher.done():
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return  # no event loop (a plain unit test): nothing to keep fresh
    _refresher = loop.create_task(_refresh_open_counts())


async def _refresh_open_counts() -> None:
    while True:
        await asyncio.sleep(GAUGE_REFRESH_S)
        for count in _open_counts:
            count.publish()


def real_time_factor(decode_s: float, audio_s: float) -> float | None:
    """Decode time per second of audio; None when there was no audio to speak of."""
    return decode_s / audio_s if audio_s > 0 else None


def count_term_lookup(cached_event: dict[str, Any] | None) -> None:
    """A term the glossary answered, or one that goes to the agent."""
    if cached_event is None:
        CACHE_MISSES.inc()
    else:
        CACHE_HITS.inc(cache="glossary")


def count_repeats(repeated: int) -> None:
    """Terms the meeting had already explained: explanations its own dedup saved."""
    CACHE_HITS.inc(repeated, cache="meeting")
