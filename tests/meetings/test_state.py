"""Event log, dedup memory and line normalisation, without Ray."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from glossify.meetings.state import (
    EventLog,
    RecentSet,
    earlier_lines,
    hotword_terms,
    normalize_line,
    repeated_terms,
)
from glossify.terms.candidates import Candidate, FilterRules


def test_normalize_line_ignores_case_spacing_and_edge_punctuation() -> None:
    assert normalize_line("  The CI pipeline  is failing. ") == "the ci pipeline is failing"
    assert normalize_line("the ci pipeline is failing!!") == "the ci pipeline is failing"
    assert normalize_line("Is it failing?") != normalize_line("It is failing")


def test_recent_set_forgets_the_oldest() -> None:
    recent = RecentSet(2, ["a", "b"])
    assert "a" in recent
    recent.add("c")
    assert "a" not in recent and "b" in recent and "c" in recent
    recent.add("b")
    recent.add("b")
    assert "c" not in recent and "b" in recent


def make_log(last_seq: int = 0, capacity: int = 3) -> EventLog:
    recent = [{"seq": s} for s in range(max(1, last_seq - capacity + 1), last_seq + 1)]
    return EventLog(last_seq, recent, capacity)


def test_event_log_stamps_and_commits_in_order() -> None:
    log = make_log()
    first = log.stamp({"type": "x"})
    assert first == {"type": "x", "seq": 1}
    log.commit(first)
    with pytest.raises(ValueError, match="out of order"):
        log.commit({"type": "x", "seq": 5})
    assert log.last_seq == 1
    assert log.after(0, 10) == [first]
    assert log.after(1, 10) == []


def test_event_log_reports_when_history_left_memory() -> None:
    log = make_log()
    for _ in range(5):
        log.commit(log.stamp({}))
    assert [e["seq"] for e in log.after(2, 10)] == [3, 4, 5]
    assert log.after(1, 10) is None  # seq 2 is only in the journal now
    assert [e["seq"] for e in log.after(3, 1)] == [4]


def test_event_log_rebuilt_from_journal_continues_the_sequence() -> None:
    log = make_log(last_seq=10)
    assert log.next_seq == 11
    assert [e["seq"] for e in log.after(8, 10)] == [9, 10]


async def test_waiters_wake_on_commit_and_time_out_otherwise() -> None:
    log = make_log()
    waiter = asyncio.create_task(log.wait_after(0, 5.0))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    log.commit(log.stamp({}))
    await asyncio.wait_for(waiter, 1.0)
    started = asyncio.get_running_loop().time()
    await log.wait_after(1, 0.05)
    assert asyncio.get_running_loop().time() - started >= 0.04


def term(text: str, category: str = "Product", confidence: float = 0.9) -> Candidate:
    return Candidate(text=text, category=category, confidence=confidence)


def test_repeated_terms_counts_distinct_claimed_terms_that_pass_the_filter() -> None:
    candidates = [term("Kubernetes"), term("kubernetes"), term("EBITDA"), term("Q3", "DateTime")]
    claimed = {"kubernetes", "q3"}
    # Q3 is claimed but the filter would drop it anyway: no explanation was saved.
    assert repeated_terms(candidates, FilterRules(), claimed) == 1
    assert repeated_terms(candidates, FilterRules(), set()) == 0


def _final(text: str) -> dict[str, Any]:
    return {"type": "transcript", "text": text, "is_final": True}


def test_earlier_lines_are_the_finals_just_before_the_line() -> None:
    events = [
        _final("Okay, the dashboard is up."),
        {"type": "transcript", "text": "two of the", "is_final": False},
        _final("The node pool is full."),
        {"type": "terms", "entity": "node pool"},
        _final("Two of the pods are stuck."),
        _final("Let us look after lunch."),
    ]
    line = "Two of the pods are stuck."
    assert earlier_lines(events, line) == ["Okay, the dashboard is up.", "The node pool is full."]
    assert earlier_lines(events, line, limit=1) == ["The node pool is full."]
    assert earlier_lines(events, "Okay, the dashboard is up.") == []
    # A line no longer in memory gets no earlier lines (never the lines after it).
    assert earlier_lines(events, "A line from long ago.") == []


def test_hotwords_leave_out_terms_the_explainer_abstained_on() -> None:
    events = [
        {"type": "terms", "entity": "Kubernetes", "source": "local"},
        _final("The Ooth flow fails."),
        {"type": "terms", "entity": "Ooth flow", "source": "local", "abstained": True},
        {"type": "terms", "entity": "SLA", "source": "external"},
        {"type": "terms", "entity": "CPK", "source": "glossary"},
    ]
    assert hotword_terms(events) == ["CPK", "SLA", "Kubernetes"]
