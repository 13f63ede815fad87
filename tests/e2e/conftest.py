"""Browser tests: Playwright driving Debian's Chromium, headless, against the live server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from kejiyun.regions.services import regions_load, service_centres_ensure
from tests.e2e.browsing import OPEN_CONTEXTS

# Playwright's sync API runs an event loop in this thread; the ORM calls that tests make
# between browser steps are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def _close_tabs() -> Iterator[None]:
    """Close the tabs `tests.e2e.browsing.signed_in` opened, before the live server stops."""
    yield
    while OPEN_CONTEXTS:
        OPEN_CONTEXTS.pop().close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian chromium is not installed; `make test` installs it (make chromium)")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser, live_server: object, transactional_db: None) -> Iterator[Page]:
    # A transactional test starts from an empty database; put the regions back.
    regions_load()
    service_centres_ensure(province_code="510000")
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()
