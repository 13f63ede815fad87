"""Thin tasks: an id in, a service called; safe to run twice (the claim in `run_execute`)."""

from __future__ import annotations

from celery import shared_task

from kejiyun.background.services import TASK_NAME, results_purge, run_execute, runs_resume_stale


@shared_task(name=TASK_NAME, acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
def run(run_id: int) -> str:
    """Run one run of long work by its id; a run already done, failed or alive elsewhere is
    left alone. Acks late: a worker killed mid-run leaves the message to be delivered again,
    and the stale heartbeat lets `resume_stale` hand it out too; the claim runs it once."""
    return run_execute(run_id=run_id)


@shared_task(name="background.resume_stale", ignore_result=True)  # type: ignore[untyped-decorator]
def resume_stale() -> int:
    """Hand out again the runs whose worker went silent; drop old result files."""
    counts = runs_resume_stale()
    results_purge()
    return counts["resumed"]
