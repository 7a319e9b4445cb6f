"""What a fault cost a meeting, from what its listeners received and what its journal holds.

Pure functions, so that the bench and the tests count the same way:
- a script line is *lost* when less than half of its words are in the meeting's final lines,
  in order (Whisper's own errors stay well under that);
- an event is *duplicated* when a listener receives a seq twice, the journal holds a final line
  that repeats speech already transcribed (the same utterance sent twice after a reconnect, cut
  differently), a term twice in one domain, or a stop outcome twice;
- a term is *lost* when a listener saw it before the fault and the journal lacks it after;
- captions *resumed* at the first final line, new to the listener, after the fault.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from glossify.terms.candidates import normalize_term
from glossify.transcription.wer import words

# A script line counts as heard when at least this share of its words is in the transcript.
HEARD_SHARE = 0.5
# A final line of at least this many words, less than half of it lined up with the script while
# most of its words are the script's, repeats speech already transcribed.
REPEAT_MIN_WORDS = 3
REPEAT_SCRIPT_SHARE = 0.6
STOP_OUTCOMES = ("upsert_done", "upsert_error")


@dataclass(frozen=True)
class Received:
    """One event as a listener got it: when (monotonic seconds) and what."""

    at: float
    event: dict[str, Any]


def _aligned(script: Sequence[str], finals: Sequence[str]) -> tuple[list[int], list[int]]:
    """Words of each script line and of each final line that line up with the other side."""
    ref: list[tuple[str, int]] = [(w, i) for i, line in enumerate(script) for w in words(line)]
    hyp: list[tuple[str, int]] = [(w, i) for i, line in enumerate(finals) for w in words(line)]
    matcher = SequenceMatcher(None, [w for w, _ in ref], [w for w, _ in hyp], autojunk=False)
    script_hits, final_hits = [0] * len(script), [0] * len(finals)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            script_hits[ref[block.a + k][1]] += 1
            final_hits[hyp[block.b + k][1]] += 1
    return script_hits, final_hits


def lines_lost(script: Sequence[str], finals: Sequence[str]) -> list[str]:
    """Script lines the final lines do not hold (less than HEARD_SHARE of their words)."""
    script_hits, _ = _aligned(script, finals)
    return [
        line
        for line, hits in zip(script, script_hits, strict=True)
        if words(line) and hits < HEARD_SHARE * len(words(line))
    ]


def repeated_finals(script: Sequence[str], finals: Sequence[str]) -> list[str]:
    """Final lines that say again what an earlier final line already said."""
    _, final_hits = _aligned(script, finals)
    vocabulary = {w for line in script for w in words(line)}
    seen: set[tuple[str, ...]] = set()
    repeats = []
    for line, hits in zip(finals, final_hits, strict=True):
        said = words(line)
        if tuple(said) in seen or (
            len(said) >= REPEAT_MIN_WORDS
            and hits < HEARD_SHARE * len(said)
            and sum(w in vocabulary for w in said) >= REPEAT_SCRIPT_SHARE * len(said)
        ):
            repeats.append(line)
        seen.add(tuple(said))
    return repeats


def repeated_seqs(received: Iterable[Received]) -> int:
    """Events a listener received more than once (the same seq again)."""
    counts = Counter(r.event["seq"] for r in received if "seq" in r.event)
    return sum(n - 1 for n in counts.values())


def missing_seqs(received: Iterable[Received], journal: Iterable[dict[str, Any]]) -> list[int]:
    """Journaled events (final lines, terms) a listener never received."""
    got = {r.event["seq"] for r in received if "seq" in r.event}
    return sorted(e["seq"] for e in journal if e["seq"] not in got)


def term_key(event: dict[str, Any]) -> tuple[str, str]:
    return normalize_term(event["entity"]), event.get("domain", "")


def repeated_terms(terms: Iterable[dict[str, Any]]) -> int:
    """Terms the journal holds more than once in the same domain."""
    counts = Counter(term_key(t) for t in terms)
    return sum(n - 1 for n in counts.values())


def terms_lost(
    before_fault: Iterable[dict[str, Any]], terms: Iterable[dict[str, Any]]
) -> list[str]:
    """Terms a listener saw before the fault that the journal does not hold after it."""
    kept = {term_key(t) for t in terms}
    return sorted({t["entity"] for t in before_fault if term_key(t) not in kept})


def repeated_outcomes(events: Iterable[dict[str, Any]]) -> int:
    """Stop outcomes (upsert_done / upsert_error) beyond the first in a meeting's history."""
    return max(0, sum(e.get("type") in STOP_OUTCOMES for e in events) - 1)


def seq_faults(events: Sequence[dict[str, Any]]) -> int:
    """Places where a replayed history's seqs are not 1, 2, 3, ... (repeats, gaps, reorders)."""
    seqs = [e["seq"] for e in events if "seq" in e]
    return sum(seq != n for n, seq in enumerate(seqs, start=1))


def is_final(event: dict[str, Any]) -> bool:
    return event.get("type") == "transcript" and bool(event.get("is_final"))


def finals_not_in(
    finals: Iterable[dict[str, Any]], journal_lines: Iterable[dict[str, Any]]
) -> list[int]:
    """Seqs of final lines (as listeners received them) that the journal (GET /transcript)
    does not hold: while PostgreSQL is away the meeting goes on and its journal lags behind."""
    journaled = {line["seq"] for line in journal_lines}
    return sorted({e["seq"] for e in finals if e["seq"] not in journaled})


def seen_before(received: Iterable[Received], moment: float, kind: str) -> list[dict[str, Any]]:
    """Events of type ``kind`` a listener had received before ``moment``."""
    return [r.event for r in received if r.at < moment and r.event.get("type") == kind]


def captions_resumed_s(received: Sequence[Received], fault_at: float) -> float | None:
    """Seconds from the fault to the first final line the listener had not had before it
    (None: none came after)."""
    before = {r.event["seq"] for r in received if r.at < fault_at and "seq" in r.event}
    for r in received:
        if r.at >= fault_at and is_final(r.event) and r.event["seq"] not in before:
            return round(r.at - fault_at, 2)
    return None


@dataclass
class Figures:
    """One fault's row: the four figures and what they are made of."""

    lines_lost: list[str] = field(default_factory=list)
    terms_lost: list[str] = field(default_factory=list)
    duplicates: dict[str, int] = field(default_factory=dict)
    missing_at_listeners: int = 0
    captions_resumed_s: float | None = None
    # What there was to lose: the journal's final lines and terms, and the terms shown before
    # the fault (the only ones "terms lost" can count).
    finals: int = 0
    terms: int = 0
    terms_before_fault: int = 0

    @property
    def events_duplicated(self) -> int:
        return sum(self.duplicates.values())

    def row(self) -> dict[str, Any]:
        return {
            "final_lines_lost": len(self.lines_lost),
            "terms_lost": len(self.terms_lost),
            "events_duplicated": self.events_duplicated,
            "captions_resumed_s": self.captions_resumed_s,
            "missing_at_listeners": self.missing_at_listeners,
            "finals": self.finals,
            "terms": self.terms,
            "terms_before_fault": self.terms_before_fault,
            "lost_lines": self.lines_lost,
            "lost_terms": self.terms_lost,
            "duplicates": self.duplicates,
        }


def account(
    *,
    script: Sequence[str] | None,
    listeners: Sequence[Sequence[Received]],
    journal_lines: Sequence[dict[str, Any]],
    journal_terms: Sequence[dict[str, Any]],
    history: Sequence[dict[str, Any]],
    fault_at: float | None,
) -> Figures:
    """The figures of one meeting: ``script`` is what was said (None: the lines were sent as
    text, so the journal is compared with what the listeners saw only), ``listeners`` what
    each received, ``history`` its journal replayed from seq 0."""
    finals = [line["text"] for line in journal_lines]
    journaled = [*journal_lines, *journal_terms]
    figures = Figures(finals=len(finals), terms=len(journal_terms))
    if script is not None:
        figures.lines_lost = lines_lost(script, finals)
        figures.duplicates["repeated_finals"] = len(repeated_finals(script, finals))
    else:
        figures.duplicates["repeated_finals"] = len(finals) - len({tuple(words(f)) for f in finals})
    figures.duplicates["repeated_terms"] = repeated_terms(journal_terms)
    figures.duplicates["repeated_at_listeners"] = sum(repeated_seqs(r) for r in listeners)
    figures.duplicates["repeated_stop_outcomes"] = repeated_outcomes(history)
    figures.duplicates["history_seq_faults"] = seq_faults(history)
    figures.missing_at_listeners = sum(len(missing_seqs(r, journaled)) for r in listeners)
    if fault_at is not None and listeners:
        before = [t for r in listeners for t in seen_before(r, fault_at, "terms")]
        figures.terms_lost = terms_lost(before, journal_terms)
        figures.terms_before_fault = len({term_key(t) for t in before})
        figures.captions_resumed_s = captions_resumed_s(listeners[0], fault_at)
    return figures
