"""Protocol v1 end to end: real Ray Serve, real WebSocket clients, real PostgreSQL, real models."""

from __future__ import annotations

import random
from typing import Any

import asyncpg
import httpx
import pytest

from glossify.terms.candidates import normalize_term, term_id
from tests.serve.clients import AUTH, Listener, new_meeting_id, poll_until


def fresh_acronym() -> str:
    """A term no earlier test put into the shared glossary, so the agent must explain it."""
    return "".join(random.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(5))


FIRST, SECOND = fresh_acronym(), fresh_acronym()
LINES = [
    f"Our {FIRST} cluster autoscaler keeps evicting pods.",
    f"Let's check the {SECOND} impact with finance before the review.",
]


def finals(events: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for e in events if e.get("type") == "transcript" and e["is_final"]]


def entities(events: list[dict[str, Any]]) -> list[str]:
    return [e["entity"] for e in events if e.get("type") == "terms"]


def has_terms_for(*words: str):
    def check(events: list[dict[str, Any]]) -> bool:
        found = {normalize_term(e) for e in entities(events)}
        return all(any(word.lower() in term for term in found) for word in words)

    return check


async def post_stt(client: httpx.AsyncClient, mid: str, text: str, final: bool = True) -> dict:
    response = await client.post(f"/meeting/{mid}/stt", json={"text": text, "is_final": final})
    assert response.status_code == 200, response.text
    return response.json()


async def stop_and_wait(client: httpx.AsyncClient, mid: str) -> dict[str, Any]:
    response = await client.post(f"/meeting/{mid}/stop")
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "accepted"}

    async def status() -> dict[str, Any]:
        return (await client.get(f"/meeting/{mid}/stop/status")).json()

    return await poll_until(status, lambda s: s["status"] in ("done", "error"), within=90)


@pytest.fixture
async def client(stack) -> httpx.AsyncClient:
    async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=30) as http:
        yield http


def upsert_seen(events: list[dict[str, Any]]) -> bool:
    return any(e["type"] in ("upsert_done", "upsert_error") for e in events)


async def test_lines_reach_every_listener_in_order_and_land_in_postgres(stack, client) -> None:
    mid = new_meeting_id()
    started = await client.post(f"/meeting/{mid}/start", json={"language": "en"})
    assert started.json() == {"status": "ok", "meeting_id": mid}
    ws_url = f"{stack.ws_url}/meeting/{mid}/ws"
    async with Listener(ws_url) as first, Listener(ws_url) as second:
        assert first.ready == {"type": "ready", "meeting_id": mid, "seq": 0}
        await post_stt(client, mid, "our kuber", final=False)
        for line in LINES:
            assert await post_stt(client, mid, line) == {"status": "ok"}
        await first.wait_for(has_terms_for(FIRST, SECOND), within=120)
        glossary = (await client.get(f"/meeting/{mid}/terms")).json()
        # Stop drains the pipeline first, so after upsert_done no event can follow.
        status = await stop_and_wait(client, mid)
        await first.wait_for(upsert_seen)
        await second.wait_for(upsert_seen)

    assert first.events == second.events
    seqs = [event["seq"] for event in first.events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert finals(first.events) == LINES
    partials = [e for e in first.events if e["type"] == "transcript" and not e["is_final"]]
    assert [p["text"] for p in partials] == ["our kuber"]
    terms = first.of_type("terms")
    for term in terms:
        assert term["source"] in ("local", "reference", "glossary")
        if term.get("abstained"):
            # The model had no confident explanation: the card says so, in the meeting's language.
            assert term["abstained"] is True and term["source"] == "local"
            assert (term["domain"], term["body"]) == ("", "No confident explanation.")
        else:
            assert term["domain"] and term["body"]
    fresh = [t for t in terms if FIRST in t["entity"] or SECOND in t["entity"]]
    assert fresh and all(t["source"] == "local" for t in fresh)
    assert first.events[-1]["type"] == "upsert_done"

    async with Listener(f"{ws_url}?since=0") as late:
        await late.wait_for(lambda events: len(events) >= len(first.events))
        assert late.ready["seq"] == len(first.events)
        assert late.events == first.events
    async with Listener(f"{ws_url}?since=2") as later:
        await later.wait_for(lambda events: len(events) >= len(first.events) - 2)
        assert later.events == first.events[2:]

    transcript = (await client.get(f"/meeting/{mid}/transcript")).json()
    assert [line["text"] for line in transcript["lines"]] == LINES
    glossary = (await client.get(f"/meeting/{mid}/terms")).json()
    assert sorted(t["entity"] for t in glossary["terms"]) == sorted(e["entity"] for e in terms)
    assert {t["termid"] for t in glossary["terms"]} == {str(term_id(e["entity"])) for e in terms}
    # Only explained terms reach the organisation glossary: an abstention is no explanation.
    explained = [t for t in glossary["terms"] if not t.get("abstained")]
    abstained = {term_id(t["entity"]) for t in glossary["terms"] if t.get("abstained")}
    expected_ids = {term_id(t["entity"]) for t in explained}
    assert status == {"status": "done", "upserted": len(expected_ids), "error": None}
    assert first.events[-1]["upserted"] == len(expected_ids)
    conn = await asyncpg.connect(stack.database_url)
    try:
        rows = await conn.fetch(
            "SELECT termid, term, domain FROM term WHERE termid = ANY($1)",
            expected_ids | abstained,
        )
    finally:
        await conn.close()
    assert {row["termid"] for row in rows if row["termid"] in expected_ids} == expected_ids
    assert {row["term"] for row in rows if row["termid"] in expected_ids} == {
        t["entity"] for t in explained
    }
    assert not [row for row in rows if row["termid"] in abstained and not row["domain"]]


async def test_duplicate_lines_and_repeated_terms_are_not_repeated(stack, client) -> None:
    mid = new_meeting_id()
    async with Listener(f"{stack.ws_url}/meeting/{mid}/ws") as listener:
        first = "The CI pipeline is failing because the Docker image is too big."
        assert await post_stt(client, mid, first) == {"status": "ok"}
        again = await post_stt(
            client, mid, "  the ci pipeline is FAILING because the docker image is too big "
        )
        assert again == {"status": "ok", "duplicate": True}
        await listener.wait_for(has_terms_for("docker"), within=120)
        await post_stt(client, mid, "Why is the Docker image so large again?")
        await listener.wait_for(lambda events: len(finals(events)) == 2)
        # A third line with no jargon flushes the pipeline past the repeated term.
        await post_stt(client, mid, "Let us meet tomorrow after lunch.")
        await listener.wait_for(lambda events: len(finals(events)) == 3)
        await stop_and_wait(client, mid)
        await listener.wait_for(upsert_seen)
    names = [normalize_term(e) for e in entities(listener.events)]
    assert len(names) == len(set(names)), names
    assert sum("docker" in name for name in names) >= 1
    assert finals(listener.events).count(first) == 1


async def test_external_terms_are_broadcast_and_one_row_per_termid_and_domain(
    stack, client
) -> None:
    meetings = [new_meeting_id("ext"), new_meeting_id("ext")]
    bodies = ["Service-level agreement: promised uptime.", "A contract on service levels."]
    for mid, body in zip(meetings, bodies, strict=True):
        async with Listener(f"{stack.ws_url}/meeting/{mid}/ws") as listener:
            term = {
                "entity": "SLA-x",
                "domain": "Business",
                "body": body,
                "timestamp": "2026-11-21T10:00:00Z",
            }
            posted = await client.post(f"/meeting/{mid}/terms", json=term)
            assert posted.json() == {"status": "ok", "accepted": 1}
            repeated = await client.post(f"/meeting/{mid}/terms", json=[term])
            assert repeated.json() == {"status": "ok", "accepted": 0}
            await listener.wait_for(lambda events: len(events) >= 1)
            assert listener.events[0] | {"seq": 0} == {
                **term,
                "type": "terms",
                "source": "external",
                "seq": 0,
            }
        assert (await stop_and_wait(client, mid))["upserted"] == 1
    conn = await asyncpg.connect(stack.database_url)
    try:
        rows = await conn.fetch(
            "SELECT domain, explanation FROM term WHERE termid = $1", term_id("sla-X ")
        )
    finally:
        await conn.close()
    assert [(r["domain"], r["explanation"]) for r in rows] == [("Business", bodies[-1])]
