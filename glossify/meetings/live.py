"""One live meeting inside a meeting host: journal first, then publish; NER → filter → agent."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from glossify import metrics
from glossify.access.limits import RateLimiter
from glossify.config.settings import GlossifyConfig
from glossify.meetings.explanations import Backends, TermExplanations
from glossify.meetings.journal import JournalBuffer, JournalFull, merge_events
from glossify.meetings.line_queue import LineQueue
from glossify.meetings.state import (
    STOP_DONE,
    STOP_ERROR,
    STOP_IDLE,
    STOP_RUNNING,
    EventLog,
    MeetingState,
    RecentSet,
    earlier_lines,
    hotword_terms,
    normalize_line,
    repeated_terms,
)
from glossify.protocol import now_iso, terms_event, transcript_event
from glossify.remote.retries import Deadline, Retry, with_retries
from glossify.store.postgres import MeetingRecord, Store, is_unreachable
from glossify.terms.candidates import (
    FilterRules,
    normalize_term,
    shown_candidates,
    term_id,
)

log = logging.getLogger(__name__)

# The first retry of a failed upsert waits about this long; each next one twice as long.
UPSERT_RETRY_BACKOFF_S = 1.0

Journal = Callable[[dict[str, Any]], Awaitable[None]]


class Refused(Exception):
    """A request the meeting cannot take in its current state (becomes a 4xx); a 429 may say
    when to try again."""

    def __init__(
        self, status: int, code: str, message: str, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.retry_after_s = retry_after_s


class LiveMeeting:
    def __init__(
        self,
        record: MeetingRecord,
        store: Store,
        backends: Backends,
        config: GlossifyConfig,
        line_rate: RateLimiter,
    ) -> None:
        meetings = config.meetings
        self.id = record.meeting_id
        self.state = MeetingState(
            meeting_id=record.meeting_id,
            language=record.language,
            log=EventLog(record.last_seq, record.recent_events, meetings.events_in_memory),
            recent_lines=RecentSet(meetings.recent_lines, record.recent_line_norms),
            line_count=record.line_count,
            stop_status=record.stop_status,
            upserted=record.upserted,
            stop_error=record.stop_error,
            claimed_terms={norm for norm, _, _ in record.terms},
            published={(norm, domain): body for norm, domain, body in record.terms},
        )
        self._store = store
        self._backends = backends
        self._explanations = TermExplanations(store, backends, config)
        self._config = config
        self._quotas = config.auth.quotas
        self._line_rate = line_rate
        self._rules = FilterRules(
            allowed_categories=frozenset(config.detector.allowed_categories),
            min_confidence=config.detector.min_confidence,
        )
        self._lock = asyncio.Lock()
        # Every journal write of the meeting goes through it, in order; it keeps them while
        # PostgreSQL is unreachable, so the meeting goes on meanwhile.
        self._journal = JournalBuffer(
            meetings.journal_buffer_events, is_unreachable, on_flushed=self._journal_caught_up
        )
        self._stop_task: asyncio.Task[None] | None = None
        self.lines = LineQueue(
            self._process_line,
            self._load_pending,
            capacity=meetings.queue_size,
            workers=meetings.workers_per_meeting,
        )
        self.listeners = 0
        self.last_used = time.monotonic()
        if record.has_pending_lines and record.stop_status != STOP_DONE:
            self.lines.resume_backlog()
        if record.stop_status == STOP_RUNNING:
            self._stop_task = asyncio.create_task(self._finish_stop())

    @property
    def idle(self) -> bool:
        return (
            self.listeners == 0
            and not self.lines.busy
            and self._stop_task_done
            and self._journal.empty  # evicting it would lose what waits for the database
        )

    @property
    def journal_kept(self) -> int:
        """Journal writes waiting in memory for PostgreSQL to come back."""
        return self._journal.kept

    @property
    def _stop_task_done(self) -> bool:
        return self._stop_task is None or self._stop_task.done()

    def touch(self) -> None:
        self.last_used = time.monotonic()

    def close(self) -> None:
        self.lines.cancel()
        self._journal.close()
        if self._stop_task is not None:
            self._stop_task.cancel()

    def term_names(self) -> list[str]:
        """Spellings of the terms this meeting has shown with an explanation, newest first."""
        return hotword_terms(self.state.log.recent())

    async def set_language(self, language: str | None) -> None:
        if language != self.state.language:
            await self._journal.write(
                lambda: self._store.set_language(self.id, language), "the meeting's language"
            )
            self.state.language = language

    async def submit_line(
        self,
        text: str,
        *,
        is_final: bool,
        timestamp: str | None,
        speaker: str | None,
        start: float | None = None,
        end: float | None = None,
    ) -> int | None:
        """Journal and publish a transcript line; returns its seq, None for a duplicate."""
        text = text.strip()
        if not text:
            raise Refused(422, "empty_text", "text must not be empty")
        if len(text) > self._config.meetings.max_line_chars:
            limit = self._config.meetings.max_line_chars
            raise Refused(413, "line_too_long", f"a line holds at most {limit} characters")
        self._require_accepting()
        self._take_line_quota(is_final)
        event = transcript_event(
            text,
            is_final=is_final,
            timestamp=timestamp or now_iso(),
            speaker=speaker,
            start=start,
            end=end,
        )
        if not is_final:
            return await self._publish(
                event, lambda stamped: self._store.append_event(self.id, stamped)
            )
        norm = normalize_line(text)
        async with self._lock:
            self._require_accepting()
            if norm in self.state.recent_lines:
                return None
            self._check_journal_room()
            stamped = self.state.log.stamp(event)
            line_no = self.state.line_count + 1
            await self._journal.write(
                lambda: self._store.append_line(self.id, line_no, stamped, norm, pending=True),
                f"line {line_no}",
                stamped,
            )
            self.state.log.commit(stamped)
            self.state.line_count = line_no
            self.state.recent_lines.add(norm)
        self.lines.offer(line_no, stamped)
        seq: int = stamped["seq"]
        return seq

    def _take_line_quota(self, is_final: bool) -> None:
        wait_s = self._line_rate.take(self.id, time.monotonic())
        if wait_s is not None:
            metrics.MEETING_QUOTA_REFUSALS.inc(quota="lines_per_s")
            raise Refused(
                429,
                "line_rate_limited",
                f"this meeting takes at most {self._quotas.lines_per_s:g} lines per second",
                wait_s,
            )
        if is_final and self.state.line_count >= self._quotas.lines_per_meeting:
            metrics.MEETING_QUOTA_REFUSALS.inc(quota="lines_per_meeting")
            raise Refused(
                429,
                "transcript_full",
                f"this meeting holds at most {self._quotas.lines_per_meeting} lines",
            )

    @property
    def _glossary_full(self) -> bool:
        return len(self.state.published) >= self._quotas.terms_per_meeting

    async def add_external_term(
        self, entity: str, domain: str, body: str, timestamp: str | None, to_glossary: bool
    ) -> bool:
        """Publish a term explained elsewhere; returns False when it repeats what was shown.
        It reaches the organisation glossary at stop only when ``to_glossary``."""
        self._require_accepting()
        norm = normalize_term(entity)
        if self._glossary_full and (norm, domain.strip()) not in self.state.published:
            metrics.MEETING_QUOTA_REFUSALS.inc(quota="terms_per_meeting")
            raise Refused(
                429,
                "glossary_full",
                f"this meeting holds at most {self._quotas.terms_per_meeting} terms",
            )
        self.state.claimed_terms.add(norm)
        event = terms_event(
            entity.strip(), domain.strip(), body.strip(), "external", timestamp or now_iso()
        )
        return await self._publish_term(norm, event, to_glossary)

    async def events_after(self, since: int, limit: int, wait_s: float) -> list[dict[str, Any]]:
        await self.state.log.wait_after(since, wait_s)
        events = self.state.log.after(since, limit)
        if events is None:
            events = await self._journaled_events_after(since, limit)
        return events

    async def _journaled_events_after(self, since: int, limit: int) -> list[dict[str, Any]]:
        """Events older than memory holds: the journal's, and those still waiting for it."""
        kept = self._journal.kept_events()
        try:
            stored = await self._store.events_after(self.id, since, limit)
        except Exception as exc:
            if not is_unreachable(exc):
                raise
            message = "events this old are only in the journal, unreachable now; try again soon"
            raise Refused(503, "journal_unavailable", message) from exc
        return merge_events(stored, kept, since, limit)

    async def stop(self) -> None:
        async with self._lock:
            status = self.state.stop_status
            if status == STOP_RUNNING:
                raise Refused(409, "stop_in_progress", "this meeting is already stopping")
            if status == STOP_DONE:
                raise Refused(409, "already_stopped", "this meeting has already been stopped")
            await self._journal.write(
                lambda: self._store.set_stop_status(self.id, STOP_RUNNING), "the stop's start"
            )
            self.state.stop_status = STOP_RUNNING
            self.state.stop_error = None
        self._stop_task = asyncio.create_task(self._finish_stop())

    async def stop_finished(self) -> None:
        """Returns once a stop under way has ended, in done or in error."""
        if self._stop_task is not None:
            await asyncio.shield(self._stop_task)

    def _require_accepting(self) -> None:
        if not self.state.accepting_lines:
            raise Refused(409, "meeting_stopped", "this meeting has been stopped")

    def _check_journal_room(self) -> None:
        """Refuses a new event before it is stamped when the journal is unreachable and the
        meeting holds all it may: a clear 503, never an event accepted and then lost."""
        try:
            self._journal.check_room()
        except JournalFull as exc:
            log.warning("meeting %s: event refused, journal unreachable: %s", self.id, exc)
            message = "the meeting's journal is unreachable and its buffer is full; try again soon"
            raise Refused(503, "journal_unavailable", message) from exc

    async def _publish(
        self,
        event: dict[str, Any],
        journal: Journal,
        unless: Callable[[], bool] | None = None,
        committed: Callable[[], None] | None = None,
    ) -> int | None:
        """Give the event the next seq, journal it, then show it to listeners; returns the seq.

        ``unless`` is checked and ``committed`` run under the same lock, so a repeat check
        cannot race a publish."""
        async with self._lock:
            if unless is not None and unless():
                return None
            self._check_journal_room()
            stamped = self.state.log.stamp(event)
            seq: int = stamped["seq"]
            await self._journal.write(lambda: journal(stamped), f"event {seq}", stamped)
            if committed is not None:
                committed()
            self.state.log.commit(stamped)
            return seq

    async def _publish_term(
        self, norm: str, event: dict[str, Any], to_glossary: bool = True
    ) -> bool:
        key = (norm, event["domain"])
        tid = term_id(event["entity"])

        async def journal(stamped: dict[str, Any]) -> None:
            await self._store.append_term(self.id, tid, norm, stamped, to_glossary)

        def shown() -> None:
            self.state.published[key] = event["body"]

        seq = await self._publish(
            event,
            journal,
            unless=lambda: self.state.published.get(key) == event["body"],
            committed=shown,
        )
        if seq is not None:
            metrics.TERMS.inc(source=event["source"])
        return seq is not None

    async def _load_pending(
        self, exclude: list[int], limit: int
    ) -> list[tuple[int, dict[str, Any]]]:
        return await self._store.pending_lines(self.id, exclude=exclude, limit=limit)

    async def _process_line(self, line_no: int, event: dict[str, Any]) -> None:
        text = event["text"]
        try:
            candidates = await asyncio.wait_for(
                self._backends.detect(text, self.state.language),
                self._config.meetings.detect_timeout_s,
            )
        except Exception:
            log.exception("term detection failed for meeting %s line %s", self.id, line_no)
            candidates = []
        fresh = shown_candidates(candidates, self._rules, self.state.claimed_terms)
        metrics.count_repeats(repeated_terms(candidates, self._rules, self.state.claimed_terms))
        if self._glossary_full or len(self.state.claimed_terms) >= self._quotas.terms_per_meeting:
            # Bounded memory: past its quota a meeting explains no new terms.
            metrics.MEETING_QUOTA_REFUSALS.inc(len(fresh), quota="terms_per_meeting")
            fresh = []
        for candidate in fresh:
            self.state.claimed_terms.add(normalize_term(candidate.text))
        await asyncio.gather(*(self._explain(candidate.text, text) for candidate in fresh))
        await self._journal.write(
            lambda: self._store.mark_line_done(self.id, line_no), f"line {line_no} done"
        )

    def _journal_caught_up(self) -> None:
        # Lines that overflowed the queue during an outage were looked for in a journal that
        # did not have them yet: look again now that it has.
        if self.state.accepting_lines or self.lines.busy:
            self.lines.resume_backlog()

    async def _explain(self, term: str, context: str) -> None:
        norm = normalize_term(term)
        try:
            event = await self._explanations.known(term)
            metrics.count_term_lookup(event)
            if event is None:
                # The explainer tells the sense from the line and the lines just before it.
                lines = [*earlier_lines(self.state.log.recent(), context), context]
                event = await self._explanations.new(
                    term, "\n".join(lines), self.state.language, self.id
                )
            # An abstention is shown as such in the meeting, never saved as an explanation.
            await self._publish_term(norm, event, to_glossary=not event.get("abstained", False))
        except Exception as exc:
            # Unclaim so the term gets another chance the next time someone says it.
            self.state.claimed_terms.discard(norm)
            log.warning("no explanation for %r in meeting %s: %r", term, self.id, exc)

    async def _finish_stop(self) -> None:
        try:
            await asyncio.wait_for(self.lines.drained(), self._config.meetings.stop_drain_s)
        except TimeoutError:
            self.lines.abandon()
            log.warning("meeting %s: stopped with lines not yet through NER", self.id)
        metrics.MEETING_LINES.observe(self.state.line_count)
        metrics.MEETING_TERMS.observe(len(self.state.published))
        meetings = self._config.meetings
        deadline = Deadline(meetings.upsert_retry_s)
        try:
            # The upsert reads the meeting's terms from the journal: all of them must be in it.
            await asyncio.wait_for(self._journal.flushed(), deadline.remaining())
            upserted = await with_retries(
                lambda: self._store.upsert_glossary(self.id),
                classify=lambda _: Retry(),
                deadline=deadline,
                max_attempts=meetings.upsert_attempts,
                backoff_base_s=UPSERT_RETRY_BACKOFF_S,
                max_retry_after_s=meetings.upsert_retry_s,
                what=f"the glossary upsert of meeting {self.id}",
            )
        except Exception as exc:
            log.exception("glossary upsert failed for meeting %s", self.id)
            # Clients get the kind of failure, never the exception text (it may name hosts).
            problem = f"the glossary could not be saved ({type(exc).__name__}); stop again to retry"
            await self._end_stop(STOP_ERROR, 0, problem)
        else:
            await self._end_stop(STOP_DONE, upserted, None)

    async def _end_stop(self, status: str, upserted: int, error: str | None) -> None:
        """Record how the stop ended; when even that cannot be journaled, the stop still ends
        in error here (never stuck 'running'), and may be asked for again."""
        try:
            await self._record_stop(status, upserted, error)
        except Exception as exc:
            log.exception("meeting %s: the stop's outcome could not be journaled", self.id)
            problem = f"the stop could not be recorded ({type(exc).__name__}); stop again to retry"
            self.state.stop_status, self.state.upserted = STOP_ERROR, 0
            self.state.stop_error = problem

    async def _record_stop(self, status: str, upserted: int, error: str | None) -> None:
        if status == STOP_DONE:
            event: dict[str, Any] = {"type": "upsert_done", "upserted": upserted}
        else:
            event = {"type": "upsert_error", "code": "upsert_failed", "error": error}

        async def journal(stamped: dict[str, Any]) -> None:
            await self._store.record_stop_result(self.id, stamped, status, upserted, error)

        await self._publish(event, journal)
        self.state.stop_status, self.state.upserted, self.state.stop_error = status, upserted, error


__all__ = ["STOP_IDLE", "Backends", "LiveMeeting", "Refused"]
