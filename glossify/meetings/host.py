"""MeetingHost: a named Ray actor that hosts many meetings (one shard of them).

A fixed number of hosts carries every meeting, so 200 meetings are 200 objects in a few
processes, not 200 processes. Every event is journaled before it is published; a host that
Ray restarts after a crash reloads each meeting from the journal when it is next touched, and
at start-up resumes the meetings that had lines in the pipeline or an upsert under way.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from ray import serve

from glossify import metrics
from glossify.access.limits import RateLimiter
from glossify.config.settings import GlossifyConfig
from glossify.meetings.hotwords import meeting_hotwords
from glossify.meetings.live import LiveMeeting, Refused
from glossify.store.glossary import Glossary, GlossaryQuery
from glossify.store.postgres import Store, is_unreachable
from glossify.terms.candidates import Candidate
from glossify.terms.gazetteer import GlossaryGazetteer, with_known_terms

log = logging.getLogger(__name__)

MAX_EVENTS_PER_POLL = 500
EVICT_SWEEP_S = 60.0
GLOSSARY_CACHE_S = 5.0
# Glossary terms a host caches: hotwords for the streams, and a gazetteer for every line.
GLOSSARY_TERMS = 5000
# Ray exports metrics every ~10 s: sampling the gauges more often would show nothing more.
GAUGE_SAMPLE_S = 5.0


def shard_of(meeting_id: str, shards: int) -> int:
    # A stable hash (not Python's salted hash()) so every ingress replica agrees.
    value = 0
    for byte in meeting_id.encode():
        value = (value * 131 + byte) % 1_000_000_007
    return value % shards


def host_name(app_name: str, shard: int) -> str:
    return f"{app_name}-meetings-{shard}"


class ServeBackends:
    """The TermDetector and TermExplainer deployments, looked up by name in our app.

    ``known_terms`` gives the organisation glossary as a gazetteer: its terms are added to
    what the detector found in a line whenever they are said (the detector cannot reach the
    database; the host already caches the glossary's terms)."""

    def __init__(
        self,
        app_name: str,
        known_terms: Callable[[], Awaitable[GlossaryGazetteer]] | None = None,
    ) -> None:
        self._detector = serve.get_deployment_handle("TermDetector", app_name=app_name)
        self._explainer = serve.get_deployment_handle("TermExplainer", app_name=app_name)
        self._known_terms = known_terms

    async def detect(self, text: str, language: str | None) -> list[Candidate]:
        found: list[Candidate] = await self._detector.detect.remote(text, language)
        if self._known_terms is None:
            return found
        try:
            gazetteer = await self._known_terms()
        except Exception:
            # The glossary is an extra: a failed read never costs the line its detection.
            log.warning("glossary terms unavailable; detection only", exc_info=True)
            return found
        return with_known_terms(found, gazetteer, text)

    async def explain(
        self, term: str, context: str, language: str | None, meeting: str
    ) -> dict[str, Any]:
        answer: dict[str, Any] = await self._explainer.explain.remote(
            term, context, language, meeting
        )
        return answer


def _refused(exc: Refused) -> dict[str, Any]:
    refused = {"status": exc.status, "code": exc.code, "message": exc.message}
    return {"refused": {**refused, "retry_after_s": exc.retry_after_s}}


def _journal_unavailable(context: str) -> Refused:
    message = f"{context}, but its journal cannot be read right now; try again soon"
    return Refused(503, "journal_unavailable", message)


class MeetingHost:
    def __init__(self, shard: int, config_json: str) -> None:
        self._shard = shard
        self._config = GlossifyConfig.model_validate_json(config_json)
        metrics.label_meeting_host(self._config.app_name)
        self._meetings: dict[str, LiveMeeting] = {}
        self._loading: dict[str, asyncio.Lock] = {}
        self._store: Store | None = None
        self._backends: ServeBackends | None = None
        self._startup_lock = asyncio.Lock()
        self._sweeper: asyncio.Task[None] | None = None
        self._gauges: asyncio.Task[None] | None = None
        self._glossary_cache: tuple[float, list[str]] = (float("-inf"), [])
        self._gazetteer_cache: tuple[list[str] | None, GlossaryGazetteer] = (
            None,
            GlossaryGazetteer([]),
        )
        quotas = self._config.auth.quotas
        self._line_rate = RateLimiter(quotas.lines_per_s, quotas.lines_burst)

    # -- lifecycle -------------------------------------------------------------------------

    async def _ready(self) -> Store:
        if self._store is not None:
            return self._store
        async with self._startup_lock:
            if self._store is None:
                store = await Store.connect(self._config.database_url)
                await store.ensure_schema()
                self._backends = ServeBackends(self._config.app_name, self._gazetteer)
                self._store = store
                self._sweeper = asyncio.create_task(self._sweep_idle())
                self._gauges = asyncio.create_task(self._sample_gauges())
                await self._resume_unfinished(store)
        return self._store

    async def _resume_unfinished(self, store: Store) -> None:
        for meeting_id in await store.meetings_needing_work():
            if shard_of(meeting_id, self._config.meetings.shards) == self._shard:
                await self._meeting(meeting_id, create=False)

    async def _sweep_idle(self) -> None:
        while True:
            await asyncio.sleep(EVICT_SWEEP_S)
            cutoff = time.monotonic() - self._config.meetings.idle_evict_s
            for meeting_id, meeting in list(self._meetings.items()):
                if meeting.idle and meeting.last_used < cutoff:
                    meeting.close()
                    del self._meetings[meeting_id]

    async def _sample_gauges(self) -> None:
        shard = str(self._shard)
        while True:
            metrics.MEETINGS_OPEN.set(len(self._meetings), shard=shard)
            depth = sum(meeting.lines.depth for meeting in self._meetings.values())
            metrics.LINE_QUEUE_DEPTH.set(depth, shard=shard)
            await asyncio.sleep(GAUGE_SAMPLE_S)

    async def _meeting(self, meeting_id: str, *, create: bool) -> LiveMeeting | None:
        meeting = self._meetings.get(meeting_id)
        if meeting is None:
            store = await self._ready()
            lock = self._loading.setdefault(meeting_id, asyncio.Lock())
            async with lock:
                meeting = self._meetings.get(meeting_id)
                if meeting is None:
                    try:
                        meeting = await self._load(store, meeting_id, create)
                    except Exception as exc:
                        if not is_unreachable(exc):
                            raise
                        raise _journal_unavailable("this meeting is not in memory") from exc
            self._loading.pop(meeting_id, None)
        if meeting is not None:
            meeting.touch()
        return meeting

    async def _load(self, store: Store, meeting_id: str, create: bool) -> LiveMeeting | None:
        cfg = self._config.meetings
        record = await store.load_meeting(
            meeting_id, events=cfg.events_in_memory, recent_lines=cfg.recent_lines
        )
        if record is None:
            if not create:
                return None
            if len(self._meetings) >= self._config.auth.quotas.meetings_per_shard:
                metrics.MEETING_QUOTA_REFUSALS.inc(quota="meetings_per_shard")
                raise Refused(429, "too_many_meetings", "no room for another meeting right now")
            await store.open_meeting(meeting_id, None)
            return await self._load(store, meeting_id, create=False)
        assert record is not None and self._backends is not None
        meeting = LiveMeeting(record, store, self._backends, self._config, self._line_rate)
        self._meetings[meeting_id] = meeting
        return meeting

    async def _reachable(self, meeting_id: str, create: bool) -> LiveMeeting:
        """The meeting, created first when the caller may create meetings; else 404."""
        if not create:
            return await self._existing(meeting_id)
        meeting = await self._meeting(meeting_id, create=True)
        assert meeting is not None
        return meeting

    async def _existing(self, meeting_id: str) -> LiveMeeting:
        meeting = await self._meeting(meeting_id, create=False)
        if meeting is None:
            raise Refused(404, "meeting_not_found", f"no meeting {meeting_id!r}")
        return meeting

    # -- remote API: every method returns a plain dict; {"refused": ...} becomes a 4xx ------

    async def ping(self) -> dict[str, Any]:
        """Whether PostgreSQL answers, and how many journal writes wait in memory for it."""
        store = await self._ready()
        try:
            await store.ping()
            reachable = True
        except Exception as exc:
            if not is_unreachable(exc):
                raise
            reachable = False
        return {
            "shard": self._shard,
            "pid": os.getpid(),
            "meetings": len(self._meetings),
            "store": "ok" if reachable else "unreachable",
            "journal_kept": sum(meeting.journal_kept for meeting in self._meetings.values()),
        }

    async def start(self, meeting_id: str, language: str | None) -> dict[str, Any]:
        try:
            meeting = await self._reachable(meeting_id, create=True)
        except Refused as exc:
            return _refused(exc)
        if language is not None:
            await meeting.set_language(language)
        return {"status": "ok", "meeting_id": meeting_id}

    async def open(self, meeting_id: str, create: bool) -> dict[str, Any]:
        try:
            meeting = await self._reachable(meeting_id, create)
        except Refused as exc:
            return _refused(exc)
        return {"last_seq": meeting.state.log.last_seq, "language": meeting.state.language}

    async def submit_line(
        self, meeting_id: str, line: dict[str, Any], create: bool
    ) -> dict[str, Any]:
        try:
            meeting = await self._reachable(meeting_id, create)
            seq = await meeting.submit_line(**line)
        except Refused as exc:
            return _refused(exc)
        kind = "duplicate" if seq is None else "final" if line["is_final"] else "partial"
        metrics.LINES.inc(kind=kind)
        return {"status": "ok", "duplicate": True} if seq is None else {"status": "ok", "seq": seq}

    async def add_terms(
        self, meeting_id: str, terms: list[dict[str, Any]], create: bool, to_glossary: bool
    ) -> dict[str, Any]:
        try:
            meeting = await self._reachable(meeting_id, create)
            added = 0
            for term in terms:
                added += await meeting.add_external_term(**term, to_glossary=to_glossary)
        except Refused as exc:
            return _refused(exc)
        return {"status": "ok", "accepted": added}

    async def events_after(self, meeting_id: str, since: int, wait_s: float) -> dict[str, Any]:
        try:
            meeting = await self._existing(meeting_id)
        except Refused as exc:
            return _refused(exc)
        meeting.listeners += 1
        try:
            events = await meeting.events_after(since, MAX_EVENTS_PER_POLL, wait_s)
        except Refused as exc:
            return _refused(exc)
        finally:
            meeting.listeners -= 1
            meeting.touch()
        return {"events": events}

    async def hotwords(self, meeting_id: str, limit: int) -> dict[str, Any]:
        """Terms to spell right: this meeting's first (not those its explainer abstained on,
        often mishearings), then the organisation glossary's that suit its language."""
        try:
            meeting = await self._existing(meeting_id)
        except Refused as exc:
            return _refused(exc)
        own = meeting.term_names()
        language = meeting.state.language
        glossary = await self._glossary_terms() if len(set(own)) < limit else []
        return {"hotwords": meeting_hotwords(own, glossary, language, limit), "language": language}

    async def _glossary_terms(self) -> list[str]:
        # Every stream asks every few seconds; the table changes only when a meeting stops.
        now = time.monotonic()
        if now - self._glossary_cache[0] > GLOSSARY_CACHE_S:
            assert self._store is not None
            fresh = await self._store.glossary_terms(GLOSSARY_TERMS)
            # An unchanged glossary keeps its list object, and so the gazetteer built from it.
            kept = self._glossary_cache[1]
            self._glossary_cache = (now, kept if fresh == kept else fresh)
        return self._glossary_cache[1]

    async def _gazetteer(self) -> GlossaryGazetteer:
        """The cached glossary terms as a matcher, rebuilt only when the glossary changed."""
        terms = await self._glossary_terms()
        if self._gazetteer_cache[0] is not terms:
            self._gazetteer_cache = (terms, GlossaryGazetteer(terms))
        return self._gazetteer_cache[1]

    async def stop(self, meeting_id: str) -> dict[str, Any]:
        try:
            meeting = await self._existing(meeting_id)
            await meeting.stop()
        except Refused as exc:
            return _refused(exc)
        return {"status": "accepted"}

    async def stop_status(self, meeting_id: str) -> dict[str, Any]:
        try:
            meeting = await self._existing(meeting_id)
        except Refused as exc:
            return _refused(exc)
        return meeting.state.stop_status_body()

    async def glossary(self, meeting_id: str, after: int, limit: int) -> dict[str, Any]:
        return await self._read_page(meeting_id, "terms", Store.meeting_terms, after, limit)

    async def transcript(self, meeting_id: str, after: int, limit: int) -> dict[str, Any]:
        return await self._read_page(meeting_id, "lines", Store.transcript, after, limit)

    # -- the organisation glossary: any host answers; the table is the one truth ------------

    async def _glossary(self) -> Glossary:
        # No host keeps explanations from the table in memory (only term names, for hotwords
        # and detection), so a correction is seen by the next meeting that detects the term
        # (``TermExplanations.known`` reads the table each time).
        return Glossary((await self._ready()).pool)

    async def search_glossary(self, query: GlossaryQuery) -> dict[str, Any]:
        return await (await self._glossary()).search(query)

    async def glossary_domains(self) -> dict[str, Any]:
        return {"domains": await (await self._glossary()).domains()}

    async def glossary_term(self, termid: uuid.UUID) -> dict[str, Any]:
        found = await (await self._glossary()).term(termid)
        if found is None:
            return _refused(Refused(404, "term_not_found", "no such term in the glossary"))
        return found

    async def correct_glossary(
        self, termid: uuid.UUID, domain: str, explanation: str, term: str | None
    ) -> dict[str, Any]:
        row = await (await self._glossary()).correct(termid, domain, explanation, term)
        if row is None:
            message = "no such term in the glossary: send its text as 'term' to add it"
            return _refused(Refused(404, "term_not_found", message))
        return row

    async def delete_glossary(self, termid: uuid.UUID, domain: str) -> dict[str, Any]:
        if not await (await self._glossary()).delete(termid, domain):
            return _refused(Refused(404, "term_not_found", "no such term in that domain"))
        return {"status": "ok"}

    async def _read_page(
        self,
        meeting_id: str,
        key: str,
        read: Callable[[Store, str, int, int], Awaitable[list[dict[str, Any]]]],
        after: int,
        limit: int,
    ) -> dict[str, Any]:
        try:
            await self._existing(meeting_id)
        except Refused as exc:
            return _refused(exc)
        assert self._store is not None
        try:
            items = await read(self._store, meeting_id, after, limit)
        except Exception as exc:
            if not is_unreachable(exc):
                raise
            return _refused(_journal_unavailable("the meeting goes on"))
        # A full page may have more after it: the client asks again with after=next_after.
        next_after = items[-1]["seq"] if len(items) == limit else None
        return {"meeting_id": meeting_id, key: items, "next_after": next_after}
