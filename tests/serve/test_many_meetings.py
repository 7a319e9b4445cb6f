"""Many concurrent meetings share a fixed set of meeting-host processes."""

from __future__ import annotations

import asyncio

import httpx
import ray

from glossify.meetings.host import host_name
from tests.serve.clients import AUTH, new_meeting_id

MEETINGS = 200


async def test_200_meetings_do_not_mean_200_actor_processes(stack) -> None:
    ids = [new_meeting_id("many") for _ in range(MEETINGS)]
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(
        base_url=stack.base_url, headers=AUTH, timeout=60, limits=limits
    ) as client:

        async def run_meeting(number: int, mid: str) -> int:
            # No term in it: two hundred explanations would keep the explainer busy for the
            # next tests (the meeting id itself reads as a code, "many-3fa2…").
            line = {"text": f"Good morning from meeting number {number}.", "is_final": True}
            response = await client.post(f"/meeting/{mid}/stt", json=line)
            return response.status_code

        statuses = await asyncio.gather(*(run_meeting(n, mid) for n, mid in enumerate(ids)))
        assert statuses == [200] * MEETINGS
        sample = (await client.get(f"/meeting/{ids[-1]}/transcript")).json()
        expected = f"Good morning from meeting number {MEETINGS - 1}."
        assert [line["text"] for line in sample["lines"]] == [expected]

    prefix = host_name(stack.config.app_name, 0)[:-1]
    hosts = [
        actor
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["name"].startswith(prefix)
    ]
    assert len(hosts) == stack.config.meetings.shards
    pings = [await ray.get_actor(h["name"], namespace=h["namespace"]).ping.remote() for h in hosts]
    assert len({p["pid"] for p in pings}) == stack.config.meetings.shards
    assert sum(p["meetings"] for p in pings) >= MEETINGS
