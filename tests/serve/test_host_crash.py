"""A meeting host killed with SIGKILL mid-meeting loses no line, term or seq, and repeats none."""

from __future__ import annotations

import os
import signal
from collections import Counter

import httpx
import ray

from glossify.meetings.host import host_name
from glossify.terms.candidates import normalize_term
from tests.serve.clients import AUTH, Listener, new_meeting_id, poll_until

LINES = [
    "We should add idempotency keys before the Kafka consumer lag gets worse.",
    "The SRE on call wants a postmortem for the latency regression.",
    "Our churn rate went up while the customer acquisition cost stayed flat.",
    "Legal must review the GDPR data processing agreement first.",
    "Put the OAuth flow behind a feature flag next sprint.",
    "The Snowflake schema migration was not backward compatible.",
]


def host_of(stack, meeting_id: str):
    from glossify.meetings.host import shard_of

    shard = shard_of(meeting_id, stack.config.meetings.shards)
    name = host_name(stack.config.app_name, shard)
    return ray.get_actor(name, namespace=stack.config.meetings.namespace)


async def test_host_killed_mid_meeting_loses_and_repeats_nothing(stack) -> None:
    mid = new_meeting_id("crash")
    ws_url = f"{stack.ws_url}/meeting/{mid}/ws"
    async with (
        httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=60) as client,
        Listener(ws_url) as listener,
    ):
        for line in LINES[:3]:
            await client.post(f"/meeting/{mid}/stt", json={"text": line, "is_final": True})
        # Kill while those lines are still in NER → agent.
        before = await host_of(stack, mid).ping.remote()
        os.kill(before["pid"], signal.SIGKILL)
        for line in LINES[3:]:
            response = await client.post(
                f"/meeting/{mid}/stt", json={"text": line, "is_final": True}
            )
            assert response.status_code == 200, response.text
        # The same line again after the restart is still recognised as a duplicate.
        again = await client.post(f"/meeting/{mid}/stt", json={"text": LINES[0], "is_final": True})
        assert again.json() == {"status": "ok", "duplicate": True}
        after = await host_of(stack, mid).ping.remote()
        assert after["pid"] != before["pid"]

        async def transcript() -> list[str]:
            body = (await client.get(f"/meeting/{mid}/transcript")).json()
            return [line["text"] for line in body["lines"]]

        assert await transcript() == LINES
        assert (await client.post(f"/meeting/{mid}/stop")).status_code == 202
        await poll_until(
            lambda: client.get(f"/meeting/{mid}/stop/status"),
            lambda r: r.json()["status"] == "done",
            within=120,
        )
        await listener.wait_for(lambda events: any(e["type"] == "upsert_done" for e in events))

    async with Listener(f"{ws_url}?since=0") as replay:
        await replay.wait_for(lambda events: events and events[-1]["type"] == "upsert_done")
    seqs = [event["seq"] for event in replay.events]
    assert seqs == list(range(1, len(seqs) + 1))
    # The listener that lived through the crash saw exactly the journaled history.
    assert listener.events == replay.events
    finals = [e["text"] for e in replay.events if e["type"] == "transcript"]
    assert finals == LINES
    terms = Counter(normalize_term(e["entity"]) for e in replay.events if e["type"] == "terms")
    assert terms and max(terms.values()) == 1, terms
    # Lines killed mid-pipeline were resumed: terms from before and after the kill are there.
    assert any("kafka" in term or "idempotency" in term for term in terms), terms
    assert any("snowflake" in term or "schema migration" in term for term in terms), terms
