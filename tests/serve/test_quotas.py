"""The quotas a meeting host and the gate enforce, each reached on a second application with
tiny limits, while the main application serves another meeting at the same time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.serve.apps import App, own_database, second_app, standin_backends
from tests.serve.clients import AUTH, listeners, new_meeting_id, refused_handshake
from tests.standins import running_standins

APP = "glossify-tight"
PREFIX = "/tight"
QUOTAS = {
    "sockets_per_address": 3,
    "lines_per_meeting": 3,
    "terms_per_meeting": 2,
    "meetings_per_shard": 3,
    "key_requests_per_s": 2.0,
    "key_requests_burst": 40,
}


ROOM = new_meeting_id("room")


@pytest.fixture(scope="module")
def tight(stack: Any) -> Iterator[App]:
    """The app, on a database of its own, with one meeting (ROOM) open on its single shard."""
    with running_standins() as standins, pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", own_database(stack.database_url))
        args = standin_backends(env, standins)
        args["meetings"] = {"shards": 1, "stop_drain_s": 30.0}
        args["auth"] = {"quotas": QUOTAS}
        with second_app(stack, APP, PREFIX, args, standins) as app:
            opened = httpx.post(f"{app.base_url}/meeting/{ROOM}/start", headers=AUTH, timeout=30)
            assert opened.status_code == 200, opened.text
            yield app


def line(text: str) -> dict[str, Any]:
    return {"text": text, "is_final": True}


async def test_meeting_sizes_and_meetings_per_shard(tight: App, stack: Any) -> None:
    async with (
        httpx.AsyncClient(base_url=tight.base_url, headers=AUTH, timeout=30) as http,
        httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=30) as main,
    ):
        other = new_meeting_id("served")
        mid = new_meeting_id("full")
        answers = [await http.post(f"/meeting/{mid}/stt", json=line(f"line {i}")) for i in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[-1].json()["code"] == "transcript_full"
        terms = [{"entity": f"Term{i}", "domain": "Testing", "body": "A term."} for i in range(3)]
        accepted = [await http.post(f"/meeting/{mid}/terms", json=t) for t in terms]
        assert [a.status_code for a in accepted] == [200, 200, 429]
        assert accepted[-1].json()["code"] == "glossary_full"
        # The shard holds three meetings (ROOM, this one and one more); a fourth is refused.
        opened = [await http.post(f"/meeting/{new_meeting_id('shard')}/start") for _ in range(2)]
        assert [a.status_code for a in opened] == [200, 429]
        assert opened[-1].json()["code"] == "too_many_meetings"
        # Meanwhile the main application serves another meeting as usual.
        assert (
            await main.post(f"/meeting/{other}/stt", json=line("still here"))
        ).status_code == 200
        lines = (await main.get(f"/meeting/{other}/transcript")).json()["lines"]
        assert [entry["text"] for entry in lines] == ["still here"]


async def test_sockets_per_client_address(tight: App) -> None:
    url = f"{tight.ws_url}/meeting/{ROOM}/ws"
    async with listeners(url, int(QUOTAS["sockets_per_address"])):
        assert await refused_handshake(url) == 403


async def test_requests_per_service_key(tight: App) -> None:
    async with httpx.AsyncClient(base_url=tight.base_url, headers=AUTH, timeout=30) as http:
        answers = await asyncio.gather(
            *(http.get(f"/meeting/{ROOM}/transcript") for _ in range(80))
        )
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    assert {a.json()["code"] for a in limited} == {"key_rate_limited"}
    assert all(int(a.headers["Retry-After"]) >= 1 for a in limited)
    assert {a.status_code for a in answers} == {200, 429}
