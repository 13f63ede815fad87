"""What the browser tests share: a tab (signed in or not) that records Content-Security-Policy
violations, and the check every page passes (no violation, no sideways scrolling).

Tabs opened here are closed after each test, before the live server stops, by the autouse
fixture `_close_tabs` in conftest.py.
"""

from __future__ import annotations

import os

from playwright.sync_api import Browser, BrowserContext, Page

from tests.builders import PASSWORD

PHONE = {"width": 390, "height": 844}
# Set to a folder to keep a screenshot of each checked page (for a person to look at).
SHOTS = os.environ.get("KEJIYUN_SHOTS", "")
LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
});
"""

OPEN_CONTEXTS: list[BrowserContext] = []


def signed_in(
    browser: Browser, base: str, username: str = "", viewport: dict[str, int] = PHONE
) -> Page:
    """A new tab in its own browser context, signed in as `username` (anonymous when
    empty), listening for policy violations."""
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    OPEN_CONTEXTS.append(context)
    context.set_default_timeout(15_000)
    context.add_init_script(LISTEN)
    page = context.new_page()
    if username:
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("手机号或用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def check(page: Page, name: str) -> None:
    """No policy violation and no sideways scrolling on the page now shown (once a click's
    navigation has finished loading: the document is briefly empty while it loads)."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        "document.documentElement !== null && document.readyState === 'complete'"
    )
    assert page.evaluate("window.__cspViolations") == [], name
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)
