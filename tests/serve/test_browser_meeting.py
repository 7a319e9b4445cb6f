"""A meeting in real browsers on the real stack: a speaker page whose microphone plays two
sentences of the sample meeting, a listener page, a second listener and the speaker cut off
mid-meeting by a TCP proxy that resets their connections, and a host page that stops the
meeting; then the glossary in PostgreSQL and the export downloads.

One meeting serves every test of the module (the audio plays in real time: about 18 s)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, Page

from bench.faults.tcp_proxy import CuttableProxy
from tests.serve.browser import (
    ConsoleWatch,
    chromium,
    mint_link,
    new_context,
    screenshots,
    seqs,
    speech_cut,
    wait_live,
)
from tests.serve.clients import AUTH, new_meeting_id

# "Our Kubernetes cluster autoscaler keeps evicting pods, so the CPK of the line dropped below
# one point three three. Let's check the EBITDA impact with finance before the quarterly
# business review."
SPEECH_S = (0.0, 15.6)
LEAD_S, TAIL_S = 0.5, 1.5
# What the host page says when a stop has ended, well or not.
STOP_OUTCOME = re.compile(r"was saved|failed|Could not|not allow")


@dataclass
class SpokenMeeting:
    meeting_id: str
    pages: dict[str, Page]
    console: ConsoleWatch
    sockets_opened: dict[str, int]
    transcript: list[dict[str, Any]]
    terms: list[dict[str, Any]]


@pytest.fixture(scope="module")
async def browser(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Browser]:
    wav = speech_cut(tmp_path_factory.mktemp("audio") / "two-sentences.wav", *SPEECH_S)
    async with chromium(wav) as launched:
        yield launched


async def meeting_reads(base_url: str, meeting_id: str) -> tuple[list[Any], list[Any]]:
    async with httpx.AsyncClient(base_url=base_url, headers=AUTH, timeout=30) as http:
        lines = (await http.get(f"/meeting/{meeting_id}/transcript")).json()["lines"]
        terms = (await http.get(f"/meeting/{meeting_id}/terms")).json()["terms"]
    return lines, terms


def count_sockets(page: Page, counts: dict[str, int], name: str) -> None:
    counts[name] = 0

    def opened(_: Any) -> None:
        counts[name] += 1

    page.on("websocket", opened)


async def reconnected(page: Page, sockets: dict[str, int], name: str) -> None:
    """Until the page has opened a second socket and that one is live."""
    deadline = time.monotonic() + 30
    while sockets[name] < 2:
        assert time.monotonic() < deadline, f"{name} did not reconnect"
        await asyncio.sleep(0.1)
    await wait_live(page)


@pytest.fixture(scope="module")
async def spoken_meeting(stack: Any, browser: Browser) -> AsyncIterator[SpokenMeeting]:
    mid = new_meeting_id("browser")
    console = ConsoleWatch()
    sockets: dict[str, int] = {}
    pages: dict[str, Page] = {}
    port = urlsplit(stack.base_url).port
    assert port is not None
    async with CuttableProxy(port) as proxy:
        through_proxy = f"http://127.0.0.1:{proxy.port}"
        roles = {
            "host": ("host", "Hana Host", stack.base_url),
            "listener": ("listener", "Lee Listener", stack.base_url),
            "speaker": ("speaker", "Sam Speaker", through_proxy),
            "cut listener": ("listener", "Kim Cut", through_proxy),
        }
        for name, (role, subject, base) in roles.items():
            link = await mint_link(stack.base_url, mid, role, subject)
            context = await new_context(browser)
            page = await context.new_page()
            console.watch(page, name)
            count_sockets(page, sockets, name)
            await page.goto(link.replace(stack.base_url, base))
            await wait_live(page)  # the host's socket creates the meeting
            pages[name] = page
        speaker = pages["speaker"]
        await speaker.click("#mic-toggle")
        started = time.monotonic()
        # The first sentence is final about 9 s in; the cut lands in the second one.
        await speaker.wait_for_selector("#captions li", timeout=30_000)
        proxy.cut()
        for name in ("speaker", "cut listener"):
            await reconnected(pages[name], sockets, name)
        audio_s = LEAD_S + SPEECH_S[1] - SPEECH_S[0] + TAIL_S
        await speaker.wait_for_timeout(max(0.0, audio_s - (time.monotonic() - started)) * 1000)
        await speaker.click("#mic-toggle")
        await speaker.wait_for_selector("#mic-status:text-is('Microphone off.')", timeout=60_000)
        host = pages["host"]
        await host.click("#meeting-stop")
        outcome = host.locator("#host-status").filter(has_text=STOP_OUTCOME)
        await outcome.wait_for(timeout=120_000)
        assert "glossary was saved" in (await outcome.text_content() or "")
        for page in pages.values():
            await page.wait_for_selector("#meeting-status:has-text('ended')", timeout=30_000)
        transcript, terms = await meeting_reads(stack.base_url, mid)
        yield SpokenMeeting(mid, pages, console, sockets, transcript, terms)
    for page in pages.values():
        await page.context.close()


async def caption_texts(page: Page) -> list[str]:
    texts: list[str] = await page.eval_on_selector_all(
        "#captions li .caption-text", "nodes => nodes.map(n => n.textContent)"
    )
    return texts


async def test_every_page_shows_the_same_captions_and_cards_in_the_same_order(
    spoken_meeting: SpokenMeeting,
) -> None:
    meeting = spoken_meeting
    line_seqs = [line["seq"] for line in meeting.transcript]
    term_seqs = [term["seq"] for term in meeting.terms]
    assert len(line_seqs) >= 2, meeting.transcript
    assert len(term_seqs) >= 3, meeting.terms
    words = " ".join(line["text"] for line in meeting.transcript).lower()
    heard = [w for w in ("autoscaler", "pods", "ebitda", "quarterly", "finance") if w in words]
    assert len(heard) >= 3, words  # the microphone's audio, recognised
    for name, page in meeting.pages.items():
        assert await seqs(page, "#captions li") == line_seqs, name
        assert await caption_texts(page) == [line["text"] for line in meeting.transcript], name
        # Cards are newest first.
        assert await seqs(page, "#cards li") == term_seqs[::-1], name
        assert await page.eval_on_selector_all("#partials > *", "nodes => nodes.length") == 0
    speaker = meeting.pages["speaker"]
    terms_on_page = await speaker.eval_on_selector_all(
        "#cards .card-term", "nodes => nodes.map(n => n.textContent)"
    )
    assert terms_on_page == [term["entity"] for term in meeting.terms][::-1]
    # A known term in a caption is a button that brings its card into view.
    first_term = speaker.locator("#captions button.term-link").first
    term = await first_term.text_content()
    await first_term.click()
    shown = speaker.locator("#cards li:focus .card-term")
    assert (await shown.text_content() or "").lower() == (term or "").lower()
    await screenshots(speaker, "meeting-speaker-after-speech")
    meeting.console.assert_clean()


async def test_the_glossary_reaches_postgresql_after_stop_from_the_host_page(
    stack: Any, spoken_meeting: SpokenMeeting
) -> None:
    meeting = spoken_meeting
    # Terms the explainer abstained on are shown in the meeting but never saved.
    latest = {
        (t["termid"], t["domain"]): t["body"] for t in meeting.terms if not t.get("abstained")
    }
    abstained = [(t["termid"], t["domain"]) for t in meeting.terms if t.get("abstained")]
    conn = await asyncpg.connect(stack.database_url)
    try:
        rows = await conn.fetch(
            "SELECT termid::text, domain, explanation FROM term WHERE termid = ANY($1::uuid[])",
            [termid for termid, _ in [*latest, *abstained]],
        )
    finally:
        await conn.close()
    stored = {(r["termid"], r["domain"]): r["explanation"] for r in rows}
    assert {key: stored.get(key) for key in latest} == latest
    assert not [key for key in abstained if key in stored]
    status = await meeting.pages["host"].text_content("#host-status")
    assert status == f"Meeting stopped. The glossary was saved ({len(latest)} terms)."


async def test_a_cut_connection_comes_back_and_misses_nothing(
    spoken_meeting: SpokenMeeting,
) -> None:
    meeting = spoken_meeting
    line_seqs = [line["seq"] for line in meeting.transcript]
    term_seqs = [term["seq"] for term in meeting.terms]
    for name in ("speaker", "cut listener"):
        page = meeting.pages[name]
        assert meeting.sockets_opened[name] >= 2, name
        # Exactly once: the page's lines and cards are the meeting's, no gap and no repeat.
        assert await seqs(page, "#captions li") == line_seqs, name
        assert await seqs(page, "#cards li") == term_seqs[::-1], name
    assert meeting.sockets_opened["listener"] == 1
    mic_status = await meeting.pages["speaker"].text_content("#mic-status")
    assert "lost" not in (mic_status or ""), mic_status
    meeting.console.assert_clean()


def exported_terms(kind: str, text: str) -> list[tuple[str, str, str]]:
    if kind == "csv":
        rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
        assert rows[0][:3] == ["term", "domain", "explanation"]
        return [(row[0], row[1], row[2]) for row in rows[1:]]
    if kind == "md":
        table = [line for line in text.splitlines() if line.startswith("| ")][1:]
        cells = [[c.strip() for c in line.strip("|").split(" | ")] for line in table]
        return [(c[0], c[1], c[2]) for c in cells]
    return [(t["entity"], t["domain"], t["body"]) for t in json.loads(text)["terms"]]


async def test_export_downloads_the_meetings_terms(spoken_meeting: SpokenMeeting) -> None:
    meeting = spoken_meeting
    page = meeting.pages["listener"]
    # A term the explainer abstained on has no explanation to export.
    explained = [t for t in meeting.terms if not t.get("abstained")]
    expected = [(t["entity"], t["domain"], t["body"]) for t in explained]
    await page.click("details.share summary")
    for kind in ("csv", "md", "json"):
        async with page.expect_download() as started:
            await page.click(f"button.export[data-format='{kind}']")
        download = await started.value
        assert download.suggested_filename == f"{meeting.meeting_id}-glossary.{kind}"
        text = (await download.path()).read_text(encoding="utf-8")
        assert exported_terms(kind, text) == expected, kind
    await page.wait_for_selector("#export-status:has-text('Downloaded')")
    meeting.console.assert_clean()
