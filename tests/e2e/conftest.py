"""A real Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live server."""

import os
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the
# tests themselves are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, live_server, transactional_db):
    """Opens pages of the live server; fails the test on any console error (CSP, 404 ...)."""
    contexts, errors = [], []

    def open_(*, width=1280, height=800, locale="en-US", timezone="UTC"):
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": height},
            locale=locale,
            timezone_id=timezone,
        )
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        return page

    yield open_
    for context in contexts:
        context.close()
    wait_for_requests(live_server)
    assert errors == [], f"the browser console reported errors: {errors}"


def wait_for_requests(live_server, timeout: float = 15) -> None:
    """Lets the live server finish the requests a closed page left (a poll, a form just
    sent): the database is emptied after the test, and a request still running then
    either blocks that (PostgreSQL's TRUNCATE waits on its locks, or deadlocks) or
    writes a row into the next test's empty database."""
    handler = live_server.thread.httpd.process_request_thread
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if getattr(thread, "_target", None) == handler:
            thread.join(max(0, deadline - time.monotonic()))


def screenshot(page, name: str) -> None:
    """Saves a screenshot to look at (screenshots/ is not committed)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
