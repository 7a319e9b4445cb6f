"""The organisation glossary page in a real browser on the real stack: search by text and
domain with a "More results" page, a term's explanations per domain, a correction that the
next meeting shows for that term, a deletion, and a key that may not write being refused."""

from __future__ import annotations

import random
import string
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from glossify.terms.candidates import term_id
from tests.credentials import READ_KEY, TEST_KEY
from tests.serve.browser import ConsoleWatch, chromium, mint_link, new_context, open_page
from tests.serve.clients import AUTH, new_meeting_id, poll_until

PAGE_SIZE = 25  # glossary.js asks for pages of this size
FILLERS = PAGE_SIZE + 2
# A term of the packaged reference glossary (manufacturing) and a line that says it.
REFERENCE_TERM = "poka-yoke"
REFERENCE_LINE = "That station needs poka-yoke before the next run."


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
async def seeded(stack: Any) -> AsyncIterator[dict[str, str]]:
    """An earlier meeting whose glossary (one acronym nobody else uses, and fillers enough for
    a second page) went into the organisation glossary at stop. The rows go afterwards: the
    glossary's terms bias speech recognition (hotwords), and made-up ones would be heard in
    later tests' audio."""
    acronym = "ZQ" + "".join(random.choices(string.ascii_uppercase, k=4))
    terms = [{"entity": acronym, "domain": "Quality", "body": "A made-up quality ratio."}]
    terms += [
        {"entity": f"{acronym} filler {i:02d}", "domain": "Testing", "body": f"Filler {i}."}
        for i in range(FILLERS)
    ]
    mid = new_meeting_id("seed")
    async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=30) as http:
        assert (await http.post(f"/meeting/{mid}/terms", json=terms)).status_code == 200
        assert (await http.post(f"/meeting/{mid}/stop")).status_code == 202
        await poll_until(
            lambda: http.get(f"/meeting/{mid}/stop/status"),
            lambda answer: answer.json()["status"] == "done",
        )
    yield {"acronym": acronym}
    conn = await asyncpg.connect(stack.database_url)
    try:
        await conn.execute(
            "DELETE FROM term WHERE term = $1 OR term LIKE $2", acronym, f"{acronym} filler %"
        )
    finally:
        await conn.close()


async def glossary_page(stack: Any, browser: Browser, console: ConsoleWatch, key: str) -> Page:
    context = await new_context(browser)
    page = await open_page(context, f"{stack.base_url}/glossary", console, "glossary")
    await page.fill("#service-key", key)
    await page.click("#key-form button[type=submit]")
    await page.locator("#key-status").filter(has_text="Key in use").wait_for()
    return page


async def search(page: Page, text: str, domain: str = "") -> None:
    await page.fill("#search-text", text)
    await page.select_option("#search-domain", domain)
    await page.click("#search-form button[type=submit]")
    await page.locator("#search-status").filter(has_text="shown").wait_for()


async def result_terms(page: Page) -> list[str]:
    terms: list[str] = await page.eval_on_selector_all(
        "#results .result-term", "nodes => nodes.map(n => n.textContent)"
    )
    return terms


async def stored_explanations(stack: Any, term: str) -> dict[str, str]:
    conn = await asyncpg.connect(stack.database_url)
    try:
        rows = await conn.fetch("SELECT domain, explanation FROM term WHERE term = $1", term)
    finally:
        await conn.close()
    return {r["domain"]: r["explanation"] for r in rows}


async def test_search_pages_and_filters_by_domain(
    stack: Any, browser: Browser, seeded: dict[str, str]
) -> None:
    console = ConsoleWatch()
    page = await glossary_page(stack, browser, console, TEST_KEY)
    acronym = seeded["acronym"]
    await search(page, acronym)
    assert len(await result_terms(page)) == PAGE_SIZE
    await page.click("#more-results")
    await expect(page.locator("#results li")).to_have_count(FILLERS + 1)
    assert await page.is_hidden("#more-results")
    assert sorted(await result_terms(page)) == sorted(
        [acronym] + [f"{acronym} filler {i:02d}" for i in range(FILLERS)]
    )
    await search(page, acronym, "Quality")
    assert await result_terms(page) == [acronym]
    await page.context.close()
    console.assert_clean()


async def test_a_correction_is_what_the_next_meeting_shows(
    stack: Any, browser: Browser, seeded: dict[str, str]
) -> None:
    console = ConsoleWatch()
    page = await glossary_page(stack, browser, console, TEST_KEY)
    acronym = seeded["acronym"]
    await search(page, acronym, "Quality")
    await page.click(f"#results .result-term:text-is('{acronym}')")
    entry = page.locator("#explanations li[data-domain='Quality']")
    await entry.locator(".explanation-text").filter(has_text="A made-up quality ratio.").wait_for()
    corrected = f"The {acronym} ratio: good parts over all parts, checked before every release."
    await entry.get_by_role("button", name="Correct").click()
    await entry.get_by_label("Explanation in Quality").fill(corrected)
    await entry.get_by_role("button", name="Save").click()
    await page.locator("#detail-status").filter(has_text="Saved.").wait_for()
    assert await stored_explanations(stack, acronym) == {"Quality": corrected}
    # The result row shows the correction too.
    assert await page.text_content("#results li .result-text") == corrected

    # A term of the packaged reference glossary, which no earlier meeting may have saved.
    connection = await asyncpg.connect(stack.database_url)
    try:
        await connection.execute("DELETE FROM term WHERE termid = $1", term_id(REFERENCE_TERM))
    finally:
        await connection.close()
    mid = new_meeting_id("after-fix")
    async with httpx.AsyncClient(base_url=stack.base_url, headers=AUTH, timeout=30) as http:
        assert (await http.post(f"/meeting/{mid}/start")).status_code == 200
        listener = await open_page(
            page.context, await mint_link(stack.base_url, mid, "listener"), console, "meeting"
        )
        await listener.wait_for_selector("body[data-connection='live']")
        for text in (f"Please check the {acronym} before shipping.", REFERENCE_LINE):
            line = {"text": text, "is_final": True}
            assert (await http.post(f"/meeting/{mid}/stt", json=line)).status_code == 200
    card = listener.locator("#cards li").filter(has_text=acronym)
    await card.wait_for(timeout=60_000)
    assert await card.locator(".card-body").text_content() == corrected
    assert await card.locator(".card-source").text_content() == "Organisation glossary"
    reference = listener.locator("#cards li").filter(has_text=REFERENCE_TERM)
    await reference.wait_for(timeout=60_000)
    assert await reference.locator(".card-source").text_content() == "Reference glossary"
    assert "mistake" in (await reference.locator(".card-body").text_content() or "").lower()
    await page.context.close()
    console.assert_clean()


async def test_a_deletion_and_a_key_that_may_not_write(
    stack: Any, browser: Browser, seeded: dict[str, str]
) -> None:
    console = ConsoleWatch()
    acronym = seeded["acronym"]
    victim = f"{acronym} filler 00"
    reader = await glossary_page(stack, browser, console, READ_KEY)
    await search(reader, victim)
    await reader.click(f"#results .result-term:text-is('{victim}')")
    entry = reader.locator("#explanations li[data-domain='Testing']")
    console.allow(r"Failed to load resource: the server responded with a status of 403")
    await entry.get_by_role("button", name="Delete").click()
    await entry.get_by_role("button", name="Press again to delete").click()
    status = reader.locator("#detail-status")
    await status.filter(has_text="This key is not allowed to change the glossary.").wait_for()
    assert await stored_explanations(stack, victim) == {"Testing": "Filler 0."}
    await reader.context.close()

    writer = await glossary_page(stack, browser, console, TEST_KEY)
    await search(writer, victim)
    await writer.click(f"#results .result-term:text-is('{victim}')")
    entry = writer.locator("#explanations li[data-domain='Testing']")
    await entry.get_by_role("button", name="Delete").click()
    await entry.get_by_role("button", name="Press again to delete").click()
    await writer.locator("#detail-status").filter(has_text="Deleted").wait_for()
    assert await writer.locator("#results li").count() == 0
    assert await stored_explanations(stack, victim) == {}
    await writer.context.close()
    console.assert_clean()
