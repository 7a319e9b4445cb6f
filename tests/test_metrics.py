"""The metric definitions and the helpers the call sites use (no Ray cluster needed)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from glossify import metrics
from glossify.meetings.state import repeated_terms
from glossify.metrics import Metric
from glossify.terms.candidates import Candidate, FilterRules
from tests.paths import REPO_ROOT

DOCS = REPO_ROOT / "docs" / "metrics.md"


class Recorder:
    """Stands in for Ray's instruments: remembers every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float, dict[str, str] | None]] = []

    def instrument(self, metric: Metric) -> Any:
        recorder = self

        class Instrument:
            def __getattr__(self, method: str) -> Any:
                def record(value: float, tags: dict[str, str] | None = None) -> None:
                    recorder.calls.append((metric.name, method, value, tags))

                return record

        return Instrument()


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(metrics, "_ray_connected", lambda: True)
    monkeypatch.setattr(metrics, "_instrument", recorder.instrument)
    monkeypatch.setitem(metrics._host_labels, "application", "")
    return recorder


def test_every_metric_is_named_and_described_by_the_rules() -> None:
    names = [metric.name for metric in metrics.ALL]
    assert len(names) == len(set(names))
    assert len(names) >= 25
    for metric in metrics.ALL:
        assert metric.name.startswith("glossify_"), metric.name
        assert metric.description.endswith("."), metric.name
        assert metric.name.endswith("_total") == (metric.kind == "counter"), metric.name
        # The meeting id would make one series per meeting.
        assert not {"meeting", "meeting_id", "mid"} & set(metric.tags), metric.name
        if metric.kind == "histogram":
            bounds = metric.boundaries
            assert bounds and bounds[0] > 0 and list(bounds) == sorted(set(bounds)), metric.name
        else:
            assert not metric.boundaries, metric.name
        if "latency" in metric.name or "duration" in metric.name or "wait" in metric.name:
            assert metric.name.endswith("_seconds"), metric.name


def test_ray_accepts_every_definition() -> None:
    # Built directly (not through the per-process cache): Ray checks names and boundaries.
    for metric in metrics.ALL:
        instrument = metrics._instrument.__wrapped__(metric)
        assert instrument is not None


def test_every_metric_is_documented() -> None:
    text = DOCS.read_text()
    missing = [m.name for m in metrics.ALL if f"`{metric_export_name(m)}`" not in text]
    assert not missing


def metric_export_name(metric: Metric) -> str:
    return metrics.EXPORT_PREFIX + metric.name


def test_a_record_with_the_wrong_labels_fails_even_without_ray() -> None:
    with pytest.raises(ValueError, match="takes labels"):
        metrics.LINES.inc()
    with pytest.raises(ValueError, match="takes labels"):
        metrics.NER_LATENCY.observe(0.1, backend="local", meeting="m-1")


def test_without_ray_records_go_nowhere(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(metric: Metric) -> None:
        raise AssertionError("an instrument was created outside Ray")

    monkeypatch.setattr(metrics, "_ray_connected", lambda: False)
    monkeypatch.setattr(metrics, "_instrument", fail)
    metrics.LINES.inc(kind="final")
    metrics.WEBSOCKETS_OPEN.set(3)


def test_records_reach_the_instrument_with_their_labels(recorded: Recorder) -> None:
    metrics.LINES.inc(kind="final")
    metrics.AUDIO_RECEIVED.inc(0.0)  # nothing happened: Ray would refuse a zero increment
    metrics.MEETINGS_OPEN.set(2, shard="1")
    metrics.UPSERT_DURATION.observe(0.25)
    metrics.AGENT_LATENCY.observe(3.0, backend="local")
    assert recorded.calls == [
        ("glossify_lines_total", "inc", 1.0, {"kind": "final", "application": ""}),
        ("glossify_meetings_open", "set", 2, {"shard": "1", "application": ""}),
        ("glossify_upsert_duration_seconds", "observe", 0.25, {"application": ""}),
        # Serve adds the application of a replica's metrics itself.
        ("glossify_agent_latency_seconds", "observe", 3.0, {"backend": "local"}),
    ]


def test_a_meeting_host_labels_its_metrics_with_its_application(recorded: Recorder) -> None:
    metrics.label_meeting_host("glossify")
    metrics.TERMS.inc(source="glossary")
    assert recorded.calls == [
        ("glossify_terms_total", "inc", 1.0, {"source": "glossary", "application": "glossify"})
    ]


def test_timed_observes_successes_and_counts_failures_by_type(recorded: Recorder) -> None:
    with metrics.timed(metrics.NER_LATENCY, metrics.NER_ERRORS, backend="azure"):
        pass
    with (
        pytest.raises(KeyError),
        metrics.timed(metrics.NER_LATENCY, metrics.NER_ERRORS, backend="azure"),
    ):
        raise KeyError("x")
    kinds = [(name, method, tags) for name, method, _, tags in recorded.calls]
    assert kinds == [
        ("glossify_ner_latency_seconds", "observe", {"backend": "azure"}),
        ("glossify_ner_errors_total", "inc", {"backend": "azure", "error": "KeyError"}),
        ("glossify_ner_latency_seconds", "observe", {"backend": "azure"}),
    ]


async def test_a_cancelled_call_counts_as_an_error(recorded: Recorder) -> None:
    async def slow() -> None:
        with metrics.timed(metrics.AGENT_LATENCY, metrics.AGENT_ERRORS, backend="local"):
            await asyncio.sleep(10)

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(slow(), 0.01)
    errors = [tags for name, _, _, tags in recorded.calls if name == "glossify_agent_errors_total"]
    assert errors == [{"backend": "local", "error": "CancelledError"}]


def test_open_count_goes_back_down_when_the_block_fails(recorded: Recorder) -> None:
    count = metrics.OpenCount(metrics.WEBSOCKETS_OPEN)
    with pytest.raises(RuntimeError), count.held():
        assert count.value == 1
        raise RuntimeError
    assert count.value == 0
    assert [value for _, _, value, _ in recorded.calls] == [1, 0]


async def test_open_counts_are_set_again_while_nothing_changes(
    recorded: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics, "GAUGE_REFRESH_S", 0.01)
    monkeypatch.setattr(metrics, "_refresher", None)
    count = metrics.OpenCount(metrics.AUDIO_STREAMS_OPEN)
    try:
        with count.held():
            await asyncio.sleep(0.1)
            ones = [
                value
                for name, _, value, _ in recorded.calls
                if name == "glossify_audio_streams_open" and value == 1
            ]
            # Set when it opened, then again and again although it stayed at 1.
            assert len(ones) >= 3, recorded.calls
    finally:
        refresher = metrics._refresher
        assert refresher is not None
        refresher.cancel()


def test_real_time_factor() -> None:
    assert metrics.real_time_factor(0.5, 2.0) == 0.25
    assert metrics.real_time_factor(0.5, 0.0) is None


def term(text: str, category: str = "Product", confidence: float = 0.9) -> Candidate:
    return Candidate(text=text, category=category, confidence=confidence)


def test_term_lookups_and_repeats_count_as_hits_and_misses(recorded: Recorder) -> None:
    metrics.count_term_lookup(None)
    metrics.count_term_lookup({"type": "terms", "source": "glossary"})
    metrics.count_repeats(repeated_terms([term("EBITDA")], FilterRules(), {"ebitda"}))
    metrics.count_repeats(repeated_terms([term("EBITDA")], FilterRules(), set()))
    assert [(name, value, tags) for name, _, value, tags in recorded.calls] == [
        ("glossify_explanation_cache_misses_total", 1.0, {"application": ""}),
        ("glossify_explanation_cache_hits_total", 1.0, {"cache": "glossary", "application": ""}),
        ("glossify_explanation_cache_hits_total", 1, {"cache": "meeting", "application": ""}),
    ]
