from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kejiyun.cases.clock.services import cases_escalate_overdue


class Command(BaseCommand):
    help = (
        "Escalate overdue cases one level up (county → city → province) and notify the new "
        "owner. Paused cases are skipped. Run from cron (or Celery beat) every 15 minutes; "
        "safe to run twice: a case escalates once per missed due time."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=1000, help="cases per run")

    def handle(self, *args: Any, **options: Any) -> None:
        moved = cases_escalate_overdue(limit=options["limit"])
        self.stdout.write(f"cases: {moved} escalated")
