"""The start page's flows, and every page checked by axe-core (no serious or critical
violation) in light and dark at a Teams side panel's width (320 px) and a laptop's (1280 px),
with screenshots in test-artifacts/screenshots/ for a person to review."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page

from tests.credentials import MINT_KEY, TEST_KEY
from tests.serve.browser import (
    WIDTHS,
    ConsoleWatch,
    chromium,
    mint_link,
    new_context,
    open_page,
    screenshots,
    wait_live,
)
from tests.serve.clients import AUTH, new_meeting_id, poll_until

LINES = [
    "Our Kubernetes cluster autoscaler keeps evicting pods, so the CPK dropped below 1.33.",
    "쿠버네티스 클러스터의 오토스케일러가 파드를 계속 축출해서 공정 능력 지수가 떨어졌습니다.",
    "Let's check the EBITDA bridge with finance before the quarterly business review.",
]
TERMS = [
    {"entity": "CPK", "domain": "Manufacturing", "body": "Process capability index."},
    {
        "entity": "쿠버네티스",
        "domain": "클라우드",
        "body": "컨테이너를 배포하고 관리하는 오픈소스 플랫폼.",
    },
    {"entity": "EBITDA bridge", "domain": "Finance", "body": "How EBITDA moved between periods."},
]
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
async def meeting_with_content(stack: Any) -> str:
    """A meeting with English and Korean captions and cards, for the page's checks."""
    mid = new_meeting_id("pages")
    async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=30) as http:
        assert (await http.post(f"/meeting/{mid}/start")).status_code == 200
        for text in LINES:
            line = {"text": text, "is_final": True, "speaker": "Grace"}
            assert (await http.post(f"/meeting/{mid}/stt", json=line)).status_code == 200
        assert (await http.post(f"/meeting/{mid}/terms", json=TERMS)).status_code == 200
    return mid


@pytest.fixture(scope="module")
async def glossary_with_content(stack: Any) -> AsyncIterator[None]:
    """The organisation glossary holds the same terms, from an earlier, stopped meeting,
    until the module ends (glossary terms bias later tests' speech recognition)."""
    mid = new_meeting_id("pages-seed")
    async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=30) as http:
        assert (await http.post(f"/meeting/{mid}/terms", json=TERMS)).status_code == 200
        assert (await http.post(f"/meeting/{mid}/stop")).status_code == 202
        await poll_until(
            lambda: http.get(f"/meeting/{mid}/stop/status"),
            lambda answer: answer.json()["status"] == "done",
        )
    yield
    conn = await asyncpg.connect(stack.database_url)
    try:
        for term in TERMS:
            await conn.execute(
                "DELETE FROM term WHERE term = $1 AND domain = $2 AND explanation = $3",
                term["entity"],
                term["domain"],
                term["body"],
            )
    finally:
        await conn.close()


async def test_the_start_page_makes_links_that_open_the_meeting(
    stack: Any, browser: Browser
) -> None:
    console = ConsoleWatch()
    context = await new_context(browser)
    page = await open_page(context, stack.base_url + "/", console, "start")
    await page.fill("#service-key", MINT_KEY)
    await page.fill("#host-name", "Hana")
    await page.click("#start-form button[type=submit]")
    await page.locator("#start-status").filter(has_text="Links ready").wait_for()
    meeting_id = await page.text_content("#minted-meeting")
    assert meeting_id and meeting_id.startswith("meeting-")
    listener_link = await page.input_value("#listener-link")
    speaker_link = await page.input_value("#speaker-link")
    for link in (listener_link, speaker_link):
        assert link.startswith(f"{stack.base_url}/m/{meeting_id}#token=")

    await page.click("#open-host")
    await wait_live(page)  # the host's socket creates the meeting
    assert await page.text_content("#identity") == "Hana · host"
    assert await page.is_visible("#host-panel") and await page.is_visible("#mic-panel")

    await page.goto(stack.base_url + "/")
    await page.fill("#join-link", "https://elsewhere.example/m/x#token=a.b.c")
    await page.click("#join-form button[type=submit]")
    await page.locator("#join-status").filter(has_text="not a meeting link").wait_for()
    await page.fill("#join-link", listener_link)
    await page.click("#join-form button[type=submit]")
    await wait_live(page)
    assert await page.text_content("#identity") == "Listener · listener"
    assert await page.is_hidden("#mic-panel") and await page.is_hidden("#host-panel")
    await context.close()
    console.assert_clean()


async def serious_violations(page: Page) -> list[str]:
    results = await Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


async def check_and_capture(page: Page, name: str) -> list[str]:
    """axe at each width, then the screenshots; returns the violations found."""
    found = []
    for width in WIDTHS.values():
        await page.set_viewport_size({"width": width, "height": 900})
        found += [f"{name} at {width}px: {v}" for v in await serious_violations(page)]
    await screenshots(page, name)
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_every_page_passes_axe_and_is_screenshotted(
    stack: Any,
    browser: Browser,
    meeting_with_content: str,
    glossary_with_content: None,
    scheme: str,
) -> None:
    console = ConsoleWatch()
    context = await new_context(browser, color_scheme=scheme)
    violations: list[str] = []

    start = await open_page(context, stack.base_url + "/", console, "start")
    await start.fill("#service-key", MINT_KEY)
    await start.click("#start-form button[type=submit]")
    await start.locator("#minted").wait_for()
    violations += await check_and_capture(start, f"start-{scheme}")

    mid = meeting_with_content
    link = await mint_link(stack.base_url, mid, "host", "Hana Host")
    meeting = await open_page(context, link, console, "meeting")
    await wait_live(meeting)
    await meeting.locator("#cards li").nth(len(TERMS) - 1).wait_for()
    await meeting.locator("#captions li").nth(len(LINES) - 1).wait_for()
    await meeting.click("details.share summary")
    violations += await check_and_capture(meeting, f"meeting-host-{scheme}")

    glossary = await open_page(context, stack.base_url + "/glossary", console, "glossary")
    await glossary.fill("#service-key", TEST_KEY)
    await glossary.click("#key-form button[type=submit]")
    await glossary.fill("#search-text", "쿠버네티스")
    await glossary.click("#search-form button[type=submit]")
    await glossary.locator("#results .result-term").filter(has_text="쿠버네티스").first.click()
    await glossary.locator("#explanations li").first.wait_for()
    violations += await check_and_capture(glossary, f"glossary-{scheme}")

    await context.close()
    assert violations == []
    console.assert_clean()


async def test_captions_follow_live_until_the_reader_scrolls_up(
    stack: Any, browser: Browser
) -> None:
    mid = new_meeting_id("follow")
    console = ConsoleWatch()
    context = await new_context(browser, width=320)
    async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=30) as http:
        assert (await http.post(f"/meeting/{mid}/start")).status_code == 200

        async def say_lines(first: int, count: int) -> None:
            for number in range(first, first + count):
                line = {
                    "text": f"This is line number {number} of a long meeting.",
                    "is_final": True,
                }
                assert (await http.post(f"/meeting/{mid}/stt", json=line)).status_code == 200

        await say_lines(1, 12)
        page = await open_page(context, await mint_link(stack.base_url, mid, "listener"), console)
        await wait_live(page)
        captions = page.locator("#captions li")
        await captions.nth(11).wait_for()
        scroller = page.locator("#caption-scroller")
        assert await scroller.evaluate("s => s.scrollHeight > s.clientHeight")
        assert await scroller.evaluate("s => s.scrollHeight - s.scrollTop - s.clientHeight < 2")
        assert await page.is_hidden("#jump-to-live")

        await scroller.evaluate("s => { s.scrollTop = 0; }")
        await page.locator("#jump-to-live").wait_for()
        await say_lines(13, 1)
        await captions.nth(12).wait_for()
        assert await scroller.evaluate("s => s.scrollTop") == 0  # the reader keeps their place
        await page.click("#jump-to-live")
        assert await scroller.evaluate("s => s.scrollHeight - s.scrollTop - s.clientHeight < 2")
        assert await page.is_hidden("#jump-to-live")
    await context.close()
    console.assert_clean()


async def test_a_degraded_service_shows_a_banner(
    stack: Any, browser: Browser, meeting_with_content: str
) -> None:
    console = ConsoleWatch()  # allows a 503 from /health: the page shows it, as tested here
    context = await new_context(browser)
    degraded = {"status": "degraded", "explainer": {"state": "degraded"}, "store": {"state": "ok"}}
    # Only /health is stood in for: what a page sees when the explainer is slow.
    await context.route("**/health", lambda route: route.fulfill(status=503, json=degraded))
    link = await mint_link(stack.base_url, meeting_with_content, "listener")
    page = await open_page(context, link, console)
    banner = page.locator("#health-banner")
    await banner.filter(has_text="The service is degraded (explanations degraded)").wait_for()
    await wait_live(page)
    await context.close()
    console.assert_clean()
