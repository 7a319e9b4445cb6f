"""Faults injected into live meetings on the real stack, each asserting the figures of
bench.faults (the same scenarios, injectors and accounting): no final line lost, no term lost
that was explained before the fault, no event duplicated, and listeners that lived through it
got the whole journal. Every scenario ends only once the stack has healed (/health 200 and a
canary line through a meeting), so later tests find it whole."""

from __future__ import annotations

import asyncpg
import pytest

from bench.faults import injectors, scenarios
from bench.faults.scenarios import Outcome, Target
from glossify.cli.demo import sample_meeting
from glossify.terms.candidates import term_id
from tests.credentials import TEST_KEY


@pytest.fixture
def target(stack) -> Target:
    return Target.of(stack.base_url, TEST_KEY, stack.config, sample_meeting())


def assert_nothing_lost_or_repeated(outcome: Outcome, captions_after: bool = True) -> None:
    figures, details = outcome.figures, outcome.details
    assert "sender_error" not in details, details
    assert "trigger_missed" not in details, details
    assert figures.lines_lost == [], (figures.lines_lost, outcome.journal_lines)
    assert figures.terms_lost == [], (figures.terms_lost, outcome.journal_terms)
    assert figures.events_duplicated == 0, (figures.duplicates, outcome.journal_lines)
    assert figures.missing_at_listeners == 0, details
    assert details.get("not_transcribed", 0) == 0, details
    if captions_after:
        # The meeting went on after the fault: captions came again.
        assert figures.captions_resumed_s is not None, details


async def test_a_transcriber_killed_mid_utterance_costs_no_final_line(target) -> None:
    outcome = await scenarios.transcriber_killed(target)
    assert_nothing_lost_or_repeated(outcome)
    # Serve started a new replica; the stream's final retry transcribed the utterance again.
    assert outcome.details["replaced_s"] is not None, outcome.details


async def test_an_ingress_killed_under_a_sender_and_two_listeners_costs_nothing(target) -> None:
    outcome = await scenarios.ingress_killed(target)
    assert_nothing_lost_or_repeated(outcome)
    assert outcome.details["sender_reconnects"] >= 1, outcome.details
    assert all(n >= 1 for n in outcome.details["listener_reconnects"]), outcome.details


async def test_a_meeting_host_killed_during_audio_costs_nothing(target) -> None:
    outcome = await scenarios.host_killed_during_audio(target)
    assert_nothing_lost_or_repeated(outcome)


async def test_a_meeting_host_killed_during_stop_ends_it_done_once(stack, target) -> None:
    outcome = await scenarios.host_killed_during_stop(target)
    assert_nothing_lost_or_repeated(outcome, captions_after=False)  # the audio was over
    details = outcome.details
    # Terms the explainer abstained on are shown, never saved.
    terms = [t for t in outcome.journal_terms if not t.get("abstained")]
    assert details["stop_http"] == 202, details
    assert details["stop_status"]["status"] == "done", details
    outcomes = [e for e in outcome.history if e["type"] in ("upsert_done", "upsert_error")]
    assert [e["type"] for e in outcomes] == ["upsert_done"], outcomes
    assert outcomes[0]["upserted"] == details["stop_status"]["upserted"] == len(terms) > 0
    conn = await asyncpg.connect(stack.database_url)
    try:
        rows = await conn.fetch(
            "SELECT termid, domain FROM term WHERE termid = ANY($1::uuid[])",
            [term_id(t["entity"]) for t in terms],
        )
        assert {(str(term_id(t["entity"])), t["domain"]) for t in terms} <= {
            (str(r["termid"]), r["domain"]) for r in rows
        }
    finally:
        # Glossary rows become hotwords for later tests: remove the ones this meeting made.
        for t in terms:
            if t["source"] != "glossary":
                await conn.execute(
                    "DELETE FROM term WHERE termid = $1 AND domain = $2 AND explanation = $3",
                    term_id(t["entity"]),
                    t["domain"],
                    t["body"],
                )
        await conn.close()


async def test_a_term_explainer_killed_mid_generation_still_explains_its_terms(target) -> None:
    acronyms = [scenarios.fresh_acronym() for _ in range(3)]
    lines = [
        f"Our {acronyms[0]} cluster autoscaler keeps evicting pods.",
        f"Let's check the {acronyms[1]} impact with finance before the review.",
        f"The {acronyms[2]} rollout waits for the security sign-off.",
    ]

    def all_explained(terms: list[dict]) -> bool:
        return all(any(a in t["entity"] for t in terms) for a in acronyms)

    outcome = await scenarios.text_meeting(
        target,
        "explainer_killed",
        lines,
        inject=scenarios.kill_deployment(injectors.EXPLAINER),
        settled=all_explained,
    )
    details = outcome.details
    before = details["terms_before_fault"]
    # Some acronym was still being explained when its replica died...
    assert any(all(a not in t for t in before) for a in acronyms), details
    # ...and every one was explained after the replacement: no meeting left waiting.
    assert "settled" not in details and all_explained(outcome.journal_terms), outcome.journal_terms
    assert details["replaced_s"] is not None, details
    figures = outcome.figures
    assert figures.terms_lost == [] and figures.events_duplicated == 0, figures
    assert figures.missing_at_listeners == 0, details


async def test_a_detector_that_never_answers_stops_neither_lines_nor_later_terms(target) -> None:
    outcome = await scenarios.detector_hangs(target)
    assert_nothing_lost_or_repeated(outcome)
    details = outcome.details
    assert details["replaced_s"] is not None, details
    # A line said once the stuck detector was replaced got its term.
    assert details["later_term_s"] is not None, details
