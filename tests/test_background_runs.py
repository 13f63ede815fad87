"""Background runs (kejiyun/background; ADR 0019): the state machine, one run per request,
the stale pickup, the progress page and who may see it.

The handlers here are real handlers registered under test kinds: they count, fail on request
and leave files, so each rule is seen through the same services the wired flows use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.background.models import Run, RunStatus
from kejiyun.background.progress import Progress, RunSuperseded, cache_key
from kejiyun.background.registry import Outcome, handler_register
from kejiyun.background.services import (
    results_purge,
    run_execute,
    run_retry,
    run_start,
    runs_resume_stale,
)
from kejiyun.common.errors import NotPermitted, ServiceError
from kejiyun.regions.services import regions_load, service_centres_ensure
from tests.builders import client_for, make_staff, make_superuser

handled: list[tuple[int, int]] = []  # (run id, attempt) of every handler call
CRASH_ONCE: set[int] = set()


def _counting(run: Run, progress: Progress) -> Outcome:
    handled.append((run.pk, run.attempts))
    steps = int(run.params.get("steps", 3))
    progress.start(steps, "正在计数……")
    for _step in range(steps):
        progress.advance()
    fail = run.params.get("fail")
    if fail == "refuse":
        raise ServiceError("文件中有错误，未处理任何数据。", code="bad_file")
    if fail == "crash_once" and run.pk not in CRASH_ONCE:
        CRASH_ONCE.add(run.pk)
        raise RuntimeError("disk on fire")
    return Outcome(
        f"已计数 {steps} 次。",
        url="/sheets/",
        url_label="返回",
        file=b"counted" if run.params.get("file") else None,
        file_name="计数结果.txt",
        file_type="text/plain",
        once=bool(run.params.get("once")),
    )


handler_register("test.count", _counting)


@pytest.fixture(autouse=True)
def _calls() -> Iterator[None]:
    handled.clear()
    CRASH_ONCE.clear()
    yield


def start(owner: User, key: str = "k1", **params: Any) -> Run:
    return run_start(kind="test.count", owner=owner, title="计数", key=key, params=params)


# --- The state machine ---------------------------------------------------------------------


def test_a_run_goes_from_queued_to_done_with_its_figures_message_and_link(alice: User) -> None:
    run = start(alice, steps=4)
    assert (run.status, run.done, run.total, run.percent) == ("done", 4, 4, 100)
    assert (run.message, run.result_url, run.attempts) == ("已计数 4 次。", "/sheets/", 1)
    assert run.started_at is not None and run.finished_at is not None
    assert handled == [(run.pk, 1)]


def test_a_done_run_is_not_run_again(alice: User) -> None:
    run = start(alice)
    assert run_execute(run_id=run.pk) == "skipped"
    assert handled == [(run.pk, 1)]
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("done", 1)


def test_a_refusal_fails_the_run_with_its_chinese_message(alice: User) -> None:
    run = start(alice, fail="refuse")
    assert (run.status, run.message) == ("failed", "文件中有错误，未处理任何数据。")
    assert run.error.startswith("ServiceError")


def test_a_crash_fails_with_a_plain_chinese_message_and_a_retry_runs_it_again(
    alice: User,
) -> None:
    run = start(alice, fail="crash_once")
    assert run.status == "failed"
    assert "可以点击“重试”" in run.message
    assert "RuntimeError: disk on fire" in run.error
    run = run_retry(run=run, actor=alice)
    assert (run.status, run.attempts, run.error, run.percent) == ("done", 2, "", 100)
    assert handled == [(run.pk, 1), (run.pk, 2)]


def test_only_the_owner_retries_and_only_a_failed_run(alice: User, bob: User) -> None:
    failed = start(alice, key="f", fail="refuse")
    with pytest.raises(NotPermitted):
        run_retry(run=failed, actor=bob)
    done = start(alice, key="d")
    with pytest.raises(ServiceError, match="只有失败的任务可以重试"):
        run_retry(run=done, actor=alice)
    assert Run.objects.get(pk=failed.pk).status == "failed"
    assert Run.objects.get(pk=done.pk).attempts == 1


def test_the_database_refuses_more_done_than_total_and_an_unfinished_end(alice: User) -> None:
    run = start(alice)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Run.objects.filter(pk=run.pk).update(done=run.total + 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Run.objects.filter(pk=run.pk).update(finished_at=None)


# --- One run per request --------------------------------------------------------------------


def test_the_same_request_twice_makes_one_run_and_runs_once(alice: User) -> None:
    first = start(alice, key="import:7")
    second = start(alice, key="import:7")
    assert first.pk == second.pk
    assert Run.objects.count() == 1
    assert handled == [(first.pk, 1)]


def test_a_finished_run_older_than_fresh_seconds_gives_its_key_to_a_new_run(alice: User) -> None:
    now = timezone.now()
    first = run_start(kind="test.count", owner=alice, title="计数", key="send:1", fresh_seconds=60)
    Run.objects.filter(pk=first.pk).update(finished_at=now - timedelta(seconds=61))
    again = run_start(kind="test.count", owner=alice, title="计数", key="send:1", fresh_seconds=60)
    assert again.pk != first.pk
    assert Run.objects.get(pk=first.pk).idempotency_key == f"send:1#retired-{first.pk}"
    assert [pk for pk, _attempt in handled] == [first.pk, again.pk]


def test_an_unknown_kind_is_refused_before_anything_is_stored(alice: User) -> None:
    with pytest.raises(LookupError):
        run_start(kind="nobody.handles", owner=alice, title="x", key="x")
    assert Run.objects.count() == 0


# --- Stale pickup ---------------------------------------------------------------------------


def _interrupted(owner: User, *, attempts: int, seconds_ago: int, key: str = "s") -> Run:
    """A run whose worker died: running, its heartbeat `seconds_ago` old."""
    beat = timezone.now() - timedelta(seconds=seconds_ago)
    return Run.objects.create(
        kind="test.count",
        title="计数",
        owner=owner,
        idempotency_key=key,
        status=RunStatus.RUNNING,
        attempts=attempts,
        started_at=beat,
        heartbeat_at=beat,
        total=3,
        done=1,
    )


def test_a_run_whose_heartbeat_went_stale_is_picked_up_and_finished(
    alice: User, settings: Any
) -> None:
    stale = _interrupted(alice, attempts=1, seconds_ago=settings.BACKGROUND_STALE_SECONDS + 5)
    alive = _interrupted(alice, attempts=1, seconds_ago=5, key="alive")
    assert runs_resume_stale() == {"resumed": 1, "failed": 0}
    stale.refresh_from_db()
    alive.refresh_from_db()
    assert (stale.status, stale.attempts, stale.percent) == ("done", 2, 100)
    assert (alive.status, alive.attempts) == ("running", 1)
    assert handled == [(stale.pk, 2)]
    # The same job again finds nothing to do.
    assert runs_resume_stale() == {"resumed": 0, "failed": 0}


def test_a_run_alive_by_the_caches_heartbeat_is_left_alone(alice: User, settings: Any) -> None:
    """Inside one long transaction a handler cannot move its row: its cache entry counts."""
    run = _interrupted(alice, attempts=1, seconds_ago=settings.BACKGROUND_STALE_SECONDS + 5)
    cache.set(
        cache_key(run.pk),
        {"attempt": 1, "done": 2, "total": 3, "message": "写入中", "at": time.time()},
    )
    assert runs_resume_stale() == {"resumed": 0, "failed": 0}
    assert run_execute(run_id=run.pk) == "skipped"
    assert handled == []


def test_a_run_interrupted_too_often_is_failed_not_picked_up_again(
    alice: User, settings: Any
) -> None:
    run = _interrupted(
        alice,
        attempts=settings.BACKGROUND_MAX_ATTEMPTS,
        seconds_ago=settings.BACKGROUND_STALE_SECONDS + 5,
    )
    assert runs_resume_stale() == {"resumed": 0, "failed": 1}
    run.refresh_from_db()
    assert run.status == "failed" and "多次中断" in run.message
    assert handled == []


def test_a_queued_run_nobody_claimed_is_handed_out_again(alice: User, settings: Any) -> None:
    run = Run.objects.create(
        kind="test.count",
        title="计数",
        owner=alice,
        idempotency_key="q",
        created_at=timezone.now() - timedelta(seconds=settings.BACKGROUND_STALE_SECONDS + 5),
    )
    assert runs_resume_stale()["resumed"] == 1
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("done", 1)


def test_an_attempt_that_was_taken_over_stops_at_its_next_report(alice: User) -> None:
    run = _interrupted(alice, attempts=1, seconds_ago=1)
    progress = Progress(run)
    Run.objects.filter(pk=run.pk).update(attempts=2)  # another worker claimed it
    with pytest.raises(RunSuperseded):
        progress.start(10, "x")


# --- Live figures ---------------------------------------------------------------------------


def test_the_page_shows_the_caches_newer_figures_of_the_current_attempt(alice: User) -> None:
    run = _interrupted(alice, attempts=1, seconds_ago=3)
    cache.set(
        cache_key(run.pk),
        {"attempt": 1, "done": 2, "total": 3, "message": "写入第 2 行", "at": time.time()},
    )
    page = client_for(alice).get(f"/background/{run.pk}/progress/")
    assert page.context["run"].done == 2
    html = page.content.decode()
    assert 'data-progress-percent="66"' in html and "写入第 2 行" in html
    assert 'hx-trigger="every 1s"' in html  # still polling
    # A figure of an attempt that was taken over is not shown.
    cache.set(
        cache_key(run.pk),
        {"attempt": 0, "done": 3, "total": 3, "message": "旧的", "at": time.time()},
    )
    assert client_for(alice).get(f"/background/{run.pk}/progress/").context["run"].done == 1


# --- The progress page ----------------------------------------------------------------------


def test_the_owner_sees_the_bar_message_and_result_and_the_polling_stops_when_done(
    alice: User,
) -> None:
    run = start(alice, steps=2, file=True)
    response = client_for(alice).get(f"/background/{run.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="progressbar"' in html and 'aria-valuenow="100"' in html
    assert "已计数 2 次。" in html
    assert 'href="/sheets/"' in html and f'href="/background/{run.pk}/result/"' in html
    assert "hx-trigger" not in html  # finished: nothing to poll
    assert "style=" not in html  # the width is set by background-progress.js (CSP)
    assert "js/background-progress.js" in html
    download = client_for(alice).get(f"/background/{run.pk}/result/")
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == b"counted"


def test_a_failed_run_shows_its_message_and_a_retry_that_runs_it_again(alice: User) -> None:
    run = start(alice, fail="crash_once")
    client = client_for(alice)
    html = client.get(f"/background/{run.pk}/").content.decode()
    assert "处理时发生错误，未能完成" in html and f"/background/{run.pk}/retry/" in html
    response = client.post(f"/background/{run.pk}/retry/")
    assert response["Location"] == f"/background/{run.pk}/"
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("done", 2)


def test_anyone_else_gets_404_audited_and_changes_nothing(
    alice: User, bob: User, charlie: User
) -> None:
    run = start(alice, fail="refuse", key="r1")
    done = start(alice, key="r2", file=True)
    before = list(Run.objects.order_by("pk").values())
    for other in (bob, charlie):
        client = client_for(other)
        for url in (
            f"/background/{run.pk}/",
            f"/background/{run.pk}/progress/",
            f"/background/{done.pk}/result/",
        ):
            assert client.get(url).status_code == 404, url
        assert client.post(f"/background/{run.pk}/retry/").status_code == 404
    assert list(Run.objects.order_by("pk").values()) == before
    refused = AuditEvent.objects.filter(action=AuditAction.ACCESS_REFUSED, user=bob)
    assert refused.count() == 4
    anonymous = Client().get(f"/background/{run.pk}/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_staff_allowed_to_follow_runs_see_them_but_neither_retry_nor_download(
    alice: User, bob: User
) -> None:
    run = start(alice, key="f", fail="refuse")
    done = start(alice, key="g", file=True)
    bob.user_permissions.add(Permission.objects.get(codename="view_run"))
    bob = User.objects.get(pk=bob.pk)
    client = client_for(bob)
    page = client.get(f"/background/{run.pk}/").content.decode()
    assert "文件中有错误" in page and "/retry/" not in page
    assert client.post(f"/background/{run.pk}/retry/").status_code == 403
    assert client.get(f"/background/{done.pk}/result/").status_code == 403
    root = client_for(make_superuser())
    assert root.get(f"/background/{run.pk}/").status_code == 200


def test_a_file_for_one_download_goes_after_it_is_sent(alice: User) -> None:
    run = start(alice, file=True, once=True)
    client = client_for(alice)
    first = client.get(f"/background/{run.pk}/result/")
    assert b"".join(first.streaming_content) == b"counted"
    again = client.get(f"/background/{run.pk}/result/", follow=True)
    assert "该结果只能下载一次" in again.content.decode()
    run.refresh_from_db()
    assert run.result_file.name == "" and run.result_taken_at is not None


def test_result_files_are_purged_after_their_hours_and_the_run_stays(
    alice: User, settings: Any
) -> None:
    run = start(alice, file=True)
    name = run.result_file.name
    storage = run.result_file.storage
    assert storage.exists(name)
    assert results_purge() == 0
    later = timezone.now() + timedelta(hours=settings.BACKGROUND_RESULT_HOURS, minutes=1)
    assert results_purge(now=later) == 1
    run.refresh_from_db()
    assert (run.status, run.result_file.name) == ("done", "")
    assert not storage.exists(name)


# --- The embedded default: a thread after commit --------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_on_the_embedded_default_the_run_starts_after_commit_on_a_thread(settings: Any) -> None:
    from django.db import transaction

    settings.BACKGROUND_MODE = "thread"
    # A transactional test may follow another whose teardown emptied the regions.
    regions_load()
    service_centres_ensure(province_code="510000")
    owner = make_staff("tess", "510104")
    caller = threading.get_ident()
    with transaction.atomic():
        run = start(owner, steps=5)
        # Not handed out before the transaction commits.
        assert Run.objects.get(pk=run.pk).status == "queued"
    deadline = time.monotonic() + 20
    while Run.objects.get(pk=run.pk).status != "done" and time.monotonic() < deadline:
        time.sleep(0.05)
    run.refresh_from_db()
    assert (run.status, run.percent) == ("done", 100)
    assert handled == [(run.pk, 1)]
    assert caller == threading.get_ident()
    connection.close()
