"""`glossify demo`: a sample jargon meeting streamed live, its glossary, then the upsert."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import httpx

from glossify.cli.stream_client import CaptionPrinter, StreamReport, stream_file
from glossify.web.export import explained

STOP_WAIT_S = 300.0


def sample_meeting() -> Path:
    return Path(str(resources.files("glossify") / "assets" / "sample-meeting.wav"))


async def run_demo_meeting(
    base_url: str,
    credential: str,
    file: Path | None = None,
    *,
    fast: bool = False,
    out: TextIO | None = None,
) -> None:
    """``credential``: a service key that may host meetings and mint tokens; ``out``: where
    the demo prints (standard output unless told)."""
    meeting_id = f"demo-{int(time.time())}"
    path = file or sample_meeting()
    headers = {"Authorization": f"Bearer {credential}"}
    stream = out or sys.stdout
    printer = CaptionPrinter(stream)

    def say(text: str = "") -> None:
        stream.write(text + "\n")
        stream.flush()

    upserted = asyncio.Event()

    def show(event: dict[str, Any]) -> None:
        printer(event)
        if event.get("type") in ("upsert_done", "upsert_error"):
            upserted.set()

    async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=headers) as client:
        (await client.post(f"/meeting/{meeting_id}/start")).raise_for_status()
        minted = await client.post(f"/meeting/{meeting_id}/tokens", json={"role": "listener"})
        say(f"Meeting {meeting_id}: streaming {path.name} in {'fast' if fast else 'real'} time")
        say(f"(watch it live: {base_url}{minted.json()['url']})\n")

        async def stop_and_watch(_: StreamReport) -> None:
            say("\nStopping the meeting: explanations still in progress arrive first...")
            await client.post(f"/meeting/{meeting_id}/stop")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(upserted.wait(), STOP_WAIT_S)

        report = await stream_file(
            base_url,
            meeting_id,
            path,
            fast=fast,
            on_event=show,
            after_audio=stop_and_watch,
            credential=credential,
        )
        status = (await client.get(f"/meeting/{meeting_id}/stop/status")).json()
        shown = (await client.get(f"/meeting/{meeting_id}/terms")).json()["terms"]
    # Terms the explainer abstained on were shown as such, but are no glossary entries.
    glossary = explained(shown)
    unsure = len(shown) - len(glossary)
    without = f"; {unsure} without a confident explanation" if unsure else ""
    say(f"\nGlossary of {meeting_id} ({len(glossary)} terms{without}):")
    for term in glossary:
        say(f"  {term['entity']:<28} {term['domain']:<14} {term['body']}")
    if status["status"] == "done":
        say(f"\nUpserted {status['upserted']} rows into the PostgreSQL table `term`.")
    else:
        say(f"\nThe upsert did not finish: {status}")
    say(f"{len(report.finals())} lines from {report.audio_seconds:.0f} s of audio.")
