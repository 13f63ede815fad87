"""Run the periodic jobs in-process: the same job list as Celery beat in production.

The list is `settings.CELERY_BEAT_SCHEDULE`, and nothing else: an entry added there (a
task name and its schedule) runs here too, with no change to this module. Each job runs
once at start-up and then at its interval, in a thread of its own, so a slow job (building
embeddings, say) does not hold up escalation or the outbox. A job that fails is logged with
its traceback and runs again at its next time; the others go on.

Tasks are looked up by name in the Celery app (the tasks modules of every installed app),
and called directly in this process: no broker, no worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from celery import current_app
from celery.schedules import schedule as celery_schedule
from django.db import connections
from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger("kejiyun.jobs")


@dataclass(frozen=True)
class Job:
    """One entry of the schedule: its name, the task it runs and how often (seconds)."""

    name: str
    task: str
    every: float
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobRun:
    job: str
    ok: bool
    seconds: float
    result: object = None
    error: str = ""


def _seconds(value: object, name: str) -> float:
    """A schedule as seconds: a number, a timedelta or Celery's interval `schedule`."""
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, celery_schedule) and type(value) is celery_schedule:
        seconds = value.run_every.total_seconds()
    else:
        raise ValueError(
            f"CELERY_BEAT_SCHEDULE[{name!r}]: only intervals (seconds, timedelta or "
            f"celery.schedules.schedule) run in-process, not {type(value).__name__}"
        )
    if seconds <= 0:
        raise ValueError(f"CELERY_BEAT_SCHEDULE[{name!r}]: the interval must be positive")
    return seconds


def jobs_from_schedule(beat_schedule: Mapping[str, Mapping[str, Any]]) -> list[Job]:
    """The jobs of a Celery beat schedule, in its order."""
    return [
        Job(
            name=name,
            task=str(entry["task"]),
            every=_seconds(entry["schedule"], name),
            args=tuple(entry.get("args", ())),
            kwargs=dict(entry.get("kwargs", {})),
        )
        for name, entry in beat_schedule.items()
    ]


def _task(name: str) -> Callable[..., object]:
    tasks = current_app.tasks
    if name not in tasks:
        # Import every installed app's tasks module, as a Celery worker does at start.
        autodiscover_modules("tasks")
    return tasks[name]  # type: ignore[no-any-return]


def _connections_refresh() -> None:
    """Drop this thread's database connections that broke or outlived CONN_MAX_AGE, as
    Django does around each request (a long-running process otherwise keeps a dead one).
    A connection inside a transaction (a caller's, or a test's) is left alone."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def job_run(job: Job) -> JobRun:
    """Run one job now, in this thread; log it; never raise (a failure is logged and
    reported in the answer)."""
    _connections_refresh()
    started = time.monotonic()
    try:
        result = _task(job.task)(*job.args, **job.kwargs)
    except Exception as error:
        seconds = time.monotonic() - started
        logger.exception("job %s (%s) failed after %.2fs", job.name, job.task, seconds)
        return JobRun(job.name, False, seconds, error=f"{type(error).__name__}: {error}")
    finally:
        _connections_refresh()
    seconds = time.monotonic() - started
    logger.info("job %s (%s) done in %.2fs: %r", job.name, job.task, seconds, result)
    return JobRun(job.name, True, seconds, result=result)


def jobs_run_once(jobs: list[Job]) -> list[JobRun]:
    """Run every job once, one after another, in the schedule's order."""
    return [job_run(job) for job in jobs]


def _every(job: Job, stop: threading.Event) -> None:
    while not stop.is_set():
        started = time.monotonic()
        job_run(job)
        # The next run is `every` seconds after this one started (at once if it overran).
        stop.wait(max(0.0, job.every - (time.monotonic() - started)))


def jobs_run_forever(jobs: list[Job], stop: threading.Event) -> None:
    """Run each job at start-up and then at its interval, each in its own thread, until
    `stop` is set."""
    threads = [
        threading.Thread(target=_every, args=(job, stop), name=f"job-{job.name}", daemon=True)
        for job in jobs
    ]
    for thread in threads:
        thread.start()
    stop.wait()
