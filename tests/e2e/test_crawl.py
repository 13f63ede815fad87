"""A crawl of every role's pages in Chromium at phone width (390 px).

For each role (staff at province, city and county, S&T worker, enterprise, citizen, reviewer,
and an anonymous visitor) the crawl signs in, opens the home page and the dashboard, and
follows the same-site links it finds there and on the pages they lead to (two links deep, at
most `MAX_PAGES` pages a role; sign-out, downloads and exports are skipped). On every page it
records the console and the browser's `securitypolicyviolation` events, and fails on:

- any Content-Security-Policy violation, or a page without the policy header;
- a page wider than the screen (`scrollWidth > innerWidth`: it would scroll sideways);
- a server error.

The links come from the pages themselves, so pages added later are crawled without changing
this test. The data is the small world of `tests.builders.make_crawl_world`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

from kejiyun.accounts.models import User
from tests.builders import CRAWL_ROLES, make_crawl_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MAX_PAGES = 40
MAX_DEPTH = 2
PHONE = {"width": 390, "height": 844}
# Links the crawl never follows: they sign out, send files, or leave the site's pages.
SKIP = re.compile(
    r"/accounts/logout|/logout|download|export|/template|/evidence/|/attachments/\d+"
    r"|^/admin/|^/i18n/|^/media/|^/static/|^/healthz",
    re.IGNORECASE,
)
# Installed before any page script: collects the policy violations the browser reports.
LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`
      + ` at ${e.sourceFile || ''}:${e.lineNumber}`
  );
});
"""


@dataclass
class Visit:
    url: str
    status: int
    csp_header: bool
    violations: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    overflow: int = 0


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def signed_in_context(
    browser: Browser, base: str, user: User | None, opened: list[BrowserContext]
) -> BrowserContext:
    """A phone-sized browser context, signed in as `user` (by a session made on the server,
    as signing in through the form is tested elsewhere)."""
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    context.set_default_timeout(15_000)
    opened.append(context)
    context.add_init_script(LISTEN)
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
    return context


def same_site_links(page: Page, base: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    origin = urlsplit(base).netloc
    found = []
    for href in hrefs:
        url, _fragment = urldefrag(href)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc != origin:
            continue
        if SKIP.search(parts.path):
            continue
        found.append(url)
    return found


def page_key(url: str) -> str:
    """Pages that differ only in their query values (a filter's choice, a page number) count
    as one; a page with another set of query names (`?scope=…`) is another page."""
    parts = urlsplit(url)
    names = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)} - {"page"})
    return parts.path + ("?" + "&".join(names) if names else "")


def crawl(context: BrowserContext, base: str, starts: list[str]) -> list[Visit]:
    page = context.new_page()
    console: list[str] = []

    def record(message: ConsoleMessage) -> None:
        console.append(f"{message.type}: {message.text}")

    page.on("console", record)
    queue = deque((f"{base}{path}", 0) for path in starts)
    seen = {page_key(url) for url, _ in queue}
    visits: list[Visit] = []
    while queue and len(visits) < MAX_PAGES:
        url, depth = queue.popleft()
        console.clear()
        answer = page.goto(url, wait_until="load")
        assert answer is not None
        # Slots that htmx fills on load (ranked experts…) are part of the page.
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
        visit = Visit(
            url=page.url,
            status=answer.status,
            csp_header="content-security-policy" in answer.headers,
            violations=page.evaluate("window.__cspViolations || []"),
            overflow=page.evaluate("document.documentElement.scrollWidth - window.innerWidth"),
        )
        visit.console = list(console)
        visits.append(visit)
        if depth < MAX_DEPTH and answer.ok:
            for link in same_site_links(page, base):
                if page_key(link) not in seen:
                    seen.add(page_key(link))
                    queue.append((link, depth + 1))
    page.close()
    return visits


def problems_of(role: str, visits: list[Visit]) -> list[str]:
    found = []
    for v in visits:
        where = f"[{role}] {v.url}"
        if v.status >= 500:
            found.append(f"{where}: HTTP {v.status}")
        if not v.csp_header:
            found.append(f"{where}: no Content-Security-Policy header")
        found.extend(f"{where}: CSP violation {text}" for text in v.violations)
        found.extend(
            f"{where}: console {text}"
            for text in v.console
            if "Content Security Policy" in text or "Content-Security-Policy" in text
        )
        if v.overflow > 0:
            found.append(f"{where}: {v.overflow} px wider than the 390 px screen")
    return found


def test_no_page_of_any_role_breaks_the_policy_or_scrolls_sideways_on_a_phone(
    browser: Browser, live_server: object, contexts: list[BrowserContext], page: Page
) -> None:
    # `page` puts the regions back into the emptied database; the crawl opens its own tabs.
    base = str(live_server)
    people: dict[str, User | None] = {**make_crawl_world(), "anonymous": None}
    assert set(people) == {*CRAWL_ROLES, "anonymous"}
    problems: list[str] = []
    crawled: dict[str, int] = {}
    for role, user in people.items():
        context = signed_in_context(browser, base, user, contexts)
        starts = ["/"] if user is None else ["/dashboard/", "/"]
        visits = crawl(context, base, starts)
        crawled[role] = len(visits)
        problems.extend(problems_of(role, visits))
        context.close()
        contexts.remove(context)
    # Every role reached more than its starting pages (the crawl really followed links).
    assert all(count > 3 for count in crawled.values()), crawled
    assert problems == [], "\n".join(problems)
