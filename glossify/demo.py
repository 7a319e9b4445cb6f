"""`glossify demo`: a sample jargon meeting streamed live, its glossary, then the upsert."""

from __future__ import annotations

import asyncio
import time
from importlib import resources
from pathlib import Path

import httpx

from glossify.stream_client import CaptionPrinter, stream_file

STOP_WAIT_S = 300.0


def sample_meeting() -> Path:
    return Path(str(resources.files("glossify") / "assets" / "sample-meeting.wav"))


async def run_demo_meeting(base_url: str, file: Path | None = None, *, fast: bool = False) -> None:
    meeting_id = f"demo-{int(time.time())}"
    path = file or sample_meeting()
    print(f"Meeting {meeting_id}: streaming {path.name} in {'fast' if fast else 'real'} time")
    print(f"(listen too: {base_url.replace('http', 'ws')}/meeting/{meeting_id}/ws)\n")
    report = await stream_file(base_url, meeting_id, path, fast=fast, on_event=CaptionPrinter())
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        print("\nStopping the meeting: the explanations still in progress finish first...")
        await client.post(f"/meeting/{meeting_id}/stop")
        status = await _wait_for_stop(client, meeting_id)
        glossary = (await client.get(f"/meeting/{meeting_id}/terms")).json()["terms"]
    print(f"\nGlossary of {meeting_id} ({len(glossary)} terms):")
    for term in glossary:
        print(f"  {term['entity']:<28} {term['domain']:<14} {term['body']}")
    if status["status"] == "done":
        print(f"\nUpserted {status['upserted']} rows into the PostgreSQL table `term`.")
    else:
        print(f"\nThe upsert failed: {status['error']}")
    print(f"{len(report.finals())} lines from {report.audio_seconds:.0f} s of audio.")


async def _wait_for_stop(client: httpx.AsyncClient, meeting_id: str) -> dict:
    deadline = time.monotonic() + STOP_WAIT_S
    while True:
        status = (await client.get(f"/meeting/{meeting_id}/stop/status")).json()
        if status["status"] in ("done", "error") or time.monotonic() > deadline:
            return status
        await asyncio.sleep(0.5)
