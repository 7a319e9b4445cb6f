"""Who may read, speak and stop, on the real stack: service keys with scopes, meeting tokens
with roles, origins, and the quotas' answers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import websockets
from pydantic import SecretStr

from glossify.access.tokens import TokenSigner
from tests.credentials import MINT_KEY, READ_KEY, SIGNING_SECRET, TEST_KEY, WRITE_KEY
from tests.serve.clients import (
    AUTH,
    Listener,
    connect,
    listeners,
    new_meeting_id,
    poll_until,
    refused_handshake,
)

LINE = {"text": "The SLA of the API gateway is 99.9 percent.", "is_final": True}


def has_error(events: list[dict[str, Any]]) -> bool:
    return any(event.get("type") == "error" for event in events)


async def first_to(
    waiting: list[Listener], predicate: Callable[[list[dict[str, Any]]], bool]
) -> None:
    """Returns once any of the ``waiting`` listeners' events satisfy ``predicate``; fails as
    `Listener.wait_for` does when none do in time."""
    waits = [asyncio.ensure_future(listener.wait_for(predicate)) for listener in waiting]
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for wait in pending:
        wait.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for wait in done:
        wait.result()


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


@pytest.fixture
async def http(stack: Any) -> Any:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client:
        yield client


async def mint(http: httpx.AsyncClient, mid: str, role: str, **extra: Any) -> str:
    answer = await http.post(
        f"/meeting/{mid}/tokens", json={"role": role, **extra}, headers=bearer(MINT_KEY)
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["url"] == f"/m/{mid}#token={body['token']}"
    return str(body["token"])


async def started(http: httpx.AsyncClient) -> str:
    mid = new_meeting_id("acl")
    assert (await http.post(f"/meeting/{mid}/start", headers=AUTH)).status_code == 200
    return mid


async def test_a_token_for_one_meeting_opens_nothing_of_another(stack: Any, http: Any) -> None:
    a, b = await started(http), await started(http)
    host_a = bearer(await mint(http, a, "host"))
    assert (await http.post(f"/meeting/{a}/stt", json=LINE, headers=host_a)).status_code == 200
    for method, path, body in [
        ("POST", "stt", LINE),
        ("POST", "stop", None),
        ("GET", "transcript", None),
        ("GET", "terms", None),
        ("GET", "stop/status", None),
    ]:
        answer = await http.request(method, f"/meeting/{b}/{path}", json=body, headers=host_a)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["code"] == "wrong_meeting"
    token_a = await mint(http, a, "listener")
    assert await refused_handshake(f"{stack.ws_url}/meeting/{b}/ws", token_a) == 403
    lines = (await http.get(f"/meeting/{b}/transcript", headers=AUTH)).json()["lines"]
    assert lines == []


async def test_a_listener_reads_but_cannot_speak_stop_or_send_audio(stack: Any, http: Any) -> None:
    mid = await started(http)
    listener = await mint(http, mid, "listener", subject="Ada")
    headers = bearer(listener)
    assert (await http.post(f"/meeting/{mid}/stt", json=LINE, headers=headers)).json()[
        "code"
    ] == "role_too_low"
    assert (await http.post(f"/meeting/{mid}/stop", headers=headers)).status_code == 403
    assert (await http.get(f"/meeting/{mid}/transcript", headers=headers)).status_code == 200
    async with Listener(f"{stack.ws_url}/meeting/{mid}/ws", listener) as socket:
        await socket.send(bytes(3200))
        errors = await socket.wait_for(has_error)
        assert [e["code"] for e in errors if e.get("type") == "error"] == ["role_too_low"]
    status = (await http.get(f"/meeting/{mid}/stop/status", headers=AUTH)).json()
    assert status["status"] == "idle"


async def test_a_speaker_speaks_under_its_own_name(stack: Any, http: Any) -> None:
    mid = await started(http)
    speaker = bearer(await mint(http, mid, "speaker", subject="Grace"))
    body = {**LINE, "speaker": "Someone Else"}
    assert (await http.post(f"/meeting/{mid}/stt", json=body, headers=speaker)).status_code == 200
    assert (await http.post(f"/meeting/{mid}/stop", headers=speaker)).status_code == 403
    lines = (await http.get(f"/meeting/{mid}/transcript", headers=speaker)).json()["lines"]
    assert [line["speaker"] for line in lines] == ["Grace"]


async def test_bad_credentials_are_refused_before_any_data(stack: Any, http: Any) -> None:
    mid = await started(http)
    good = await mint(http, mid, "listener")
    now = time.time()
    old = TokenSigner([SecretStr(SIGNING_SECRET)]).mint(mid, "listener", "x", 60, now=now - 3600)
    rotated_out = TokenSigner([SecretStr("a-secret-that-was-rotated-out-0123456789")])
    header, payload, signature = good.split(".")
    cases = {
        "missing_credentials": None,
        "expired": old.token,
        "bad_signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "unknown_key": rotated_out.mint(mid, "listener", "x", 600).token,
        "invalid_key": "not-a-key-that-anyone-issued-000",
    }
    for code, credential in cases.items():
        headers = bearer(credential) if credential else {}
        answer = await http.get(f"/meeting/{mid}/transcript", headers=headers)
        assert answer.status_code == 401, (code, answer.text)
        assert answer.json()["code"] == code
        assert "WWW-Authenticate" in answer.headers
        url = f"{stack.ws_url}/meeting/{mid}/ws?since=0"
        assert await refused_handshake(url, credential) == 403, code


async def test_scopes_of_service_keys(stack: Any, http: Any) -> None:
    mid = new_meeting_id("scope")
    reader, writer = bearer(READ_KEY), bearer(WRITE_KEY)
    # meetings:write creates the meeting; meetings:read alone may not even see it created.
    assert (await http.post(f"/meeting/{mid}/stt", json=LINE, headers=reader)).json()[
        "code"
    ] == "missing_scope"
    assert (await http.post(f"/meeting/{mid}/stt", json=LINE, headers=writer)).status_code == 200
    assert (await http.get(f"/meeting/{mid}/transcript", headers=reader)).status_code == 200
    assert (await http.get(f"/meeting/{mid}/transcript", headers=writer)).status_code == 403
    minted = await http.post(f"/meeting/{mid}/tokens", json={"role": "host"}, headers=writer)
    assert minted.json()["code"] == "missing_scope"
    too_long = await http.post(
        f"/meeting/{mid}/tokens", json={"role": "host", "ttl_s": 10**7}, headers=bearer(MINT_KEY)
    )
    assert too_long.status_code == 400


async def test_only_a_host_or_a_key_creates_a_meeting(stack: Any, http: Any) -> None:
    mid = new_meeting_id("new")
    speaker = bearer(await mint(http, mid, "speaker"))
    listener = await mint(http, mid, "listener")
    answer = await http.post(f"/meeting/{mid}/stt", json=LINE, headers=speaker)
    assert answer.status_code == 404 and answer.json()["code"] == "meeting_not_found"
    async with connect(f"{stack.ws_url}/meeting/{mid}/ws", listener) as ws:
        assert json.loads(await ws.recv())["code"] == "meeting_not_found"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
    host = bearer(await mint(http, mid, "host"))
    assert (await http.post(f"/meeting/{mid}/start", headers=host)).status_code == 200
    assert (await http.post(f"/meeting/{mid}/stt", json=LINE, headers=speaker)).status_code == 200


async def test_external_terms_reach_the_glossary_only_with_glossary_write(
    stack: Any, http: Any
) -> None:
    import asyncpg

    mid = await started(http)
    host = bearer(await mint(http, mid, "host"))
    private = {"entity": f"Zorblax-{mid}", "domain": "Testing", "body": "A private term."}
    shared = {"entity": f"Quuxify-{mid}", "domain": "Testing", "body": "A shared term."}
    assert (await http.post(f"/meeting/{mid}/terms", json=private, headers=host)).status_code == 200
    assert (await http.post(f"/meeting/{mid}/terms", json=shared, headers=AUTH)).status_code == 200
    seen = (await http.get(f"/meeting/{mid}/terms", headers=host)).json()["terms"]
    assert {t["entity"] for t in seen} == {private["entity"], shared["entity"]}
    assert (await http.post(f"/meeting/{mid}/stop", headers=host)).status_code == 202
    await poll_until(
        lambda: http.get(f"/meeting/{mid}/stop/status", headers=host),
        lambda r: r.json()["status"] == "done",
    )
    conn = await asyncpg.connect(stack.database_url)
    try:
        rows = await conn.fetch(
            "SELECT term FROM term WHERE term = ANY($1::text[])",
            [private["entity"], shared["entity"]],
        )
        # A made-up glossary term would become a Whisper hotword for every later test.
        await conn.execute("DELETE FROM term WHERE term = $1", shared["entity"])
    finally:
        await conn.close()
    assert [r["term"] for r in rows] == [shared["entity"]]


async def test_a_cross_site_page_changes_nothing(stack: Any, http: Any) -> None:
    mid = await started(http)
    evil = {"Origin": "https://evil.example", **AUTH}
    simple = {**evil, "content-type": "text/plain"}
    answer = await http.post(f"/meeting/{mid}/stt", content=json.dumps(LINE), headers=simple)
    assert answer.status_code == 403 and answer.json()["code"] == "origin_not_allowed"
    preflight = await http.options(
        f"/meeting/{mid}/stop",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    assert (await http.post(f"/meeting/{mid}/stop", headers=evil)).status_code == 403
    url = f"{stack.ws_url}/meeting/{mid}/ws"
    refused = await refused_handshake(url, TEST_KEY, origin="https://evil.example")
    assert refused == 403
    # Without an Origin (a server-side caller) the body must still say it is JSON.
    plain = {**AUTH, "content-type": "text/plain"}
    answer = await http.post(f"/meeting/{mid}/stt", content=json.dumps(LINE), headers=plain)
    assert answer.status_code == 415
    # The page's own origin is the server's: allowed.
    own = {"Origin": stack.base_url, **AUTH}
    assert (await http.post(f"/meeting/{mid}/stt", json=LINE, headers=own)).status_code == 200
    lines = (await http.get(f"/meeting/{mid}/transcript", headers=AUTH)).json()["lines"]
    assert len(lines) == 1
    status = (await http.get(f"/meeting/{mid}/stop/status", headers=AUTH)).json()
    assert status["status"] == "idle"


async def test_anonymous_health_shows_no_backend_details(stack: Any, http: Any) -> None:
    anonymous = (await http.get("/health")).json()
    assert anonymous == {"status": "ok"}
    detailed = (await http.get("/health", headers=AUTH)).json()
    assert {"store", "detector", "explainer"} <= detailed.keys()


async def test_the_openapi_document_lists_every_route(http: Any) -> None:
    document = (await http.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    # Every route of protocol v1 is documented (the pages' API adds more).
    assert set(document["paths"]) >= {
        "/health",
        "/meeting/{mid}/start",
        "/meeting/{mid}/stt",
        "/meeting/{mid}/terms",
        "/meeting/{mid}/transcript",
        "/meeting/{mid}/stop",
        "/meeting/{mid}/stop/status",
        "/meeting/{mid}/tokens",
    }
    assert "SttBody" in document["components"]["schemas"]


async def test_sockets_and_audio_senders_per_meeting_are_limited(stack: Any, http: Any) -> None:
    mid = await started(http)
    url = f"{stack.ws_url}/meeting/{mid}/ws"
    limit = stack.config.auth.quotas.sockets_per_meeting
    senders = stack.config.auth.quotas.audio_senders_per_meeting
    async with listeners(url, limit) as connected:
        assert await refused_handshake(url) == 403
        sending = connected[: senders + 1]
        for listener in sending:
            await listener.send(bytes(3200))
        # Each socket's frames are handled by a task of its own, so the one refused is the one
        # handled last, not always the one that sent last: exactly one of them.
        await first_to(sending, has_error)
        codes = [e["code"] for listener in sending for e in listener.of_type("error")]
        assert codes == ["too_many_audio_senders"]
    # Closed sockets give their places back.
    async with Listener(url) as again:
        assert again.ready is not None and again.ready["type"] == "ready"


async def test_a_flood_of_lines_gets_429_while_another_meeting_is_served(
    stack: Any, http: Any
) -> None:
    flooded, quiet = await started(http), await started(http)
    flood = [
        http.post(
            f"/meeting/{flooded}/stt", json={"text": f"flood {i}", "is_final": True}, headers=AUTH
        )
        for i in range(150)
    ]
    calm = [
        http.post(
            f"/meeting/{quiet}/stt", json={"text": f"calm {i}", "is_final": True}, headers=AUTH
        )
        for i in range(10)
    ]
    answers = await asyncio.gather(*flood, *calm)
    flood_answers, calm_answers = answers[:150], answers[150:]
    limited = [a for a in flood_answers if a.status_code == 429]
    assert limited, [a.status_code for a in flood_answers]
    assert all(a.json()["code"] == "line_rate_limited" for a in limited)
    assert all(int(a.headers["Retry-After"]) >= 1 for a in limited)
    assert {a.status_code for a in flood_answers} == {200, 429}
    assert [a.status_code for a in calm_answers] == [200] * 10
    lines = (await http.get(f"/meeting/{quiet}/transcript", headers=AUTH)).json()["lines"]
    assert sorted(line["text"] for line in lines) == sorted(f"calm {i}" for i in range(10))
    kept = (await http.get(f"/meeting/{flooded}/transcript", headers=AUTH)).json()["lines"]
    assert len(kept) == 150 - len(limited)
