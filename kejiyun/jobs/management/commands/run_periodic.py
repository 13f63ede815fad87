from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kejiyun.jobs.runner import jobs_from_schedule, jobs_run_forever, jobs_run_once


class Command(BaseCommand):
    help = (
        "Run the periodic jobs of CELERY_BEAT_SCHEDULE in this process: each at start-up, "
        "then at its interval, until stopped (what `make run` starts beside the web "
        "server). --once runs every job once and exits (tests, cron). A failing job is "
        "logged and the others go on."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="run every job once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            jobs = jobs_from_schedule(settings.CELERY_BEAT_SCHEDULE)
        except (KeyError, ValueError) as error:
            raise CommandError(f"CELERY_BEAT_SCHEDULE: {error}") from error
        if options["once"]:
            runs = jobs_run_once(jobs)
            for run in runs:
                state = f"ok {run.result!r}" if run.ok else f"FAILED {run.error}"
                self.stdout.write(f"{run.job}: {state} ({run.seconds:.2f}s)")
            failed = [run.job for run in runs if not run.ok]
            if failed:
                raise CommandError(f"{len(failed)} job(s) failed: {', '.join(failed)}")
            return
        names = ", ".join(f"{job.name} every {job.every:g}s" for job in jobs)
        self.stdout.write(f"Running {len(jobs)} periodic jobs: {names}")
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        jobs_run_forever(jobs, stop)
        self.stdout.write("Periodic jobs stopped.")
