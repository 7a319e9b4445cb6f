"""A Korean meeting spoken, streamed over the socket: real Serve, real faster-whisper (Whisper
base, language "ko"), the Korean path of the local detector (kiwipiepy) and the explainer.

The recording is committed (`bench/data/audio/korean-meeting-mbrola.wav`, MBROLA's Korean
voice hn1 reading `korean-meeting.txt`), so nothing here needs MBROLA. Whisper base hears about
half of its characters right (`python -m bench.korean_cer`: CER 0.50 without the context prompt,
0.60 with it; docs/benchmarks.md). The recording shows the audio path of a Korean meeting
(language from `audio_start`, lines transcribed and entered, hotwords in the meeting's
language), and a Korean line said in the same meeting shows the detector and explainer working
in its language.
"""

from __future__ import annotations

import random
from typing import Any

import httpx

from bench.korean_recording import KOREAN_WAV, load_korean_script
from glossify.cli.stream_client import stream_file
from glossify.meetings.hosts import MeetingHosts
from glossify.terms.local.korean import has_hangul
from glossify.transcription.wer import cer
from tests.serve.clients import AUTH, TEST_KEY, Listener, new_meeting_id

# No bound on the character error rate here: on a fresh stack Whisper base hears about half
# the characters right (bench.korean_cer: 0.50-0.60); on this shared stack it scored 0.62 in
# one CI run and 1.09 in another, most lines romanised ("ROLA, ODE, TORROR"), from the Latin
# acronyms other tests leave in the glossary, which then reached a Korean meeting as hotwords
# (bench.korean_hotwords: CER 1.49 with 40 of them). They no longer do; the figure is still
# the benchmark's, and this test checks the Korean path.


def fresh_acronym() -> str:
    """A term no earlier test put into the shared glossary, so the explainer must explain it."""
    return "".join(random.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(4))


def local_terms(events: list[dict[str, Any]], entity: str) -> list[dict[str, Any]]:
    return [
        e
        for e in events
        if e["type"] == "terms" and e["source"] == "local" and e["entity"] == entity
    ]


async def test_a_korean_recording_is_transcribed_and_its_meeting_explained_in_korean(
    stack,
) -> None:
    mid = new_meeting_id("ko-audio")
    script = " ".join(load_korean_script())
    async with Listener(f"{stack.ws_url}/meeting/{mid}/ws") as listener:
        report = await stream_file(
            stack.base_url, mid, KOREAN_WAV, fast=True, language="ko", credential=TEST_KEY
        )
        heard = [event["text"] for event in report.finals()]
        assert heard, report.events
        for final in report.finals():
            assert 0 <= final["start"] < final["end"] <= report.audio_seconds + 0.5
        print(f"KOREAN CER {cer(script, ' '.join(heard)):.3f}")
        # The meeting's language is the stream's: detection and explanations read it there,
        # and of the glossary's terms (other tests put many English ones there) only Hangul
        # ones are hotwords: a Latin one must be a term this meeting itself showed.
        hotwords = await MeetingHosts(stack.config).hotwords(mid, 40)
        assert hotwords["language"] == "ko"
        async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=60) as http:
            shown = (await http.get(f"/meeting/{mid}/terms", params={"limit": 500})).json()
        own = {term["entity"] for term in shown["terms"]}
        latin = [w for w in hotwords["hotwords"] if not has_hangul(w)]
        assert set(latin) <= own, (latin, own)

        acronym = fresh_acronym()
        line = {"text": f"오늘 {acronym} 지표가 불안정합니다.", "is_final": True}
        async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=60) as http:
            assert (await http.post(f"/meeting/{mid}/stt", json=line)).status_code == 200
        events = await listener.wait_for(lambda ev: bool(local_terms(ev, acronym)), within=300)
    (term,) = local_terms(events, acronym)
    if not term.get("abstained"):
        # Explained in the meeting's language: the field's name is Korean.
        assert has_hangul(term["domain"]) and term["body"], term
