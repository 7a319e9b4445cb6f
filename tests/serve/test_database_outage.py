"""PostgreSQL unreachable mid-meeting and during the stop, on an app of its own whose database
sits behind a proxy the test takes down: the meeting goes on live, the journal catches up when
the database is back, and nothing is lost or written twice. Past the buffer's bound the answer
is a clear 503."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import ray

from bench.faults.database import CuttableDatabase
from glossify.meetings.host import host_name
from glossify.terms.candidates import term_id
from tests.serve.apps import App, app_on_cuttable_database, standin_backends
from tests.serve.clients import AUTH, Listener, new_meeting_id, poll_until
from tests.standins import running_standins

APP = "glossify-pg-outage"
PREFIX = "/pgout"
# Journal writes one meeting may keep in memory: above what test (a) makes during its outage
# (a line, its term and the line's "done" for each line), reached quickly by test (c).
BUFFER = 120
OUTAGE_S = 30.0
LINE_EVERY_S = 1.5


@pytest.fixture(scope="module")
def outage_app(stack: Any) -> Iterator[tuple[App, CuttableDatabase]]:
    with running_standins() as standins, pytest.MonkeyPatch.context() as env:
        args = standin_backends(env, standins)
        args["meetings"] = {"shards": 1, "stop_drain_s": 60.0, "journal_buffer_events": BUFFER}
        with app_on_cuttable_database(stack, APP, PREFIX, args, standins, env) as running:
            yield running


def acronyms(first: str) -> Iterator[str]:
    """Distinct made-up acronyms starting with ``first`` (one letter per test, so no test meets
    another's terms in the glossary): each is a term the stand-in detector finds."""
    for letters in itertools.product("BCDFGHJKLMNPQRSTVWXZ", repeat=3):
        yield first + "".join(letters)


def line_with(term: str) -> str:
    return f"The {term} report is late again."


def finals(events: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for e in events if e.get("type") == "transcript" and e["is_final"]]


def term_entities(events: list[dict[str, Any]]) -> list[str]:
    return [e["entity"] for e in events if e.get("type") == "terms"]


async def post_line(http: httpx.AsyncClient, mid: str, text: str, final: bool = True) -> Any:
    return await http.post(f"/meeting/{mid}/stt", json={"text": text, "is_final": final})


async def kill_host(app: App) -> None:
    """SIGKILL the app's only meeting host; Ray restarts it, and it reloads from the journal."""
    name = host_name(app.config.app_name, 0)
    host = ray.get_actor(name, namespace=app.config.meetings.namespace)
    os.kill((await host.ping.remote())["pid"], signal.SIGKILL)


async def test_a_30_s_outage_mid_meeting_loses_and_repeats_nothing(
    outage_app: tuple[App, CuttableDatabase],
) -> None:
    app, database = outage_app
    mid = new_meeting_id("pgout")
    words = acronyms("B")
    async with (
        httpx.AsyncClient(base_url=app.base_url, headers=AUTH, timeout=60) as http,
        Listener(f"{app.ws_url}/meeting/{mid}/ws") as listener,
    ):
        sent: list[str] = []
        terms: list[str] = []

        async def say(term: str) -> float:
            started = time.monotonic()
            answer = await post_line(http, mid, line_with(term))
            assert answer.status_code == 200, answer.text
            sent.append(line_with(term))
            terms.append(term)
            return time.monotonic() - started

        for _ in range(3):
            await say(next(words))
        await listener.wait_for(lambda events: len(term_entities(events)) == 3)

        await asyncio.to_thread(database.go_down)
        down_at = time.monotonic()
        acks = []
        while time.monotonic() - down_at < OUTAGE_S - LINE_EVERY_S:
            acks.append(await say(next(words)))
            await asyncio.sleep(LINE_EVERY_S)
        # Still down: every line and every term reached the listener live.
        await listener.wait_for(lambda events: sorted(term_entities(events)) == sorted(terms))
        assert finals(listener.events) == sent
        health = (await http.get("/health")).json()
        assert health["status"] == "degraded"
        assert health["store"]["state"] == "failing" and health["store"]["journal_kept"] > 0
        assert "postgres" not in str(health).lower()
        # Reads of the journal itself say why they cannot answer.
        unread = await http.get(f"/meeting/{mid}/transcript")
        assert unread.status_code == 503 and unread.json()["code"] == "journal_unavailable"
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))

        await asyncio.to_thread(database.come_back)
        back_at = time.monotonic()

        async def transcript() -> list[str]:
            return [
                line["text"]
                for line in (await http.get(f"/meeting/{mid}/transcript")).json()["lines"]
            ]

        await poll_until(transcript, lambda lines: len(lines) >= len(sent), within=120)
        caught_up_s = time.monotonic() - back_at
        await poll_until(
            lambda: http.get("/health"),
            lambda r: r.json()["store"] == {"state": "ok"},
            within=60,
        )
        assert await transcript() == sent
        journaled_terms = (await http.get(f"/meeting/{mid}/terms")).json()["terms"]
        assert sorted(t["entity"] for t in journaled_terms) == sorted(terms)

        # The journal alone, read back by a host restarted from it, is what the listener saw.
        await kill_host(app)
        async with Listener(f"{app.ws_url}/meeting/{mid}/ws?since=0") as replay:
            await replay.wait_for(lambda events: len(events) >= len(listener.events))
    seqs = [event["seq"] for event in replay.events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert replay.events == listener.events
    lines_lost = len(set(sent) - set(finals(replay.events)))
    terms_lost = len(set(terms) - set(term_entities(replay.events)))
    seen = Counter(finals(replay.events)) + Counter(term_entities(replay.events))
    duplicates = sum(count - 1 for count in seen.values())
    print(
        f"\npostgres outage {OUTAGE_S:.0f} s: {len(sent)} lines ({len(acks)} during it), "
        f"lines lost {lines_lost}, terms lost {terms_lost}, duplicates {duplicates}, "
        f"slowest /stt ack during it {max(acks):.3f} s, journal caught up {caught_up_s:.1f} s "
        f"after the database came back"
    )
    assert (lines_lost, terms_lost, duplicates) == (0, 0, 0)


async def test_an_outage_during_the_stop_ends_done_once_the_database_is_back(
    outage_app: tuple[App, CuttableDatabase],
) -> None:
    app, database = outage_app
    mid = new_meeting_id("pgstop")
    words = list(itertools.islice(acronyms("X"), 2))
    async with (
        httpx.AsyncClient(base_url=app.base_url, headers=AUTH, timeout=60) as http,
        Listener(f"{app.ws_url}/meeting/{mid}/ws") as listener,
    ):
        for word in words:
            assert (await post_line(http, mid, line_with(word))).status_code == 200
        await listener.wait_for(lambda events: sorted(term_entities(events)) == sorted(words))

        await asyncio.to_thread(database.go_down)
        assert (await http.post(f"/meeting/{mid}/stop")).status_code == 202
        await asyncio.sleep(OUTAGE_S / 2)
        status = (await http.get(f"/meeting/{mid}/stop/status")).json()
        assert status["status"] in ("running", "error"), status
        await asyncio.to_thread(database.come_back)
        back_at = time.monotonic()

        async def stop_status() -> dict[str, Any]:
            answer: dict[str, Any] = (await http.get(f"/meeting/{mid}/stop/status")).json()
            return answer

        ended = await poll_until(
            stop_status, lambda s: s["status"] in ("done", "error"), within=180
        )
        stops = 1
        if ended["status"] == "error":
            # A stop that ended in error may be asked for again.
            stops += 1
            assert (await http.post(f"/meeting/{mid}/stop")).status_code == 202
            ended = await poll_until(
                stop_status, lambda s: s["status"] in ("done", "error"), within=180
            )
        assert ended == {"status": "done", "upserted": 2, "error": None}
        print(
            f"\npostgres outage during the stop: done {time.monotonic() - back_at:.1f} s after "
            f"the database came back, after {stops} /stop"
        )
        await listener.wait_for(lambda events: events[-1]["type"] == "upsert_done")
    assert len(listener.of_type("upsert_done")) == 1
    conn = await asyncpg.connect(database.direct_url)
    try:
        rows = await conn.fetch(
            "SELECT term FROM term WHERE termid = ANY($1)", [term_id(word) for word in words]
        )
    finally:
        await conn.close()
    assert sorted(row["term"] for row in rows) == sorted(words)


async def test_past_the_buffer_new_events_get_a_clear_503_and_none_is_lost(
    outage_app: tuple[App, CuttableDatabase],
) -> None:
    app, database = outage_app
    mid = new_meeting_id("pgfull")
    async with httpx.AsyncClient(base_url=app.base_url, headers=AUTH, timeout=60) as http:
        assert (await http.post(f"/meeting/{mid}/start")).status_code == 200
        await asyncio.to_thread(database.go_down)
        try:
            accepted = 0
            while True:
                answer = await post_line(http, mid, f"typing {accepted}", final=False)
                if answer.status_code == 429:  # the meeting's line rate, not the journal
                    await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
                    continue
                if answer.status_code != 200:
                    break
                accepted += 1
            assert accepted == BUFFER
            assert answer.status_code == 503
            assert answer.json()["code"] == "journal_unavailable"
            refused = await post_line(http, mid, "A final line, refused as clearly.")
            assert refused.status_code == 503
            assert refused.json()["code"] == "journal_unavailable"
        finally:
            await asyncio.to_thread(database.come_back)
        # Refused until the buffer has room again; then taken, and journaled once.
        await poll_until(
            lambda: post_line(http, mid, "Back in business."), lambda r: r.status_code == 200
        )
        await poll_until(
            lambda: http.get(f"/meeting/{mid}/transcript"),
            lambda r: [line["text"] for line in r.json()["lines"]] == ["Back in business."],
        )
    async with Listener(f"{app.ws_url}/meeting/{mid}/ws?since=0") as replay:
        await replay.wait_for(lambda events: len(events) == BUFFER + 1)
    partials = [e["text"] for e in replay.events if not e["is_final"]]
    assert partials == [f"typing {n}" for n in range(BUFFER)]
    assert [e["seq"] for e in replay.events] == list(range(1, BUFFER + 2))
