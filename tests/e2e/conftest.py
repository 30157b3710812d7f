"""The browser the UI tests drive: Debian's chromium through Playwright.

Without chromium the browser tests are skipped with a message, unless LIEUX_REQUIRE_BROWSER is set (as in
CI), where a missing browser fails.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
PASSWORD = "motdepasse-solide"  # the factories' password
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 15_000


@pytest.fixture
def chromium(monkeypatch):
    if not os.path.exists(CHROMIUM):
        message = f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("LIEUX_REQUIRE_BROWSER"):
            pytest.fail(f"{message}, and LIEUX_REQUIRE_BROWSER asks for the browser tests to run.")
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the ORM calls the live server and the
    # fixtures make from it are synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def shoot(page, name: str) -> Path:
    """A full-page screenshot in test-artifacts/screenshots/, for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
