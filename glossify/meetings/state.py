"""Per-meeting state: the ordered event log and the dedup memories. No I/O, no Ray."""

from __future__ import annotations

import asyncio
import contextlib
import re
import unicodedata
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from glossify.terms.candidates import Candidate, FilterRules, normalize_term, passes_filter

_SPACES = re.compile(r"\s+")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")

STOP_IDLE = "idle"
STOP_RUNNING = "running"
STOP_DONE = "done"
STOP_ERROR = "error"


def normalize_line(text: str) -> str:
    """Key for dedup of final lines: recognisers resend the same sentence with other casing,
    spacing or trailing punctuation."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return _EDGE_PUNCT.sub("", _SPACES.sub(" ", folded).strip())


class RecentSet:
    """The last ``capacity`` keys added, with membership tests."""

    def __init__(self, capacity: int, initial: Iterable[str] = ()) -> None:
        self._order: deque[str] = deque()
        self._counts: Counter[str] = Counter()
        self._capacity = capacity
        for key in initial:
            self.add(key)

    def __contains__(self, key: str) -> bool:
        return self._counts[key] > 0

    def add(self, key: str) -> None:
        self._order.append(key)
        self._counts[key] += 1
        while len(self._order) > self._capacity:
            old = self._order.popleft()
            self._counts[old] -= 1
            if self._counts[old] == 0:
                del self._counts[old]


class EventLog:
    """The meeting's events in seq order; keeps the newest ``capacity`` in memory."""

    def __init__(self, last_seq: int, recent: list[dict[str, Any]], capacity: int) -> None:
        self._events: deque[dict[str, Any]] = deque(recent[-capacity:], maxlen=capacity)
        self._last_seq = last_seq
        self._changed = asyncio.Event()

    @property
    def last_seq(self) -> int:
        return self._last_seq

    @property
    def next_seq(self) -> int:
        return self._last_seq + 1

    def stamp(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event as it will be published next; commit it once it is journaled."""
        return {**event, "seq": self.next_seq}

    def commit(self, event: dict[str, Any]) -> None:
        if event["seq"] != self.next_seq:
            raise ValueError(f"event seq {event['seq']} committed out of order")
        self._events.append(event)
        self._last_seq = event["seq"]
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def recent(self) -> list[dict[str, Any]]:
        return list(self._events)

    def after(self, since: int, limit: int) -> list[dict[str, Any]] | None:
        """Events with seq > since, or None when they are older than what memory holds."""
        if since >= self._last_seq:
            return []
        oldest = self._events[0]["seq"] if self._events else self._last_seq + 1
        if since + 1 < oldest:
            return None
        start = since + 1 - oldest
        return [self._events[i] for i in range(start, min(len(self._events), start + limit))]

    async def wait_after(self, since: int, wait_s: float) -> None:
        if since < self._last_seq:
            return
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), wait_s)


@dataclass
class MeetingState:
    meeting_id: str
    language: str | None
    log: EventLog
    recent_lines: RecentSet
    line_count: int = 0
    stop_status: str = STOP_IDLE
    upserted: int = 0
    stop_error: str | None = None
    # Normalised terms claimed for explanation: explained, or being explained right now.
    claimed_terms: set[str] = field(default_factory=set)
    # The body last published for each (normalised term, domain), to drop exact repeats.
    published: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def accepting_lines(self) -> bool:
        return self.stop_status == STOP_IDLE

    def stop_status_body(self) -> dict[str, Any]:
        return {"status": self.stop_status, "upserted": self.upserted, "error": self.stop_error}


def repeated_terms(
    candidates: Iterable[Candidate], rules: FilterRules, claimed: Iterable[str]
) -> int:
    """Distinct candidates that would pass the filter but that the meeting already claimed:
    explanations the meeting's own dedup saved."""
    passing = {normalize_term(c.text) for c in candidates if passes_filter(c, rules)}
    return len(passing & set(claimed))


def earlier_lines(events: Iterable[dict[str, Any]], line: str, limit: int = 2) -> list[str]:
    """The final transcript lines said just before `line` (its last occurrence), oldest first,
    at most `limit`: the context that tells which sense of a term the speaker means."""
    finals = [
        event["text"]
        for event in events
        if event.get("type") == "transcript" and event.get("is_final")
    ]
    at = next((i for i in range(len(finals) - 1, -1, -1) if finals[i] == line), None)
    return [] if at is None else finals[max(0, at - limit) : at]


def hotword_terms(events: Iterable[dict[str, Any]]) -> list[str]:
    """Spellings of the terms shown in `events` that may go back to speech recognition as
    hotwords, newest first: every term from the glossary, posted from outside or explained,
    but none the explainer abstained on. Such a term is often a mishearing ("Ooth flow"), and
    as a hotword it would teach Whisper its own mistake."""
    return [
        event["entity"]
        for event in reversed(list(events))
        if event.get("type") == "terms" and not event.get("abstained")
    ]
