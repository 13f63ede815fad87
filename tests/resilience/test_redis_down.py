"""Drill: Redis stops while the site serves (docs/resilience.md, "Redis stopped").

Redis is the cache, the session cache and the Celery broker. It is killed (SIGKILL: no save,
every connection dropped) with a Celery worker running and people signed in, and started
again empty, as a Redis without persistence comes back. Meanwhile:

- every page answers 200, anonymous and signed in, and nothing answers 5xx: the cache fails
  open and sessions live in PostgreSQL (`cached_db`), so nobody is signed out;
- signing in works, the second factor included;
- work queued meanwhile is not lost: a case handed to a colleague writes its notice to the
  outbox in PostgreSQL, the queue of record, in the same transaction; queueing the dispatch
  task fails quietly and the page answers at once;
- /healthz tells the monitor that the cache is down, and that the database is fine.

After Redis is back the cache fills again, the same Celery worker reconnects by itself, and
the next dispatch (beat's, every minute; here sent as beat sends it) delivers the notice.
"""

from __future__ import annotations

import time

import pytest

from tests.resilience.conftest import Stack, Workers
from tests.resilience.stack import (
    Browser,
    beat_sends,
    step,
    timed_get,
    wait_for,
)

pytestmark = pytest.mark.resilience

PUBLIC = [
    "/",
    "/demands/",
    "/talent/",
    "/popsci/",
    "/regions/children/",
    "/regions/children/510000/",
    "/healthz",
]
ENTERPRISE = ["/dashboard/", "/notifications/", "/cases/mine/"]


def staff_pages(stack: Stack) -> list[str]:
    case_id = stack.seed["case_id"]
    return ["/dashboard/", "/cases/", f"/cases/{case_id}/", "/ops/510104/", "/demands/"]


def health(stack: Stack) -> dict[str, object]:
    """/healthz as the monitor sees it (with its token)."""
    browser = Browser(stack.base)
    browser.session.headers["X-Healthz-Token"] = stack.env["HEALTHZ_TOKEN"]
    return browser.get("/healthz").json()


def every_page(stack: Stack, browsers: dict[str, tuple[Browser, list[str]]]) -> dict[str, int]:
    """The status of every page for everyone; a page slower than 5 s fails the drill (a cache
    that hangs on a dead Redis is as bad as one that raises)."""
    seen: dict[str, int] = {}
    for who, (browser, paths) in browsers.items():
        for path in paths:
            answer = timed_get(browser, path)
            assert answer.seconds < 5, f"{who} {path} took {answer.seconds:.1f} s"
            seen[f"{who} {path}"] = answer.status
    return seen


def outbox_status(stack: Stack, recipient_id: int, title: str) -> str:
    """The statuses of the recipient's outbox messages of that title, joined."""
    rows = stack.rows(
        "SELECT status FROM notifications_outboxmessage WHERE recipient_id = %s AND title = %s"
        " ORDER BY id",
        recipient_id,
        title,
    )
    return ",".join(status for (status,) in rows)


def inbox_count(stack: Stack, user_id: int, title: str) -> int:
    return int(
        stack.value(
            "SELECT count(*) FROM notifications_inboxitem WHERE user_id = %s AND title = %s",
            user_id,
            title,
        )
    )


def case_version(stack: Stack) -> int:
    return int(stack.value("SELECT version FROM cases_case WHERE id = %s", stack.seed["case_id"]))


def test_with_redis_down_the_site_answers_and_queued_work_waits_in_the_outbox(
    stack: Stack, workers: Workers
) -> None:
    worker = workers.current()
    staff = stack.staff()
    enterprise = stack.enterprise()
    anonymous = stack.browser()
    people = {
        "anonymous": (anonymous, PUBLIC),
        "enterprise": (enterprise, ENTERPRISE),
        "staff": (staff, staff_pages(stack)),
    }
    before = every_page(stack, people)
    assert set(before.values()) == {200}, before
    assert health(stack)["cache"]["status"] == "ok"  # type: ignore[index]

    case_id, colleague = stack.seed["case_id"], stack.seed["colleague_id"]
    title = "案例转交给您"
    assert outbox_status(stack, colleague, title) == ""

    step("Redis: killed while people use the site and a Celery worker listens")
    stack.redis.stop()
    try:
        during = every_page(stack, people)
        assert set(during.values()) == {200}, {k: v for k, v in during.items() if v != 200}
        # Signing in works, password and second factor, and the session holds.
        late_enterprise, late_staff = stack.enterprise(), stack.staff()
        assert late_enterprise.get("/notifications/").status_code == 200
        assert late_staff.get("/cases/").status_code == 200
        # Work queued meanwhile: the case goes to a colleague, whose notice is written to the
        # outbox in the same transaction; queueing the dispatch task fails quietly.
        began = time.monotonic()
        handed = staff.post(
            f"/cases/{case_id}/assign/", {"owner": colleague, "version": case_version(stack)}
        )
        took = time.monotonic() - began
        assert handed.status_code == 302, handed.text[:500]
        assert took < 5, f"the hand-over took {took:.1f} s with Redis down"
        assert outbox_status(stack, colleague, title) == "pending"
        report = health(stack)
        assert report["status"] == "ok"
        assert report["cache"]["status"] == "error"  # type: ignore[index]
        assert worker.alive()
        step(f"with Redis down: {len(during) + 3} pages, all 200; hand-over in {took:.2f} s")
    finally:
        stack.redis.start()

    # The cache works again and fills: the region picker's data is cached anew. Each web
    # process leaves Redis alone for CACHE_RETRY_SECONDS after an error, then tries again.
    def picker_cached() -> str:
        assert anonymous.get("/regions/children/510000/").status_code == 200
        return stack.redis.cli("-n", "1", "--scan", "--pattern", "*regions:children:510000*")

    back = time.monotonic()
    wait_for("the cache to be used again", picker_cached, seconds=30, every=0.5)
    wait_for(
        "/healthz to find the cache again",
        lambda: health(stack)["cache"]["status"] == "ok",  # type: ignore[index]
        seconds=30,
        every=0.5,
    )
    step(f"the cache is used again {time.monotonic() - back:.1f} s after Redis came back")
    after = every_page(stack, people)
    assert set(after.values()) == {200}, after

    # Celery: the same worker reconnects; beat's next dispatch delivers the notice, once.
    beat_sends(stack.env, "notifications.dispatch_outbox")
    wait_for(
        "the notice written during the outage to be delivered",
        lambda: outbox_status(stack, colleague, title) == "sent",
        seconds=90,
    )
    assert inbox_count(stack, colleague, title) == 1
    assert worker.alive()
    assert "notifications.dispatch_outbox" in worker.log_text().split("Connected to redis")[-1]
