"""Real-browser helpers for tests/serve/test_browser_*.py: Debian's chromium driven headless by
Playwright, a fake microphone playing a WAV file, a watch on each page's console, meeting links,
and screenshots for review.

Measured facts behind the choices: /work/shared/notes/browser-testing.md.
"""

from __future__ import annotations

import re
import shutil
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright

from tests.credentials import MINT_KEY
from tests.paths import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
SAMPLE_MEETING = REPO_ROOT / "glossify" / "assets" / "sample-meeting.wav"
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
WIDTHS = {"side-panel": 320, "laptop": 1280}

# Chromium's own background traffic stays off: the tests' network is the stack alone.
QUIET = [
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def fake_microphone_args(wav: Path, *, allow_without_asking: bool = True) -> list[str]:
    """Chromium reads the microphone from ``wav`` once (``%noloop``), from getUserMedia on.
    Without ``allow_without_asking`` only contexts granted the permission may use it."""
    args = [
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav.resolve()}%noloop",
    ]
    return ["--use-fake-ui-for-media-stream", *args] if allow_without_asking else args


def speech_cut(
    out: Path, start_s: float, end_s: float, lead_s: float = 0.5, tail_s: float = 1.5
) -> Path:
    """``start_s..end_s`` of the sample meeting as 16-bit mono PCM, with silence around it:
    lead silence covers the moment the page builds its audio graph, and trailing silence is
    needed because after the file's end Chromium repeats its last 10 ms forever."""
    with wave.open(str(SAMPLE_MEETING)) as source:
        assert (source.getnchannels(), source.getsampwidth()) == (1, 2), "expects 16-bit mono"
        rate = source.getframerate()
        samples = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2")
    speech = samples[int(start_s * rate) : int(end_s * rate)]
    silence = [np.zeros(int(seconds * rate), dtype="<i2") for seconds in (lead_s, tail_s)]
    with wave.open(str(out), "wb") as cut:
        cut.setnchannels(1)
        cut.setsampwidth(2)
        cut.setframerate(rate)
        cut.writeframes(np.concatenate([silence[0], speech, silence[1]]).tobytes())
    return out


def require_chromium() -> None:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's chromium. Install it with "
            "`apt-get install -y --no-install-recommends chromium fonts-noto-cjk` "
            "(scripts/test.sh does when run as root)."
        )


@asynccontextmanager
async def chromium(
    microphone_wav: Path | None = None, *, allow_without_asking: bool = True
) -> AsyncIterator[Browser]:
    """One headless chromium; with ``microphone_wav`` its microphone plays that file, else
    it has no microphone at all."""
    require_chromium()
    args = list(QUIET)
    if microphone_wav is not None:
        args += fake_microphone_args(microphone_wav, allow_without_asking=allow_without_asking)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=args
        )
        try:
            yield browser
        finally:
            await browser.close()


# Chromium logs every non-2xx fetch as a console error. A 503 from /health is the service
# saying it is degraded, which the page shows in a banner; a busy test machine can make the
# stack say so for a moment, so it is no failure of the page.
DEGRADED_HEALTH = r"status of 503 .*\[[^\]]*/health\]$"


@dataclass
class ConsoleWatch:
    """Every console error and uncaught exception of the pages it watches. A test that
    provokes an error on purpose (a refused request, a dropped connection) names it with
    ``allow``; anything else fails ``assert_clean``. Each console error ends with the URL it
    is about, in brackets."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=lambda: [re.compile(DEGRADED_HEALTH)])

    def watch(self, page: Page, name: str) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                where = message.location.get("url", "")
                self.errors.append(f"{name}: console: {message.text} [{where}]")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(f"{name}: uncaught: {error}"))

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]

    def assert_clean(self) -> None:
        assert self.unexpected() == [], "\n".join(self.unexpected())


async def open_page(
    context: BrowserContext, url: str, console: ConsoleWatch, name: str | None = None
) -> Page:
    page = await context.new_page()
    console.watch(page, name or url)
    await page.goto(url)
    return page


async def new_context(browser: Browser, width: int = 1280, **options: Any) -> BrowserContext:
    return await browser.new_context(
        viewport={"width": width, "height": 900},
        permissions=["microphone"],
        **options,
    )


async def mint_link(base_url: str, meeting_id: str, role: str, subject: str = "Tester") -> str:
    """A meeting page's join link for ``role``, minted as the start page does."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        answer = await http.post(
            f"/meeting/{meeting_id}/tokens",
            json={"role": role, "subject": subject},
            headers={"Authorization": f"Bearer {MINT_KEY}"},
        )
    assert answer.status_code == 200, answer.text
    return base_url + str(answer.json()["url"])


async def wait_live(page: Page, timeout_s: float = 30) -> None:
    """Until the page's socket has its ``ready`` (the body's data-connection says so)."""
    await page.wait_for_selector("body[data-connection='live']", timeout=timeout_s * 1000)


async def seqs(page: Page, selector: str) -> list[int]:
    """The data-seq of every element ``selector`` matches, in document order."""
    found = await page.eval_on_selector_all(selector, "nodes => nodes.map(n => n.dataset.seq)")
    return [int(seq) for seq in found]


async def screenshots(page: Page, name: str) -> list[Path]:
    """Full-page screenshots of ``page`` at a Teams side panel's width and a laptop's, in
    test-artifacts/screenshots/ for a person to review."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    written = []
    for label, width in WIDTHS.items():
        await page.set_viewport_size({"width": width, "height": 900})
        path = SCREENSHOTS / f"{name}-{width}px-{label}.png"
        await page.screenshot(path=str(path), full_page=True)
        written.append(path)
    return written
