"""A sender far ahead of real time: its socket is read on while its audio waits, so a standard
client's keepalive holds and control frames are answered; it is warned of the backlog, and every
final line still arrives once."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import numpy as np
from faster_whisper import decode_audio

from glossify.audio.pcm import pcm16
from tests.paths import SHARED_AUDIO
from tests.serve.clients import AUTH, connect, new_meeting_id

# The websockets library's keepalive, shortened from 20 s so that the test sees several rounds.
PING_S = 2.0
FRAME_S = 0.1


async def test_a_fast_sender_stays_connected_is_warned_and_loses_no_line(stack) -> None:
    audio = stack.config.audio
    recording = np.concatenate(
        [
            decode_audio(str(SHARED_AUDIO / "dev-meeting-hibari.wav"), sampling_rate=16000),
            decode_audio(str(SHARED_AUDIO / "dev-meeting-espeak.wav"), sampling_rate=16000),
        ]
    )
    seconds = len(recording) / 16000
    first_part_s = len(decode_audio(str(SHARED_AUDIO / "dev-meeting-hibari.wav"))) / 16000
    # Sent at once, more than the warning bound waits behind the pace (8x after a head start).
    assert seconds - audio.speed_head_start_s > audio.buffer_warn_s + 10
    assert seconds < audio.buffer_max_s
    mid = new_meeting_id("backlog")
    data = pcm16(recording)
    step = int(16000 * FRAME_S) * 2
    events: list[dict] = []
    started = time.monotonic()
    async with connect(
        f"{stack.ws_url}/meeting/{mid}/ws", ping_interval=PING_S, ping_timeout=PING_S
    ) as ws:
        events.append(json.loads(await ws.recv()))
        start = {"type": "audio_start", "sample_rate": 16000, "encoding": "pcm_s16le"}
        await ws.send(json.dumps({**start, "language": "en"}))
        for offset in range(0, len(data), step):
            await ws.send(data[offset : offset + step])
        # Behind more than a minute of audio: answered now, not after it.
        await ws.send(json.dumps({"type": "ping"}))
        await ws.send(json.dumps({"type": "audio_end"}))
        while events[-1].get("type") != "audio_done":
            events.append(json.loads(await asyncio.wait_for(ws.recv(), 300)))
    took = time.monotonic() - started
    kinds = [event["type"] for event in events]
    # The client's own pings were answered all along: it stayed for several of its timeouts.
    assert took > 4 * PING_S, took
    assert not [e for e in events if e["type"] == "error"], events
    (warning,) = [e for e in events if e["type"] == "warning"]
    assert warning["code"] == "audio_backlog"
    assert audio.buffer_warn_s < warning["buffered_s"] <= audio.buffer_max_s
    # The pong came while most of the audio still waited: lines and acks followed it.
    pong = kinds.index("pong")
    acks = [i for i, kind in enumerate(kinds) if kind == "audio_ack"]
    assert pong < acks[len(acks) // 2], kinds
    assert events[acks[-1]]["until"] >= seconds - 1.0
    finals = [e for e in events if e["type"] == "transcript" and e["is_final"]]
    assert len({e["seq"] for e in finals}) == len(finals)
    # Both recordings were heard, the second one after the backlog built up.
    assert any(e["start"] < first_part_s for e in finals)
    assert any(e["start"] > first_part_s for e in finals)
    # The two recordings say the same script: a line heard twice is kept once by the meeting.
    assert events[-1]["finals"] >= len(finals) > 0
    async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=30) as http:
        lines = (await http.get(f"/meeting/{mid}/transcript")).json()["lines"]
    # What the sender saw is what the meeting kept: every final line once, none missing.
    assert [line["text"] for line in lines] == [e["text"] for e in finals]
