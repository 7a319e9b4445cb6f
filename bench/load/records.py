"""What a text-load run records: each posted line, each listener's events, each meeting, and
the live counters the scaling watch reports with every replica change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Live:
    """What the load is doing right now, for the scaling timeline."""

    phase: str = "start"
    meetings: int = 0
    lines_sent: int = 0
    in_flight: int = 0
    terms: int = 0
    last_event_at: float = 0.0

    def saw(self, event: dict[str, Any], at: float) -> None:
        self.last_event_at = at
        if event.get("type") == "terms":
            self.terms += 1


@dataclass
class LineRecord:
    text: str
    due: float
    sent_at: float = 0.0
    done_at: float | None = None
    status: int | None = None
    error: str | None = None
    duplicate: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class ListenerRun:
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    connect_error: str | None = None
    socket_error: str | None = None
    closed_by_server: int | None = None  # close code when the server closed first
    closing: bool = False

    def upsert_event(self) -> dict[str, Any] | None:
        kinds = ("upsert_done", "upsert_error")
        return next((e for _, e in self.events if e.get("type") in kinds), None)


@dataclass(frozen=True)
class SentLine:
    text: str
    sent_at: float  # time.monotonic() when the POST went out


@dataclass
class MeetingRun:
    meeting_id: str
    index: int
    lines: list[LineRecord] = field(default_factory=list)
    listeners: list[ListenerRun] = field(default_factory=list)
    stop_http: int | None = None
    stop_status: dict[str, Any] | None = None

    def sent(self) -> list[SentLine]:
        return [SentLine(r.text, r.sent_at) for r in self.lines if r.ok and not r.duplicate]

    def upsert_seen(self) -> bool | None:
        """For stop_meetings: a listener saw the upsert end; else whether one still will."""
        if any(listener.upsert_event() for listener in self.listeners):
            return True
        if any(not listener.connect_error for listener in self.listeners):
            return False  # its listeners will see upsert_done / upsert_error
        return None
