"""Starting, running, retrying and resuming runs of long work.

Guarantees (docs/adr/0019-background-work.md):

- **One run per request.** `run_start` finds or creates the run by its idempotency key in a
  savepoint (a unique index settles two requests at once); a finished run older than the
  caller's `fresh_seconds` gives its key up to a new run.
- **Started after commit.** The run is handed out (`run_dispatch`) once the caller's
  transaction commits: to a Celery worker (`background.run`, acks late), to a daemon thread of
  this process, or at once in the caller under `BACKGROUND_MODE=inline` (tests).
- **Claimed once.** `run_execute` claims a queued run, or a running run whose heartbeat is
  stale (its worker died), with a conditional UPDATE that counts an attempt; a done or failed
  run, or one another worker is running, is left alone. Progress, the result and the failure
  are written only while that attempt still holds the claim.
- **Safe to run again.** A handler runs from the start on every attempt and must be safe to
  run twice; each says how (keyed batches, upserts, keyed deliveries, replaced rows).
- **Resumed.** The periodic job `background.resume_stale` hands out again the runs whose
  worker went silent for `BACKGROUND_STALE_SECONDS`, and fails the ones interrupted
  `BACKGROUND_MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import logging
import threading
import traceback
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kejiyun.background.models import Run, RunStatus
from kejiyun.background.progress import (
    Progress,
    RunSuperseded,
    heartbeat_seen,
    snapshot_forget,
)
from kejiyun.background.registry import Outcome, handler_for
from kejiyun.common.errors import NotPermitted, ServiceError
from kejiyun.common.files import private_storage

logger = logging.getLogger("kejiyun.background")

TASK_NAME = "background.run"


class RunError(ServiceError):
    """A refused step on a run (a retry of a run that did not fail); nothing changed."""


def _stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.BACKGROUND_STALE_SECONDS)


# --- Starting ------------------------------------------------------------------------------


def run_start(
    *,
    kind: str,
    owner: Any,
    title: str,
    key: str,
    params: Mapping[str, Any] | None = None,
    back_url: str = "",
    fresh_seconds: float | None = None,
    now: datetime | None = None,
) -> Run:
    """The run of this request: the existing one with the same `key`, else a new one,
    handed out once the current transaction commits.

    `fresh_seconds`: how long a finished run still answers the same request (None: for
    ever, as for an import batch, which is applied once; 0: only while it is queued or
    running, as for a campaign send, which may be sent again later)."""
    handler_for(kind)  # an unknown kind fails here, not in the worker
    now = now or timezone.now()
    key = key[:200]
    run, created = _run_find_or_create(
        kind=kind,
        owner=owner,
        title=title,
        key=key,
        params=params,
        back_url=back_url,
        fresh_seconds=fresh_seconds,
        now=now,
    )
    if not created:
        return run  # the same request again: that run is handed out already
    run_id = run.pk
    transaction.on_commit(lambda: run_dispatch(run_id))
    if settings.BACKGROUND_MODE == "inline" and transaction.get_connection().in_atomic_block:
        # Tests run inside a transaction that never commits: run it now.
        run_execute(run_id=run_id)
        run.refresh_from_db()
    return run


def _run_find_or_create(
    *,
    kind: str,
    owner: Any,
    title: str,
    key: str,
    params: Mapping[str, Any] | None,
    back_url: str,
    fresh_seconds: float | None,
    now: datetime,
) -> tuple[Run, bool]:
    for _round in range(3):
        existing = Run.objects.filter(idempotency_key=key).first()
        if existing is not None:
            expired = (
                fresh_seconds is not None
                and existing.finished
                and existing.finished_at is not None
                and existing.finished_at < now - timedelta(seconds=fresh_seconds)
            )
            if not expired:
                return existing, False
            # The finished run keeps its figures under a retired key; the key is free again.
            Run.objects.filter(pk=existing.pk, idempotency_key=key).update(
                idempotency_key=f"{key[:180]}#retired-{existing.pk}"
            )
        try:
            with transaction.atomic():
                run = Run.objects.create(
                    kind=kind,
                    title=title[:120],
                    owner=owner,
                    params=dict(params or {}),
                    idempotency_key=key,
                    back_url=back_url[:300],
                    created_at=now,
                )
            return run, True
        except IntegrityError:
            continue  # another request made it first: answer with that one
    raise RunError(_("任务提交冲突，请稍后重试。"), code="busy")


def _thread_main(run_id: int) -> None:
    close_old_connections()
    try:
        run_execute(run_id=run_id)
    except Exception:  # run_execute records failures itself; this is a last resort
        logger.exception("background run %s crashed its thread", run_id)
    finally:
        close_old_connections()


def run_dispatch(run_id: int) -> None:
    """Hand a run to whatever runs it in this deployment (BACKGROUND_MODE)."""
    mode = settings.BACKGROUND_MODE
    if mode == "celery":
        current_app.send_task(TASK_NAME, args=[run_id])
    elif mode == "thread":
        threading.Thread(
            target=_thread_main, args=(run_id,), name=f"background-run-{run_id}", daemon=True
        ).start()
    else:
        run_execute(run_id=run_id)


# --- Running -------------------------------------------------------------------------------


def _claim(run_id: int, now: datetime) -> Run | None:
    claimable = Q(status=RunStatus.QUEUED) | Q(
        status=RunStatus.RUNNING, heartbeat_at__lt=_stale_before(now)
    )
    for _attempt in range(2):
        run = Run.objects.filter(pk=run_id).first()
        if run is None or run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            return None
        if run.status == RunStatus.RUNNING:
            seen = heartbeat_seen(run)
            if seen is not None and seen >= _stale_before(now):
                return None  # alive elsewhere
        claimed = (
            Run.objects.filter(claimable, pk=run_id, attempts=run.attempts)
            .filter(Q(status=run.status))
            .update(
                status=RunStatus.RUNNING,
                attempts=run.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                done=0,
                total=0,
                message=_("正在开始……"),
                error="",
            )
        )
        if claimed == 1:
            run.refresh_from_db()
            return run
    return None


def _finish(run: Run, outcome: Outcome, now: datetime) -> bool:
    name = ""
    if outcome.file is not None:
        name = private_storage().save(
            f"background/{uuid.uuid4().hex}.bin", ContentFile(outcome.file)
        )
    moved = Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING, attempts=run.attempts).update(
        status=RunStatus.DONE,
        finished_at=now,
        heartbeat_at=now,
        done=run.total,
        total=run.total,
        message=outcome.message[:300],
        result_url=outcome.url[:300],
        result_label=outcome.url_label[:60],
        result_file=name,
        result_name=outcome.file_name[:200],
        result_type=outcome.file_type[:100],
        result_once=outcome.once,
        result_taken_at=None,
    )
    if moved != 1 and name:
        private_storage().delete(name)
    if moved == 1:
        snapshot_forget(run.pk)
    return moved == 1


def _fail(run: Run, message: str, error: str, now: datetime) -> None:
    snapshot_forget(run.pk)
    Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING, attempts=run.attempts).update(
        status=RunStatus.FAILED,
        finished_at=now,
        heartbeat_at=now,
        message=message[:300],
        error=error[:10_000],
    )


def run_execute(*, run_id: int) -> str:
    """Run one run now, in this thread, if it is there to be run (queued, or running with a
    stale heartbeat). Returns the status it ended in ("skipped" when not claimed). Never
    raises for a failure of the work: that is recorded on the run."""
    run = _claim(run_id, timezone.now())
    if run is None:
        return "skipped"
    progress = Progress(run)
    try:
        outcome = handler_for(run.kind).run(run, progress)
    except RunSuperseded:
        logger.warning("background run %s attempt %s was taken over", run.pk, run.attempts)
        return "superseded"
    except ValidationError as error:
        # A refusal of the work itself (a ServiceError, e.g. a file with errors, content
        # taken down): its Chinese message is for the user.
        _fail(run, error.messages[0], f"{type(error).__name__}: {error.messages[0]}", _now())
        return RunStatus.FAILED
    except Exception as error:
        logger.exception("background run %s (%s) failed", run.pk, run.kind)
        _fail(
            run,
            _("处理时发生错误，未能完成。可以点击“重试”再次执行；如仍失败，请联系管理员。"),
            f"{type(error).__name__}: {error}\n{traceback.format_exc()}",
            _now(),
        )
        return RunStatus.FAILED
    # Totals a handler never reported still end at 100%.
    run.total = max(progress.total, progress.done)
    return RunStatus.DONE if _finish(run, outcome, _now()) else "superseded"


def _now() -> datetime:
    return timezone.now()


# --- Retrying and resuming ----------------------------------------------------------------


def run_retry(*, run: Run, actor: Any) -> Run:
    """Queue a failed run again (its owner only) and hand it out after commit. Its handler
    is safe to run twice, so a retry never doubles what the failed attempt did."""
    if run.owner_id != getattr(actor, "pk", None):
        raise NotPermitted(_("只有发起人可以重试。"))
    moved = Run.objects.filter(pk=run.pk, status=RunStatus.FAILED).update(
        status=RunStatus.QUEUED,
        finished_at=None,
        message=_("已重新排队……"),
        error="",
        done=0,
        total=0,
    )
    if moved != 1:
        raise RunError(_("只有失败的任务可以重试，请刷新页面查看。"), code="not_failed")
    transaction.on_commit(lambda: run_dispatch(run.pk))
    if settings.BACKGROUND_MODE == "inline" and transaction.get_connection().in_atomic_block:
        run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def runs_resume_stale(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic job: hand out again each run whose worker went silent (running with a
    stale heartbeat) or that nobody claimed (queued for longer than the stale time); fail
    those interrupted `BACKGROUND_MAX_ATTEMPTS` times. Safe to run twice: handing a run out
    twice still runs it once (the claim)."""
    now = now or timezone.now()
    cutoff = _stale_before(now)
    resumed = failed = 0
    candidates = Run.objects.filter(
        Q(status=RunStatus.RUNNING, heartbeat_at__lt=cutoff)
        | Q(status=RunStatus.QUEUED, created_at__lt=cutoff)
    ).order_by("id")[:200]
    for run in candidates:
        if run.status == RunStatus.RUNNING:
            seen = heartbeat_seen(run)
            if seen is not None and seen >= cutoff:
                continue  # inside a long transaction, alive by the cache's heartbeat
            if run.attempts >= settings.BACKGROUND_MAX_ATTEMPTS:
                _fail(
                    run,
                    _("任务多次中断，已停止。可以点击“重试”再次执行。"),
                    f"interrupted {run.attempts} times",
                    now,
                )
                failed += 1
                continue
        resumed += 1
        run_dispatch(run.pk)
    return {"resumed": resumed, "failed": failed}


def results_purge(*, now: datetime | None = None) -> int:
    """Delete the result files of runs finished more than BACKGROUND_RESULT_HOURS ago (they
    may hold personal data); the runs stay. Returns how many files went."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.BACKGROUND_RESULT_HOURS)
    gone = 0
    for run in Run.objects.filter(finished_at__lt=cutoff).exclude(result_file="")[:500]:
        name = run.result_file.name
        if Run.objects.filter(pk=run.pk, result_file=name).update(result_file="") == 1:
            private_storage().delete(name)
            gone += 1
    return gone


def run_result_take(*, run: Run, actor: Any, now: datetime | None = None) -> Run:
    """The owner takes the result file; a file for one download is claimed here, and its
    bytes are deleted by the caller after sending (`run_result_forget`)."""
    if run.owner_id != getattr(actor, "pk", None):
        raise NotPermitted(_("只有发起人可以下载结果。"))
    if run.result_once and run.result_taken_at is not None:
        raise RunError(_("该结果只能下载一次，已经下载过。"), code="taken")
    if run.status != RunStatus.DONE or not run.result_file:
        raise RunError(_("没有可下载的结果，或结果已过期。"), code="no_result")
    if run.result_once:
        claimed = Run.objects.filter(pk=run.pk, result_taken_at__isnull=True).update(
            result_taken_at=now or timezone.now()
        )
        if claimed != 1:
            raise RunError(_("该结果只能下载一次，已经下载过。"), code="taken")
    return run


def run_result_forget(*, run: Run) -> None:
    """Delete a one-download result's file once it has been sent."""
    name = run.result_file.name
    if name and Run.objects.filter(pk=run.pk, result_file=name).update(result_file="") == 1:
        private_storage().delete(name)
