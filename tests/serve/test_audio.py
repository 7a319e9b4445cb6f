"""Live audio over the WebSocket: real Serve, real faster-whisper, real VAD, real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import asyncpg
import httpx
import numpy as np
import pytest
from faster_whisper import decode_audio

from bench.faults.tcp_proxy import CuttableProxy
from glossify.audio.pcm import pcm16
from glossify.cli.demo import sample_meeting
from glossify.cli.stream_client import stream_file
from glossify.meetings.hosts import MeetingHosts
from glossify.terms.candidates import normalize_term, term_id
from glossify.transcription.wer import wer as word_error_rate
from tests.paths import SHARED_AUDIO
from tests.serve.clients import AUTH, TEST_KEY, Listener, connect, new_meeting_id, poll_until

AUDIO = SHARED_AUDIO
SAMPLE_MEETING = sample_meeting()
JFK_TEXT = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)


def final_texts(events: list[dict]) -> list[str]:
    return [e["text"] for e in events if e.get("type") == "transcript" and e["is_final"]]


async def send_audio(
    url: str, samples: np.ndarray, sample_rate: int = 16000, frame_s: float = 0.1
) -> list[dict]:
    """A sending client: announces the format, sends frames as fast as accepted, ends."""
    async with connect(url) as ws:
        received: list[dict] = [json.loads(await ws.recv())]
        start = {"type": "audio_start", "sample_rate": sample_rate, "encoding": "pcm_s16le"}
        await ws.send(json.dumps(start))
        data = pcm16(samples)
        step = int(sample_rate * frame_s) * 2
        for offset in range(0, len(data), step):
            await ws.send(data[offset : offset + step])
        await ws.send(json.dumps({"type": "audio_end"}))
        while not received or received[-1].get("type") != "audio_done":
            received.append(json.loads(await asyncio.wait_for(ws.recv(), 300)))
    return received


@pytest.fixture
async def client(stack) -> httpx.AsyncClient:
    async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=60) as http:
        yield http


async def seed_glossary(client: httpx.AsyncClient, *entities: str) -> None:
    """An earlier meeting explained the terms, so the organisation's glossary knows them."""
    mid = new_meeting_id("seed")
    terms = [{"entity": e, "domain": "Tech", "body": f"What {e} means."} for e in entities]
    assert (await client.post(f"/meeting/{mid}/terms", json=terms)).status_code == 200
    assert (await client.post(f"/meeting/{mid}/stop")).status_code == 202
    await poll_until(
        lambda: client.get(f"/meeting/{mid}/stop/status"),
        lambda r: r.json()["status"] == "done",
    )


async def test_jargon_meeting_streamed_becomes_lines_terms_and_rows(stack, client) -> None:
    # Whisper base alone hears "cubernete's" and, now and then, "Ooth"; the glossary's
    # spellings, passed as hotwords, fix them.
    await seed_glossary(client, "Kubernetes", "OAuth")
    await asyncio.sleep(6)  # past the meeting hosts' glossary cache
    mid = new_meeting_id("audio")
    script = (AUDIO / "dev-meeting.txt").read_text()
    async with Listener(f"{stack.ws_url}/meeting/{mid}/ws") as listener:
        report = await stream_file(
            stack.base_url,
            mid,
            AUDIO / "dev-meeting-hibari.wav",
            fast=True,
            language="en",
            credential=TEST_KEY,
        )
        heard = " ".join(e["text"] for e in report.finals())
        for word in ("Kubernetes", "EBITDA", "OAuth"):
            assert word.lower() in heard.lower(), heard
        assert word_error_rate(script, heard) < 0.25, heard
        for final in report.finals():
            assert 0 <= final["start"] < final["end"] <= report.audio_seconds + 0.5

        def explained(events: list[dict]) -> bool:
            names = {normalize_term(e["entity"]) for e in events if e["type"] == "terms"}
            return all(any(w in n for n in names) for w in ("kubernetes", "ebitda", "oauth"))

        await listener.wait_for(explained, within=240)
        # The streaming client has every final when its stream ends; a listener's copies come
        # through the meeting's broadcast and may arrive a moment later (under load, after the
        # terms above).
        finals = [e["text"] for e in report.finals()]
        await listener.wait_for(lambda events: len(final_texts(events)) >= len(finals), within=60)
        assert final_texts(listener.events) == finals
        assert (await client.post(f"/meeting/{mid}/stop")).status_code == 202
        status = await poll_until(
            lambda: client.get(f"/meeting/{mid}/stop/status"),
            lambda r: r.json()["status"] == "done",
            within=240,
        )
    terms = (await client.get(f"/meeting/{mid}/terms")).json()["terms"]
    # Terms the explainer abstained on are shown in the meeting, never upserted.
    explained = [t for t in terms if not t.get("abstained")]
    assert status.json()["upserted"] == len(explained) > 0
    conn = await asyncpg.connect(stack.database_url)
    try:
        ids = [term_id(t["entity"]) for t in terms]
        rows = await conn.fetch("SELECT term FROM term WHERE termid = ANY($1)", ids)
    finally:
        await conn.close()
    stored = {normalize_term(r["term"]) for r in rows}
    assert any("kubernetes" in term for term in stored), stored


async def test_real_speech_resampled_from_48k_is_transcribed(stack) -> None:
    samples = decode_audio(str(AUDIO / "jfk.flac"), sampling_rate=48000)
    events = await send_audio(f"{stack.ws_url}/meeting/{new_meeting_id('jfk')}/ws", samples, 48000)
    heard = " ".join(final_texts(events))
    assert word_error_rate(JFK_TEXT, heard) <= 0.2, heard
    # audio_done comes once the stream's last utterance is a line of the meeting.
    assert events[-1] == {"type": "audio_done", "finals": len(final_texts(events))}
    partials = [e for e in events if e.get("type") == "transcript" and not e["is_final"]]
    for partial in partials:
        assert partial["start"] >= 0 and partial["end"] > partial["start"]


async def test_silence_and_noise_yield_no_final_line(stack) -> None:
    rng = np.random.default_rng(7)
    silence = np.zeros(16000 * 5, dtype=np.float32)
    noise = rng.normal(0, 0.08, 16000 * 6).astype(np.float32)
    hum = 0.2 * np.sin(2 * np.pi * 120 * np.arange(16000 * 4) / 16000).astype(np.float32)
    events = await send_audio(
        f"{stack.ws_url}/meeting/{new_meeting_id('quiet')}/ws",
        np.concatenate([silence, noise, silence, hum]),
    )
    assert final_texts(events) == []
    assert events[-1] == {"type": "audio_done", "finals": 0}


async def test_two_sources_and_a_listener_in_one_meeting(stack) -> None:
    mid = new_meeting_id("two")
    url = f"{stack.ws_url}/meeting/{mid}/ws"
    jfk = decode_audio(str(AUDIO / "jfk.flac"), sampling_rate=16000)
    meeting = decode_audio(str(AUDIO / "dev-meeting-hibari.wav"), sampling_rate=16000)[: 16000 * 14]
    async with Listener(url) as listener:
        first, second = await asyncio.gather(send_audio(url, jfk), send_audio(url, meeting))

        def both_heard(events: list[dict]) -> bool:
            text = " ".join(final_texts(events)).lower()
            return all(word in text for word in ("americans", "country", "autoscaler", "ebitda"))

        await listener.wait_for(both_heard, within=120)
        # Every connection of the meeting sees the same transcript, whoever sent the audio.
        # The senders have every final (audio_done comes after delivery); the listener may
        # still be reading the last ones when the words above are in.
        sent = set(final_texts(first)) | set(final_texts(second))
        await listener.wait_for(lambda events: sent <= set(final_texts(events)), within=30)
    heard = final_texts(listener.events)
    assert set(final_texts(first)) <= set(heard) and set(final_texts(second)) <= set(heard)
    # The recording's two sentences, known by words Whisper never misses: how it spells the
    # jargon depends on what the utterance was batched with (the jargon test above checks it).
    meeting_lines = [line for line in heard if "autoscaler" in line or "quarterly" in line]
    assert len(meeting_lines) == 2, heard
    jfk_lines = [line for line in heard if line not in meeting_lines]
    assert word_error_rate(JFK_TEXT, " ".join(jfk_lines)) <= 0.2, heard
    seqs = [e["seq"] for e in listener.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_bad_audio_gets_error_events_and_other_streams_go_on(stack) -> None:
    mid = new_meeting_id("badaudio")
    url = f"{stack.ws_url}/meeting/{mid}/ws"
    jfk = decode_audio(str(AUDIO / "jfk.flac"), sampling_rate=16000)
    good = asyncio.create_task(send_audio(url, jfk))
    async with Listener(url) as bad:
        await bad.send({"type": "audio_start", "sample_rate": 12345, "encoding": "pcm_s16le"})
        await bad.send({"type": "audio_start", "sample_rate": 16000, "encoding": "mp3"})
        await bad.send({"type": "audio_start", "sample_rate": "fast"})
        await bad.send({"type": "audio_start", "sample_rate": 16000})
        await bad.send(b"\x01\x02\x03")
        await bad.send(b"\x00" * (16000 * 2 * 3))
        await bad.send(b"")
        await bad.send(pcm16(np.zeros(1600, dtype=np.float32)))
        await bad.send({"type": "audio_end"})
        await bad.send({"type": "ping"})
        await bad.wait_for(lambda events: any(e["type"] == "pong" for e in events))
        # The pong comes at once; audio_done comes after everything sent before audio_end.
        await bad.wait_for(lambda events: any(e["type"] == "audio_done" for e in events))
        codes = [e["code"] for e in bad.of_type("error")]
        assert codes[:3] == [
            "unsupported_sample_rate",
            "unsupported_encoding",
            "unsupported_sample_rate",
        ]
        assert "odd_length_pcm" in codes and "frame_too_large" in codes
    events = await good
    assert word_error_rate(JFK_TEXT, " ".join(final_texts(events))) <= 0.2
    assert not [e for e in events if e.get("type") == "error"]


async def test_glossify_stream_command_prints_captions(stack) -> None:
    mid = new_meeting_id("cli")
    command = [sys.executable, "-m", "glossify", "stream", str(AUDIO / "jfk.flac")]
    process = await asyncio.create_subprocess_exec(
        *command,
        "--meeting",
        mid,
        "--url",
        stack.base_url,
        "--token",
        TEST_KEY,
        "--fast",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await asyncio.wait_for(process.communicate(), 300))[0].decode()
    assert process.returncode == 0, output
    captions = [line for line in output.splitlines() if line.startswith("[")]
    heard = " ".join(line.split("] ", 1)[1] for line in captions)
    assert word_error_rate(JFK_TEXT, heard) <= 0.2, output
    assert "streamed 11.0 s of audio" in output or "streamed 11.1 s of audio" in output, output


async def test_glossify_stream_refuses_a_bad_meeting_id(stack) -> None:
    command = [sys.executable, "-m", "glossify", "stream", str(AUDIO / "jfk.flac")]
    process = await asyncio.create_subprocess_exec(
        *command,
        "--meeting",
        "no spaces!",
        "--url",
        stack.base_url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await asyncio.wait_for(process.communicate(), 120))[0].decode()
    assert process.returncode == 2, output
    assert "meeting id must match" in output


async def test_a_sender_ahead_of_real_time_is_read_more_slowly(stack) -> None:
    audio = stack.config.audio
    seconds = 45.0
    quiet = np.zeros(int(16000 * seconds), dtype=np.float32)
    started = time.monotonic()
    events = await send_audio(f"{stack.ws_url}/meeting/{new_meeting_id('pace')}/ws", quiet)
    took = time.monotonic() - started
    assert events[-1] == {"type": "audio_done", "finals": 0}
    # All of it arrived, but no faster than max_speed allows after the head start.
    assert took >= (seconds - audio.speed_head_start_s) / audio.max_speed


async def test_a_dropped_sender_reconnects_and_the_meeting_keeps_each_line_once(stack) -> None:
    port = int(stack.base_url.rsplit(":", 1)[1])
    mid = new_meeting_id("drop")
    async with CuttableProxy(port) as proxy:

        def cut_after_the_first_final(event: dict) -> None:
            if event.get("type") == "transcript" and event["is_final"] and proxy.cuts == 0:
                asyncio.get_running_loop().call_soon(proxy.cut)

        report = await stream_file(
            f"http://127.0.0.1:{proxy.port}",
            mid,
            SAMPLE_MEETING,
            fast=True,
            language="en",
            on_event=cut_after_the_first_final,
            credential=TEST_KEY,
        )
    assert proxy.cuts == 1 and report.reconnects >= 1
    heard = [event["text"] for event in report.finals()]
    assert len(heard) == len(set(heard)) >= 8, heard
    seqs = [event["seq"] for event in report.events if "seq" in event]
    assert seqs == sorted(set(seqs))
    async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=30) as http:
        lines = (await http.get(f"/meeting/{mid}/transcript")).json()["lines"]
    # What the sender saw is what the meeting kept: every line once, none missing.
    assert [line["text"] for line in lines] == heard


async def test_a_streams_language_becomes_the_meetings(stack) -> None:
    mid = new_meeting_id("ko")
    async with Listener(f"{stack.ws_url}/meeting/{mid}/ws") as sender:
        start = {"type": "audio_start", "sample_rate": 16000, "language": "ko"}
        await sender.send(start)
        await sender.send({"type": "ping"})
        await sender.wait_for(lambda events: any(e["type"] == "pong" for e in events))
    # Detection and explanations read the meeting's language from its host. The sender's
    # messages are handled on a task of their own, so the pong may come first: wait for it.
    hosts = MeetingHosts(stack.config)
    await poll_until(lambda: hosts.hotwords(mid, 1), lambda got: got["language"] == "ko", 30)
