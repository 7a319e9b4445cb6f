"""The pure parts of bench.load: sentence pool, latency matching, summaries, knee, replicas."""

from __future__ import annotations

import itertools

import pytest

from bench.load.analysis import (
    analyse_step,
    find_knee,
    stats,
    stop_summary,
    term_latencies,
    transcript_latencies,
)
from bench.load.records import LineRecord, ListenerRun, MeetingRun, SentLine
from bench.load.scaling import at_rest, replica_counts, scaling_changes
from bench.load.workload import (
    OPENERS,
    deep_merge,
    load_sentences,
    meeting_lines,
    parse_steps,
    with_opener,
)
from glossify.meetings.state import normalize_line

POOL = [
    "We need to bump the replica count in the Kubernetes deployment.",
    "The CI pipeline is failing because the Docker image is too big.",
    "EBITDA margin improved by two points.",
]


def take(n: int, meeting: int, fresh: float = 0.0, pool: list[str] = POOL) -> list[str]:
    return list(itertools.islice(meeting_lines(pool, meeting, seed=1, fresh_ratio=fresh), n))


def test_each_meeting_says_the_pool_in_its_own_order() -> None:
    orders = {tuple(take(len(POOL), m)) for m in range(12)}
    assert len(orders) > 1
    first = take(len(POOL), 0)
    assert sorted(first) == sorted(POOL)  # meeting 0's first pass has no opener


def test_lines_do_not_repeat_within_a_meeting() -> None:
    lines = take(len(POOL) * len(OPENERS), meeting=3)
    assert len({normalize_line(line) for line in lines}) == len(lines)
    assert take(20, 3) == take(20, 3)  # deterministic for a seed


def test_openers_keep_names_capitalised_and_lower_case_ordinary_words() -> None:
    assert with_opener("So, ", "We need a plan.") == "So, we need a plan."
    assert with_opener("So, ", "EBITDA is up.") == "So, EBITDA is up."
    assert with_opener("", "We need a plan.") == "We need a plan."


def test_fresh_terms_differ_between_meetings() -> None:
    a = [line for line in take(40, 0, fresh=1.0) if line not in POOL]
    b = [line for line in take(40, 1, fresh=1.0) if line not in POOL]
    assert len(a) == 40 and a != b
    assert not [line for line in take(40, 0, fresh=0.0) if "review" in line or "numbers" in line]


def test_the_shared_sentence_files_load() -> None:
    sentences = load_sentences()
    assert len(sentences) >= 30
    assert any("Kubernetes" in s for s in sentences)


def test_stats_and_percentiles() -> None:
    summary = stats([float(v) for v in range(1, 101)])
    assert summary["n"] == 100 and summary["p50"] == 50.5 and summary["max"] == 100
    assert summary["p95"] == pytest.approx(95.05)
    assert stats([])["p95"] is None


def test_transcript_and_term_latencies_match_the_posted_line() -> None:
    lines = [SentLine("The Kafka consumer lag is up.", 10.0), SentLine("Kafka again.", 20.0)]
    events = [
        (10.2, {"type": "transcript", "text": "The Kafka consumer lag is up.", "is_final": True}),
        (10.3, {"type": "transcript", "text": "partial", "is_final": False}),
        (11.0, {"type": "transcript", "text": "someone else's line", "is_final": True}),
        (13.0, {"type": "terms", "entity": "Kafka", "source": "local"}),
        (14.0, {"type": "terms", "entity": "consumer lag", "source": "glossary"}),
        (15.0, {"type": "terms", "entity": "Snowflake", "source": "local"}),
    ]
    latencies, unmatched = transcript_latencies(lines, events)
    assert latencies == pytest.approx([0.2]) and unmatched == 1
    terms = term_latencies(lines, events)
    assert terms["explained"] == pytest.approx([3.0])  # the first line that says Kafka
    assert terms["glossary"] == pytest.approx([4.0])
    assert terms["unmatched"] == 1 and terms["sources"] == {"local": 2, "glossary": 1}


def step(meetings: int, rate: float, p95: float | None) -> dict:
    return {"meetings": meetings, "rate": rate, "offered_lines_per_s": meetings * rate,
            "term_p95": p95}  # fmt: skip


def test_knee_is_the_first_step_whose_p95_doubles() -> None:
    steps = [step(50, 0.2, 4.5), step(10, 0.2, 2.0), step(25, 0.2, 2.4), step(100, 0.2, 9.0)]
    knee = find_knee(steps)
    assert knee["baseline"]["meetings"] == 10
    assert knee["knee"]["meetings"] == 50 and knee["last_good"]["meetings"] == 25
    assert knee["threshold"] == pytest.approx(4.0)


def test_knee_not_reached_and_steps_without_terms() -> None:
    assert find_knee([step(10, 0.2, 2.0), step(25, 0.2, 3.9)])["knee"] is None
    # No term arrived at all after the baseline: past the knee.
    assert find_knee([step(10, 0.2, 2.0), step(25, 0.2, None)])["knee"]["meetings"] == 25
    # The lightest measured step is the baseline.
    knee = find_knee([step(5, 0.2, None), step(10, 0.2, 1.0), step(20, 0.2, 2.5)])
    assert knee["baseline"]["meetings"] == 10 and knee["knee"]["meetings"] == 20
    assert find_knee([step(5, 0.2, None)])["knee"] is None


def test_sweep_specs() -> None:
    assert parse_steps(None, [10, 20], [0.5]) == [(10, 0.5), (20, 0.5)]
    assert parse_steps("", [7], [0.2])[-1] == (200, 0.2)
    assert parse_steps("rate=1,0.1", [50], [0.2]) == [(50, 0.1), (50, 1.0)]
    with pytest.raises(ValueError):
        parse_steps("speed=3", [1], [1.0])


DETAILS = {
    "applications": {
        "glossify": {
            "deployments": {
                "TermDetector": {
                    "status": "UPSCALING",
                    "target_num_replicas": 3,
                    "deployment_config": {"autoscaling_config": {"min_replicas": 1}},
                    "replicas": [{"state": "RUNNING"}, {"state": "RUNNING"}, {"state": "STARTING"}],
                },
                "TermExplainer": {
                    "status": "HEALTHY",
                    "target_num_replicas": 1,
                    "deployment_config": {"autoscaling_config": {"min_replicas": 1}},
                    "replicas": [{"state": "RUNNING"}],
                },
            }
        }
    }
}


def test_replica_counts_and_rest() -> None:
    counts = replica_counts(DETAILS, "glossify", ["TermDetector", "TermExplainer", "Nope"])
    assert counts["TermDetector"]["running"] == 2 and counts["TermDetector"]["starting"] == 1
    assert counts["TermDetector"]["target"] == 3 and "Nope" not in counts
    assert not at_rest(counts, {})
    assert at_rest({"TermExplainer": counts["TermExplainer"]}, {})


def test_scaling_changes_keep_only_changes() -> None:
    def sample(t: float, detector: int) -> dict:
        return {"t": t, "phase": "load", "replicas": {"TermDetector": {"running": detector,
                "target": detector}}, "load": {}}  # fmt: skip

    rows = scaling_changes([sample(0, 1), sample(1, 1), sample(2, 2), sample(3, 2), sample(4, 1)])
    assert [row["t"] for row in rows] == [0, 2, 4]
    assert rows[1]["counts"] == {"TermDetector": "2/2"}


def test_deep_merge() -> None:
    base = {"transcriber": {"enabled": False}, "meetings": {"use_glossary": False}}
    merged = deep_merge(base, {"meetings": {"stop_drain_s": 30}})
    assert merged["meetings"] == {"use_glossary": False, "stop_drain_s": 30}
    assert base["meetings"] == {"use_glossary": False}


def test_step_analysis_and_stop_check_from_records() -> None:
    import argparse

    line = "So, the Kafka consumer lag is up."
    listener = ListenerRun(
        events=[
            (10.1, {"type": "transcript", "seq": 1, "text": line, "is_final": True}),
            (12.0, {"type": "terms", "seq": 2, "entity": "Kafka", "domain": "eng",
                    "source": "local"}),
            (13.0, {"type": "upsert_done", "seq": 3, "upserted": 1}),
            (14.0, {"type": "terms", "seq": 4, "entity": "consumer lag", "domain": "eng",
                    "source": "local"}),
        ]
    )  # fmt: skip
    record = LineRecord(line, due=10.0, sent_at=10.0, done_at=10.05, status=200)
    failed = LineRecord("x", due=11.0, sent_at=11.0, done_at=11.1, status=503)
    run = MeetingRun("m-0", 0, lines=[record, failed], listeners=[listener])
    run.stop_http, run.stop_status = 202, {"status": "done", "upserted": 1}
    args = argparse.Namespace(listeners=1, duration=10.0)
    row = analyse_step([run], (1, 0.2), args)
    assert row["lines_ok"] == 1 and row["errors"]["http_status"] == {"503": 1}
    assert row["errors"]["total"] == 1
    assert row["transcript_latency"]["p50"] == pytest.approx(0.1)
    assert row["term_latency"]["n"] == 2 and row["term_p50"] == pytest.approx(3.0)
    stop = stop_summary([run], 3.0)
    assert stop["all_done"] and stop["upserted_rows"] == 1
    assert stop["terms_after_upsert"] == 1 and stop["upserted_vs_shown_mismatch"] == []
