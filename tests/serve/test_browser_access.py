"""What a meeting page lets each link do, in a real browser on the real stack: a listener link
shows no microphone or stop control, and a forged click is refused by the server and said so;
an expired link says so plainly; a link opened before the meeting starts waits for its host; a
denied or missing microphone is explained."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page
from pydantic import SecretStr

from glossify.access.tokens import TokenSigner
from tests.credentials import SIGNING_SECRET
from tests.serve.browser import (
    ConsoleWatch,
    chromium,
    mint_link,
    new_context,
    open_page,
    speech_cut,
    wait_live,
)
from tests.serve.clients import AUTH, new_meeting_id

EXPIRED = "This link has expired — ask the host for a new one."
REFUSED_RESOURCE = r"Failed to load resource: the server responded with a status of {}"


@pytest.fixture(scope="module")
async def browser(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Browser]:
    """No automatic yes to the microphone here: a context without the permission is denied."""
    wav = speech_cut(tmp_path_factory.mktemp("audio") / "one-sentence.wav", 0.0, 4.0)
    async with chromium(wav, allow_without_asking=False) as launched:
        yield launched


@pytest.fixture
async def http(stack: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=30) as client:
        yield client


async def started_meeting(http: httpx.AsyncClient) -> str:
    mid = new_meeting_id("page-acl")
    assert (await http.post(f"/meeting/{mid}/start")).status_code == 200
    return mid


async def reveal(page: Page, element_id: str) -> None:
    """What a curious listener can do in the developer tools: show a hidden control."""
    await page.evaluate(f"document.getElementById('{element_id}').hidden = false")


async def test_a_listener_link_cannot_stop_the_meeting_or_speak(
    stack: Any, browser: Browser, http: httpx.AsyncClient
) -> None:
    mid = await started_meeting(http)
    console = ConsoleWatch()
    context = await new_context(browser)
    page = await context.new_page()
    console.watch(page, "listener")
    sockets: list[Any] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    await page.goto(await mint_link(stack.base_url, mid, "listener"))
    await wait_live(page)
    assert await page.is_hidden("#mic-panel")
    assert await page.is_hidden("#host-panel")
    assert await page.is_hidden("#meeting-stop") and await page.is_hidden("#mic-toggle")

    await reveal(page, "host-panel")
    console.allow(REFUSED_RESOURCE.format(403))
    async with page.expect_response(f"**/meeting/{mid}/stop") as answered:
        await page.click("#meeting-stop")
    assert (await answered.value).status == 403
    status = page.locator("#host-status")
    await status.filter(has_text="Your link does not allow you to stop the meeting.").wait_for()

    await reveal(page, "mic-panel")
    await page.click("#mic-toggle")
    await page.locator("#mic-status").filter(has_text="does not allow you to speak").wait_for()
    await page.locator("#mic-toggle").filter(has_text="Start microphone").wait_for()
    # One refusal, not a stream of them: the socket is not closed as abusive (20 errors).
    await page.wait_for_timeout(2500)
    assert await page.get_attribute("body", "data-connection") == "live"
    assert len(sockets) == 1

    assert (await http.get(f"/meeting/{mid}/stop/status")).json()["status"] == "idle"
    assert (await http.get(f"/meeting/{mid}/transcript")).json()["lines"] == []
    await context.close()
    console.assert_clean()


async def test_an_expired_link_says_so(
    stack: Any, browser: Browser, http: httpx.AsyncClient
) -> None:
    mid = await started_meeting(http)
    signer = TokenSigner([SecretStr(SIGNING_SECRET)])
    expired = signer.mint(mid, "speaker", "Late Larry", 60, now=time.time() - 3600).token
    console = ConsoleWatch()
    # The refused handshake and the REST call that learns why are errors by design.
    console.allow(r"WebSocket connection to .* failed")
    console.allow(REFUSED_RESOURCE.format(401))
    context = await new_context(browser)
    page = await open_page(context, f"{stack.base_url}/m/{mid}#token={expired}", console)
    # The handshake is refused (HTTP 403); the page learns why from a REST call (401 expired).
    await page.locator("#alert-banner").filter(has_text=EXPIRED).wait_for()
    assert await page.text_content("#connection-state") == "Link expired"
    assert await page.get_attribute("body", "data-connection") == "expired"
    await context.close()
    console.assert_clean()


async def test_a_link_that_expires_during_the_meeting_says_so(
    stack: Any, browser: Browser, http: httpx.AsyncClient
) -> None:
    mid = await started_meeting(http)
    signer = TokenSigner([SecretStr(SIGNING_SECRET)])
    short_lived = signer.mint(mid, "listener", "Brief Brenda", 3).token
    console = ConsoleWatch()
    context = await new_context(browser)
    page = await open_page(context, f"{stack.base_url}/m/{mid}#token={short_lived}", console)
    await wait_live(page)
    # The server closes the socket (4401) when the token's exp comes.
    await page.locator("#alert-banner").filter(has_text=EXPIRED).wait_for(timeout=30_000)
    assert await page.get_attribute("body", "data-connection") == "expired"
    await context.close()
    console.assert_clean()


async def test_a_link_opened_before_the_meeting_starts_waits_for_its_host(
    stack: Any, browser: Browser, http: httpx.AsyncClient
) -> None:
    mid = new_meeting_id("page-early")
    console = ConsoleWatch()
    context = await new_context(browser)
    page = await open_page(context, await mint_link(stack.base_url, mid, "listener"), console)
    await page.wait_for_selector("body[data-connection='waiting_for_host']", timeout=30_000)
    banner = await page.text_content("#connection-banner")
    assert banner is not None and "has not started yet" in banner
    assert (await http.post(f"/meeting/{mid}/start")).status_code == 200
    await wait_live(page)
    assert await page.text_content("#connection-banner") == ""
    await context.close()
    console.assert_clean()


async def test_a_denied_or_missing_microphone_is_explained(
    stack: Any, browser: Browser, http: httpx.AsyncClient
) -> None:
    mid = await started_meeting(http)
    link = await mint_link(stack.base_url, mid, "speaker")
    console = ConsoleWatch()
    denied = await browser.new_context()  # no microphone permission: the browser says no
    page = await open_page(denied, link, console, "denied")
    await wait_live(page)
    await page.click("#mic-toggle")
    await page.locator("#mic-status").filter(has_text="Microphone access was denied.").wait_for()
    await denied.close()
    async with chromium() as without_device:  # no fake device: no microphone at all
        context = await new_context(without_device)
        page = await open_page(context, link, console, "missing")
        await wait_live(page)
        await page.click("#mic-toggle")
        await page.locator("#mic-status").filter(has_text="No microphone was found.").wait_for()
        assert await page.text_content("#mic-toggle") == "Start microphone"
    console.assert_clean()
