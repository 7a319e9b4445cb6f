"""Bad input gets a clear 4xx or an ``error`` event, and the service keeps serving."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from tests.serve.clients import AUTH, Listener, connect, new_meeting_id


@pytest.fixture
async def client(stack) -> httpx.AsyncClient:
    async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=30) as http:
        yield http


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error" and body["code"] == code and body["message"], body


@pytest.mark.parametrize(
    "path", ["/meeting/bad%20id/stt", "/meeting/" + "x" * 65 + "/stt", "/meeting/%C3%A9t%C3%A9/stt"]
)
async def test_invalid_meeting_ids_are_400(client, path: str) -> None:
    response = await client.post(path, json={"text": "hello", "is_final": True})
    assert_error(response, 400, "invalid_meeting_id")


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"\xff\xfe\x00", 400, "malformed_json"),
        (b"", 400, "empty_body"),
        (b"[1, 2]", 422, "invalid_body"),
        (b'{"text": 42, "is_final": true}', 422, "invalid_body"),
        (b'{"text": "hi", "is_final": "yes"}', 422, "invalid_body"),
        (b'{"is_final": true}', 422, "invalid_body"),
        (b'{"text": "hi", "is_final": true, "timestamp": "yesterday"}', 422, "invalid_body"),
        (b'{"text": "   ", "is_final": true}', 422, "empty_text"),
    ],
)
async def test_malformed_stt_bodies(client, content: bytes, status: int, code: str) -> None:
    mid = new_meeting_id("bad")
    response = await client.post(
        f"/meeting/{mid}/stt", content=content, headers={"content-type": "application/json"}
    )
    assert_error(response, status, code)


async def test_oversized_bodies_and_lines_are_413(client, stack) -> None:
    mid = new_meeting_id("big")
    huge = {"text": "a" * (stack.config.max_body_bytes + 10), "is_final": True}
    assert_error(await client.post(f"/meeting/{mid}/stt", json=huge), 413, "body_too_large")
    long_line = {"text": "word " * 2000, "is_final": True}
    assert_error(await client.post(f"/meeting/{mid}/stt", json=long_line), 413, "line_too_long")


async def test_wrong_terms_bodies(client) -> None:
    mid = new_meeting_id("terms")
    assert_error(await client.post(f"/meeting/{mid}/terms", json=[]), 422, "invalid_body")
    missing_body = {"entity": "SLA", "domain": "Business"}
    assert_error(await client.post(f"/meeting/{mid}/terms", json=missing_body), 422, "invalid_body")
    assert_error(
        await client.post(f"/meeting/{mid}/start", json={"language": 7}), 422, "invalid_body"
    )


async def test_unknown_routes_and_meetings(client) -> None:
    assert_error(await client.get("/nowhere"), 404, "not_found")
    assert_error(await client.get("/meeting/abc/stt"), 405, "method_not_allowed")
    mid = new_meeting_id("ghost")
    assert_error(await client.post(f"/meeting/{mid}/stop"), 404, "meeting_not_found")
    assert_error(await client.get(f"/meeting/{mid}/terms"), 404, "meeting_not_found")
    assert_error(await client.get(f"/meeting/{mid}/stop/status"), 404, "meeting_not_found")


async def test_stop_twice_and_lines_after_stop_are_409(client, stack) -> None:
    mid = new_meeting_id("twice")
    await client.post(f"/meeting/{mid}/start")
    assert (await client.post(f"/meeting/{mid}/stop")).status_code == 202
    second = await client.post(f"/meeting/{mid}/stop")
    assert second.status_code == 409
    assert second.json()["code"] in ("stop_in_progress", "already_stopped")
    for _ in range(100):
        if (await client.get(f"/meeting/{mid}/stop/status")).json()["status"] == "done":
            break
        await asyncio.sleep(0.2)
    assert_error(await client.post(f"/meeting/{mid}/stop"), 409, "already_stopped")
    line = {"text": "one more thing", "is_final": True}
    assert_error(await client.post(f"/meeting/{mid}/stt", json=line), 409, "meeting_stopped")
    assert (await client.get("/health")).status_code == 200


async def test_bad_socket_frames_get_error_events_and_the_socket_stays_open(stack, client) -> None:
    mid = new_meeting_id("ws")
    async with Listener(f"{stack.ws_url}/meeting/{mid}/ws") as listener:
        await listener.send({"type": "dance"})
        await listener.send("{oops")
        await listener.send("[1, 2]")
        await listener.send(b"\x00\x01garbage")
        await listener.send({"type": "ping"})
        # A pong may overtake the reply to audio sent before it (audio is done by the
        # sender's own task), so wait for both.
        await listener.wait_for(
            lambda events: (
                any(e["type"] == "pong" for e in events)
                and any(e.get("code") == "odd_length_pcm" for e in events)
            )
        )
        codes = [e["code"] for e in listener.of_type("error")]
        assert codes == ["unknown_type", "malformed_json", "unknown_type", "odd_length_pcm"]
        # Still a working listener of the meeting.
        await client.post(f"/meeting/{mid}/stt", json={"text": "Still here.", "is_final": True})
        await listener.wait_for(lambda events: any(e["type"] == "transcript" for e in events))


async def test_abusive_socket_is_closed_after_many_errors(stack) -> None:
    mid = new_meeting_id("abuse")
    async with connect(f"{stack.ws_url}/meeting/{mid}/ws") as ws:
        json.loads(await ws.recv())
        for _ in range(25):
            await ws.send("nonsense")
        received = []
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                received.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
        assert closed.value.rcvd.code == 1008
        assert received[-1]["code"] == "too_many_errors"


@pytest.mark.parametrize(
    ("path", "code"),
    [("bad%20id/ws", "invalid_meeting_id"), ("ok-id/ws?since=-4", "invalid_since")],
)
async def test_bad_socket_urls_get_an_error_then_close(stack, path: str, code: str) -> None:
    async with connect(f"{stack.ws_url}/meeting/{path}") as ws:
        event = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert event["type"] == "error" and event["code"] == code
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 30)
        assert closed.value.rcvd.code == 1008


async def test_meetings_never_see_each_others_events(stack, client) -> None:
    one, two = new_meeting_id("iso"), new_meeting_id("iso")
    async with (
        Listener(f"{stack.ws_url}/meeting/{one}/ws") as first,
        Listener(f"{stack.ws_url}/meeting/{two}/ws") as second,
    ):
        await client.post(
            f"/meeting/{one}/stt", json={"text": "Secret alpha line.", "is_final": True}
        )
        await client.post(
            f"/meeting/{two}/stt", json={"text": "Secret beta line.", "is_final": True}
        )
        await first.wait_for(lambda events: len(events) >= 1)
        await second.wait_for(lambda events: len(events) >= 1)
        await asyncio.sleep(1.0)
    assert [e["text"] for e in first.of_type("transcript")] == ["Secret alpha line."]
    assert [e["text"] for e in second.of_type("transcript")] == ["Secret beta line."]
