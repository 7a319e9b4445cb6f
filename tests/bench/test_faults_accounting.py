"""The fault bench's accounting (bench/faults/accounting.py), on made-up meetings."""

from __future__ import annotations

from bench.faults.accounting import (
    Received,
    account,
    captions_resumed_s,
    finals_not_in,
    lines_lost,
    missing_seqs,
    repeated_finals,
    repeated_outcomes,
    repeated_seqs,
    repeated_terms,
    seq_faults,
    terms_lost,
)

SCRIPT = [
    "Our Kubernetes cluster autoscaler keeps evicting pods.",
    "Let's check the EBITDA impact with finance before the quarterly business review.",
    "The product team wants to ship the new OAuth flow behind a feature flag next sprint.",
]


def final(seq: int, text: str) -> dict:
    return {"type": "transcript", "is_final": True, "seq": seq, "text": text}


def term(seq: int, entity: str, domain: str = "Tech") -> dict:
    return {"type": "terms", "seq": seq, "entity": entity, "domain": domain, "body": "..."}


def test_whisper_errors_lose_no_line_but_a_missing_utterance_does() -> None:
    heard = [
        "Our Kubernetes cluster auto scaler keeps evicting pots.",
        "Let's check the EBITDA impact with finance before the quarterly business review.",
        "The product team wants to ship the new Ooth flow behind a feature flag next sprint.",
    ]
    assert lines_lost(SCRIPT, heard) == []
    assert lines_lost(SCRIPT, [heard[0], heard[2]]) == [SCRIPT[1]]
    # Cut differently (one line in two finals, two lines in one) is not a loss.
    split = ["Our Kubernetes cluster autoscaler", "keeps evicting pods. Let's check the EBITDA"]
    assert lines_lost(SCRIPT[:1], split) == []


def test_an_utterance_transcribed_twice_is_a_repeat_even_when_cut_differently() -> None:
    heard = [
        "Our Kubernetes cluster autoscaler keeps evicting pods.",
        "Let's check the EBITDA impact with finance",
        "check the EBITDA impact with finance before the quarterly business review.",
        "The product team wants to ship the new OAuth flow behind a feature flag next sprint.",
    ]
    # One of the two copies lines up with the script, the other is the repeat.
    repeats = repeated_finals(SCRIPT, heard)
    assert len(repeats) == 1 and repeats[0] in heard[1:3]
    assert repeated_finals(SCRIPT, [*SCRIPT, SCRIPT[0]]) == [SCRIPT[0]]
    assert repeated_finals(SCRIPT, SCRIPT) == []
    # Words the script never had are a mishearing, not a repeat.
    assert repeated_finals(SCRIPT, [*SCRIPT, "Thank you for watching my channel."]) == []


def test_listener_repeats_and_gaps_are_counted_against_the_journal() -> None:
    journal = [final(1, "a"), term(3, "OAuth"), final(4, "b")]
    got = [Received(0.0, final(1, "a")), Received(1.0, final(1, "a")), Received(2.0, final(4, "b"))]
    assert repeated_seqs(got) == 1
    assert missing_seqs(got, journal) == [3]


def test_terms_lost_repeated_and_outcomes() -> None:
    before = [term(3, "OAuth"), term(5, "EBITDA", "Finance")]
    assert terms_lost(before, [term(9, "oauth")]) == ["EBITDA"]
    assert repeated_terms([term(3, "OAuth"), term(7, "OAuth"), term(8, "OAuth", "Law")]) == 1
    stop = {"type": "upsert_done", "seq": 9, "upserted": 2}
    assert repeated_outcomes([final(1, "a"), stop]) == 0
    assert repeated_outcomes([stop, {**stop, "seq": 10}]) == 1
    assert seq_faults([final(1, "a"), final(2, "b"), final(2, "b"), final(3, "c")]) == 2


def test_a_journal_lagging_behind_its_listeners_lacks_their_later_finals() -> None:
    shown = [final(1, SCRIPT[0]), term(2, "Kubernetes"), final(3, SCRIPT[1]), final(4, SCRIPT[2])]
    finals = [e for e in shown if e["type"] == "transcript"]
    assert finals_not_in(finals, [final(1, SCRIPT[0])]) == [3, 4]
    # Caught up: every final is there, whatever else the journal holds (terms are elsewhere).
    assert (
        finals_not_in(finals, [final(1, SCRIPT[0]), final(3, SCRIPT[1]), final(4, SCRIPT[2])]) == []
    )
    assert finals_not_in([], []) == []


def test_captions_resume_at_the_first_new_final_after_the_fault() -> None:
    got = [
        Received(1.0, final(1, "a")),
        Received(5.0, final(1, "a")),  # replayed after a reconnect: not new
        Received(5.5, {"type": "transcript", "is_final": False, "seq": 2, "text": "b"}),
        Received(7.0, final(3, "b c")),
    ]
    assert captions_resumed_s(got, 4.0) == 3.0
    assert captions_resumed_s(got[:2], 4.0) is None


def test_a_clean_meeting_accounts_to_zero_and_a_faulty_one_does_not() -> None:
    lines = [final(n + 1, text) for n, text in enumerate(SCRIPT)]
    terms = [term(4, "Kubernetes"), term(5, "EBITDA", "Finance")]
    received = [Received(float(e["seq"]), e) for e in [*lines, *terms]]
    history = [*lines, *terms]
    clean = account(
        script=SCRIPT,
        listeners=[received, received],
        journal_lines=lines,
        journal_terms=terms,
        history=history,
        fault_at=2.5,
    )
    assert clean.row()["final_lines_lost"] == clean.events_duplicated == 0
    assert clean.terms_lost == [] and clean.missing_at_listeners == 0
    assert clean.captions_resumed_s == 0.5

    faulty = account(
        script=SCRIPT,
        listeners=[[*received, received[0]]],
        journal_lines=lines[:2],
        journal_terms=terms[1:],
        history=history,
        fault_at=4.5,
    )
    assert faulty.lines_lost == [SCRIPT[2]]
    assert faulty.terms_lost == ["Kubernetes"]
    assert faulty.duplicates["repeated_at_listeners"] == 1
