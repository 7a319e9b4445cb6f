"""Each fault injected into one fresh live meeting, with its figures: the bench runs them all
on a local stack, tests/serve/test_faults.py runs them on the test stack and asserts the
figures.

An audio scenario streams the sample meeting (as fast as the stack lets a sender go) with
glossify.cli.stream_client's reconnecting sender, and two listeners that reconnect with
``?since=``; the fault fires when the first listener's events meet its trigger. Afterwards it
waits until the stack has healed (so that whatever runs next finds it whole), reads the
meeting's journal (GET /transcript, /terms, the history replayed from seq 0) and accounts.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.faults import injectors
from bench.faults.accounting import STOP_OUTCOMES, Figures, account, finals_not_in, is_final
from bench.faults.database import CuttableDatabase
from bench.faults.listener import RecordingListener
from glossify.cli.stream_client import stream_file, ws_url
from glossify.config.settings import GlossifyConfig

LISTENERS = 2
# After the audio (and any stop), the meeting is settled once its listeners hear nothing more
# for this long: the last terms are explained by then.
QUIET_S = 8.0
SETTLE_WITHIN_S = 300.0
STOP_WITHIN_S = 240.0
REPLACED_WITHIN_S = 300.0
# How long PostgreSQL stays away (issue 11: "stopped for 30 s"), and how long the journal may
# take to catch up once it is back.
DATABASE_AWAY_S = 30.0
CATCH_UP_WITHIN_S = 300.0

Trigger = Callable[[RecordingListener], bool]
Inject = Callable[["Run"], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Target:
    """The stack under test and what its meetings are fed."""

    base_url: str
    credential: str
    app_name: str
    namespace: str
    shards: int
    audio: Path
    script: list[str]
    # The stack's PostgreSQL behind a proxy the database faults take down (None: not cuttable).
    database: CuttableDatabase | None = None

    @classmethod
    def of(
        cls,
        base_url: str,
        credential: str,
        config: GlossifyConfig,
        audio: Path,
        database: CuttableDatabase | None = None,
    ) -> Target:
        script = audio.with_suffix(".txt").read_text().splitlines()
        meetings = config.meetings
        return cls(
            base_url,
            credential,
            config.app_name,
            meetings.namespace,
            meetings.shards,
            audio,
            [line for line in script if line.strip()],
            database,
        )

    def session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {self.credential}"},
            timeout=aiohttp.ClientTimeout(total=30),
        )


@dataclass
class Run:
    """One meeting under a fault, as it goes."""

    target: Target
    session: aiohttp.ClientSession
    meeting_id: str
    listeners: list[RecordingListener] = field(default_factory=list)
    fault_at: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ws(self) -> str:
        return ws_url(self.target.base_url, self.meeting_id)

    def url(self, path: str) -> str:
        return f"{self.target.base_url}/meeting/{self.meeting_id}{path}"


@dataclass
class Outcome:
    fault: str
    meeting_id: str
    figures: Figures
    details: dict[str, Any]
    journal_lines: list[dict[str, Any]]
    journal_terms: list[dict[str, Any]]
    history: list[dict[str, Any]]

    def row(self) -> dict[str, Any]:
        return {
            "fault": self.fault,
            "meeting_id": self.meeting_id,
            **self.figures.row(),
            **self.details,
        }


# ---------------------------------------------------------------- triggers


def after_finals(count: int) -> Trigger:
    return lambda listener: sum(is_final(e) for e in listener.events()) >= count


# ---------------------------------------------------------------- the faults


def kill_deployment(deployment: str) -> Inject:
    async def inject(run: Run) -> dict[str, Any]:
        app = run.target.app_name
        killed = await asyncio.to_thread(injectors.kill_replicas, app, deployment)
        replaced = await injectors.wait_replaced(app, deployment, killed, REPLACED_WITHIN_S)
        return {"killed_pids": killed, "replaced_s": replaced}

    return inject


async def kill_host(run: Run) -> dict[str, Any]:
    target = run.target
    pid = await injectors.kill_meeting_host(
        target.app_name, target.namespace, target.shards, run.meeting_id
    )
    return {"killed_pids": [pid]}


async def freeze_detector(run: Run) -> dict[str, Any]:
    """A TermDetector that never answers: frozen until Serve's health check replaces it (the
    frozen process is let go afterwards, if Serve has not ended it)."""
    app = run.target.app_name
    frozen = await asyncio.to_thread(injectors.freeze_replicas, app, injectors.DETECTOR)
    try:
        replaced = await injectors.wait_replaced(app, injectors.DETECTOR, frozen, REPLACED_WITHIN_S)
    finally:
        injectors.thaw(frozen)
    return {"frozen_pids": frozen, "replaced_s": replaced}


def database_away(run: Run) -> CuttableDatabase:
    if run.target.database is None:
        raise RuntimeError(
            "a database fault needs the stack's PostgreSQL behind a CuttableDatabase "
            "(python -m bench.faults puts it there)"
        )
    return run.target.database


async def stop_database(run: Run) -> dict[str, Any]:
    """PostgreSQL away for DATABASE_AWAY_S (connections dropped and refused), then back; records
    the seconds from its return until GET /transcript holds every final line the first
    listener had received by then (None: not within CATCH_UP_WITHIN_S)."""
    database = database_away(run)
    await asyncio.to_thread(database.go_down)
    try:
        await asyncio.sleep(DATABASE_AWAY_S)
    finally:
        await asyncio.to_thread(database.come_back)
    back = time.monotonic()
    while time.monotonic() - back < CATCH_UP_WITHIN_S:
        finals = [e for e in run.listeners[0].events() if is_final(e)]
        try:
            journal = await _read_all(run, "/transcript", "lines")
        except (aiohttp.ClientError, TimeoutError, ValueError):
            journal = None  # the read itself waits for the database
        if journal is not None and not finals_not_in(finals, journal):
            return {"database_away_s": DATABASE_AWAY_S, "journal_caught_up_s": _since(back)}
        await asyncio.sleep(0.5)
    return {"database_away_s": DATABASE_AWAY_S, "journal_caught_up_s": None}


def _since(moment: float) -> float:
    return round(time.monotonic() - moment, 2)


# ---------------------------------------------------------------- running a meeting


async def audio_meeting(
    target: Target,
    fault: str,
    *,
    trigger: Trigger | None = None,
    inject: Inject | None = None,
    at_stop: Inject | None = None,
    after_audio: Callable[[Run], Awaitable[None]] | None = None,
) -> Outcome:
    """The sample meeting streamed into a fresh meeting with ``inject`` fired once ``trigger``
    holds (or, with ``at_stop``, right after /stop is accepted, and the meeting is stopped);
    ``after_audio`` runs once the sender is done, before any stop."""
    async with target.session() as session:
        run = Run(target, session, f"fault-{fault.replace('_', '-')}-{uuid.uuid4().hex[:8]}")
        async with _listeners(run):
            sender = asyncio.create_task(
                stream_file(
                    target.base_url,
                    run.meeting_id,
                    target.audio,
                    fast=True,
                    language="en",
                    credential=target.credential,
                )
            )
            if trigger is not None and inject is not None:
                await _fire_when(run, sender, trigger, inject)
            try:
                report = await sender
                run.details["sender_reconnects"] = report.reconnects
                run.details["not_transcribed"] = sum(
                    e.get("code") == "not_transcribed" for e in report.events
                )
            except Exception as exc:
                run.details["sender_error"] = repr(exc)
            if after_audio is not None:
                await after_audio(run)
            if at_stop is not None:
                await _stop(run, at_stop)
            await run.listeners[0].wait_quiet(QUIET_S, SETTLE_WITHIN_S)
            return await _finish(run, fault, script=target.script)


async def text_meeting(
    target: Target,
    fault: str,
    lines: Sequence[str],
    *,
    inject: Inject,
    settled: Callable[[list[dict[str, Any]]], bool],
) -> Outcome:
    """``lines`` posted as final text lines; ``inject`` fires once the listeners show the last
    of them (its terms are then being detected and explained); done when the journal's terms
    satisfy ``settled``."""
    async with target.session() as session:
        run = Run(target, session, f"fault-{fault.replace('_', '-')}-{uuid.uuid4().hex[:8]}")
        async with _listeners(run):
            for line in lines:
                async with session.post(
                    run.url("/stt"), json={"text": line, "is_final": True}
                ) as r:
                    r.raise_for_status()
            await _until(lambda: after_finals(len(lines))(run.listeners[0]), 60)
            run.details["terms_before_fault"] = [
                t["entity"] for t in run.listeners[0].events("terms")
            ]
            run.fault_at = time.monotonic()
            run.details.update(await inject(run))
            began = time.monotonic()
            while not settled(await _read_all(run, "/terms", "terms")):
                if time.monotonic() - began > SETTLE_WITHIN_S:
                    run.details["settled"] = False
                    break
                await asyncio.sleep(1.0)
            return await _finish(run, fault, script=None)


class _listeners:
    """The run's listeners, connected for the block."""

    def __init__(self, run: Run) -> None:
        self._run = run

    async def __aenter__(self) -> None:
        for _ in range(LISTENERS):
            listener = RecordingListener(self._run.ws, self._run.target.credential)
            self._run.listeners.append(await listener.__aenter__())

    async def __aexit__(self, *exc: object) -> None:
        for listener in self._run.listeners:
            await listener.__aexit__(*exc)


async def _until(condition: Callable[[], bool], within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {within_s:.0f} s")
        await asyncio.sleep(0.05)


async def _fire_when(run: Run, sender: asyncio.Task[Any], trigger: Trigger, inject: Inject) -> None:
    while not trigger(run.listeners[0]):
        if sender.done():
            run.details["trigger_missed"] = True  # the fault still fires, after the audio
            break
        await asyncio.sleep(0.05)
    run.fault_at = time.monotonic()
    run.details.update(await inject(run))


async def _stop(run: Run, inject: Inject) -> None:
    async with run.session.post(run.url("/stop")) as response:
        run.details["stop_http"] = response.status
    run.fault_at = time.monotonic()
    run.details.update(await inject(run))
    began = time.monotonic()
    status: dict[str, Any] = {}
    while time.monotonic() - began < STOP_WITHIN_S:
        try:
            async with run.session.get(run.url("/stop/status")) as response:
                status = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError):
            status = {}
        if status.get("status") in ("done", "error"):
            break
        await asyncio.sleep(0.5)
    run.details["stop_status"] = status
    run.details["stop_s"] = round(time.monotonic() - began, 2)


async def _read_all(run: Run, path: str, key: str) -> list[dict[str, Any]]:
    """Every item of a paginated journal read (GET /transcript or /terms)."""
    items: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        async with run.session.get(run.url(path), params={"after": after}) as response:
            response.raise_for_status()
            page = await response.json()
        items += page[key]
        after = page.get("next_after")
    return items


async def _history(run: Run, last_seq: int) -> list[dict[str, Any]]:
    """The meeting's events replayed from seq 0 by a new listener."""
    async with RecordingListener(run.ws, run.target.credential) as replay:
        await replay.wait_for_seq(last_seq, 60)
        return replay.events()


async def _finish(run: Run, fault: str, script: Sequence[str] | None) -> Outcome:
    run.details["healed_s"] = await injectors.wait_healthy(run.session, run.target.base_url)
    lines = await _read_all(run, "/transcript", "lines")
    terms = await _read_all(run, "/terms", "terms")
    last_seq = max([e["seq"] for e in [*lines, *terms]], default=0)
    for listener in run.listeners:
        await listener.wait_for_seq(last_seq, 30)
    history = await _history(run, max(last_seq, run.listeners[0].last_seq))
    run.details["listener_reconnects"] = [listener.reconnects for listener in run.listeners]
    figures = account(
        script=script,
        listeners=[listener.received for listener in run.listeners],
        journal_lines=lines,
        journal_terms=terms,
        history=history,
        fault_at=run.fault_at,
    )
    return Outcome(fault, run.meeting_id, figures, run.details, lines, terms, history)


# ---------------------------------------------------------------- the bench's list


async def no_fault(target: Target) -> Outcome:
    return await audio_meeting(target, "none")


async def transcriber_killed(target: Target) -> Outcome:
    # Audio arrives faster than real time: after the second line, the utterances that follow
    # are waiting for, or inside, the Transcriber (partials are skipped while finals queue).
    inject = kill_deployment(injectors.TRANSCRIBER)
    return await audio_meeting(target, "transcriber_killed", trigger=after_finals(2), inject=inject)


async def ingress_killed(target: Target) -> Outcome:
    inject = kill_deployment(injectors.INGRESS)
    return await audio_meeting(target, "ingress_killed", trigger=after_finals(2), inject=inject)


async def host_killed_during_audio(target: Target) -> Outcome:
    return await audio_meeting(
        target, "host_killed_during_audio", trigger=after_finals(2), inject=kill_host
    )


async def external_terms(run: Run) -> None:
    """Two terms posted from outside, so that the stop has rows to save whatever the explainer
    managed (on a busy machine the local one may time out on every term)."""
    acronym = fresh_acronym()
    terms = [
        {"entity": f"{acronym} ledger", "domain": "Finance", "body": "A made-up ledger."},
        {"entity": f"{acronym} gateway", "domain": "Tech", "body": "A made-up gateway."},
    ]
    async with run.session.post(run.url("/terms"), json=terms) as response:
        response.raise_for_status()


async def host_killed_during_stop(target: Target) -> Outcome:
    return await audio_meeting(
        target, "host_killed_during_stop", after_audio=external_terms, at_stop=kill_host
    )


async def explainer_killed(target: Target) -> Outcome:
    inject = kill_deployment(injectors.EXPLAINER)
    return await audio_meeting(target, "explainer_killed", trigger=after_finals(3), inject=inject)


def fresh_acronym() -> str:
    """A term no glossary or cache knows, so that it must be detected and explained anew."""
    return "".join(random.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(5))


async def later_term(run: Run) -> None:
    """A line said once the stuck detector is gone must get its term: records the seconds
    until it showed (None: it did not within SETTLE_WITHIN_S)."""
    acronym = fresh_acronym()
    line = {"text": f"Later we reviewed the {acronym} paperwork.", "is_final": True}
    posted = time.monotonic()
    async with run.session.post(run.url("/stt"), json=line) as response:
        response.raise_for_status()

    def shown() -> bool:
        return any(acronym in t["entity"] for t in run.listeners[0].events("terms"))

    try:
        await _until(shown, SETTLE_WITHIN_S)
        run.details["later_term_s"] = round(time.monotonic() - posted, 2)
    except TimeoutError:
        run.details["later_term_s"] = None


async def detector_hangs(target: Target) -> Outcome:
    return await audio_meeting(
        target,
        "detector_hangs",
        trigger=after_finals(2),
        inject=freeze_detector,
        after_audio=later_term,
    )


async def database_outage(target: Target) -> Outcome:
    return await audio_meeting(
        target, "database_outage", trigger=after_finals(2), inject=stop_database
    )


async def database_outage_at_stop(target: Target) -> Outcome:
    """PostgreSQL away from the moment /stop is accepted; the stop must still end done, once."""
    outcome = await audio_meeting(
        target, "database_outage_at_stop", after_audio=external_terms, at_stop=stop_database
    )
    outcome.details["stop_outcomes"] = [
        e["type"] for e in outcome.history if e.get("type") in STOP_OUTCOMES
    ]
    return outcome


Scenario = Callable[[Target], Awaitable[Outcome]]
