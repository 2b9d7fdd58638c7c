"""The demo bank page in headless Chromium (Debian's, driven by Playwright): the personalised
block is generic, then a mortgage page view in the same session brings the mortgage calculator."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.serving.conftest import API_KEY, Server
from tests.serving.test_decision_api import _mortgage_candidate

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_demo_page_shows_the_mortgage_calculator_after_a_mortgage_page_view(
    server: Server,
) -> None:
    assert CHROMIUM, "Debian's chromium is needed (.ci/run installs it)"
    _, device = _mortgage_candidate(server.paths)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{server.url}/demo/#key={API_KEY}&device={device}")
            block = page.locator("#personalised")
            expect(block).to_have_attribute("data-state", "generic", timeout=15_000)
            expect(page.locator("#tool")).to_have_count(0)
            page.click("#nav-mortgages")  # the session the candidate was chosen on
            expect(block).to_have_attribute("data-decisions", "2", timeout=5_000)
            page.click("#nav-calculator")
            expect(block).to_have_attribute("data-offer", "mortgage_rates", timeout=5_000)
            expect(page.locator("#tool")).to_have_text("Open the mortgage calculator")
            assert "decision API answered" not in page.locator("#status").inner_text()
        finally:
            browser.close()
