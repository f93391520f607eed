"""The console in a real browser (Debian's Chromium driven by Playwright) against the system
running as processes: sign in, create everything, chat with tokens streaming in, see the score
arrive, read the report. `CONSOLE_SCREENSHOT=docs/console.png` refreshes the kept screenshot
(otherwise it goes to the test's temporary directory, so a test run changes no tracked file)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from e2e_support import system_env
from interview_localinfra.system import ServiceGroup
from support import token

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]
CHROMIUM = shutil.which("chromium")
ANSWER = (
    "A mutex is a lock that gives mutual exclusion: only one thread at a time may enter the"
    " critical section it protects."
)


@pytest.fixture(scope="module")
async def gateway(kafka_bootstrap: str) -> AsyncIterator[str]:
    env = system_env(
        kafka_bootstrap,
        {"CONSUMER_GROUP_PREFIX": f"e2e-console-{uuid.uuid4().hex[:8]}"},
        drop=("INTERVIEWER_",),
    )
    async with ServiceGroup(env):
        yield f"http://127.0.0.1:{env['PORT']}"


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
async def test_the_console_runs_an_interview_in_chromium(gateway: str, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        requests: list[dict[str, str]] = []
        page.on("request", lambda r: requests.append(r.headers) if "/api/v1/" in r.url else None)
        await page.goto(f"{gateway}/console/")  # the page itself is open: it holds no data
        signed_in = token("interviewer")
        await page.fill("#token", signed_in)
        await page.click("#sign-in")
        await page.fill("#cand-email", f"ada-{uuid.uuid4().hex}@example.com")
        await page.click("#create-candidate")
        await expect(page.locator("#ids")).to_contain_text("candidate")
        await page.click("#create-question")
        await expect(page.locator("#ids")).to_contain_text("questions 1")
        await page.click("#create-interview")
        await expect(page.locator("#ids")).to_contain_text("interview")
        await page.click("#start-chat")
        await expect(page.locator("#ids")).to_contain_text("session")

        await page.fill("#message", "Hello, I am ready.")
        await page.click("#send")
        await expect(page.locator("#chat")).to_contain_text("Question 1 of 1: What is a mutex?")
        await page.fill("#message", ANSWER)
        await page.click("#send")
        await expect(page.locator("#chat")).to_contain_text("That was the last question.")
        await expect(page.locator("#scores .score")).to_have_count(1, timeout=30_000)
        await expect(page.locator("#status")).to_contain_text("report is ready", timeout=30_000)
        await page.click("#report")
        await expect(page.locator("#report-body")).to_contain_text("Overall:")
        await expect(page.locator("#report-body")).to_contain_text("concurrency")
        shot = os.environ.get("CONSOLE_SCREENSHOT") or str(tmp_path / "console.png")
        await page.screenshot(path=shot, full_page=True)
        await browser.close()

    assert requests
    assert all(h.get("authorization") == f"Bearer {signed_in}" for h in requests)
