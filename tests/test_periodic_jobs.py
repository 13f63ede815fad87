"""`manage.py run_periodic`: the jobs of CELERY_BEAT_SCHEDULE run in-process by themselves,
and after the demo seed one run escalates the overdue demo cases and leaves none unowned."""

from __future__ import annotations

import io
import logging
import threading

import pytest
from celery import shared_task
from celery.schedules import crontab
from django.core.management import CommandError, call_command
from django.utils import timezone

from kejiyun.cases.models import Case
from kejiyun.jobs.runner import Job, jobs_from_schedule, jobs_run_forever

CALLS: list[str] = []
STARTED: dict[str, threading.Event] = {"a": threading.Event(), "b": threading.Event()}


@shared_task(name="tests.jobs.record")  # type: ignore[untyped-decorator]
def record(word: str = "ran") -> str:
    CALLS.append(word)
    if word in STARTED:
        STARTED[word].set()
    return word


@shared_task(name="tests.jobs.fail")  # type: ignore[untyped-decorator]
def fail() -> None:
    raise RuntimeError("数据库暂时不可用")


def test_the_job_list_is_the_beat_schedule_whatever_it_holds(settings) -> None:
    schedule = {
        **settings.CELERY_BEAT_SCHEDULE,
        "embed-profiles": {"task": "matching.embed", "schedule": 120},
    }
    jobs = jobs_from_schedule(schedule)
    assert [job.name for job in jobs] == list(schedule)
    assert {job.name: job.every for job in jobs}["escalate-overdue-cases"] == 15 * 60
    assert jobs[-1] == Job(name="embed-profiles", task="matching.embed", every=120.0)
    with pytest.raises(ValueError, match="only intervals"):
        jobs_from_schedule({"nightly": {"task": "x", "schedule": crontab(hour=2)}})


@pytest.mark.django_db
def test_once_runs_every_job_and_a_failing_one_does_not_stop_the_others(
    settings, caplog: pytest.LogCaptureFixture
) -> None:
    CALLS.clear()
    settings.CELERY_BEAT_SCHEDULE = {
        "first": {"task": "tests.jobs.record", "schedule": 60.0, "args": ("first",)},
        "broken": {"task": "tests.jobs.fail", "schedule": 60.0},
        "unknown": {"task": "tests.jobs.no_such_task", "schedule": 60.0},
        "escalate": {"task": "cases.escalate_overdue", "schedule": 900.0},
        "last": {"task": "tests.jobs.record", "schedule": 60.0, "kwargs": {"word": "last"}},
    }
    out = io.StringIO()
    with (
        caplog.at_level(logging.INFO, logger="kejiyun.jobs"),
        pytest.raises(CommandError, match=r"2 job\(s\) failed: broken, unknown"),
    ):
        call_command("run_periodic", "--once", stdout=out)
    assert CALLS == ["first", "last"]
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("first: ok 'first'")
    assert "broken: FAILED RuntimeError: 数据库暂时不可用" in lines[1]
    assert lines[3].startswith("escalate: ok 0")
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage().split(" (")[0] for r in failed] == ["job broken", "job unknown"]
    assert failed[0].exc_info is not None  # the traceback is logged


def test_running_forever_starts_every_job_at_once_each_in_its_own_thread() -> None:
    """A job that never returns does not keep the others from their first run."""
    for event in STARTED.values():
        event.clear()
    stop = threading.Event()
    jobs = [
        Job(name="a", task="tests.jobs.record", every=3600, args=("a",)),
        Job(name="stuck", task="tests.jobs.record", every=3600, args=("stuck",)),
        Job(name="b", task="tests.jobs.record", every=3600, args=("b",)),
    ]
    runner = threading.Thread(target=jobs_run_forever, args=(jobs, stop), daemon=True)
    runner.start()
    try:
        assert STARTED["a"].wait(30) and STARTED["b"].wait(30)
    finally:
        stop.set()
        runner.join(30)
    assert not runner.is_alive()


@pytest.mark.django_db
def test_after_the_demo_seed_one_periodic_run_escalates_the_overdue_cases_and_owns_all() -> None:
    call_command("seed_demo", "--scale", "small", "--seed", "1", stdout=io.StringIO())
    now = timezone.now()
    overdue = {
        case.pk: case.centre.region.level
        for case in Case.objects.filter(Case.overdue_q(now))
        .exclude(centre__region__level="province")
        .select_related("centre__region")
    }
    assert len(overdue) >= 5  # the demo has overdue cases below the province
    call_command("run_periodic", "--once", stdout=io.StringIO())
    levels = {"county": 0, "city": 1, "province": 2}
    for case in Case.objects.filter(pk__in=overdue).select_related("centre__region"):
        assert case.escalations >= 1, case
        assert levels[case.centre.region.level] > levels[overdue[case.pk]], case
        assert case.owner is not None
    assert not Case.objects.filter(Case.overdue_q(timezone.now())).exclude(
        centre__region__level="province"
    )
    assert not Case.objects.filter(Case.open_q(), owner__isnull=True).exists()
