"""The Serve graph on the azure detector and the foundry explainer, against the stand-ins.

A second application on the session's cluster, under a route prefix: `/stt` lines become
`terms` events from the Foundry agent and rows in PostgreSQL; the replicas get their settings
from the app builder (resolved from the environment) and their Entra ID tokens from
DefaultAzureCredential (a managed-identity endpoint the stand-in serves).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from glossify.config.settings import GlossifyConfig
from glossify.meetings.hosts import MeetingHosts
from glossify.terms.candidates import term_id
from tests.serve.apps import AGENT, own_database, second_app, standin_backends
from tests.serve.clients import AUTH, Listener, new_meeting_id, poll_until
from tests.standins import StandIns, running_standins
from tests.standins.common import UNKNOWN_PREFIX
from tests.standins.foundry import RESPONSES
from tests.standins.foundry import SCOPE_RESOURCE as FOUNDRY_RESOURCE
from tests.standins.state import failed, unavailable

APP = "glossify-azure"
PREFIX = "/azure"


@dataclass
class AzureApp:
    standins: StandIns
    base_url: str
    ws_url: str
    config: GlossifyConfig
    database_url: str


def fresh_acronym() -> str:
    """A term no earlier test put into the shared glossary, so the agent must explain it."""
    return "".join(random.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(5))


@pytest.fixture(scope="module")
def azure_app(stack) -> Iterator[AzureApp]:
    with running_standins() as standins, pytest.MonkeyPatch.context() as env:
        # A database of its own: the organisation glossary of other tests (a gazetteer every
        # meeting matches its lines against) must not add terms to these meetings.
        database_url = own_database(stack.database_url)
        env.setenv("DATABASE_URL", database_url)
        args = standin_backends(env, standins)
        args["meetings"] = {"shards": 1, "stop_drain_s": 30.0}
        with second_app(stack, APP, PREFIX, args, standins) as app:
            yield AzureApp(standins, app.base_url, app.ws_url, app.config, database_url)


@pytest.fixture(autouse=True)
def fresh(azure_app: AzureApp) -> Iterator[None]:
    azure_app.standins.state.reset()
    yield
    azure_app.standins.state.reset()


@pytest.fixture
async def client(azure_app: AzureApp) -> httpx.AsyncClient:
    async with httpx.AsyncClient(base_url=azure_app.base_url, headers=AUTH, timeout=30) as http:
        yield http


def finals(events: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for e in events if e.get("type") == "transcript" and e["is_final"]]


def terms_for(events: list[dict[str, Any]], *words: str) -> list[dict[str, Any]]:
    return [e for e in events if e.get("type") == "terms" and e["entity"] in words]


async def stop_and_wait(client: httpx.AsyncClient, mid: str) -> dict[str, Any]:
    assert (await client.post(f"/meeting/{mid}/stop")).status_code == 202

    async def status() -> dict[str, Any]:
        return (await client.get(f"/meeting/{mid}/stop/status")).json()

    return await poll_until(status, lambda s: s["status"] in ("done", "error"), within=60)


async def test_lines_become_foundry_terms_and_rows_in_postgres(
    azure_app: AzureApp, client: httpx.AsyncClient
) -> None:
    first, second = fresh_acronym(), fresh_acronym()
    lines = [
        f"Our {first} rollout blocks the release.",
        f"Finance wants the {second} numbers by Friday.",
    ]
    mid = new_meeting_id("az")
    started = await client.post(f"/meeting/{mid}/start", json={"language": "en"})
    assert started.json() == {"status": "ok", "meeting_id": mid}
    async with Listener(f"{azure_app.ws_url}/meeting/{mid}/ws") as listener:
        for line in lines:
            response = await client.post(
                f"/meeting/{mid}/stt", json={"text": line, "is_final": True}
            )
            assert response.json() == {"status": "ok"}
        await listener.wait_for(lambda events: len(terms_for(events, first, second)) == 2, 60)
        status = await stop_and_wait(client, mid)
        await listener.wait_for(
            lambda events: events[-1]["type"] == "upsert_done" if events else False
        )
    assert finals(listener.events) == lines
    for event, word in zip(terms_for(listener.events, first, second), (first, second), strict=True):
        assert event["source"] == "foundry"
        assert event["domain"] == "Software"
        # The agent's trailing "In this context, ..." sentence is cut.
        assert event["body"] == f"{word} is a software concept the stand-in explains for tests."
    assert status == {"status": "done", "upserted": 2, "error": None}
    conn = await asyncpg.connect(azure_app.database_url)
    try:
        rows = await conn.fetch(
            "SELECT term, domain, explanation FROM term WHERE termid = ANY($1)",
            [term_id(first), term_id(second)],
        )
    finally:
        await conn.close()
    assert sorted((r["term"], r["domain"]) for r in rows) == sorted(
        [(first, "Software"), (second, "Software")]
    )

    state = azure_app.standins.state
    for request in state.received("language"):
        assert request.headers["ocp-apim-subscription-key"] == state.language_key
        assert request.body["parameters"]["loggingOptOut"] is True
    sent = [
        d["text"] for r in state.received("language") for d in r.body["analysisInput"]["documents"]
    ]
    assert sorted(sent) == sorted(lines)
    creates = state.received(RESPONSES)
    assert {r.body["agent_reference"]["name"] for r in creates} == {AGENT}
    # Replicas got Entra ID tokens from DefaultAzureCredential (managed identity).
    assert {r.headers["authorization"] for r in creates} == {
        f"Bearer standin-token:{FOUNDRY_RESOURCE}"
    }


async def test_health_reports_each_backend_without_secrets(
    azure_app: AzureApp, client: httpx.AsyncClient
) -> None:
    response = await client.get("/health")
    assert response.status_code == 200, response.text
    report = response.json()
    host = azure_app.standins.https_url.removeprefix("https://")
    assert report["detector"]["backend"] == "azure"
    assert report["detector"]["endpoint"] == host
    assert report["explainer"]["backend"] == "foundry"
    assert report["explainer"]["agent"] == AGENT
    assert report["explainer"]["endpoint"] == host
    assert {report["detector"]["state"], report["explainer"]["state"]} <= {"ok", "degraded"}
    text = json.dumps(report)
    assert azure_app.standins.state.language_key not in text
    assert "standin-token" not in text
    assert "ca.pem" not in text


async def test_failing_backends_never_block_the_transcript(
    azure_app: AzureApp, client: httpx.AsyncClient
) -> None:
    state = azure_app.standins.state
    state.always("language", unavailable())
    mid = new_meeting_id("azfail")
    lines = [f"Line {i} about {fresh_acronym()} again." for i in range(3)]
    async with Listener(f"{azure_app.ws_url}/meeting/{mid}/ws") as listener:
        for line in lines:
            started = time.monotonic()
            response = await client.post(
                f"/meeting/{mid}/stt", json={"text": line, "is_final": True}
            )
            assert response.json() == {"status": "ok"}
            assert time.monotonic() - started < 2.0
        await listener.wait_for(lambda events: finals(events) == lines, 30)

        async def detector_state() -> str:
            return (await client.get("/health")).json()["detector"]["state"]

        assert await poll_until(detector_state, lambda s: s == "failing", within=60) == "failing"
        unhealthy = await client.get("/health")
        assert unhealthy.status_code == 503
        assert unhealthy.json()["status"] == "degraded"
        assert unhealthy.json()["detector"]["last_error"] == "HttpResponseError 503"

        # The detector recovers; now the agent fails every time: the term is dropped.
        state.always("language", None)
        state.always(RESPONSES, failed("server_error"))
        word = fresh_acronym()
        await client.post(
            f"/meeting/{mid}/stt", json={"text": f"The {word} is late.", "is_final": True}
        )
        await listener.wait_for(lambda events: len(finals(events)) == 4, 30)

        async def creates() -> int:
            return len(state.received(RESPONSES))

        # 3 attempts per explain call, and the meeting asks twice.
        await poll_until(creates, lambda n: n >= 6, within=60)
        await asyncio.sleep(1.0)
        assert terms_for(listener.events, word) == []


# Last in the module: its two lines are detector successes, and the health of a backend counts
# the calls of the last 300 s, so before test_failing_backends_never_block_the_transcript they
# would outnumber that test's three failures and keep the detector "degraded".
async def test_an_abstention_is_shown_as_such_never_saved_nor_a_hotword(
    azure_app: AzureApp, client: httpx.AsyncClient
) -> None:
    known, unknown = fresh_acronym(), UNKNOWN_PREFIX + fresh_acronym()[:3]
    lines = [f"The {unknown} flow fails on refresh.", f"And the {known} service is slow."]
    mid = new_meeting_id("abst")
    await client.post(f"/meeting/{mid}/start", json={"language": "en"})
    async with Listener(f"{azure_app.ws_url}/meeting/{mid}/ws") as listener:
        for line in lines:
            await client.post(f"/meeting/{mid}/stt", json={"text": line, "is_final": True})
        await listener.wait_for(lambda events: len(terms_for(events, known, unknown)) == 2, 60)
        # A term the agent had no confident explanation for (often a mishearing) is not fed
        # back to speech recognition; the explained one is.
        hotwords = (await MeetingHosts(azure_app.config).hotwords(mid, 20))["hotwords"]
        assert known in hotwords and unknown not in hotwords
        status = await stop_and_wait(client, mid)
        await listener.wait_for(
            lambda events: events[-1]["type"] == "upsert_done" if events else False
        )
    [abstained] = terms_for(listener.events, unknown)
    assert abstained | {"seq": 0, "timestamp": ""} == {
        "type": "terms",
        "seq": 0,
        "timestamp": "",
        "entity": unknown,
        "domain": "",
        "body": "No confident explanation.",
        "source": "foundry",
        "abstained": True,
    }
    [explained] = terms_for(listener.events, known)
    assert "abstained" not in explained and explained["domain"] == "Software"
    exported = await client.get(f"/meeting/{mid}/export", params={"format": "json"})
    assert [t["entity"] for t in exported.json()["terms"]] == [known]
    assert status == {"status": "done", "upserted": 1, "error": None}
    conn = await asyncpg.connect(azure_app.database_url)
    try:
        rows = await conn.fetch(
            "SELECT term FROM term WHERE termid = ANY($1)", [term_id(known), term_id(unknown)]
        )
    finally:
        await conn.close()
    assert [row["term"] for row in rows] == [known]
